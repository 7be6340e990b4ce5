"""levydyn.plots: every figure function writes a non-empty PNG (synthetic data, no simulation)."""
import numpy as np
import pytest

from levydyn import MultiWell1D, plots
from levydyn.results import Estimate
from levydyn.trajectories import Trajectories


def _traj(dim=1, n=2):
    t = np.tile(np.linspace(0, 10, 50), (n, 1))
    x = np.cumsum(np.random.default_rng(0).standard_normal((n, 50, dim)) * 0.1, axis=1)
    return Trajectories(t, x, np.array([True, False][:n]), np.full(n, 10.0),
                        np.zeros(n, int), np.ones(n, int), 0.01, 0)


def _est(v):
    return Estimate(v, 0.9 * v, 1.1 * v)


def _ok(path):
    assert path.exists() and path.stat().st_size > 5_000


def test_escape_vs_eps(tmp_path):
    eps = [0.5, 0.2, 0.1]
    g = np.geomspace(0.05, 0.6, 20)
    plots.escape_vs_eps(eps, [_est(v) for v in (5, 30, 100)], levy_theory=(g, 10 * g**-1.5),
                        brownian=[_est(8), None, None], brownian_theory=(g, np.exp(0.5 / g**2)),
                        alpha=1.5, trajectories=_traj(), traj_lower=[-1], traj_upper=[2],
                        path=tmp_path / "e.png")
    _ok(tmp_path / "e.png")


def test_axis_and_probability_plots(tmp_path):
    plots.axis_probabilities(["a", "b"], [_est(0.8), Estimate(0.2, 0.15, 0.25)], [0.82, 0.18],
                             trajectories=_traj(dim=2), traj_lower=[-1, -1], traj_upper=[1, 1],
                             path=tmp_path / "a.png")
    plots.probability_curves([{"label": "eps 0.1", "x": np.array([0, 0.5]),
                               "estimates": [_est(0.5), _est(0.8)],
                               "theory_x": np.linspace(0, 0.5, 5), "theory_y": np.linspace(0.5, 0.8, 5)}],
                             xlabel="delta", ylabel="P", path=tmp_path / "p.png")
    _ok(tmp_path / "a.png")
    _ok(tmp_path / "p.png")


def test_survival_and_paths(tmp_path):
    t = np.linspace(0, 100, 50)
    s = np.exp(-t / 30)
    curve = {"label": "constant", "t": t, "survival": s, "low": 0.9 * s, "high": np.minimum(1, 1.1 * s),
             "n": 500, "theory_t": t, "theory": s, "mean": _est(30), "theory_mean": 30.0}
    plots.survival_curves([curve], schedules=[{"label": "constant", "t": t, "s": np.ones_like(t)}],
                          trajectories=[("constant", _traj())], traj_lower=[-1], traj_upper=[2],
                          path=tmp_path / "s.png")
    plots.sample_paths_grid([("a", _traj()), ("b", _traj())], hlines=[(0.0, "--", "max")],
                            path=tmp_path / "g.png")
    plots.curves_loglog([{"label": "x", "x": [1, 2], "estimates": [_est(1), _est(2)],
                          "theory_x": [1, 2], "theory_y": [1, 2]}], xlabel="x", ylabel="y",
                        path=tmp_path / "c.png")
    for name in ("s.png", "g.png", "c.png"):
        _ok(tmp_path / name)


@pytest.mark.parametrize("per_eps_pi", [False, True])
def test_wells_summary(tmp_path, per_eps_pi):
    pot = MultiWell1D((-1.0, 2.0), (0.0,))
    eps = [0.2, 0.1]
    occ = [[_est(0.3), _est(0.7)], [_est(0.28), _est(0.72)]]
    pi = [[0.26, 0.74]] * 2 if per_eps_pi else [0.26, 0.74]
    g = np.geomspace(0.08, 0.25, 10)
    rates = {(0, 1): ([_est(0.02), _est(0.006)], g, 0.2 * g**1.5),
             (1, 0): ([_est(0.007), _est(0.002)], g, 0.07 * g**1.5)}
    path = tmp_path / "w.png"
    fig = plots.wells_summary(pot, eps, occ, pi, [[0.27, 0.73]] * 2, rates, alpha=1.5,
                              trajectories=_traj(), traj_eps=0.1, path=path)
    _ok(path)
    assert len(fig.axes) == 4
