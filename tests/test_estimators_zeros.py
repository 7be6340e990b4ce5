"""Tests for levydyn.estimators.zeros: exact zeros (an atom at 0) dropped with a warning.

Fixed seeds; each statistical tolerance is explained next to its test.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from levydyn import estimators as est
from levydyn.model.noise import sas_rvs


def _with_zeros(alpha, frac, n=10000, reps=50, seed=61):
    x = sas_rvs(alpha, (n, reps), seed=seed)
    x[np.random.default_rng(seed).random(x.shape) < frac] = 0.0
    return x


def test_zeros_dropped_with_warning_and_estimated_on_nonzero_part():
    """SaS(1.5), 5 % exact zeros, n = 1e4, 50 columns. Dropped, every estimator's mean is that of
    the continuous part (SaS(1.5)): the worst RMSE at n ~ 1e4 is eq. 15's 0.06 (table), so the
    mean of 50 is within 0.02 + 4 * 0.06 / sqrt(50) = 0.054. Kept, eq. 15 falls to ~1 (the
    log 0 floor): the silent failure this guards against."""
    x = _with_zeros(1.5, 0.05)
    fns = {"mohammadi": est.mohammadi_alpha, "median": est.mohammadi_alpha_median,
           "order": est.mohammadi_order_alpha, "mcculloch": lambda v: est.mcculloch(v)[0],
           "cf": lambda v: est.cf_regression(v)[0]}
    for name, fn in fns.items():
        with pytest.warns(est.AtomWarning, match="exact zeros") as rec:
            a = fn(x)
        assert len(rec) == 1, name
        assert abs(a.mean() - 1.5) < 0.02 + 4 * 0.06 / math.sqrt(50), name
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # keep: no warning
        kept = est.mohammadi_alpha(x, zeros="keep")
    assert kept.mean() < 1.2
    np.testing.assert_allclose(est.atom_fraction(x), np.mean(x == 0, axis=0), rtol=0)


def test_zero_drop_equals_estimate_on_compacted_columns():
    """Exact property: dropping zeros = estimating each column's nonzero samples (order kept)."""
    x = _with_zeros(1.3, 0.1, n=600, reps=4, seed=62)
    x[:300, 1] = 0.0                              # a column with a large atom
    with pytest.warns(est.AtomWarning):
        got = {"m": est.mohammadi_alpha(x), "h": est.hill_alpha(x),
               "c": est.cf_regression(x)[0], "o": est.mohammadi_order_alpha(x)}
    for j in range(x.shape[1]):
        v = x[:, j][x[:, j] != 0]
        assert got["m"][j] == pytest.approx(est.mohammadi_alpha(v), rel=1e-12)
        assert got["h"][j] == pytest.approx(est.hill_alpha(v), rel=1e-12)
        assert got["c"][j] == pytest.approx(est.cf_regression(v)[0], rel=1e-12)
        assert got["o"][j] == pytest.approx(est.mohammadi_order_alpha(v), rel=1e-12)


def test_zeros_too_few_nonzero_and_all_zero_columns_give_nan():
    x = sas_rvs(1.5, (100, 3), seed=63)
    x[:, 1] = 0.0
    x[5:, 2] = 0.0                                 # 5 nonzero samples < MIN_SAMPLES
    with pytest.warns(est.AtomWarning, match="fewer than 16 nonzero"):
        a = est.mohammadi_alpha(x)
    assert np.isfinite(a[0]) and np.isnan(a[1]) and np.isnan(a[2])


def test_multivariate_drops_zero_rows():
    x = sas_rvs(1.3, (4000, 20), seed=9) * np.linspace(0.5, 3.0, 20)
    z = x.copy()
    z[::10] = 0.0
    with pytest.warns(est.AtomWarning, match="zero vectors"):
        a = est.mohammadi_alpha_multivariate(z)
    assert a == pytest.approx(est.mohammadi_alpha_multivariate(x[np.any(z != 0, axis=1)]),
                              rel=1e-12)
