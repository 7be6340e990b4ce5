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
and the same comparison on the stream's own sampled subset (which must agree with the N x P
path: same noise, same estimator).

Run: ``python benchmarks/bench_nn_stream_accuracy.py [--minibatches 1000] [--threads 2]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from nn_bridge.data import load_dataset
from nn_bridge.log_moments import log_moment_alpha_sd
from nn_bridge.models import ModelSpec
from nn_bridge.noise import collect_noise
from nn_bridge.stats import noise_stats
from nn_bridge.stream import StreamConfig, stream_noise
from nn_bridge.train import TrainConfig, train


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minibatches", type=int, default=1000)
    ap.add_argument("--batch-sizes", default="32,128,512")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load_dataset("breast_cancer")
    spec = ModelSpec("mlp", data.n_features, data.n_classes, width=64, depth=3, seed=0)
    t0 = time.perf_counter()
    res = train(data, spec, TrainConfig(), device="cpu")
    print(f"trained: {res.iterations} iterations, {res.reason} ({time.perf_counter() - t0:.0f} s)")
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    M = args.minibatches
    print(f"M = {M} minibatches per batch size, same i.i.d. minibatches for both paths\n")
    print("   B  params  bias    rmse   median|d|  corr  | alpha_cf median  SaS sd(M)  "
          "| sampled: max|stream-NxP noise|  alpha_cf equal")
    for B in (int(b) for b in args.batch_sizes.split(",")):
        ref = noise_stats(collect_noise(res.model, X, y, [B], M, seed=0, sampling="iid")[B],
                          n_fit=0)
        st = stream_noise(res.model, (X, y), config=StreamConfig(n_minibatches=M, batch_size=B,
                                                                 n_fit=0), device="cpu")
        ok = np.isfinite(st.alpha) & np.isfinite(ref.alpha)
        d = st.alpha[ok] - ref.alpha[ok]
        med = float(np.median(ref.alpha[ok]))
        same = np.allclose(st.sampled_alpha, ref.alpha[st.sampled_index], atol=1e-3,
                           equal_nan=True)
        print(f"{B:4d}  {ok.sum():6d}  {d.mean():+.3f}  {np.sqrt(np.mean(d * d)):.3f}  "
              f"{np.median(np.abs(d)):.3f}      {np.corrcoef(st.alpha[ok], ref.alpha[ok])[0, 1]:.2f}"
              f"  | {med:.3f}            {float(log_moment_alpha_sd(med, M)):.3f}      "
              f"| {st.accuracy()['n']} sampled, alpha_cf identical to N x P path: {same}")


if __name__ == "__main__":
    main()
