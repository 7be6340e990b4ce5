"""Every code block of README.md and of the site (docs/**/*.md) runs here, or is marked.

Conventions (an HTML comment on the line just before a fence; invisible on the site):

* ```` ```python ```` blocks of one page run in order in one namespace; ```` ```bash ````
  blocks run with ``bash -euo pipefail``; both in a fresh directory per page, where ``docs``,
  ``examples`` and ``benchmarks`` link to the repository's and ``levydyn`` runs this checkout's
  command line. They must succeed.
* ``<!-- output -->`` before a ```` ```text ```` block: it is what the block before it printed
  (stdout and stderr); each of its lines must appear in that output, in order.
* ``<!-- long-running: TIME ... -->``: too long for the suite (the measured time is in the
  comment); only its syntax is checked (``bash -n`` / ``compile``).
* ``<!-- not-run: REASON -->``: installs or sets something (syntax checked only);
  ``<!-- set-up: ... -->``: the README's set-up block, which ``.ci/run`` executes.
* ``<!-- requires: MODULE -->``: skipped when MODULE cannot be imported (e.g. torch, yaml).
* ```` ```text ```` blocks without a mark are shown output or diagrams, not code. A fence with
  no language is an error: every block says what it is.

``python tests/test_docs.py`` prints how many blocks there are and how each is handled.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = {"python", "bash"}
MARK = re.compile(r"^<!--\s*([\w-]+)\s*:?\s*(.*?)\s*-->\s*$")
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    body: str
    mark: str = ""
    note: str = ""


def blocks(page: Path) -> list[Block]:
    out, lines, i = [], page.read_text().splitlines(), 0
    while i < len(lines):
        m = re.match(r"^```(\S*)", lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        mark = MARK.match(lines[i - 1]) if i else None
        i += 1
        body = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        out.append(Block(page, start + 1, lang, "\n".join(body) + "\n",
                         mark.group(1) if mark else "", mark.group(2) if mark else ""))
        i += 1
    return out


def _workdir(tmp: Path) -> dict:
    for name in ("docs", "examples", "benchmarks"):
        (tmp / name).symlink_to(ROOT / name)
    shim = tmp / ".bin"
    shim.mkdir()
    (shim / "levydyn").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m cli.main "$@"\n')
    (shim / "levydyn").chmod(0o755)
    (shim / "python").symlink_to(sys.executable)
    env = dict(os.environ, PATH=f"{shim}{os.pathsep}{os.environ['PATH']}", MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    return env


def _check_syntax(b: Block) -> None:
    if b.lang == "python":
        compile(b.body, f"{b.page.name}:{b.line}", "exec")
    elif b.lang == "bash":
        subprocess.run(["bash", "-n", "-c", b.body], check=True)


def _run_page(page: Path, tmp: Path, monkeypatch) -> None:
    env = _workdir(tmp)
    monkeypatch.chdir(tmp)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__docs__"}
    last_output, where = None, ""
    for b in blocks(page):
        here = f"{page.relative_to(ROOT)}:{b.line}"
        assert b.lang, f"{here}: a fence without a language (python, bash, text, ...)"
        if b.mark == "requires":
            for module in b.note.split():
                if importlib.util.find_spec(module) is None:
                    pytest.skip(f"{here} needs {module}")
        if b.lang in CODE and b.mark in ("long-running", "not-run", "set-up"):
            assert b.mark != "long-running" or re.search(r"\d|not timed", b.note), f"{here}: say how long it takes"
            _check_syntax(b)
            last_output = None
            continue
        if b.lang == "python":
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                exec(compile(b.body, here, "exec"), namespace)
            last_output, where = buf.getvalue(), here
        elif b.lang == "bash":
            r = subprocess.run(["bash", "-euo", "pipefail", "-c", b.body], cwd=tmp, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
            assert r.returncode == 0, f"{here} exited {r.returncode}:\n{r.stdout}"
            last_output, where = r.stdout, here
        elif b.mark == "output":
            assert last_output is not None, f"{here}: an output block after no executed block"
            printed = [line.rstrip() for line in last_output.splitlines()]
            k = 0
            for want in (line.rstrip() for line in b.body.splitlines() if line.strip()):
                while k < len(printed) and printed[k] != want:
                    k += 1
                assert k < len(printed), (f"{here}: the block at {where} did not print\n  {want!r}\n"
                                          f"it printed:\n{last_output}")
                k += 1


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_code_blocks_run(page, tmp_path, monkeypatch):
    if not any(b.lang in CODE or b.mark == "output" for b in blocks(page)):
        pytest.skip("no code on this page")
    _run_page(page, tmp_path, monkeypatch)


def counts() -> dict:
    c = {"executed": 0, "long-running": 0, "not-run": 0, "set-up": 0, "output checked": 0,
         "shown output / diagram": 0}
    for page in PAGES:
        for b in blocks(page):
            if b.lang in CODE:
                c[b.mark if b.mark in ("long-running", "not-run", "set-up") else "executed"] += 1
            elif b.mark == "output":
                c["output checked"] += 1
            else:
                c["shown output / diagram"] += 1
    return c


if __name__ == "__main__":
    for k, v in counts().items():
        print(f"{k:24s} {v}")
