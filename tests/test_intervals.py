"""Coverage of levydyn.intervals: each interval over many replicates, the observed coverage
within its binomial tolerance of the nominal level.

Tolerance: with R replicates and true coverage c = level, the observed coverage has standard
deviation sqrt(c (1 - c) / R); we accept |observed - level| <= 4 sd (two-sided false-alarm
rate 6e-5 per check; seeds are fixed anyway). The planted bugs the tests must catch (checked
by hand, see the report of issue 26): a one-sided quantile (z_{0.95} for a 95 % interval
gives ~90 % coverage), a normal quantile or df n in the t interval (~0.93 at n = 4), the
chi-square df k instead of 2k or 2k + 2 on both ends (coverage << 0.95 or >> 0.95).
"""
import math

import numpy as np
import pytest

from levydyn.intervals import Estimate, exponential_mean, mean_with_ci, wilson, wilson_bounds


def _tol(level: float, reps: int) -> float:
    """4 binomial standard deviations of an observed coverage."""
    return 4 * math.sqrt(level * (1 - level) / reps)


@pytest.mark.parametrize("level", [0.95, 0.8])
@pytest.mark.parametrize("n", [30, 200])
def test_wilson_coverage(level, n):
    # R = 4000 replicates with p drawn uniformly in [0.05, 0.95] (Wilson's coverage
    # oscillates in p; its average over p is close to nominal: Brown, Cai & DasGupta 2001).
    rng = np.random.default_rng(11)
    reps = 4000
    p = rng.uniform(0.05, 0.95, reps)
    k = rng.binomial(n, p)
    table = [wilson(int(j), n, level) for j in range(n + 1)]      # the scalar function
    covered = np.array([table[j].low <= pj <= table[j].high for j, pj in zip(k, p)])
    assert abs(covered.mean() - level) <= _tol(level, reps), covered.mean()


def test_wilson_matches_hand_computation():
    # k = 3 of n = 10 at 95 %: z = 1.959964, centre = (0.3 + z^2/20) / (1 + z^2/10),
    # half = z sqrt(0.021 + z^2/400) / (1 + z^2/10) -> [0.107791, 0.603222] (hand, 6 digits;
    # the textbook value in Brown, Cai & DasGupta 2001, Table 1 style, is [0.108, 0.603]).
    e = wilson(3, 10)
    assert e.value == 0.3
    assert e.low == pytest.approx(0.107791, abs=2e-6)
    assert e.high == pytest.approx(0.603222, abs=2e-6)
    lo, hi = wilson_bounds(np.array([0.3, 0.0]), np.array([10.0, 10.0]))
    assert lo[0] == pytest.approx(e.low) and hi[0] == pytest.approx(e.high)
    assert lo[1] == 0.0 and hi[1] == pytest.approx(0.277533, abs=2e-6)   # z^2/(n+z^2)


@pytest.mark.parametrize("n", [4, 12])
def test_t_interval_coverage(n):
    # Normal data, R = 4000 replicates: exact coverage of the t interval is the level.
    rng = np.random.default_rng(12)
    reps, level = 4000, 0.95
    x = rng.normal(3.0, 2.0, size=(reps, n))
    covered = np.array([mean_with_ci(row, level).contains(3.0) for row in x])
    assert abs(covered.mean() - level) <= _tol(level, reps), covered.mean()


def test_t_interval_hand_value():
    # x = 1, 2, 3, 4: mean 2.5, sd sqrt(5/3), t_{3, 0.975} = 3.182446 -> half 2.054266.
    e = mean_with_ci([1.0, 2.0, 3.0, 4.0])
    assert e.value == 2.5
    assert e.high - e.value == pytest.approx(3.182446 * math.sqrt(5 / 3) / 2, rel=1e-6)


@pytest.mark.parametrize("level", [0.95, 0.9])
def test_exponential_chi2_interval_coverage_uncensored(level):
    # Exponential samples of size m (type II: all observed): 2 T / mean ~ chi^2_{2m}, so the
    # chi-square interval is exact. R = 4000, m in {3, 10}.
    rng = np.random.default_rng(13)
    reps = 4000
    for m in (3, 10):
        tot = rng.exponential(2.0, size=(reps, m)).sum(axis=1)
        covered = np.array([exponential_mean(T, m, level).contains(2.0) for T in tot])
        assert abs(covered.mean() - level) <= _tol(level, reps), (m, covered.mean())


