"""Tests of ``nn_bridge.curvature.second_order``.

From the former tests/test_nn_curvature.py: Per-sample curvature, the minibatch-model profile, the torch rungs and the stability diagram.

The rungs (g), (h) and (f') against their formulas on a least-squares model (exactly
quadratic), to float64 round-off."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.curvature.per_sample import exact_hessian  # noqa: E402
from nn_bridge.data.flat import FlatModel  # noqa: E402
from nn_bridge.noise.per_sample import per_sample_gradients  # noqa: E402
from nn_bridge.curvature.second_order import SecondOrderGradient  # noqa: E402


def _least_squares(n=30, d=3, seed=0):
    rng = np.random.default_rng(seed)
    Xn = rng.standard_normal((n, d))
    yn = Xn @ np.array([0.5, -1.0, 0.3]) + 0.3 * rng.standard_normal(n)
    model = torch.nn.Linear(d, 1, bias=False).double()
    flat = FlatModel(model, loss_fn=lambda out, t: 0.5 * ((out[:, 0] - t) ** 2).mean())
    w_star = np.linalg.solve(Xn.T @ Xn / n + 0.01 * np.eye(d), Xn.T @ yn / n)
    return flat, torch.as_tensor(Xn), torch.as_tensor(yn), w_star


def test_rungs_on_an_exactly_quadratic_model():
    """Least squares: the landscape is quadratic and H_n constant, so (h) = (f') and
    (g) = (H + wd) x + u_B, exactly (same draws)."""
    flat, X, y, w_star = _least_squares()
    wd = 0.01
    H = exact_hessian(flat, X, y, w_star, 0.0)
    np.testing.assert_allclose(H, X.numpy().T @ X.numpy() / X.shape[0], atol=1e-12)
    G = per_sample_gradients(flat.model, X, y, loss_fn=flat.loss_fn).to(torch.float64)
    G = G - G.mean(0)
    rung = {k: SecondOrderGradient(flat, X, y, G, w_star, H, 4, wd, k)
            for k in ("nonlinear_frozen", "nonlinear_multiplicative", "multiplicative_exact")}
    rng = np.random.default_rng(2)
    W = torch.as_tensor(w_star + 0.5 * rng.standard_normal((5, 3)))
    draws = torch.as_tensor(rng.integers(0, X.shape[0], (5, 4)))
    D = (W - torch.as_tensor(w_star)).numpy()
    u = G[draws].mean(1).numpy()
    grad_at_star = (X.numpy().T @ (X.numpy() @ w_star - y.numpy())) / X.shape[0] + wd * w_star
    g = rung["nonlinear_frozen"].gradients(W, draws).numpy()
    np.testing.assert_allclose(g, grad_at_star + D @ (H + wd * np.eye(3)) + u, atol=1e-12)
    h = rung["nonlinear_multiplicative"].gradients(W, draws).numpy()
    fx = rung["multiplicative_exact"].gradients(W, draws).numpy()
    np.testing.assert_allclose(h - grad_at_star, fx, atol=1e-12)
    Xd = X.numpy()[draws.numpy()]                        # (5, 4, 3)
    Hb = np.einsum("sbi,sbj->sij", Xd, Xd) / 4
    np.testing.assert_allclose(fx, np.einsum("sij,sj->si", Hb, D) + wd * D + u, atol=1e-12)
    with pytest.raises(ValueError, match="kind='magic'"):
        SecondOrderGradient(flat, X, y, G, w_star, H, 4, wd, "magic")


def test_local_gaussian_rung_against_its_formula():
    """Rung (i) on least squares, per-sample gradients g_i(w) = x_i (x_i . w - y_i): the
    oracle is mean_i g_i + wd w + (n B)^(-1/2) sum_i (g_i - mean g) z_i for the given z
    (so Cov = Sigma(w) / B), to round-off, one replica as in a batch of them. A planted
    (n B)^(-1/2) -> n^(-1/2), or the noise of w* instead of w, fails."""
    from nn_bridge.curvature.local_gauss import LocalGaussianGradient

    flat, X, y, w_star = _least_squares()
    n, B, wd = X.shape[0], 4, 0.01
    rng = np.random.default_rng(5)
    W = torch.as_tensor(w_star + 0.5 * rng.standard_normal((6, 3)))
    orc = LocalGaussianGradient(flat, X, y, B, wd)
    z = torch.as_tensor(orc.draw(rng, 6))
    assert z.shape == (6, n)
    Xn, yn, Wn = X.numpy(), y.numpy(), W.numpy()
    g = np.einsum("ni,sn->sni", Xn, Wn @ Xn.T - yn)               # (s, n, P)
    c = g - g.mean(1, keepdims=True)
    want = g.mean(1) + wd * Wn + np.einsum("snp,sn->sp", c, z.numpy()) / np.sqrt(n * B)
    np.testing.assert_allclose(orc.gradients(W, z).numpy(), want, atol=1e-12)
    np.testing.assert_allclose(orc.gradients(W[:1], z[:1]).numpy(), want[:1], atol=1e-12)
    U = 0.5 * ((Wn @ Xn.T - yn) ** 2).mean(1) + 0.5 * wd * (Wn ** 2).sum(1)
    np.testing.assert_allclose(orc.objective(W).numpy(), U, atol=1e-12)
