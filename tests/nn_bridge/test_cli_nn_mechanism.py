"""``levydyn nn mechanism``: its help and one-line errors for bad values (no run: every
error here is raised before a network is trained)."""
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("sklearn")
from cli_checks import assert_help_has_examples, assert_one_line_error  # noqa: E402


def test_help_names_the_three_mechanisms():
    from cli.nn import nn

    assert_help_has_examples(nn.commands["mechanism"], "--from-study", "--radii", "--lrs",
                             "Arrhenius-Kramers", "lambda_1")


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

    assert_one_line_error(CliRunner().invoke(nn, ["mechanism"] + args), needle)
