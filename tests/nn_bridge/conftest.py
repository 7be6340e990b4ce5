"""Shared toy models and measurements of the nn_bridge tests.

- ``softmax_regression`` / ``gn_minibatch_model``: a softmax regression (logits linear in
  ``w``, so the per-sample Hessian of the cross-entropy is exactly Gauss-Newton) and its
  minibatch-model profile (centred per-sample gradients, Gauss-Newton factors, exact remainder);
- ``top_curvature``: a random SPD matrix ``H = A A^T / P + 0.1 I`` and its exact top-k
  ``Curvature``; ``noise_profile``: a ``NoiseProfile`` with given alpha / sigma per parameter;
- ``measured``: one ``run_measurement`` on wine (width 16, B = 8, 32, 256), computed once per
  session in a temporary workdir; ``measure_wine`` runs the same measurement in another workdir;
- ``breast_cancer_mlp`` (seed 1, initial weights), ``breast_cancer_mlp_at_minimum`` and
  ``wine_mlp_at_minimum`` (seed 3, at ``find_minimum``'s weights): a width-4, depth-3 float64
  MLP on a built-in data set, built once per module;
- ``wine`` / ``mlp_spec``: the wine split (seed 0) and the width-16 MLP spec on it;
- ``write_user_files``: a user model file and ``.npz`` data sets for ``--model-file``.

torch and scikit-learn are imported inside the fixtures: the test modules skip themselves
(``pytest.importorskip``) where they are missing."""
import numpy as np
import pytest

SHA = "0" * 64
"""The weights checksum the toy minibatch models carry."""


def _softmax_regression(n=40, d=3, C=3, seed=0):
    """Logits linear in w: the per-sample Hessian of CE is exactly Gauss-Newton."""
    import torch
    from nn_bridge.data.flat import FlatModel

    rng = np.random.default_rng(seed)
    X = torch.as_tensor(rng.standard_normal((n, d)))
    y = torch.as_tensor(rng.integers(0, C, n))
    model = torch.nn.Linear(d, C).double()
    flat = FlatModel(model)
    w = torch.as_tensor(rng.standard_normal(flat.n_params) * 0.3)
    return flat, X, y, w.numpy()


def _gn_minibatch_model(flat, X, y, w, wd=0.01, lrs=(0.5, 1.0), bs=(2, 4)):
    """MinibatchModel of ``flat`` at ``w``: G centred per-sample gradients, F the Gauss-Newton
    factors, R = exact Hessian - mean GN (zero for a softmax regression)."""
    import torch
    from nn_bridge.curvature.minibatch_model import MinibatchModel
    from nn_bridge.curvature.per_sample import exact_hessian, gn_mean, per_sample_gn_factors
    from nn_bridge.noise.per_sample import per_sample_gradients

    G = per_sample_gradients(flat.model, X, y).to(torch.float64)
    G = (G - G.mean(0)).numpy()
    F = per_sample_gn_factors(flat, X, w)
    R = exact_hessian(flat, X, y, w, 0.0) - gn_mean(F)
    return MinibatchModel(G, F, R, w, wd, lrs, bs, SHA, dataset="toy",
                          layer_names=flat.layout.names, layer_shapes=flat.layout.shapes)


def _top_curvature(P=6, k=2, seed=0):
    """(H, Curvature of H's top k eigenpairs), H = A A^T / P + 0.1 I with A standard normal."""
    from nn_bridge.curvature.per_sample import Curvature

    rng = np.random.default_rng(seed)
    A = rng.standard_normal((P, P))
    H = A @ A.T / P + 0.1 * np.eye(P)
    ev, V = np.linalg.eigh(H)
    top = np.argsort(ev)[::-1][:k]
    return H, Curvature(eigvals=ev[top], eigvecs=V[:, top], diag=np.diag(H).copy(),
                        trace=float(np.trace(H)), method="exact", weight_decay=0.0)


def _noise_profile(alpha, sigma, names=("net.fc1.weight", "net.fc1.bias"),
                   shapes=((2, 2), (2,)), std=None):
    from nn_bridge.noise.profile import NoiseProfile

    extra = {} if std is None else {"noise_std": list(std)}
    return NoiseProfile(alpha=np.asarray(alpha, float), sigma=np.asarray(sigma, float),
                        layer_names=names, layer_shapes=shapes, lr=0.05, batch_size=8,
                        dataset="x", model={}, weights_sha256="", n_minibatches=100,
                        sampling="iid", estimator="cf_regression", extra=extra)


