"""How long a cell runs: each escape sample is extended until its mean escape is measured.

Rule (issue 28, one place). A mean escape time is **measured** when its estimate
(:meth:`levydyn.results.EscapeResult.mean_exit_time`, i.e. :func:`levydyn.censoring.censored_mean`)
is a number -- the sample mean when every path left, or the exponential MLE when the
sample's own exits support an exponential tail -- and its relative CI half-width
``(high - low) / (2 mean)`` is at most ``precision`` (0.25). A Kaplan-Meier restricted mean
(``Estimate.is_bound``) is a lower bound, never a measurement.

A run that is not measured at horizon ``h`` is run again at ``GROWTH * h``, up to the cap
``long_max_iter``: :func:`horizons` lists them. Every replica draws from its own stream
(``replica_rng(seed, i)``; kesten and levydyn paths likewise), so the longer run contains the
shorter one path by path: the escapes it already saw are the same, and only censored paths
gain. Each horizon's run is stored under its own key, so a rerun resumes. What is still not
measured at the cap is estimated by splitting where the study asks for it, else reported as a
bound with its reason (:func:`verdict_of`).
"""
from __future__ import annotations

import math
from typing import Callable

from levydyn.results import Estimate

__all__ = ["PRECISION", "GROWTH", "horizons", "relative_half_width", "is_measured",
           "run_to_precision", "why_not_measured"]

#: Largest relative CI half-width of a measured mean (issue 28: "<= 25 %").
PRECISION = 0.25
#: Each longer horizon is this many times the previous one.
GROWTH = 10


def horizons(start: int, cap: int, growth: int = GROWTH) -> tuple[int, ...]:
    """``start, growth*start, ...`` below ``cap``, then ``cap`` (just ``start`` if
    ``cap <= start``)."""
    start, cap = int(start), int(cap)
    out = [start]
    while out[-1] < cap:
        out.append(min(out[-1] * growth, cap))
    return tuple(out)


def relative_half_width(e: Estimate) -> float:
    """``(high - low) / (2 value)``; inf for a bound or a non-positive / non-finite mean."""
    if e.is_bound or not (math.isfinite(e.value) and e.value > 0):
        return math.inf
    if not (math.isfinite(e.low) and math.isfinite(e.high)):
        return math.inf
    return (e.high - e.low) / (2.0 * e.value)


def is_measured(e: Estimate, precision: float = PRECISION) -> bool:
    """The module's rule: a number (no bound) with relative half-width <= ``precision``."""
    return relative_half_width(e) <= precision


def why_not_measured(e: Estimate, precision: float = PRECISION) -> str | None:
    """None for a measured mean, else one line saying why it is not one."""
    if is_measured(e, precision):
        return None
    if e.is_bound:
        return f"a lower bound only ({e.method})"
    w = relative_half_width(e)
    if not math.isfinite(w):
        return f"no finite mean ({e.method})"
    return f"relative CI half-width {w:.2f} > {precision:g}"


def run_to_precision(run_at: Callable[[int], object], start: int, cap: int,
                     precision: float = PRECISION, growth: int = GROWTH,
                     mean: Callable[[object], Estimate] = lambda e: e.mean_iterations(),
                     complete: Callable[[object], bool] = lambda e: bool(e.dist_exited.all())):
    """``run_at(h)`` for the :func:`horizons` from ``start`` to ``cap`` until ``mean`` of the
    result is measured (:func:`is_measured`) or ``complete`` (every path left: a longer
    horizon cannot narrow the CI, only more paths can). ``run_at`` may return None (a stored
    piece that is not there yet, read-only runs): the search stops and keeps the last result.
    Returns ``(result, horizon)``, ``(None, start)`` when the first is missing."""
    last, h_last = None, int(start)
    for h in horizons(start, cap, growth):
        res = run_at(h)
        if res is None:
            break
        last, h_last = res, h
        if is_measured(mean(res), precision) or complete(res):
            break
    return last, h_last
