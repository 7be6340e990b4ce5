"""Rare escapes of a network's SGD by splitting: generalised AMS on the torch replicas.

The chain is the escape experiment's (:mod:`nn_bridge.escape.experiment`): plain SGD
``w_{k+1} = w_k - lr (g_{B_k}(w_k) + wd w_k)`` with i.i.d. minibatches, a time-homogeneous
Markov chain on the weights, run for many replicas at once (stacked weights, gradients by
``torch.func.vmap`` through the oracle; the device follows the oracle's tensors). Any oracle
of :func:`~nn_bridge.escape.experiment.run_escape` works (the network, or the torch rungs of
the ladder).

Reaction coordinate and sets (issue 27, part c)::

    xi(w) = floor(||w - w*|| / (R h)) h   (h = ``xi_step``),   xi = +inf once ||w - w*|| > R,
    A = {xi <= a} (a small ball around w*),   B = {||w - w*|| > R} (the experiment's exit).

A non-finite state counts as an exit, as in :func:`run_escape`. The coordinate is quantised
on a grid of step ``h``: generalised AMS is unbiased for *any* coordinate, ties included
(Brehier et al. 2016, Thm 4.1; :mod:`levydyn.rare.ams`), and on the grid a path's running
maximum rises at most ``1/h`` times, so the simulator can keep the weights at every rise
(the states a clone may start from) in bounded memory instead of re-simulating.

Cloning (``branch``): the killed replica becomes a copy of the survivor's weights at its
*first* state with ``xi > level`` and continues with fresh minibatches drawn from its own
stream ``(seed, run, generation, replica)`` (numpy ``SeedSequence``). The mean escape time is
the cycle decomposition ``E tau = E[T_loop](1 - p)/p + E[T_reac]``
(:mod:`levydyn.rare.result`), in SGD iterations; ``work`` counts SGD steps of single
replicas (what brute force pays per replica-iteration).

:func:`split_network` estimates the network (or any oracle); :func:`split_multiplicative`
runs rung (f), the kesten recursion, through :func:`levydyn.rare.split_recursion`.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from levydyn.rare.ams import CAPPED, IN_A, IN_B, Cycles, PathSimulator, Replicas, run_gams
from levydyn.rare.chain import check_settings
from levydyn.rare.result import SplittingResult, combine
from nn_bridge.data.flat import check_finite_vector, positive
from nn_bridge.escape.experiment import BLOCK

__all__ = ["NetworkChain", "split_network", "split_multiplicative", "splitting_record",
           "XI_STEP"]

#: Default grid step of the reaction coordinate (fraction of the escape radius).
XI_STEP = 1.0 / 256
PASSED = 4          # a climb segment crossed its upper level (not an ams status)


def stream(seed: int, run: int, generation: int, replica: int) -> np.random.Generator:
    """The minibatch stream of one segment of one replica (numpy ``SeedSequence``)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(run), int(generation),
                                                         int(replica)]))


class _Streams:
    """Per replica slot: its generator and a block of pre-drawn minibatches (``BLOCK``
    steps at a time, as :func:`run_escape` draws them)."""

    def __init__(self, oracle, n: int):
        self.orc = oracle
        probe = np.asarray(oracle.draw(np.random.default_rng(0), BLOCK))
        self.buf = np.zeros((n,) + probe.shape, dtype=probe.dtype)
        self.pos = np.full(n, BLOCK)
        self.gens: list = [None] * n

    def reset(self, slot: int, gen: np.random.Generator) -> None:
        self.gens[slot], self.pos[slot] = gen, BLOCK

    def next(self, slots: np.ndarray) -> torch.Tensor:
        for s in slots[self.pos[slots] >= BLOCK]:
            self.buf[s] = self.orc.draw(self.gens[s], BLOCK)
            self.pos[s] = 0
        out = self.buf[slots, self.pos[slots]]
        self.pos[slots] += 1
        return torch.as_tensor(out)


