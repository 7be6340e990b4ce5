"""Exit laws under learning-rate schedules (paper 004, Thms 4.1, 4.3, 4.5; Cors 4.2, 4.6).

Statement (exact small-noise law)
---------------------------------
``dX^l = -d_l U(X) dt + eps_l s_t^((alpha_l - 1)/alpha_l) dL^l_t`` in the box
``prod_l (x*_l - d-_l, x*_l + d+_l)`` (paper 004, eq. 3, one-hot noise directions, noise
covariance row sums absorbed in eps_l). Over ``[t, t + dt]`` coordinate l receives
``eps_l (int_t^{t+dt} s_u^(alpha_l - 1) du)^(1/alpha_l) Z``; its jumps are those of a
stable process with Levy measure ``eps_l^alpha_l s_t^(alpha_l - 1) C_l |y|^(-1-alpha_l) dy``
at time t. Exit happens, in the small-noise limit, at the first large jump that leaves the
box from (near) ``x*`` -- the first point of an inhomogeneous Poisson process of intensity

    lambda(t) = sum_l lambda_l(t),   lambda_l(t) = k_l s_t^(alpha_l - 1),
    k_l = eps_l^alpha_l C_l ((d-_l)^-alpha_l + (d+_l)^-alpha_l) / alpha_l

(the product of paper 004's eqs. 12 and 13). Hence, with ``Lambda(u) = int_0^u lambda``,

    P(sigma > u) = exp(-Lambda(u)),  E sigma = int_0^inf exp(-Lambda(u)) du,
    P(exit through axis l) = int_0^inf lambda_l(t) exp(-Lambda(t)) dt,
    P(axis l, side +) = P(axis l) (d+_l)^-alpha_l / ((d-_l)^-alpha_l + (d+_l)^-alpha_l).

The law is the eps -> 0 limit when the schedule varies on the exit time scale (for
MultiStep: milestones proportional to ``eps^-alpha``); the relaxation to x* between jumps
takes ``O(log 1/eps)``.

Schedules (plain parameters, matching :mod:`levydyn.model.schedules`):

* constant (no schedule keywords): ``s = 1``, the law of :mod:`levydyn.theory.box`;
* ``gamma=, t0=``: ``s_t = (t + t0)^(gamma - 1)`` (paper 004's ``t^(gamma-1)`` is t0 = 0).
  With ``g_l = 1 + (gamma - 1)(alpha_l - 1)`` (paper's ``gamma_l``, must be > 0),
  ``Lambda_l(u) = k_l ((u + t0)^g_l - t0^g_l) / g_l`` (integrated with sympy). For a
  common g: ``E sigma = e^x B^(-1/g) Gamma(1/g, x) / g`` with ``B = sum k_l / g``,
  ``x = B t0^g`` (t0 = 0: ``(g / k)^(1/g) Gamma(1 + 1/g)``), and the axis probabilities
  are ``k_l / sum k``; otherwise mean and axis probabilities are one-dimensional
  quadratures of the closed-form survival.
* ``milestones=, values=``: ``s = 1`` on ``[0, T_1)``, ``values[k]`` on ``[T_{k+1}, T_{k+2})``;
  ``Lambda`` is piecewise linear and mean, quantiles and axis probabilities are finite
  sums (per-segment integrals derived with sympy).

The paper's own expressions (upper bounds with constants A_{l,nu}, rho, beta) are
evaluated by the ``paper_*`` functions where they are defined; see their docstrings for
what is ill-defined or inconsistent.

Conventions: ``measure="sas"`` (default) uses ``C_l = c_{alpha_l}`` (SaS(1) noise);
``"unit"`` uses ``C_l = 1`` (the paper's measure).
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy import integrate, optimize

from levydyn.theory import box as _box
from levydyn.theory._validate import (as_output, box_arrays, check_measure, check_nonnegative,
                                      check_positive, check_probability, check_rho, check_times)
from levydyn.theory.levy_measure import measure_constant, measure_constants
from levydyn.model.validation import Constraint, as_float

#: The power exponent the closed forms take: ``Power``'s (0, 1] plus gamma = 0, the exponent
#: ``2 gamma - 1`` of the squared schedule ``s^2`` at ``gamma = 1/2`` (levydyn verify's
#: schedule rows); with alpha in (0, 2), ``g = 1 + (gamma - 1)(alpha - 1) > 0`` follows.
THEORY_GAMMA = Constraint("lie in [0, 1]", lambda v: (v >= 0.0) & (v <= 1.0))

# --------------------------------------------------------------------------- sympy derivations


@functools.lru_cache(maxsize=1)
def derive_power_law():
    """sympy derivation for ``lambda(t) = k (t + t0)^(g - 1)``.

    Returns a dict of sympy expressions in the symbols ``k, g, t0, u, q``:
    ``Lambda`` (cumulative intensity over [0, u]), ``mean`` (``int_0^inf exp(-Lambda)``)
    and ``quantile`` (the u solving ``Lambda(u) = q``), plus the symbols.
    """
    import sympy as sp

    k, g, t0, u, t, q, w, x0 = sp.symbols("k g t_0 u t q w x_0", positive=True)
    Lam = sp.simplify(sp.integrate(k * (t + t0) ** (g - 1), (t, 0, u)))
    # mean: substitute v = u + t0, w = (k/g) v^g  =>  int = e^{x0} (k/g)^(-1/g) / g * int_{x0}^inf w^(1/g-1) e^-w dw
    tail = sp.simplify(sp.expand_func(sp.integrate(w ** (1 / g - 1) * sp.exp(-w), (w, x0, sp.oo))))
    closed = sp.uppergamma(1 / g, x0)
    if sp.gammasimp(tail - closed.rewrite(sp.lowergamma)) != 0:  # pragma: no cover - sympy guard
        raise RuntimeError(f"unexpected form of the incomplete-gamma integral: {tail}")
    B = k / g
    mean = sp.exp(x0) * B ** (-1 / g) / g * closed
    mean = mean.subs(x0, B * t0 ** g)
    sol = sp.solve(sp.Eq(Lam, q), u)
    if len(sol) != 1:  # pragma: no cover - sympy guard
        raise RuntimeError(f"expected one root of Lambda(u) = q, got {sol}")
    return {"k": k, "g": g, "t0": t0, "u": u, "q": q,
            "Lambda": Lam, "mean": mean, "quantile": sol[0]}


@functools.lru_cache(maxsize=1)
def derive_segment_law():
    """sympy derivation for one constant-rate segment of a multi-step schedule.

    On a segment of length ``Delta`` entered with survival ``S0`` and total rate ``r``
    (axis rate ``r_l``): returns ``{"mean": int_0^Delta S0 e^{-r t} dt,
    "mean_last": the same over [0, inf), "axis": int_0^Delta r_l S0 e^{-r t} dt,
    "axis_last": ...}`` and the symbols.
    """
    import sympy as sp

    S0, r, rl, D, t = sp.symbols("S_0 r r_l Delta t", positive=True)
    f = S0 * sp.exp(-r * t)
    return {
        "S0": S0, "r": r, "rl": rl, "Delta": D,
        "mean": sp.simplify(sp.integrate(f, (t, 0, D))),
        "mean_last": sp.simplify(sp.integrate(f, (t, 0, sp.oo))),
        "axis": sp.simplify(sp.integrate(rl * f, (t, 0, D))),
        "axis_last": sp.simplify(sp.integrate(rl * f, (t, 0, sp.oo))),
    }


# --------------------------------------------------------------------------- numeric forms
# The sympy results above, written out in double precision (no sympy at run time: deriving
# them costs seconds per process). tests/test_theory_schedules.py checks each against its
# sympy expression.


def _power_cumulative(k, g, t0: float, u):
    """``Lambda(u) = k ((u + t0)^g - t0^g) / g`` (:func:`derive_power_law`); for t0 > 0 as
    ``k t0^g expm1(g log1p(u / t0)) / g``, free of cancellation for small u."""
    u = np.asarray(u, dtype=float)
    if t0 == 0.0:
        return k * u ** g / g
    return k * t0 ** g * np.expm1(g * np.log1p(u / t0)) / g


def _power_quantile(k: float, g: float, t0: float, q):
    """The u with ``Lambda(u) = q``: ``(t0^g + g q / k)^(1/g) - t0`` (:func:`derive_power_law`)."""
    q = np.asarray(q, dtype=float)
    if t0 == 0.0:
        return (g * q / k) ** (1.0 / g)
    return t0 * np.expm1(np.log1p(g * q / (k * t0 ** g)) / g)


def _power_mean(k: float, g: float, t0: float) -> float:
    """``int_0^inf exp(-Lambda) = e^x B^(-1/g) Gamma(1/g, x) / g``, ``B = k / g``, ``x = B t0^g``
    (:func:`derive_power_law`); ``(g / k)^(1/g) Gamma(1 + 1/g)`` at t0 = 0. The incomplete
    gamma function in 30-digit mpmath arithmetic (local precision: the global is untouched)."""
    if t0 == 0.0:
        return (g / k) ** (1.0 / g) * math.gamma(1.0 + 1.0 / g)
    import mpmath

    with mpmath.workdps(30):
        B = mpmath.mpf(k) / g
        x = B * mpmath.mpf(t0) ** g
        return float(mpmath.exp(x) * B ** (-1 / mpmath.mpf(g)) * mpmath.gammainc(1 / mpmath.mpf(g), x) / g)


def _segment_mean(S0: float, r: float, delta: float) -> float:
    """``int_0^Delta S0 e^(-r t) dt = S0 (1 - e^(-r Delta)) / r`` (:func:`derive_segment_law`);
    ``Delta = inf`` for the last segment: ``S0 / r``."""
    return S0 / r if math.isinf(delta) else -S0 * math.expm1(-r * delta) / r


# --------------------------------------------------------------------------- schedule handling


class _Law:
    """Per-axis intensities ``lambda_l(t) = k_l s_t^(alpha_l - 1)`` for one schedule."""

    def __init__(self, alpha, eps, d_minus, d_plus, gamma, t0, milestones, values, measure):
        check_measure(measure)
        a, e, dm, dp = box_arrays(alpha, eps, d_minus, d_plus)
        self.alpha = a
        self.side = _box.side_rates(a, e, dm, dp, measure=measure)          # (N, 2) at s = 1
        self.k = self.side.sum(axis=1)
        if gamma is not None and (milestones is not None or values is not None):
            raise ValueError("give either gamma (Power) or milestones/values (MultiStep), "
                             f"got gamma={gamma!r} milestones={milestones!r}")
        if gamma is not None:
            self.kind = "power"
            self.gamma = as_float("gamma", gamma, THEORY_GAMMA)
            self.t0 = check_nonnegative(t0, "t0")
            self.g = 1.0 + (self.gamma - 1.0) * (a - 1.0)
        elif milestones is not None or values is not None:
            self.kind = "multistep"
            ms = np.atleast_1d(np.asarray([] if milestones is None else milestones, dtype=float))
            vs = np.atleast_1d(np.asarray([] if values is None else values, dtype=float))
            if ms.size != vs.size:
                raise ValueError(f"MultiStep needs one value per milestone, got "
                                 f"milestones={ms.tolist()} values={vs.tolist()}")
            for m in ms:
                check_positive(m, "milestone")
            for v in vs:
                check_positive(v, "schedule value")
            if np.any(np.diff(ms) <= 0):
                raise ValueError(f"milestones must be strictly increasing, got milestones={ms.tolist()}")
            self.edges = np.concatenate([[0.0], ms])                  # segment starts
            self.levels = np.concatenate([[1.0], vs])
            # rates[k, l] = k_l * level_k^(alpha_l - 1)
            self.rates = self.k[None, :] * self.levels[:, None] ** (a[None, :] - 1.0)
            self.cum = np.concatenate([[0.0], np.cumsum(self.rates[:-1].sum(axis=1) * np.diff(self.edges))])
        else:
            self.kind = "constant"

    # cumulative intensity per axis, shape t.shape + (N,)
    def Lambda_axes(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)[..., None]
        if self.kind == "constant":
            return self.k * t
        if self.kind == "power":
            return _power_cumulative(self.k, self.g, self.t0, t)
        idx = np.searchsorted(self.edges, t[..., 0], side="right") - 1
        start = self.edges[idx]
        before = np.zeros(self.edges.shape + (self.k.size,))
        before[1:] = np.cumsum(self.rates[:-1] * np.diff(self.edges)[:, None], axis=0)
        return before[idx] + self.rates[idx] * (t - start[..., None])

    def intensity_axes(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)[..., None]
        if self.kind == "constant":
            return self.k * np.ones_like(t)
        if self.kind == "power":
            with np.errstate(divide="ignore"):
                return self.k * (t + self.t0) ** (self.g - 1.0)
        idx = np.searchsorted(self.edges, t[..., 0], side="right") - 1
        return self.rates[idx]

    def Lambda(self, t):
        return self.Lambda_axes(t).sum(axis=-1)

    @property
    def common_g(self) -> bool:
        return self.kind == "power" and np.allclose(self.g, self.g[0], rtol=0, atol=1e-15)

    def time_scale(self) -> float:
        """A time by which Lambda is of order one (for quadrature splitting)."""
        return float(self.quantile(np.array(0.5)))

    def quantile(self, p: np.ndarray) -> np.ndarray:
        q = -np.log1p(-np.asarray(p, dtype=float))
        K = float(self.k.sum())
        if self.kind == "constant":
            return q / K
        if self.kind == "power":
            if self.common_g:
                return _power_quantile(K, float(self.g[0]), self.t0, q)
            out = np.empty(q.shape)
            for i, qi in np.ndenumerate(q):
                if qi == 0:
                    out[i] = 0.0
                    continue
                hi = 1.0 / K
                while self.Lambda(np.array(hi)) < qi:
                    hi *= 2.0
                out[i] = optimize.brentq(lambda u: float(self.Lambda(np.array(u))) - qi, 0.0, hi,
                                         xtol=1e-14 * hi, rtol=4 * np.finfo(float).eps, maxiter=500)
            return out
        seg = np.searchsorted(self.cum, q, side="right") - 1
        tot = self.rates.sum(axis=1)
        return self.edges[seg] + (q - self.cum[seg]) / tot[seg]

    def _quad_power(self, f) -> float:
        """``int_0^inf f(t) dt`` for the power schedule, with ``t = tau w^p``, p = 1 / min g.

        The substitution removes the ``t^(g-1)`` singularity at t = 0 (t0 = 0) and puts the
        bulk of the mass at w of order one.
        """
        tau = self.time_scale()
        p = 1.0 / float(np.min(self.g))

        def h(w):
            t = tau * w ** p
            return f(t) * tau * p * w ** (p - 1.0)

        total = 0.0
        for lo, hi in ((0.0, 1.0), (1.0, 4.0), (4.0, 16.0), (16.0, np.inf)):
            val, _ = integrate.quad(h, lo, hi, epsabs=0.0, epsrel=1e-13, limit=400)
            total += val
        return total

    def mean(self) -> float:
        K = float(self.k.sum())
        if self.kind == "constant":
            return 1.0 / K
        if self.kind == "power":
            if self.common_g:
                g = float(self.g[0])
                return _power_mean(K, g, self.t0)
            return self._quad_power(lambda t: math.exp(-float(self.Lambda(np.array(t)))))
        tot = self.rates.sum(axis=1)
        S = np.exp(-self.cum)
        return float(sum(_segment_mean(S[j], tot[j], width) for j, width in enumerate(self._widths())))

    def _widths(self) -> np.ndarray:
        """MultiStep segment lengths, the last one infinite."""
        return np.append(np.diff(self.edges), np.inf)

    def axis_probabilities(self) -> np.ndarray:
        K = float(self.k.sum())
        if self.kind == "constant" or (self.kind == "power" and self.common_g):
            return self.k / K
        if self.kind == "power":
            out = np.empty(self.k.size)
            for l in range(self.k.size):
                out[l] = self._quad_power(
                    lambda t, l=l: float(self.intensity_axes(np.array(t))[l])
                    * math.exp(-float(self.Lambda(np.array(t)))))
            return out
        tot = self.rates.sum(axis=1)
        S = np.exp(-self.cum)
        # int over segment j of r_jl S_j e^(-r_j t) dt = r_jl * (segment j's term of the mean)
        widths = self._widths()
        return sum(self.rates[j] * _segment_mean(S[j], tot[j], widths[j]) for j in range(tot.size))


def schedule_kwargs(schedule) -> dict:
    """The plain schedule parameters of this module for a :mod:`levydyn.model.schedules` object.

    ``Constant()`` -> ``{}``, ``Power(gamma, t0)`` -> ``{"gamma", "t0"}``,
    ``MultiStep(milestones, values)`` -> ``{"milestones", "values"}`` (lists).
    """
    from levydyn.model.schedules import Constant, MultiStep, Power

    if isinstance(schedule, Power):
        return {"gamma": schedule.gamma, "t0": schedule.t0}
    if isinstance(schedule, MultiStep):
        return {"milestones": list(schedule.milestones), "values": list(schedule.values)}
    if isinstance(schedule, Constant):
        return {}
    raise ValueError(f"schedule must be a levydyn schedule (Constant, Power, MultiStep), "
                     f"got schedule={schedule!r}")


def _law(alpha, eps, d_minus, d_plus, schedule, gamma, t0, milestones, values, measure) -> _Law:
    if schedule is not None:
        if gamma is not None or milestones is not None or values is not None:
            raise ValueError("give the schedule as schedule= or as gamma/t0/milestones/values, not both")
        kw = schedule_kwargs(schedule)
        gamma, t0 = kw.get("gamma"), kw.get("t0", 0.0)
        milestones, values = kw.get("milestones"), kw.get("values")
    return _Law(alpha, eps, d_minus, d_plus, gamma, t0, milestones, values, measure)


# --------------------------------------------------------------------------- public: exact law


def intensity(t, alpha, eps, d_minus, d_plus, *, schedule=None, gamma=None, t0=0.0,
              milestones=None,
              values=None, measure: str = "sas"):
    """Total large-jump exit intensity ``lambda(t) = sum_l k_l s_t^(alpha_l - 1)``.

    ``k_l = eps_l^a_l C_l ((d-_l)^-a_l + (d+_l)^-a_l) / a_l``; ``C_l`` per ``measure``
    ("sas": c_alpha, "unit": 1). Schedule: none (constant), ``gamma``/``t0`` (Power) or
    ``milestones``/``values`` (MultiStep). Source: paper 004, eqs. 12-13.
    """
    law = _law(alpha, eps, d_minus, d_plus, schedule, gamma, t0, milestones, values, measure)
    return as_output(law.intensity_axes(check_times(t)).sum(axis=-1))


def cumulative_intensity(t, alpha, eps, d_minus, d_plus, *, schedule=None, gamma=None, t0=0.0,
              milestones=None,
                         values=None, measure: str = "sas"):
    """``Lambda(t) = int_0^t lambda(u) du`` (closed form, integrated with sympy; ``measure`` as above)."""
    law = _law(alpha, eps, d_minus, d_plus, schedule, gamma, t0, milestones, values, measure)
    return as_output(law.Lambda(check_times(t)))


def survival(u, alpha, eps, d_minus, d_plus, *, schedule=None, gamma=None, t0=0.0,
              milestones=None,
             values=None, measure: str = "sas"):
    """``P(sigma > u) -> exp(-Lambda(u))``: the exact small-noise survival (``measure`` as above).

    Paper 004, Thm 4.5 / Cor 4.6 state upper bounds; this is the limit itself.
    """
    law = _law(alpha, eps, d_minus, d_plus, schedule, gamma, t0, milestones, values, measure)
    return as_output(np.exp(-law.Lambda(check_times(u))))


def mean_exit_time(alpha, eps, d_minus, d_plus, *, schedule=None, gamma=None, t0=0.0,
              milestones=None,
                   values=None, measure: str = "sas") -> float:
    """``E sigma -> int_0^inf exp(-Lambda(u)) du`` (paper 004, Thm 4.1 / Cor 4.2 in exact form).

    Power, common ``g``: ``e^x B^(-1/g) Gamma(1/g, x) / g``, ``B = sum_l k_l / g``,
    ``x = B t0^g`` (sympy). MultiStep: a finite sum over segments. Power with distinct
    g_l: adaptive quadrature of the closed-form survival. ``measure`` as in :func:`intensity`.
    """
    return _law(alpha, eps, d_minus, d_plus, schedule, gamma, t0, milestones, values, measure).mean()


def exit_time_quantile(p, alpha, eps, d_minus, d_plus, *, schedule=None, gamma=None, t0=0.0,
              milestones=None,
                       values=None, measure: str = "sas"):
    """The u with ``Lambda(u) = -log(1 - p)`` (closed form except Power with distinct g_l).

    ``measure`` as in :func:`intensity`.
    """
    pp = check_probability(p)
    law = _law(alpha, eps, d_minus, d_plus, schedule, gamma, t0, milestones, values, measure)
    return as_output(law.quantile(pp))


def median_exit_time(alpha, eps, d_minus, d_plus, *, schedule=None, gamma=None, t0=0.0,
              milestones=None,
                     values=None, measure: str = "sas") -> float:
    """Median of the exact small-noise law (``measure`` as in :func:`intensity`)."""
    return float(exit_time_quantile(0.5, alpha, eps, d_minus, d_plus, schedule=schedule, gamma=gamma,
                                    t0=t0, milestones=milestones, values=values, measure=measure))


def exit_axis_probabilities(alpha, eps, d_minus, d_plus, *, schedule=None, gamma=None, t0=0.0,
              milestones=None,
                            values=None, measure: str = "sas") -> np.ndarray:
    """``P(exit through axis l) = int_0^inf lambda_l(t) exp(-Lambda(t)) dt`` (paper 004, Thm 4.3).

    Equals ``k_l / sum k`` when every axis has the same time profile (constant schedule,
    or Power with equal alpha_l); otherwise a finite sum (MultiStep) or a quadrature
    (Power). ``measure`` as in :func:`intensity`.
    """
    law = _law(alpha, eps, d_minus, d_plus, schedule, gamma, t0, milestones, values, measure)
    return law.axis_probabilities()


def exit_side_probabilities(alpha, eps, d_minus, d_plus, *, schedule=None, gamma=None, t0=0.0,
              milestones=None,
                            values=None, measure: str = "sas") -> np.ndarray:
    """``(N, 2)`` array ``P(axis l, side -/+) = P(axis l) d_-/+^-a_l / ((d-_l)^-a_l + (d+_l)^-a_l)``.

    The schedule scales both faces of an axis alike, so the side split is the constant-
    schedule one. ``measure`` as in :func:`intensity`.
    """
    law = _law(alpha, eps, d_minus, d_plus, schedule, gamma, t0, milestones, values, measure)
    split = law.side / law.side.sum(axis=1, keepdims=True)
    return law.axis_probabilities()[:, None] * split


def eps_scaling_exponent(alpha, gamma: float = 1.0, *, measure: str = "sas") -> float:
    """``d log E sigma / d log eps = -alpha / g``, ``g = 1 + (gamma-1)(alpha-1)`` (Power, t0 = 0).

    One axis (or a common alpha); ``gamma = 1`` is the constant schedule's ``-alpha``.
    Exact for t0 = 0, where ``E sigma = (g / k)^(1/g) Gamma(1 + 1/g)`` and ``k ~ eps^alpha``.
    Same in both conventions (``measure`` only changes prefactors).
    """
    check_measure(measure)
    a = np.atleast_1d(np.asarray(alpha, dtype=float))
    if not np.allclose(a, a[0]):
        raise ValueError(f"eps scaling needs a common alpha, got alpha={a.tolist()!r}")
    law = _Law(a, 1.0, 1.0, 1.0, gamma, 0.0, None, None, measure)
    return -float(a[0]) / float(law.g[0])


# --------------------------------------------------------------------------- paper 004 expressions


def _paper_constants(alpha, eps, d_minus, d_plus, rho, measure):
    """Paper 004's constants with noise-covariance row sums ``1^T lambda_bar = 1``.

    ``m_l = C_l eps_l^a_l / a_l``, ``beta_l = 2 C_l eps_l^(rho a_l) / a_l`` (Sec. 3.2),
    ``Phi_l = (d-_l)^-a_l + (d+_l)^-a_l`` (eq. 13), ``beta_S = sum beta_l``; the
    "average" quantities (subscript nu) are evaluated at the means of alpha_l, eps_l,
    d-_l, d+_l (the paper defines only ``alpha_nu`` as an average);
    ``A_l = (1 - m_nu Phi_nu / beta_nu)(1 - beta_l / beta_S)``.
    """
    check_measure(measure)
    a, e, dm, dp = box_arrays(alpha, eps, d_minus, d_plus)
    r = check_rho(rho)
    n = a.size
    if n < 2:
        raise ValueError(f"paper 004's bounds need N >= 2 axes: with alpha={a.tolist()} the factor "
                         "(1 - beta_l / beta_S) of A_l is 0 and 1/A_l is undefined")
    if np.any(np.isinf(dm)) or np.any(np.isinf(dp)):
        raise ValueError("paper 004's bounds need finite d_minus and d_plus on every axis")
    C = measure_constants(a, measure)
    m = C * e ** a / a
    phi = dm ** (-a) + dp ** (-a)
    beta = 2.0 * C * e ** (r * a) / a
    beta_S = beta.sum()
    a_nu, e_nu, dm_nu, dp_nu = a.mean(), e.mean(), dm.mean(), dp.mean()
    C_nu = measure_constant(a_nu, measure=measure)
    m_nu = C_nu * e_nu ** a_nu / a_nu
    beta_nu = 2.0 * C_nu * e_nu ** (r * a_nu) / a_nu
    phi_nu = dm_nu ** (-a_nu) + dp_nu ** (-a_nu)
    first = 1.0 - m_nu * phi_nu / beta_nu
    A = first * (1.0 - beta / beta_S)
    if not np.all(A > 0):
        raise ValueError(f"paper 004's A_l must be positive, got A={A.tolist()} "
                         f"(m_nu Phi_nu / beta_nu = {m_nu * phi_nu / beta_nu:.3g} >= 1)")
    return {"a": a, "e": e, "m": m, "phi": phi, "beta": beta, "beta_S": beta_S,
            "a_nu": a_nu, "A": A, "rho": r}


def paper_mean_exit_time(alpha, eps, d_minus, d_plus, *, gamma: float, rho: float,
                         measure: str = "sas") -> float:
    """Paper 004, Thm 4.1 (s_t = t^(gamma-1)), evaluated literally: the stated upper bound

    ``E sigma <= sum_l A_l^-1 (beta_l / beta_S) (m_l Phi_l)^(1 - C_l) Gamma(C_l) / g_l``,
    ``C_l = (2 + (gamma-1)(a_l - 1 + rho (a_l - a_nu))) / g_l``, ``g_l = 1 + (gamma-1)(a_l-1)``,

    with the constants of :func:`_paper_constants` (``beta_l / beta_S`` taken at its
    time-independent value; the paper's ratio carries ``s_t^(rho (a_l - a_nu))``, equal to
    1 when the alpha_l agree). Needs N >= 2 (A_l = 0 for N = 1). ``measure="unit"`` is
    the paper's convention; ``"sas"`` puts ``c_alpha`` into every Levy mass (m_l, beta_l).
    For one common alpha the l-th term is ``(beta_l/beta_S) A_l^-1 g^(-1-1/g)`` times the
    exact one-axis mean ``(g / (m_l Phi_l))^(1/g) Gamma(1 + 1/g)``.
    """
    c = _paper_constants(alpha, eps, d_minus, d_plus, rho, measure)
    g = 1.0 + (float(gamma) - 1.0) * (c["a"] - 1.0)
    if not np.all(g > 0):
        raise ValueError(f"gamma={gamma!r} gives 1 + (gamma-1)(alpha-1) <= 0")
    Cl = (2.0 + (gamma - 1.0) * (c["a"] - 1.0 + c["rho"] * (c["a"] - c["a_nu"]))) / g
    from scipy.special import gamma as Gamma
    terms = (c["beta"] / c["beta_S"]) / c["A"] * (c["m"] * c["phi"]) ** (1.0 - Cl) * Gamma(Cl) / g
    return float(terms.sum())


def paper_mean_exit_time_constant(alpha, eps, d_minus, d_plus, *, rho: float,
                                  measure: str = "sas") -> float:
    """Paper 004, Cor. 4.2 (eq. 16, gamma -> 1), evaluated literally:

    ``E sigma <= sum_l A_l^-1 (1 / beta_S) eps_l^(a_l (1 - rho)) Phi_l``  (``1^T lambda_l = 1``).

    This grows with the widths' inverse powers ``Phi_l`` and scales as
    ``eps^(a (1 - 2 rho))``, whereas the exact mean (and Thm 4.1 at gamma = 1) scales as
    ``1 / (eps^a Phi)``: eq. 16 is not the gamma -> 1 limit of Thm 4.1 and is not an upper
    bound for small eps. Needs N >= 2. ``measure`` as in :func:`paper_mean_exit_time`.
    """
    c = _paper_constants(alpha, eps, d_minus, d_plus, rho, measure)
    terms = 1.0 / c["A"] / c["beta_S"] * c["e"] ** (c["a"] * (1.0 - c["rho"])) * c["phi"]
    return float(terms.sum())


def paper_survival(u, alpha, eps, d_minus, d_plus, *, gamma: float, rho: float,
                   measure: str = "sas"):
    """Paper 004, Thm 4.5 (s_t = t^(gamma-1)), evaluated literally: the stated upper bound

    ``P(sigma > u) <= sum_l A_l^-1 beta_l m_l Phi_l / (beta_S g_l (m_l Phi_l)^kappa_l)
    Gamma(kappa_l, m_l Phi_l u^g_l)``, ``kappa_l = (1 + (gamma-1)(a_l - 1 + rho (a_l - a_nu))) / g_l``

    (``Gamma(s, x)`` the upper incomplete gamma function). For a common alpha
    (kappa = 1) each term is ``(beta_l/beta_S) A_l^-1 exp(-m_l Phi_l u^g) / g``, while the
    exact one-axis survival is ``exp(-m_l Phi_l u^g / g)``: the paper's exponent lacks the
    ``1/g``. Needs N >= 2. ``measure`` as in :func:`paper_mean_exit_time`.
    """
    import mpmath

    c = _paper_constants(alpha, eps, d_minus, d_plus, rho, measure)
    tt = check_times(u)
    g = 1.0 + (float(gamma) - 1.0) * (c["a"] - 1.0)
    if not np.all(g > 0):
        raise ValueError(f"gamma={gamma!r} gives 1 + (gamma-1)(alpha-1) <= 0")
    kappa = (1.0 + (gamma - 1.0) * (c["a"] - 1.0 + c["rho"] * (c["a"] - c["a_nu"]))) / g
    mp = c["m"] * c["phi"]
    pref = (c["beta"] / c["beta_S"]) / c["A"] * mp / (g * mp ** kappa)
    out = np.zeros(tt.shape)
    for idx, ui in np.ndenumerate(tt):
        out[idx] = sum(float(pref[l] * mpmath.gammainc(kappa[l], mp[l] * ui ** g[l]))
                       for l in range(pref.size))
    return as_output(out)


def paper_survival_constant(u, alpha, eps, d_minus, d_plus, *, rho: float, measure: str = "sas"):
    """Paper 004, Cor. 4.6 (eq. 23, gamma -> 1), evaluated literally:

    ``P(sigma > u) <= sum_l A_l^-1 (beta_l / beta_S) exp(-m_l Phi_l u)``.

    A mixture of per-axis exponentials; the exact law is ``exp(-sum_l m_l Phi_l u)``.
    Needs N >= 2. ``measure`` as in :func:`paper_mean_exit_time`.
    """
    c = _paper_constants(alpha, eps, d_minus, d_plus, rho, measure)
    tt = check_times(u)[..., None]
    w = (c["beta"] / c["beta_S"]) / c["A"]
    return as_output((w * np.exp(-c["m"] * c["phi"] * tt)).sum(axis=-1))


__all__ = [
    "derive_power_law", "derive_segment_law", "schedule_kwargs", "intensity", "cumulative_intensity",
    "survival",
    "mean_exit_time", "exit_time_quantile", "median_exit_time", "exit_axis_probabilities",
    "exit_side_probabilities", "eps_scaling_exponent", "paper_mean_exit_time",
    "paper_mean_exit_time_constant", "paper_survival", "paper_survival_constant",
]
