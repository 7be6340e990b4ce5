"""SaS(1) sampler: law (KS against scipy), tails (c_alpha), safety, reproducibility."""
import math

import numba
import numpy as np
import pytest
from scipy import stats

from levydyn.model.noise import c_alpha, sas_rvs

# 22 tail indices: a grid plus the delicate points (near 1, near 2, and 2 itself)
ALPHAS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 1.0, 1.0 + 1e-9, 1.01, 1.1, 1.2, 1.3, 1.4, 1.5,
          1.6, 1.7, 1.8, 1.9, 1.95, 1.99, 1.999, 2.0]
N_KS = 4000


@pytest.mark.parametrize("alpha", ALPHAS)
def test_ks_against_scipy(alpha):
    # n = 4000 gives a KS resolution of ~1.36/sqrt(n) = 0.02 in cdf. With a fixed seed
    # the test is deterministic; a p-value below 1e-3 (per alpha) would be a real defect.
    x = sas_rvs(alpha, N_KS, seed=7)
    cdf = (stats.norm(scale=math.sqrt(2)).cdf if alpha == 2.0
           else stats.levy_stable(alpha, 0.0).cdf)
    assert stats.kstest(x, cdf).pvalue > 1e-3


def test_alpha_two_is_normal_with_variance_two():
    n = 200_000
    x = sas_rvs(2.0, n, seed=3)
    # var of the sample variance of N(0, 2): 2 sigma^4 / n; 4-sigma band
    assert abs(x.var() - 2.0) < 4 * math.sqrt(2 * 4.0 / n)


def test_alpha_one_is_cauchy():
    x = sas_rvs(1.0, 100_000, seed=5)
    assert stats.kstest(x, stats.cauchy.cdf).pvalue > 1e-3


@pytest.mark.parametrize("alpha", [0.7, 1.2, 1.7])
def test_tail_matches_levy_measure_constant(alpha):
    # P(|Z| > r) ~ 2 c_alpha r^(-alpha) / alpha for large r (the Levy measure's tail).
    # At r with P ~ 1e-3 the relative next-order correction is O(r^(-alpha)) < 3 %;
    # n = 2e6 gives a binomial relative sd of ~2 %, so a 4-sd band plus 3 % bias.
    n = 2_000_000
    x = sas_rvs(alpha, n, seed=11)
    p_target = 1e-3
    r = (2 * c_alpha(alpha) / (alpha * p_target)) ** (1 / alpha)
    k = np.count_nonzero(np.abs(x) > r)
    sd = math.sqrt(n * p_target)
    assert abs(k - n * p_target) < 4 * sd + 0.03 * n * p_target


def test_c_alpha_special_values():
    assert c_alpha(1.0) == pytest.approx(1 / math.pi, rel=1e-14)
    assert c_alpha(2.0) == 0.0
    assert c_alpha(1.5) == pytest.approx(math.gamma(2.5) * math.sin(0.75 * math.pi) / math.pi)
    with pytest.raises(ValueError, match="alpha"):
        c_alpha(2.5)


@pytest.mark.parametrize("alpha", [0.05, 0.2, 0.5, 1.0 - 1e-12, 1.0, 1.0 + 1e-12, 1.999999, 2.0])
def test_no_nan_extreme_alphas(alpha):
    x = sas_rvs(alpha, 1_000_000, seed=1)
    assert not np.isnan(x).any()
    # inf only as a genuinely huge value, never for alpha >= 0.5
    if alpha >= 0.5:
        assert np.isfinite(x).all()


def test_bad_alpha_and_seed():
    for bad in (0.0, -1.0, 2.0001, float("nan")):
        with pytest.raises(ValueError, match="alpha"):
            sas_rvs(bad, 10)
    with pytest.raises(ValueError, match="seed"):
        sas_rvs(1.5, 10, seed=-1)
    with pytest.raises(ValueError, match="seed"):
        sas_rvs(1.5, 10, seed=1.5)


def test_same_seed_same_numbers_any_thread_count(threads):
    threads(1)
    a = sas_rvs(1.3, 100_000, seed=42)
    threads(min(2, numba.config.NUMBA_NUM_THREADS))
    b = sas_rvs(1.3, 100_000, seed=42)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, sas_rvs(1.3, 100_000, seed=43))


def test_streams_are_uncorrelated():
    # neighbouring streams must not be shifted copies: correlation of stream 0 and 1
    x = sas_rvs(2.0, (2, 100_000), seed=9, streams=2)
    r = np.corrcoef(x[0], x[1])[0, 1]
    assert abs(r) < 4 / math.sqrt(100_000)
