"""Stage 4, curvature: weights w* -> the minibatch-model profile (multiplicative noise).

Takes in: a ``FlatModel`` at w* and its data (``nn_bridge.data``).
Measures: per-sample Gauss-Newton factors and exact Hessian-vector products
(``per_sample``), the empirical minibatch law ``(H_k, u_k)`` of SGD near w*
(``minibatch_model``, saved as .npz), the torch rungs that step with second-order or
linearised gradients (``second_order``, ``linearized``), and stability diagrams
(Lyapunov exponent, Kesten tail index over learning rate x batch size: ``stability``).
Hands on: ``Curvature`` (top Hessian eigenpairs) and ``MinibatchModel`` for
``levydyn.kesten``'s recursion ``x_{k+1} = (I - lr H_k) x_k - lr u_k``, used by
``nn_bridge.escape``.
"""
from nn_bridge.curvature.linearized import LinearizedGradient
from nn_bridge.curvature.minibatch_model import (MinibatchModel, load_minibatch_model,
                                                 save_minibatch_model)
from nn_bridge.curvature.per_sample import (Curvature, curvature_from_dense, exact_hessian,
                                            hessian_curvature, minibatch_hvp,
                                            per_sample_gn_factors)
from nn_bridge.curvature.second_order import SecondOrderGradient
from nn_bridge.curvature.stability import (StabilityDiagram, plot_stability, stability_cell,
                                           stability_diagram)

__all__ = ["Curvature", "LinearizedGradient", "MinibatchModel", "SecondOrderGradient",
           "StabilityDiagram", "curvature_from_dense", "exact_hessian", "hessian_curvature",
           "load_minibatch_model", "minibatch_hvp", "per_sample_gn_factors", "plot_stability",
           "save_minibatch_model", "stability_cell", "stability_diagram"]
