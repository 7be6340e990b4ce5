"""Demo -- Rare escapes: brute force, jump-adapted and splitting as the noise falls.

Lecture note. The mean time to leave the interval (-1, 1) under dX = -X dt + eps dL
(alpha = 1.5) grows like eps^-alpha: at eps = 0.01 one exit takes ~1e3 time units, i.e.
~1e5 Euler steps per path, and brute force soon cannot follow. Two ways out. The
*jump-adapted* scheme (levydyn's jump_adapted method) skips the quiet time between large
jumps: its cost per path does not grow as eps falls, but it is a small-noise approximation
for stable noise in boxes. *Adaptive multilevel splitting* (levydyn.rare.split,
generalised AMS of Brehier et al. 2016) is exact for the Euler chain and works for any
noise and any exit set: it runs short excursions from a small set A around the minimum,
keeps cloning the excursions that got farthest (measured by a reaction coordinate, here
the distance to the minimum relative to the interval), and multiplies the survival
fractions into p = P(reach the boundary before returning to A); the mean exit time follows
from the cycle decomposition E tau = E[T_loop] (1 - p)/p + E[T_reac]. Heavy-tailed jumps
overshoot many levels at once; killing every replica at or below the level keeps the
estimate unbiased. The figure shows the three estimates (95 % CIs) against the small-noise
law alpha / (2 c_alpha eps^alpha), and what each cost in wall-clock seconds. Read it with
care: all three agree, but splitting's interval widens as eps falls. Here the exit is one
large jump from near the minimum, and no reaction coordinate of the state can split a
single jump into intermediate levels; the per-run estimates become heavy-tailed (runs end
with every replica tied at one level). For such exits the jump-adapted scheme is the tool;
splitting is the tool where the exit is a climb (alpha = 2, see benchmarks/
bench_splitting.py: ~4e3 times less work than brute force at p = 1e-6), for noise laws and
exit sets the jump-adapted scheme does not cover (wells, truncated or empirical noise), and
for the SGD recursion (levydyn.rare.split_recursion).

Run: ``python examples/rare_escapes.py [--quick] [--outdir DIR]`` (default: a new
temporary directory; the path of the PNG is printed).
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from levydyn import Box, Problem, Quadratic, c_alpha, simulate
from levydyn.output_files import atomic_savefig
from levydyn.plots import COLORS, draw_estimates
from levydyn.rare import split

ALPHA = 1.5
DT = 0.01
BRUTE_BUDGET = 3e7        # Euler path-steps one brute-force row may cost


def small_noise_mean(eps: float) -> float:
    """E tau = alpha / (c_alpha eps^alpha (d-^-alpha + d+^-alpha)), d- = d+ = 1."""
    return ALPHA / (2 * c_alpha(ALPHA) * eps**ALPHA)


def main(outdir=None, quick: bool = False) -> list[Path]:
    out = Path(tempfile.mkdtemp(prefix="levydyn_rare_") if outdir is None else outdir)
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
    fig.tight_layout()
    png = out / "rare_escapes.png"
    atomic_savefig(fig, png, dpi=120)
    return [png]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--outdir", default=None, help="where to write the PNG [a temporary dir]")
    a = ap.parse_args()
    for p in main(a.outdir, a.quick):
        print(p)
