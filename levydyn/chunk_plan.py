"""How many paths each kernel call of :func:`levydyn.simulate` runs.

A compiled kernel cannot be interrupted: Python sees Ctrl-C only when the call returns,
so the wall time of one call is the delay between Ctrl-C and the run stopping with its
finished paths. :class:`ChunkPlan` keeps every call near ``CHUNK_SECONDS`` of wall time:
the first call runs a few paths, each later call is sized from the paths per second the
previous call achieved (``size = rate * target``), growing at most ``growth`` times per
call (exit times are heavy-tailed, so a small chunk's rate is a noisy estimate) and never
beyond ``cap`` (the caller's memory bound). The path ``i`` of a run draws from the
counter-based stream ``(seed, i)`` whatever chunk it falls in, so the plan changes how long
a call takes, never a result.
"""
from __future__ import annotations

import math

CHUNK_SECONDS = 0.5
"""Target wall time of one kernel call: Ctrl-C is noticed within about this long."""


class ChunkPlan:
    """Successive chunk sizes for ``n_paths`` paths: ``size(remaining)`` gives the next one,
    ``record(n, seconds)`` reports how long the call for ``n`` paths took.

    Parameters
    ----------
    cap : largest chunk (paths); the first chunk is ``min(cap, first)``.
    target : wall seconds one call should take.
    first : paths in the first call (the number of kernel threads keeps them all busy).
    growth : a chunk is at most ``growth`` times the previous one.
    """

    def __init__(self, cap: int, target: float = CHUNK_SECONDS, first: int = 1,
                 growth: float = 4.0):
        if not (isinstance(cap, int) and cap >= 1):
            raise ValueError(f"chunk cap must be a positive integer, got cap={cap!r}")
        if not (target > 0 and math.isfinite(target)):
            raise ValueError(f"chunk target must be a positive number of seconds, got "
                             f"target={target!r}")
        self.cap, self.target, self.growth = cap, float(target), float(growth)
        self._next = max(1, min(cap, int(first)))

    def size(self, remaining: int) -> int:
        """Paths in the next call (at least 1, at most ``remaining``)."""
        return max(1, min(self._next, remaining))

    def record(self, n: int, seconds: float) -> None:
        """The call for ``n`` paths took ``seconds`` of wall time: plan the next one."""
        limit = min(self.cap, max(1, int(self.growth * n)))
        if seconds > 0:
            self._next = max(1, min(limit, int(n / seconds * self.target)))
        else:                                   # below the clock's resolution
            self._next = limit
