"""Tests of ``nn_bridge.curvature.stability``.

From the former tests/test_nn_curvature.py: Per-sample curvature, the minibatch-model profile, the torch rungs and the stability diagram."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.curvature.stability import stability_diagram  # noqa: E402


def test_stability_diagram_signs(softmax_regression, gn_minibatch_model):
    """lr far above 2 / lambda_max(H) is unstable, a small lr stable (CIs away from 0)."""
    flat, X, y, w = softmax_regression(n=40, seed=4)
    mbm = gn_minibatch_model(flat, X, y, w, wd=0.05, lrs=(0.2, 30.0), bs=(4,))
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
