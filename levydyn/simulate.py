"""``simulate(problem, ...)``: the one entry point from a Problem to a Result."""
from __future__ import annotations

import time
import warnings
from typing import Callable

import numba
import numpy as np

from levydyn import chunk_plan
from levydyn.chunk_plan import ChunkPlan
from levydyn.model.domains import Ball, Box
from levydyn.model.noise import c_alpha, check_seed
from levydyn.run_limits import check_run
from levydyn.model.validation import as_int, reject
from levydyn.model.problem import Problem
from levydyn.results import EscapeResult, TransitionResult
from levydyn.solvers import Euler, JumpAdapted, euler, jump_adapted
from levydyn.solvers.encoding import domain_args, kernel_inputs
from levydyn.trajectories import Recording, Trajectories


def simulate(problem: Problem, n_paths: int = 1000, dt: float = 1e-2, t_max: float = 1e4,
             seed: int = 0, method="euler", *, max_visits: int = 512, chunk: int | None = None,
             progress: Callable[[int, int], None] | None = None,
             record: Recording | int | None = None, first_path: int = 0):
    """Simulate ``n_paths`` independent paths of ``problem``.

    Parameters
    ----------
    problem : :class:`~levydyn.model.problem.Problem`.
    n_paths : number of paths; path ``i`` uses the random stream ``(seed, i)``, so the
        result is bit-identical for any thread count and any ``chunk``.
    dt : time step (SDE time; one SGD iteration with learning rate eta is dt = eta).
    t_max : horizon; paths still inside are censored there (box) or stopped (wells).
    seed : non-negative integer.
    method : ``"euler"`` / :class:`~levydyn.solvers.Euler` (Euler-Maruyama, any domain) or
        ``"jump_adapted"`` / :class:`~levydyn.solvers.JumpAdapted` (small-noise scheme that
        skips the quiet time between large jumps; box domains).
    max_visits : size of the per-path visit table for well transitions.
    chunk : most paths per kernel call (default: an eighth of the paths). Calls are sized
        to take about :data:`levydyn.chunk_plan.CHUNK_SECONDS` of wall time each, so
        Ctrl-C is noticed within about that long; results do not depend on it.
    progress : called as ``progress(done, total)`` after each chunk.
    first_path : simulate paths ``first_path .. first_path + n_paths - 1`` of ``seed``'s
        ensemble (to split one ensemble over several calls or machines).
    record : record sample paths of the first paths of the ensemble (Euler only): a
        :class:`~levydyn.trajectories.Recording` or a number of paths; the result's
        ``paths`` is then a :class:`~levydyn.trajectories.Trajectories` whose path ``i``
        is path ``i`` of the ensemble.

    Returns
    -------
    :class:`~levydyn.results.EscapeResult` for a Box or Ball domain,
    :class:`~levydyn.results.TransitionResult` for a WellPartition. Ctrl-C (noticed when
    the running kernel call returns, about ``CHUNK_SECONDS`` at most) returns the finished
    paths with ``interrupted=True``. A path whose state
    became non-finite is *diverged*: never an exit, censored at that time, counted in
    ``n_diverged`` and warned about.
    """
    plan = check_run(problem, n_paths, dt, t_max, seed, method, max_visits=max_visits,
                     chunk=chunk)
    method, n_paths, dt, t_max, seed = plan.method, plan.n_paths, plan.dt, plan.t_max, plan.seed
    n_steps, max_visits, chunk = plan.n_steps, plan.max_visits, plan.chunk
    first_path = as_int("first_path", first_path, 0)
    if progress is not None and not callable(progress):
        raise reject("progress", "be None or a function progress(done, total)", progress)
    chunk_given = chunk is not None
    chunk = max(1, int(chunk) if chunk else max(256, -(-n_paths // 8)))
    if problem.is_transition and not chunk_given:
        chunk = min(chunk, max(256, 4_000_000 // max_visits))   # visit buffer <= ~64 MB

    if record is not None and isinstance(method, JumpAdapted):
        raise ValueError("record is available with method=euler only")
    pot, dom = problem.potential, problem.domain
    start = time.perf_counter()

    if isinstance(method, JumpAdapted):
        s = jump_adapted_setup(problem, method, dt)
        kind, gamma, t0, ms, vs = problem.schedule.encode()
        alpha, eps = problem.alpha, problem.eps
        out = _escape_arrays(n_paths, problem.dim)
        n_jumps = np.empty(n_paths, dtype=np.int64)

        def run(sl, offset):
            jump_adapted.escape_kernel_ja(
                pot.grad_kernel, pot.params, problem.x0, s["xstar"], alpha, eps,
                s["inv_rate"], s["small_var"], s["delta"], method.relax, s["window"],
                kind, gamma, t0, ms, vs, *domain_args(dom)[:5], s["length"], dt, t_max, seed,
                offset, method.bridge, *(a[sl] for a in out), n_jumps[sl])

        done, interrupted = _run_chunks(run, n_paths, chunk, progress, first_path)
        meta = {"delta": s["delta"].tolist(), "window": float(s["window"]),
                "attractor": s["xstar"].tolist(),
                "mean_large_jumps": float(n_jumps[:done].mean()) if done else 0.0}
        return _escape_result(problem, out, done, dt, t_max, seed, method.name, start,
                              interrupted, meta)

    rec = Recording.of(record, n_paths, n_steps)
    transition = problem.is_transition
    out = _escape_arrays(n_paths, problem.dim)
    # visit tables are filled one chunk at a time and kept only as wide as they were used,
    # so memory is n_paths x (visits actually made), not n_paths x max_visits
    buf = _visit_arrays(min(chunk, n_paths), max_visits if transition else 0,
                        dom.n_wells if transition else 0)
    kept = []
    xs = np.full((rec.n_paths, rec.n_points(n_steps), problem.dim), np.nan)
    n_rec = np.zeros(rec.n_paths, dtype=np.int64)
    inputs = kernel_inputs(problem, dt)

    def run(sl, offset):
        lo = min(sl.start, rec.n_paths)
        hi = min(sl.stop, rec.n_paths)
        m = sl.stop - sl.start if transition else 0
        visits = tuple(a[:m] for a in buf)
        for a in visits:
            a.fill(0)                  # occupancy accumulates; unused slots read as 0
        euler.run_paths(*inputs, n_steps, seed, offset, method.bridge, rec.stride(n_steps),
                        *(a[sl] for a in out), *visits, xs[lo:hi], n_rec[lo:hi])
        if transition:
            width = int(visits[2].max())
            kept.append((visits[0][:, :width].copy(), visits[1][:, :width].copy(),
                         visits[2].copy(), visits[3].copy()))

    done, interrupted = _run_chunks(run, n_paths, chunk, progress, first_path)
    paths = rec.trajectories(xs, n_rec, out, min(done, rec.n_paths), n_steps, dt, seed,
                             monitor=not transition) if rec.n_paths else None
    if transition:
        times, status = out[0][:done], out[1][:done]
        _warn_diverged(status)
        wells, entries, n_visits, occupancy = _stack_visits(kept, dom.n_wells)
        return TransitionResult(problem, wells, entries, n_visits, occupancy, times, dt, t_max,
                                seed, method.name, time.perf_counter() - start, interrupted,
                                status=status, paths=paths)
    return _escape_result(problem, out, done, dt, t_max, seed, method.name, start, interrupted,
                          {}, paths)


def _escape_result(problem, out, done, dt, t_max, seed, method, start, interrupted, meta,
                   paths=None) -> EscapeResult:
    times, status, axis, side, points = (a[:done] for a in out)
    _warn_diverged(status)
    return EscapeResult(problem, times, status == euler.STATUS_EXITED, axis, side, points, dt,
                        t_max, seed, method, time.perf_counter() - start, interrupted, meta,
                        diverged=status == euler.STATUS_DIVERGED, paths=paths)


def _warn_diverged(status: np.ndarray) -> None:
    k = int((status == euler.STATUS_DIVERGED).sum())
    if k:
        warnings.warn(f"{k} of {status.size} paths diverged (non-finite state): counted as "
                      "diverged, censored at that time, never as exits", RuntimeWarning,
                      stacklevel=3)


def _escape_arrays(n: int, d: int):
    """Per-path outputs of every kernel: times, status, axis, side, points."""
    return (np.empty(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64),
            np.empty(n, dtype=np.int64), np.empty((n, d)))


def _stack_visits(kept: list, n_wells: int):
    """The chunks' trimmed visit tables as one table padded to the widest."""
    width = max([w.shape[1] for w, *_ in kept], default=0)
    wells = np.zeros((sum(w.shape[0] for w, *_ in kept), width), dtype=np.int64)
    entries = np.zeros(wells.shape)
    row = 0
    for w, e, _, _ in kept:
        wells[row:row + w.shape[0], :w.shape[1]] = w
        entries[row:row + w.shape[0], :w.shape[1]] = e
        row += w.shape[0]
    n_visits = np.concatenate([k[2] for k in kept]) if kept else np.zeros(0, dtype=np.int64)
    occupancy = np.concatenate([k[3] for k in kept]) if kept else np.zeros((0, n_wells))
    return wells, entries, n_visits, occupancy


def _visit_arrays(n: int, max_visits: int, n_wells: int):
    """Per-path outputs of a well partition: wells, entries, n_visits, occupancy (empty
    rows when the domain is not a well partition)."""
    rows = n if max_visits else 0
    return (np.zeros((rows, max_visits), dtype=np.int64), np.zeros((rows, max_visits)),
            np.zeros(rows, dtype=np.int64), np.zeros((rows, n_wells)))


def _run_chunks(run, n_paths: int, chunk: int, progress, first_path: int = 0):
    """Call ``run(slice, stream index of its first path)`` chunk by chunk, at most ``chunk``
    paths and about ``chunk_plan.CHUNK_SECONDS`` of wall time per call (:class:`ChunkPlan`);
    Ctrl-C keeps the finished chunks. Returns ``(paths done, interrupted)``."""
    plan = ChunkPlan(chunk, chunk_plan.CHUNK_SECONDS, first=numba.get_num_threads())
    done = 0
    try:
        while done < n_paths:
            hi = done + plan.size(n_paths - done)
            tic = time.perf_counter()
            run(slice(done, hi), first_path + done)
            plan.record(hi - done, time.perf_counter() - tic)
            done = hi
            if progress is not None:
                progress(done, n_paths)
    except KeyboardInterrupt:
        return done, True
    except SystemError as err:
        # an exception raised inside a compiled gradient (Custom) surfaces from numba as
        # "returned a result with an exception set", the original chained as the cause
        cause = err.__cause__ or err.__context__
        if cause is None:
            raise
        raise ValueError(f"the potential's gradient raised inside the simulation: "
                         f"{type(cause).__name__}: {' '.join(str(cause).split())}") from None
    return done, False


def jump_adapted_setup(problem: Problem, method: JumpAdapted, dt: float) -> dict:
    """Attractor, curvature, thresholds and rates used by the jump-adapted kernel."""
    pot, dom = problem.potential, problem.domain
    if not isinstance(dom, (Box, Ball)):
        raise ValueError("method jump_adapted supports Box and Ball domains; use method=euler for wells")
    alpha, eps = problem.alpha, problem.eps
    if np.all(alpha == 2.0):
        raise ValueError("method jump_adapted needs at least one axis with alpha < 2 "
                         "(Brownian exits have no large jumps to adapt to); use euler")
    length = max(pot.length_scale, dom.length_scale)
    xstar = jump_adapted.relax_to_attractor(pot.grad_kernel, pot.params, problem.x0,
                                            min(dt, 1e-2), length, 10_000_000, 1e-10)
    if not dom.contains(xstar):
        raise ValueError(f"the gradient flow from x0 leaves the box (reaches {xstar.tolist()}); "
                         "jump_adapted needs an attractor inside the box")
    step = 1e-5 * max(1.0, float(np.abs(xstar).max()))
    curv = np.array([(pot.gradient(xstar + step * e)[k] - pot.gradient(xstar - step * e)[k])
                     / (2 * step) for k, e in enumerate(np.eye(problem.dim))])
    if np.any(~(curv > 0)):
        raise ValueError(f"jump_adapted needs positive curvature at the attractor, got "
                         f"diagonal Hessian {curv.tolist()}")
    dm, dp = dom.distances(xstar)
    near = np.minimum(dm, dp)
    near = np.where(np.isfinite(near), near, length)
    delta = method.delta * near
    ca = np.array([c_alpha(a) for a in alpha])
    with np.errstate(divide="ignore"):
        inv_rate = np.where(alpha < 2.0, alpha * delta ** alpha / (2 * ca * eps ** alpha), np.inf)
    small_var = np.where(alpha < 2.0,
                         2 * ca * eps ** alpha * delta ** (2 - alpha) / np.maximum(2 - alpha, 1e-300),
                         2 * eps ** 2)
    return {"xstar": xstar, "curvature": curv, "delta": delta, "inv_rate": inv_rate,
            "small_var": small_var, "window": method.window / curv.min(), "length": length}


def record_paths(problem, n_paths: int = 5, dt: float = 1e-2, t_max: float = 100.0,
                 seed: int = 0, *, path_offset: int = 0, max_points: int = 20_000,
                 bridge: bool = True) -> Trajectories:
    """Record ``n_paths`` Euler paths of ``problem`` (paths ``path_offset, ...`` of ``seed``).

    ``simulate(problem, n_paths, dt, t_max, seed, first_path=path_offset,
    record=Recording(n_paths, max_points)).paths``: a Box or Ball stops each path at its
    exit, a WellPartition runs it to ``t_max``. The same arguments give the same paths as
    the statistics of :func:`levydyn.simulate`.
    """
    if isinstance(n_paths, bool) or not isinstance(n_paths, (int, np.integer)) or n_paths < 1:
        raise ValueError(f"n_paths must be a positive integer, got n_paths={n_paths!r}")
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 1:
        raise ValueError(f"max_points must be a positive integer, got max_points={max_points!r}")
    if isinstance(path_offset, bool) or not isinstance(path_offset, (int, np.integer)) or path_offset < 0:
        raise ValueError(f"path_offset must be a non-negative integer, got path_offset={path_offset!r}")
    seed = check_seed(seed)
    return simulate(problem, int(n_paths), dt, t_max, seed, Euler(bridge=bool(bridge)),
                    first_path=path_offset, chunk=int(n_paths),
                    record=Recording(int(n_paths), int(max_points))).paths
