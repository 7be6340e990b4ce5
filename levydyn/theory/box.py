"""Exit from an N-dimensional box with per-coordinate tail indices (paper 004, constant schedule).

Statement
---------
``dX^l = -d_l U(X) dt + eps_l dL^l``, l = 1..N, with independent symmetric
``alpha_l``-stable ``L^l`` (Levy measure ``C_l |y|^(-1-alpha_l) dy``), and the box
``prod_l (x*_l - d-_l, x*_l + d+_l)`` around the attractor ``x*`` of ``-grad U``
(positively invariant under the flow). Jumps of different coordinates never coincide, and
for small eps the process leaves the box by one large jump of one coordinate from (near)
``x*``. The jumps of coordinate l that leave through its upper (lower) face arrive at rate

    lambda_l^+ = eps_l^alpha_l C_l (d+_l)^(-alpha_l) / alpha_l    (lambda_l^- likewise),

so (independent Poisson processes, first arrival)

    lambda = sum_l (lambda_l^- + lambda_l^+),  P(sigma > t) -> exp(-lambda t),
    P(exit through axis l, side +) -> lambda_l^+ / lambda.

This is the constant-schedule (s = 1) case of paper 004, Sec. 3.2 (eqs. 12-13: large-jump
intensity times the probability that a large jump leaves) and Thm 4.3; the ratio of two
axes (their Corollary 4.4) is exactly

    P(axis l, +) / P(axis j, +) = [C_l eps_l^alpha_l (d+_l)^-alpha_l / alpha_l]
                                  / [C_j eps_j^alpha_j (d+_j)^-alpha_j / alpha_j],

which for a common eps scales as ``eps^(alpha_l - alpha_j)``: the heavier-tailed axis
carries the escape. :func:`paper_axis_ratio_bound` evaluates the paper's eq. 20 itself.

Conventions: ``measure="sas"`` (default) uses ``C_l = c_{alpha_l}`` (SaS(1) noise, as
simulated); ``"unit"`` uses ``C_l = 1`` (the papers). With different alpha_l the
conventions differ by more than a common factor, so axis probabilities depend on it.
All per-axis arguments broadcast (a scalar applies to every axis).
"""
from __future__ import annotations

import numpy as np

from levydyn.theory._validate import (as_output, box_arrays, check_measure, check_probability,
                                      check_rho, check_side, check_times)
from levydyn.theory.levy_measure import measure_constants


def side_rates(alpha, eps, d_minus, d_plus, *, measure: str = "sas") -> np.ndarray:
    """``(N, 2)`` array of ``[lambda_l^-, lambda_l^+]``, ``eps_l^a_l C_l d_l^(-a_l) / a_l``.

    ``C_l = c_{alpha_l}`` for ``measure="sas"``, 1 for ``"unit"``. Source: paper 004, eqs. 12-13.
    """
    check_measure(measure)
    a, e, dm, dp = box_arrays(alpha, eps, d_minus, d_plus)
    C = measure_constants(a, measure)
    k = e ** a * C / a
    with np.errstate(divide="ignore"):
        return np.stack([k * dm ** (-a), k * dp ** (-a)], axis=1)  # inf ** (-a) = 0


def axis_rates(alpha, eps, d_minus, d_plus, *, measure: str = "sas") -> np.ndarray:
    """``lambda_l = eps_l^a_l C_l ((d-_l)^-a_l + (d+_l)^-a_l) / a_l`` per axis (``measure`` as above)."""
    return side_rates(alpha, eps, d_minus, d_plus, measure=measure).sum(axis=1)


def total_rate(alpha, eps, d_minus, d_plus, *, measure: str = "sas") -> float:
    """``lambda = sum_l lambda_l``: the small-noise exit rate of the box (``measure`` as above)."""
    return float(axis_rates(alpha, eps, d_minus, d_plus, measure=measure).sum())


def mean_exit_time(alpha, eps, d_minus, d_plus, *, measure: str = "sas") -> float:
    """``E sigma ~ 1 / lambda`` (small-noise limit; ``measure`` as in :func:`side_rates`)."""
    rate = total_rate(alpha, eps, d_minus, d_plus, measure=measure)
    return np.inf if rate == 0.0 else 1.0 / rate        # rate underflows: E sigma overflows


def survival(t, alpha, eps, d_minus, d_plus, *, measure: str = "sas"):
    """``P(sigma > t) -> exp(-lambda t)`` (``measure`` as in :func:`side_rates`)."""
    tt = check_times(t)
    out = np.exp(-total_rate(alpha, eps, d_minus, d_plus, measure=measure) * tt)
    return as_output(out)


