"""The horizon rule of issue 28 (``nn_bridge.escape.horizon``), the measurement methods it
gives a cell, and the choice of slow cells (``nn_bridge.escape.slow_cells``)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from levydyn.results import Estimate
from nn_bridge.escape.cells import Cell, measurement_method
from nn_bridge.escape.config import StudyConfig
from nn_bridge.escape.experiment import EscapeConfig, NetworkEscape
from nn_bridge.escape.horizon import (horizons, is_measured, relative_half_width,
                                      run_to_precision, why_not_measured)
from nn_bridge.escape.slow_cells import pick_nearest, targets
from nn_bridge.escape.study import Study


def _escape(iters, exited, max_iter) -> NetworkEscape:
    n = len(iters)
    return NetworkEscape(config=EscapeConfig(lr=0.1, batch_size=4, n_seeds=n, max_iter=max_iter),
                         dist_iter=np.asarray(iters), dist_exited=np.asarray(exited, bool),
                         exit_param=np.zeros(n, int), exit_layer=np.zeros(n, int),
                         layer_share=np.ones((n, 1)), layer_names=["w"])


def _exponential_paths(n, mean, horizon, seed=0, shape=1.0):
    """n gamma(``shape``) escape times (exponential for shape 1) of a known mean, censored
    at ``horizon``."""
    t = np.ceil(np.random.default_rng(seed).gamma(shape, mean / shape, n))
    return _escape(np.minimum(t, horizon).astype(int), t <= horizon, horizon)


def test_horizons_grow_tenfold_to_the_cap():
    assert horizons(2000, 100_000) == (2000, 20_000, 100_000)
    assert horizons(2000, 2000) == (2000,)
    assert horizons(2000, 500) == (2000,)


def test_relative_half_width_and_bounds():
    assert relative_half_width(Estimate(100.0, 80.0, 120.0, 0.95, "t")) == pytest.approx(0.2)
    bound = Estimate(100.0, 100.0, math.inf, 0.95, "bound: Kaplan-Meier")
    assert bound.is_bound and relative_half_width(bound) == math.inf
    assert is_measured(Estimate(100.0, 76.0, 124.0, 0.95, "t"))          # 0.24
    assert not is_measured(Estimate(100.0, 74.0, 126.0, 0.95, "t"))      # 0.26
    assert "lower bound" in why_not_measured(bound)
    assert "0.26 > 0.25" in why_not_measured(Estimate(100.0, 74.0, 126.0, 0.95, "t"))


def test_run_to_precision_extends_only_while_censored_and_imprecise():
    """Gamma(4) escapes of mean 5,000 (a delay before the first escapes, like the networks'),
    400 paths: at 2,000 ~93 % are censored and the Weibull test refuses an exponential tail
    (a bound), at 20,000 none are (measured). An exponential sample at 2,000 with ~130
    exits is measured there (its own exits support the tail). A sample where every path left
    stops at once even when its CI is wide (a longer horizon cannot narrow it)."""
    seen = []

    def run(h):
        seen.append(h)
        return _exponential_paths(400, 5000.0, h, shape=4.0)

    res, h = run_to_precision(run, 2000, 100_000)
    assert seen == [2000, 20_000] and h == 20_000
    assert is_measured(res.mean_iterations())
    # 400 paths: the CI of the mean holds 5,000 (t interval / MLE, 95 %)
    m = res.mean_iterations()
    assert m.low < 5000.0 < m.high
    assert run_to_precision(lambda h: _exponential_paths(400, 5000.0, h), 2000, 100_000)[1] \
        == 2000

    seen.clear()
    res, h = run_to_precision(lambda h: (seen.append(h), _exponential_paths(8, 10.0, h))[1],
                              2000, 100_000)
    assert seen == [2000] and res.dist_exited.all() and not is_measured(res.mean_iterations())


def test_run_to_precision_keeps_the_last_stored_horizon():
    """Read-only runs: a horizon that is not stored yet ends the search."""
    stored = {2000: _exponential_paths(100, 50_000.0, 2000)}
    res, h = run_to_precision(lambda h: stored.get(h), 2000, 100_000)
    assert h == 2000 and res is stored[2000]
    assert run_to_precision(lambda h: None, 2000, 100_000) == (None, 2000)


def test_measurement_method_names_how_the_mean_is_known():
    fast = _exponential_paths(400, 50.0, 2000)                  # every path left
    assert measurement_method(fast, None) == "brute"
    censored = _escape([2000] * 10, [False] * 10, 2000)         # nobody left: a bound
    assert measurement_method(censored, None) == "bound"
    wide = _exponential_paths(6, 50.0, 2000)                    # a number, CI too wide
    assert measurement_method(wide, None) == "imprecise"
    split = {"censored": False, "mean_iterations": Estimate(9e5, 8e5, 1e6, 0.95, "gAMS")}
    assert measurement_method(censored, split) == "splitting"
    loose = {"censored": False, "mean_iterations": Estimate(9e5, 1e5, 2e6, 0.95, "gAMS")}
    assert measurement_method(censored, loose) == "bound"


def test_only_measured_cells_are_counted_and_the_rest_say_why():
    """A cell with a wide CI is not counted (it was, as 'brute', when < 50 % censored)."""
    pred = _exponential_paths(400, 60.0, 2000, seed=1)
    good = Cell(4, 0.1, _exponential_paths(400, 50.0, 2000), {"multiplicative": pred},
                {}, {}, {})
    wide = Cell(8, 0.1, _exponential_paths(6, 50.0, 2000), {"multiplicative": pred},
                {}, {}, {}, kind="slow")
    study = Study(StudyConfig.quick(), None, [good, wide])
    rows = study.targets()["cells"]
    assert [r["counted"] for r in rows] == [True, False]
    assert rows[1]["kind"] == "slow" and rows[1]["method"] == "imprecise"
    s = wide.summary()
    assert s["measured"]["why_not_measured"].startswith("relative CI half-width")
    assert good.summary()["measured"]["why_not_measured"] is None


def test_slow_cell_targets_and_nearest_choice():
    np.testing.assert_allclose(targets(4, 3.0, 6.0), [3, 4, 5, 6])
    np.testing.assert_allclose(targets(3), [3, 4, 5])
    assert targets(1).tolist() == [5.0] and targets(0).size == 0
    # log10 of the probes' predicted means; the highest goal is served first
    vals = [2.0, 3.1, 4.4, 4.6, 7.5, math.nan]
    got = pick_nearest(vals, targets(4, 3.0, 6.0))
    assert got == [(4, 6.0), (3, 5.0), (2, 4.0), (1, 3.0)]   # 7.5 reaches 6; then nearest
    assert pick_nearest([3.0], targets(4, 3.0, 6.0)) == [(0, 6.0)]        # each value at most once
    assert pick_nearest([5.2, 6.1, 9.0], [6.0]) == [(1, 6.0)]   # the closest from above
    # breast_cancer's probes (log10): four >= 5 (bounds at 1e5), 4.64, 3.99, 2.13: the lowest
    # target takes the fast 2.13, not a fifth >= 1e5 cell
    probes = [5.0, 4.64, 5.0, 5.0, 5.0, 3.99, 2.13]
    assert pick_nearest(probes, [3.0, 3.67, 4.33, 5.0]) == [(0, 5.0), (1, 4.33), (5, 3.67),
                                                            (6, 3.0)]
    assert pick_nearest([math.nan], targets(2)) == []


def test_ratio_text_says_which_side_is_bounded():
    """A bounded measured mean bounds the ratio from above, a bounded prediction from below;
    neither prints as a number (it used to print ">= 0" for an upper bound)."""
    from nn_bridge.escape.cells import escape_ratio, ratio_text

    bound = Estimate(3e4, 3e4, math.inf, 0.95, "bound: Kaplan-Meier")
    num = Estimate(100.0, 90.0, 110.0, 0.95, "t")
    assert ratio_text(escape_ratio(num, bound, 0.95)).startswith("<= 0.0037")
    assert ratio_text(escape_ratio(bound, num, 0.95)) == ">= 2.7e+02"
    assert ratio_text(escape_ratio(num, num, 0.95)).startswith("1 [")
