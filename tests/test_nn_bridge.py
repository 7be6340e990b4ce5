"""nn_bridge.curvature.per_sample, bridge, linearized, fit: network -> levydyn Problem, and the fits."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from levydyn import Box, Problem, Quadratic, simulate  # noqa: E402
from levydyn.noise import c_alpha  # noqa: E402
from nn_bridge.escape.bridge import (build_bridge, gaussian_eps, lowrank_potential,  # noqa: E402
                              sgd_to_sde_eps)
from nn_bridge.curvature.per_sample import Curvature, hessian_curvature  # noqa: E402
from nn_bridge.data.datasets import load_dataset  # noqa: E402
from nn_bridge.escape.experiment import EscapeConfig  # noqa: E402
from nn_bridge.escape.fit import fit_escape_table, fit_gaussian, fit_levy, log_se  # noqa: E402
from nn_bridge.data.flat import FlatModel  # noqa: E402
from nn_bridge.curvature.linearized import LinearizedGradient  # noqa: E402
from nn_bridge.data.models import ModelSpec, build_model  # noqa: E402
from nn_bridge.escape.predict import escape_from_levydyn  # noqa: E402
from nn_bridge.noise.profile import NoiseProfile  # noqa: E402


@pytest.fixture(scope="module")
def net():
    data = load_dataset("breast_cancer")
    spec = ModelSpec("mlp", data.n_features, data.n_classes, width=4, depth=3, seed=1)
    flat = FlatModel(build_model(spec).double())
    X = torch.as_tensor(data.X_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    return flat, X, y


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


def test_lowrank_potential_matches_the_reduced_matrix():
    H, curv = _curv()
    pot = lowrank_potential(curv)
    x = np.random.default_rng(1).standard_normal(6)
    np.testing.assert_allclose(pot.gradient(x), curv.dense() @ x, rtol=1e-12)
    np.testing.assert_allclose(curv.matvec(x[None])[0], curv.dense() @ x, rtol=1e-12)
    axes = np.array([0, 2, 5])
    sub = lowrank_potential(curv, axes)
    np.testing.assert_allclose(sub.gradient(x[axes]), curv.dense()[np.ix_(axes, axes)] @ x[axes],
                               rtol=1e-12)


def test_exact_curvature_with_all_eigenpairs_is_the_hessian(net):
    flat, X, y = net
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


def test_lanczos_and_hutchinson_agree_with_exact(net):
    """Top eigenvalues: Lanczos to 1e-6. Diagonal: Hutchinson with 400 Rademacher probes has
    relative error ~ ||offdiag row|| / sqrt(400); the trace must be within 10 %."""
    flat, X, y = net
    w = flat.flat(torch.float64).numpy()
    ex = hessian_curvature(flat, X, y, w, weight_decay=1e-2, k=4, method="exact")
    lz = hessian_curvature(flat, X, y, w, weight_decay=1e-2, k=4, method="lanczos", n_probe=400)
    np.testing.assert_allclose(lz.eigvals, ex.eigvals, rtol=1e-6)
    assert abs(lz.trace - ex.trace) < 0.1 * ex.trace
    assert math.isnan(lz.frob_rel_error) and ex.frob_rel_error < 1


def test_build_bridge_conversion_axes_and_layers():
    H, curv = _curv(P=6, k=2)
    alpha = [1.5, np.nan, 1.2, 0.8, 2.0, 1.7]
    sigma = [0.1, 0.1, 0.2, 0.05, 0.3, 0.1]
    std = [0.2, 0.1, 0.3, 0.2, 0.4, 0.1]
    prof = _profile(alpha, sigma, std=std)
    br = build_bridge(prof, curv, lr=0.3, radius=0.7)
    np.testing.assert_array_equal(br.axes, [0, 2, 3, 4, 5])          # NaN alpha dropped
    assert br.reduction["dropped_no_noise_law"] == 1
    a = np.asarray(alpha)[br.axes]
    np.testing.assert_allclose(br.problem.eps, 0.3 ** (1 - 1 / a) * np.asarray(sigma)[br.axes])
    np.testing.assert_allclose(br.gaussian.eps, gaussian_eps(np.asarray(std)[br.axes], 0.3))
    assert np.all(br.gaussian.alpha == 2.0)
    assert br.problem.domain.radius == 0.7
    assert br.layer_names == ["fc1"] and np.all(br.axis_layer == 0)
    # closed form: sum over heavy axes of 2 c_a eps^a r^-a / a
    heavy = a < 2
    lam = sum(2 * c_alpha(ai) * ei ** ai * 0.7 ** (-ai) / ai
              for ai, ei in zip(a[heavy], br.problem.eps[heavy]))
    cf = br.closed_form_levy()
    assert cf["mean_time"] == pytest.approx(1 / lam)
    assert cf["mean_iterations"] == pytest.approx(1 / (lam * 0.3))
    small = build_bridge(prof, curv, lr=0.3, radius=0.7, max_axes=2)
    assert small.axes.size == 2 and small.reduction["kept_gaussian_spread_share"] < 1
    g = br.closed_form_gaussian(curv)
    assert g["stationary_rms_radius"] > 0 and g["mean_iterations_1d"] > 0


def test_build_bridge_bad_input():
    H, curv = _curv(P=6)
    with pytest.raises(ValueError, match="curvature"):
        build_bridge(_profile([1.5] * 4, [0.1] * 4, names=("a",), shapes=((4,),)), curv, 0.1, 1.0)
    with pytest.raises(ValueError, match="lr"):
        build_bridge(_profile([1.5] * 6, [0.1] * 6), curv, -0.1, 1.0)
    with pytest.raises(ValueError, match="radius"):
        build_bridge(_profile([1.5] * 6, [0.1] * 6), curv, 0.1, 0.0)
    with pytest.raises(ValueError, match="no parameter"):
        build_bridge(_profile([np.nan] * 6, [0.1] * 6), curv, 0.1, 1.0)
    with pytest.raises(ValueError, match="noise_std"):
        build_bridge(_profile([1.5] * 6, [0.1] * 6), curv, 0.1, 1.0, noise_std=[1.0])


def test_escape_from_levydyn_is_in_iterations():
    H, curv = _curv(P=6)
    br = build_bridge(_profile([1.5] * 6, [0.3] * 6, std=[0.3] * 6), curv, lr=0.2, radius=0.5)
    cfg = EscapeConfig(lr=0.2, batch_size=8, n_seeds=50, radius=0.5, max_iter=500, seed=3)
    res = simulate(br.problem, n_paths=50, dt=0.2, t_max=100.0, seed=3)
    e = escape_from_levydyn(res, br, cfg)
    np.testing.assert_allclose(e.dist_iter * 0.2, res.times, rtol=1e-12)
    assert e.mean_iterations().value == pytest.approx(res.mean_exit_time().value / 0.2)


def test_linearized_gaussian_noise_has_the_minibatch_covariance():
    """u = xi^T F with F from the SVD of the centred per-sample gradients: Cov(u) = G^T G / (N B).
    20000 draws: entries of the sample covariance have relative error ~ sqrt(2/20000) = 1 %."""
    rng = np.random.default_rng(0)
    G = rng.standard_normal((30, 4)) * np.array([1.0, 0.5, 2.0, 0.1])
    G = torch.as_tensor(G - G.mean(0))
    _, curv = _curv(P=4, k=1)
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


def test_fit_recovers_alpha_from_levy_escape_curves():
    """Synthetic escape curves from levydyn: 1-D OU with SaS(1.5) SGD noise (eps = lr^(1/3)
    sigma, dt = lr), exit from (-1, 1), 1000 paths per lr. Small-noise theory: mean
    iterations ~ lr^-alpha. Finite-noise corrections (eps ~ 0.1-0.2 here) bias the slope by
    a few hundredths; the tolerance is 0.15 (about 3 standard errors)."""
    alpha, sigma = 1.5, 0.5
    lrs = np.array([0.005, 0.01, 0.02, 0.04])
    rows = []
    for lr in lrs:
        eps = float(sgd_to_sde_eps(sigma, alpha, lr))
        prob = Problem(Quadratic(1.0), alpha, eps, Box.around(0.0, 1.0, 1.0))
        res = simulate(prob, n_paths=1000, dt=lr, t_max=lr * 2e5, seed=7)
        e = res.mean_exit_time()
        rows.append((8, lr, e.value / lr, e.low / lr, e.high / lr))
    rows = np.array(rows)
    f = fit_levy(lrs, rows[:, 2], log_se(rows[:, 2], rows[:, 3], rows[:, 4]))
    assert abs(f.params["alpha"] - alpha) < 0.15, f
    fixed = fit_levy(lrs, rows[:, 2], log_se(rows[:, 2], rows[:, 3], rows[:, 4]), alpha=alpha)
    assert fixed.chi2_dof < 10
    table = fit_escape_table(rows, {8: alpha})
    assert table["vs_lr"][8]["levy_free"].params["alpha"] == pytest.approx(f.params["alpha"])


def test_fit_gaussian_recovers_kramers_constant_and_skips_censored():
    lr = np.array([0.1, 0.15, 0.2, 0.3, 0.5])
    tau = np.exp(1.0 - np.log(lr) + 0.8 / lr) * np.exp(0.02 * np.array([1, -1, 1, -1, 0]))
    f = fit_gaussian(lr, tau, 0.05)
    assert f.params["K"] == pytest.approx(0.8, abs=0.05) and f.r2 > 0.99
    tau2 = tau.copy()
    tau2[0] = np.inf
    g = fit_gaussian(lr, tau2, 0.05)
    assert g.n == 4 and g.n_left_out == 1
    with pytest.raises(ValueError, match="at least 2"):
        fit_gaussian(lr[:1], tau[:1], 0.05)
    with pytest.raises(ValueError, match="positive"):
        fit_levy([-0.1, 0.2], [1.0, 2.0], 0.1)
