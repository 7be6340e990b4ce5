"""Histogram of the per-parameter tail indices alpha_i, per layer and batch size."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nn_bridge.report import figure, save_figure

__all__ = ["plot_alpha_histograms"]


def _layer_of(name: str) -> str:
    """``net.fc1.weight`` -> ``fc1``: weights and biases of one module share a layer."""
    parts = name.split(".")
    return parts[-2] if len(parts) >= 2 else name


def plot_alpha_histograms(measurement, path: str | Path) -> Path:
    """One panel per batch size; overlaid alpha_i histograms of each layer.

    Dashed line: the pooled one-alpha-per-network value (paper 000, eq. 15); dotted:
    the 5 % quantile of the estimator on Gaussian samples of the same size (left of it
    a parameter is "heavy").
    """
    stats = measurement.stats
    bs = sorted(stats)
    fig, axes = figure(nrows=1, ncols=len(bs), figsize=(4.2 * len(bs), 3.4), squeeze=False,
                             sharey=False)
    bins = np.linspace(0.0, 2.0, 41)
    for ax, b in zip(axes[0], bs):
        s = stats[b]
        names = list(s.layer_names)
        groups: dict[str, list[int]] = {}
        for k, n in enumerate(names):
            groups.setdefault(_layer_of(n), []).append(k)
        sizes = [int(np.prod(sh)) for sh in measurement.profile(b).layer_shapes]
        offs = np.concatenate([[0], np.cumsum(sizes)])
        for layer, ks in groups.items():
            a = np.concatenate([s.alpha[offs[k]:offs[k + 1]] for k in ks])
            a = a[np.isfinite(a)]
            if a.size:
                ax.hist(a, bins=bins, histtype="step", density=True, linewidth=1.5,
                        label=f"{layer} ({a.size})")
        ax.axvline(s.pooled_alpha, color="k", ls="--", lw=1, label=f"pooled {s.pooled_alpha:.2f}")
        ax.axvline(s.alpha_gauss_q05, color="grey", ls=":", lw=1)
        ax.set_title(f"B = {b}: Gaussian {100 * s.overall.gaussian_fraction:.1f} %")
        ax.set_xlabel(r"$\alpha_i$ (" + s.estimator + ")")
        ax.set_xlim(0, 2.05)
        ax.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("density over parameters")
    fig.suptitle(f"per-parameter gradient-noise tail index: {measurement.data['name']}, "
                 f"{measurement.spec.kind} width {measurement.spec.width} depth "
                 f"{measurement.spec.depth}, M = {stats[bs[0]].n_minibatches}", fontsize=9)
    return save_figure(fig, path, dpi=110)
