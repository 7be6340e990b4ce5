"""First-order small-noise corrections to the 1-D jump rates (levydyn's own expansion).

The theorems of paper 000 give the eps -> 0 limit: from the attractor ``m_i`` the
process jumps, lands at ``y``, and the landing basin decides the transition. At small
but finite eps a *second* large jump may occur while the path relaxes from ``y`` back to an
attractor; its probability is ``O(eps^alpha)``, the same order as the rates, so the rates
acquire a relative correction of order ``eps^alpha``. To first order (at most one extra
jump per transition, deterministic relaxation ``dx/dt = -U'(x)``):

* landing in the home basin ``B_i`` at ``y``: the path reaches ``B_l`` with the extra
  probability ``c_il(y) = int_{y -> m_i} [lambda_l(x) - lambda_l(m_i)] dx / |U'(x)|``
  (the base rate from ``m_i`` is already counted by the chain);
* landing in another basin ``B_k`` outside its core (milestoning, see
  :class:`levydyn.domains.WellPartition`): a jump before the core is reached re-routes the
  transition, ``c_kl(y) = int_{y -> core_k} lambda_l(x) dx / |U'(x)|``, and the relaxation
  time ``tau(y)`` is counted as time in ``B_i``;
* landing in an absorbing region (the outside of an exit interval): no correction,

where ``lambda_l(x) = (C eps^alpha / alpha) | |e_l - x|^-alpha - |e_{l+1} - x|^-alpha |`` is
the Levy mass of the jumps from ``x`` into ``B_l = (e_l, e_{l+1})``. Then

    q_ij^(1) = [q_ij + int nu_eps(y - m_i) F_ij(y) dy] / [1 + int nu_eps(y - m_i) tau(y) dy].

The integrand is singular at ``m_i`` (small jumps; the odd part cancels between y = m_i +- u)
and at saddles between basins (the path lingers; the landing on either side cancels to
leading order), so those neighbourhoods are integrated in folded form.

Quadratic wells reduce the correction to about ``alpha (alpha+1) C eps^alpha / (2 (2-alpha) h d^alpha)``
(the spread of the path around the minimum); flat saddles make it larger. This expansion is
not in the papers; :mod:`levydyn.verify` uses it as the stated bias of each comparison,
and it matches Euler simulations within their CIs (see ``tests/test_theory_small_noise.py``).
Conventions: ``measure="sas"`` (default, C = c_alpha) or ``"unit"`` (C = 1).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from scipy import integrate

from levydyn.theory._validate import check_alpha, check_measure, check_positive, check_widths
from levydyn.theory.levy_measure import measure_constant

_QUAD = {"epsabs": 0.0, "epsrel": 1e-7, "limit": 200}


def _quad(f, lo, hi) -> float:
    if hi <= lo:
        return 0.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        return integrate.quad(f, lo, hi, **_QUAD)[0]


class _Landscape:
    """Regions ``(e_r, e_{r+1})`` of the line, each a basin (attractor, core) or absorbing."""

    def __init__(self, grad, edges, attractors, cores, alpha, eps, measure):
        self.grad = grad
        self.e = np.concatenate([[-np.inf], np.asarray(edges, dtype=float), [np.inf]])
        self.att = list(attractors)
        self.core = list(cores)
        self.alpha = alpha
        self.k = measure_constant(alpha, measure) * eps ** alpha / alpha   # C eps^a / a
        self.nu_c = measure_constant(alpha, measure) * eps ** alpha        # density constant

    def region(self, y: float) -> int:
        return int(np.searchsorted(self.e, y, side="right") - 1)

    def nu(self, J: float) -> float:
        return self.nu_c * abs(J) ** (-1.0 - self.alpha)

    def lam(self, l: int, x: float) -> float:
        """Mass of jumps from x landing in region l (x outside region l)."""
        a = self.alpha
        lo, hi = self.e[l], self.e[l + 1]
        f = lambda e: 0.0 if math.isinf(e) else abs(e - x) ** (-a)  # noqa: E731
        return self.k * abs(f(lo) - f(hi))

    def speed(self, x: float) -> float:
        return abs(float(self.grad(x)))

    def c_home(self, i: int, l: int, y: float) -> float:
        m = self.att[i]
        base = self.lam(l, m)
        lo, hi = (y, m) if y < m else (m, y)
        return _quad(lambda x: (self.lam(l, x) - base) / self.speed(x), lo, hi)

    def core_edge(self, k: int, y: float) -> float | None:
        m, r = self.att[k], self.core[k]
        if abs(y - m) < r:
            return None
        return m - r if y < m else m + r

    def c_away(self, k: int, l: int, y: float) -> float:
        edge = self.core_edge(k, y)
        if edge is None:
            return 0.0
        lo, hi = (y, edge) if y < edge else (edge, y)
        return _quad(lambda x: self.lam(l, x) / self.speed(x), lo, hi)

    def tau(self, k: int, y: float) -> float:
        edge = self.core_edge(k, y)
        if edge is None:
            return 0.0
        lo, hi = (y, edge) if y < edge else (edge, y)
        return _quad(lambda x: 1.0 / self.speed(x), lo, hi)

    def density(self, i: int, j: int, y: float) -> float:
        """Contribution density (per unit y) to ``delta q_ij`` of landing at y from m_i."""
        k = self.region(y)
        if self.att[k] is None:
            return 0.0
        w = self.nu(y - self.att[i])
        if k == i:
            return w * self.c_home(i, j, y) if j != i else 0.0
        if j == k:
            return -w * sum(self.c_away(k, l, y) for l in range(len(self.att)) if l != k)
        if j != i:
            return w * self.c_away(k, j, y)
        return 0.0

    def time_density(self, i: int, y: float) -> float:
        k = self.region(y)
        if self.att[k] is None or k == i:
            return 0.0
        return self.nu(y - self.att[i]) * self.tau(k, y)

    def integrate_line(self, f: Callable[[float], float], i: int) -> float:
        """``int f(y) dy`` over the line, folded around m_i and around basin-basin edges."""
        special = [self.att[i]]
        for r in range(1, len(self.e) - 1):
            if self.att[r - 1] is not None and self.att[r] is not None:
                special.append(float(self.e[r]))
        finite_edges = [float(v) for v in self.e[1:-1]]
        pts = sorted(set(special) | set(finite_edges) | {a for a in self.att if a is not None})
        total = 0.0
        covered = []
        for p in special:
            others = [abs(q - p) for q in pts if q != p]
            w = 0.5 * min(others) if others else 1.0
            total += _quad(lambda v: f(p - v) + f(p + v), 0.0, w)
            covered.append((p - w, p + w))
        covered.sort()
        gaps, lo = [], -np.inf
        for a, b in covered:
            gaps.append((lo, a))
            lo = b
        gaps.append((lo, np.inf))
        for a, b in gaps:
            inner = [q for q in finite_edges if a < q < b]
            cuts = [a, *inner, b]
            for u, v in zip(cuts[:-1], cuts[1:]):
                total += _quad(f, u, v)
        return total

    def corrected_rates(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(base, first_order)`` rates from region i to every region."""
        n = len(self.att)
        base = np.array([self.lam(j, self.att[i]) if j != i else 0.0 for j in range(n)])
        delta = np.array([self.integrate_line(lambda y, j=j: self.density(i, j, y), i) if j != i else 0.0
                          for j in range(n)])
        extra_time = self.integrate_line(lambda y: self.time_density(i, y), i)
        return base, (base + delta) / (1.0 + extra_time)


