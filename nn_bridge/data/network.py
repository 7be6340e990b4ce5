"""One network, as every stage takes it: a model, its loss and its data (:class:`Network`).

A network is

- a **model**: a built-in architecture (:class:`~nn_bridge.data.models.ModelSpec`) or the
  user's own ``torch.nn.Module`` (in Python the module itself; on the command line a model
  file ``FILE.py:FUNC`` whose ``FUNC()`` returns a module or ``(module, loss_fn)``);
- a **loss** ``l(outputs, targets)``, the *mean* over the minibatch: ``"cross_entropy"``
  (default, integer class labels), ``"mse"`` (real targets; ``mean((f - y)^2)`` over samples
  and outputs, as ``torch``'s ``mse_loss``) or any callable with that contract;
- **data**: a :class:`~nn_bridge.data.datasets.Dataset` (built-in name, ``.npz``/``.csv``
  file, arrays, tensors or a ``torch.utils.data.Dataset`` of ``(x, y)`` pairs).

The training objective of every stage is ``U(w) = (1/N) sum_n l(f(x_n; w), y_n)`` (plus the
L2 term ``(wd/2)||w||^2`` where a stage says so); per-sample gradients, Gauss-Newton factors
and Hessian-vector products are those of ``l_n(w) = l(f(x_n; w)[None], y_n[None])``.

Checks, once, before any training (each a one-line ``ValueError``): the model file defines
the function and it returns a module; a forward pass on a few training samples runs; the
output fits the targets (``(b, classes)`` for cross-entropy, the targets' shape for mse); the
loss is a finite scalar and is the *mean* of the per-sample losses (a summed loss would
scale every gradient by the batch size); no BatchNorm in train mode nor active dropout
(either makes ``l_n`` depend on the rest of the minibatch or on a random mask, so per-sample
gradients and the minibatch law would be wrong numbers: put the module in eval mode, or use
GroupNorm / LayerNorm instead of BatchNorm).

Identity: ``Network.identity`` is a sha256 of the model's source (the built-in spec, or the
model file's bytes and function name, or the module's class), the loss name and the initial
weights. Trained-weights files record it, so weights cannot be loaded into another network
(:func:`nn_bridge.training.train.load_weights`). User modules are built under
``torch.manual_seed(seed)`` (the global generator is restored afterwards), so a builder that
uses torch's default initialisation gives the same weights on every call.

Inputs: a dataset's samples are stored flattened; image data (``image_shape`` ``(C, H, W)``)
are reshaped to ``(n, C, H, W)`` before the user's module sees them (a forward pre-hook), so
a module written for images takes them as images. Device: ``device`` is where training and
the torch measurements run (``"cpu"``, ``"cuda"``, ``"auto"``).
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from nn_bridge.data.datasets import Dataset, dataset_from_arrays, load_dataset
from nn_bridge.data.flat import FlatModel
from nn_bridge.data.models import ModelSpec, build_model, weights_checksum

__all__ = ["LOSSES", "InputShape", "Network", "builtin_train_key", "check_module",
           "mean_squared_error",
           "weights_identity_error"]

def mean_squared_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``mean((outputs - targets)^2)`` over samples and outputs: ``torch``'s ``mse_loss``
    (reduction ``"mean"``) written out, because ``mse_loss``'s backward fails under
    forward-over-reverse differentiation (``jvp`` of ``grad``: the Hessian-vector products)."""
    return ((outputs - targets) ** 2).mean()


LOSSES: dict[str, Callable] = {"cross_entropy": nn.functional.cross_entropy,
                               "mse": mean_squared_error}
#: Samples of the forward / loss check.
_CHECK_SAMPLES = 4


class InputShape:
    """Forward pre-hook: flattened samples ``(n, d)`` -> ``(n, *shape)``."""

    def __init__(self, shape):
        self.shape = tuple(int(s) for s in shape)

    def __call__(self, module, args):
        return (args[0].reshape(-1, *self.shape),) + tuple(args[1:])


def _loss(loss) -> tuple[str, Callable]:
    if loss is None:
        loss = "cross_entropy"
    if isinstance(loss, str):
        name = {"ce": "cross_entropy", "crossentropy": "cross_entropy"}.get(loss.lower(),
                                                                              loss.lower())
        if name not in LOSSES:
            raise ValueError(f"loss={loss!r}: must be one of {', '.join(LOSSES)} or a callable "
                             "loss_fn(outputs, targets)")
        return name, LOSSES[name]
    if not callable(loss):
        raise ValueError(f"loss={loss!r}: must be one of {', '.join(LOSSES)} or a callable")
    if loss is nn.functional.mse_loss:
        return "mse", mean_squared_error
    for name, fn in LOSSES.items():
        if loss is fn:
            return name, fn
    return f"custom:{getattr(loss, '__qualname__', type(loss).__name__)}", loss


