"""N-d box (paper 004, s = 1): rates, axis/side probabilities and Cor. 4.4."""
import numpy as np
import pytest

from levydyn.theory import box, exit_interval as ei
from levydyn.theory.levy_measure import c_alpha

ALPHA = [1.2, 1.5, 1.8]
EPS = [0.1, 0.05, 0.2]
DM = [1.0, 0.5, 2.0]
DP = [2.0, 0.5, 1.0]


@pytest.mark.parametrize("measure", ["sas", "unit"])
def test_box_is_product_of_independent_intervals(measure):
    rates = [ei.exit_rate(a, e, m, p, measure=measure) for a, e, m, p in zip(ALPHA, EPS, DM, DP)]
    assert box.axis_rates(ALPHA, EPS, DM, DP, measure=measure) == pytest.approx(rates, rel=1e-14)
    t = np.array([0.0, 10.0, 200.0])
    prod = np.prod([ei.survival(t, a, e, m, p, measure=measure) for a, e, m, p in zip(ALPHA, EPS, DM, DP)], axis=0)
    assert box.survival(t, ALPHA, EPS, DM, DP, measure=measure) == pytest.approx(prod, rel=1e-13)
    sp = box.exit_side_probabilities(ALPHA, EPS, DM, DP, measure=measure)
    assert sp.sum() == pytest.approx(1.0, abs=1e-15)
    assert box.exit_axis_probabilities(ALPHA, EPS, DM, DP, measure=measure) == pytest.approx(
        np.array(rates) / sum(rates), rel=1e-13)


def test_corollary_4_4_exact_ratio():
    eps = 0.05
    r = box.axis_ratio(0, 2, ALPHA, eps, DM, DP)
    expected = (c_alpha(1.2) * eps ** 1.2 * 2.0 ** -1.2 / 1.2) / (c_alpha(1.8) * eps ** 1.8 * 1.0 ** -1.8 / 1.8)
    assert r == pytest.approx(expected, rel=1e-13)
    sp = box.exit_side_probabilities(ALPHA, eps, DM, DP)
    assert r == pytest.approx(sp[0, 1] / sp[2, 1], rel=1e-13)
    # eps^(alpha_l - alpha_j) scaling: the heavier tail wins as eps -> 0
    r2 = box.axis_ratio(0, 2, ALPHA, eps / 10, DM, DP)
    assert r2 / r == pytest.approx(10 ** (1.8 - 1.2), rel=1e-12)


def test_paper_eq20_is_not_an_upper_bound_for_heavier_axis():
    # exact ratio / paper bound = alpha_j/alpha_l * eps^(rho (alpha_l - alpha_j)) > 1 for alpha_l < alpha_j
    a, eps, rho = [1.2, 1.8], 0.1, 0.2
    exact = box.axis_ratio(0, 1, a, eps, 1.0, 1.0, measure="unit")
    paper = box.paper_axis_ratio_bound(0, 1, a, eps, 1.0, 1.0, rho=rho, measure="unit")
    assert exact / paper == pytest.approx(1.8 / 1.2 * eps ** (rho * (1.2 - 1.8)), rel=1e-12)
    assert exact > paper


def test_conventions_differ_with_unequal_alpha():
    p_sas = box.exit_axis_probabilities([1.2, 1.8], 0.1, 1.0, 1.0, measure="sas")
    p_unit = box.exit_axis_probabilities([1.2, 1.8], 0.1, 1.0, 1.0, measure="unit")
    odds = (p_sas[0] / p_sas[1]) / (p_unit[0] / p_unit[1])
    assert odds == pytest.approx(c_alpha(1.2) / c_alpha(1.8), rel=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        box.total_rate([1.5, 2.5], 0.1, 1, 1)
    with pytest.raises(ValueError, match="eps"):
        box.total_rate([1.5, 1.5], [0.1, 0.1, 0.1], 1, 1)
    with pytest.raises(ValueError, match="l="):
        box.axis_ratio(3, 0, [1.5, 1.5], 0.1, 1, 1)
