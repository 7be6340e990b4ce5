"""Paper 001's tail index of SGD iterates, per layer, on a small network.

Claim (Gurbuzbalaban, Simsekli & Zhu, "The heavy-tail phenomenon in SGD", ICML 2021; the
talk abstract of paper 001): SGD iterates converge to a heavy-tailed stationary law whose
tail index alpha *falls as eta/b grows* (eta the step size, b the batch size).

Two readings are measured on the same runs. Each run trains ``build_model`` from its
seeded initialisation with plain SGD (``nn_bridge.training.train``; step ``eta``, batch ``b``,
reshuffled epochs) for a fixed number of steps T (rounded up to whole epochs), and keeps
``keep`` iterates ``w_k``, every ``thin``-th step of the last ``keep * thin`` steps.

1. **The authors' layer-wise estimate** (their public code ``umutsimsekli/sgd_ht``,
   ``postprocess_networks.ipynb``; re-implemented from its description): average the
   kept iterates per parameter, ``wbar_i = (1/K) sum_k w_{k,i}``; centre each layer's
   averages across the layer's entries, ``x_i = wbar_i - mean_{j in layer} wbar_j``; apply
   Mohammadi's estimator (paper 000, eq. 15) with the median over block lengths
   K1 in (2, 5, 10, 20, 50, 100, 500, 1000)
   (``levydyn.estimators.mohammadi_alpha_median``, ``block_sizes="authors"``, which keeps
   the K1 giving at least 10 blocks) to the layer's ``x_i`` in storage order, unclipped
   as in their code (``clip=False``: a value above 2 says "lighter than any stable law").
   Tensors with fewer than 16 entries give nan. What it measures: the spread *across
   the entries of a layer* of time-averaged weights -- the initialisation (PyTorch's
   Kaiming-uniform draw, a bounded law) plus the displacement training added to it --
   not a stationary fluctuation in time.
2. **Per parameter, across time** (the direct reading of the claim): for each parameter
   the deviations ``w_{k,i} - wbar_i`` of its K kept iterates, and Hill's estimator
   (``levydyn.estimators.hill_alpha``, k = round(K^(2/3))) on them; per layer the median
   and 10-90 % range over parameters. Hill uses only the marginal law, so it stays
   consistent for a dependent stationary sequence (block-sum estimators such as eq. 15
   do not: block sums of positively correlated iterates grow faster than
   ``K1^(1/alpha)`` and read as heavy tails). It is biased on Gaussian data, so the
   reference ``gauss_hill`` (median Hill on i.i.d. N(0, 1) samples of the same length,
   seeded) is reported: a layer's median below it means heavier-than-Gaussian tails.
   ``drift`` (per layer, median over parameters of ``|mean(second half) - mean(first
   half)| / std``) flags windows that are trending, not stationary: a linear trend
   alone gives ``sqrt(3) = 1.73``, a stationary sequence much less. Because a trend
   dominates such windows (cross-entropy on separable data has no minimum: the weights
   keep growing), Hill is also applied to the residuals of a per-parameter least-squares
   line in k (``time_alpha_detrended``), the fluctuation about the trend.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from levydyn import estimators as est
from nn_bridge.data.datasets import load_dataset
from nn_bridge.data.models import ModelSpec
from nn_bridge.noise.per_sample import ParameterLayout, parameter_layout
from nn_bridge.training.train import TrainConfig, train

__all__ = ["IterateConfig", "IterateRow", "layer_tail_index", "time_tail_indices",
           "gaussian_hill_reference", "run_iterates"]


@dataclass(frozen=True)
class IterateConfig:
    """Grid and lengths of the iterate runs (module docstring)."""

    etas: tuple[float, ...] = (0.01, 0.03, 0.1, 0.2)
    batch_sizes: tuple[int, ...] = (1, 4, 16, 64)
    iterations: int = 20000
    keep: int = 1000
    thin: int = 5
    seed: int = 0

    def __post_init__(self):
        etas = tuple(self.etas)
        object.__setattr__(self, "etas", etas)
        if not etas or any(isinstance(e, bool) or not isinstance(e, (int, float))
                           or not (math.isfinite(e) and e > 0) for e in etas):
            raise ValueError(f"etas={list(etas)!r}: must be positive finite numbers")
        bs = tuple(self.batch_sizes)
        object.__setattr__(self, "batch_sizes", bs)
        if not bs or any(isinstance(b, (bool, np.bool_)) or not isinstance(b, (int, np.integer))
                         or b < 1 for b in bs):
            raise ValueError(f"batch_sizes={list(bs)!r}: must be positive integers")
        for f, lo in (("keep", est.MIN_SAMPLES), ("thin", 1), ("iterations", 1)):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise ValueError(f"{f}={v!r}: must be an integer >= {lo}")
        if self.keep * self.thin > self.iterations:
            raise ValueError(f"keep={self.keep} x thin={self.thin}: more steps than "
                             f"iterations={self.iterations}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed={self.seed!r}: must be a non-negative integer")


@dataclass(frozen=True)
class IterateRow:
    """One (eta, b) run: the authors' layer alpha and the per-parameter time alpha.

    layer_alpha : layer -> authors' estimate (unclipped; nan for tensors < 16 entries).
    time_alpha : layer -> (median, q10, q90) of Hill's alpha_i across time.
    time_alpha_detrended : the same on the residuals of a linear fit in k.
    drift : layer -> median half-window mean shift / sd (module docstring).
    diverged : the loss became non-finite (then every estimate is nan).
    """

    eta: float
    batch_size: int
    iterations: int
    train_loss: float
    test_acc: float
    layer_alpha: dict
    time_alpha: dict
    drift: dict
    gauss_hill: float
    time_alpha_detrended: dict = field(default_factory=dict)
    diverged: bool = False
    eta_over_b: float = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "eta_over_b", self.eta / self.batch_size)


def layer_tail_index(values) -> float:
    """The authors' layer-wise tail index of one layer's time-averaged weights.

    ``x_i = v_i - mean(v)`` over the layer's entries (in storage order), then
    ``mohammadi_alpha_median(x, block_sizes="authors", clip=False)``: the median over
    K1 of eq. 15's ``1/alpha``, inverted. nan for fewer than ``MIN_SAMPLES`` entries.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size < est.MIN_SAMPLES:
        return float("nan")
    x = x - x.mean()
    if not np.any(x != 0.0):
        return float("nan")
    return float(est.mohammadi_alpha_median(x, block_sizes="authors", clip=False))


