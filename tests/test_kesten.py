"""levydyn.kesten: the random linear recursion against exact laws (scalar, diagonal,
isotropic Gaussian least squares via sgd_tails' quadrature) and its escape laws.

Tolerances: every check against an exact number uses the estimator's own CI (Student-t
over independent paths or replicas, 95 %), widened only where a bias is known and named in
the test. With about 12 such checks at 95 % each, a failure of a correct implementation
is possible (~5 % per check) but all seeds are fixed, so the suite is deterministic.
"""
from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy import optimize

from levydyn import Ball, Box, Constant, MultiStep, Power
from levydyn.experiments import sgd_tails as st
from levydyn import kesten as kz

#: a in {0.4, 1.5}, P(a = 1.5) = 6/11: E a = 1 exactly, so alpha_K = 1; log 0.4 / log 1.5
#: is irrational (non-arithmetic: Kesten-Goldie tail applies); lambda_1 = -0.1953.
ALPHA1 = kz.ScalarAffine.from_ab([0.4, 1.5], [5 / 11, 6 / 11])


def _enumerated(h_values, B, replace, lr):
    """Exact law of a = 1 - lr mean(h over a batch) for a scalar empirical law."""
    N = len(h_values)
    if replace:
        batches = list(itertools.product(range(N), repeat=B))
    else:
        batches = list(itertools.combinations(range(N), B))
    a = np.array([1 - lr * np.mean([h_values[i] for i in b]) for b in batches])
    return a, np.full(a.size, 1 / a.size)


def _exact_lambda(a, p, s):
    return float(np.log(np.sum(p * np.abs(a) ** s)))


# ------------------------------------------------------------------------ exact 1-D results
def test_scalar_lyapunov_and_generalised_exponent_exact():
    lam = kz.lyapunov_exponent(ALPHA1, 1.0, n_paths=256, n_steps=2000, seed=1)
    assert lam.contains(ALPHA1.exact_lyapunov(1.0)), lam
    assert lam.half_width < 0.01
    est = kz.generalized_lyapunov(ALPHA1, 1.0, [0.5, 1.0, 2.0], seed=2)
    for s, e in zip([0.5, 1.0, 2.0], est):
        assert e.contains(ALPHA1.exact_growth(s, 1.0)), (s, e)
        assert e.half_width < 0.01
    assert ALPHA1.exact_growth(1.0, 1.0) == pytest.approx(0.0, abs=1e-15)   # E|a|^1 = 1


def test_scalar_tail_index_cloning_vs_exact():
    """E|a|^alpha = 1 at alpha = 1; the cloning root's band inversion must cover it, and be
    informative (half-width < 0.05)."""
    assert ALPHA1.exact_tail_index(1.0) == pytest.approx(1.0, abs=1e-10)
    a = kz.tail_index(ALPHA1, 1.0, method="cloning", n_particles=256, n_steps=300, seed=3)
    assert a.contains(1.0), a
    assert a.half_width < 0.05
    ex = kz.tail_index(ALPHA1, 1.0)
    assert ex.value == pytest.approx(1.0) and ex.method.startswith("exact")


def test_scalar_stationary_tail_exponent():
    """P(|x| > R) ~ C R^(-alpha): Hill's estimate on stationary samples covers alpha = 1.
    Sample: 4096 paths x 64 records (thin 4 ~ 0.8 relaxation times); CI over 10 groups of
    independent paths (sgd_tails.grouped_tail_estimates, tail fraction n^(-1/2))."""
    rec = kz.Recursion(ALPHA1, 1.0)
    s = kz.sample_stationary(rec, n_paths=4096, n_records=64, burn_in=150, thin=4, seed=4)
    assert s.iterates.shape == (64, 4096, 1)
    hill = s.tail_estimates()["hill"]
    assert hill.contains(1.0), hill
    assert hill.half_width < 0.3    # k = 51 order statistics per group: ~ +-20 % each
    assert not hill.contains(1.5) and not hill.contains(0.6)