class NetworkChain(PathSimulator):
    """SGD replicas of ``oracle`` from ``w_star`` as a :class:`~levydyn.rare.PathSimulator`
    (module docstring). ``a``, ``z0``: the set ``A = {xi <= a}`` and the first level."""

    dim = 1

    def __init__(self, oracle, w_star, lr: float, radius: float, *, a: float, z0: float,
                 cycles: int, seed: int, max_steps: int, xi_step: float = XI_STEP):
        self.orc = oracle
        self.w0 = torch.as_tensor(check_finite_vector("w_star", w_star, oracle.n_params),
                                  dtype=oracle.dtype, device=oracle.device)
        self.lr = positive("lr", lr)
        self.radius = positive("radius", radius)
        self.h = positive("xi_step", xi_step)
        self.a, self.z0 = float(a), float(z0)
        self.cycles, self.seed, self.max_steps = int(cycles), int(seed), int(max_steps)
        self.run = 0

    # ------------------------------------------------------------------ the chain
    def xi(self, W: torch.Tensor) -> np.ndarray:
        """Quantised distance ``floor(||w - w*|| / (R h)) h``; ``inf`` beyond ``R`` or if
        not finite."""
        d = (torch.linalg.vector_norm(W - self.w0, dim=1) / self.radius).cpu().numpy()
        with np.errstate(invalid="ignore"):
            out = np.floor(d / self.h) * self.h
        return np.where(np.isfinite(d) & (d <= 1.0), out, np.inf)

    def _segments(self, streams: _Streams, slots: np.ndarray, W: torch.Tensor,
                  upper: np.ndarray, lower: float, run_max: np.ndarray,
                  t_start: np.ndarray, records: list | None):
        """Run each row of ``W`` (stream ``slots[j]``) until ``xi > upper[j]`` (PASSED),
        ``xi <= lower`` (IN_A), B (IN_B) or ``max_steps`` (CAPPED); ``run_max`` is updated
        in place. With ``records``, every rise of a row's running maximum appends
        ``(xi, w, t_start + k)`` to ``records[slots[j]]``. Returns code, steps, end states."""
        m = slots.size
        code = np.full(m, CAPPED)
        steps = np.full(m, self.max_steps)
        W_end = W.clone()
        act = np.arange(m)
        Wa = W.clone()
        k = 0
        with torch.no_grad():
            while act.size and k < self.max_steps:
                Wa = Wa - self.lr * self.orc.gradients(Wa, streams.next(slots[act]))
                k += 1
                xi = self.xi(Wa)
                rm = run_max[act]
                rise = xi > rm
                if records is not None and rise.any():
                    for j in np.flatnonzero(rise & np.isfinite(xi)):
                        records[slots[act[j]]].append((float(xi[j]), Wa[j].clone(),
                                                       int(t_start[act[j]] + k)))
                run_max[act] = np.maximum(rm, xi)
                in_b = xi == np.inf
                up = ~in_b & (xi > upper[act])
                end = in_b | up | (xi <= lower)
                if end.any():
                    e = np.flatnonzero(end)
                    code[act[e]] = np.where(in_b[e], IN_B, np.where(up[e], PASSED, IN_A))
                    steps[act[e]] = k
                    W_end[_ix(act[e], Wa)] = Wa[_ix(e, Wa)]
                    keep = np.flatnonzero(~end)
                    act, Wa = act[keep], Wa[_ix(keep, Wa)]
        if act.size:
            W_end[_ix(act, Wa)] = Wa
        return code, steps, W_end

    # ------------------------------------------------------------------ gAMS interface
    def first_crossings(self, run: int, n: int) -> tuple[Replicas, Cycles]:
        """``n`` chains from ``w*`` make ``cycles`` cycles ``A -> {xi > z0} -> A or B`` and
        climb once more; the replicas start at those last crossings of ``z0``."""
        self.run = run
        streams = _Streams(self.orc, n)
        for i in range(n):
            streams.reset(i, stream(self.seed, run, 0, i))
        W = self.w0.repeat(n, 1)
        loops, t1s, successes = [], [], 0
        y_xi = np.zeros(n)
        y_code = np.zeros(n, dtype=np.int64)
        work = 0
        for c in range(self.cycles + 1):
            rows = np.arange(n)
            rm = self.xi(W)
            code, k1, W = self._segments(streams, rows, W, np.full(n, self.z0), -math.inf, rm,
                                         np.zeros(n), None)
            work += int(k1.sum())
            _check_capped(code, "the brute-force phase (climb to z0)")
            t1s.append(k1)
            if c == self.cycles:
                y_xi[rows], y_code[rows] = rm, code
                break
            in_b = code == IN_B
            successes += int(in_b.sum())
            W[_ix(rows[in_b], W)] = self.w0                  # a direct exit: restart at w*
            back = rows[~in_b]
            code2, k2, W2 = self._segments(streams, back, W[_ix(back, W)],
                                           np.full(back.size, np.inf), self.a,
                                           self.xi(W[_ix(back, W)]), np.zeros(back.size), None)
            work += int(k2.sum())
            _check_capped(code2, "the brute-force phase (return to A)")
            W[_ix(back, W)] = W2
            loops.append((k1[~in_b] + k2)[code2 == IN_A])
            successes += int((code2 == IN_B).sum())
            W[_ix(back[code2 == IN_B], W)] = self.w0
        reps = Replicas.empty(n, 1)
        ib = y_code == IN_B
        reps.state = {"W": W, "xi": y_xi, "t": np.zeros(n, dtype=np.int64),
                      "records": [[] if ib[i] else [(float(y_xi[i]), W[i].clone(), 0)]
                                  for i in range(n)],
                      "streams": _Streams(self.orc, n), "in_b": ib}
        reps.score[ib], reps.status[ib] = math.inf, IN_B
        reps.t_end[ib], reps.side[ib], reps.axis[ib], reps.point[ib] = 0, 1, 0, 1.0
        reps.work = work
        return reps, Cycles(np.concatenate(loops) if loops else np.zeros(0),
                            np.concatenate(t1s), successes)

    def advance(self, reps: Replicas, rows: np.ndarray, generation: int = 1) -> None:
        """Run replicas ``rows`` from their start states (fresh streams) until A or B."""
        st = reps.state
        rows = np.asarray(rows)[~st["in_b"][np.asarray(rows)]]
        if rows.size == 0:
            return
        for i in rows:
            st["streams"].reset(int(i), stream(self.seed, self.run, generation, int(i)))
        run_max = st["xi"][rows].copy()
        code, k, W_end = self._segments(st["streams"], rows, st["W"][_ix(rows, st["W"])],
                                        np.full(rows.size, np.inf), self.a, run_max,
                                        st["t"][rows], st["records"])
        reps.work += int(k.sum())
        _check_capped(code, "a replica")
        reps.score[rows] = np.where(code == IN_B, math.inf, run_max)
        reps.status[rows] = code
        reps.t_end[rows] = st["t"][rows] + k
        hit = code == IN_B
        reps.axis[rows] = np.where(hit, 0, -1)
        reps.side[rows] = np.where(hit, 1, 0)
        reps.point[rows, 0] = np.where(hit, 1.0, np.nan)

    def branch(self, reps: Replicas, dst: np.ndarray, src: np.ndarray, level: float,
               generation: int) -> None:
        """``dst[q]`` restarts from ``src[q]``'s first state with ``xi > level`` (a copy of its
        weights) with a fresh stream; records at or below ``level`` are dropped (no later
        level is lower)."""
        st = reps.state
        recs = st["records"]
        born_in_b = []
        for d, s in zip(np.asarray(dst), np.asarray(src)):
            first = next((r for r in recs[s] if r[0] > level), None)
            if first is None:            # src jumped from <= level straight into B
                born_in_b.append(int(d))
                reps.score[d], reps.status[d] = math.inf, IN_B
                reps.t_end[d], reps.axis[d], reps.side[d] = reps.t_end[s], 0, 1
                reps.point[d] = reps.point[s]
                continue
            st["W"][d] = first[1]
            st["xi"][d], st["t"][d] = first[0], first[2]
            recs[d] = [first]
        for i in range(len(recs)):
            recs[i] = [r for r in recs[i] if r[0] > level]
        rows = np.setdiff1d(np.asarray(dst), born_in_b)
        self.advance(reps, rows, generation + 1)


