# %% [markdown]
# # Your own network, end to end: a small CNN on digits
#
# levydyn's network pipeline takes any `torch.nn.Module` with its loss and its data as one
# object, `nn_bridge.Network`, and every stage takes that object: training to a minimum,
# the gradient noise at the trained weights, the stability diagram of SGD at the minimum,
# and the escape study that puts the network's own escapes next to the ladder of models.
# Here the network is a two-convolution CNN (666 parameters) on the 8 x 8 digits of
# scikit-learn (1,437 training images, 10 classes), written as a reader would write it:
# the module takes images `(n, 1, 8, 8)`; the dataset stores them flattened and the
# network reshapes them before the module sees them.
#
# The stages, and what each hands on:
#
# 1. **train** (`train_network`): plain SGD on the cross-entropy (lr 0.05, batch 128) until
#    the gradient is small or the budget ends; the weights are cached under a key of the
#    network's identity (sha256 of its source, loss and initial weights);
# 2. **minimum** (inside the study): L-BFGS on U(w) = CE(w) + (wd/2)||w||^2 from there,
#    the isolated minimum w* that the escape experiments start from;
# 3. **measure**: the per-parameter tail index alpha_i of the minibatch gradient noise at
#    the trained weights (not at initialisation);
# 4. **stability**: SGD near w* as the random linear recursion
#    x' = (I - lr H_B) x - lr u_B with per-sample Gauss-Newton curvature; its top Lyapunov
#    exponent lambda_1 per (lr, B) says whether SGD is pulled back (lambda_1 < 0, heavy
#    Kesten tails) or pushed out (lambda_1 > 0, escape after ~log R / lambda_1 iterations);
# 5. **study**: the network's own escapes from the ball ||w - w*|| < R, measured with many
#    SGD replicas, against the models of the ladder ((h) nonlinear with multiplicative
#    noise ... (f) the recursion ... (a) the Levy SDE of the measured alpha_i).
#
# Run as a script: `python examples/own_network_cnn.py [--quick] [--outdir DIR]` (figures
# go to a new temporary directory unless `--outdir` is given). In Jupyter (with jupytext),
# open this file as a notebook and run the cells top to bottom. The full run is long: on 2
# shared CPU cores under load it had not finished in 45 min (its stability cells took 3-15
# min each before the reachable subspace was shared between cells; not re-timed since);
# `--quick` runs a reduced grid (fewer epochs, replicas and rungs).

# %%
"""Your own network, end to end: a small CNN on digits (a levydyn tutorial; the lecture note is the first cell)."""
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from _tutorial import QUICK, in_notebook, run_script, show_files
from nn_bridge import load_dataset
from nn_bridge.curvature.stability import plot_stability
from nn_bridge.data.network import Network
from nn_bridge.escape.basin import network_stability
from nn_bridge.escape.config import StudyConfig
from nn_bridge.escape.plots import plot_escape_curves, plot_ladder
from nn_bridge.escape.study import run_study
from nn_bridge.escape.tables import study_blocks
from nn_bridge.noise.measure import MeasureConfig, measure_noise
from nn_bridge.training.train import train_network


class DigitsCNN(nn.Module):
    """conv 3x3 (4) - ReLU - pool - conv 3x3 (8) - ReLU - pool - linear (10): 666 weights."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(8 * 2 * 2, 10)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def settings(quick: bool) -> dict:
    """The study's grid: reduced in quick mode (the documentation build, the tests)."""
    if quick:
        return dict(max_epochs=20, batch_sizes=(8,), lrs=(0.5, 1.0), n_seeds=16, max_iter=300,
                    n_minibatches=200, n_paths=32, torch_paths=16, k=5, lyap_paths=8,
                    lyap_steps=200, tail_particles=32, tail_replicas=2, tail_steps=50,
                    factor_probes=8, models=("multiplicative", "nonlinear_multiplicative"))
    return dict(max_epochs=300, batch_sizes=(8, 32), lrs=(0.3, 0.6, 1.0), n_seeds=64,
                max_iter=1000, n_minibatches=500, n_paths=64, torch_paths=32, k=10,
                lyap_paths=32, lyap_steps=500, tail_particles=64, tail_replicas=2,
                tail_steps=100, factor_probes=16)


# %% [markdown]
# ## The experiment
#
# `main` builds the network, runs the four stages with one working directory (each stage
# finds the previous one's results there) and writes three figures.

# %%
def main(outdir=None, quick: bool = False) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")

    out = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="levydyn-"))
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    torch.manual_seed(0)                      # the CNN's initial weights
    net = Network.from_module(DigitsCNN(), load_dataset("digits"))
    print(f"network: {net.label}, {net.n_params} parameters, {net.data.n_train} training "
          f"images, identity {net.identity[:12]}")
    cfg = StudyConfig(network=net, radius=1.0, **settings(quick))

    # 1. train (cached in work/ under the network's identity; the study finds it there)
    tcfg = cfg.train_config()
    res = train_network(net, tcfg, checkpoint=work / f"train-{net.train_key(tcfg)}.pt")
    print(f"trained {res.epochs} epochs: loss {res.final['loss']:.3f}, train acc "
          f"{res.final['train_acc']:.3f}, test acc {res.final['test_acc']:.3f} ({res.reason})")

    # 3. the gradient noise at the trained weights
    stats = measure_noise(res.model, net.data, MeasureConfig(batch_sizes=cfg.batch_sizes,
                                                             n_minibatches=cfg.n_minibatches,
                                                             n_fit=0), device="cpu",
                          loss_fn=net.loss_fn)
    for B, st in stats.items():
        print(f"noise B={B}: alpha_i median {np.nanmedian(st.alpha):.2f}, pooled "
              f"{st.pooled_alpha:.2f}")

    # 4. stability diagram at w* (stored per-sample factors: 666 parameters fit easily)
    diag, _ = network_stability(cfg, workdir=work, log=print, lyap_paths=cfg.lyap_paths,
                                lyap_steps=cfg.lyap_steps, tail=not quick, seed=0)
    written = [plot_stability(diag, out / "cnn_stability.png")]

    # 5. the escape study: measured escapes vs the ladder
    study = run_study(cfg, workdir=work, log=print)
    for block in study_blocks(study)[-3:]:
        print(block if isinstance(block, str) else "\n".join("  ".join(r) for r in block.rows))
    written += [plot_escape_curves(study, out / "cnn_escape_curves.png"),
                plot_ladder(study, out / "cnn_ladder.png")]
    return written


# %%
if __name__ == "__main__" and not in_notebook():
    run_script(main, "Your own network, end to end: a small CNN on digits.")

# %% [markdown]
# ## Run it (notebook)

# %%
if in_notebook():
    show_files(main(quick=QUICK))
