"""Put the tutorials of ``examples/`` into the site at build time (mkdocs-gen-files).

A tutorial is a jupytext percent-format script in ``examples/`` (it has ``# %% [markdown]``
cells). It stays a plain runnable script there (``python examples/NAME.py``, and
``tests/test_examples.py`` runs it); here it is copied to ``teaching/NAME.py``, where
mkdocs-jupyter executes it as a notebook and shows its output. The navigation lists
``teaching/index.md`` and then the tutorials in the order of ``ORDER`` (others after).
"""
from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[2]
ORDER = ["sample_paths", "jumps_vs_climbing", "wide_valley", "which_axis_escapes",
         "lr_decay_traps", "multiplicative_noise", "rare_escapes"]


def _title(text: str, stem: str) -> str:
    for line in text.splitlines():
        if line.startswith("# # "):
            return line[4:].strip()
    return stem.replace("_", " ")


# The worked network examples train real networks for many minutes (`LEVYDYN_LONG_TESTS`
# runs them in the tests); the site links to them instead of executing them at build time.
LONG = {"own_network_cnn", "own_network_regression"}
tutorials = [p for p in sorted((ROOT / "examples").glob("*.py"))
             if "# %% [markdown]" in p.read_text() and p.stem not in LONG]
tutorials.sort(key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else len(ORDER), p.stem))
lines = ["* [Teaching with levydyn](index.md)\n"]
for path in tutorials:
    text = path.read_text()
    with mkdocs_gen_files.open(f"teaching/{path.name}", "w") as fd:
        fd.write(text)
    mkdocs_gen_files.set_edit_path(f"teaching/{path.name}", Path("..") / "examples" / path.name)
    lines.append(f"* [{_title(text, path.stem)}]({path.name})\n")
with mkdocs_gen_files.open("teaching/SUMMARY.md", "w") as fd:
    fd.writelines(lines)
