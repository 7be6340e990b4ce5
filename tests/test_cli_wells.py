"""``levydyn wells``: transitions between wells vs Theorem 2 (small path counts)."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from cli.wells import JSON_SCHEMA, theory_generator, wells
from levydyn import MultiWell1D
from levydyn.theory import gaussian, markov_chain
from cli_checks import assert_help_has_examples, assert_one_line_error


def _run(*args):
    return CliRunner().invoke(wells, [str(a) for a in args])


def test_table_plot_json(tmp_path):
    png, js = tmp_path / "w.png", tmp_path / "w.json"
    res = _run("--eps", "0.3", "--paths", "10", "--cycles", "3", "--trajectories", "1",
               "--plot", png, "--json", js)
    assert res.exit_code == 0, res.output
    assert "1 -> 2" in res.output and "stationary pi" in res.output
    assert png.stat().st_size > 10_000
    data = json.loads(js.read_text())
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, JSON_SCHEMA)
    th = data["runs"][0]["theory"]
    np.testing.assert_allclose(th["generator"], markov_chain.generator(1.5, 0.3, [-1, 2], [0]))
    np.testing.assert_allclose(th["stationary"], [1 / (1 + 2**1.5), 2**1.5 / (1 + 2**1.5)])


def test_brownian_generator_is_kramers():
    pot = MultiWell1D((-1.0, 1.0), (0.0,))
    Q, source = theory_generator(pot, 2.0, 0.3)
    # U = x^4/4 - x^2/2: U''(+-1) = 2, U''(0) = -1, height 1/4
    q = gaussian.kramers_transition_rate(0.3, curvature_min=2.0, saddle_curvature=1.0, height=0.25)
    np.testing.assert_allclose(Q, [[-q, q], [q, -q]], rtol=1e-6)
    assert "Kramers" in source


@pytest.mark.parametrize("args,needle", [
    (["--minima", "-1,2", "--maxima", "3"], "interleave"),
    (["--minima", "-1,2", "--maxima", "0,1"], "maximum"),
    (["--alpha", "2.5"], "alpha=2.5"),
    (["--core", "1.5"], "core"),
    (["--eps", "0"], "eps=0.0"),
    (["--cycles", "0"], "--cycles"),
    (["--minima", "a,b"], "comma-separated"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    assert_one_line_error(_run(*args), needle)


def test_help_has_examples():
    assert_help_has_examples(wells)
