"""Click parameter types built on :mod:`levydyn.model.validation`'s constraints.

``--alpha 3`` and ``Problem(alpha=3)`` are checked by the same :class:`Constraint` and
fail with the same sentence (``alpha must lie in (0, 2], got alpha=3.0``); click adds
which option it was. The message names the field as the library calls it, so the
option's name and the library's agree.
"""
from __future__ import annotations

import click
import numpy as np

from levydyn.model.validation import (ALPHA, ANY, FINITE, NONNEGATIVE, POSITIVE, POSITIVE_OR_INF, UNIT_OPEN, Constraint,
                                as_float, as_int, check_seed, reject)

__all__ = ["FloatList", "GRID", "Grid", "Int", "Number", "OutputDir", "OutputFile", "SchedulerAddress",
           "Seed", "ALPHA_T", "FINITE_T", "FLOATS", "NONNEGATIVE_T", "POSITIVE_T", "SEED", "UNIT_OPEN_T", "image_file",
           "cluster_options", "json_file", "potential_option", "run_controls"]


def _field(self_field: str | None, param) -> str:
    return self_field or (param.name if param is not None and param.name else "value")


class Number(click.ParamType):
    """A float satisfying a :class:`~levydyn.model.validation.Constraint`."""

    name = "NUMBER"

    def __init__(self, constraint: Constraint = FINITE, field: str | None = None):
        self.constraint = constraint
        self.field = field

    def convert(self, value, param, ctx):
        name = _field(self.field, param)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            try:
                value = float(str(value).strip())
            except ValueError:
                self.fail(str(reject(name, "be a number", value)), param, ctx)
        try:
            return as_float(name, value, self.constraint)
        except ValueError as err:
            self.fail(str(err), param, ctx)


class Int(click.ParamType):
    """An integer in ``[low, high]``."""

    name = "INTEGER"

    def __init__(self, low: int | None = None, high: int | None = None, field: str | None = None):
        self.low, self.high, self.field = low, high, field

    def convert(self, value, param, ctx):
        name = _field(self.field, param)
        if not isinstance(value, int) or isinstance(value, bool):
            text = str(value).strip()
            try:
                value = int(text)
            except ValueError:
                self.fail(str(reject(name, "be an integer", text)), param, ctx)
        try:
            return as_int(name, value, self.low, self.high)
        except ValueError as err:
            self.fail(str(err), param, ctx)


