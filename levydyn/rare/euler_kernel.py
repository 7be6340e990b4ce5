"""Numba kernels of the Euler chain for splitting (:mod:`levydyn.rare.euler`).

The chain is the Euler step of :mod:`levydyn.solvers.euler` (same drift control, same
noise laws, same counter-based streams, same exit monitoring with the Brownian bridge on
diffusive box axes): one step from ``x_k`` uses the words ``2 (k d + l)`` of the
segment's stream, so a segment re-run from its start state with its key is the same path,
bit for bit (this is how :func:`branch` finds a survivor's first passage above a level).

A *segment* (:func:`_segment`) runs from a state until it enters ``A = {xi <= a}``,
reaches ``B`` (the exit set: Box/Ball exit, or another well's core), passes ``level``
(``xi > level``), or has made ``max_steps`` steps. Kernels are compiled once per machine
(explicit signatures, ``cache=True``, :mod:`levydyn.solvers.compiled`).

:func:`first_crossings` (``n`` long brute-force chains) runs in parallel; :func:`advance`
and :func:`branch` run serially: one gAMS iteration moves a few replicas, and waking a
thread pool for each costs more than the steps (10-20 ms per call on a loaded machine).
Every replica draws from its own stream, so none of this changes a number.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba import types

from levydyn.model.noise import stream_key
from levydyn.model.noise_laws import LAW_STABLE
from levydyn.rare.ams import CAPPED, DIVERGED, IN_A, IN_B
from levydyn.rare.coordinates import XiFn
from levydyn.solvers.compiled import A1, A2, BOOL, F64, I1, I2, I64, U64, lazy_kernel
from levydyn.solvers.euler import (BLOCK, BRIDGE_BASE, DOMAIN_BOX, DOMAIN_WELLS, RUN_PATHS_SIG,
                                   _drift_flow, _fill_noise, _increment, check_exit)

PASSED = 4          # the segment passed ``level`` (the state is the first one above it)
XI_NAN = 5          # the reaction coordinate returned a non-finite value
U1 = types.uint64[::1]

# kernel_inputs(problem, dt) (potential ... length, dt), bridge, home well
_PROBLEM = (*RUN_PATHS_SIG[:27], BOOL, I64)
_CHAIN = (XiFn, A1, F64, I64)     # xi, xi params, a, max_steps (as in every chain's kernels)


@nb.njit(cache=True)
def replica_key(seed, run, generation, replica):
    """Stream key of replica ``replica``'s segment started at ``generation`` of ``run``
    (generation 0: the brute-force phase)."""
    return stream_key(stream_key(seed, run), (np.uint64(generation) << np.uint64(32))
                      + np.uint64(replica))


@nb.njit(cache=True)
def replica_keys(seed, run, generation, rows):
    """:func:`replica_key` of each replica in ``rows``."""
    out = np.empty(rows.shape[0], dtype=np.uint64)
    for q in range(rows.shape[0]):
        out[q] = replica_key(seed, run, generation, rows[q])
    return out


@nb.njit(inline="always")
def _step(grad, gparams, law, alpha, param, table, table_n, base_scale, dkind, lower, upper,
          center, radius, minima, core_radius, home, bridge_mask, length, dt,
          x, g, xprev, zbuf, key, k):
    """Euler step ``k`` of a segment in place; returns ``(code, axis, side)``: code 0
    inside, ``IN_B`` in the exit set, ``DIVERGED`` non-finite."""
    d = x.shape[0]
    j = k % BLOCK
    if j == 0:
        _fill_noise(zbuf, law, alpha, table, table_n, key, k)
    for l in range(d):
        xprev[l] = x[l]
    _drift_flow(grad, gparams, x, g, dt, length)
    finite = True
    for l in range(d):
        x[l] += _increment(law[l], alpha[l], param[l], base_scale[l], zbuf[j, l], key,
                           2 * (k * d + l))
        if not math.isfinite(x[l]):
            finite = False
    if not finite:
        return DIVERGED, -1, 0
    if dkind == DOMAIN_WELLS:
        for w in range(minima.shape[0]):
            if w != home and abs(x[0] - minima[w]) < core_radius[w]:
                return IN_B, 0, (1 if w > home else -1)
        return 0, -1, 0
    hit, side, _ = check_exit(dkind, lower, upper, center, radius, x, xprev, base_scale,
                              bridge_mask, key, BRIDGE_BASE + k * d)
    if hit >= 0:
        return IN_B, hit, side
    return 0, -1, 0


@nb.njit(cache=True)
def _segment(grad, gparams, law, alpha, param, table, table_n, base_scale, dkind, lower,
             upper, center, radius, minima, core_radius, home, bridge_mask, length, dt,
             xi, xip, x, key, m0, level, a, max_steps, trace):
    """Run from ``x`` (in place) until A, B, ``xi > level`` or ``max_steps`` steps.

    Returns ``(code, steps, running max of xi incl. m0, axis, side)``; in B the max is inf.
    ``trace[k] = xi(x_{k+1})`` for the first ``trace.shape[0]`` steps (the pilot path).
    Not inlined: one compiled copy serves every kernel (compile time).
    """
    d = x.shape[0]
    g = np.empty(d)
    xprev = np.empty(d)
    zbuf = np.empty((BLOCK, d))
    m = m0
    for k in range(max_steps):
        code, ax, sd = _step(grad, gparams, law, alpha, param, table, table_n, base_scale,
                             dkind, lower, upper, center, radius, minima, core_radius, home,
                             bridge_mask, length, dt, x, g, xprev, zbuf, key, k)
        if code == IN_B:
            return IN_B, k + 1, math.inf, ax, sd
        if code == DIVERGED:
            return DIVERGED, k + 1, m, -1, 0
        v = xi(x, xip)
        if k < trace.shape[0]:
            trace[k] = v
        if not math.isfinite(v):
            return XI_NAN, k + 1, m, -1, 0
        if v > m:
            m = v
        if v > level:
            return PASSED, k + 1, m, -1, 0
        if v <= a:
            return IN_A, k + 1, m, -1, 0
    return CAPPED, max_steps, m, -1, 0


@nb.njit(inline="always")
def store_end(i, code, k, m, ax, sd, x, start_t, score, status, t_end, axis, side, point,
              work):
    """Record how replica ``i``'s segment ended (``k`` steps, running max ``m``)."""
    score[i] = m
    status[i] = code
    t_end[i] = start_t[i] + k
    axis[i] = ax
    side[i] = sd
    for l in range(x.shape[0]):
        point[i, l] = x[l] if code == IN_B else math.nan
    work[i] += k


