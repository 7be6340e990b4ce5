"""Plain SGD training to a (numerical) local minimum, with atomic checkpoints and resume.

SGD as in papers 000/003/004: no momentum, no weight decay, constant learning rate
``lr`` (paper 004: 0.05), minibatches of ``batch_size`` (paper 004: 128) drawn by
reshuffling the training set each epoch (``torch.randperm`` with a seeded
``torch.Generator``; the last, smaller batch of an epoch is kept). One iteration is one
step ``w <- w - lr * g_d``; in the SDE picture an iteration is ``dt = lr`` of continuous
time, so ``TrainResult.sde_time = iterations * lr``.

Convergence criterion (checked on the full training loss ``U`` after every epoch):

1. ``||grad U(w)||_2 <= grad_tol`` -- a stationary point; or
2. plateau: ``U`` fell by less than ``loss_rtol * U`` over the last ``patience`` epochs.

Otherwise training stops at ``max_epochs`` with ``converged = False``.

Checkpoints (weights, generator state, epoch, history) are written atomically every
``checkpoint_every`` epochs and at the end; rerunning with the same configuration and
checkpoint path resumes where the last checkpoint left off and produces bit-identical
weights and history (same device and thread count).
"""
from __future__ import annotations

import io
import math
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from nn_bridge.checkpoint import atomic_write_bytes, config_key
from nn_bridge.data import Dataset
from nn_bridge.device import resolve_device
from nn_bridge.models import ModelSpec, build_model, weights_checksum

