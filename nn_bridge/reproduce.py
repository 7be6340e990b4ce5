"""Papers 000 / 003 / 004 on a small offline network: one grid of (width, depth, batch size).

For every network of a grid (fully connected, scikit-learn data, trained by plain SGD with
``nn_bridge.train``) the minibatch gradient noise is measured at the trained weights for
several batch sizes (``nn_bridge.measure``), and three papers' summaries are read off the
same noise:

- paper 000 (Simsekli, Sagun & Gurbuzbalaban 2019, Figs. 4-6): the pooled tail index,
  eq. 15 on every parameter's noise concatenated, against width, depth and batch size;
- paper 003 (Gaussianity of gradient noise): the share of parameters per layer whose
  Shapiro-Wilk test is not rejected, against batch size;
- paper 004 (per-parameter alpha): alpha_i per layer (median and 10-90 % range).

Differences from the papers, stated where the numbers are shown: the networks are small
(digits: 1437 training images of 8 x 8, against MNIST / CIFAR), trained for a fixed number
of epochs, and the noise is measured once at the final weights (paper 000 averages its
estimate over the last 10k iterations of training).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nn_bridge.measure import MeasureConfig, run_measurement
from nn_bridge.train import TrainConfig

__all__ = ["ReproduceRow", "reproduce_grid"]


@dataclass(frozen=True)
class ReproduceRow:
    """One (network, batch size): the three papers' numbers on the same noise."""

    width: int
    depth: int
    batch_size: int
    test_acc: float
    pooled_alpha: float
    alpha_layers: dict          # layer -> (median, q10, q90) of alpha_i
    gaussian_layers: dict       # layer -> share of Shapiro-Wilk non-rejections
    gaussian_overall: float
    alpha_median: float


def reproduce_grid(dataset: str = "digits", widths=(16, 32, 64, 128), depths=(2, 3, 4),
                   base_width: int = 32, base_depth: int = 2, batch_sizes=(16, 64, 256),
                   n_minibatches: int = 400, epochs: int = 60, lr: float = 0.1,
                   train_batch_size: int = 64, seed: int = 0, device: str = "cpu",
                   workdir=None, on_network=None) -> list[ReproduceRow]:
    """Widths at ``base_depth`` and depths at ``base_width`` (the base network once), each
    measured at every batch size. ``on_network(width, depth)`` is called before each."""
    nets = [(w, base_depth) for w in widths] + [(base_width, d) for d in depths]
    nets = list(dict.fromkeys(nets))
    cfg = MeasureConfig(batch_sizes=tuple(int(b) for b in batch_sizes),
                        n_minibatches=int(n_minibatches), n_fit=0, seed=int(seed))
    train = TrainConfig(lr=float(lr), batch_size=int(train_batch_size), max_epochs=int(epochs),
                        seed=int(seed))
    rows = []
    for w, d in nets:
        if on_network is not None:
            on_network(w, d)
        m = run_measurement(dataset, model="mlp", width=int(w), depth=int(d), train_config=train,
                            config=cfg, data_seed=seed, model_seed=seed, device=device,
                            workdir=workdir)
        for b in cfg.batch_sizes:
            st = m.stats[b]
            rows.append(ReproduceRow(
                width=int(w), depth=int(d), batch_size=int(b),
                test_acc=float(m.training.get("test_acc", np.nan)),
                pooled_alpha=float(st.pooled_alpha),
                alpha_layers={ly.name: (ly.alpha_median, ly.alpha_q10, ly.alpha_q90)
                              for ly in st.layers},
                gaussian_layers={ly.name: ly.gaussian_fraction for ly in st.layers},
                gaussian_overall=float(st.overall.gaussian_fraction),
                alpha_median=float(st.overall.alpha_median)))
    return rows
