"""levy_measure conversions against hand values (mutation survivors of theory/levy_measure.py).

The SaS(1) constant is written here in its duplication-formula form
``c = alpha 2^(alpha-1) Gamma((1+alpha)/2) / (sqrt(pi) Gamma(1 - alpha/2))`` (not levydyn's
``Gamma(1+alpha) sin(pi alpha/2)/pi``); every expected value follows from the docstrings'
formulas by hand. Pure arithmetic: rtol 1e-12.
"""
import math

import numpy as np
import pytest

from levydyn.theory import levy_measure as lm


def c_sas(a):
    return a * 2 ** (a - 1) * math.gamma((1 + a) / 2) / (math.sqrt(math.pi) * math.gamma(1 - a / 2))


def test_measure_constants_per_axis_and_default():
    alphas = [0.5, 1.0, 1.5, 1.9]
    ref = [c_sas(a) for a in alphas]
    np.testing.assert_allclose(lm.measure_constants(alphas), ref, rtol=1e-12)
    np.testing.assert_allclose(lm.measure_constants(alphas, "sas"), ref, rtol=1e-12)
    np.testing.assert_array_equal(lm.measure_constants(alphas, "unit"), np.ones(4))
    np.testing.assert_allclose(lm.measure_constants(1.5), [c_sas(1.5)], rtol=1e-12)


def test_tail_mass_by_hand_and_bad_x():
    assert lm.tail_mass(2.0, 1.5) == pytest.approx(c_sas(1.5) * 2.0 ** -1.5 / 1.5, rel=1e-12)
    assert lm.tail_mass(2.0, 1.5, measure="unit") == pytest.approx(2.0 ** -1.5 / 1.5, rel=1e-12)
    assert lm.tail_mass(0.3, 0.7, measure="sas") == pytest.approx(
        c_sas(0.7) * 0.3 ** -0.7 / 0.7, rel=1e-12)
    for x in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match=r"x must be positive, got x="):
            lm.tail_mass(x, 1.5)


def test_characteristic_exponent_both_conventions():
    w = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(lm.characteristic_exponent(w, 1.3), np.abs(w) ** 1.3, rtol=1e-12)
    np.testing.assert_allclose(lm.characteristic_exponent(w, 1.3, measure="sas"),
                               np.abs(w) ** 1.3, rtol=1e-12)
    np.testing.assert_allclose(lm.characteristic_exponent(w, 1.3, measure="unit"),
                               np.abs(w) ** 1.3 / c_sas(1.3), rtol=1e-12)


@pytest.mark.parametrize("rate", [2.5, [2.5, 0.1]])
def test_convert_rate_both_ways(rate):
    c = c_sas(1.5)
    r = np.asarray(rate, float)
    np.testing.assert_allclose(lm.convert_rate(rate, 1.5, "unit", "sas"), r * c, rtol=1e-12)
    np.testing.assert_allclose(lm.convert_rate(rate, 1.5, "sas", "unit"), r / c, rtol=1e-12)
    np.testing.assert_allclose(lm.convert_rate(rate, 1.5, "sas", "sas"), r, rtol=1e-12)
    assert isinstance(lm.convert_rate(rate, 1.5, "unit", "sas"), float if np.ndim(rate) == 0
                      else np.ndarray)


@pytest.mark.parametrize("eps", [0.2, [0.2, 0.05]])
def test_equivalent_eps_both_ways_gives_the_same_levy_mass(eps):
    """eps' = eps (C_from / C_to)^(1/alpha): C_to eps'^alpha equals C_from eps^alpha."""
    a, c = 1.5, c_sas(1.5)
    e = np.asarray(eps, float)
    to_unit = lm.equivalent_eps(eps, a, "sas", "unit")
    np.testing.assert_allclose(to_unit, e * c ** (1 / a), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(to_unit) ** a, c * e ** a, rtol=1e-12)
    np.testing.assert_allclose(lm.equivalent_eps(eps, a, "unit", "sas"), e * c ** (-1 / a),
                               rtol=1e-12)
    assert isinstance(to_unit, float if np.ndim(eps) == 0 else np.ndarray)
