"""SGD near a minimum as a random linear recursion (multiplicative noise).

``x_{k+1} = (I - lr_k H_k) x_k - lr_k u_k`` with ``(H_k, u_k)`` i.i.d. from a minibatch law:

- laws: :class:`EmpiricalMinibatch`, :class:`GaussianLeastSquares` (paper 001),
  :class:`ScalarAffine`; the problem: :class:`Recursion` (law, lr, schedule, exit set, x0);
- simulation: :func:`simulate` (first exits -> :class:`~levydyn.results.EscapeResult`),
  :func:`sample_stationary`;
- stability and tails: :func:`lyapunov_exponent`, :func:`generalized_lyapunov`,
  :func:`tail_index`;
- escape law per regime: :func:`escape_law`, :func:`escape_scaling`;
- the recursion on the subspace its iterates reach from the minimum:
  :func:`reachable_subspace` (its exponent is the one that decides the escape).
"""
from levydyn.kesten.escape import (REGIMES, EscapeLaw, StationarySamples, escape_law,
                                   escape_scaling, run_recursion, sample_stationary, simulate)
from levydyn.kesten.models import (EmpiricalMinibatch, GaussianLeastSquares, MinibatchLaw,
                                   Recursion, ScalarAffine)
from levydyn.kesten.subspace import ReachableSubspace, reachable_subspace, weight_decay_floor
from levydyn.kesten.stability import generalized_lyapunov, lyapunov_exponent, tail_index

__all__ = [
    "EmpiricalMinibatch", "EscapeLaw", "GaussianLeastSquares", "MinibatchLaw", "REGIMES",
    "ReachableSubspace", "Recursion", "ScalarAffine", "StationarySamples", "escape_law", "escape_scaling",
    "generalized_lyapunov", "lyapunov_exponent", "reachable_subspace", "run_recursion", "sample_stationary",
    "simulate", "tail_index", "weight_decay_floor",
]
