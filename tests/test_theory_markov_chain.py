"""Theorem 2 (paper 000): generator, stationary law and passage times by independent routes."""
import numpy as np
import pytest
from scipy import integrate, linalg

from levydyn.theory import markov_chain as mc
from levydyn.theory.levy_measure import c_alpha

MINIMA = [-2.0, -0.5, 1.0, 3.5]
MAXIMA = [-1.2, 0.3, 2.0]


@pytest.mark.parametrize("measure", ["sas", "unit"])
def test_generator_entries_are_levy_mass_of_landing_wells(measure):
    alpha, eps = 1.4, 0.1
    C = c_alpha(alpha) if measure == "sas" else 1.0
    Q = mc.generator(alpha, eps, MINIMA, MAXIMA, measure=measure)
    edges = [-np.inf] + MAXIMA + [np.inf]
    dens = lambda y: C * eps ** alpha * abs(y) ** (-1 - alpha)  # noqa: E731 (law of eps*jump)
    for i, m in enumerate(MINIMA):
        for j in range(len(MINIMA)):
            if i != j:
                lo, hi = edges[j] - m, edges[j + 1] - m
                # jumps of eps*L landing in (lo, hi): measure of y in (lo, hi) under the image measure
                val = integrate.quad(dens, lo, hi, epsabs=0, epsrel=1e-12)[0]
                assert Q[i, j] == pytest.approx(val, rel=1e-9)
    assert np.allclose(Q.sum(axis=1), 0.0, atol=1e-15)


def test_stationary_law_three_routes():
    Q = mc.generator(1.5, 1.0, MINIMA, MAXIMA)
    pi = mc.stationary_distribution(1.5, 1.0, MINIMA, MAXIMA)
    # route 2: null space of Q^T by SVD
    _, _, vt = np.linalg.svd(Q.T)
    ns = vt[-1] / vt[-1].sum()
    assert pi == pytest.approx(ns, rel=1e-10)
    # route 3: rows of exp(Q t) for large t
    P = linalg.expm(Q * 200.0)
    assert pi == pytest.approx(P[0], rel=1e-8)
    assert np.abs(Q.T @ pi).max() < 1e-14


@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8])
def test_two_well_closed_form(alpha):
    m1, m2 = -1.0, 2.5
    pi = mc.stationary_distribution(alpha, 0.1, [m1, m2], [0.0])
    closed = mc.two_well_stationary(alpha, 0.1, [m1, m2], [0.0])
    assert pi == pytest.approx(closed, rel=1e-13)
    assert closed[0] == pytest.approx(abs(m1) ** alpha / (abs(m1) ** alpha + abs(m2) ** alpha), rel=1e-14)
    # shifted saddle
    assert mc.two_well_stationary(alpha, 0.1, [0.0, 4.0], [1.0]) == pytest.approx(
        mc.stationary_distribution(alpha, 0.1, [0.0, 4.0], [1.0]), rel=1e-13)
    M = mc.mean_first_passage_times(alpha, 0.1, [m1, m2], [0.0])
    Q = mc.generator(alpha, 0.1, [m1, m2], [0.0])
    assert M[0, 1] == pytest.approx(1 / Q[0, 1], rel=1e-13)


def test_first_passage_against_deviation_matrix():
    # m_ij = (D_jj - D_ij) / pi_j with D = (Pi - Q)^-1 - Pi (deviation matrix of the CTMC)
    Q = mc.generator(1.3, 0.2, MINIMA, MAXIMA)
    M = mc.mean_first_passage_times(1.3, 0.2, MINIMA, MAXIMA)
    pi = mc.stationary_from_generator(Q)
    Pi = np.outer(np.ones(len(pi)), pi)
    D = np.linalg.inv(Pi - Q) - Pi
    expected = (np.diag(D)[None, :] - D) / pi[None, :]
    assert M == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # Kemeny: sum_j pi_j m_ij is the same from every start
    kem = M @ pi
    assert np.ptp(kem) < 1e-9 * kem.mean()


def test_jump_chain_and_scaling():
    P = mc.jump_chain(1.5, 1.0, MINIMA, MAXIMA)
    assert np.allclose(P.sum(axis=1), 1.0) and np.all(np.diag(P) == 0)
    r1 = mc.exit_rates(1.5, 0.1, MINIMA, MAXIMA)
    r2 = mc.exit_rates(1.5, 0.2, MINIMA, MAXIMA)
    assert r2 / r1 == pytest.approx(np.full(4, 2 ** 1.5), rel=1e-13)
    assert mc.stationary_distribution(1.5, 1.0, MINIMA, MAXIMA, measure="unit") == pytest.approx(
        mc.stationary_distribution(1.5, 1.0, MINIMA, MAXIMA, measure="sas"), rel=1e-12)


