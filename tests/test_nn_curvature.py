"""Per-sample curvature, the minibatch-model profile, the torch rungs and the stability diagram.

Exact checks (float64 round-off tolerances): Gauss-Newton factors against an explicit
``J^T Lambda J``; factors + remainder against exact minibatch Hessian-vector products on a
softmax regression (logits linear in ``w``: Gauss-Newton is the Hessian); the rungs (g), (h)
and (f') against their formulas on a least-squares model (exactly quadratic). One test in
law: levydyn's recursion (rung f) against torch's exact-HVP recursion (rung f') on the same
model, same minibatch law; tolerances from the sample size at each assertion.
"""
import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from click.testing import CliRunner  # noqa: E402
from scipy import stats  # noqa: E402

from nn_bridge.curvature.per_sample import (exact_hessian, factor_error, gn_mean, minibatch_hvp,  # noqa: E402
                                 per_sample_gn_factors)
from nn_bridge.data.datasets import load_dataset  # noqa: E402
from nn_bridge.escape.experiment import EscapeConfig, find_minimum, run_escape  # noqa: E402
from nn_bridge.data.flat import FlatModel  # noqa: E402
from nn_bridge.curvature.minibatch_model import (MinibatchModel, load_minibatch_model,  # noqa: E402
                                       save_minibatch_model)
from nn_bridge.data.models import ModelSpec, build_model  # noqa: E402
from nn_bridge.noise.per_sample import per_sample_gradients  # noqa: E402
from nn_bridge.curvature.second_order import SecondOrderGradient  # noqa: E402
from nn_bridge.curvature.stability import stability_diagram  # noqa: E402
from conftest import assert_one_line_error  # noqa: E402

SHA = "0" * 64


