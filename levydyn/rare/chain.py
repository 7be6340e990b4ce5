"""A compiled Markov chain as a :class:`~levydyn.rare.ams.PathSimulator`.

The numba simulators (:mod:`levydyn.rare.euler_kernel`, :mod:`levydyn.rare.kesten_kernel`)
offer the same four kernels, with the same trailing arguments after their model's own
leading ones (``inputs``) and the chain's ``(xi, xi_params, a, max_steps)``:

* ``first_crossings(*inputs, *chain, z0, seed, run, n_cycles, y, y_xi, y_code, y_t1,
  y_axis, y_side, loops, t1s, outcome, work, status)``;
* ``advance(*inputs, *chain, rows, starts, keys, start_xi, start_t, score, status, t_end,
  axis, side, point, work)``;
* ``branch(*inputs, *chain, dst, src, level, new_keys, starts, keys, start_xi, start_t,
  score, status, t_end, axis, side, point, work)`` (re-simulates the source's segment
  from its stream to its first state above ``level``);
* ``pilot(*inputs, *chain, key, out)``: ``xi`` along one path from the start point;

and ``replica_keys(seed, run, generation, rows)``. :class:`CompiledChain` turns them into
the three operations of the generic algorithm; the validation of the settings shared by
every chain lives here too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from levydyn.rare.ams import CAPPED, DIVERGED, IN_B, Cycles, PathSimulator, Replicas, run_gams
from levydyn.rare.result import SplittingResult, combine
from levydyn.model.validation import as_int, check_seed

PASSED = 4          # kernel codes beyond the ams statuses
XI_NAN = 5
XI_NAN_MESSAGE = "xi must be finite along the paths, got a non-finite xi"


@dataclass
class _State:
    """A compiled chain's record of each replica's current segment."""

    starts: np.ndarray      # (n, d) start state of the segment
    keys: np.ndarray        # (n,) uint64 stream key of the segment
    start_xi: np.ndarray    # xi at the start state
    start_t: np.ndarray     # steps from the first crossing of z0 to the start state
    work: np.ndarray        # per-replica path-steps


class CompiledChain(PathSimulator):
    """The chain of a kernels module (module doc) with fixed ``inputs``, ``xi`` and levels.

    ``start``: if given, ``(x, xi(x))``: every replica starts at ``x`` (a committor), with
    no cycles.
    """

    def __init__(self, kernels, inputs: tuple, dim: int, seed: int, xi, xi_params,
                 a: float, z0: float, cycles: int, max_steps: int, time_unit: float = 1.0,
                 start=None):
        self.k = kernels
        self.inputs = inputs
        self.dim = dim
        self.seed = seed
        self.a, self.z0 = float(a), float(z0)
        self.cycles = cycles
        self.time_unit = time_unit
        self.chain = (xi, np.ascontiguousarray(xi_params, dtype=float), float(a), int(max_steps))
        self.start = start
        self.run = 0
        self._done = None

    def _keys(self, generation: int, rows) -> np.ndarray:
        return self.k.replica_keys(np.uint64(self.seed), np.int64(self.run),
                                   np.int64(generation), np.ascontiguousarray(rows, dtype=np.int64))

    def first_crossings(self, run: int, n: int):
        self.run = run
        d, c = self.dim, self.cycles
        if self.start is not None:
            return self._fixed_start(n)
        y, y_xi = np.empty((n, d)), np.empty(n)
        y_code, y_t1, y_axis, y_side = (np.zeros(n, dtype=np.int64) for _ in range(4))
        loops, t1s, outcome = (np.zeros((n, c), dtype=np.int64) for _ in range(3))
        work, status = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        self.k.first_crossings(*self.inputs, *self.chain, self.z0, np.uint64(self.seed),
                               int(run), int(c), y, y_xi, y_code, y_t1, y_axis, y_side, loops,
                               t1s, outcome, work, status)
        check_status(status, "the brute-force phase")
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

    def _fixed_start(self, n: int):
        x = np.ascontiguousarray(np.tile(self.start[0], (n, 1)), dtype=float)
        v = float(self.start[1])
        reps = Replicas.empty(n, self.dim)
        reps.state = _State(x, self._keys(1, np.arange(n)), np.full(n, v),
                            np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))
        self._done = np.zeros(n, dtype=bool)
        empty = np.zeros(0, dtype=np.int64)
        return reps, Cycles(empty, empty, 0)

    def advance(self, reps: Replicas, rows) -> None:
        rows = np.ascontiguousarray(rows[~self._done[rows]], dtype=np.int64)
        st = reps.state
        before = int(st.work.sum())
        self.k.advance(*self.inputs, *self.chain, rows, st.starts, st.keys, st.start_xi,
                       st.start_t, reps.score, reps.status, reps.t_end, reps.axis, reps.side,
                       reps.point, st.work)
        reps.work += int(st.work.sum()) - before
        check_status(reps.status[rows], "a replica")

    def branch(self, reps: Replicas, dst, src, level: float, generation: int) -> None:
        st = reps.state
        before = int(st.work.sum())
        dst = np.ascontiguousarray(dst, dtype=np.int64)
        self.k.branch(*self.inputs, *self.chain, dst, np.ascontiguousarray(src, dtype=np.int64),
                      float(level), self._keys(generation + 1, dst), st.starts, st.keys,
                      st.start_xi, st.start_t, reps.score, reps.status, reps.t_end, reps.axis,
                      reps.side, reps.point, st.work)
        reps.work += int(st.work.sum()) - before
        check_status(reps.status[dst], "a replica")

    def pilot_levels(self, a, z0, n_pilot: int = 200_000) -> tuple[float, float]:
        """Defaults for ``a`` and ``z0`` from one pilot path of ``n_pilot`` steps from the
        start point (restarted there whenever it reaches B): ``a`` = the median of ``xi``
        along it, ``z0`` = its 90 % quantile (the
        chain visits A half the time and climbs to ``z0`` within a few relaxation times),
        capped at ``z0 <= 0.5`` (the default coordinates reach 1 on the exit set) and
        ``a <= z0 / 2``."""
        if a is not None and z0 is not None:
            return a, z0
        out = np.empty(n_pilot)
        xi, xip, _, _ = self.chain
        self.k.pilot(*self.inputs, xi, xip, 0.0, 1, self.k.replica_key(self.seed, 2**31, 0, 0),
                     out)
        bad = np.isnan(out) | (out == np.inf)
        if np.any(bad):
            raise ValueError(f"{XI_NAN_MESSAGE} on the pilot path (xi={out[bad][0]!r})")
        out = out[out > -np.inf]          # the steps into B
        if out.size < 1000:
            raise ValueError(f"the pilot path from the start point stopped after {out.size} "
                             "steps (diverged?): give a and z0")
        q50, q90 = np.quantile(out, [0.5, 0.9])
        if z0 is None:
            z0 = min(float(q90), 0.5) if a is None else max(min(float(q90), 0.5), 2 * a)
        if a is None:
            a = min(float(q50), 0.5 * z0)
        return float(a), float(z0)

    def estimate(self, n: int, n_runs: int, k: int, max_iterations: int,
                 level: float = 0.95) -> SplittingResult:
        """``n_runs`` independent gAMS runs pooled (:func:`~levydyn.rare.result.combine`)."""
        runs = [run_gams(self, m, n, self.seed, max_iterations, k) for m in range(n_runs)]
        res = combine(runs, n, self.dim, self.a, self.z0, self.time_unit, level)
        res.meta = {"method": "splitting", "seed": self.seed, "k": k,
                    "max_iterations": max_iterations}
        return res


def check_status(status: np.ndarray, where: str) -> None:
    """A non-finite reaction coordinate is an input error; the step cap and a diverged
    state in the brute-force phase make the run impossible (said in one line)."""
    if np.any(status == XI_NAN):
        raise ValueError(f"{XI_NAN_MESSAGE} in {where} (xi(x) was nan or inf at a visited state)")
    if where == "the brute-force phase":
        if np.any(status == CAPPED):
            raise ValueError("max_steps was reached in the brute-force phase before the chain "
                             "crossed z0 (or came back to A): lower z0 or raise max_steps")
        if np.any(status == DIVERGED):
            raise ValueError("a path of the brute-force phase diverged (non-finite state): "
                             "lower dt (or lr)")


def check_settings(n_replicas, n_runs, seed, cycles, k, max_iterations, max_steps) -> tuple:
    """The settings every chain shares, as ``(n, n_runs, seed, cycles, k, max_iterations,
    max_steps)``, or a one-line ValueError naming the bad one."""
    n = as_int("n_replicas", n_replicas, 2)
    n_runs = as_int("n_runs", n_runs, 2)
    seed = check_seed(seed)
    cycles = as_int("cycles", cycles, 1)
    k = as_int("k", k, 1, n - 1)
    max_steps = as_int("max_steps", max_steps, 1)
    max_iterations = (-(-100 * n // k) if max_iterations is None
                      else as_int("max_iterations", max_iterations, 1))
    return n, n_runs, seed, cycles, k, max_iterations, max_steps
