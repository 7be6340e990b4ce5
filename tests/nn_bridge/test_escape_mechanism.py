"""Tests of ``nn_bridge.escape.mechanism``: the three mechanism fits on means from known laws.

No network: the means are built by hand (exact, with a CI of known width) or are sample
means of exponential escape times with a known mean (400 samples per point: relative SE
1/sqrt(400) = 5 %)."""
import math

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")
from levydyn.results import Estimate  # noqa: E402
from nn_bridge.escape.mechanism import (choose_mechanism_cells, fit_lr,  # noqa: E402
                                        fit_radius)

R = (0.25, 0.5, 1.0, 2.0, 4.0)
Z = 1.959963984540054          # two-sided 95 % normal quantile
LAWS = {"heavy_tails": lambda r: 20 * r ** 1.5,
        "gaussian_climbing": lambda r: 10 * math.exp(0.25 * r * r),
        "unstable_growth": lambda r: 40 + math.log(r) / 0.05}


def _exact(mean: float, sigma: float = 0.05) -> Estimate:
    """A mean with CI mean * exp(+-z sigma): standard error of log mean exactly sigma."""
    return Estimate(mean, mean * math.exp(-Z * sigma), mean * math.exp(Z * sigma), 0.95, "test")


def _sampled(mean: float, seed: int, n: int = 400) -> Estimate:
    """Sample mean of n exponential escape times with the given mean, normal CI."""
    x = np.random.default_rng(seed).exponential(mean, n)
    m, s = x.mean(), x.std(ddof=1) / math.sqrt(n)
    return Estimate(m, m - Z * s, m + Z * s, 0.95, "test")


def test_power_law_exponent_and_its_se_by_hand():
    """Exact means 20 R^1.5 with log-space se 0.05: the WLS line through (log R, log m) has
    slope 1.5 exactly and se(a) = 0.05 / sqrt(Sxx), Sxx = sum (log R - mean log R)^2
    = 2 (log 4)^2 + 2 (log 2)^2 (equal weights, chi2 = 0: no Birge scaling). The distance
    to alpha_K = 1.4 [1.3, 1.5] is (1.5 - 1.4) / hypot(se(a), 0.1 / z)."""
    f = fit_radius(R, [_exact(20 * r ** 1.5) for r in R], alpha_K=Estimate(1.4, 1.3, 1.5),
                   alpha_i=1.2)
    h = f["fits"]["heavy_tails"]
    se_a = 0.05 / math.sqrt(2 * math.log(4) ** 2 + 2 * math.log(2) ** 2)
    assert h["params"]["a"] == pytest.approx(1.5, abs=1e-10)
    assert h["params"]["c"] == pytest.approx(math.log(20), abs=1e-10)
    assert h["se"]["a"] == pytest.approx(se_a, rel=1e-6)
    assert h["dof"] == 3 and h["chi2"] == pytest.approx(0, abs=1e-12) and h["acceptable"]
    assert h["z_alpha_K"] == pytest.approx(0.1 / math.hypot(se_a, 0.1 / Z), rel=1e-6)
    assert h["z_alpha_i"] == pytest.approx(0.3 / se_a, rel=1e-6)
    assert f["mechanism"] == "heavy_tails"


