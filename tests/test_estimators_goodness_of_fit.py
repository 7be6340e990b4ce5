"""Tests for levydyn.estimators.goodness_of_fit: Gaussian vs SaS fit errors on a histogram (paper 004).

Fixed seeds; each statistical tolerance is explained next to its test.
"""
from __future__ import annotations

import numpy as np
import pytest

from levydyn import estimators as est
from levydyn.model.noise import sas_rvs


def test_fit_errors_prefers_sas_on_stable_data():
    r = est.fit_errors(2.0 * sas_rvs(1.2, 5000, seed=14))
    assert r.better == "sas" and r.better_sse == "sas"
    assert r.sas_chi2 < r.gauss_chi2 / 5
    assert r.sas[0] == pytest.approx(1.2, abs=0.1)


def test_fit_errors_on_gaussian_data():
    """Gaussian sample of 5000: the Gaussian fit's chi-square over 52 bins (49 degrees of
    freedom after 2 fitted parameters) stays below the 99.9 % chi-square quantile (~86), and
    the SaS fit (alpha_hat ~ 2 contains the Gaussian) is within a factor 2 of it."""
    r = est.fit_errors(np.random.default_rng(15).standard_normal(5000))
    assert r.gauss_chi2 < 86
    assert r.sas_chi2 < 2 * max(r.gauss_chi2, 40)
    assert r.sas[0] > 1.9
