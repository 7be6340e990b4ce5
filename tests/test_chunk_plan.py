"""Kernel calls sized to a wall-time target (issue 26 D2: Ctrl-C noticed within ~1 s).

A compiled kernel call cannot be interrupted, so the Ctrl-C latency is the wall time of one
call. These tests drive the planner with hand-chosen timings (no clock: no timing
assertions) and check that the sizes follow ``rate * target`` and its limits, and that a
run cut into many unequal chunks is bit-identical to the same run in one chunk.
"""
import numpy as np
import pytest

import levydyn as ld
from levydyn import chunk_plan
from levydyn.chunk_plan import CHUNK_SECONDS, ChunkPlan


def test_sizes_follow_the_measured_rate_times_the_target():
    plan = ChunkPlan(cap=10**6, target=0.5, first=2)
    assert plan.size(10**6) == 2
    plan.record(2, 0.001)          # 2000 paths/s: at most 4x growth -> 8
    assert plan.size(10**6) == 8
    plan.record(8, 0.002)          # 4000 paths/s * 0.5 s = 2000, growth limit 32
    assert plan.size(10**6) == 32
    plan.record(32, 4.0)           # a slow chunk: 8 paths/s * 0.5 s = 4 paths
    assert plan.size(10**6) == 4
    plan.record(4, 0.25)           # 16 paths/s * 0.5 s = 8
    assert plan.size(10**6) == 8


def test_a_long_row_gets_chunks_near_the_target_so_ctrl_c_waits_at_most_about_a_chunk():
    """The old default ran a long row in 8 calls of n/8 paths (7 s or more each for a long
    row); with the plan, a row whose paths take 0.05 s each (20 paths/s) is cut into calls
    of target * 20 = 10 paths, i.e. 0.5 s, whatever the number of paths."""
    per_path = 0.05
    plan = ChunkPlan(cap=200_000 // 8, target=CHUNK_SECONDS, first=2)
    sizes, remaining = [], 200_000
    for _ in range(20):
        n = plan.size(remaining)
        sizes.append(n)
        plan.record(n, n * per_path)
        remaining -= n
    assert sizes[0] == 2
    assert max(n * per_path for n in sizes) <= CHUNK_SECONDS + 1e-12
    assert sizes[-1] == int(CHUNK_SECONDS / per_path)
    assert CHUNK_SECONDS <= 1.0            # the bound on the Ctrl-C delay


def test_cap_remaining_and_clock_resolution_limits():
    plan = ChunkPlan(cap=100, target=0.5, first=1000)
    assert plan.size(10**6) == 100          # first chunk capped
    plan.record(100, 1e-6)                  # very fast: the cap, not 5e7
    assert plan.size(10**6) == 100
    assert plan.size(7) == 7                # never beyond what remains
    plan.record(7, 0.0)                     # below the clock resolution: grow 4x, capped
    assert plan.size(10**6) == 28
    plan.record(1, 100.0)                   # one path took 100 s: still at least 1
    assert plan.size(10**6) == 1


@pytest.mark.parametrize("bad", [dict(cap=0), dict(cap=2.5), dict(cap=4, target=0.0),
                                 dict(cap=4, target=float("nan"))])
def test_bad_plan_arguments_are_one_line_errors(bad):
    with pytest.raises(ValueError, match="cap|target"):
        ChunkPlan(**bad)


def test_many_unequal_chunks_give_the_same_run_as_one_chunk(monkeypatch):
    """A target of 1 ns makes every call one path (rate * target < 1), 1-path chunks at
    first, then the 4x growth after fast calls: the streams are counter-based, so the
    exits, times and points must equal those of one call for all paths."""
    p = ld.Problem(ld.Quadratic([1.0]), alpha=1.5, eps=0.5, domain=ld.Box([-1.0], [1.0]),
                   x0=[0.0])
    one = ld.simulate(p, n_paths=60, dt=0.01, t_max=20.0, seed=3, chunk=60)
    monkeypatch.setattr(chunk_plan, "CHUNK_SECONDS", 1e-9)
    sizes = []
    many = ld.simulate(p, n_paths=60, dt=0.01, t_max=20.0, seed=3, chunk=60,
                       progress=lambda done, total: sizes.append(done))
    assert len(sizes) > 10                  # really cut into many calls
    for a, b in [(one.times, many.times), (one.exited, many.exited), (one.points, many.points)]:
        np.testing.assert_array_equal(a, b)


def test_well_visit_tables_of_many_chunks_equal_one_chunk(monkeypatch):
    """The visit tables are stacked chunk by chunk (padded to the widest): many 1-path
    chunks must give the tables of one call."""
    pot = ld.MultiWell1D((-1.0, 1.0), (0.0,))
    p = ld.Problem(pot, alpha=1.5, eps=0.5, domain=ld.WellPartition.of(pot), x0=[0.0])
    one = ld.simulate(p, n_paths=30, dt=0.01, t_max=30.0, seed=2, chunk=30)
    monkeypatch.setattr(chunk_plan, "CHUNK_SECONDS", 1e-9)
    many = ld.simulate(p, n_paths=30, dt=0.01, t_max=30.0, seed=2, chunk=30)
    for name in ("wells", "entries", "n_visits", "occupancy"):
        np.testing.assert_array_equal(getattr(one, name), getattr(many, name), err_msg=name)