def test_bad_landscape():
    with pytest.raises(ValueError, match="interleave"):
        mc.generator(1.5, 1.0, [-1.0, 1.0], [2.0])
    with pytest.raises(ValueError, match="maxima"):
        mc.generator(1.5, 1.0, [-1.0, 1.0], [])
    with pytest.raises(ValueError, match="minima"):
        mc.generator(1.5, 1.0, [1.0], [])


def test_expected_occupation_against_quadrature_and_limit():
    Q = mc.generator(1.5, 0.1, MINIMA, MAXIMA)
    T = 300.0
    occ = mc.expected_occupation(T, 1.5, 0.1, MINIMA, MAXIMA, start=1)
    direct = integrate.quad_vec(lambda t: linalg.expm(Q * t)[1], 0, T, epsabs=0, epsrel=1e-12)[0] / T
    assert occ == pytest.approx(direct, rel=1e-9)
    assert occ.sum() == pytest.approx(1.0, abs=1e-12)
    # (1/T) int_0^T P(Y_t = j) dt = pi_j + O(1 / (T * gap)); gap ~ 0.1 here, so 1e-4 at T = 1e5
    far = mc.expected_occupation(1e5, 1.5, 1.0, MINIMA, MAXIMA, start=1)
    assert far == pytest.approx(mc.stationary_distribution(1.5, 1.0, MINIMA, MAXIMA), rel=1e-3)


@pytest.mark.parametrize("rates", [(0.7e-3, 0.2e-3), (3.0, 0.01), (1.0, 1.0)])
@pytest.mark.parametrize("t_gap", [1e-3, 1.0, 1e7])
def test_expected_occupation_two_state_closed_form(rates, t_gap):
    # Q = [[-a, a], [b, -b]], lambda = a + b: P_00(t) = b/lambda + (a/lambda) e^(-lambda t), so
    # (1/T) int_0^T P_00 = b/lambda + a (1 - e^(-lambda T)) / (lambda^2 T) (expm1: no cancellation).
    # The deviation-matrix form is exact, so the only error is rounding (a few ulp x cond).
    a, b = rates
    lam = a + b
    T = t_gap / lam
    f = -np.expm1(-lam * T) / (lam * lam * T)
    exact = np.array([b / lam + a * f, a / lam - a * f])
    occ = mc.occupation_from_generator(np.array([[-a, a], [b, -b]]), 0, T)
    assert occ == pytest.approx(exact, rel=1e-12)


def test_expected_occupation_long_horizon_four_wells():
    # Reference: pi + [(I - e^(QT)) D]_s / T evaluated in 50-digit arithmetic (mpmath), D the
    # deviation matrix; at T x gap = 1e7 the T-scaled block exponential of Van Loan is off
    # by ~3e-3 in double precision, this form by ~1e-15.
    import mpmath

    Q = mc.generator(1.5, 0.1, MINIMA, MAXIMA)
    gap = -np.sort(np.linalg.eigvals(Q).real)[-2]
    with mpmath.workdps(50):
        Qm = mpmath.matrix(Q.tolist())
        r = Q.shape[0]
        A = Qm.T.copy()
        for j in range(r):
            A[r - 1, j] = 1
        pi = mpmath.lu_solve(A, mpmath.matrix([0] * (r - 1) + [1]))
        Pi = mpmath.matrix([[pi[j] for j in range(r)] for _ in range(r)])
        D = mpmath.inverse(Pi - Qm) - Pi
        for t_gap in (1.0, 1e3, 1e7):
            T = mpmath.mpf(t_gap) / mpmath.mpf(float(gap))
            M = (mpmath.eye(r) - mpmath.expm(Qm * T)) * D
            ref = [float(pi[j] + M[1, j] / T) for j in range(r)]
            occ = mc.expected_occupation(float(T), 1.5, 0.1, MINIMA, MAXIMA, start=1)
            assert occ == pytest.approx(ref, rel=1e-13)
    assert np.abs(mc.deviation_matrix(Q).sum(axis=1)).max() < 1e-9
