"""The Brownian (alpha = 2) comparison: exact 1-D exit times and the Kramers/Eyring asymptotics.

Statement
---------
At alpha = 2 SaS(1) noise is ``N(0, 2)``: ``dX = -U'(X) dt + eps dL`` with ``L`` SaS(1)
is ``dX = -U'(X) dt + eps sqrt(2) dB`` (variance ``2 eps^2 t``), generator
``L f = eps^2 f'' - U' f'``. On ``(a, b)`` with ``x0`` inside, let
``phi(y) = exp(U(y) / eps^2)`` (scale density), ``S(x) = int_a^x phi`` and
``M(y) = eps^-2 int_a^y exp(-U / eps^2)`` (speed measure). Then (e.g. Gardiner,
*Stochastic Methods*, Sec. 5.2.7; Karlin & Taylor, *A Second Course*, Ch. 15)

    T(x0) = E_x0 sigma = (S(x0) / S(b)) int_a^b phi M - int_a^x0 phi M      (solves L T = -1, T(a) = T(b) = 0)
    P_x0(exit at b) = S(x0) / S(b).

As eps -> 0, from the minimum m (Laplace's method on the two integrals):

* an end ``c`` where ``U'(c) != 0`` contributes the rate
  ``|U'(c)| sqrt(U''(m) / (2 pi eps^2)) exp(-(U(c) - U(m)) / eps^2)``;
* an end at a saddle ``s`` (``U'(s) = 0``, ``U''(s) < 0``) contributes
  ``2 * sqrt(U''(m) |U''(s)|) / (2 pi) exp(-(U(s) - U(m)) / eps^2)``: twice the Eyring-Kramers
  transition rate ``sqrt(U''(m)|U''(s)|)/(2 pi) e^(-Delta U / D)`` with ``D = eps^2``, because
  half of the paths that reach the saddle fall back;

and ``E sigma ~ 1 / (sum of the end rates)``, relative error ``O(eps^2)``. The exit time
grows like ``exp(height / eps^2)``: Brownian escape depends on the barrier *height*,
alpha-stable escape (:mod:`levydyn.theory.exit_interval`) on the well's *width*.

Conventions: the ``measure`` argument exists for uniformity with the Levy modules; only
``measure="sas"`` (noise ``eps * N(0, 2)`` per unit time) is meaningful at alpha = 2.
``"unit"`` has no alpha = 2 counterpart (``|y|^-3 dy`` is not the Levy measure of a
Brownian motion; ``c_alpha -> 0``) and is refused.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from levydyn.theory._validate import check_measure, check_positive, check_side


def _check_sas(measure) -> None:
    check_measure(measure)
    if measure != "sas":
        raise ValueError("measure='unit' has no alpha = 2 (Brownian) counterpart; use measure='sas' "
                         f"(noise eps * N(0, 2) per unit time), got measure={measure!r}")


def _potential_args(potential, lower, upper, x0):
    """``(U, a, b, x0)`` as plain floats and a plain function, from the accepted forms.

    ``lower, upper``: the interval ends, or a 1-D Box (``upper`` omitted). ``potential``:
    a function ``U(x)`` or a 1-D levydyn potential (``x0`` then defaults to its minimum).
    """
    from levydyn.model.domains import Box
    from levydyn.model.potentials import Potential

    if isinstance(lower, Box):
        if upper is not None or lower.dim != 1:
            raise ValueError(f"give a 1-D Box or the ends lower, upper, got {lower.describe()} "
                             f"and upper={upper!r}")
        lower, upper = float(lower.lower[0]), float(lower.upper[0])
    elif upper is None:
        raise ValueError(f"upper is missing: give the ends lower, upper or a 1-D Box, got lower={lower!r}")
    if isinstance(potential, Potential):
        if potential.dim != 1:
            raise ValueError(f"potential must be 1-D, got a potential with dim={potential.dim}")
        pot = potential
        if x0 is None:
            x0 = float(pot.minimum[0])
        try:
            pot.value([x0])
        except NotImplementedError:
            raise ValueError(f"potential {type(pot).__name__} defines no value(); the Brownian "
                             "closed forms need U itself") from None
        U = lambda v: pot.value([v])  # noqa: E731
    elif callable(potential):
        if x0 is None:
            raise ValueError("x0 (the start point) is needed with a plain function U(x)")
        U = potential
    else:
        raise ValueError(f"potential must be a function U(x) or a 1-D levydyn potential, "
                         f"got potential={potential!r}")
    a, b, x = _check_interval(lower, upper, x0)
    return U, a, b, x


def _curvature(potential, x: float) -> float:
    """``U''(x)`` of a 1-D levydyn potential by a central difference of its gradient
    (step ``1e-5 max(1, |x|)``)."""
    h = 1e-5 * max(1.0, abs(x))
    return float((potential.gradient([x + h])[0] - potential.gradient([x - h])[0]) / (2 * h))


def _check_interval(a, b, x0) -> tuple[float, float, float]:
    a, b, x0 = float(a), float(b), float(x0)
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise ValueError(f"the interval needs finite a < b, got a={a!r} b={b!r}")
    if not (a < x0 < b):
        raise ValueError(f"x0 must lie inside (a, b) = ({a!r}, {b!r}), got x0={x0!r}")
    return a, b, x0


def _grid(potential, a, b, n=4001):
    y = np.linspace(a, b, n)
    u = np.array([float(potential(v)) for v in y])
    if not np.all(np.isfinite(u)):
        raise ValueError("potential must be finite on [a, b]")
    return y, u


def _log_int_exp(f_exponent, lo, hi, shift, peak=None):
    """``log int_lo^hi exp(f(y)) dy``, computed as ``shift + log int exp(f - shift)``."""
    if hi <= lo:
        return -math.inf
    pts = [peak] if peak is not None and lo < peak < hi else None
    val = integrate.quad(lambda y: math.exp(f_exponent(y) - shift), lo, hi, epsabs=0.0,
                         epsrel=1e-12, limit=400, points=pts)[0]
    return shift + math.log(val) if val > 0 else -math.inf


def _log_scale_split(potential, a, b, x0, e2, y, u):
    """``(log int_a^x0 exp(U/eps^2), log int_x0^b exp(U/eps^2))``: the scale function split at x0."""
    out = []
    for lo, hi, sel in ((a, x0, y <= x0), (x0, b, y >= x0)):
        k = int(np.argmax(np.where(sel, u, -np.inf)))
        out.append(_log_int_exp(lambda v: float(potential(v)) / e2, lo, hi, u[k] / e2, y[k]))
    return out[0], out[1]


def mean_exit_time(eps: float, lower, upper=None, *, potential, x0: float | None = None,
                   measure: str = "sas") -> float:
    """Exact ``E_x0 sigma`` for ``dX = -U' dt + eps dL``, ``L`` SaS(1) at alpha = 2 (= sqrt(2) B).

    Green's-function form of ``T = (S(x0)/S(b)) int_a^b phi M - int_a^x0 phi M``:
    ``T = (1 - p) int_a^x0 S(z) m(z) dz + p int_x0^b (S(b) - S(z)) m(z) dz``,
    ``p = S(x0)/S(b)``, ``m = exp(-U/eps^2)/eps^2``, evaluated by nested adaptive quadrature
    (rtol 1e-12) with every exponential shifted by its maximum, so barriers up to
    ``~700 eps^2`` above the bottom are fine whatever the potential does elsewhere.
    ``(lower, upper)`` is the interval ``(a, b)`` or a 1-D Box; ``potential`` a function
    ``U(x)`` or a 1-D levydyn potential (``x0`` defaults to its minimum); ``measure``
    must be "sas".
    """
    _check_sas(measure)
    e = check_positive(eps, "eps")
    potential, a, b, x0 = _potential_args(potential, lower, upper, x0)
    e2 = e * e
    y, u = _grid(potential, a, b)
    U = lambda v: float(potential(v))  # noqa: E731
    log_left, log_right = _log_scale_split(potential, a, b, x0, e2, y, u)
    log_sb = np.logaddexp(log_left, log_right)
    log_p, log_q = log_left - log_sb, log_right - log_sb     # p = S(x0)/S(b), q = 1 - p (no cancellation)
    run_max_left = np.maximum.accumulate(u)                 # max_{y <= z} U(y)
    run_max_right = np.maximum.accumulate(u[::-1])[::-1]    # max_{y >= z} U(y)
    left, right = y <= x0, y >= x0
    L_A = float(np.max((run_max_left - u)[left])) / e2      # scale of S(z) m(z) on [a, x0]
    L_B = float(np.max((run_max_right - u)[right])) / e2    # scale of (S(b) - S(z)) m(z) on [x0, b]
    z_min = float(y[int(np.argmin(u))])

    def inner(z, lo, hi, scale):
        # int_lo^hi exp((U(y) - U(z))/eps^2 - scale) dy, peak at the grid argmax of U on [lo, hi]
        sel = (y >= lo) & (y <= hi)
        pk = float(y[sel][np.argmax(u[sel])]) if np.any(sel) else None
        uz = U(z)
        pts = [pk] if pk is not None and lo < pk < hi else None
        return integrate.quad(lambda v: math.exp((U(v) - uz) / e2 - scale), lo, hi, epsabs=0.0,
                              epsrel=1e-12, limit=400, points=pts)[0]

    def outer(lo, hi, f):
        pts = [z_min] if lo < z_min < hi else None
        return integrate.quad(f, lo, hi, epsabs=0.0, epsrel=1e-11, limit=400, points=pts)[0]

    int_A = outer(a, x0, lambda z: inner(z, a, z, L_A))
    int_B = outer(x0, b, lambda z: inner(z, z, b, L_B))
    terms = []
    if int_A > 0 and log_q > -math.inf:
        terms.append(log_q + L_A + math.log(int_A))
    if int_B > 0 and log_p > -math.inf:
        terms.append(log_p + L_B + math.log(int_B))
    top = max(terms)
    if top - math.log(e2) > 709:
        return math.inf
    return sum(math.exp(t - top) for t in terms) * math.exp(top) / e2


def exit_side_probability(side: int, eps: float, lower, upper=None, *, potential,
                          x0: float | None = None, measure: str = "sas") -> float:
    """``P_x0(exit at b) = S(x0) / S(b)`` (``side=+1``), ``1 -`` that for ``side=-1``.

    Scale function ``S(x) = int_a^x exp(U / eps^2)`` (alpha = 2, generator
    ``eps^2 f'' - U' f'``), by adaptive quadrature in log scale. Arguments as in
    :func:`mean_exit_time`; ``measure`` must be "sas".
    """
    _check_sas(measure)
    s = check_side(side)
    e = check_positive(eps, "eps")
    potential, a, b, x0 = _potential_args(potential, lower, upper, x0)
    y, u = _grid(potential, a, b)
    log_left, log_right = _log_scale_split(potential, a, b, x0, e * e, y, u)
    top = max(log_left, log_right)
    p_plus = math.exp(log_left - top) / (math.exp(log_left - top) + math.exp(log_right - top))
    return p_plus if s == 1 else 1.0 - p_plus


def boundary_rate(eps: float, *, curvature_min: float, height: float, slope: float | None = None,
                  saddle_curvature: float | None = None, measure: str = "sas") -> float:
    """Small-noise rate of leaving a well through one end (alpha = 2, ``D = eps^2``).

    Non-critical end (``slope = |U'(c)| > 0``): ``slope sqrt(U''(m)/(2 pi eps^2)) e^(-height/eps^2)``.
    End at a saddle (``saddle_curvature = |U''(s)|``): ``sqrt(U''(m)|U''(s)|)/pi e^(-height/eps^2)``
    (twice the Eyring-Kramers transition rate). ``height = U(end) - U(m)``; give exactly one of
    ``slope`` and ``saddle_curvature``. ``measure`` must be "sas" (noise variance 2 eps^2 t).
    """
    _check_sas(measure)
    e = check_positive(eps, "eps")
    k = check_positive(curvature_min, "curvature_min")
    h = check_positive(height, "height")
    if (slope is None) == (saddle_curvature is None):
        raise ValueError(f"give exactly one of slope and saddle_curvature, got slope={slope!r} "
                         f"saddle_curvature={saddle_curvature!r}")
    if slope is not None:
        sl = check_positive(slope, "slope")
        return sl * math.sqrt(k / (2 * math.pi * e * e)) * math.exp(-h / (e * e))
    ks = check_positive(saddle_curvature, "saddle_curvature")
    return math.sqrt(k * ks) / math.pi * math.exp(-h / (e * e))


def kramers_transition_rate(eps: float, *, curvature_min: float, saddle_curvature: float,
                            height: float, measure: str = "sas") -> float:
    """Eyring-Kramers rate ``sqrt(U''(m)|U''(s)|)/(2 pi) exp(-height / eps^2)`` of well-to-well jumps.

    The Brownian analogue of ``q_ij`` in paper 000, Thm 2 (with ``D = eps^2`` because
    SaS(1) at alpha = 2 is N(0, 2)); ``measure`` must be "sas".
    """
    return 0.5 * boundary_rate(eps, curvature_min=curvature_min, height=height,
                               saddle_curvature=saddle_curvature, measure=measure)


def quadratic_mean_exit_time(eps: float, d_minus: float, d_plus: float, *, curvature: float = 1.0,
                             asymptotic: bool = False, measure: str = "sas") -> float:
    """Mean exit time of ``(-d_minus, d_plus)`` from 0 for ``U = curvature x^2 / 2`` at alpha = 2.

    ``asymptotic=False``: exact (:func:`mean_exit_time`); ``True``: the Laplace asymptotic
    ``1 / sum_ends k d sqrt(k / (2 pi eps^2)) exp(-k d^2 / (2 eps^2))`` (heights ``k d^2 / 2``,
    slopes ``k d``). Compare :func:`levydyn.theory.exit_interval.mean_exit_time`, which
    depends on ``d`` only through ``d^-alpha``. ``measure`` must be "sas".
    """
    k = check_positive(curvature, "curvature")
    dm = check_positive(d_minus, "d_minus")
    dp = check_positive(d_plus, "d_plus")
    e = check_positive(eps, "eps")
    if asymptotic:
        r = sum(boundary_rate(e, curvature_min=k, height=0.5 * k * d * d, slope=k * d, measure=measure)
                for d in (dm, dp))
        return 1.0 / r
    return mean_exit_time(e, -dm, dp, potential=lambda x: 0.5 * k * x * x, x0=0.0, measure=measure)


def laplace_mean_exit_time(eps: float, lower, upper=None, *, potential, measure: str = "sas") -> float:
    """Small-noise (Laplace) asymptotic of ``E sigma`` from the minimum ``m`` of a 1-D potential.

    ``1 / (r_a + r_b)`` with the end rates of :func:`boundary_rate`: an end ``c`` with
    ``U'(c) != 0`` gives ``|U'(c)| sqrt(U''(m) / (2 pi eps^2)) exp(-(U(c) - U(m)) / eps^2)``,
    an end at a critical point of U (a saddle, ``|U'(c)| <= 1e-8 max(1, U''(m) |c - m|)``)
    gives ``sqrt(U''(m) |U''(c)|) / pi exp(-(U(c) - U(m)) / eps^2)``; relative error
    ``O(eps^2)`` (Laplace's method on the exact formula, module docstring). U must rise
    from ``m`` to each end (checked on a grid: one basin, no barrier inside). ``potential``
    is a 1-D levydyn potential (``value``, ``gradient`` and ``minimum``; curvatures by
    central differences); ``(lower, upper)`` the ends or a 1-D Box; ``measure`` must be "sas".
    """
    _check_sas(measure)
    e = check_positive(eps, "eps")
    from levydyn.model.potentials import Potential

    if not isinstance(potential, Potential):
        raise ValueError(f"potential must be a 1-D levydyn potential, got potential={potential!r}")
    U, a, b, m = _potential_args(potential, lower, upper, None)
    k = _curvature(potential, m)
    if not k > 0:
        raise ValueError(f"the minimum m={m!r} needs U''(m) > 0, got U''(m)={k!r}")
    for c in (a, b):        # the law needs U rising from m to each end (no barrier inside)
        u = np.array([float(U(v)) for v in np.linspace(m, c, 2001)])
        if np.any(u[1:] < np.maximum.accumulate(u)[:-1] - 1e-12 * (1.0 + abs(u).max())):
            raise ValueError(f"the Laplace asymptotic needs U rising from the minimum m={m:g} to the "
                             f"end {c:g}; U falls on the way (a barrier inside the interval)")
    rate = 0.0
    for c in (a, b):
        slope = abs(float(potential.gradient([c])[0]))
        h = float(U(c)) - float(U(m))
        if slope <= 1e-8 * max(1.0, k * abs(c - m)):
            rate += boundary_rate(e, curvature_min=k, height=h,
                                  saddle_curvature=abs(_curvature(potential, c)), measure=measure)
        else:
            rate += boundary_rate(e, curvature_min=k, height=h, slope=slope, measure=measure)
    return 1.0 / rate


def eyring_kramers_generator(eps: float, minima, maxima=None, *, potential,
                             measure: str = "sas") -> np.ndarray:
    """Generator of the Brownian (alpha = 2) well chain: Eyring-Kramers rates between neighbours.

    ``Q_ij = sqrt(U''(m_i) |U''(s)|) / (2 pi) exp(-(U(s) - U(m_i)) / eps^2)`` for the saddle
    ``s`` between wells i and ``j = i +- 1`` (:func:`kramers_transition_rate`, ``D = eps^2``),
    0 for wells that are not neighbours (no jumps: a transition crosses one saddle at a
    time), rows summing to zero. Small-noise (Laplace) asymptotics, relative error
    ``O(eps^2)``. The landscape is ``minima, maxima`` or a WellPartition; ``potential`` a
    1-D levydyn potential (its ``value`` and ``gradient``; curvatures by central differences).
    ``measure`` must be "sas" (noise eps * N(0, 2) per unit time).
    """
    from levydyn.model.potentials import Potential
    from levydyn.theory.markov_chain import _check_landscape

    _check_sas(measure)
    e = check_positive(eps, "eps")
    if not (isinstance(potential, Potential) and potential.dim == 1):
        raise ValueError(f"potential must be a 1-D levydyn potential, got potential={potential!r}")
    m, s = _check_landscape(minima, maxima)
    U = lambda v: potential.value([v])  # noqa: E731
    Q = np.zeros((m.size, m.size))
    for i in range(m.size):
        for j, sj in ((i - 1, i - 1), (i + 1, i)):
            if 0 <= j < m.size:
                Q[i, j] = kramers_transition_rate(
                    e, curvature_min=_curvature(potential, m[i]),
                    saddle_curvature=abs(_curvature(potential, s[sj])), height=U(s[sj]) - U(m[i]))
        Q[i, i] = -Q[i].sum()
    return Q


__all__ = ["mean_exit_time", "exit_side_probability", "boundary_rate", "kramers_transition_rate",
           "quadratic_mean_exit_time", "laplace_mean_exit_time", "eyring_kramers_generator"]
