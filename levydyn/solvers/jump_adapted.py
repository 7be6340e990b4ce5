"""Jump-adapted small-noise solver for first exits from a box.

Split each driving process at a displacement threshold ``delta_l`` (Asmussen & Rosinski
2001; Imkeller & Pavlyukevich 2006 use the same split in their proofs):

* **large jumps** ``|eps_l s_t^((alpha_l-1)/alpha_l) dL^l| > delta_l``: a compound Poisson
  process, simulated exactly. With the SaS(1) Levy measure ``c_alpha |y|^(-1-alpha) dy``
  their intensity at time t is
  ``lambda_l(t) = 2 c_alpha eps_l^alpha s_t^(alpha-1) delta_l^(-alpha) / alpha``,
  so the next jump time solves ``int_t^tau s_u^(alpha-1) du = E alpha delta^alpha /
  (2 c_alpha eps^alpha)``, ``E ~ Exp(1)`` (one clock per axis, inverted exactly by
  :func:`levydyn.model.schedules.invert_integrated_scale_power`); the jump is
  ``+- delta U^(-1/alpha)`` (Pareto tail of the Levy measure beyond delta).
* **small jumps** ``|.| <= delta_l``: replaced by a Brownian motion of the same variance,
  ``2 c_alpha eps^alpha delta^(2-alpha) / (2-alpha) * int s^(alpha-1) du`` per step
  (-> the Brownian ``2 eps^2 int s du`` as alpha -> 2), integrated with the Euler step of
  :mod:`levydyn.solvers.euler` (same stiff-drift control, same Brownian bridge).

**Skipping the quiet time.** When every axis is within ``relax * delta_l`` of the
attractor ``x*`` and the next large jump is more than a re-equilibration window ``T_w``
away, the path jumps straight to ``tau - T_w`` and simulates only the window, so the
state just before the jump has (to ``exp(-h_min T_w)``) the same law as in a full
simulation. Cost per path is O(number of large jumps x T_w / dt), independent of eps,
instead of Euler's O(eps^(-alpha) / dt).

Bias (what the approximation neglects), all vanishing as eps -> 0:
exits caused by small-jump diffusion during skipped stretches (exponentially small,
Gaussian large deviations at scale ``sigma_delta << distance``); the non-Gaussian part
of jumps below delta (enters exit rates at fourth order in the state's spread); jumps
closer together than the relaxation time (relative O(eps^alpha delta^-alpha / h)).
Defaults: ``delta = 0.5 x`` the distance to the nearer face, ``relax = 0.2``,
``T_w = 6 / h_min`` (h_min the smallest diagonal curvature at x*).
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from levydyn.model.noise import random_word, sas_draw, stream_key, uniform
from levydyn.model.schedules import integrated_scale_power, invert_integrated_scale_power
from levydyn.solvers.compiled import A1, A2, BOOL, F64, I1, I64, U64, GradFn, lazy_kernel
from levydyn.solvers.euler import (DOMAIN_BOX, STATUS_CENSORED, STATUS_DIVERGED, STATUS_EXITED,
                                   _drift_flow, check_exit)


@nb.njit(inline="always")
def _next_jump(kind, gamma, t0, ms, vs, alpha, t, inv_rate_const, key, ctr):
    """Absolute time of the next large jump of one axis after t (inf for alpha = 2)."""
    if not math.isfinite(inv_rate_const):      # alpha = 2: no jumps
        return math.inf
    e = -math.log(uniform(key, ctr))
    return invert_integrated_scale_power(kind, gamma, t0, ms, vs, alpha, t, e * inv_rate_const)


ESCAPE_JA_SIG = (GradFn, A1, A1, A1, A1, A1, A1, A1, A1, F64, F64, I64, F64, F64, A1, A1,
                 I64, A1, A1, A1, F64, F64, F64, F64, U64, I64, BOOL,
                 A1, I1, I1, I1, A2, I1)


@lazy_kernel(ESCAPE_JA_SIG, parallel=True)
def escape_kernel_ja(grad, gparams, x0, xstar, alpha, eps, inv_rate_const, small_var_const,
                     delta, relax, window, kind, gamma, t0, ms, vs,
                     dkind, lower, upper, center, radius, length,
                     dt, t_max, seed, path_offset, bridge,
                     times, status, axis, side, points, n_jumps):
    n = times.shape[0]
    d = x0.shape[0]
    for i in nb.prange(n):
        key = stream_key(seed, path_offset + i)
        x = x0.copy()
        g = np.empty(d)
        xprev = np.empty(d)
        sd = np.empty(d)
        tau = np.empty(d)
        bridge_mask = np.zeros(d, dtype=np.bool_)
        ctr = 0
        for l in range(d):
            tau[l] = _next_jump(kind, gamma, t0, ms, vs, alpha[l], 0.0, inv_rate_const[l], key, ctr)
            ctr += 1
        t = 0.0
        hit = -1
        hit_side = 0
        jumps = 0
        diverged = False
        while t < t_max:
            # next large jump among the axes
            lj = 0
            for l in range(1, d):
                if tau[l] < tau[lj]:
                    lj = l
            t_jump = tau[lj]
            # relaxed near x*? then skip the quiet stretch up to the window
            relaxed = True
            for l in range(d):
                if abs(x[l] - xstar[l]) > relax * delta[l]:
                    relaxed = False
                    break
            if relaxed and t_jump - window > t:
                if t_jump - window >= t_max:
                    t = t_max
                    break
                t = t_jump - window
            # one Euler step of the small-jump (Gaussian) dynamics, cut at the jump time
            h = dt
            jump_now = False
            if t + h >= t_jump:
                h = t_jump - t
                jump_now = True
            if t + h > t_max:
                h = t_max - t
                jump_now = False
            for l in range(d):
                xprev[l] = x[l]
                sd[l] = math.sqrt(small_var_const[l] * integrated_scale_power(
                    kind, gamma, t0, ms, vs, alpha[l], t, t + h) / 2.0)
            if h > 0.0:
                _drift_flow(grad, gparams, x, g, h, length)
                for l in range(d):
                    if sd[l] > 0.0:
                        x[l] += sd[l] * sas_draw(2.0, key, ctr)   # N(0, 2) * sd = N(0, 2 sd^2)
                    ctr += 2
            t += h
            if jump_now:
                u = uniform(key, ctr)
                w = random_word(key, ctr + 1)
                ctr += 2
                size = delta[lj] * u ** (-1.0 / alpha[lj])
                x[lj] += size if (w >> np.uint64(63)) == 0 else -size
                jumps += 1
                tau[lj] = _next_jump(kind, gamma, t0, ms, vs, alpha[lj], t, inv_rate_const[lj],
                                     key, ctr)
                ctr += 1
            for l in range(d):
                if not math.isfinite(x[l]):
                    diverged = True
            if diverged:
                break
            for l in range(d):
                bridge_mask[l] = (bridge and dkind == DOMAIN_BOX and sd[l] > 0.0
                                  and not (jump_now and l == lj))
            hit, hit_side, ctr = check_exit(dkind, lower, upper, center, radius, x, xprev, sd,
                                            bridge_mask, key, ctr)
            if hit >= 0:
                break
        times[i] = t if hit >= 0 or diverged else t_max
        status[i] = STATUS_DIVERGED if diverged else (STATUS_EXITED if hit >= 0 else STATUS_CENSORED)
        axis[i] = hit
        side[i] = hit_side
        n_jumps[i] = jumps
        for l in range(d):
            points[i, l] = x[l]


@lazy_kernel((GradFn, A1, A1, F64, F64, I64, F64))
def relax_to_attractor(grad, gparams, x0, dt, length, n_max, tol):
    """Follow the gradient flow from x0 (stiffness-controlled Euler) until |grad U| < tol."""
    x = x0.copy()
    g = np.empty(x.shape[0])
    for _ in range(n_max):
        _drift_flow(grad, gparams, x, g, dt, length)
        grad(x, gparams, g)
        if math.sqrt((g * g).sum()) < tol:
            break
    return x
