"""The Problem: what is simulated (potential, noise, schedule, domain, start point).

    dX^l_t = -d_l U(X_t) dt + eps_l s_t^((alpha_l - 1)/alpha_l) dL^l_t,   l = 1..N,

with independent SaS(1) Levy processes ``L^l`` of tail index ``alpha_l`` in (0, 2]
(``alpha_l = 2``: Brownian motion with ``E (L_t)^2 = 2t``), learning-rate schedule
``s_t`` and noise levels ``eps_l > 0`` (paper 004, eq. 3 with one-hot directions;
paper 000, eq. 9 when N = 1 and s = 1).

All validation of user input happens here (and in the component constructors), so a bad
value fails once, with one line naming the field and the value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from levydyn.domains import Ball, Box, WellPartition
from levydyn.noise_laws import Noise, StableNoise
from levydyn.potentials import Potential
from levydyn.schedules import Constant, Schedule


def check_positive(name: str, value) -> float:
    """``value`` as a positive finite float, or a one-line ValueError naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {name}={value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive finite number, got {name}={value!r}")
    return v


def _per_axis(name: str, value, dim: int) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.ndim != 1 or arr.size not in (1, dim):
        raise ValueError(f"{name} must be a number or have one entry per axis ({dim}), "
                         f"got {name}={np.asarray(value).tolist()!r}")
    return np.broadcast_to(arr, (dim,)).copy()


@dataclass(frozen=True, eq=False)
class Problem:
    """An SDE, an exit set (or well partition) and a start point.

    Parameters
    ----------
    potential : a :mod:`levydyn.potentials` object (gradient compiled with numba).
    alpha : tail index per axis (scalar broadcasts), each in (0, 2]: shorthand for
        ``noise=StableNoise(alpha, eps)``.
    eps : noise level per axis (scalar broadcasts), each > 0 and finite.
    domain : :class:`~levydyn.domains.Box` or :class:`~levydyn.domains.Ball` (first exit) or
        :class:`~levydyn.domains.WellPartition` (transitions between wells).
    schedule : :mod:`levydyn.schedules` object, default constant.
    x0 : start point, default the potential's minimum; must lie inside a Box.
    noise : a :mod:`levydyn.noise_laws` law (``StableNoise``, ``TruncatedStable``,
        ``TemperedStable``, ``EmpiricalNoise``) instead of ``alpha`` and ``eps``. After
        construction ``noise`` is always set (per axis), and ``alpha`` / ``eps`` are its
        stable index and level (``alpha`` is ``None`` for a law without one).
    """

    potential: Potential
    alpha: object = None
    eps: object = None
    domain: object = None
    schedule: Schedule = field(default_factory=Constant)
    x0: object = None
    noise: Noise = None

    def __post_init__(self):
        if not isinstance(self.potential, Potential):
            raise ValueError(f"potential must be a levydyn potential, got potential={self.potential!r}")
        dim = self.potential.dim
        if self.noise is None:
            if self.alpha is None or self.eps is None:
                raise ValueError("give alpha and eps, or noise=, got "
                                 f"alpha={self.alpha!r} eps={self.eps!r}")
            noise = StableNoise(_per_axis("alpha", self.alpha, dim), _per_axis("eps", self.eps, dim))
        elif not isinstance(self.noise, Noise):
            raise ValueError(f"noise must be a levydyn noise law, got noise={self.noise!r}")
        elif self.alpha is not None or self.eps is not None:
            raise ValueError("give either noise= or alpha and eps, not both")
        else:
            noise = self.noise.broadcast(dim)
        if not isinstance(self.schedule, Schedule):
            raise ValueError(f"schedule must be a levydyn schedule, got schedule={self.schedule!r}")
        if self.domain is None or not isinstance(self.domain, (Box, Ball, WellPartition)):
            raise ValueError(f"domain must be a Box, Ball or WellPartition, got domain={self.domain!r}")
        if self.domain.dim != dim:
            raise ValueError(f"domain has {self.domain.dim} dimensions but the potential has {dim}")
        x0 = self.potential.minimum if self.x0 is None else self.x0
        x0 = np.atleast_1d(np.asarray(x0, dtype=float))
        if x0.shape != (dim,) or not np.all(np.isfinite(x0)):
            raise ValueError(f"x0 must be {dim} finite numbers, got x0={x0.tolist()!r}")
        if isinstance(self.domain, (Box, Ball)) and not self.domain.contains(x0):
            raise ValueError(f"x0={x0.tolist()} is not inside the domain {self.domain.describe()}")
        object.__setattr__(self, "noise", noise)
        object.__setattr__(self, "alpha", getattr(noise, "alpha", None))
        object.__setattr__(self, "eps", noise.eps)
        object.__setattr__(self, "x0", x0)

    @property
    def dim(self) -> int:
        return self.potential.dim

    @property
    def is_transition(self) -> bool:
        return isinstance(self.domain, WellPartition)

    def describe(self) -> dict:
        """A JSON-friendly summary of the problem."""
        d = {
            "potential": type(self.potential).__name__,
            "dim": self.dim,
            "alpha": None if self.alpha is None else self.alpha.tolist(),
            "eps": self.eps.tolist(),
            "noise": self.noise.describe(),
            "schedule": str(self.schedule),
            "x0": self.x0.tolist(),
        }
        d["domain"] = self.domain.describe()
        return d