@nb.njit(inline="always")
def _bridge_mask(law, alpha, dkind, bridge):
    d = law.shape[0]
    mask = np.zeros(d, dtype=np.bool_)
    for l in range(d):
        mask[l] = bridge and alpha[l] == 2.0 and law[l] == LAW_STABLE and dkind == DOMAIN_BOX
    return mask


FIRST_CROSSINGS_SIG = types.void(
    *_PROBLEM, *_CHAIN, F64, U64, I64, I64,
    # outputs: y, y_xi, y_code, y_t1, y_axis, y_side, loops, t1s, outcome, work, status
    A2, A1, I1, I1, I1, I1, I2, I2, I2, I1, I1)


@lazy_kernel(FIRST_CROSSINGS_SIG, parallel=True)
def first_crossings(grad, gparams, x0, law, alpha, eps, param, table, table_n, sched_alpha,
                    power, base_scale, kind, gamma, t0, ms, vs, dkind, lower, upper, center,
                    radius, minima, maxima, core_radius, length, dt, bridge, home,
                    xi, xip, a, max_steps, z0, seed, run, n_cycles,
                    y, y_xi, y_code, y_t1, y_axis, y_side, loops, t1s, outcome, work, status):
    """The brute-force phase: chain ``i`` (streams ``replica_key(seed, run, 0, i)``
    mixed with its segment count) starts at ``x0`` (in A) and makes ``n_cycles`` cycles:
    climb to the first state with ``xi > z0`` (``t1s``), then run to A (a loop:
    ``loops[i, c]`` = whole cycle in steps, ``outcome`` 0) or to B (``outcome`` 1; the
    chain restarts at ``x0``). Then it climbs once more: ``y[i]`` is that first crossing
    (``y_code`` ``PASSED``, or ``IN_B`` if the climb jumped straight into B), ``y_t1`` its
    climb time. ``status[i]`` is 0, or ``CAPPED`` / ``DIVERGED`` / ``XI_NAN``."""
    n = y.shape[0]
    mask = _bridge_mask(law, alpha, dkind, bridge)
    for i in nb.prange(n):
        base = replica_key(seed, run, 0, i)
        x = x0.copy()
        s = 0
        w = 0
        status[i] = 0
        for c in range(n_cycles + 1):
            code, k, m, ax, sd = _segment(grad, gparams, law, alpha, param, table, table_n,
                                          base_scale, dkind, lower, upper, center, radius,
                                          minima, core_radius, home, mask, length, dt, xi,
                                          xip, x, stream_key(base, s), xi(x, xip), z0,
                                          -math.inf, max_steps, np.empty(0))
            s += 1
            w += k
            if code != PASSED and code != IN_B:
                status[i] = code
                break
            if c == n_cycles:
                for l in range(x.shape[0]):
                    y[i, l] = x[l]
                y_xi[i] = m
                y_code[i] = code
                y_t1[i] = k
                y_axis[i] = ax
                y_side[i] = sd
                break
            t1s[i, c] = k
            if code == IN_B:
                outcome[i, c] = 1
                loops[i, c] = k
                x[:] = x0
                continue
            code2, k2, m2, ax2, sd2 = _segment(grad, gparams, law, alpha, param, table, table_n,
                                               base_scale, dkind, lower, upper, center, radius,
                                               minima, core_radius, home, mask, length, dt, xi,
                                               xip, x, stream_key(base, s), m, math.inf, a,
                                               max_steps, np.empty(0))
            s += 1
            w += k2
            loops[i, c] = k + k2
            if code2 == IN_A:
                outcome[i, c] = 0
            elif code2 == IN_B:
                outcome[i, c] = 1
                x[:] = x0
            else:
                status[i] = code2
                break
        work[i] = w


