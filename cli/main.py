"""The ``levydyn`` command line (click).

Subcommands are imported when they run (or when their own ``--help`` is asked for), so
``levydyn --help`` costs a click import, not numba and scipy.
"""
from __future__ import annotations

import importlib

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


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="levydyn")
def main():
    """levydyn: heavy-tailed SDEs for the theory of SGD.

    Simulate alpha-stable (Levy) SDEs, compare them with closed forms, and measure
    real networks. Run `levydyn COMMAND --help` for each command.
    """


if __name__ == "__main__":
    main()
