"""Tests of ``nn_bridge.escape.radius_scan``.

From the former tests/test_nn_curvature.py: Per-sample curvature, the minibatch-model profile, the torch rungs and the stability diagram."""
import math
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.escape.experiment import EscapeConfig  # noqa: E402


def _escapes(mean_iter, n=400, seed=0):
    """Geometric escape iterations (>= 1) with the given mean, none censored."""
    from nn_bridge.escape.experiment import NetworkEscape

    it = np.random.default_rng(seed).geometric(1.0 / mean_iter, n)
    cfg = EscapeConfig(lr=0.5, batch_size=8, n_seeds=n, max_iter=10 ** 7)
    return NetworkEscape(cfg, it, np.ones(n, bool), np.zeros(n, int), np.zeros(n, int),
                         np.full((n, 1), np.nan), ["fc1"])


@pytest.mark.parametrize("law, regime", [("log", "unstable"), ("power", "stable")])
def test_radius_scan_growth_verdict(law, regime):
    """Means that grow like 10 + 20 log(R / 0.25) (resp. 20 R^1.5) over R = 0.25..4, 400
    geometric samples each (relative SE ~5 %): the log (power) fit must win, be acceptable
    (p >= 0.01: for the true law a 1 % false rejection per draw; fixed seeds 100..104) and
    agree with the regime; the other form must be rejected (p < 0.01)."""
    from levydyn.results import Estimate
    from nn_bridge.escape.radius_scan import RadiusScan

    radii = (0.25, 0.5, 1.0, 2.0, 4.0)
    mean = {R: (10 + 20 * math.log(R / 0.25)) if law == "log" else 20 * R ** 1.5 for R in radii}
    meas = {R: _escapes(mean[R], seed=100 + i) for i, R in enumerate(radii)}
    lam = Estimate(0.05, 0.04, 0.06, 0.95, "test") if regime == "unstable" else \
        Estimate(-0.05, -0.06, -0.04, 0.95, "test")
    sc = RadiusScan(8, 0.5, radii, meas, {"multiplicative": meas}, {"lambda_1": lam,
                                                                  "regime": regime})
    g = sc.growth()
    assert g["verdict"] == ("logarithmic" if law == "log" else "polynomial")
    assert g["agrees"] is True
    other = "polynomial" if law == "log" else "logarithmic"
    assert g[other]["p_value"] < 0.01
    assert sc.largest_radius_within("multiplicative") == 4.0
