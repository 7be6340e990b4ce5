"""nn_bridge: real networks (PyTorch) -> per-parameter gradient-noise laws -> levydyn.

Pipeline (one door: ``run_measurement``)::

    load_dataset -> ModelSpec/build_model -> train (plain SGD, checkpoints)
      -> collect_noise (torch.func per-sample gradients, minibatch means as S @ G)
      -> noise_stats (alpha_i, sigma_i, Gaussianity %, fit errors, pooled alpha)
      -> NoiseProfile (JSON/npz) for the simulator

Any model, loss and data, streaming in bounded memory (``stream_noise``)::

    stats = stream_noise(my_model, my_loader_or_(X, y), my_loss)   # nn_bridge.stream

torch is imported only inside this package; it imports ``levydyn``, never the reverse.
Install with ``pip install -e '.[nn]'`` (pins the CPU-sized ``torch==2.13.0``).
"""
from nn_bridge.data import BUILTIN_DATASETS, Dataset, load_dataset
from nn_bridge.device import resolve_device
from nn_bridge.measure import MeasureConfig, Measurement, measure_noise, run_measurement
from nn_bridge.models import MLP, ModelSpec, SmallCNN, build_model, weights_checksum
from nn_bridge.noise import (GradientNoise, collect_noise, collect_noise_loop,
                             minibatch_indices, per_sample_gradients, pooled_noise)
from nn_bridge.profile import NoiseProfile, load_profile, save_profile
from nn_bridge.stats import NoiseStats, noise_stats
from nn_bridge.stream import StreamConfig, StreamStats, stream_noise
from nn_bridge.train import TrainConfig, TrainResult, load_weights, save_weights, train

__all__ = [
    "BUILTIN_DATASETS", "Dataset", "GradientNoise", "MLP", "MeasureConfig", "Measurement",
    "ModelSpec", "NoiseProfile", "NoiseStats", "SmallCNN", "TrainConfig", "TrainResult",
    "build_model", "collect_noise", "collect_noise_loop", "load_dataset", "load_profile",
    "load_weights", "measure_noise", "minibatch_indices", "noise_stats", "per_sample_gradients",
    "pooled_noise", "resolve_device", "run_measurement", "save_profile", "save_weights", "StreamConfig", "StreamStats", "stream_noise", "train",
    "weights_checksum",
]
