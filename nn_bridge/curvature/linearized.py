"""Linearised SGD at ``w*`` with the *true* minibatch noise frozen at ``w*`` (diagnostic models).

Between the real network and the per-parameter SaS Problem lie several assumptions. Two
models that keep the measured noise exactly and change one thing at a time tell which
assumption breaks a prediction:

    x_{k+1} = x_k - lr (H_k x_k + u_k),     x = w - w*,

with ``H_k`` the bridge's reduced Hessian (top-k + diagonal, :mod:`nn_bridge.curvature.per_sample`) and

- ``noise="minibatch"``: ``u_k`` the minibatch noise *at w** of a fresh i.i.d. minibatch of
  ``B`` samples, ``u = mean_{n in batch} (grad l_n(w*) - grad U(w*))`` -- the exact noise
  law at the minimum (heavy-tailed, bounded, correlated across parameters). Differences from
  the network: only the linear drift and the frozen (state-independent) noise;
- ``noise="gaussian"``: ``u_k ~ N(0, C / B)``, ``C`` the per-sample gradient covariance at
  ``w*`` (exactly the covariance of the minibatch noise) -- the Gaussian model *with the
  full covariance*, correlations included (Zhu et al. 2018; Xie et al. 2020); sampled on
  the principal components of ``C`` holding all but ``VARIANCE_DROP`` of its trace.

Both run through :func:`nn_bridge.escape.experiment.run_escape` (same exit criteria, streams, CIs); the
loss criterion uses the quadratic model ``x^T H_k x / 2``. These are torch simulations,
not levydyn: levydyn's Problem has independent noise per axis.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from nn_bridge.curvature.per_sample import Curvature
from nn_bridge.data.flat import positive_int

__all__ = ["LinearizedGradient", "NOISES"]

NOISES = ("minibatch", "gaussian")
#: The Gaussian model keeps the principal components of ``C`` holding all but this
#: fraction of its trace (the rest, spread over hundreds of tiny components, is dropped).
VARIANCE_DROP = 1e-4


class LinearizedGradient:
    """Gradient oracle of the linearised SGD (module docstring); centre ``w* = 0``.

    Parameters
    ----------
    curvature : reduced Hessian at ``w*``.
    per_sample_centered : ``(N, P)`` tensor ``grad l_n(w*) - grad U(w*)``.
    batch_size : ``B``.
    noise : ``"minibatch"`` or ``"gaussian"``.
    layer_of, layer_names : per coordinate its layer, and the names (for exit layers).
    """

    def __init__(self, curvature: Curvature, per_sample_centered: torch.Tensor, batch_size: int,
                 noise: str, layer_of: np.ndarray, layer_names: list[str]):
        if noise not in NOISES:
            raise ValueError(f"noise={noise!r}: must be one of {', '.join(NOISES)}")
        G = torch.as_tensor(per_sample_centered, dtype=torch.float64)
        if G.ndim != 2 or G.shape[1] != curvature.n_params:
            raise ValueError(f"per_sample_centered: expected (N, {curvature.n_params}), "
                             f"got {tuple(G.shape)}")
        self.G = G
        self.n = int(G.shape[0])
        self.batch_size = positive_int("batch_size", batch_size)
        self.noise = noise
        d, _ = curvature.remainder_diag()
        self.d = torch.as_tensor(d)
        self.V = torch.as_tensor(curvature.eigvecs)
        self.lam = torch.as_tensor(curvature.eigvals)
        self._layers = (np.asarray(layer_of), list(layer_names))
        if noise == "gaussian":
            # C / B = G^T G / (N B); sample u = xi^T (S V^T) / sqrt(N B) on the thin SVD
            # (components carrying all but VARIANCE_DROP of the variance; reported)
            _, s, vt = torch.linalg.svd(G, full_matrices=False)
            frac = torch.cumsum(s ** 2, 0) / (s ** 2).sum()
            r = int(torch.searchsorted(frac, torch.tensor(1.0 - VARIANCE_DROP, dtype=frac.dtype))) + 1
            r = min(r, int(s.numel()))
            self.rank = r
            self.dropped_variance = float(1.0 - frac[r - 1])
            self._factor = (s[:r, None] * vt[:r]) / math.sqrt(self.n * self.batch_size)
        else:
            self._factor = None
            self.rank, self.dropped_variance = self.n, 0.0

    n_params = property(lambda self: int(self.G.shape[1]))
    dtype = property(lambda self: torch.float64)
    device = property(lambda self: torch.device("cpu"))

    def layers(self) -> tuple[np.ndarray, list[str]]:
        return self._layers

    def draw(self, rng: np.random.Generator, n_steps: int) -> np.ndarray:
        if self.noise == "minibatch":
            return rng.integers(0, self.n, size=(n_steps, self.batch_size))
        return rng.standard_normal((n_steps, self._factor.shape[0]))

    def hessian(self, X: torch.Tensor) -> torch.Tensor:
        return X * self.d + ((X @ self.V) * self.lam) @ self.V.T

    def _noise(self, draws: torch.Tensor) -> torch.Tensor:
        if self.noise == "minibatch":
            return self.G[draws].mean(1)
        return draws.to(torch.float64) @ self._factor

    def gradients(self, W: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
        return self.hessian(W) + self._noise(draws)

    def gradient_one(self, w: torch.Tensor, draw) -> torch.Tensor:
        return self.gradients(w[None], torch.as_tensor(draw)[None])[0]

    def objective(self, W: torch.Tensor) -> torch.Tensor:
        """Quadratic model ``x^T H_k x / 2``."""
        return 0.5 * (W * self.hessian(W)).sum(1)
