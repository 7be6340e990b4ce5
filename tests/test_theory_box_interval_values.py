"""Box and interval exit laws (theory/box.py, theory/exit_interval.py) against hand values.

Every expected number is computed here from the formulas written out again (paper 004
eqs. 12-13, Thm 4.3, Cor. 4.4, eq. 20; paper 000 eqs. 11-12), with the SaS(1) Levy
constant from the duplication-formula form

    c_alpha = alpha 2^(alpha-1) Gamma((1+alpha)/2) / (sqrt(pi) Gamma(1 - alpha/2)),

not from levydyn's ``Gamma(1+alpha) sin(pi alpha/2) / pi``. Written to kill the mutants
of ``tests/mutation/run_mutation.sh theory_box`` that survived (defaults, sides, axis
indices, the eq. 20 exponents). Pure arithmetic: rtol 1e-12.
"""
import math

import numpy as np
import pytest

from levydyn.theory import box, exit_interval as iv

A, E = np.array([1.5, 1.2]), np.array([0.3, 0.5])
DM, DP = np.array([1.0, 2.0]), np.array([2.0, 0.5])


def c_sas(a):
    return a * 2 ** (a - 1) * math.gamma((1 + a) / 2) / (math.sqrt(math.pi) * math.gamma(1 - a / 2))


def hand_side_rates(C):
    return np.array([[E[l] ** A[l] * C[l] * d ** -A[l] / A[l] for d in (DM[l], DP[l])]
                     for l in range(2)])


UNIT = hand_side_rates([1.0, 1.0])
SAS = hand_side_rates([c_sas(a) for a in A])


@pytest.mark.parametrize("kw,ref", [(dict(measure="unit"), UNIT), ({}, SAS),
                                    (dict(measure="sas"), SAS)])
def test_box_rates_probabilities_and_times(kw, ref):
    args = (A, E, DM, DP)
    np.testing.assert_allclose(box.side_rates(*args, **kw), ref, rtol=1e-12)
    np.testing.assert_allclose(box.axis_rates(*args, **kw), ref.sum(axis=1), rtol=1e-12)
    lam = ref.sum()
    assert box.total_rate(*args, **kw) == pytest.approx(lam, rel=1e-12)
    assert box.mean_exit_time(*args, **kw) == pytest.approx(1 / lam, rel=1e-12)
    np.testing.assert_allclose(box.survival([0.0, 1.3, 40.0], *args, **kw),
                               np.exp(-lam * np.array([0.0, 1.3, 40.0])), rtol=1e-12)
    np.testing.assert_allclose(box.exit_time_quantile([0.5, 0.9], *args, **kw),
                               [math.log(2) / lam, math.log(10) / lam], rtol=1e-12)
    np.testing.assert_allclose(box.exit_side_probabilities(*args, **kw), ref / lam, rtol=1e-12)
    np.testing.assert_allclose(box.exit_axis_probabilities(*args, **kw), ref.sum(1) / lam,
                               rtol=1e-12)
    for side, col in ((1, 1), (-1, 0)):
        assert box.axis_ratio(0, 1, *args, side=side, **kw) == pytest.approx(
            ref[0, col] / ref[1, col], rel=1e-12)
        assert box.axis_ratio(1, 0, *args, side=side, **kw) == pytest.approx(
            ref[1, col] / ref[0, col], rel=1e-12)


def test_box_default_side_is_plus_and_infinite_faces_give_no_rate():
    assert box.axis_ratio(0, 1, A, E, DM, DP) == pytest.approx(SAS[0, 1] / SAS[1, 1], rel=1e-12)
    inf = np.array([np.inf, np.inf])
    np.testing.assert_array_equal(box.side_rates(A, E, inf, DP)[:, 0], [0.0, 0.0])
    # eps^alpha underflows to 0 (1e-450): the rate is 0 and the mean time infinite
    assert box.mean_exit_time(A, [1e-300, 1e-300], DM, DP) == np.inf


