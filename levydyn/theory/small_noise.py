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
  :class:`levydyn.model.domains.WellPartition`): a jump before the core is reached re-routes the
  transition, ``c_kl(y) = int_{y -> core_k} lambda_l(x) dx / |U'(x)|``, and the relaxation
  time ``tau(y)`` is counted as time in ``B_i``;
* landing in an absorbing region (the outside of an exit interval): no correction,

where ``lambda_l(x) = (C eps^alpha / alpha) | |e_l - x|^-alpha - |e_{l+1} - x|^-alpha |`` is
the Levy mass of the jumps from ``x`` into ``B_l = (e_l, e_{l+1})``. Then

    q_ij^(1) = [q_ij + int nu_eps(y - m_i) F_ij(y) dy] / [1 + int nu_eps(y - m_i) tau(y) dy].

Evaluation. Each ``F`` is an integral along the relaxation path, so the correction is a
double integral ``int dy nu_eps(y - m_i) int_{path from y} h(x) dx``. Swapping the order
(Fubini), a point x is passed by every landing point beyond it, whose Levy mass is closed
form, ``(C eps^alpha / alpha) | |x - m_i|^-alpha - |edge - m_i|^-alpha |``; what remains is one
quadrature in x per rate (tens of milliseconds; the nested form took seconds per rate). The
x-integrand is singular at ``m_i`` (small jumps; the odd part cancels between x = m_i +- u)
and at saddles between basins (the path lingers; the two sides cancel to leading order),
so those neighbourhoods are integrated in folded form, with distances to the fold centre
kept exact and differences of ``|.|^-alpha`` taken through ``expm1``/``log1p``.

Quadratic wells reduce the correction to about ``alpha (alpha+1) C eps^alpha / (2 (2-alpha) h d^alpha)``
(the spread of the path around the minimum); flat saddles make it larger. This expansion is
not in the papers; :mod:`levydyn.experiments.verify` uses it as the stated bias of each comparison,
and it matches Euler simulations within their CIs (see ``tests/test_theory_small_noise.py``).
Conventions: ``measure="sas"`` (default, C = c_alpha) or ``"unit"`` (C = 1).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy import integrate

from levydyn.theory._validate import check_alpha, check_measure, check_positive, check_widths
from levydyn.theory.levy_measure import measure_constant

_QUAD = {"epsabs": 0.0, "epsrel": 1e-10, "limit": 200}


def _quad(f, lo, hi) -> float:
    if hi <= lo:
        return 0.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        return integrate.quad(f, lo, hi, **_QUAD)[0]


