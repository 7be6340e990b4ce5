# %% [markdown]
# # Your own network with a regression loss: an MLP on the diabetes data (mean squared error)
#
# The network pipeline is not tied to classification. A `Network` is any module, any loss
# that is the *mean* over the minibatch of per-sample losses, and its data; here a small
# tanh MLP (10 -> 16 -> 1, 193 parameters) predicts disease progression from the ten
# standardised measurements of scikit-learn's diabetes data (442 patients; 353 for
# training), with the loss `"mse"`, l(f, y) = mean((f - y)^2) (the target standardised too).
#
# What changes with the loss is only the curvature of the loss in the outputs. The
# per-sample Gauss-Newton factor is F_n = J_n^T Q_n diag(e_n)^(1/2) with
# Lambda_n = Q_n diag(e_n) Q_n^T = d^2 l / df^2: for cross-entropy the softmax covariance
# (C - 1 columns), for mse over C outputs (2 / C) I (C columns) -- computed for any loss by
# `torch.func.hessian` of one sample's loss in its outputs. The rest -- the minimum w* of
# U = mse + (wd/2)||w||^2, the noise at w*, the random linear recursion
# x' = (I - lr H_B) x - lr u_B, its Lyapunov exponent and the escape study -- is the same code
# as for the CNN of `own_network_cnn.py`.
#
# Regression changes one thing a reader should expect: mse gradients of a well-fitted
# network are *small* where the residuals are small, so the noise u_B is set by the few
# badly fitted patients, and heavy tails (alpha_i < 2) appear as they do for
# classification.
#
# Run as a script: `python examples/own_network_regression.py [--quick] [--outdir DIR]`
# (figures go to a new temporary directory unless `--outdir` is given). In Jupyter (with
# jupytext), open this file as a notebook and run the cells top to bottom.

# %%
"""Your own network with a regression loss (a levydyn tutorial; the lecture note is the first cell)."""
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from _tutorial import QUICK, in_notebook, run_script, show_files
from nn_bridge.curvature.stability import plot_stability
from nn_bridge.data.datasets import dataset_from_arrays
from nn_bridge.data.network import Network
from nn_bridge.escape.basin import network_stability
from nn_bridge.escape.config import StudyConfig
from nn_bridge.escape.plots import plot_escape_curves
from nn_bridge.escape.study import run_study
from nn_bridge.escape.tables import study_blocks


def diabetes_network() -> Network:
    """The MLP, its loss (mse) and the data (features and target standardised)."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    data = dataset_from_arrays(X, y, name="diabetes", task="regression", test_fraction=0.2)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 1))
    return Network.from_module(model, data, "mse")


def settings(quick: bool) -> dict:
    if quick:
        return dict(max_epochs=100, train_batch_size=64, batch_sizes=(4,), lrs=(0.2, 0.5),
                    n_seeds=16, max_iter=300, n_minibatches=200, n_paths=32, torch_paths=16,
                    k=5, lyap_paths=8, lyap_steps=200, factor_probes=8,
                    models=("multiplicative", "nonlinear_multiplicative", "lin_minibatch"))
    return dict(max_epochs=1000, train_batch_size=64, batch_sizes=(4, 16), lrs=(0.1, 0.2, 0.5),
                n_seeds=64, max_iter=2000, n_minibatches=500, n_paths=64, torch_paths=32, k=10,
                lyap_paths=32, lyap_steps=500, factor_probes=16)


# %% [markdown]
# ## The experiment

# %%
def main(outdir=None, quick: bool = False) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")

    out = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="levydyn-"))
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    net = diabetes_network()
    print(f"network: {net.label}, loss {net.loss_name}, {net.n_params} parameters, "
          f"{net.data.n_train} training samples, Gauss-Newton rank {net.factor_rank}")
    cfg = StudyConfig(network=net, radius=0.5, weight_decay=1e-2, **settings(quick))
    diag, mbm = network_stability(cfg, workdir=work, log=print, lyap_paths=cfg.lyap_paths,
                                  lyap_steps=cfg.lyap_steps, tail=not quick, seed=0)
    print(f"stored factors: {mbm.factors.shape} (N, P, rank)")
    written = [plot_stability(diag, out / "regression_stability.png")]
    study = run_study(cfg, workdir=work, log=print)
    for block in study_blocks(study)[-3:]:
        print(block if isinstance(block, str) else "\n".join("  ".join(r) for r in block.rows))
    alpha = {B: n["alpha_median"] for B, n in study.basin.noise.items()}
    print("noise at w*: alpha_i median per batch size", {B: round(a, 2) for B, a in alpha.items()},
          "| mse at w*", round(float(study.basin.minimum.loss), 4),
          "| mean escape", [round(float(np.nan_to_num(c.measured.mean_iterations().value)), 1)
                            for c in study.cells])
    written.append(plot_escape_curves(study, out / "regression_escape_curves.png"))
    return written


# %%
if __name__ == "__main__" and not in_notebook():
    run_script(main, "Your own network with a regression loss: an MLP on the diabetes data.")

# %% [markdown]
# ## Run it (notebook)

# %%
if in_notebook():
    show_files(main(quick=QUICK))
