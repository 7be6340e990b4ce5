"""Splitting (levydyn.rare): unbiasedness against exact committors, the mean exit time
against the exact 1-D formula, bit-identical results, bad input.

References are computed another way: a Nystrom solution of the committor's integral
equation (Gaussian AR(1) chain), a plain numpy brute force (alpha = 1.2), and the
quadrature formula for the mean first-passage time of a 1-D diffusion.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np
import pytest
from scipy import integrate, special

from levydyn import Box, MultiWell1D, Problem, Quadratic, WellPartition, sas_rvs
from levydyn.rare import committor, split

# The Euler chain of U = x^2/2 with dt = 0.1 is exactly the AR(1) chain
# x' = 0.9 x + eps dt^(1/alpha) Z, Z ~ SaS(1) (one plain drift step: the stiffness test
# never cuts it for |x| <= 1); B = [1, inf) (box with lower = -inf), A = {x <= 0.2}.
RHO, DT, A_LEVEL, START = 0.9, 0.1, 0.2, 0.3


def _ar1_problem(alpha: float, eps: float) -> Problem:
    return Problem(Quadratic([1.0]), alpha=alpha, eps=eps, domain=Box([-np.inf], [1.0]),
                   x0=[0.0])


def _gaussian_committor(sigma: float, n: int = 400, a: float = A_LEVEL) -> float:
    """``h(x) = P(rho x + sigma G >= 1) + int_a^1 phi_sigma(y - rho x) h(y) dy`` at START
    (Nystrom, Gauss-Legendre nodes; converged to 1e-12 relative by n = 200)."""
    t, w = np.polynomial.legendre.leggauss(n)
    y = a + (1 - a) * (t + 1) / 2
    w = w * (1 - a) / 2

    def kern(x):
        return np.exp(-0.5 * ((y - RHO * np.asarray(x)[..., None]) / sigma) ** 2) \
            / (sigma * math.sqrt(2 * math.pi)) * w

    def tail(x):
        return 0.5 * special.erfc((1.0 - RHO * x) / (sigma * math.sqrt(2)))

    h = np.linalg.solve(np.eye(n) - kern(y), tail(y))
    return float(tail(START) + kern(START) @ h)


def _unbiased(p_runs: np.ndarray, truth: float, truth_se: float = 0.0) -> tuple[float, float]:
    """(|mean - truth|, 2 standard errors): the test's tolerance is 2 standard errors of
    the mean of the independent estimates (plus the reference's own error), a ~95 %
    band; a biased estimator (planted bug) sits several standard errors away."""
    se = math.hypot(p_runs.std(ddof=1) / math.sqrt(p_runs.size), truth_se)
    return abs(p_runs.mean() - truth), 2 * se


def test_committor_gaussian_unbiased():
    """alpha = 2: 200 independent gAMS estimates of p ~ 1e-4 against the Nystrom value."""
    eps = 0.22
    truth = _gaussian_committor(math.sqrt(2) * eps * math.sqrt(DT))
    assert 1e-6 < truth < 1e-3
    res = committor(_ar1_problem(2.0, eps), [START], A_LEVEL, n_replicas=50, n_runs=200,
                    dt=DT, seed=3, bridge=False, k=2)
    p_runs = np.array([r.p for r in res.runs])
    err, tol = _unbiased(p_runs, truth)
    assert err < tol, (p_runs.mean(), truth, tol)
    assert res.p.contains(truth)
    assert not res.censored


@nb.njit("float64(float64[::1], float64[::1])", cache=True)
def _coarse_xi(x, params):
    """xi rounded down to a grid of 1/20: scores tie whenever two paths reach the same
    cell, so killing only part of the replicas at the level biases the estimate."""
    return math.floor(20.0 * x[0]) / 20.0


def test_committor_with_ties_unbiased():
    """A step-function xi makes ties the rule (each level holds many replicas): 200 gAMS
    estimates stay unbiased only if every replica at or below the level is killed.
    A = {xi <= 0.2} = {x < 0.25}; truth by Nystrom."""
    eps = 0.22
    truth = _gaussian_committor(math.sqrt(2) * eps * math.sqrt(DT), a=0.25)
    res = committor(_ar1_problem(2.0, eps), [START], A_LEVEL, n_replicas=50, n_runs=200,
                    dt=DT, seed=9, bridge=False, xi=_coarse_xi)
    p_runs = np.array([r.p for r in res.runs])
    err, tol = _unbiased(p_runs, truth)
    assert err < tol, (p_runs.mean(), truth, tol)
    assert np.mean([np.mean(r.killed > 1) for r in res.runs]) > 0.5    # ties did occur


def _brute_force_committor(alpha: float, scale: float, n_paths: int, seed: int):
    """Plain numpy simulation of the AR(1) chain from START until x <= a or x >= 1."""
    x = np.full(n_paths, START)
    hits = 0
    k = 0
    while x.size:
        x = x - DT * x + scale * sas_rvs(alpha, x.size, seed=seed * 1000 + k)
        k += 1
        hits += int(np.sum(x >= 1.0))
        x = x[(x < 1.0) & (x > A_LEVEL)]
    return hits / n_paths


def test_committor_levy_overshoot_unbiased():
    """alpha = 1.2: one jump overshoots many levels (ties among clones are frequent);
    200 gAMS estimates of p ~ 1e-3 against a 4e6-path brute force (its binomial error
    enters the tolerance)."""
    eps = 0.03
    scale = eps * DT ** (1 / 1.2)
    n_bf = 4_000_000
    truth = _brute_force_committor(1.2, scale, n_bf, seed=11)
    assert 1e-4 < truth < 1e-2
    res = committor(_ar1_problem(1.2, eps), [START], A_LEVEL, n_replicas=50, n_runs=200,
                    dt=DT, seed=5)
    p_runs = np.array([r.p for r in res.runs])
    err, tol = _unbiased(p_runs, truth, math.sqrt(truth * (1 - truth) / n_bf))
    assert err < tol, (p_runs.mean(), truth, tol)


def _double_well_mean_exit(eps: float, x0: float, b: float) -> float:
    """Exact mean first-passage time of dX = -U'(X) dt + eps dL (alpha = 2, so eps L_t has
    variance 2 eps^2 t and the generator is eps^2 f'' - U' f') from x0 to b > x0, with
    U = x^4/4 - x^2/2 confining on the left:
    ``E_x0 tau = (1/D) int_x0^b exp(U(y)/D) int_-inf^y exp(-U(z)/D) dz dy``, D = eps^2
    (solution of D T'' - U' T' = -1, T(b) = 0, T'(-inf) = 0). U is shifted by its minimum
    value to keep the exponentials in range; the shift cancels."""
    D = eps * eps

    def U(x):
        return x**4 / 4 - x**2 / 2 + 0.25

    def inner(y):
        return integrate.quad(lambda z: math.exp(-U(z) / D), -4.0, y, epsabs=0,
                              epsrel=1e-12, limit=200)[0]

    return integrate.quad(lambda y: math.exp(U(y) / D) * inner(y), x0, b, epsabs=0,
                          epsrel=1e-10, limit=200)[0] / D


@pytest.mark.slow
def test_double_well_mean_exit_time_exact():
    """alpha = 2, E tau ~ 1.6e6 (brute force hopeless): the cycle-decomposition estimate's
    95 % CI contains the exact quadrature value. dt = 1e-3 keeps the Euler chain's bias
    (~ (dU/eps^2) h dt / 2 ~ 1.3 % in tau) well inside the CI's half-width (~30 %)."""
    eps, b = 0.14, 0.5
    truth = _double_well_mean_exit(eps, -1.0, b)
    assert truth > 1e6
    pot = MultiWell1D((-1.0, 1.0), (0.0,))
    prob = Problem(pot, alpha=2.0, eps=eps, domain=Box([-np.inf], [b]), x0=[-1.0])
    res = split(prob, n_replicas=100, n_runs=10, dt=1e-3, seed=7, k=5)
    assert not res.censored
    assert res.mean_exit_time.contains(truth), (res.mean_exit_time, truth)
    assert res.mean_exit_time.high / res.mean_exit_time.low < 2.5   # informative CI
    assert res.p.value < 1e-4
    assert res.side_probabilities[0][1].value == 1.0      # the only exit is the upper one


def test_bit_identical_for_any_thread_count(threads):
    """Each replica's randomness comes from (seed, run, replica, generation)."""
    prob = _ar1_problem(1.5, 0.05)
    out = []
    for t in (1, 2):
        threads(t)
        res = split(prob, n_replicas=20, n_runs=2, dt=DT, seed=2, a=0.05, z0=0.1)
        out.append(([r.p for r in res.runs], res.work, res.mean_exit_time.value))
    assert out[0] == out[1]


@nb.njit("float64(float64[::1], float64[::1])")
def _nan_xi(x, params):
    return math.nan if x[0] > 0.1 else abs(x[0])


@nb.njit("float64(float64[::1], float64[::1])")
def _flat_xi(x, params):
    return 0.0


@pytest.mark.parametrize("kwargs, needle", [
    (dict(n_replicas=1), "n_replicas must be"),
    (dict(n_runs=1), "n_runs must be"),
    (dict(a=0.5, z0=0.3), "z0 must exceed a=0.5"),
    (dict(a=-0.1, z0=0.3), "a must contain the start point"),
    (dict(a=float("nan"), z0=0.3), "a must be a finite number"),
    (dict(xi=_flat_xi, a=0.0, z0=0.1), "levels would never advance"),
    (dict(xi=_nan_xi, a=0.05, z0=0.2), "xi must be finite"),
    (dict(k=20), "k must be"),
])
def test_bad_input_one_line(kwargs, needle):
    prob = _ar1_problem(2.0, 0.2)
    with pytest.raises(ValueError, match=needle) as err:
        split(prob, **{"n_replicas": 20, "n_runs": 2, "dt": DT, **kwargs})
    assert "\n" not in str(err.value)


def test_committor_start_inside_a_rejected():
    with pytest.raises(ValueError, match="x must lie outside A"):
        committor(_ar1_problem(2.0, 0.2), [0.1], 0.2, n_replicas=10, n_runs=2, dt=DT)


def test_budget_gives_a_censored_bound():
    """A run cut by max_iterations reports a bound, never a number that looks exact."""
    res = split(_ar1_problem(2.0, 0.15), n_replicas=20, n_runs=2, dt=DT, seed=1, a=0.05,
                z0=0.1, max_iterations=5)
    assert res.censored and "max_iterations=5" in res.reason
    assert math.isnan(res.p.value) and res.p.high > 0
    assert math.isnan(res.mean_exit_time.value) and res.mean_exit_time.low > 0
    assert '"censored": true' in res.to_json()


def test_wells_exit_side():
    """Three wells, start in the middle one: the exit goes over the lower barrier (left,
    side -1: heights 0.19 left vs 0.33 right) far more often; Kramers' ratio of the two
    rates is ~exp(0.14 / eps^2) ~ 9, so P(left) ~ 0.9."""
    pot = MultiWell1D((-1.0, 0.0, 1.2), (-0.5, 0.6), scale=10.0)
    h = pot.heights()[1]
    assert h[0] < h[1]
    prob = Problem(pot, alpha=2.0, eps=0.25, domain=WellPartition.of(pot), x0=[0.0])
    res = split(prob, n_replicas=50, n_runs=4, dt=2e-3, seed=4, k=5)
    assert not res.censored
    assert res.side_probabilities[0][0].value > 0.6


@pytest.mark.slow
def test_levy_exit_against_jump_adapted():
    """alpha = 1.5, eps = 0.01 (E tau ~ 2.4e3): splitting's CI contains the jump-adapted
    mean (the two are different approximations of the same exit; the jump-adapted CI's
    half-width is added as slack). The exit is one large jump, so the per-run estimates are
    heavy-tailed and the CI is wide (about a factor 2 each way with 40 runs)."""
    from levydyn import simulate

    prob = Problem(Quadratic([1.0]), alpha=1.5, eps=0.01, domain=Box([-1.0], [1.0]))
    ja = simulate(prob, n_paths=1000, dt=0.02, t_max=1e9, seed=1,
                  method="jump_adapted").mean_exit_time()
    sp = split(prob, n_replicas=100, n_runs=40, dt=0.02, seed=3)
    assert sp.mean_exit_time.contains(ja.value, slack=ja.half_width), (sp.mean_exit_time, ja)


def test_all_runs_extinct_is_no_estimate():
    """A jump-driven exit at tiny eps: runs end in extinction (every replica tied); with
    every run at p_m = 0 the result says so and reports no number (nan), never p = 0."""
    prob = Problem(Quadratic([1.0]), alpha=1.5, eps=1e-4, domain=Box([-1.0], [1.0]))
    res = split(prob, n_replicas=10, n_runs=2, dt=0.02, seed=0)
    assert all(r.extinct for r in res.runs)
    assert math.isnan(res.p.value) and math.isnan(res.mean_exit_time.value)
    assert "extinction" in res.warning