def _task(loss_name: str) -> str:
    return {"cross_entropy": "classification", "mse": "regression"}.get(loss_name, "auto")


def check_module(module: nn.Module, where: str = "model") -> None:
    """Refuse layers that break per-sample computation (module docstring), in one line."""
    if not isinstance(module, nn.Module):
        raise ValueError(f"{where}: got {type(module).__name__}, expected a torch.nn.Module")
    for name, m in module.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training:
            raise ValueError(f"{where}: {type(m).__name__} {name!r} is in train mode (its output "
                             "depends on the whole minibatch, so per-sample gradients would be "
                             "wrong); call model.eval() in your builder or use GroupNorm")
        if isinstance(m, nn.modules.dropout._DropoutNd) and m.training and m.p > 0:
            raise ValueError(f"{where}: {type(m).__name__} {name!r} is active (p={m.p}: a random "
                             "mask per call, so gradients are not those of U); call "
                             "model.eval() in your builder or remove it")
    if not any(p.requires_grad for p in module.parameters()):
        raise ValueError(f"{where}: has no trainable parameters")


class Network:
    """A model, its loss and its data (module docstring).

    Build one with :meth:`builtin`, :meth:`from_file` or :meth:`from_module`.
    """

    def __init__(self, module: nn.Module, data: Dataset, loss="cross_entropy", *,
                 source: dict, spec: ModelSpec | None = None, device="cpu"):
        from nn_bridge.training.device import resolve_device

        self.loss_name, self.loss_fn = _loss(loss)
        self.spec = spec
        self.source = dict(source)
        self.device = resolve_device(device)
        where = self.source.get("label", "model")
        check_module(module, where)
        self._initial = copy.deepcopy(module).to("cpu", torch.float32)
        if spec is None and data.image_shape is not None:
            self._initial.register_forward_pre_hook(InputShape(data.image_shape))
        self.data = self._check_data(data, where)
        ident = {"source": {k: v for k, v in self.source.items() if k != "label"},
                 "loss": self.loss_name, "weights": weights_checksum(self._initial)}
        self.identity = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()

    # ----------------------------------------------------------------- constructors
    @classmethod
    def builtin(cls, data: Dataset, spec: ModelSpec | None = None, *, kind: str = "mlp",
                width: int = 64, depth: int = 3, seed: int = 0, device="cpu") -> "Network":
        """A built-in architecture (``spec``, or ``kind``/``width``/``depth``/``seed`` sized
        for ``data``) with the cross-entropy loss."""
        spec = spec or ModelSpec.for_dataset(data, kind, width, depth, seed)
        if spec.in_features != data.n_features or spec.n_classes != data.n_classes:
            raise ValueError(f"model in_features={spec.in_features}, n_classes={spec.n_classes}:"
                             f" dataset {data.name!r} has {data.n_features} features and "
                             f"{data.n_classes} classes")
        return cls(build_model(spec), data, "cross_entropy", spec=spec, device=device,
                   source={"kind": "builtin", "spec": spec.to_dict(),
                           "label": f"built-in {spec.kind} width {spec.width} depth "
                                    f"{spec.depth}"})

    @classmethod
    def from_file(cls, model_file: str, data, loss=None, *, seed: int = 0,
                  test_fraction: float = 0.2, device="cpu") -> "Network":
        """``FILE.py[:FUNC]`` (``FUNC`` defaults to ``build``) and its data (a
        :class:`Dataset`, or a dataset name / file path loaded with ``test_fraction`` and
        ``seed``). ``loss``: overrides a loss the builder returns (default cross-entropy)."""
        from nn_bridge.data.user_model import load_model_file

        text = str(model_file)
        path = text.rpartition(":")[0] if ":" in text and text.rpartition(":")[0].endswith(".py") \
            else text
        func = text[len(path) + 1:] or "build"
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module, file_loss = load_model_file(text)
        if loss is None and file_loss is not nn.functional.cross_entropy:
            loss = file_loss
        name, _ = _loss(loss)
        if not isinstance(data, Dataset):
            data = _load(data, _task(name), test_fraction, seed)
        sha = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return cls(module, data, loss, device=device,
                   source={"kind": "file", "path": Path(path).name, "function": func,
                           "file_sha256": sha, "seed": int(seed),
                           "label": f"model_file={text!r}"})

    @classmethod
    def from_module(cls, module: nn.Module, data, loss="cross_entropy", *, y=None,
                    test_fraction: float = 0.0, seed: int = 0, device="cpu") -> "Network":
        """The user's module itself (its current weights are the start) with ``data``: a
        :class:`Dataset`, ``(X, y)`` tensors/arrays, ``X`` and ``y=``, a
        ``torch.utils.data.Dataset`` of pairs, or a dataset name / file path."""
        name, _ = _loss(loss)
        if not isinstance(data, Dataset):
            if isinstance(data, (str, Path)):
                data = _load(str(data), _task(name), test_fraction, seed)
            elif isinstance(data, tuple) and len(data) == 2:
                data = dataset_from_arrays(*data, task=_task(name), test_fraction=test_fraction,
                                           seed=seed)
            else:
                data = dataset_from_arrays(data, y, task=_task(name),
                                           test_fraction=test_fraction, seed=seed)
        return cls(module, data, loss, device=device,
                   source={"kind": "module", "class": type(module).__qualname__,
                           "label": f"model {type(module).__name__}"})

    # ----------------------------------------------------------------- use
    @property
    def is_classifier(self) -> bool:
        return self.data.task == "classification"

    @property
    def label(self) -> str:
        return self.source.get("label", "model")

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self._initial.parameters() if p.requires_grad)

    @property
    def factor_rank(self) -> int:
        """Columns of a per-sample Gauss-Newton factor: ``C - 1`` for cross-entropy
        (``Lambda_n 1 = 0``), ``C`` outputs otherwise."""
        C = self.data.n_outputs
        return C - 1 if self.loss_name == "cross_entropy" else C

    def build(self) -> nn.Module:
        """A fresh copy of the model at its initial weights (CPU, float32)."""
        return copy.deepcopy(self._initial)

    def flat(self, w=None, dtype: torch.dtype = torch.float64, device=None) -> FlatModel:
        """The model as a function of one flat vector (``FlatModel`` with this loss), at
        ``w`` (default: the initial weights), in ``dtype``, on ``device`` (default CPU)."""
        fm = FlatModel(self.build().to(device or "cpu", dtype), self.loss_fn)
        if w is not None:
            fm.load(w)
        return fm

    def tensors(self, dtype: torch.dtype | None = None, device=None, part: str = "train"):
        """``(X, y)`` of the training (or ``"test"``) part as tensors."""
        X = torch.as_tensor(getattr(self.data, f"X_{part}"), device=device)
        y = torch.as_tensor(getattr(self.data, f"y_{part}"), device=device)
        return (X if dtype is None else X.to(dtype)), y

    def accuracy(self, outputs: torch.Tensor, y: torch.Tensor) -> float:
        """Fraction of correct argmax classes (nan for regression or no samples)."""
        if not self.is_classifier or y.shape[0] == 0:
            return float("nan")
        return float((outputs.argmax(1) == y).double().mean())

    def describe(self) -> dict:
        src = {k: v for k, v in self.source.items() if k != "label"}
        return {**src, "loss": self.loss_name, "identity": self.identity,
                "n_params": self.n_params, "data": self.data.describe()}

    def model_dict(self) -> dict:
        """What the model is, for reports: the built-in spec's fields, or the source
        (model file and its sha256 / module class), loss and identity."""
        if self.spec is not None:
            return self.spec.to_dict()
        return {k: v for k, v in self.describe().items() if k != "data"}

    def train_key(self, config) -> str:
        """Key of a training run of this network under ``config`` (a ``TrainConfig``); a
        built-in network keeps the built-in key (checkpoints stay valid)."""
        from nn_bridge.training.checkpoint import config_key

        if self.spec is not None:
            return builtin_train_key(self.data, self.spec, config)
        return config_key({"data": self.data.checksum, "network": self.identity,
                           "config": config.to_dict()})

    # ----------------------------------------------------------------- checks
    def _check_data(self, data: Dataset, where: str) -> Dataset:
        """Forward pass, output shape vs targets, scalar mean loss (module docstring)."""
        if self.loss_name == "cross_entropy" and data.task != "classification":
            raise ValueError(f"loss=cross_entropy: data {data.name!r} has real targets; give "
                             "integer class labels or loss=mse")
        b = min(_CHECK_SAMPLES, data.n_train)
        X = torch.as_tensor(data.X_train[:b])
        model = self._initial
        try:
            with torch.no_grad():
                out = model(X)
        except Exception as exc:   # the user's module: any failure, in one line
            shape = data.input_shape
            raise ValueError(f"data={data.name!r}: inputs of shape {shape} do not fit the "
                             f"model {where} ({type(exc).__name__}: "
                             f"{' '.join(str(exc).split())[:160]})") from None
        if not isinstance(out, torch.Tensor):
            raise ValueError(f"{where}: forward returned {type(out).__name__}, expected a tensor")
        if data.task == "classification":
            if out.shape != (b, data.n_classes):
                raise ValueError(f"{where}: output shape {tuple(out.shape)} does not fit the "
                                 f"targets: data {data.name!r} has {data.n_classes} classes, "
                                 f"expected ({b}, {data.n_classes})")
        elif self.loss_name == "mse":
            if data.y_train.ndim == 1 and out.shape == (b, 1):
                data = replace(data, y_train=data.y_train[:, None], y_test=data.y_test[:, None])
            if out.shape != (b,) + data.y_train.shape[1:]:
                raise ValueError(f"{where}: output shape {tuple(out.shape)} does not fit the "
                                 f"targets of shape {(b,) + data.y_train.shape[1:]} (loss=mse)")
        y = torch.as_tensor(data.y_train[:b])
        try:
            with torch.no_grad():
                val = self.loss_fn(out, y)
                each = [self.loss_fn(out[i:i + 1], y[i:i + 1]) for i in range(b)]
        except Exception as exc:
            raise ValueError(f"loss={self.loss_name}: loss_fn(outputs, targets) failed "
                             f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})") \
                from None
        if not isinstance(val, torch.Tensor) or val.numel() != 1:
            shape = tuple(val.shape) if isinstance(val, torch.Tensor) else type(val).__name__
            raise ValueError(f"loss={self.loss_name}: returned {shape}; the loss must be a "
                             "scalar (the mean over the minibatch)")
        if not math.isfinite(float(val)):
            raise ValueError(f"loss={self.loss_name}: not finite at the initial weights "
                             f"({float(val)})")
        mean = float(torch.stack([e.reshape(()) for e in each]).mean())
        if not math.isclose(float(val), mean, rel_tol=1e-4, abs_tol=1e-6):
            raise ValueError(f"loss={self.loss_name}: on {b} samples it is {float(val):.6g}, "
                             f"the mean of the per-sample losses is {mean:.6g}; the loss must "
                             "be the mean over the minibatch (reduction='mean')")
        return data


