"""Streaming gradient-noise statistics for any model, loss and data, in bounded memory.

Which noise is measured (papers 000 Sec. 3 and 004 Sec. 3): at fixed weights ``w``, a
minibatch ``d`` of ``B`` samples gives the minibatch gradient ``g_d = grad L_d(w)`` of the
mean-reduced loss, and the noise is

    u_d = g_d - gbar,    gbar = (1/N) sum_k n_k g_k  over one pass of the data,

where the pass splits the training data into minibatches ``k`` of ``n_k`` samples (the
loader's batches, or consecutive blocks of ``B`` samples for tensors). For a loss that is a
mean of per-sample losses and a model without batch-coupled layers ``gbar = grad U(w)``
exactly, the full-batch gradient of the papers; with BatchNorm in training mode it is the
average minibatch gradient of that pass, the centre SGD's steps fluctuate about. ``gbar``
is computed by that one extra pass *before* the M measured minibatches (or passed in as
``full_grad``), not as a running mean of the measured minibatches: the log-moments below
are not location-free, so the centre must be fixed before the first noise sample arrives
(a running mean would bias every early sample). The tail index itself does not use the
centre (differences of consecutive minibatches, below); the centre fixes ``u`` for the
moments, the sampled noise and the full estimators.

Sampling: tensor data ``(X, y)`` -- M minibatches of ``B`` i.i.d. draws with replacement
(``nn_bridge.noise.per_sample.minibatch_indices``, drawn once on the CPU from ``seed`` and moved to the
device once: no host round-trip per minibatch, identical minibatches on CPU and GPU). A
``DataLoader`` (any iterable of ``(inputs, targets)``) -- its batches in order, cycling
through epochs; batches of another size than the first (an epoch's short last batch) are
not measured.

Statistics accumulated as the minibatches stream (``NoiseMoments``, float64 on the device):

- for *every* parameter ``i``: a running mean and variance of ``log|v_{d,i}|``, ``v_d = u_d -
  u_{d-1}`` the difference of consecutive minibatches (Welford; ``NoiseMoments`` says why
  differences), giving the log-moment ``alpha_i, sigma_i`` (``nn_bridge.noise.log_moments``, exact
  for SaS);
  the power sums of ``u`` giving ``beta/sigma^3 = mean|u|^3 / (mean u^2)^(3/2)`` (paper 003
  eq. 17, moments about ``gbar``, the noise's mean) and ``sqrt(E z^4)`` (its Cauchy-Schwarz
  bound, eq. 19); the share of minibatches in which the parameter's gradient is exactly 0;
- for ``n_sampled`` parameters per parameter tensor (paper 004 sampled 100): the M noise
  values themselves, on which the full estimators of ``levydyn.estimators`` run at the end
  (``cf_regression``/``mcculloch``, Shapiro-Wilk Gaussianity per tensor as in paper 003,
  histogram fit errors as in paper 004 Tables 1-3).

At ``B = 1`` the noise is the per-sample noise ``Delta g`` of paper 003, so ``beta/sigma^3``
is its Berry-Esseen ratio and ``C beta/sigma^3 / sqrt(S)`` bounds the CLT error at batch size S.

Memory: ``O(P)`` accumulators plus ``M x P_sampled`` stored noise; no N x P or M x P matrix.

Resume: with a ``workdir`` the state (centre, accumulators, sampled noise, minibatch count)
is written atomically every ``checkpoint_every`` minibatches under a key hashing the weights,
the data, the loss and the configuration; a rerun continues from the last checkpoint and
gives the same result (bit-identical for tensor data on the same device; for a loader,
when it yields the same batches again, e.g. shuffled with a seeded ``generator``).

Time: the weights are frozen; no SGD step is taken.
"""
from __future__ import annotations

import hashlib
import io
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn

from levydyn import estimators as est
from nn_bridge.training.checkpoint import atomic_write_bytes, config_key, json_safe
from nn_bridge.training.device import resolve_device
from nn_bridge.noise.log_moments import log_moment_alpha, log_moment_alpha_sd
from nn_bridge.data.models import weights_checksum
from nn_bridge.noise.per_sample import (DEGENERATE_RTOL, ParameterLayout, derive_seed, minibatch_indices,
                             parameter_layout)
from nn_bridge.noise.stats import ESTIMATORS, FitSummary, fit_summary

