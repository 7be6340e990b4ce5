"""``--method splitting`` of levydyn escape, exit-axis and wells (cli/splitting.py)."""
import json

import pytest
from click.testing import CliRunner

from cli.main import main
from tests.conftest import assert_one_line_error


def test_escape_splitting_json_records_estimator_and_work(tmp_path):
    out = tmp_path / "s.json"
    res = CliRunner().invoke(main, ["escape", "--alpha", "2", "--eps", "0.3", "--method",
                                    "splitting", "--replicas", "20", "--runs", "2",
                                    "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "gAMS" in res.output and "mean exit time" in res.output
    data = json.loads(out.read_text())
    assert data["method"] == "splitting" and data["estimator"] == "gAMS"
    row = data["rows"][0]
    assert row["result"]["summary"]["work_path_steps"] > 0
    assert row["result"]["summary"]["n_replicas"] == 20
    assert row["theory_mean_exit_time"] > 0


@pytest.mark.parametrize("cmd", [["exit-axis", "--alphas", "1.2,1.8", "--eps", "0.05"],
                                 ["wells", "--alpha", "2", "--eps", "0.3"]])
def test_other_commands_run_splitting(cmd):
    res = CliRunner().invoke(main, cmd + ["--method", "splitting", "--replicas", "10",
                                          "--runs", "2"])
    assert res.exit_code == 0, res.output
    assert "levels/run" in res.output


@pytest.mark.parametrize("args,needle", [
    (["--replicas", "1"], "replicas"),
    (["--runs", "1"], "runs"),
    (["--schedule", "power:0.5"], "schedule must be constant"),
    (["--plot", "x.png"], "--plot"),
])
def test_splitting_bad_input(args, needle):
    res = CliRunner().invoke(main, ["escape", "--alpha", "2", "--eps", "0.3", "--method",
                                    "splitting"] + args)
    assert_one_line_error(res, needle)
