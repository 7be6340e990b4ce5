"""``levydyn.kesten.subspace._invariance_error`` by ``r x r`` traces, against the direct
definition ``max ||(I - QQ^T) A Q||_F / ||A Q||_F`` over ``A = F_n F_n^T`` and ``A = R``
(the ``P x d`` products written out here), and two hand cases: a subspace that contains
every factor's image (error 0 up to rounding) and one at 45 degrees to a factor's image
(error 1/sqrt 2)."""
import numpy as np
import pytest

from levydyn.kesten.subspace import _invariance_error


def direct(Q, F, R=None):
    mats = [f @ f.T for f in F] + ([] if R is None else [R])
    P = Q.shape[0]
    worst = 0.0
    for A in mats:
        AQ = A @ Q
        den = np.linalg.norm(AQ)
        if den > 0:
            worst = max(worst, np.linalg.norm((np.eye(P) - Q @ Q.T) @ AQ) / den)
    return worst


@pytest.mark.parametrize("N, P, r, d", [(7, 12, 2, 5), (30, 20, 3, 11), (9, 8, 1, 8)])
def test_traces_equal_the_definition(N, P, r, d):
    rng = np.random.default_rng(N + P)
    F = rng.standard_normal((N, P, r))
    Q, _ = np.linalg.qr(rng.standard_normal((P, d)))
    R = rng.standard_normal((P, P))
    R = R + R.T
    for Rm in (None, R):
        # rounding of sums of ~P d products of O(1) numbers: 1e-12 absolute is ample
        assert _invariance_error(Q, F, Rm) == pytest.approx(direct(Q, F, Rm), abs=1e-12)


def test_hand_cases():
    P = 6
    F = np.zeros((2, P, 1))
    F[0, 0, 0], F[1, 1, 0] = 2.0, -3.0          # images: e_0 and e_1
    Q = np.eye(P)[:, :2]                        # span(e_0, e_1): invariant
    assert _invariance_error(Q, F, None) < 1e-15
    Q = np.eye(P)[:, [0, 2]] @ np.array([[1.0], [1.0]]) / np.sqrt(2)    # (e_0 + e_2)/sqrt 2
    # A = 4 e_0 e_0^T: A Q = 4/sqrt2 e_0, projection on Q: half of it -> error 1/sqrt 2
    assert _invariance_error(Q, F, None) == pytest.approx(1 / np.sqrt(2), abs=1e-15)
