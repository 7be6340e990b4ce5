"""``levydyn nn mechanism``: its help and one-line errors for bad values (no run: every
error here is raised before a network is trained)."""
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("sklearn")


def test_help_names_the_three_mechanisms():
    from cli.nn import nn

    res = CliRunner().invoke(nn, ["mechanism", "--help"])
    assert res.exit_code == 0, res.output
    for word in ("--from-study", "--radii", "--lrs", "Arrhenius-Kramers", "lambda_1"):
        assert word in res.output


@pytest.mark.parametrize("args, needle", [
    (["--lr", "0.1"], "--batch-size and --lr"),
    (["--from-study", "no-such-report.json"], "not found"),
    (["--from-study", "r.json", "--lr", "0.1"], "drop --batch-size"),
    (["--batch-size", "8", "--lr", "0.1", "--radii", "-1,1"], "radius=-1"),
    (["--batch-size", "8", "--lr", "0.1", "--lrs", "0.1,x"], "--lrs"),
    (["--batch-size", "0", "--lr", "0.1"], "--batch-size"),
])
def test_bad_values_are_one_line(args, needle):
    from cli.nn import nn

    res = CliRunner().invoke(nn, ["mechanism"] + args)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
    errors = [line for line in res.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and needle in errors[0], res.output
