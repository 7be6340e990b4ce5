"""Papers 000 / 003 / 004 on a small offline network: one grid of (width, depth, batch size).

For every network of a grid (fully connected networks of several widths and depths, and
small CNNs of several channel widths, scikit-learn data, trained by plain SGD with
``nn_bridge.training.train``) the minibatch gradient noise is measured at the trained weights for
several batch sizes (``nn_bridge.noise.measure``), and three papers' summaries are read off the
same noise:

- paper 000 (Simsekli, Sagun & Gurbuzbalaban 2019, Figs. 4-6): the pooled tail index,
  eq. 15 on every parameter's noise concatenated, against width, depth and batch size,
  for the fully connected networks and the CNN (their Fig. 5: alpha against the number
  of filters);
- paper 003 (Gaussianity of gradient noise): the share of parameters per layer whose
  Shapiro-Wilk test is not rejected, against batch size, next to the Berry-Esseen link
  of its Theorem 1 (eq. 13): per parameter, ``beta/sigma^3`` of the *per-sample*
  gradient noise (B = 1; ``beta = E|u|^3``, ``sigma^2 = E u^2`` over the training set,
  which is exactly the law of one i.i.d. draw of a minibatch), its median over the
  layer, and the bound ``C beta/(sigma^3 sqrt(B))`` on the Kolmogorov distance of the
  standardised minibatch mean from N(0, 1), ``C = 0.4748`` (Shevtsova 2011, i.i.d.
  summands; ``levydyn.estimators.BERRY_ESSEEN_CONSTANT``);
- paper 004 (per-parameter alpha): alpha_i per layer (median and 10-90 % range).

Paper 001's tail index of SGD iterates is in ``nn_bridge.papers.iterates``.

Differences from the papers, stated where the numbers are shown: the networks are small
(digits: 1437 training images of 8 x 8, against MNIST / CIFAR), trained for a fixed number
of epochs, and the noise is measured once at the final weights (paper 000 averages its
estimate over the last 10k iterations of training).
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from levydyn.estimators import BERRY_ESSEEN_CONSTANT, berry_esseen_bound
from nn_bridge.data.datasets import load_dataset
from nn_bridge.noise.measure import MeasureConfig, run_measurement
from nn_bridge.noise.per_sample import ParameterLayout, parameter_layout, per_sample_gradients
from nn_bridge.training.train import TrainConfig

__all__ = ["ReproduceRow", "reproduce_grid", "layer_third_moments", "bound_batch_size",
           "reproduce_report"]


@dataclass(frozen=True)
class ReproduceRow:
    """One (network, batch size): the three papers' numbers on the same noise.

    arch : ``"mlp"`` or ``"cnn"``; width : hidden units (MLP) or first-layer channels
    (CNN); depth : weight layers (``nn_bridge.data.models``).
    third_moment_layers : layer -> median over its parameters of ``beta/sigma^3`` of the
        per-sample (B = 1) gradient noise; the same at every batch size.
    berry_esseen_layers : layer -> median over its parameters of the Berry-Esseen bound
        ``C beta/(sigma^3 sqrt(B))`` at this row's B (``C`` = ``berry_esseen_constant``).
    """

    width: int
    depth: int
    batch_size: int
    test_acc: float
    pooled_alpha: float
    alpha_layers: dict          # layer -> (median, q10, q90) of alpha_i
    gaussian_layers: dict       # layer -> share of Shapiro-Wilk non-rejections
    gaussian_overall: float
    alpha_median: float
    arch: str = "mlp"
    third_moment_layers: dict = field(default_factory=dict)
    berry_esseen_layers: dict = field(default_factory=dict)
    berry_esseen_constant: float = BERRY_ESSEEN_CONSTANT


def _nanmedian(v: np.ndarray) -> float:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


def layer_third_moments(G: np.ndarray, layout: ParameterLayout,
                        batch_sizes=(1,)) -> tuple[dict, dict]:
    """Per layer, the median ``beta/sigma^3`` and the median Berry-Esseen bound at each B.

    ``G`` (N x P) holds one row per training sample: the per-sample gradients (their
    centring is done here: ``u_n = G_n - mean_n G_n``, the B = 1 gradient noise). Per
    column (``levydyn.estimators.berry_esseen_bound``, plug-in 1/N moments)::

        beta/sigma^3 = mean_n |u_n|^3 / (mean_n u_n^2)^(3/2),
        bound(B)     = C * (beta/sigma^3) / sqrt(B),    C = 0.4748 (Shevtsova 2011),

    the bound on ``sup_x |F_B(x) - Phi(x)|`` for the standardised mean of B i.i.d. draws
    (paper 003, Theorem 1, eq. 13). Zero-variance columns (dead units) are left out of
    the medians. Returns ``({layer: ratio}, {layer: {B: bound}})``.
    """
    G = np.asarray(G, dtype=np.float64)
    if G.ndim != 2 or G.shape[1] != layout.n_params:
        raise ValueError(f"G has shape {G.shape}: must be (samples, {layout.n_params})")
    ratios, bounds = {}, {}
    for name in layout.names:
        cols = G[:, layout.slice(name)]
        be = {int(b): berry_esseen_bound(cols, batch_size=int(b)) for b in batch_sizes}
        first = next(iter(be.values()))
        ratios[name] = _nanmedian(first.ratio)
        bounds[name] = {b: _nanmedian(r.bound) for b, r in be.items()}
    return ratios, bounds


def bound_batch_size(ratio: float, distance: float,
                     constant: float = BERRY_ESSEEN_CONSTANT) -> float:
    """Smallest B with ``C ratio / sqrt(B) <= distance``: ``B = (C ratio / distance)^2``."""
    if not (distance > 0):
        raise ValueError(f"distance must be positive, got distance={distance!r}")
    return (constant * ratio / distance) ** 2


def _check_ints(name: str, values, allow_empty: bool = False) -> tuple[int, ...]:
    out = tuple(values)
    if (not out and not allow_empty) or any(isinstance(v, (bool, np.bool_))
                                            or not isinstance(v, (int, np.integer)) or v < 1
                                            for v in out):
        raise ValueError(f"{name}={list(out)!r}: must be positive integers")
    return tuple(int(v) for v in out)


def reproduce_grid(dataset: str = "digits", widths=(16, 32, 64, 128), depths=(2, 3, 4),
                   base_width: int = 32, base_depth: int = 2, batch_sizes=(16, 64, 256),
                   n_minibatches: int = 400, epochs: int = 60, lr: float = 0.1,
                   train_batch_size: int = 64, seed: int = 0, device: str = "cpu",
                   workdir=None, on_network=None, cnn_channels=(8, 16),
                   cnn_depth: int = 3) -> list[ReproduceRow]:
    """Widths at ``base_depth`` and depths at ``base_width`` (the base network once), then
    a ``SmallCNN`` of ``cnn_depth`` weight layers per entry of ``cnn_channels`` (empty:
    none; needs image data such as digits), each measured at every batch size with the
    same training and noise settings. ``on_network(arch, width, depth)`` is called
    before each network."""
    cnn_channels = _check_ints("cnn_channels", cnn_channels, allow_empty=True)
    data = load_dataset(dataset, seed=seed)
    if cnn_channels and data.image_shape is None:
        raise ValueError(f"cnn_channels={list(cnn_channels)}: dataset {dataset!r} has no "
                         "images for the CNN (use digits, or cnn_channels=())")
    nets = [("mlp", w, base_depth) for w in widths] + [("mlp", base_width, d) for d in depths]
    nets = list(dict.fromkeys(nets)) + [("cnn", c, int(cnn_depth)) for c in cnn_channels]
    cfg = MeasureConfig(batch_sizes=tuple(int(b) for b in batch_sizes),
                        n_minibatches=int(n_minibatches), n_fit=0, seed=int(seed))
    train = TrainConfig(lr=float(lr), batch_size=int(train_batch_size), max_epochs=int(epochs),
                        seed=int(seed))
    X = torch.as_tensor(data.X_train)
    y = torch.as_tensor(data.y_train)
    rows = []
    for arch, w, d in nets:
        if on_network is not None:
            on_network(arch, w, d)
        m = run_measurement(dataset, model=arch, width=int(w), depth=int(d), train_config=train,
                            config=cfg, data_seed=seed, model_seed=seed, device=device,
                            workdir=workdir)
        net = m.model.to("cpu")
        G = per_sample_gradients(net, X, y).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ratios, bounds = layer_third_moments(G, parameter_layout(net), cfg.batch_sizes)
        del G
        for b in cfg.batch_sizes:
            st = m.stats[b]
            rows.append(ReproduceRow(
                width=int(w), depth=int(d), batch_size=int(b), arch=arch,
                test_acc=float(m.training.get("test_acc", np.nan)),
                pooled_alpha=float(st.pooled_alpha),
                alpha_layers={ly.name: (ly.alpha_median, ly.alpha_q10, ly.alpha_q90)
                              for ly in st.layers},
                gaussian_layers={ly.name: ly.gaussian_fraction for ly in st.layers},
                gaussian_overall=float(st.overall.gaussian_fraction),
                alpha_median=float(st.overall.alpha_median),
                third_moment_layers=dict(ratios),
                berry_esseen_layers={k: v[int(b)] for k, v in bounds.items()}))
    return rows


def reproduce_report(rows, sensitivity, iterate_rows=(), iterate_config=None,
                     **settings) -> dict:
    """JSON-able: ``settings`` (dataset, epochs, lr, minibatches, seed), the grid's rows, the
    Shapiro-Wilk sensitivity and paper 001's iterate rows with their config."""
    return {"command": "nn reproduce", **settings, "rows": [asdict(r) for r in rows],
            "shapiro_sensitivity": dict(asdict(sensitivity)),
            "iterate_config": None if iterate_config is None else asdict(iterate_config),
            "iterates": [asdict(r) for r in iterate_rows]}
