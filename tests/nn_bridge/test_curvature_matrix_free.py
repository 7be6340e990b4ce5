"""Tests of ``nn_bridge.curvature.matrix_free``: the recursion of rung (f) without stored
factors.

- one step, against the stored per-sample Gauss-Newton factors and deviations (the
  product ``(1/B) sum F_n F_n^T x + wd x + (1/B) sum G_n`` computed in numpy): equal to
  float64 rounding, for cross-entropy (3 classes) and mse;
- the escape law: escape times of the matrix-free recursion (torch, ``run_escape``) and of
  the stored-factor recursion (``levydyn.kesten``, numba) from the same network, two-sample
  Kolmogorov-Smirnov test. 300 paths each: the KS test at level 0.001 then detects a
  shift of the distribution by about 0.16 in KS distance (critical value
  1.95 sqrt(2/300)); the negative control (the same recursion at a doubled learning rate,
  escapes about twice as fast) must be rejected, so the test can fail.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from scipy.stats import ks_2samp  # noqa: E402

from levydyn.kesten import Recursion, simulate  # noqa: E402
from levydyn.model.domains import Ball  # noqa: E402
from nn_bridge.curvature.matrix_free import (MatrixFreeRecursion, factor_bytes,  # noqa: E402
                                             lyapunov_matrix_free, use_matrix_free)
from nn_bridge.curvature.per_sample import per_sample_gn_factors  # noqa: E402
from nn_bridge.data.datasets import dataset_from_arrays, load_dataset  # noqa: E402
from nn_bridge.data.network import Network  # noqa: E402
from nn_bridge.escape.basin import basin_at  # noqa: E402
from nn_bridge.escape.experiment import EscapeConfig, find_minimum, run_escape  # noqa: E402
from nn_bridge.training.train import TrainConfig, train_network  # noqa: E402

torch.set_num_threads(1)
WD = 1e-2


def _basin(network):
    res = train_network(network, TrainConfig(lr=0.1, batch_size=32, max_epochs=20, grad_tol=0.0))
    mn = find_minimum(res.model, network.data, WD, loss_fn=network.loss_fn)
    flat, X, y, G = basin_at(network, network.data, mn.w)
    F = per_sample_gn_factors(flat, X, mn.w, y=y)
    return flat, X, y, G.numpy(), F, mn.w


def _wine_network():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(13, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    return Network.from_module(m, load_dataset("wine"))


def _regression_network():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(80, 3, generator=g)
    y = torch.sin(X[:, :2]) + 0.1 * torch.randn(80, 2, generator=g)
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    return Network.from_module(m, (X, y), "mse")


@pytest.mark.parametrize("make", [_wine_network, _regression_network])
def test_one_step_equals_the_stored_factors(make):
    flat, X, y, G, F, w = _basin(make())
    B = 8
    rec = MatrixFreeRecursion(flat, X, y, w, B, WD)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, X.shape[0], size=(3, B))
    W = rng.standard_normal((3, flat.n_params))
    got = rec.gradients(torch.as_tensor(W), torch.as_tensor(idx)).numpy()
    for s in range(3):
        Fb = F[idx[s]]
        want = (np.einsum("bpr,bqr,q->p", Fb, Fb, W[s]) / B + WD * W[s]
                + G[idx[s]].mean(0))
        np.testing.assert_allclose(got[s], want, rtol=1e-9, atol=1e-12)


def test_switch_and_lyapunov_sign():
    assert factor_bytes(1000, 100, 2) == 8 * (1000 * 100 * 3 + 100 * 100)
    assert not use_matrix_free(1000, 100, 2)
    assert use_matrix_free(1000, 100, 2, memory_limit=1e5)
    with pytest.raises(ValueError, match="memory_limit"):
        use_matrix_free(10, 10, 1, memory_limit=0)


def test_escape_law_matches_the_stored_recursion():
    from levydyn.kesten import EmpiricalMinibatch

    flat, X, y, G, F, w = _basin(_wine_network())
    B, lr, R, n = 4, 0.8, 0.3, 300
    law = EmpiricalMinibatch(G, F, B, True, None, WD)
    kres = simulate(Recursion(law, lr, domain=Ball(np.zeros(flat.n_params), R)), n_paths=n,
                    max_steps=400, seed=0, classify=False)
    stored = np.rint(kres.times).astype(int)
    cfg = EscapeConfig(lr=lr, batch_size=B, n_seeds=n, radius=R, loss_rise=None, max_iter=400,
                       seed=1)
    free = run_escape(MatrixFreeRecursion(flat, X, y, w, B, WD), np.zeros(flat.n_params), cfg)
    assert kres.exited.mean() > 0.95 and free.dist_exited.mean() > 0.95
    assert ks_2samp(stored, free.dist_iter).pvalue > 1e-3
    # negative control: twice the learning rate is another law, and the test sees it
    fast = run_escape(MatrixFreeRecursion(flat, X, y, w, B, WD), np.zeros(flat.n_params),
                      EscapeConfig(lr=2 * lr, batch_size=B, n_seeds=n, radius=R,
                                   loss_rise=None, max_iter=400, seed=1))
    assert ks_2samp(stored, fast.dist_iter).pvalue < 1e-3
    lam = lyapunov_matrix_free(MatrixFreeRecursion(flat, X, y, w, B, WD), lr, n_paths=8,
                               n_steps=100)
    assert np.isfinite(lam.value) and lam.low <= lam.value <= lam.high


def test_dataset_from_arrays_regression_shape():
    d = dataset_from_arrays(np.zeros((5, 2)) + np.arange(5)[:, None], np.arange(5.0))
    assert d.task == "regression" and d.n_outputs == 1