@pytest.mark.parametrize("law", list(LAWS))
def test_each_law_is_recognised_and_the_others_rejected(law):
    """Sampled means (5 % relative SE) of each law: its fit is acceptable (p >= 0.01: a 1 %
    false rejection per draw, fixed seeds) and chosen, both others rejected; the fitted
    rate is the law's within 3 standard errors (0.3 % two-sided per draw): a = 1.5,
    b = 0.25, s = 1 / lambda_1 = 20, and for (iii) z_predicted within 3."""
    means = [_sampled(LAWS[law](r), seed=10 + i) for i, r in enumerate(R)]
    f = fit_radius(R, means, lambda_1=Estimate(0.05, 0.0499, 0.0501))
    assert f["mechanism"] == law, f["sentence"]
    for k, fit in f["fits"].items():
        assert fit["acceptable"] == (k == law), (k, fit)
        if k != law:
            assert fit["p_value"] < 0.01
    rate, true = {"heavy_tails": ("a", 1.5), "gaussian_climbing": ("b", 0.25),
                  "unstable_growth": ("s", 20.0)}[law]
    fit = f["fits"][law]
    assert abs(fit["params"][rate] - true) < 3 * fit["se"][rate], fit
    if law == "unstable_growth":
        assert abs(fit["z_predicted"]) < 3
        assert fit["predicted_s"].value == pytest.approx(20.0)


def test_bounds_and_imprecise_means_are_left_out_and_listed():
    """A bound (KM restricted mean, far below the law) and an imprecise mean (CI +-60 %)
    added to the exact power law: the fit is the exact one, both listed with their reason."""
    means = [_exact(20 * r ** 1.5) for r in R]
    bound = Estimate(5.0, 5.0, math.inf, 0.95, "bound: Kaplan-Meier restricted mean")
    vague = Estimate(1000.0, 400.0, 1600.0, 0.95, "test")
    f = fit_radius(R + (8.0, 16.0), means + [bound, vague])
    assert f["n_measured"] == 5 and f["fits"]["heavy_tails"]["n_left_out"] == 2
    assert f["fits"]["heavy_tails"]["params"]["a"] == pytest.approx(1.5, abs=1e-10)
    reasons = {d["radius"]: d["reason"] for d in f["left_out"]}
    assert "lower bound" in reasons[8.0] and "half-width 0.60" in reasons[16.0]


def test_too_few_points_is_undetermined():
    means = [_exact(10.0), _exact(20.0)] + [Estimate(5.0, 5.0, math.inf, 0.95, "bound: KM")] * 3
    f = fit_radius(R, means)
    assert f["mechanism"] == "undetermined"
    assert all("error" in fit for fit in f["fits"].values())
    assert fit_lr([0.1, 0.2], [_exact(10.0), _exact(5.0)])["mechanism"] == "undetermined"


def test_lr_scan_laws():
    """Exact means (se 0.05 in log) over 5 lrs: Levy tau = e^2 lr^-1.5 gives alpha = 1.5 and
    the heavy-tails verdict; Kramers tau = e lr^-1 e^(0.3/lr) gives K = 0.3 and the Gaussian
    verdict; tau = 5 + 3 / lambda_1(lr) with lambda_1 > 0 at four lrs (one negative, left
    out and listed) gives s = 3 and the unstable verdict."""
    lrs = [0.05, 0.1, 0.2, 0.3, 0.5]
    f = fit_lr(lrs, [_exact(math.exp(2) * v ** -1.5) for v in lrs], alpha_i=1.5,
               alpha_K=[Estimate(1.2, 1.1, 1.3)] * 2 + [None] * 3)
    h = f["fits"]["heavy_tails"]
    assert f["mechanism"] == "heavy_tails" and h["params"]["alpha"] == pytest.approx(1.5)
    assert h["z_alpha_i"] == pytest.approx(0, abs=1e-6) and h["alpha_K_mean"].value == 1.2
    f = fit_lr(lrs, [_exact(math.exp(1 + 0.3 / v) / v) for v in lrs])
    assert f["mechanism"] == "gaussian_climbing"
    assert f["fits"]["gaussian_climbing"]["params"]["K"] == pytest.approx(0.3)
    lam = [-0.01, 0.01, 0.02, 0.05, 0.1]
    f = fit_lr(lrs, [_exact(5 + 3 / l) if l > 0 else _exact(50.0) for l in lam],
               lambda_1=[Estimate(v, v - 1e-3, v + 1e-3) for v in lam])
    u = f["fits"]["unstable_growth"]
    assert f["mechanism"] == "unstable_growth" and u["params"]["s"] == pytest.approx(3.0)
    assert u["n"] == 4 and [d["lr"] for d in u["not_unstable"]] == [0.05]


