"""Rare events by splitting: generalised adaptive multilevel splitting (gAMS).

Estimates ``p = P(reach the exit set B before returning to a small set A around the
attractor)`` and the mean exit time by the cycle decomposition
``E tau = E[T_loop] (1 - p)/p + E[T_reac]``, each with a CI from independent runs, plus
the exit axis/side law of the reactive trajectories; every result carries its work
(path-steps) so that its cost can be compared with brute force.

- :func:`committor` -- ``P_x(B before A)`` from one state ``x`` (same chain);
- :func:`split` -- a levydyn :class:`~levydyn.model.problem.Problem` (Euler chain; Box, Ball, wells);
- :func:`split_recursion` -- a :class:`levydyn.kesten.Recursion` (SGD as a random linear
  recursion);
- :class:`SplittingResult` -- the one result type; :func:`run_gams` / :func:`combine` the
  generic algorithm and the pooling of runs.

Writing a new simulator (e.g. SGD replicas of a network)
--------------------------------------------------------
Subclass :class:`PathSimulator` (:mod:`levydyn.rare.ams`) and implement three methods;
the algorithm never looks at states, only at the :class:`Replicas` record (``score`` =
running max of ``xi`` with ``inf`` once in B, ``status``, ``t_end``, ``axis``, ``side``,
``point``, ``work``), and keeps its own data in ``Replicas.state``:

1. ``first_crossings(run, n) -> (Replicas, Cycles)``: ``n`` chains from the start point
   (inside ``A = {xi <= a}``) each make ``cycles`` cycles ``A -> {xi > z0} -> A or B``
   (record loop durations, climb durations, direct successes) and then climb once more;
   the replicas start at these first crossings of ``z0`` (a climb that lands in B gives a
   replica that is already done: ``score = inf``, ``status = IN_B``).
2. ``advance(reps, rows)``: run those replicas from their start states until A or B,
   setting ``score`` (running max of ``xi`` including the start), ``status``, ``t_end``
   (steps since the crossing of ``z0``), exit ``axis/side/point``; add the steps to
   ``reps.work``.
3. ``branch(reps, dst, src, level, generation)``: ``dst[q]`` becomes ``src[q]``'s path up
   to its FIRST state with ``xi > level`` (keep the states where the running max rose, or
   re-simulate the source deterministically from its stream; the numba simulators here
   re-simulate), then continues with fresh randomness from ``(seed, run, dst[q],
   generation)`` until A or B. ``dst`` (killed) and ``src`` (survivors) never overlap.
   Count re-simulated steps as work.

Then ``combine([run_gams(sim, m, n, seed, max_iterations) for m in range(M)], n, dim, a,
z0, time_unit)`` is the :class:`SplittingResult`.
"""
from levydyn.rare.ams import Cycles, PathSimulator, Replicas, run_gams
from levydyn.rare.euler import committor, split
from levydyn.rare.kesten import split_recursion
from levydyn.rare.result import SplittingResult, combine

__all__ = ["Cycles", "PathSimulator", "Replicas", "SplittingResult", "combine", "committor",
           "run_gams", "split", "split_recursion"]
