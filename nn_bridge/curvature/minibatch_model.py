"""Minibatch-model profile: what levydyn's random linear recursion needs, measured at ``w*``.

Near a minimum SGD is, to first order in ``x = w - w*``,

    x_{k+1} = (I - lr H_{B_k}) x_k - lr u_{B_k},
    H_B = (1/B) sum_{n in B} F_n F_n^T [+ R] + wd I,        u_B = (1/B) sum_{n in B} G_n,

(:mod:`levydyn.kesten`, ``EmpiricalMinibatch``) with, per training sample ``n``:

- ``G_n = grad l_n(w*) - grad CE(w*)``: the per-sample gradient deviation (N x P);
- ``F_n``: the Gauss-Newton factor of ``Hess l_n(w*)`` (P x (C-1),
  :func:`nn_bridge.curvature.per_sample.per_sample_gn_factors`);
- ``R``: the shared remainder ``Hess CE(w*) - (1/N) sum F_n F_n^T`` (dense P x P), with which
  ``E H_B`` is the exact Hessian (kept in the file; the levydyn law leaves it out by default,
  see :meth:`MinibatchModel.law`); ``wd``: the L2 weight decay of ``U``.

The minibatch indices are i.i.d. uniform with replacement, as in the escape experiments.
The curvature of the minibatch is then random: *multiplicative* noise (paper 001; issue
"Multiplicative noise"). This profile is the hand-off from torch to levydyn, like the noise
profile (:mod:`nn_bridge.noise.profile`): levydyn simulates it without torch.

File: ``.npz`` written atomically (arrays native, metadata as one JSON string) with the
sha256 of the weights at ``w*`` (``weights_checksum``, float32 values) and of the data,
the learning rates and batch sizes it was measured for (``lrs``, ``batch_sizes``: a study's
grid), the factorisation error per batch size and the model spec. :meth:`law` refuses a
batch size, :meth:`check_lr` a learning rate outside that grid, :meth:`check_weights` a
network whose checksum differs -- each with a one-line ``ValueError`` naming the value.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nn_bridge.training.checkpoint import atomic_save_npz, json_safe, read_npz_meta

__all__ = ["SCHEMA", "MinibatchModel", "save_minibatch_model", "load_minibatch_model",
           "check_weights"]

SCHEMA = "levydyn.minibatch_model/1"
_ARRAYS = ("deviations", "factors", "remainder", "w_star")
_META = ("weight_decay", "lrs", "batch_sizes", "weights_sha256", "dataset", "dataset_checksum",
         "model", "layer_names", "layer_shapes", "factor_error", "seed", "extra")


def _grid_value(v: float, grid: tuple, name: str) -> None:
    if not any(math.isclose(float(v), g, rel_tol=1e-9, abs_tol=1e-12) for g in grid):
        raise ValueError(f"{name}={v!r}: outside the measured grid "
                         f"{name}s={[g if name == 'lr' else int(g) for g in grid]}")


@dataclass
class MinibatchModel:
    """Per-sample gradient deviations and curvature factors of a network at ``w*``."""

    deviations: np.ndarray
    factors: np.ndarray
    remainder: np.ndarray | None
    w_star: np.ndarray
    weight_decay: float
    lrs: tuple
    batch_sizes: tuple
    weights_sha256: str
    dataset: str = ""
    dataset_checksum: str = ""
    model: dict = field(default_factory=dict)
    layer_names: tuple = ()
    layer_shapes: tuple = ()
    factor_error: dict = field(default_factory=dict)
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.deviations = np.ascontiguousarray(self.deviations, dtype=float)
        F = np.asarray(self.factors, dtype=float)
        self.factors = F[:, :, None] if F.ndim == 2 else F
        self.w_star = np.asarray(self.w_star, dtype=float)
        if self.remainder is not None:
            self.remainder = np.asarray(self.remainder, dtype=float)
        self.lrs = tuple(float(v) for v in self.lrs)
        self.batch_sizes = tuple(int(v) for v in self.batch_sizes)
        self.layer_names = tuple(self.layer_names)
        self.layer_shapes = tuple(tuple(int(v) for v in s) for s in self.layer_shapes)
        self.validate()

    @property
    def n_samples(self) -> int:
        return int(self.deviations.shape[0])

    @property
    def n_params(self) -> int:
        return int(self.deviations.shape[1])

    @property
    def rank(self) -> int:
        return int(self.factors.shape[2])

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first inconsistent field."""
        G, F = self.deviations, self.factors
        if G.ndim != 2 or G.shape[0] < 1 or G.shape[1] < 1:
            raise ValueError(f"deviations: expected an (N, P) array, got shape {G.shape}")
        if F.ndim != 3 or F.shape[:2] != G.shape:
            raise ValueError(f"factors: expected shape ({G.shape[0]}, {G.shape[1]}, r), got "
                             f"{F.shape}")
        P = G.shape[1]
        if self.w_star.shape != (P,):
            raise ValueError(f"w_star: expected {P} values, got shape {self.w_star.shape}")
        if self.remainder is not None and self.remainder.shape != (P, P):
            raise ValueError(f"remainder: expected shape ({P}, {P}), got {self.remainder.shape}")
        for name in ("deviations", "factors", "w_star", "remainder"):
            a = getattr(self, name)
            if a is not None and not np.all(np.isfinite(a)):
                raise ValueError(f"{name}: contains NaN or inf")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay={self.weight_decay!r}: must be >= 0")
        if not self.lrs or any(not (math.isfinite(v) and v > 0) for v in self.lrs):
            raise ValueError(f"lrs={list(self.lrs)}: must be positive numbers (at least one)")
        if not self.batch_sizes or any(b < 1 for b in self.batch_sizes):
            raise ValueError(f"batch_sizes={list(self.batch_sizes)}: must be positive integers "
                             "(at least one)")
        if not isinstance(self.weights_sha256, str) or len(self.weights_sha256) != 64:
            raise ValueError(f"weights_sha256={self.weights_sha256!r}: must be a sha256 hex "
                             "digest")

    # ---------------------------------------------------------------- checks
    def check_lr(self, lr: float) -> float:
        """``lr`` if it is one of the measured ``lrs``, else a one-line ValueError."""
        _grid_value(lr, self.lrs, "lr")
        return float(lr)

    def check_batch_size(self, batch_size: int) -> int:
        _grid_value(batch_size, tuple(float(b) for b in self.batch_sizes), "batch_size")
        return int(batch_size)

    def check_weights(self, sha256: str, what: str = "weights") -> None:
        """Refuse a network whose weights checksum differs from the profile's."""
        if sha256 != self.weights_sha256:
            raise ValueError(f"{what}: sha256 {sha256[:16]}... does not match the profile's "
                             f"weights_sha256 {self.weights_sha256[:16]}...")

    def check_data(self, checksum: str) -> None:
        if self.dataset_checksum and checksum != self.dataset_checksum:
            raise ValueError(f"dataset: checksum {checksum[:16]}... does not match the "
                             f"profile's dataset_checksum {self.dataset_checksum[:16]}...")

    # ---------------------------------------------------------------- levydyn
    def reachable(self, remainder: bool = False):
        """The reachable subspace of the recursion from ``w*``
        (:func:`levydyn.kesten.reachable_subspace`), computed once per model: it does not
        depend on the batch size (:meth:`ReachableSubspace.at_batch_size`) or the lr."""
        cache = self.__dict__.setdefault("_reachable", {})
        if remainder not in cache:
            from levydyn.kesten import reachable_subspace

            cache[remainder] = reachable_subspace(self.law(self.batch_sizes[0],
                                                           remainder=remainder))
        return cache[remainder]

    def law(self, batch_size: int, *, remainder: bool = False):
        """The ``levydyn.kesten.EmpiricalMinibatch`` law at ``batch_size`` (in the grid).

        ``remainder=False`` (default): Gauss-Newton factors only; ``True`` adds the dense
        shared ``R`` (exact ``E H_B``) at ``O(P^2)`` per step instead of ``O(B r P)`` -- for
        the ReLU MLPs of the study ``R`` has a zero diagonal and ~6 % of ``||H||_F``, and
        ``lambda_1`` moves by less than its CI (``levydyn nn stability --remainder``)."""
        from levydyn.kesten import EmpiricalMinibatch

        B = self.check_batch_size(batch_size)
        return EmpiricalMinibatch(self.deviations, self.factors, B, True,
                                  self.remainder if remainder else None, self.weight_decay)

    def mean_hessian(self, remainder: bool = True) -> np.ndarray:
        """``E H_B`` (P x P): ``(1/N) sum F_n F_n^T + R + wd I`` (``R`` left out if not
        ``remainder``)."""
        from nn_bridge.curvature.per_sample import gn_mean

        H = gn_mean(self.factors)
        if remainder and self.remainder is not None:
            H = H + self.remainder
        return H + self.weight_decay * np.eye(self.n_params)

    def layer_of(self) -> np.ndarray:
        """Per flat coordinate, the index of its module (``fc1``, ...) in :meth:`module_names`."""
        names = self.module_names()
        mod = [_module(n) for n in self.layer_names]
        sizes = [math.prod(s) for s in self.layer_shapes]
        return np.repeat(np.array([names.index(m) for m in mod], dtype=np.int64), sizes)

    def module_names(self) -> list[str]:
        out: list[str] = []
        for n in self.layer_names:
            if _module(n) not in out:
                out.append(_module(n))
        return out

    def metadata(self) -> dict:
        d = {"schema": SCHEMA,
             "model_of_sgd": "x' = (I - lr H_B) x - lr u_B; H_B = (1/B) sum F_n F_n^T + R + "
                             "wd I, u_B = (1/B) sum G_n; B i.i.d. uniform with replacement",
             "n_samples": self.n_samples, "n_params": self.n_params, "rank": self.rank}
        for k in _META:
            v = getattr(self, k)
            d[k] = [list(s) for s in v] if k == "layer_shapes" else \
                list(v) if isinstance(v, tuple) else v
        return d