ADVANCE_SIG = types.void(
    *_PROBLEM, *_CHAIN, I1, A2, U1, A1, I1,
    # outputs: score, status, t_end, axis, side, point, work
    A1, I1, I1, I1, I1, A2, I1)


@lazy_kernel(ADVANCE_SIG)
def advance(grad, gparams, x0, law, alpha, eps, param, table, table_n, sched_alpha,
            power, base_scale, kind, gamma, t0, ms, vs, dkind, lower, upper, center,
            radius, minima, maxima, core_radius, length, dt, bridge, home,
            xi, xip, a, max_steps, rows, starts, keys, start_xi, start_t,
            score, status, t_end, axis, side, point, work):
    """Run replicas ``rows`` from ``starts[i]`` with stream ``keys[i]`` until A or B."""
    mask = _bridge_mask(law, alpha, dkind, bridge)
    for q in range(rows.shape[0]):
        i = rows[q]
        x = starts[i].copy()
        code, k, m, ax, sd = _segment(grad, gparams, law, alpha, param, table, table_n,
                                      base_scale, dkind, lower, upper, center, radius, minima,
                                      core_radius, home, mask, length, dt, xi, xip, x,
                                      keys[i], start_xi[i], math.inf, a, max_steps, np.empty(0))
        store_end(i, code, k, m, ax, sd, x, start_t, score, status, t_end, axis, side, point,
                  work)


BRANCH_SIG = types.void(
    *_PROBLEM, *_CHAIN, I1, I1, F64, U1,
    # replica records (in/out): starts, keys, start_xi, start_t
    A2, U1, A1, I1,
    # outputs: score, status, t_end, axis, side, point, work
    A1, I1, I1, I1, I1, A2, I1)