__all__ = ["StreamConfig", "NoiseMoments", "StreamStats", "StreamLayer", "stream_noise",
           "stream_report"]

#: A parameter whose gradient is exactly zero in at least this share of the minibatches has
#: an atom no SaS law fits (a unit active on few samples); its alpha_i is NaN, as in
#: ``nn_bridge.noise.stats`` (atom holding half the minibatches).
ATOM_FRACTION = 0.5


@dataclass(frozen=True)
class StreamConfig:
    """What a streaming measurement samples and keeps (module docstring).

    n_minibatches : M measured minibatches.
    batch_size : B for tensor data (a loader brings its own).
    n_sampled : parameters per parameter tensor whose M noise values are kept for the full
        estimators (all of a tensor's parameters when it has fewer).
    estimator, level, n_fit : full estimator, Shapiro-Wilk level and number of sampled
        parameters whose Gauss/SaS fit errors are averaged (0: none).
    checkpoint_every : minibatches between atomic checkpoints (with a workdir).
    train_mode : measure in ``model.train()`` (as SGD sees it: BatchNorm batch statistics,
        dropout) or ``model.eval()``; buffers (BatchNorm running stats) are restored after.
    """

    n_minibatches: int = 1000
    batch_size: int = 128
    n_sampled: int = 100
    estimator: str = "cf_regression"
    level: float = 0.05
    n_fit: int = 100
    seed: int = 0
    checkpoint_every: int = 100
    train_mode: bool = True

    def __post_init__(self):
        for f, lo in (("n_minibatches", est.MIN_SAMPLES), ("batch_size", 1), ("n_sampled", 1),
                      ("n_fit", 0), ("seed", 0), ("checkpoint_every", 1)):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise ValueError(f"{f}={v!r}: must be an integer >= {lo}")
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"estimator={self.estimator!r}: must be one of "
                             f"{', '.join(ESTIMATORS)}")
        if not 0.0 < float(self.level) < 1.0:
            raise ValueError(f"level={self.level!r}: must lie in (0, 1)")

    def to_dict(self) -> dict:
        return asdict(self)


