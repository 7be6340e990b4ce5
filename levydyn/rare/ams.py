"""Generalised adaptive multilevel splitting (gAMS), written once for every simulator.

Setting (Brehier, Gazeau, Goudenege, Lelievre & Rousset 2016, Ann. Appl. Probab. 26,
"Unbiasedness of some generalized adaptive multilevel splitting algorithms", Sec. 3-4;
Cerou & Guyader 2007 for the original AMS): a discrete-time Markov chain ``X_k``, a
reaction coordinate ``xi``, a home set ``A = {xi <= a}`` and an exit set ``B`` on which
``xi = +inf`` (the kernels set it). A path is run until it enters ``A`` or ``B``; its
score is ``S = max_k xi(X_k)`` over the path (``+inf`` iff it reached B). Wanted:
``p = P_eta(reach B before A)``, ``eta`` the law of the first state with ``xi > z0``
after the chain left ``A`` (sampled by the brute-force phase, see
:mod:`levydyn.rare.result` for the cycles).

One run with ``n`` replicas::

    draw X^1..X^n ~ eta; run each to A or B; S_i = its score
    k = 0
    repeat:
        z_k = min_i S_i                        # the level: current minimum, ties included
        if z_k = +inf: stop                    # every replica reached B
        K_k = #{i : S_i <= z_k}                # kill ALL replicas at or below the level
        if K_k = n: p_hat = 0, stop            # extinction (all tied)
        for each killed i: pick j uniformly among the survivors (S_j > z_k);
            replica i := replica j's path up to its FIRST state with xi > z_k,
            continued from there with fresh randomness until A or B
        k += 1
    p_hat = prod_k (1 - K_k / n) * #{i in B} / n

Killing every replica *at or below* the level (not only the strict minimum) and
restarting clones from the *first* passage above the level is what keeps ``E p_hat = p``
exactly for a discrete chain, where ties occur with positive probability and a
heavy-tailed jump overshoots many levels at once (Brehier et al. 2016, Thm 4.1). Cutting a
run after ``max_iterations`` leaves an estimate of ``P(S > z_k) >= p``: reported as a
bound (censored), never as ``p``.

The simulator interface
-----------------------
A simulator (:class:`PathSimulator`) owns the paths; the algorithm sees only a
:class:`Replicas` record (scores, status, end times, exit axis/side/point, work). It offers:

1. ``first_crossings(run, n)``: the brute-force phase: ``n`` independent chains from the
   start point (in A) make ``cycles`` full cycles each, then run once more to the first
   crossing of ``z0``; returns the replicas (started at those crossings, not yet run) and
   the cycle statistics;
2. ``advance(reps, rows)``: run replicas ``rows`` from their start states until A or B
   (or a step cap), recording the score, the end state and the duration;
3. ``branch(reps, dst, src, level, generation)``: replica ``dst[q]`` becomes a copy of
   replica ``src[q]``'s path up to its first state with ``xi > level`` (how it finds that
   state is its business: the numba simulators re-simulate the source's segment from its
   counter-based stream, which reproduces it bit for bit), then continues with fresh
   randomness drawn from ``(seed, run, dst[q], generation)``, until A or B.

Work (path-steps, or SGD steps) is added to ``reps.work`` by the simulator.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from levydyn.rare.result import RunRecord

# replica status after a segment
IN_A = 0
IN_B = 1
CAPPED = 2          # hit the simulator's step cap before A or B
DIVERGED = 3        # state became non-finite


@dataclass
class Replicas:
    """What the algorithm reads of ``n`` replicas; ``state`` belongs to the simulator.

    score : ``max xi`` along each replica's path (``inf`` once it reached B).
    status : ``IN_A``, ``IN_B``, ``CAPPED``, ``DIVERGED``.
    t_end : steps from the first crossing of ``z0`` to the end of the path.
    axis, side, point : where the path reached B (``-1, 0, nan`` otherwise).
    work : path-steps spent so far (all phases).
    """

    score: np.ndarray
    status: np.ndarray
    t_end: np.ndarray
    axis: np.ndarray
    side: np.ndarray
    point: np.ndarray
    work: int = 0
    state: object = None

    @classmethod
    def empty(cls, n: int, dim: int, state=None) -> "Replicas":
        return cls(np.full(n, -np.inf), np.full(n, IN_A, dtype=np.int64),
                   np.zeros(n, dtype=np.int64), np.full(n, -1, dtype=np.int64),
                   np.zeros(n, dtype=np.int64), np.full((n, dim), np.nan), 0, state)


@dataclass
class Cycles:
    """Statistics of the brute-force phase (durations in steps)."""

    loops: np.ndarray           # durations of cycles that returned to A
    t1: np.ndarray              # durations A -> first crossing of z0 (every cycle)
    successes: int              # cycles that reached B directly


class PathSimulator:
    """The three operations gAMS needs (module doc); subclasses implement them."""

    dim: int = 1

    def first_crossings(self, run: int, n: int) -> tuple[Replicas, Cycles]:
        raise NotImplementedError

    def advance(self, reps: Replicas, rows: np.ndarray) -> None:
        raise NotImplementedError

    def branch(self, reps: Replicas, dst: np.ndarray, src: np.ndarray, level: float,
               generation: int) -> None:
        raise NotImplementedError


def selection_rng(seed: int, run: int) -> np.random.Generator:
    """The generator that picks the survivors to clone in run ``run`` (its own stream:
    independent of the paths' streams and of any thread count)."""
    return np.random.Generator(np.random.Philox(key=[seed, 0x5A115 + run]))


def run_gams(sim: PathSimulator, run: int, n: int, seed: int, max_iterations: int,
             k: int = 1) -> RunRecord:
    """One run of generalised AMS with ``n`` replicas (algorithm in the module doc).

    ``k``: the level is the ``k``-th smallest score instead of the smallest (every replica
    at or below it is killed, ``K_j >= k``); still unbiased (Brehier et al. 2016, the
    algorithm is stated for any ``k < n``), ``k`` times fewer iterations, slightly more
    variance.
    """
    reps, cyc = sim.first_crossings(run, n)
    sim.advance(reps, np.arange(n))
    rng = selection_rng(seed, run)
    levels, killed = [], []
    log_p = 0.0
    censored = ""
    extinct = False
    while True:
        bad = _bad_status(reps)
        if bad:
            censored = bad
            break
        z = float(np.partition(reps.score, k - 1)[k - 1])
        if z == math.inf:
            break
        if len(levels) >= max_iterations:
            censored = f"max_iterations={max_iterations} reached at level {z:.4g}"
            break
        dead = np.flatnonzero(reps.score <= z)
        alive = np.flatnonzero(reps.score > z)
        levels.append(z)
        killed.append(dead.size)
        if alive.size == 0:
            extinct = True
            log_p = -math.inf
            break
        log_p += math.log1p(-dead.size / n)
        src = alive[rng.integers(0, alive.size, size=dead.size)]
        sim.branch(reps, dead, src, z, len(levels))
    in_b = reps.status == IN_B
    p = math.exp(log_p) * (in_b.mean() if not censored else 1.0)
    if censored:                          # P(S > last level) >= p: an upper bound
        p = math.exp(log_p)
    return RunRecord(p=p, levels=np.array(levels), killed=np.array(killed, dtype=np.int64),
                     censored=censored, cycle_loops=cyc.loops.astype(float),
                     cycle_t1=cyc.t1.astype(float), cycle_successes=int(cyc.successes),
                     final_t=reps.t_end[in_b].astype(float) if not censored else np.zeros(0),
                     axis=reps.axis[in_b] if not censored else np.zeros(0, dtype=np.int64),
                     side=reps.side[in_b] if not censored else np.zeros(0, dtype=np.int64),
                     work=int(reps.work), extinct=extinct)


def _bad_status(reps: Replicas) -> str:
    """Why the run cannot go on honestly ("" if it can)."""
    if np.any(reps.status == DIVERGED):
        return f"{int(np.sum(reps.status == DIVERGED))} replica(s) diverged (non-finite state)"
    if np.any(reps.status == CAPPED):
        return (f"{int(np.sum(reps.status == CAPPED))} replica(s) reached the step cap "
                "max_steps before A or B")
    return ""
