"""Right-censored exit times: Kaplan-Meier survival, restricted mean, and the censored mean.

A path that has not exited by its horizon (``t_max``, or the time it diverged) is censored
there; it is never dropped. With censoring the mean exit time is *not identified* by the
data: only ``P(tau > t)`` for ``t`` up to the horizon is. The mean then comes from a model
of the tail, and a model is used only when the sample's own exits support it.

The rule of :func:`censored_mean` (also :meth:`levydyn.results.EscapeResult.mean_exit_time`):

1. No censoring: the sample mean with a Student-t interval.
2. Censoring, and the exponential law fits the sample (at least ``min_exits`` exits and the
   likelihood-ratio test of :func:`exponential_tail_test` does not reject at ``gof_level``):
   the exponential maximum-likelihood mean ``T / d`` (``T`` total time at risk, ``d``
   exits) with its exact chi-square interval (:func:`levydyn.intervals.exponential_mean`).
3. Otherwise a *bound*: ``E tau >= E min(tau, h) = int_0^h S(t) dt`` (the restricted mean
   up to the horizon ``h``, the area under the Kaplan-Meier curve), reported as
   ``Estimate(value=restricted mean, low=one-sided lower confidence bound, high=inf)``
   with ``method`` starting ``"bound: "`` and saying why no mean was extrapolated.

Why a test and not always the exponential MLE: on a law with a delay (gamma, shifted
exponential: increasing hazard) the exits seen before ``h`` under-represent the later
hazard and ``T / d`` overshoots (issue 28: 1.4-4.7x on real networks, CIs excluding the
true mean); on a heavy tail (Pareto: decreasing hazard) it undershoots. The Weibull family
contains the exponential (shape 1) and both departures (shape > 1, < 1), so its LR test
has power against exactly the errors that matter for extrapolation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from levydyn.intervals import Estimate, _level, exponential_mean, mean_with_ci
from levydyn.model.validation import PROBABILITY_LEVEL, as_float, as_int, reject

__all__ = ["KaplanMeier", "censored_mean", "exponential_tail_test", "kaplan_meier",
           "restricted_mean", "weibull_shape", "weibull_cv", "GOF_LEVEL", "MIN_EXITS"]

#: Significance level of the exponential-tail test below which a censored mean is a bound.
GOF_LEVEL = 0.05
#: Fewest exits with which the exponential tail is tested at all (below: a bound). With
#: 20 exits the Weibull LR test at 5 % rejects a gamma(3) delay at ~80 % censoring in
#: most samples (tests/test_censoring.py measures it); with fewer it is mostly blind.
MIN_EXITS = 20


def _sample(times, exited) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float).ravel()
    e = np.asarray(exited).ravel()
    if e.shape != t.shape:
        raise reject("exited", f"have one entry per time ({t.size})", e.shape)
    if e.dtype != bool:
        raise reject("exited", "be booleans", e[:3])
    if not np.all(np.isfinite(t) & (t >= 0)):
        raise reject("times", "be finite and non-negative", t[~(np.isfinite(t) & (t >= 0))][:3])
    return t, e


@dataclass(frozen=True)
class KaplanMeier:
    """Product-limit estimate ``S(t) = prod_{t_j <= t} (1 - d_j / n_j)`` (Kaplan & Meier
    1958, JASA 53, 457): ``t_j`` the distinct exit times, ``d_j`` exits at ``t_j``, ``n_j``
    paths at risk just before ``t_j`` (a path censored at ``t_j`` is still at risk there).
    Greenwood's variance ``Var S(t) = S(t)^2 sum_{t_j <= t} d_j / (n_j (n_j - d_j))``.
    """

    times: np.ndarray      # distinct exit times t_j, increasing
    at_risk: np.ndarray    # n_j
    exits: np.ndarray      # d_j
    survival: np.ndarray   # S(t_j)
    n: int
    horizon: float         # largest observed time (exit or censoring)

    def __call__(self, t) -> np.ndarray:
        """``S(t)`` (right-continuous: an exit at ``t`` counts as not surviving ``t``)."""
        j = np.searchsorted(self.times, np.asarray(t, dtype=float), side="right")
        return np.concatenate(([1.0], self.survival))[j]

    def greenwood(self, t) -> np.ndarray:
        """Greenwood's ``Var S(t)``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(self.at_risk > self.exits,
                             self.exits / (self.at_risk * (self.at_risk - self.exits)), 0.0)
        j = np.searchsorted(self.times, np.asarray(t, dtype=float), side="right")
        return self(t) ** 2 * np.concatenate(([0.0], np.cumsum(terms)))[j]

    def area(self, horizon: float) -> tuple[float, float]:
        """Restricted mean ``mu_h = int_0^h S(t) dt`` and its variance
        ``sum_{t_j <= h} A_j^2 d_j / (n_j (n_j - d_j))``, ``A_j = int_{t_j}^h S(t) dt``
        (Klein & Moeschberger 2003, *Survival Analysis*, Sec. 4.5)."""
        keep = self.times <= horizon
        tj, sj = self.times[keep], self.survival[keep]
        knots = np.concatenate(([0.0], tj, [horizon]))
        heights = np.concatenate(([1.0], sj))           # S on [knots[i], knots[i+1])
        pieces = heights * np.diff(knots)
        mu = float(pieces.sum())
        tail = np.cumsum(pieces[::-1])[::-1][1:]         # A_j = area from t_j to h
        n_j, d_j = self.at_risk[keep], self.exits[keep]
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(n_j > d_j, d_j / (n_j * (n_j - d_j)), 0.0)
        return mu, float(np.sum(tail ** 2 * w))


