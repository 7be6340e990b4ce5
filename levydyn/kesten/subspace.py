"""The recursion restricted to the subspace its iterates can reach from the minimum.

For an :class:`~levydyn.kesten.models.EmpiricalMinibatch` law the recursion started at the
minimum, ``x_0 = 0``,

    x_{k+1} = (I - lr H_k) x_k - lr u_k,   H_k = (1/B) sum_b F_{n_b} F_{n_b}^T + R + wd I,
                                           u_k = (1/B) sum_b G_{n_b},

never leaves the smallest subspace ``V`` that contains every deviation ``G_n`` and is
invariant under every ``H_k``: ``x_1 = -lr u_0`` lies in ``span{G_n}``, and ``H_k`` maps
``V`` into ``V`` when ``V`` holds every factor column (``F_n F_n^T v`` is a combination of
``F_n``'s columns; ``wd I`` maps ``V`` to itself) and is closed under ``R`` (a Krylov closure
when a remainder is given). So

    V = K(R; span{G_n, F_n[:, j]})   (= span{G_n, F_n[:, j]} without a remainder).

With an orthonormal basis ``Q`` (P x d) of ``V`` the iterates are ``x_k = Q y_k`` with

    y_{k+1} = (I_d - lr Q^T H_k Q) y_k - lr Q^T u_k,
    Q^T H_k Q = (1/B) sum_b (Q^T F_{n_b})(Q^T F_{n_b})^T + Q^T R Q + wd I_d,

again an empirical minibatch law (deviations ``G Q``, factors ``Q^T F_n``, remainder
``Q^T R Q``, the same ``wd``), in ``d <= N (r + 1)`` dimensions. Its top Lyapunov exponent is
the growth rate of the directions the escape can take; the full-space exponent is
``max(lambda_1(V), lambda_1(V^perp))`` and on ``V^perp`` (no factor, no deviation, no
remainder) ``H_k = wd I``, so whenever the reachable directions contract faster than weight
decay alone the full-space exponent sits at the floor ``log(1 - lr wd)`` and says nothing about
the escape (issue 28). Because every ``H_k`` is symmetric, ``V^perp`` is invariant too: the
recursion is block-diagonal in ``(V, V^perp)``, so the *sign* of the full-space exponent is
the sign of the reachable one whenever the full one is positive, and a negative full-space
exponent only bounds the reachable one from above (``lambda_1(V) <= lambda_1``): the
stable/unstable verdict cannot flip, the *value* in stable cells can (the floor hides how
fast the escape directions contract). The Kesten tail index of the reachable recursion is the one of the
iterates' stationary law (Kesten 1973; Gurbuzbalaban, Simsekli & Zhu 2021, paper 001).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from levydyn.kesten.models import EmpiricalMinibatch

__all__ = ["ReachableSubspace", "reachable_subspace", "weight_decay_floor"]


@dataclass(frozen=True)
class ReachableSubspace:
    """An orthonormal basis ``Q`` (P x d) of the reachable subspace and the law on it.

    law : the :class:`EmpiricalMinibatch` of ``y = Q^T x`` (module docstring).
    invariance_error : ``max_k ||(I - Q Q^T) H_k Q|| / ||H_k Q||`` over the factor terms and
        the remainder (Frobenius; ~1e-15 when ``V`` is invariant).
    """

    basis: np.ndarray
    law: EmpiricalMinibatch
    invariance_error: float

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])


def _orthonormal(cols: np.ndarray, rtol: float) -> np.ndarray:
    """Orthonormal basis of the column span of ``cols`` (SVD, singular values below
    ``rtol * max`` dropped)."""
    if cols.shape[1] == 0:
        return np.zeros((cols.shape[0], 0))
    U, s, _ = np.linalg.svd(cols, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        return np.zeros((cols.shape[0], 0))
    return U[:, s > rtol * s[0]]


def reachable_subspace(law: EmpiricalMinibatch, rtol: float = 1e-10) -> ReachableSubspace:
    """The reachable subspace of ``law``'s recursion from ``x_0 = 0`` and the law on it.

    Parameters
    ----------
    law : an :class:`EmpiricalMinibatch` (deviations ``G_n``, factors ``F_n``, optional
        remainder ``R``, weight decay ``wd``).
    rtol : relative singular-value cut-off of the basis (directions with a singular value
        below ``rtol`` times the largest are treated as unreachable).

    Returns
    -------
    :class:`ReachableSubspace`; its ``law`` has ``dim = d`` (at least 1: a law whose
    deviations and factors all vanish is refused with a ValueError).
    """
    if not isinstance(law, EmpiricalMinibatch):
        raise ValueError(f"law must be an EmpiricalMinibatch, got law={type(law).__name__}")
    if not (isinstance(rtol, (int, float)) and 0 < rtol < 1):
        raise ValueError(f"rtol must lie in (0, 1), got rtol={rtol!r}")
    G, F = law.deviations, law.factors
    N, P, r = F.shape
    cols = np.concatenate([G.T, F.transpose(1, 0, 2).reshape(P, N * r)], axis=1)
    Q = _orthonormal(cols, rtol)
    R = law.remainder
    Rm = None if R is None else (np.diag(R) if R.ndim == 1 else R)
    if Rm is not None:                  # Krylov closure under the shared remainder
        while Q.shape[1] < P:
            Q2 = _orthonormal(np.concatenate([Q, Rm @ Q], axis=1), rtol)
            if Q2.shape[1] == Q.shape[1]:
                break
            Q = Q2
    if Q.shape[1] == 0:
        raise ValueError("law: every deviation and factor is zero; nothing is reachable from "
                         "x = 0 (the recursion stays at the minimum)")
    FQ = np.einsum("pd,npr->ndr", Q, F)
    reduced = EmpiricalMinibatch(G @ Q, FQ, law.batch_size, law.replace,
                                 None if Rm is None else Q.T @ Rm @ Q, law.weight_decay)
    return ReachableSubspace(Q, reduced, _invariance_error(Q, F, Rm))


def _invariance_error(Q: np.ndarray, F: np.ndarray, Rm: np.ndarray | None,
                      chunk: int = 64) -> float:
    """``max ||(I - QQ^T) A Q|| / ||A Q||`` (Frobenius) over ``A = F_n F_n^T`` (every ``n``,
    in chunks) and ``A = R``.

    For ``A = F_n F_n^T`` (``F_n``: ``P x r``), ``A Q = F_n C_n`` with ``C_n = F_n^T Q``
    (``r x d``), so with ``E_n = (I - QQ^T) F_n``

        ||(I - QQ^T) A Q||^2 = tr(E_n^T E_n C_n C_n^T),   ||A Q||^2 = tr(F_n^T F_n C_n C_n^T):

    ``r x r`` products instead of the ``P x d`` matrix ``A Q`` and its projection (the
    ``P x d x d`` work per sample took ~10 min per call on 1,437 samples of a 666-parameter
    network, once per stability cell)."""
    def ratio(num2: np.ndarray, den2: np.ndarray) -> float:
        ok = den2 > 0
        return float(np.sqrt(np.maximum(num2[ok], 0.0) / den2[ok]).max()) if ok.any() else 0.0

    worst = 0.0
    for i in range(0, F.shape[0], chunk):
        Fc = F[i:i + chunk]                                 # (m, P, r)
        C = np.matmul(Fc.transpose(0, 2, 1), Q)             # (m, r, d)
        E = Fc - np.matmul(Q, C.transpose(0, 2, 1))         # (m, P, r)
        CC = np.matmul(C, C.transpose(0, 2, 1))             # (m, r, r)
        EE = np.matmul(E.transpose(0, 2, 1), E)
        FF = np.matmul(Fc.transpose(0, 2, 1), Fc)
        worst = max(worst, ratio((EE * CC).sum(axis=(1, 2)), (FF * CC).sum(axis=(1, 2))))
    if Rm is not None:
        AQ = Rm @ Q
        out = AQ - Q @ (Q.T @ AQ)
        worst = max(worst, ratio(np.array([(out ** 2).sum()]), np.array([(AQ ** 2).sum()])))
    return worst


def weight_decay_floor(lr: float, weight_decay: float) -> float:
    """``log|1 - lr wd|``: the exponent of a direction that only weight decay acts on
    (``-inf`` when ``lr wd = 1``)."""
    a = abs(1.0 - lr * weight_decay)
    return math.log(a) if a > 0 else -math.inf
