"""Tests of ``nn_bridge.escape.bridge``.

From the former tests/test_nn_bridge.py, test_nn_escape.py: nn_bridge.curvature.per_sample, bridge, linearized, fit: network -> levydyn Problem, and the fits.

nn_bridge.escape.experiment: vectorised SGD escapes, the SGD <-> SDE conversion, CLI, bad input.

The conversion test is the end-to-end check of ``dt = lr``, ``eps_i = lr^(1-1/alpha_i)
sigma_i``: a linear model with squared loss (so ``grad U`` is exactly linear) and injected
SaS noise is run through the *network* escape machinery (``run_escape``: torch.func, per
replica streams), and the same model through levydyn (``simulate``, Euler, ``dt = lr``). The
two are the same recursion in law, so their escape iterations must agree within sampling
error; tolerances are stated at each assertion."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from levydyn.model.noise import c_alpha  # noqa: E402
from nn_bridge.escape.bridge import build_bridge, gaussian_eps, lowrank_potential  # noqa: E402
from nn_bridge.noise.profile import NoiseProfile  # noqa: E402
import math
from scipy import stats  # noqa: E402
from levydyn import Ball, Problem, Quadratic, simulate  # noqa: E402
from nn_bridge.escape.bridge import sgd_to_sde_eps  # noqa: E402
from nn_bridge.escape.experiment import (EscapeConfig, InjectedNoiseGradient, run_escape)
from nn_bridge.data.flat import FlatModel  # noqa: E402


def test_lowrank_potential_matches_the_reduced_matrix(top_curvature):
    H, curv = top_curvature()
    pot = lowrank_potential(curv)
    x = np.random.default_rng(1).standard_normal(6)
    np.testing.assert_allclose(pot.gradient(x), curv.dense() @ x, rtol=1e-12)
    np.testing.assert_allclose(curv.matvec(x[None])[0], curv.dense() @ x, rtol=1e-12)
    axes = np.array([0, 2, 5])
    sub = lowrank_potential(curv, axes)
    np.testing.assert_allclose(sub.gradient(x[axes]), curv.dense()[np.ix_(axes, axes)] @ x[axes],
                               rtol=1e-12)


def test_build_bridge_conversion_axes_and_layers(top_curvature, noise_profile):
    H, curv = top_curvature(P=6, k=2)
    alpha = [1.5, np.nan, 1.2, 0.8, 2.0, 1.7]
    sigma = [0.1, 0.1, 0.2, 0.05, 0.3, 0.1]
    std = [0.2, 0.1, 0.3, 0.2, 0.4, 0.1]
    prof = noise_profile(alpha, sigma, std=std)
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


def test_build_bridge_bad_input(top_curvature, noise_profile):
    H, curv = top_curvature(P=6)
    with pytest.raises(ValueError, match="curvature"):
        build_bridge(noise_profile([1.5] * 4, [0.1] * 4, names=("a",), shapes=((4,),)), curv, 0.1, 1.0)
    with pytest.raises(ValueError, match="lr"):
        build_bridge(noise_profile([1.5] * 6, [0.1] * 6), curv, -0.1, 1.0)
    with pytest.raises(ValueError, match="radius"):
        build_bridge(noise_profile([1.5] * 6, [0.1] * 6), curv, 0.1, 0.0)
    with pytest.raises(ValueError, match="no parameter"):
        build_bridge(noise_profile([np.nan] * 6, [0.1] * 6), curv, 0.1, 1.0)
    with pytest.raises(ValueError, match="noise_std"):
        build_bridge(noise_profile([1.5] * 6, [0.1] * 6), curv, 0.1, 1.0, noise_std=[1.0])


def _linear_problem(seed=0, n=40, p=3):
    rng = np.random.default_rng(seed)
    Xn = rng.standard_normal((n, p)) * np.array([1.0, 0.7, 0.4])
    yn = Xn @ np.array([0.5, -1.0, 0.3]) + 0.1 * rng.standard_normal(n)
    model = torch.nn.Linear(p, 1, bias=False).double()
    flat = FlatModel(model, loss_fn=lambda out, t: 0.5 * ((out[:, 0] - t) ** 2).mean())
    w_star = np.linalg.lstsq(Xn, yn, rcond=None)[0]
    H = Xn.T @ Xn / n
    return flat, torch.as_tensor(Xn), torch.as_tensor(yn), w_star, H


def test_sgd_sde_conversion_on_a_linear_model_with_injected_sas_noise():
    """SGD w <- w - lr (grad U + sigma Z) vs levydyn Euler with dt = lr,
    eps = lr^(1-1/alpha) sigma. 1000 replicas each; the mean exit iteration (~65) has a
    relative standard error ~3 % per side, so the means must agree within 4 combined
    standard errors (false alarm ~6e-5); the two-sample KS test of the iterations must not
    reject at 1e-3; the exit-axis frequencies must agree within 4 standard errors."""
    flat, X, y, w_star, H = _linear_problem()
    alpha = np.array([1.3, 1.7, 1.95])
    sigma = np.array([0.16, 0.24, 0.32])
    lr, r, n = 0.1, 0.5, 1000
    orc = InjectedNoiseGradient(flat, X, y, alpha, sigma)
    cfg = EscapeConfig(lr=lr, batch_size=1, n_seeds=n, radius=r, max_iter=3000, seed=11)
    net = run_escape(orc, w_star, cfg)
    prob = Problem(Quadratic(H, w_star), alpha, sgd_to_sde_eps(sigma, alpha, lr), Ball(w_star, r))
    sim = simulate(prob, n_paths=n, dt=lr, t_max=lr * 3000, seed=11)
    assert net.dist_exited.all() and sim.exited.all()
    it_sim = np.rint(sim.times / lr)                    # SDE time -> iterations
    np.testing.assert_allclose(it_sim * lr, sim.times, rtol=1e-12)
    m1, m2 = net.dist_iter.mean(), it_sim.mean()
    se = math.hypot(net.dist_iter.std(ddof=1), it_sim.std(ddof=1)) / math.sqrt(n)
    assert abs(m1 - m2) < 4 * se, (m1, m2, se)
    assert stats.ks_2samp(net.dist_iter, it_sim).pvalue > 1e-3
    for ax in range(3):
        p1 = np.mean(net.exit_param == ax)
        p2 = np.mean(sim.axis == ax)
        s = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n) + 1e-3
        assert abs(p1 - p2) < 4 * s, (ax, p1, p2)
    # and in SDE time the network's mean is the simulator's mean exit time
    t_net = net.escape_result(sde_time=True).mean_exit_time()
    assert t_net.value == pytest.approx(m1 * lr)


def test_sde_eps_matches_profile_convention():
    from nn_bridge.noise.profile import NoiseProfile

    a = np.array([0.7, 1.5, 2.0])
    s = np.array([0.1, 0.2, 0.3])
    prof = NoiseProfile(alpha=a, sigma=s, layer_names=("w",), layer_shapes=((3,),), lr=0.3,
                        batch_size=8, dataset="x", model={}, weights_sha256="", n_minibatches=100,
                        sampling="iid", estimator="cf_regression")
    np.testing.assert_allclose(sgd_to_sde_eps(s, a, 0.3), prof.sde_eps())
    # eps dt^(1/alpha) = lr sigma: one Euler step's noise is one SGD step's noise
    np.testing.assert_allclose(sgd_to_sde_eps(s, a, 0.3) * 0.3 ** (1 / a), 0.3 * s)