class NoiseMoments:
    """Per-coordinate running statistics of the noise ``u`` (float64, on ``device``).

    ``update(u, g_zero)`` adds one minibatch:

    - Welford's update of the mean and sum of squared deviations of ``log|v|`` for the
      difference ``v_d = u_d - u_{d-1} = g_d - g_{d-1}`` of consecutive minibatches. For
      i.i.d. minibatches ``v`` is SaS(alpha) with scale ``2^(1/alpha) sigma`` whatever the
      centre and skewness of ``u``: the estimate needs neither the exact centre nor a
      symmetric noise (with heavy-tailed per-sample gradients the noise of a finite data
      set has mean 0 but a median away from 0, which biases log-moments of ``u`` itself).
      Exact zeros of ``v`` (an atom: both minibatches gave the same gradient) are counted
      in ``n_tie``, not logged. The M - 1 overlapping differences are 1-dependent; their
      estimate's sd lies between the delta-method sd at n = M/2 and at n = M (measured
      ~1.1-1.25 x the latter).
    - the power sums of ``u`` (1, 2, |3|, 4) about the centre and the count of minibatches
      whose gradient of the parameter is exactly 0.
    """

    FIELDS = ("n_log", "mean_log", "m2_log", "prev", "s1", "s2", "s3", "s4", "n_zero")

    def __init__(self, n_params: int, device: torch.device):
        self.n = 0
        for f in self.FIELDS:
            setattr(self, f, torch.zeros(n_params, dtype=torch.float64, device=device))

    def update(self, u: torch.Tensor, g_zero: torch.Tensor) -> None:
        self.n += 1
        if self.n > 1:
            v = u - self.prev
            keep = (v != 0).to(torch.float64)
            self.n_log.add_(keep)
            lg = v.abs_().clamp_min_(np.finfo(np.float64).tiny).log_()
            delta = (lg - self.mean_log).mul_(keep)
            self.mean_log.addcdiv_(delta, self.n_log.clamp_min(1.0))
            lg.sub_(self.mean_log).mul_(delta)
            self.m2_log.add_(lg)
        self.prev.copy_(u)
        a = u.abs()
        self.s1.add_(u)
        u2 = u * u
        self.s2.add_(u2)
        self.s3.addcmul_(u2, a)
        self.s4.addcmul_(u2, u2)
        self.n_zero.add_(g_zero)

    def state(self) -> dict:
        return {"n": self.n, **{f: getattr(self, f).cpu() for f in self.FIELDS}}

    def load(self, state: dict) -> None:
        self.n = int(state["n"])
        for f in self.FIELDS:
            getattr(self, f).copy_(state[f])

    def finish(self, center: np.ndarray) -> dict[str, np.ndarray]:
        """Per-parameter alpha_i, sigma_i (log-moments), beta/sigma^3, sqrt(E z^4), atoms."""
        n = self.n
        st = {f: getattr(self, f).cpu().numpy() for f in self.FIELDS}
        with np.errstate(divide="ignore", invalid="ignore"):
            var_log = st["m2_log"] / (st["n_log"] - 1)
        alpha, sigma_v = log_moment_alpha(st["mean_log"], var_log)
        sigma = sigma_v * 2.0 ** (-1.0 / alpha)
        m2 = st["s2"] / n
        var_u = m2 - (st["s1"] / n) ** 2
        rms_g = np.sqrt(np.maximum(m2 + 2 * center * st["s1"] / n + center ** 2, 0.0))
        degenerate = ~(np.sqrt(np.maximum(var_u, 0.0)) > DEGENERATE_RTOL * rms_g)
        atom = st["n_zero"] / n
        with np.errstate(divide="ignore", invalid="ignore"):
            third = (st["s3"] / n) / m2 ** 1.5
            kurt_sqrt = np.sqrt(st["s4"] / n) / m2
        # an atom: half the minibatches share a gradient value (no SaS law fits)
        bad = degenerate | (atom >= ATOM_FRACTION) | (st["n_log"] < (n - 1) * (1 - ATOM_FRACTION)) \
            | (st["n_log"] < 2)
        for a in (alpha, sigma):
            a[bad] = np.nan
        third[degenerate] = np.nan
        kurt_sqrt[degenerate] = np.nan
        return {"alpha": alpha, "sigma": sigma, "third_ratio": third, "kurtosis_sqrt": kurt_sqrt,
                "atom_fraction": atom, "degenerate": degenerate}


@dataclass(frozen=True)
class StreamLayer:
    """Summary of one parameter tensor: streaming estimates over all its parameters and
    full estimates over its sampled ones."""

    name: str
    n_params: int
    n_degenerate: int
    n_nan: int
    alpha_median: float
    alpha_q10: float
    alpha_q90: float
    sigma_median: float
    third_ratio_median: float
    n_sampled: int
    sampled_alpha_median: float
    gaussian_fraction: float


