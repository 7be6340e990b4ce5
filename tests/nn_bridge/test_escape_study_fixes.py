"""Fixes of issue 28 (Deliver 6), each found by trying the study as a new user would:
the training batch defaults to min(128, training samples); a 100 %-censored measurement
gives no ratio (null with a reason, never 0); a w* far from a minimum draws a warning."""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from levydyn.results import Estimate
from nn_bridge.escape.basin import minimum_warning, warn_minimum
from nn_bridge.escape.cells import Cell, escape_ratio
from nn_bridge.escape.config import StudyConfig
from nn_bridge.escape.experiment import EscapeConfig, Minimum, NetworkEscape
from nn_bridge.escape.study import Study


# ------------------------------------------------------------------ training batch size
def test_training_batch_defaults_to_min_128_and_training_samples():
    cfg = StudyConfig()
    assert cfg.train_config(120).batch_size == 120       # 120 training samples: not refused
    assert cfg.train_config(455).batch_size == 128
    assert StudyConfig(train_batch_size=32).train_config(120).batch_size == 32


def test_training_batch_above_the_training_samples_is_one_clear_error():
    with pytest.raises(ValueError, match="train_batch_size=200"):
        StudyConfig(train_batch_size=200).train_config(120)
    with pytest.raises(ValueError, match="train_batch_size"):
        StudyConfig(train_batch_size=0)