def interval_rates(alpha: float, eps: float, d_minus: float, d_plus: float,
                   grad: Callable[[float], float] | None = None, curvature: float = 1.0,
                   measure: str = "sas") -> dict:
    """Exit rates of ``(m - d_minus, m + d_plus)`` (m = 0) in the limit and to first order.

    ``grad`` is ``U'(x)`` with its attractor at 0 (default ``curvature * x``). Returns
    ``{"rate", "rate_1", "side_plus", "side_plus_1", "relative"}``: limit and first-order
    total rate, limit and first-order ``P(exit through +)``, and ``rate_1 / rate - 1``.
    ``measure``: "sas" (C = c_alpha) or "unit" (C = 1).
    """
    check_measure(measure)
    a = check_alpha(alpha)
    e = check_positive(eps, "eps")
    dm, dp = check_widths(d_minus, d_plus)
    if math.isinf(dm) or math.isinf(dp):
        raise ValueError("interval_rates needs finite d_minus and d_plus")
    h = check_positive(curvature, "curvature")
    g = grad if grad is not None else (lambda x: h * x)
    land = _Landscape(g, [-dm, dp], [None, 0.0, None], [0.0, 0.0, 0.0], a, e, measure)
    base, first = land.corrected_rates(1)
    return {"rate": float(base.sum()), "rate_1": float(first.sum()),
            "side_plus": float(base[2] / base.sum()), "side_plus_1": float(first[2] / first.sum()),
            "relative": float(first.sum() / base.sum() - 1.0)}


def well_generator(grad: Callable[[float], float], minima: Sequence[float], maxima: Sequence[float],
                   alpha: float, eps: float, core: float = 0.5,
                   measure: str = "sas") -> tuple[np.ndarray, np.ndarray]:
    """``(Q, Q_1)``: the limiting generator (paper 000, eq. 13, natural time) and its first-order
    correction for a 1-D multi-well ``U'`` with milestoning cores of radius
    ``core * min(distances to the neighbouring maxima)`` (as :class:`levydyn.domains.WellPartition`).
    ``measure``: "sas" (C = c_alpha) or "unit" (C = 1).
    """
    check_measure(measure)
    a = check_alpha(alpha)
    e = check_positive(eps, "eps")
    m = np.asarray(minima, dtype=float)
    s = np.asarray(maxima, dtype=float)
    left = np.concatenate([[np.inf], m[1:] - s])
    right = np.concatenate([s - m[:-1], [np.inf]])
    radii = core * np.minimum(left, right)
    land = _Landscape(grad, s, list(m), list(radii), a, e, measure)
    n = m.size
    Q, Q1 = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        Q[i], Q1[i] = land.corrected_rates(i)
        Q[i, i], Q1[i, i] = -Q[i].sum(), -Q1[i].sum()
    return Q, Q1


__all__ = ["interval_rates", "well_generator"]
