"""The one encoding of a Problem's components into kernel arguments.

Every component encodes itself (``Schedule.encode``, ``Noise.encode``, the domain here)
and :func:`kernel_inputs` puts them in the order of
:data:`levydyn.solvers.euler.RUN_PATHS_SIG`; :func:`levydyn.simulate` adds the run's
sizes, seed and output arrays. Nothing else in the package builds kernel arguments.
"""
from __future__ import annotations

import numpy as np

from levydyn.model.domains import Ball, Box, WellPartition
from levydyn.model.noise_laws import TruncatedStable
from levydyn.solvers.euler import DOMAIN_BALL, DOMAIN_BOX, DOMAIN_NONE, DOMAIN_WELLS

_EMPTY = np.zeros(0)


def domain_args(dom) -> tuple:
    """``(dkind, lower, upper, center, radius, minima, maxima, core_radius)``; ``None``
    encodes "no domain" (run to the horizon)."""
    e = _EMPTY
    if isinstance(dom, Ball):
        return DOMAIN_BALL, e, e, dom.center, float(dom.radius), e, e, e
    if isinstance(dom, Box):
        return DOMAIN_BOX, dom.lower, dom.upper, e, 0.0, e, e, e
    if isinstance(dom, WellPartition):
        return (DOMAIN_WELLS, e, e, e, 0.0, np.asarray(dom.minima, dtype=float),
                np.asarray(dom.maxima, dtype=float), np.asarray(dom.core_radius, dtype=float))
    return DOMAIN_NONE, e, e, e, 0.0, e, e, e


def kernel_inputs(problem, dt: float, *, monitor: bool = True) -> tuple:
    """Potential, start, noise, schedule, domain, length scale and ``dt`` of ``problem``
    as the leading arguments of :func:`levydyn.solvers.euler.run_paths`.
    ``monitor=False`` drops the exit set (paths run to the horizon)."""
    pot, dom, noise = problem.potential, problem.domain, problem.noise
    enc = noise.encode()
    if isinstance(noise, TruncatedStable) and problem.schedule.is_constant:
        _check_truncation(noise, enc.base_scale(dt), dt)
    kind, gamma, t0, ms, vs = problem.schedule.encode()
    length = max(pot.length_scale, dom.length_scale)
    return (pot.grad_kernel, pot.params, problem.x0, enc.law, enc.alpha, enc.eps, enc.param,
            np.ascontiguousarray(enc.table), enc.table_n, enc.sched_alpha, enc.power,
            enc.base_scale(dt), int(kind), float(gamma), float(t0),
            np.asarray(ms, dtype=float), np.asarray(vs, dtype=float),
            *domain_args(dom if monitor else None), float(length), float(dt))


def _check_truncation(noise: TruncatedStable, scale: np.ndarray, dt: float) -> None:
    """Refuse a step whose stable increment exceeds the cap more often than not (the
    rejection sampler would then spend most of its time rejecting)."""
    from scipy.stats import levy_stable

    for l in range(noise.dim):
        a = float(noise.alpha[l])
        q = 1.4142135623730951 * 0.6744897501960817 if a == 2.0 else float(levy_stable.ppf(0.75, a, 0.0))
        if noise.radius[l] < q * scale[l]:
            raise ValueError(f"dt={dt} is too large for TruncatedStable radius="
                             f"{float(noise.radius[l])!r} on axis {l}: the step's increment "
                             f"exceeds the cap more than half the time; use dt <= "
                             f"{(noise.radius[l] / (q * noise.eps[l])) ** a:.3g}")
