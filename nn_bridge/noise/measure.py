"""One door from a dataset to per-parameter noise statistics and noise profiles.

``run_measurement``: load data -> train (or load trained weights) -> collect the
gradient noise for every batch size (``nn_bridge.noise.per_sample``, vectorised) -> statistics
(``nn_bridge.noise.stats``) -> ``Measurement`` (report dict, noise profiles).

Resume: with a ``workdir``, training checkpoints to ``workdir/train-<key>.pt`` and each batch
size's finished statistics are stored atomically under a key hashing everything they
depend on (data, weights checksum, batch size, number of minibatches, sampling,
estimator, level, n_fit, seed, precision). A rerun after a kill loads the finished
parts, computes only the missing ones and gives an identical result.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from nn_bridge.training.checkpoint import PartStore, config_key, json_safe
from nn_bridge.data.datasets import Dataset, load_dataset
from nn_bridge.training.device import resolve_device
from nn_bridge.data.models import ModelSpec, weights_checksum
from nn_bridge.noise.per_sample import SAMPLINGS, collect_noise
from nn_bridge.noise.profile import NoiseProfile
from nn_bridge.noise.stats import ESTIMATORS, NoiseStats, noise_stats
from nn_bridge.training.train import TrainConfig, load_weights, train, train_key

__all__ = ["MeasureConfig", "Measurement", "measure_noise", "run_measurement"]

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True)
class MeasureConfig:
    """How the noise is sampled and summarised (see ``noise`` and ``stats``)."""

    batch_sizes: tuple[int, ...] = (32, 128, 512)
    n_minibatches: int = 1000
    sampling: str = "iid"
    estimator: str = "cf_regression"
    level: float = 0.05
    n_fit: int = 100
    seed: int = 0
    dtype: str = "float64"
    chunk_size: int = 512

    def __post_init__(self):
        bs = tuple(self.batch_sizes)
        object.__setattr__(self, "batch_sizes", bs)
        if not bs or any(isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1
                         for b in bs):
            raise ValueError(f"batch_sizes={list(bs)}: must be positive integers")
        if len(set(bs)) != len(bs):
            raise ValueError(f"batch_sizes={list(bs)}: contains duplicates")
        if not isinstance(self.n_minibatches, int) or self.n_minibatches < 16:
            raise ValueError(f"n_minibatches={self.n_minibatches!r}: must be an integer >= 16")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling={self.sampling!r}: must be one of {', '.join(SAMPLINGS)}")
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"estimator={self.estimator!r}: must be one of "
                             f"{', '.join(ESTIMATORS)}")
        if not 0.0 < float(self.level) < 1.0:
            raise ValueError(f"level={self.level!r}: must lie in (0, 1)")
        if not isinstance(self.n_fit, int) or self.n_fit < 0:
            raise ValueError(f"n_fit={self.n_fit!r}: must be an integer >= 0")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed={self.seed!r}: must be a non-negative integer")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype={self.dtype!r}: must be float64 or float32")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["batch_sizes"] = list(self.batch_sizes)
        return d


@dataclass
class Measurement:
    """Result of ``run_measurement``: per-batch-size statistics plus provenance."""

    data: dict
    spec: ModelSpec
    lr: float
    training: dict
    weights_sha256: str
    config: MeasureConfig
    stats: dict[int, NoiseStats] = field(default_factory=dict)
    #: the network the noise was measured on (not part of the report)
    model: torch.nn.Module | None = field(default=None, repr=False, compare=False)

    def profile(self, batch_size: int) -> NoiseProfile:
        """The noise profile (alpha_i, sigma_i, provenance) at ``batch_size``."""
        if batch_size not in self.stats:
            raise ValueError(f"batch_size={batch_size}: not measured "
                             f"({', '.join(map(str, self.stats))})")
        s = self.stats[batch_size]
        from nn_bridge.data.models import build_model
        from nn_bridge.noise.per_sample import parameter_layout

        layout = parameter_layout(build_model(self.spec))
        return NoiseProfile(alpha=s.alpha, sigma=s.sigma, layer_names=layout.names,
                            layer_shapes=layout.shapes, lr=self.lr, batch_size=batch_size,
                            dataset=self.data["name"], model=self.spec.to_dict(),
                            weights_sha256=self.weights_sha256,
                            n_minibatches=s.n_minibatches, sampling=s.sampling,
                            estimator=s.estimator, seed=self.config.seed,
                            dataset_checksum=self.data["checksum"])

    def report(self) -> dict:
        """JSON-able report: provenance and every batch size's summary."""
        import levydyn

        return json_safe({"levydyn_version": levydyn.__version__,
                           "torch_version": torch.__version__,
                           "dataset": self.data, "model": self.spec.to_dict(), "lr": self.lr,
                           "training": self.training, "weights_sha256": self.weights_sha256,
                           "measure": self.config.to_dict(),
                           "results": [self.stats[b].summary() for b in sorted(self.stats)]})