def test_exponential_chi2_interval_coverage_heavily_censored():
    # Type I censoring at t_max with 90 % of n = 400 paths censored (about 40 exits); the
    # chi-square interval is then approximate (Cox 1953); measured coverage within the
    # binomial tolerance of 0.95 over R = 2000 replicates.
    rng = np.random.default_rng(14)
    reps, n, level = 2000, 400, 0.95
    t_max = -math.log(0.9)
    x = rng.exponential(1.0, size=(reps, n))
    d = (x <= t_max).sum(axis=1)
    tot = np.minimum(x, t_max).sum(axis=1)
    covered = np.array([exponential_mean(T, int(k), level).contains(1.0) for T, k in zip(tot, d)])
    assert abs(covered.mean() - level) <= _tol(level, reps), covered.mean()


def test_exponential_hand_value_and_no_events():
    # T = 10, k = 5: chi^2_{10} quantiles 3.246973 (0.025) and 20.483177 (0.975).
    e = exponential_mean(10.0, 5)
    assert e.value == 2.0
    assert e.low == pytest.approx(20 / 20.483177, rel=1e-6)
    assert e.high == pytest.approx(20 / 3.246973, rel=1e-6)
    # no events: one-sided 95 % lower bound 2T / chi^2_{2, 0.975} = 2T / 7.377759
    z = exponential_mean(10.0, 0)
    assert z.value == math.inf and z.high == math.inf
    assert z.low == pytest.approx(20 / 7.377759, rel=1e-6)


def test_estimate_bound_flag():
    assert Estimate(1.0, 0.5, math.inf, 0.95, "bound: mean >= x").is_bound
    assert not Estimate(1.0, 0.5, 2.0, 0.95, "wilson").is_bound


# ------------------------------------------------------------------ edges (from mutation runs)


def _same(e: Estimate, value, low, high, level, method):
    for got, want in ((e.value, value), (e.low, low), (e.high, high)):
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want), (e, value, low, high)
    assert e.level == level and e.method == method


def test_contains_is_closed_and_slack_widens_both_ends():
    e = Estimate(2.5, 2.0, 3.0)
    assert e.contains(2.0) and e.contains(3.0) and not e.contains(3.0001)
    assert e.contains(1.5, slack=0.5) and e.contains(3.5, slack=0.5)
    assert not e.contains(1.4, slack=0.5) and not e.contains(3.6, slack=0.5)
    assert e.half_width == 0.5 and str(e) == "2.5 [2, 3]"
    assert str(Estimate(3.0, 2.0, math.inf, 0.95, "bound: x")) == ">= 2 (bound)"


def test_degenerate_samples_return_their_documented_estimates():
    _same(wilson(0, 0, 0.9), math.nan, 0.0, 1.0, 0.9, "wilson (no trials)")
    lo, hi = wilson_bounds(1.0, 1.0, 0.9)
    _same(wilson(1, 1, 0.9), 1.0, float(lo), 1.0, 0.9, "wilson")
    _same(mean_with_ci([], 0.9), math.nan, math.nan, math.nan, 0.9, "mean (empty)")
    _same(mean_with_ci([2.0], 0.9), 2.0, -math.inf, math.inf, 0.9, "mean (n=1)")
    e = mean_with_ci([1.0, 3.0], 0.9)      # t_{1, 0.95} = 6.313752, sd sqrt(2)
    _same(e, 2.0, 2.0 - 6.313752, 2.0 + 6.313752, 0.9, "sample mean, t interval")
    # exponential: no events, T = 0.5: one-sided bound 2T / chi^2_{2, 0.95} = 1 / 5.991465
    _same(exponential_mean(0.5, 0, 0.9), math.inf, 1.0 / 5.991465, math.inf, 0.9,
          "exponential MLE (no events)")
    _same(exponential_mean(0.0, 0), math.inf, 0.0, math.inf, 0.95, "exponential MLE (no events)")
    _same(exponential_mean(10.0, 5, 0.9), 2.0, 20 / 18.307038, 20 / 3.940299, 0.9,
          "exponential MLE, chi2 interval")


def test_bad_arguments_name_the_field():
    for call, msg in [(lambda: wilson(3, 2), r"^k must"), (lambda: wilson(-1, 2), r"^k must"),
                      (lambda: wilson(1, -2), r"^n must"), (lambda: wilson(1, 2, 1.5), r"^level must"),
                      (lambda: exponential_mean(-1.0, 2), r"^total_time must"),
                      (lambda: exponential_mean(1.0, -2), r"^events must"),
                      (lambda: mean_with_ci([1.0, 2.0], 0.0), r"^level must lie in \(0, 1\), got level=0.0$")]:
        with pytest.raises(ValueError, match=msg):
            call()
