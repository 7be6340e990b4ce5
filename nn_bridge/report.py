"""How nn_bridge's results leave the package as text and figures (JSON: ``to_dict`` /
``report`` of each result, written with ``nn_bridge.training.checkpoint.atomic_write_json``).

- :class:`Table` and :func:`fmt`: the text tables the ``levydyn nn`` commands print are
  built in the stages (``nn_bridge.<stage>.tables``) as lists of *blocks*: a ``str`` (one
  line) or a ``Table`` (column heads, rows of strings);
- :func:`figure` / :func:`save_figure`: every figure of the package is a plain
  ``matplotlib.figure.Figure`` (no pyplot state, no backend switch) written atomically by
  :func:`levydyn.output_files.atomic_savefig` (an unknown extension or a full disk leaves
  no partial image).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

from levydyn.output_files import atomic_savefig

__all__ = ["Table", "fmt", "figure", "save_figure"]


class Table(NamedTuple):
    """A table of text: ``head`` (column names) and ``rows`` (lists of cell strings)."""

    head: list
    rows: list


def fmt(x, spec: str = ".3g") -> str:
    """``x`` formatted with ``spec``; ``nan`` for None or NaN, ``inf`` for infinities."""
    return "nan" if x is None or x != x else ("inf" if math.isinf(x) else format(x, spec))


def figure(**subplots):
    """``(fig, axes)``: a new ``Figure`` and ``fig.subplots(**subplots)`` (``figsize`` is
    the figure's)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=subplots.pop("figsize", None))
    return fig, fig.subplots(**subplots)


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Lay out ``fig`` and write it to ``path`` (parents created, format from the suffix)."""
    fig.tight_layout()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return atomic_savefig(fig, p, dpi=dpi)
