"""Tests of ``nn_bridge.data.user_model``.

From the former tests/test_nn_stream.py: nn_bridge.noise.stream, log_moments and user_model: streaming noise statistics of any model.

The recovery tests use a model whose per-sample gradients are SaS by construction (as in
``test_nn_noise``): a linear model with per-sample loss ``-w . z_n``, so ``grad l_n = -z_n``
and the minibatch noise of parameter j is (up to the finite-sample centre) a mean of B
i.i.d. SaS(alpha_j) draws: SaS(alpha_j) with scale ``B^(1/alpha_j - 1)``."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.noise.stream import StreamConfig, stream_noise  # noqa: E402
from nn_bridge.data.user_model import load_model_file, load_npz_data  # noqa: E402
torch.set_num_threads(1)


def _write_user_files(tmp_path):
    (tmp_path / "net.py").write_text(
        "import torch\n"
        "def build():\n"
        "    torch.manual_seed(0)\n"
        "    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8),\n"
        "                               torch.nn.ReLU(), torch.nn.Linear(8, 3))\n"
        "def build_mse():\n"
        "    return build(), lambda out, t: ((out.sum(1) - t) ** 2).mean()\n")
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", X=rng.standard_normal((200, 3, 4)).astype("f4"),
             y=rng.integers(0, 3, 200))
    np.savez(tmp_path / "r.npz", X=rng.standard_normal((200, 3, 4)), y=rng.standard_normal(200))
    np.savez(tmp_path / "wide.npz", X=rng.standard_normal((200, 5)), y=rng.integers(0, 3, 200))


def test_model_file_and_npz(tmp_path):
    _write_user_files(tmp_path)
    model, loss = load_model_file(f"{tmp_path}/net.py")
    assert loss is torch.nn.functional.cross_entropy
    model, loss = load_model_file(f"{tmp_path}/net.py:build_mse")
    X, y = load_npz_data(tmp_path / "r.npz")
    assert X.dtype == torch.float32 and y.dtype == torch.float32 and X.shape == (200, 3, 4)
    st = stream_noise(model, (X, y), loss, StreamConfig(n_minibatches=16, batch_size=8, n_fit=0),
                      device="cpu")
    assert st.alpha.shape == (12 * 8 + 8 + 8 * 3 + 3,)
    with pytest.raises(ValueError, match="has no function 'nope'"):
        load_model_file(f"{tmp_path}/net.py:nope")
    with pytest.raises(ValueError, match="is not a Python file"):
        load_model_file(f"{tmp_path}/missing.py")
