"""``levydyn schedule``: survival under schedules vs theory (small path counts)."""
import json

import pytest
from click.testing import CliRunner

from cli.schedule import JSON_SCHEMA, schedule, schedule_theory_kwargs
from levydyn import Constant, MultiStep, Power
from levydyn.theory import schedules as theory
from cli_checks import assert_help_has_examples, assert_one_line_error


def _run(*args):
    return CliRunner().invoke(schedule, [str(a) for a in args])


def test_table_plot_json(tmp_path):
    png, js = tmp_path / "s.png", tmp_path / "s.json"
    res = _run("--eps", "0.5", "--paths", "100", "--schedule", "multistep:5,10:0.5,0.2",
               "--trajectories", "2", "--plot", png, "--json", js)
    assert res.exit_code == 0, res.output
    for name in ("constant", "power:0.5:1", "multistep:5,10:0.5,0.2"):
        assert name in res.output
    assert png.stat().st_size > 10_000
    data = json.loads(js.read_text())
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, JSON_SCHEMA)
    assert len(data["runs"]) == 3
    run = data["runs"][1]
    assert run["theory"]["mean"] == pytest.approx(
        theory.mean_exit_time(1.5, 0.5, 1, 2, gamma=0.5, t0=1.0))
    # default u is the constant schedule's theoretical mean, where exp(-Lambda) = 1/e
    assert data["runs"][0]["theory"]["survival_at_u"][0] == pytest.approx(0.3679, abs=2e-3)


def test_theory_kwargs():
    assert schedule_theory_kwargs(Constant()) == {}
    assert schedule_theory_kwargs(Power(0.5, 2.0)) == {"gamma": 0.5, "t0": 2.0}
    assert schedule_theory_kwargs(MultiStep((1, 2), (0.5, 0.1))) == {
        "milestones": [1.0, 2.0], "values": [0.5, 0.1]}


@pytest.mark.parametrize("args,needle", [
    (["--gamma", "1.5"], "gamma=1.5"),
    (["--schedule", "cosine"], "cosine"),
    (["--alpha", "0"], "alpha=0.0"),
    (["--widths", "1,2,3"], "--widths"),
    (["--u", "-1"], "--u"),
    (["--paths", "0"], "n_paths=0"),
    (["--eps", "-1"], "eps=-1.0"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    assert_one_line_error(_run(*args), needle)


def test_help_has_examples():
    assert_help_has_examples(schedule)
