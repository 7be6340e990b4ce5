"""Euler-Maruyama kernels for alpha-stable SDEs (numba, parallel over paths).

One step of length ``dt`` from ``t_k = k dt``:

1. drift: ``x <- x - h grad U(x)`` over sub-steps ``h`` summing to ``dt``. A step that
   would move the point by more than ``FINE * L`` (``L`` the problem's length scale) is
   tested for local stiffness ``lam = |grad U(x') - grad U(x)| / |x' - x|`` at the trial
   point and cut to ``h = KAPPA / lam`` if needed. Near the minimum this never triggers
   (one gradient call, plain Euler); after a large jump into the region where
   ``|grad U|`` grows superlinearly (``x^5`` for three wells) it keeps the explicit step
   stable, returns the path in a few dozen sub-steps instead of diverging, and never
   carries it over a barrier into the wrong well. (DESIGN.md, "Stiff drift after a jump".)
2. noise: ``x_l <- x_l + eps_l (int_{t_k}^{t_k+dt} s_u^(alpha_l-1) du)^(1/alpha_l) Z_l``,
   ``Z_l ~ SaS(1)`` from the path's own counter-based stream (exact in law), drawn
   ``BLOCK`` steps at a time; the draw of (step k, axis l) sits at a fixed counter, so
   blocking changes nothing but speed.
3. monitoring at ``t_{k+1}``. For Brownian axes (``alpha_l = 2``) of a box the chance
   that the path crossed a face *between* grid times is added with the Brownian-bridge
   formula ``exp(-2 (b - x_k)(b - x_{k+1}) / v)``, ``v = 2 scale_l^2`` the increment's
   variance, which removes the O(sqrt(dt)) bias of discrete monitoring
   (Baldi 1995; Gobet 2000). Jump axes need no correction: their exits are jumps.

The noise law of step 2 is the Problem's (:mod:`levydyn.model.noise_laws`): stable (the draw
above), truncated (the stable increment conditioned on ``|inc| <= radius``, by rejection
on sub-streams of the path's key), tempered (alpha < 1: difference of two positive
tempered stable increments, exact rejection) or empirical (a resampled measured value
times ``eps int s du``).

There is one loop, :func:`run_paths`, for every use: first exits from a box or ball,
transitions between wells, and optionally recorded sample paths. Every path ends in one
of four states (``STATUS_*``): censored at the horizon, exited, diverged (its state or
gradient became non-finite: never counted as an exit), or its visit table is full.
The kernels are compiled once per machine (:mod:`levydyn.solvers.compiled`).
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from levydyn.model.noise import _mix64, random_word, sas_draw, stream_key, uniform
from levydyn.model.noise_laws import LAW_EMPIRICAL, LAW_STABLE, LAW_TEMPERED, LAW_TRUNCATED
from levydyn.model.schedules import integrated_scale_power
from levydyn.solvers.compiled import (A1, A2, A3, BOOL, F64, I1, I2, I64, U64, GradFn,
                                      lazy_kernel)

KAPPA = 0.5                # max h * (local stiffness) of a drift sub-step
FINE = 0.05                # moves above FINE * length get the stiffness test
MAX_SUBSTEPS = 100_000
BLOCK = 32                 # steps of noise drawn at once per path
BRIDGE_BASE = 1 << 62      # counter offset of the bridge uniforms (noise uses 2 (k d + l))
ACCEPT_BASE = 1 << 61      # counter offset of rejection-sampling uniforms (sub-streams)
_SUB = np.uint64(0xD1B54A32D192ED03)   # sub-stream key increment (rejection attempts)


@nb.njit(inline="always")
def _drift_flow(grad, gparams, x, g, h_total, length):
    """Explicit Euler for dx = -grad U dt over ``h_total``, stiffness-limited sub-steps.

    A step that would move the point by more than ``FINE * length`` is first capped at a
    move of ``KAPPA (length + |x|)`` and tried: the gradient at the trial point gives the
    local stiffness ``lam = |dg| / |dx|`` along the step, and the step is cut to
    ``h = KAPPA / lam`` if ``h lam > KAPPA`` (explicit Euler
    is then stable and cannot overshoot a critical point). Small moves, i.e. every step
    near a minimum, cost one gradient call.
    """
    rem = h_total
    n_sub = 0
    d = x.shape[0]
    fine2 = (FINE * length) ** 2
    while rem > 0.0:
        grad(x, gparams, g)
        gn = 0.0
        for i in range(d):
            gn += g[i] * g[i]
        h = rem
        if not math.isfinite(gn):
            for i in range(d):
                x[i] = math.nan
            return
        if gn * h * h > fine2 and n_sub < MAX_SUBSTEPS:
            # cap the trial move at KAPPA (L + |x|) so the stiffness is probed nearby
            xn = 0.0
            for i in range(d):
                xn += x[i] * x[i]
            cap = KAPPA * (length + math.sqrt(xn))
            if gn * h * h > cap * cap:
                h = cap / math.sqrt(gn)
            xt = np.empty(d)
            gt = np.empty(d)
            for i in range(d):
                xt[i] = x[i] - h * g[i]
            grad(xt, gparams, gt)
            dg = 0.0
            for i in range(d):
                dg += (gt[i] - g[i]) * (gt[i] - g[i])
            lam = math.sqrt(dg) / (h * math.sqrt(gn))
            if h * lam > KAPPA:
                h = KAPPA / lam
        for i in range(d):
            x[i] -= h * g[i]
        rem -= h
        n_sub += 1


@nb.njit(inline="always")
def _noise_scales(scale, base_scale, eps, sched_alpha, power, kind, gamma, t0, ms, vs, t, dt):
    """``scale_l = eps_l (int_t^{t+dt} s_u^(sched_alpha_l - 1) du)^power_l``."""
    if kind == 0:
        for l in range(scale.shape[0]):
            scale[l] = base_scale[l]
    else:
        for l in range(scale.shape[0]):
            integ = integrated_scale_power(kind, gamma, t0, ms, vs, sched_alpha[l], t, t + dt)
            scale[l] = eps[l] * integ ** power[l]


@nb.njit(inline="always")
def _fill_noise(zbuf, law, alpha, table, table_n, key, k0):
    """Unit noise of steps k0 .. k0 + BLOCK - 1; step k, axis l uses the stream words
    2 (k d + l) and 2 (k d + l) + 1: a SaS(1) draw (stable and truncated laws) or a
    resampled table value (empirical). Drawing a block in a tight loop (independent
    iterations) runs at the raw sampler's speed; a path that exits mid-block wastes at
    most BLOCK - 1 steps of draws."""
    d = zbuf.shape[1]
    for jj in range(zbuf.shape[0]):
        base = 2 * (k0 + jj) * d
        for l in range(d):
            if law[l] == LAW_EMPIRICAL:
                idx = int(uniform(key, base + 2 * l) * table_n[l])
                zbuf[jj, l] = table[l, min(idx, table_n[l] - 1)]
            elif law[l] == LAW_TEMPERED:
                zbuf[jj, l] = 0.0                    # drawn at use (needs the step's scale)
            else:
                zbuf[jj, l] = sas_draw(alpha[l], key, base + 2 * l)


@nb.njit(inline="always")
def _sub_key(key, j):
    """Key of sub-stream ``j >= 1`` of a path (rejection attempts): a fresh 64-bit mix."""
    return _mix64(key ^ (np.uint64(j) * _SUB))


@nb.njit(inline="always")
def _positive_stable(alpha, w1, w2):
    """Positive stable variate, ``E exp(-u S) = exp(-u^alpha)``, 0 < alpha < 1
    (Kanter 1975): ``S = (A(U) / W)^((1-alpha)/alpha)``, U ~ U(0, pi), W ~ Exp(1),
    ``A(u) = sin(alpha u)^(alpha/(1-alpha)) sin((1-alpha) u) / sin(u)^(1/(1-alpha))``."""
    u = math.pi * ((np.float64(w1 >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0))
    e = -math.log((np.float64(w2 >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0))
    la = (alpha / (1.0 - alpha) * math.log(math.sin(alpha * u)) + math.log(math.sin((1.0 - alpha) * u))
          - math.log(math.sin(u)) / (1.0 - alpha))
    return math.exp((1.0 - alpha) / alpha * (la - math.log(e)))


@nb.njit(inline="always")
def _tempered_half(alpha, rate, s_scale, key, c, first):
    """Positive tempered stable increment: ``s_scale * S`` accepted with probability
    ``exp(-rate s_scale S)``; attempts use sub-streams first, first + 2, ..."""
    j = first
    while True:
        kj = _sub_key(key, j)
        x = s_scale * _positive_stable(alpha, random_word(kj, c), random_word(kj, c + 1))
        if uniform(kj, ACCEPT_BASE + c) < math.exp(-rate * x):
            return x
        j += 2


@nb.njit(inline="always")
def _increment(law, alpha, param, scale, z, key, c):
    """The noise added to one axis over one step (see the module doc), from the unit
    draw ``z`` at counter ``c`` of the path's stream."""
    if law == LAW_STABLE or law == LAW_EMPIRICAL:
        return scale * z
    if law == LAW_TRUNCATED:
        inc = scale * z
        j = 1
        while abs(inc) > param:
            inc = scale * sas_draw(alpha, _sub_key(key, j), c)
            j += 1
        return inc
    # tempered, alpha < 1: P - N, each positive stable with E exp(-u S) = exp(-k u^alpha),
    # k = scale^alpha c_alpha Gamma(1 - alpha) / alpha, tempered by rejection
    ca = math.exp(math.lgamma(1.0 + alpha)) * math.sin(0.5 * math.pi * alpha) / math.pi
    s_scale = scale * (ca * math.exp(math.lgamma(1.0 - alpha)) / alpha) ** (1.0 / alpha)
    return (_tempered_half(alpha, param, s_scale, key, c, 1)
            - _tempered_half(alpha, param, s_scale, key, c, 2))


