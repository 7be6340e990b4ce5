"""Each tutorial in examples/ runs in quick mode as a plain script and writes its PNG (Agg, no
display); each is a jupytext percent-format notebook whose first cell is the lecture note."""
import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))             # the tutorials import their notebook helpers
DEMOS = ["jumps_vs_climbing", "wide_valley", "which_axis_escapes", "lr_decay_traps",
         "sample_paths", "multiplicative_noise", "rare_escapes"]


def _load(name):
    spec = importlib.util.spec_from_file_location(f"demo_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", DEMOS)
def test_demo_writes_png(name, tmp_path):
    text = (EXAMPLES / f"{name}.py").read_text()
    assert text.startswith("# %% [markdown]\n# # ")                 # a notebook with a title
    note = text.split("\n\n# %%", 1)[0]
    assert len(note) > 600                                          # the lecture note
    mod = _load(name)
    written = mod.main(tmp_path, quick=True)
    assert written and all(p.suffix == ".png" and p.stat().st_size > 10_000 for p in written)


@pytest.mark.parametrize("name", DEMOS)
def test_demo_writes_nothing_into_the_repository_by_default(name):
    """Without --outdir a tutorial writes into a new temporary directory, never docs/figures."""
    text = (EXAMPLES / f"{name}.py").read_text()
    assert "docs/figures" not in text.split("# %%", 2)[2]          # no committed path in the code
    assert 'tempfile.mkdtemp(prefix="levydyn-")' in text
