"""``levydyn escape``: theory columns, --gaussian, --potential ackley, --plot, --trajectories.

Small path counts: these tests check wiring, schema and files, not statistics (the
statistical checks of the solver live in test_solver.py / test_jump_adapted.py).
"""
import json

import pytest
from click.testing import CliRunner

from cli.escape import JSON_SCHEMA, escape
from levydyn.theory import exit_interval
from cli_checks import assert_help_has_examples, assert_one_line_error


def _run(*args):
    return CliRunner().invoke(escape, [str(a) for a in args])


def _validate(data, schema):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, schema)


def test_theory_and_gaussian_columns_plot_json(tmp_path):
    png, js = tmp_path / "e.png", tmp_path / "e.json"
    res = _run("--eps", "0.5,0.3", "--paths", "100", "--gaussian", "--trajectories", "2",
               "--plot", png, "--json", js)
    assert res.exit_code == 0, res.output
    assert "theory" in res.output and "Brownian theory" in res.output
    # the Levy column is the closed form of Theorem 1, printed to 4 significant digits
    assert f"{exit_interval.mean_exit_time(1.5, 0.5, 1, 2):.4g}" in res.output
    assert png.stat().st_size > 10_000
    data = json.loads(js.read_text())
    _validate(data, JSON_SCHEMA)
    assert data["theory"][0]["levy_mean"] == pytest.approx(exit_interval.mean_exit_time(1.5, 0.5, 1, 2))
    # eps = 0.5: E tau_B ~ 10, cheap, so the Brownian run happened; eps = 0.3 needs ~1e3
    assert data["brownian"][0]["summary"]["n_paths"] == 100
    assert len(data["trajectories"]["paths"]) == 2


def test_trajectories_are_the_tables_paths(tmp_path):
    """Recorded paths (Euler, same seed) stop exactly at the simulated exit times."""
    js = tmp_path / "t.json"
    res = _run("--eps", "0.5", "--paths", "50", "--trajectories", "3", "--json", js)
    assert res.exit_code == 0, res.output
    data = json.loads(js.read_text())
    from levydyn import Box, Problem, Quadratic, simulate

    # the row's own seed, derived from (--seed, row parameters), is in the JSON
    r = simulate(Problem(Quadratic([1.0]), alpha=1.5, eps=0.5,
                         domain=Box.around([0.0], [1.0], [2.0])), n_paths=3, dt=0.01, t_max=1e4,
                 seed=data["results"][0]["seed"])
    assert [p["stop_time"] for p in data["trajectories"]["paths"]] == pytest.approx(r.times.tolist())


def test_schedule_theory_column():
    res = _run("--eps", "0.5", "--paths", "50", "--schedule", "power:0.7:1")
    assert res.exit_code == 0, res.output
    assert "under the schedule" in res.output


@pytest.mark.parametrize("args,needle", [
    (["--potential", "ackley", "--curvature", "2"], "--curvature"),
    (["--potential", "ackley", "--gaussian"], "--gaussian"),
    (["--potential", "sphere"], "sphere"),
    (["--trajectories", "500"], "--trajectories"),
    (["--widths", "1"], "widths"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    assert_one_line_error(_run(*args), needle)


def test_help_has_examples():
    assert_help_has_examples(escape)
