"""Numba kernels of the random linear recursion for splitting (:mod:`levydyn.rare.kesten`).

The chain is :func:`levydyn.kesten.kernel.step`, ``x <- x - lr (H x + u)`` with ``(H, u)``
from the minibatch law, at a constant ``lr``. A segment draws from its own counter-based
stream (counter from 0), and sampling without replacement starts each segment from the
identity permutation (a partial Fisher-Yates shuffle gives a uniform minibatch from any
permutation, so the law of the chain is unchanged), so a segment re-run from its start
state is the same path. Same kernels and arguments as :mod:`levydyn.rare.euler_kernel`
(see :mod:`levydyn.rare.chain`); ``B`` is the exit set (Ball or Box) of the recursion.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba import types

from levydyn.kesten import kernel as K
from levydyn.model.noise import stream_key
from levydyn.rare.ams import CAPPED, DIVERGED, IN_A, IN_B
from levydyn.rare.chain import PASSED, XI_NAN
from levydyn.rare.coordinates import XiFn
from levydyn.rare.euler_kernel import replica_key, replica_keys, store_end  # noqa: F401
from levydyn.solvers.compiled import A1, A2, A3, F64, I1, I2, I64, U64, lazy_kernel

U1 = types.uint64[::1]
# law (MinibatchLaw.encode), lr, exit set (Recursion.exit_args)
_MODEL = (I64, I1, A1, A3, A2, A2, A1, A1, A1, F64, I64, A1, A1, A1, F64)
_CHAIN = (XiFn, A1, F64, I64)


@nb.njit(cache=True)
def _segment(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr, exit_kind, lower, upper,
             center, radius, xi, xip, x, key, m0, level, a, max_steps, trace):
    """Run from ``x`` (in place) until A, B, ``xi > level`` or ``max_steps`` steps: same
    contract as :func:`levydyn.rare.euler_kernel._segment`."""
    P = x.shape[0]
    hx = np.empty(P)
    gu = np.empty(P)
    buf = np.empty(P + 1)
    perm = np.arange(ints[K.I_N] if ints[K.I_REPLACE] == 0 else 0)
    ctr = 0
    m = m0
    for k in range(max_steps):
        ctr = K.step(kind, ints, reals, F, G, R2, Rd, atoms, cdf, x, lr, True, key, ctr,
                     hx, gu, buf, perm)
        for j in range(P):
            if not math.isfinite(x[j]):
                return DIVERGED, k + 1, m, -1, 0
        out, ax, sd = K._outside(exit_kind, x, lower, upper, center, radius)
        if out:
            return IN_B, k + 1, math.inf, ax, sd
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


FIRST_CROSSINGS_SIG = types.void(*_MODEL, A1, *_CHAIN, F64, U64, I64, I64,
                                 A2, A1, I1, I1, I1, I1, I2, I2, I2, I1, I1)


@lazy_kernel(FIRST_CROSSINGS_SIG, parallel=True)
def first_crossings(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr, exit_kind, lower, upper,
                    center, radius, x0, xi, xip, a, max_steps, z0, seed, run, n_cycles,
                    y, y_xi, y_code, y_t1, y_axis, y_side, loops, t1s, outcome, work, status):
    """The brute-force phase (as :func:`levydyn.rare.euler_kernel.first_crossings`)."""
    for i in nb.prange(y.shape[0]):
        base = replica_key(seed, run, 0, i)
        x = x0.copy()
        s = 0
        w = 0
        status[i] = 0
        for c in range(n_cycles + 1):
            code, k, m, ax, sd = _segment(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr,
                                          exit_kind, lower, upper, center, radius, xi, xip, x,
                                          stream_key(base, s), xi(x, xip), z0, -math.inf,
                                          max_steps, np.empty(0))
            s += 1
            w += k
            if code != PASSED and code != IN_B:
                status[i] = code
                break
            if c == n_cycles:
                y[i] = x
                y_xi[i] = m
                y_code[i] = code
                y_t1[i] = k
                y_axis[i] = ax
                y_side[i] = sd
                break
            t1s[i, c] = k
            loops[i, c] = k
            if code == IN_B:
                outcome[i, c] = 1
                x[:] = x0
                continue
            code, k2, m, ax, sd = _segment(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr,
                                           exit_kind, lower, upper, center, radius, xi, xip, x,
                                           stream_key(base, s), m, math.inf, a, max_steps,
                                           np.empty(0))
            s += 1
            w += k2
            loops[i, c] = k + k2
            if code == IN_A:
                outcome[i, c] = 0
            elif code == IN_B:
                outcome[i, c] = 1
                x[:] = x0
            else:
                status[i] = code
                break
        work[i] = w


ADVANCE_SIG = types.void(*_MODEL, A1, *_CHAIN, I1, A2, U1, A1, I1, A1, I1, I1, I1, I1, A2, I1)


@lazy_kernel(ADVANCE_SIG)
def advance(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr, exit_kind, lower, upper,
            center, radius, x0, xi, xip, a, max_steps, rows, starts, keys, start_xi, start_t,
            score, status, t_end, axis, side, point, work):
    """Run replicas ``rows`` from ``starts[i]`` with stream ``keys[i]`` until A or B."""
    for q in range(rows.shape[0]):
        i = rows[q]
        x = starts[i].copy()
        code, k, m, ax, sd = _segment(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr,
                                      exit_kind, lower, upper, center, radius, xi, xip, x,
                                      keys[i], start_xi[i], math.inf, a, max_steps, np.empty(0))
        store_end(i, code, k, m, ax, sd, x, start_t, score, status, t_end, axis, side, point,
                  work)


BRANCH_SIG = types.void(*_MODEL, A1, *_CHAIN, I1, I1, F64, U1, A2, U1, A1, I1,
                        A1, I1, I1, I1, I1, A2, I1)


@lazy_kernel(BRANCH_SIG)
def branch(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr, exit_kind, lower, upper,
           center, radius, x0, xi, xip, a, max_steps, dst, src, level, new_keys,
           starts, keys, start_xi, start_t, score, status, t_end, axis, side, point, work):
    """Clone at the first passage above ``level`` and continue (as
    :func:`levydyn.rare.euler_kernel.branch`)."""
    for q in range(dst.shape[0]):
        i = dst[q]
        j = src[q]
        x = starts[j].copy()
        kb = 0
        xb = start_xi[j]
        if not start_xi[j] > level:
            code, kb, m, ax, sd = _segment(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr,
                                           exit_kind, lower, upper, center, radius, xi, xip, x,
                                           keys[j], start_xi[j], level, a, max_steps,
                                           np.empty(0))
            work[i] += kb
            if code != PASSED:           # IN_B: the source's path is copied whole
                starts[i] = starts[j]
                point[i] = point[j]
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
        starts[i] = x
        keys[i] = new_keys[q]
        start_xi[i] = xb
        start_t[i] = start_t[j] + kb
        code, k, m, ax, sd = _segment(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr,
                                      exit_kind, lower, upper, center, radius, xi, xip, x,
                                      keys[i], xb, math.inf, a, max_steps, np.empty(0))
        store_end(i, code, k, m, ax, sd, x, start_t, score, status, t_end, axis, side, point,
                  work)


PILOT_SIG = types.void(*_MODEL, A1, *_CHAIN, U64, A1)


@lazy_kernel(PILOT_SIG)
def pilot(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr, exit_kind, lower, upper,
          center, radius, x0, xi, xip, a, max_steps, key, out):
    """``out[k] = xi(x_k)`` along one path from ``x0``, restarted at ``x0`` (a new
    sub-stream) whenever it reaches B; stops early (rest -inf) only at a bad state."""
    out[:] = -math.inf
    n = out.shape[0]
    pos = 0
    s = 0
    while pos < n:                   # restart at x0 whenever the path reaches B
        code, k, m, ax, sd = _segment(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr,
                                      exit_kind, lower, upper, center, radius, xi, xip,
                                      x0.copy(), stream_key(key, s), -math.inf, math.inf,
                                      -math.inf, n - pos, out[pos:])
        pos += k
        s += 1
        if code != IN_B:
            break
