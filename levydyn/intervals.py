"""Point estimates with confidence intervals: the :class:`Estimate` every summary returns,
and the intervals of the elementary laws (binomial proportion, mean, exponential mean).

Censored samples are handled in :mod:`levydyn.censoring`, which builds on these.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from levydyn.model.validation import NONNEGATIVE, PROBABILITY_LEVEL, as_float, as_int

__all__ = ["Estimate", "exponential_mean", "mean_with_ci", "wilson", "wilson_bounds"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval ``[low, high]`` at ``level``,
    or a one-sided bound: ``method`` starting ``"bound: "``, ``high = inf`` and ``low`` the
    lower confidence bound (:func:`levydyn.censoring.censored_mean`)."""

    value: float
    low: float
    high: float
    level: float = 0.95
    method: str = ""

    def contains(self, x: float, slack: float = 0.0) -> bool:
        """``x`` inside ``[low - slack, high + slack]``."""
        return self.low - slack <= x <= self.high + slack

    @property
    def is_bound(self) -> bool:
        """A one-sided bound (``value`` is then itself a lower bound, not an estimate)."""
        return self.method.startswith("bound:")

    @property
    def half_width(self) -> float:
        return 0.5 * (self.high - self.low)

    def __str__(self) -> str:
        if self.is_bound:
            return f">= {self.low:.4g} (bound)"
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"


def _chi2_ppf(q, k):
    """Chi-square quantile (``scipy.stats.chi2.ppf``) from ``scipy.special`` directly:
    the same numbers without importing ``scipy.stats`` (0.3-1 s of start-up)."""
    return 2.0 * special.gammaincinv(np.asarray(k) / 2.0, q)


def _level(level) -> float:
    """A confidence level in (0, 1)."""
    return as_float("level", level, PROBABILITY_LEVEL)


def _z(level: float) -> float:
    return float(special.ndtri(0.5 + _level(level) / 2))


def wilson_bounds(p, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score bounds for proportions ``p`` observed in ``n`` trials (arrays allowed;
    ``n`` may be an effective, non-integer sample size, ``n > 0``).

    ``(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)`` with
    ``z = Phi^{-1}((1 + level)/2)``, the two-sided normal quantile (Wilson 1927, JASA 22,
    209; Brown, Cai & DasGupta 2001, Stat. Sci. 16, 101, eq. 4), clipped to [0, 1].
    """
    z = _z(level)
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


def wilson(k: int, n: int, level: float = 0.95) -> Estimate:
    """Binomial proportion ``k/n`` with the Wilson score interval (:func:`wilson_bounds`)."""
    level = _level(level)
    n = as_int("n", n, 0)
    k = as_int("k", k, 0, n)
    if n == 0:
        return Estimate(math.nan, 0.0, 1.0, level, "wilson (no trials)")
    lo, hi = wilson_bounds(k / n, n, level)
    return Estimate(k / n, float(lo), float(hi), level, "wilson")


def mean_with_ci(x, level: float = 0.95) -> Estimate:
    """Sample mean with a Student-t interval (CLT; needs finite variance)."""
    level = _level(level)
    x = np.asarray(x, dtype=float)
    n = x.size
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, level, "mean (empty)")
    m = float(x.mean())
    if n == 1:
        return Estimate(m, -math.inf, math.inf, level, "mean (n=1)")
    half = float(special.stdtrit(n - 1, 0.5 + level / 2) * x.std(ddof=1) / math.sqrt(n))
    return Estimate(m, m - half, m + half, level, "sample mean, t interval")


def exponential_mean(total_time: float, events: int, level: float = 0.95) -> Estimate:
    """Mean ``total_time / events`` of an exponential law from censored data, with the exact
    chi-square interval ``[2T / chi2_{1-a/2}(2k), 2T / chi2_{a/2}(2k)]`` (events Poisson
    given the time at risk)."""
    level = _level(level)
    total_time = as_float("total_time", total_time, NONNEGATIVE)
    events = as_int("events", events, 0)
    if events == 0:
        lo = 2 * total_time / _chi2_ppf(0.5 + level / 2, 2) if total_time > 0 else 0.0
        return Estimate(math.inf, lo, math.inf, level, "exponential MLE (no events)")
    a = 1 - level
    lo = 2 * total_time / _chi2_ppf(1 - a / 2, 2 * events)
    hi = 2 * total_time / _chi2_ppf(a / 2, 2 * events)
    return Estimate(total_time / events, float(lo), float(hi), level, "exponential MLE, chi2 interval")
