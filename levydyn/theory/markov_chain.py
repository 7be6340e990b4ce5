"""Theorem 2 (paper 000, eqs. 13-14; Imkeller & Pavlyukevich 2008): the reduced Markov chain.

Statement
---------
Let ``U`` on the line have non-degenerate minima ``m_1 < ... < m_r`` separated by maxima
``s_1 < ... < s_{r-1}`` (``s_0 = -inf``, ``s_r = +inf``), and ``dX = -U'(X) dt + eps dL``
with ``L`` symmetric alpha-stable of Levy measure ``C |y|^(-1-alpha) dy``. As eps -> 0,
``X_{t / eps^alpha}`` converges (finite-dimensional laws) to the continuous-time Markov
chain on ``{m_1, ..., m_r}`` with generator

    q_ij = (C / alpha) | |s_{j-1} - m_i|^(-alpha) - |s_j - m_i|^(-alpha) |,  j != i,   (13)
    q_ii = -sum_{j != i} q_ij,                                                       (14)

i.e. ``q_ij`` is the Levy mass of the jumps from ``m_i`` that land in the well
``(s_{j-1}, s_j)``. In the natural time the chain has generator ``eps^alpha Q``, which is
what :func:`generator` returns (``eps=1`` gives the rescaled-time ``Q`` of the paper).
The stationary law solves ``Q^T pi = 0``, ``sum pi = 1``; for two wells with the
maximum at ``s``:

    pi_1 = |m_1 - s|^alpha / (|m_1 - s|^alpha + |m_2 - s|^alpha)

(paper 000, after eq. 14, with ``s = 0``): the chain prefers the wider well.

Conventions: ``measure="sas"`` (default) uses ``C = c_alpha`` (SaS(1) noise);
``measure="unit"`` uses ``C = 1`` as the paper does. ``pi`` and the jump-chain
probabilities do not depend on ``C``; rates and passage times do.
"""
from __future__ import annotations

import math

import numpy as np

from levydyn.theory._validate import check_alpha, check_measure, check_positive, wells
from levydyn.theory.levy_measure import measure_constant


def _check_landscape(minima, maxima) -> tuple[np.ndarray, np.ndarray]:
    minima, maxima = wells(minima, maxima)
    m = np.atleast_1d(np.asarray(minima, dtype=float))
    s = np.atleast_1d(np.asarray(maxima, dtype=float)) if np.size(maxima) else np.zeros(0)
    if m.ndim != 1 or m.size < 2:
        raise ValueError(f"minima must list at least two minima, got minima={np.asarray(minima).tolist()!r}")
    if s.ndim != 1 or s.size != m.size - 1:
        raise ValueError(f"maxima must have len(minima) - 1 = {m.size - 1} entries, "
                         f"got maxima={np.asarray(maxima).tolist()!r}")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(s))):
        raise ValueError(f"minima and maxima must be finite, got minima={m.tolist()} maxima={s.tolist()}")
    r = np.empty(m.size + s.size)
    r[0::2], r[1::2] = m, s
    if np.any(np.diff(r) <= 0):
        raise ValueError(f"minima and maxima must interleave m_1 < s_1 < m_2 < ..., got "
                         f"minima={m.tolist()} maxima={s.tolist()}")
    return m, s


def _inv_pow(d: float, alpha: float) -> float:
    return 0.0 if math.isinf(d) else d ** (-alpha)


def generator(alpha: float, eps: float, minima, maxima=None, *, measure: str = "sas") -> np.ndarray:
    """Generator ``eps^alpha Q`` of the limiting chain, eqs. 13-14 of paper 000.

    ``Q_ij = (C / alpha) | |s_{j-1} - m_i|^-alpha - |s_j - m_i|^-alpha |`` for ``j != i``,
    rows summing to zero; ``C = c_alpha`` for ``measure="sas"``, 1 for ``"unit"``.
    ``eps=1`` gives the paper's rescaled-time generator, other eps the natural time.
    The landscape is ``minima, maxima`` or a :class:`~levydyn.model.domains.WellPartition`.
    """
    check_measure(measure)
    a = check_alpha(alpha)
    e = check_positive(eps, "eps")
    m, s = _check_landscape(minima, maxima)
    r = m.size
    edges = np.concatenate([[-np.inf], s, [np.inf]])
    k = e ** a * measure_constant(a, measure=measure) / a
    Q = np.zeros((r, r))
    for i in range(r):
        for j in range(r):
            if i != j:
                near = _inv_pow(abs(edges[j] - m[i]), a)
                far = _inv_pow(abs(edges[j + 1] - m[i]), a)
                Q[i, j] = k * abs(near - far)
        Q[i, i] = -Q[i].sum()
    return Q


