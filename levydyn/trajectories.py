"""Sample paths: a recording option of the one Euler loop.

``simulate(problem, ..., record=Recording(n_paths, max_points))`` (or ``record=5``) stores
every ``stride``-th state of the first paths of the ensemble, in the same kernel and on
the same per-path streams as the statistics: path ``i`` of the recording *is* path ``i``
of the result, so the paths drawn in a picture are members of the ensemble whose
statistics the table reports. :func:`levydyn.simulate.record_paths` is the short form for
pictures.

Memory stays bounded: ``max_points`` states per path (the stride grows with the horizon;
a large jump stays visible as a step because the landing point relaxes over
``1 / curvature`` time units), and the last state (exit point, or the state at the
horizon) is always stored.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from levydyn.solvers.euler import STATUS_EXITED



@dataclass(frozen=True)
class Recording:
    """Record the first ``n_paths`` paths, at most ``max_points`` states each."""

    n_paths: int = 5
    max_points: int = 20_000

    def __post_init__(self):
        for name in ("n_paths", "max_points"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (name == "max_points"):
                raise ValueError(f"record {name} must be a non-negative integer, got {name}={v!r}")

    @classmethod
    def of(cls, record, n_paths: int, n_steps: int) -> "Recording":
        """``record`` as given to :func:`levydyn.simulate` (None, a count or a Recording),
        capped at the ensemble's size."""
        if record is None:
            return cls(0)
        if not isinstance(record, Recording):
            if isinstance(record, bool) or not isinstance(record, (int, np.integer)) or record < 0:
                raise ValueError(f"record must be a number of paths or a Recording, got record={record!r}")
            record = cls(int(record))
        return cls(min(record.n_paths, n_paths), record.max_points)

    def stride(self, n_steps: int) -> int:
        return max(1, -(-n_steps // self.max_points)) if self.n_paths else 0

    def n_points(self, n_steps: int) -> int:
        return n_steps // self.stride(n_steps) + 2 if self.n_paths else 0

    def trajectories(self, xs, n_rec, out, n_done: int, n_steps: int, dt: float, seed: int,
                     monitor: bool) -> "Trajectories":
        """The recorded states as :class:`Trajectories` (times on the recording grid; the
        last state at the path's stop time)."""
        xs = xs[:n_done]
        times, status, axis, side = (a[:n_done] for a in out[:4])
        stride = self.stride(n_steps)
        t = np.full(xs.shape[:2], np.nan)
        for i in range(n_done):
            m = int(n_rec[i])
            t[i, :m - 1] = np.arange(m - 1) * stride * dt
            t[i, m - 1] = times[i]
            if m >= 2 and t[i, m - 2] == t[i, m - 1]:      # horizon fell on a stride point
                t[i, m - 2] = np.nan
                xs[i, m - 2] = np.nan
        exited = (status == STATUS_EXITED) if monitor else np.zeros(n_done, dtype=bool)
        return Trajectories(t, xs, exited, times.copy(), np.where(exited, axis, -1),
                            np.where(exited, side, 0), float(dt), seed)


@dataclass
class Trajectories:
    """Recorded sample paths.

    Attributes
    ----------
    t : ``(n_paths, n_points)`` times of the recorded states (NaN past a path's end).
    x : ``(n_paths, n_points, dim)`` states (NaN past a path's end). The last valid
        point of a path is its exit point (box) or its state at the horizon.
    exited : whether each path left the box (always False for a well partition).
    stop_time : exit time (grid time, as in :class:`~levydyn.results.EscapeResult`)
        or the horizon.
    axis, side : exit axis and side (``-1`` / ``0`` when the path did not exit).
    """

    t: np.ndarray
    x: np.ndarray
    exited: np.ndarray
    stop_time: np.ndarray
    axis: np.ndarray
    side: np.ndarray
    dt: float
    seed: int

    @property
    def n_paths(self) -> int:
        return int(self.t.shape[0])

    def path(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(t, x)`` of path ``i`` without the NaN padding."""
        ok = np.isfinite(self.t[i])
        return self.t[i, ok], self.x[i, ok]

    def to_dict(self, max_points: int = 1000) -> dict:
        """JSON-friendly paths, thinned to at most ``max_points`` states each (the exit
        point is kept): ``{"paths": [{"t", "x", "exited", "stop_time", "axis", "side"}]}``."""
        out = []
        for i in range(self.n_paths):
            t, x = self.path(i)
            keep = np.unique(np.r_[np.linspace(0, t.size - 1, min(t.size, max_points)).astype(int),
                                   t.size - 1])
            out.append({"t": t[keep].tolist(), "x": x[keep].tolist(),
                        "exited": bool(self.exited[i]), "stop_time": float(self.stop_time[i]),
                        "axis": int(self.axis[i]), "side": int(self.side[i])})
        return {"dt": self.dt, "seed": self.seed, "paths": out}


__all__ = ["Recording", "Trajectories"]
