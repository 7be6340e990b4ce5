"""nn_bridge.noise.measure, profile and the `levydyn nn` CLI: resume, export, bad input."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from click.testing import CliRunner  # noqa: E402

from cli.nn import nn  # noqa: E402
from nn_bridge.noise.measure import MeasureConfig, run_measurement  # noqa: E402
from nn_bridge.noise.profile import NoiseProfile, load_profile, save_profile  # noqa: E402
from nn_bridge.training.train import TrainConfig  # noqa: E402

TRAIN = TrainConfig(lr=0.05, batch_size=32, max_epochs=40, grad_tol=0.0, checkpoint_every=10)
CFG = MeasureConfig(batch_sizes=(8, 32, 256), n_minibatches=100, n_fit=2, seed=1)


def _measure(workdir, on_part=None):
    return run_measurement("wine", width=16, train_config=TRAIN, config=CFG, device="cpu",
                           workdir=workdir, on_part=on_part)


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    return _measure(tmp_path_factory.mktemp("measure"))


class _Kill(Exception):
    pass


def test_resume_after_interruption_is_identical(tmp_path, measured):
    full = measured
    done = []

    def kill(b):
        done.append(b)
        if b == 32:
            raise _Kill

    with pytest.raises(_Kill):
        _measure(tmp_path / "b", on_part=kill)
    assert done == [8, 32]
    redone = []
    resumed = _measure(tmp_path / "b", on_part=redone.append)
    assert redone == [256]                      # finished parts were not recomputed
    assert json.dumps(resumed.report()) == json.dumps(full.report())
    for b in CFG.batch_sizes:
        for k, v in full.stats[b].arrays().items():
            np.testing.assert_array_equal(resumed.stats[b].arrays()[k], v)
    # a fully finished workdir recomputes nothing
    _measure(tmp_path / "b", on_part=redone.append)
    assert redone == [256]


def test_measurement_report_and_sweep(measured):
    m = measured
    rep = m.report()
    assert [r["batch_size"] for r in rep["results"]] == [8, 32, 256]
    P = sum(int(np.prod(s)) for s in m.profile(8).layer_shapes)
    for b, st in m.stats.items():
        assert st.alpha.shape == (P,) and st.n_minibatches == 100
        a = st.alpha[np.isfinite(st.alpha)]
        assert a.size > 0.5 * P and np.all((a > 0) & (a <= 2))
        assert 0.0 <= st.overall.gaussian_fraction <= 1.0
        assert np.isfinite(st.pooled_alpha) and st.fit is not None and st.fit.n_drawn == 2
    json.dumps(rep, allow_nan=False)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_profile_roundtrip(tmp_path, suffix, measured):
    m = measured
    prof = m.profile(32)
    path = save_profile(prof, tmp_path / f"p{suffix}")
    back = load_profile(path)
    np.testing.assert_array_equal(back.alpha, prof.alpha)
    np.testing.assert_array_equal(back.sigma, prof.sigma)
    assert back.layer_names == prof.layer_names and back.layer_shapes == prof.layer_shapes
    assert (back.lr, back.batch_size, back.dataset) == (0.05, 32, "wine")
    assert back.weights_sha256 == m.weights_sha256 and back.model == m.spec.to_dict()
    eps = back.sde_eps()
    ok = np.isfinite(back.alpha)
    np.testing.assert_allclose(eps[ok], 0.05 ** (1 - 1 / back.alpha[ok]) * back.sigma[ok])
    assert back.layer_index().shape == back.alpha.shape


def test_profile_validation(tmp_path):
    kw = dict(layer_names=["w"], layer_shapes=[[3]], lr=0.05, batch_size=8, dataset="x",
              model={}, weights_sha256="0", n_minibatches=10, sampling="iid",
              estimator="cf_regression")
    with pytest.raises(ValueError, match="alpha"):
        NoiseProfile(alpha=[1.0, 2.5, 1.0], sigma=[1, 1, 1], **kw)
    with pytest.raises(ValueError, match="layer_shapes"):
        NoiseProfile(alpha=[1.0, 1.5], sigma=[1, 1], **kw)
    with pytest.raises(ValueError, match="path="):
        save_profile(NoiseProfile(alpha=[1, 1, 1], sigma=[1, 1, 1], **kw), tmp_path / "p.txt")
    (tmp_path / "bad.json").write_text('{"schema": "other"}')
    with pytest.raises(ValueError, match="schema='other'"):
        load_profile(tmp_path / "bad.json")


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
