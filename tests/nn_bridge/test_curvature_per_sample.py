"""Tests of ``nn_bridge.curvature.per_sample``.

From the former tests/test_nn_bridge.py, test_nn_curvature.py: nn_bridge.curvature.per_sample, bridge, linearized, fit: network -> levydyn Problem, and the fits.

Per-sample curvature, the minibatch-model profile, the torch rungs and the stability diagram.

Exact checks (float64 round-off tolerances): Gauss-Newton factors against an explicit
``J^T Lambda J``; factors + remainder against exact minibatch Hessian-vector products on a
softmax regression (logits linear in ``w``: Gauss-Newton is the Hessian)."""
import math
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.curvature.per_sample import (exact_hessian, factor_error, gn_mean,  # noqa: E402
                                            hessian_curvature, minibatch_hvp, per_sample_gn_factors)


def test_exact_curvature_with_all_eigenpairs_is_the_hessian(breast_cancer_mlp):
    flat, X, y = breast_cancer_mlp
    w = flat.flat(torch.float64).numpy()
    P = flat.n_params
    full = hessian_curvature(flat, X, y, w, weight_decay=1e-2, k=P)
    assert full.frob_rel_error < 1e-10
    # one column against a direct double-backward Hessian-vector product
    wt = torch.as_tensor(w).requires_grad_(True)
    g = torch.autograd.grad(flat.objective(wt, X, y, 1e-2), wt, create_graph=True)[0]
    e = torch.zeros(P, dtype=torch.float64)
    e[3] = 1.0
    col = torch.autograd.grad(g @ e, wt)[0].numpy()
    np.testing.assert_allclose(full.dense()[:, 3], col, rtol=1e-8, atol=1e-12)


def test_lanczos_and_hutchinson_agree_with_exact(breast_cancer_mlp):
    """Top eigenvalues: Lanczos to 1e-6. Diagonal: Hutchinson with 400 Rademacher probes has
    relative error ~ ||offdiag row|| / sqrt(400); the trace must be within 10 %."""
    flat, X, y = breast_cancer_mlp
    w = flat.flat(torch.float64).numpy()
    ex = hessian_curvature(flat, X, y, w, weight_decay=1e-2, k=4, method="exact")
    lz = hessian_curvature(flat, X, y, w, weight_decay=1e-2, k=4, method="lanczos", n_probe=400)
    np.testing.assert_allclose(lz.eigvals, ex.eigvals, rtol=1e-6)
    assert abs(lz.trace - ex.trace) < 0.1 * ex.trace
    assert math.isnan(lz.frob_rel_error) and ex.frob_rel_error < 1


def test_gn_factors_are_exact_j_lambda_j(wine_mlp_at_minimum):
    flat, X, y, mn = wine_mlp_at_minimum
    F = per_sample_gn_factors(flat, X[:5], mn.w, chunk=2)
    C = 3
    assert F.shape == (5, flat.n_params, C - 1)
    w = torch.as_tensor(mn.w)
    for n in range(5):
        J = torch.func.jacrev(lambda ww: flat.logits(ww, X[n:n + 1])[0])(w)
        p = torch.softmax(flat.logits(w, X[n:n + 1])[0], 0)
        L = torch.diag(p) - torch.outer(p, p)
        np.testing.assert_allclose(F[n] @ F[n].T, (J.T @ L @ J).numpy(), atol=1e-13)


def test_factors_plus_remainder_are_exact_for_softmax_regression(softmax_regression):
    flat, X, y, w = softmax_regression()
    H = exact_hessian(flat, X, y, w, 0.0)
    Hw = torch.autograd.functional.hessian(lambda p: flat.loss(p, X, y), torch.as_tensor(w))
    np.testing.assert_allclose(H, Hw.numpy(), atol=1e-12)
    F = per_sample_gn_factors(flat, X, w)
    R = H - gn_mean(F)
    assert np.abs(R).max() < 1e-12                    # Hess z = 0: GN is the Hessian
    for B in (1, 4):
        fe = factor_error(flat, X, y, w, F, R, B, n=16, seed=1)
        assert fe.max < 1e-10, fe.summary()
        assert fe.mean_only > 0.05                     # the mean H is not H_B


def test_minibatch_hvp_is_the_batch_hessian(wine_mlp_at_minimum):
    flat, X, y, mn = wine_mlp_at_minimum
    idx = torch.as_tensor([[0, 5, 5, 9], [1, 2, 3, 4]])
    V = torch.as_tensor(np.random.default_rng(0).standard_normal((2, flat.n_params)))
    out = minibatch_hvp(flat, X, y, mn.w)(idx, V)
    for s in range(2):
        Hb = torch.autograd.functional.hessian(lambda p: flat.loss(p, X[idx[s]], y[idx[s]]),
                                               torch.as_tensor(mn.w))
        np.testing.assert_allclose(out[s].numpy(), (Hb @ V[s]).numpy(), atol=1e-11)
