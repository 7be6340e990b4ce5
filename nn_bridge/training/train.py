"""Plain SGD training to a (numerical) local minimum, with atomic checkpoints and resume.

SGD as in papers 000/003/004: by default no momentum, no weight decay, constant learning
rate ``lr`` (paper 004: 0.05), minibatches of ``batch_size`` (paper 004: 128) drawn by
reshuffling the training set each epoch (``torch.randperm`` with a seeded
``torch.Generator``; the last, smaller batch of an epoch is kept). One iteration is one
step ``w <- w - lr * g_d``; in the SDE picture an iteration is ``dt = lr`` of continuous
time, so ``TrainResult.sde_time = sum over iterations of lr`` (the lr of each step).

As the papers' large networks were trained (paper 004 Sec. 5 ResNets; paper 003):

- ``momentum`` mu and ``weight_decay`` lambda, PyTorch's SGD convention (dampening 0):
  ``b <- mu b + (g_d + lambda w)``, ``w <- w - lr b``;
- a multi-step schedule: at each epoch in ``milestones`` either the learning rate is
  multiplied by ``decay`` (``decay_mode="lr"``) or, instead, the batch size is divided by
  it (``decay_mode="batch"``: x10 for decay 0.1) -- paper 004's learning-rate-decay and
  batch-size-increase runs (Sec. 5, "Learning rate decay");
- ``track_every = K``: every K iterations, the per-parameter tail index alpha_i and scale
  sigma_i of the gradient noise over the last K SGD minibatches, streamed from the
  training gradients themselves with the log-moment estimator on consecutive differences
  ``g_d - g_{d-1}`` (``nn_bridge.noise.stream.NoiseMoments``; O(P) memory, no extra backward
  pass). The weights move during the window, so the difference also holds
  ``grad U(w_d) - grad U(w_{d-1})``, of order ``lr |H g|``: small against the noise near
  a minimum, not early in training. Per tensor, the median alpha_i and sigma_i go into
  ``TrainResult.tracking`` with the iteration, epoch, lr and batch size. Windows restart at
  each milestone and skip an epoch's short last batch; a resumed run restarts its window.

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
from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
from torch import nn

from nn_bridge.training.checkpoint import atomic_write_bytes
from nn_bridge.data.datasets import Dataset
from nn_bridge.training.device import resolve_device
from nn_bridge.data.models import ModelSpec, build_model, weights_checksum

if TYPE_CHECKING:
    from nn_bridge.data.network import Network

__all__ = ["TrainConfig", "TrainResult", "train", "train_network", "train_key",
           "full_loss_and_grad", "load_weights", "save_weights"]


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
    momentum: float = 0.0
    weight_decay: float = 0.0
    milestones: tuple[int, ...] = ()
    decay: float = 0.1
    decay_mode: str = "lr"
    track_every: int = 0

    def __post_init__(self):
        object.__setattr__(self, "milestones", tuple(self.milestones))
        if not isinstance(self.momentum, (int, float)) or not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum={self.momentum!r}: must be a number in [0, 1)")
        if not isinstance(self.weight_decay, (int, float)) or not (
                math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay={self.weight_decay!r}: must be a finite number >= 0")
        if any(isinstance(m, bool) or not isinstance(m, int) or m < 1 for m in self.milestones) \
                or list(self.milestones) != sorted(set(self.milestones)):
            raise ValueError(f"milestones={list(self.milestones)!r}: must be increasing "
                             "positive epochs")
        if not isinstance(self.decay, (int, float)) or not 0.0 < self.decay < 1.0:
            raise ValueError(f"decay={self.decay!r}: must lie in (0, 1)")
        if self.decay_mode not in ("lr", "batch"):
            raise ValueError(f"decay_mode={self.decay_mode!r}: must be lr or batch")
        if isinstance(self.track_every, bool) or not isinstance(self.track_every, int) \
                or self.track_every < 0 or 0 < self.track_every < 3:
            raise ValueError(f"track_every={self.track_every!r}: must be 0 (off) or an "
                             "integer >= 3")
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
        d = asdict(self)
        d["milestones"] = list(self.milestones)
        return d

    def schedule(self, epoch: int) -> tuple[float, int]:
        """``(lr, batch_size)`` used in epoch ``epoch`` (0-based) under the multi-step schedule."""
        k = sum(1 for m in self.milestones if epoch >= m)
        if self.decay_mode == "lr":
            return self.lr * self.decay ** k, self.batch_size
        return self.lr, int(round(self.batch_size / self.decay ** k))


@dataclass
class TrainResult:
    """A trained network and how it got there."""

    model: nn.Module
    spec: ModelSpec | None
    config: TrainConfig
    history: list[dict] = field(default_factory=list)
    epochs: int = 0
    iterations: int = 0
    converged: bool = False
    reason: str = ""
    weights_sha256: str = ""
    sde_time: float = 0.0
    tracking: list[dict] = field(default_factory=list)
    network: "Network | None" = None

    @property
    def final(self) -> dict:
        return self.history[-1] if self.history else {}

    def summary(self) -> dict:
        return {"epochs": self.epochs, "iterations": self.iterations, "sde_time": self.sde_time,
                "converged": self.converged, "reason": self.reason,
                "weights_sha256": self.weights_sha256, **{k: v for k, v in self.final.items()
                                                          if k != "epoch"}}


def full_loss_and_grad(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                       loss_fn: Callable = nn.functional.cross_entropy, *,
                       classifier: bool = True) -> tuple[float, float, float]:
    """Full-batch loss ``U(w)``, ``||grad U(w)||_2`` and accuracy on ``(X, y)`` (accuracy
    nan unless ``classifier``)."""
    model.zero_grad(set_to_none=True)
    out = model(X)
    loss = loss_fn(out, y)
    loss.backward()
    gnorm = math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in model.parameters()
                          if p.grad is not None))
    model.zero_grad(set_to_none=True)
    acc = float((out.argmax(1) == y).double().mean()) if classifier else float("nan")
    return float(loss.detach()), gnorm, acc


def _accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
              classifier: bool = True) -> float:
    if X.shape[0] == 0 or not classifier:
        return float("nan")
    with torch.no_grad():
        return float((model(X).argmax(1) == y).double().mean())


def train_key(data: Dataset, spec: ModelSpec, config: TrainConfig) -> str:
    """Key of a training run: hash of the data checksum, model spec and SGD configuration."""
    from nn_bridge.data.network import builtin_train_key

    return builtin_train_key(data, spec, config)


def train(data: Dataset, spec: ModelSpec, config: TrainConfig = TrainConfig(), *,
          device: str | torch.device = "auto", checkpoint: str | Path | None = None,
          callback: Callable[[dict], None] | None = None,
          on_step: Callable[[int, nn.Module], None] | None = None,
          verbose: bool = False) -> TrainResult:
    """Train the built-in ``spec`` on ``data``: :func:`train_network` of
    ``Network.builtin(data, spec)`` (same arguments)."""
    from nn_bridge.data.network import Network

    network = Network.builtin(data, spec, device="cpu")
    return train_network(network, config, device=device, checkpoint=checkpoint,
                         callback=callback, on_step=on_step, verbose=verbose)


def train_network(network: "Network", config: TrainConfig = TrainConfig(), *,
                  device: str | torch.device | None = None,
                  checkpoint: str | Path | None = None,
                  callback: Callable[[dict], None] | None = None,
                  on_step: Callable[[int, nn.Module], None] | None = None,
                  verbose: bool = False) -> TrainResult:
    """Train ``network`` (a :class:`~nn_bridge.data.network.Network`: model, loss, data)
    with plain SGD on its loss until the convergence criterion holds.

    Parameters
    ----------
    device : where to train (default ``network.device``).
    checkpoint : file for atomic checkpoints; when it exists and was written for the same
        (data, spec, config), training resumes from it.
    callback : called with each epoch's record (after any checkpoint of that epoch);
        exceptions propagate, which is how tests simulate an interruption.
    on_step : called as ``on_step(iteration, model)`` after every SGD step, with the
        1-based count of steps taken so far (resumed steps included); this is how the
        iterates ``w_k`` are recorded (``nn_bridge.papers.iterates``). It must not change the
        model; steps done before a resume are not replayed.
    """
    dev = network.device if device is None else resolve_device(device)
    data, spec, loss_fn = network.data, network.spec, network.loss_fn
    classifier = network.is_classifier
    if config.batch_size > data.n_train:
        raise ValueError(f"batch_size={config.batch_size}: larger than the {data.n_train} "
                         "training samples")
    key = network.train_key(config)
    model = network.build()
    gen = torch.Generator().manual_seed(config.seed)
    history: list[dict] = []
    tracking: list[dict] = []
    epoch = iteration = 0
    sde_time = 0.0
    done = False
    reason = ""
    params = list(model.parameters())
    bufs = [torch.zeros_like(p) for p in params] if config.momentum else []
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
        sde_time = state.get("sde_time", iteration * config.lr)
        tracking = state.get("tracking", [])
        for b, v in zip(bufs, state.get("momentum", [])):
            b.copy_(v)
    model.to(dev)
    bufs = [b.to(dev) for b in bufs]
    Xtr = torch.as_tensor(data.X_train, device=dev)
    ytr = torch.as_tensor(data.y_train, device=dev)
    Xte = torch.as_tensor(data.X_test, device=dev)
    yte = torch.as_tensor(data.y_test, device=dev)
    n = data.n_train
    tracker = _Tracker(model, dev, config.track_every) if config.track_every else None

    def save() -> None:
        if ckpt is None:
            return
        buf = io.BytesIO()
        weights = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save({"key": key, "model": weights,
                    "generator": gen.get_state(), "history": history, "epoch": epoch,
                    "iteration": iteration, "done": done, "reason": reason,
                    "sde_time": sde_time, "tracking": tracking,
                    "momentum": [b.detach().cpu() for b in bufs]}, buf)
        atomic_write_bytes(ckpt, buf.getvalue())

    while not done:
        lr, B = config.schedule(epoch)
        B = min(B, n)
        perm = torch.randperm(n, generator=gen).to(dev)
        if tracker is not None and epoch in config.milestones:
            tracker.reset()              # a window never spans a change of lr or batch size
        for start in range(0, n, B):
            batch = perm[start:start + B]
            model.zero_grad(set_to_none=True)
            loss_fn(model(Xtr[batch]), ytr[batch]).backward()
            if tracker is not None and batch.shape[0] == B:
                rec = tracker.add()
                if rec is not None:
                    tracking.append({"iteration": iteration + 1, "epoch": epoch, "lr": lr,
                                     "batch_size": B, **rec})
            with torch.no_grad():
                for k, p in enumerate(params):
                    d = p.grad
                    if config.weight_decay:
                        d = d.add(p, alpha=config.weight_decay)
                    if config.momentum:
                        bufs[k].mul_(config.momentum).add_(d)
                        d = bufs[k]
                    p.sub_(d, alpha=lr)
            iteration += 1
            sde_time += lr
            if on_step is not None:
                on_step(iteration, model)
        epoch += 1
        loss, gnorm, acc = full_loss_and_grad(model, Xtr, ytr, loss_fn, classifier=classifier)
        rec = {"epoch": epoch, "loss": loss, "grad_norm": gnorm, "train_acc": acc,
               "test_acc": _accuracy(model, Xte, yte, classifier)}
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
                       weights_sha256=weights_checksum(model), sde_time=sde_time,
                       tracking=tracking, network=network)


class _Tracker:
    """alpha_i, sigma_i over windows of K training minibatches (module docstring)."""

    def __init__(self, model: nn.Module, dev: torch.device, every: int):
        from nn_bridge.data.flat import parameter_layout
        from nn_bridge.noise.stream import NoiseMoments

        self.params = [p for p in model.parameters() if p.requires_grad]
        self.layout = parameter_layout(model)
        self.every = every
        self.P = self.layout.n_params
        self.dev = dev
        self._moments = NoiseMoments
        self.g = torch.empty(self.P, dtype=self.params[0].dtype, device=dev)
        self.reset()

    def reset(self) -> None:
        self.acc = self._moments(self.P, self.dev)

    def add(self) -> dict | None:
        from nn_bridge.noise.stream import _flat_grad

        g = _flat_grad(self.params, self.g)
        self.acc.update(g.to(torch.float64), (g == 0).to(torch.float64))
        if self.acc.n < self.every:
            return None
        per = self.acc.finish(np.zeros(self.P))
        self.reset()
        lidx = self.layout.layer_index()
        out: dict = {"alpha_median": {}, "sigma_median": {}}
        for k, name in enumerate(self.layout.names):
            a, s = per["alpha"][lidx == k], per["sigma"][lidx == k]
            out["alpha_median"][name] = float(np.nanmedian(a)) if np.isfinite(a).any() \
                else float("nan")
            out["sigma_median"][name] = float(np.nanmedian(s)) if np.isfinite(s).any() \
                else float("nan")
        fin = np.isfinite(per["alpha"])
        out["alpha_all_median"] = float(np.median(per["alpha"][fin])) if fin.any() else float("nan")
        out["sigma_all_median"] = float(np.median(per["sigma"][fin])) if fin.any() else float("nan")
        return out


def save_weights(result: TrainResult, path: str | Path, data: Dataset | None = None) -> Path:
    """Atomically save trained weights with their spec, config and summary (``torch.save``);
    the network's description (``network``: source, model file sha256, loss, identity) is
    recorded so that :func:`load_weights` refuses another network."""
    buf = io.BytesIO()
    net = result.network
    torch.save({"model": {k: v.detach().cpu() for k, v in result.model.state_dict().items()},
                "spec": None if result.spec is None else result.spec.to_dict(),
                "network": None if net is None else net.model_dict() | {
                    "identity": net.identity, **{k: v for k, v in net.source.items()
                                                 if k != "label"}},
                "config": result.config.to_dict(),
                "summary": result.summary(), "history": result.history,
                "data": None if data is None else data.describe()}, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_weights(path: str | Path, dataset: Dataset | None = None, *,
                 network: "Network | None" = None) -> tuple[nn.Module, dict]:
    """Load a file written by ``save_weights``: the model (CPU) and its metadata; with
    ``dataset``, check that the model's inputs and classes fit it; with ``network``, load the
    weights into a copy of ``network``'s model after checking that they were trained for it
    (same identity: model source and file sha256, loss, initial weights)."""
    from nn_bridge.data.network import weights_identity_error

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"weights={str(p)!r}: file not found")
    try:
        state = torch.load(p, map_location="cpu", weights_only=False)
        spec = None if state["spec"] is None else ModelSpec.from_dict(state["spec"])
    except (KeyError, TypeError, RuntimeError, EOFError, ValueError, AttributeError,
            pickle.UnpicklingError) as exc:
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ValueError(f"weights must be a file written by `levydyn nn train`, got "
                         f"weights={str(p)!r} ({type(exc).__name__}: {reason})") from None
    recorded = state.get("network")
    meta = {k: v for k, v in state.items() if k != "model"}
    meta["spec"] = spec
    if network is not None:
        if recorded is None and spec is not None and network.spec is not None:
            recorded = {"identity": network.identity} if spec == network.spec else \
                {"kind": "builtin", "spec": spec.to_dict(), "identity": "other"}
        why = weights_identity_error(p, recorded, network) if recorded is not None else \
            f"weights={str(p)!r}: records no network identity; retrain with `levydyn nn train`"
        if why:
            raise ValueError(why)
        model = network.build()
        model.load_state_dict(state["model"])
        return model, meta
    if spec is None:
        what = (recorded or {}).get("path") or (recorded or {}).get("class")
        raise ValueError(f"weights={str(p)!r}: trained for your own network ({what}); give "
                         "the same --model-file (Python: network=)")
    model = build_model(spec)
    model.load_state_dict(state["model"])
    if dataset is not None and (spec.in_features != dataset.n_features
                                or spec.n_classes != dataset.n_classes):
        raise ValueError(f"weights={str(p)!r}: model has {spec.in_features} inputs and "
                         f"{spec.n_classes} classes, dataset {dataset.name!r} has "
                         f"{dataset.n_features} and {dataset.n_classes}")
    return model, meta
