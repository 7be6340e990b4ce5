"""The README's first table is what the README's first command prints (same seeds, same
kernels): a change that moves the numbers must re-run the README."""
import re
from pathlib import Path

from click.testing import CliRunner

from cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def test_first_command_prints_the_readme_table():
    text = (ROOT / "README.md").read_text()
    section = text.split("## What the first command prints", 1)[1]
    block = re.search(r"```text\n(alpha=1\.5 .*?)```", section, re.S).group(1).strip().splitlines()
    out = CliRunner().invoke(main, ["escape", "--alpha", "1.5", "--widths", "1,2"])
    assert out.exit_code == 0, out.output
    printed = [line for line in out.output.splitlines() if line and line != "simulating"]
    assert printed[-len(block):] == block
