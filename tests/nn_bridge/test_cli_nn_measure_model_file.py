"""Tests of ``levydyn nn measure model file`` (cli/).

From the former tests/test_nn_stream.py: ``--model-file`` and ``--data`` on the command line,
resume from a finished checkpoint, bad input."""
import json
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from click.testing import CliRunner  # noqa: E402
from cli.nn import nn as nn_cli  # noqa: E402
from cli_checks import assert_one_line_error  # noqa: E402
torch.set_num_threads(1)


def test_cli_model_file(tmp_path, write_user_files):
    write_user_files(tmp_path)
    args = ["measure", "--model-file", f"{tmp_path}/net.py:build", "--data",
            str(tmp_path / "d.npz"), "--batch-size", "8", "--minibatches", "40", "--n-fit", "3",
            "--sampled", "10", "--device", "cpu", "--workdir", str(tmp_path / "wd"),
            "--json", str(tmp_path / "o.json"), "--profile", str(tmp_path / "p.npz")]
    r = CliRunner().invoke(nn_cli, args)
    assert r.exit_code == 0, r.output
    assert "beta/sigma^3" in r.output and "streaming vs cf_regression" in r.output
    rep = json.loads((tmp_path / "o.json").read_text())
    assert rep["results"][0]["n_minibatches"] == 40
    assert (tmp_path / "p_b8.npz").exists()
    r2 = CliRunner().invoke(nn_cli, args)           # finished checkpoint: same report
    assert r2.exit_code == 0 and json.loads((tmp_path / "o.json").read_text()) == rep


@pytest.mark.parametrize("args, needle", [
    (["--model-file", "{d}/net.py:nope", "--data", "{d}/d.npz"], "has no function 'nope'"),
    (["--model-file", "{d}/net.py", "--data", "{d}/wide.npz"], "do not fit the model"),
    (["--model-file", "{d}/net.py", "--data", "{d}/none.npz"], "none.npz"),
    (["--model-file", "{d}/net.py"], "--data"),
])
def test_cli_model_file_bad_input(tmp_path, args, needle, write_user_files):
    write_user_files(tmp_path)
    r = CliRunner().invoke(nn_cli, ["measure", "--device", "cpu", "--minibatches", "16",
                                    "--workdir", str(tmp_path / "wd")]
                           + [a.format(d=tmp_path) for a in args])
    assert_one_line_error(r, needle)


def test_cli_non_scalar_loss(tmp_path, write_user_files):
    write_user_files(tmp_path)
    (tmp_path / "vec.py").write_text(
        "import torch\n"
        "def build():\n"
        "    m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))\n"
        "    return m, lambda o, t: torch.nn.functional.cross_entropy(o, t, reduction='none')\n")
    r = CliRunner().invoke(nn_cli, ["measure", "--model-file", f"{tmp_path}/vec.py", "--data",
                                    str(tmp_path / "d.npz"), "--device", "cpu",
                                    "--minibatches", "16", "--workdir", str(tmp_path / "wd")])
    assert_one_line_error(r, "must be a scalar")
