"""Each teaching demo in examples/ runs in quick mode and writes its PNG (Agg, no display)."""
import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMOS = ["jumps_vs_climbing", "wide_valley", "which_axis_escapes", "lr_decay_traps",
         "sample_paths", "multiplicative_noise", "rare_escapes"]


def _load(name):
    spec = importlib.util.spec_from_file_location(f"demo_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", DEMOS)
def test_demo_writes_png(name, tmp_path):
    mod = _load(name)
    assert len(mod.__doc__.split("\n\n")[1]) > 400      # the lecture-note paragraph
    written = mod.main(tmp_path, quick=True)
    assert written and all(p.suffix == ".png" and p.stat().st_size > 10_000 for p in written)
