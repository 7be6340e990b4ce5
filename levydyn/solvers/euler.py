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
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from levydyn.noise import sas_draw, stream_key, uniform
from levydyn.schedules import integrated_scale_power

KAPPA = 0.5                # max h * (local stiffness) of a drift sub-step
FINE = 0.05                # moves above FINE * length get the stiffness test
MAX_SUBSTEPS = 100_000
BLOCK = 32                 # steps of noise drawn at once per path
BRIDGE_BASE = 1 << 62      # counter offset of the bridge uniforms (noise uses 2 (k d + l))


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
def _noise_scales(scale, base_scale, eps, alpha, kind, gamma, t0, ms, vs, t, dt):
    if kind == 0:
        for l in range(scale.shape[0]):
            scale[l] = base_scale[l]
    else:
        for l in range(scale.shape[0]):
            integ = integrated_scale_power(kind, gamma, t0, ms, vs, alpha[l], t, t + dt)
            scale[l] = eps[l] * integ ** (1.0 / alpha[l])


@nb.njit(inline="always")
def _fill_noise(zbuf, alpha, key, k0):
    """SaS(1) noise of steps k0 .. k0 + BLOCK - 1; step k, axis l uses the stream words
    2 (k d + l) and 2 (k d + l) + 1. Drawing a block in a tight loop (independent
    iterations) runs at the raw sampler's speed; a path that exits mid-block wastes at
    most BLOCK - 1 steps of draws."""
    d = zbuf.shape[1]
    for jj in range(zbuf.shape[0]):
        base = 2 * (k0 + jj) * d
        for l in range(d):
            zbuf[jj, l] = sas_draw(alpha[l], key, base + 2 * l)


DOMAIN_BOX = 0
DOMAIN_BALL = 1


@nb.njit(inline="always")
def check_exit(dkind, lower, upper, center, radius, x, xprev, scale, bridge_mask, key, ctr):
    """Has the path left the domain at this grid time (or, on bridged axes, in between)?

    Returns ``(axis, side, ctr)``; ``axis = -1`` if still inside. Box: the axis with the
    largest overshoot relative to its width; a Brownian-bridge hit on a diffusive axis
    (``bridge_mask``, increment variance ``2 scale_l^2``) moves ``x_l`` onto the face.
    Ball ``|x - center| < radius``: the axis of the largest displacement at exit, side =
    its sign (monitored at grid times only). NaN (escaped every bound) exits on axis 0.
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
        if r2 != r2:
            return 0, 0, ctr
        if r2 >= radius * radius:
            return hit, hit_side, ctr
        return -1, 0, ctr
    best = -1.0
    for l in range(d):
        xl = x[l]
        if xl != xl:
            return l, 0, ctr
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


@nb.njit(parallel=True)
def escape_kernel(grad, gparams, x0, alpha, eps, base_scale, kind, gamma, t0, ms, vs,
                  dkind, lower, upper, center, radius, length, dt, n_steps, seed,
                  path_offset, bridge, times, exited, axis, side, points):
    """First exit from a box or ball for each path; see module doc."""
    n = times.shape[0]
    d = x0.shape[0]
    bridge_mask = np.zeros(d, dtype=np.bool_)
    for l in range(d):
        bridge_mask[l] = bridge and alpha[l] == 2.0 and dkind == DOMAIN_BOX
    for i in nb.prange(n):
        key = stream_key(seed, path_offset + i)
        x = x0.copy()
        g = np.empty(d)
        xprev = np.empty(d)
        scale = np.empty(d)
        zbuf = np.empty((BLOCK, d))
        hit = -1
        hit_side = 0
        k_exit = n_steps
        for k in range(n_steps):
            j = k % BLOCK
            if j == 0:
                _fill_noise(zbuf, alpha, key, k)
            t = k * dt
            _noise_scales(scale, base_scale, eps, alpha, kind, gamma, t0, ms, vs, t, dt)
            for l in range(d):
                xprev[l] = x[l]
            _drift_flow(grad, gparams, x, g, dt, length)
            for l in range(d):
                x[l] += scale[l] * zbuf[j, l]
            hit, hit_side, _ = check_exit(dkind, lower, upper, center, radius, x, xprev,
                                          scale, bridge_mask, key, BRIDGE_BASE + k * d)
            if hit >= 0:
                k_exit = k + 1
                break
        times[i] = k_exit * dt
        exited[i] = hit >= 0
        axis[i] = hit
        side[i] = hit_side
        for l in range(d):
            points[i, l] = x[l]


@nb.njit(parallel=True)
def wells_kernel(grad, gparams, x0, alpha, eps, base_scale, kind, gamma, t0, ms, vs,
                 minima, maxima, core_radius, length, dt, n_steps, seed, path_offset,
                 wells, entries, n_visits, occupancy, t_end):
    """1-D transitions between wells (milestoned at the cores); see module doc.

    ``wells[i, j]`` / ``entries[i, j]``: the j-th well visited by path i and the time it
    entered that well's core (j = 0 is the start well at time 0). ``occupancy[i, w]`` is
    the time path i spent in the region of well w (between the maxima). A path stops at
    ``t_end[i]``: ``n_steps * dt``, or earlier if its visit table is full or it diverged.
    """
    n = wells.shape[0]
    max_visits = wells.shape[1]
    n_w = minima.shape[0]
    for i in nb.prange(n):
        key = stream_key(seed, path_offset + i)
        x = x0.copy()
        g = np.empty(1)
        scale = np.empty(1)
        zbuf = np.empty((BLOCK, 1))
        region = 0
        while region < n_w - 1 and x[0] > maxima[region]:
            region += 1
        current = region
        wells[i, 0] = current
        entries[i, 0] = 0.0
        nv = 1
        stop_k = n_steps
        for k in range(n_steps):
            j = k % BLOCK
            if j == 0:
                _fill_noise(zbuf, alpha, key, k)
            t = k * dt
            _noise_scales(scale, base_scale, eps, alpha, kind, gamma, t0, ms, vs, t, dt)
            _drift_flow(grad, gparams, x, g, dt, length)
            x[0] += scale[0] * zbuf[j, 0]
            if not math.isfinite(x[0]):
                stop_k = k + 1
                break
            region = 0
            while region < n_w - 1 and x[0] > maxima[region]:
                region += 1
            occupancy[i, region] += dt
            if region != current and abs(x[0] - minima[region]) < core_radius[region]:
                if nv == max_visits:
                    stop_k = k + 1
                    break
                current = region
                wells[i, nv] = current
                entries[i, nv] = (k + 1) * dt
                nv += 1
        n_visits[i] = nv
        t_end[i] = stop_k * dt