def _quantiles(v: np.ndarray) -> tuple[float, float, float]:
    v = v[np.isfinite(v)]
    return tuple(float(q) for q in np.quantile(v, [0.5, 0.1, 0.9])) if v.size \
        else (float("nan"),) * 3


def time_tail_indices(W: np.ndarray, layout: ParameterLayout
                      ) -> tuple[dict, dict, dict, dict]:
    """Per layer: the authors' alpha of the time averages, Hill's alpha_i across time
    (median, q10, q90), the drift, and Hill's alpha_i about a linear trend, from the kept
    iterates ``W`` (K x P). Residuals about the line: ``r_k = d_k - (k - kbar) s`` with
    ``d_k = w_k - wbar`` and ``s = sum (k - kbar) d_k / sum (k - kbar)^2``."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[1] != layout.n_params or W.shape[0] < est.MIN_SAMPLES:
        raise ValueError(f"W has shape {W.shape}: must be (K >= {est.MIN_SAMPLES}, "
                         f"{layout.n_params})")
    wbar = W.mean(axis=0)
    D = W - wbar
    K = W.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", est.AtomWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        hill = np.asarray(est.hill_alpha(D, axis=0), dtype=float)
        tc = np.arange(K) - (K - 1) / 2.0
        R = D - np.outer(tc, tc @ D / (tc @ tc))
        hill_r = np.asarray(est.hill_alpha(R, axis=0), dtype=float)
        sd = D.std(axis=0)
        shift = np.abs(D[K // 2:].mean(axis=0) - D[:K // 2].mean(axis=0))
        drift = np.where(sd > 0, shift / np.where(sd > 0, sd, 1.0), np.nan)
    layer_alpha, time_alpha, drifts, detrended = {}, {}, {}, {}
    for name in layout.names:
        s = layout.slice(name)
        layer_alpha[name] = layer_tail_index(wbar[s])
        time_alpha[name] = _quantiles(hill[s])
        detrended[name] = _quantiles(hill_r[s])
        drifts[name] = _quantiles(drift[s])[0]
    return layer_alpha, time_alpha, drifts, detrended


def gaussian_hill_reference(n: int, columns: int = 2000, seed: int = 20240611) -> float:
    """Median of ``hill_alpha`` (default k) over ``columns`` i.i.d. N(0, 1) samples of n."""
    rng = np.random.default_rng(seed)
    return float(np.median(est.hill_alpha(rng.standard_normal((int(n), int(columns))))))


def run_iterates(dataset: str = "digits", width: int = 32, depth: int = 2,
                 config: IterateConfig = IterateConfig(), device: str = "cpu",
                 on_run=None) -> list[IterateRow]:
    """Train the MLP (``width``, ``depth``) once per (eta, b) of ``config`` from the same
    seeded initialisation and read both tail indices off its kept iterates (module
    docstring). ``on_run(eta, b)`` is called before each run."""
    data = load_dataset(dataset, seed=config.seed)
    spec = ModelSpec(kind="mlp", in_features=data.n_features, n_classes=data.n_classes,
                     width=int(width), depth=int(depth), seed=config.seed)
    gref = gaussian_hill_reference(config.keep)
    n = data.n_train
    rows = []
    for eta in config.etas:
        for b in config.batch_sizes:
            if b > n:
                raise ValueError(f"batch_sizes: {b} exceeds the {n} training samples")
            if on_run is not None:
                on_run(eta, b)
            per_epoch = -(-n // b)
            epochs = -(-config.iterations // per_epoch)
            total = epochs * per_epoch
            first = total - config.keep * config.thin
            buf: list[torch.Tensor] = []

            def record(it, model, first=first, buf=buf):
                if it > first and (total - it) % config.thin == 0:
                    buf.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()])
                               .to("cpu", torch.float64))

            tc = TrainConfig(lr=float(eta), batch_size=int(b), max_epochs=epochs, grad_tol=0.0,
                             loss_rtol=0.0, patience=epochs, seed=config.seed,
                             checkpoint_every=epochs)
            try:
                res = train(data, spec, tc, device=device, on_step=record)
                W = torch.stack(buf).numpy()
                if not np.all(np.isfinite(W)):
                    raise FloatingPointError("non-finite iterates")
            except FloatingPointError:
                rows.append(IterateRow(eta=float(eta), batch_size=int(b), iterations=total,
                                       train_loss=float("nan"), test_acc=float("nan"),
                                       layer_alpha={}, time_alpha={}, drift={},
                                       gauss_hill=gref, diverged=True))
                continue
            la, ta, dr, td = time_tail_indices(W, parameter_layout(res.model))
            rows.append(IterateRow(eta=float(eta), batch_size=int(b), iterations=total,
                                   train_loss=float(res.final.get("loss", np.nan)),
                                   test_acc=float(res.final.get("test_acc", np.nan)),
                                   layer_alpha=la, time_alpha=ta, drift=dr, gauss_hill=gref,
                                   time_alpha_detrended=td))
    return rows
