"""Tests of ``nn_bridge.noise.stream``.

From the former tests/test_nn_stream.py: nn_bridge.noise.stream, log_moments and user_model: streaming noise statistics of any model.

The recovery tests use a model whose per-sample gradients are SaS by construction (as in
``test_noise_per_sample``): a linear model with per-sample loss ``-w . z_n``, so ``grad l_n = -z_n``
and the minibatch noise of parameter j is (up to the finite-sample centre) a mean of B
i.i.d. SaS(alpha_j) draws: SaS(alpha_j) with scale ``B^(1/alpha_j - 1)``."""
import json
import math
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from levydyn import sas_rvs  # noqa: E402
from nn_bridge.noise.log_moments import (EULER_GAMMA, log_moment_alpha, log_moment_alpha_sd, log_moment_cumulants)
from nn_bridge.noise.per_sample import collect_noise  # noqa: E402
from nn_bridge.noise.stream import StreamConfig, stream_noise  # noqa: E402
torch.set_num_threads(1)


def _linear_loss(out, target):
    return -out.mean()


def _sas_data(alphas, n, seed):
    Z = np.stack([sas_rvs(a, n, seed=seed + j) for j, a in enumerate(alphas)], axis=1)
    return torch.tensor(Z, dtype=torch.float32), torch.zeros(n, dtype=torch.long)
# -------------------------------------------------------------------------- streaming
@pytest.fixture(scope="module")
def sas_stream():
    alphas = np.array([1.1, 1.3, 1.5, 1.7, 1.9] * 2)
    X, y = _sas_data(alphas, 40000, seed=100)
    model = torch.nn.Linear(alphas.size, 1, bias=False)
    cfg = StreamConfig(n_minibatches=1000, batch_size=4, n_sampled=100, n_fit=3, seed=3)
    st = stream_noise(model, (X, y), _linear_loss, cfg, device="cpu")
    return alphas, X, y, model, cfg, st


def test_stream_recovers_known_alpha_and_scale(sas_stream):
    """Per parameter, M = 1000: the log-moment alpha_i (from M - 1 overlapping differences,
    sd below the delta-method sd at n = M/2: 0.08-0.29) lies within 4 such sd of the truth
    and sigma_i within 4 sd of log scale (a < 1e-3 chance of a false failure over the 10
    parameters); the full estimator on the sampled subset (cf_regression, sd ~0.05) within
    0.2 (see test_noise_per_sample)."""
    alphas, _, _, _, cfg, st = sas_stream
    M = cfg.n_minibatches // 2
    sd = log_moment_alpha_sd(alphas, M)
    assert np.all(np.abs(st.alpha - alphas) < 4 * sd), (st.alpha, alphas)
    _, k2, _ = log_moment_cumulants(alphas)
    sd_ls = np.sqrt(k2 / M) + EULER_GAMMA / alphas ** 2 * sd
    true_scale = 4.0 ** (1 / alphas - 1)
    assert np.all(np.abs(np.log(st.sigma / true_scale)) < 4 * sd_ls), st.sigma / true_scale
    assert np.array_equal(st.sampled_index, np.arange(10))      # tensor smaller than n_sampled
    assert np.all(np.abs(st.sampled_alpha - alphas) < 0.2), st.sampled_alpha
    acc = st.accuracy()
    assert acc["n"] == 10 and acc["rmse"] < 0.2 and st.fit is not None


def test_stream_noise_is_the_minibatch_noise(sas_stream):
    """Same i.i.d. minibatches as ``collect_noise`` (same seed): the kept noise equals
    g_d - grad U of the vectorised N x P path, the centre is the full gradient, and the
    streamed moments equal those of the kept values (float32 storage: rtol 1e-5)."""
    alphas, X, y, model, cfg, st = sas_stream
    ref = collect_noise(model, X, y, [4], cfg.n_minibatches, seed=cfg.seed, sampling="iid",
                        loss_fn=_linear_loss)[4]
    scale = np.abs(ref.noise).max()
    np.testing.assert_allclose(st.sampled_noise, ref.noise, atol=1e-6 * scale)
    np.testing.assert_allclose(st.full_grad, ref.full_grad, rtol=1e-6, atol=1e-7)
    U = st.sampled_noise
    third = np.mean(np.abs(U) ** 3, 0) / np.mean(U ** 2, 0) ** 1.5
    np.testing.assert_allclose(st.third_ratio, third, rtol=1e-4)
    lg = np.log(np.abs(np.diff(U, axis=0)))
    a_np, s_np = log_moment_alpha(lg.mean(0), lg.var(0, ddof=1))
    np.testing.assert_allclose(st.alpha, a_np, rtol=1e-4)
    np.testing.assert_allclose(st.sigma, s_np * 2.0 ** (-1 / a_np), rtol=1e-4)
    assert st.summary()["n_params"] == alphas.size
    json.dumps(st.summary(), allow_nan=False)


