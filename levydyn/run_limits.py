"""The arguments of a run, checked before anything compiles.

:func:`check_run` validates every argument of :func:`levydyn.simulate` that can be
judged without running a kernel, in plain Python (well under a second), and turns
the two kinds of overflow into input errors with the number:

* **steps**: the time grid is ``t_k = k dt``; ``k`` is exact in float64 only below
  2^53, so ``ceil(t_max / dt)`` beyond that (``--dt 1e-300 --t-max 1e10``) is refused;
* **memory**: the per-path result arrays (escape: times, flags, axis, side, exit point;
  wells: the visit table and occupancies) must fit in this machine's physical memory
  (``--paths 1000000000000`` would need terabytes).

The CLI calls it for every run it is about to launch before launching the first, so a
bad value in the last row is reported before the first row compiles.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from levydyn.model.validation import (POSITIVE, as_float, as_int, check_choice, check_memory,
                                      check_seed, physical_memory, reject)  # noqa: F401

MAX_STEPS = 2**53


@dataclass(frozen=True)
class RunPlan:
    """Checked run arguments and what they will cost."""

    n_paths: int
    dt: float
    t_max: float
    seed: int
    method: object
    n_steps: int
    max_visits: int
    chunk: int | None
    result_bytes: int


def result_bytes(problem, n_paths: int, max_visits: int) -> int:
    """Bytes of the per-path result arrays :func:`levydyn.simulate` allocates."""
    if problem.is_transition:
        # visit tables are kept only as wide as used: count one visit per path here (the
        # chunk buffer of max_visits per path is bounded separately by simulate)
        per_path = 16 + 8 * problem.domain.n_wells + 8 + 8 + 8 + 8 * problem.dim
    else:
        per_path = 8 + 1 + 8 + 8 + 8 * problem.dim
    return n_paths * per_path


def check_run(problem, n_paths=1000, dt=1e-2, t_max=1e4, seed=0, method="euler", *,
              max_visits: int = 512, chunk=None, memory: int | None = None) -> RunPlan:
    """Check the arguments of ``simulate(problem, ...)`` without compiling anything.

    Raises one ``ValueError`` naming the field and the value. ``memory`` overrides the
    machine's physical memory (for tests).
    """
    from levydyn.model.problem import Problem
    from levydyn.solvers import METHODS, JumpAdapted, resolve_method

    if not isinstance(problem, Problem):
        raise reject("problem", "be a levydyn Problem", problem)
    if isinstance(method, str):
        check_choice("method", method, METHODS)
    method = resolve_method(method)
    if method.name not in problem.noise.methods:
        raise reject("method", f"support {type(problem.noise).__name__} noise (use "
                     f"{' or '.join(sorted(problem.noise.methods))})", method.name)
    n_paths = as_int("n_paths", n_paths, 1)
    dt = as_float("dt", dt, POSITIVE)
    t_max = as_float("t_max", t_max, POSITIVE)
    if dt > t_max:
        raise reject("dt", f"not exceed t_max={t_max!r}", dt)
    seed = check_seed(seed)
    max_visits = as_int("max_visits", max_visits, 1)
    if chunk is not None:
        chunk = as_int("chunk", chunk, 1)
    steps = t_max / dt
    if not steps <= MAX_STEPS:
        raise reject("t_max/dt", f"be at most 2^53 = {MAX_STEPS:.4g} steps (the time grid k*dt "
                     f"is exact only below it; t_max={t_max!r}, dt={dt!r})", steps)
    n_steps = int(math.ceil(steps - 1e-9))
    if isinstance(method, JumpAdapted):
        if problem.is_transition:
            raise reject("method", "be euler for a WellPartition (jump_adapted supports Box and "
                         "Ball domains)", method.name)
        if all(a == 2.0 for a in problem.alpha):
            raise reject("method", "be euler when every alpha is 2 (jump_adapted needs an axis "
                         "with alpha < 2: Brownian exits have no large jumps)", method.name)
    need = result_bytes(problem, n_paths, max_visits)
    check_memory("n_paths", n_paths, need, "the results", memory)
    return RunPlan(n_paths, dt, t_max, seed, method, n_steps, max_visits, chunk, need)
