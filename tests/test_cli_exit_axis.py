"""``levydyn exit-axis``: which axis carries the escape (small path counts)."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from cli.exit_axis import JSON_SCHEMA, exit_axis
from levydyn.theory import box
from cli_checks import assert_help_has_examples, assert_one_line_error


def _run(*args):
    return CliRunner().invoke(exit_axis, [str(a) for a in args])


def _validate(data):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, JSON_SCHEMA)


def _run_with_files(tmp_path, *args):
    """Run with ``--plot`` and ``--json``: it must succeed and write the figure (> 10 kB) and a
    JSON report that follows the schema; returns (output, report)."""
    png, js = tmp_path / "a.png", tmp_path / "a.json"
    res = _run(*args, "--plot", png, "--json", js)
    assert res.exit_code == 0, res.output
    assert png.stat().st_size > 10_000
    data = json.loads(js.read_text())
    _validate(data)
    return res.output, data


def test_quadratic_bars_plot_json(tmp_path):
    output, data = _run_with_files(tmp_path, "--alphas", "1.2,1.8", "--eps", "0.3", "--paths",
                                   "200", "--trajectories", "3")
    assert "P(exit along axis)" in output
    np.testing.assert_allclose(data["runs"][0]["theory"]["p_axis"],
                               box.exit_axis_probabilities([1.2, 1.8], 0.3, 1.0, 1.0))


def test_ackley_delta_sweep(tmp_path):
    output, data = _run_with_files(tmp_path, "--potential", "ackley", "--deltas", "0,0.4",
                                   "--eps", "0.3", "--paths", "60")
    assert "P(exit along x1)" in output
    assert [r["alpha"] for r in data["runs"]] == [[1.8, 1.8], [pytest.approx(1.4), 1.8]]
    assert data["runs"][0]["theory"]["p_axis"][0] == pytest.approx(0.5)


@pytest.mark.parametrize("args,needle", [
    (["--alphas", "1.2,2.5"], "alpha=2.5"),
    (["--alphas", "1.2,1.8", "--eps", "0.1,0.1,0.1"], "--eps"),
    (["--widths", "-1"], "d_minus"),
    (["--potential", "ackley", "--alphas", "1.2,1.8"], "--alphas"),
    (["--deltas", "0,0.1"], "--deltas"),
    (["--potential", "ackley", "--method", "jump_adapted"], "--method euler"),
    (["--potential", "ackley", "--radius", "0"], "d_minus"),
    (["--schedule", "power:2"], "gamma"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    assert_one_line_error(_run(*args), needle)


def test_help_has_examples():
    assert_help_has_examples(exit_axis)
