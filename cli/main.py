"""The ``levydyn`` command line (click).

Exit status: 0 done; 1 an output could not be written or a run failed; 2 bad input (one
line ``Error: ...`` naming the option and the value, before anything is simulated);
130 interrupted by Ctrl-C (what finished is printed and written first).

Subcommands are imported when they run (or when their own ``--help`` is asked for), so
``levydyn --help`` costs a click import, not numba and scipy.
"""
from __future__ import annotations

import importlib
import sys

import click



# name -> (module:attribute, one-line help shown by ``levydyn --help``)
COMMANDS = {
    "escape": ("cli.escape:escape", "First exit from an interval (or box) around a minimum."),
    "wells": ("cli.wells:wells", "Transitions between the wells of a 1-D landscape."),
    "exit-axis": ("cli.exit_axis:exit_axis", "Which coordinate carries the escape (per-axis alpha_l)."),
    "schedule": ("cli.schedule:schedule", "Escape under learning-rate schedules s_t."),
    "verify": ("cli.verify:verify", "Every closed form against simulation, with CIs."),
    "tail-index": ("cli.tail_index:tail_index", "Estimate tail indices alpha of data columns."),
    "sgd-tails": ("cli.sgd_tails:sgd_tails", "Heavy tails of SGD iterates (paper 001)."),
    "nn": ("cli.nn:nn", "Measure and model real PyTorch networks (needs the nn extra)."),
    "sweep": ("cli.sweep:sweep", "Parameter grids, serial or on Dask, resumable."),
}


class App(click.Group):
    """The command group: subcommands imported on first use, every usage error is one
    line, Ctrl-C exits 130."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])

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


if __name__ == "__main__":
    main()
