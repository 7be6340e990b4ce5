# %% [markdown]
# # Sample paths: one seed, four tail indices
#
# Chambers-Mallows-Stuck turns two uniform random numbers (an angle V and an
# exponential W) into one SaS variate, Z = sin(alpha V) / cos(V)^(1/alpha) *
# (cos((1-alpha) V) / W)^((1-alpha)/alpha). levydyn draws V and W for path i from a stream
# fixed by (seed, i), so the *same* random numbers can drive different tail indices. Below,
# one path of the double-well SDE dX = -U'(X) dt + eps dL_t, U'(x) = (x+1) x (x-1),
# eps = 0.3, is shown for alpha = 2, 1.8, 1.5 and 1.2 with identical V, W. At alpha = 2
# (Brownian) the increments are Gaussian; the path jitters in a well and only rarely makes
# it over the barrier at 0 after a long uphill excursion (Kramers). As alpha decreases, the
# same uniforms that produced a moderate Gaussian kick now produce an occasional huge one
# -- the heavy tail -- and the path changes wells by single jumps, often overshooting far
# beyond the other minimum before the drift pulls it back. Between the jumps the paths look
# alike: the small increments of all four laws are similar; the difference is in the tail.
# The number in each panel is the largest single-step noise increment on the path.
#
# Run as a script: `python examples/sample_paths.py [--quick] [--outdir DIR]` (the figure
# goes to a new temporary directory unless `--outdir` is given). In Jupyter (with
# jupytext), open this file as a notebook and run the cells top to bottom.

# %%
"""Sample paths: one seed, four tail indices (a levydyn tutorial; the lecture note is the first cell)."""
import tempfile
from pathlib import Path

import numpy as np

from _tutorial import QUICK, in_notebook, interactive, run_script, show, show_files
from levydyn import MultiWell1D, Problem, WellPartition
from levydyn.plots import sample_paths_grid
from levydyn.simulate import record_paths

ALPHAS = (2.0, 1.8, 1.5, 1.2)
EPS = 0.3
DT = 0.01

# %% [markdown]
# ## The experiment
#
# `main` runs the simulations and writes the figure; it returns the paths it wrote.

# %%
def main(outdir=None, quick: bool = False, seed: int = 7) -> list[Path]:
    out = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="levydyn-"))
    out.mkdir(parents=True, exist_ok=True)
    horizon = 60.0 if quick else 200.0
    pot = MultiWell1D((-1.0, 1.0), (0.0,))
    dom = WellPartition.of(pot)
    panels = []
    for a in ALPHAS:
        p = Problem(pot, alpha=a, eps=EPS, domain=dom)
        tr = record_paths(p, n_paths=1, dt=DT, t_max=horizon, seed=seed,
                          max_points=int(horizon / DT) + 1)
        t, x = tr.path(0)
        # every step is recorded (stride 1), so this is the largest one-step move
        biggest = float(np.max(np.abs(np.diff(x[:, 0]))))
        name = "Brownian" if a == 2 else "Levy"
        panels.append((f"alpha = {a:g} ({name}): largest single step {biggest:.2f}", tr))
    path = out / "sample_paths.png"
    sample_paths_grid(panels, hlines=[(0.0, "--", "maximum (barrier)"),
                                      (-1.0, ":", "minima"), (1.0, ":", None)],
                      title=(f"Same seed, four tail indices: dX = -U'(X) dt + {EPS:g} dL, "
                             "U' = (x+1) x (x-1)"), path=path)
    return [path]

# %% [markdown]
# ## Run it
#
# In a notebook the next cell runs the experiment and shows the figure. As a script
# (`python examples/sample_paths.py`) the last cell parses `--quick` and `--outdir`.

# %%
if in_notebook():
    show_files(main(quick=QUICK))

# %% [markdown]
# ## Explore
#
# Move `alpha` towards 2 and watch the jumps turn into climbs: the same seed drives one
# path of the double well for the tail index you choose. At `alpha = 2` the path rarely
# changes wells; below, single jumps carry it over the barrier.

# %%
from matplotlib.figure import Figure


def explore(alpha=1.5, eps=0.3, seed=7):
    """One path of the double well for one tail index."""
    pot = MultiWell1D((-1.0, 1.0), (0.0,))
    p = Problem(pot, alpha=alpha, eps=eps, domain=WellPartition.of(pot))
    tr = record_paths(p, n_paths=1, dt=DT, t_max=60.0, seed=seed, max_points=6001)
    t, x = tr.path(0)
    fig = Figure(figsize=(9, 2.8))
    ax = fig.subplots()
    ax.plot(t, x[:, 0], lw=0.7)
    ax.axhline(0.0, ls="--", color="k", lw=0.8)
    ax.set(xlabel="t", ylabel="x", title=f"alpha = {alpha:g}, eps = {eps:g}, seed = {seed}")
    show(fig)


interactive(explore, alpha=(1.1, 2.0, 0.1), eps=(0.1, 0.5, 0.05), seed=(0, 20, 1))

# %%
if __name__ == "__main__" and not in_notebook():
    run_script(main, 'Sample paths: one seed, four tail indices', seed=7)
