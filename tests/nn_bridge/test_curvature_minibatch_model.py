"""Tests of ``nn_bridge.curvature.minibatch_model``.

From the former tests/test_nn_curvature.py: Per-sample curvature, the minibatch-model profile, the torch rungs and the stability diagram.

Exact checks (float64 round-off tolerances): Gauss-Newton factors against an explicit
``J^T Lambda J``; factors + remainder against exact minibatch Hessian-vector products on a
softmax regression (logits linear in ``w``: Gauss-Newton is the Hessian); the rungs (g), (h)
and (f') against their formulas on a least-squares model (exactly quadratic). One test in
law: levydyn's recursion (rung f) against torch's exact-HVP recursion (rung f') on the same
model, same minibatch law; tolerances from the sample size at each assertion."""
import math
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from scipy import stats  # noqa: E402
from nn_bridge.curvature.per_sample import (exact_hessian, gn_mean, per_sample_gn_factors)
from nn_bridge.escape.experiment import EscapeConfig, run_escape  # noqa: E402
from nn_bridge.data.flat import FlatModel  # noqa: E402
from nn_bridge.curvature.minibatch_model import (MinibatchModel, load_minibatch_model, save_minibatch_model)
from nn_bridge.noise.per_sample import per_sample_gradients  # noqa: E402
from nn_bridge.curvature.second_order import SecondOrderGradient  # noqa: E402
SHA = "0" * 64


def _softmax_regression(n=40, d=3, C=3, seed=0):
    """Logits linear in w: the per-sample Hessian of CE is exactly Gauss-Newton."""
    rng = np.random.default_rng(seed)
    X = torch.as_tensor(rng.standard_normal((n, d)))
    y = torch.as_tensor(rng.integers(0, C, n))
    model = torch.nn.Linear(d, C).double()
    flat = FlatModel(model)
    w = torch.as_tensor(rng.standard_normal(flat.n_params) * 0.3)
    return flat, X, y, w.numpy()


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
    from levydyn.model.domains import Ball
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
