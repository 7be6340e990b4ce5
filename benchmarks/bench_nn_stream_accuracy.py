"""Accuracy of the streaming (log-moment) alpha_i against the full estimator, on a trained net.

Paper 004's 3-layer ReLU MLP on breast_cancer (30-64-64-2, 6,274 parameters), trained with
plain SGD as in ``levydyn nn measure`` (lr 0.05, batch 128, to ||grad U|| <= 1e-3). At
those weights, for each batch size, the same M i.i.d. minibatches (same seed) are measured

- by the N x P path (``collect_noise`` + ``noise_stats``: cf_regression on all M values of
  every parameter), and
- by ``stream_noise`` (log-moments of consecutive differences, O(P) memory),

and the script prints, over all parameters where both are finite, the bias, RMSE and
median absolute difference of ``alpha_stream - alpha_cf``, the correlation, and the
delta-method sd the log-moment estimator would have on exact SaS data of the same length;
the largest difference between the stream's full estimates on its sampled subset and the
N x P path's on the same parameters (same noise, same estimator; the stream keeps the
sampled noise in float32); and each tensor's median alpha_i by both.

Run: ``python benchmarks/bench_nn_stream_accuracy.py [--minibatches 1000] [--threads 2]``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from nn_bridge.data.datasets import load_dataset
from nn_bridge.noise.log_moments import log_moment_alpha_sd
from nn_bridge.data.models import ModelSpec
from nn_bridge.noise.per_sample import collect_noise
from nn_bridge.noise.stats import noise_stats
from nn_bridge.noise.stream import StreamConfig, stream_noise
from nn_bridge.training.train import TrainConfig, train


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minibatches", type=int, default=1000)
    ap.add_argument("--batch-sizes", default="32,128,512")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workdir", default=".levydyn-bench",
                    help="training checkpoint (a rerun skips the training)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load_dataset("breast_cancer")
    spec = ModelSpec("mlp", data.n_features, data.n_classes, width=64, depth=3, seed=0)
    t0 = time.perf_counter()
    res = train(data, spec, TrainConfig(), device="cpu",
                checkpoint=Path(args.workdir) / "bench_nn_stream_accuracy_mlp.pt")
    print(f"trained: {res.iterations} iterations, {res.reason} ({time.perf_counter() - t0:.0f} s)")
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    M = args.minibatches
    print(f"M = {M} minibatches per batch size, same i.i.d. minibatches for both paths\n")
    print("all parameters where both are finite: d = alpha_stream - alpha_cf")
    print("   B  params    bias    rmse  median|d|  corr | alpha_cf median  log-moment sd on "
          "SaS(M) | sampled: n  |d alpha_cf| vs N x P: median  > 0.01")
    layers = {}
    for B in (int(b) for b in args.batch_sizes.split(",")):
        ref = noise_stats(collect_noise(res.model, X, y, [B], M, seed=0, sampling="iid")[B],
                          n_fit=0)
        st = stream_noise(res.model, (X, y), config=StreamConfig(n_minibatches=M, batch_size=B,
                                                                 n_fit=0), device="cpu")
        ok = np.isfinite(st.alpha) & np.isfinite(ref.alpha)
        d = st.alpha[ok] - ref.alpha[ok]
        med = float(np.median(ref.alpha[ok]))
        sa, ra = st.sampled_alpha, ref.alpha[st.sampled_index]
        both = np.isfinite(sa) & np.isfinite(ra)
        print(f"{B:4d}  {ok.sum():6d}  {d.mean():+.3f}  {np.sqrt(np.mean(d * d)):.3f}  "
              f"{np.median(np.abs(d)):9.3f}  {np.corrcoef(st.alpha[ok], ref.alpha[ok])[0, 1]:4.2f} "
              f"| {med:15.3f}  {float(log_moment_alpha_sd(med, M)):22.3f} "
              f"| {both.sum():5d}  {np.median(np.abs(sa[both] - ra[both])):.1e}  "
              f"{int(np.sum(np.abs(sa[both] - ra[both]) > 0.01))}")
        lidx = st.layout.layer_index()
        layers[B] = [(name, float(np.median(st.alpha[(lidx == k) & ok])),
                      float(np.median(ref.alpha[(lidx == k) & ok])))
                     for k, name in enumerate(st.layout.names)]
    print("\nper-tensor median alpha_i, streaming / cf_regression:")
    names = [n for n, _, _ in next(iter(layers.values()))]
    print("tensor".rjust(16) + "".join(f"   B = {B:<12d}" for B in layers))
    for k, n in enumerate(names):
        print(n.rjust(16) + "".join(f"   {layers[B][k][1]:.2f} / {layers[B][k][2]:.2f}   "
                                    for B in layers))

if __name__ == "__main__":
    main()
