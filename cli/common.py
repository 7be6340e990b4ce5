"""Shared pieces of the command line: list parameter types, one-line errors, progress."""
from __future__ import annotations

import contextlib
import json

import click


class CliError(click.ClickException):
    """A usage error printed as one line (``Error: ...``) with exit status 2."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"Error: {self.format_message()}", err=True)


class FloatList(click.ParamType):
    """Comma-separated numbers, e.g. ``1,2`` or ``0.5,0.2,0.1``."""

    name = "LIST"

    def convert(self, value, param, ctx):
        if isinstance(value, (list, tuple)):
            return [float(v) for v in value]
        try:
            out = [float(v) for v in str(value).split(",") if v.strip()]
        except ValueError:
            self.fail(f"expected comma-separated numbers, got {value!r}", param, ctx)
        if not out:
            self.fail(f"expected at least one number, got {value!r}", param, ctx)
        return out


FLOATS = FloatList()


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
    with open(path, "w") as fh:
        json.dump(payload, fh, indent=2)
    click.echo(f"wrote {path}", err=True)


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain fixed-width table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)
