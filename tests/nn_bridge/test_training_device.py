"""Tests of ``nn_bridge.training.device``.

From the former tests/test_nn_device.py: nn_bridge.training.device: torch's CPU thread count survives levydyn's numba estimators."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
from nn_bridge.training.device import keep_torch_threads  # noqa: E402
from nn_bridge.noise.per_sample import GradientNoise, ParameterLayout  # noqa: E402
from nn_bridge.noise.stats import noise_stats  # noqa: E402


def test_keep_torch_threads_restores():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with keep_torch_threads():
            torch.set_num_threads(2)          # what numba's omp layer does on a launch
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_noise_stats_keeps_torch_threads():
    # cf_regression on 64 columns runs the parallel numba kernels; on numba's omp layer
    # they used to leave torch with numba's thread count (the number of cores)
    rng = np.random.default_rng(0)
    layout = ParameterLayout(("w",), ((64,),))
    noise = GradientNoise(noise=rng.standard_normal((200, 64)), full_grad=np.zeros(64),
                          per_sample_std=np.ones(64), layout=layout, batch_size=4,
                          sampling="iid", seed=0, n_samples=100)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        st = noise_stats(noise, n_fit=5)
        assert torch.get_num_threads() == 1
        assert np.all(np.isfinite(st.alpha))
    finally:
        torch.set_num_threads(before)