class Seed(click.ParamType):
    """A seed: a non-negative integer below 2^64."""

    name = "SEED"

    def convert(self, value, param, ctx):
        if not isinstance(value, int) or isinstance(value, bool):
            try:
                value = int(str(value).strip())
            except ValueError:
                self.fail(str(reject("seed", "be a non-negative integer", value)), param, ctx)
        try:
            return check_seed(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


class FloatList(click.ParamType):
    """Comma-separated numbers, e.g. ``1,2`` or ``0.5,0.2,0.1``; every item must be a
    number satisfying ``constraint`` (``1,,2`` and ``1,2,`` are errors, not ``[1, 2]``)."""

    name = "LIST"

    def __init__(self, constraint: Constraint = ANY, field: str | None = None):
        self.constraint = constraint
        self.field = field

    def convert(self, value, param, ctx):
        name = _field(self.field, param)
        if isinstance(value, (list, tuple)):
            items = list(value)
        else:
            text = str(value).strip()
            items = text.split(",") if text else []
        out = []
        for i, item in enumerate(items):
            try:
                v = float(item)
            except ValueError:
                self.fail(f"expected comma-separated numbers, got {name}={value!r} "
                          f"(item {i + 1} is {str(item)!r})", param, ctx)
            try:
                out.append(as_float(name, v, self.constraint))
            except ValueError as err:
                self.fail(str(err) + ("" if len(items) == 1 else f" (item {i + 1})"), param, ctx)
        if not out:
            self.fail(f"expected at least one number, got {name}={value!r}", param, ctx)
        return out


#: Most points a START:STOP:COUNT grid may have (each point is a run).
MAX_GRID = 10_000


class Grid(click.ParamType):
    """``START:STOP:COUNT`` (inclusive linear grid) or comma-separated numbers."""

    name = "GRID"

    def convert(self, value, param, ctx):
        if isinstance(value, (list, tuple)):
            return [float(v) for v in value]
        text = str(value).strip()
        if ":" in text:
            parts = text.split(":")
            try:
                if len(parts) != 3:
                    raise ValueError
                start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            except ValueError:
                self.fail(f"expected START:STOP:COUNT (e.g. 0.01:0.5:10), got {value!r}",
                          param, ctx)
            if count < 1:
                self.fail(f"COUNT must be at least 1, got {value!r}", param, ctx)
            if count > MAX_GRID:
                self.fail(f"COUNT must be at most {MAX_GRID} (one run per point), got {value!r}",
                          param, ctx)
            return np.linspace(start, stop, count).tolist()
        return FloatList().convert(value, param, ctx)


class OutputFile(click.ParamType):
    """A file the command will write: its directory must exist and be writable and its
    extension be one the writer knows, checked when the option is parsed (before any
    simulation), so a finished run is never lost at the last step."""

    name = "FILE"

    def __init__(self, suffixes: tuple[str, ...] | None = None, field: str | None = None):
        self.suffixes = suffixes
        self.field = field

    def convert(self, value, param, ctx):
        from levydyn.output_files import check_output_path

        name = _field(self.field, param)
        try:
            check_output_path(name, value, self.suffixes)
        except ValueError as err:
            self.fail(str(err), param, ctx)
        return str(value)


class OutputDir(click.ParamType):
    """A folder the command writes into: an existing writable folder, or a new one in an
    existing writable folder (checked before the run)."""

    name = "DIR"

    def __init__(self, field: str | None = None):
        self.field = field

    def convert(self, value, param, ctx):
        import os
        from pathlib import Path

        name = _field(self.field, param)
        p = Path(str(value))
        target = p if p.exists() else (p.parent if str(p.parent) else Path("."))
        if p.exists() and not p.is_dir():
            self.fail(str(reject(name, "be a folder, not a file", str(value))), param, ctx)
        if not target.is_dir() or not os.access(target, os.W_OK | os.X_OK):
            self.fail(str(reject(name, f"be a writable folder or a new one in one ({str(target)!r} "
                                 "is not)", str(value))), param, ctx)
        return str(value)


def image_file() -> OutputFile:
    """An image output (``--plot``): an extension matplotlib writes."""
    from levydyn.output_files import IMAGE_SUFFIXES

    return OutputFile(IMAGE_SUFFIXES, "plot")


def json_file() -> OutputFile:
    """A JSON output (``--json``): any name in a writable directory."""
    return OutputFile(None, "json")


ALPHA_T = Number(ALPHA)
#: alpha of a jump process only (commands whose theory has no Brownian case)
ALPHA_JUMPS_T = Number(Constraint("lie in (0, 2)", lambda v: (v > 0.0) & (v < 2.0)))
FINITE_T = Number(FINITE)
POSITIVE_T = Number(POSITIVE)
NONNEGATIVE_T = Number(NONNEGATIVE)
UNIT_OPEN_T = Number(UNIT_OPEN)
SEED = Seed()
FLOATS = FloatList()
#: Distances from the attractor to the faces: positive, inf allowed (a one-sided box).
WIDTHS = FloatList(POSITIVE_OR_INF)
GRID = Grid()


ROW_SEED_HELP = "Base seed; each row's stream is derived from it and the row's parameters."


def run_outputs(*, seed_help: str = ROW_SEED_HELP, trajectories_help: str, plot_help: str,
                json_help: str):
    """The options every simulation command shares, in one place: ``--seed``,
    ``--trajectories`` (sample paths drawn in the plot), ``--plot`` and ``--json`` (output
    paths checked when the options are parsed, before anything runs)."""
    options = [
        click.option("--seed", type=SEED, default=0, show_default=True, help=seed_help),
        click.option("--trajectories", "n_traj", type=Int(0, 50, field="trajectories"),
                     default=0, show_default=True, help=trajectories_help),
        click.option("--plot", "plot_path", type=image_file(), help=plot_help),
        click.option("--json", "json_path", type=json_file(), help=json_help),
    ]

    def wrap(f):
        for opt in reversed(options):
            f = opt(f)
        return f
    return wrap


def run_controls(*, paths: int | None, paths_help: str, dt: float | None, dt_help: str,
                 t_max: float | None, t_max_help: str, method_help: str | None = None,
                 methods: tuple[str, ...] = ("euler", "jump_adapted")):
    """The run-length options every simulation command shares: ``--paths`` (``n_paths``),
    ``--dt``, ``--t-max`` and, with ``method_help``, ``--method`` among ``methods`` (default
    euler | jump_adapted). A default of None means the command derives it (its help says how)."""
    options = [
        click.option("--paths", type=Int(1, field="n_paths"), default=paths,
                     show_default=paths is not None, help=paths_help),
        click.option("--dt", type=POSITIVE_T, default=dt, show_default=dt is not None,
                     help=dt_help),
        click.option("--t-max", type=POSITIVE_T, default=t_max, show_default=t_max is not None,
                     help=t_max_help),
    ]
    if method_help is not None:
        options.append(click.option("--method", type=click.Choice(list(methods)),
                                    default="euler", show_default=True, help=method_help))

    def wrap(f):
        for opt in reversed(options):
            f = opt(f)
        return f
    return wrap


class SchedulerAddress(click.ParamType):
    """``[tcp://]HOST:PORT`` of a running Dask scheduler (checked before Dask loads)."""

    name = "ADDRESS"

    def convert(self, value, param, ctx):
        from levydyn.experiments.dask_client import check_scheduler_address

        try:
            return check_scheduler_address(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


def cluster_options(default: str):
    """``--scheduler ADDRESS`` and ``--workers N``: where a grid's independent cells run
    (:mod:`levydyn.experiments.dask_client`); ``default`` says what happens without them."""
    options = [
        click.option("--scheduler", type=SchedulerAddress(), default=None, metavar="ADDRESS",
                     help=f"Address of a running Dask scheduler (tcp://HOST:8786). Default: "
                          f"{default}."),
        click.option("--workers", type=Int(1, field="workers"), default=None,
                     help="LocalCluster worker processes (default: one per core, at most one "
                          "per cell)."),
    ]

    def wrap(f):
        for opt in reversed(options):
            f = opt(f)
        return f
    return wrap


def potential_option(help: str):
    """``--potential quadratic|ackley`` (default quadratic), with the command's own help."""
    return click.option("--potential", type=click.Choice(["quadratic", "ackley"]),
                        default="quadratic", show_default=True, help=help)
