"""The figures of ``levydyn nn reproduce``: papers 000 / 003 on the grid of networks,
paper 001 on the SGD iterates."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nn_bridge.papers.tables import short_layer as _short
from nn_bridge.report import figure, save_figure

__all__ = ["plot_grid", "plot_iterates"]


def plot_grid(path, rows, base_width: int, base_depth: int, sens) -> Path:
    """Pooled alpha vs width (MLP, CNN) and depth (paper 000); Gaussian % (paper 003) and the
    Berry-Esseen bound per layer vs B, with what Shapiro-Wilk and KS can see (``sens``)."""
    fig, (ax1, ax2, ax3, ax4) = figure(nrows=1, ncols=4, figsize=(17, 4))
    batches = sorted({r.batch_size for r in rows})
    for b in batches:
        wr = sorted((r for r in rows if r.arch == "mlp" and r.batch_size == b
                     and r.depth == base_depth), key=lambda r: r.width)
        line, = ax1.plot([r.width for r in wr], [r.pooled_alpha for r in wr], "o-",
                         label=f"MLP B = {b}")
        cr = sorted((r for r in rows if r.arch == "cnn" and r.batch_size == b),
                    key=lambda r: r.width)
        if cr:
            ax1.plot([r.width for r in cr], [r.pooled_alpha for r in cr], "^--",
                     color=line.get_color(), label=f"CNN B = {b} (channels)")
        dr = sorted((r for r in rows if r.arch == "mlp" and r.batch_size == b
                     and r.width == base_width), key=lambda r: r.depth)
        ax2.plot([r.depth for r in dr], [r.pooled_alpha for r in dr], "s-", label=f"B = {b}")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel(f"width: MLP units (depth {base_depth}) / CNN channels")
    ax2.set_xlabel(f"MLP depth (width {base_width})")
    for ax in (ax1, ax2):
        ax.set_ylabel("pooled alpha (paper 000 eq. 15)")
        ax.axhline(2.0, color="grey", ls="--", lw=0.8)
        ax.legend(fontsize=7)
    base = sorted((r for r in rows if r.arch == "mlp" and r.width == base_width
                   and r.depth == base_depth), key=lambda r: r.batch_size)
    if base:
        for layer in base[0].gaussian_layers:
            line, = ax3.plot([r.batch_size for r in base],
                             [100 * r.gaussian_layers[layer] for r in base], "o-",
                             label=_short(layer))
            ax4.plot([r.batch_size for r in base], [r.berry_esseen_layers[layer] for r in base],
                     "o-", color=line.get_color(), label=_short(layer))
    ax4.axhline(sens.detectable_distance, color="k", ls=":", lw=1,
                label=f"Shapiro-Wilk sees ~{sens.detectable_distance:.3f}")
    ax4.axhline(sens.ks_critical, color="grey", ls="--", lw=0.8,
                label=f"KS 5 % critical {sens.ks_critical:.3f}")
    for ax in (ax3, ax4):
        ax.set_xscale("log", base=2)
        ax.set_xlabel(f"batch size B (MLP width {base_width}, depth {base_depth})")
        ax.legend(fontsize=7)
    ax3.set_ylabel("Gaussian % per layer (paper 003, Shapiro-Wilk)")
    ax4.set_yscale("log")
    ax4.set_ylabel("median Berry-Esseen bound C beta/(sigma^3 sqrt B)")
    fig.suptitle("gradient noise of small networks on digits at the trained weights", fontsize=9)
    return save_figure(fig, path, dpi=110)


_ALPHA_TOP = 3.0      # the iterate figure shows larger layer alphas at this edge


def plot_iterates(path, rows) -> Path:
    """Paper 001: the layer alpha of the time-averaged weights and the per-parameter Hill
    alpha_i across time, against eta / b."""
    from matplotlib.ticker import NullFormatter

    ok = [r for r in rows if not r.diverged]
    fig, (ax1, ax2) = figure(nrows=1, ncols=2, figsize=(11, 4))
    layers = list(ok[0].layer_alpha) if ok else []
    for layer in layers:
        pts = sorted(ok, key=lambda r: r.eta_over_b)
        x = [r.eta_over_b for r in pts]
        la = np.array([r.layer_alpha[layer] for r in pts])
        line, = ax1.plot(x, np.minimum(la, _ALPHA_TOP), "o", label=_short(layer))
        high = la > _ALPHA_TOP
        ax1.plot(np.array(x)[high], np.full(int(high.sum()), _ALPHA_TOP), "^",
                 color=line.get_color())
        ax2.plot(x, [r.time_alpha[layer][0] for r in pts], "o", color=line.get_color(),
                 label=_short(layer))
        ax2.plot(x, [r.time_alpha_detrended[layer][0] for r in pts], "x",
                 color=line.get_color())
    if ok:
        ax2.axhline(ok[0].gauss_hill, color="k", ls=":", lw=1,
                    label=f"Hill on i.i.d. Gaussian ({ok[0].gauss_hill:.2f})")
    ax1.axhline(2.0, color="grey", ls="--", lw=0.8)
    ax1.set_ylim(top=_ALPHA_TOP + 0.05)
    ax1.set_ylabel(f"layer alpha, time-averaged weights (^: > {_ALPHA_TOP:g})")
    ax2.set_ylabel("median Hill alpha_i of the iterates")
    ax2.set_title("o: w_k about its mean; x: about a linear trend", fontsize=8)
    ax1.set_title("the authors' protocol (sgd_ht)", fontsize=8)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("eta / b")
        ax.legend(fontsize=7)
    fig.suptitle("paper 001: tail index of SGD iterates per layer (MLP on digits)", fontsize=9)
    return save_figure(fig, path, dpi=110)
