"""Brute force against splitting on a real network: one cell, both estimators, their cost.

Issue 28 asks the two measurements of a mean escape -- brute force (every replica to its
exit, :func:`nn_bridge.escape.experiment.run_escape`) and generalised AMS on the network's
own SGD replicas (:func:`nn_bridge.escape.splitting.split_network`) -- to be cross-checked in
one cell where both run. This runs both at one (B, lr, R) of the built-in MLP (trained and
taken to w* as ``nn study`` does, cached in ``--workdir``) and prints each mean with its 95 %
CI, their ratio, the work (single-replica SGD steps) and the wall time::

    OMP_NUM_THREADS=1 python benchmarks/bench_nn_splitting.py --dataset breast_cancer \\
        --batch-size 8 --lr 0.2 --radius 1 --workdir .levydyn-nn

``--no-brute`` runs the splitting side only (compare it with the study's brute-force mean
of the same cell, e.g. wine B = 4, lr = 0.2 in ``docs/results/nn_study_wine.json``, whose
workdir it shares: ``--dataset wine --slow-cells 2`` gives the study's network and w*).
"""
from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="breast_cancer")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=0.2)
    ap.add_argument("--radius", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, default=200, help="brute-force replicas")
    ap.add_argument("--max-iter", type=int, default=100_000, help="brute-force horizon")
    ap.add_argument("--replicas", type=int, default=32, help="splitting replicas per run")
    ap.add_argument("--runs", type=int, default=4, help="independent splitting runs")
    ap.add_argument("--workdir", default=".levydyn-nn")
    ap.add_argument("--slow-cells", type=int, default=0,
                    help="the study's --slow-cells (its learning rates enter the basin's key)")
    ap.add_argument("--no-brute", action="store_true", help="the splitting side only")
    a = ap.parse_args()

    from nn_bridge.escape.basin import prepare_basin
    from nn_bridge.escape.cells import escape_ratio
    from nn_bridge.escape.config import StudyConfig
    from nn_bridge.escape.experiment import EscapeConfig, MinibatchGradient, run_escape
    from nn_bridge.escape.splitting import split_network

    cfg = StudyConfig(dataset=a.dataset, slow_cells=a.slow_cells, loss_rise=None)
    basin = prepare_basin(cfg, workdir=a.workdir)
    orc = MinibatchGradient(basin.flat, basin.X, basin.y, a.batch_size, cfg.weight_decay)
    if a.no_brute:
        t0 = time.perf_counter()
        res = split_network(orc, basin.minimum.w, a.lr, a.radius, a.replicas, a.runs, 0)
        print(f"{a.dataset} B={a.batch_size} lr={a.lr:g} R={a.radius:g}")
        print(f"splitting   : {res.mean_exit_time} iterations (p {res.p}; {a.runs} runs x "
              f"{a.replicas} replicas); {int(res.work)} SGD steps, "
              f"{time.perf_counter() - t0:.1f} s")
        return
    t0 = time.perf_counter()
    brute = run_escape(orc, basin.minimum.w,
                       EscapeConfig(lr=a.lr, batch_size=a.batch_size, n_seeds=a.seeds,
                                    radius=a.radius, loss_rise=None, max_iter=a.max_iter))
    t_brute = time.perf_counter() - t0
    mb = brute.mean_iterations()
    work_brute = int(brute.dist_iter.sum())
    print(f"{a.dataset} B={a.batch_size} lr={a.lr:g} R={a.radius:g}")
    print(f"brute force : {mb} iterations, {100 * (1 - brute.dist_exited.mean()):.0f}% censored "
          f"at {a.max_iter}; {work_brute} SGD steps, {t_brute:.1f} s")
    t0 = time.perf_counter()
    res = split_network(orc, basin.minimum.w, a.lr, a.radius, a.replicas, a.runs, 0)
    t_split = time.perf_counter() - t0
    ms = res.mean_exit_time
    print(f"splitting   : {ms} iterations (p {res.p}; {a.runs} runs x {a.replicas} replicas); "
          f"{int(res.work)} SGD steps, {t_split:.1f} s"
          + (f"; censored: {res.reason}" if res.censored else ""))
    print(f"splitting / brute: {escape_ratio(ms, mb, 0.95)}")
    print(f"work ratio (splitting / brute): {res.work / max(work_brute, 1):.3g}; wall-time "
          f"ratio {t_split / t_brute:.3g}")


if __name__ == "__main__":
    main()
