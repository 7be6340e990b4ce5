"""The one door: closed_forms(problem) picks the same closed forms as the modules, with terms."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from levydyn import (Ackley2D, Ball, Box, MultiStep, MultiWell1D, Power, Problem, Quadratic,
                     WellPartition, c_alpha)
from levydyn.theory import (box, closed_forms, exit_interval, gaussian, markov_chain, schedules,
                            small_noise)

INTERVAL = Box.around([0.0], [1.0], [2.0])
BOX = Box.around([0.0, 0.0], [1.0, 1.0], [2.0, 1.0])
WELLS = MultiWell1D((-1.0, 2.0), (0.0,))


def _interval(alpha=1.5, eps=0.1, **kw):
    return Problem(Quadratic([1.0]), alpha=alpha, eps=eps, domain=INTERVAL, **kw)


def test_interval_is_theorem_1_and_its_first_order():
    cf = closed_forms(_interval())
    assert cf.model == "exit_interval small-noise limit" and cf.kind == "levy"
    args = (1.5, 0.1, 1.0, 2.0)
    assert cf.value("mean_exit_time") == exit_interval.mean_exit_time(*args)
    assert cf.value("median_exit_time") == exit_interval.median_exit_time(*args)
    assert cf.value("survival")(np.array([1.0, 50.0])) == pytest.approx(exit_interval.survival([1.0, 50.0], *args),
                                                                        rel=0, abs=0)
    assert cf.value("exit_time_quantile")(0.9) == exit_interval.exit_time_quantile(0.9, *args)
    assert cf.value("exit_side_probabilities")[0, 1] == exit_interval.side_probability(1, *args)
    assert cf.value("eps_scaling_exponent") == -1.5
    fo = small_noise.interval_rates(*args, curvature=1.0)
    assert cf.value("mean_exit_time_first_order") == 1.0 / fo["rate_1"]
    assert cf.value("exit_side_probabilities_first_order")[0, 1] == fo["side_plus_1"]
    assert cf["mean_exit_time"].regime.startswith("small-noise limit")
    assert "first order" in cf["mean_exit_time_first_order"].regime
    assert "c_alpha" in cf["mean_exit_time"].convention and "paper 000" in cf["mean_exit_time"].source


def test_every_form_states_its_terms_and_describe_is_json():
    for prob in (_interval(), _interval(schedule=Power(0.5)),
                 Problem(Quadratic([1.0, 1.0]), [1.2, 1.8], [0.02, 0.1], BOX),
                 Problem(WELLS, 1.5, 0.1, WellPartition.of(WELLS)),
                 Problem(WELLS, 2.0, 0.4, WellPartition.of(WELLS)), _interval(alpha=2.0, eps=0.4)):
        cf = closed_forms(prob)
        assert len(cf) > 0 and cf.kind in ("levy", "brownian")
        for q, form in cf.items():
            assert form.quantity == q
            assert all(isinstance(t, str) and t for t in (form.regime, form.assumptions, form.convention,
                                                          form.source, form.function))
        json.dumps(cf.describe())


def test_unit_measure_rates_differ_by_c_alpha():
    sas, unit = closed_forms(_interval()), closed_forms(_interval(), measure="unit")
    assert sas.value("mean_exit_time") * c_alpha(1.5) == pytest.approx(unit.value("mean_exit_time"), rel=1e-14)
    assert "unit Levy measure" in unit["mean_exit_time"].convention
    with pytest.raises(ValueError, match="measure"):
        closed_forms(_interval(), measure="stable")


def test_box_and_schedules_match_their_modules():
    prob = Problem(Quadratic([1.0, 1.0]), [1.2, 1.8], [0.02, 0.1], BOX)
    cf = closed_forms(prob)
    args = ([1.2, 1.8], [0.02, 0.1], [1.0, 1.0], [2.0, 1.0])
    assert cf.model == "box small-noise limit"
    assert cf.value("mean_exit_time") == box.mean_exit_time(*args)
    np.testing.assert_array_equal(cf.value("exit_axis_probabilities"), box.exit_axis_probabilities(*args))
    np.testing.assert_array_equal(cf.value("exit_side_rates"), box.side_rates(*args))
    first = cf.value("exit_side_rates_first_order")
    for l in range(2):
        fo = small_noise.interval_rates(args[0][l], args[1][l], args[2][l], args[3][l], curvature=1.0)
        assert first[l].sum() == pytest.approx(fo["rate_1"], rel=1e-15)
    for sched, kw in ((Power(0.5, 1.0), {"gamma": 0.5, "t0": 1.0}),
                      (MultiStep((50.0, 150.0), (0.5, 0.1)), {"milestones": [50.0, 150.0], "values": [0.5, 0.1]})):
        cs = closed_forms(Problem(Quadratic([1.0, 1.0]), [1.2, 1.8], [0.02, 0.1], BOX, schedule=sched))
        assert cs.model == "schedules small-noise limit"
        assert cs.value("mean_exit_time") == schedules.mean_exit_time(*args, **kw)
        np.testing.assert_array_equal(cs.value("exit_side_probabilities"),
                                      schedules.exit_side_probabilities(*args, **kw))
        assert cs.value("cumulative_intensity")(30.0) == schedules.cumulative_intensity(30.0, *args, **kw)


def test_wells_are_theorem_2_with_occupation_from_the_start_well():
    dom = WellPartition.of(WELLS)
    cf = closed_forms(Problem(WELLS, 1.5, 0.1, dom, x0=[2.0]))
    Q = markov_chain.generator(1.5, 0.1, [-1.0, 2.0], [0.0])
    np.testing.assert_array_equal(cf.value("generator"), Q)
    np.testing.assert_array_equal(cf.value("expected_occupation")(500.0),
                                  markov_chain.occupation_from_generator(Q, 1, 500.0))   # x0 in well 2
    assert cf.value("two_well_stationary") == pytest.approx(cf.value("stationary_distribution"), rel=1e-13)
    _, Q1 = small_noise.well_generator(1.5, 0.1, [-1.0, 2.0], [0.0], grad=lambda x: (x + 1) * x * (x - 2))
    np.testing.assert_array_equal(cf.value("generator_first_order"), Q1)
    bw = closed_forms(Problem(WELLS, 2.0, 0.4, dom))
    assert bw.model == "gaussian Eyring-Kramers" and bw.kind == "brownian"
    np.testing.assert_array_equal(bw.value("generator"),
                                  gaussian.eyring_kramers_generator(0.4, dom, potential=WELLS))


def test_brownian_interval_is_exact_and_other_problems_get_nothing():
    cf = closed_forms(_interval(alpha=2.0, eps=0.4))
    assert cf.model == "gaussian exact"
    assert cf.value("mean_exit_time") == gaussian.quadratic_mean_exit_time(0.4, 1.0, 2.0, curvature=1.0)
    assert cf["mean_exit_time"].regime.startswith("exact")
    assert cf.value("mean_exit_time_laplace") == pytest.approx(cf.value("mean_exit_time"), rel=0.3)
    for prob, why in ((Problem(Quadratic([1.0, 1.0]), [2.0, 1.5], 0.1, BOX), "mixed"),
                      (_interval(alpha=2.0, eps=0.4, schedule=Power(0.5)), "schedule"),
                      (Problem(WELLS, 1.5, 0.1, WellPartition.of(WELLS), schedule=Power(0.5)), "schedule")):
        none = closed_forms(prob)
        assert none.model == "none" and len(none) == 0 and why in none.reason
        assert none.value("mean_exit_time") is None
        with pytest.raises(KeyError, match="mean_exit_time"):
            none["mean_exit_time"]


def test_values_are_lazy_and_errors_surface_when_read():
    # an Ackley box: building the forms evaluates nothing; reading a value computes it once
    cf = closed_forms(Problem(Ackley2D(), [1.5, 1.8], 0.1, Box.around([0, 0], [0.5, 0.5], [0.5, 0.5])))
    assert "value" not in cf["mean_exit_time"].__dict__
    v = cf.value("mean_exit_time")
    assert cf["mean_exit_time"].__dict__["value"] == v
    # a start point whose basin has no attractor inside: the door says why, no exception
    off = closed_forms(Problem(Quadratic([1.0], center=[3.0]), 1.5, 0.1, INTERVAL, x0=[0.5]))
    assert off.model == "none" and "x*" in off.reason


def test_ball_faces_are_axis_distances_to_the_sphere():
    xs = np.array([0.3, -0.2])
    cf = closed_forms(Problem(Quadratic([1.0, 2.0], center=xs), 1.5, 0.1, Ball([0.0, 0.0], 1.0)))
    rates = cf.value("exit_side_rates")
    dm, dp = (np.array([math.sqrt(1 - 0.2 ** 2) + 0.3, math.sqrt(1 - 0.3 ** 2) - 0.2]),
              np.array([math.sqrt(1 - 0.2 ** 2) - 0.3, math.sqrt(1 - 0.3 ** 2) + 0.2]))
    for l in range(2):   # x* -+ d e_l lies on the sphere
        e = np.eye(2)[l]
        assert np.linalg.norm(xs - dm[l] * e) == pytest.approx(1.0, rel=1e-14)
        assert np.linalg.norm(xs + dp[l] * e) == pytest.approx(1.0, rel=1e-14)
    np.testing.assert_allclose(rates, box.side_rates(1.5, 0.1, dm, dp), rtol=1e-14)
    assert "sphere" in cf["mean_exit_time"].assumptions


def test_modules_take_domain_and_schedule_objects():
    args = (1.5, 0.1, 1.0, 2.0)
    assert exit_interval.mean_exit_time(1.5, 0.1, INTERVAL, [0.0]) == exit_interval.mean_exit_time(*args)
    assert box.mean_exit_time([1.2, 1.8], 0.1, BOX, [0.0, 0.0]) == box.mean_exit_time([1.2, 1.8], 0.1, [1, 1], [2, 1])
    assert schedules.mean_exit_time(*args, schedule=Power(0.5)) == schedules.mean_exit_time(*args, gamma=0.5)
    dom = WellPartition((-1.0, 2.0), (0.0,), core=0.3)
    np.testing.assert_array_equal(markov_chain.generator(1.5, 0.1, dom),
                                  markov_chain.generator(1.5, 0.1, [-1.0, 2.0], [0.0]))
    np.testing.assert_array_equal(small_noise.well_generator(1.5, 0.1, dom, grad=WELLS)[1],
                                  small_noise.well_generator(1.5, 0.1, [-1.0, 2.0], [0.0], grad=WELLS,
                                                             core=0.3)[1])
    assert gaussian.mean_exit_time(0.4, INTERVAL, potential=Quadratic([1.0])) == pytest.approx(
        gaussian.quadratic_mean_exit_time(0.4, 1.0, 2.0), rel=1e-12)


@pytest.mark.parametrize("call,field", [
    (lambda: schedules.mean_exit_time(1.5, 0.1, 1, 2, schedule=Power(0.5), gamma=0.5), "schedule"),
    (lambda: schedules.mean_exit_time(1.5, 0.1, 1, 2, schedule="power"), "schedule"),
    (lambda: exit_interval.mean_exit_time(1.5, 0.1, INTERVAL, [5.0]), "x\\*"),
    (lambda: exit_interval.mean_exit_time(1.5, 0.1, BOX, [0.0, 0.0]), "d_minus"),
    (lambda: markov_chain.generator(1.5, 0.1, WellPartition.of(WELLS), [0.0]), "maxima"),
    (lambda: markov_chain.generator(1.5, 0.1, [-1.0, 2.0]), "maxima"),
    (lambda: small_noise.well_generator(1.5, 0.1, [-1.0, 2.0], [0.0], grad=3.0), "grad"),
    (lambda: gaussian.mean_exit_time(0.4, -1.0, 2.0, potential=lambda x: x * x), "x0"),
    (lambda: box.paper_axis_ratio_bound(0, 1, [1.2, 1.8], 0.1, 1, 1, rho=1.5), "rho"),
])
def test_bad_input_is_one_line_naming_the_field(call, field):
    with pytest.raises(ValueError, match=field) as err:
        call()
    assert "\n" not in str(err.value)


def test_theory_modules_are_attributes_of_a_fresh_import():
    code = ("import levydyn; t = levydyn.theory; "
            "print(t.box.mean_exit_time.__module__, t.markov_chain.__name__, t.closed_forms.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["levydyn.theory.box", "levydyn.theory.markov_chain", "closed_forms"]