# ------------------------------------------------------------------ empirical minibatch law
@pytest.mark.parametrize("B,replace", [(1, True), (2, True), (2, False), (3, False)])
def test_empirical_scalar_law_matches_enumeration(B, replace):
    """P = 1, N = 3: the batch law is finite, so lambda_1 and Lambda(2) are exact sums.
    (B = N = 3 without replacement: H is the full mean every step, lambda_1 = log|1 - lr h|:
    every index drawn exactly once, a check of the partial Fisher-Yates draw.)"""
    h = [0.2, 1.0, 3.5]
    lr = 0.9
    law = kz.EmpiricalMinibatch(np.zeros((3, 1)), np.sqrt(h)[:, None], B, replace=replace)
    a, p = _enumerated(h, B, replace, lr)
    lam = kz.lyapunov_exponent(law, lr, n_paths=128, n_steps=1000, seed=5)
    exact = float(np.sum(p * np.log(np.abs(a))))
    if B == 3:
        assert lam.value == pytest.approx(exact, abs=1e-12)
    else:
        assert lam.contains(exact), (lam, exact)
    g = kz.generalized_lyapunov(law, lr, [2.0], n_particles=256, n_steps=300, seed=6)[0]
    assert g.contains(_exact_lambda(a, p, 2.0), slack=1e-12), (g, _exact_lambda(a, p, 2.0))


def test_diagonal_law_cloning_selects_the_dominant_direction():
    """H_n = diag(h1_n, h2_n), B = 1: products stay diagonal, so
    Lambda(s) = max_j log E|1 - lr h_j|^s and lambda_1 = max_j E log|1 - lr h_j|.
    Axis 2 dominates lambda_1 (-0.078 vs -0.255), axis 1 dominates for s > 2 (its |a| = 1.2
    > 1): the population has to move to the e_1 direction to get Lambda(4) right."""
    F = np.zeros((2, 2, 2))
    F[0], F[1] = np.diag(np.sqrt([0.5, 0.1])), np.diag(np.sqrt([2.2, 0.05]))
    law = kz.EmpiricalMinibatch(np.zeros((2, 2)), F, 1)
    a1, a2 = np.array([0.5, -1.2]), np.array([0.9, 0.95])
    half = np.full(2, 0.5)
    lam = kz.lyapunov_exponent(law, 1.0, n_paths=128, n_steps=1000, seed=7)
    assert lam.contains(np.mean(np.log(np.abs(a2)))), lam
    for s, e in zip([1.0, 4.0], kz.generalized_lyapunov(law, 1.0, [1.0, 4.0], seed=8)):
        exact = max(_exact_lambda(a1, half, s), _exact_lambda(a2, half, s))
        assert e.contains(exact), (s, e, exact)
    alpha = optimize.brentq(lambda s: _exact_lambda(a1, half, s), 0.5, 10)
    est = kz.tail_index(law, 1.0, n_particles=256, n_steps=300, seed=9)
    assert est.contains(alpha), (est, alpha)


# ------------------------------------------------------- Gaussian least squares (paper 001)
def test_gaussian_least_squares_matches_sgd_tails_exact_reduction():
    """Same numbers as sgd_tails' quadrature: lambda_1 = E log||M e_1||,
    Lambda(s) = log E||M e_1||^s, alpha_K; each within the estimator's CI."""
    law = kz.GaussianLeastSquares(3, 2)
    for eta in (0.5, 0.8):
        lam = kz.lyapunov_exponent(law, eta, n_paths=128, n_steps=1000, seed=10)
        assert lam.contains(st.lyapunov_exponent(eta, 2, 3)), (eta, lam)
    g = kz.generalized_lyapunov(law, 0.5, [1.0, 2.0], n_particles=256, n_steps=300, seed=11)
    for s, e in zip([1.0, 2.0], g):
        assert e.contains(math.log(st.moment_growth(s, 0.5, 2, 3))), (s, e)
    # alpha_K = 0.952 at eta = 0.8: moderate weights, the cloning bias is below the CI
    a = kz.tail_index(law, 0.8, method="cloning", n_particles=256, n_steps=200, n_burn=50,
                      seed=12)
    assert a.contains(st.tail_index(0.8, 2, 3)), a
    assert a.half_width < 0.05
    assert kz.tail_index(law, 0.8).value == pytest.approx(st.tail_index(0.8, 2, 3))


def test_sgd_tails_runs_on_the_kesten_kernel():
    """sgd_tails' online chains are the GaussianLeastSquares recursion: same streams, same
    numbers."""
    p = st.SGDTailProblem(0.5, 2, 3)
    a = st.simulate_sgd(p, n_chains=16, n_records=3, burn_in=10, thin=2, seed=3)
    out = kz.run_recursion(kz.Recursion(kz.GaussianLeastSquares(3, 2), 0.5), 16, 16, seed=3,
                           burn_in=10, thin=2, n_records=3)
    np.testing.assert_array_equal(a.iterates, out["iterates"])


