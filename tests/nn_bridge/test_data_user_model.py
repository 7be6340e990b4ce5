"""Tests of ``nn_bridge.data.user_model``.

From the former tests/test_nn_stream.py: a user's model file and ``.npz`` data, streamed."""
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.noise.stream import StreamConfig, stream_noise  # noqa: E402
from nn_bridge.data.user_model import load_model_file, load_npz_data  # noqa: E402
torch.set_num_threads(1)


def test_model_file_and_npz(tmp_path, write_user_files):
    write_user_files(tmp_path)
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
