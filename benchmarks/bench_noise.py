"""Gradient-noise collection: vectorised (torch.func + S @ G) vs a per-minibatch backward loop.

Both compute, at fixed weights, the M minibatch gradient noises ``u_d = g_d - grad U``
for every parameter, from the same minibatch indices, in float32, in the same process
and thread count, and the script checks that they agree.

- loop (baseline): M forward/backward passes of a B-sample minibatch, each gradient
  flattened into row d (``nn_bridge.noise.per_sample.collect_noise_loop``);
- vectorised: per-sample gradients once with ``torch.func.vmap(grad(.))`` (streamed in
  chunks), then every minibatch mean as a matrix product ``S @ (G - grad U)``
  (``nn_bridge.noise.per_sample.collect_noise``); several batch sizes share the per-sample pass.

Cost model (multiply-adds): loop ~ 3 M B P (forward + two backward GEMMs) plus a fixed
Python/autograd overhead per iteration; vectorised ~ N P (per-sample) + M N P (dense
``S @ G``), independent of B. So the ratio grows like ``3 B / N`` once the loop is
compute-bound, and is large where the loop is overhead-bound (small networks, GPUs).

Run: ``python benchmarks/bench_noise.py [--quick] [--threads 1] [--repeat 2]``.
"""
from __future__ import annotations

import argparse
import time

import torch

from nn_bridge.data.datasets import load_dataset
from nn_bridge.data.models import ModelSpec, build_model
from nn_bridge.noise.per_sample import collect_noise, collect_noise_loop, minibatch_indices


def _best(f, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench(dataset: str, width: int, batch_sizes: list[int], M: int, repeat: int) -> None:
    data = load_dataset(dataset)
    spec = ModelSpec("mlp", data.n_features, data.n_classes, width=width, depth=3, seed=0)
    model = build_model(spec)
    P = sum(p.numel() for p in model.parameters())
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    N = data.n_train
    print(f"\n{dataset}: MLP {data.n_features}-{width}-{width}-{data.n_classes}, P = {P:,} "
          f"parameters, N = {N} samples, M = {M} minibatches, float32, "
          f"{torch.get_num_threads()} torch threads, best of {repeat}")
    collect_noise(model, X[:64], y[:64], [4], 16, dtype=torch.float32)        # warm-up
    collect_noise_loop(model, X, y, minibatch_indices(N, 4, 4))

    t_vec_all, vec = _best(lambda: collect_noise(model, X, y, batch_sizes, M,
                                                 dtype=torch.float32), repeat)
    t_loop_all = 0.0
    print(f"{'B':>5} {'loop [s]':>9} {'vectorised [s]':>15} {'ratio':>7} {'max |diff|':>11}")
    for B in batch_sizes:
        idx = minibatch_indices(N, B, M)

        def loop():
            g = collect_noise_loop(model, X, y, idx)
            return (g - torch.as_tensor(vec[B].full_grad)).numpy()

        t_loop, u_loop = _best(loop, repeat)
        t_vec, one = _best(lambda: collect_noise(model, X, y, [B], M, dtype=torch.float32), repeat)
        diff = float(abs(one[B].noise - u_loop).max())
        t_loop_all += t_loop
        print(f"{B:>5} {t_loop:>9.3f} {t_vec:>15.3f} {t_loop / t_vec:>7.1f} {diff:>11.2e}")
    print(f"sweep {','.join(map(str, batch_sizes))}: loop {t_loop_all:.3f} s, vectorised (one "
          f"call, shared per-sample pass) {t_vec_all:.3f} s, ratio {t_loop_all / t_vec_all:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the ~100k-parameter MLP at B=128")
    ap.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: torch's choice); 1 is steadier on a busy machine")
    args = ap.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.quick:
        bench("digits", 300, [128], 1000, args.repeat)
        return
    # the configuration: ~100k-parameter MLP, 1000 minibatches
    bench("digits", 300, [32, 128, 512], 1000, args.repeat)
    # the configuration `levydyn nn measure` runs by default (paper 004's 3-layer MLP)
    bench("breast_cancer", 64, [32, 128, 512], 1000, args.repeat)


if __name__ == "__main__":
    main()
