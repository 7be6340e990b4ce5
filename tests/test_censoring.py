"""levydyn.censoring: Kaplan-Meier against hand computation, the censored mean against closed
forms on heavily censored exponential, delayed (gamma, shifted exponential) and Pareto
(Lomax) samples, with coverage measured over many replicates.

Tolerances: an observed rate over R replicates with true rate c has standard deviation
sqrt(c (1 - c) / R); checks allow 4 sd (two-sided false alarm 6e-5; seeds are fixed).
Planted bugs these tests catch (each tried by hand): a censored path dropped from the risk
set or the total time, the one-sided quantile in the chi-square interval, an exit at t
counted as surviving t, the LR p-value from the wrong tail or df, extrapolating whatever
the test says; in the Weibull shape's interval, the cut-off 2x too wide (chi2 instead of
chi2 / 2) or a censored path counted as an exit.
"""
import math

import numpy as np
import pytest
from scipy import integrate, stats

from levydyn.censoring import (censored_mean, exponential_tail_test, kaplan_meier,
                               restricted_mean, weibull_cv, weibull_shape)


def _tol(rate: float, reps: int) -> float:
    return 4 * math.sqrt(rate * (1 - rate) / reps)


def _censor(x: np.ndarray, t_max: float):
    return np.minimum(x, t_max), x <= t_max


# A hand-worked sample with ties and censoring before the end (diverged paths):
#   time   1  1  2  2  2  3  4  5
#   exit   y  n  y  y  n  y  n  n
# t=1: 8 at risk, 1 exit -> S = 7/8; t=2: 6 at risk, 2 exits -> S = 7/8 * 4/6 = 7/12;
# t=3: 3 at risk, 1 exit -> S = 7/12 * 2/3 = 7/18.
T_HAND = np.array([1, 1, 2, 2, 2, 3, 4, 5], dtype=float)
E_HAND = np.array([1, 0, 1, 1, 0, 1, 0, 0], dtype=bool)


def test_kaplan_meier_hand_computed_with_ties():
    km = kaplan_meier(T_HAND, E_HAND)
    s = km(np.array([0.0, 0.999, 1.0, 1.5, 2.0, 2.5, 3.0, 4.5, 5.0]))
    np.testing.assert_allclose(s, [1, 1, 7 / 8, 7 / 8, 7 / 12, 7 / 12, 7 / 18, 7 / 18, 7 / 18])
    # Greenwood at t = 3: S^2 (1/(8*7) + 2/(6*4) + 1/(3*2))
    g = (7 / 18) ** 2 * (1 / 56 + 2 / 24 + 1 / 6)
    assert km.greenwood(3.0) == pytest.approx(g)
    assert km.greenwood(0.5) == 0.0


def test_restricted_mean_hand_computed():
    # area to 5: 1 * 1 + (7/8) * 1 + (7/12) * 1 + (7/18) * 2; A_j = area from t_j to 5.
    mu = 1 + 7 / 8 + 7 / 12 + 14 / 18
    a1, a2, a3 = 7 / 8 + 7 / 12 + 14 / 18, 7 / 12 + 14 / 18, 14 / 18
    var = a1 ** 2 / 56 + a2 ** 2 * 2 / 24 + a3 ** 2 / 6
    e = restricted_mean(T_HAND, E_HAND, level=0.95)
    assert e.value == pytest.approx(mu)
    assert e.high - e.value == pytest.approx(1.959964 * math.sqrt(var), rel=1e-6)
    # restricted to h = 2.5: 1 + 7/8 + (7/12) * 0.5
    assert restricted_mean(T_HAND, E_HAND, horizon=2.5).value == pytest.approx(1 + 7 / 8 + 7 / 24)
    with pytest.raises(ValueError, match="horizon must"):
        restricted_mean(T_HAND, E_HAND, horizon=6.0)


def test_single_censoring_area_is_mean_of_truncated_times():
    # With every censored path censored at t_max, the Kaplan-Meier area up to t_max is the
    # plain mean of min(tau, t_max): another computation of the same number.
    rng = np.random.default_rng(21)
    t, e = _censor(rng.gamma(3.0, 1.0, 300), 2.0)
    assert restricted_mean(t, e).value == pytest.approx(t.mean(), rel=1e-12)


def test_uncensored_sample_gives_sample_mean():
    x = np.array([0.5, 1.5, 4.0])
    e = censored_mean(x, np.ones(3, bool))
    assert e.value == pytest.approx(2.0) and e.method.startswith("sample mean")


