"""Hill's default k against its documented rule, k = round(n^(2/3)) clipped to [2, n - 1]
(hand values), and the default Hill estimate against a hand computation (issue 26: the only
check compared hill_k with itself)."""
import math

import numpy as np
import pytest

from levydyn.estimators.hill import hill_alpha, hill_k


@pytest.mark.parametrize("n, k", [(3, 2), (8, 4), (10, 5), (27, 9), (100, 22), (1000, 100),
                                  (12345, 534)])
def test_hill_k_hand_values(n, k):
    # 10^(2/3) = 4.64 -> 5; 100^(2/3) = 21.54 -> 22; 12345^(2/3) = 534.2 -> 534
    assert hill_k(n) == k


def _hill_by_hand(x, k):
    y = np.sort(np.abs(x))[::-1]
    return 1.0 / np.mean(np.log(y[:k] / y[k]))


def test_default_hill_uses_the_rule():
    rng = np.random.default_rng(5)
    x = rng.pareto(1.3, 1000) + 1.0                       # k = 100
    assert hill_alpha(x) == pytest.approx(_hill_by_hand(x, 100), rel=1e-12)
    assert hill_alpha(x) != pytest.approx(_hill_by_hand(x, 99), rel=1e-9)


def test_default_k_follows_the_nonzero_count_when_zeros_are_dropped():
    rng = np.random.default_rng(6)
    x = rng.pareto(1.5, 1000) + 1.0
    x[:489] = 0.0                                          # 511 nonzero: k = round(511^(2/3)) = 64
    assert round(511 ** (2 / 3)) == 64
    assert hill_alpha(x) == pytest.approx(_hill_by_hand(x[489:], 64), rel=1e-12)
    assert math.isfinite(hill_alpha(x, k=5))
