"""Speed of the vectorised multi-seed SGD escape runner against a plain loop of runs.

Both advance the same replicas (same per-replica minibatch streams) of paper 004's 3-layer
ReLU MLP on breast_cancer for a fixed number of iterations (radius huge: nobody exits):

- loop: one replica after the other, one ``nn.Module`` forward/backward per step
  (``run_escape_loop``);
- vectorised: all replicas at once, ``torch.func.vmap(grad(loss))`` over stacked weights
  (``run_escape``).

Prints seconds per (replica x iteration) and the ratio, measured in the same process, and
the vectorised runner's time over its gradients' alone (the stochastic gradients of the same
replicas and minibatches, nothing else): what the update, the distance and the exit checks
add to each step.

    python benchmarks/bench_nn_escape.py [--width 16] [--seeds 64] [--iters 100] [--threads 1]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from nn_bridge.data.datasets import load_dataset
from nn_bridge.escape.experiment import EscapeConfig, MinibatchGradient, run_escape, run_escape_loop
from nn_bridge.data.flat import FlatModel
from nn_bridge.data.models import ModelSpec, build_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset("breast_cancer")
    spec = ModelSpec("mlp", data.n_features, data.n_classes, width=args.width, depth=3)
    flat = FlatModel(build_model(spec).double())
    w = flat.flat().numpy()
    X = torch.as_tensor(data.X_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    orc = MinibatchGradient(flat, X, y, args.batch, weight_decay=1e-2)
    cfg = EscapeConfig(lr=0.05, batch_size=args.batch, n_seeds=args.seeds, radius=1e9,
                       max_iter=args.iters)
    small = EscapeConfig(lr=0.05, batch_size=args.batch, n_seeds=max(2, args.seeds // 8),
                         radius=1e9, max_iter=args.iters)
    run_escape(orc, w, EscapeConfig(lr=0.05, batch_size=args.batch, n_seeds=2, radius=1e9,
                                    max_iter=5))                       # warm-up
    t = time.perf_counter()
    run_escape_loop(orc, w, small)
    loop = (time.perf_counter() - t) / (small.n_seeds * args.iters)
    t = time.perf_counter()
    res = run_escape(orc, w, cfg, keep_final=True)
    vec = (time.perf_counter() - t) / (cfg.n_seeds * args.iters)
    assert np.all(np.isfinite(res.final_w))
    W = torch.as_tensor(w).repeat(cfg.n_seeds, 1)
    draws = torch.as_tensor(np.stack([orc.draw(np.random.default_rng(i), args.iters)
                                      for i in range(cfg.n_seeds)]))
    t = time.perf_counter()
    with torch.no_grad():
        for j in range(args.iters):
            orc.gradients(W, draws[:, j])
    grads = (time.perf_counter() - t) / (cfg.n_seeds * args.iters)
    print(f"MLP 30-{args.width}x2-2 ({flat.n_params} parameters), batch {args.batch}, "
          f"{args.threads} thread(s)")
    print(f"loop of runs      : {1e6 * loop:8.1f} us per replica-iteration "
          f"({small.n_seeds} replicas)")
    print(f"vectorised (vmap) : {1e6 * vec:8.1f} us per replica-iteration "
          f"({cfg.n_seeds} replicas)")
    print(f"speed-up          : {loop / vec:8.1f} x")
    print(f"gradients alone   : {1e6 * grads:8.1f} us per replica-iteration "
          f"(runner / gradients {vec / grads:.2f})")


if __name__ == "__main__":
    main()