def test_exponential_tail_test_size_and_hand_value():
    # Hand value: an uncensored sample with shape MLE k = 1 exactly has LR = 0. For a
    # two-point sample {1, e} (both exits) the profile is maximised where
    # 2/k + (1) - 2 (e^k)/(1 + e^k) = 0 ... checked against scipy's Weibull fit instead:
    rng = np.random.default_rng(22)
    x = rng.weibull(2.0, 60) * 3.0
    lr, p, k = exponential_tail_test(x, np.ones(60, bool))
    c, loc, scale = stats.weibull_min.fit(x, floc=0)
    ll_w = stats.weibull_min.logpdf(x, c, 0, scale).sum()
    ll_e = stats.expon.logpdf(x, 0, x.mean()).sum()
    assert k == pytest.approx(c, rel=1e-4)
    assert lr == pytest.approx(2 * (ll_w - ll_e), rel=1e-6)
    assert p == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-9)


def test_heavily_censored_exponential_covers_at_nominal_rate():
    # n = 400 exponential(mean 1) paths censored at t_max = -log 0.9 (90 % censored, ~40
    # exits), R = 1000 replicates. The exponential tail is accepted at the test's size
    # (accept rate within tolerance of 0.95), and the accepted chi-square intervals cover
    # the mean at 95 % within the binomial tolerance of the accepted count. The refused
    # ones are bounds [low, inf) and cover too.
    rng = np.random.default_rng(23)
    reps, n, level = 1000, 400, 0.95
    x = rng.exponential(1.0, size=(reps, n))
    ests = [censored_mean(*_censor(row, -math.log(0.9)), level) for row in x]
    accepted = np.array([not e.is_bound for e in ests])
    assert abs(accepted.mean() - 0.95) <= _tol(0.95, reps), accepted.mean()
    cov = np.array([e.contains(1.0) for e in ests])
    m = int(accepted.sum())
    assert abs(cov[accepted].mean() - level) <= _tol(level, m), cov[accepted].mean()
    assert cov.mean() >= level - _tol(level, reps)
    assert all(e.method.startswith("exponential MLE") for e, a in zip(ests, accepted) if a)


def _gamma_rmst(h, a, s):
    return integrate.quad(lambda t: stats.gamma.sf(t, a, scale=s), 0, h, epsabs=1e-12)[0]


LAWS = {
    # name: (sampler, t_max, true mean, true restricted mean to t_max computed another way)
    # gamma(3), mean 5000, t_max 2000 (~88 % censored): issue 28's delayed escapes.
    "gamma3": (lambda r, n: r.gamma(3.0, 5000 / 3, n), 2000.0, 5000.0,
               lambda h: _gamma_rmst(h, 3.0, 5000 / 3)),
    # shifted exponential 500 + Exp(4500), t_max 2000 (~72 % censored):
    # RMST = 500 + 4500 (1 - exp(-1500/4500)).
    "shifted": (lambda r, n: 500 + r.exponential(4500.0, n), 2000.0, 5000.0,
                lambda h: 500 + 4500 * (1 - math.exp(-(h - 500) / 4500))),
    # Lomax (Pareto II) S(t) = (1 + t)^-0.8, infinite mean, t_max 20 (~9 % censored):
    # RMST = ((1 + h)^0.2 - 1) / 0.2.
    "lomax0.8": (lambda r, n: r.pareto(0.8, n), 20.0, math.inf,
                 lambda h: ((1 + h) ** 0.2 - 1) / 0.2),
}


@pytest.mark.parametrize("law", sorted(LAWS))
def test_non_exponential_laws_are_reported_as_bounds(law):
    # R = 1000 (gamma3) or 300 replicates of n = 256: the estimator refuses to extrapolate
    # (a bound) in >= 90 % of them (measured power 0.98-1.0), and the bound's one-sided 95 %
    # lower limit lies below the true restricted mean (hence below the mean) at least at the
    # nominal rate within tolerance (measured: gamma3 0.95, shifted 0.96, lomax 0.97; the
    # plain normal limit mu - z se gave 0.91 on gamma3 and fails here).
    sample, t_max, mean, rmst = LAWS[law]
    rng = np.random.default_rng(24)
    reps, n, level = (1000 if law == "gamma3" else 300), 256, 0.95
    ests = [censored_mean(*_censor(sample(rng, n), t_max), level) for _ in range(reps)]
    bound = np.array([e.is_bound for e in ests])
    assert bound.mean() >= 0.9, bound.mean()
    mu_h = rmst(t_max)
    below = np.array([e.low <= mu_h for e, b in zip(ests, bound) if b])
    assert below.mean() >= level - _tol(level, below.size), below.mean()
    assert all(e.high == math.inf and e.low <= mean for e, b in zip(ests, bound) if b)
    assert all("rejected: Weibull LR p=" in e.method or "too few" in e.method
               for e, b in zip(ests, bound) if b)


