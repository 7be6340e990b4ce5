import pytest
from scipy.integrate import quad

from levydyn.model.schedules import Constant, MultiStep, Power, parse_schedule

SCHEDULES = [Constant(), Power(0.5), Power(0.3, 1.0), Power(1.0), MultiStep((2.0, 5.0), (0.5, 0.1))]


@pytest.mark.parametrize("sched", SCHEDULES, ids=str)
@pytest.mark.parametrize("alpha", [0.7, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("a,b", [(0.5, 7.3), (0.0, 1.0), (2.0, 2.01), (4.9, 5.2)])
def test_integrated_scale_matches_quadrature(sched, alpha, a, b):
    f = lambda u: float(sched.rate(u)) ** (alpha - 1)
    ref = quad(f, a, b, points=[2.0, 5.0] if a < 2 < b or a < 5 < b else None, limit=200)[0]
    assert sched.integrated(alpha, a, b) == pytest.approx(ref, rel=1e-8, abs=1e-12)


def test_power_log_case():
    # (gamma - 1)(alpha - 1) = -1 gives a logarithm: gamma -> 0 is excluded, so check the
    # closest admissible case stays finite and matches quadrature
    s = Power(1e-3, 1.0)
    ref = quad(lambda u: float(s.rate(u)) ** 1.0, 0.0, 3.0)[0]
    assert s.integrated(2.0, 0.0, 3.0) == pytest.approx(ref, rel=1e-8)


def test_multistep_levels():
    s = MultiStep((1.0, 3.0), (0.5, 0.25))
    assert s.rate([0.0, 0.99, 1.0, 2.0, 3.0, 10.0]).tolist() == [1, 1, 0.5, 0.5, 0.25, 0.25]


def test_parse():
    assert isinstance(parse_schedule("constant"), Constant)
    assert parse_schedule("power:0.5") == Power(0.5)
    assert parse_schedule("power:0.5:2") == Power(0.5, 2.0)
    assert parse_schedule("multistep:10,20:0.1,0.01") == MultiStep((10.0, 20.0), (0.1, 0.01))


@pytest.mark.parametrize("text", ["cosine", "power", "power:x", "multistep:1,2:0.5", "constant:3"])
def test_parse_errors_name_the_value(text):
    with pytest.raises(ValueError) as err:
        parse_schedule(text)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("gamma", [0.0, -0.5, 1.5, float("nan")])
def test_power_bad_gamma(gamma):
    with pytest.raises(ValueError, match="gamma"):
        Power(gamma)


def test_multistep_bad():
    with pytest.raises(ValueError, match="increasing"):
        MultiStep((2.0, 1.0), (0.5, 0.1))
    with pytest.raises(ValueError, match="value"):
        MultiStep((1.0,), (0.0,))
