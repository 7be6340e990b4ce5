"""Tests of ``levydyn nn reproduce`` (cli/).

From the former tests/test_nn_reproduce.py: ``levydyn nn reproduce`` on a tiny grid (seconds): shapes of the tables, JSON, bad input;
the Berry-Esseen link of paper 003 on laws with known moments; paper 001's iterate
protocol on synthetic iterates with a known tail index."""
import json
import pytest
from click.testing import CliRunner
pytest.importorskip("torch")
pytest.importorskip("sklearn")
from cli.nn_reproduce import reproduce_cmd  # noqa: E402
TINY = ["--widths", "4", "--base-width", "4", "--batch-sizes", "4,16", "--minibatches", "32",
        "--epochs", "2"]
TINY_ITER = ["--iter-etas", "0.05", "--iter-batches", "8,32", "--iter-steps", "120",
             "--iter-keep", "20", "--iter-thin", "2"]


def test_cli_tables_json_plot(tmp_path):
    js, png, png2 = tmp_path / "r.json", tmp_path / "r.png", tmp_path / "i.png"
    res = CliRunner().invoke(reproduce_cmd, ["--dataset", "wine", "--depths", "2,3",
                                             "--cnn-channels", ""] + TINY + TINY_ITER
                             + ["--json", str(js), "--plot", str(png),
                                "--plot-iterates", str(png2)])
    assert res.exit_code == 0, res.output
    for needle in ("paper 000", "paper 001", "paper 003", "paper 004", "beta/sigma^3",
                   "Kolmogorov distance"):
        assert needle in res.output
    d = json.loads(js.read_text())
    assert len(d["rows"]) == 4      # (4, 2) and (4, 3) x 2 batches
    assert len(d["iterates"]) == 2 and d["iterate_config"]["keep"] == 20
    assert 0 < d["shapiro_sensitivity"]["ks_critical"] < 1
    assert png.stat().st_size > 1000 and png2.stat().st_size > 1000


def test_cli_cnn_rows_printed():
    res = CliRunner().invoke(reproduce_cmd, ["--dataset", "digits", "--depths", "2",
                                             "--cnn-channels", "2", "--no-iterates"] + TINY)
    assert res.exit_code == 0, res.output
    assert "CNN 2 channels, depth 3" in res.output
    assert any(line.split()[:3] == ["cnn", "2", "3"] for line in res.output.splitlines())


def test_cli_bad_input():
    res = CliRunner().invoke(reproduce_cmd, ["--widths", "0"])
    assert res.exit_code == 2 and "widths must be positive integers" in res.output
    res = CliRunner().invoke(reproduce_cmd, ["--cnn-channels", "0"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "cnn-channels must be positive integers, got cnn-channels=0" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(reproduce_cmd, ["--dataset", "wine", "--cnn-channels", "8"] + TINY)
    assert res.exit_code == 2 and "has no images" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(reproduce_cmd, ["--iter-keep", "100", "--iter-thin", "5",
                                             "--iter-steps", "200"])
    assert res.exit_code == 2 and "keep=100 x thin=5" in res.output
    res = CliRunner().invoke(reproduce_cmd, ["--dataset", "nope", "--widths", "4", "--depths",
                                             "2", "--base-width", "4"])
    assert res.exit_code == 2 and "Traceback" not in res.output
