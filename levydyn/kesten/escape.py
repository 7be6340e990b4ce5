"""Simulating the recursion (escapes, stationary samples) and the escape law per regime.

Escape laws (derived here; ``tau_R`` = first ``k`` with ``x_k`` outside the ball of radius
``R`` around the minimum, ``x_0 = 0``, constant ``lr``)
-------------------------------------------------------------------------------------
Write ``x_k = sum_{j<=k} M_k ... M_{j+1} q_j`` (``q_j = -lr u_j``).

*Unstable* (``lambda_1 > 0``). Once ``||x||`` is large against the additive kicks, ``x``
moves as a product, and ``log ||x_k|| = S_k + O(1)`` with ``S_k`` asymptotically a random
walk of drift ``lambda_1`` (Furstenberg-Kesten; CLT for products, Le Page 1982). The first
passage of a positive-drift walk over level ``log R`` has, by Wald's identity,
``E tau_R = (log R + E[overshoot] - E S_0) / lambda_1``, hence::

    E tau_R = log(R) / lambda_1 + c + o(1),      d E tau_R / d log R -> 1 / lambda_1,

with ``tau_R`` concentrated (sd ``~ sigma sqrt(log R / lambda_1^3)``). The constant ``c``
(start-up and overshoot) has no closed form: the slope is what is predicted and tested.

*Stable, heavy-tailed* (``lambda_1 < 0``, Kesten index ``alpha_K``). The chain is
geometrically ergodic with stationary law ``pi``, ``P_pi(||x|| > R) ~ C R^(-alpha_K)``
(Kesten 1973; Goldie 1991). Leaving a ball of large radius is a rare event of a mixing chain:
exceedances come in clusters with extremal index ``theta in (0, 1]`` (de Haan, Resnick,
Rootzen & de Vries 1989 for 1-D Kesten chains; Basrak, Davis & Mikosch 2002 in R^d), so
``tau_R / E tau_R -> Exp(1)`` and::

    E tau_R ~ 1 / (theta P_pi(||x|| > R)) = R^alpha_K / (theta C),
    d log E tau_R / d log R -> alpha_K.

``C`` and ``theta`` have no closed form in general: the exponent is predicted and tested.
The mean escape time is *polynomial* in ``R``, and the exponent is the tail index of the
iterates, not of the gradient noise.

*Marginal* (``lambda_1`` indistinguishable from 0 at the CI's level): neither law applies.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from levydyn.kesten import kernel as K
from levydyn.kesten.models import MinibatchLaw, Recursion, check_count
from levydyn.kesten.stability import lyapunov_exponent, tail_index
from levydyn.model.noise import check_seed
from levydyn.results import Estimate, EscapeResult

__all__ = ["EscapeLaw", "StationarySamples", "escape_law", "escape_scaling", "simulate",
           "sample_stationary", "run_recursion", "REGIMES"]

REGIMES = ("unstable", "stable", "marginal")


def run_recursion(rec: Recursion, n_paths: int, max_steps: int, seed: int = 0,
                  burn_in: int = 0, thin: int = 1, n_records: int = 0,
                  polyak: bool = False) -> dict:
    """Run ``n_paths`` paths of ``rec`` (one numba loop, :func:`kernel.run_paths`).

    Returns arrays ``times, exited, axis, side, points`` (first exit from ``rec.domain``,
    censored at ``max_steps``), ``iterates`` ``(n_records, n_paths, P)`` (snapshots
    ``x_{burn_in + (r+1) thin}``; NaN after an exit) and ``averages`` (Polyak means over
    the steps after ``burn_in``, or None), plus ``wall_time``.
    """
    if not isinstance(rec, Recursion):
        raise ValueError(f"rec must be a Recursion, got rec={rec!r}")
    n_paths = check_count("n_paths", n_paths, 1)
    max_steps = check_count("max_steps", max_steps, 1)
    burn_in = check_count("burn_in", burn_in, 0)
    thin = check_count("thin", thin, 1)
    n_records = check_count("n_records", n_records, 0)
    seed = check_seed(seed)
    P = rec.dim
    kind, gamma, t0, ms, vs = rec.schedule.encode()
    exit_kind, lower, upper, center, radius = rec.exit_args()
    rec_arr = np.empty((n_records, n_paths, P))
    avg = np.empty((n_paths if polyak else 1, P))
    times = np.empty(n_paths, dtype=np.int64)
    exited = np.empty(n_paths, dtype=np.bool_)
    axis = np.empty(n_paths, dtype=np.int64)
    side = np.empty(n_paths, dtype=np.int64)
    points = np.empty((n_paths, P))
    t = time.perf_counter()
    K.run_paths(*rec.law.encode(), rec.lr, kind, gamma, t0, ms, vs, rec.x0[None, :], exit_kind,
                np.asarray(lower, float), np.asarray(upper, float), np.asarray(center, float),
                float(radius), max_steps, burn_in, thin, rec_arr, avg, bool(polyak), burn_in + 1,
                max(n_records * thin, 1), seed, times, exited, axis, side, points)
    return {"times": times, "exited": exited, "axis": axis, "side": side, "points": points,
            "iterates": rec_arr, "averages": avg if polyak else None,
            "wall_time": time.perf_counter() - t}


@dataclass(frozen=True)
class EscapeLaw:
    """Regime and predicted escape scaling of a law at ``lr`` (module docstring).

    ``slope``: unstable: ``d E tau_R / d log R = 1/lambda_1``; stable:
    ``d log E tau_R / d log R = alpha_K``; None when marginal.
    """

    regime: str
    lyapunov: Estimate
    tail_index: Estimate | None
    slope: Estimate | None

    @property
    def formula(self) -> str:
        if self.regime == "unstable":
            return "E tau_R = log(R) / lambda_1 + O(1)"
        if self.regime == "stable":
            return "E tau_R ~ R^alpha_K / (theta C)"
        return "marginal: lambda_1 ~ 0, no law"

    def describe(self) -> dict:
        return {"regime": self.regime, "formula": self.formula, "lyapunov": self.lyapunov,
                "tail_index": self.tail_index, "slope": self.slope}


def escape_law(law: MinibatchLaw, lr: float, *, tail: bool = True, seed: int = 0,
               lyapunov_kw: dict | None = None, tail_kw: dict | None = None) -> EscapeLaw:
    """Classify the regime by the CI of ``lambda_1`` and predict the escape scaling.

    ``tail=False`` skips the tail index unless the law has an exact one (a cloning estimate
    costs far more than ``lambda_1`` for large ``P``).
    """
    lam = lyapunov_exponent(law, lr, seed=seed, **(lyapunov_kw or {}))
    if lam.low > 0:
        slope = Estimate(1.0 / lam.value, 1.0 / lam.high, 1.0 / lam.low, lam.level,
                         "1 / lambda_1 (CI inverted)")
        return EscapeLaw("unstable", lam, None, slope)
    if lam.high < 0:
        alpha = None
        if tail or hasattr(law, "exact_tail_index"):
            alpha = tail_index(law, lr, seed=seed, **(tail_kw or {}))
        return EscapeLaw("stable", lam, alpha, alpha)
    return EscapeLaw("marginal", lam, None, None)


def simulate(rec: Recursion, n_paths: int = 1000, max_steps: int = 10_000, seed: int = 0,
             prediction: EscapeLaw | None = None, classify: bool = True) -> EscapeResult:
    """First exits of ``rec`` from ``rec.domain`` (a Ball or a Box), as an EscapeResult.

    Times are in iterations (``dt = 1``, ``t_max = max_steps``); a path still inside after
    ``max_steps`` is censored. ``meta["regime"]`` (and the Lyapunov exponent, tail index and
    predicted slope) come from ``prediction`` if given, else from :func:`escape_law` at ``rec.lr``
    (no tail index unless exact) when ``classify``; with a decaying schedule the regime is
    that of the initial ``lr``.
    """
    if not isinstance(rec, Recursion) or rec.domain is None:
        raise ValueError(f"rec must be a Recursion with a Ball or Box domain, got rec={rec!r}")
    out = run_recursion(rec, n_paths, max_steps, seed)
    meta = {"time_unit": "iterations"}
    if prediction is None and classify:
        prediction = escape_law(rec.law, rec.lr, tail=False, seed=seed)
    if prediction is not None:
        meta.update(prediction.describe())
    return EscapeResult(rec, out["times"].astype(float), out["exited"], out["axis"],
                        out["side"], out["points"], 1.0, float(max_steps), int(seed),
                        method="kesten", wall_time=out["wall_time"], meta=meta)


@dataclass
class StationarySamples:
    """Snapshots ``(n_records, n_paths, P)`` of independent paths after ``burn_in`` steps,
    every ``thin`` steps; ``averages`` the Polyak means (or None)."""

    recursion: Recursion
    iterates: np.ndarray
    averages: np.ndarray | None
    burn_in: int
    thin: int
    seed: int
    wall_time: float = 0.0
    meta: dict = field(default_factory=dict)

    def tail_estimates(self, groups: int = 10, level: float = 0.95) -> dict[str, Estimate]:
        """Hill and Mohammadi estimates with group CIs
        (:func:`levydyn.kesten.tail_estimates.grouped_tail_estimates`)."""
        from levydyn.kesten.tail_estimates import grouped_tail_estimates
        return grouped_tail_estimates(self.iterates, groups, level)


def sample_stationary(rec: Recursion, n_paths: int = 4096, n_records: int = 64,
                      burn_in: int = 1000, thin: int = 10, seed: int = 0,
                      polyak: bool = False) -> StationarySamples:
    """Stationary samples of ``rec`` (its domain is ignored): ``n_records`` snapshots per path.

    ``burn_in`` should be many relaxation times ``1/|lambda_1|`` (see
    :func:`levydyn.experiments.sgd_tails.simulate_sgd` for why about 15 suffice for the tail).
    """
    if not isinstance(rec, Recursion):
        raise ValueError(f"rec must be a Recursion, got rec={rec!r}")
    free = Recursion(rec.law, rec.lr, rec.schedule, None, rec.x0)
    n_records = check_count("n_records", n_records, 1)
    burn_in = check_count("burn_in", burn_in, 0)
    thin = check_count("thin", thin, 1)
    out = run_recursion(free, n_paths, burn_in + n_records * thin, seed, burn_in, thin,
                        n_records, polyak)
    return StationarySamples(free, out["iterates"], out["averages"], burn_in, thin,
                             int(seed), out["wall_time"])


def _wls_slope(x, y, se, level):
    w = 1.0 / np.asarray(se) ** 2
    X = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    beta = cov @ (X.T @ (w * y))
    z = float(stats.norm.ppf(0.5 + level / 2))
    h = z * math.sqrt(cov[1, 1])
    return beta[1], h


def escape_scaling(radii, results, regime: str, level: float = 0.95) -> Estimate:
    """Measured escape scaling over ``radii`` (one EscapeResult per radius).

    ``regime="unstable"``: slope of ``E tau_R`` against ``log R`` (predicted ``1/lambda_1``);
    ``"stable"``: slope of ``log E tau_R`` against ``log R`` (predicted ``alpha_K``).
    Weighted least squares with each mean's standard error (from its CI; censored
    results use the exponential MLE of :meth:`EscapeResult.mean_exit_time`); normal CI.
    """
    if regime not in ("unstable", "stable"):
        raise ValueError(f"regime must be unstable or stable, got regime={regime!r}")
    r = np.asarray(radii, dtype=float)
    if r.ndim != 1 or r.size < 2 or len(results) != r.size or not np.all(r > 0):
        raise ValueError(f"radii must be >= 2 positive numbers, one per result, got "
                         f"radii={np.asarray(radii).tolist()!r}")
    z = float(stats.norm.ppf(0.5 + level / 2))
    means = [res.mean_exit_time(level) for res in results]
    m = np.array([e.value for e in means])
    se = np.array([max(e.high - e.low, 1e-12) / (2 * z) for e in means])
    if regime == "unstable":
        b, h = _wls_slope(np.log(r), m, se, level)
        how = "WLS of E tau on log R"
    else:
        b, h = _wls_slope(np.log(r), np.log(m), se / m, level)
        how = "WLS of log E tau on log R"
    return Estimate(float(b), float(b - h), float(b + h), level, how)
