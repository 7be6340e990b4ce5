"""A griffe extension for the API reference: levydyn's docstrings as mkdocstrings reads them.

It changes only what the site shows, never the docstrings:

* reStructuredText roles (``:class:`~levydyn.problem.Problem```) become inline code of the name
  (the last component after a leading ``~``), which Markdown would otherwise show verbatim;
* many docstrings write a parameter's description on its first line (``n_paths : number of
  paths; ...``) where numpydoc expects a type; such a line is split into the name and an
  indented description, so the description is not shown as a type;
* a ``Returns`` section written as a plain paragraph (no indented description) is shown as a
  paragraph headed "Returns" before the parameters, instead of one return value per line.
"""
from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj|exc|py:\w+):`(~?)([^`]+)`")
HEADER = re.compile(r"^(\s*)(Parameters|Other Parameters|Attributes|Returns|Yields)\n\1-{3,}\n", re.M)
ITEM = re.compile(r"^(\s*)(\*{0,2}[A-Za-z_][\w]*(?:\s*,\s*\*{0,2}[A-Za-z_]\w*)*)\s*:\s+(.+)$")
TYPE_WORDS = re.compile(r"^[\w.\[\], |`'\"()*-]+$")


def _code(match: re.Match) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def _prose(text: str) -> bool:
    """A description, not a type: more than four words or sentence punctuation."""
    return len(text.split()) > 4 or not TYPE_WORDS.match(text) or text.rstrip().endswith(".")


def _sections(text: str):
    """(start, end, indent, name) of each numpydoc section body."""
    heads = list(HEADER.finditer(text))
    for k, h in enumerate(heads):
        end = heads[k + 1].start() if k + 1 < len(heads) else len(text)
        yield h.start(), h.end(), end, h.group(1), h.group(2)


def rewrite(text: str) -> str:
    text = ROLE.sub(_code, text)
    out, last, moved = [], 0, []
    for start, body_start, end, indent, name in _sections(text):
        body = text[body_start:end]
        lines = body.split("\n")
        if name in ("Returns", "Yields"):
            content = [ln for ln in lines if ln.strip()]
            if content and all(not ln.startswith(indent + " ") for ln in content) and (
                    len(content) > 1 or _prose(content[0].strip())):
                moved.append(f"**{name}:** " + " ".join(ln.strip() for ln in content))
                out.append(text[last:start])
                last = end
            continue
        new = []
        for ln in lines:
            m = ITEM.match(ln)
            if m and m.group(1) == indent and _prose(m.group(3)):
                new += [f"{indent}{m.group(2)}", f"{indent}    {m.group(3)}"]
            else:
                new.append(ln)
        out += [text[last:body_start], "\n".join(new)]
        last = end
    out.append(text[last:])
    text = "".join(out)
    if moved:                                  # before the first section (or at the end)
        first = HEADER.search(text)
        at = first.start() if first else len(text)
        text = text[:at].rstrip("\n") + "\n\n" + "\n\n".join(moved) + "\n\n" + text[at:]
    return text


class SphinxRoles(griffe.Extension):
    """Apply :func:`rewrite` to every docstring griffe loads."""

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