def _module(param_name: str) -> str:
    parts = param_name.split(".")
    return parts[-2] if len(parts) >= 2 else param_name


def save_minibatch_model(model: MinibatchModel, path: str | Path) -> Path:
    """Write ``model`` atomically as ``.npz`` (arrays native, metadata JSON)."""
    p = Path(path)
    if p.suffix.lower() != ".npz":
        raise ValueError(f"path={str(p)!r}: minibatch-model profiles must end in .npz")
    arrays = {k: getattr(model, k) for k in _ARRAYS if getattr(model, k) is not None}
    meta = json.dumps(json_safe(model.metadata()), allow_nan=False)
    return atomic_save_npz(p, metadata=np.array(meta), **arrays)


def load_minibatch_model(path: str | Path) -> MinibatchModel:
    """Read a file written by :func:`save_minibatch_model` and validate it."""
    p = Path(path)
    arrays, meta = read_npz_meta(p, "metadata", "minibatch-model profile")
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        got = meta.get("schema") if isinstance(meta, dict) else None
        raise ValueError(f"schema={got!r}: expected {SCHEMA!r} in {str(p)!r}")
    for k in ("deviations", "factors", "w_star"):
        if k not in arrays:
            raise ValueError(f"{k}: missing from minibatch-model profile {str(p)!r}")
    missing = [k for k in ("weight_decay", "lrs", "batch_sizes", "weights_sha256")
               if k not in meta]
    if missing:
        raise ValueError(f"{missing[0]}: missing from minibatch-model profile {str(p)!r}")
    kw = {k: meta[k] for k in _META if k in meta}
    return MinibatchModel(arrays["deviations"], arrays["factors"], arrays.get("remainder"),
                          arrays["w_star"], **kw)


def check_weights(model: MinibatchModel, weights: str | Path) -> None:
    """Raise ``ValueError`` unless the trained weights file ``weights`` (``levydyn nn
    train``) is the network ``model`` was measured on (sha256 of the weights)."""
    from nn_bridge.data.models import weights_checksum
    from nn_bridge.training.train import load_weights

    net, _ = load_weights(weights)
    want = model.extra.get("trained_weights_sha256") or model.weights_sha256
    got = weights_checksum(net)
    if got != want:
        raise ValueError(f"weights={str(weights)!r}: sha256 {got[:16]}... does not match the "
                         f"profile's weights ({want[:16]}...)")
