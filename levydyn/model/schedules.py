"""Learning-rate schedules s_t and the exact integrated noise scale over a step.

The SDE (paper 004, eq. 3, one-hot noise directions) is

    dX^l = -d_l U(X) dt + eps_l s_t^((alpha_l - 1)/alpha_l) dL^l_t .

Because ``L^l`` is alpha-stable with independent increments, the noise added over
``[t, t + dt]`` is exactly (in law, for deterministic ``s``)

    eps_l (int_t^{t+dt} s_u^(alpha_l - 1) du)^(1/alpha_l) Z,   Z ~ SaS(1),

which is what the solvers use (never the left-point value ``s_t``).

Each schedule is encoded for the numba kernels as ``(kind, params, milestones,
values)`` and integrated by :func:`integrated_scale_power`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from levydyn.model.validation import NONNEGATIVE, POSITIVE, as_float, as_vector, half_open, reject

KIND_CONSTANT = 0
KIND_POWER = 1
KIND_MULTISTEP = 2


@nb.njit(cache=True)
def integrated_scale_power(kind, gamma, t0, milestones, values, alpha, a, b):
    """``int_a^b s_u^(alpha - 1) du`` for the encoded schedule (exact)."""
    if kind == KIND_CONSTANT or alpha == 1.0:
        return b - a
    if kind == KIND_POWER:
        p = (gamma - 1.0) * (alpha - 1.0) + 1.0      # exponent of the antiderivative
        if p == 0.0:
            return math.log((b + t0) / (a + t0))
        return ((b + t0) ** p - (a + t0) ** p) / p
    # multi-step: s = 1 on [0, T1), values[k] on [T_{k+1}, T_{k+2})
    total = 0.0
    lo = a
    level = 1.0
    for k in range(milestones.shape[0] + 1):
        hi = milestones[k] if k < milestones.shape[0] else math.inf
        if k > 0:
            level = values[k - 1]
        seg_lo = max(lo, milestones[k - 1] if k > 0 else 0.0)
        seg_hi = min(b, hi)
        if seg_hi > seg_lo:
            total += level ** (alpha - 1.0) * (seg_hi - seg_lo)
        if hi >= b:
            break
    return total


@nb.njit(cache=True)
def invert_integrated_scale_power(kind, gamma, t0, milestones, values, alpha, a, target):
    """The ``b >= a`` with ``int_a^b s_u^(alpha - 1) du = target`` (exact inverse of
    :func:`integrated_scale_power`; ``inf`` if the integral never reaches ``target``)."""
    if kind == KIND_CONSTANT or alpha == 1.0:
        return a + target
    if kind == KIND_POWER:
        p = (gamma - 1.0) * (alpha - 1.0) + 1.0      # > 0 for gamma in (0,1], alpha in (0,2]
        return ((a + t0) ** p + p * target) ** (1.0 / p) - t0
    rem = target
    lo = a
    for k in range(milestones.shape[0] + 1):
        hi = milestones[k] if k < milestones.shape[0] else math.inf
        if hi <= lo:
            continue
        level = 1.0 if k == 0 else values[k - 1]
        w = level ** (alpha - 1.0)
        cap = w * (hi - lo)
        if cap >= rem:
            return lo + rem / w
        rem -= cap
        lo = hi
    return math.inf


#: The exponent of :class:`Power`, gamma in (0, 1] (shared with levydyn.theory.schedules).
POWER_GAMMA = half_open(0.0, 1.0)

@dataclass(frozen=True)
class Schedule:
    """Base class: ``s_t`` and its encoding for the kernels."""

    def rate(self, t):
        """The learning-rate factor ``s_t``."""
        raise NotImplementedError

    def encode(self):
        """``(kind, gamma, t0, milestones, values)`` for the numba kernels."""
        raise NotImplementedError

    def integrated(self, alpha: float, a: float, b: float) -> float:
        """``int_a^b s_u^(alpha-1) du``."""
        kind, gamma, t0, ms, vs = self.encode()
        return integrated_scale_power(kind, gamma, t0, ms, vs, float(alpha), float(a), float(b))

    @property
    def is_constant(self) -> bool:
        return self.encode()[0] == KIND_CONSTANT


@dataclass(frozen=True)
class Constant(Schedule):
    """``s_t = 1``: the time-homogeneous SDE."""

    def rate(self, t):
        return np.ones_like(np.asarray(t, dtype=float))

    def encode(self):
        return KIND_CONSTANT, 1.0, 0.0, np.zeros(0), np.zeros(0)

    def __str__(self):
        return "constant"


@dataclass(frozen=True)
class Power(Schedule):
    """``s_t = (t + t0)^(gamma - 1)``, gamma in (0, 1]: the "exponential scheduler" of
    paper 004 (their ``s_t = t^(gamma-1)``, i.e. ``t0 = 0``).

    The integrated scale ``int s^(alpha-1)`` is finite near ``t = 0`` whenever
    ``(gamma - 1)(alpha - 1) > -1``, which holds for gamma in (0, 1], alpha in (0, 2].
    """

    gamma: float
    t0: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "gamma", as_float("gamma", self.gamma, POWER_GAMMA))
        object.__setattr__(self, "t0", as_float("t0", self.t0, NONNEGATIVE))

    def rate(self, t):
        return (np.asarray(t, dtype=float) + self.t0) ** (self.gamma - 1.0)

    def encode(self):
        return KIND_POWER, float(self.gamma), float(self.t0), np.zeros(0), np.zeros(0)

    def __str__(self):
        return f"power:{self.gamma:g}" + (f":{self.t0:g}" if self.t0 else "")


@dataclass(frozen=True)
class MultiStep(Schedule):
    """Piecewise-constant decay: ``s_t = 1`` on ``[0, T_1)``, ``values[k]`` on
    ``[T_{k+1}, T_{k+2})`` (paper 004's multi-step scheduler, ``s_t = gamma_p``).

    ``values`` are the levels themselves, not cumulative factors.
    """

    milestones: tuple = field(default_factory=tuple)
    values: tuple = field(default_factory=tuple)

    def __post_init__(self):
        ms = tuple(as_vector("milestones", self.milestones, None, POSITIVE, min_size=0).tolist())
        vs = tuple(as_vector("values", self.values, len(ms), POSITIVE, min_size=0).tolist())
        if any(b <= a for a, b in zip(ms, ms[1:])):
            raise reject("milestones", "be strictly increasing", ms)
        object.__setattr__(self, "milestones", ms)
        object.__setattr__(self, "values", vs)

    def rate(self, t):
        t = np.asarray(t, dtype=float)
        idx = np.searchsorted(np.asarray(self.milestones), t, side="right")
        levels = np.concatenate([[1.0], self.values])
        return levels[idx]

    def encode(self):
        return (KIND_MULTISTEP, 1.0, 0.0,
                np.asarray(self.milestones, dtype=float), np.asarray(self.values, dtype=float))

    def __str__(self):
        return ("multistep:" + ",".join(f"{m:g}" for m in self.milestones) + ":"
                + ",".join(f"{v:g}" for v in self.values))


SCHEDULE_FORMS = "constant, power:GAMMA[:T0] or multistep:T1,T2:F1,F2"


def parse_schedule(text: str) -> Schedule:
    """Parse ``constant``, ``power:GAMMA[:T0]`` or ``multistep:T1,T2:F1,F2``.

    Every part must be used: ``power:0.5:1:9`` (a third field) or ``multistep:1,,2:...``
    (an empty number) is an error, not silently shortened.
    """
    if not isinstance(text, str):
        raise reject("schedule", f"be a string: {SCHEDULE_FORMS}", text)
    head, *parts = text.strip().split(":")
    head = head.lower()
    if head == "constant" and not parts:
        return Constant()
    if head == "power" and len(parts) in (1, 2):
        nums = [_number("schedule", p, text) for p in parts]
        return Power(*nums)
    if head == "multistep" and len(parts) == 2:
        ms = [_number("schedule", p, text) for p in parts[0].split(",")]
        vs = [_number("schedule", p, text) for p in parts[1].split(",")]
        return MultiStep(tuple(ms), tuple(vs))
    err = reject("schedule", f"be one of {SCHEDULE_FORMS}", text)
    raise ValueError(f"unknown schedule {text!r}: {err}")


def _number(field: str, part: str, whole: str) -> float:
    try:
        return float(part)
    except ValueError:
        raise reject(field, f"contain numbers where numbers go ({part!r} is not one): "
                     f"{SCHEDULE_FORMS}", whole) from None
