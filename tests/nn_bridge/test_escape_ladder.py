"""Tests of ``nn_bridge.escape.ladder``.

From the former tests/test_nn_bridge.py: nn_bridge.curvature.per_sample, bridge, linearized, fit: network -> levydyn Problem, and the fits."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from levydyn import simulate  # noqa: E402
from nn_bridge.escape.bridge import build_bridge  # noqa: E402
from nn_bridge.curvature.per_sample import Curvature  # noqa: E402
from nn_bridge.escape.experiment import EscapeConfig  # noqa: E402
from nn_bridge.escape.ladder import escape_from_levydyn  # noqa: E402
from nn_bridge.noise.profile import NoiseProfile  # noqa: E402


def _curv(P=6, k=2, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((P, P))
    H = A @ A.T / P + 0.1 * np.eye(P)
    ev, V = np.linalg.eigh(H)
    top = np.argsort(ev)[::-1][:k]
    return H, Curvature(eigvals=ev[top], eigvecs=V[:, top], diag=np.diag(H).copy(),
                        trace=float(np.trace(H)), method="exact", weight_decay=0.0)


def _profile(alpha, sigma, names=("net.fc1.weight", "net.fc1.bias"), shapes=((2, 2), (2,)),
             std=None):
    extra = {} if std is None else {"noise_std": list(std)}
    return NoiseProfile(alpha=np.asarray(alpha, float), sigma=np.asarray(sigma, float),
                        layer_names=names, layer_shapes=shapes, lr=0.05, batch_size=8,
                        dataset="x", model={}, weights_sha256="", n_minibatches=100,
                        sampling="iid", estimator="cf_regression", extra=extra)


def test_escape_from_levydyn_is_in_iterations():
    H, curv = _curv(P=6)
    br = build_bridge(_profile([1.5] * 6, [0.3] * 6, std=[0.3] * 6), curv, lr=0.2, radius=0.5)
    cfg = EscapeConfig(lr=0.2, batch_size=8, n_seeds=50, radius=0.5, max_iter=500, seed=3)
    res = simulate(br.problem, n_paths=50, dt=0.2, t_max=100.0, seed=3)
    e = escape_from_levydyn(res, br, cfg)
    np.testing.assert_allclose(e.dist_iter * 0.2, res.times, rtol=1e-12)
    assert e.mean_iterations().value == pytest.approx(res.mean_exit_time().value / 0.2)
