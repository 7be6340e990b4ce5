"""nn_bridge.device: torch's CPU thread count is put back after something changed it."""
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from nn_bridge.data import load_dataset  # noqa: E402
from nn_bridge.device import TORCH_THREADS, restore_torch_threads  # noqa: E402
from nn_bridge.models import ModelSpec  # noqa: E402
from nn_bridge.train import TrainConfig, train  # noqa: E402


def test_restore_torch_threads():
    torch.set_num_threads(TORCH_THREADS + 1)     # as numba's omp layer does (the cores)
    try:
        restore_torch_threads()
        assert torch.get_num_threads() == TORCH_THREADS
        torch.set_num_threads(TORCH_THREADS + 1)
        data = load_dataset("wine")
        spec = ModelSpec(in_features=data.n_features, n_classes=data.n_classes, width=4,
                         depth=2)
        train(data, spec, TrainConfig(max_epochs=1, batch_size=32), device="cpu")
        assert torch.get_num_threads() == TORCH_THREADS
    finally:
        torch.set_num_threads(TORCH_THREADS)