def builtin_train_key(data: Dataset, spec: ModelSpec, config) -> str:
    """Key of a training run of a built-in network: hash of the data checksum, the spec and
    the SGD configuration (``TrainConfig``)."""
    from nn_bridge.training.checkpoint import config_key

    return config_key({"data": data.checksum, "spec": spec.to_dict(), "config": config.to_dict()})


def _load(data, task: str, test_fraction: float, seed: int) -> Dataset:
    if not isinstance(data, (str, Path)):
        raise ValueError(f"data={data!r}: expected a Dataset, a dataset name or a file path")
    return load_dataset(str(data), test_fraction=test_fraction, seed=seed, task=task)


def weights_identity_error(path, recorded: dict | None, network: Network) -> str | None:
    """Why trained weights recorded for ``recorded`` cannot be loaded into ``network``
    (``None`` when they can)."""
    if recorded is None:
        return None
    if recorded.get("identity") == network.identity:
        return None
    return (f"weights={str(path)!r}: trained for {_what(recorded)} (network sha256 "
            f"{str(recorded.get('identity'))[:12]}), not for {_what(network.describe())} "
            f"(sha256 {network.identity[:12]}); use the same model file, loss and seed")


def _what(d: dict) -> str:
    if d.get("kind") == "file":
        return f"model file {d.get('path')}:{d.get('function')} (file sha256 " \
               f"{str(d.get('file_sha256'))[:12]}) with loss {d.get('loss')}"
    if d.get("kind") == "builtin":
        return f"the built-in {d.get('spec', {}).get('kind')}"
    return f"module {d.get('class')} with loss {d.get('loss')}"

