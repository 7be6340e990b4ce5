# %% [markdown]
# # Wide-valley preference: where does a heavy-tailed process spend its time?
#
# Put two wells side by side, U'(x) = k (x + 1) x (x - r): a minimum at -1 whose
# well reaches to the maximum at 0 (width 1), and a minimum at r whose well is r wide.
# Driven by small alpha-stable noise the particle sits in a well until one jump carries it
# across the maximum; a jump of size y happens at rate proportional to |y|^(-1-alpha), so
# leaving a well of width w takes a time proportional to w^alpha. In the limit the
# particle hops as a two-state Markov chain (Simsekli et al. 2019, Thm 2; Imkeller &
# Pavlyukevich) whose stationary law gives the wide well the share
#
# pi_wide = r^alpha / (1 + r^alpha),
#
# independent of eps and of the depths of the wells. The smaller alpha, the heavier the tail
# and the *weaker* the preference (for alpha -> 0 every well is equally likely); as alpha
# grows towards 2 it sharpens -- but at alpha = 2 the picture breaks: Brownian motion does
# not jump, and its preference is set by the barrier *heights* instead (Kramers). The
# script simulates paths that start in the narrow well, measures the fraction of time spent
# in the well of width r (95 % CI over paths), and draws pi together with the occupation the
# limiting chain predicts over the same finite horizon (open circles; it differs from pi
# because every path starts in the well at -1). The factor k = 3 only deepens both wells --
# the law above does not see it; it is there so that the narrow well (r = 0.5) is not simply
# diffused out of at this finite eps. One point still misses, and it teaches something:
# alpha = 1.8, r = 0.5 sits well below its prediction. That well's barrier is only 0.08,
# about 2 eps^2, and near alpha = 2 the many small jumps act like a Brownian motion, which
# *climbs* out of a shallow well. The width law is a small-noise limit; the closer alpha is
# to 2, the smaller eps must be before jumps alone decide.
#
# Run as a script: `python examples/wide_valley.py [--quick] [--outdir DIR]` (the figure
# goes to a new temporary directory unless `--outdir` is given). In Jupyter (with
# jupytext), open this file as a notebook and run the cells top to bottom.

# %%
"""Wide-valley preference: where does a heavy-tailed process spend its time? (a levydyn tutorial; the lecture note is the first cell)."""
import tempfile
from pathlib import Path

import numpy as np

from _tutorial import QUICK, in_notebook, interactive, run_script, save_figure, show_files
from levydyn import MultiWell1D, Problem, WellPartition, simulate
from levydyn.plots import COLORS, probability_curves
from levydyn.theory import markov_chain

EPS = 0.2
DEPTH = 3.0     # k in U' = k (x+1) x (x-r): deeper wells, same widths
CYCLES = 6.0     # path length: this many passes through both wells (theoretical sojourns)

# %% [markdown]
# ## The experiment
#
# `main` runs the simulations and writes the figure; it returns the paths it wrote.

# %%
def main(outdir=None, quick: bool = False) -> list[Path]:
    out = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="levydyn-"))
    out.mkdir(parents=True, exist_ok=True)
    alphas = [1.2, 1.8] if quick else [1.2, 1.5, 1.8]
    ratios = [0.5, 2.0] if quick else [0.5, 1.0, 2.0, 3.0]
    paths = 10 if quick else 40
    cycles = 2.0 if quick else CYCLES
    series = []
    for a in alphas:
        est, finite = [], []
        for k, r in enumerate(ratios):
            pot = MultiWell1D((-1.0, r), (0.0,), DEPTH)
            Q = markov_chain.generator(a, EPS, [-1.0, r], [0.0])
            horizon = cycles * float(np.sum(1.0 / -np.diag(Q)))
            res = simulate(Problem(pot, alpha=a, eps=EPS, domain=WellPartition.of(pot)),
                           n_paths=paths, dt=0.01, t_max=horizon, seed=k)
            est.append(res.occupation()[1])
            finite.append(markov_chain.occupation_from_generator(Q, 0, horizon)[1])
        grid = np.linspace(0.3, max(ratios) * 1.05, 100)
        series.append({"label": f"alpha = {a:g}", "x": np.array(ratios), "estimates": est,
                       "theory_x": grid, "theory_y": grid**a / (1 + grid**a), "finite": finite})
    fig = probability_curves(
        series, xlabel="width ratio r = (width of well 2) / (width of well 1)",
        ylabel="fraction of time in well 2 (width r)",
        title=(f"Wide-valley preference, U' = {DEPTH:g} (x+1) x (x-r), eps = {EPS:g}\n"
               "lines: stationary law pi = r^alpha / (1 + r^alpha) (Thm 2)"))
    ax = fig.axes[0]
    for k, s in enumerate(series):
        ax.plot(s["x"], s["finite"], "o", mfc="none", mec=COLORS[k], ms=10, mew=1.2, zorder=2)
    ax.plot([], [], "o", mfc="white", mec="k", label="chain over the simulated horizon")
    ax.axvline(1.0, color="0.6", lw=0.8, ls=":")
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, out, "wide_valley.png")

# %% [markdown]
# ## Run it
#
# In a notebook the next cell runs the experiment and shows the figure. As a script
# (`python examples/wide_valley.py`) the last cell parses `--quick` and `--outdir`.

# %%
if in_notebook():
    show_files(main(quick=QUICK))

# %% [markdown]
# ## Explore
#
# The stationary share of time in the wider well, for the width ratio and tail index you
# choose: `pi = r^alpha / (1 + r^alpha)`. It depends on the widths only, not on the depths;
# a smaller `alpha` makes the preference for the wide valley weaker, not stronger.

# %%
def explore(ratio=2.0, alpha=1.5):
    """Two wells at -1 and ratio, barrier at 0: stationary occupation (Theorem 2)."""
    pi = markov_chain.stationary_distribution(alpha, EPS, (-1.0, ratio), (0.0,))
    print(f"width ratio {ratio:g}, alpha {alpha:g}: time share of the wide well {pi[1]:.3f} "
          f"(r^alpha / (1 + r^alpha) = {ratio**alpha / (1 + ratio**alpha):.3f})")


interactive(explore, ratio=(1.0, 5.0, 0.25), alpha=(1.1, 1.9, 0.1))

# %%
if __name__ == "__main__" and not in_notebook():
    run_script(main, 'Wide-valley preference: where does a heavy-tailed process spend its time?')