def test_stream_gaussian_noise_and_berry_esseen_ratio():
    """Gaussian per-sample gradients, B = 1 (the noise is the per-sample noise of paper
    003), M = 500, 60 parameters: Shapiro-Wilk keeps ~95 % (binomial sd 2.8 %: > 82 % is
    a 4.5-sd margin); beta/sigma^3 -> E|z|^3 = 2 sqrt(2/pi) = 1.596 (per-parameter sd
    ~0.1, median of 60 has sd ~0.016: tolerance 0.08); log-moment alpha median > 1.85."""
    P = 60
    Z = sas_rvs(2.0, (20000, P), seed=7)
    st = stream_noise(torch.nn.Linear(P, 1, bias=False),
                      (torch.tensor(Z, dtype=torch.float32), torch.zeros(20000, dtype=torch.long)),
                      _linear_loss, StreamConfig(n_minibatches=500, batch_size=1, n_fit=0),
                      device="cpu")
    assert st.layers[0].gaussian_fraction > 0.82
    assert abs(np.median(st.third_ratio) - 2 * math.sqrt(2 / math.pi)) < 0.08
    assert abs(np.median(st.kurtosis_sqrt) - math.sqrt(3)) < 0.15
    assert np.median(st.alpha) > 1.85


class _Kill(Exception):
    pass


def _mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 12), torch.nn.ReLU(), torch.nn.Linear(12, 3))


def _mlp_data(n=300):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(n, 6, generator=g)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long()
    return X, y


def test_resume_after_kill_is_identical(tmp_path):
    X, y = _mlp_data()
    cfg = StreamConfig(n_minibatches=64, batch_size=16, n_sampled=20, n_fit=2,
                       checkpoint_every=16)
    full = stream_noise(_mlp(), (X, y), config=cfg, device="cpu")
    seen = []

    def kill(done):
        seen.append(done)
        if done == 32:
            raise _Kill

    with pytest.raises(_Kill):
        stream_noise(_mlp(), (X, y), config=cfg, device="cpu", workdir=tmp_path, on_checkpoint=kill)
    assert seen == [16, 32]
    again = []
    res = stream_noise(_mlp(), (X, y), config=cfg, device="cpu", workdir=tmp_path,
                       on_checkpoint=again.append)
    assert again == [48, 64]                      # resumed after minibatch 32
    for k, v in full.arrays().items():
        np.testing.assert_array_equal(res.arrays()[k], v, err_msg=k)
    assert json.dumps(res.summary()) == json.dumps(full.summary())


def test_data_loader_resume_and_centre(tmp_path):
    """A DataLoader (shuffled with a seeded generator): the centre is the full gradient
    (no batch-coupled layers), the kept noise is g_d - grad U of the loader's batches,
    and a killed run resumes to the same result."""
    from torch.utils.data import DataLoader, TensorDataset

    X, y = _mlp_data(100)

    def loader():
        return DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True,
                          generator=torch.Generator().manual_seed(5))

    cfg = StreamConfig(n_minibatches=20, n_sampled=5, n_fit=0, checkpoint_every=5)
    model = _mlp()
    full = stream_noise(model, loader(), config=cfg, device="cpu")
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(X), y).backward()
    gU = torch.cat([p.grad.reshape(-1) for p in model.parameters()]).double().numpy()
    np.testing.assert_allclose(full.full_grad, gU, atol=1e-6)
    # replay: first() batch, the centring epoch, then 16-sample batches (short ones skipped)
    ld = loader()
    next(iter(ld))
    for _ in ld:
        pass
    batches = [b for ep in range(3) for b in ld if len(b[0]) == 16][:3]
    for d, (xb, yb) in enumerate(batches):
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(xb), yb).backward()
        g = torch.cat([p.grad.reshape(-1) for p in model.parameters()]).double().numpy()
        np.testing.assert_allclose(full.sampled_noise[d], (g - gU)[full.sampled_index],
                                   atol=1e-6)

    def kill(done):
        if done == 10:
            raise _Kill

    with pytest.raises(_Kill):
        stream_noise(_mlp(), loader(), config=cfg, device="cpu", workdir=tmp_path,
                     on_checkpoint=kill)
    res = stream_noise(_mlp(), loader(), config=cfg, device="cpu", workdir=tmp_path)
    for k, v in full.arrays().items():
        np.testing.assert_array_equal(res.arrays()[k], v, err_msg=k)


