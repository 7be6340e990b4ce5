"""The ``levydyn`` command line (click).

Exit status: 0 done; 1 an output could not be written or a run failed; 2 bad input (one
line ``Error: ...`` naming the option and the value, before anything is simulated);
130 interrupted by Ctrl-C (what finished is printed and written first).
"""
from __future__ import annotations

import sys

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


class App(click.Group):
    """The command group: every usage error is one line, Ctrl-C exits 130."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as err:         # BadParameter, NoSuchOption, missing values
            if type(err).__name__ == "NoArgsIsHelpError":     # bare `levydyn`: the help
                click.echo(err.ctx.get_help() if err.ctx is not None else str(err), err=True)
                sys.exit(err.exit_code)
            hint = ""
            if err.ctx is not None and not isinstance(err, click.BadParameter):
                hint = f" (try '{err.ctx.command_path} --help')"
            click.echo(f"Error: {err.format_message()}{hint}", err=True)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            err.show()
            sys.exit(err.exit_code)
        except click.Abort as err:
            if isinstance(err.__cause__, KeyboardInterrupt):
                click.echo("interrupted (Ctrl-C)", err=True)
                sys.exit(130)
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted (Ctrl-C)", err=True)
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else 0)


@click.group(cls=App, context_settings={"help_option_names": ["-h", "--help"]})
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
