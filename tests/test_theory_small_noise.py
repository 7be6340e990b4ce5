"""First-order small-noise corrections: an independent (Fubini-swapped) quadrature and limits."""
import mpmath
import numpy as np
import pytest

from levydyn.theory import markov_chain as mc, small_noise as sn
from levydyn.theory.levy_measure import c_alpha


@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8])
def test_symmetric_interval_against_swapped_integral(alpha):
    # delta_lambda = int over landing y of nu(y) int_{y -> 0} [lam(x) - lam(0)] / (h |x|) dx.
    # Swapping the order: a point x on the way back is passed by every landing y beyond it, so
    # (lam even for a symmetric interval) delta_lambda = int_0^d 2 (lam(x) - lam(0)) / (h x) nu((x, d)) dx.
    # Evaluated with mpmath at 30 digits, the second difference near 0 as a binomial series.
    mpmath.mp.dps = 30
    a, eps, d, h = mpmath.mpf(alpha), mpmath.mpf("0.1"), mpmath.mpf(1), mpmath.mpf(2)
    k = mpmath.mpf(c_alpha(alpha)) * eps ** a / a
    lam = lambda x: k * ((d + x) ** -a + (d - x) ** -a)   # noqa: E731
    mass = lambda x: k * (x ** -a - d ** -a)              # noqa: E731  nu((x, d))
    coef = [mpmath.mpf(1)]
    for n in range(1, 80):
        coef.append(coef[-1] * (-a - n + 1) / n)           # binom(-alpha, n)

    def second_diff(x):                                     # 2 (lam(x) - lam(0))
        u = x / d
        if u < 0.3:
            return 2 * k * d ** -a * sum(2 * coef[n] * u ** n for n in range(2, 80, 2))
        return 2 * (lam(x) - lam(0))

    q = 1 / (2 - a)       # x = v^q and x = d - v^q remove the x^(1-a), (d-x)^(1-a) end singularities
    g0 = lambda v: second_diff(v ** q) / (h * v ** q) * mass(v ** q) * q * v ** (q - 1)  # noqa: E731

    def g1(v):
        w = v ** q
        return (2 * (k * ((2 * d - w) ** -a + w ** -a) - lam(0)) / (h * (d - w))
                * k * ((d - w) ** -a - d ** -a) * q * v ** (q - 1))

    half = (d / 2) ** (2 - a)
    delta = mpmath.quad(g0, [0, half / 100, half]) + mpmath.quad(g1, [0, half / 100, half])
    expected = float(delta / lam(0))
    r = sn.interval_rates(alpha, 0.1, 1.0, 1.0, curvature=2.0)
    assert r["relative"] == pytest.approx(expected, rel=1e-8)
    assert r["side_plus_1"] == pytest.approx(0.5, abs=1e-9)


def test_correction_is_order_eps_alpha():
    a = 1.5
    r1 = sn.interval_rates(a, 0.01, 1.0, 2.0)["relative"]
    r2 = sn.interval_rates(a, 0.02, 1.0, 2.0)["relative"]
    assert r1 > 0 and r2 / r1 == pytest.approx(2 ** a, rel=2e-3)
    assert sn.interval_rates(a, 0.1, 1.0, 2.0, measure="unit")["relative"] > \
        sn.interval_rates(a, 0.1, 1.0, 2.0, measure="sas")["relative"]   # unit measure: more jumps


def test_well_generator_limits():
    g = lambda x: (x + 1) * x * (x - 2)  # noqa: E731
    Q, Q1 = sn.well_generator(1.5, 0.1, [-1.0, 2.0], [0.0], grad=g)
    assert Q == pytest.approx(mc.generator(1.5, 0.1, [-1.0, 2.0], [0.0]), rel=1e-13)
    assert np.allclose(Q1.sum(axis=1), 0.0, atol=1e-15)
    # the flat saddle makes the well-1 -> well-2 correction larger than the quadratic-interval one
    assert Q1[0, 1] / Q[0, 1] - 1 > sn.interval_rates(1.5, 0.1, 1.0, 3.0, curvature=3.0)["relative"]
    _, Q1s = sn.well_generator(1.5, 1e-4, [-1.0, 2.0], [0.0], grad=g)
    assert Q1s / mc.generator(1.5, 1e-4, [-1.0, 2.0], [0.0]) == pytest.approx(
        np.ones((2, 2)), rel=1e-4)
