"""Tests of ``levydyn nn stability`` (cli/).

From the former tests/test_nn_curvature.py: Per-sample curvature, the minibatch-model profile, the torch rungs and the stability diagram."""
import json
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from click.testing import CliRunner  # noqa: E402
from nn_bridge.curvature.minibatch_model import save_minibatch_model  # noqa: E402
from cli_checks import assert_one_line_error  # noqa: E402


def test_cli_stability_from_profile(tmp_path, softmax_regression, gn_minibatch_model):
    from cli.nn import nn

    flat, X, y, w = softmax_regression(n=40, seed=4)
    mbm = gn_minibatch_model(flat, X, y, w, wd=0.05, lrs=(0.2, 30.0), bs=(4,))
    p = save_minibatch_model(mbm, tmp_path / "m.npz")
    runner = CliRunner()
    res = runner.invoke(nn, ["stability", "--profile", str(p), "--no-tail", "--lyap-paths", "8",
                             "--lyap-steps", "200", "--json", str(tmp_path / "s.json"), "--plot",
                             str(tmp_path / "s.png"), "-q"])
    assert res.exit_code == 0, res.output
    assert "unstable" in res.output and "lambda_1" in res.output
    rep = json.loads((tmp_path / "s.json").read_text())
    assert rep["schema"] == "levydyn.nn_stability/1" and len(rep["cells"]) == 2
    assert (tmp_path / "s.png").stat().st_size > 0
    assert_one_line_error(runner.invoke(nn, ["stability", "--profile", str(p), "--lrs", "0.7"]),
                          "lr=0.7")
    assert_one_line_error(runner.invoke(nn, ["stability", "--profile", str(p), "--batch-sizes",
                                             "8"]), "batch_size=8")
    assert_one_line_error(runner.invoke(nn, ["stability", "--profile",
                                             str(tmp_path / "none.npz")]), "not found")
