"""Tests of ``nn_bridge.training.lr_decay``.

From the former tests/test_nn_train.py: nn_bridge.data.datasets, models and train: loaders, deterministic init, SGD, checkpoints/resume."""
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.training.train import TrainConfig  # noqa: E402


def test_lr_decay_experiment_and_cli(wine, tmp_path, mlp_spec):
    """Three runs share everything before the milestone (identical tracked noise); after
    it the decay run's step amplitude lr x sigma_i is the decayed lr times its sigma_i,
    the batch run uses 10 x the batch (capped at the training set) at the same lr."""
    from click.testing import CliRunner

    from cli.nn import nn as nn_cli
    from nn_bridge.training.lr_decay import lr_decay_experiment

    cfg = TrainConfig(lr=0.05, batch_size=16, max_epochs=9, track_every=5)
    out = lr_decay_experiment(wine, mlp_spec(wine), cfg, 3, n_windows=2, device="cpu")
    b = [out[r]["before"] for r in ("decay", "batch", "constant")]
    assert b[0] == b[1] == b[2] and b[0]["windows"] == 2
    da, ba = out["decay"]["after"], out["batch"]["after"]
    assert da["lr"] == pytest.approx(0.005) and da["batch_size"] == 16
    assert da["step_amplitude"] == pytest.approx(0.005 * da["sigma"])
    assert ba["lr"] == 0.05 and ba["batch_size"] == min(160, wine.n_train)
    assert ba["windows"] == 1                    # 6 epochs of one full batch of 142
    with pytest.raises(ValueError, match="max_epochs=9"):
        lr_decay_experiment(wine, mlp_spec(wine), cfg, 9)
    r = CliRunner().invoke(nn_cli, ["lr-decay", "--dataset", "wine", "--width", "8",
                                    "--train-batch-size", "16", "--max-epochs", "4",
                                    "--milestone", "2", "--track-every", "5", "--device", "cpu",
                                    "--json", str(tmp_path / "o.json")])
    assert r.exit_code == 0, r.output
    assert "lr x sigma_i" in r.output and (tmp_path / "o.json").exists()
    r = CliRunner().invoke(nn_cli, ["train", "--dataset", "wine", "--width", "8", "--max-epochs",
                                    "3", "--train-batch-size", "16", "--momentum", "0.9",
                                    "--milestones", "2", "--track-every", "5", "--device", "cpu",
                                    "--out", str(tmp_path / "w.pt")])
    assert r.exit_code == 0, r.output
    assert "streamed noise of the SGD minibatches" in r.output