DOMAIN_BOX = 0
DOMAIN_BALL = 1
DOMAIN_WELLS = 2
DOMAIN_NONE = 3            # run to the horizon (recording only)


@nb.njit(inline="always")
def check_exit(dkind, lower, upper, center, radius, x, xprev, scale, bridge_mask, key, ctr):
    """Has the path left the domain at this grid time (or, on bridged axes, in between)?

    Returns ``(axis, side, ctr)``; ``axis = -1`` if still inside. Box: the axis with the
    largest overshoot relative to its width; a Brownian-bridge hit on a diffusive axis
    (``bridge_mask``, increment variance ``2 scale_l^2``) moves ``x_l`` onto the face.
    Ball ``|x - center| < radius``: the axis of the largest displacement at exit, side =
    its sign (monitored at grid times only). The caller has checked that ``x`` is finite.
    """
    d = x.shape[0]
    hit = -1
    hit_side = 0
    if dkind == DOMAIN_BALL:
        r2 = 0.0
        big = -1.0
        for l in range(d):
            dl = x[l] - center[l]
            r2 += dl * dl
            if abs(dl) > big:
                big = abs(dl)
                hit_side = 1 if dl > 0 else -1
                hit = l
        if r2 >= radius * radius:
            return hit, hit_side, ctr
        return -1, 0, ctr
    best = -1.0
    for l in range(d):
        xl = x[l]
        width = upper[l] - lower[l]
        if not math.isfinite(width):
            width = 1.0
        if xl <= lower[l]:
            ov = (lower[l] - xl) / width
            if ov > best:
                hit, hit_side, best = l, -1, ov
        elif xl >= upper[l]:
            ov = (xl - upper[l]) / width
            if ov > best:
                hit, hit_side, best = l, 1, ov
        elif bridge_mask[l] and best < 0.0:
            v = 2.0 * scale[l] * scale[l]
            p_lo = math.exp(-2.0 * (xprev[l] - lower[l]) * (xl - lower[l]) / v)
            p_hi = math.exp(-2.0 * (upper[l] - xprev[l]) * (upper[l] - xl) / v)
            u = uniform(key, ctr)
            ctr += 1
            if u < p_lo:
                hit, hit_side, best = l, -1, 0.0
                x[l] = lower[l]
            elif u < p_lo + p_hi:
                hit, hit_side, best = l, 1, 0.0
                x[l] = upper[l]
    return hit, hit_side, ctr


