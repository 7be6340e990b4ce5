"""Tests of ``nn_bridge.escape.ladder``.

From the former tests/test_nn_bridge.py: nn_bridge.curvature.per_sample, bridge, linearized, fit: network -> levydyn Problem, and the fits."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from levydyn import simulate  # noqa: E402
from nn_bridge.escape.bridge import build_bridge  # noqa: E402
from nn_bridge.escape.experiment import EscapeConfig  # noqa: E402
from nn_bridge.escape.ladder import escape_from_levydyn  # noqa: E402


def test_escape_from_levydyn_is_in_iterations(top_curvature, noise_profile):
    H, curv = top_curvature(P=6)
    br = build_bridge(noise_profile([1.5] * 6, [0.3] * 6, std=[0.3] * 6), curv, lr=0.2, radius=0.5)
    cfg = EscapeConfig(lr=0.2, batch_size=8, n_seeds=50, radius=0.5, max_iter=500, seed=3)
    res = simulate(br.problem, n_paths=50, dt=0.2, t_max=100.0, seed=3)
    e = escape_from_levydyn(res, br, cfg)
    np.testing.assert_allclose(e.dist_iter * 0.2, res.times, rtol=1e-12)
    assert e.mean_iterations().value == pytest.approx(res.mean_exit_time().value / 0.2)
