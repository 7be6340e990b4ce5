"""Shared pieces of the command line: one-line errors, output writing, the interrupted exit.

Parameter types (numbers with constraints, lists, output files) live in :mod:`cli.types`.
"""
from __future__ import annotations

import contextlib
import sys

import click

from cli.types import FLOATS, FloatList  # noqa: F401  (re-exported for the commands)

# exit status of a run stopped by Ctrl-C after it kept and wrote what finished (128 + SIGINT)
EXIT_INTERRUPTED = 130


class CliError(click.ClickException):
    """A usage error printed as one line (``Error: ...``) with exit status 2."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"Error: {self.format_message()}", err=True)


class OutputError(click.ClickException):
    """An output file could not be written (full disk, permissions changed during the
    run): one line, exit status 1, no traceback, no partial file."""

    exit_code = 1

    def show(self, file=None):
        click.echo(f"Error: {self.format_message()}", err=True)


@contextlib.contextmanager
def library_errors(prefix: str = ""):
    """Turn the library's ValueErrors into one-line CLI errors (exit 2)."""
    try:
        yield
    except ValueError as err:
        raise CliError(f"{prefix}{err}") from None


def need_nn_extra() -> None:
    """One-line error (exit 2) when the ``nn`` extra (torch, scikit-learn) is missing."""
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        raise CliError(f"levydyn nn needs the nn extra ({exc.name} missing): "
                       "pip install -e '.[nn]'") from None


def write_json(path, payload) -> None:
    """Write ``payload`` atomically as JSON (non-finite numbers as ``"inf"``/``"-inf"``/
    ``"nan"``, the package's one convention: :func:`levydyn.results.to_jsonable`)."""
    from levydyn.results import dump_json

    with output_errors(path):
        dump_json(payload, path)
    click.echo(f"wrote {path}", err=True)


def save_figure(fig, path, **kwargs) -> None:
    """Write a matplotlib figure atomically (format from the extension)."""
    from levydyn.output_files import atomic_savefig

    with output_errors(path):
        atomic_savefig(fig, path, **kwargs)


@contextlib.contextmanager
def output_errors(path):
    """An ``OSError`` while writing ``path`` becomes one line (exit 1); the atomic
    writers leave no partial file behind."""
    try:
        yield
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or err}") from None


def obj(*required: str, **properties) -> dict:
    """JSON schema of an object with these required keys (and property schemas)."""
    out = {"type": "object", "required": list(required)}
    if properties:
        out["properties"] = properties
    return out


def array_of(item: dict) -> dict:
    """JSON schema of an array of ``item``."""
    return {"type": "array", "items": item}


def run_schema(command: str, head: dict, body: dict, *, optional=(), trajectories=True) -> dict:
    """The ``--json`` schema shared by the simulation commands: ``command`` (its name),
    the ``head`` fields (what was simulated), ``interrupted`` (Ctrl-C), the ``body`` fields
    (the runs; those in ``optional`` not required) and, with ``trajectories``, the recorded
    sample paths."""
    props = {"command": {"const": command}, **head, "interrupted": {"type": "boolean"}, **body}
    if trajectories:
        props["trajectories"] = {"type": "object"}
    required = ["command", *head, *[k for k in body if k not in optional], "interrupted"]
    return {"type": "object", "required": required, "properties": props}


def schema_option(schema: dict):
    """``--schema``: print the JSON schema of the command's ``--json`` file and exit."""
    def show(ctx, param, value):
        if value and not ctx.resilient_parsing:
            import json

            click.echo(json.dumps(schema, indent=2))
            ctx.exit()

    return click.option("--schema", is_flag=True, expose_value=False, is_eager=True,
                        callback=show,
                        help="Print the JSON schema of the --json file (non-finite numbers "
                             "are the strings \"inf\", \"-inf\", \"nan\") and exit.")


def exit_if_interrupted(interrupted: bool) -> None:
    """After the finished part of an interrupted run is printed and written: exit 130."""
    if interrupted:
        sys.exit(EXIT_INTERRUPTED)


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain fixed-width table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)
