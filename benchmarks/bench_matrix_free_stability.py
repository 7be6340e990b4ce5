"""Wall time of the matrix-free stability diagram of a ~100 k-parameter network (issue 25).

The network: the built-in 3-layer ReLU MLP of width 280 on the 8 x 8 digits (64 inputs,
10 classes): 64*280 + 280 + 280*280 + 280 + 280*10 + 10 = 99,690 parameters. Its stored
per-sample factors would need 8 (N P (r + 1) + P^2) bytes = 84.7 GiB (N = 1437, r = 9), so
``levydyn nn stability`` goes matrix-free (``nn_bridge.curvature.matrix_free``). The script
runs the library call behind

    levydyn nn stability --dataset digits --width 280 --matrix-free

(``nn_bridge.escape.basin.network_stability`` with ``matrix_free=True``, with the CLI's grid
B = 4, 8, 16 x lr = 0.2, 0.3, 0.5, 0.8 and its 64 paths x 1000 steps per cell), except that
training is capped at ``--max-epochs`` (default 100 epochs of plain SGD, lr 0.05, B = 128;
the command trains to its plateau rule, at most 3000 epochs, or reads ``--weights`` from
``levydyn nn train``). It times each phase: training, the L-BFGS search for ``w*``
(``--minimum-evals`` full-batch float64 evaluations at most; how many it used and the time
of one), and the diagram. The load average (1 min) is printed before and after: on a shared
machine it says how many other processes the 2 cores served. ``OMP_WAIT_POLICY`` defaults
to ``PASSIVE`` as in ``levydyn nn`` (``cli/nn.py``).

    python benchmarks/bench_matrix_free_stability.py [--quick] [--threads N]
        [--max-epochs 100] [--minimum-evals 4000] [--lyap-paths 64] [--lyap-steps 1000]
        [--workdir DIR]

With the ``--workdir`` of an earlier run, training and ``w*`` are read back (cached) and
only the diagram runs.

``--quick``: width 64 (8,970 parameters), 20 epochs, 2 x 2 grid, 8 paths x 100 steps.
The last line reads ``total: <s> s (diagram <s> s)``.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")       # as `levydyn nn` does (cli/nn.py)

import torch  # noqa: E402

from nn_bridge.escape.basin import network_minimum, network_stability  # noqa: E402
from nn_bridge.escape.config import StudyConfig  # noqa: E402


def load() -> str:
    return "load average %.2f, %.2f, %.2f" % os.getloadavg()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--width", type=int, default=None, help="[280; quick: 64]")
    ap.add_argument("--max-epochs", type=int, default=None, help="[100; quick: 20]")
    ap.add_argument("--minimum-evals", type=int, default=4000)
    ap.add_argument("--lyap-paths", type=int, default=None, help="[64, the CLI's; quick: 8]")
    ap.add_argument("--lyap-steps", type=int, default=None, help="[1000, the CLI's; quick: 100]")
    ap.add_argument("--threads", type=int, default=None, help="torch threads [torch's default]")
    ap.add_argument("--workdir", default=None, help="[a new temporary directory]")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    grid = dict(batch_sizes=(4, 8), lrs=(0.3, 0.8)) if a.quick else {}
    lyap = dict(lyap_paths=a.lyap_paths or (8 if a.quick else 64),
                lyap_steps=a.lyap_steps or (100 if a.quick else 1000))
    cfg = StudyConfig(dataset="digits", width=a.width or (64 if a.quick else 280),
                      max_epochs=a.max_epochs or (20 if a.quick else 100),
                      minimum_evals=a.minimum_evals, **grid)
    workdir = a.workdir or tempfile.mkdtemp(prefix="levydyn-bench-mf-")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}; {load()}")
    t0 = time.perf_counter()
    marks = {}

    def log(line: str) -> None:
        t = time.perf_counter() - t0
        for phase in ("trained", "minimum"):
            if line.startswith(phase + ":"):
                marks[phase] = t
        print(f"[{t:7.1f}s] {line}", flush=True)

    diag, _ = network_stability(cfg, workdir=workdir, matrix_free=True, log=log, seed=0, **lyap)
    total = time.perf_counter() - t0
    with warnings.catch_warnings():                             # warned once above
        warnings.simplefilter("ignore")
        _, _, _, mn = network_minimum(cfg, workdir=workdir)  # cached: reads w* back
    search = marks["minimum"] - marks.get("trained", 0.0)
    print(f"parameters {diag.model['n_params']:,}; training {marks.get('trained', 0.0):.1f} s; "
          f"w* search {search:.1f} s: {mn.search()}, {1e3 * search / max(mn.n_evals, 1):.1f} ms "
          f"per evaluation, ||grad U(w*)|| {mn.grad_norm:.2e}")
    print(f"diagram: {len(diag.cells)} cells x {lyap['lyap_paths']} paths x "
          f"{lyap['lyap_steps']} steps in {diag.wall_time:.1f} s; {load()}")
    print(f"total: {total:.1f} s (diagram {diag.wall_time:.1f} s)")


if __name__ == "__main__":
    main()
