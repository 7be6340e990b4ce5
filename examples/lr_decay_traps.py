# %% [markdown]
# # Learning-rate decay traps the process in its basin
#
# SGD with learning rate eta_t = eta * s_t behaves, near a minimum, like
# dX = -grad U dt + eps s_t^((alpha-1)/alpha) dL_t (paper 004, eq. 3): the schedule s_t
# scales the noise. For a constant rate the large jumps that leave the basin arrive at the
# constant intensity k = eps^alpha c_alpha (d-^-alpha + d+^-alpha) / alpha, and the survival
# P(sigma > u) = exp(-k u) is a straight line on a log scale. A decaying schedule thins the
# jumps: at time t the intensity is k s_t^(alpha-1), so
#
# P(sigma > u) = exp(-Lambda(u)),   Lambda(u) = k int_0^u s_t^(alpha-1) dt.
#
# With the power decay s_t = (1 + t)^(gamma-1), Lambda grows only like u^g,
# g = 1 + (gamma-1)(alpha-1) < 1: the survival curve bends upwards and a sizeable share of
# runs stays in the basin far longer. With a multi-step schedule Lambda is piecewise
# linear: the log-survival keeps the constant slope until the first milestone and then
# flattens at each drop -- after the decay the process is, for practical purposes, locked
# in. The script simulates all three schedules with the same seed (95 % pointwise bands)
# and draws the exact small-noise law of each (dashed). This is the sense in which decay
# "chooses" a basin: whatever basin the process occupies when the rate drops, it keeps.
#
# Run as a script: `python examples/lr_decay_traps.py [--quick] [--outdir DIR]` (the figure
# goes to a new temporary directory unless `--outdir` is given). In Jupyter (with
# jupytext), open this file as a notebook and run the cells top to bottom.

# %%
"""Learning-rate decay traps the process in its basin (a levydyn tutorial; the lecture note is the first cell)."""
import tempfile
from pathlib import Path

import numpy as np

from _tutorial import QUICK, in_notebook, interactive, run_script, show, show_files
from levydyn import Box, Constant, MultiStep, Power, Problem, Quadratic, simulate
from levydyn.plots import survival_curves
from levydyn.theory import schedules as theory

ALPHA, EPS, DM, DP = 1.5, 0.1, 1.0, 2.0


def _kwargs(s):
    if isinstance(s, Power):
        return {"gamma": s.gamma, "t0": s.t0}
    if isinstance(s, MultiStep):
        return {"milestones": list(s.milestones), "values": list(s.values)}
    return {}

# %% [markdown]
# ## The experiment
#
# `main` runs the simulations and writes the figure; it returns the paths it wrote.

# %%
def main(outdir=None, quick: bool = False) -> list[Path]:
    out = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="levydyn-"))
    out.mkdir(parents=True, exist_ok=True)
    paths = 150 if quick else 800
    scheds = [Constant(), Power(0.5, 1.0), MultiStep((60.0, 150.0), (0.3, 0.05))]
    t_max = 1500.0 if quick else 4000.0
    dom = Box.around([0.0], [DM], [DP])
    t_show = np.linspace(0.0, t_max, 500)
    curves = []
    for s in scheds:
        r = simulate(Problem(Quadratic([1.0]), alpha=ALPHA, eps=EPS, domain=dom, schedule=s),
                     n_paths=paths, dt=0.01, t_max=t_max, seed=0)
        sv = r.survival(t_show)
        kw = _kwargs(s)
        curves.append({"label": str(s), "t": sv.t, "survival": sv.survival, "low": sv.low,
                       "high": sv.high, "n": r.n_paths, "theory_t": t_show,
                       "theory": theory.survival(t_show, ALPHA, EPS, DM, DP, **kw),
                       "mean": r.mean_exit_time() if r.censored_fraction == 0 else None,
                       "theory_mean": theory.mean_exit_time(ALPHA, EPS, DM, DP, **kw)})
        if r.censored_fraction > 0:       # no sample mean: say how many are still inside
            curves[-1]["label"] += (f"  ({100 * r.censored_fraction:.1f}% still inside at "
                                    f"t = {t_max:g}; theory mean "
                                    f"{curves[-1]['theory_mean']:.4g})")
    tt = np.linspace(1e-3, t_max, 800)
    sch = [{"label": str(s), "t": tt, "s": s.rate(tt)} for s in scheds]
    path = out / "lr_decay_traps.png"
    survival_curves(curves, schedules=sch, t_max=t_max,
                    title=(f"alpha = {ALPHA:g}, eps = {EPS:g}, U = x^2/2 on (-{DM:g}, {DP:g}): "
                           "survival in the basin"), path=path)
    return [path]

# %% [markdown]
# ## Run it
#
# In a notebook the next cell runs the experiment and shows the figure. As a script
# (`python examples/lr_decay_traps.py`) the last cell parses `--quick` and `--outdir`.

# %%
if in_notebook():
    show_files(main(quick=QUICK))

# %% [markdown]
# ## Explore
#
# The exact small-noise survival under a power schedule `s_t = (t + 1)^(gamma - 1)` for the
# decay exponent you choose: the smaller `gamma`, the longer the trap. `gamma = 1` is the
# constant learning rate.

# %%
from matplotlib.figure import Figure


def explore(gamma=0.5):
    """Exact small-noise survival P(sigma > u) under Power(gamma, 1) vs a constant rate."""
    u = np.linspace(0.0, 1500.0, 300)
    fig = Figure(figsize=(7, 3))
    ax = fig.subplots()
    ax.plot(u, theory.survival(u, ALPHA, EPS, DM, DP), label="constant")
    ax.plot(u, theory.survival(u, ALPHA, EPS, DM, DP, gamma=gamma, t0=1.0),
            label=f"power, gamma = {gamma:g}")
    ax.set(xlabel="u", ylabel="P(sigma > u)", ylim=(0, 1))
    ax.legend()
    show(fig)


interactive(explore, gamma=(0.1, 1.0, 0.05))

# %%
if __name__ == "__main__" and not in_notebook():
    run_script(main, 'Learning-rate decay traps the process in its basin')
