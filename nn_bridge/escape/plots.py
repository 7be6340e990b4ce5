"""Plots of a prediction-vs-measurement study: escape-time curves and survival curves."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nn_bridge.escape.fit import CurveFit
from nn_bridge.escape.ladder import MODEL_LABELS
from nn_bridge.escape.study import Study
from nn_bridge.report import figure, save_figure

__all__ = ["plot_escape_curves", "plot_survival", "plot_ladder"]

_STYLE = {"levy": ("tab:red", "v"), "gauss": ("tab:blue", "s"),
          "lin_gauss": ("tab:cyan", "D"), "lin_minibatch": ("tab:green", "^"),
          "multiplicative": ("tab:purple", "P"), "multiplicative_exact": ("tab:pink", "X"),
          "nonlinear_frozen": ("tab:olive", "<"), "nonlinear_multiplicative": ("tab:orange", ">"),
          "nonlinear_gauss": ("tab:brown", "*")}


def plot_escape_curves(study: Study, path: str | Path) -> Path:
    """Mean escape iterations vs lr, one panel per batch size (log-log).

    Black: the network (95 % CI bars); coloured markers: each model's prediction; open
    markers: lower bounds (no exit before the censoring horizon); lines: the Levy (solid, alpha fitted) and
    Gaussian/Kramers (dashed) fits of the measurement (paper 004, Fig. 3).
    """
    bs = study.config.batch_sizes
    fits = study.fits()
    fig, axes = figure(nrows=1, ncols=len(bs), figsize=(4.2 * len(bs), 3.8), squeeze=False)
    for ax, B in zip(axes[0], bs):
        cells = [c for c in study.cells if c.batch_size == B]
        if not cells:
            ax.set_axis_off()
            continue
        lr = np.array([c.lr for c in cells])
        for c in cells:
            e = c.measured.mean_iterations()
            if math.isfinite(e.value):
                ax.errorbar([c.lr], [e.value], yerr=[[e.value - e.low], [e.high - e.value]],
                            fmt="o", color="k", capsize=3)
            else:
                ax.plot([c.lr], [e.low], "o", mfc="none", color="k")
        for model in study.config.models:
            if not all(model in c.predicted for c in cells):
                continue
            est = [c.predicted[model].mean_iterations() for c in cells]
            fin = np.array([math.isfinite(e.value) for e in est])
            col, mk = _STYLE[model]
            ax.plot(lr[fin], [e.value for e, f in zip(est, fin) if f], mk, color=col,
                    label=MODEL_LABELS[model], alpha=0.8)
            if (~fin).any():          # censored: the CI's lower bound, open marker
                ax.plot(lr[~fin], [e.low for e, f in zip(est, fin) if not f], mk, mfc="none",
                        color=col, alpha=0.8)
        xx = np.geomspace(lr.min() * 0.9, lr.max() * 1.1, 100)
        f = fits["vs_lr"].get(B, {})
        if isinstance(f.get("levy_free"), CurveFit):
            lf = f["levy_free"]
            ax.plot(xx, lf.predict(xx), "-", color="0.3", label="Levy fit, alpha free")
            ax.text(0.03, 0.03, f"Levy fit: alpha {lf.params['alpha']:.2f}, chi2/dof "
                    f"{lf.chi2_dof:.1f}", transform=ax.transAxes, fontsize=7)
        if isinstance(f.get("gaussian"), CurveFit):
            gf = f["gaussian"]
            ax.plot(xx, gf.predict(xx), "--", color="0.3", label="Gaussian (Kramers) fit")
            ax.text(0.03, 0.09, f"Gaussian fit: K {gf.params['K']:.2f}, chi2/dof "
                    f"{gf.chi2_dof:.1f}", transform=ax.transAxes, fontsize=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        ax.set_title(f"batch {B}: measured alpha_i median "
                     f"{study.basin.noise[B]['alpha_median']:.2f}")
    axes[0][0].set_ylabel("mean escape time (SGD iterations)")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(f"escape from ||w - w*|| < {study.config.radius:g}: network (black) vs models")
    return save_figure(fig, path, dpi=120)


def plot_survival(study: Study, path: str | Path) -> Path:
    """``P(escape iteration > u)`` per (batch, lr): network (black, Wilson band) vs models
    (paper 004, Fig. 4)."""
    bs, lrs = study.config.batch_sizes, study.config.lrs
    fig, axes = figure(nrows=len(bs), ncols=len(lrs), figsize=(3.2 * len(lrs), 2.6 * len(bs)),
                             squeeze=False)
    for i, B in enumerate(bs):
        for j, lr in enumerate(lrs):
            ax = axes[i][j]
            try:
                c = study.cell(B, lr)
            except ValueError:            # not measured (a --cached-only report)
                ax.set_axis_off()
                continue
            t = np.unique(np.concatenate([[0.0], np.rint(np.geomspace(1, study.config.max_iter,
                                                                       300))]))
            s = c.measured.survival(t)
            ax.step(t, s.survival, where="post", color="k", label="network")
            ax.fill_between(t, s.low, s.high, step="post", color="k", alpha=0.15)
            for model, e in c.predicted.items():
                col, _ = _STYLE[model]
                ax.step(t, e.survival(t).survival, where="post", color=col,
                        label=MODEL_LABELS[model], alpha=0.8)
            ax.set_xscale("symlog", linthresh=1)
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"B={B}, lr={lr:g}", fontsize=9)
            if j == 0:
                ax.set_ylabel("P(not escaped)")
            if i == len(bs) - 1:
                ax.set_xlabel("SGD iterations")
    axes[0][-1].legend(fontsize=6)
    return save_figure(fig, path, dpi=110)


def plot_ladder(study: Study, path: str | Path) -> Path:
    """The ladder: predicted / measured mean escape iterations of every rung, one row per
    (B, lr) cell, rungs in ladder order (network -> (h) -> (g) -> (f) -> (e) -> (d) -> (a)),
    log scale, 95 % CIs; the band marks a factor 2. Open markers: censored predictions at
    their lower bound."""
    from nn_bridge.escape.ladder import LADDER

    models = [m for m in LADDER if m in study.config.models]
    cells = study.cells
    fig, ax = figure(figsize=(7.5, 0.32 * len(cells) * len(models) / 3 + 2.2))
    y0 = np.arange(len(cells))[::-1].astype(float)
    off = np.linspace(-0.32, 0.32, max(len(models), 1))
    for k, m in enumerate(models):
        col, mk = _STYLE[m]
        labelled = False
        for i, c in enumerate(cells):
            if m not in c.predicted:
                continue
            r = c.ratio(m)
            yy = y0[i] + off[k]
            lab = None if labelled else MODEL_LABELS[m]
            if math.isfinite(r.value) and math.isfinite(r.low):
                ax.errorbar([r.value], [yy], xerr=[[r.value - r.low], [r.high - r.value]],
                            fmt=mk, color=col, ms=5, capsize=2, label=lab)
            else:                   # censored: open marker at the lower bound
                lo = c.predicted[m].mean_iterations().low / c.measured.mean_iterations().value
                if not (math.isfinite(lo) and lo > 0):
                    continue
                ax.plot([lo], [yy], mk, mfc="none", color=col, label=lab)
            labelled = True
    ax.axvspan(0.5, 2.0, color="0.9", zorder=0)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(y0, [f"B={c.batch_size}, lr={c.lr:g} "
                       f"({100 * (1 - c.measured.dist_exited.mean()):.0f}% cens.)" for c in cells],
                  fontsize=7)
    ax.set_xlabel("predicted / measured mean escape iterations (grey: within 2x)")
    ax.set_title(f"{study.config.dataset}: the ladder from the network to the SDE model", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return save_figure(fig, path, dpi=120)
