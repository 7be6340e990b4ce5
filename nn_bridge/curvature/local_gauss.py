"""Rung (i): the network's landscape with Gaussian noise of the exact local covariance.

The network's SGD step is ``w' = w - lr (grad U(w) + xi_B(w))`` with the minibatch noise
``xi_B(w) = g_B(w) - grad CE(w)``, whose law changes with ``w`` in every way (covariance,
shape, tails). Rung (i) keeps everything but the law's shape: at every state ``w`` the noise
is Gaussian with the covariance of the minibatch noise *at w*,

    xi(w) = (n B)^{-1/2} sum_{i=1}^n c_i(w) z_i,   z ~ N(0, I_n),
    c_i(w) = grad l_i(w) - (1/n) sum_j grad l_j(w),

so ``Cov xi(w) = Sigma(w) / B`` with ``Sigma(w) = (1/n) sum_i c_i c_i^T``, the covariance
of a minibatch of ``B`` samples drawn with replacement (the experiment's draw). The one
assumption it adds to the network is the central-limit view of paper 003 (Gaussian
minibatch noise), here with the state dependence kept to every order; against rung (h) it
tells whether (h)'s miss is the noise's change beyond first order (then (i) holds) or its
non-Gaussian shape (then (i) misses too).

No per-sample gradient is formed: since ``sum_i c_i z_i = sum_i grad l_i (z_i - zbar)``, the
whole step direction is one weighted full-batch gradient,

    grad CE(w) + xi(w) = grad_w sum_i a_i l_i(w),   a_i = 1/n + (z_i - zbar) / sqrt(n B),

computed with ``torch.func`` for all replicas at once (each replica its own ``a``): a step
costs one forward and backward pass over the ``n`` training samples per replica, ``n / B``
times the samples of a network step (``benchmarks/bench_local_gauss.py``: on wine, 64
replicas, 2.8x a network step's time and 18.6x faster than per-sample gradients).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch.func import grad, vmap

from nn_bridge.data.flat import FlatModel, positive, positive_int

__all__ = ["LocalGaussianGradient"]


class LocalGaussianGradient:
    """Gradient oracle of rung (i) (module docstring) for
    :func:`nn_bridge.escape.experiment.run_escape`.

    Parameters
    ----------
    flat, X, y : the network and its training set (float64); ``flat.loss_fn`` must be a
        mean over samples (its per-sample values are taken one sample at a time).
    batch_size, weight_decay : the SGD of the escape (``U = CE + wd/2 |w|^2``).
    """

    def __init__(self, flat: FlatModel, X: torch.Tensor, y: torch.Tensor, batch_size: int,
                 weight_decay: float):
        self.flat = flat
        self.X, self.y = X.to(torch.float64), y
        self.n = int(X.shape[0])
        self.batch_size = positive_int("batch_size", batch_size)
        self.weight_decay = positive("weight_decay", weight_decay, allow_zero=True)
        each = vmap(lambda o, t: flat.loss_fn(o[None], t[None]))

        def weighted(w, a):
            return (a * each(flat.logits(w, self.X), self.y)).sum()

        self._g = vmap(grad(weighted))
        self._loss = vmap(flat.loss, in_dims=(0, None, None))

    n_params = property(lambda self: self.flat.n_params)
    dtype = property(lambda self: torch.float64)
    device = property(lambda self: self.X.device)

    def layers(self) -> tuple[np.ndarray, list[str]]:
        return self.flat.layer_of(), self.flat.layer_names()

    def draw(self, rng: np.random.Generator, n_steps: int) -> np.ndarray:
        """The standard normal ``z`` of ``n_steps`` steps, ``(n_steps, n)``."""
        return rng.standard_normal((n_steps, self.n))

    def gradients(self, W: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
        z = draws.to(dtype=torch.float64, device=self.device)
        a = 1.0 / self.n + (z - z.mean(1, keepdim=True)) / math.sqrt(self.n * self.batch_size)
        return self._g(W, a) + self.weight_decay * W

    def objective(self, W: torch.Tensor) -> torch.Tensor:
        """``U(w)`` on the training set (for a loss criterion)."""
        return self._loss(W, self.X, self.y) + 0.5 * self.weight_decay * (W * W).sum(1)
