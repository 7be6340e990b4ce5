"""Tests of ``nn_bridge.data.datasets``.

From the former tests/test_nn_train.py: nn_bridge.data.datasets, models and train: loaders, deterministic init, SGD, checkpoints/resume."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.data.datasets import load_dataset  # noqa: E402


def test_builtin_datasets_standardised_and_split():
    for name, nf, nc in (("breast_cancer", 30, 2), ("wine", 13, 3), ("digits", 64, 10)):
        d = load_dataset(name, test_fraction=0.25, seed=1)
        assert d.n_features == nf and d.n_classes == nc
        assert d.X_train.dtype == np.float32
        np.testing.assert_allclose(d.X_train.mean(0), 0, atol=1e-5)
        assert d.X_test.shape[0] == pytest.approx(0.25 * (d.n_train + d.X_test.shape[0]), abs=1)
    assert load_dataset("digits").image_shape == (1, 8, 8)
    assert load_dataset("wine", seed=3).checksum == load_dataset("wine", seed=3).checksum
    assert load_dataset("wine", seed=3).checksum != load_dataset("wine", seed=4).checksum


def test_user_npz_and_csv(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int) * 5      # labels 0/5 are remapped to 0/1
    np.savez(tmp_path / "d.npz", X=X, y=y)
    d = load_dataset(str(tmp_path / "d.npz"))
    assert d.n_classes == 2 and set(np.unique(d.y_train)) == {0, 1} and d.n_features == 4
    with open(tmp_path / "d.csv", "w") as fh:
        fh.write("a,b,c,d,label\n")
        for row, lab in zip(X, y):
            fh.write(",".join(f"{v:.6f}" for v in row) + f",{lab}\n")
    c = load_dataset(str(tmp_path / "d.csv"), test_fraction=0)
    assert c.n_train == 60 and c.X_test.shape[0] == 0


@pytest.mark.parametrize("name, kw, match", [
    ("mnist_full", {}, "dataset='mnist_full'"),
    ("missing.npz", {}, "file not found"),
    ("wine", {"test_fraction": 0.95}, "test_fraction=0.95"),
    ("wine", {"seed": -1}, "seed=-1"),
])
def test_bad_dataset(name, kw, match):
    with pytest.raises(ValueError, match=match):
        load_dataset(name, **kw)