# ---------------------------------------------------------------------------- escape laws
def test_unstable_escape_time_grows_like_log_radius_over_lambda():
    """lambda_1 > 0: d E tau_R / d log R = 1 / lambda_1 (Wald; the O(1) constant is not
    predicted). Scalar a in {0.5, 3} (lambda_1 = 0.2027) and Gaussian least squares past
    its divergence step (lambda_1 from quadrature). 1000 paths per radius; WLS slope CI."""
    cases = [(kz.ScalarAffine.from_ab([0.5, 3.0], [0.5, 0.5]), 1.0, None),
             (kz.GaussianLeastSquares(3, 1), 0.8, st.lyapunov_exponent(0.8, 1, 3))]
    for law, lr, exact in cases:
        lam = exact if exact is not None else law.exact_lyapunov(lr)
        radii = [1e2, 1e4, 1e8]
        d = law.dim
        res = [kz.simulate(kz.Recursion(law, lr, domain=Ball(np.zeros(d), R)), n_paths=1000,
                           max_steps=100_000, seed=13) for R in radii]
        assert all(r.meta["regime"] == "unstable" for r in res)
        assert res[0].meta["slope"].contains(1 / lam)
        slope = kz.escape_scaling(radii, res, "unstable")
        assert slope.contains(1 / lam), (slope, 1 / lam)
        assert slope.half_width < 0.1 / lam


def test_stable_escape_time_is_polynomial_with_the_tail_index():
    """lambda_1 < 0: d log E tau_R / d log R -> alpha_K (= 1 here). The constant (Goldie's C
    and the extremal index) is not predicted. Pre-asymptotic drift measured on this law:
    the local exponent is 1.05 at R ~ 300-1000 and 0.995 [0.976, 1.014] over 1e3-1e5, so
    the check uses R = 1e3, 1e4 with a stated bias allowance of 0.03 on top of the CI
    (1000 paths per radius: the mean of a ~exponential time has ~3 % error)."""
    radii = [1e3, 1e4]
    res = [kz.simulate(kz.Recursion(ALPHA1, 1.0, domain=Ball([0.0], R)), n_paths=1000,
                       max_steps=2_000_000, seed=14) for R in radii]
    assert res[0].meta["regime"] == "stable"
    assert res[0].meta["tail_index"].value == pytest.approx(1.0)
    assert all(r.censored_fraction == 0 for r in res)
    expo = kz.escape_scaling(radii, res, "stable")
    assert expo.contains(1.0, slack=0.03), expo
    assert expo.half_width < 0.1
    # exit times ~ exponential in the rare-event limit: coefficient of variation ~ 1
    t = res[1].times
    assert 0.85 < t.std() / t.mean() < 1.15


# ------------------------------------------------------------------- simulator mechanics
def test_schedule_enters_as_integrated_rate():
    """Deterministic h = 1, no noise: x_k = prod_{j<k} (1 - lr int_j^{j+1} s_u du)."""
    law = kz.ScalarAffine([1.0], [1.0], u_scale=0.0)
    for sched in (Constant(), Power(0.5), MultiStep((3.0, 5.5), (0.5, 0.1))):
        out = kz.run_recursion(kz.Recursion(law, 0.3, sched, x0=[1.0]), 2, 8, seed=0,
                               burn_in=0, thin=1, n_records=8)
        lrk = np.array([0.3 * sched.integrated(2.0, k, k + 1) for k in range(8)])
        np.testing.assert_allclose(out["iterates"][:, 0, 0], np.cumprod(1 - lrk), rtol=1e-13)


def test_box_exit_axis_side_and_result_json():
    """A diagonal law that only moves axis 1 (axis 0 frozen): every exit is on axis 1."""
    F = np.zeros((2, 2, 1))
    F[:, 1, 0] = [1.0, 2.0]
    G = np.array([[0.0, 1.0], [0.0, -1.0]])
    rec = kz.Recursion(kz.EmpiricalMinibatch(G, F, 1), 0.9, domain=Box([-1, -1], [1, 2]))
    r = kz.simulate(rec, n_paths=400, max_steps=1000, seed=15)
    assert r.n_exited == 400 and np.all(r.axis == 1)
    up = r.side == 1
    assert np.all(r.points[up, 1] >= 2) and np.all(r.points[~up, 1] <= -1)
    d = json.loads(r.to_json())
    assert d["problem"]["law"] == "empirical" and d["problem"]["time_unit"] == "iterations"
    assert r.meta["regime"] in kz.REGIMES