@pytest.mark.slow          # trains, finds w* and measures the basin (~1-2 min on 2 busy cores)
def test_cli_escape_trains_on_a_dataset_with_120_training_samples(tmp_path):
    """150 samples, test fraction 0.2: 120 training samples (the old fixed batch of 128
    refused them)."""
    from cli.nn import nn

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 50)
    X = rng.normal(size=(150, 4)) + y[:, None]
    data = tmp_path / "small.npz"
    np.savez(data, X=X, y=y)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(nn, ["escape", "--quick", "--dataset", str(data), "--batch-sizes",
                                  "8", "--lrs", "0.4", "--seeds", "4", "--max-iter", "50",
                                  "--json", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text())
    assert rep["basin"]["training"]["config"]["batch_size"] == 120
    assert rep["config"]["train_batch_size"] is None


# ------------------------------------------------------------------ no ratio from nothing
def _escape(iters, exited, max_iter=100) -> NetworkEscape:
    n = len(iters)
    return NetworkEscape(config=EscapeConfig(lr=0.1, batch_size=4, n_seeds=n, max_iter=max_iter),
                         dist_iter=np.asarray(iters), dist_exited=np.asarray(exited, bool),
                         exit_param=np.zeros(n, int), exit_layer=np.zeros(n, int),
                         layer_share=np.ones((n, 1)), layer_names=["w"])


def test_all_censored_measurement_gives_no_ratio():
    """Every replica censored at 100: no mean exists, only the bound E tau >= 100
    (levydyn.censoring); the ratio is no number (nan, never 25 / inf = 0) but the bound
    ratio <= p.high / 100, and the cell is not counted."""
    m = _escape([100] * 8, [False] * 8)                 # every replica censored
    p = _escape([10, 20, 30, 40], [True] * 4)           # a finite prediction, mean 25
    mm = m.mean_iterations()
    assert mm.is_bound and mm.value == 100.0 and mm.high == math.inf
    r = escape_ratio(p.mean_iterations(), mm, 0.95)
    assert math.isnan(r.value) and r.method.startswith("bound")
    assert r.high == pytest.approx(p.mean_iterations().high / 100.0)
    cell = Cell(4, 0.1, m, {"multiplicative": p}, {}, {}, {})
    row = Study(StudyConfig.quick(), None, [cell]).targets()["cells"][0]
    assert math.isnan(row["f_ratio"]) and row["f_ratio_reason"].startswith("bound")
    assert row["counted"] is False and row["method"] == "bound"


def test_finite_ratio_is_unchanged():
    """The fix touches only a measured side without a mean: 25 / 50 = 0.5 by hand."""
    m = _escape([40, 60, 50, 50], [True] * 4)
    p = _escape([20, 30, 25, 25], [True] * 4)
    r = escape_ratio(p.mean_iterations(), m.mean_iterations(), 0.95)
    assert r.value == pytest.approx(0.5) and r.low < 0.5 < r.high
    e = escape_ratio(Estimate(math.inf, 10.0, math.inf, 0.95, "censored"),
                     m.mean_iterations(), 0.95)
    assert e.value == math.inf                           # a censored prediction: a bound


# ------------------------------------------------------------------ w* not a minimum
def _minimum(grad_norm: float) -> Minimum:
    return Minimum(w=np.zeros(3), objective=0.1, loss=0.05, grad_norm=grad_norm, train_acc=1.0,
                   weight_decay=0.01, n_evals=10)


def test_minimum_warning_names_the_numbers():
    msg = minimum_warning(_minimum(0.03), 1e-3)             # 30x the tolerance
    assert msg is not None and "\n" not in msg
    assert "0.03" in msg and "30x" in msg and "0.001" in msg
    assert minimum_warning(_minimum(0.005), 1e-3) is None   # 5x: within the factor 10
    assert minimum_warning(_minimum(0.03), 0.0) is None     # no tolerance asked for
    with pytest.warns(UserWarning, match="not a minimum to tolerance"):
        warn_minimum(_minimum(0.03), 1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_minimum(_minimum(1e-4), 1e-3)


# ------------------------------------------------------------------ measured.method
def _split_record(mean, low, high, censored=False) -> dict:
    e = Estimate(mean, low, high, 0.95, "cycle decomposition")
    return {"estimator": "gAMS", "mean_iterations": e, "p": Estimate(0.01, 0.005, 0.015),
            "loop_iterations": e, "reactive_iterations": e, "work": 12345,
            "censored": censored, "reason": "", "levels_per_run": [10, 12]}


def test_censored_cell_is_measured_by_splitting_and_the_ratio_uses_it():
    """Brute force 75 % censored at 100 iterations: the mean is the splitting one (400),
    method "splitting"; rung (f) at 200 gives the ratio 0.5 by hand."""
    m = _escape([30, 100, 100, 100], [True, False, False, False])
    p = _escape([150, 250, 200, 200], [True] * 4)                       # mean 200
    cell = Cell(4, 0.1, m, {"multiplicative": p}, {}, {}, {},
                splitting=_split_record(400.0, 330.0, 480.0))   # half-width 0.19
    assert cell.method == "splitting"
    assert cell.ratio("multiplicative").value == pytest.approx(0.5)
    s = cell.summary()
    assert s["measured"]["method"] == "splitting" and s["measured"]["mean"] == 400.0
    assert s["measured"]["brute"]["censored"] == 0.75
    row = Study(StudyConfig.quick(), None, [cell]).targets()["cells"][0]
    assert row["method"] == "splitting" and row["counted"] and row["f_within_2x"]


def test_method_brute_and_bound():
    """Every replica escaped and the mean known to 25 %: brute (a splitting record is kept
    but not used); censored without a finished splitting estimate: bound, not counted."""
    done = _escape([24, 25, 26, 25], [True] * 4)
    assert Cell(4, 0.1, done, {}, {}, {}, {}, splitting=_split_record(99.0, 90.0, 110.0)
                ).method == "brute"
    cens = _escape([30, 100, 100, 100], [True, False, False, False])
    assert Cell(4, 0.1, cens, {}, {}, {}, {}).method == "bound"
    assert Cell(4, 0.1, cens, {}, {}, {}, {},
                splitting=_split_record(math.nan, 50.0, math.inf, censored=True)).method == "bound"
    assert Cell(4, 0.1, cens, {}, {}, {}, {},
                splitting={"estimator": "gAMS", "error": "not rare"}).method == "bound"
