# %% [markdown]
# # Which parameter escapes? Per-coordinate tail indices decide
#
# Measurements on real networks show that the gradient noise of different
# parameters has different tail indices alpha_l (paper 004). Model two parameters near a
# minimum as a 2-D basin, U = (x1^2 + x2^2)/2 in the box (-1, 1)^2, with independent
# SaS noises of tail indices alpha_1 = alpha_2 - delta and alpha_2 = 1.8, both at level eps.
# For small eps the process leaves the box by a single large jump of a single coordinate,
# and jumps of coordinate l that clear the wall arrive at rate
#
# lambda_l = eps^alpha_l c_alpha_l (d-^-alpha_l + d+^-alpha_l) / alpha_l,
#
# so P(exit along x1) = lambda_1 / (lambda_1 + lambda_2) (paper 004, Thm 4.3 at s = 1).
# The ratio lambda_1 / lambda_2 carries the factor eps^(alpha_1 - alpha_2) = eps^(-delta):
# the heavier-tailed coordinate takes over the escape, and the smaller the noise the more
# completely it does. At delta = 0 the two axes are exchangeable (1/2); a tail index only 0.2
# lower carries 74 % of the escapes at eps = 0.1 and 88 % at eps = 1e-3. The simulation uses
# the jump-adapted solver (exact large-jump clocks), whose cost does not grow as eps -> 0.
#
# Run as a script: `python examples/which_axis_escapes.py [--quick] [--outdir DIR]` (the figure
# goes to a new temporary directory unless `--outdir` is given). In Jupyter (with
# jupytext), open this file as a notebook and run the cells top to bottom.

# %%
"""Which parameter escapes? Per-coordinate tail indices decide (a levydyn tutorial; the lecture note is the first cell)."""
import tempfile
from pathlib import Path

import numpy as np

from _tutorial import QUICK, in_notebook, interactive, run_script, show_files
from levydyn import Box, Problem, Quadratic, simulate
from levydyn.plots import probability_curves
from levydyn.theory import box

ALPHA2 = 1.8
WIDTH = 1.0

# %% [markdown]
# ## The experiment
#
# `main` runs the simulations and writes the figure; it returns the paths it wrote.

# %%
def main(outdir=None, quick: bool = False) -> list[Path]:
    out = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="levydyn-"))
    out.mkdir(parents=True, exist_ok=True)
    # quick (tests): Euler at larger eps, so no second solver has to be compiled
    eps_list = [0.3, 0.1] if quick else [0.1, 1e-2, 1e-3]
    method = "euler" if quick else "jump_adapted"
    deltas = np.array([0.0, 0.3, 0.6]) if quick else np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8])
    paths = 200 if quick else 1500
    dom = Box.around([0.0, 0.0], [WIDTH, WIDTH], [WIDTH, WIDTH])
    grid = np.linspace(0.0, deltas.max(), 100)
    series = []
    for e in eps_list:
        est = []
        for k, d in enumerate(deltas):
            p = Problem(Quadratic([1.0, 1.0]), alpha=[ALPHA2 - d, ALPHA2], eps=e, domain=dom)
            r = simulate(p, n_paths=paths, dt=0.01, t_max=1e12 if method == "jump_adapted" else 1e4,
                         seed=k, method=method)
            est.append(r.axis_probability(0))
        th = [box.exit_axis_probabilities([ALPHA2 - g, ALPHA2], e, WIDTH, WIDTH)[0] for g in grid]
        series.append({"label": f"eps = {e:g}", "x": deltas, "estimates": est,
                       "theory_x": grid, "theory_y": th})
    path = out / "which_axis_escapes.png"
    probability_curves(
        series, xlabel="delta = alpha_2 - alpha_1  (alpha_2 = 1.8)",
        ylabel="P(exit along x1)  (95% Wilson CI)",
        title=("Which coordinate escapes from (-1, 1)^2?  U = |x|^2 / 2, alpha_1 = alpha_2 - delta"
               "\nlines: small-noise law lambda_1 / (lambda_1 + lambda_2) (paper 004, Thm 4.3)"),
        path=path)
    return [path]

# %% [markdown]
# ## Run it
#
# In a notebook the next cell runs the experiment and shows the figure. As a script
# (`python examples/which_axis_escapes.py`) the last cell parses `--quick` and `--outdir`.

# %%
if in_notebook():
    show_files(main(quick=QUICK))

# %% [markdown]
# ## Explore
#
# The small-noise exit-axis law for the tail indices and noise level you choose. The axis
# with the smaller `alpha` wins more and more completely as `eps` shrinks, because its rate
# `eps^alpha_l` decays more slowly.

# %%
def explore(alpha_1=1.5, alpha_2=1.8, log10_eps=-1.0):
    """P(exit along x1) from (-1, 1)^2 in the small-noise limit (theory.box)."""
    eps = 10.0**log10_eps
    p1 = box.exit_axis_probabilities([alpha_1, alpha_2], eps, WIDTH, WIDTH)[0]
    print(f"alpha = ({alpha_1:g}, {alpha_2:g}), eps = {eps:.3g}: P(exit along x1) = {p1:.4f}")


interactive(explore, alpha_1=(1.1, 1.9, 0.05), alpha_2=(1.1, 1.9, 0.05), log10_eps=(-4.0, -0.5, 0.25))

# %%
if __name__ == "__main__" and not in_notebook():
    run_script(main, 'Which parameter escapes? Per-coordinate tail indices decide')
