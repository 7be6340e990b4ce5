"""Tests of ``nn_bridge.curvature.linearized``.

From the former tests/test_nn_bridge.py: nn_bridge.curvature.per_sample, bridge, linearized, fit: network -> levydyn Problem, and the fits."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.curvature.linearized import LinearizedGradient  # noqa: E402


def test_linearized_gaussian_noise_has_the_minibatch_covariance(top_curvature):
    """u = xi^T F with F from the SVD of the centred per-sample gradients: Cov(u) = G^T G / (N B).
    20000 draws: entries of the sample covariance have relative error ~ sqrt(2/20000) = 1 %."""
    rng = np.random.default_rng(0)
    G = rng.standard_normal((30, 4)) * np.array([1.0, 0.5, 2.0, 0.1])
    G = torch.as_tensor(G - G.mean(0))
    _, curv = top_curvature(P=4, k=1)
    orc = LinearizedGradient(curv, G, 5, "gaussian", np.zeros(4, int), ["a"])
    draws = torch.as_tensor(orc.draw(rng, 20000))
    U = orc._noise(draws).numpy()
    C = (G.T @ G).numpy() / (30 * 5)
    np.testing.assert_allclose(np.cov(U.T), C, atol=0.05 * np.abs(C).max())
    mb = LinearizedGradient(curv, G, 5, "minibatch", np.zeros(4, int), ["a"])
    U = mb._noise(torch.as_tensor(mb.draw(rng, 20000))).numpy()
    np.testing.assert_allclose(np.cov(U.T), C, atol=0.05 * np.abs(C).max())
    with pytest.raises(ValueError, match="noise"):
        LinearizedGradient(curv, G, 5, "cauchy", np.zeros(4, int), ["a"])
