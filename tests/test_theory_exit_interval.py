"""Theorem 1 (paper 000): exit rate, law and sides against quadrature of the Levy measure."""
import math

import numpy as np
import pytest
from scipy import integrate

from levydyn.theory import exit_interval as ei
from levydyn.theory.levy_measure import c_alpha

CASES = [(1.2, 0.1, 1.0, 2.0), (1.5, 0.05, 0.5, 0.5), (1.8, 0.2, 3.0, 1.0), (0.7, 0.1, 1.0, np.inf)]


def _rate_by_quadrature(alpha, eps, dm, dp, C):
    """Mass of the jumps eps*y leaving (-dm, dp): int over |y| beyond d/eps of C |y|^(-1-alpha)."""
    f = lambda y: C * y ** (-1 - alpha)  # noqa: E731
    total = 0.0
    for d in (dm, dp):
        if np.isfinite(d):
            total += integrate.quad(f, d / eps, np.inf, epsabs=0, epsrel=1e-12)[0]
    return total


@pytest.mark.parametrize("alpha,eps,dm,dp", CASES)
@pytest.mark.parametrize("measure", ["sas", "unit"])
def test_rate_is_levy_mass_of_exit_set(alpha, eps, dm, dp, measure):
    C = c_alpha(alpha) if measure == "sas" else 1.0
    expected = _rate_by_quadrature(alpha, eps, dm, dp, C)
    assert ei.exit_rate(alpha, eps, dm, dp, measure=measure) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("alpha,eps,dm,dp", CASES)
def test_law_summaries_agree(alpha, eps, dm, dp):
    mean = ei.mean_exit_time(alpha, eps, dm, dp)
    by_quad = integrate.quad(lambda t: ei.survival(t, alpha, eps, dm, dp), 0, np.inf,
                             epsabs=0, epsrel=1e-12)[0]
    assert mean == pytest.approx(by_quad, rel=1e-9)
    med = ei.median_exit_time(alpha, eps, dm, dp)
    assert ei.survival(med, alpha, eps, dm, dp) == pytest.approx(0.5, rel=1e-12)
    qs = ei.exit_time_quantile([0.1, 0.9], alpha, eps, dm, dp)
    assert ei.survival(qs, alpha, eps, dm, dp) == pytest.approx([0.9, 0.1], rel=1e-12)
    p_plus = ei.side_probability(+1, alpha, eps, dm, dp)
    assert p_plus + ei.side_probability(-1, alpha, eps, dm, dp) == pytest.approx(1.0, abs=1e-15)


def test_side_probability_depends_on_width_only():
    # d^-alpha weighting: twice as far => 2^-alpha times as likely, whatever eps
    a = 1.5
    p = ei.side_probability(+1, a, 0.01, 1.0, 2.0)
    assert p == pytest.approx(2 ** -a / (1 + 2 ** -a), rel=1e-14)
    assert ei.side_probability(+1, a, 0.3, 1.0, 2.0) == pytest.approx(p, rel=1e-14)
    assert ei.side_probability(+1, a, 0.1, 1.0, np.inf) == 0.0


def test_eps_scaling():
    a = 1.3
    m1, m2 = ei.mean_exit_time(a, 0.1, 1, 1), ei.mean_exit_time(a, 0.05, 1, 1)
    assert math.log(m2 / m1) / math.log(0.5) == pytest.approx(ei.eps_scaling_exponent(a), rel=1e-12)


@pytest.mark.parametrize("kwargs,field", [
    (dict(alpha=2.0), "alpha"), (dict(eps=0.0), "eps"), (dict(d_minus=-1.0), "d_minus"),
    (dict(d_minus=np.inf, d_plus=np.inf), "d_minus"), (dict(measure="SaS"), "measure"),
])
def test_bad_input(kwargs, field):
    args = dict(alpha=1.5, eps=0.1, d_minus=1.0, d_plus=1.0, measure="sas")
    args.update(kwargs)
    with pytest.raises(ValueError, match=field):
        ei.exit_rate(**args)
    with pytest.raises(ValueError, match="side"):
        ei.side_probability(0, 1.5, 0.1, 1, 1)
    with pytest.raises(ValueError, match="p"):
        ei.exit_time_quantile(1.0, 1.5, 0.1, 1, 1)
