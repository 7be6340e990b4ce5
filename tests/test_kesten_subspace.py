"""levydyn.kesten.subspace: the recursion restricted to the subspace reachable from x = 0.

A synthetic law whose deviations and factors all lie along one known direction ``e`` of
R^6 (rotated, so no coordinate axis gives it away) plus a weight-decay floor: off ``e`` the
recursion is ``x -> (1 - lr wd) x`` exactly, so the full-space exponent is the floor
``log(1 - lr wd)``; along ``e`` it is the scalar ``a = 1 - lr (wd + mean_b c_{n_b}^2)``,
whose exponent ``E log|a|`` is computed here by enumerating every batch by hand.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from levydyn import kesten as kz
from levydyn.kesten.subspace import reachable_subspace, weight_decay_floor

P, LR, WD, B = 6, 0.5, 0.01, 2
C2 = np.array([0.5, 1.0, 1.5])          # per-sample curvatures along e


def _direction(seed: int, k: int = 1) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(P, k)))
    return q


def _line_law() -> tuple[kz.EmpiricalMinibatch, np.ndarray]:
    e = _direction(1)[:, 0]
    G = np.array([0.3, -0.1, -0.2])[:, None] * e
    F = (np.sqrt(C2)[:, None] * e)[:, :, None]
    return kz.EmpiricalMinibatch(G, F, B, weight_decay=WD), e


def _hand_exponent() -> float:
    """``E log|1 - lr (wd + mean of c^2 over a batch of B drawn with replacement)|``."""
    logs = [math.log(abs(1 - LR * (WD + np.mean(C2[list(b)]))))
            for b in itertools.product(range(C2.size), repeat=B)]
    return float(np.mean(logs))


def test_line_law_reachable_exponent_against_hand_computation():
    law, e = _line_law()
    sub = reachable_subspace(law)
    assert sub.dim == 1
    assert abs(abs(float(sub.basis[:, 0] @ e)) - 1) < 1e-12
    assert sub.invariance_error < 1e-12
    exact = _hand_exponent()
    assert exact < 5 * weight_decay_floor(LR, WD)       # the escape directions contract faster
    reach = kz.lyapunov_exponent(sub.law, LR, n_paths=64, n_steps=1000, seed=3)
    # t interval over 64 independent paths (95 %): the hand value must fall inside it
    assert reach.low <= exact <= reach.high, (reach, exact)
    assert reach.high - reach.low < 0.1 * abs(exact)    # and the interval is informative
    full = kz.lyapunov_exponent(law, LR, n_paths=64, n_steps=1000, seed=3)
    floor = weight_decay_floor(LR, WD)
    # off e the step is exactly (1 - lr wd): after the burn-in the e-component is
    # (|a|/(1 - lr wd))^100 ~ 1e-30 of the rest, so every path measures the floor
    assert abs(full.value - floor) < 1e-9, (full, floor)
    assert abs(full.value - exact) > 0.5


def test_plane_spanned_by_deviations_and_factors():
    """Deviations along e1 and factors along e2: the span is the plane of both (dropping
    the deviations, a plausible bug, gives a line)."""
    q = _direction(2, 2)
    e1, e2 = q[:, 0], q[:, 1]
    G = np.array([1.0, -1.0])[:, None] * e1
    F = np.array([0.7, 1.1])[:, None] * e2
    sub = reachable_subspace(kz.EmpiricalMinibatch(G, F, 1, weight_decay=WD))
    assert sub.dim == 2
    proj = sub.basis @ sub.basis.T
    assert np.allclose(proj, np.outer(e1, e1) + np.outer(e2, e2), atol=1e-12)
    # reduced law: H restricted is diag-free Gram of Q^T F plus wd; compare one matrix
    Fq = sub.law.factors
    H_full = np.einsum("npr,nqr->pq", F[:, :, None], F[:, :, None]) / 2 + WD * np.eye(P)
    H_red = np.einsum("npr,nqr->pq", Fq, Fq) / 2 + WD * np.eye(2)
    assert np.allclose(sub.basis.T @ H_full @ sub.basis, H_red, atol=1e-12)


def test_remainder_closes_the_span():
    """A shared remainder R that maps e1 to e3 makes e3 reachable (Krylov closure)."""
    q = _direction(3, 3)
    e1, e3 = q[:, 0], q[:, 2]
    G = np.array([1.0, -1.0])[:, None] * e1
    F = np.array([0.5, 0.8])[:, None] * e1
    R = 0.2 * (np.outer(e3, e1) + np.outer(e1, e3))
    sub = reachable_subspace(kz.EmpiricalMinibatch(G, F, 1, remainder=R, weight_decay=WD))
    assert sub.dim == 2
    assert np.allclose(sub.basis @ sub.basis.T, np.outer(e1, e1) + np.outer(e3, e3), atol=1e-10)
    assert sub.invariance_error < 1e-10


@pytest.mark.parametrize("bad,msg", [("law", "EmpiricalMinibatch"), ("zero", "nothing is reachable"),
                                     ("rtol", "rtol")])
def test_bad_input(bad, msg):
    law, _ = _line_law()
    with pytest.raises(ValueError, match=msg):
        if bad == "law":
            reachable_subspace(kz.ScalarAffine.from_ab([0.5], [1.0]))
        elif bad == "zero":
            reachable_subspace(kz.EmpiricalMinibatch(np.zeros((2, P)), np.zeros((2, P)), 1))
        else:
            reachable_subspace(law, rtol=2.0)
