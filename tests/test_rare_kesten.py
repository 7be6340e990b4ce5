"""Splitting on the random linear recursion (levydyn.rare.split_recursion) in its stable,
heavy-tailed regime: x' = a x + b, P(a = 0.5) = P(a = 1.3) = 1/2, b ~ N(0, 1);
lambda_1 = E log|a| = -0.215 < 0, Kesten index kappa = 2.204 (root of E|a|^kappa = 1).
"""
from __future__ import annotations

import math

from levydyn import Ball
from levydyn.kesten import Recursion, ScalarAffine, simulate
from levydyn.rare import split_recursion

LAW = ScalarAffine.from_ab([0.5, 1.3], [0.5, 0.5], 1.0)


def _rec(R: float) -> Recursion:
    return Recursion(LAW, 1.0, domain=Ball([0.0], R))


def test_mean_escape_matches_brute_force():
    """R = 20 (E tau ~ 700 iterations, brute force runs): the two 95 % CIs overlap, and
    the splitting CI contains the brute-force mean up to the brute-force half-width."""
    bf = simulate(_rec(20.0), n_paths=4000, max_steps=10**6, seed=1).mean_exit_time()
    sp = split_recursion(_rec(20.0), n_replicas=100, n_runs=10, seed=2, a=0.025, z0=0.05)
    assert not sp.censored
    assert sp.mean_exit_time.contains(bf.value, slack=bf.half_width), (sp.mean_exit_time, bf)


def test_escape_slope_is_the_kesten_index():
    """R = 1e2 .. 1e4 (E tau up to ~6e8 iterations: no brute force): the log-log slope of
    E tau_R (equivalently of 1/p) is kappa (escape.py: E tau_R ~ R^kappa / (theta C)).
    Tolerance: 2 standard errors of the slope from the two CIs (delta method on the
    logs), plus 0.1 for the pre-asymptotic correction at R = 100."""
    kappa = LAW.exact_tail_index(1.0)
    lo = split_recursion(_rec(100.0), n_replicas=100, n_runs=10, seed=3).mean_exit_time
    hi = split_recursion(_rec(1e4), n_replicas=100, n_runs=10, seed=4).mean_exit_time
    slope = math.log(hi.value / lo.value) / math.log(100.0)
    se = math.hypot(*(math.log(e.high / e.low) / (2 * 1.96) for e in (lo, hi))) / math.log(100.0)
    assert abs(slope - kappa) < 2 * se + 0.1, (slope, kappa, se)
    assert hi.value > 1e8
