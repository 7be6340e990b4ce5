"""Rung (i)'s step: one weighted full-batch gradient against per-sample gradients.

Rung (i) (``nn_bridge.curvature.local_gauss``) needs, per replica and step, the full-batch
gradient plus ``(n B)^{-1/2} sum_i c_i(w) z_i``. Formed from per-sample gradients (``vmap``
over replicas of ``vmap`` over samples of ``grad``) that is ``n`` gradients of size ``P`` per
replica; as ``grad_w sum_i a_i l_i(w)``, ``a_i = 1/n + (z_i - zbar)/sqrt(nB)``, it is one
backward pass. Both are timed in the same process on the built-in MLP (untrained weights:
the cost does not depend on them), their outputs compared, and a network minibatch step
timed for scale::

    OMP_NUM_THREADS=1 python benchmarks/bench_local_gauss.py [--dataset wine] [--replicas 64]
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from torch.func import grad, vmap


def _time(fn, reps: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="wine")
    ap.add_argument("--replicas", type=int, default=64)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(1)
    from nn_bridge.curvature.local_gauss import LocalGaussianGradient
    from nn_bridge.data.datasets import load_dataset
    from nn_bridge.data.flat import FlatModel
    from nn_bridge.data.models import ModelSpec, build_model
    from nn_bridge.escape.experiment import MinibatchGradient

    data = load_dataset(a.dataset)
    flat = FlatModel(build_model(ModelSpec.for_dataset(data, width=16, depth=3)).double())
    X, y = torch.as_tensor(data.X_train, dtype=torch.float64), torch.as_tensor(data.y_train)
    n, B, S = X.shape[0], a.batch, a.replicas
    rng = np.random.default_rng(0)
    W = flat.flat(torch.float64).repeat(S, 1) + 0.01 * torch.as_tensor(
        rng.standard_normal((S, flat.n_params)))
    rung = LocalGaussianGradient(flat, X, y, B, 0.01)
    z = torch.as_tensor(rung.draw(rng, S))
    one = lambda w, x, t: flat.loss(w, x[None], t[None])
    per_sample = vmap(vmap(grad(one), in_dims=(None, 0, 0)), in_dims=(0, None, None))

    def reference():
        G = per_sample(W, X, y)                                  # (S, n, P)
        g = G.mean(1)
        c = G - g[:, None]
        return g + torch.einsum("snp,sn->sp", c, z) / math.sqrt(n * B) + 0.01 * W

    err = float((rung.gradients(W, z) - reference()).abs().max())
    t_ref = _time(reference, a.reps)
    t_rung = _time(lambda: rung.gradients(W, z), a.reps)
    net = MinibatchGradient(flat, X, y, B, 0.01)
    draws = torch.as_tensor(rng.integers(0, n, (S, B)))
    t_net = _time(lambda: net.gradients(W, draws), 4 * a.reps)
    print(f"{a.dataset}: n = {n}, P = {flat.n_params}, {S} replicas, B = {B}, 1 thread")
    print(f"per-sample gradients : {1e3 * t_ref:8.1f} ms per step")
    print(f"weighted full batch  : {1e3 * t_rung:8.1f} ms per step (speed-up "
          f"{t_ref / t_rung:.1f}x; max |difference| {err:.1e})")
    print(f"network minibatch    : {1e3 * t_net:8.1f} ms per step (rung (i) / network "
          f"{t_rung / t_net:.1f})")


if __name__ == "__main__":
    main()
