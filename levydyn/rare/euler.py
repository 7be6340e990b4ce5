"""Splitting for a levydyn :class:`~levydyn.model.problem.Problem`: the Euler chain as a simulator.

The chain is the Euler scheme of :func:`levydyn.simulate` with step ``dt`` (any noise law,
Box / Ball exits, wells), which is a time-homogeneous Markov chain when the schedule is
constant (a schedule is refused). ``split`` estimates, with generalised AMS
(:mod:`levydyn.rare.ams`), ``p = P(reach B before A)`` from the first crossing of ``z0``
and the mean first-exit time by the cycle decomposition (:mod:`levydyn.rare.result`):

* Box / Ball: ``B`` is the exit set of the domain (the same monitoring as ``simulate``:
  a Brownian-bridge crossing on diffusive box axes counts);
* wells (1-D :class:`~levydyn.model.domains.WellPartition`): ``B`` is the core of any other well
  than the start point's, so ``E tau`` is the mean sojourn in the start well and the exit
  side says whether the path went to the left (-1) or right (+1) neighbour.

Times are SDE times (``steps * dt``). The answer is that of the Euler chain at this ``dt``,
as brute force with ``simulate(problem, dt=dt)`` would give it: the time-step bias is the
solver's, not the estimator's.
"""
from __future__ import annotations

import math

import numpy as np

from levydyn.model.domains import Ball, Box, WellPartition
from levydyn.model.problem import Problem
from levydyn.rare import euler_kernel as EK
from levydyn.rare.chain import CompiledChain, check_settings
from levydyn.rare.coordinates import (XI_SIG, as_address, as_coordinate, ball_coordinate,
                                      box_coordinate, evaluate, well_coordinate)
from levydyn.rare.result import SplittingResult
from levydyn.solvers.compiled import GRAD_SIG
from levydyn.solvers.encoding import kernel_inputs
from levydyn.solvers.jump_adapted import relax_to_attractor
from levydyn.model.validation import POSITIVE, as_float, reject


def default_coordinate(problem: Problem) -> tuple:
    """``(xi, params, attractor)``: the distance from the attractor relative to the exit set
    (:mod:`levydyn.rare.coordinates`); the attractor is the end of the gradient flow from
    ``x0`` (the home minimum for wells)."""
    pot, dom = problem.potential, problem.domain
    if isinstance(dom, WellPartition):
        home = dom.well_of(problem.x0[0])
        m = dom.minima[home]
        left = m - dom.maxima[home - 1] if home > 0 else math.inf
        right = dom.maxima[home] - m if home < len(dom.maxima) else math.inf
        return well_coordinate, np.array([m, left, right]), np.array([m])
    length = max(pot.length_scale, dom.length_scale)
    xstar = relax_to_attractor(pot.grad_kernel, pot.params, problem.x0, 1e-2, length,
                               10_000_000, 1e-10)
    if not dom.contains(xstar):
        raise ValueError(f"the gradient flow from x0 leaves the domain (reaches "
                         f"{xstar.tolist()}); splitting's default xi needs an attractor inside")
    if isinstance(dom, Box):
        dm, dp = dom.distances(xstar)
        return box_coordinate, np.concatenate([xstar, dm, dp]), xstar
    assert isinstance(dom, Ball)
    scale = dom.radius - np.linalg.norm(xstar - dom.center)
    return ball_coordinate, np.concatenate([xstar, [scale]]), xstar


def home_well(problem: Problem) -> int:
    """The well of the start point (wells), else 0."""
    dom = problem.domain
    return dom.well_of(problem.x0[0]) if isinstance(dom, WellPartition) else 0


