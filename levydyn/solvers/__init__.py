"""Solvers: *how* a Problem is simulated. Each is a settings dataclass here plus numba
kernels in its own module; :func:`levydyn.simulate` is the one entry point."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Euler:
    """Euler-Maruyama with stiff-drift control (:mod:`levydyn.solvers.euler`).

    bridge : add the Brownian-bridge crossing probability on alpha = 2 axes of a box.
    """

    bridge: bool = True
    name = "euler"


@dataclass(frozen=True)
class JumpAdapted:
    """Jump-adapted small-noise scheme (:mod:`levydyn.solvers.jump_adapted`), box exits.

    delta : large-jump threshold as a fraction of the distance from the attractor to the
        nearer face on each axis (in (0, 1]).
    relax : the path counts as relaxed when every axis is within ``relax * delta_l`` of
        the attractor.
    window : re-equilibration window before each large jump, in units of the slowest
        relaxation time ``1 / h_min``.
    bridge : Brownian-bridge crossing correction for the diffusive part.
    """

    delta: float = 0.5
    relax: float = 0.2
    window: float = 6.0
    bridge: bool = True
    name = "jump_adapted"

    def __post_init__(self):
        for field, lo, hi in (("delta", 0.0, 1.0), ("relax", 0.0, 1.0)):
            v = float(getattr(self, field))
            if not (lo < v <= hi):
                raise ValueError(f"jump_adapted {field} must lie in (0, 1], got {field}={v!r}")
        w = float(self.window)
        if not (math.isfinite(w) and w > 0):
            raise ValueError(f"jump_adapted window must be positive, got window={w!r}")


METHODS = {"euler": Euler, "jump_adapted": JumpAdapted}


def resolve_method(method):
    """A method object from a name (``"euler"``, ``"jump_adapted"``) or an instance."""
    if isinstance(method, (Euler, JumpAdapted)):
        return method
    if isinstance(method, str) and method in METHODS:
        return METHODS[method]()
    raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
