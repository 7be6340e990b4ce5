"""Sample paths for pictures: the Euler solver's paths, recorded.

:func:`record_paths` runs exactly the Euler-Maruyama step of
:mod:`levydyn.solvers.euler` (same stiff-drift sub-steps, same integrated noise scale,
same Brownian-bridge test on alpha = 2 axes of a box) on the same per-path random streams
``stream_key(seed, i)``, and stores the position every ``stride`` steps. Path ``i`` here
is therefore path ``i`` of ``simulate(problem, method="euler", seed=seed)``: it exits at
the same time, through the same face (tested). That makes a picture honest -- the paths
drawn are members of the ensemble whose statistics the table reports.

Recording is meant for a handful of paths; the kernel is serial and keeps
``max_points`` positions per path (the stride grows with the horizon so that memory stays
bounded; a large jump stays visible as a step because the landing point relaxes over
``1 / curvature`` time units, and the exit point itself is always stored).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from levydyn.domains import WellPartition
from levydyn.noise import check_seed, stream_key
from levydyn.problem import Problem
from levydyn.solvers.euler import (BLOCK, BRIDGE_BASE, DOMAIN_BOX, _drift_flow, _fill_noise,
                                   _noise_scales, check_exit)


@nb.njit
def _record_kernel(grad, gparams, x0, alpha, eps, base_scale, kind, gamma, t0, ms, vs,
                   monitor, dkind, lower, upper, center, radius, bridge, length, dt,
                   n_steps, seed, path_offset, stride, xs, n_rec, exit_step, exit_axis, exit_side):
    """Serial copy of ``euler.escape_kernel`` (``monitor=True``; the same noise blocks,
    counters and ``check_exit``) or ``euler.wells_kernel`` (``monitor=False``: run to the
    horizon) recording every ``stride``-th state. Kept in step with the solver by
    ``tests/test_trajectories.py`` (bit-identical exit times and points)."""
    n = xs.shape[0]
    d = x0.shape[0]
    bridge_mask = np.zeros(d, dtype=np.bool_)
    for l in range(d):
        bridge_mask[l] = bridge and alpha[l] == 2.0 and dkind == DOMAIN_BOX
    for i in range(n):
        key = stream_key(seed, path_offset + i)
        x = x0.copy()
        g = np.empty(d)
        xprev = np.empty(d)
        scale = np.empty(d)
        zbuf = np.empty((BLOCK, d))
        for l in range(d):
            xs[i, 0, l] = x[l]
        r = 1
        hit = -1
        hit_side = 0
        k_stop = n_steps
        for k in range(n_steps):
            j = k % BLOCK
            if j == 0:
                _fill_noise(zbuf, alpha, key, k)
            t = k * dt
            _noise_scales(scale, base_scale, eps, alpha, kind, gamma, t0, ms, vs, t, dt)
            for l in range(d):
                xprev[l] = x[l]
            _drift_flow(grad, gparams, x, g, dt, length)
            for l in range(d):
                x[l] += scale[l] * zbuf[j, l]
            if monitor:
                hit, hit_side, _ = check_exit(dkind, lower, upper, center, radius, x, xprev,
                                              scale, bridge_mask, key, BRIDGE_BASE + k * d)
                if hit >= 0:
                    k_stop = k + 1
                    break
            elif not math.isfinite(x[0]):
                k_stop = k + 1
                break
            if (k + 1) % stride == 0 and r < xs.shape[1] - 1:
                for l in range(d):
                    xs[i, r, l] = x[l]
                r += 1
        # the last state (exit point, or the state at the horizon) is always kept
        for l in range(d):
            xs[i, r, l] = x[l]
        n_rec[i] = r + 1
        exit_step[i] = k_stop
        exit_axis[i] = hit
        exit_side[i] = hit_side


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


def record_paths(problem: Problem, n_paths: int = 5, dt: float = 1e-2, t_max: float = 100.0,
                 seed: int = 0, *, path_offset: int = 0, max_points: int = 20_000,
                 bridge: bool = True) -> Trajectories:
    """Record ``n_paths`` Euler paths of ``problem`` (paths ``path_offset, ...`` of ``seed``).

    Parameters
    ----------
    problem : a :class:`~levydyn.problem.Problem` with a Box or Ball (paths stop at the
        exit, as in :func:`levydyn.simulate`) or a WellPartition (paths run to ``t_max``).
    n_paths : number of paths to record (serial kernel: keep it small).
    dt, t_max, seed : as in :func:`levydyn.simulate` with ``method="euler"``; the same
        values give the same paths.
    path_offset : record paths ``path_offset .. path_offset + n_paths - 1``.
    max_points : states stored per path (the stride is ``ceil(t_max / dt / max_points)``).
    bridge : Brownian-bridge exit test on alpha = 2 axes (keep the solver's default).
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a levydyn Problem, got problem={problem!r}")
    for name, v in (("n_paths", n_paths), ("max_points", max_points)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {name}={v!r}")
    if isinstance(path_offset, bool) or not isinstance(path_offset, (int, np.integer)) or path_offset < 0:
        raise ValueError(f"path_offset must be a non-negative integer, got path_offset={path_offset!r}")
    for name, v in (("dt", dt), ("t_max", t_max)):
        if not (isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number, got {name}={v!r}")
    if dt > t_max:
        raise ValueError(f"dt must not exceed t_max, got dt={dt} t_max={t_max}")
    seed = check_seed(seed)
    n_steps = int(math.ceil(t_max / dt - 1e-9))
    stride = max(1, -(-n_steps // int(max_points)))
    n_pts = n_steps // stride + 2
    pot, dom = problem.potential, problem.domain
    kind, gamma, t0, ms, vs = problem.schedule.encode()
    alpha, eps = problem.alpha, problem.eps
    base_scale = eps * dt ** (1.0 / alpha)
    length = max(pot.length_scale, dom.length_scale)
    d = problem.dim
    empty = np.zeros(0)
    if isinstance(dom, WellPartition):
        monitor, args = False, (0, empty, empty, empty, 0.0)
    else:
        from levydyn.simulate import _domain_args     # the solver's own encoding of the domain

        monitor, args = True, _domain_args(dom)
    xs = np.full((n_paths, n_pts, d), np.nan)
    n_rec = np.zeros(n_paths, dtype=np.int64)
    k_stop = np.zeros(n_paths, dtype=np.int64)
    axis = np.zeros(n_paths, dtype=np.int64)
    side = np.zeros(n_paths, dtype=np.int64)
    _record_kernel(pot.grad_kernel, pot.params, problem.x0, alpha, eps, base_scale, kind, gamma,
                   t0, ms, vs, monitor, *args, bool(bridge), length, float(dt),
                   n_steps, seed, int(path_offset), stride, xs, n_rec, k_stop, axis, side)
    t = np.full((n_paths, n_pts), np.nan)
    for i in range(n_paths):
        m = int(n_rec[i])
        t[i, :m - 1] = np.arange(m - 1) * stride * dt
        t[i, m - 1] = k_stop[i] * dt
        if m >= 2 and t[i, m - 2] == t[i, m - 1]:      # horizon fell on a stride point
            t[i, m - 2] = np.nan
            xs[i, m - 2] = np.nan
    exited = (axis >= 0) if monitor else np.zeros(n_paths, dtype=bool)
    return Trajectories(t, xs, exited, k_stop * dt, np.where(exited, axis, -1),
                        np.where(exited, side, 0), float(dt), seed)


__all__ = ["Trajectories", "record_paths"]
