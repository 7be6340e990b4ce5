"""Tests of ``nn_bridge.data.network``: one network (model, loss, data) for every stage.

- the built-in MLP given as a model file trains to the same weights and the same minimum,
  per-sample gradients and Gauss-Newton factors as the built-in spec (bit for bit: same
  initial weights, same SGD loop);
- Gauss-Newton factors of the mse loss against a hand computation (``(2/C) J^T J`` from
  ``torch.autograd.functional.jacobian``) and, for a linear model where Gauss-Newton is
  exact, against the exact Hessian;
- bad input (model file, data, loss, layers that break per-sample gradients, weights of
  another network): each a one-line error before any training.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from click.testing import CliRunner  # noqa: E402

from cli.nn import nn as nn_cli  # noqa: E402
from nn_bridge.curvature.per_sample import exact_hessian, gn_mean, per_sample_gn_factors  # noqa: E402
from nn_bridge.data.datasets import dataset_from_arrays, load_dataset  # noqa: E402
from nn_bridge.data.models import ModelSpec  # noqa: E402
from nn_bridge.data.network import Network  # noqa: E402
from nn_bridge.escape.basin import basin_at  # noqa: E402
from nn_bridge.escape.experiment import find_minimum  # noqa: E402
from nn_bridge.training.train import TrainConfig, load_weights, save_weights, train, train_network  # noqa: E402
from cli_checks import assert_one_line_error  # noqa: E402

torch.set_num_threads(1)

MLP_FILE = ("from nn_bridge.data.models import ModelSpec, build_model\n"
            "def build():\n"
            "    return build_model(ModelSpec(in_features=13, n_classes=3, width=6, seed=0))\n")


def test_builtin_mlp_as_model_file_gives_the_same_numbers(tmp_path):
    (tmp_path / "mlp.py").write_text(MLP_FILE)
    data = load_dataset("wine")
    spec = ModelSpec.for_dataset(data, "mlp", 6, 3, 0)
    cfg = TrainConfig(lr=0.1, batch_size=16, max_epochs=4, grad_tol=0.0)
    a = train(data, spec, cfg, device="cpu")
    net = Network.from_file(f"{tmp_path}/mlp.py:build", data)
    b = train_network(net, cfg)
    for (ka, pa), (kb, pb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert ka == kb and torch.equal(pa, pb)
    assert a.history == b.history
    ma, mb = find_minimum(a.model, data, 1e-2), find_minimum(b.model, data, 1e-2,
                                                            loss_fn=net.loss_fn)
    np.testing.assert_array_equal(ma.w, mb.w)
    assert ma.objective == mb.objective
    fa, Xa, ya, Ga = basin_at(spec, data, ma.w)
    fb, Xb, yb, Gb = basin_at(net, data, mb.w)
    assert torch.equal(Ga, Gb)
    np.testing.assert_array_equal(per_sample_gn_factors(fa, Xa, ma.w),
                                  per_sample_gn_factors(fb, Xb, mb.w, y=yb))


def test_mse_gauss_newton_factors_by_hand():
    """F_n F_n^T = (2/C) J_n^T J_n for mse over C outputs (Lambda_n = (2/C) I)."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(12, 3, generator=g)
    Y = torch.randn(12, 2, generator=g)
    torch.manual_seed(0)
    net = Network.from_module(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                                  torch.nn.Linear(4, 2)), (X, Y), "mse")
    fm = net.flat()
    w = fm.flat()
    Xd, Yd = net.tensors(torch.float64)
    F = per_sample_gn_factors(fm, Xd, w, y=Yd.double())
    assert F.shape == (12, fm.n_params, 2)
    n = 5
    J = torch.autograd.functional.jacobian(lambda ww: fm.logits(ww, Xd[n:n + 1])[0], w)
    np.testing.assert_allclose(F[n] @ F[n].T, (J.T @ J).numpy(), rtol=1e-10, atol=1e-12)


def test_mse_linear_model_gauss_newton_is_the_hessian():
    """For a linear model and mse the Hessian is exactly J^T Lambda J: the mean factor
    product equals the dense Hessian from Hessian-vector products."""
    g = torch.Generator().manual_seed(2)
    X = torch.randn(30, 4, generator=g)
    y = torch.randn(30, generator=g)
    net = Network.from_module(torch.nn.Linear(4, 1), (X, y), "mse")
    assert net.data.y_train.shape == (30, 1)        # 1-D targets fitted to the (n, 1) output
    fm = net.flat()
    Xd, Yd = net.tensors(torch.float64)
    F = per_sample_gn_factors(fm, Xd, fm.flat(), y=Yd.double())
    H = exact_hessian(fm, Xd, Yd.double(), fm.flat())
    np.testing.assert_allclose(gn_mean(F), H, rtol=1e-10, atol=1e-12)
    # and by hand: (2/N) sum_n [x_n, 1][x_n, 1]^T
    A = torch.cat([Xd, torch.ones(30, 1, dtype=torch.float64)], 1)
    np.testing.assert_allclose(H, (2 * A.T @ A / 30).numpy(), rtol=1e-10, atol=1e-12)


