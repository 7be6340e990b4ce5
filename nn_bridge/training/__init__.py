"""Stage 2, training: a network and its data -> trained weights w*.

Takes in: a ``ModelSpec`` (or module) and a ``Dataset`` from ``nn_bridge.data``, a
``TrainConfig`` (plain SGD with momentum / weight decay, step or epoch budget, learning-rate
decay runs in ``lr_decay``), a device (``resolve_device``).
Hands on: ``TrainResult`` (weights at w*, loss curves), cached on disk by a content key
(``checkpoint``: atomic writes, ``config_key``, ``PartStore`` for resumable parts) so the
later stages find the same w* again.
"""
from nn_bridge.training.checkpoint import (PartStore, atomic_save_npz, atomic_write_bytes,
                                           atomic_write_json, config_key, json_safe)
from nn_bridge.training.device import keep_torch_threads, resolve_device
from nn_bridge.training.lr_decay import lr_decay_experiment
from nn_bridge.training.train import (TrainConfig, TrainResult, full_loss_and_grad, load_weights,
                                      save_weights, train, train_key)

__all__ = ["PartStore", "TrainConfig", "TrainResult", "atomic_save_npz", "atomic_write_bytes",
           "atomic_write_json", "config_key", "full_loss_and_grad", "json_safe",
           "keep_torch_threads", "load_weights", "lr_decay_experiment", "resolve_device",
           "save_weights", "train", "train_key"]
