"""Soak test of the SaS sampler: 1e8 variates across alphas; counts NaN and inf.

Run: ``python benchmarks/soak_sampler.py [--total N]``. inf is reported separately: it
can only be a genuine overflow (|Z| > 1.8e308), possible for very small alpha.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from levydyn.model.noise import sas_rvs

ALPHAS = [0.1, 0.3, 0.5, 0.7, 0.9, 0.999999, 1.0, 1.000001, 1.1, 1.3, 1.5, 1.7, 1.9,
          1.99, 1.999999, 2.0]


def main(total: int):
    per = total // len(ALPHAS)
    chunk = 10_000_000
    t0 = time.perf_counter()
    n_nan = n_inf = n_all = 0
    for a in ALPHAS:
        na = ni = 0
        for k in range(0, per, chunk):
            x = sas_rvs(a, min(chunk, per - k), seed=1000 + k // chunk)
            na += int(np.isnan(x).sum())
            ni += int(np.isinf(x).sum())
        print(f"alpha={a:<9g} n={per:>11,d}  NaN={na}  inf={ni}")
        n_nan += na
        n_inf += ni
        n_all += per
    print(f"total {n_all:,d} variates in {time.perf_counter() - t0:.1f} s: NaN={n_nan}, inf={n_inf}")
    return n_nan


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total", type=int, default=100_000_000)
    raise SystemExit(1 if main(ap.parse_args().total) else 0)
