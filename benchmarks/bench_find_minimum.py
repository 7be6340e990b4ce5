"""Why finding ``w*`` (and the matrix-free recursion) was slow on 2 shared cores (issue 25).

``find_minimum`` runs L-BFGS on ``U(w) = CE(w) + (wd/2)||w||^2``; each evaluation is one
full-batch float64 forward and backward pass over the training set. This script times

1. **one evaluation** of ``U`` and its gradient (median of 15), for the CNN of
   ``examples/own_network_cnn.py`` (666 parameters) and the width-280 MLP (99,690
   parameters) on the 1,437 digits, float64 and, for comparison, float32, under three
   thread settings, each in its own process: 1 thread; 2 threads with OpenMP's default wait
   (``OMP_WAIT_POLICY`` unset: a thread spins before it sleeps); 2 threads with
   ``OMP_WAIT_POLICY=PASSIVE`` (what ``levydyn nn`` sets); each line ends with a checksum of
   the gradient: the wait policy changes the time, not the numbers;
2. **one matrix-free recursion step** (``nn_bridge.curvature.matrix_free``, 64 replicas,
   B = 4) of the 99,690-parameter MLP, with ``FlatModel.unflatten`` as now (one
   ``torch.split``) and as before (one slice per tensor: its gradient is a zero-filled
   length-P vector per tensor, summed), same settings;
3. with ``--trace``: the L-BFGS search itself on the CNN after the example's quick training
   (20 epochs): evaluations used, seconds, and the smallest ``||grad U||`` reached after
   k evaluations (where it stalls on ReLU / max-pool kinks).

    python benchmarks/bench_find_minimum.py [--trace] [--only eval|step|trace]

The load average is printed with every line: on shared cores it decides the numbers.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = (("1 thread", {"OMP_NUM_THREADS": "1"}, 1),
           ("2 threads, OpenMP's default wait (spins first)", {}, 2),
           ("2 threads, passive", {"OMP_WAIT_POLICY": "PASSIVE"}, 2))
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load() -> str:
    return "load %.1f" % os.getloadavg()[0]


def median_ms(fn, n: int = 15) -> float:
    fn()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return 1e3 * sorted(ts)[n // 2]


def networks():
    import torch

    sys.path.insert(0, str(EXAMPLES))
    from own_network_cnn import DigitsCNN
    from nn_bridge import load_dataset
    from nn_bridge.data.network import Network

    data = load_dataset("digits")
    torch.manual_seed(0)
    return {"CNN": Network.from_module(DigitsCNN(), data),
            "MLP 280": Network.builtin(data, width=280, depth=3)}


def evaluations() -> None:
    import torch

    for name, net in networks().items():
        for dtype in (torch.float64, torch.float32):
            flat = net.flat(None, dtype)
            X, y = net.tensors(dtype)
            w = flat.flat().requires_grad_(True)

            def one():
                flat.objective(w, X, y, 1e-2).backward()
                g = w.grad
                w.grad = None
                return g

            g = one().numpy()
            print(f"    {name} ({flat.n_params:,} parameters) {str(dtype)[6:]}: "
                  f"{median_ms(one):7.1f} ms per evaluation, gradient sha256 "
                  f"{hashlib.sha256(g.tobytes()).hexdigest()[:12]}  [{load()}]", flush=True)


class SlicedFlat:
    """``FlatModel.unflatten`` as it was: one slice of ``w`` per tensor."""

    @staticmethod
    def unflatten(self, w):
        o = self.layout.offsets
        return {k: w[o[i]:o[i + 1]].reshape(s)
                for i, (k, s) in enumerate(zip(self.layout.names, self.layout.shapes))}


def steps() -> None:
    import torch

    from nn_bridge.curvature.matrix_free import MatrixFreeRecursion
    from nn_bridge.data.flat import FlatModel

    net = networks()["MLP 280"]
    flat = net.flat(None, torch.float64)
    X, y = net.tensors(torch.float64)
    w = flat.flat().numpy()
    gen = torch.Generator().manual_seed(0)
    V = torch.randn(64, flat.n_params, dtype=torch.float64, generator=gen)
    idx = torch.randint(0, X.shape[0], (64, 4), generator=gen)
    rec = MatrixFreeRecursion(flat, X, y, w, 4, 1e-2)
    now = rec.products(V, idx)
    t_now = median_ms(lambda: rec.products(V, idx), 5)
    split = FlatModel.unflatten
    FlatModel.unflatten = SlicedFlat.unflatten
    try:
        before = rec.products(V, idx)
        t_before = median_ms(lambda: rec.products(V, idx), 5)
    finally:
        FlatModel.unflatten = split
    print(f"    matrix-free step, 99,690 parameters, 64 replicas, B = 4: {t_now:7.1f} ms "
          f"(torch.split) vs {t_before:7.1f} ms (slices), same numbers: "
          f"{bool(torch.equal(now, before))}  [{load()}]", flush=True)


def trace() -> None:
    import numpy as np
    import torch

    from nn_bridge.data import flat as flat_mod
    from nn_bridge.escape.experiment import find_minimum
    from nn_bridge.training.train import TrainConfig, train_network

    net = networks()["CNN"]
    res = train_network(net, TrainConfig(lr=0.05, batch_size=128, max_epochs=20, grad_tol=0.0))
    norms = []
    objective = flat_mod.FlatModel.objective

    def traced(self, w, X, y, wd):
        if w.requires_grad and w.grad_fn is None and not hasattr(w, "_traced"):
            w._traced = True
            w.register_post_accumulate_grad_hook(lambda p: norms.append(float(p.grad.norm())))
        return objective(self, w, X, y, wd)

    flat_mod.FlatModel.objective = traced
    t = time.perf_counter()
    mn = find_minimum(res.model, net.data, 1e-2, loss_fn=net.loss_fn)
    dt = time.perf_counter() - t
    flat_mod.FlatModel.objective = objective
    g = np.minimum.accumulate(np.array(norms))
    marks = [k for k in (10, 100, 300, 1000, 2000, 3000, 4000) if k <= g.size]
    print(f"    CNN after 20 epochs: {mn.search()}, {dt:.1f} s ({1e3 * dt / mn.n_evals:.1f} ms per "
          f"evaluation), final ||grad U|| {mn.grad_norm:.2e}; smallest ||grad U|| after k "
          f"evaluations: " + ", ".join(f"{k}: {g[k - 1]:.2e}" for k in marks) + f"  [{load()}]",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", action="store_true", help="also run find_minimum on the CNN")
    ap.add_argument("--only", choices=("eval", "step", "trace"), default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:                   # one thread setting, in a fresh process
        import torch

        torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
        {"eval": evaluations, "step": steps, "trace": trace}[a.child]()
        return
    import torch

    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs; {load()}", flush=True)
    parts = [a.only] if a.only else ["eval", "step"] + (["trace"] if a.trace else [])
    for part in parts:
        for label, env, threads in CONFIGS if part != "trace" else CONFIGS[2:]:
            print(f"{part}, {label}:", flush=True)
            full = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
            full.update(env, BENCH_THREADS=str(threads))
            subprocess.run([sys.executable, __file__, "--child", part], env=full, check=True)


if __name__ == "__main__":
    main()
