"""Ctrl-C latency of a long escape row: seconds from SIGINT to the process's exit.

Runs ``levydyn escape`` (``python -m cli.main`` of the checkout given by ``--repo``, default
this one) in a fresh process, sends SIGINT after ``--delay`` seconds (past start-up and
numba's cache load, inside the row) and times the exit; the run must exit 130 having
written its JSON. Issue 26 (D2) measured 7.3 s with the old fixed chunks (an eighth of the
paths per kernel call); :class:`levydyn.chunk_plan.ChunkPlan` targets ``CHUNK_SECONDS``
(0.5 s) per call. Compare two checkouts on the same machine and load:

    python benchmarks/bench_ctrl_c.py --repo /path/to/old --delay 25
    python benchmarks/bench_ctrl_c.py --delay 25
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", default=str(Path(__file__).resolve().parents[1]))
    ap.add_argument("--delay", type=float, default=10.0, help="seconds before SIGINT")
    ap.add_argument("--eps", default="0.15")
    ap.add_argument("--paths", default="200000")
    ap.add_argument("--t-max", default="20000")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        js = Path(tmp) / "e.json"
        cmd = [sys.executable, "-m", "cli.main", "escape", "--eps", args.eps, "--paths",
               args.paths, "--t-max", args.t_max, "--json", str(js)]
        proc = subprocess.Popen(cmd, cwd=args.repo, env={**os.environ, "PYTHONPATH": args.repo},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        time.sleep(args.delay)
        tic = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=600)
        latency = time.perf_counter() - tic
        print(f"{args.repo}: exit {proc.returncode}, SIGINT -> exit {latency:.2f} s, "
              f"json written: {js.exists()}; load average {os.getloadavg()[0]:.1f}")
        if proc.returncode != 130:
            print(err[-2000:], file=sys.stderr)


if __name__ == "__main__":
    main()