MEASURE_BATCH_SIZES = (8, 32, 256)


def _measure_wine(workdir, on_part=None):
    """The wine measurement of the noise tests (40 epochs of training, 100 minibatches)."""
    from nn_bridge.noise.measure import MeasureConfig, run_measurement
    from nn_bridge.training.train import TrainConfig

    train = TrainConfig(lr=0.05, batch_size=32, max_epochs=40, grad_tol=0.0, checkpoint_every=10)
    cfg = MeasureConfig(batch_sizes=MEASURE_BATCH_SIZES, n_minibatches=100, n_fit=2, seed=1)
    return run_measurement("wine", width=16, train_config=train, config=cfg, device="cpu",
                           workdir=workdir, on_part=on_part)


def _small_mlp(dataset, seed, at_minimum):
    """Width-4, depth-3 MLP (float64) on ``dataset``'s training split: ``(flat, X, y)`` at its
    seeded initial weights, or ``(flat, X, y, minimum)`` at ``find_minimum``'s weights
    (weight decay 1e-2, at most 300 evaluations)."""
    import torch
    from nn_bridge.data.datasets import load_dataset
    from nn_bridge.data.flat import FlatModel
    from nn_bridge.data.models import ModelSpec, build_model
    from nn_bridge.escape.experiment import find_minimum

    data = load_dataset(dataset)
    spec = ModelSpec("mlp", data.n_features, data.n_classes, width=4, depth=3, seed=seed)
    mn = find_minimum(build_model(spec), data, weight_decay=1e-2, max_evals=300) \
        if at_minimum else None
    flat = FlatModel(build_model(spec).double())
    X = torch.as_tensor(data.X_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    if mn is None:
        return flat, X, y
    flat.load(mn.w)
    return flat, X, y, mn


def _mlp_spec(d, **kw):
    from nn_bridge.data.models import ModelSpec

    return ModelSpec("mlp", d.n_features, d.n_classes, **{"width": 16, "seed": 0, **kw})


def _write_user_files(tmp_path):
    (tmp_path / "net.py").write_text(
        "import torch\n"
        "def build():\n"
        "    torch.manual_seed(0)\n"
        "    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8),\n"
        "                               torch.nn.ReLU(), torch.nn.Linear(8, 3))\n"
        "def build_mse():\n"
        "    return build(), lambda out, t: ((out.sum(1) - t) ** 2).mean()\n")
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", X=rng.standard_normal((200, 3, 4)).astype("f4"),
             y=rng.integers(0, 3, 200))
    np.savez(tmp_path / "r.npz", X=rng.standard_normal((200, 3, 4)), y=rng.standard_normal(200))
    np.savez(tmp_path / "wide.npz", X=rng.standard_normal((200, 5)), y=rng.integers(0, 3, 200))


@pytest.fixture
def softmax_regression():
    return _softmax_regression


@pytest.fixture
def gn_minibatch_model():
    return _gn_minibatch_model


@pytest.fixture
def top_curvature():
    return _top_curvature


@pytest.fixture
def noise_profile():
    return _noise_profile


@pytest.fixture
def measure_wine():
    return _measure_wine


@pytest.fixture(scope="session")
def measured(tmp_path_factory):
    return _measure_wine(tmp_path_factory.mktemp("measure"))


@pytest.fixture(scope="module")
def wine():
    from nn_bridge.data.datasets import load_dataset

    return load_dataset("wine", seed=0)


@pytest.fixture(scope="module")
def breast_cancer_mlp():
    return _small_mlp("breast_cancer", seed=1, at_minimum=False)


@pytest.fixture(scope="module")
def breast_cancer_mlp_at_minimum():
    return _small_mlp("breast_cancer", seed=3, at_minimum=True)


@pytest.fixture(scope="module")
def wine_mlp_at_minimum():
    return _small_mlp("wine", seed=3, at_minimum=True)


@pytest.fixture
def mlp_spec():
    return _mlp_spec


@pytest.fixture
def write_user_files():
    return _write_user_files
