"""The ``levydyn`` command line (click)."""
from __future__ import annotations

import click

from cli.escape import escape
from cli.exit_axis import exit_axis
from cli.nn import nn
from cli.schedule import schedule
from cli.sgd_tails import sgd_tails
from cli.sweep import sweep
from cli.tail_index import tail_index
from cli.verify import verify
from cli.wells import wells


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="levydyn")
def main():
    """levydyn: heavy-tailed SDEs for the theory of SGD.

    Simulate alpha-stable (Levy) SDEs, compare them with closed forms, and measure
    real networks. Run `levydyn COMMAND --help` for each command.
    """


main.add_command(escape)
main.add_command(wells)
main.add_command(exit_axis)
main.add_command(schedule)
main.add_command(verify)
main.add_command(tail_index)
main.add_command(sgd_tails)
main.add_command(nn)
main.add_command(sweep)

if __name__ == "__main__":
    main()
