# %% [markdown]
# # Multiplicative noise: why SGD leaves a minimum that its gradient noise cannot
#
# Near a minimum w*, SGD on a minibatch B_k is to first order the random linear
# recursion x_{k+1} = (I - lr H_k) x_k - lr u_k, x = w - w*, where u_k is the minibatch
# gradient noise at w* (additive) and H_k the minibatch curvature (multiplicative). The usual
# SDE picture keeps u_k and replaces H_k by its mean H; then x is an Ornstein-Uhlenbeck-like
# chain that leaves a ball of radius R only through rare large kicks, and for light-tailed u
# the escape time explodes faster than any power of R. Keeping the random H_k changes the
# law. The product (I - lr H_k)...(I - lr H_1) has a top Lyapunov exponent lambda_1(lr, B):
# for lambda_1 > 0 the minimum is unstable for SGD even though lr < 2 / lambda_max(H) (full-
# batch GD would converge), and ||x_k|| grows like e^(lambda_1 k), so the escape time is only
# log(R) / lambda_1. For lambda_1 < 0 the iterates are stationary but heavy-tailed with the
# Kesten index alpha_K (the root of Lambda(s) = 0), and the escape time grows like R^alpha_K,
# a power law. Larger lr and smaller B make the curvature noisier: lambda_1 increases and
# alpha_K decreases. The script builds one synthetic least-squares-like data set (rank-one
# per-sample curvature, Gaussian per-sample gradient noise), runs both models with the same
# additive noise, and plots lambda_1 against lr, and the mean escape time against lr, B and R
# (95 % CIs; censored runs use the exponential MLE and show as lower bounds).
#
# Run as a script: `python examples/multiplicative_noise.py [--quick] [--outdir DIR]` (the figure
# goes to a new temporary directory unless `--outdir` is given). In Jupyter (with
# jupytext), open this file as a notebook and run the cells top to bottom.

# %%
"""Multiplicative noise: why SGD leaves a minimum that its gradient noise cannot (a levydyn tutorial; the lecture note is the first cell)."""
import tempfile
from pathlib import Path

import numpy as np

from _tutorial import QUICK, in_notebook, interactive, run_script, show_files
from levydyn import Ball
from levydyn import kesten as kz

P, N, NOISE = 10, 256, 0.3
SPECTRUM = np.linspace(1.0, 0.1, P) ** 0.5       # E H = diag(SPECTRUM^2), lambda_max = 1


def laws(batch: int, seed: int = 0) -> tuple[kz.EmpiricalMinibatch, kz.EmpiricalMinibatch]:
    """(with curvature noise, without): same deviations, same mean Hessian.

    Sample n: factor ``f_n = SPECTRUM * a_n`` (``a_n ~ N(0, I)``, so ``H_n = f_n f_n^T``),
    deviation ``u_n = NOISE * z_n``; the additive-only twin has ``H = E H`` every step."""
    rng = np.random.default_rng(seed)
    F = SPECTRUM * rng.standard_normal((N, P))
    G = NOISE * rng.standard_normal((N, P))
    G -= G.mean(0)
    mult = kz.EmpiricalMinibatch(G, F, batch)
    add = kz.EmpiricalMinibatch(G, np.zeros((N, P)), batch, remainder=mult.mean_hessian())
    return mult, add


def escape(law, lr, radius, n_paths, max_steps, seed=0):
    rec = kz.Recursion(law, lr, domain=Ball(np.zeros(P), radius))
    return kz.simulate(rec, n_paths=n_paths, max_steps=max_steps, seed=seed, classify=False)


def _plot_means(ax, x, results, label, color, log_x=False):
    est = [r.mean_exit_time() for r in results]
    lo = np.array([e.low for e in est])
    m = np.array([e.value if np.isfinite(e.value) else e.low for e in est])   # no exit: bound
    hi = np.array([e.high if np.isfinite(e.high) else e.value for e in est])
    hi = np.where(np.isfinite(hi), hi, m)
    cens = np.array([r.censored_fraction > 0 for r in results])
    ax.errorbar(x, m, yerr=[np.maximum(m - lo, 0), np.maximum(hi - m, 0)], fmt="o-", color=color, label=label, capsize=2)
    if cens.any():
        ax.plot(np.asarray(x)[cens], m[cens], "^", color=color, ms=9, mfc="none",
                label=f"{label}: censored (lower bound)")
    ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log")

# %% [markdown]
# ## The experiment
#
# `main` runs the simulations and writes the figure; it returns the paths it wrote.

