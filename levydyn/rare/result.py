"""The result of a splitting estimate: ``p``, the mean exit time, the exit law, the work.

Combining ``M`` independent runs of generalised AMS (:mod:`levydyn.rare.ams`)
-----------------------------------------------------------------------------
Run ``m`` gives an unbiased ``p_m`` (Brehier et al. 2016, Thm 4.1), so
``p = mean_m p_m`` with the Student-t interval ``p +- t_{M-1} s_p / sqrt(M)``.

Mean exit time by the cycle decomposition (Cerou, Guyader, Lelievre & Pommier 2011,
J. Chem. Phys. 134, 054108, eq. 5): a cycle starts when the chain enters ``A`` (or at
``x0``), crosses ``{xi > z0}`` (time ``T_1``) and then returns to ``A`` (a *loop*,
probability ``1 - p``) or reaches ``B`` (the *reactive* cycle). The number of loops before
the reactive cycle is geometric with mean ``(1 - p)/p``, hence

    E tau = E[T_loop] (1 - p)/p + E[T_reac],      E[T_reac] = E[T_1] + E[T_2 | reach B],

``T_loop`` the duration of a cycle that returns to A. ``E[T_loop]`` and ``E[T_1]`` are
sample means over the cycles of the brute-force phase (all runs pooled); ``E[T_2 | B]`` is
the mean duration of the final replicas (which all reached B), averaged per run. Its CI
is the delta method on ``log E tau``:
``Var(log tau) ~ [ (T_loop/p^2)^2 Var(p) + ((1-p)/p)^2 Var(T_loop) + Var(T_reac) ] / tau^2``,
and ``tau exp(+- z se_log)``. Times are in the chain's unit (SDE time ``steps * dt`` for the
Euler chain, iterations for a recursion).

Exit law: within a run the final replicas have equal weights (they all reached B), so
``P(exit axis l) = mean_m (fraction of run m's replicas that exited on axis l)``, with a
t interval over runs (replicas of one run share ancestors and are not independent).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from levydyn.results import Estimate, dump_json, mean_with_ci, to_jsonable

ESTIMATOR = "gAMS"


@dataclass
class RunRecord:
    """One run of generalised AMS (what :func:`levydyn.rare.ams.run_gams` returns).

    p : the run's estimate ``prod_k (1 - K_k/n) * (fraction of replicas in B)``; for a
        censored run, the estimate of ``P(max xi > last level)``, an upper bound of ``p``.
    levels : the levels ``z_k`` (minimum of the replicas' maxima) of the iterations.
    killed : ``K_k``, replicas at or below ``z_k`` killed at iteration ``k``.
    censored : the reason the run was cut short ("" if it finished).
    cycle_loops, cycle_t1 : durations of the brute-force phase's loops (cycles back to A)
        and of the climbs ``A -> {xi > z0}`` (chain time units).
    cycle_successes : brute-force cycles that reached B directly.
    final_t : durations from the first crossing of ``z0`` to B of the final replicas.
    axis, side : their exit axis and side.
    work : path-steps of the run (brute-force phase, replicas, re-simulation).
    """

    p: float
    levels: np.ndarray
    killed: np.ndarray
    censored: str
    cycle_loops: np.ndarray
    cycle_t1: np.ndarray
    cycle_successes: int
    final_t: np.ndarray
    axis: np.ndarray
    side: np.ndarray
    work: int
    extinct: bool = False


@dataclass
class SplittingResult:
    """Rare-event estimate from ``M`` independent generalised-AMS runs (module doc).

    Attributes
    ----------
    estimator : "gAMS".
    p : probability to reach B before A from the first crossing of ``z0``.
    mean_exit_time : ``E tau`` from the cycle decomposition (chain time units).
    n_replicas, n_runs : ``n`` and ``M``.
    levels : number of levels (iterations) of each run.
    work : path-steps of all runs together.
    censored : True if a run was cut short (budget, a replica at its step cap, a
        diverged state); ``p`` and ``mean_exit_time`` are then bounds (value nan, the
        bound in ``high`` / ``low``), and ``reason`` says why.
    axis_probabilities, side_probabilities : exit law from the reactive trajectories
        (``side_probabilities[l] = (P(axis l, lower), P(axis l, upper))``).
    a, z0 : the set ``A = {xi <= a}`` and the first level; ``time_unit`` the unit of times.
    warning : "" or why the CI may not be trusted: runs that ended in extinction (every
        replica tied at one level, ``p_m = 0``; legitimate in gAMS, but a sign that the
        per-run estimates are heavy-tailed, e.g. an exit made by one large jump that the
        reaction coordinate cannot split). If every run ended so, ``p`` and the mean exit
        time have no value (nan), never 0 and inf.
    """

    estimator: str
    p: Estimate
    mean_exit_time: Estimate
    n_replicas: int
    n_runs: int
    levels: np.ndarray
    work: int
    censored: bool
    reason: str
    axis_probabilities: list
    side_probabilities: list
    a: float
    z0: float
    time_unit: float = 1.0
    loop_time: Estimate = None
    reactive_time: Estimate = None
    runs: list = field(default_factory=list, repr=False)
    problem: object = None
    meta: dict = field(default_factory=dict)
    warning: str = ""

    @property
    def n_levels(self) -> float:
        """Mean number of levels per run."""
        return float(np.mean(self.levels)) if len(self.levels) else math.nan

    def summary(self) -> dict:
        return {"estimator": self.estimator, "p": self.p, "mean_exit_time": self.mean_exit_time,
                "loop_time": self.loop_time, "reactive_time": self.reactive_time,
                "n_replicas": self.n_replicas, "n_runs": self.n_runs,
                "levels_per_run": self.levels, "work_path_steps": self.work,
                "censored": self.censored, "reason": self.reason, "warning": self.warning,
                "p_axis": self.axis_probabilities, "p_side": self.side_probabilities,
                "a": self.a, "z0": self.z0}

    def to_dict(self) -> dict:
        d = {"estimator": self.estimator, "summary": self.summary(), **self.meta}
        if self.problem is not None:
            d["problem"] = self.problem.describe()
        return to_jsonable(d)

    def to_json(self, path=None) -> str:
        """JSON (non-finite numbers as ``"inf"``/``"-inf"``/``"nan"``, the package's one
        convention, :func:`levydyn.results.to_jsonable`)."""
        return dump_json(self.to_dict(), path)


def _z(level: float) -> float:
    return float(special.ndtri(0.5 + level / 2))


def combine(runs: list[RunRecord], n_replicas: int, dim: int, a: float, z0: float,
            time_unit: float = 1.0, level: float = 0.95) -> SplittingResult:
    """Pool ``M`` runs into a :class:`SplittingResult` (formulas in the module doc)."""
    M = len(runs)
    ps = np.array([r.p for r in runs])
    reasons = sorted({r.censored for r in runs if r.censored})
    censored = bool(reasons)
    loops = np.concatenate([r.cycle_loops for r in runs]) * time_unit
    t1 = np.concatenate([r.cycle_t1 for r in runs]) * time_unit
    finals = [r.final_t * time_unit for r in runs if r.final_t.size]
    work = int(sum(r.work for r in runs))
    levels = np.array([r.levels.size for r in runs])
    p_est = mean_with_ci(ps, level)
    p_est = Estimate(p_est.value, max(0.0, p_est.low), min(1.0, p_est.high), level,
                     "gAMS, t interval over runs")
    loop = (mean_with_ci(loops, level) if loops.size
            else Estimate(math.nan, math.nan, math.nan, level, "no loops"))
    t2 = mean_with_ci([f.mean() for f in finals], level) if finals else None
    t1m = mean_with_ci(t1, level) if t1.size else None
    if t2 is not None and t1m is not None:
        se_r = math.hypot(t1m.half_width, t2.half_width) / _z(level) if M > 1 else math.inf
        reac = Estimate(t1m.value + t2.value, t1m.value + t2.value - _z(level) * se_r,
                        t1m.value + t2.value + _z(level) * se_r, level, "E[T_1] + E[T_2 | B]")
    else:
        reac = Estimate(math.nan, math.nan, math.nan, level, "no reactive trajectory")
    tau = _cycle_time(p_est, loop, reac, M, loops.size, level)
    if censored:
        p_est = Estimate(math.nan, 0.0, float(ps.mean()), level,
                         "gAMS censored: high = estimate of P(max xi > last level) >= p")
        lo = (loop.value * (1.0 - p_est.high) / p_est.high if p_est.high > 0 else math.inf)
        tau = Estimate(math.nan, lo, math.inf, level,
                       "censored: low = E[T_loop](1 - p_bound)/p_bound, a lower bound")
    n_extinct = sum(r.extinct for r in runs)
    warning = ""
    if n_extinct:
        warning = (f"{n_extinct} of {M} runs ended in extinction (p_m = 0): the per-run "
                   "estimates are heavy-tailed and the interval may be too narrow; use more "
                   "replicas or a better xi")
    if n_extinct == M:
        p_est = Estimate(math.nan, 0.0, math.nan, level, "gAMS: every run extinct, no estimate")
        tau = Estimate(math.nan, math.nan, math.inf, level, "no estimate (every run extinct)")
    axis_p, side_p = _exit_law(runs, dim, level)
    return SplittingResult(ESTIMATOR, p_est, tau, n_replicas, M, levels, work, censored,
                           "; ".join(reasons), axis_p, side_p, a, z0, time_unit, loop, reac, runs,
                           warning=warning)


def _cycle_time(p: Estimate, loop: Estimate, reac: Estimate, M: int, n_loops: int,
                level: float) -> Estimate:
    """``E[T_loop](1 - p)/p + E[T_reac]`` with the delta-method interval on its log."""
    pv = p.value
    if not (pv > 0) or not math.isfinite(loop.value):
        return Estimate(math.inf if pv == 0 else math.nan, math.nan, math.inf, level,
                        "cycle decomposition (p = 0: no estimate)")
    reac_v = reac.value if math.isfinite(reac.value) else 0.0
    tau = loop.value * (1.0 - pv) / pv + reac_v
    z = _z(level)
    se_p = p.half_width / z if M > 1 else math.inf
    se_loop = loop.half_width / z if n_loops > 1 else math.inf
    se_reac = reac.half_width / z if math.isfinite(reac.half_width) else 0.0
    var = ((loop.value / pv**2) * se_p) ** 2 + ((1 - pv) / pv * se_loop) ** 2 + se_reac**2
    se_log = math.sqrt(var) / tau
    return Estimate(tau, tau * math.exp(-z * se_log), tau * math.exp(z * se_log), level,
                    "cycle decomposition E[T_loop](1-p)/p + E[T_reac], delta method on log")


def _exit_law(runs: list[RunRecord], dim: int, level: float):
    """Per-axis and per-side exit probabilities, t intervals over the runs' fractions."""
    done = [r for r in runs if r.axis.size and not r.censored]
    if not done:
        nan = Estimate(math.nan, math.nan, math.nan, level, "no reactive trajectory")
        return [nan] * dim, [[nan, nan] for _ in range(dim)]
    axis = [mean_with_ci([np.mean(r.axis == l) for r in done], level) for l in range(dim)]
    side = [[mean_with_ci([np.mean((r.axis == l) & (r.side == s)) for r in done], level)
             for s in (-1, 1)] for l in range(dim)]
    return axis, side