def jump_chain(alpha: float, eps: float, minima, maxima=None, *, measure: str = "sas") -> np.ndarray:
    """``P_ij = q_ij / q_i``: probability that the first transition from well i lands in j.

    Paper 000, Thm 1 / eq. 11 (independent of eps and of ``measure``, which are taken for
    uniformity). Diagonal is zero.
    """
    Q = generator(alpha, eps, minima, maxima, measure=measure)
    P = Q / (-np.diag(Q))[:, None]
    np.fill_diagonal(P, 0.0)
    return P


def exit_rates(alpha: float, eps: float, minima, maxima=None, *, measure: str = "sas") -> np.ndarray:
    """``eps^alpha q_i``: the rate of leaving each well (paper 000, eq. 12; ``measure`` as above)."""
    return -np.diag(generator(alpha, eps, minima, maxima, measure=measure)).copy()


def stationary_from_generator(Q) -> np.ndarray:
    """Solve ``Q^T pi = 0``, ``sum(pi) = 1`` (one equation replaced by the normalisation).

    Pure linear algebra on a given generator (irreducible, rows summing to zero); no
    Levy-measure convention is involved.
    """
    Q = np.asarray(Q, dtype=float)
    if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
        raise ValueError(f"Q must be a square matrix, got shape Q.shape={Q.shape}")
    A = Q.T.copy()
    A[-1, :] = 1.0
    b = np.zeros(Q.shape[0])
    b[-1] = 1.0
    return np.linalg.solve(A, b)


def stationary_distribution(alpha: float, eps: float, minima, maxima=None, *,
                            measure: str = "sas") -> np.ndarray:
    """Stationary law ``pi`` of the chain of paper 000, Thm 2 (``Q^T pi = 0``).

    Solved for the natural-time generator at ``eps``; ``pi`` does not depend on eps or on
    ``measure`` (Q only scales), but both are taken so that every function of this module
    has the same leading arguments ``(alpha, eps, landscape)``.
    """
    return stationary_from_generator(generator(alpha, eps, minima, maxima, measure=measure))


def two_well_stationary(alpha: float, eps: float, minima, maxima=None, *,
                        measure: str = "sas") -> tuple[float, float]:
    """``pi_i = |m_i - s|^alpha / (|m_1 - s|^alpha + |m_2 - s|^alpha)`` (paper 000, after eq. 14).

    Two wells ``minima = (m1, m2)`` around ``maxima = (s,)``, ``m1 < s < m2`` (or a
    two-well WellPartition); independent of eps and of ``measure`` (both are checked).
    """
    check_measure(measure)
    a = check_alpha(alpha)
    check_positive(eps, "eps")
    m, s = _check_landscape(minima, maxima)
    if m.size != 2:
        raise ValueError(f"two_well_stationary needs two minima, got minima={m.tolist()}")
    m1, m2, saddle = float(m[0]), float(m[1]), float(s[0])
    w1, w2 = abs(m1 - saddle) ** a, abs(m2 - saddle) ** a
    return w1 / (w1 + w2), w2 / (w1 + w2)


def first_passage_from_generator(Q) -> np.ndarray:
    """Mean first-passage times ``M_ij = E_i[inf{t : Y_t = j}]`` of a CTMC (``M_ii = 0``).

    Column j solves ``Q_{-j,-j} h = -1`` on the states other than j. Pure linear algebra
    on the given generator (its time unit is the caller's).
    """
    Q = np.asarray(Q, dtype=float)
    r = Q.shape[0]
    M = np.zeros((r, r))
    for j in range(r):
        keep = np.arange(r) != j
        M[keep, j] = np.linalg.solve(Q[np.ix_(keep, keep)], -np.ones(r - 1))
    return M


def mean_first_passage_times(alpha: float, eps: float, minima, maxima=None, *,
                             measure: str = "sas") -> np.ndarray:
    """Mean first-passage times between wells, in natural time, for the chain ``eps^alpha Q``.

    ``M_ij`` is the mean time for the limiting chain started at ``m_i`` to first reach
    ``m_j``; small-noise limit, ``O(eps^-alpha)``. ``C`` per ``measure`` (see
    :func:`generator`). For two wells ``M_12 = 1 / (eps^alpha q_12)``.
    """
    return first_passage_from_generator(generator(alpha, eps, minima, maxima, measure=measure))


