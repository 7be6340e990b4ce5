"""Small-noise exits: Euler vs the jump-adapted solver at equal accuracy, in one process.

Problem: U = x^2/2, exit interval (-1, 2), alpha = 1.5, eps from 0.1 to 1e-3.
"Equal accuracy" = the same number of paths (10^4, CI half-width ~2 % of the mean): both
methods are unbiased to within that (tests/test_jump_adapted.py). Where Euler would take
hours, it is run on fewer paths and its CPU time per path is scaled to 10^4 paths (its
cost is linear in the number of paths); the table says so. CPU time is process time
summed over threads. Run: ``python benchmarks/bench_small_noise.py [--quick]``.
"""
from __future__ import annotations

import argparse
import time

from levydyn import Box, Problem, Quadratic, c_alpha, simulate

ALPHA, N_PATHS = 1.5, 10_000


def cpu(fn):
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c, time.perf_counter() - w


def main(quick: bool):
    eps_list = [0.1, 0.01, 1e-3] if quick else [0.1, 0.03, 0.01, 3e-3, 1e-3]
    n_paths = 2000 if quick else N_PATHS
    euler_budget = 3e7 if quick else 3e8          # path-steps spent on Euler per eps
    phi = 1 + 2.0**-ALPHA
    print(f"alpha={ALPHA}, U=x^2/2, exit (-1, 2), dt=0.01, {n_paths} paths (Euler scaled)")
    print(f"{'eps':>7} {'theory':>10} {'jump-adapted mean [95% CI]':>34} {'ratio':>6} "
          f"{'JA cpu s':>9} {'Euler mean [95% CI] (paths)':>38} {'Euler cpu s':>12} {'speed-up':>9}")
    for eps in eps_list:
        p = Problem(Quadratic([1.0]), alpha=ALPHA, eps=eps, domain=Box.around([0.0], [1.0], [2.0]))
        theory = ALPHA / (c_alpha(ALPHA) * eps**ALPHA * phi)
        simulate(p, n_paths=4, dt=0.01, t_max=1e15, method="jump_adapted")   # compile
        simulate(p, n_paths=4, dt=0.01, t_max=0.1)
        ja, ja_cpu, _ = cpu(lambda: simulate(p, n_paths=n_paths, dt=0.01, t_max=1e15, seed=1,
                                             method="jump_adapted"))
        n_e = int(max(16, min(n_paths, euler_budget / (theory / 0.01))))
        eu, eu_cpu, _ = cpu(lambda: simulate(p, n_paths=n_e, dt=0.01, t_max=1e15, seed=2))
        eu_cpu_scaled = eu_cpu * n_paths / n_e
        m = ja.mean_exit_time()
        print(f"{eps:7.0e} {theory:10.4g} {str(m):>34} {m.value / theory:6.3f} {ja_cpu:9.2f} "
              f"{str(eu.mean_exit_time()) + f' ({n_e})':>38} {eu_cpu_scaled:12.1f} "
              f"{eu_cpu_scaled / ja_cpu:9.0f}x")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    main(ap.parse_args().quick)
