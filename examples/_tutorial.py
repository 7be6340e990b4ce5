"""Notebook plumbing shared by the tutorials in this folder (not a tutorial itself).

Each tutorial is a jupytext percent-format script: run as ``python examples/NAME.py`` it
parses ``--quick`` and ``--outdir`` and writes its figure; opened in Jupyter it shows the
figure and, in a live notebook, sliders. These helpers keep that switch in one place.
"""
from __future__ import annotations

import argparse
import io
import os

# quick mode: fewer paths; the documentation build sets LEVYDYN_TUTORIAL_QUICK=1
QUICK = os.environ.get("LEVYDYN_TUTORIAL_QUICK", "0") == "1"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (the plain script and the tests skip the notebook cells)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def show(fig) -> None:
    """Display a matplotlib Figure in the notebook (as a PNG)."""
    from IPython.display import Image, display
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    display(Image(data=buf.getvalue()))


def show_files(paths) -> None:
    """Display the PNG files a tutorial's ``main`` wrote."""
    from IPython.display import Image, display
    for path in paths:
        display(Image(filename=str(path)))


def interactive(explore, **sliders) -> None:
    """Sliders over ``explore``'s arguments in a live notebook (ipywidgets ``interact``); one
    call with the defaults on a static page (the documentation build); nothing in a script."""
    if not in_notebook():
        return
    if QUICK:
        explore()
        return
    from ipywidgets import interact
    interact(explore, **sliders)


def run_script(main, description: str, **int_options) -> None:
    """The command line of a tutorial: ``--quick``, ``--outdir DIR`` and integer options."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help="fewer paths (for tests)")
    ap.add_argument("--outdir", default=None,
                    help="where to write the figure (default: a new temporary directory)")
    for name, default in int_options.items():
        ap.add_argument(f"--{name}", type=int, default=default)
    args = ap.parse_args()
    extra = {name: getattr(args, name) for name in int_options}
    for path in main(args.outdir, args.quick, **extra):
        print(f"wrote {path}")


def save_figure(fig, outdir, name: str, dpi: int = 120) -> list:
    """Lay out ``fig`` and write it to ``outdir / name``; the one-element list of written
    paths that a tutorial's ``main`` returns."""
    fig.tight_layout()
    path = outdir / name
    fig.savefig(path, dpi=dpi)
    return [path]
