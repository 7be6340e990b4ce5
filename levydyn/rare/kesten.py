"""Splitting for SGD as a random linear recursion (:class:`levydyn.kesten.Recursion`).

``x_{k+1} = x_k - lr (H_k x_k + u_k)`` at a constant ``lr`` is a time-homogeneous Markov
chain; ``B`` is the recursion's exit set (Ball ``||x|| >= R`` or Box), ``A = {xi <= a}``
around the minimum ``x = 0``. In the stable heavy-tailed regime (``lambda_1 < 0``, Kesten
index ``kappa``) the mean escape time grows like ``R^kappa`` (:mod:`levydyn.kesten.escape`),
so for large ``R`` brute force cannot see it and splitting can: ``p(R) = P(reach B before
A)`` falls like ``R^-kappa`` and ``E tau_R = E[T_loop](1 - p)/p + E[T_reac]`` (times in
iterations). Everything else is :mod:`levydyn.rare.ams` / :mod:`levydyn.rare.chain`.
"""
from __future__ import annotations

import numpy as np

from levydyn.model.domains import Ball, Box
from levydyn.kesten import Recursion
from levydyn.rare import kesten_kernel as KK
from levydyn.rare.chain import CompiledChain, check_settings
from levydyn.rare.coordinates import (XI_SIG, as_address, as_coordinate, ball_coordinate,
                                      box_coordinate, evaluate)
from levydyn.rare.result import SplittingResult
from levydyn.model.validation import reject


def split_recursion(rec: Recursion, n_replicas: int = 100, n_runs: int = 10, seed: int = 0,
                    *, xi=None, xi_params=None, a: float | None = None,
                    z0: float | None = None, cycles: int = 2, k: int = 1,
                    max_iterations: int | None = None, max_steps: int = 10_000_000,
                    level: float = 0.95) -> SplittingResult:
    """Rare exits of the recursion ``rec`` by generalised AMS (parameters as
    :func:`levydyn.rare.split`; default ``xi``: ``||x|| / R`` for a Ball centred at 0,
    the side-dependent box coordinate around 0 for a Box). Times in iterations."""
    if not isinstance(rec, Recursion) or not isinstance(rec.domain, (Ball, Box)):
        raise ValueError(f"rec must be a Recursion with a Ball or Box domain, got rec={rec!r}")
    if not rec.schedule.is_constant:
        raise ValueError("splitting needs a time-homogeneous chain: schedule must be constant, "
                         f"got schedule={rec.schedule}")
    n, n_runs, seed, cycles, k, max_iterations, max_steps = check_settings(
        n_replicas, n_runs, seed, cycles, k, max_iterations, max_steps)
    dom, d = rec.domain, rec.dim
    if xi is None:
        if xi_params is not None:
            raise ValueError("xi_params needs xi (the default coordinate has its own)")
        if isinstance(dom, Ball):
            scale = dom.radius - float(np.linalg.norm(dom.center))
            if not scale > 0:
                raise reject("domain", "contain the minimum x = 0", dom.describe())
            xi, xi_params = ball_coordinate, np.concatenate([np.zeros(d), [scale]])
        else:
            if not dom.contains(np.zeros(d)):
                raise reject("domain", "contain the minimum x = 0", dom.describe())
            dm, dp = dom.distances(np.zeros(d))
            xi, xi_params = box_coordinate, np.concatenate([np.zeros(d), dm, dp])
    else:
        xi = as_coordinate(xi)
        xi_params = np.zeros(0) if xi_params is None else xi_params
        xi_params = np.ravel(np.asarray(xi_params, dtype=float))
    v0 = float(evaluate(xi, xi_params, rec.x0[None, :])[0])
    if not np.isfinite(v0):
        raise reject("xi", "be finite at the start point", v0)
    if a is not None and not v0 <= a:
        raise reject("a", f"contain the start point: A = {{xi <= a}} but xi(x0)={v0:.6g}", a)
    if a is not None and z0 is not None and not z0 > a:
        raise reject("z0", f"exceed a={a!r}", z0)
    kind, ints, reals, F, G, R2, Rd, atoms, cdf = rec.law.encode()
    exit_kind, lower, upper, center, radius = rec.exit_args()
    inputs = (int(kind), ints, reals, np.ascontiguousarray(F, dtype=float),
              np.ascontiguousarray(G, dtype=float), np.ascontiguousarray(R2, dtype=float),
              np.ascontiguousarray(Rd, dtype=float), np.asarray(atoms, dtype=float),
              np.asarray(cdf, dtype=float), float(rec.lr), int(exit_kind),
              np.asarray(lower, dtype=float), np.asarray(upper, dtype=float),
              np.asarray(center, dtype=float), float(radius), rec.x0)
    chain = CompiledChain(KK, inputs, d, seed, as_address(xi, XI_SIG), xi_params,
                          0.0 if a is None else a, 0.0 if z0 is None else z0, cycles,
                          max_steps, 1.0)
    a, z0 = chain.pilot_levels(a, z0)
    if not v0 <= a or not z0 > a:
        raise reject("a", f"lie between xi(x0)={v0:.6g} and z0={z0:.6g}", a)
    chain.a, chain.z0 = a, z0
    chain.chain = (*chain.chain[:2], a, chain.chain[3])
    res = chain.estimate(n, n_runs, k, max_iterations, level)
    res.problem = rec
    res.meta.update(chain="kesten", time_unit="iterations")
    return res