# %%
def main(outdir=None, quick: bool = False) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="levydyn-"))
    out.mkdir(parents=True, exist_ok=True)
    n_paths = 100 if quick else 400
    max_steps = 5000 if quick else 20_000
    lrs = [0.3, 0.6, 0.9, 1.2] if quick else [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4]
    batches = [1, 2, 4, 8] if quick else [1, 2, 4, 8, 16]
    radii = [0.5, 1, 2, 4] if quick else [0.5, 1, 2, 4, 8, 16]
    lr0, b0, r0 = 0.8, 2, 1.0
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    # (a) lambda_1 vs lr
    ax = axes[0, 0]
    for b, c in zip((1, 4), ("C3", "C1")):
        mult, _ = laws(b)
        lam = [kz.lyapunov_exponent(mult, lr, n_paths=32 if quick else 128,
                                    n_steps=300 if quick else 1000) for lr in lrs]
        ax.errorbar(lrs, [e.value for e in lam], yerr=[[e.value - e.low for e in lam],
                                                       [e.high - e.value for e in lam]],
                    fmt="o-", color=c, capsize=2, label=f"random H_B, B={b}")
    ax.plot(lrs, [np.log(np.abs(1 - lr * SPECTRUM ** 2).max()) for lr in lrs], "k--",
            label="mean H only: max_i log|1 - lr h_i|")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="lr", ylabel="top Lyapunov exponent per iteration",
           title="(a) stability of the random product")
    ax.legend(fontsize=8)
    # (b) escape time vs lr
    ax = axes[0, 1]
    mult, add = laws(b0)
    _plot_means(ax, lrs, [escape(mult, lr, r0, n_paths, max_steps) for lr in lrs],
                "with curvature noise", "C3")
    _plot_means(ax, lrs, [escape(add, lr, r0, n_paths, max_steps) for lr in lrs],
                "additive noise only", "C0")
    ax.set(xlabel="lr", ylabel="mean escape iterations", title=f"(b) B={b0}, R={r0}")
    ax.legend(fontsize=8)
    # (c) escape time vs B
    ax = axes[1, 0]
    pairs = [laws(b) for b in batches]
    _plot_means(ax, batches, [escape(m, lr0, r0, n_paths, max_steps) for m, _ in pairs],
                "with curvature noise", "C3", log_x=True)
    _plot_means(ax, batches, [escape(a, lr0, r0, n_paths, max_steps) for _, a in pairs],
                "additive noise only", "C0", log_x=True)
    ax.set_xticks(batches, [str(b) for b in batches])
    ax.set(xlabel="batch size B", ylabel="mean escape iterations",
           title=f"(c) lr={lr0}, R={r0}")
    ax.legend(fontsize=8)
    # (d) escape time vs R, with the law of the regime
    ax = axes[1, 1]
    mult, add = laws(b0)
    lr_s = 0.5
    law = kz.escape_law(mult, lr_s, lyapunov_kw={"n_paths": 64, "n_steps": 500},
                        tail_kw={"n_particles": 128 if quick else 512,
                                 "n_steps": 100 if quick else 400, "n_burn": 50})
    res_m = [escape(mult, lr_s, R, n_paths, max_steps) for R in radii]
    _plot_means(ax, radii, res_m, f"with curvature noise ({law.regime})", "C3", log_x=True)
    _plot_means(ax, radii, [escape(add, lr_s, R, n_paths, max_steps) for R in radii],
                "additive noise only", "C0", log_x=True)
    if law.regime == "stable" and np.isfinite(law.tail_index.value):
        a = law.tail_index.value
        ref = res_m[-1].mean_exit_time().value
        rr = np.array(radii, dtype=float)
        ax.plot(rr, ref * (rr / rr[-1]) ** a, "k--", label=f"R^alpha_K, alpha_K = {a:.2f}")
    ax.set(xlabel="radius R", ylabel="mean escape iterations",
           title=f"(d) lr={lr_s}, B={b0}: lambda_1 = {law.lyapunov.value:.3g}")
    ax.legend(fontsize=8)
    fig.suptitle("SGD near a minimum: the same gradient noise, with and without curvature noise")
    fig.tight_layout()
    path = out / "multiplicative_noise.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]

# %% [markdown]
# ## Run it
#
# In a notebook the next cell runs the experiment and shows the figure. As a script
# (`python examples/multiplicative_noise.py`) the last cell parses `--quick` and `--outdir`.

# %%
if in_notebook():
    show_files(main(quick=QUICK))

# %% [markdown]
# ## Explore
#
# The top Lyapunov exponent of the random product for the learning rate and batch size
# you choose (with curvature noise). Where it crosses zero the escape changes law: a
# growth `log(R) / lambda_1` above, a rare event `~ R^alpha_K` below.

# %%
def explore(lr=0.5, batch=2):
    """lambda_1 of prod (I - lr H_B) with and without curvature noise."""
    noisy, frozen = laws(batch)
    for name, law in (("curvature noise", noisy), ("frozen curvature", frozen)):
        print(f"lr {lr:g}, B {batch}: {name:16s} lambda_1 = {kz.lyapunov_exponent(law, lr=lr)}")


interactive(explore, lr=(0.1, 1.5, 0.05), batch=(1, 8, 1))

# %%
if __name__ == "__main__" and not in_notebook():
    run_script(main, 'Multiplicative noise: why SGD leaves a minimum that its gradient noise cannot')