def test_stream_never_builds_per_sample_gradients(monkeypatch):
    """The streaming path uses minibatch backward passes only: the N x P machinery of
    nn_bridge.noise.per_sample (per-sample gradients, selection matrix) is never called."""
    import nn_bridge.noise.per_sample as noise_mod

    def boom(*a, **k):
        raise AssertionError("N x P path used")

    for name in ("per_sample_gradients", "collect_noise", "selection_matrix",
                 "_per_sample_grad_fn"):
        monkeypatch.setattr(noise_mod, name, boom)
    X, y = _mlp_data()
    st = stream_noise(_mlp(), (X, y), config=StreamConfig(n_minibatches=16, batch_size=8,
                                                          n_fit=0), device="cpu")
    assert st.sampled_noise.shape == (16, st.sampled_index.size)


def test_batchnorm_buffers_untouched_and_mode_restored():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                                torch.nn.Linear(8, 3))
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X, y = _mlp_data()
    st = stream_noise(model, (X, y), config=StreamConfig(n_minibatches=20, batch_size=16,
                                                         n_fit=0), device="cpu")
    assert not model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert st.n_params == sum(p.numel() for p in model.parameters())


def test_bad_input_library():
    X, y = _mlp_data()
    cfg = StreamConfig(n_minibatches=16, batch_size=8, n_fit=0)
    with pytest.raises(ValueError, match=r"must be a scalar"):
        stream_noise(_mlp(), (X, y), lambda o, t: torch.nn.functional.cross_entropy(
            o, t, reduction="none"), cfg, device="cpu")
    with pytest.raises(ValueError, match=r"inputs of shape \(8, 5\) do not fit the model"):
        stream_noise(_mlp(), (X[:, :5], y), config=cfg, device="cpu")
    with pytest.raises(ValueError, match=r"targets of shape"):
        stream_noise(_mlp(), (X, y.float()[:, None]), config=cfg, device="cpu")
    with pytest.raises(ValueError, match="data: expected"):
        stream_noise(_mlp(), 42, config=cfg, device="cpu")
    with pytest.raises(ValueError, match="n_minibatches=4"):
        StreamConfig(n_minibatches=4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cpu_and_cuda_stream_agree():
    """Same weights, same minibatch indices (drawn on the CPU for both): the kept noise
    agrees to float32 gradient precision, the streamed log-moment alpha_i and beta/sigma^3
    to well below their sampling error (sd ~0.1 at M = 200)."""
    X, y = _mlp_data(400)
    cfg = StreamConfig(n_minibatches=200, batch_size=16, n_sampled=30, n_fit=0)
    cpu = stream_noise(_mlp(), (X, y), config=cfg, device="cpu")
    gpu = stream_noise(_mlp(), (X, y), config=cfg, device="cuda")
    scale = np.abs(cpu.sampled_noise).max()
    np.testing.assert_allclose(gpu.sampled_noise, cpu.sampled_noise, atol=1e-4 * scale)
    np.testing.assert_allclose(gpu.full_grad, cpu.full_grad,
                               atol=1e-5 * np.abs(cpu.full_grad).max())
    ok = np.isfinite(cpu.alpha) & np.isfinite(gpu.alpha)
    assert ok.mean() > 0.9
    assert np.median(np.abs(cpu.alpha[ok] - gpu.alpha[ok])) < 1e-3
    np.testing.assert_allclose(gpu.third_ratio[ok], cpu.third_ratio[ok], rtol=1e-3)
