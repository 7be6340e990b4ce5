"""Schedules (paper 004): the exact inhomogeneous-Poisson law against direct quadrature."""
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate

from levydyn.theory import box, schedules as sch

A1, E1, DM1, DP1 = 1.5, 0.1, 1.0, 2.0
A2, E2, DM2, DP2 = [1.2, 1.8], [0.1, 0.15], [1.0, 0.5], [2.0, 1.0]
POWER = [dict(gamma=0.5), dict(gamma=0.5, t0=3.0), dict(gamma=0.8, t0=0.0), dict(gamma=1.0)]
MULTI = [dict(milestones=[50.0, 100.0], values=[0.5, 0.1]), dict(milestones=[20.0], values=[2.0])]


def _mp_quad(f, scale, breaks=()):
    """mpmath tanh-sinh quadrature of f over [0, inf), split at multiples of ``scale`` and at
    the schedule's milestones (where the integrand has a kink or a jump)."""
    mpmath.mp.dps = 20
    pts = sorted({0.0, scale / 8, scale, 4 * scale, 16 * scale, *breaks}) + [mpmath.inf]
    return float(mpmath.quad(f, pts))


def _intensity_direct(t, alpha, eps, dm, dp, gamma=None, t0=0.0, milestones=None, values=None):
    """lambda(t) from the definition: sum_l k_l s_t^(alpha_l - 1), k_l from the box rates."""
    k = box.axis_rates(alpha, eps, dm, dp)
    a = np.atleast_1d(np.asarray(alpha, dtype=float)) * np.ones_like(k)
    if gamma is not None:
        s = (t + t0) ** (gamma - 1.0)
    elif milestones is not None:
        levels = [1.0] + list(values)
        s = levels[int(np.searchsorted(milestones, t, side="right"))]
    else:
        s = 1.0
    return float(np.sum(k * s ** (a - 1.0)))


@pytest.mark.parametrize("kw", POWER + MULTI)
@pytest.mark.parametrize("args", [(A1, E1, DM1, DP1), (A2, E2, DM2, DP2)])
def test_cumulative_intensity_is_integral_of_intensity(kw, args):
    for t in (0.7, 35.0, 160.0):
        direct = integrate.quad(lambda u: _intensity_direct(u, *args, **kw), 0, t, epsabs=0, epsrel=1e-12,
                                points=[m for m in kw.get("milestones", []) if m < t] or None, limit=200)[0]
        assert sch.cumulative_intensity(t, *args, **kw) == pytest.approx(direct, rel=1e-9)
        assert sch.intensity(t, *args, **kw) == pytest.approx(_intensity_direct(t, *args, **kw), rel=1e-12)


@pytest.mark.parametrize("kw", POWER + MULTI)
@pytest.mark.parametrize("args", [(A1, E1, DM1, DP1), (A2, E2, DM2, DP2)])
def test_mean_and_quantiles_against_quadrature(kw, args):
    med = sch.median_exit_time(*args, **kw)
    assert sch.survival(med, *args, **kw) == pytest.approx(0.5, rel=1e-10)
    q = sch.exit_time_quantile([0.05, 0.95], *args, **kw)
    assert sch.survival(q, *args, **kw) == pytest.approx([0.95, 0.05], rel=1e-9)
    S = lambda u: mpmath.exp(-sch.cumulative_intensity(float(u), *args, **kw))  # noqa: E731
    direct = _mp_quad(S, med, kw.get("milestones", ()))
    assert sch.mean_exit_time(*args, **kw) == pytest.approx(direct, rel=1e-8)


@pytest.mark.parametrize("kw", POWER[:3] + MULTI)
def test_axis_probabilities_against_quadrature(kw):
    p = sch.exit_axis_probabilities(A2, E2, DM2, DP2, **kw)
    assert p.sum() == pytest.approx(1.0, abs=1e-10)
    med = sch.median_exit_time(A2, E2, DM2, DP2, **kw)
    k = box.axis_rates(A2, E2, DM2, DP2)
    for l in range(2):
        def f(u, l=l):
            u = float(u)
            direct = k[l] * (_intensity_direct(u, A2[l], E2[l], DM2[l], DP2[l], **kw) / k[l])
            return direct * math.exp(-sch.cumulative_intensity(u, A2, E2, DM2, DP2, **kw))
        assert p[l] == pytest.approx(_mp_quad(f, med, kw.get("milestones", ())), rel=1e-8)
    sides = sch.exit_side_probabilities(A2, E2, DM2, DP2, **kw)
    assert sides.sum(axis=1) == pytest.approx(p, rel=1e-13)


def test_constant_schedule_reduces_to_box():
    assert sch.mean_exit_time(A2, E2, DM2, DP2) == pytest.approx(box.mean_exit_time(A2, E2, DM2, DP2), rel=1e-14)
    assert sch.mean_exit_time(A2, E2, DM2, DP2, gamma=1.0) == pytest.approx(
        box.mean_exit_time(A2, E2, DM2, DP2), rel=1e-9)
    assert sch.mean_exit_time(A2, E2, DM2, DP2, milestones=[10.0], values=[1.0]) == pytest.approx(
        box.mean_exit_time(A2, E2, DM2, DP2), rel=1e-13)
    assert sch.exit_axis_probabilities(A2, E2, DM2, DP2) == pytest.approx(
        box.exit_axis_probabilities(A2, E2, DM2, DP2), rel=1e-14)


