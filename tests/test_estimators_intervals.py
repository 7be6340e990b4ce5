"""Tests for levydyn.estimators.intervals: confidence intervals of every estimator (coverage).

Fixed seeds; each statistical tolerance is explained next to its test.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from levydyn import estimators as est
from levydyn.model.noise import sas_rvs


def _coverage(method, alpha, n, reps, seed, **kw):
    x = sas_rvs(alpha, (n, reps), seed=seed)
    r = est.alpha_ci(x, method=method, seed=seed, **kw)
    return float(np.mean((r.low <= alpha) & (alpha <= r.high))), r


@pytest.mark.parametrize("method,alpha,reps", [
    ("mohammadi", 1.2, 400), ("mohammadi", 1.8, 400),
    ("mohammadi_median", 1.2, 400), ("mcculloch", 1.5, 400),
    ("mohammadi_order", 1.5, 200), ("cf_regression", 1.5, 100)])
def test_alpha_ci_coverage(method, alpha, reps):
    """Coverage of the 95 % interval over `reps` independent columns of n = 1000 (fixed seed).
    If the interval were exact, the count covering would be Binomial(reps, 0.95): standard
    error sqrt(0.95 * 0.05 / reps) = 0.011 (400) .. 0.022 (100). We allow 3 standard errors
    plus 0.03 for the large-sample approximations (the benchmark measured 0.90-0.97 for these
    methods at n = 1e3): coverage >= 0.92 - 3 se. The median's asymptotic interval is
    conservative by design (measured 0.98-1.0), so only the other ones get the upper bound
    0.98 + 3 se, which catches intervals made too wide."""
    cov, r = _coverage(method, alpha, 1000, reps, seed=70 + int(10 * alpha))
    se = math.sqrt(0.95 * 0.05 / reps)
    assert cov >= 0.92 - 3 * se, cov
    if method != "mohammadi_median":
        assert cov <= 0.98 + 3 * se, cov
    assert r.ci == ("asymptotic" if method in est.AUTO_ASYMPTOTIC else "bootstrap")
    assert np.all(r.low <= r.alpha) and np.all(r.alpha <= r.high)


def test_alpha_ci_estimate_is_the_estimator_and_seeded():
    x = sas_rvs(1.4, (2000, 3), seed=80)
    for m, fn in [("mohammadi", est.mohammadi_alpha), ("mohammadi_median",
                                                       est.mohammadi_alpha_median),
                  ("mohammadi_order", est.mohammadi_order_alpha), ("hill", est.hill_alpha),
                  ("cf_regression", lambda v: est.cf_regression(v)[0])]:
        r = est.alpha_ci(x, method=m, n_boot=50)
        np.testing.assert_allclose(r.alpha, fn(x), rtol=1e-12)
    a = est.alpha_ci(x[:, 0], method="mcculloch", n_boot=50, seed=3)
    b = est.alpha_ci(x[:, 0], method="mcculloch", n_boot=50, seed=3)
    assert isinstance(a.alpha, float) and (a.low, a.high) == (b.low, b.high)
    assert a.n_boot == 50 and a.n_used == 2000 and a.atom_fraction == 0.0


def test_hill_interval_misses_on_stable_data_near_two():
    """Documented failure: Hill's interval covers Hill's limit, not alpha, when the stable law's
    power tail starts far out. alpha = 1.8, n = 1000: measured coverage 0.005."""
    cov, _ = _coverage("hill", 1.8, 1000, 200, seed=81)
    assert cov < 0.5
