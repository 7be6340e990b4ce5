"""Numba kernels of the random linear recursion ``x_{k+1} = x_k - lr_k (H_k x_k + u_k)``.

Plain functions over arrays and scalars; the Python-facing classes in
:mod:`levydyn.kesten.models` validate input and encode a model as the arguments
``(kind, ints, reals, F, G, R2, Rd, atoms, cdf)`` (see :meth:`MinibatchLaw.encode`).

One draw of ``(H, u)`` per step and per path (:func:`step`):

- ``KIND_EMPIRICAL``: ``B`` indices ``n_1..n_B`` uniform on ``0..N-1`` (with replacement:
  ``n = floor(N U)``, one uniform each; without: a partial Fisher-Yates shuffle of a
  per-path permutation, one uniform each), then
  ``H x = (1/B) sum_b F_{n_b} F_{n_b}^T x + R x + wd x`` and ``u = (1/B) sum_b G_{n_b}``;
  ``F`` is stored as ``(N, r, P)`` (row ``F[n, c]`` is factor column ``c`` of sample ``n``).
- ``KIND_GAUSSIAN_LS``: ``b`` fresh samples ``a = sigma g``, ``y = noise xi`` with
  ``(g, xi)`` ``d + 1`` standard normals; ``x <- x - (lr/b) sum a (a^T x - y)``
  (the online model of paper 001, kesten.gaussian_ls; ``H = (1/b) sum a a^T``, ``u = -(1/b) sum a y``).
- ``KIND_SCALAR``: ``h = atoms[j]`` with ``P(j)`` from ``cdf`` (one uniform), ``u = u_scale z``,
  ``z ~ N(0, 1)``; ``x <- x - lr (h x + u)``, i.e. ``a = 1 - lr h``, ``b = -lr u``.

Randomness: path ``p`` uses the counter-based stream ``(seed, p)`` of
:mod:`levydyn.model.noise`; the counter advances by the uniforms consumed, so results are
bit-identical for any thread count. Normals: Marsaglia's polar method (pairs).
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from levydyn.model.noise import stream_key, uniform
from levydyn.model.schedules import KIND_CONSTANT, integrated_scale_power

KIND_EMPIRICAL = 0
KIND_GAUSSIAN_LS = 1
KIND_SCALAR = 2

EXIT_NONE = 0
EXIT_BOX = 1
EXIT_BALL = 2

# ints layout: [N, P, r, B, replace, n_atoms]; reals layout: [wd, sigma, noise, u_scale]
I_N, I_P, I_R, I_B, I_REPLACE, I_ATOMS = range(6)
R_WD, R_SIGMA, R_NOISE, R_USCALE = range(4)


@nb.njit(inline="always")
def normal_pair(key, counter):
    """Two independent N(0, 1) by Marsaglia's polar method; returns (z1, z2, next counter).

    Draw ``u, v`` uniform on (-1, 1) from uniforms ``counter, counter + 1`` until
    ``0 < s = u^2 + v^2 < 1``; then ``(u, v) sqrt(-2 log s / s)`` (Marsaglia & Bray 1964,
    the rejection form of Box-Muller). Each pair uses 4/pi uniform pairs on average.
    """
    while True:
        u = 2.0 * uniform(key, counter) - 1.0
        v = 2.0 * uniform(key, counter + 1) - 1.0
        counter += 2
        s = u * u + v * v
        if 0.0 < s < 1.0:
            f = math.sqrt(-2.0 * math.log(s) / s)
            return u * f, v * f, counter


@nb.njit(inline="always")
def fill_normals(key, counter, out, n):
    """out[:n] <- N(0, 1) from ``ceil(n/2)`` polar pairs; returns the next counter."""
    j = 0
    while j < n:
        z1, z2, counter = normal_pair(key, counter)
        out[j] = z1
        if j + 1 < n:
            out[j + 1] = z2
        j += 2
    return counter


@nb.njit(inline="always")
def step_lr(lr, sched_kind, gamma, t0, ms, vs, k):
    """``lr_k = lr int_k^{k+1} s_u du`` (the schedule averaged over iteration k)."""
    if sched_kind == KIND_CONSTANT:
        return lr
    return lr * integrated_scale_power(sched_kind, gamma, t0, ms, vs, 2.0, float(k), float(k + 1))


@nb.njit(inline="always")
def step(kind, ints, reals, F, G, R2, Rd, atoms, cdf, x, lr, with_u, key, ctr,
         hx, gu, buf, perm):
    """One step ``x <- x - lr (H x + u)`` in place (``u`` dropped unless ``with_u``).

    ``hx, gu`` (length P), ``buf`` (length P + 1) and ``perm`` (length N, a permutation,
    for sampling without replacement) are work arrays. Returns the next counter.
    """
    P = x.shape[0]
    if kind == KIND_SCALAR:
        u1 = uniform(key, ctr)
        z, _, ctr = normal_pair(key, ctr + 1)
        n_at = atoms.shape[0]
        j = 0
        while j < n_at - 1 and u1 > cdf[j]:
            j += 1
        noise = reals[R_USCALE] * z if with_u else 0.0
        x[0] = x[0] - lr * (atoms[j] * x[0] + noise)
        return ctr
    if kind == KIND_GAUSSIAN_LS:
        b = ints[I_B]
        sigma = reals[R_SIGMA]
        label = reals[R_NOISE] if with_u else 0.0
        for j in range(P):
            hx[j] = 0.0
        for _ in range(b):
            ctr = fill_normals(key, ctr, buf, P + 1)
            res = 0.0
            for j in range(P):
                res += buf[j] * x[j]
            res = sigma * res - label * buf[P]          # a^T x - y
            f = sigma * res
            for j in range(P):
                hx[j] += f * buf[j]
        s = lr / b
        for j in range(P):
            x[j] -= s * hx[j]
        return ctr
    # empirical minibatch law
    N = ints[I_N]
    r = ints[I_R]
    B = ints[I_B]
    for j in range(P):
        hx[j] = 0.0
        gu[j] = 0.0
    for i in range(B):
        if ints[I_REPLACE] == 1:
            n = min(int(uniform(key, ctr) * N), N - 1)
        else:
            m = i + min(int(uniform(key, ctr) * (N - i)), N - i - 1)
            n = perm[m]
            perm[m] = perm[i]
            perm[i] = n
        ctr += 1
        for c in range(r):
            row = F[n, c]
            dot = 0.0
            for j in range(P):
                dot += row[j] * x[j]
            for j in range(P):
                hx[j] += dot * row[j]
        if with_u:
            g = G[n]
            for j in range(P):
                gu[j] += g[j]
    inv_b = 1.0 / B
    wd = reals[R_WD]
    dense = R2.shape[0] == P
    diag = Rd.shape[0] == P
    for j in range(P):
        t = (hx[j] + gu[j]) * inv_b + wd * x[j]
        if diag:
            t += Rd[j] * x[j]
        if dense:
            acc = 0.0
            for l in range(P):
                acc += R2[j, l] * x[l]
            t += acc
        buf[j] = t
    for j in range(P):
        x[j] -= lr * buf[j]
    return ctr


@nb.njit(inline="always")
def _outside(exit_kind, x, lower, upper, center, radius):
    """(outside, axis, side) for the box ``(lower, upper)`` or the ball ``|x - c| < radius``.

    Box: the first axis with ``x <= lower`` or ``x >= upper``. Ball: outside when
    ``|x - c| >= radius`` (or not finite); axis = largest displacement, side its sign.
    """
    P = x.shape[0]
    if exit_kind == EXIT_BOX:
        for j in range(P):
            if not x[j] > lower[j]:
                return True, j, -1
            if not x[j] < upper[j]:
                return True, j, 1
        return False, -1, 0
    if exit_kind == EXIT_BALL:
        s = 0.0
        big = -1.0
        ax = 0
        for j in range(P):
            d = x[j] - center[j]
            s += d * d
            if abs(d) > big:
                big = abs(d)
                ax = j
        if not s < radius * radius:
            d = x[ax] - center[ax]
            return True, ax, (1 if d >= 0 else -1)
        return False, -1, 0
    return False, -1, 0


@nb.njit(parallel=True, cache=True)
def run_paths(kind, ints, reals, F, G, R2, Rd, atoms, cdf,
              lr, sched_kind, gamma, t0, ms, vs,
              x0s, exit_kind, lower, upper, center, radius, max_steps,
              burn_in, thin, rec, avg, do_avg, avg_from, avg_count, seed,
              times, exited, axis, side, points):
    """All paths of the recursion: first exit (if ``exit_kind``), records and averages.

    Path ``p`` (stream ``(seed, p)``) starts at ``x0s[p]`` (``x0s[0]`` for every path when
    ``x0s`` has one row) and runs until it leaves the exit set or for ``max_steps`` steps.
    ``times[p]`` = number of steps to the first outside point (``max_steps`` if censored),
    ``points[p]`` the state then. Snapshots ``rec[r, p] = x_{burn_in + (r + 1) thin}`` while
    the path runs (NaN after an exit); if ``do_avg``, ``avg[p]`` = (sum of ``x_k`` over
    ``k >= avg_from``, ``x_0`` included when ``avg_from <= 0``) / ``avg_count``.
    """
    n_paths = times.shape[0]
    P = x0s.shape[1]
    N = ints[I_N]
    n_rec = rec.shape[0]
    one_start = x0s.shape[0] == 1
    for p in nb.prange(n_paths):
        key = stream_key(seed, p)
        x = x0s[0].copy() if one_start else x0s[p].copy()
        hx = np.empty(P)
        gu = np.empty(P)
        buf = np.empty(P + 1)
        perm = np.arange(N if ints[I_REPLACE] == 0 else 0)
        acc = np.zeros(P)
        ctr = 0
        r = 0
        out = False
        k = 0
        ax, sd = -1, 0
        for r0 in range(n_rec):
            for j in range(P):
                rec[r0, p, j] = math.nan
        if do_avg and avg_from <= 0:
            for j in range(P):
                acc[j] += x[j]
        while k < max_steps:
            lr_k = step_lr(lr, sched_kind, gamma, t0, ms, vs, k)
            ctr = step(kind, ints, reals, F, G, R2, Rd, atoms, cdf, x, lr_k, True, key, ctr,
                       hx, gu, buf, perm)
            k += 1
            if do_avg and k >= avg_from:
                for j in range(P):
                    acc[j] += x[j]
            if k > burn_in:
                if r < n_rec and (k - burn_in) % thin == 0:
                    for j in range(P):
                        rec[r, p, j] = x[j]
                    r += 1
            if exit_kind != EXIT_NONE:
                out, ax, sd = _outside(exit_kind, x, lower, upper, center, radius)
                if out:
                    break
        times[p] = k
        exited[p] = out
        axis[p] = ax
        side[p] = sd
        for j in range(P):
            points[p, j] = x[j]
        if do_avg:
            for j in range(P):
                avg[p, j] = acc[j] / avg_count


@nb.njit(parallel=True, cache=True)
def lyapunov_paths(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr, n_burn, n_steps, seed,
                   v0s, out):
    """``out[p] = (1/n) sum_{k > n_burn} log ||M_k v_{k-1}||`` with ``v_k = M_k v_{k-1} / ||.||``.

    Renormalised products (Benettin et al. 1980): ``M_k = I - lr H_k``, ``v_0`` the direction
    of ``v0s[p]`` if ``v0s`` has a row per path, else a uniform random direction from the
    path's stream; ``n_burn`` steps to forget it. ``-inf`` if some ``M_k v = 0``, ``+inf`` if
    ``||M_k v||`` overflows.
    """
    n_paths = out.shape[0]
    P = ints[I_P]
    N = ints[I_N]
    for p in nb.prange(n_paths):
        key = stream_key(seed, p)
        v = np.empty(P)
        hx = np.empty(P)
        gu = np.empty(P)
        buf = np.empty(P + 1)
        perm = np.arange(N if ints[I_REPLACE] == 0 else 0)
        if v0s.shape[0] == n_paths:
            ctr = 0
            for j in range(P):
                v[j] = v0s[p, j]
        else:
            ctr = fill_normals(key, 0, v, P)
        nv = 0.0
        for j in range(P):
            nv += v[j] * v[j]
        nv = math.sqrt(nv)
        for j in range(P):
            v[j] /= nv
        acc = 0.0
        for k in range(n_burn + n_steps):
            ctr = step(kind, ints, reals, F, G, R2, Rd, atoms, cdf, v, lr, False, key, ctr,
                       hx, gu, buf, perm)
            nv = 0.0
            for j in range(P):
                nv += v[j] * v[j]
            if not (nv > 0.0 and nv < math.inf):
                acc = -math.inf if nv == 0.0 else math.inf
                break
            nv = math.sqrt(nv)
            if k >= n_burn:
                acc += math.log(nv)
            for j in range(P):
                v[j] /= nv
        out[p] = acc / n_steps


@nb.njit(parallel=True, cache=True)
def cloning(kind, ints, reals, F, G, R2, Rd, atoms, cdf, lr, s_values, n_particles,
            n_burn, n_steps, seed, out, spread):
    """Population-dynamics (cloning) estimate of ``Lambda(s)`` for each ``s`` and replica.

    ``out[i, q]`` for ``s = s_values[i]`` and replica ``q``: a population of ``K`` unit
    vectors; each step every particle takes its own ``M`` (``w = ||M v||^s``, ``v <- M v /
    ||M v||``), ``log mean(w)`` is added (after ``n_burn`` steps) and the population is
    resampled with probabilities ``w / sum w`` (systematic resampling). Particle slot ``k``
    of replica ``q`` draws its matrices from stream ``(seed, q K + k)`` and the resampling
    uniforms from stream ``(seed, Q K + q)``, the same for every ``s`` (common random numbers).
    ``spread[i, q]``: the mean over the counted steps of ``Var(w) / (K mean(w)^2)``, the
    relative size of the delta-method correction (a diagnostic of the population size).
    """
    n_s, n_rep = out.shape
    P = ints[I_P]
    N = ints[I_N]
    K = n_particles
    for job in nb.prange(n_s * n_rep):
        si = job // n_rep
        q = job % n_rep
        s = s_values[si]
        V = np.empty((K, P))
        W = np.empty((K, P))
        keys = np.empty(K, dtype=np.uint64)
        ctrs = np.zeros(K, dtype=np.int64)
        perms = np.empty((K, N if ints[I_REPLACE] == 0 else 0), dtype=np.int64)
        logn = np.empty(K)
        hx = np.empty(P)
        gu = np.empty(P)
        buf = np.empty(P + 1)
        for i in range(K):
            keys[i] = stream_key(seed, q * K + i)
            for j in range(perms.shape[1]):
                perms[i, j] = j
            ctrs[i] = fill_normals(keys[i], 0, buf, P)
            nv = 0.0
            for j in range(P):
                nv += buf[j] * buf[j]
            nv = math.sqrt(nv)
            for j in range(P):
                V[i, j] = buf[j] / nv
        rkey = stream_key(seed, n_rep * K + q)
        acc = 0.0
        spr = 0.0
        for k in range(n_burn + n_steps):
            top = -math.inf
            for i in range(K):
                v = V[i]
                ctrs[i] = step(kind, ints, reals, F, G, R2, Rd, atoms, cdf, v, lr, False,
                               keys[i], ctrs[i], hx, gu, buf, perms[i])
                nv = 0.0
                for j in range(P):
                    nv += v[j] * v[j]
                if nv > 0.0:
                    nv = math.sqrt(nv)
                    logn[i] = s * math.log(nv)
                    for j in range(P):
                        v[j] /= nv
                else:
                    logn[i] = -math.inf
                if logn[i] > top:
                    top = logn[i]
            if top == -math.inf:
                acc = -math.inf
                break
            tot = 0.0
            for i in range(K):
                logn[i] = math.exp(logn[i] - top)
                tot += logn[i]
            if k >= n_burn:
                # log of the mean weight, with the delta-method correction of its
                # O(1/K) bias: E log(mean w) = log E w - Var w / (2 K (E w)^2) + O(K^-2)
                mw = tot / K
                var = 0.0
                for i in range(K):
                    var += (logn[i] - mw) * (logn[i] - mw)
                var /= K - 1
                acc += top + math.log(mw) + var / (2.0 * K * mw * mw)
                spr += var / (K * mw * mw)
            # systematic resampling: slot i takes the particle whose cumulative weight
            # interval contains (i + U) / K
            u0 = uniform(rkey, k)
            c = logn[0] / tot
            m = 0
            for i in range(K):
                target = (i + u0) / K
                while c < target and m < K - 1:
                    m += 1
                    c += logn[m] / tot
                for j in range(P):
                    W[i, j] = V[m, j]
            V, W = W, V
        out[si, q] = acc / n_steps
        spread[si, q] = spr / n_steps
