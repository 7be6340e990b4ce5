"""TransitionResult's sojourns, generator, intervals and JSON, and EscapeResult's JSON,
on hand-made results (issue 26: mutation testing of levydyn/results.py).

mutmut 3 maps a mutant to the tests that *call* its function (it records the calls of
its trampolines in one stats run); the tests selected for ``results`` never called these
methods, so 206 mutants had "no tests". Every expected number here is computed by hand
from the listed sojourns; the Garwood bounds with ``scipy.stats.gamma`` (the Poisson-gamma
duality ``P(Poisson(m) >= n) = P(Gamma(n) <= m)``), not the chi^2 form used in the code.
"""
import json

import numpy as np
import pytest
from scipy import stats

from levydyn import MultiWell1D, Problem, Quadratic, Box, WellPartition
from levydyn.censoring import censored_mean
from levydyn.results import EscapeResult, TransitionResult

# path 0: well 0 on [0, 3), well 1 on [3, 4.5), well 0 on [4.5, 6) (censored at t_end = 6)
# path 1: well 1 on [0, 2), well 0 on [2, 7) (censored); its row is padded with a 0 visit
WELLS = np.array([[0, 1, 0], [1, 0, 0]])
ENTRIES = np.array([[0.0, 3.0, 4.5], [0.0, 2.0, 99.0]])
N_VISITS = np.array([3, 2])
T_END = np.array([6.0, 7.0])
OCC = np.array([[4.5, 1.5], [5.0, 2.0]])
# by hand: jumps 0->1 once, 1->0 twice; time at risk T0 = 3 + 1.5 + 5, T1 = 1.5 + 2
N01, N10, T0, T1 = 1, 2, 9.5, 3.5


def _result(**kw):
    pot = MultiWell1D((-1.0, 2.0), (0.0,))
    p = Problem(pot, alpha=1.5, eps=0.5, domain=WellPartition.of(pot))
    return TransitionResult(p, WELLS, ENTRIES, N_VISITS, OCC, T_END, 0.01, 7.0, 3, **kw)


def test_sojourns_counts_and_time_at_risk():
    r = _result()
    w, d, c = r._sojourns()
    np.testing.assert_array_equal(w, [0, 1, 0, 1, 0])
    np.testing.assert_allclose(d, [3.0, 1.5, 1.5, 2.0, 5.0])
    np.testing.assert_array_equal(c, [True, True, False, True, False])
    np.testing.assert_array_equal(r.transition_counts(), [[0, N01], [N10, 0]])
    np.testing.assert_allclose(r.time_at_risk(), [T0, T1])
    assert r.n_paths == 2 and r.n_wells == 2 and r.n_diverged == 0


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_generator_and_garwood_intervals(level):
    q, lo, hi = _result().generator(level)
    np.testing.assert_allclose(q, [[-N01 / T0, N01 / T0], [N10 / T1, -N10 / T1]], rtol=1e-12)
    a = 1 - level
    g = stats.gamma
    np.testing.assert_allclose(lo, [[0, g.ppf(a / 2, N01) / T0], [g.ppf(a / 2, N10) / T1, 0]],
                               rtol=1e-9)
    np.testing.assert_allclose(hi, [[0, g.ppf(1 - a / 2, N01 + 1) / T0],
                                    [g.ppf(1 - a / 2, N10 + 1) / T1, 0]], rtol=1e-9)


def test_generator_without_jumps_has_zero_low_bound_and_a_finite_high_one():
    r = TransitionResult(_result().problem, np.array([[0]]), np.array([[0.0]]), np.array([1]),
                         np.array([[4.0, 0.0]]), np.array([4.0]), 0.01, 4.0, 0)
    q, lo, hi = r.generator(0.9)
    assert q[0, 1] == 0.0 and lo[0, 1] == 0.0
    assert hi[0, 1] == pytest.approx(-np.log(0.05) / 4.0, rel=1e-9)   # n = 0: -log(a/2) / T


