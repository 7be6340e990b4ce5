"""Start-up cost of the command line, in fresh processes.

Each command runs once as a warm-up (compiling the kernels into numba's disk cache if
needed), then ``--repeat`` more times; the table gives the median and the fastest wall
time, next to two baselines measured the same way (a bare interpreter and ``import
numba``), and the issue's target. ``--cold`` first runs each command against an empty
numba cache directory (``NUMBA_CACHE_DIR``), which is what the first process on a new
machine pays.

Run: ``python benchmarks/bench_startup.py [--repeat 5] [--cold]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

LEVYDYN = [sys.executable, "-m", "cli.main"]
COMMANDS = [
    ("python -c pass (baseline)", [sys.executable, "-c", "pass"], None),
    ("python -c 'import numba' (baseline)", [sys.executable, "-c", "import numba"], None),
    ("levydyn --help", LEVYDYN + ["--help"], 0.5),
    ("levydyn escape ... --eps 0.5 --paths 100", LEVYDYN + ["escape", "--alpha", "1.5", "--widths", "1,2",
                                                          "--eps", "0.5", "--paths", "100"], 1.5),
    ("levydyn escape --alpha 1.5 --widths 1,2 (README)", LEVYDYN + ["escape", "--alpha", "1.5",
                                                                   "--widths", "1,2"], 10.0),
]


def wall(cmd, env=None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cold", action="store_true", help="also time a first run on an empty numba cache")
    args = ap.parse_args()
    print(f"{'command':50s} {'cold':>7s} {'median':>7s} {'min':>7s} {'target':>7s}")
    for name, cmd, target in COMMANDS:
        cold = ""
        if args.cold:
            with tempfile.TemporaryDirectory() as d:
                cold = f"{wall(cmd, dict(os.environ, NUMBA_CACHE_DIR=d)):7.2f}"
        wall(cmd)                                   # warm-up: fills the disk cache
        times = [wall(cmd) for _ in range(args.repeat)]
        tgt = f"{target:7.1f}" if target else "      -"
        print(f"{name:50s} {cold:>7s} {statistics.median(times):7.2f} {min(times):7.2f} {tgt}")


if __name__ == "__main__":
    main()
