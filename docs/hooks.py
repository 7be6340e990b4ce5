"""MkDocs hooks of the levydyn site.

* Tutorials run in quick mode during the build unless ``LEVYDYN_TUTORIAL_QUICK=0`` is set
  (the executed notebooks inherit the environment), and they import this checkout's code
  and the tutorials' notebook helpers (``examples/_tutorial.py``).
* ``<!-- study-table: KIND FILE [FILE ...] -->`` on a line of its own is replaced by the table that
  ``docs/scripts/study_tables.py`` renders from the committed JSON files under
  ``docs/results/`` (KIND: ``ladder``, ``radius`` or ``split``).
"""
from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!--\s*study-table:\s*(\w+)\s+([^>]+?)\s*-->\s*$", re.M)


def _tables():
    spec = importlib.util.spec_from_file_location("study_tables", ROOT / "docs" / "scripts" / "study_tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def on_config(config, **kwargs):
    os.environ.setdefault("LEVYDYN_TUTORIAL_QUICK", "1")
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    for folder in (ROOT, ROOT / "examples"):         # this checkout; the tutorials' helpers
        if str(folder) not in path:
            path.insert(0, str(folder))
    os.environ["PYTHONPATH"] = os.pathsep.join(path)
    return config


def on_page_markdown(markdown, page, config, files, **kwargs):
    if "study-table:" not in markdown:
        return markdown
    tables = _tables()

    def render(match):
        files_ = [ROOT / "docs" / "results" / name for name in match.group(2).split()]
        return tables.render(match.group(1), files_)

    return MARKER.sub(render, markdown)
