"""Checks shared by the CLI tests (tests/test_cli_*.py, tests/nn_bridge/test_cli_*.py)."""


def assert_one_line_error(res, needle: str) -> None:
    """A CLI run rejected bad input as the project promises: exit status 2, the bad value
    named, no traceback, exactly one ``Error`` line."""
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
    assert len([l for l in res.output.splitlines() if l.startswith("Error")]) == 1


def assert_help_has_examples(command, *phrases: str) -> None:
    """``command --help`` exits 0 and shows an ``Examples:`` block, the ``--json`` option and
    each of ``phrases``."""
    from click.testing import CliRunner

    res = CliRunner().invoke(command, ["--help"])
    assert res.exit_code == 0 and "Examples:" in res.output and "--json" in res.output
    for phrase in phrases:
        assert phrase in res.output
