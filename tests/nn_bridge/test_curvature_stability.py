"""Tests of ``nn_bridge.curvature.stability``.

From the former tests/test_nn_curvature.py: Per-sample curvature, the minibatch-model profile, the torch rungs and the stability diagram.

Exact checks (float64 round-off tolerances): Gauss-Newton factors against an explicit
``J^T Lambda J``; factors + remainder against exact minibatch Hessian-vector products on a
softmax regression (logits linear in ``w``: Gauss-Newton is the Hessian); the rungs (g), (h)
and (f') against their formulas on a least-squares model (exactly quadratic). One test in
law: levydyn's recursion (rung f) against torch's exact-HVP recursion (rung f') on the same
model, same minibatch law; tolerances from the sample size at each assertion."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.curvature.per_sample import (exact_hessian, gn_mean, per_sample_gn_factors)
from nn_bridge.data.flat import FlatModel  # noqa: E402
from nn_bridge.curvature.minibatch_model import MinibatchModel  # noqa: E402
from nn_bridge.noise.per_sample import per_sample_gradients  # noqa: E402
from nn_bridge.curvature.stability import stability_diagram  # noqa: E402
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
