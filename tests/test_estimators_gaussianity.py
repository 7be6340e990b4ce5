"""Tests for levydyn.estimators.gaussianity: Shapiro-Wilk Gaussian fraction and the Berry-Esseen bound (paper 003).

Fixed seeds; each statistical tolerance is explained next to its test.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom, norm

from levydyn import estimators as est
from levydyn.model.noise import sas_rvs


def test_gaussian_fraction_on_gaussian_data():
    """2000 Gaussian columns of 500 samples: p-values are U(0, 1) and independent across
    columns, so the number not rejected at 0.05 is Binomial(2000, 0.95); we require it inside
    the central 99.9 % binomial interval."""
    x = np.random.default_rng(12).standard_normal((500, 2000))
    r = est.shapiro_gaussian_fraction(x, level=0.05)
    lo, hi = binom.ppf([0.0005, 0.9995], 2000, 0.95) / 2000
    assert lo <= r.fraction <= hi
    assert r.pvalues.shape == (2000,) and r.n_samples == 500
    assert r.fraction_ci[0] < 0.95 < r.fraction_ci[1]


def test_gaussian_fraction_on_stable_data_is_low():
    """alpha = 1.5, 500 samples per column: Shapiro-Wilk rejects essentially always (the
    sample kurtosis is huge); 200 columns, fraction < 5 %."""
    r = est.shapiro_gaussian_fraction(sas_rvs(1.5, (500, 200), seed=13))
    assert r.fraction < 0.05


def test_gaussian_fraction_caps_samples_and_counts_constant_columns():
    x = np.random.default_rng(1).standard_normal((6000, 3))
    x[:, 2] = 1.0
    r = est.shapiro_gaussian_fraction(x)
    assert r.n_samples == 5000 and r.n_constant == 1


def test_berry_esseen_hand_computed():
    """x = (0, 0, 3): mean 1, deviations (-1, -1, 2): sigma^2 = 2, beta = 10/3,
    beta/sigma^3 = (10/3)/2^1.5 = 1.1785113; batch 4: 0.4748 * 1.1785113 / 2 = 0.2797786."""
    r = est.berry_esseen_bound(np.array([0.0, 0.0, 3.0]), 4)
    assert r.ratio == pytest.approx((10 / 3) / 2 ** 1.5, rel=1e-12)
    assert r.bound == pytest.approx(0.4748 * (10 / 3) / 2 ** 1.5 / 2, rel=1e-12)
    assert r.constant == est.BERRY_ESSEEN_CONSTANT == 0.4748
    # symmetric +-1: beta = sigma = 1
    assert est.berry_esseen_bound(np.array([-1.0, 1.0] * 5), 100).bound == pytest.approx(0.04748)


def test_berry_esseen_bounds_exact_bernoulli_distance():
    """Sample with exact Bernoulli(0.3) frequencies: ratio = (p^2 + q^2)/sqrt(pq). The exact
    Kolmogorov distance between the standardized Binomial(50, 0.3) and Phi must lie below
    the bound."""
    p, q, s = 0.3, 0.7, 50
    x = np.array([1.0] * 3 + [0.0] * 7)
    r = est.berry_esseen_bound(x, s)
    assert r.ratio == pytest.approx((p * p + q * q) / math.sqrt(p * q), rel=1e-12)
    k = np.arange(s + 1)
    z = (k - s * p) / math.sqrt(s * p * q)
    cdf = binom.cdf(k, s, p)
    dist = max(np.max(np.abs(cdf - norm.cdf(z))), np.max(np.abs(cdf - binom.pmf(k, s, p)
                                                               - norm.cdf(z))))
    assert dist <= r.bound


def test_berry_esseen_vectorised():
    x = np.random.default_rng(2).standard_normal((200000, 3))
    r = est.berry_esseen_bound(x, 64)
    # E|Z|^3 = 2 sqrt(2/pi) = 1.5958 for a Gaussian; Monte Carlo error ~ 0.005 at n = 2e5
    np.testing.assert_allclose(r.ratio, 2 * math.sqrt(2 / math.pi), atol=0.02)
    np.testing.assert_allclose(r.kurtosis_sqrt, math.sqrt(3), atol=0.03)