def _check_fits(config: MeasureConfig, data: Dataset) -> None:
    """A minibatch larger than the training set cannot be drawn without replacement
    (sampling='epoch': an error); with sampling='iid' it repeats samples to fill itself,
    which is allowed (a bootstrap-like batch) but said out loud, never silently."""
    big = [b for b in config.batch_sizes if b > data.n_train]
    if not big:
        return
    if config.sampling == "epoch":
        raise ValueError(f"batch_size must not exceed the {data.n_train} training samples "
                         f"with sampling='epoch' (use sampling='iid'), got batch_size={big[0]}")
    warnings.warn(f"batch_size={big[0]} exceeds the {data.n_train} training samples: iid "
                  "minibatches repeat samples (drawn with replacement)", stacklevel=3)


def measure_noise(model: torch.nn.Module, data: Dataset, config: MeasureConfig = MeasureConfig(),
                  *, device: str | torch.device = "auto", workdir: str | Path | None = None,
                  on_part: Callable[[int], None] | None = None,
                  loss_fn: Callable | None = None) -> dict[int, NoiseStats]:
    """Noise statistics of ``model`` (fixed weights) on ``data``'s training set, per batch size.

    ``loss_fn``: the network's loss (default cross-entropy; a non-default loss enters the
    parts' keys).

    Finished batch sizes are loaded from ``workdir`` when present; the others share one
    per-sample-gradient computation. ``on_part(batch_size)`` is called after each part
    is stored (tests use it to simulate a kill).
    """
    dev = resolve_device(device)
    _check_fits(config, data)
    store = PartStore(None if workdir is None else Path(workdir) / "parts")
    wsum = weights_checksum(model)
    base = {k: v for k, v in config.to_dict().items() if k not in ("batch_sizes", "chunk_size")}
    lkey = {} if loss_fn is None or loss_fn is torch.nn.functional.cross_entropy else \
        {"loss": getattr(loss_fn, "__qualname__", type(loss_fn).__name__)}
    keys = {b: config_key({"data": data.checksum, "weights": wsum, "batch_size": b, **base,
                           **lkey})
            for b in config.batch_sizes}
    out: dict[int, NoiseStats] = {}
    for b in config.batch_sizes:
        part = store.load("stats", keys[b])
        if part is not None:
            summary = json.loads(str(part.pop("summary")))
            out[b] = NoiseStats.from_parts(summary, part, json.loads(str(part.pop("names"))))
    missing = [b for b in config.batch_sizes if b not in out]
    if missing:
        model = model.to(dev)
        X = torch.as_tensor(data.X_train, device=dev)
        y = torch.as_tensor(data.y_train, device=dev)
        noises = collect_noise(model, X, y, missing, config.n_minibatches, seed=config.seed,
                               sampling=config.sampling, dtype=_DTYPES[config.dtype],
                               chunk_size=config.chunk_size,
                               loss_fn=loss_fn or torch.nn.functional.cross_entropy)
        for b in missing:
            st = noise_stats(noises.pop(b), estimator=config.estimator, level=config.level,
                             n_fit=config.n_fit, seed=config.seed)
            store.save("stats", keys[b], summary=np.array(json.dumps(json_safe(st.summary()))),
                       names=np.array(json.dumps(list(st.layer_names))), **st.arrays())
            out[b] = st
            if on_part is not None:
                on_part(b)
    return {b: out[b] for b in config.batch_sizes}


def run_measurement(dataset: str = "breast_cancer", *, model: str = "mlp", width: int = 64,
                    depth: int = 3, train_config: TrainConfig = TrainConfig(),
                    config: MeasureConfig = MeasureConfig(), test_fraction: float = 0.2,
                    data_seed: int = 0, model_seed: int = 0, weights: str | Path | None = None,
                    device: str | torch.device = "auto", workdir: str | Path | None = None,
                    verbose: bool = False, on_part: Callable[[int], None] | None = None,
                    ) -> Measurement:
    """Dataset name -> trained network -> ``Measurement`` (see module docstring).

    With ``weights`` (a file from ``save_weights`` / ``levydyn nn train``) the network is
    loaded instead of trained; its spec must fit the dataset.
    """
    dev = resolve_device(device)
    data = load_dataset(dataset, test_fraction=test_fraction, seed=data_seed)
    _check_fits(config, data)
    if weights is not None:
        net, meta = load_weights(weights, data)
        spec = meta["spec"]
        lr = float(meta["config"]["lr"])
        training = {"weights_file": str(weights), **meta.get("summary", {})}
    else:
        spec = ModelSpec.for_dataset(data, model, width, depth, model_seed)
        ckpt = None if workdir is None else \
            Path(workdir) / f"train-{train_key(data, spec, train_config)}.pt"
        res = train(data, spec, train_config, device=dev, checkpoint=ckpt, verbose=verbose)
        net, lr = res.model, train_config.lr
        training = {"config": train_config.to_dict(), **res.summary()}
    stats = measure_noise(net, data, config, device=dev, workdir=workdir, on_part=on_part)
    return Measurement(data=data.describe(), spec=spec, lr=lr, training=training,
                       weights_sha256=weights_checksum(net), config=config, stats=stats,
                       model=net)
