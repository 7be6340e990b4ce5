"""Tests of ``nn_bridge.noise.per_sample``.

From the former tests/test_nn_noise.py: nn_bridge.noise.per_sample: vectorised gradient-noise collection.

The recovery test uses a model whose per-sample gradients are SaS by construction: a
linear model ``f_w(z) = w . z`` (no bias) with the per-sample loss ``l_n(w) = -w . z_n``,
so ``grad l_n = -z_n`` whatever ``w``. Drawing ``z_{n,j} ~ SaS(alpha_j)`` i.i.d.
(levydyn's sampler, SaS(1) normalisation) and taking disjoint minibatches
(``sampling="epoch"`` with ``N = M B``), the minibatch noise of parameter ``j`` is
``-(mean of B fresh SaS(alpha_j)) - grad_j U``, i.e. exactly ``SaS(alpha_j)`` with scale
``B^(1/alpha_j - 1)`` shifted by a constant -- the truth the estimator must recover."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from levydyn import sas_rvs  # noqa: E402
from nn_bridge.data.datasets import load_dataset  # noqa: E402
from nn_bridge.data.models import ModelSpec, build_model  # noqa: E402
from nn_bridge.noise.per_sample import (collect_noise, collect_noise_loop, minibatch_indices, per_sample_gradients, pooled_noise)
from nn_bridge.noise.stats import noise_stats  # noqa: E402


def _linear_loss(out, target):
    return -out.mean()


@pytest.fixture(scope="module")
def bc():
    return load_dataset("breast_cancer")


@pytest.fixture(scope="module")
def mlp(bc):
    return build_model(ModelSpec("mlp", bc.n_features, bc.n_classes, width=16, depth=3, seed=1))


def test_recovers_known_alpha_and_scale():
    """M = 1000 minibatches per parameter. cf_regression at n = 1000 has sd ~0.05 in
    alpha and ~0.04 in log scale with bias < 0.01 (measured over 1000 replicates at
    alpha = 1.1..2.0), so 0.2 is 4 sd (alpha) and 5 sd (log scale): a false failure
    over the 10 parameters has probability < 1e-3."""
    alphas = np.array([1.1, 1.3, 1.5, 1.7, 1.9] * 2)
    P, B, M = alphas.size, 4, 1000
    N = B * M
    Z = np.stack([sas_rvs(a, N, seed=100 + j) for j, a in enumerate(alphas)], axis=1)
    X = torch.tensor(Z, dtype=torch.float32)
    y = torch.zeros(N, dtype=torch.long)
    model = torch.nn.Linear(P, 1, bias=False)
    noise = collect_noise(model, X, y, [B], M, seed=3, sampling="epoch",
                          loss_fn=_linear_loss)[B]
    # exact algebra: noise = -(block means of z) + mean(z)
    idx = minibatch_indices(N, B, M, seed=3, sampling="epoch").numpy()
    Zf = Z.astype(np.float32).astype(np.float64)
    expect = -(Zf[idx].mean(axis=1)) + Zf.mean(axis=0)
    np.testing.assert_allclose(noise.noise, expect, rtol=1e-9, atol=1e-9 * np.abs(expect).max())
    st = noise_stats(noise, n_fit=0)
    assert np.all(np.abs(st.alpha - alphas) < 0.2), st.alpha
    true_scale = B ** (1.0 / alphas - 1.0)
    assert np.all(np.abs(np.log(st.sigma / true_scale)) < 0.2), st.sigma / true_scale


def test_gaussian_gradients_look_gaussian():
    """alpha = 2 per-sample gradients: Shapiro-Wilk keeps ~95 % of 200 parameters
    (binomial sd 1.5 %, so > 85 % is a 6-sd margin) and the pooled paper-000 alpha is ~2."""
    P, B, M = 200, 4, 500
    Z = sas_rvs(2.0, (B * M, P), seed=7)
    model = torch.nn.Linear(P, 1, bias=False)
    noise = collect_noise(model, torch.tensor(Z, dtype=torch.float32),
                          torch.zeros(B * M, dtype=torch.long), B, M, sampling="epoch",
                          loss_fn=_linear_loss)[B]
    st = noise_stats(noise, n_fit=0)
    assert st.overall.gaussian_fraction > 0.85
    assert st.pooled_alpha > 1.9


def test_vectorised_equals_backward_loop(bc, mlp):
    X, y = torch.as_tensor(bc.X_train), torch.as_tensor(bc.y_train)
    for sampling in ("iid", "epoch"):
        noise = collect_noise(mlp, X, y, [8, 64], 50, seed=5, sampling=sampling, chunk_size=100)
        for B in (8, 64):
            idx = minibatch_indices(bc.n_train, B, 50, seed=5, sampling=sampling)
            g = collect_noise_loop(mlp, X, y, idx).double().numpy()
            u = noise[B].noise
            np.testing.assert_allclose(u, g - noise[B].full_grad, atol=1e-6 * np.abs(g).max())


def test_full_gradient_and_per_sample(bc, mlp):
    X, y = torch.as_tensor(bc.X_train), torch.as_tensor(bc.y_train)
    G = per_sample_gradients(mlp, X, y, chunk_size=128)
    assert G.shape == (bc.n_train, sum(p.numel() for p in mlp.parameters()))
    mlp.zero_grad()
    torch.nn.functional.cross_entropy(mlp(X), y).backward()
    full = torch.cat([p.grad.reshape(-1) for p in mlp.parameters()])
    mlp.zero_grad()
    np.testing.assert_allclose(G.double().mean(0).numpy(), full.double().numpy(), atol=1e-6)
    noise = collect_noise(mlp, X, y, 16, 20)[16]
    np.testing.assert_allclose(noise.full_grad, full.double().numpy(), atol=1e-6)


def test_noise_independent_of_other_batch_sizes_and_chunking(bc, mlp):
    X, y = torch.as_tensor(bc.X_train), torch.as_tensor(bc.y_train)
    a = collect_noise(mlp, X, y, [16, 32], 40, seed=2, chunk_size=512)[32].noise
    b = collect_noise(mlp, X, y, [32], 40, seed=2, chunk_size=512)[32].noise
    c = collect_noise(mlp, X, y, [32], 40, seed=2, chunk_size=100)[32].noise
    assert np.array_equal(a, b)
    np.testing.assert_allclose(b, c, atol=1e-12 * np.abs(b).max())


def test_minibatch_indices():
    i1 = minibatch_indices(100, 10, 25, seed=4, sampling="epoch").numpy()
    assert i1.shape == (25, 10)
    for p in range(2):   # 10 batches per permutation: each permutation covers all samples once
        assert sorted(i1[10 * p:10 * (p + 1)].ravel()) == list(range(100))
    assert np.array_equal(i1, minibatch_indices(100, 10, 25, seed=4, sampling="epoch").numpy())
    assert not np.array_equal(i1, minibatch_indices(100, 10, 25, seed=5, sampling="epoch").numpy())
    i2 = minibatch_indices(50, 80, 30, seed=0, sampling="iid")   # B > N allowed with replacement
    assert i2.shape == (30, 80) and int(i2.max()) < 50


def test_pooled_noise_drops_degenerate(bc):
    model = torch.nn.Linear(3, 1, bias=False)
    Z = np.column_stack([sas_rvs(1.5, 400, seed=1), np.zeros(400), sas_rvs(1.5, 400, seed=2)])
    noise = collect_noise(model, torch.tensor(Z, dtype=torch.float32),
                          torch.zeros(400, dtype=torch.long), 4, 100, loss_fn=_linear_loss)[4]
    assert noise.degenerate.tolist() == [False, True, False]
    assert pooled_noise(noise).size == 200
    st = noise_stats(noise, n_fit=0)
    assert np.isnan(st.alpha[1]) and st.overall.n_degenerate == 1


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=10, batch_size=0, n_minibatches=5), "batch_size=0"),
    (dict(n=10, batch_size=20, n_minibatches=5, sampling="epoch"), "batch_size=20"),
    (dict(n=10, batch_size=2, n_minibatches=5, sampling="bootstrap"), "sampling='bootstrap'"),
    (dict(n=10, batch_size=2, n_minibatches=-1), "n_minibatches=-1"),
    (dict(n=10, batch_size=2, n_minibatches=5, seed=-3), "seed=-3"),
])
def test_bad_sampling_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        minibatch_indices(**kwargs)


def test_bad_collect_input(bc, mlp):
    X, y = torch.as_tensor(bc.X_train), torch.as_tensor(bc.y_train)
    with pytest.raises(ValueError, match=r"batch_sizes=\[8, 8\]"):
        collect_noise(mlp, X, y, [8, 8], 20)
    with pytest.raises(ValueError, match="estimator='hill'"):
        noise_stats(collect_noise(mlp, X, y, 8, 20)[8], estimator="hill")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cpu_and_cuda_agree(bc, mlp):
    """Same weights, same minibatch indices (drawn on the CPU): the noise agrees to
    float32 per-sample-gradient precision, and the alpha_i to estimator round-off."""
    import copy

    X, y = torch.as_tensor(bc.X_train), torch.as_tensor(bc.y_train)
    cpu = collect_noise(mlp, X, y, [32], 300, seed=9)[32]
    gpu_model = copy.deepcopy(mlp).to("cuda")
    gpu = collect_noise(gpu_model, X.cuda(), y.cuda(), [32], 300, seed=9)[32]
    scale = np.abs(cpu.noise).max()
    np.testing.assert_allclose(gpu.noise, cpu.noise, atol=1e-5 * scale)
    np.testing.assert_allclose(gpu.full_grad, cpu.full_grad,
                               atol=1e-5 * np.abs(cpu.full_grad).max())
    a_cpu = noise_stats(cpu, n_fit=0).alpha
    a_gpu = noise_stats(gpu, n_fit=0).alpha
    ok = np.isfinite(a_cpu) & np.isfinite(a_gpu)
    assert np.median(np.abs(a_cpu[ok] - a_gpu[ok])) < 1e-3