def split(problem: Problem, n_replicas: int = 100, n_runs: int = 10, dt: float = 1e-2,
          seed: int = 0, *, xi=None, xi_params=None, a: float | None = None,
          z0: float | None = None, cycles: int = 2, k: int = 1,
          max_iterations: int | None = None, max_steps: int = 10_000_000,
          bridge: bool = True, level: float = 0.95) -> SplittingResult:
    """Rare first exits of ``problem`` by generalised adaptive multilevel splitting.

    ``E tau = E[T_loop] (1 - p)/p + E[T_reac]`` (Cerou, Guyader, Lelievre & Pommier 2011),
    ``p`` from ``n_runs`` independent gAMS runs of ``n_replicas`` replicas (Brehier et al.
    2016): see :mod:`levydyn.rare.ams` and :mod:`levydyn.rare.result`.

    Parameters
    ----------
    problem : a :class:`~levydyn.model.problem.Problem` with a constant schedule.
    n_replicas : replicas per run (``n >= 2``); the relative error of one run's ``p`` is
        about ``sqrt(log(1/p) / n)`` for a good ``xi``.
    n_runs : independent runs ``M >= 2`` (the CI is over runs).
    dt : Euler step (SDE time); the estimate is the Euler chain's at this ``dt``.
    seed : run ``m``'s paths use streams ``(seed, m, replica, generation)``: results are
        bit-identical for any thread count.
    xi, xi_params : reaction coordinate, a numba function ``xi(x, params) -> float``
        (default: distance from the attractor relative to the exit set,
        :mod:`levydyn.rare.coordinates`).
    a, z0 : ``A = {xi <= a}`` (must contain ``x0``) and the first level ``z0 > a``
        (defaults from a pilot path, :meth:`CompiledChain.pilot_levels`).
    cycles : full cycles per chain in the brute-force phase (for ``E[T_loop]``).
    k : the level of an iteration is the ``k``-th smallest score (``1 <= k < n``).
    max_iterations : levels per run before the run is cut (censored); default
        ``100 n_replicas / k``.
    max_steps : step cap of one path segment.
    bridge : Brownian-bridge exit monitoring on diffusive box axes (as ``simulate``).

    Returns
    -------
    :class:`~levydyn.rare.result.SplittingResult` (times in SDE time).
    """
    chain, n, n_runs, k, max_iterations = _prepare(problem, n_replicas, n_runs, dt, seed, xi,
                                                   xi_params, a, z0, cycles, k,
                                                   max_iterations, max_steps, bridge)
    return _run(chain, n, n_runs, k, max_iterations, level, problem, dt)