def test_censoring_and_stream_per_path(threads):
    """Paths never dropped (censored at max_steps); path i = stream i; any thread count."""
    rng = np.random.default_rng(0)
    law = kz.EmpiricalMinibatch(rng.normal(size=(20, 5)), 0.3 * rng.normal(size=(20, 5, 2)), 4,
                                remainder=np.full(5, 0.1), weight_decay=0.01)
    rec = kz.Recursion(law, 0.2, domain=Ball(np.zeros(5), 2.0))
    threads(1)
    a = kz.simulate(rec, n_paths=64, max_steps=50, seed=9, classify=False)
    threads(2)
    b = kz.simulate(rec, n_paths=64, max_steps=50, seed=9, classify=False)
    c = kz.simulate(rec, n_paths=16, max_steps=50, seed=9, classify=False)
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.points[:16], c.points)
    assert 0 < a.n_exited < 64 and np.all(a.times[~a.exited] == 50)


def test_dense_and_diagonal_remainder_agree():
    rng = np.random.default_rng(1)
    G, F = rng.normal(size=(10, 4)), rng.normal(size=(10, 4, 1))
    d = np.array([0.1, 0.2, 0.3, 0.4])
    x = [kz.run_recursion(kz.Recursion(kz.EmpiricalMinibatch(G, F, 2, remainder=R), 0.05),
                          8, 30, seed=1)["points"] for R in (d, np.diag(d))]
    np.testing.assert_allclose(x[0], x[1], rtol=1e-12, atol=1e-14)
    H = kz.EmpiricalMinibatch(G, F, 2, remainder=d, weight_decay=0.5).mean_hessian()
    np.testing.assert_allclose(H, np.einsum("np,nq->pq", F[:, :, 0], F[:, :, 0]) / 10
                               + np.diag(d) + 0.5 * np.eye(4))


# ------------------------------------------------------------------------------ bad input
_G, _F = np.zeros((3, 2)), np.ones((3, 2, 1))
_OK = kz.EmpiricalMinibatch(_G, _F, 2)


@pytest.mark.parametrize("call,needle", [
    (lambda: kz.EmpiricalMinibatch(_G, np.full((3, 2, 1), np.nan), 2), "factors[0, 0, 0]=nan"),
    (lambda: kz.EmpiricalMinibatch(np.array([[0, np.inf]] * 3), _F, 2), "deviations[0, 1]=inf"),
    (lambda: kz.EmpiricalMinibatch(_G, np.ones((3, 3, 1)), 2), "factors.shape=(3, 3, 1)"),
    (lambda: kz.EmpiricalMinibatch(_G, _F, 4, replace=False), "batch_size=4"),
    (lambda: kz.EmpiricalMinibatch(_G, _F, 0), "batch_size=0"),
    (lambda: kz.EmpiricalMinibatch(_G, _F, 2, remainder=np.ones(3)), "remainder.shape=(3,)"),
    (lambda: kz.EmpiricalMinibatch(_G, _F, 2, weight_decay=-1), "weight_decay=-1"),
    (lambda: kz.Recursion(_OK, 0.0), "lr=0.0"),
    (lambda: kz.Recursion(_OK, -0.1), "lr=-0.1"),
    (lambda: kz.Recursion(_OK, 0.1, domain=Ball([0.0], 1.0)), "domain.dim=1"),
    (lambda: kz.Recursion(_OK, 0.1, domain=Ball([0.0, 0.0], 1.0), x0=[2, 0]), "x0=[2.0, 0.0]"),
    (lambda: kz.lyapunov_exponent(_OK, float("nan")), "lr=nan"),
    (lambda: kz.lyapunov_exponent(_OK, 0.1, n_paths=1), "n_paths=1"),
    (lambda: kz.tail_index(_OK, 0.1, method="exact"), "law=EmpiricalMinibatch"),
    (lambda: kz.ScalarAffine([0.5, 2.0], [0.5, 0.6]), "h_probs=[0.5, 0.6]"),
    (lambda: kz.GaussianLeastSquares(0, 1), "dim=0"),
    (lambda: kz.escape_scaling([1.0], [None], "stable"), "radii=[1.0]"),
])
def test_bad_input_one_line_value_error(call, needle):
    with pytest.raises(ValueError) as err:
        call()
    msg = str(err.value)
    assert needle in msg and "\n" not in msg, msg