@pytest.mark.parametrize("l,j,name", [(2, 0, "l"), (-1, 0, "l"), (0, 2, "j"), (1.0, 0, "l"),
                                      (0, 5, "j")])
def test_box_axis_indices_out_of_range_name_the_argument(l, j, name):
    for fn in (lambda: box.axis_ratio(l, j, A, E, DM, DP),
               lambda: box.paper_axis_ratio_bound(l, j, A, E, DM, DP, rho=0.3)):
        with pytest.raises(ValueError, match=rf"{name} must be an axis index in \[0, 2\), got "
                                             rf"{name}="):
            fn()


@pytest.mark.parametrize("side", [1, -1])
@pytest.mark.parametrize("measure", ["unit", "sas"])
def test_paper_eq20_bound_by_hand(side, measure):
    rho = 0.3
    d = DP if side == 1 else DM
    C = [1.0, 1.0] if measure == "unit" else [c_sas(a) for a in A]
    ref = (C[0] * E[0] ** (A[0] * (1 - rho)) * d[0] ** -A[0]) / \
          (C[1] * E[1] ** (A[1] * (1 - rho)) * d[1] ** -A[1])
    got = box.paper_axis_ratio_bound(0, 1, A, E, DM, DP, rho=rho, side=side, measure=measure)
    assert got == pytest.approx(ref, rel=1e-12)
    if side == 1 and measure == "unit":     # the defaults: side +1, the paper's unit measure
        assert box.paper_axis_ratio_bound(0, 1, A, E, DM, DP, rho=rho) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("kw,C", [({}, c_sas(1.5)), (dict(measure="sas"), c_sas(1.5)),
                                  (dict(measure="unit"), 1.0)])
def test_interval_laws_by_hand(kw, C):
    a, e, dm, dp = 1.5, 0.2, 0.7, 1.9
    lm, lp = e ** a * C * dm ** -a / a, e ** a * C * dp ** -a / a
    assert iv.side_rates(a, e, dm, dp, **kw) == pytest.approx((lm, lp), rel=1e-12)
    lam = lm + lp
    assert iv.exit_rate(a, e, dm, dp, **kw) == pytest.approx(lam, rel=1e-12)
    assert iv.mean_exit_time(a, e, dm, dp, **kw) == pytest.approx(1 / lam, rel=1e-12)
    assert iv.median_exit_time(a, e, dm, dp, **kw) == pytest.approx(math.log(2) / lam, rel=1e-12)
    np.testing.assert_allclose(iv.exit_time_quantile([0.25, 0.9], a, e, dm, dp, **kw),
                               [-math.log(0.75) / lam, math.log(10) / lam], rtol=1e-12)
    np.testing.assert_allclose(iv.survival([0.0, 3.0], a, e, dm, dp, **kw),
                               [1.0, math.exp(-3 * lam)], rtol=1e-12)
    assert iv.side_probability(1, a, e, dm, dp, **kw) == pytest.approx(lp / lam, rel=1e-12)
    assert iv.side_probability(-1, a, e, dm, dp, **kw) == pytest.approx(lm / lam, rel=1e-12)


def test_interval_one_sided_well():
    """An infinite side contributes nothing: all exits go through the finite end."""
    a, e = 1.5, 0.2
    lam = e ** a * c_sas(a) * 0.7 ** -a / a
    assert iv.side_rates(a, e, 0.7, math.inf) == pytest.approx((lam, 0.0), rel=1e-12)
    assert iv.side_rates(a, e, math.inf, 0.7) == pytest.approx((0.0, lam), rel=1e-12)
    assert iv.side_probability(1, a, e, math.inf, 0.7) == 1.0
    assert iv.mean_exit_time(a, 1e-300, 0.7, math.inf) == math.inf     # eps^a underflows


@pytest.mark.parametrize("eps", [0.0, -0.1, float("nan")])
def test_interval_bad_eps_names_eps(eps):
    with pytest.raises(ValueError, match=r"\beps\b"):
        iv.side_rates(1.5, eps, 1.0, 1.0)
