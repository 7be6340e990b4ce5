"""Stochastic gradient noise at fixed weights, for every parameter.

Definitions (paper 004, Sec. 3; paper 000, Sec. 3). With per-sample losses
``l_n(w)``, ``n = 1..N`` (the training set) and ``U(w) = (1/N) sum_n l_n(w)``, a
minibatch ``d`` of ``B`` indices gives ``g_d = (1/B) sum_{n in d} grad l_n(w)`` and the
gradient noise ``u_d = g_d - grad U(w)``, a vector with one entry per parameter.

How it is computed (vectorised):

1. per-sample gradients ``G`` (N x P) with ``torch.func``: ``vmap(grad(loss of one
   sample))`` over the data, in chunks of ``chunk_size`` samples, once;
2. ``grad U = mean_n G_n`` and the centred ``G_c = G - grad U`` (centring *before*
   averaging keeps the small noise free of cancellation error);
3. every minibatch at once as a matrix product: ``U = S @ G_c`` with the selection
   matrix ``S`` (M x N), ``S[d, n] = (times n is in minibatch d) / B``, so
   ``U[d] = g_d - grad U`` exactly. Several batch sizes share step 1, and ``G_c`` is
   consumed chunk by chunk, so memory is ``O(chunk_size P + M N + M P)`` per batch
   size, never ``N P``.

Cost (multiply-adds): ``N P`` for the per-sample pass plus ``M N P`` for the dense
product, independent of ``B``; a loop of M backward passes costs about ``3 M B P`` plus
a fixed per-iteration overhead. On a CPU the product therefore wins for small networks
(overhead-bound loop) and for ``B`` comparable to ``N``, but *loses* to the loop for a
~1e5-parameter MLP with ``B << N`` (measured in ``benchmarks/bench_noise.py``); on a
GPU the loop is launch-bound and the product is the fast path.

Minibatch sampling (seeded ``torch.Generator`` per batch size, derived from
``(seed, B)``; no global RNG):

- ``"iid"`` (default): each minibatch is ``B`` i.i.d. draws with replacement from the
  training set, independently across minibatches. The noise is then exactly a mean of
  ``B`` i.i.d. per-sample noises -- the model behind both the generalised-CLT argument of
  paper 000 and the CLT/Berry-Esseen argument of paper 003 -- and ``B`` may exceed ``N``.
- ``"epoch"``: disjoint blocks of successive random permutations (reshuffling SGD as
  in training; paper 000 Sec. 3 "similar to sampling without replacement"). Requires
  ``B <= N``; each permutation yields ``N // B`` minibatches. Note: without
  replacement, ``u_d`` at batch ``B`` equals ``-(N-B)/B`` times the noise of the
  complementary batch of size ``N - B``, so batches near ``N`` are *not* "large" in the
  CLT sense.

Time: minibatch noise is measured at frozen weights, no SGD step is taken.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from nn_bridge.data.flat import ParameterLayout, parameter_layout

__all__ = ["ParameterLayout", "GradientNoise", "SAMPLINGS", "parameter_layout",
           "per_sample_gradients", "minibatch_indices", "selection_matrix", "collect_noise",
           "collect_noise_loop", "pooled_noise", "derive_seed"]

SAMPLINGS = ("iid", "epoch")
#: A parameter whose per-sample gradients have a spread below this fraction of their
#: root-mean-square (or exactly zero, e.g. a dead ReLU unit) is "degenerate": its
#: noise is a point mass and no tail index can be estimated.
DEGENERATE_RTOL = 1e-6


@dataclass
class GradientNoise:
    """Minibatch gradient noise ``u_d = g_d - grad U`` at fixed weights.

    noise : (M, P) array, one row per minibatch, one column per parameter.
    full_grad : (P,) ``grad U(w)`` (mean of the per-sample gradients).
    per_sample_std : (P,) standard deviation over the training samples of the
        per-sample gradient; ``degenerate`` flags parameters where it vanishes.
    """

    noise: np.ndarray
    full_grad: np.ndarray
    per_sample_std: np.ndarray
    layout: ParameterLayout
    batch_size: int
    sampling: str
    seed: int
    n_samples: int

    @property
    def n_minibatches(self) -> int:
        return int(self.noise.shape[0])

    @property
    def degenerate(self) -> np.ndarray:
        rms = np.sqrt(self.per_sample_std ** 2 + self.full_grad ** 2)
        return ~(self.per_sample_std > DEGENERATE_RTOL * rms)

    def layer(self, name: str) -> np.ndarray:
        """The noise columns of parameter tensor ``name``."""
        return self.noise[:, self.layout.slice(name)]


def derive_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed for the stream ``keys`` under ``seed`` (numpy SeedSequence)."""
    return int(np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(2, np.uint64)[0]
               >> np.uint64(1))