def test_exponential_mle_would_overshoot_the_delayed_law():
    # Why the rule exists (issue 28): on the gamma(3) sample the exponential MLE's 95 %
    # interval excludes the true mean 5000 in most replicates, while the estimator's bound
    # is below it. R = 200.
    sample, t_max, mean, _ = LAWS["gamma3"]
    rng = np.random.default_rng(25)
    miss = []
    for _ in range(200):
        t, e = _censor(sample(rng, 256), t_max)
        T, d = t.sum(), int(e.sum())
        lo = 2 * T / stats.chi2.ppf(0.975, 2 * d)
        miss.append(lo > mean)
    assert np.mean(miss) > 0.5


def test_few_exits_give_a_bound_and_all_censored_gives_t_max():
    t = np.array([1.0, 2.0, 10.0, 10.0, 10.0])
    e = censored_mean(t, np.array([1, 1, 0, 0, 0], bool))
    assert e.is_bound and "too few" in e.method
    assert e.value == pytest.approx(t.mean())
    # the bound's limit by hand: D = 10 - 6.6 = 3.4, Var = A_1^2/(5*4) + A_2^2/(4*3) with
    # A_1 = 0.8 + 0.6 * 8 = 5.6, A_2 = 4.8 -> low = 10 - D exp(1.6448536 sqrt(Var) / D)
    var = 5.6 ** 2 / 20 + 4.8 ** 2 / 12
    assert e.low == pytest.approx(10 - 3.4 * math.exp(1.6448536 * math.sqrt(var) / 3.4), rel=1e-6)
    none = censored_mean(np.full(4, 7.0), np.zeros(4, bool))
    assert none.is_bound and none.value == 7.0 and none.low == 7.0 and none.high == math.inf


def test_bad_input_is_one_line_error():
    with pytest.raises(ValueError, match="exited must have one entry per time"):
        censored_mean([1.0, 2.0], [True])
    with pytest.raises(ValueError, match="times must be finite and non-negative"):
        censored_mean([1.0, -2.0], [True, True])
    with pytest.raises(ValueError, match="gof_level must lie in"):
        censored_mean([1.0, 2.0], [True, False], gof_level=1.5)


# ------------------------------------------------------------------ edges (from mutation runs)


def test_kaplan_meier_bookkeeping_and_empty_sample():
    km = kaplan_meier(T_HAND, E_HAND)
    assert km.n == 8 and km.horizon == 5.0
    np.testing.assert_array_equal(km.at_risk, [8, 6, 3])
    np.testing.assert_array_equal(km.exits, [1, 2, 1])
    empty = kaplan_meier([], np.zeros(0, bool))
    assert empty.n == 0 and empty.horizon == 0.0 and empty(1.0) == 1.0


def test_everyone_left_exits_at_the_last_time():
    # times 1, 2, 2 all exits: S = 2/3 then 0; Greenwood and the area's variance use
    # 0 for the term with n_j = d_j (S is 0 after it), so both stay finite.
    t, e = np.array([1.0, 2.0, 2.0]), np.ones(3, bool)
    km = kaplan_meier(t, e)
    assert km(2.0) == 0.0 and km.greenwood(2.0) == 0.0
    assert km.greenwood(1.5) == pytest.approx((2 / 3) ** 2 / (3 * 2))
    mu, var = km.area(2.0)
    # area 1 + 2/3; A_1 = 2/3 (from 1 to 2), term (2/3)^2 * 1/(3*2); A_2 = 0
    assert mu == pytest.approx(5 / 3) and var == pytest.approx((2 / 3) ** 2 / 6)
    assert math.isfinite(restricted_mean(t, e).high)


