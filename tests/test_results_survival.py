"""EscapeResult's survival curve and censored mean on hand-made samples (ties on the time
grid, paths censored before t_max), against hand computation."""
import math

import numpy as np
import pytest

from levydyn.results import EscapeResult, wilson


def _result(times, exited, t_max, diverged=None):
    n = len(times)
    return EscapeResult(problem=None, times=np.asarray(times, float), exited=np.asarray(exited, bool),
                        axis=np.zeros(n, int), side=np.ones(n, int), points=np.zeros((n, 1)),
                        dt=1.0, t_max=t_max, seed=0, diverged=diverged)


def test_survival_at_ties_on_the_time_grid():
    # 10 paths, exits on the grid points 1, 2, 2, 2, 3 and five censored at t_max = 4.
    # P(sigma > t): an exit at exactly t has not survived t.
    r = _result([1, 2, 2, 2, 3, 4, 4, 4, 4, 4], [1, 1, 1, 1, 1, 0, 0, 0, 0, 0], 4.0)
    t = np.array([0.0, 1.0, 1.5, 2.0, 3.0, 4.0])
    alive = [10, 9, 9, 6, 5, 5]
    c = r.survival(t)
    np.testing.assert_allclose(c.survival, np.array(alive) / 10)
    # bands: the exact-binomial Wilson interval of alive / n (single censoring at t_max)
    for a, lo, hi in zip(alive, c.low, c.high):
        w = wilson(a, 10)
        assert lo == pytest.approx(w.low) and hi == pytest.approx(w.high)


def test_survival_with_paths_censored_before_t_max_is_kaplan_meier():
    # two diverged paths censored at 1 and 2 (before t_max = 5); hand Kaplan-Meier as in
    # tests/test_censoring.py: S = 1, 7/8 (t >= 1), 7/12 (t >= 2), 7/18 (t >= 3).
    times = [1, 1, 2, 2, 2, 3, 5, 5]
    exited = [1, 0, 1, 1, 0, 1, 0, 0]
    div = np.array([0, 1, 0, 0, 1, 0, 0, 0], bool)
    c = _result(times, exited, 5.0, div).survival(np.array([0.5, 1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_allclose(c.survival, [1, 7 / 8, 7 / 12, 7 / 18, 7 / 18])
    assert np.all(c.low <= c.survival) and np.all(c.survival <= c.high)


def test_mean_exit_time_uses_the_censoring_rule():
    # 3 of 6 paths censored at t_max = 10: too few exits to test an exponential tail, so
    # the mean is a bound: the restricted mean (1 + 2 + 3 + 30) / 6 = 6, high = inf.
    r = _result([1, 2, 3, 10, 10, 10], [1, 1, 1, 0, 0, 0], 10.0)
    e = r.mean_exit_time()
    assert e.is_bound and e.value == pytest.approx(6.0) and e.high == math.inf
    full = _result([1, 2, 3], [1, 1, 1], 10.0).mean_exit_time()
    assert full.value == pytest.approx(2.0) and not full.is_bound
    assert r.summary()["mean_exit_time"] == e
