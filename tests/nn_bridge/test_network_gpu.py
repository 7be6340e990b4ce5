"""The user-network pipeline on CUDA (``--device cuda``): skipped cleanly without a GPU.

A small CNN on digits (a ``Network`` with ``device="cuda"``): training runs on the GPU, the
noise is measured there, and the matrix-free recursion (Gauss-Newton products, float64) gives
the same Lyapunov exponent on CUDA as on the CPU for the same streams (the minibatch indices
are drawn by numpy, so both devices run the same products; only rounding differs: 1e-8
relative is ~1e5 float64 ulps, far above reduction-order noise and far below any real bug).
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from nn_bridge.curvature.matrix_free import MatrixFreeRecursion, lyapunov_matrix_free  # noqa: E402
from nn_bridge.data.datasets import load_dataset  # noqa: E402
from nn_bridge.data.network import Network  # noqa: E402
from nn_bridge.escape.experiment import find_minimum  # noqa: E402
from nn_bridge.noise.measure import MeasureConfig, measure_noise  # noqa: E402
from nn_bridge.training.train import TrainConfig, train_network  # noqa: E402

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def _cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 16, 10))


def test_cnn_pipeline_on_cuda():
    data = load_dataset("digits")
    net = Network.from_module(_cnn(), data, device="cuda")
    res = train_network(net, TrainConfig(lr=0.05, batch_size=128, max_epochs=5, grad_tol=0.0))
    assert next(res.model.parameters()).device.type == "cuda"
    assert res.final["loss"] < 2.0                       # learned something (log 10 = 2.30)
    stats = measure_noise(res.model, data, MeasureConfig(batch_sizes=(16,), n_minibatches=64,
                                                         n_fit=0), device="cuda",
                          loss_fn=net.loss_fn)
    assert np.isfinite(np.nanmedian(stats[16].alpha))
    mn = find_minimum(res.model.cpu(), data, 1e-2, loss_fn=net.loss_fn, max_evals=200)
    lam = {}
    for dev in ("cpu", "cuda"):
        flat = net.flat(mn.w, torch.float64, dev)
        X, y = net.tensors(torch.float64, dev)
        rec = MatrixFreeRecursion(flat, X, y, mn.w, 8, 1e-2)
        assert rec.device.type == dev
        lam[dev] = lyapunov_matrix_free(rec, 0.5, n_paths=4, n_steps=50, seed=0).value
    assert lam["cuda"] == pytest.approx(lam["cpu"], rel=1e-8)
