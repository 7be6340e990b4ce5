"""Theorem 1 (paper 000, eqs. 11-12; Imkeller & Pavlyukevich 2006): first exit from an interval.

Statement
---------
Let ``dX = -U'(X) dt + eps dL_t`` in 1-D, ``L`` a symmetric alpha-stable Levy process
(0 < alpha < 2) with Levy measure ``C |y|^(-1-alpha) dy``, and let the interval
``(m - d_minus, m + d_plus)`` contain the single attractor ``m`` of ``-U'`` (with
``U'`` pointing outward on it). Started near ``m``, as eps -> 0 the process leaves the
interval by one large jump from (near) ``m``; large jumps of ``eps L`` beyond
``d_plus`` (resp. ``-d_minus``) form a Poisson process of intensity
``eps^alpha C d_plus^(-alpha) / alpha`` (resp. ``... d_minus^(-alpha) / alpha``), so

    lambda = eps^alpha * C * (d_minus^(-alpha) + d_plus^(-alpha)) / alpha,
    P(sigma > t) -> exp(-lambda t),   E sigma ~ 1 / lambda,
    P(exit through +) -> d_plus^(-alpha) / (d_minus^(-alpha) + d_plus^(-alpha)).

Paper 000 writes this for a well ``(s_{i-1}, s_i)`` of a multi-well potential with
``C = 1`` (unit measure): ``q_i = sum_{j != i} q_ij`` with ``q_ij`` of eq. 11; in the
natural time the exit rate is ``eps^alpha q_i``, which is ``lambda`` above with
``d_minus = m_i - s_{i-1}`` and ``d_plus = s_i - m_i``. (Paper 000 prints the survival
statement with "<=", but the cited theorem is a limit with equality.) The limit law does
not depend on U beyond the attractor's position: the exit time is governed by the
*width*, not the height, of the well.

Conventions: ``measure="sas"`` (default) uses ``C = c_alpha`` (SaS(1) noise, as simulated
by levydyn); ``measure="unit"`` uses ``C = 1`` (the papers). An infinite ``d_minus`` or
``d_plus`` (a one-sided well) contributes nothing.
"""
from __future__ import annotations

import math

import numpy as np

from levydyn.theory._validate import (as_output, check_alpha, check_measure, check_positive,
                                      check_probability, check_side, check_times, check_widths)
from levydyn.theory.levy_measure import measure_constant


def _one_side(alpha: float, d: float) -> float:
    return 0.0 if math.isinf(d) else d ** (-alpha)


def side_rates(alpha: float, eps: float, d_minus: float, d_plus: float, *,
               measure: str = "sas") -> tuple[float, float]:
    """``(lambda_minus, lambda_plus) = eps^alpha C (d_minus^-alpha, d_plus^-alpha) / alpha``.

    Intensities of the large jumps that leave through the lower and the upper end.
    ``C = c_alpha`` for ``measure="sas"``, 1 for ``"unit"``. Source: paper 000, eq. 11.
    """
    check_measure(measure)
    a = check_alpha(alpha)
    e = check_positive(eps, "eps")
    dm, dp = check_widths(d_minus, d_plus)
    k = e ** a * measure_constant(a, measure=measure) / a
    return k * _one_side(a, dm), k * _one_side(a, dp)


def exit_rate(alpha: float, eps: float, d_minus: float, d_plus: float, *,
              measure: str = "sas") -> float:
    """``lambda = eps^alpha C (d_minus^-alpha + d_plus^-alpha) / alpha`` (paper 000, eqs. 11-12).

    ``C = c_alpha`` for ``measure="sas"`` (SaS(1) noise), 1 for ``"unit"``.
    """
    lm, lp = side_rates(alpha, eps, d_minus, d_plus, measure=measure)
    return lm + lp


def mean_exit_time(alpha: float, eps: float, d_minus: float, d_plus: float, *,
                   measure: str = "sas") -> float:
    """``E sigma ~ 1 / lambda = alpha / (eps^alpha C (d_minus^-alpha + d_plus^-alpha))``.

    Small-noise limit (paper 000, Thm 1); ``C`` per ``measure`` ("sas": c_alpha, "unit": 1).
    """
    rate = exit_rate(alpha, eps, d_minus, d_plus, measure=measure)
    return math.inf if rate == 0.0 else 1.0 / rate      # rate underflows (eps ~ 1e-320): E sigma overflows


def exit_time_quantile(p, alpha: float, eps: float, d_minus: float, d_plus: float, *,
                       measure: str = "sas"):
    """``-log(1 - p) / lambda``: quantile of the limiting exponential law (``measure`` as above)."""
    q = check_probability(p)
    out = -np.log1p(-q) / exit_rate(alpha, eps, d_minus, d_plus, measure=measure)
    return as_output(out)


def median_exit_time(alpha: float, eps: float, d_minus: float, d_plus: float, *,
                     measure: str = "sas") -> float:
    """``log(2) / lambda`` (``measure`` as in :func:`exit_rate`)."""
    return math.log(2.0) / exit_rate(alpha, eps, d_minus, d_plus, measure=measure)


def survival(t, alpha: float, eps: float, d_minus: float, d_plus: float, *, measure: str = "sas"):
    """``P(sigma > t) -> exp(-lambda t)`` (paper 000, Thm 1; ``measure`` as in :func:`exit_rate`)."""
    tt = check_times(t)
    out = np.exp(-exit_rate(alpha, eps, d_minus, d_plus, measure=measure) * tt)
    return as_output(out)


def side_probability(side: int, alpha: float, eps: float, d_minus: float, d_plus: float, *,
                     measure: str = "sas") -> float:
    """``P(exit through side)``: ``d_side^-alpha / (d_minus^-alpha + d_plus^-alpha)``.

    ``side=+1`` is the upper end ``m + d_plus``, ``-1`` the lower end. Independent of eps
    and of the convention (``C`` cancels); ``measure`` is accepted for uniformity.
    Source: paper 000, eq. 11 (``q_ij / q_i``).
    """
    s = check_side(side)
    side_rates(alpha, eps, d_minus, d_plus, measure=measure)           # validates the inputs
    lm, lp = side_rates(alpha, 1.0, d_minus, d_plus, measure=measure)  # eps cancels (and may underflow)
    return (lp if s == 1 else lm) / (lm + lp)


def eps_scaling_exponent(alpha: float, *, measure: str = "sas") -> float:
    """``d log E sigma / d log eps = -alpha`` (the mean exit time is ``O(eps^-alpha)``).

    Same in both conventions (``measure`` only changes the prefactor).
    """
    check_measure(measure)
    return -check_alpha(alpha)


__all__ = ["side_rates", "exit_rate", "mean_exit_time", "exit_time_quantile", "median_exit_time",
           "survival", "side_probability", "eps_scaling_exponent"]