def kaplan_meier(times, exited) -> KaplanMeier:
    """The :class:`KaplanMeier` curve of exit ``times`` (``exited[i]`` False: censored)."""
    t, e = _sample(times, exited)
    tj, d = np.unique(t[e], return_counts=True)
    srt = np.sort(t)
    n_j = t.size - np.searchsorted(srt, tj, side="left")
    s = np.cumprod(1.0 - d / n_j) if tj.size else np.zeros(0)
    return KaplanMeier(tj, n_j, d, s, int(t.size), float(t.max()) if t.size else 0.0)


def _horizon(km: KaplanMeier, horizon) -> float:
    """The restriction ``h`` of a restricted mean: ``horizon`` (default: the largest time),
    which must lie in ``[0, largest observed time]`` (beyond it S is not identified)."""
    if horizon is None:
        return km.horizon
    h = as_float("horizon", horizon)
    if not 0 <= h <= km.horizon:
        raise reject("horizon", f"lie in [0, {km.horizon:g}] (the largest observed time)", h)
    return h


def restricted_mean(times, exited, horizon: float | None = None, level: float = 0.95) -> Estimate:
    """Restricted mean ``E min(tau, h) = int_0^h S(t) dt`` from the Kaplan-Meier curve with
    a normal interval (:meth:`KaplanMeier.area`); ``h`` defaults to the largest time.

    It is identified for ``h`` up to the horizon of the data, and it is a lower bound of
    ``E tau`` for every ``h``.
    """
    level = _level(level)
    km = kaplan_meier(times, exited)
    h = _horizon(km, horizon)
    mu, var = km.area(h)
    half = float(special.ndtri(0.5 + level / 2)) * math.sqrt(var)
    return Estimate(mu, mu - half, mu + half, level, f"restricted mean up to {h:g}, Kaplan-Meier area")


def _weibull_profile(log_k: float, t: np.ndarray, slog: float, d: int) -> float:
    """Profile log-likelihood of a right-censored Weibull sample over the scale:
    ``d log k + (k - 1) sum_exits log t - d log(sum_all t^k / d) - d``."""
    k = math.exp(log_k)
    return d * log_k + (k - 1.0) * slog - d * math.log(np.sum(t ** k) / d) - d


def exponential_tail_test(times, exited) -> tuple[float, float, float]:
    """Likelihood-ratio test of the exponential law (constant hazard) against the Weibull
    law ``S(t) = exp(-(t/lam)^k)`` on a right-censored sample.

    ``LR = 2 (max_k l(k) - l(1))`` with ``l`` the scale-profiled log-likelihood
    (:func:`_weibull_profile`); under the exponential ``LR ~ chi^2_1`` asymptotically
    (Lawless 2003, *Statistical Models and Methods for Lifetime Data*, Sec. 5.1 and 6.4).
    ``k > 1``: increasing hazard (a delay: gamma, shifted exponential); ``k < 1``:
    decreasing hazard (Pareto, mixtures). Returns ``(LR, p_value, k_hat)``; with no exit,
    or an exit at time 0, the test cannot run: ``(nan, nan, nan)``.
    """
    t, e = _sample(times, exited)
    d = int(e.sum())
    if d == 0 or np.any(t[e] <= 0):
        return math.nan, math.nan, math.nan
    t = t / t.max()                         # LR is scale invariant; keeps t^k finite
    slog = float(np.log(t[e]).sum())
    res = optimize.minimize_scalar(lambda lk: -_weibull_profile(lk, t, slog, d),
                                   bounds=(-6.0, 6.0), method="bounded",
                                   options={"xatol": 1e-7})
    lr = max(0.0, 2.0 * (-res.fun - _weibull_profile(0.0, t, slog, d)))
    return lr, float(special.chdtrc(1, lr)), math.exp(res.x)


