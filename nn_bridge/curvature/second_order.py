"""Torch rungs between the network and the recursion model: what the quadratic picture leaves out.

With ``x = w - w*``, the minibatch gradient of the network is
``g_B(w) = grad U(w) + [g_B(w) - grad U(w)]``: the true full-batch gradient plus the minibatch
noise *at w*. Expanding the noise around ``w*``,

    g_B(w) - grad U(w) = u_B + (H_B - H) x + O(|x|^2),
    u_B = (1/B) sum_{n in B} (grad l_n(w*) - grad CE(w*)),   H_B, H = minibatch / full Hessian
    of the data loss at ``w*``.

Three oracles (all for :func:`nn_bridge.escape.experiment.run_escape`, same minibatch streams as the
network: replica ``i`` draws the same batches as the measured replica ``i``):

- ``"nonlinear_frozen"`` (rung g): ``grad U(w) + u_B`` -- the real landscape, the minibatch
  noise frozen at ``w*`` (state-independent);
- ``"nonlinear_multiplicative"`` (rung h): ``grad U(w) + u_B + (H_B - H) x`` -- adds the
  first-order change of the noise away from ``w*`` (its curvature randomness); what is left
  between (h) and the network is the noise's change beyond first order;
- ``"multiplicative_exact"``: ``H x + wd x + u_B + (H_B - H) x = (H_B + wd) x + u_B`` -- the
  linear recursion of rung (f) with the *exact* per-sample Hessians (Hessian-vector
  products), against which the Gauss-Newton factored model of levydyn is checked.

``grad U(w)`` is ``torch.func.vmap`` over replicas of the full-batch gradient (``N`` samples
per replica and step: the costly part); ``H x`` uses the dense exact Hessian; ``H_B x`` is
one forward-over-reverse product per replica on its own ``B`` samples.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.func import grad, vmap

from nn_bridge.curvature.per_sample import minibatch_hvp
from nn_bridge.data.flat import FlatModel, check_finite_vector, positive, positive_int

__all__ = ["SecondOrderGradient", "KINDS"]

KINDS = ("nonlinear_frozen", "nonlinear_multiplicative", "multiplicative_exact")


class SecondOrderGradient:
    """Gradient oracle of one rung (module docstring), centred at ``w_star``.

    Parameters
    ----------
    flat, X, y : the network and its training set (float64).
    per_sample_centered : ``(N, P)`` ``grad l_n(w*) - grad CE(w*)``.
    w_star : the minimum.
    hessian : dense ``P x P`` Hessian of the *data* loss at ``w*`` (no L2 term).
    batch_size, weight_decay : the SGD of the escape.
    kind : one of :data:`KINDS`.
    chunk : replicas per full-batch gradient call (memory: ``chunk * N * width``).
    """

    def __init__(self, flat: FlatModel, X: torch.Tensor, y: torch.Tensor,
                 per_sample_centered, w_star, hessian, batch_size: int, weight_decay: float,
                 kind: str, chunk: int = 64):
        if kind not in KINDS:
            raise ValueError(f"kind={kind!r}: must be one of {', '.join(KINDS)}")
        P = flat.n_params
        self.flat, self.kind = flat, kind
        self.X, self.y = X.to(torch.float64), y
        self.n = int(X.shape[0])
        G = torch.as_tensor(per_sample_centered, dtype=torch.float64)
        if G.shape != (self.n, P):
            raise ValueError(f"per_sample_centered: expected ({self.n}, {P}), got {tuple(G.shape)}")
        self.G = G
        self.w_star = torch.as_tensor(check_finite_vector("w_star", w_star, P))
        H = torch.as_tensor(np.asarray(hessian, dtype=float))
        if H.shape != (P, P):
            raise ValueError(f"hessian: expected ({P}, {P}), got {tuple(H.shape)}")
        self.H = H
        self.batch_size = positive_int("batch_size", batch_size)
        self.weight_decay = positive("weight_decay", weight_decay, allow_zero=True)
        self.chunk = positive_int("chunk", chunk)
        self._g = vmap(grad(flat.loss), in_dims=(0, None, None))
        self._loss = vmap(flat.loss, in_dims=(0, None, None))
        self._hvp = minibatch_hvp(flat, self.X, y, self.w_star)

    n_params = property(lambda self: self.flat.n_params)
    dtype = property(lambda self: torch.float64)
    device = property(lambda self: torch.device("cpu"))

    def layers(self) -> tuple[np.ndarray, list[str]]:
        return self.flat.layer_of(), self.flat.layer_names()

    def draw(self, rng: np.random.Generator, n_steps: int) -> np.ndarray:
        """Minibatch indices, exactly as :class:`nn_bridge.escape.experiment.MinibatchGradient` draws them."""
        return rng.integers(0, self.n, size=(n_steps, self.batch_size))

    def _full(self, W: torch.Tensor) -> torch.Tensor:
        return torch.cat([self._g(W[i:i + self.chunk], self.X, self.y)
                          for i in range(0, W.shape[0], self.chunk)])

    def gradients(self, W: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
        u = self.G[draws].mean(1)
        if self.kind == "nonlinear_frozen":
            return self._full(W) + self.weight_decay * W + u
        D = W - self.w_star
        HbD = self._hvp(draws, D)
        if self.kind == "multiplicative_exact":
            return HbD + self.weight_decay * D + u
        return self._full(W) + self.weight_decay * W + u + HbD - D @ self.H

    def objective(self, W: torch.Tensor) -> torch.Tensor:
        """``U(w)`` on the training set (for a loss criterion)."""
        out = [self._loss(W[i:i + self.chunk], self.X, self.y)
               for i in range(0, W.shape[0], self.chunk)]
        return torch.cat(out) + 0.5 * self.weight_decay * (W * W).sum(1)