def deviation_matrix(Q) -> np.ndarray:
    """Deviation matrix ``D = int_0^inf (e^(Q t) - 1 pi^T) dt = (1 pi^T - Q)^-1 - 1 pi^T``.

    The continuous-time counterpart of Kemeny & Snell's fundamental matrix
    ``Z = (I - P + 1 pi^T)^-1`` of a discrete chain (Kemeny & Snell 1960, Finite Markov
    Chains, Sec. 4.3; for generators see Coolen-Schrijner & van Doorn 2002, "The deviation
    matrix of a continuous-time Markov chain"). The inverse exists because ``1 pi^T - Q``
    has the eigenvalue 1 on ``1`` and ``-lambda`` on the other eigenvectors of ``Q``.
    ``D 1 = 0`` and ``pi^T D = 0``. Pure linear algebra on an irreducible generator (time
    unit the caller's).
    """
    return _stationary_and_deviation(Q)[1]


def _stationary_and_deviation(Q) -> tuple[np.ndarray, np.ndarray]:
    pi = stationary_from_generator(Q)
    Pi = np.outer(np.ones(pi.size), pi)
    return pi, np.linalg.inv(Pi - np.asarray(Q, dtype=float)) - Pi


def occupation_from_generator(Q, start: int, horizon: float) -> np.ndarray:
    """``(1/T) int_0^T P_start(Y_t = j) dt``: expected fraction of [0, T] spent in each state.

    With ``Pi = 1 pi^T`` and the deviation matrix ``D`` (:func:`deviation_matrix`),
    ``int_T^inf (e^(Qt) - Pi) dt = e^(QT) D`` (because ``e^(QT) Pi = Pi``), hence

        int_0^T e^(Q t) dt = T Pi + (I - e^(QT)) D,
        occupation = pi + [(I - e^(QT)) D]_start / T,

    exact at every horizon and free of the loss of precision of a T-scaled matrix
    exponential: it tends to ``pi`` at rate ``1 / (T * spectral gap)``. For short horizons
    (``T max_i |q_ii| <= 1``, where the ``pi`` terms would cancel) and for a reducible
    ``Q`` (no unique ``pi``) the integral is the top-right block of
    ``expm([[Q, I], [0, 0]] T)`` (Van Loan 1978). Pure linear algebra on the given
    generator (time unit the caller's).
    """
    from scipy.linalg import expm

    Q = np.asarray(Q, dtype=float)
    r = Q.shape[0]
    if not (isinstance(start, (int, np.integer)) and 0 <= int(start) < r):
        raise ValueError(f"start must be a state index in [0, {r}), got start={start!r}")
    T = check_positive(horizon, "horizon")
    s = int(start)
    if T * float(np.max(np.abs(np.diag(Q)), initial=0.0)) > 1.0:
        try:
            pi, D = _stationary_and_deviation(Q)
        except np.linalg.LinAlgError:
            pi, D = None, None
        if D is not None and np.all(np.isfinite(D)):
            return pi + ((np.eye(r) - expm(Q * T)) @ D)[s] / T
    big = np.zeros((2 * r, 2 * r))
    big[:r, :r] = Q * T
    big[:r, r:] = np.eye(r) * T
    return expm(big)[:r, r:][s] / T


def expected_occupation(horizon: float, alpha: float, eps: float, minima, maxima=None, *,
                        start: int = 0, measure: str = "sas") -> np.ndarray:
    """Expected fraction of ``[0, horizon]`` the limiting chain (generator ``eps^alpha Q``,
    natural time) spends in each well, started in well ``start``.

    The finite-horizon version of the stationary law of paper 000, Thm 2 (it converges to
    ``pi`` at rate ``1 / (horizon * spectral gap)``); what a simulation of length
    ``horizon`` started at ``m_start`` should show. ``C`` per ``measure`` (see :func:`generator`).
    """
    return occupation_from_generator(generator(alpha, eps, minima, maxima, measure=measure), start, horizon)


__all__ = ["deviation_matrix", "occupation_from_generator", "expected_occupation", "generator",
           "jump_chain", "exit_rates", "stationary_from_generator", "stationary_distribution",
           "two_well_stationary", "first_passage_from_generator", "mean_first_passage_times"]
