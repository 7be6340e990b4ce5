"""Generate the API reference from the package tree at build time (mkdocs-gen-files).

One page per public module of ``levydyn`` and ``nn_bridge`` (a module or package whose name
does not start with ``_``), found by walking the source tree, so a module that is added,
moved or split appears in the reference without editing this file. Each package's page
lists its public names (``__all__``) and the module that defines each one.
"""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["levydyn", "nn_bridge"]
nav = mkdocs_gen_files.Nav()


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if any(p.startswith("_") and p != "__init__" for p in parts):
            continue                                   # private modules, __main__
        if parts[-1] == "__init__":
            yield parts[:-1], True
        else:
            yield parts, False


def _public_table(dotted: str) -> str:
    """Markdown list of ``__all__`` with the defining module of each name."""
    try:
        mod = importlib.import_module(dotted)
    except ImportError as err:                         # e.g. torch missing: still build
        return f"*(names not listed: importing `{dotted}` failed: {err})*\n"
    names = getattr(mod, "__all__", None)
    if not names:
        return ""
    rows = ["| name | defined in |", "|---|---|"]
    for name in sorted(names, key=str.lower):
        obj = getattr(mod, name, None)
        if inspect.ismodule(obj):
            target = Path(*obj.__name__.split(".")).as_posix()
            is_pkg = (ROOT / target / "__init__.py").exists()
            link = Path("../" * len(dotted.split("."))) / (f"{target}/index.md" if is_pkg else f"{target}.md")
            rows.append(f"| [`{dotted}.{name}`]({link.as_posix()}) | `{obj.__name__}` (module) |")
            continue
        where = getattr(obj, "__module__", None) or ""
        if where == dotted or not where:
            rows.append(f"| `{dotted}.{name}` | `{dotted}` |")
            continue
        target = Path(*where.split(".")).as_posix()
        here = Path(*dotted.split("."))
        link = Path("../" * len(here.parts)) / f"{target}.md"
        if (ROOT / Path(*where.split(".")) / "__init__.py").exists():
            link = Path("../" * len(here.parts)) / target / "index.md"
        # mkdocstrings renders (and anchors) only members with a docstring
        anchor = f"#{where}.{name}" if (getattr(obj, "__doc__", None) or "").strip() else ""
        rows.append(f"| [`{dotted}.{name}`]({link.as_posix()}{anchor}) | `{where}` |")
    return ("Public names (import them from here: `from " + dotted + " import ...`):\n\n"
            + "\n".join(rows) + "\n")


for package in PACKAGES:
    for parts, is_package in _modules(package):
        dotted = ".".join(parts)
        doc = Path("reference", *parts, "index.md") if is_package else Path("reference", *parts).with_suffix(".md")
        nav[tuple(parts)] = doc.relative_to("reference").as_posix()
        with mkdocs_gen_files.open(doc, "w") as fd:
            if is_package:
                fd.write(f"# `{dotted}`\n\n::: {dotted}\n    options:\n      members: false\n"
                         f"      show_root_heading: false\n\n")
                fd.write(_public_table(dotted))
            else:
                fd.write(f"::: {dotted}\n")
        src = Path(*parts) / "__init__.py" if is_package else Path(*parts).with_suffix(".py")
        mkdocs_gen_files.set_edit_path(doc, Path("..") / src)

with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as fd:
    fd.writelines(nav.build_literate_nav())
