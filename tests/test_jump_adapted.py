"""Jump-adapted solver: agreement with Euler where Euler is affordable, and the small-noise
closed form where only it is. Two-sample checks use the combined standard error."""
import math

import numpy as np
import pytest
from scipy import stats

from levydyn import Box, Power, Problem, Quadratic, c_alpha, simulate
from levydyn.solvers import Euler, JumpAdapted

Z = 3.29  # two-sided 99.9 % normal quantile: several comparisons per test, fixed seeds


def _same_mean(a, b):
    sa = (a.mean_exit_time().high - a.mean_exit_time().low) / (2 * 1.96)
    sb = (b.mean_exit_time().high - b.mean_exit_time().low) / (2 * 1.96)
    return abs(a.mean_exit_time().value - b.mean_exit_time().value) < Z * math.hypot(sa, sb)


def _same_proportion(k1, n1, k2, n2):
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return abs(k1 / n1 - k2 / n2) < Z * se + 1e-12


@pytest.mark.parametrize("eps", [0.1, 0.05])
def test_matches_euler_1d(eps):
    # 3000 paths each; the exit-time laws are compared by a two-sample KS test, the means
    # and the side probability by two-sample z statistics at the 99.9 % level.
    p = Problem(Quadratic([1.0]), alpha=1.5, eps=eps, domain=Box.around([0.0], [1.0], [2.0]))
    a = simulate(p, n_paths=3000, dt=0.01, t_max=1e6, seed=21, method="euler")
    b = simulate(p, n_paths=3000, dt=0.01, t_max=1e6, seed=22, method="jump_adapted")
    assert _same_mean(a, b)
    assert stats.ks_2samp(a.times, b.times).pvalue > 1e-3
    assert _same_proportion((a.side == 1).sum(), a.n_paths, (b.side == 1).sum(), b.n_paths)


def test_matches_euler_3d_per_axis_alpha_power_schedule():
    p = Problem(Quadratic([1.0, 2.0, 1.0]), alpha=[1.3, 1.6, 1.9], eps=[0.1, 0.1, 0.08],
                domain=Box.around(np.zeros(3), [1.0, 0.8, 1.0], [1.5, 0.8, 1.0]),
                schedule=Power(0.8, t0=1.0))
    a = simulate(p, n_paths=2000, dt=0.01, t_max=1e6, seed=31, method="euler")
    b = simulate(p, n_paths=2000, dt=0.01, t_max=1e6, seed=32, method="jump_adapted")
    assert _same_mean(a, b)
    assert stats.ks_2samp(a.times, b.times).pvalue > 1e-3
    for ax in range(3):
        assert _same_proportion((a.axis == ax).sum(), a.n_paths, (b.axis == ax).sum(), b.n_paths)
    assert _same_proportion((a.side == 1).sum(), a.n_paths, (b.side == 1).sum(), b.n_paths)


def test_small_noise_mean_exit_time_matches_theorem_1():
    # eps = 1e-3: E tau = alpha / (c_alpha eps^alpha (d-^-alpha + d+^-alpha)) (Theorem 1 of
    # Simsekli et al. 2019 with the SaS(1) constant). 10^4 paths: CI half-width ~2 %;
    # Euler would need ~1e7 steps per path here.
    alpha, eps = 1.5, 1e-3
    p = Problem(Quadratic([1.0]), alpha=alpha, eps=eps, domain=Box.around([0.0], [1.0], [2.0]))
    r = simulate(p, n_paths=10_000, dt=0.01, t_max=1e12, seed=3, method="jump_adapted")
    theory = alpha / (c_alpha(alpha) * eps**alpha * (1 + 2.0**-alpha))
    assert r.censored_fraction == 0
    assert r.mean_exit_time(level=0.999).contains(theory)
    assert r.side_probability(1, level=0.999).contains(2.0**-alpha / (1 + 2.0**-alpha))


def test_reproducible_and_chunk_independent():
    p = Problem(Quadratic([1.0]), alpha=1.2, eps=0.01, domain=Box.around([0.0], [1.0], [1.0]))
    a = simulate(p, n_paths=500, dt=0.01, t_max=1e9, seed=4, method="jump_adapted", chunk=500)
    b = simulate(p, n_paths=500, dt=0.01, t_max=1e9, seed=4, method=JumpAdapted(), chunk=77)
    assert np.array_equal(a.times, b.times) and np.array_equal(a.side, b.side)


def test_bad_input():
    brown = Problem(Quadratic([1.0]), alpha=2.0, eps=0.1, domain=Box.around([0.0], [1.0], [1.0]))
    with pytest.raises(ValueError, match="alpha < 2"):
        simulate(brown, n_paths=10, method="jump_adapted")
    with pytest.raises(ValueError, match="delta"):
        JumpAdapted(delta=1.5)
    with pytest.raises(ValueError, match="window"):
        JumpAdapted(window=float("nan"))
    with pytest.raises(ValueError, match="method must be one of euler, jump_adapted, got method=.milstein"):
        simulate(brown, n_paths=10, method="milstein")
    assert Euler().name == "euler"


def test_ball_domain_matches_euler_and_axis_symmetry():
    # Ball |x| < 1 in 2-D with independent SaS axes: exits are axis-aligned jumps, so by
    # symmetry each axis carries half of them; Euler and jump-adapted must agree.
    from levydyn import Ball
    p = Problem(Quadratic([1.0, 1.0]), alpha=1.5, eps=0.1, domain=Ball([0.0, 0.0], 1.0))
    a = simulate(p, n_paths=2000, dt=0.01, t_max=1e6, seed=41)
    b = simulate(p, n_paths=2000, dt=0.01, t_max=1e6, seed=42, method="jump_adapted")
    assert _same_mean(a, b)
    assert a.axis_probability(0, level=0.999).contains(0.5)
    assert b.axis_probability(0, level=0.999).contains(0.5)
    assert np.all(np.hypot(a.points[:, 0], a.points[:, 1]) >= 1.0)


def test_ball_bad_radius():
    from levydyn import Ball
    for r in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="radius"):
            Ball([0.0], r)
