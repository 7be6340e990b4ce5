# %% [markdown]
# # Rare escapes: brute force, jump-adapted and splitting as the noise falls
#
# The mean time to leave the interval (-1, 1) under dX = -X dt + eps dL
# (alpha = 1.5) grows like eps^-alpha: at eps = 0.01 one exit takes ~2.5e3 time units, i.e.
# ~2.5e5 Euler steps per path, and brute force soon cannot follow. Two ways out. The
# *jump-adapted* scheme (levydyn's jump_adapted method) skips the quiet time between large
# jumps: its cost per path does not grow as eps falls, but it is a small-noise approximation
# for stable noise in boxes. *Adaptive multilevel splitting* (levydyn.rare.split,
# generalised AMS of Brehier et al. 2016) is exact for the Euler chain and works for any
# noise and any exit set: it runs short excursions from a small set A around the minimum,
# keeps cloning the excursions that got farthest (measured by a reaction coordinate, here
# the distance to the minimum relative to the interval), and multiplies the survival
# fractions into p = P(reach the boundary before returning to A); the mean exit time follows
# from the cycle decomposition E tau = E[T_loop] (1 - p)/p + E[T_reac]. Heavy-tailed jumps
# overshoot many levels at once; killing every replica at or below the level keeps the
# estimate unbiased. The figure shows the three estimates (95 % CIs) against the small-noise
# law alpha / (2 c_alpha eps^alpha), and what each cost in wall-clock seconds. Read it with
# care: all three agree, but splitting's interval widens as eps falls. Here the exit is one
# large jump from near the minimum, and no reaction coordinate of the state can split a
# single jump into intermediate levels; the per-run estimates become heavy-tailed (runs end
# with every replica tied at one level). For such exits the jump-adapted scheme is the tool;
# splitting is the tool where the exit is a climb (alpha = 2, see benchmarks/
# bench_splitting.py: ~4e3 times less work than brute force at p = 1e-6), for noise laws and
# exit sets the jump-adapted scheme does not cover (wells, truncated or empirical noise), and
# for the SGD recursion (levydyn.rare.split_recursion).
#
# Run as a script: `python examples/rare_escapes.py [--quick] [--outdir DIR]` (the figure
# goes to a new temporary directory unless `--outdir` is given). In Jupyter (with
# jupytext), open this file as a notebook and run the cells top to bottom.

# %%
"""Rare escapes: brute force, jump-adapted and splitting as the noise falls (a levydyn tutorial; the lecture note is the first cell)."""
import math
import tempfile
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from _tutorial import QUICK, in_notebook, interactive, run_script, save_figure, show_files
from levydyn import Box, Problem, Quadratic, c_alpha, simulate
from levydyn.plots import COLORS, draw_estimates
from levydyn.rare import split

ALPHA = 1.5
DT = 0.01
BRUTE_BUDGET = 3e7        # Euler path-steps one brute-force row may cost


def small_noise_mean(eps: float) -> float:
    """E tau = alpha / (c_alpha eps^alpha (d-^-alpha + d+^-alpha)), d- = d+ = 1."""
    return ALPHA / (2 * c_alpha(ALPHA) * eps**ALPHA)


# %% [markdown]
# ## The experiment
#
# `main` runs the three estimators at each eps and writes the figure; it returns the
# paths it wrote. Brute force runs only where its cost stays under `BRUTE_BUDGET`
# Euler path-steps.

