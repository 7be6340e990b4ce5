# %% [markdown]
# # Jumps versus climbing: what sets the time to leave a basin?
#
# Take the family of basins U(x) = h x^2 / 2 on the interval (-1, 1): every
# member has the same *width* (the exit points sit at distance 1 from the minimum), but the
# barrier *height* H = h / 2 grows with the curvature h. Drive the gradient flow with noise
# of level eps. With Brownian noise (alpha = 2) the particle must *climb*: it needs a long
# run of small kicks that all push uphill, and large deviations theory (Freidlin-Wentzell,
# Kramers) gives E tau ~ exp(H / eps^2) -- a straight line on a log scale against H, so
# doubling the height squares the waiting time. With alpha-stable noise (alpha < 2) the
# particle does not climb at all: it waits for one kick larger than the distance to the
# boundary, and such kicks arrive at rate eps^alpha c_alpha (d-^-alpha + d+^-alpha) / alpha
# whatever the landscape in between (Imkeller-Pavlyukevich; Simsekli et al. 2019, Thm 1).
# The Levy exit time therefore depends on the *width*, not on the height: the curve is flat.
# This is the mechanism behind the claim that heavy-tailed SGD prefers wide minima.
# The script simulates both noises on the same basins (95 % CIs) and draws the closed forms:
# the exact Brownian mean exit time and the small-noise Levy law. At small heights the
# Levy points fall below the flat line -- there the basin is so shallow that the process
# also diffuses out, a finite-noise effect that disappears as the basin deepens.
#
# Run as a script: `python examples/jumps_vs_climbing.py [--quick] [--outdir DIR]` (the figure
# goes to a new temporary directory unless `--outdir` is given). In Jupyter (with
# jupytext), open this file as a notebook and run the cells top to bottom.

# %%
"""Jumps versus climbing: what sets the time to leave a basin? (a levydyn tutorial; the lecture note is the first cell)."""
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from _tutorial import QUICK, in_notebook, interactive, run_script, save_figure, show_files
from levydyn import Box, Problem, Quadratic, simulate
from levydyn.plots import COLORS, draw_estimates
from levydyn.theory import exit_interval, gaussian

ALPHA = 1.5
EPS = 0.35
WIDTH = 1.0
BROWNIAN_MAX_MEAN = 600.0     # simulate Brownian exits only where E tau is affordable

# %% [markdown]
# ## The experiment
#
# `main` runs the simulations and writes the figure; it returns the paths it wrote.

# %%
def main(outdir=None, quick: bool = False) -> list[Path]:
    out = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="levydyn-"))
    out.mkdir(parents=True, exist_ok=True)
    curv = np.array([0.5, 1.0, 2.0, 4.0]) if quick else np.array([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])
    paths = 150 if quick else 1000
    heights = curv * WIDTH**2 / 2
    levy, brown = [], []
    for k, h in enumerate(curv):
        dom = Box.around([0.0], [WIDTH], [WIDTH])
        r = simulate(Problem(Quadratic([h]), alpha=ALPHA, eps=EPS, domain=dom), n_paths=paths,
                     dt=0.01, t_max=1e4, seed=k)
        levy.append(r.mean_exit_time())
        if gaussian.quadratic_mean_exit_time(EPS, WIDTH, WIDTH, curvature=h) <= BROWNIAN_MAX_MEAN:
            rb = simulate(Problem(Quadratic([h]), alpha=2.0, eps=EPS, domain=dom),
                          n_paths=paths // 2, dt=0.01, t_max=1e4, seed=k)
            brown.append(rb.mean_exit_time())
        else:
            brown.append(None)
    grid = np.linspace(0.05, heights.max() * 1.05, 80)
    levy_th = exit_interval.mean_exit_time(ALPHA, EPS, WIDTH, WIDTH)
    brown_th = [gaussian.quadratic_mean_exit_time(EPS, WIDTH, WIDTH, curvature=2 * H / WIDTH**2) for H in grid]

    fig = Figure(figsize=(12, 5.4))
    ax0, ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.5]})
    x = np.linspace(-1.25, 1.25, 300)
    for k, h in enumerate(curv):
        c = COLORS[k % len(COLORS)]
        ax0.plot(x, h * x**2 / 2, color=c, lw=1.3, label=f"h = {h:g}, height {h / 2:g}")
    ax0.axvline(-WIDTH, color="k", lw=1.5)
    ax0.axvline(WIDTH, color="k", lw=1.5, label="exit points (same width)")
    ax0.set_ylim(0, heights.max() * 1.3)
    ax0.set_xlabel("x")
    ax0.set_ylabel("U(x) = h x^2 / 2")
    ax0.set_title("one basin family: same width, growing height", fontsize=10)
    ax0.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)

    draw_estimates(ax, heights, levy, label=f"Levy alpha = {ALPHA:g}: simulated (95% CI)",
                   color="tab:blue")
    ax.axhline(levy_th, color="tab:blue", lw=1.5,
               label="Levy theory: alpha / (2 c_alpha eps^alpha d^-alpha) -- no height in it")
    draw_estimates(ax, heights, brown, label="Brownian alpha = 2: simulated (95% CI)",
                   color="tab:red", marker="s")
    ax.plot(grid, brown_th, "--", color="tab:red", lw=1.5,
            label="Brownian theory (exact), ~ exp(height / eps^2)")
    ax.set_yscale("log")
    ax.set_ylim(1, 1e5)
    ax.set_xlabel("barrier height H = U(exit) - U(min)")
    ax.set_ylabel("mean exit time E tau  [SDE time]")
    ax.set_title(f"eps = {EPS:g}: Brownian noise climbs, Levy noise jumps", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, out, "jumps_vs_climbing.png")

# %% [markdown]
# ## Run it
#
# In a notebook the next cell runs the experiment and shows the figure. As a script
# (`python examples/jumps_vs_climbing.py`) the last cell parses `--quick` and `--outdir`.

# %%
if in_notebook():
    show_files(main(quick=QUICK))

# %% [markdown]
# ## Explore
#
# The two closed forms side by side, for the basin height and noise level you choose:
# the Brownian mean exit time grows like `exp(height / eps^2)`, the Lévy one does not depend
# on the height at all. Raise the height at a fixed `eps` and watch only one number move.

# %%
def explore(height=1.0, eps=0.35, alpha=1.5):
    """Closed-form mean exit times from (-1, 1) for U = h x^2 / 2 with h = 2 * height."""
    h = 2 * height / WIDTH**2
    levy = exit_interval.mean_exit_time(alpha, eps, WIDTH, WIDTH)
    brown = gaussian.quadratic_mean_exit_time(eps, WIDTH, WIDTH, curvature=h)
    print(f"height {height:g}, eps {eps:g}: Levy (alpha = {alpha:g}) E tau = {levy:.4g}, "
          f"Brownian E tau = {brown:.4g}")


interactive(explore, height=(0.1, 4.0, 0.1), eps=(0.1, 1.0, 0.05), alpha=(1.1, 1.9, 0.1))

# %%
if __name__ == "__main__" and not in_notebook():
    run_script(main, 'Jumps versus climbing: what sets the time to leave a basin?')