@pytest.fixture(scope="module")
def mlp():
    data = load_dataset("wine")
    spec = ModelSpec("mlp", data.n_features, data.n_classes, width=4, depth=3, seed=3)
    mn = find_minimum(build_model(spec), data, weight_decay=1e-2, max_evals=300)
    flat = FlatModel(build_model(spec).double())
    flat.load(mn.w)
    X = torch.as_tensor(data.X_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    return flat, X, y, mn


def _softmax_regression(n=40, d=3, C=3, seed=0):
    """Logits linear in w: the per-sample Hessian of CE is exactly Gauss-Newton."""
    rng = np.random.default_rng(seed)
    X = torch.as_tensor(rng.standard_normal((n, d)))
    y = torch.as_tensor(rng.integers(0, C, n))
    model = torch.nn.Linear(d, C).double()
    flat = FlatModel(model)
    w = torch.as_tensor(rng.standard_normal(flat.n_params) * 0.3)
    return flat, X, y, w.numpy()


def test_gn_factors_are_exact_j_lambda_j(mlp):
    flat, X, y, mn = mlp
    F = per_sample_gn_factors(flat, X[:5], mn.w, chunk=2)
    C = 3
    assert F.shape == (5, flat.n_params, C - 1)
    w = torch.as_tensor(mn.w)
    for n in range(5):
        J = torch.func.jacrev(lambda ww: flat.logits(ww, X[n:n + 1])[0])(w)
        p = torch.softmax(flat.logits(w, X[n:n + 1])[0], 0)
        L = torch.diag(p) - torch.outer(p, p)
        np.testing.assert_allclose(F[n] @ F[n].T, (J.T @ L @ J).numpy(), atol=1e-13)


def test_factors_plus_remainder_are_exact_for_softmax_regression():
    flat, X, y, w = _softmax_regression()
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


def test_minibatch_hvp_is_the_batch_hessian(mlp):
    flat, X, y, mn = mlp
    idx = torch.as_tensor([[0, 5, 5, 9], [1, 2, 3, 4]])
    V = torch.as_tensor(np.random.default_rng(0).standard_normal((2, flat.n_params)))
    out = minibatch_hvp(flat, X, y, mn.w)(idx, V)
    for s in range(2):
        Hb = torch.autograd.functional.hessian(lambda p: flat.loss(p, X[idx[s]], y[idx[s]]),
                                               torch.as_tensor(mn.w))
        np.testing.assert_allclose(out[s].numpy(), (Hb @ V[s]).numpy(), atol=1e-11)


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


def _model(flat, X, y, w, wd=0.01, lrs=(0.5, 1.0), bs=(2, 4)):
    G = per_sample_gradients(flat.model, X, y).to(torch.float64)
    G = (G - G.mean(0)).numpy()
    F = per_sample_gn_factors(flat, X, w)
    R = exact_hessian(flat, X, y, w, 0.0) - gn_mean(F)
    return MinibatchModel(G, F, R, w, wd, lrs, bs, SHA, dataset="toy",
                          layer_names=flat.layout.names, layer_shapes=flat.layout.shapes)


def test_kesten_recursion_matches_torch_exact_hvp_in_law():
    """Rung (f) (levydyn.kesten, factors) and rung (f') (torch, exact per-sample HVPs) are the
    same recursion on a softmax regression (GN exact). 600 paths each; the mean exit iteration
    (~15-30) has relative standard error ~4 % per side: the means must agree within 4 combined
    standard errors (false alarm ~6e-5), and the two-sample KS test must not reject at 1e-3."""
    from levydyn.domains import Ball
    from levydyn.kesten import Recursion
    from levydyn.kesten import simulate as ksim

    flat, X, y, w = _softmax_regression(n=40, seed=4)
    flat.load(w)
    mbm = _model(flat, X, y, w, wd=0.05)
    lr, B, R, n = 1.0, 2, 1.0, 600
    res = ksim(Recursion(mbm.law(B), lr, domain=Ball(np.zeros(mbm.n_params), R)),
               n_paths=n, max_steps=5000, seed=3, classify=False)
    orc = SecondOrderGradient(flat, X, y, mbm.deviations, w, mbm.mean_hessian()
                              - 0.05 * np.eye(mbm.n_params), B, 0.05, "multiplicative_exact")
    tor = run_escape(orc, w, EscapeConfig(lr=lr, batch_size=B, n_seeds=n, radius=R,
                                          max_iter=5000, seed=3))
    assert res.exited.all() and tor.dist_exited.all()
    a, b = res.times, tor.dist_iter.astype(float)
    se = math.hypot(a.std(ddof=1), b.std(ddof=1)) / math.sqrt(n)
    assert abs(a.mean() - b.mean()) < 4 * se, (a.mean(), b.mean(), se)
    assert stats.ks_2samp(a, b).pvalue > 1e-3


def test_minibatch_model_roundtrip_and_bad_input(tmp_path):
    flat, X, y, w = _softmax_regression()
    mbm = _model(flat, X, y, w)
    p = save_minibatch_model(mbm, tmp_path / "m.npz")
    back = load_minibatch_model(p)
    np.testing.assert_array_equal(back.factors, mbm.factors)
    np.testing.assert_array_equal(back.remainder, mbm.remainder)
    assert back.lrs == (0.5, 1.0) and back.batch_sizes == (2, 4) and back.weights_sha256 == SHA
    np.testing.assert_allclose(back.mean_hessian(),
                               exact_hessian(flat, X, y, w, 0.01), atol=1e-12)
    with pytest.raises(ValueError, match=r"^lr=0\.3: outside the measured grid"):
        mbm.check_lr(0.3)
    with pytest.raises(ValueError, match=r"^batch_size=3: outside the measured grid"):
        mbm.law(3)
    with pytest.raises(ValueError, match="does not match"):
        mbm.check_weights("f" * 64)
    with pytest.raises(ValueError, match="must end in .npz"):
        save_minibatch_model(mbm, tmp_path / "m.json")
    with pytest.raises(ValueError, match="factors"):
        MinibatchModel(mbm.deviations, mbm.factors[:, :2], None, w, 0.0, (0.1,), (2,), SHA)
    with pytest.raises(ValueError, match="deviations: contains NaN"):
        MinibatchModel(np.full_like(mbm.deviations, np.nan), mbm.factors, None, w, 0.0,
                       (0.1,), (2,), SHA)


def test_stability_diagram_signs():
    """lr far above 2 / lambda_max(H) is unstable, a small lr stable (CIs away from 0)."""
    flat, X, y, w = _softmax_regression(n=40, seed=4)
    mbm = _model(flat, X, y, w, wd=0.05, lrs=(0.2, 30.0), bs=(4,))
    top = np.linalg.eigvalsh(mbm.mean_hessian()).max()
    assert 30.0 * top > 4
    d = stability_diagram(mbm, tail=True, lyap_paths=16, lyap_steps=400, tail_particles=32,
                          tail_replicas=2, tail_steps=60)
    assert d.cells[(4, 30.0)]["regime"] == "unstable"
    assert d.cells[(4, 0.2)]["regime"] == "stable"
    assert d.cells[(4, 0.2)]["alpha_K"] is not None
    rep = d.report()
    assert rep["cells"][0]["lambda_1"]["value"] < 0 < rep["cells"][1]["lambda_1"]["value"]
    with pytest.raises(ValueError, match=r"lr=0\.5: outside"):
        stability_diagram(mbm, lrs=[0.5])


def test_cli_stability_from_profile(tmp_path):
    from cli.nn import nn

    flat, X, y, w = _softmax_regression(n=40, seed=4)
    mbm = _model(flat, X, y, w, wd=0.05, lrs=(0.2, 30.0), bs=(4,))
    p = save_minibatch_model(mbm, tmp_path / "m.npz")
    runner = CliRunner()
    res = runner.invoke(nn, ["stability", "--profile", str(p), "--no-tail", "--lyap-paths", "8",
                             "--lyap-steps", "200", "--json", str(tmp_path / "s.json"), "--plot",
                             str(tmp_path / "s.png"), "-q"])
    assert res.exit_code == 0, res.output
    assert "unstable" in res.output and "lambda_1" in res.output
    rep = json.loads((tmp_path / "s.json").read_text())
    assert rep["schema"] == "levydyn.nn_stability/1" and len(rep["cells"]) == 2
    assert (tmp_path / "s.png").stat().st_size > 0
    assert_one_line_error(runner.invoke(nn, ["stability", "--profile", str(p), "--lrs", "0.7"]),
                          "lr=0.7")
    assert_one_line_error(runner.invoke(nn, ["stability", "--profile", str(p), "--batch-sizes",
                                             "8"]), "batch_size=8")
    assert_one_line_error(runner.invoke(nn, ["stability", "--profile",
                                             str(tmp_path / "none.npz")]), "not found")


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
    from nn_bridge.escape.predict import RadiusScan

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