def test_mean_sojourn_uses_that_wells_sojourns_with_the_last_censored():
    r = _result()
    for well, d, c in [(0, [3.0, 1.5, 5.0], [True, False, False]),
                       (1, [1.5, 2.0], [True, True])]:
        ref = censored_mean(np.array(d), np.array(c), 0.9)
        got = r.mean_sojourn(well, 0.9)
        assert (got.value, got.low, got.high, got.method) == (ref.value, ref.low, ref.high,
                                                              ref.method)


def test_occupation_summary_and_json():
    r = _result(method="euler", interrupted=True)
    occ = r.occupation(0.95)
    assert occ[0].value == pytest.approx((4.5 / 6 + 5 / 7) / 2, rel=1e-12)
    assert occ[1].value == pytest.approx((1.5 / 6 + 2 / 7) / 2, rel=1e-12)
    s = r.summary(0.9)
    assert s["n_paths"] == 2
    np.testing.assert_array_equal(s["transitions"], [[0, 1], [2, 0]])
    q, lo, hi = r.generator(0.9)
    for key, ref in (("generator", q), ("generator_low", lo), ("generator_high", hi)):
        np.testing.assert_array_equal(s[key], ref)
    assert [m.value for m in s["mean_sojourn"]] == [r.mean_sojourn(w, 0.9).value for w in (0, 1)]
    d = json.loads(r.to_json())
    assert d == r.to_dict()
    assert d["seed"] == 3 and d["dt"] == 0.01 and d["t_max"] == 7.0 and d["interrupted"] is True
    assert d["method"] == "euler" and "problem" in d
    assert d["summary"]["transitions"] == [[0, 1], [2, 0]]
    assert d["summary"]["generator"][1][0] == pytest.approx(N10 / T1)
    assert d["summary"]["occupation"][0]["value"] == pytest.approx(occ[0].value)


def test_escape_result_json_with_and_without_paths(tmp_path):
    p = Problem(Quadratic([1.0]), alpha=1.5, eps=0.5, domain=Box.around([0.0], [1.0], [2.0]))
    times = np.array([1.0, 2.0, 5.0, 5.0])
    exited = np.array([True, True, False, False])
    r = EscapeResult(p, times, exited, np.array([0, 0, -1, -1]), np.array([1, -1, 0, 0]),
                     np.array([[2.1], [-1.2], [0.1], [0.3]]), 0.01, 5.0, 11, wall_time=0.5)
    d = r.to_dict()
    assert "paths" not in d
    assert d["seed"] == 11 and d["t_max"] == 5.0 and d["dt"] == 0.01 and d["interrupted"] is False
    assert d["wall_time_s"] == 0.5 and d["method"] == "euler"
    assert d["summary"]["n_paths"] == 4 and d["summary"]["censored_fraction"] == 0.5
    assert d["summary"]["p_exit_upper"]["value"] == 0.5        # 1 of 2 exits upward
    dp = r.to_dict(paths=True)["paths"]
    assert dp == {"times": [1.0, 2.0, 5.0, 5.0], "exited": [True, True, False, False],
                  "axis": [0, 0, -1, -1], "side": [1, -1, 0, 0]}
    out = tmp_path / "r.json"
    text = r.to_json(out, paths=True)
    assert json.loads(out.read_text()) == json.loads(text) == r.to_dict(paths=True)
    s = r.survival([0.0, 1.5, 3.0])
    sd = s.to_dict()
    assert sd["t"] == [0.0, 1.5, 3.0] and sd["survival"] == [1.0, 0.75, 0.5] and sd["n"] == 4
    assert isinstance(sd["low"], list) and isinstance(sd["high"], list)


def _wilson(k, n, level):
    """Wilson score interval written out (Wilson 1927)."""
    z = stats.norm.ppf(0.5 + level / 2)
    centre = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * np.sqrt(k * (n - k) / n + z * z / 4)
    return k / n, centre - half, centre + half