@lazy_kernel(BRANCH_SIG)
def branch(grad, gparams, x0, law, alpha, eps, param, table, table_n, sched_alpha,
           power, base_scale, kind, gamma, t0, ms, vs, dkind, lower, upper, center,
           radius, minima, maxima, core_radius, length, dt, bridge, home,
           xi, xip, a, max_steps, dst, src, level, new_keys,
           starts, keys, start_xi, start_t, score, status, t_end, axis, side, point, work):
    """Replica ``dst[q]`` := replica ``src[q]``'s path up to its first state with
    ``xi > level`` (re-simulated from the source's start state and key), continued with
    the stream ``new_keys[q]`` until A or B. A source whose segment went straight into B
    without a finite state above ``level`` is copied whole (same records, same end).
    ``dst`` and ``src`` are disjoint (killed vs surviving), so the loop is race-free."""
    mask = _bridge_mask(law, alpha, dkind, bridge)
    for q in range(dst.shape[0]):
        i = dst[q]
        j = src[q]
        x = starts[j].copy()
        kb = 0
        xb = start_xi[j]
        if not start_xi[j] > level:
            code, kb, m, ax, sd = _segment(grad, gparams, law, alpha, param, table, table_n,
                                           base_scale, dkind, lower, upper, center, radius,
                                           minima, core_radius, home, mask, length, dt, xi,
                                           xip, x, keys[j], start_xi[j], level, a, max_steps,
                                           np.empty(0))
            work[i] += kb
            if code != PASSED:           # IN_B: the source's path is copied whole
                for l in range(x.shape[0]):
                    starts[i, l] = starts[j, l]
                    point[i, l] = point[j, l]
                keys[i] = keys[j]
                start_xi[i] = start_xi[j]
                start_t[i] = start_t[j]
                score[i] = score[j]
                status[i] = status[j] if code == IN_B else code
                t_end[i] = t_end[j]
                axis[i] = axis[j]
                side[i] = side[j]
                continue
            xb = m
        for l in range(x.shape[0]):
            starts[i, l] = x[l]
        keys[i] = new_keys[q]
        start_xi[i] = xb
        start_t[i] = start_t[j] + kb
        code, k, m, ax, sd = _segment(grad, gparams, law, alpha, param, table, table_n,
                                      base_scale, dkind, lower, upper, center, radius, minima,
                                      core_radius, home, mask, length, dt, xi, xip, x,
                                      keys[i], xb, math.inf, a, max_steps, np.empty(0))
        store_end(i, code, k, m, ax, sd, x, start_t, score, status, t_end, axis, side, point,
                  work)


PILOT_SIG = types.void(*_PROBLEM, *_CHAIN, U64, A1)


@lazy_kernel(PILOT_SIG)
def pilot(grad, gparams, x0, law, alpha, eps, param, table, table_n, sched_alpha,
          power, base_scale, kind, gamma, t0, ms, vs, dkind, lower, upper, center,
          radius, minima, maxima, core_radius, length, dt, bridge, home,
          xi, xip, a, max_steps, key, out):
    """``out[k] = xi(x_k)`` along one path from ``x0``, restarted at ``x0`` (a new
    sub-stream) whenever it reaches B; stops early (rest -inf) only at a bad state."""
    mask = _bridge_mask(law, alpha, dkind, bridge)
    out[:] = -math.inf
    n = out.shape[0]
    pos = 0
    s = 0
    while pos < n:                   # restart at x0 whenever the path reaches B
        code, k, m, ax, sd = _segment(grad, gparams, law, alpha, param, table, table_n,
                                      base_scale, dkind, lower, upper, center, radius, minima,
                                      core_radius, home, mask, length, dt, xi, xip, x0.copy(),
                                      stream_key(key, s), -math.inf, math.inf, -math.inf,
                                      n - pos, out[pos:])
        pos += k
        s += 1
        if code != IN_B:
            break
