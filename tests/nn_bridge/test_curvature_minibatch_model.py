"""Tests of ``nn_bridge.curvature.minibatch_model``.

From the former tests/test_nn_curvature.py: Per-sample curvature, the minibatch-model profile, the torch rungs and the stability diagram.

One test in law: levydyn's recursion (rung f) against torch's exact-HVP recursion
(rung f') on the same softmax regression, same minibatch law; tolerances from the sample
size at each assertion."""
import math
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from scipy import stats  # noqa: E402
from nn_bridge.curvature.per_sample import exact_hessian
from nn_bridge.escape.experiment import EscapeConfig, run_escape  # noqa: E402
from nn_bridge.curvature.minibatch_model import (MinibatchModel, load_minibatch_model, save_minibatch_model)
from nn_bridge.curvature.second_order import SecondOrderGradient  # noqa: E402
SHA = "0" * 64


def test_kesten_recursion_matches_torch_exact_hvp_in_law(softmax_regression, gn_minibatch_model):
    """Rung (f) (levydyn.kesten, factors) and rung (f') (torch, exact per-sample HVPs) are the
    same recursion on a softmax regression (GN exact). 600 paths each; the mean exit iteration
    (~15-30) has relative standard error ~4 % per side: the means must agree within 4 combined
    standard errors (false alarm ~6e-5), and the two-sample KS test must not reject at 1e-3."""
    from levydyn.model.domains import Ball
    from levydyn.kesten import Recursion
    from levydyn.kesten import simulate as ksim

    flat, X, y, w = softmax_regression(n=40, seed=4)
    flat.load(w)
    mbm = gn_minibatch_model(flat, X, y, w, wd=0.05)
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


def test_minibatch_model_roundtrip_and_bad_input(tmp_path, softmax_regression, gn_minibatch_model):
    flat, X, y, w = softmax_regression()
    mbm = gn_minibatch_model(flat, X, y, w)
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