def _escape_2d():
    """6 paths in 2-D, 5 exited: (axis, side) = (0,+), (1,+), (0,-), (1,-), (1,+); the
    censored path carries axis 1, side +1 to show that only exits are counted."""
    p = Problem(Quadratic([1.0, 1.0]), alpha=1.5, eps=0.5,
                domain=Box.around([0.0, 0.0], [1.0, 1.0], [1.0, 1.0]))
    return EscapeResult(p, np.array([1.0, 4.0, 2.0, 3.0, 0.5, 9.0]),
                        np.array([True, True, True, True, True, False]),
                        np.array([0, 1, 0, 1, 1, 1]), np.array([1, 1, -1, -1, 1, 1]),
                        np.zeros((6, 2)), 0.01, 9.0, 0)


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_side_and_axis_probabilities_count_exits_only(level):
    r = _escape_2d()
    for (side, axis), k in {(1, None): 3, (-1, None): 2, (1, 1): 2, (-1, 0): 1, (1, 0): 1,
                            (-1, 1): 1}.items():
        e = r.side_probability(side, axis, level)
        assert (e.value, e.low, e.high) == pytest.approx(_wilson(k, 5, level), rel=1e-9), (side, axis)
    for axis, k in ((0, 2), (1, 3)):
        e = r.axis_probability(axis, level)
        assert (e.value, e.low, e.high) == pytest.approx(_wilson(k, 5, level), rel=1e-9), axis
    e = r.side_probability()                 # defaults: side +1, all axes, level 0.95
    assert (e.value, e.low, e.high) == pytest.approx(_wilson(3, 5, 0.95), rel=1e-9)


@pytest.mark.parametrize("call,names", [
    (lambda r: r.side_probability(0), "side=0"), (lambda r: r.side_probability(True), "side=True"),
    (lambda r: r.side_probability(2), "side=2"), (lambda r: r.side_probability(1, 2), "axis=2"),
    (lambda r: r.axis_probability(-1), "axis=-1"),
    (lambda r: r.side_probability(1, None, 1.5), "level=1.5")])
def test_bad_side_axis_level_name_the_argument(call, names):
    with pytest.raises(ValueError, match=names):
        call(_escape_2d())


def test_median_and_summary_by_hand():
    r = _escape_2d()
    # exits 0.5 1 2 3 4 and one censored (inf): median of 6 values = (2 + 3) / 2
    assert r.median_exit_time() == 2.5
    s = r.summary(0.9)
    assert s["n_paths"] == 6 and s["censored_fraction"] == pytest.approx(1 / 6)
    assert s["n_diverged"] == 0 and "p_exit_upper" not in s
    got = [v for e in s["p_axis"] for v in (e.value, e.low, e.high)]
    assert got == pytest.approx([*_wilson(2, 5, 0.9), *_wilson(3, 5, 0.9)], rel=1e-9)
    ref = censored_mean(r.times, r.exited, 0.9)
    assert s["mean_exit_time"].value == ref.value and s["mean_exit_time"].low == ref.low
    assert s["median_exit_time"] == r.median_exit_time()
    p1 = Problem(Quadratic([1.0]), alpha=1.5, eps=0.5, domain=Box.around([0.0], [1.0], [1.0]))
    few = EscapeResult(p1, np.array([1.0, 5.0, 5.0]), np.array([True, False, False]),
                       np.array([0, -1, -1]), np.array([1, 0, 0]), np.zeros((3, 1)), 0.01, 5.0, 0)
    assert few.median_exit_time() == np.inf     # 2 of 3 censored
    s1 = few.summary()
    assert "p_axis" not in s1 and s1["p_exit_upper"].value == 1.0
    all_out = EscapeResult(p1, np.array([1.0, 2.0, 3.0, 10.0]), np.ones(4, bool),
                           np.zeros(4, int), np.ones(4, int), np.zeros((4, 1)), 0.01, 20.0, 0)
    assert all_out.median_exit_time() == 2.5