@dataclass
class StreamStats:
    """Result of ``stream_noise``: per-parameter arrays, sampled subset, summaries."""

    layout: ParameterLayout
    config: StreamConfig
    batch_size: int
    n_minibatches: int
    full_grad: np.ndarray
    alpha: np.ndarray
    sigma: np.ndarray
    third_ratio: np.ndarray
    kurtosis_sqrt: np.ndarray
    atom_fraction: np.ndarray
    degenerate: np.ndarray
    sampled_index: np.ndarray
    sampled_noise: np.ndarray
    sampled_alpha: np.ndarray
    sampled_sigma: np.ndarray
    sampled_pvalues: np.ndarray
    sampled_third_ratio: np.ndarray
    layers: list[StreamLayer]
    fit: FitSummary | None
    mean_loss: float
    weights_sha256: str

    @property
    def n_params(self) -> int:
        return self.layout.n_params

    def accuracy(self) -> dict:
        """Streaming (log-moment) vs full-estimator alpha on the sampled parameters.

        ``bias`` and ``rmse`` of ``alpha_stream - alpha_full`` over the parameters where both
        are finite, and the delta-method sd the log-moment estimator would have on exact SaS
        data at the median full alpha (``nn_bridge.noise.log_moments``).
        """
        a_s = self.alpha[self.sampled_index]
        a_f = self.sampled_alpha
        ok = np.isfinite(a_s) & np.isfinite(a_f)
        if not ok.any():
            return {"n": 0}
        d = a_s[ok] - a_f[ok]
        med = float(np.median(a_f[ok]))
        return {"n": int(ok.sum()), "bias": float(d.mean()), "rmse": float(np.sqrt(np.mean(d * d))),
                "median_abs": float(np.median(np.abs(d))),
                "corr": float(np.corrcoef(a_s[ok], a_f[ok])[0, 1]) if ok.sum() > 2 else float("nan"),
                "alpha_full_median": med,
                "sas_sd_at_median": float(log_moment_alpha_sd(med, self.n_minibatches))}

    def summary(self) -> dict:
        """JSON-able summary (no per-parameter arrays)."""
        return json_safe({"batch_size": self.batch_size, "n_minibatches": self.n_minibatches,
                          "n_params": self.n_params, "config": self.config.to_dict(),
                          "weights_sha256": self.weights_sha256, "mean_loss": self.mean_loss,
                          "layers": [asdict(s) for s in self.layers],
                          "accuracy": self.accuracy(),
                          "fit": None if self.fit is None else asdict(self.fit)})

    def profile(self, lr: float, dataset: str = "", model: dict | None = None):
        """The ``NoiseProfile`` (streaming alpha_i, sigma_i) for the SDE at learning rate ``lr``."""
        from nn_bridge.noise.profile import NoiseProfile

        return NoiseProfile(alpha=self.alpha, sigma=self.sigma, layer_names=self.layout.names,
                            layer_shapes=self.layout.shapes, lr=lr, batch_size=self.batch_size,
                            dataset=dataset, model=model or {},
                            weights_sha256=self.weights_sha256,
                            n_minibatches=self.n_minibatches, sampling="stream",
                            estimator="log_moments", seed=self.config.seed)

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in (
            "full_grad", "alpha", "sigma", "third_ratio", "kurtosis_sqrt", "atom_fraction",
            "degenerate", "sampled_index", "sampled_noise", "sampled_alpha", "sampled_sigma",
            "sampled_pvalues", "sampled_third_ratio")}


# ------------------------------------------------------------------------------------------
# data sources
# ------------------------------------------------------------------------------------------
class _TensorSource:
    """``(X, y)`` on the device; i.i.d. minibatches from indices drawn once."""

    def __init__(self, X, y, batch_size, n_minibatches, seed, dev, dtype):
        X = torch.as_tensor(X)
        y = torch.as_tensor(y)
        if X.shape[0] != y.shape[0] or X.shape[0] < 1:
            raise ValueError(f"data: X has {X.shape[0]} samples and y {y.shape[0]}; "
                             "need equal, positive counts")
        if X.is_floating_point():
            X = X.to(dtype)
        self.X, self.y = X.to(dev), y.to(dev)
        self.N = int(X.shape[0])
        self.B = int(batch_size)
        self.idx = minibatch_indices(self.N, self.B, n_minibatches, seed=seed,
                                     sampling="iid").to(dev)

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for a in (self.X, self.y):
            h.update(str((tuple(a.shape), str(a.dtype))).encode())
            h.update(a.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()[:16]

    def first(self):
        return self.X[:min(self.B, self.N)], self.y[:min(self.B, self.N)]

    def center_batches(self):
        for i in range(0, self.N, self.B):
            yield self.X[i:i + self.B], self.y[i:i + self.B]

    def batches(self, start: int):
        for d in range(start, self.idx.shape[0]):
            yield self.X[self.idx[d]], self.y[self.idx[d]]


class _LoaderSource:
    """Any re-iterable of ``(inputs, targets)`` batches (a ``DataLoader``), cycled."""

    def __init__(self, loader, dev, dtype):
        self.loader, self.dev, self.dtype = loader, dev, dtype
        self.B = None
        self.center_pass = False

    def _move(self, batch):
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError(f"data: a loader batch must be (inputs, targets), got "
                             f"{type(batch).__name__}")
        x, t = torch.as_tensor(batch[0]), torch.as_tensor(batch[1])
        if x.is_floating_point():
            x = x.to(self.dtype)
        return x.to(self.dev, non_blocking=True), t.to(self.dev, non_blocking=True)

    def fingerprint(self) -> str:
        x, t = self._first
        h = hashlib.sha256(str(len(getattr(self.loader, "dataset", ()))).encode())
        for a in (x, t):
            h.update(str((tuple(a.shape), str(a.dtype))).encode())
            h.update(a.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()[:16]

    def first(self):
        for batch in self.loader:
            x, t = self._move(batch)
            self.B = int(x.shape[0])
            self._first = (x, t)
            return x, t
        raise ValueError("data: the loader yields no batches")

    def center_batches(self):
        self.center_pass = True
        for batch in self.loader:
            yield self._move(batch)

    def batches(self, start: int):
        skip = start
        while True:
            got = False
            for batch in self.loader:
                got = True
                if skip:                    # resume: the loader replays the measured batches
                    if len(batch[0]) == self.B:
                        skip -= 1
                    continue
                x, t = self._move(batch)
                if x.shape[0] == self.B:
                    yield x, t
            if not got:
                raise ValueError("data: the loader yields no batches")


def _source(data, config, dev, dtype):
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(
            isinstance(a, (torch.Tensor, np.ndarray)) for a in data):
        return _TensorSource(data[0], data[1], config.batch_size, config.n_minibatches,
                             config.seed, dev, dtype)
    if isinstance(data, Iterable):
        return _LoaderSource(data, dev, dtype)
    raise ValueError(f"data: expected (X, y) tensors/arrays or a DataLoader, got "
                     f"{type(data).__name__}")


# ------------------------------------------------------------------------------------------
# the streaming loop
# ------------------------------------------------------------------------------------------
def _flat_grad(params, out: torch.Tensor) -> torch.Tensor:
    o = 0
    for p in params:
        n = p.numel()
        if p.grad is None:
            out[o:o + n].zero_()
        else:
            out[o:o + n].copy_(p.grad.reshape(-1))
        o += n
    return out


def _loss_and_backward(model, loss_fn, x, t, check: bool):
    if check:
        try:
            out = model(x)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"data: inputs of shape {tuple(x.shape)} do not fit the model "
                             f"({msg})") from None
        try:
            loss = loss_fn(out, t)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"data: targets of shape {tuple(t.shape)} do not fit the loss on "
                             f"outputs of shape {tuple(out.shape)} ({msg})") from None
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
            raise ValueError(f"loss_fn={_loss_name(loss_fn)}: returned {shape}, must be a "
                             "scalar (the mean over the minibatch)")
    else:
        loss = loss_fn(model(x), t)
    loss.backward()
    return loss.detach()


