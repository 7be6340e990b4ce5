"""The study's ratios and "within 2x" counts on a hand-made report (issue 26): numbers
computed by hand, so an inverted ratio, a wrong factor or a bound counted as a number fails."""
import json
import math

import pytest

from levydyn.results import Estimate
from nn_bridge.escape.cells import escape_ratio, plain
from nn_bridge.escape.verdict import ratio_verdict, targets


def _ratio(value, low=None, high=None, method="ratio"):
    return {"value": value, "low": value if low is None else low,
            "high": value if high is None else high, "level": 0.95, "method": method}


def _cell(B, lr, cens, regime, **ratios):
    return {"batch_size": B, "lr": lr, "regime": regime,
            "measured": {"mean": 100.0, "censored": cens},
            "models": {m: {"ratio": r} for m, r in ratios.items()}}


# Ladder order (network down): nonlinear_multiplicative (h), nonlinear_frozen (g),
# multiplicative (f), lin_minibatch (e), ...
REPORT = {"cells": [
    # 1: (f) 1.5 within; (h) 0.3 off -> first rung off is (h)        counted, unstable
    _cell(4, 0.5, 0.0, "unstable", nonlinear_multiplicative=_ratio(0.3), multiplicative=_ratio(1.5)),
    # 2: (f) 2.5 off (and 1/2.5 = 0.4 too: an inverted ratio stays off) counted, stable
    _cell(8, 0.5, 0.2, "stable", multiplicative=_ratio(2.5), lin_minibatch=_ratio(1.0)),
    # 3: (f) 0.5 exactly within (closed interval)                      counted, stable
    _cell(8, 0.3, 0.49, "stable", multiplicative=_ratio(0.5)),
    # 4: measurement 60 % censored: not counted, whatever the ratio
    _cell(16, 0.3, 0.6, "unstable", multiplicative=_ratio(1.0)),
    # 5: (f) only a bound ratio >= 3 (prediction censored): definitely off, counted
    _cell(16, 0.5, 0.1, "unstable", multiplicative=_ratio("nan", 3.0, "inf", "bound: ...")),
    # 6: (f) a bound ratio <= 4 (measurement's mean a bound): undecided, not counted
    _cell(32, 0.5, 0.3, "unstable", multiplicative=_ratio("nan", 0.0, 4.0, "bound: ...")),
    # 7: (f) never escapes: ratio inf, off
    _cell(32, 0.3, 0.0, "stable", multiplicative=_ratio("inf", "nan", "nan")),
    # 8: (f) 0.45: off (just below 1/2); no (f) stability regime
    _cell(64, 0.3, 0.0, None, multiplicative=_ratio(0.45)),
]}


def test_counts_on_a_hand_made_report_read_back_from_json(tmp_path):
    path = tmp_path / "study.json"
    path.write_text(json.dumps(REPORT))
    t = targets(json.loads(path.read_text())["cells"])
    verdicts = [r.get("f_within_2x") for r in t["cells"]]
    assert verdicts == [True, False, True, True, False, None, False, False]
    assert [r["counted"] for r in t["cells"]] == [True, True, True, False, True, False, True, True]
    assert t["n_counted"] == 6 and t["n_f_within_2x"] == 2
    assert t["f_within_2x_in_every_counted_cell"] is False
    assert t["by_regime"] == {"unstable": {"n_counted": 2, "n_f_within_2x": 1},
                              "stable": {"n_counted": 3, "n_f_within_2x": 1}}
    assert [r["first_rung_off_by_2x"] for r in t["cells"]] == [
        "nonlinear_multiplicative", "multiplicative", None, None, "multiplicative", None,
        "multiplicative", "multiplicative"]
    assert t["cells"][0]["f_ratio"] == 1.5 and math.isnan(t["cells"][5]["f_ratio"])
    # the best rung: the number closest to 1 in log ((f) 1.5 beats (h) 0.3; (e) 1.0 beats
    # (f) 2.5); a bound or infinite ratio is never best; 0.45 is best and still off
    assert [r["best_rung"] for r in t["cells"]] == [
        "multiplicative", "lin_minibatch", "multiplicative", "multiplicative", None, None,
        None, "multiplicative"]
    assert [r["best_within_2x"] for r in t["cells"]] == [
        True, True, True, True, None, None, None, False]
    # counted for the best rung: measured and the best rung decided (cells 1, 2, 3, 8)
    assert [r["best_counted"] for r in t["cells"]] == [
        True, True, True, False, False, False, False, True]
    assert t["n_best_counted"] == 4 and t["n_best_within_2x"] == 3
    assert t["best_within_2x_in_every_counted_cell"] is False