def test_sympy_power_law_derivation():
    import sympy as sp

    d = sch.derive_power_law()
    k, g, t0, u = d["k"], d["g"], d["t0"], d["u"]
    assert sp.simplify(sp.diff(d["Lambda"], u) - k * (u + t0) ** (g - 1)) == 0
    assert d["Lambda"].subs(u, 0) == 0
    mean0 = sp.gammasimp(d["mean"].subs(t0, 0))
    assert sp.simplify(mean0 - (g / k) ** (1 / g) * sp.gamma(1 + 1 / g)) == 0
    assert sp.simplify(mean0.subs(g, 1)) == 1 / k   # constant schedule: exponential law


def test_eps_scaling_exponent_power():
    for a, gam in [(1.5, 0.5), (1.2, 0.7), (1.8, 1.0)]:
        m1 = sch.mean_exit_time(a, 0.1, 1.0, 1.0, gamma=gam)
        m2 = sch.mean_exit_time(a, 0.05, 1.0, 1.0, gamma=gam)
        assert math.log(m2 / m1) / math.log(0.5) == pytest.approx(sch.eps_scaling_exponent(a, gam), rel=1e-10)


def test_paper_expressions():
    args = ([1.5, 1.5], 0.1, 1.0, 2.0)
    rho = 0.1
    with pytest.raises(ValueError, match="N >= 2"):
        sch.paper_mean_exit_time(1.5, 0.1, 1.0, 2.0, gamma=0.5, rho=rho)
    # common alpha: the paper's Thm 4.1 term = (beta_l/beta_S) A^-1 g^(-1-1/g) * exact one-axis mean
    g = 1 + (0.5 - 1) * (1.5 - 1)
    one_axis = sch.mean_exit_time(1.5, 0.1, 1.0, 2.0, gamma=0.5, measure="unit")
    from levydyn.theory.schedules import _paper_constants
    c = _paper_constants(*args, rho, "unit")
    expected = sum(0.5 / c["A"]) * g ** (-1 - 1 / g) * one_axis
    assert sch.paper_mean_exit_time(*args, gamma=0.5, rho=rho, measure="unit") == pytest.approx(expected, rel=1e-12)
    # gamma = 1: Thm 4.5 reduces to Cor 4.6
    u = np.array([0.0, 50.0, 400.0])
    assert sch.paper_survival(u, *args, gamma=1.0, rho=rho) == pytest.approx(
        sch.paper_survival_constant(u, *args, rho=rho), rel=1e-12)
    # Cor 4.6 is a valid (loose) bound: mixture of per-axis exponentials >= exact
    assert np.all(sch.paper_survival_constant(u, *args, rho=rho) >= sch.survival(u, *args))
    # Cor 4.2 scales as eps^(alpha (1 - 2 rho)), the exact mean as eps^-alpha
    r = sch.paper_mean_exit_time_constant([1.5, 1.5], 0.05, 1, 2, rho=rho) / sch.paper_mean_exit_time_constant(*args, rho=rho)
    assert r < 1 < sch.mean_exit_time([1.5, 1.5], 0.05, 1, 2) / sch.mean_exit_time(*args)


def test_bad_schedule_input():
    with pytest.raises(ValueError, match="milestones"):
        sch.mean_exit_time(1.5, 0.1, 1, 1, milestones=[10.0, 5.0], values=[0.5, 0.1])
    with pytest.raises(ValueError, match="gamma"):
        sch.mean_exit_time(1.5, 0.1, 1, 1, gamma=0.5, milestones=[1.0], values=[0.5])
    with pytest.raises(ValueError, match="gamma"):
        sch.mean_exit_time(1.5, 0.1, 1, 1, gamma=-1.0)
    with pytest.raises(ValueError, match="value"):
        sch.mean_exit_time(1.5, 0.1, 1, 1, milestones=[1.0], values=[0.0])


def test_numeric_forms_are_the_sympy_results():
    # run time uses the formulas written out (no sympy); they must equal the derived expressions
    import mpmath
    import sympy as sp

    from levydyn.theory import schedules as s

    d = sch.derive_power_law()
    k, g, t0, u, q = d["k"], d["g"], d["t0"], d["u"], d["q"]
    lam = sp.lambdify((k, g, t0, u), d["Lambda"], modules="mpmath")
    mean = sp.lambdify((k, g, t0), d["mean"], modules="mpmath")
    quant = sp.lambdify((k, g, t0, q), d["quantile"], modules="mpmath")
    with mpmath.workdps(40):
        for kk, gg, tt in [(0.01, 0.75, 1.0), (2.0, 1.3, 0.5), (0.003, 0.4, 20.0), (0.5, 0.9, 0.0)]:
            for uu in (1e-6, 0.3, 50.0):
                assert s._power_cumulative(kk, gg, tt, uu) == pytest.approx(float(lam(kk, gg, tt, uu)), rel=1e-13)
            assert s._power_quantile(kk, gg, tt, 0.7) == pytest.approx(float(quant(kk, gg, tt, 0.7)), rel=1e-13)
            ref = mean(kk, gg, tt) if tt else mean(kk, gg, mpmath.mpf("1e-30"))
            assert s._power_mean(kk, gg, tt) == pytest.approx(float(ref), rel=1e-12)
    e = sch.derive_segment_law()
    f = sp.lambdify((e["S0"], e["r"], e["Delta"]), e["mean"], modules="mpmath")
    assert s._segment_mean(0.4, 0.02, 30.0) == pytest.approx(float(f(0.4, 0.02, 30.0)), rel=1e-14)
    assert s._segment_mean(0.4, 0.02, math.inf) == pytest.approx(float(e["mean_last"].subs(
        {e["S0"]: 0.4, e["r"]: 0.02})), rel=1e-14)
    assert sp.simplify(e["axis"] - e["rl"] * e["mean"]) == 0      # axis term = r_l x mean term
