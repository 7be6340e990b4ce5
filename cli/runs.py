"""Running simulations from the command line: one progress bar over several
``simulate`` calls, clean Ctrl-C, and the way estimates are printed in tables."""
from __future__ import annotations

import math
import sys

import click

from cli.common import exit_if_interrupted, library_errors
from levydyn import simulate
from levydyn.run_limits import check_run
from levydyn.seeding import run_seed


def row_seed(seed: int, problem, method: str, dt: float, t_max: float) -> int:
    """The seed of one table row: derived from the base seed and what the row simulates
    (:func:`levydyn.seeding.run_seed`, the rule ``levydyn sweep`` uses for its cells)."""
    return run_seed(seed, problem, method=str(method), dt=float(dt), t_max=float(t_max))


def check_runs(runs) -> None:
    """Check every ``(problem, simulate kwargs)`` a command is about to run, in plain
    Python, before the first one compiles (one-line error, exit 2)."""
    with library_errors():
        for problem, kwargs in runs:
            check_run(problem, **kwargs)


class Runs:
    """A progress bar (on stderr) over several :func:`levydyn.simulate` calls.

    ``simulate`` returns the finished paths with ``interrupted=True`` when Ctrl-C
    arrives between chunks; :attr:`interrupted` then turns True and the caller stops
    launching new runs, prints what finished and writes its JSON as usual.
    """

    def __init__(self, total_paths: int, label: str = "simulating"):
        self.total = max(1, int(total_paths))
        self.label = label
        self.interrupted = False
        self._bar = None

    def __enter__(self):
        self._bar = click.progressbar(length=self.total, label=self.label,
                                      file=sys.stderr)
        self._bar.__enter__()
        return self

    def __exit__(self, *exc):
        self._bar.__exit__(*exc)
        if self.interrupted:
            click.echo("interrupted (Ctrl-C): the table shows the paths that finished", err=True)
        return False

    def simulate(self, problem, **kwargs):
        """``simulate(problem, **kwargs)`` with the bar advanced per finished chunk."""
        last = [0]

        def step(done, _n):
            self._bar.update(done - last[0])
            last[0] = done

        try:
            with library_errors():
                res = simulate(problem, progress=step, **kwargs)
        except KeyboardInterrupt:          # outside the chunk loop (e.g. during setup)
            self.interrupted = True
            return None
        if res.interrupted:
            self.interrupted = True
        return res


def simulate_rows(problems, row_kwargs) -> tuple[list, bool]:
    """Simulate ``problems[k]`` with ``row_kwargs[k]`` under one progress bar, stopping at
    Ctrl-C. Returns ``(results that have paths, interrupted)``; with nothing finished it
    exits (130 after Ctrl-C) instead."""
    results = []
    with Runs(sum(kw["n_paths"] for kw in row_kwargs)) as runs:
        for prob, kw in zip(problems, row_kwargs):
            res = runs.simulate(prob, **kw)
            if res is not None and res.n_paths:
                results.append(res)
            if runs.interrupted:
                break
    if not results:
        exit_if_interrupted(runs.interrupted)
        raise click.Abort()
    return results, runs.interrupted


def fmt(v, digits: int = 4) -> str:
    """A number for a table: 4 significant digits, ``inf`` / ``-`` for missing."""
    if v is None:
        return "-"
    v = float(v)
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"


def fmt_est(e) -> str:
    """``value [low, high]`` of an Estimate (``-`` if missing)."""
    if e is None:
        return "-"
    return f"{fmt(e.value)} [{fmt(e.low)}, {fmt(e.high)}]"
