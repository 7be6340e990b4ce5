"""Tests of ``nn_bridge.data.models``.

From the former tests/test_nn_train.py: nn_bridge.data.datasets, models and train: loaders, deterministic init, SGD, checkpoints/resume."""
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.data.models import ModelSpec, build_model, weights_checksum  # noqa: E402


def test_model_init_is_seeded_and_shapes():
    s = ModelSpec("mlp", 13, 3, width=8, depth=4, seed=5)
    assert weights_checksum(build_model(s)) == weights_checksum(build_model(s))
    assert weights_checksum(build_model(s)) != weights_checksum(build_model(
        ModelSpec("mlp", 13, 3, width=8, depth=4, seed=6)))
    names = [n for n, _ in build_model(s).named_parameters()]
    assert names[:2] == ["net.fc1.weight", "net.fc1.bias"]
    cnn = build_model(ModelSpec("cnn", 64, 10, width=4, depth=3, image_shape=(1, 8, 8)))
    assert cnn(torch.zeros(5, 64)).shape == (5, 10)


@pytest.mark.parametrize("kw, match", [
    (dict(kind="rnn"), "model='rnn'"),
    (dict(width=0), "width=0"),
    (dict(depth=1), "depth=1"),
    (dict(kind="cnn"), "image_shape=None"),
])
def test_bad_model_spec(kw, match):
    with pytest.raises(ValueError, match=match):
        ModelSpec(**{"in_features": 13, "n_classes": 3, **kw})
