"""Scale: streaming gradient-noise statistics of a ResNet-18 (11.2 M parameters), 32x32 data.

What is timed (``nn_bridge.noise.stream.stream_noise``, one process, fixed thread count):

- the centring pass: ``gbar`` over one pass of the ``N`` synthetic training images in
  minibatches of ``B`` (N/B forward/backward passes);
- the stream: M minibatches of B = 128, each a forward/backward pass plus the update of
  the per-parameter accumulators (log-moment alpha_i for *all* 11.2 M parameters,
  beta/sigma^3) and the copy of the sampled parameters' noise;
- the full estimators on the sampled subset (100 parameters per tensor, ~6,200 here)
  and the summaries;
- for reference, a plain forward/backward pass of one minibatch (no statistics), so the
  streaming overhead per minibatch is visible.

Peak memory: the process's peak resident set (``ru_maxrss``; includes the data and the
model) on the CPU, ``torch.cuda.max_memory_allocated`` on a GPU. The accumulators take
9 float64 values per parameter (~0.8 GB at 11.2 M) plus per-minibatch temporaries.

Data: ``N`` standard-normal 3x32x32 images with labels ``argmax`` of a fixed random linear
map of the 4x4-average-pooled image (10 classes), seed 0; weights: the model file's seeded
initialisation (untrained: this is a speed and memory benchmark; the accuracy table
compares the two estimators on the same noise, which does not need a trained network).

The stream's accuracy: the log-moment alpha_i against ``cf_regression`` on the sampled
parameters (``StreamStats.accuracy``), with the delta-method sd that the log-moment
estimator has on exact SaS data of the same length.

Model: ``--builder build`` (default) is the CIFAR ResNet-18 of ``examples/resnet18_model.py``;
``--builder build_imagenet_stem`` the same blocks behind He et al.'s ImageNet stem (7x7
stride 2 and a max-pool: about 1/15 of the forward multiply-adds on 32x32 inputs, 11.18 M
parameters). The report prints the forward multiply-adds per image, counted by hooks on
every convolution and linear layer (``out elements x in_channels/groups x kernel area``;
``in x out`` for a linear layer), so that times of the two are compared per unit of work.

Run: ``python benchmarks/bench_nn_scale.py [--minibatches 1000] [--n-samples 50000]
[--devices cpu,cuda] [--threads 2] [--builder build]``. On a shared 2-core CPU use e.g. ``--minibatches 20
--n-samples 640`` and extrapolate from the per-minibatch time (the script prints the
extrapolation to M = 1000, N = 50000 and says that it is one).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

from nn_bridge.noise.stream import StreamConfig, stream_noise
from nn_bridge.data.user_model import load_model_file

MODEL_FILE = str(Path(__file__).resolve().parent.parent / "examples" / "resnet18_model.py")


def synthetic_cifar(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, 32, 32, generator=g)
    W = torch.randn(3 * 8 * 8, 10, generator=g)
    y = (torch.nn.functional.avg_pool2d(X, 4).reshape(n, -1) @ W).argmax(1)
    return X, y


def forward_macs(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Multiply-adds of one forward pass of ``x`` (a single image), convolutions and linear layers."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, torch.nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1]
            total += out.numel() * (mod.in_channels // mod.groups) * k
        else:
            total += mod.in_features * mod.out_features

    hooks = [m.register_forward_hook(hook) for m in model.modules()
             if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    was = model.training
    model.eval()
    with torch.no_grad():
        model(x)
    model.train(was)
    for h in hooks:
        h.remove()
    return total


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def plain_step(model, X, y, dev, B, repeat=3) -> float:
    model.to(dev).train()
    x, t = X[:B].to(dev), y[:B].to(dev)
    best = float("inf")
    for _ in range(repeat):
        _sync(dev)
        t0 = time.perf_counter()
        model.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), t).backward()
        _sync(dev)
        best = min(best, time.perf_counter() - t0)
    model.zero_grad(set_to_none=True)
    return best


def update_time(P: int, dev, repeat: int = 5) -> float:
    """Median time of one ``NoiseMoments.update`` (all per-parameter statistics) on P values."""
    from nn_bridge.noise.stream import NoiseMoments

    acc = NoiseMoments(P, dev)
    g = torch.randn(P, device=dev)
    times = []
    for _ in range(repeat):
        _sync(dev)
        t0 = time.perf_counter()
        acc.update(g.to(torch.float64), (g == 0).to(torch.float64))
        _sync(dev)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run(device: str, M: int, N: int, B: int, n_sampled: int, builder: str = "build") -> dict:
    dev = torch.device(device)
    model, loss = load_model_file(f"{MODEL_FILE}:{builder}")
    P = sum(p.numel() for p in model.parameters())
    X, y = synthetic_cifar(N)
    macs = forward_macs(model, X[:1])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    t_plain = plain_step(model, X, y, dev, B)
    t_update = update_time(P, dev)
    model.load_state_dict(before)               # the timing pass moved BatchNorm statistics
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    marks = []
    cfg = StreamConfig(n_minibatches=M, batch_size=B, n_sampled=n_sampled, n_fit=100,
                       checkpoint_every=1)
    _sync(dev)
    t0 = time.perf_counter()
    st = stream_noise(model, (X, y), loss, cfg, device=dev,
                      on_checkpoint=lambda d: (_sync(dev), marks.append((d, time.perf_counter()))))
    t_total = time.perf_counter() - t0
    t_first = marks[0][1] - t0                    # setup + centring pass + first minibatch
    t_stream = marks[-1][1] - marks[0][1]
    per_mb = t_stream / (M - 1)
    t_center = t_first - per_mb
    t_finish = t_total - (marks[-1][1] - t0)
    peak = (torch.cuda.max_memory_allocated(dev) if dev.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"device": str(dev), "builder": builder, "macs": macs, "P": P, "M": M, "N": N,
            "B": B, "t_plain": t_plain,
            "t_update": t_update,
            "per_mb": per_mb, "t_center": t_center, "t_finish": t_finish, "t_total": t_total,
            "peak_bytes": peak, "stats": st}


def report(r: dict, M_target: int, N_target: int) -> None:
    st = r["stats"]
    n_center = -(-r["N"] // r["B"])
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (shared machine)")
    print(f"\n== {r['device']}: ResNet-18 ({r['builder']}), {r['P']:,} parameters, "
          f"{r['macs'] / 1e6:.0f} M forward multiply-adds per image, B = {r['B']}, "
          f"M = {r['M']} minibatches, centring pass over N = {r['N']} ({n_center} minibatches)")
    print(f"plain forward/backward per minibatch   {r['t_plain']:8.3f} s  (best of 3)")
    print(f"streamed minibatch (fwd/bwd + stats)   {r['per_mb']:8.3f} s  (mean of {r['M'] - 1})")
    print(f"  of which the statistics update       {r['t_update']:8.3f} s  (median of 5, alone)")
    print(f"centring pass (incl. setup)            {r['t_center']:8.1f} s")
    print(f"full estimators + summaries            {r['t_finish']:8.1f} s  "
          f"({st.sampled_index.size} sampled parameters)")
    print(f"total                                  {r['t_total']:8.1f} s")
    print(f"peak memory                            {r['peak_bytes'] / 2**30:8.2f} GiB "
          f"({'ru_maxrss, whole process' if r['device'] == 'cpu' else 'max_memory_allocated'})")
    ext = r["t_center"] / n_center * (-(-N_target // r["B"])) + r["per_mb"] * M_target \
        + r["t_finish"] * (M_target / r["M"])
    if (r["M"], r["N"]) != (M_target, N_target):
        print(f"EXTRAPOLATED (not measured) to M = {M_target}, N = {N_target}: "
              f"~{ext / 3600:.2f} h from the per-minibatch times above")
    a = st.accuracy()
    fin = np.isfinite(st.alpha)
    print(f"alpha_i for all parameters: {fin.sum():,} finite of {st.alpha.size:,}; "
          f"median {np.median(st.alpha[fin]):.3f}, q10 {np.quantile(st.alpha[fin], .1):.3f}, "
          f"q90 {np.quantile(st.alpha[fin], .9):.3f}")
    if a.get("n"):
        print(f"streaming vs cf_regression on {a['n']} sampled parameters: bias "
              f"{a['bias']:+.3f}, rmse {a['rmse']:.3f}, median |diff| {a['median_abs']:.3f}, "
              f"corr {a['corr']:.3f}; log-moment sd on SaS data at alpha "
              f"{a['alpha_full_median']:.2f}: {a['sas_sd_at_median']:.3f} (n = M)")
    la = [(s.name, s.alpha_median, s.sampled_alpha_median) for s in st.layers]
    dl = np.array([x - y for _, x, y in la if np.isfinite(x) and np.isfinite(y)])
    print(f"per-tensor median alpha_i, streaming (all parameters) - cf_regression (sampled): "
          f"median |d| {np.median(np.abs(dl)):.3f}, max |d| {np.max(np.abs(dl)):.3f} over "
          f"{dl.size} tensors")
    gf = [s.gaussian_fraction for s in st.layers]
    print(f"Shapiro-Wilk Gaussian share over sampled parameters, per tensor: median "
          f"{np.nanmedian(gf):.2f}; beta/sigma^3 median over all: "
          f"{np.nanmedian(st.third_ratio):.3f} (Gaussian: 1.596)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minibatches", type=int, default=1000)
    ap.add_argument("--n-samples", type=int, default=50000)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--sampled", type=int, default=100)
    ap.add_argument("--devices", default="cpu,cuda",
                    help="comma-separated; cuda is skipped when not available")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--builder", default="build", choices=("build", "build_imagenet_stem"),
                    help="builder in examples/resnet18_model.py")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} CPU threads, python {sys.version.split()[0]}")
    for d in args.devices.split(","):
        if d.startswith("cuda") and not torch.cuda.is_available():
            print(f"\n== {d}: not available on this machine, skipped")
            continue
        r = run(d, args.minibatches, args.n_samples, args.batch_size, args.sampled, args.builder)
        report(r, 1000, 50000)


if __name__ == "__main__":
    main()