def exit_time_quantile(p, alpha, eps, d_minus, d_plus, *, measure: str = "sas"):
    """``-log(1 - p) / lambda`` (``measure`` as in :func:`side_rates`)."""
    q = check_probability(p)
    out = -np.log1p(-q) / total_rate(alpha, eps, d_minus, d_plus, measure=measure)
    return as_output(out)


def exit_side_probabilities(alpha, eps, d_minus, d_plus, *, measure: str = "sas") -> np.ndarray:
    """``(N, 2)`` array ``P(exit through axis l, side -/+) = lambda_l^-/+ / lambda``.

    Paper 004, Thm 4.3 at s = 1 (exact small-noise limit). Depends on ``measure`` when
    the alpha_l differ (``c_alpha`` does not cancel).
    """
    r = side_rates(alpha, eps, d_minus, d_plus, measure=measure)
    return r / r.sum()


def exit_axis_probabilities(alpha, eps, d_minus, d_plus, *, measure: str = "sas") -> np.ndarray:
    """``P(exit through axis l) = lambda_l / lambda`` (``measure`` as in :func:`side_rates`)."""
    return exit_side_probabilities(alpha, eps, d_minus, d_plus, measure=measure).sum(axis=1)


def _axis_index(name: str, value, n: int) -> int:
    if not (isinstance(value, (int, np.integer)) and 0 <= int(value) < n):
        raise ValueError(f"{name} must be an axis index in [0, {n}), got {name}={value!r}")
    return int(value)


def axis_ratio(l: int, j: int, alpha, eps, d_minus, d_plus, *, side: int = 1,
               measure: str = "sas") -> float:
    """Exact small-noise ``P(axis l, side) / P(axis j, side)`` (paper 004, Cor. 4.4, s = 1).

    ``= [C_l eps_l^a_l d_l^-a_l / a_l] / [C_j eps_j^a_j d_j^-a_j / a_j]`` with ``d`` the
    distance to the face on ``side``; ``C`` per ``measure``.
    """
    s = check_side(side)
    r = side_rates(alpha, eps, d_minus, d_plus, measure=measure)
    n = r.shape[0]
    li, ji = _axis_index("l", l, n), _axis_index("j", j, n)
    col = 1 if s == 1 else 0
    return float(r[li, col] / r[ji, col])


def paper_axis_ratio_bound(l: int, j: int, alpha, eps, d_minus, d_plus, *, rho: float,
                           side: int = 1, measure: str = "unit") -> float:
    """Paper 004, eq. 20, evaluated literally: the stated upper bound on the axis ratio.

    ``(1^T lambda_l)^a_l / (1^T lambda_j)^a_j * eps^((a_l - a_j)(1 - rho)) * d_l^-a_l / d_j^-a_j``
    with the noise-covariance row sums ``1^T lambda = 1`` (levydyn puts the noise scale in
    ``eps_l``), ``eps^(a (1 - rho))`` read per axis as ``eps_l^(a_l (1 - rho))`` (equal to
    the paper's when the eps_l agree) and ``rho`` in (0, 1) the paper's large-jump
    threshold exponent. ``measure="unit"`` is the paper's statement; ``"sas"`` multiplies
    by ``c_{a_l} / c_{a_j}``.

    Compared with :func:`axis_ratio` the expression lacks the factor ``a_j / a_l`` and has
    exponent ``(1 - rho)`` instead of 1, so for ``a_l < a_j`` and eps < 1 the exact ratio
    exceeds this "upper bound" (the bound fails).
    """
    check_measure(measure)
    check_side(side)
    a, e, dm, dp = box_arrays(alpha, eps, d_minus, d_plus)
    r = check_rho(rho)
    n = a.size
    li, ji = _axis_index("l", l, n), _axis_index("j", j, n)
    d = dp if side == 1 else dm
    C = measure_constants(a, measure)
    num = C[li] * e[li] ** (a[li] * (1 - r)) * d[li] ** (-a[li])
    den = C[ji] * e[ji] ** (a[ji] * (1 - r)) * d[ji] ** (-a[ji])
    return float(num / den)


__all__ = ["side_rates", "axis_rates", "total_rate", "mean_exit_time", "survival",
           "exit_time_quantile", "exit_side_probabilities", "exit_axis_probabilities",
           "axis_ratio", "paper_axis_ratio_bound"]