def test_restricted_mean_interval_and_horizon_range():
    e = restricted_mean(T_HAND, E_HAND, level=0.9)
    half = e.high - e.value
    assert e.value - e.low == pytest.approx(half) and e.level == 0.9
    assert half == pytest.approx(1.644854 * math.sqrt(
        (7 / 8 + 7 / 12 + 14 / 18) ** 2 / 56 + (7 / 12 + 14 / 18) ** 2 * 2 / 24 + (14 / 18) ** 2 / 6), rel=1e-5)
    assert "restricted mean up to 5" in e.method
    assert restricted_mean(T_HAND, E_HAND, horizon=0.0).value == 0.0
    assert restricted_mean(T_HAND, E_HAND, horizon=0.5).value == 0.5
    with pytest.raises(ValueError, match=r"^horizon must lie in \[0, 5\] \(the largest observed "
                                         r"time\), got horizon=-1.0$"):
        restricted_mean(T_HAND, E_HAND, horizon=-1.0)
    with pytest.raises(ValueError, match="^horizon must"):
        censored_mean(T_HAND, E_HAND, horizon=7.0)


def test_exponential_tail_test_degenerate_and_small_lr():
    assert all(math.isnan(v) for v in exponential_tail_test([1.0, 2.0], [False, False]))
    assert all(math.isnan(v) for v in exponential_tail_test([0.0, 2.0], [True, True]))
    lr, p, k = exponential_tail_test([1.0, 2.0], [True, False])      # one exit: a number
    assert math.isfinite(lr) and 0 < p <= 1
    # a near-exponential sample: LR < 1, p computed from it (not clipped); scipy reference
    x = stats.expon.ppf((np.arange(40) + 0.5) / 40)
    lr, p, k = exponential_tail_test(x, np.ones(40, bool))
    c, _, scale = stats.weibull_min.fit(x, floc=0)
    ref = 2 * (stats.weibull_min.logpdf(x, c, 0, scale).sum() - stats.expon.logpdf(x, 0, x.mean()).sum())
    assert lr < 1 and lr == pytest.approx(ref, rel=1e-4, abs=1e-7)
    assert p == pytest.approx(stats.chi2.sf(ref, 1), rel=1e-4)


def test_censored_mean_levels_edges_and_options():
    # uncensored at level 0.9: t interval with t_{2, 0.95} = 2.919986
    x = np.array([0.5, 1.5, 4.0])
    u = censored_mean(x, np.ones(3, bool), level=0.9)
    assert u.level == 0.9 and u.high - u.value == pytest.approx(2.919986 * x.std(ddof=1) / math.sqrt(3), rel=1e-6)
    # accepted exponential at level 0.9: the chi2 interval with 2d df, level 0.9, by hand
    t = stats.expon.ppf((np.arange(40) + 0.5) / 50) * 3.0      # 40 exits below t_max
    t_max = stats.expon.ppf(40 / 50) * 3.0
    times = np.concatenate([t, np.full(10, t_max)])
    exited = np.arange(50) < 40
    acc = censored_mean(times, exited, level=0.9)
    assert not acc.is_bound and acc.level == 0.9
    T = times.sum()
    assert acc.value == pytest.approx(T / 40)
    assert acc.low == pytest.approx(2 * T / stats.chi2.ppf(0.95, 80))
    assert acc.high == pytest.approx(2 * T / stats.chi2.ppf(0.05, 80))
    # exactly min_exits exits: tested, not "too few"; one fewer: too few
    assert "too few" not in censored_mean(times, exited, min_exits=40).method
    assert "too few" in censored_mean(times, exited, min_exits=41).method
    # gof_level 0.999 rejects everything with p < 0.999: a bound, at the requested level
    b = censored_mean(times, exited, level=0.9, gof_level=0.999)
    assert b.is_bound and b.level == 0.9
    # a bound restricted to an earlier horizon
    assert censored_mean(times, exited, horizon=1.0, gof_level=0.999).value == pytest.approx(
        restricted_mean(times, exited, horizon=1.0).value)
    with pytest.raises(ValueError, match="^min_exits must be"):
        censored_mean(times, exited, min_exits=0)


def test_bound_is_scale_equivariant():
    # times in other units: every number of the bound scales (the log-deficit limit too)
    t = np.array([1.0, 2.0, 10.0, 10.0, 10.0])
    e = np.array([1, 1, 0, 0, 0], bool)
    a, b = censored_mean(t, e), censored_mean(0.1 * t, e)
    assert b.value == pytest.approx(0.1 * a.value) and b.low == pytest.approx(0.1 * a.low)
    assert a.level == 0.95


