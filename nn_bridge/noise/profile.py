"""Noise profile: the per-parameter (alpha_i, sigma_i) of a trained network, on disk.

The hand-off from ``nn_bridge`` to the simulator. One profile is one network at fixed
weights and one minibatch size. Fields:

- ``alpha[i], sigma[i]``: tail index and SaS scale of parameter ``i``'s gradient noise,
  SaS(1) normalisation (``E exp(iwZ) = exp(-|w|^alpha)``; ``u_i = sigma_i Z``; at alpha
  = 2 the standard deviation is ``sqrt(2) sigma_i``). NaN for degenerate parameters
  (point-mass noise) and undetermined estimates.
- ``layer_names``, ``layer_shapes``: the model's parameter tensors in flat order.
- ``lr``, ``batch_size``, ``dataset``, ``model`` (its ``ModelSpec``), ``weights_sha256``,
  ``n_minibatches``, ``sampling``, ``estimator``, ``seed``.

Time: an SGD iteration with learning rate ``lr`` is ``dt = lr`` of SDE time. The SGD
step ``-lr (grad U + u)`` equals an Euler step of ``dX = -grad U dt + eps dL`` with
``L`` a SaS(1) Levy process (increment ``dt^(1/alpha) Z``) when
``eps_i = lr^(1 - 1/alpha_i) sigma_i``; ``NoiseProfile.sde_eps()`` returns it.

Formats: ``.json`` (arrays as lists, NaN as null) or ``.npz`` (arrays native, metadata
as a JSON string); both written atomically and read back by ``load_profile``, which
validates them.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nn_bridge.training.checkpoint import json_safe, atomic_save_npz, atomic_write_json

__all__ = ["SCHEMA", "NoiseProfile", "save_profile", "save_profiles", "load_profile"]

SCHEMA = "levydyn.noise_profile/1"
NORMALISATION = "SaS(1): E exp(i w Z) = exp(-|w|^alpha); noise u_i = sigma_i Z"
TIME_NOTE = "one SGD iteration = dt = lr of SDE time"
_META = ("layer_names", "layer_shapes", "lr", "batch_size", "dataset", "model",
         "weights_sha256", "n_minibatches", "sampling", "estimator", "seed",
         "dataset_checksum", "extra")


@dataclass
class NoiseProfile:
    """Per-parameter gradient-noise law of a trained network (see module docstring)."""

    alpha: np.ndarray
    sigma: np.ndarray
    layer_names: tuple[str, ...]
    layer_shapes: tuple[tuple[int, ...], ...]
    lr: float
    batch_size: int
    dataset: str
    model: dict
    weights_sha256: str
    n_minibatches: int
    sampling: str
    estimator: str
    seed: int = 0
    dataset_checksum: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.alpha = np.asarray(self.alpha, dtype=float)
        self.sigma = np.asarray(self.sigma, dtype=float)
        self.layer_names = tuple(self.layer_names)
        self.layer_shapes = tuple(tuple(int(v) for v in s) for s in self.layer_shapes)
        self.validate()

    @property
    def n_params(self) -> int:
        return int(self.alpha.size)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first inconsistent field."""
        if self.alpha.ndim != 1 or self.sigma.shape != self.alpha.shape:
            raise ValueError(f"sigma: shape {self.sigma.shape} does not match alpha "
                             f"{self.alpha.shape} (both must be 1-D)")
        if len(self.layer_names) != len(self.layer_shapes):
            raise ValueError(f"layer_names: {len(self.layer_names)} names for "
                             f"{len(self.layer_shapes)} shapes")
        n = sum(math.prod(s) for s in self.layer_shapes)
        if n != self.alpha.size:
            raise ValueError(f"layer_shapes: cover {n} parameters but alpha has {self.alpha.size}")
        a = self.alpha[np.isfinite(self.alpha)]
        if a.size and (a.min() <= 0 or a.max() > 2):
            raise ValueError(f"alpha: values must lie in (0, 2], got range [{a.min()}, {a.max()}]")
        s = self.sigma[np.isfinite(self.sigma)]
        if s.size and s.min() < 0:
            raise ValueError(f"sigma: values must be >= 0, got {s.min()}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr={self.lr!r}: must be positive")
        if not (isinstance(self.batch_size, (int, np.integer)) and self.batch_size >= 1):
            raise ValueError(f"batch_size={self.batch_size!r}: must be a positive integer")

    def layer_index(self) -> np.ndarray:
        """Per parameter, the index of its tensor in ``layer_names``."""
        return np.repeat(np.arange(len(self.layer_names)),
                         [math.prod(s) for s in self.layer_shapes])

    def layer_slice(self, name: str) -> slice:
        if name not in self.layer_names:
            raise ValueError(f"layer={name!r}: not one of {', '.join(self.layer_names)}")
        sizes = [math.prod(s) for s in self.layer_shapes]
        k = self.layer_names.index(name)
        o = int(sum(sizes[:k]))
        return slice(o, o + sizes[k])

    def sde_eps(self) -> np.ndarray:
        """``eps_i = lr^(1 - 1/alpha_i) sigma_i``: SDE noise scale for ``dt = lr`` (module doc)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.lr ** (1.0 - 1.0 / self.alpha) * self.sigma

    def metadata(self) -> dict:
        d = {"schema": SCHEMA, "normalisation": NORMALISATION, "time": TIME_NOTE}
        for k in _META:
            v = getattr(self, k)
            d[k] = [list(s) for s in v] if k == "layer_shapes" else \
                list(v) if k == "layer_names" else v
        return d

    def to_dict(self) -> dict:
        return {**self.metadata(), "alpha": self.alpha, "sigma": self.sigma}


def save_profile(profile: NoiseProfile, path: str | Path) -> Path:
    """Write ``profile`` atomically as ``.json`` or ``.npz`` (chosen by the suffix)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        return atomic_write_json(p, profile.to_dict())
    if suffix == ".npz":
        meta = json.dumps(json_safe(profile.metadata()), allow_nan=False)
        return atomic_save_npz(p, alpha=profile.alpha, sigma=profile.sigma,
                               metadata=np.array(meta))
    raise ValueError(f"path={str(p)!r}: profile files must end in .json or .npz")