def test_verdict_edges():
    assert ratio_verdict(_ratio(2.0)) and ratio_verdict(_ratio(0.5))
    assert ratio_verdict(_ratio(2.0001)) is False and ratio_verdict(_ratio(0.4999)) is False
    assert ratio_verdict(_ratio(None)) is None
    assert ratio_verdict(_ratio("nan", 0.0, 0.3)) is False        # bounded below 1/2
    assert ratio_verdict(_ratio("nan", 1.5, "inf")) is None       # >= 1.5: could be within


def test_escape_ratio_by_hand_and_with_bounds():
    # p = 300 [200, 450], m = 100 [80, 125]: r = 3; log-normal CI with
    # s = hypot(log(450/200), log(125/80)) / (2 z), the CI r exp(-+ z s).
    p, m = Estimate(300.0, 200.0, 450.0), Estimate(100.0, 80.0, 125.0)
    r = escape_ratio(p, m, 0.95)
    z = 1.959964
    s = math.hypot(math.log(450 / 200), math.log(125 / 80)) / (2 * z)
    assert r.value == 3.0 and not r.is_bound
    assert r.low == pytest.approx(3 * math.exp(-z * s), rel=1e-3)
    assert r.high == pytest.approx(3 * math.exp(z * s), rel=1e-3)
    # a censored prediction whose mean is only >= 400: r >= 400 / 125
    pb = Estimate(420.0, 400.0, math.inf, 0.95, "bound: mean >= restricted mean ...")
    rb = escape_ratio(pb, m, 0.95)
    assert math.isnan(rb.value) and rb.low == pytest.approx(3.2) and rb.high == math.inf
    assert ratio_verdict(plain(rb)) is False
    # a censored measurement (mean >= 90): r <= 450 / 90 = 5, undecided
    mb = Estimate(95.0, 90.0, math.inf, 0.95, "bound: ...")
    rm = escape_ratio(p, mb, 0.95)
    assert math.isnan(rm.value) and rm.high == pytest.approx(5.0) and rm.value != 0
    assert ratio_verdict(plain(rm)) is None


def test_verdict_bound_edges_and_factor():
    assert ratio_verdict(_ratio("nan", 2.0, "inf")) is None       # r >= 2 may be exactly 2
    assert ratio_verdict(_ratio("nan", 0.0, 0.5)) is None         # r <= 1/2 likewise
    assert ratio_verdict(_ratio("nan", 0.0, 1.5)) is None
    assert ratio_verdict(_ratio(2.5), factor=3.0) is True
    assert ratio_verdict(_ratio("nan", 2.5, "inf"), factor=3.0) is None


def test_targets_rows_factor_and_empty():
    cells = [_cell(4, 0.5, 0.0, "stable", multiplicative=_ratio(2.5), lin_minibatch=_ratio(2.5)),
             _cell(8, 0.5, 0.5, "stable", multiplicative=_ratio(1.0)),       # 50 %: not counted
             {"batch_size": 16, "lr": 0.1, "regime": None, "measured": {"censored": 0.0}}]
    t2, t3 = targets(cells), targets(cells, factor=3.0)
    assert t2["cells"][0] == {"batch_size": 4, "lr": 0.5, "censored": 0.0, "f_ratio": 2.5,
                              "f_within_2x": False, "first_rung_off_by_2x": "multiplicative",
                              "best_rung": "multiplicative", "best_ratio": 2.5,
                              "best_within_2x": False, "best_counted": True,
                              "counted": True, "regime": "stable", "kind": "grid"}
    assert t3["cells"][0]["f_within_2x"] is True and t3["cells"][0]["first_rung_off_by_2x"] is None
    assert t2["cells"][1]["counted"] is False
    assert "f_within_2x" not in t2["cells"][2] and t2["cells"][2]["counted"] is False
    assert t2["n_counted"] == 1 and t3["n_f_within_2x"] == 1
    empty = targets([])
    assert empty["f_within_2x_in_every_counted_cell"] is None and empty["n_counted"] == 0


def test_by_regime_counts_are_per_regime():
    cells = [_cell(4, 0.5, 0.0, "stable", multiplicative=_ratio(1.0)),
             _cell(8, 0.5, 0.0, "stable", multiplicative=_ratio(1.2)),
             _cell(16, 0.5, 0.0, "unstable", multiplicative=_ratio(5.0))]
    t = targets(cells)
    assert t["by_regime"] == {"unstable": {"n_counted": 1, "n_f_within_2x": 0},
                              "stable": {"n_counted": 2, "n_f_within_2x": 2}}