__all__ = ["TrainConfig", "TrainResult", "train", "train_key", "full_loss_and_grad",
           "load_weights", "save_weights"]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of plain SGD and its stopping rule (see module docstring)."""

    lr: float = 0.05
    batch_size: int = 128
    max_epochs: int = 3000
    grad_tol: float = 1e-3
    loss_rtol: float = 1e-3
    patience: int = 100
    seed: int = 0
    checkpoint_every: int = 50

    def __post_init__(self):
        if not isinstance(self.lr, (int, float)) or not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr={self.lr!r}: must be a positive finite number")
        for f in ("batch_size", "max_epochs", "patience", "checkpoint_every"):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{f}={v!r}: must be a positive integer")
        for f in ("grad_tol", "loss_rtol"):
            v = getattr(self, f)
            if not isinstance(v, (int, float)) or not v >= 0:
                raise ValueError(f"{f}={v!r}: must be a number >= 0")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed={self.seed!r}: must be a non-negative integer")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    """A trained network and how it got there."""

    model: nn.Module
    spec: ModelSpec
    config: TrainConfig
    history: list[dict] = field(default_factory=list)
    epochs: int = 0
    iterations: int = 0
    converged: bool = False
    reason: str = ""
    weights_sha256: str = ""

    @property
    def sde_time(self) -> float:
        """Continuous SDE time covered: one SGD iteration is ``dt = lr``."""
        return self.iterations * self.config.lr

    @property
    def final(self) -> dict:
        return self.history[-1] if self.history else {}

    def summary(self) -> dict:
        return {"epochs": self.epochs, "iterations": self.iterations, "sde_time": self.sde_time,
                "converged": self.converged, "reason": self.reason,
                "weights_sha256": self.weights_sha256, **{k: v for k, v in self.final.items()
                                                          if k != "epoch"}}


def full_loss_and_grad(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                       loss_fn: Callable = nn.functional.cross_entropy,
                       ) -> tuple[float, float, float]:
    """Full-batch loss ``U(w)``, ``||grad U(w)||_2`` and accuracy on ``(X, y)``."""
    model.zero_grad(set_to_none=True)
    out = model(X)
    loss = loss_fn(out, y)
    loss.backward()
    gnorm = math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in model.parameters()))
    model.zero_grad(set_to_none=True)
    acc = float((out.argmax(1) == y).double().mean())
    return float(loss.detach()), gnorm, acc


def _accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    if X.shape[0] == 0:
        return float("nan")
    with torch.no_grad():
        return float((model(X).argmax(1) == y).double().mean())


def train_key(data: Dataset, spec: ModelSpec, config: TrainConfig) -> str:
    """Key of a training run: hash of the data checksum, model spec and SGD configuration."""
    return config_key({"data": data.checksum, "spec": spec.to_dict(), "config": config.to_dict()})


def train(data: Dataset, spec: ModelSpec, config: TrainConfig = TrainConfig(), *,
          device: str | torch.device = "auto", checkpoint: str | Path | None = None,
          callback: Callable[[dict], None] | None = None, verbose: bool = False) -> TrainResult:
    """Train ``spec`` on ``data`` with plain SGD until the convergence criterion holds.

    Parameters
    ----------
    checkpoint : file for atomic checkpoints; when it exists and was written for the same
        (data, spec, config), training resumes from it.
    callback : called with each epoch's record (after any checkpoint of that epoch);
        exceptions propagate, which is how tests simulate an interruption.
    """
    dev = resolve_device(device)
    if spec.in_features != data.n_features or spec.n_classes != data.n_classes:
        raise ValueError(f"model in_features={spec.in_features}, n_classes={spec.n_classes}: "
                         f"dataset {data.name!r} has {data.n_features} features and "
                         f"{data.n_classes} classes")
    if config.batch_size > data.n_train:
        raise ValueError(f"batch_size={config.batch_size}: larger than the {data.n_train} "
                         "training samples")
    key = train_key(data, spec, config)
    model = build_model(spec)
    gen = torch.Generator().manual_seed(config.seed)
    history: list[dict] = []
    epoch = iteration = 0
    done = False
    reason = ""
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        if state.get("key") != key:
            raise ValueError(f"checkpoint={str(ckpt)!r}: written for a different dataset, model "
                             "or training configuration; delete it or choose another path")
        model.load_state_dict(state["model"])
        gen.set_state(state["generator"])
        history, epoch, iteration = state["history"], state["epoch"], state["iteration"]
        done, reason = state["done"], state["reason"]
    model.to(dev)
    Xtr = torch.as_tensor(data.X_train, device=dev)
    ytr = torch.as_tensor(data.y_train, device=dev)
    Xte = torch.as_tensor(data.X_test, device=dev)
    yte = torch.as_tensor(data.y_test, device=dev)
    n, B, lr = data.n_train, config.batch_size, config.lr

    def save() -> None:
        if ckpt is None:
            return
        buf = io.BytesIO()
        weights = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save({"key": key, "model": weights,
                    "generator": gen.get_state(), "history": history, "epoch": epoch,
                    "iteration": iteration, "done": done, "reason": reason}, buf)
        atomic_write_bytes(ckpt, buf.getvalue())

    params = list(model.parameters())
    while not done:
        perm = torch.randperm(n, generator=gen).to(dev)
        for start in range(0, n, B):
            batch = perm[start:start + B]
            model.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(Xtr[batch]), ytr[batch]).backward()
            with torch.no_grad():
                for p in params:
                    p.sub_(p.grad, alpha=lr)
            iteration += 1
        epoch += 1
        loss, gnorm, acc = full_loss_and_grad(model, Xtr, ytr)
        rec = {"epoch": epoch, "loss": loss, "grad_norm": gnorm, "train_acc": acc,
               "test_acc": _accuracy(model, Xte, yte)}
        history.append(rec)
        if not math.isfinite(loss):
            raise FloatingPointError(f"lr={lr}: training diverged at epoch {epoch} (loss {loss})")
        if gnorm <= config.grad_tol:
            done, reason = True, f"grad_norm {gnorm:.3g} <= grad_tol {config.grad_tol:g}"
        elif epoch > config.patience and \
                history[-1 - config.patience]["loss"] - loss < config.loss_rtol * loss:
            done, reason = True, (f"plateau: loss fell by < {config.loss_rtol:g} x loss over "
                                  f"{config.patience} epochs")
        elif epoch >= config.max_epochs:
            done, reason = True, f"max_epochs {config.max_epochs} reached"
        if verbose and (epoch % 100 == 0 or done):
            print(f"epoch {epoch:5d}  loss {loss:.5f}  |grad| {gnorm:.2e}  acc {acc:.3f}")
        if done or epoch % config.checkpoint_every == 0:
            save()
        if callback is not None:
            callback(rec)
    converged = reason.startswith(("grad_norm", "plateau"))
    return TrainResult(model=model, spec=spec, config=config, history=history, epochs=epoch,
                       iterations=iteration, converged=converged, reason=reason,
                       weights_sha256=weights_checksum(model))


def save_weights(result: TrainResult, path: str | Path, data: Dataset | None = None) -> Path:
    """Atomically save trained weights with their spec, config and summary (``torch.save``)."""
    buf = io.BytesIO()
    torch.save({"model": {k: v.detach().cpu() for k, v in result.model.state_dict().items()},
                "spec": result.spec.to_dict(), "config": result.config.to_dict(),
                "summary": result.summary(), "history": result.history,
                "data": None if data is None else data.describe()}, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_weights(path: str | Path) -> tuple[nn.Module, dict]:
    """Load a file written by ``save_weights``: the model (CPU) and its metadata."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"weights={str(p)!r}: file not found")
    try:
        state = torch.load(p, map_location="cpu", weights_only=False)
        spec = ModelSpec.from_dict(state["spec"])
    except (KeyError, TypeError, RuntimeError, EOFError, ValueError, AttributeError,
            pickle.UnpicklingError) as exc:
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ValueError(f"weights must be a file written by `levydyn nn train`, got "
                         f"weights={str(p)!r} ({type(exc).__name__}: {reason})") from None
    model = build_model(spec)
    model.load_state_dict(state["model"])
    meta = {k: v for k, v in state.items() if k != "model"}
    meta["spec"] = spec
    return model, meta
