"""Tests of the committed results of ``nn_bridge.escape.study`` (``levydyn nn study --json``).

From the former tests/test_nn_study_results.py: The committed study results (``docs/results/nn_study_<dataset>.json``) keep issue 19's schema.

Each file is what ``levydyn nn study --json`` wrote; these checks pin the contract that
readers of the files rely on (names, units, the default grid at radius 1), not the numbers."""
import itertools
import json
import math
from pathlib import Path
import pytest
RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
DATASETS = ("breast_cancer", "digits", "wine")
RUNGS = ("multiplicative", "nonlinear_frozen", "nonlinear_multiplicative")


def _num(x) -> bool:
    """A number, or one of the JSON convention's strings for non-finite values, or null."""
    return x is None or x in ("inf", "-inf", "nan") or (
        isinstance(x, (int, float)) and not isinstance(x, bool))


def _interval(e: dict) -> None:
    assert {"value", "low", "high"} <= set(e)
    assert all(_num(e[k]) for k in ("value", "low", "high"))
    if all(isinstance(e[k], (int, float)) for k in ("value", "low", "high")):
        assert e["low"] <= e["value"] <= e["high"]


@pytest.fixture(params=DATASETS)
def study(request):
    return request.param, json.loads((RESULTS / f"nn_study_{request.param}.json").read_text())


def test_default_grid_at_radius_one(study):
    """The default grid, and from schema /4 the slow cells after it (none dropped)."""
    name, d = study
    assert d["config"]["radius"] == 1.0
    grid = {(c["batch_size"], c["lr"]) for c in d["cells"] if c.get("kind", "grid") == "grid"}
    assert grid == set(itertools.product((4, 8, 16), (0.2, 0.3, 0.5, 0.8))), name
    if d["schema"] == "levydyn.nn_study/4":
        slow = [(c["batch_size"], c["lr"]) for c in d["cells"] if c["kind"] == "slow"]
        chosen = [(c["batch_size"], c["lr"]) for c in d["slow_selection"]["chosen"]]
        # the chosen cells, in order; a report assembled before every cell ran (wine) may
        # hold only the first of them
        assert slow == chosen[:len(slow)] and len(chosen) == d["config"]["slow_cells"], name


def test_every_cell_has_the_measurement_the_rungs_and_the_stability(study):
    name, d = study
    for c in d["cells"]:
        m = c["measured"]
        assert {"mean", "low", "high", "censored"} <= set(m)
        assert 0.0 <= m["censored"] <= 1.0
        for rung in RUNGS:
            assert rung in c["models"], (name, c["batch_size"], c["lr"], rung)
            assert {"mean", "low", "high"} <= set(c["models"][rung])
        _interval(c["lambda_1"])
        assert isinstance(c["lambda_1"]["value"], float) and math.isfinite(c["lambda_1"]["value"])
        assert c["regime"] in ("stable", "unstable", "marginal")
        new = d["schema"] != "levydyn.nn_study/2"   # from /3: the regime is the reachable one
        lam = c["lambda_1_reachable"] if new else c["lambda_1"]
        if c["regime"] != "marginal":
            assert (c["regime"] == "stable") == (lam["value"] < 0)
        if c["regime"] == "stable" and c.get("alpha_K_reachable" if new else "alpha_K"):
            _interval(c["alpha_K_reachable" if new else "alpha_K"])


def test_schema_version_and_its_fields(study):
    """Committed files are schema /2 (written before issue 28) or /4; /4 says how each mean
    was measured (``measured.method``, ``horizon``), why a mean is not measured, and the
    exponent on the reachable subspace."""
    name, d = study
    assert d["schema"] in ("levydyn.nn_study/2", "levydyn.nn_study/4"), name
    if d["schema"] != "levydyn.nn_study/4":
        return
    for c in d["cells"]:
        m = c["measured"]
        assert m["method"] in ("brute", "splitting", "bound", "imprecise")
        assert m["horizon"] >= d["config"]["max_iter"]
        if m["method"] in ("brute", "splitting"):
            assert m["why_not_measured"] is None
            rel = (m["high"] - m["low"]) / (2 * m["mean"])      # the precision rule
            assert rel <= d["config"]["precision"] + 1e-12, (name, c["batch_size"], c["lr"])
        else:
            assert isinstance(m["why_not_measured"], str) and m["why_not_measured"]
        if m["method"] == "splitting":
            assert m["splitting"]["estimator"] == "gAMS" and m["splitting"]["work"] > 0
        _interval(c["lambda_1_reachable"])
        assert c["regime"] in ("stable", "unstable", "marginal")
    counted = [r for r in d["targets"]["cells"] if r["counted"]]
    assert all(r["method"] in ("brute", "splitting") for r in counted)