STATUS_CENSORED = 0        # inside at the horizon
STATUS_EXITED = 1
STATUS_DIVERGED = 2        # state became non-finite (a diverged path is never an exit)
STATUS_FULL = 3            # wells: the visit table is full

RUN_PATHS_SIG = (
    # potential, start, noise law (NoiseEncoding), schedule (Schedule.encode)
    GradFn, A1, A1, I1, A1, A1, A1, A2, I1, A1, A1, A1, I64, F64, F64, A1, A1,
    # domain: kind, box (lower, upper), ball (center, radius), wells (minima, maxima, core)
    I64, A1, A1, A1, F64, A1, A1, A1,
    # length, dt, n_steps, seed, first path, bridge, record stride
    F64, F64, I64, U64, I64, BOOL, I64,
    # outputs: times, status, axis, side, points | wells, entries, n_visits, occupancy |
    # recorded states, number recorded
    A1, I1, I1, I1, A2, I2, A2, I1, A2, A3, I1)


@lazy_kernel(RUN_PATHS_SIG, parallel=True)
def run_paths(grad, gparams, x0, law, alpha, eps, param, table, table_n, sched_alpha, power,
              base_scale, kind, gamma, t0, ms, vs,
              dkind, lower, upper, center, radius, minima, maxima, core_radius,
              length, dt, n_steps, seed, path_offset, bridge, stride,
              times, status, axis, side, points, wells, entries, n_visits, occupancy,
              xs, n_rec):
    """The Euler loop for every use (see module doc); path i uses stream (seed, offset + i).

    Box / ball (``dkind`` 0 / 1): ``times[i]`` is the exit time (grid time of the first
    step outside) or the horizon, ``axis``, ``side``, ``points`` the exit axis, side and
    point. Wells (``dkind`` 2, 1-D): ``wells[i, j]`` / ``entries[i, j]`` is the j-th well
    visited and the time its core was entered (j = 0: the start well at time 0),
    ``occupancy[i, w]`` the time spent in the region of well w (between the maxima),
    ``times[i]`` the stop time. With ``stride > 0`` the first ``xs.shape[0]`` paths record
    every ``stride``-th state (and their last state) in ``xs``, ``n_rec`` states each.
    """
    n = times.shape[0]
    d = x0.shape[0]
    n_w = minima.shape[0]
    max_visits = wells.shape[1]
    n_keep = xs.shape[0] if stride > 0 else 0
    bridge_mask = np.zeros(d, dtype=np.bool_)
    for l in range(d):
        bridge_mask[l] = (bridge and alpha[l] == 2.0 and law[l] == LAW_STABLE
                          and dkind == DOMAIN_BOX)
    for i in nb.prange(n):
        key = stream_key(seed, path_offset + i)
        x = x0.copy()
        g = np.empty(d)
        xprev = np.empty(d)
        scale = np.empty(d)
        zbuf = np.empty((BLOCK, d))
        rec = i < n_keep
        r = 0
        if rec:
            for l in range(d):
                xs[i, 0, l] = x[l]
            r = 1
        hit = -1
        hit_side = 0
        state = STATUS_CENSORED
        current = 0
        nv = 0
        if dkind == DOMAIN_WELLS:
            while current < n_w - 1 and x[0] > maxima[current]:
                current += 1
            if max_visits > 0:
                wells[i, 0] = current
                entries[i, 0] = 0.0
                nv = 1
        k_stop = n_steps
        for k in range(n_steps):
            j = k % BLOCK
            if j == 0:
                _fill_noise(zbuf, law, alpha, table, table_n, key, k)
            t = k * dt
            _noise_scales(scale, base_scale, eps, sched_alpha, power, kind, gamma, t0, ms, vs,
                          t, dt)
            for l in range(d):
                xprev[l] = x[l]
            _drift_flow(grad, gparams, x, g, dt, length)
            finite = True
            for l in range(d):
                x[l] += _increment(law[l], alpha[l], param[l], scale[l], zbuf[j, l], key,
                                   2 * (k * d + l))
                if not math.isfinite(x[l]):
                    finite = False
            if not finite:
                state = STATUS_DIVERGED
                k_stop = k + 1
                break
            if dkind == DOMAIN_WELLS:
                region = 0
                while region < n_w - 1 and x[0] > maxima[region]:
                    region += 1
                occupancy[i, region] += dt
                if region != current and abs(x[0] - minima[region]) < core_radius[region]:
                    if nv >= max_visits:
                        state = STATUS_FULL
                        k_stop = k + 1
                        break
                    current = region
                    wells[i, nv] = current
                    entries[i, nv] = (k + 1) * dt
                    nv += 1
            elif dkind != DOMAIN_NONE:
                hit, hit_side, _ = check_exit(dkind, lower, upper, center, radius, x, xprev,
                                              scale, bridge_mask, key, BRIDGE_BASE + k * d)
                if hit >= 0:
                    state = STATUS_EXITED
                    k_stop = k + 1
                    break
            if rec and (k + 1) % stride == 0 and r < xs.shape[1] - 1:
                for l in range(d):
                    xs[i, r, l] = x[l]
                r += 1
        if rec:
            for l in range(d):             # the last state (exit point / horizon) is kept
                xs[i, r, l] = x[l]
            n_rec[i] = r + 1
        times[i] = k_stop * dt
        status[i] = state
        axis[i] = hit
        side[i] = hit_side
        for l in range(d):
            points[i, l] = x[l]
        if dkind == DOMAIN_WELLS:
            n_visits[i] = nv