def committor(problem: Problem, x, a: float, n_replicas: int = 100, n_runs: int = 10,
              dt: float = 1e-2, seed: int = 0, *, xi=None, xi_params=None, k: int = 1,
              max_iterations: int | None = None, max_steps: int = 10_000_000,
              bridge: bool = True, level: float = 0.95) -> SplittingResult:
    """``P_x(reach B before A = {xi <= a})`` of the Euler chain from the state ``x`` by gAMS.

    Every replica starts at ``x`` (``xi(x) > a``); parameters as in :func:`split`. The
    result's ``p`` is the committor; it has no cycles, so no mean exit time.
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    chain, n, n_runs, k, max_iterations = _prepare(problem, n_replicas, n_runs, dt, seed, xi,
                                                   xi_params, a, None, 1, k, max_iterations,
                                                   max_steps, bridge, start=x)
    return _run(chain, n, n_runs, k, max_iterations, level, problem, dt)


def _run(chain: CompiledChain, n: int, n_runs: int, k: int, max_iterations: int,
         level: float, problem: Problem, dt: float) -> SplittingResult:
    res = chain.estimate(n, n_runs, k, max_iterations, level)
    res.problem = problem
    res.meta.update(chain="euler", dt=dt)
    return res


def _prepare(problem, n_replicas, n_runs, dt, seed, xi, xi_params, a, z0, cycles, k,
             max_iterations, max_steps, bridge, start=None):
    """Validate everything (one-line errors, before any simulation) and build the chain."""
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a levydyn Problem, got problem={problem!r}")
    if not problem.schedule.is_constant:
        raise ValueError("splitting needs a time-homogeneous chain: schedule must be constant, "
                         f"got schedule={problem.schedule}")
    n, n_runs, seed, cycles, k, max_iterations, max_steps = check_settings(
        n_replicas, n_runs, seed, cycles, k, max_iterations, max_steps)
    dt = as_float("dt", dt, POSITIVE)
    if xi is None:
        if xi_params is not None:
            raise ValueError("xi_params needs xi (the default coordinate has its own)")
        xi, xi_params, _ = default_coordinate(problem)
    else:
        xi = as_coordinate(xi)
        xi_params = np.zeros(0) if xi_params is None else xi_params
        xi_params = np.ravel(np.asarray(xi_params, dtype=float))
    if start is not None:
        if start.shape != (problem.dim,) or not np.all(np.isfinite(start)):
            raise reject("x", f"be a finite point with {problem.dim} coordinates", start)
        check_coordinate(problem, xi, xi_params, None, None)
        a = as_float("a", a)
        v = float(evaluate(xi, xi_params, start[None, :])[0])
        if not math.isfinite(v) or not v > a:
            raise reject("x", f"lie outside A = {{xi <= a={a:g}}} (xi(x)={v!r})", start)
        z0 = a
        start = (start, v)
    else:
        check_coordinate(problem, xi, xi_params, a, z0)
    inputs = kernel_inputs(problem, dt)
    inputs = (as_address(inputs[0], GRAD_SIG), *inputs[1:], bool(bridge), home_well(problem))
    chain = CompiledChain(EK, inputs, problem.dim, seed, as_address(xi, XI_SIG), xi_params,
                          0.0 if a is None else a, 0.0 if z0 is None else z0, cycles,
                          max_steps, dt, start)
    if start is None:
        a, z0 = chain.pilot_levels(a, z0)
        check_coordinate(problem, xi, xi_params, a, z0)
        chain.a, chain.z0 = a, z0
        chain.chain = (*chain.chain[:2], a, chain.chain[3])
    return chain, n, n_runs, k, max_iterations


def check_coordinate(problem: Problem, xi, xi_params, a, z0) -> None:
    """Before any simulation: ``xi`` finite at ``x0`` and on the exit set's boundary, ``x0``
    in ``A``, ``a < z0``, and ``xi > z0`` on the exit set (otherwise the levels could never
    advance from ``z0`` to B)."""
    x0 = problem.x0
    v0 = float(evaluate(xi, xi_params, x0[None, :])[0])
    if not math.isfinite(v0):
        raise reject("xi", "be finite at the start point", f"xi(x0)={v0!r} at x0={x0.tolist()}")
    for name, v in (("a", a), ("z0", z0)):
        if v is not None and not (isinstance(v, (int, float, np.floating, np.integer))
                                  and not isinstance(v, bool) and math.isfinite(float(v))):
            raise reject(name, "be a finite number", v)
    if a is not None and not v0 <= a:
        raise reject("a", f"contain the start point: A = {{xi <= a}} but xi(x0)={v0:.6g}", a)
    if a is not None and z0 is not None and not z0 > a:
        raise reject("z0", f"exceed a={a!r}", z0)
    edge = _boundary_points(problem)
    if edge.size:
        vals = evaluate(xi, xi_params, edge)
        bad = np.flatnonzero(~np.isfinite(vals))
        if bad.size:
            raise reject("xi", "be finite on the exit set",
                         f"xi({edge[bad[0]].tolist()})={vals[bad[0]]!r}")
        top = z0 if z0 is not None else v0
        low = float(vals.min())
        if not low > top:
            k = int(np.argmin(vals))
            raise ValueError(f"xi must increase from A to the exit set (levels would never "
                             f"advance): xi={low:.6g} at the exit point {edge[k].tolist()} is "
                             f"not above {'z0' if z0 is not None else 'xi(x0)'}={top:.6g}")


def _boundary_points(problem: Problem) -> np.ndarray:
    """Points of the exit set nearest to ``x0`` along each axis (both sides)."""
    dom, x0 = problem.domain, problem.x0
    pts = []
    if isinstance(dom, WellPartition):
        home = dom.well_of(x0[0])
        for w in (home - 1, home + 1):
            if 0 <= w < dom.n_wells:
                pts.append([dom.minima[w] - np.sign(w - home) * dom.core_radius[w] * 0.999])
        return np.array(pts, dtype=float).reshape(-1, 1)
    for l in range(problem.dim):
        for s in (-1.0, 1.0):
            p = x0.copy()
            if isinstance(dom, Box):
                face = dom.upper[l] if s > 0 else dom.lower[l]
                if not math.isfinite(face):
                    continue
                p[l] = face
            else:
                off = x0[l] - dom.center[l]
                rest = dom.radius**2 - (np.sum((x0 - dom.center) ** 2) - off**2)
                p[l] = dom.center[l] + s * math.sqrt(max(rest, 0.0))
            pts.append(p)
    return np.array(pts, dtype=float).reshape(-1, problem.dim)