def weibull_shape(times, exited, level: float = 0.95) -> Estimate:
    """Weibull shape ``k`` of a right-censored sample (``S(t) = exp(-(t/lam)^k)``), with its
    profile-likelihood interval ``{k : 2 (l(k_hat) - l(k)) <= chi^2_1(level)}`` (Lawless
    2003, Sec. 5.1; ``l`` profiled over the scale, :func:`_weibull_profile`).

    What it says about an escape: ``k = 1`` is a memoryless exit (constant hazard: the
    exponential law of a rare event, Kramers or Levy; paper 000 Thm 1), ``k >> 1`` exits
    concentrated around their mean (coefficient of variation :func:`weibull_cv`, e.g.
    0.16 at ``k = 7.5``: a transport over a fixed distance, not a rare event), ``k < 1``
    a decreasing hazard (mixtures, heavy tails). Searched over ``log k`` in ``[-6, 6]``; an
    end of the interval outside it is reported as 0 or inf. With no exit, or an exit at
    time 0: ``nan``.
    """
    level = _level(level)
    t, e = _sample(times, exited)
    d = int(e.sum())
    if d == 0 or np.any(t[e] <= 0):
        return Estimate(math.nan, math.nan, math.nan, level, "Weibull shape (no exit)")
    t = t / t.max()                         # the shape is scale invariant
    slog = float(np.log(t[e]).sum())
    prof = lambda lk: _weibull_profile(lk, t, slog, d)
    res = optimize.minimize_scalar(lambda lk: -prof(lk), bounds=(-6.0, 6.0), method="bounded",
                                   options={"xatol": 1e-9})
    top, cut = -res.fun, 0.5 * float(special.chdtri(1, 1.0 - level))
    gap = lambda lk: top - prof(lk) - cut

    def end(edge: float) -> float:
        if gap(edge) <= 0:
            return 0.0 if edge < 0 else math.inf
        return math.exp(optimize.brentq(gap, min(res.x, edge), max(res.x, edge), xtol=1e-10))

    return Estimate(math.exp(res.x), end(-6.0), end(6.0), level,
                    f"Weibull shape, profile-likelihood interval ({d} exits of {t.size})")


def weibull_cv(k: float) -> float:
    """Coefficient of variation of a Weibull law of shape ``k``:
    ``sqrt(Gamma(1 + 2/k) / Gamma(1 + 1/k)^2 - 1)`` (1 at ``k = 1``; 0 as ``k -> inf``)."""
    k = float(k)
    if not k > 0:
        return math.nan
    if math.isinf(k):
        return 0.0
    return math.sqrt(math.exp(special.gammaln(1 + 2 / k) - 2 * special.gammaln(1 + 1 / k)) - 1)


def censored_mean(times, exited, level: float = 0.95, *, horizon: float | None = None,
                  gof_level: float = GOF_LEVEL, min_exits: int = MIN_EXITS) -> Estimate:
    """Mean exit time from a right-censored sample, extrapolated only where the sample
    supports it (the rule in this module's docstring).

    Parameters
    ----------
    times, exited : exit or censoring times, and False where censored.
    level : confidence level of the interval (two-sided) or bound (one-sided).
    horizon : the bound's restriction ``h`` (default: the largest time, i.e. ``t_max``).
    gof_level, min_exits : the exponential tail is used when at least ``min_exits`` exits
        were seen and :func:`exponential_tail_test` gives ``p >= gof_level``.

    Returns
    -------
    Estimate : ``method`` is ``"sample mean, t interval"``, ``"exponential MLE, chi2
    interval (...)"`` or ``"bound: ..."``. A bound has ``value = mu_h`` (the restricted
    mean, itself a lower bound of ``E tau``), ``high = inf`` and the one-sided lower
    confidence limit ``low = h - D exp(z_level se / D)``, ``D = h - mu_h`` the area above
    the Kaplan-Meier curve: a normal bound on ``log D`` (delta method), which keeps its
    level when few paths exit, where the plain ``mu_h - z se`` does not (gamma(3) at 88 %
    censoring, n = 256: 0.95 vs 0.91; tests/test_censoring.py). Since ``mu_h <= E tau``,
    ``P(E tau >= low) >= level`` asymptotically.
    """
    level = _level(level)
    gof_level = as_float("gof_level", gof_level, PROBABILITY_LEVEL)
    min_exits = as_int("min_exits", min_exits, 1)
    t, e = _sample(times, exited)
    n, d = t.size, int(e.sum())
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, level, "mean (empty)")
    if d == n:
        return mean_with_ci(t, level)
    if d < min_exits:
        why = f"{d} exits < {min_exits}, too few to test an exponential tail"
    else:
        lr, p, k = exponential_tail_test(t, e)
        if p >= gof_level:
            est = exponential_mean(float(t.sum()), d, level)
            return Estimate(est.value, est.low, est.high, level,
                            f"exponential MLE, chi2 interval (exponential tail not rejected: "
                            f"Weibull LR p={p:.3g}, {d} exits)")
        why = f"exponential tail rejected: Weibull LR p={p:.3g}, shape {k:.3g}, {d} exits"
    km = kaplan_meier(t, e)
    h = _horizon(km, horizon)
    mu, var = km.area(h)
    deficit = h - mu                                   # int_0^h (1 - S) dt >= 0
    spread = float(special.ndtri(level)) * math.sqrt(var) / deficit if deficit > 0 else 0.0
    low = h - deficit * math.exp(spread)
    return Estimate(mu, low, math.inf, level,
                    f"bound: mean >= restricted mean up to {h:g} (Kaplan-Meier area); {why}")
