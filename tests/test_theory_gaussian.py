"""alpha = 2 (Brownian, N(0, 2) normalisation): exact exit times and the Kramers asymptotics."""
import math

import numba
import numpy as np
import pytest
from scipy import integrate

from levydyn.theory import gaussian as gs


def test_free_brownian_motion_closed_form():
    # U = 0: eps^2 T'' = -1, T = (x - a)(b - x) / (2 eps^2); sides linear in x
    eps, a, b = 0.3, -1.0, 2.0
    for x in (-0.5, 0.0, 1.5):
        assert gs.mean_exit_time(eps, a, b, potential=lambda y: 0.0, x0=x) == pytest.approx((x - a) * (b - x) / (2 * eps ** 2), rel=1e-10)
        assert gs.exit_side_probability(1, eps, a, b, potential=lambda y: 0.0, x0=x) == pytest.approx((x - a) / (b - a), rel=1e-12)


def test_linear_potential_against_sympy_ode_solution():
    import sympy as sp

    x = sp.Symbol("x")
    T = sp.Function("T")
    mu, eps, a, b = sp.Rational(1), sp.Rational(1, 2), -1, 2
    sol = sp.dsolve(eps ** 2 * T(x).diff(x, 2) - mu * T(x).diff(x) + 1, T(x), ics={T(a): 0, T(b): 0}).rhs
    for x0 in (-0.5, 0.5, 1.5):
        exact = float(sol.subs(x, x0))
        assert gs.mean_exit_time(float(eps), a, b, potential=lambda y: float(mu) * y, x0=x0) == pytest.approx(exact, rel=1e-9)


def test_quadratic_against_boundary_value_solver():
    eps, k, a, b = 0.4, 1.0, -1.0, 2.0

    def rhs(y, z):  # T' = z1, z1' = (U' T' - 1) / eps^2
        return np.vstack([z[1], (k * y * z[1] - 1.0) / eps ** 2])

    y = np.linspace(a, b, 2001)
    sol = integrate.solve_bvp(rhs, lambda za, zb: np.array([za[0], zb[0]]), y, np.zeros((2, y.size)),
                              tol=1e-10, max_nodes=200000)
    assert sol.success
    assert gs.mean_exit_time(eps, a, b, potential=lambda v: 0.5 * k * v * v, x0=0.0) == pytest.approx(float(sol.sol(0.0)[0]), rel=1e-6)


def test_side_probability_quadratic_by_symmetry_and_scale_function():
    U = lambda v: 0.5 * v * v  # noqa: E731
    assert gs.exit_side_probability(1, 0.3, -1.0, 1.0, potential=U, x0=0.0) == pytest.approx(0.5, rel=1e-12)
    eps = 0.5
    phi = lambda v: math.exp(U(v) / eps ** 2)  # noqa: E731
    s = integrate.quad(phi, -1, 0.2)[0] / integrate.quad(phi, -1, 1.5)[0]
    assert gs.exit_side_probability(1, eps, -1.0, 1.5, potential=U, x0=0.2) == pytest.approx(s, rel=1e-10)
    assert gs.exit_side_probability(-1, eps, -1.0, 1.5, potential=U, x0=0.2) == pytest.approx(1 - s, rel=1e-10)


def test_kramers_asymptotic_error_is_order_eps_squared():
    errs = []
    for eps in (0.3, 0.15):
        exact = gs.quadratic_mean_exit_time(eps, 1.0, 2.0, curvature=1.0)
        asym = gs.quadratic_mean_exit_time(eps, 1.0, 2.0, curvature=1.0, asymptotic=True)
        errs.append(abs(asym / exact - 1))
    assert errs[1] < 0.1
    assert errs[0] / errs[1] == pytest.approx(4.0, rel=0.25)   # halving eps quarters the error


def test_kramers_saddle_rate_double_well():
    # U = (x^2 - 1)^2 / 4: minima +-1 (U'' = 2), saddle 0 (U'' = -1), height 1/4. Exit of (-inf, 0]
    # from -1 approximated on (-3, 0) with the saddle as the absorbing end.
    U = lambda v: (v * v - 1) ** 2 / 4  # noqa: E731
    eps = 0.15
    exact = gs.mean_exit_time(eps, -3.0, 0.0, potential=U, x0=-1.0)
    rate = gs.boundary_rate(eps, curvature_min=2.0, height=0.25, saddle_curvature=1.0)
    assert exact * rate == pytest.approx(1.0, rel=0.05)
    assert gs.kramers_transition_rate(eps, curvature_min=2.0, saddle_curvature=1.0, height=0.25) == pytest.approx(rate / 2, rel=1e-14)


def test_bad_input():
    with pytest.raises(ValueError, match="measure"):
        gs.mean_exit_time(0.1, -1, 1, potential=lambda v: 0.0, x0=0, measure="unit")
    with pytest.raises(ValueError, match="x0"):
        gs.mean_exit_time(0.1, -1, 1, potential=lambda v: 0.0, x0=2)
    with pytest.raises(ValueError, match="slope"):
        gs.boundary_rate(0.1, curvature_min=1.0, height=0.5)


def test_far_wall_does_not_overflow_the_quadrature():
    # The wall at -3 (U = 16, 16/eps^2 = 711) must not swamp the saddle-dominated answer:
    # moving it from -2 to -3 changes T by a relative e^(-(2.25 - 0.25)/eps^2) ~ 1e-39.
    U = lambda v: (v * v - 1) ** 2 / 4  # noqa: E731
    t2 = gs.mean_exit_time(0.15, -2.0, 0.0, potential=U, x0=-1.0)
    t3 = gs.mean_exit_time(0.15, -3.0, 0.0, potential=U, x0=-1.0)
    assert np.isfinite(t3) and t3 == pytest.approx(t2, rel=1e-9)


def test_laplace_mean_exit_time_general_potential():
    from levydyn import Box, Custom, MultiWell1D, Quadratic

    # a quadratic through the general route equals the quadratic closed form
    q = Quadratic([1.0])
    assert gs.laplace_mean_exit_time(0.4, -1.0, 2.0, potential=q) == pytest.approx(
        gs.quadratic_mean_exit_time(0.4, 1.0, 2.0, curvature=1.0, asymptotic=True), rel=1e-9)
    # U = x^4/4 - x^2/2 on (-3, 0) from -1: a slope end at -3 (negligible) and a saddle end at 0;
    # the relative error against the exact mean is O(eps^2) (ratio of errors ~ ratio of eps^2)
    p = MultiWell1D((-1.0, 1.0), (0.0,))
    err = [gs.laplace_mean_exit_time(e, -3.0, 0.0, potential=p) / gs.mean_exit_time(e, -3.0, 0.0, potential=p,
                                                                                   x0=-1.0) - 1
           for e in (0.2, 0.1)]
    assert abs(err[1]) < abs(err[0]) < 0.1 and abs(err[1] / err[0]) == pytest.approx(0.25, abs=0.1)
    with pytest.raises(ValueError, match="barrier inside"):
        gs.laplace_mean_exit_time(0.3, Box([-3.0], [0.5]), potential=p)
    with pytest.raises(ValueError, match="value"):
        gs.mean_exit_time(0.3, -1.0, 1.0, potential=Custom(_linear_grad, 1))


@numba.njit("void(float64[::1], float64[::1], float64[::1])", cache=True)
def _linear_grad(x, params, out):
    out[0] = x[0]