def _loss_name(loss_fn) -> str:
    return getattr(loss_fn, "__qualname__", None) or type(loss_fn).__name__


def _sampled_index(layout: ParameterLayout, n_sampled: int, seed: int) -> np.ndarray:
    out = []
    for k, (o, n) in enumerate(zip(layout.offsets, layout.sizes)):
        rng = np.random.default_rng(derive_seed(seed, 5, k))
        out.append(o + np.sort(rng.choice(n, size=min(n_sampled, n), replace=False)))
    return np.concatenate(out).astype(np.int64)


def stream_noise(model: nn.Module, data, loss_fn: Callable = nn.functional.cross_entropy,
                 config: StreamConfig = StreamConfig(), *, device: str | torch.device = "auto",
                 workdir: str | Path | None = None, full_grad=None,
                 on_checkpoint: Callable[[int], None] | None = None,
                 verbose: bool = False) -> StreamStats:
    """Per-parameter gradient-noise statistics of ``model`` at its current weights.

    Parameters
    ----------
    model : any ``torch.nn.Module``; its trainable parameters are measured (float32 models
        measure in float32; accumulation is float64). It is moved to ``device`` and left
        there, in its original train/eval mode with its buffers restored.
    data : ``(X, y)`` tensors or arrays (i.i.d. minibatches of ``config.batch_size``) or a
        ``DataLoader``/iterable of ``(inputs, targets)`` batches.
    loss_fn : ``loss_fn(model(inputs), targets)`` -> scalar mean over the minibatch.
    device : ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda[:N]"``.
    workdir : directory for atomic checkpoints; a rerun resumes from the last one.
    full_grad : the centre ``gbar`` (P values in parameter order) if already known; skips
        the centring pass.
    on_checkpoint : called with the number of minibatches done after each checkpoint
        (tests raise from it to simulate a kill).

    Example
    -------
    >>> stats = stream_noise(my_model, my_loader, torch.nn.functional.cross_entropy)
    >>> stats.alpha, stats.layers          # doctest: +SKIP
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise ValueError(f"loss_fn={loss_fn!r}: must be callable")
    dev = resolve_device(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model: has no trainable parameters")
    dtype = params[0].dtype
    layout = parameter_layout(model)
    P = layout.n_params
    was_training = model.training
    saved_buffers = {k: v.detach().clone() for k, v in model.named_buffers()}
    model.to(dev)
    model.train(config.train_mode)
    try:
        src = _source(data, config, dev, dtype)
        x0, t0 = src.first()
        model.zero_grad(set_to_none=True)
        _loss_and_backward(model, loss_fn, x0, t0, check=True)
        model.zero_grad(set_to_none=True)
        with torch.no_grad():                 # the check must not move BatchNorm statistics
            for k, v in model.named_buffers():
                v.copy_(saved_buffers[k])
        B = src.B
        M = config.n_minibatches
        wsum = weights_checksum(model)
        key = config_key({"weights": wsum, "data": src.fingerprint(), "loss": _loss_name(loss_fn),
                          "config": config.to_dict(), "batch_size": B, "P": P,
                          "full_grad": None if full_grad is None else hashlib.sha256(
                              np.asarray(full_grad, dtype=np.float64).tobytes()).hexdigest()})
        ckpt = None if workdir is None else Path(workdir) / f"stream-{key}.pt"
        sidx_np = _sampled_index(layout, config.n_sampled, config.seed)
        sidx = torch.as_tensor(sidx_np, device=dev)
        acc = NoiseMoments(P, dev)
        buf = torch.zeros(M, sidx_np.size, dtype=torch.float32, device=dev)
        loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
        center = None
        done = 0
        if ckpt is not None and ckpt.exists():
            state = torch.load(ckpt, map_location="cpu", weights_only=False)
            center = state["center"].to(dev)
            acc.load(state["moments"])
            done = int(state["done"])
            buf[:done].copy_(state["sampled"])
            loss_sum.fill_(float(state["loss_sum"]))
            if state["center_pass"] and isinstance(src, _LoaderSource):
                for _ in src.loader:          # replay the centring epoch of the loader
                    pass
        if center is None:
            if full_grad is not None:
                center = torch.as_tensor(np.asarray(full_grad, dtype=np.float64), device=dev)
                if center.shape != (P,):
                    raise ValueError(f"full_grad: expected {P} values, got shape "
                                     f"{tuple(center.shape)}")
            else:
                center = _center(model, loss_fn, src, P, params, dev, verbose)
        g = torch.empty(P, dtype=dtype, device=dev)

        def save():
            if ckpt is None:
                return
            bio = io.BytesIO()
            torch.save({"key": key, "center": center.cpu(), "moments": acc.state(),
                        "done": done, "sampled": buf[:done].cpu(),
                        "loss_sum": float(loss_sum),
                        "center_pass": bool(getattr(src, "center_pass", False))}, bio)
            atomic_write_bytes(ckpt, bio.getvalue())

        if done == 0:
            save()
        for x, t in (src.batches(done) if done < M else ()):
            if done >= M:
                break
            model.zero_grad(set_to_none=True)
            loss_sum += _loss_and_backward(model, loss_fn, x, t, check=False)
            _flat_grad(params, g)
            u = g.to(torch.float64) - center
            acc.update(u, (g == 0).to(torch.float64))
            buf[done] = u.index_select(0, sidx).to(torch.float32)
            done += 1
            if done % config.checkpoint_every == 0 or done == M:
                if not math.isfinite(float(loss_sum)):
                    raise FloatingPointError(f"loss: not finite after {done} minibatches")
                save()
                if verbose:
                    print(f"{done}/{M} minibatches")
                if on_checkpoint is not None:
                    on_checkpoint(done)
        model.zero_grad(set_to_none=True)
    finally:
        with torch.no_grad():
            for k, v in model.named_buffers():
                if k in saved_buffers:
                    v.copy_(saved_buffers[k])
        model.train(was_training)
    return _finish(acc, center.cpu().numpy(), buf.cpu().numpy().astype(np.float64), sidx_np,
                   layout, config, B, float(loss_sum) / M, wsum)


def _center(model, loss_fn, src, P, params, dev, verbose) -> torch.Tensor:
    """``gbar = (1/N) sum_k n_k g_k`` over one pass of the data (module docstring)."""
    total = torch.zeros(P, dtype=torch.float64, device=dev)
    g = torch.empty(P, dtype=params[0].dtype, device=dev)
    n = 0
    for x, t in src.center_batches():
        model.zero_grad(set_to_none=True)
        _loss_and_backward(model, loss_fn, x, t, check=False)
        total.add_(_flat_grad(params, g).to(torch.float64), alpha=float(x.shape[0]))
        n += int(x.shape[0])
    if verbose:
        print(f"centre: mean minibatch gradient over {n} samples")
    return total / n


def _finish(acc, center, U, sidx, layout, config, B, mean_loss, wsum) -> StreamStats:
    per = acc.finish(center)
    M = U.shape[0]
    live = ~per["degenerate"][sidx] & (per["atom_fraction"][sidx] < ATOM_FRACTION)
    s_alpha = np.full(sidx.size, np.nan)
    s_sigma = np.full(sidx.size, np.nan)
    pvals = np.full(sidx.size, np.nan)
    third = np.full(sidx.size, np.nan)
    if live.any():
        Ul = U[:, live]
        q25, q75 = np.quantile(Ul, [0.25, 0.75], axis=0)
        spread = q75 > q25
        cols = np.flatnonzero(live)[spread]
        if cols.size:
            fn = est.cf_regression if config.estimator == "cf_regression" else est.mcculloch
            s_alpha[cols], s_sigma[cols] = fn(U[:, cols], axis=0)
        pvals[live] = est.shapiro_gaussian_fraction(Ul, level=config.level).pvalues
        third[live] = est.standardized_third_abs_moment(Ul, axis=0)
    fit = None
    ok = np.flatnonzero(np.isfinite(s_alpha))
    if config.n_fit and ok.size:
        rng = np.random.default_rng(derive_seed(config.seed, B, 4))
        pick = np.sort(rng.choice(ok, size=min(config.n_fit, ok.size), replace=False))
        fit = fit_summary(U, pick)
    lidx = layout.layer_index()
    s_lidx = lidx[sidx]
    layers = []
    nan = float("nan")
    for k, name in enumerate(layout.names):
        m = lidx == k
        a = per["alpha"][m]
        fin = a[np.isfinite(a)]
        sm = s_lidx == k
        sa = s_alpha[sm][np.isfinite(s_alpha[sm])]
        sp = pvals[sm][np.isfinite(pvals[sm])]
        th = per["third_ratio"][m]
        th = th[np.isfinite(th)]
        sg = per["sigma"][m]
        sg = sg[np.isfinite(sg)]
        layers.append(StreamLayer(
            name=name, n_params=int(m.sum()), n_degenerate=int(per["degenerate"][m].sum()),
            n_nan=int((~per["degenerate"][m] & ~np.isfinite(a)).sum()),
            alpha_median=float(np.median(fin)) if fin.size else nan,
            alpha_q10=float(np.quantile(fin, 0.1)) if fin.size else nan,
            alpha_q90=float(np.quantile(fin, 0.9)) if fin.size else nan,
            sigma_median=float(np.median(sg)) if sg.size else nan,
            third_ratio_median=float(np.median(th)) if th.size else nan,
            n_sampled=int(sm.sum()),
            sampled_alpha_median=float(np.median(sa)) if sa.size else nan,
            gaussian_fraction=float(np.mean(sp > config.level)) if sp.size else nan))
    return StreamStats(layout=layout, config=config, batch_size=B, n_minibatches=M,
                       full_grad=center, alpha=per["alpha"], sigma=per["sigma"],
                       third_ratio=per["third_ratio"], kurtosis_sqrt=per["kurtosis_sqrt"],
                       atom_fraction=per["atom_fraction"], degenerate=per["degenerate"],
                       sampled_index=sidx, sampled_noise=U, sampled_alpha=s_alpha,
                       sampled_sigma=s_sigma, sampled_pvalues=pvals, sampled_third_ratio=third,
                       layers=layers, fit=fit, mean_loss=mean_loss, weights_sha256=wsum)


def stream_report(results: list[StreamStats], **provenance) -> dict:
    """JSON-able: the package version, ``provenance`` (e.g. ``model_file``, ``data``) and
    each batch size's :meth:`StreamStats.summary`."""
    import levydyn

    return {"levydyn_version": levydyn.__version__, **provenance,
            "results": [st.summary() for st in results]}
