"""c_alpha: sympy derivation vs textbook form, numeric quadrature, and scipy's SaS tails."""
import math

import numpy as np
import pytest
from scipy import integrate, stats

from levydyn.theory import exit_interval, levy_measure as lm

ALPHAS = [0.5, 1.0, 1.2, 1.5, 1.8, 1.95]


def test_sympy_derivation_equals_textbook_form():
    import sympy as sp

    a, expr = lm.derive_c_alpha()
    ratio = sp.gammasimp(sp.expand_func(sp.combsimp(expr / lm.c_alpha_textbook())))
    assert sp.simplify(ratio) == 1


@pytest.mark.parametrize("alpha", ALPHAS)
def test_c_alpha_numeric_matches_textbook(alpha):
    textbook = math.gamma(1 + alpha) * math.sin(math.pi * alpha / 2) / math.pi
    assert lm.c_alpha(alpha) == pytest.approx(textbook, rel=1e-13)


def test_c_alpha_special_values():
    assert lm.c_alpha(1.0) == 1 / math.pi                     # exact (Cauchy)
    assert lm.c_alpha(2.0) == 0.0                             # exact: Brownian motion has no jumps
    assert 0 < lm.c_alpha(1.999999) < 1e-5                    # continuous into the Brownian limit


def test_c_alpha_is_the_one_implementation_and_vectorised():
    import levydyn
    from levydyn.model import noise
    assert lm.c_alpha is noise.c_alpha is levydyn.c_alpha
    a = np.array([[0.5, 1.0], [1.5, 2.0]])
    c = lm.c_alpha(a)
    assert isinstance(c, np.ndarray) and c.shape == a.shape
    assert c.tolist() == [[lm.c_alpha(float(v)) for v in row] for row in a]
    assert isinstance(lm.c_alpha(1.5), float)


def test_c_alpha_matches_sympy_derivation_and_ignores_mpmath_precision():
    import mpmath
    import sympy as sp

    a, expr = lm.derive_c_alpha()
    f = sp.lambdify(a, expr, modules="mpmath")
    with mpmath.workdps(40):
        exact = [f(mpmath.mpf(x)) for x in ALPHAS]
    before = [lm.c_alpha(x) for x in ALPHAS]
    old = mpmath.mp.dps
    try:
        mpmath.mp.dps = 5          # a caller lowering mpmath's global precision changes nothing
        assert [lm.c_alpha(x) for x in ALPHAS] == before
    finally:
        mpmath.mp.dps = old
    for x, c, e in zip(ALPHAS, before, exact):
        assert c == pytest.approx(float(e), rel=1e-14), x


def _exponent_by_quadrature(w, alpha, C):
    """2 C int_0^inf (1 - cos(w y)) y^(-1-alpha) dy by quadrature (cos-weighted tail)."""
    near = integrate.quad(lambda y: 2 * math.sin(w * y / 2) ** 2 * y ** (-1 - alpha), 0, 1,
                          epsabs=0, epsrel=1e-12, limit=200)[0]  # 1 - cos = 2 sin^2, no cancellation
    far_const = 1.0 / alpha                                   # int_1^inf y^(-1-alpha)
    far_cos = integrate.quad(lambda y: y ** (-1 - alpha), 1, np.inf, weight="cos", wvar=w,
                             epsabs=1e-12, limlst=200)[0]
    return 2 * C * (near + far_const - far_cos)


@pytest.mark.parametrize("alpha", [0.5, 1.2, 1.5, 1.8])
@pytest.mark.parametrize("w", [0.7, 2.0])
def test_levy_measure_reproduces_characteristic_exponent(alpha, w):
    # E exp(iwZ) = exp(-|w|^alpha) <=> int (1 - cos wy) c_alpha |y|^(-1-alpha) dy = |w|^alpha
    assert _exponent_by_quadrature(w, alpha, lm.c_alpha(alpha)) == pytest.approx(abs(w) ** alpha, rel=1e-8)
    assert lm.characteristic_exponent(w, alpha, measure="sas") == pytest.approx(abs(w) ** alpha, rel=1e-13)
    unit = _exponent_by_quadrature(w, alpha, 1.0)
    assert lm.characteristic_exponent(w, alpha, measure="unit") == pytest.approx(unit, rel=1e-8)


@pytest.mark.parametrize("alpha", [1.2, 1.5])
def test_scipy_sas_tail_matches_sas_measure(alpha):
    # P(Z > x) ~ c_alpha x^-alpha / alpha for scipy's levy_stable(alpha, 0), scale 1; the
    # next term is O(x^-2 alpha), so at x = 200 the relative gap is below 1e-2.
    x = 200.0
    sf = stats.levy_stable.sf(x, alpha, 0.0)
    assert sf == pytest.approx(lm.tail_mass(x, alpha, measure="sas"), rel=1e-2)
    assert abs(sf / lm.tail_mass(x, alpha, measure="unit") - 1) > 0.5  # the unit measure is off


@pytest.mark.parametrize("alpha", ALPHAS)
def test_conventions_convert_consistently(alpha):
    eps = 0.1
    r_sas = exit_interval.exit_rate(alpha, eps, 1.0, 2.0, measure="sas")
    r_unit = exit_interval.exit_rate(alpha, eps, 1.0, 2.0, measure="unit")
    assert lm.convert_rate(r_unit, alpha, "unit", "sas") == pytest.approx(r_sas, rel=1e-13)
    assert lm.convert_rate(r_sas, alpha, "sas", "unit") == pytest.approx(r_unit, rel=1e-13)
    eps_unit = lm.equivalent_eps(eps, alpha, "sas", "unit")
    assert exit_interval.exit_rate(alpha, eps_unit, 1.0, 2.0, measure="unit") == pytest.approx(r_sas, rel=1e-12)


def test_bad_inputs_name_the_field():
    with pytest.raises(ValueError, match="measure"):
        lm.measure_constant(1.5, measure="gauss")
    with pytest.raises(ValueError, match="alpha"):
        lm.measure_constant(2.0)                             # no jumps: no Levy-measure convention
    with pytest.raises(ValueError, match="alpha=2.5"):
        lm.c_alpha(2.5)
    with pytest.raises(ValueError, match="alpha"):
        lm.c_alpha("x")
    with pytest.raises(ValueError, match="alpha"):
        lm.c_alpha(-0.1)
    with pytest.raises(ValueError, match="x="):
        lm.tail_mass(0.0, 1.5)
