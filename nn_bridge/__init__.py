"""nn_bridge: real networks (PyTorch) -> per-parameter gradient-noise laws -> levydyn.

Pipeline (one door: ``run_measurement``)::

    load_dataset -> ModelSpec/build_model -> train (plain SGD, checkpoints)
      -> collect_noise (torch.func per-sample gradients, minibatch means as S @ G)
      -> noise_stats (alpha_i, sigma_i, Gaussianity %, fit errors, pooled alpha)
      -> NoiseProfile (JSON/npz) for the simulator

Any model, loss and data, streaming in bounded memory (``stream_noise``)::

    stats = stream_noise(my_model, my_loader_or_(X, y), my_loss)   # nn_bridge.noise.stream

Stages, one subpackage each (each ``__init__`` says what it takes in and hands on)::

    data -> training -> noise -> curvature -> escape      papers (the seed papers' tables)

The names above are imported here; every public name of the stages ``curvature``,
``escape`` and ``papers`` is also reachable as ``nn_bridge.<name>`` (imported on first use,
so ``import nn_bridge`` stays as light as the measurement pipeline).

torch is imported only inside this package; it imports ``levydyn``, never the reverse.
Install with ``pip install -e '.[nn]'`` (pins the CPU-sized ``torch==2.13.0``).
"""
from nn_bridge.data import BUILTIN_DATASETS, Dataset, load_dataset
from nn_bridge.data import MLP, ModelSpec, SmallCNN, build_model, weights_checksum
from nn_bridge.noise import (GradientNoise, MeasureConfig, Measurement, NoiseProfile, NoiseStats,
                             StreamConfig, StreamStats, collect_noise, collect_noise_loop,
                             load_profile, measure_noise, minibatch_indices, noise_stats,
                             per_sample_gradients, pooled_noise, run_measurement, save_profile,
                             stream_noise)
from nn_bridge.training import (TrainConfig, TrainResult, load_weights, resolve_device,
                                save_weights, train)

__all__ = [
    "BUILTIN_DATASETS", "Dataset", "GradientNoise", "MLP", "MeasureConfig", "Measurement",
    "ModelSpec", "NoiseProfile", "NoiseStats", "SmallCNN", "StreamConfig", "StreamStats",
    "TrainConfig", "TrainResult", "build_model", "collect_noise", "collect_noise_loop",
    "load_dataset", "load_profile", "load_weights", "measure_noise", "minibatch_indices",
    "noise_stats", "per_sample_gradients", "pooled_noise", "resolve_device", "run_measurement",
    "save_profile", "save_weights", "stream_noise", "train", "weights_checksum",
]

_LAZY_STAGES = ("curvature", "escape", "papers", "training", "data")


def __getattr__(name: str):
    """``nn_bridge.run_study`` etc.: a public name of a later stage, imported on first use."""
    import importlib

    for stage in _LAZY_STAGES:
        module = importlib.import_module(f"nn_bridge.{stage}")
        if name in module.__all__:
            return getattr(module, name)
    raise AttributeError(f"module 'nn_bridge' has no attribute {name!r}")