def _ix(rows: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """Row indices as a tensor on ``like``'s device."""
    return torch.as_tensor(np.asarray(rows, dtype=np.int64), device=like.device)


def _check_capped(code: np.ndarray, where: str) -> None:
    """A segment at the step cap cannot be used honestly: one line, before any estimate."""
    if np.any(code == CAPPED):
        raise ValueError(f"max_steps: {int(np.sum(code == CAPPED))} path(s) in {where} "
                         "reached the step cap before A or B; raise max_steps")


def pilot_levels(chain: NetworkChain, n_paths: int = 8, n_steps: int = 500) -> tuple[float, float]:
    """Defaults ``a`` = median and ``z0`` = 90 % quantile of ``xi`` along ``n_paths`` pilot
    paths of ``n_steps`` SGD steps from ``w*``, each up to its exit (capped: ``z0 <= 0.5``,
    ``a <= z0 / 2``, ``a`` at least one grid step); pilots that leave the ball before
    ``n_steps / 4`` states in all mean the escape is not rare (use brute force) -- a
    one-line error."""
    streams = _Streams(chain.orc, n_paths)
    for i in range(n_paths):
        streams.reset(i, stream(chain.seed, 2**31, 0, i))
    W = chain.w0.repeat(n_paths, 1)
    act = np.arange(n_paths)
    xs = []
    with torch.no_grad():
        for _ in range(n_steps):
            W = W - chain.lr * chain.orc.gradients(W, streams.next(act))
            x = chain.xi(W)
            keep = np.isfinite(x)
            xs.append(x[keep])
            if not keep.all():
                act, W = act[keep], W[_ix(np.flatnonzero(keep), W)]
            if act.size == 0:
                break
    xs = np.concatenate(xs)
    if xs.size < n_steps // 4:
        raise ValueError(f"the pilot paths left the ball of radius {chain.radius:g} within "
                         f"{xs.size} states in all: the escape is not rare (brute force will "
                         "do), or give a and z0")
    q50, q90 = np.quantile(xs, [0.5, 0.9])
    z0 = min(max(float(q90), 2 * chain.h), 0.5)
    a = max(min(float(q50), 0.5 * z0), chain.h)
    return a, z0


def split_network(oracle, w_star, lr: float, radius: float, n_replicas: int = 100,
                  n_runs: int = 4, seed: int = 0, *, a: float | None = None,
                  z0: float | None = None, cycles: int = 2, k: int | None = None,
                  max_iterations: int | None = None, max_steps: int = 1_000_000,
                  xi_step: float = XI_STEP, level: float = 0.95) -> SplittingResult:
    """Mean escape iterations of SGD from ``w_star`` out of the ball of ``radius`` by gAMS.

    Parameters
    ----------
    oracle : a :class:`~nn_bridge.escape.experiment.MinibatchGradient` (the network) or any
        oracle of :func:`~nn_bridge.escape.experiment.run_escape`.
    n_replicas, n_runs : replicas per run and independent runs (CI over runs).
    a, z0 : ``A = {xi <= a}`` and the first level (default: :func:`pilot_levels`).
    cycles : brute-force cycles per replica slot (they estimate ``E[T_loop]``).
    k : the level is the ``k``-th smallest score (:func:`levydyn.rare.run_gams`; still
        unbiased); default ``n_replicas // 4``, so that at least that many killed replicas
        advance together as one vmapped batch.
    max_iterations : levels per run before the run is censored (a bound, said so).
    max_steps : SGD steps per segment before the run is refused (one-line error).
    xi_step : grid step of the reaction coordinate (module docstring).

    Returns
    -------
    :class:`~levydyn.rare.SplittingResult` in iterations; ``work`` in SGD steps; ``meta``
    records the chain, the coordinate and the wall time.
    """
    if k is None:
        k = max(1, int(n_replicas) // 4) if isinstance(n_replicas, int) else 1
    n, n_runs, seed, cycles, k, max_iterations, max_steps = check_settings(
        n_replicas, n_runs, seed, cycles, k, max_iterations, max_steps)
    chain = NetworkChain(oracle, w_star, lr, radius, a=0.0, z0=0.0, cycles=cycles, seed=seed,
                         max_steps=max_steps, xi_step=xi_step)
    t0 = time.perf_counter()
    if a is None or z0 is None:
        pa, pz = pilot_levels(chain)
        a = pa if a is None else a
        z0 = pz if z0 is None else z0
    a, z0 = float(a), float(z0)
    if not 0 <= a < z0 < 1:
        raise ValueError(f"a, z0: need 0 <= a < z0 < 1 (fractions of the radius), got a={a!r}, "
                         f"z0={z0!r}")
    chain.a, chain.z0 = a, z0
    runs = [run_gams(chain, m, n, seed, max_iterations, k) for m in range(n_runs)]
    res = combine(runs, n, 1, a, z0, 1.0, level)
    res.meta = {"method": "splitting", "chain": "network SGD (torch replicas)",
                "time_unit": "iterations", "work_unit": "SGD steps (one replica, one step)",
                "xi": f"floor(||w - w*|| / (R h)) h, h = {xi_step:g}, R = {radius:g}",
                "lr": lr, "radius": radius, "seed": seed, "k": k, "cycles": cycles,
                "max_iterations": max_iterations, "wall_time_s": time.perf_counter() - t0}
    return res


def split_multiplicative(law, lr: float, radius: float, n_replicas: int = 100, n_runs: int = 4,
                         seed: int = 0, **kw) -> SplittingResult:
    """Rung (f) by splitting: the recursion ``x' = (I - lr H_B) x - lr u_B`` of ``law``
    (an :class:`~levydyn.kesten.EmpiricalMinibatch`) from ``x = 0`` out of the ball of
    ``radius``, through :func:`levydyn.rare.split_recursion` (``kw`` go there)."""
    from levydyn import Ball
    from levydyn.kesten import Recursion
    from levydyn.rare import split_recursion

    rec = Recursion(law, lr, domain=Ball(np.zeros(law.dim), radius))
    t0 = time.perf_counter()
    res = split_recursion(rec, n_replicas, n_runs, seed, **kw)
    res.meta.update(wall_time_s=time.perf_counter() - t0, work_unit="recursion steps")
    return res


def splitting_record(res: SplittingResult) -> dict:
    """What a study keeps of a splitting estimate (JSON-able apart from the
    :class:`~levydyn.results.Estimate` fields): the estimator, the mean escape iterations,
    ``p``, the work and how it was run."""
    m = res.meta
    return {"estimator": res.estimator, "mean_iterations": res.mean_exit_time, "p": res.p,
            "loop_iterations": res.loop_time, "reactive_iterations": res.reactive_time,
            "work": int(res.work), "work_unit": m.get("work_unit", "SGD steps"),
            "n_replicas": res.n_replicas, "n_runs": res.n_runs,
            "levels_per_run": [int(v) for v in res.levels], "a": res.a, "z0": res.z0,
            "censored": bool(res.censored), "reason": res.reason,
            "warning": getattr(res, "warning", ""),
            "wall_time_s": m.get("wall_time_s")}