def test_python_data_forms_and_weights_identity(tmp_path):
    d = load_dataset("wine", test_fraction=0.0)
    X, y = torch.as_tensor(d.X_train), torch.as_tensor(d.y_train)
    ds = torch.utils.data.TensorDataset(X, y)
    a = dataset_from_arrays(ds, None, standardize=False)
    b = dataset_from_arrays(X, y, standardize=False)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert a.task == "classification" and a.n_classes == 3
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(13, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    net = Network.from_module(m, ds)
    res = train_network(net, TrainConfig(batch_size=32, max_epochs=2, grad_tol=0.0))
    save_weights(res, tmp_path / "w.pt", net.data)
    model, _ = load_weights(tmp_path / "w.pt", network=net)
    assert torch.equal(model[0].weight, res.model[0].weight)
    torch.manual_seed(1)                             # other initial weights: another network
    other = Network.from_module(torch.nn.Sequential(torch.nn.Linear(13, 5), torch.nn.ReLU(),
                                                    torch.nn.Linear(5, 3)), ds)
    with pytest.raises(ValueError, match="trained for module Sequential"):
        load_weights(tmp_path / "w.pt", network=other)


def _files(tmp_path):
    (tmp_path / "mlp.py").write_text(MLP_FILE)
    (tmp_path / "bad.py").write_text(
        "import torch\n"
        "def nothing():\n    return 3\n"
        "def narrow():\n    return torch.nn.Linear(13, 2)\n"
        "def vector_loss():\n"
        "    return torch.nn.Linear(13, 3), lambda o, t: torch.nn.functional.cross_entropy("
        "o, t, reduction='none')\n"
        "def summed_loss():\n"
        "    return torch.nn.Linear(13, 3), lambda o, t: torch.nn.functional.cross_entropy("
        "o, t, reduction='sum')\n"
        "def batchnorm():\n"
        "    return torch.nn.Sequential(torch.nn.Linear(13, 3), torch.nn.BatchNorm1d(3))\n"
        "def batchnorm_eval():\n"
        "    return torch.nn.Sequential(torch.nn.Linear(13, 3), torch.nn.BatchNorm1d(3)).eval()\n"
        "def dropout():\n"
        "    return torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(13, 3))\n")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 13))
    y = rng.integers(0, 3, 60)
    np.savez(tmp_path / "ok.npz", X=X, y=y)
    Xn = X.copy()
    Xn[3, 2] = np.nan
    np.savez(tmp_path / "nan.npz", X=Xn, y=y)
    np.savez(tmp_path / "short.npz", X=X, y=y[:50])
    np.savez(tmp_path / "one.npz", X=X, y=np.zeros(60, dtype=int))
    np.savez(tmp_path / "real.npz", X=X, y=rng.standard_normal(60))


@pytest.mark.parametrize("model, data, extra, needle", [
    ("mlp.py:nope", "ok.npz", [], "has no function 'nope'"),
    ("bad.py:nothing", "ok.npz", [], "expected a torch.nn.Module"),
    ("bad.py:narrow", "ok.npz", [], "output shape (4, 2) does not fit the targets"),
    ("mlp.py", "nan.npz", [], "NaN"),
    ("mlp.py", "short.npz", [], "lengths must match"),
    ("mlp.py", "one.npz", [], "at least 2 classes"),
    ("bad.py:vector_loss", "ok.npz", [], "must be a scalar"),
    ("bad.py:summed_loss", "ok.npz", [], "must be the mean over the minibatch"),
    ("bad.py:batchnorm", "ok.npz", [], "is in train mode"),
    ("bad.py:dropout", "ok.npz", [], "is active"),
    ("mlp.py", "real.npz", [], "class labels y must be integers"),
    ("mlp.py", "ok.npz", ["--loss", "mse"], "does not fit the targets"),
    ("mlp.py", None, [], "--model-file and --data go together"),
])
def test_bad_network_is_one_line_error_before_training(tmp_path, model, data, extra, needle):
    _files(tmp_path)
    args = ["train", "--model-file", f"{tmp_path}/{model}", "--device", "cpu",
            "--max-epochs", "1", "--out", str(tmp_path / "w.pt")] + extra
    if data is not None:
        args += ["--data", str(tmp_path / data)]
    r = CliRunner().invoke(nn_cli, args)
    assert_one_line_error(r, needle)
    assert not (tmp_path / "w.pt").exists()          # refused before any training


def test_eval_mode_batchnorm_is_accepted(tmp_path):
    _files(tmp_path)
    r = CliRunner().invoke(nn_cli, ["train", "--model-file", f"{tmp_path}/bad.py:batchnorm_eval",
                                    "--data", str(tmp_path / "ok.npz"), "--device", "cpu",
                                    "--max-epochs", "1", "--train-batch-size", "8",
                                    "--out", str(tmp_path / "w.pt")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "w.pt").exists()


def test_weights_of_another_network_are_refused(tmp_path):
    _files(tmp_path)
    out = tmp_path / "w.pt"
    r = CliRunner().invoke(nn_cli, ["train", "--model-file", f"{tmp_path}/mlp.py", "--data",
                                    str(tmp_path / "ok.npz"), "--device", "cpu", "--max-epochs",
                                    "1", "--train-batch-size", "8", "--out", str(out)])
    assert r.exit_code == 0, r.output
    (tmp_path / "mlp2.py").write_text(MLP_FILE.replace("width=6", "width=7"))
    r = CliRunner().invoke(nn_cli, ["measure", "--model-file", f"{tmp_path}/mlp2.py", "--data",
                                    str(tmp_path / "ok.npz"), "--weights", str(out), "--device",
                                    "cpu", "--minibatches", "16", "--batch-size", "8",
                                    "--workdir", str(tmp_path / "wd")])
    assert_one_line_error(r, "trained for model file mlp.py:build")
