"""Tests of ``nn_bridge.training.train``.

From the former tests/test_nn_train.py: nn_bridge.data.datasets, models and train: loaders, deterministic init, SGD, checkpoints/resume."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.data.models import build_model, weights_checksum  # noqa: E402
from nn_bridge.training.train import TrainConfig, load_weights, save_weights, train  # noqa: E402


@pytest.mark.parametrize("kw, match", [
    (dict(lr=0.0), "lr=0.0"), (dict(batch_size=0), "batch_size=0"),
    (dict(grad_tol=-1.0), "grad_tol=-1.0"), (dict(max_epochs=2.5), "max_epochs=2.5"),
])
def test_bad_train_config(kw, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kw)


def test_training_converges_on_wine(wine, mlp_spec):
    res = train(wine, mlp_spec(wine), TrainConfig(lr=0.05, batch_size=32, grad_tol=2e-2,
                                               max_epochs=2000), device="cpu")
    assert res.converged and res.reason.startswith("grad_norm")
    assert res.final["grad_norm"] <= 2e-2 and res.final["train_acc"] == 1.0
    assert res.sde_time == pytest.approx(res.iterations * 0.05)


class _Kill(Exception):
    pass


def _kill_at_epoch(epoch, data, spec, cfg, checkpoint):
    """Train with ``checkpoint`` and kill the run when it reports ``epoch``."""
    def kill(rec):
        if rec["epoch"] == epoch:
            raise _Kill

    with pytest.raises(_Kill):
        train(data, spec, cfg, device="cpu", checkpoint=checkpoint, callback=kill)


def test_resume_after_interruption_is_identical(wine, tmp_path, mlp_spec):
    cfg = TrainConfig(lr=0.05, batch_size=32, grad_tol=0.0, max_epochs=30, checkpoint_every=5)
    full = train(wine, mlp_spec(wine), cfg, device="cpu")

    ck = tmp_path / "ck.pt"
    _kill_at_epoch(13, wine, mlp_spec(wine), cfg, ck)
    assert ck.exists() and not list(tmp_path.glob(".ck.pt.*"))   # atomic: no temp left over
    epochs_run = []
    resumed = train(wine, mlp_spec(wine), cfg, device="cpu", checkpoint=ck,
                    callback=lambda r: epochs_run.append(r["epoch"]))
    assert epochs_run[0] == 11                    # resumed from the epoch-10 checkpoint
    assert resumed.weights_sha256 == full.weights_sha256
    assert resumed.history == full.history and resumed.iterations == full.iterations
    # a finished checkpoint returns at once with the same result
    again = train(wine, mlp_spec(wine), cfg, device="cpu", checkpoint=ck)
    assert again.weights_sha256 == full.weights_sha256
    # a different configuration refuses the checkpoint
    with pytest.raises(ValueError, match="checkpoint="):
        train(wine, mlp_spec(wine), TrainConfig(lr=0.01, max_epochs=3, batch_size=32),
              device="cpu", checkpoint=ck)


def test_weights_roundtrip(wine, tmp_path, mlp_spec):
    res = train(wine, mlp_spec(wine), TrainConfig(batch_size=32, max_epochs=3), device="cpu")
    save_weights(res, tmp_path / "w.pt", wine)
    model, meta = load_weights(tmp_path / "w.pt")
    assert weights_checksum(model) == res.weights_sha256
    assert meta["config"]["lr"] == 0.05 and meta["spec"] == res.spec
    with pytest.raises(ValueError, match="weights="):
        load_weights(tmp_path / "nope.pt")


def test_bad_device_and_batch(wine, mlp_spec):
    with pytest.raises(ValueError, match="device='tpu'"):
        train(wine, mlp_spec(wine), TrainConfig(max_epochs=1), device="tpu")
    with pytest.raises(ValueError, match="batch_size=1000"):
        train(wine, mlp_spec(wine), TrainConfig(batch_size=1000, max_epochs=1), device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            train(wine, mlp_spec(wine), TrainConfig(max_epochs=1), device="cuda")


@pytest.mark.parametrize("kw, match", [
    (dict(momentum=1.0), "momentum=1.0"), (dict(weight_decay=-1e-4), "weight_decay=-0.0001"),
    (dict(milestones=(5, 3)), r"milestones=\[5, 3\]"), (dict(decay=1.5), "decay=1.5"),
    (dict(decay_mode="cosine"), "decay_mode='cosine'"), (dict(track_every=2), "track_every=2"),
])
def test_bad_train_config_schedule(kw, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kw)


def test_momentum_weight_decay_and_lr_steps_match_torch_sgd(wine, mlp_spec):
    """Our loop vs torch.optim.SGD + MultiStepLR on the same reshuffled minibatches."""
    cfg = TrainConfig(lr=0.05, batch_size=32, max_epochs=6, grad_tol=0.0, momentum=0.9,
                      weight_decay=1e-3, milestones=(2, 4), decay=0.5)
    res = train(wine, mlp_spec(wine), cfg, device="cpu")
    model = build_model(mlp_spec(wine))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
    gen = torch.Generator().manual_seed(0)
    X, y = torch.as_tensor(wine.X_train), torch.as_tensor(wine.y_train)
    its = 0
    for _ in range(6):
        perm = torch.randperm(wine.n_train, generator=gen)
        for s in range(0, wine.n_train, 32):
            b = perm[s:s + 32]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X[b]), y[b]).backward()
            opt.step()
            its += 1
        sched.step()
    for p, q in zip(res.model.parameters(), model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    per_epoch = -(-wine.n_train // 32)
    assert res.iterations == its
    assert res.sde_time == pytest.approx(per_epoch * 0.05 * (2 + 2 * 0.5 + 2 * 0.25))
    assert cfg.schedule(3) == (0.025, 32)
    assert TrainConfig(batch_size=16, milestones=(2,), decay_mode="batch").schedule(2) == (0.05, 160)


def test_batch_increase_and_streamed_alpha_tracking(wine, tmp_path, mlp_spec):
    """decay_mode='batch': after the milestone the batch is 10 x larger, the lr unchanged;
    tracking records alpha_i/sigma_i medians every K full minibatches (windows restart at
    the milestone), and a killed run with momentum resumes bit-identically."""
    cfg = TrainConfig(lr=0.05, batch_size=8, max_epochs=8, grad_tol=0.0, momentum=0.5,
                      milestones=(4,), decay_mode="batch", track_every=10, checkpoint_every=2)
    res = train(wine, mlp_spec(wine), cfg, device="cpu")
    n = wine.n_train
    assert res.iterations == 4 * -(-n // 8) + 4 * -(-n // 80)
    tr = res.tracking
    assert tr and {r["batch_size"] for r in tr} <= {8, 80}
    assert len([r for r in tr if r["batch_size"] == 8]) == (4 * (n // 8)) // 10
    for r in tr:
        assert set(r["alpha_median"]) == {"net.fc1.weight", "net.fc1.bias", "net.fc2.weight",
                                          "net.fc2.bias", "net.fc3.weight", "net.fc3.bias"}
        assert 0 < r["alpha_all_median"] <= 2 and r["sigma_all_median"] > 0

    ck = tmp_path / "ck.pt"
    _kill_at_epoch(3, wine, mlp_spec(wine), cfg, ck)
    resumed = train(wine, mlp_spec(wine), cfg, device="cpu", checkpoint=ck)
    assert resumed.weights_sha256 == res.weights_sha256 and resumed.history == res.history