def test_empty_and_single_samples():
    z = censored_mean([], np.zeros(0, bool))
    assert math.isnan(z.value) and math.isnan(z.low) and math.isnan(z.high)
    assert z.method == "mean (empty)" and z.level == 0.95
    one = censored_mean([2.0], [True])
    assert one.value == 2.0 and one.low == -math.inf


def test_sample_errors_name_the_field_and_value():
    with pytest.raises(ValueError, match=r"^exited must be booleans, got exited=\[1, 0\]$"):
        censored_mean([1.0, 2.0], np.array([1, 0]))
    with pytest.raises(ValueError, match=r"^exited must have one entry per time \(2\), got exited=\(1,\)$"):
        censored_mean([1.0, 2.0], [True])
    with pytest.raises(ValueError, match=r"^times must be finite and non-negative, got times=\[-2.0, nan\]$"):
        censored_mean([1.0, -2.0, 3.0, math.nan], [True] * 4)
    assert censored_mean([0.0, 1.0], [False, True]).is_bound       # a time 0 is allowed


def test_messages_show_only_the_bad_values_and_boundaries():
    with pytest.raises(ValueError, match=r"got times=\[-1.0, -2.0, -3.0\]$"):
        censored_mean([0.5, -1.0, -2.0, -3.0, -4.0], [True] * 5)
    with pytest.raises(ValueError, match=r"got exited=\[1, 0, 1\]$"):
        censored_mean([1.0, 2.0, 3.0, 4.0], np.array([1, 0, 1, 1]))
    with pytest.raises(ValueError, match=r"^horizon must be a finite number, got horizon=nan$"):
        restricted_mean(T_HAND, E_HAND, horizon=math.nan)
    assert restricted_mean(T_HAND, E_HAND, horizon=5.0).value == restricted_mean(T_HAND, E_HAND).value
    t = np.array([1.0, 2.0, 10.0, 10.0])
    assert "too few" not in censored_mean(t, np.array([1, 1, 0, 0], bool), min_exits=1).method


@pytest.mark.parametrize("k", [0.7, 1.0, 6.0])
def test_weibull_shape_interval_covers_at_nominal_rate_under_censoring(k):
    """Weibull(k) samples of n = 120 censored at their 70 % quantile (30 % censored): the
    profile-likelihood interval holds k in 95 % of R = 800 replicates (4 sd: 0.95 +- 0.031
    allows the likelihood-ratio interval's small-sample slack; a 2x-wide cut gives 0.994)."""
    rng = np.random.default_rng(11)
    reps, n, cover = 800, 120, 0
    t_max = (-math.log(0.3)) ** (1 / k)
    for _ in range(reps):
        t, e = _censor(rng.weibull(k, n), t_max)
        est = weibull_shape(t, e)
        cover += est.low <= k <= est.high
    assert abs(cover / reps - 0.95) <= _tol(0.95, reps)


def test_weibull_shape_tells_memoryless_from_concentrated_exits():
    """An exponential sample's interval holds 1; a gamma(40) sample (CV 0.16, a transport)
    gets k far above 1, its Weibull CV near the sample's; no exit gives nan."""
    rng = np.random.default_rng(3)
    exp = weibull_shape(*_censor(rng.exponential(5.0, 200), 8.0))
    assert exp.low <= 1.0 <= exp.high
    x = rng.gamma(40.0, 1.0, 200)
    conc = weibull_shape(x, np.ones(x.size, bool))
    assert conc.low > 4
    assert abs(weibull_cv(conc.value) - x.std() / x.mean()) < 0.05
    assert math.isnan(weibull_shape([1.0, 2.0], [False, False]).value)


def test_weibull_cv_closed_form():
    """CV(1) = 1 (exponential), CV(2) = sqrt(4 / pi - 1) (Rayleigh), CV(inf) = 0, and a
    large Weibull(0.5) sample's CV against the formula (sqrt(5) = 2.236)."""
    assert weibull_cv(1.0) == pytest.approx(1.0, abs=1e-12)
    assert weibull_cv(2.0) == pytest.approx(math.sqrt(4 / math.pi - 1), abs=1e-12)
    assert weibull_cv(0.5) == pytest.approx(math.sqrt(5.0), abs=1e-12)
    assert weibull_cv(math.inf) == 0.0 and math.isnan(weibull_cv(0.0))