def save_profiles(profiles: dict, path: str | Path) -> list[Path]:
    """One profile per batch size: ``{B: profile}`` written as ``PATH_b<B>.<ext>``."""
    p = Path(path)
    return [save_profile(prof, p.with_name(f"{p.stem}_b{B}{p.suffix}"))
            for B, prof in profiles.items()]


def load_profile(path: str | Path) -> NoiseProfile:
    """Read a profile written by ``save_profile`` and validate it."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"path={str(p)!r}: profile file not found")
    if p.suffix.lower() not in (".json", ".npz"):
        raise ValueError(f"path={str(p)!r}: profile files must end in .json or .npz")
    try:
        if p.suffix.lower() == ".json":
            d = json.loads(p.read_text())
            arrays = {k: d.get(k) for k in ("alpha", "sigma")}
        else:
            with np.load(p, allow_pickle=False) as z:
                d = json.loads(str(z["metadata"]))
                arrays = {k: z[k] if k in z.files else None for k in ("alpha", "sigma")}
    except (KeyError, ValueError, OSError) as exc:
        raise ValueError(f"path={str(p)!r}: not a noise profile ({exc})") from None
    if not isinstance(d, dict) or d.get("schema") != SCHEMA:
        got = d.get("schema") if isinstance(d, dict) else None
        raise ValueError(f"schema={got!r}: expected {SCHEMA!r} in {str(p)!r}")
    for k, v in arrays.items():
        if v is None:
            raise ValueError(f"{k}: missing from profile {str(p)!r}")
    alpha, sigma = (np.array([np.nan if v is None else v for v in arrays[k]], dtype=float)
                    for k in ("alpha", "sigma"))
    kw = {k: d[k] for k in _META if k in d}
    missing = [k for k in _META if k not in d and k not in ("seed", "dataset_checksum", "extra")]
    if missing:
        raise ValueError(f"{missing[0]}: missing from profile {str(p)!r}")
    return NoiseProfile(alpha=alpha, sigma=sigma, **kw)
