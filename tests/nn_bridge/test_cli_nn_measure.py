"""Tests of ``levydyn nn measure`` (cli/).

From the former tests/test_nn_measure.py: nn_bridge.noise.measure, profile and the `levydyn nn` CLI: resume, export, bad input."""
import json
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from click.testing import CliRunner  # noqa: E402
from cli.nn import nn  # noqa: E402
from nn_bridge.noise.profile import load_profile  # noqa: E402


def test_cli_measure(tmp_path):
    r = CliRunner().invoke(nn, [
        "measure", "--dataset", "wine", "--width", "16", "--train-batch-size", "32",
        "--max-epochs", "20", "--batch-size", "8,32", "--minibatches", "100", "--n-fit", "3",
        "--device", "cpu", "--workdir", str(tmp_path / "wd"), "--json", str(tmp_path / "o.json"),
        "--profile", str(tmp_path / "p.npz"), "--plot", str(tmp_path / "a.png")])
    assert r.exit_code == 0, r.output
    assert "pooled alpha" in r.output and "Gauss %" in r.output and "net.fc1.weight" in r.output
    rep = json.loads((tmp_path / "o.json").read_text())
    assert [x["batch_size"] for x in rep["results"]] == [8, 32]
    assert load_profile(tmp_path / "p_b32.npz").batch_size == 32
    assert (tmp_path / "a.png").stat().st_size > 1000


def test_cli_train_then_measure_weights(tmp_path):
    w = tmp_path / "w.pt"
    r = CliRunner().invoke(nn, ["train", "--dataset", "wine", "--width", "8", "--max-epochs", "5",
                                "--train-batch-size", "32", "--device", "cpu", "--out", str(w)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(nn, ["measure", "--dataset", "wine", "--weights", str(w),
                                "--batch-size", "16", "--minibatches", "50", "--n-fit", "0",
                                "--device", "cpu", "--workdir", str(tmp_path / "wd")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(nn, ["measure", "--dataset", "breast_cancer", "--weights", str(w),
                                "--device", "cpu", "--workdir", str(tmp_path / "wd")])
    assert r.exit_code == 2 and "weights=" in r.output


@pytest.mark.parametrize("args, needle", [
    (["--batch-size", "32,0"], "'32,0'"),
    (["--batch-size", "8,8"], "duplicates"),
    (["--dataset", "nosuch"], "dataset='nosuch'"),
    (["--device", "tpu"], "device='tpu'"),
    (["--minibatches", "5"], "--minibatches"),
    (["--lr", "-1"], "--lr"),
    (["--sampling", "epoch", "--batch-size", "500"], "batch_size=500"),
    (["--profile", "x.txt"], "x.txt"),
])
def test_cli_bad_input_one_line(tmp_path, args, needle):
    base = ["measure", "--dataset", "wine", "--max-epochs", "1", "--train-batch-size", "32",
            "--device", "cpu", "--workdir", str(tmp_path)]
    r = CliRunner().invoke(nn, base + args)      # a repeated option: the last value wins
    assert r.exit_code == 2, r.output
    assert needle in r.output
    assert "Traceback" not in r.output
