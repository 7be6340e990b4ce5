import json

import pytest
from click.testing import CliRunner

from cli.main import main


def test_escape_table_and_json(tmp_path):
    out = tmp_path / "r.json"
    res = CliRunner().invoke(main, ["escape", "--alpha", "1.5", "--widths", "1,2", "--eps",
                                    "0.3", "--paths", "200", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "mean exit time" in res.output and "P(exit right)" in res.output
    data = json.loads(out.read_text())
    s = data["results"][0]["summary"]
    assert s["n_paths"] == 200
    assert s["mean_exit_time"]["low"] < s["mean_exit_time"]["value"] < s["mean_exit_time"]["high"]


@pytest.mark.parametrize("args,needle", [
    (["--alpha", "2.5"], "alpha=2.5"),
    (["--alpha", "0"], "alpha=0.0"),
    (["--widths", "1,-2"], "widths must be positive"),     # the option (issue 26), not d_plus
    (["--widths", "0,2"], "widths must be positive"),
    (["--widths", "nan,2"], "nan"),
    (["--widths", "1,2,3"], "widths"),
    (["--eps", "nan"], "eps=nan"),
    (["--eps", "-0.1"], "eps=-0.1"),
    (["--dt", "0"], "dt=0"),
    (["--schedule", "cosine"], "cosine"),
    (["--paths", "0"], "n_paths=0"),
])
def test_escape_bad_input_is_one_line_exit_2(args, needle):
    res = CliRunner().invoke(main, ["escape", *args])
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
    err_lines = [l for l in res.output.splitlines() if l.startswith("Error")]
    assert len(err_lines) == 1
