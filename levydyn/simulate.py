"""``simulate(problem, ...)``: the one entry point from a Problem to a Result."""
from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from levydyn.domains import Ball, Box
from levydyn.noise import c_alpha, check_seed
from levydyn.problem import Problem, check_positive
from levydyn.results import EscapeResult, TransitionResult
from levydyn.solvers import JumpAdapted, euler, jump_adapted, resolve_method


def simulate(problem: Problem, n_paths: int = 1000, dt: float = 1e-2, t_max: float = 1e4,
             seed: int = 0, method="euler", *, max_visits: int = 512, chunk: int | None = None,
             progress: Callable[[int, int], None] | None = None):
    """Simulate ``n_paths`` independent paths of ``problem``.

    Parameters
    ----------
    problem : :class:`~levydyn.problem.Problem`.
    n_paths : number of paths; path ``i`` uses the random stream ``(seed, i)``, so the
        result is bit-identical for any thread count and any ``chunk``.
    dt : time step (SDE time; one SGD iteration with learning rate eta is dt = eta).
    t_max : horizon; paths still inside are censored there (box) or stopped (wells).
    seed : non-negative integer.
    method : ``"euler"`` / :class:`~levydyn.solvers.Euler` (Euler-Maruyama, any domain) or
        ``"jump_adapted"`` / :class:`~levydyn.solvers.JumpAdapted` (small-noise scheme that
        skips the quiet time between large jumps; box domains).
    max_visits : size of the per-path visit table for well transitions.
    chunk : paths per kernel call (default: at most 8 calls); results do not depend on it.
    progress : called as ``progress(done, total)`` after each chunk.

    Returns
    -------
    :class:`~levydyn.results.EscapeResult` for a Box or Ball domain,
    :class:`~levydyn.results.TransitionResult` for a WellPartition. Ctrl-C between
    chunks returns the finished paths with ``interrupted=True``.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a levydyn Problem, got problem={problem!r}")
    method = resolve_method(method)
    if isinstance(n_paths, bool) or not isinstance(n_paths, (int, np.integer)) or n_paths < 1:
        raise ValueError(f"n_paths must be a positive integer, got n_paths={n_paths!r}")
    dt = check_positive("dt", dt)
    t_max = check_positive("t_max", t_max)
    if dt > t_max:
        raise ValueError(f"dt must not exceed t_max, got dt={dt} t_max={t_max}")
    seed = check_seed(seed)
    n_paths = int(n_paths)
    n_steps = int(math.ceil(t_max / dt - 1e-9))
    chunk = max(1, int(chunk) if chunk else max(256, -(-n_paths // 8)))

    pot, dom = problem.potential, problem.domain
    kind, gamma, t0, ms, vs = problem.schedule.encode()
    alpha, eps = problem.alpha, problem.eps
    length = max(pot.length_scale, dom.length_scale)
    start = time.perf_counter()

    if isinstance(method, JumpAdapted):
        s = jump_adapted_setup(problem, method, dt)
        out = _escape_arrays(n_paths, problem.dim)
        n_jumps = np.empty(n_paths, dtype=np.int64)

        def run(sl, offset):
            jump_adapted.escape_kernel_ja(
                pot.grad_kernel, pot.params, problem.x0, s["xstar"], alpha, eps,
                s["inv_rate"], s["small_var"], s["delta"], method.relax, s["window"],
                kind, gamma, t0, ms, vs, *_domain_args(dom), s["length"], dt, t_max, seed,
                offset, method.bridge, *(a[sl] for a in out), n_jumps[sl])

        done, interrupted = _run_chunks(run, n_paths, chunk, progress)
        meta = {"delta": s["delta"].tolist(), "window": float(s["window"]),
                "attractor": s["xstar"].tolist(),
                "mean_large_jumps": float(n_jumps[:done].mean()) if done else 0.0}
        return EscapeResult(problem, *(a[:done] for a in out), dt, t_max, seed, method.name,
                            time.perf_counter() - start, interrupted, meta)

    common = (pot.grad_kernel, pot.params, problem.x0, alpha, eps, eps * dt ** (1.0 / alpha),
              kind, gamma, t0, ms, vs)
    if isinstance(dom, (Box, Ball)):
        out = _escape_arrays(n_paths, problem.dim)

        def run(sl, offset):
            euler.escape_kernel(*common, *_domain_args(dom), length, dt, n_steps,
                                seed, offset, method.bridge, *(a[sl] for a in out))

        done, interrupted = _run_chunks(run, n_paths, chunk, progress)
        return EscapeResult(problem, *(a[:done] for a in out), dt, t_max, seed, method.name,
                            time.perf_counter() - start, interrupted)

    wells = np.zeros((n_paths, max_visits), dtype=np.int64)
    entries = np.zeros((n_paths, max_visits))
    n_visits = np.zeros(n_paths, dtype=np.int64)
    occupancy = np.zeros((n_paths, dom.n_wells))
    t_end = np.zeros(n_paths)
    out = (wells, entries, n_visits, occupancy, t_end)

    def run(sl, offset):
        euler.wells_kernel(*common, np.asarray(dom.minima), np.asarray(dom.maxima),
                           dom.core_radius, length, dt, n_steps, seed, offset,
                           *(a[sl] for a in out))

    done, interrupted = _run_chunks(run, n_paths, chunk, progress)
    return TransitionResult(problem, *(a[:done] for a in out), dt, t_max, seed, method.name,
                            time.perf_counter() - start, interrupted)


def _escape_arrays(n: int, d: int):
    """Per-path outputs of the escape kernels: times, exited, axis, side, points."""
    return (np.empty(n), np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.int64),
            np.empty(n, dtype=np.int64), np.empty((n, d)))


def _run_chunks(run, n_paths: int, chunk: int, progress):
    """Call ``run(slice, first_path)`` chunk by chunk; Ctrl-C keeps the finished chunks.
    Returns ``(paths done, interrupted)``."""
    done = 0
    try:
        while done < n_paths:
            hi = min(n_paths, done + chunk)
            run(slice(done, hi), done)
            done = hi
            if progress is not None:
                progress(done, n_paths)
    except KeyboardInterrupt:
        return done, True
    return done, False


def _domain_args(dom):
    """``(dkind, lower, upper, center, radius)`` for the exit check of the kernels."""
    empty = np.zeros(0)
    if isinstance(dom, Ball):
        return euler.DOMAIN_BALL, empty, empty, dom.center, dom.radius
    return euler.DOMAIN_BOX, dom.lower, dom.upper, empty, 0.0


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
