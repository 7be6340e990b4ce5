"""Output files (issue 18 item 4): checked before a run, written atomically, no leftovers."""
import json
import math
import os

import numpy as np
import pytest

from levydyn.experiments import sweep as sw
from levydyn.output_files import (IMAGE_SUFFIXES, atomic_savefig, atomic_write_bytes,
                                  atomic_write_text, check_output_path)
from levydyn.results import dump_json, to_jsonable


def test_check_output_path(tmp_path):
    assert check_output_path("json", tmp_path / "a.json") == tmp_path / "a.json"
    with pytest.raises(ValueError, match=r"json must name a file, not a directory"):
        check_output_path("json", tmp_path)
    with pytest.raises(ValueError, match=r"does not exist\), got json="):
        check_output_path("json", tmp_path / "no" / "a.json")
    with pytest.raises(ValueError, match=r"plot must end in one of .*got plot="):
        check_output_path("plot", tmp_path / "a.gifx", IMAGE_SUFFIXES)


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    atomic_write_text(target, "old")

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_atomic_savefig_writes_the_extensions_format(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    fig.add_subplot().plot([0, 1])
    atomic_savefig(fig, tmp_path / "a.png")
    atomic_savefig(fig, tmp_path / "a.svg")
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "a.svg").read_bytes()[:400]
    with pytest.raises(ValueError, match="plot="):
        atomic_savefig(fig, tmp_path / "a.xyz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.svg"]


def test_one_json_convention_for_non_finite_numbers(tmp_path):
    payload = {"a": math.inf, "b": -np.inf, "c": np.float64("nan"), "d": None,
               "e": np.array([1.0, np.inf]), 3: np.int64(2)}
    assert to_jsonable(payload) == {"a": "inf", "b": "-inf", "c": "nan", "d": None,
                                    "e": [1.0, "inf"], "3": 2}
    text = dump_json(payload, tmp_path / "x.json")
    assert "Infinity" not in text and "NaN" not in text
    back = json.loads((tmp_path / "x.json").read_text())
    assert float(back["a"]) == math.inf and math.isnan(float(back["c"]))


def test_nn_bridge_uses_the_same_convention():
    pytest.importorskip("torch")
    from nn_bridge.training.checkpoint import json_safe

    assert json_safe({"x": [np.nan, np.inf, 1.0]}) == {"x": ["nan", "inf", 1.0]}


def test_sweep_removes_stale_temporaries_and_its_lock(tmp_path):
    out = tmp_path / "t.csv"
    stale = [tmp_path / ".t.csv.tmp-99999", tmp_path / ".t.csv.k3j2.tmp"]
    for p in stale:
        p.write_bytes(b"torn")
    table = sw._Table(out, sw.plan({"alpha": 1.5, "eps": 0.5}).columns)
    table.open()
    table.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
