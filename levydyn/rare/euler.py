"""Splitting for a levydyn :class:`~levydyn.problem.Problem`: the Euler chain as a simulator.

The chain is the Euler scheme of :func:`levydyn.simulate` with step ``dt`` (any noise law,
Box / Ball exits, wells), which is a time-homogeneous Markov chain when the schedule is
constant (a schedule is refused). ``split`` estimates, with generalised AMS
(:mod:`levydyn.rare.ams`), ``p = P(reach B before A)`` from the first crossing of ``z0``
and the mean first-exit time by the cycle decomposition (:mod:`levydyn.rare.result`):

* Box / Ball: ``B`` is the exit set of the domain (the same monitoring as ``simulate``:
  a Brownian-bridge crossing on diffusive box axes counts);
* wells (1-D :class:`~levydyn.domains.WellPartition`): ``B`` is the core of any other well
  than the start point's, so ``E tau`` is the mean sojourn in the start well and the exit
  side says whether the path went to the left (-1) or right (+1) neighbour.

Times are SDE times (``steps * dt``). The answer is that of the Euler chain at this ``dt``,
as brute force with ``simulate(problem, dt=dt)`` would give it: the time-step bias is the
solver's, not the estimator's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from levydyn.domains import Ball, Box, WellPartition
from levydyn.problem import Problem
from levydyn.rare import euler_kernel as EK
from levydyn.rare.ams import CAPPED, DIVERGED, IN_B, Cycles, PathSimulator, Replicas, run_gams
from levydyn.rare.coordinates import (XI_SIG, as_address, as_coordinate, ball_coordinate, box_coordinate, evaluate,
                                      well_coordinate)
from levydyn.rare.result import SplittingResult, combine
from levydyn.solvers.compiled import GRAD_SIG
from levydyn.solvers.encoding import kernel_inputs
from levydyn.solvers.jump_adapted import relax_to_attractor
from levydyn.validation import POSITIVE, as_float, as_int, check_seed, reject

XI_NAN_MESSAGE = "xi must be finite along the paths, got a non-finite xi"


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
    return ball_coordinate, np.concatenate([xstar, [dom.radius - np.linalg.norm(xstar - dom.center)]]), xstar


def home_well(problem: Problem) -> int:
    """The well of the start point (wells), else 0."""
    dom = problem.domain
    return dom.well_of(problem.x0[0]) if isinstance(dom, WellPartition) else 0


@dataclass
class _State:
    """The Euler simulator's own record of each replica's current segment."""

    starts: np.ndarray      # (n, d) start state of the segment
    keys: np.ndarray        # (n,) uint64 stream key of the segment
    start_xi: np.ndarray    # xi at the start state
    start_t: np.ndarray     # steps from the first crossing of z0 to the start state
    work: np.ndarray        # per-replica path-steps


class EulerChain(PathSimulator):
    """The Euler chain of ``problem`` at step ``dt`` as a :class:`PathSimulator`."""

    def __init__(self, problem: Problem, dt: float, seed: int, xi, xi_params, a: float,
                 z0: float, cycles: int, max_steps: int, bridge: bool = True):
        self.problem = problem
        self.dim = problem.dim
        self.dt = dt
        self.seed = seed
        self.z0 = z0
        self.cycles = cycles
        home = home_well(problem)
        inputs = kernel_inputs(problem, dt)
        self.inputs = (as_address(inputs[0], GRAD_SIG), *inputs[1:])
        self.chain = (bool(bridge), int(home), as_address(xi, XI_SIG),
                      np.ascontiguousarray(xi_params, dtype=float), float(a), int(max_steps))
        self.run = 0
        self.start = None           # committor mode: every replica starts here

    def _fixed_start(self, n: int):
        """Replicas all at ``self.start`` (a committor ``P_x(B before A)``), no cycles."""
        x = np.ascontiguousarray(np.tile(self.start, (n, 1)))
        v = float(evaluate(self.chain[2], self.chain[3], self.start[None, :])[0])
        reps = Replicas.empty(n, self.dim)
        reps.state = _State(x, self._keys(1, np.arange(n)), np.full(n, v),
                            np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))
        self._done = np.zeros(n, dtype=bool)
        empty = np.zeros(0, dtype=np.int64)
        return reps, Cycles(empty, empty, 0)

    def _keys(self, generation: int, rows: np.ndarray) -> np.ndarray:
        return EK.replica_keys(np.uint64(self.seed), np.int64(self.run), np.int64(generation),
                               np.ascontiguousarray(rows, dtype=np.int64))

    def first_crossings(self, run: int, n: int):
        self.run = run
        if self.start is not None:
            return self._fixed_start(n)
        d, c = self.dim, self.cycles
        y, y_xi = np.empty((n, d)), np.empty(n)
        y_code, y_t1, y_axis, y_side = (np.zeros(n, dtype=np.int64) for _ in range(4))
        loops, t1s, outcome = (np.zeros((n, c), dtype=np.int64) for _ in range(3))
        work, status = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        EK.first_crossings(*self.inputs, *self.chain, float(self.z0), np.uint64(self.seed),
                           int(run), int(c), y, y_xi, y_code, y_t1, y_axis, y_side, loops,
                           t1s, outcome, work, status)
        _check_status(status, "the brute-force phase")
        reps = Replicas.empty(n, d)
        reps.state = _State(y, self._keys(1, np.arange(n)), y_xi, np.zeros(n, dtype=np.int64),
                            work)
        in_b = y_code == IN_B
        reps.score[in_b] = math.inf
        reps.status[in_b] = IN_B
        reps.axis[in_b], reps.side[in_b] = y_axis[in_b], y_side[in_b]
        reps.point[in_b] = y[in_b]
        reps.work = int(work.sum())
        self._done = in_b
        return reps, Cycles(loops[outcome == 0], np.concatenate([t1s.ravel(), y_t1]),
                            int(outcome.sum()))

    def advance(self, reps: Replicas, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows[~self._done[rows]], dtype=np.int64)
        st = reps.state
        before = int(st.work.sum())
        EK.advance(*self.inputs, *self.chain, rows, st.starts, st.keys, st.start_xi,
                   st.start_t, reps.score, reps.status, reps.t_end, reps.axis, reps.side,
                   reps.point, st.work)
        reps.work += int(st.work.sum()) - before
        _check_status(reps.status[rows], "a replica")

    def branch(self, reps: Replicas, dst, src, level: float, generation: int) -> None:
        st = reps.state
        before = int(st.work.sum())
        dst = np.ascontiguousarray(dst, dtype=np.int64)
        EK.branch(*self.inputs, *self.chain, dst, np.ascontiguousarray(src, dtype=np.int64),
                  float(level), self._keys(generation + 1, dst), st.starts, st.keys,
                  st.start_xi, st.start_t, reps.score, reps.status, reps.t_end, reps.axis,
                  reps.side, reps.point, st.work)
        reps.work += int(st.work.sum()) - before
        _check_status(reps.status[dst], "a replica")


def _check_status(status: np.ndarray, where: str) -> None:
    """A non-finite reaction coordinate is an input error; the step cap and a diverged
    state in the brute-force phase make the run impossible (said in one line)."""
    if np.any(status == EK.XI_NAN):
        raise ValueError(f"{XI_NAN_MESSAGE} in {where} (xi(x) was nan or inf at a visited state)")
    if where == "the brute-force phase":
        if np.any(status == CAPPED):
            raise ValueError("max_steps was reached in the brute-force phase before the chain "
                             "crossed z0 (or came back to A): lower z0 or raise max_steps")
        if np.any(status == DIVERGED):
            raise ValueError("a path of the brute-force phase diverged (non-finite state): "
                             "lower dt")


def choose_levels(problem: Problem, dt: float, xi, xi_params, a, z0, seed: int,
                  n_pilot: int = 200_000) -> tuple[float, float]:
    """Defaults for ``a`` and ``z0`` from one pilot path of ``n_pilot`` steps from ``x0``:
    ``a`` = the median of ``xi`` along it, ``z0`` = its 90 % quantile (so the chain visits
    A half the time and climbs to ``z0`` within a few relaxation times), capped at
    ``z0 <= 0.5`` (the default coordinates reach 1 on the exit set) and ``a <= z0 / 2``."""
    if a is not None and z0 is not None:
        return a, z0
    inputs = kernel_inputs(problem, dt)
    out = np.empty(n_pilot)
    EK.pilot(*inputs, True, home_well(problem), xi, np.ascontiguousarray(xi_params, dtype=float), 0.0, 1,
             EK.replica_key(seed, 2**31, 0, 0), out)
    bad = np.isnan(out) | (out == np.inf)
    if np.any(bad):
        raise ValueError(f"{XI_NAN_MESSAGE} on the pilot path (xi={out[bad][0]!r})")
    out = out[out > -np.inf]          # the pilot stops if it reaches B
    if out.size < 1000:
        raise ValueError(f"the pilot path from x0={problem.x0.tolist()} reached the exit set "
                         f"within {out.size} steps: the exit is not rare (use levydyn.simulate), "
                         "or give a and z0")
    q50, q90 = np.quantile(out, [0.5, 0.9])
    if z0 is None:
        z0 = min(float(q90), 0.5) if a is None else max(min(float(q90), 0.5), 2 * a)
    if a is None:
        a = min(float(q50), 0.5 * z0)
    return float(a), float(z0)


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
    problem : a :class:`~levydyn.problem.Problem` with a constant schedule.
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
        (defaults from a pilot path, :func:`choose_levels`).
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
    return _run(chain, n, n_runs, k, max_iterations, level)


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
    return _run(chain, n, n_runs, k, max_iterations, level)


def _run(chain: "EulerChain", n: int, n_runs: int, k: int, max_iterations: int,
         level: float) -> SplittingResult:
    runs = [run_gams(chain, m, n, chain.seed, max_iterations, k) for m in range(n_runs)]
    res = combine(runs, n, chain.dim, chain.chain[4], chain.z0, time_unit=chain.dt, level=level)
    res.problem = chain.problem
    res.meta = {"method": "splitting", "chain": "euler", "dt": chain.dt, "seed": chain.seed,
                "k": k, "max_iterations": max_iterations}
    return res


def _prepare(problem, n_replicas, n_runs, dt, seed, xi, xi_params, a, z0, cycles, k,
             max_iterations, max_steps, bridge, start=None):
    """Validate everything (one-line errors, before any simulation) and build the chain."""
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a levydyn Problem, got problem={problem!r}")
    if not problem.schedule.is_constant:
        raise ValueError("splitting needs a time-homogeneous chain: schedule must be constant, "
                         f"got schedule={problem.schedule}")
    n = as_int("n_replicas", n_replicas, 2)
    n_runs = as_int("n_runs", n_runs, 2)
    dt = as_float("dt", dt, POSITIVE)
    seed = check_seed(seed)
    cycles = as_int("cycles", cycles, 1)
    k = as_int("k", k, 1, n - 1)
    max_steps = as_int("max_steps", max_steps, 1)
    max_iterations = (-(-100 * n // k) if max_iterations is None
                      else as_int("max_iterations", max_iterations, 1))
    if xi is None:
        if xi_params is not None:
            raise ValueError("xi_params needs xi (the default coordinate has its own)")
        xi, xi_params, _ = default_coordinate(problem)
    else:
        xi = as_coordinate(xi)
        xi_params = np.zeros(0) if xi_params is None else np.ravel(np.asarray(xi_params, dtype=float))
    if start is not None:
        if start.shape != (problem.dim,) or not np.all(np.isfinite(start)):
            raise reject("x", f"be a finite point with {problem.dim} coordinates", start)
        check_coordinate(problem, xi, xi_params, None, None)
        a = as_float("a", a)
        v = float(evaluate(xi, xi_params, start[None, :])[0])
        if not math.isfinite(v) or not v > a:
            raise reject("x", f"lie outside A = {{xi <= a={a:g}}} (xi(x)={v!r})", start)
        z0 = a
    else:
        check_coordinate(problem, xi, xi_params, a, z0)
        a, z0 = choose_levels(problem, dt, xi, xi_params, a, z0, seed)
        check_coordinate(problem, xi, xi_params, a, z0)
    chain = EulerChain(problem, dt, seed, xi, xi_params, a, z0, cycles, max_steps, bridge)
    chain.start = start
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