# %%
def main(outdir=None, quick: bool = False) -> list[Path]:
    out = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="levydyn-"))
    out.mkdir(parents=True, exist_ok=True)
    eps_list = [0.3, 0.1, 0.03] if quick else [0.3, 0.1, 0.03, 0.01, 0.003, 0.001]
    paths = 200 if quick else 1000
    rows = {"brute force (Euler)": [], "jump-adapted": [], "splitting (gAMS)": []}
    cost = {k: [] for k in rows}
    for k, eps in enumerate(eps_list):
        prob = Problem(Quadratic([1.0]), alpha=ALPHA, eps=eps, domain=Box([-1.0], [1.0]))
        if small_noise_mean(eps) * paths / DT <= BRUTE_BUDGET:
            t = time.perf_counter()
            r = simulate(prob, n_paths=paths, dt=DT, t_max=1e6, seed=k)
            rows["brute force (Euler)"].append(r.mean_exit_time())
            cost["brute force (Euler)"].append(time.perf_counter() - t)
        else:
            rows["brute force (Euler)"].append(None)
            cost["brute force (Euler)"].append(math.nan)
        t = time.perf_counter()
        r = simulate(prob, n_paths=paths, dt=DT, t_max=1e9, seed=k, method="jump_adapted")
        rows["jump-adapted"].append(r.mean_exit_time())
        cost["jump-adapted"].append(time.perf_counter() - t)
        t = time.perf_counter()
        s = split(prob, n_replicas=50 if quick else 100, n_runs=4 if quick else 10, dt=DT,
                  seed=k)
        rows["splitting (gAMS)"].append(s.mean_exit_time)
        cost["splitting (gAMS)"].append(time.perf_counter() - t)
    fig = Figure(figsize=(11, 4.5))
    ax, bx = fig.subplots(1, 2)
    grid = np.geomspace(min(eps_list) / 1.5, max(eps_list) * 1.5, 50)
    ax.plot(grid, [small_noise_mean(e) for e in grid], "k--", lw=1,
            label=r"small-noise law $\alpha / (2 c_\alpha \varepsilon^\alpha)$")
    for j, (name, est) in enumerate(rows.items()):
        draw_estimates(ax, eps_list, est, label=name, color=COLORS[j], offset=1.06 ** (j - 1),
                       log_x=True)
        bx.plot(eps_list, cost[name], "o-", color=COLORS[j], label=name)
    ax.set(xscale="log", yscale="log", xlabel=r"$\varepsilon$", ylabel="mean exit time",
           title=rf"U = x$^2$/2 on (-1, 1), $\alpha$ = {ALPHA:g}, dt = {DT:g}")
    bx.set(xscale="log", yscale="log", xlabel=r"$\varepsilon$", ylabel="wall-clock seconds",
           title="cost (brute force only where affordable)")
    ax.legend(fontsize=8)
    bx.legend(fontsize=8)
    return save_figure(fig, out, "rare_escapes.png")


# %% [markdown]
# ## Run it
#
# In a notebook the next cell runs the experiment and shows the figure. As a script
# (`python examples/rare_escapes.py`) the last cell parses `--quick` and `--outdir`.

# %%
if in_notebook():
    show_files(main(quick=QUICK))

# %% [markdown]
# ## Explore
#
# What brute force would cost: the small-noise mean exit time and the Euler steps one
# path needs at `dt`, for the eps and alpha you choose. Lower eps by a factor 10 and the
# cost of one path grows by 10^alpha; splitting's cost grows only like log(1/p) when the
# exit is a climb, but not when it is one jump (the lecture note).

# %%
def explore(log10_eps=-2.0, alpha=1.5):
    """E tau ~ alpha / (2 c_alpha eps^alpha) on (-1, 1) and the Euler steps of one path."""
    eps = 10.0**log10_eps
    mean = alpha / (2 * c_alpha(alpha) * eps**alpha)
    print(f"eps = {eps:.3g}, alpha = {alpha:g}: E tau ~ {mean:.3g} time units, "
          f"~{mean / DT:.2g} Euler steps per path at dt = {DT:g}")


interactive(explore, log10_eps=(-3.0, -0.5, 0.25), alpha=(1.1, 1.9, 0.1))

# %%
if __name__ == "__main__" and not in_notebook():
    run_script(main, 'Rare escapes: brute force, jump-adapted and splitting as the noise falls')