class _Landscape:
    """Regions ``(e_r, e_{r+1})`` of the line, each a basin (attractor, core) or absorbing.

    A point is passed as ``(p, v)``, the point ``x = p + v`` whose offset ``v`` from ``p``
    is exact: the folded integrals put ``p`` at an attractor or a saddle, where the
    integrands are singular in ``|x - p|``, and every distance to ``p`` is then ``|v|``
    rather than a rounded ``|(p + v) - p|``.
    """

    def __init__(self, grad, edges, attractors, cores, alpha, eps, measure):
        self.grad = grad
        self.e = np.concatenate([[-np.inf], np.asarray(edges, dtype=float), [np.inf]])
        self.att = list(attractors)
        self.core = list(cores)
        self.alpha = alpha
        self.k = measure_constant(alpha, measure=measure) * eps ** alpha / alpha   # C eps^a / a

    # ------------------------------------------------------------------ geometry
    def region(self, p: float, v: float) -> int:
        x = p + v
        r = int(np.searchsorted(self.e, x, side="right") - 1)
        if x == self.e[r] and v < 0:      # p at an edge, v below its resolution
            r -= 1
        return r

    def dist(self, p: float, v: float, q: float) -> float:
        """``|x - q|`` (exact for ``q = p``)."""
        return abs(v) if q == p else abs((p - q) + v)

    def speed(self, p: float, v: float, critical: bool) -> float:
        """``|U'(x)|``. At a critical point ``p`` (``U'(p) = 0``) the gradient is taken at the
        representable ``x' = p + v'`` and scaled by ``v / v'`` (``U'`` is linear there)."""
        if not critical:
            return abs(float(self.grad(p + v)))
        x = p + v
        if x == p:
            x = math.nextafter(p, math.copysign(math.inf, v))
        return abs(float(self.grad(x))) * abs(v / (x - p))

    # ------------------------------------------------------------------ Levy masses
    def _between(self, near: float, gap: float) -> float:
        """``k (near^-a - (near + gap)^-a)``: mass of jumps landing between distances
        ``near`` and ``near + gap`` on one side, free of cancellation for small ``gap``."""
        a = self.alpha
        if math.isinf(gap):
            return self.k * near ** (-a)
        return -self.k * near ** (-a) * math.expm1(-a * math.log1p(gap / near))

    def lam(self, l: int, p: float, v: float) -> float:
        """Mass of the jumps from x that land in region l (x outside region l)."""
        lo, hi = self.e[l], self.e[l + 1]
        d_lo, d_hi = self.dist(p, v, lo), self.dist(p, v, hi)
        return self._between(min(d_lo, d_hi), hi - lo)

    def lam_shift(self, l: int, i: int, p: float, v: float) -> float:
        """``lam(l, x) - lam(l, m_i)`` for x in basin i, without cancellation near ``m_i``."""
        a, m = self.alpha, self.att[i]
        u = v if p == m else (p - m) + v                    # x - m_i
        total = 0.0
        for q, sign in ((self.e[l], 1.0), (self.e[l + 1], -1.0)):
            if math.isinf(q):
                continue
            r = abs(q - m)                                   # |q - x| = r - u sign(q - m)
            dr = -u if q > m else u
            total += sign * r ** (-a) * math.expm1(-a * math.log1p(dr / r))
        right = self.e[l] >= m                               # region l lies right of m_i
        return self.k * (total if right else -total)

    def beyond(self, i: int, k: int, p: float, v: float) -> float:
        """Mass, seen from ``m_i``, of the landing points in basin k on the far side of x:
        between x and the edge of basin k away from ``m_k``; 0 inside the core of basin
        ``k != i`` (a landing there needs no relaxation)."""
        mk = self.att[k]
        xk = v if p == mk else (p - mk) + v                  # x - m_k
        if k != i and abs(xk) < self.core[k]:
            return 0.0
        edge = self.e[k + 1] if xk > 0 else self.e[k]
        d_x = self.dist(p, v, self.att[i])
        gap = math.inf if math.isinf(edge) else self.dist(p, v, edge)
        if math.isinf(edge) or d_x <= abs(edge - self.att[i]):
            return self._between(d_x, gap)
        return self._between(abs(edge - self.att[i]), gap)

    # ------------------------------------------------------------------ densities in x
    def density(self, i: int, j: int, p: float, v: float, critical: bool) -> float:
        """Density in x of ``delta q_ij`` (Fubini: a point x on the relaxation path is passed
        by every landing point beyond it, whose mass :meth:`beyond` gives in closed form)."""
        k = self.region(p, v)
        if self.att[k] is None or j == i:
            return 0.0
        if k == i:
            n = self.beyond(i, i, p, v)
            return self.lam_shift(j, i, p, v) * n / self.speed(p, v, critical) if n else 0.0
        mass = self.beyond(i, k, p, v)
        if mass == 0.0:
            return 0.0
        if j == k:
            rate = sum(self.lam(l, p, v) for l in range(len(self.att)) if l != k)
            return -rate * mass / self.speed(p, v, critical)
        return self.lam(j, p, v) * mass / self.speed(p, v, critical)

    def time_density(self, i: int, p: float, v: float, critical: bool) -> float:
        k = self.region(p, v)
        if self.att[k] is None or k == i:
            return 0.0
        mass = self.beyond(i, k, p, v)
        return mass / self.speed(p, v, critical) if mass else 0.0

    def integrate_line(self, f: Callable[[float, float, bool], float], i: int) -> float:
        """``int f(x) dx`` over the line, folded around m_i and around basin-basin edges
        (where the two sides cancel to leading order), split at edges and core boundaries."""
        special = [self.att[i]]
        for r in range(1, len(self.e) - 1):
            if self.att[r - 1] is not None and self.att[r] is not None:
                special.append(float(self.e[r]))
        finite_edges = [float(v) for v in self.e[1:-1]]
        core_edges = [m + s * c for m, c in zip(self.att, self.core) if m is not None and c > 0
                      for s in (-1.0, 1.0)]
        pts = sorted(set(special) | set(finite_edges) | set(core_edges)
                     | {a for a in self.att if a is not None})
        total = 0.0
        covered = []
        for p in special:
            others = [abs(q - p) for q in pts if q != p]
            w = 0.5 * min(others) if others else 1.0
            total += _quad(lambda v: f(p, -v, True) + f(p, v, True), 0.0, w)
            covered.append((p - w, p + w))
        covered.sort()
        gaps, lo = [], -np.inf
        for a, b in covered:
            gaps.append((lo, a))
            lo = b
        gaps.append((lo, np.inf))
        for a, b in gaps:
            cuts = [a, *[q for q in pts if a < q < b], b]
            for u, v in zip(cuts[:-1], cuts[1:]):
                total += _quad(lambda x: f(0.0, x, False), u, v)
        return total

    def corrected_rates(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(base, first_order)`` rates from region i to every region."""
        n = len(self.att)
        m = self.att[i]
        base = np.array([self.lam(j, m, 0.0) if j != i else 0.0 for j in range(n)])
        delta = np.array([self.integrate_line(
            lambda p, v, c, j=j: self.density(i, j, p, v, c), i) if j != i else 0.0
            for j in range(n)])
        extra_time = self.integrate_line(lambda p, v, c: self.time_density(i, p, v, c), i)
        return base, (base + delta) / (1.0 + extra_time)


def _derivative(grad, shift: float = 0.0) -> Callable[[float], float]:
    """``x -> U'(x + shift)`` from a plain function or a 1-D levydyn potential."""
    from levydyn.model.potentials import Potential

    if isinstance(grad, Potential):
        if grad.dim != 1:
            raise ValueError(f"grad must be a 1-D potential, got a potential with dim={grad.dim}")
        pot = grad
        return lambda x: float(pot.gradient([x + shift])[0])
    if not callable(grad):
        raise ValueError(f"grad must be a function U'(x) or a 1-D levydyn potential, got grad={grad!r}")
    return grad if shift == 0.0 else (lambda x: grad(x + shift))


def interval_rates(alpha: float, eps: float, d_minus, d_plus, *,
                   grad: Callable[[float], float] | None = None, curvature: float = 1.0,
                   measure: str = "sas") -> dict:
    """Exit rates of ``(m - d_minus, m + d_plus)`` in the limit and to first order.

    ``grad`` is ``U'`` as a function with its attractor at 0, ``U'(m + x)`` as a function of
    ``x`` (default ``curvature * x``), or a 1-D levydyn potential (evaluated at ``m + x``,
    ``m = 0`` unless a domain and its attractor are given for ``d_minus, d_plus``). Returns
    ``{"rate", "rate_1", "side_plus", "side_plus_1", "relative"}``: limit and first-order
    total rate, limit and first-order ``P(exit through +)``, and ``rate_1 / rate - 1``.
    ``measure``: "sas" (C = c_alpha) or "unit" (C = 1).
    """
    from levydyn.model.domains import Ball, Box

    check_measure(measure)
    a = check_alpha(alpha)
    e = check_positive(eps, "eps")
    shift = float(np.ravel(d_plus)[0]) if isinstance(d_minus, (Box, Ball)) else 0.0   # the attractor m
    dm, dp = check_widths(d_minus, d_plus)
    if math.isinf(dm) or math.isinf(dp):
        raise ValueError("interval_rates needs finite d_minus and d_plus")
    h = check_positive(curvature, "curvature")
    g = _derivative(grad, shift) if grad is not None else (lambda x: h * x)
    land = _Landscape(g, [-dm, dp], [None, 0.0, None], [0.0, 0.0, 0.0], a, e, measure)
    base, first = land.corrected_rates(1)
    return {"rate": float(base.sum()), "rate_1": float(first.sum()),
            "side_plus": float(base[2] / base.sum()), "side_plus_1": float(first[2] / first.sum()),
            "relative": float(first.sum() / base.sum() - 1.0)}


def well_generator(alpha: float, eps: float, minima, maxima=None, *,
                   grad: Callable[[float], float], core: float | None = None,
                   measure: str = "sas") -> tuple[np.ndarray, np.ndarray]:
    """``(Q, Q_1)``: the limiting generator (paper 000, eq. 13, natural time) and its first-order
    correction for a 1-D multi-well ``U'`` with milestoning cores of radius
    ``core * min(distances to the neighbouring maxima)`` (as :class:`levydyn.model.domains.WellPartition`).

    The landscape is ``minima, maxima`` or a WellPartition (whose ``core`` is then the
    default); ``grad`` is ``U'(x)`` as a function or a 1-D levydyn potential; ``core``
    defaults to 0.5. ``measure``: "sas" (C = c_alpha) or "unit" (C = 1).
    """
    from levydyn.model.domains import WellPartition
    from levydyn.theory.markov_chain import _check_landscape

    check_measure(measure)
    a = check_alpha(alpha)
    e = check_positive(eps, "eps")
    if core is None:
        core = minima.core if isinstance(minima, WellPartition) else 0.5
    c = float(core)
    if not (0.0 < c < 1.0):
        raise ValueError(f"core must lie in (0, 1), got core={core!r}")
    m, s = _check_landscape(minima, maxima)
    left = np.concatenate([[np.inf], m[1:] - s])
    right = np.concatenate([s - m[:-1], [np.inf]])
    radii = c * np.minimum(left, right)
    land = _Landscape(_derivative(grad), s, list(m), list(radii), a, e, measure)
    n = m.size
    Q, Q1 = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        Q[i], Q1[i] = land.corrected_rates(i)
        Q[i, i], Q1[i, i] = -Q[i].sum(), -Q1[i].sum()
    return Q, Q1


__all__ = ["interval_rates", "well_generator"]