@pytest.mark.parametrize("call, needle", [
    (lambda: fit_radius(R, [_exact(1.0)] * 4), "means: 4 values for 5 radius"),
    (lambda: fit_radius((-1.0, 1.0, 2.0), [_exact(1.0)] * 3), "radius=-1.0"),
    (lambda: fit_radius(R, [1.0] * 5), "expected levydyn Estimates"),
    (lambda: fit_lr([0.1, 0.2, 0.3], [_exact(1.0)] * 3, lambda_1=[None]), "lambda_1: 1 values"),
])
def test_bad_input_is_one_valueerror(call, needle):
    with pytest.raises(ValueError, match=needle) as exc:
        call()
    assert "\n" not in str(exc.value)


def _cell(B, lr, kind, method, mean):
    return {"batch_size": B, "lr": lr, "kind": kind, "measured": {"method": method,
                                                                   "mean": mean}}


def test_choose_mechanism_cells_smallest_measured_slow_then_slowest_grid():
    rep = {"cells": [_cell(4, 0.5, "grid", "brute", 30.0), _cell(8, 0.3, "grid", "brute", 900.0),
                     _cell(16, 0.2, "grid", "bound", 5e4),
                     _cell(32, 0.1, "slow", "brute", 8e3), _cell(64, 0.05, "slow", "bound", 9e5),
                     _cell(16, 0.1, "slow", "splitting", 2e5), _cell(32, 0.2, "slow", "brute", 2e3)]}
    assert choose_mechanism_cells(rep) == [(32, 0.2), (32, 0.1)]
    rep["cells"] = [c for c in rep["cells"] if c["lr"] != 0.1 and c["lr"] != 0.2]
    rep["cells"].append(_cell(32, 0.2, "slow", "imprecise", 2e3))
    assert choose_mechanism_cells(rep) == [(8, 0.3), (4, 0.5)]


def _escapes(mean_iter, lr, R, n=400, seed=0, horizon=10 ** 7):
    """Geometric escape iterations (>= 1) with the given mean, censored at ``horizon``."""
    from nn_bridge.escape.experiment import EscapeConfig, NetworkEscape

    it = np.random.default_rng(seed).geometric(1.0 / mean_iter, n)
    done = it <= horizon
    cfg = EscapeConfig(lr=lr, batch_size=8, n_seeds=n, radius=R, max_iter=horizon)
    return NetworkEscape(cfg, np.minimum(it, horizon), done, np.zeros(n, int),
                         np.zeros(n, int), np.full((n, 1), np.nan), ["fc1"])


