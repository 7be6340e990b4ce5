"""Stage 5, escape: the network's own escapes from w*, and the ladder of models that predict them.

Takes in: a trained minimum (``nn_bridge.training``), its noise profile
(``nn_bridge.noise``) and its curvature / minibatch model (``nn_bridge.curvature``).
Runs: replicas of SGD started at w* until they leave a ball (``experiment``: exit times,
censored, with CIs); the bridge from a noise profile to a levydyn ``Problem``
(``bridge``: SGD iteration with learning rate eta is SDE time dt = eta); the study: one
cell runner over (learning rate, batch size, radius) that compares the network with each
rung of the ladder (``cells``), run over a grid (``study``) or over radii (``radius_scan``);
power-law fits of escape time against the learning rate (``fit``) and their figures
(``plots``).
Hands on: ``Study`` / ``RadiusScan`` (JSON tables: measured vs predicted escape times,
targets and verdicts) to the CLI and the docs.
"""
from nn_bridge.escape.bridge import Bridge, build_bridge
from nn_bridge.escape.experiment import EscapeConfig, Minimum, NetworkEscape, find_minimum, run_escape
from nn_bridge.escape.fit import CurveFit, fit_escape_table
from nn_bridge.escape.basin import Basin, prepare_basin
from nn_bridge.escape.cells import Cell, run_cell
from nn_bridge.escape.config import StudyConfig
from nn_bridge.escape.ladder import LADDER, MODEL_LABELS, MODELS, predict_escape
from nn_bridge.escape.radius_scan import RadiusScan, radius_scan
from nn_bridge.escape.study import Study, run_study

__all__ = ["Basin", "Bridge", "Cell", "CurveFit", "EscapeConfig", "LADDER", "MODELS",
           "MODEL_LABELS", "Minimum", "NetworkEscape", "RadiusScan", "Study", "StudyConfig",
           "build_bridge", "find_minimum", "fit_escape_table", "predict_escape", "prepare_basin",
           "radius_scan", "run_cell", "run_escape", "run_study"]