def _check_int(name: str, v, lo: int = 1) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name}={v!r}: must be an integer >= {lo}")
    return int(v)


def minibatch_indices(n: int, batch_size: int, n_minibatches: int, *, seed: int = 0,
                      sampling: str = "iid") -> torch.Tensor:
    """Indices (M x B, int64, CPU) of ``n_minibatches`` minibatches of ``batch_size``.

    Drawn from a ``torch.Generator`` seeded with ``derive_seed(seed, batch_size)``;
    see the module docstring for the two ``sampling`` schemes.
    """
    n = _check_int("n", n)
    B = _check_int("batch_size", batch_size)
    M = _check_int("n_minibatches", n_minibatches)
    seed = _check_int("seed", seed, 0)
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling={sampling!r}: must be one of {', '.join(SAMPLINGS)}")
    gen = torch.Generator().manual_seed(derive_seed(seed, B))
    if sampling == "iid":
        return torch.randint(0, n, (M, B), generator=gen)
    if B > n:
        raise ValueError(f"batch_size={B}: exceeds the {n} training samples, which "
                         "sampling='epoch' (without replacement) needs; use sampling='iid'")
    per = n // B
    blocks = [torch.randperm(n, generator=gen)[: per * B].view(per, B)
              for _ in range(-(-M // per))]
    return torch.cat(blocks)[:M].contiguous()


def selection_matrix(indices: torch.Tensor, n: int, dtype=torch.float64,
                     device: str | torch.device = "cpu") -> torch.Tensor:
    """``S`` (M x n), ``S[d, k] = (multiplicity of k in row d) / B``; ``S @ G``: batch means."""
    M, B = indices.shape
    S = torch.zeros(M, n, dtype=dtype, device=device)
    S.scatter_add_(1, indices.to(device), torch.full((M, B), 1.0 / B, dtype=dtype, device=device))
    return S


def _per_sample_grad_fn(model: nn.Module, loss_fn: Callable, names: tuple[str, ...]):
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def one(params, x, t):
        out = functional_call(model, (params, buffers), (x.unsqueeze(0),))
        return loss_fn(out, t.unsqueeze(0))

    g = vmap(grad(one), in_dims=(None, 0, 0))

    def flat(params, X, y):
        d = g(params, X, y)
        return torch.cat([d[k].reshape(X.shape[0], -1) for k in names], dim=1)

    return flat


def per_sample_gradients(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *,
                         loss_fn: Callable = nn.functional.cross_entropy,
                         chunk_size: int = 512) -> torch.Tensor:
    """Per-sample gradients ``grad l_n(w)`` as an (N x P) tensor (``torch.func``).

    Columns follow ``parameter_layout(model)``. ``loss_fn(output, target)`` must
    average over its batch (as ``cross_entropy`` does), so a batch of one is ``l_n``.
    Holds N x P values; ``collect_noise`` streams instead.
    """
    layout = parameter_layout(model)
    params = {k: p.detach() for k, p in model.named_parameters() if k in layout.names}
    f = _per_sample_grad_fn(model, loss_fn, layout.names)
    return torch.cat([f(params, X[i:i + chunk_size], y[i:i + chunk_size])
                      for i in range(0, X.shape[0], chunk_size)])


def collect_noise(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                  batch_sizes: int | list[int], n_minibatches: int = 1000, *, seed: int = 0,
                  sampling: str = "iid", loss_fn: Callable = nn.functional.cross_entropy,
                  dtype: torch.dtype = torch.float64, chunk_size: int = 512,
                  ) -> dict[int, GradientNoise]:
    """Gradient noise of ``n_minibatches`` minibatches for each batch size (vectorised).

    Per-sample gradients are computed once (``torch.func``) on the device of ``X``
    and shared by all batch sizes; minibatch means are matrix products (module
    docstring). ``dtype`` is the precision of the centring and the products (float64 by
    default; per-sample gradients are in the model's precision).

    Returns ``{batch_size: GradientNoise}`` with numpy arrays on the CPU.
    """
    if isinstance(batch_sizes, (int, np.integer)):
        batch_sizes = [int(batch_sizes)]
    batch_sizes = [_check_int("batch_size", b) for b in batch_sizes]
    if not batch_sizes:
        raise ValueError("batch_sizes=[]: give at least one batch size")
    if len(set(batch_sizes)) != len(batch_sizes):
        raise ValueError(f"batch_sizes={batch_sizes}: contains duplicates")
    M = _check_int("n_minibatches", n_minibatches)
    chunk_size = _check_int("chunk_size", chunk_size)
    N = int(X.shape[0])
    if N < 2 or y.shape[0] != N:
        raise ValueError(f"X has {N} samples and y {y.shape[0]}: need equal counts >= 2")
    dev = X.device
    layout = parameter_layout(model)
    params = {k: p.detach() for k, p in model.named_parameters() if k in layout.names}
    f = _per_sample_grad_fn(model, loss_fn, layout.names)
    idx = {B: minibatch_indices(N, B, M, seed=seed, sampling=sampling) for B in batch_sizes}
    S = {B: selection_matrix(idx[B], N, dtype, dev) for B in batch_sizes}
    P = layout.n_params

    # pass 1: grad U = mean of per-sample gradients (in dtype)
    gsum = torch.zeros(P, dtype=dtype, device=dev)
    for i in range(0, N, chunk_size):
        gsum += f(params, X[i:i + chunk_size], y[i:i + chunk_size]).to(dtype).sum(0)
    gfull = gsum / N
    # pass 2: centred per-sample gradients, consumed chunk by chunk; one product per
    # batch size, so each result does not depend on which other sizes are requested
    U = {B: torch.zeros(M, P, dtype=dtype, device=dev) for B in batch_sizes}
    sq = torch.zeros(P, dtype=dtype, device=dev)
    for i in range(0, N, chunk_size):
        Gc = f(params, X[i:i + chunk_size], y[i:i + chunk_size]).to(dtype) - gfull
        sq += (Gc * Gc).sum(0)
        for B in batch_sizes:
            U[B].addmm_(S[B][:, i:i + chunk_size], Gc)
    std = (sq / N).sqrt().cpu().numpy()
    gfull_np = gfull.cpu().numpy()
    return {B: GradientNoise(noise=U[B].cpu().numpy(), full_grad=gfull_np, per_sample_std=std,
                             layout=layout, batch_size=B, sampling=sampling, seed=int(seed),
                             n_samples=N)
            for B in batch_sizes}


def collect_noise_loop(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                       indices: torch.Tensor, *,
                       loss_fn: Callable = nn.functional.cross_entropy) -> torch.Tensor:
    """Baseline: minibatch gradients ``g_d`` (M x P) by one backward pass per minibatch.

    The plain way (a Python loop of M forward/backward passes); kept as the benchmark
    baseline and as an independent check of ``collect_noise``. Returns ``g_d``, not the
    noise: subtract the full gradient to get ``u_d``.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    out = torch.empty(indices.shape[0], sum(p.numel() for p in params), dtype=X.dtype,
                      device=X.device)
    idx = indices.to(X.device)
    for d in range(idx.shape[0]):
        model.zero_grad(set_to_none=True)
        loss_fn(model(X[idx[d]]), y[idx[d]]).backward()
        out[d] = torch.cat([p.grad.reshape(-1) for p in params])
    model.zero_grad(set_to_none=True)
    return out


def pooled_noise(noise: GradientNoise) -> np.ndarray:
    """Paper 000's pooled sample: each minibatch's noise vector, concatenated.

    Simsekli, Sagun & Gurbuzbalaban (2019, Sec. 3) "vectorize each U_i(w_k) and
    concatenate them to obtain a single vector" and estimate one alpha for the whole
    network from it. Degenerate parameters (point-mass noise, e.g. dead ReLU units)
    are left out: their exact zeros would send the log-moment estimator to -inf.
    """
    keep = ~noise.degenerate
    return np.ascontiguousarray(noise.noise[:, keep]).reshape(-1)