def test_mechanism_scan_plumbing_without_a_network(monkeypatch):
    """The driver with scan_point and the stored stability replaced by synthetic escapes
    (means 20 R^1.5 at lr 0.1; 2 / lr over lr at R = 1; the point R = 4 censored at a
    horizon of 5 iterations, mean 160): every point reaches the scan with its R or lr,
    the censored one is reported as not measured with its reason and left out of the fit,
    the reachable exponent and alpha_i are handed to the fits, and the summary is JSON."""
    import json
    from types import SimpleNamespace

    import importlib
    from nn_bridge.escape.config import StudyConfig
    from nn_bridge.escape.mechanism import mechanism_scan
    from nn_bridge.escape.tables import mechanism_blocks
    from nn_bridge.training.checkpoint import json_safe

    rs = importlib.import_module("nn_bridge.escape.radius_scan")
    study = importlib.import_module("nn_bridge.escape.study")
    mech = importlib.import_module("nn_bridge.escape.mechanism")
    calls = []
    profile = {"k": np.array([1, 10, 100, 1000]), "q10": np.array([0.05, 0.4, 0.8, 1.0]),
               "q50": np.array([0.1, 0.5, 0.9, 1.1]), "q90": np.array([0.2, 0.6, 1.0, 1.2])}
    monkeypatch.setattr(mech, "stored_profile", lambda basin, cfg, store, B, lr, n, *a: (
        calls.append(("profile", B, lr)) or profile))

    def fake_point(basin, cfg, B, lr, R, models, store, cached_only=False, **kw):
        calls.append((B, lr, R))
        if lr == 0.1:
            return _escapes(20 * R ** 1.5, lr, R, seed=int(10 * R),
                            horizon=5 if R == 4.0 else 10 ** 7), {}
        return _escapes(2 / lr, lr, R, seed=int(100 * lr)), {}

    lam = Estimate(-0.02, -0.03, -0.01)
    monkeypatch.setattr(rs, "scan_point", fake_point)
    monkeypatch.setattr(study, "stored_stability", lambda *a, **k: {
        "lambda_1": Estimate(0.1, 0.09, 0.11), "lambda_1_reachable": lam,
        "alpha_K_reachable": Estimate(1.5, 1.4, 1.6), "alpha_K": None, "regime": "stable"})
    basin = SimpleNamespace(minibatch=None, noise={8: {"alpha_median": 1.7}})
    cfg = StudyConfig.quick(lrs=(0.1, 0.2, 0.4))
    sc = mechanism_scan(cfg, basin, batch_size=8, lr=0.1, models=())
    assert ("profile", 8, 0.1) in calls
    calls.remove(("profile", 8, 0.1))
    assert sorted(calls) == sorted({(8, 0.1, r) for r in R} | {(8, v, 1.0) for v in cfg.lrs})
    pts = sc.points()
    four = [p for p in pts["radius"] if p["radius"] == 4.0][0]
    assert four["method"] in ("bound", "imprecise") and four["why_not_measured"]
    assert four["horizon"] == 5 and four["censored"] > 0.9
    f = sc.radius_fit()
    assert f["n_measured"] == 4 and f["left_out"][0]["radius"] == 4.0
    h = f["fits"]["heavy_tails"]
    assert h["alpha_K"].value == 1.5 and h["alpha_i"] == 1.7      # reachable, not full
    assert f["fits"]["unstable_growth"]["predicted_s"] is None     # lambda_1 < 0
    assert sc.lr_fit()["fits"]["heavy_tails"]["params"]["alpha"] == pytest.approx(1.0, abs=0.2)
    json.dumps(json_safe(sc.summary()))
    text = [b for b in mechanism_blocks([sc]) if isinstance(b, str)]
    assert any(line.startswith("mechanism vs radius:") for line in text)
    # the escape-time shape per point; the profile read at the mean escape (20 -> k = 10)
    assert all(p["weibull_k"]["low"] <= p["weibull_k"]["value"] <= p["weibull_k"]["high"]
               for p in pts["radius"] if p["method"] == "measured")
    prof = sc.summary()["distance_profile"]
    assert prof["at_k"] == 10 and prof["median_over_radius_at_mean"] == pytest.approx(0.5)
    assert any("the median path is at 0.50 R" in line for line in text)


def test_choose_mechanism_cells_reads_reports_from_before_measured_method():
    """Schema /1-/2 cells carry no method: a mean with relative half-width 0.1 counts as
    measured, one with 0.95 (an exponential extrapolation of a censored cell) and a
    non-finite one do not."""
    rep = {"cells": [{"batch_size": 4, "lr": 0.5, "measured": {"mean": 500, "low": 450,
                                                               "high": 550}},
                     {"batch_size": 8, "lr": 0.2, "measured": {"mean": 2e4, "low": 1e3,
                                                               "high": 3.9e4}},
                     {"batch_size": 16, "lr": 0.2, "measured": {"mean": "inf", "low": 10,
                                                                "high": "inf"}}]}
    assert choose_mechanism_cells(rep) == [(4, 0.5)]
