"""Recorded sample paths are the solver's paths (same streams, same steps)."""
import numpy as np
import pytest

from levydyn import Ball, Box, MultiWell1D, Power, Problem, Quadratic, WellPartition, simulate
from levydyn.simulate import record_paths


@pytest.mark.parametrize("alpha", [1.5, 2.0])
def test_box_paths_match_simulate(alpha):
    """alpha = 2 exercises the Brownian-bridge draws, the power schedule the integrated scale."""
    p = Problem(Quadratic([1.0, 2.0]), alpha=[alpha, 1.7], eps=0.5,
                domain=Box.around([0, 0], [1, 1], [2, 1]), schedule=Power(0.7, 1.0))
    r = simulate(p, n_paths=12, dt=0.01, t_max=300, seed=4)
    tr = record_paths(p, n_paths=12, dt=0.01, t_max=300, seed=4, max_points=300)
    np.testing.assert_array_equal(tr.stop_time, r.times)
    np.testing.assert_array_equal(tr.exited, r.exited)
    np.testing.assert_array_equal(tr.axis[r.exited], r.axis[r.exited])
    np.testing.assert_array_equal(tr.side[r.exited], r.side[r.exited])
    last = np.array([tr.path(i)[1][-1] for i in range(12)])
    np.testing.assert_array_equal(last, r.points)


def test_ball_and_offset():
    p = Problem(Quadratic([1.0, 1.0]), alpha=1.5, eps=0.4, domain=Ball([0.0, 0.0], 1.0))
    r = simulate(p, n_paths=8, dt=0.01, t_max=200, seed=1)
    tr = record_paths(p, n_paths=3, dt=0.01, t_max=200, seed=1, path_offset=5)
    np.testing.assert_array_equal(tr.stop_time, r.times[5:8])


def test_wells_path_matches_occupancy():
    """Stride 1: the recorded path's time per well region equals the solver's occupancy."""
    pot = MultiWell1D((-1.0, 1.0), (0.0,))
    p = Problem(pot, alpha=1.5, eps=0.4, domain=WellPartition.of(pot))
    r = simulate(p, n_paths=2, dt=0.01, t_max=50, seed=3)
    tr = record_paths(p, n_paths=2, dt=0.01, t_max=50, seed=3, max_points=10_000)
    for i in range(2):
        t, x = tr.path(i)
        assert t.size == 5001 and t[-1] == pytest.approx(50.0)
        occ = np.bincount((x[1:, 0] > 0).astype(int), minlength=2) * 0.01
        np.testing.assert_allclose(occ, r.occupancy[i], atol=1e-9)
    assert not tr.exited.any()


def test_thinning_keeps_exit_point_and_json():
    p = Problem(Quadratic([1.0]), alpha=1.5, eps=0.5, domain=Box.around([0.0], [1.0], [1.0]))
    tr = record_paths(p, n_paths=2, dt=0.01, t_max=1e3, seed=0, max_points=50)
    assert tr.t.shape[1] <= 52
    d = tr.to_dict(max_points=10)
    assert d["paths"][0]["t"][-1] == pytest.approx(float(tr.stop_time[0]))
    assert len(d["paths"][0]["t"]) <= 11


@pytest.mark.parametrize("kw,needle", [
    ({"n_paths": 0}, "n_paths"), ({"dt": 0.0}, "dt"), ({"t_max": float("nan")}, "t_max"),
    ({"seed": -1}, "seed"), ({"max_points": 0}, "max_points"), ({"path_offset": -1}, "path_offset"),
])
def test_bad_input(kw, needle):
    p = Problem(Quadratic([1.0]), alpha=1.5, eps=0.5, domain=Box.around([0.0], [1.0], [1.0]))
    with pytest.raises(ValueError, match=needle):
        record_paths(p, **kw)
