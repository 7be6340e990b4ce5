"""``levydyn nn reproduce`` on a tiny grid (seconds): shapes of the tables, JSON, bad input."""
import json
import math

import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from cli.nn_reproduce import reproduce_cmd  # noqa: E402
from nn_bridge.reproduce import reproduce_grid  # noqa: E402


def test_grid_rows_and_numbers():
    rows = reproduce_grid("wine", widths=(4, 8), depths=(2,), base_width=4, base_depth=2,
                          batch_sizes=(4, 16), n_minibatches=32, epochs=2)
    assert [(r.width, r.depth, r.batch_size) for r in rows] == [(4, 2, 4), (4, 2, 16),
                                                                (8, 2, 4), (8, 2, 16)]
    for r in rows:
        assert 0 < r.pooled_alpha <= 2 and 0 <= r.gaussian_overall <= 1
        assert set(r.alpha_layers) == set(r.gaussian_layers)
        assert all(math.isnan(m) or 0 < m <= 2 for m, _, _ in r.alpha_layers.values())


def test_cli_tables_json_plot(tmp_path):
    js, png = tmp_path / "r.json", tmp_path / "r.png"
    res = CliRunner().invoke(reproduce_cmd, ["--dataset", "wine", "--widths", "4", "--depths",
                                             "2,3", "--base-width", "4", "--batch-sizes", "4,16",
                                             "--minibatches", "32", "--epochs", "2",
                                             "--json", str(js), "--plot", str(png)])
    assert res.exit_code == 0, res.output
    for needle in ("paper 000", "paper 003", "paper 004"):
        assert needle in res.output
    assert len(json.loads(js.read_text())["rows"]) == 4      # (4, 2) and (4, 3) x 2 batches
    assert png.stat().st_size > 1000


def test_cli_bad_input():
    res = CliRunner().invoke(reproduce_cmd, ["--widths", "0"])
    assert res.exit_code == 2 and "widths must be positive integers" in res.output
    res = CliRunner().invoke(reproduce_cmd, ["--dataset", "nope", "--widths", "4", "--depths",
                                             "2", "--base-width", "4"])
    assert res.exit_code == 2 and "Traceback" not in res.output
