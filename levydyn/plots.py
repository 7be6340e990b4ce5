"""Pictures of simulations next to their closed forms (matplotlib, Agg, no pyplot state).

Every function takes plain numbers, :class:`~levydyn.results.Estimate` lists and
:class:`~levydyn.trajectories.Trajectories`, draws a :class:`matplotlib.figure.Figure`
(never the global pyplot figure, so nothing leaks between calls or threads), writes it to
``path`` when one is given, and returns the figure. Conventions shared by all plots:
simulated values are markers with 95 % confidence bars, closed forms are lines (solid:
Levy small-noise limit, dashed: Brownian / finite-horizon / secondary), and axis labels
carry units ("SDE time": one SGD step of learning rate eta is eta time units).

The CLI (``levydyn escape --plot ...``) and the teaching demos in ``examples/`` call
these; the library never imports the CLI.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from levydyn.results import Estimate

COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
          "tab:pink", "tab:gray", "tab:olive", "tab:cyan")
TIME_LABEL = "SDE time (one SGD step = learning rate)"


# --------------------------------------------------------------------------- drawing helpers


def _finite(v) -> bool:
    return v is not None and isinstance(v, (int, float, np.floating)) and math.isfinite(v)


def draw_estimates(ax, x, estimates: Sequence[Estimate], *, label: str, color: str,
                   marker: str = "o", offset: float = 1.0, log_x: bool = False) -> None:
    """Markers at ``Estimate.value`` with error bars ``[low, high]`` (skips non-finite).

    ``offset`` shifts x multiplicatively (log axes) or additively (linear axes) so that
    several series at the same x stay readable.
    """
    xs, ys, lo, hi = [], [], [], []
    for xi, e in zip(x, estimates):
        if e is None or not _finite(e.value):
            continue
        xs.append(xi * offset if log_x else xi + (offset - 1.0))
        ys.append(e.value)
        lo.append(e.value - e.low if _finite(e.low) else 0.0)
        hi.append(e.high - e.value if _finite(e.high) else 0.0)
    if xs:
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt=marker, color=color, ms=5, capsize=3,
                    lw=1.2, label=label, zorder=3)


def draw_trajectories(ax, traj, *, lower=None, upper=None, axis: int = 0, max_paths: int = 10,
                      title: str | None = None, hlines=None) -> None:
    """Sample paths: ``x_axis(t)`` for 1-D problems, the plane ``(x_1, x_2)`` for 2-D ones.

    ``lower`` / ``upper``: the box faces (drawn as lines, or as a rectangle in 2-D).
    ``hlines``: extra ``(y, style, label)`` horizontal lines (e.g. the maxima of a
    multi-well potential). Exit points are marked with a cross.
    """
    dim = traj.x.shape[2]
    n = min(traj.n_paths, max_paths)
    if dim >= 2:
        view = None
        if lower is not None and upper is not None:
            lo, up = np.asarray(lower, float)[:2], np.asarray(upper, float)[:2]
            ax.add_patch(_rectangle(lo, up))
            pad = 0.5 * (up - lo)
            view = (lo - pad, up + pad)
        for i in range(n):
            _, x = traj.path(i)
            x = x[:, :2] if view is None else np.clip(x[:, :2], *view)   # far landings at the edge
            c = COLORS[i % len(COLORS)]
            ax.plot(x[:, 0], x[:, 1], lw=0.7, color=c, alpha=0.85)
            if traj.exited[i]:
                ax.plot(x[-1, 0], x[-1, 1], "x", color=c, ms=8, mew=2)
        ax.plot([0], [0], "k+", ms=10)
        if view is not None:
            ax.set_xlim(view[0][0], view[1][0])
            ax.set_ylim(view[0][1], view[1][1])
            ax.set_aspect("equal")
        else:
            ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("x1" + ("  (far landings clipped to frame)" if view is not None else ""))
        ax.set_ylabel("x2")
    else:
        view = None
        if lower is not None and upper is not None:
            lo, up = float(np.ravel(lower)[axis]), float(np.ravel(upper)[axis])
            if math.isfinite(lo) and math.isfinite(up):
                view = (lo - 0.6 * (up - lo), up + 0.6 * (up - lo))
        for i in range(n):
            t, x = traj.path(i)
            y = x[:, axis] if view is None else np.clip(x[:, axis], *view)
            c = COLORS[i % len(COLORS)]
            ax.plot(t, y, lw=0.7, color=c, alpha=0.85)
            if traj.exited[i]:
                ax.plot(t[-1], y[-1], "x", color=c, ms=8, mew=2)
        if lower is not None:
            ax.axhline(float(np.ravel(lower)[axis]), color="k", lw=1.2, ls="-")
        if upper is not None:
            ax.axhline(float(np.ravel(upper)[axis]), color="k", lw=1.2, ls="-",
                       label="exit boundary")
        for y, style, lab in (hlines or []):
            ax.axhline(y, color="0.4", lw=1, ls=style, label=lab)
        ax.set_xlabel(TIME_LABEL)
        ax.set_ylabel("x(t)")
        if view is not None:
            pad = 0.04 * (view[1] - view[0])
            ax.set_ylim(view[0] - pad, view[1] + pad)
            ax.set_ylabel("x(t), clipped to frame")
    if title:
        ax.set_title(title, fontsize=10)


def _value_ticks(ax, values) -> None:
    """Label a log x-axis at the simulated values only (no crowded minor labels)."""
    from matplotlib.ticker import NullFormatter

    v = sorted({float(x) for x in values})
    ax.set_xticks(v)
    ax.set_xticklabels([f"{x:g}" for x in v])
    ax.xaxis.set_minor_formatter(NullFormatter())


def _rectangle(lo, up):
    from matplotlib.patches import Rectangle

    return Rectangle((lo[0], lo[1]), up[0] - lo[0], up[1] - lo[1], fill=False, ec="k", lw=1.2,
                     label="exit box")


def _save(fig: Figure, path, dpi: int = 120) -> Figure:
    """The one way a figure of this module is finished: tight layout, then written
    atomically (:func:`levydyn.output_files.atomic_savefig`) when ``path`` is given."""
    fig.tight_layout()
    if path is not None:
        from levydyn.output_files import atomic_savefig

        atomic_savefig(fig, path, dpi=dpi)
    return fig


def _with_paths_panel(trajectories, widths, height):
    """A figure with the main axes, and a second panel on the right for sample paths when
    ``trajectories`` are given (``widths = (one panel, two panels)``); returns (fig, ax)."""
    two = trajectories is not None
    fig = Figure(figsize=(widths[1] if two else widths[0], height))
    axes = fig.subplots(1, 2) if two else [fig.subplots()]
    return fig, axes[0]


def _draw_paths_panel(fig, trajectories, lower, upper, title, loc) -> None:
    """Sample paths in the second panel made by :func:`_with_paths_panel` (if any)."""
    if trajectories is not None:
        ax = fig.axes[1]
        draw_trajectories(ax, trajectories, lower=lower, upper=upper, title=title)
        ax.legend(fontsize=8, loc=loc)


# --------------------------------------------------------------------------- figures


def escape_vs_eps(eps, levy: Sequence[Estimate], *, levy_theory=None, brownian=None,
                  brownian_theory=None, alpha: float | None = None, title: str = "",
                  trajectories=None, traj_lower=None, traj_upper=None, traj_title: str = "",
                  path=None) -> Figure:
    """Mean exit time vs eps on log-log axes.

    levy : simulated mean exit times (one Estimate per eps).
    levy_theory : ``(eps_grid, mean)`` of the closed form (Levy small-noise limit).
    brownian, brownian_theory : the same for alpha = 2 (``None`` entries are skipped).
    trajectories : optional sample paths drawn in a second panel.
    """
    fig, ax = _with_paths_panel(trajectories, (6.5, 11.5), 4.6)
    eps = np.asarray(eps, dtype=float)
    lab_a = f"alpha = {alpha:g}" if alpha is not None else "Levy"
    draw_estimates(ax, eps, levy, label=f"simulated, {lab_a} (95% CI)", color="tab:blue",
                   log_x=True)
    ys = [e.value for e in levy if e is not None and _finite(e.value)]
    if levy_theory is not None:
        g, m = levy_theory
        ax.plot(g, m, "-", color="tab:blue", lw=1.5,
                label="Levy theory: alpha / (c_alpha eps^alpha (d-^-alpha + d+^-alpha))")
        ys += [v for v in m if _finite(v)]
    if brownian is not None:
        draw_estimates(ax, eps, brownian, label="simulated, Brownian alpha = 2 (95% CI)",
                       color="tab:red", marker="s", log_x=True)
        ys += [e.value for e in brownian if e is not None and _finite(e.value)]
    if brownian_theory is not None:
        g, m = brownian_theory
        m = np.asarray(m, dtype=float)
        ok = np.isfinite(m)
        ax.plot(np.asarray(g)[ok], m[ok], "--", color="tab:red", lw=1.5,
                label="Brownian theory (exact; ~ exp(height / eps^2))")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if ys:
        lo, hi = min(ys), max(ys)
        ax.set_ylim(lo / 3, hi * 30)
    _value_ticks(ax, eps)
    ax.set_xlabel("noise level eps")
    ax.set_ylabel("mean exit time E tau  [SDE time]")
    ax.set_title(title or "Mean exit time vs noise level", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="upper right")
    _draw_paths_panel(fig, trajectories, traj_lower, traj_upper, traj_title or "sample paths", "lower left")
    return _save(fig, path)


def axis_probabilities(labels: Sequence[str], estimates: Sequence[Estimate], theory,
                       *, title: str = "", ylabel: str = "P(exit along axis)",
                       trajectories=None, traj_lower=None, traj_upper=None,
                       path=None) -> Figure:
    """Per-axis bar chart: simulated probabilities (bars, 95 % Wilson CI) and theory (diamonds)."""
    fig, ax = _with_paths_panel(trajectories, (6, 11), 4.4)
    x = np.arange(len(labels))
    vals = [e.value for e in estimates]
    err = [[e.value - e.low for e in estimates], [e.high - e.value for e in estimates]]
    ax.bar(x, vals, width=0.55, color="tab:blue", alpha=0.75, label="simulated (95% CI)",
           yerr=err, capsize=5)
    ax.plot(x, theory, "D", color="k", ms=8, label="small-noise theory")
    for xi, v, t in zip(x, vals, theory):
        ax.text(xi + 0.3, v, f"sim {v:.3f}\ntheory {t:.3f}", ha="left", va="center", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels(labels)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, axis="y", alpha=0.25)
    _draw_paths_panel(fig, trajectories, traj_lower, traj_upper, "sample paths: each escape is one jump along one axis", "upper right")
    return _save(fig, path)


def probability_curves(series, *, xlabel: str, ylabel: str, title: str = "",
                       trajectories=None, traj_lower=None, traj_upper=None, traj_title="",
                       path=None) -> Figure:
    """Probabilities vs a parameter: each series a dict with ``label``, ``x``,
    ``estimates`` (simulated, 95 % CI) and optionally ``theory_x``, ``theory_y`` (line)."""
    fig, ax = _with_paths_panel(trajectories, (6.5, 11), 4.6)
    n = len(series)
    for k, s in enumerate(series):
        c = s.get("color", COLORS[k % len(COLORS)])
        span = np.ptp(s["x"]) if len(s["x"]) > 1 else 1.0
        shift = 1.0 + (k - (n - 1) / 2) * 0.008 * span
        draw_estimates(ax, s["x"], s["estimates"], label=f"{s['label']}: simulated", color=c,
                       offset=shift)
        if s.get("theory_x") is not None:
            ax.plot(s["theory_x"], s["theory_y"], "-", color=c, lw=1.4,
                    label=f"{s['label']}: theory")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.25)
    ax.legend(fontsize=8, loc="best")
    _draw_paths_panel(fig, trajectories, traj_lower, traj_upper, traj_title or "sample paths", "upper right")
    return _save(fig, path)


def survival_curves(curves, *, schedules=None, trajectories=None, traj_lower=None,
                    traj_upper=None, title: str = "", log_y: bool = True,
                    t_max: float | None = None, path=None) -> Figure:
    """Survival ``P(sigma > u)`` of several runs: simulated (steps + 95 % band) and theory
    (dashed, same colour).

    curves : dicts with ``label``, ``t``, ``survival``, ``low``, ``high``, ``n`` and
        optionally ``theory_t``, ``theory``, ``mean`` (Estimate), ``theory_mean``.
    schedules : dicts with ``label``, ``t``, ``s`` (the learning-rate factor s_t), drawn
        in a left panel.
    trajectories : ``[(label, Trajectories)]``, drawn in a bottom row, one panel each.
    """
    rows = 2 if trajectories else 1
    fig = Figure(figsize=(12 if schedules is not None or trajectories else 6.5,
                          4.6 + (2.8 if trajectories else 0)))
    gs = fig.add_gridspec(rows, 1, height_ratios=[1.5, 1] if trajectories else [1])
    if schedules is not None:
        top = gs[0].subgridspec(1, 2, width_ratios=[1, 1.5])
        ax_s, ax = fig.add_subplot(top[0]), fig.add_subplot(top[1])
        for k, s in enumerate(schedules):
            ax_s.plot(s["t"], s["s"], color=COLORS[k % len(COLORS)], lw=1.8, label=s["label"])
        ax_s.set_xlabel(TIME_LABEL)
        ax_s.set_ylabel("learning-rate factor s_t")
        ax_s.set_yscale("log")
        ax_s.set_title("schedules: noise enters as s_t^((alpha-1)/alpha) dL_t", fontsize=10)
        ax_s.grid(True, which="both", alpha=0.25)
        ax_s.legend(fontsize=8)
    else:
        ax = fig.add_subplot(gs[0])
    for k, c in enumerate(curves):
        col = COLORS[k % len(COLORS)]
        lab = c["label"]
        if c.get("mean") is not None:
            lab += f"  (mean {c['mean'].value:.4g}"
            lab += f", theory {c['theory_mean']:.4g})" if _finite(c.get("theory_mean")) else ")"
        ax.step(c["t"], c["survival"], where="post", color=col, lw=1.6, label=lab)
        ax.fill_between(c["t"], c["low"], c["high"], step="post", color=col, alpha=0.2, lw=0)
        if c.get("theory_t") is not None and c.get("theory") is not None:
            ax.plot(c["theory_t"], c["theory"], "--", color=col, lw=1.3)
    ax.plot([], [], "--", color="0.3", label="theory exp(-Lambda(u)) (small-noise limit)")
    ax.fill_between([], [], [], color="0.5", alpha=0.3, label="95% pointwise band")
    if log_y:
        ax.set_yscale("log")
        n_max = max(int(c.get("n", 1000)) for c in curves)
        ax.set_ylim(max(0.5 / n_max, 1e-4), 1.3)
    else:
        ax.set_ylim(0, 1.02)
    if t_max is not None:
        ax.set_xlim(0, t_max)
    ax.set_xlabel(f"u  [{TIME_LABEL}]")
    ax.set_ylabel("P(sigma > u)")
    ax.set_title(title or "Survival in the basin", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="upper right")
    if trajectories:
        bottom = gs[1].subgridspec(1, len(trajectories))
        first = None
        for k, (lab, tr) in enumerate(trajectories):
            axk = fig.add_subplot(bottom[k], sharey=first)
            first = first or axk
            draw_trajectories(axk, tr, lower=traj_lower, upper=traj_upper,
                              title=f"sample paths, {lab}")
    return _save(fig, path)


def wells_summary(potential, eps, occupation, pi, finite_occupation, rates, *,
                  alpha: float, horizons=None, trajectories=None, traj_eps=None,
                  title: str = "", path=None) -> Figure:
    """Transitions between wells.

    potential : a MultiWell1D (its minima/maxima and ``value``).
    eps : noise levels simulated.
    occupation : per eps, a list of Estimates (time fraction in each well).
    pi : stationary law of the limiting chain (one value per well).
    finite_occupation : per eps, the chain's expected occupation over the simulated horizon.
    rates : dict ``(i, j) -> (sim Estimates per eps, theory eps_grid, theory values)``.
    trajectories : optional sample paths (at ``traj_eps``).
    """
    m, s = np.asarray(potential.minima), np.asarray(potential.maxima)
    n_w = m.size
    panels = 4 if trajectories is not None else 3
    fig = Figure(figsize=(4.3 * panels, 4.4))
    axes = fig.subplots(1, panels)
    # (a) landscape
    ax = axes[0]
    lo, hi = m[0] - 0.6 * (s[0] - m[0]), m[-1] + 0.6 * (m[-1] - s[-1])
    xs = np.linspace(lo, hi, 400)
    u = np.array([potential.value(v) for v in xs])
    ax.plot(xs, u, "k-", lw=1.5)
    for i, mi in enumerate(m):
        ax.axvline(mi, color=COLORS[i % len(COLORS)], lw=1, ls=":")
        left = mi - (s[i - 1] if i > 0 else -np.inf)
        right = (s[i] if i < s.size else np.inf) - mi
        w = [f"{d:g}" for d in (left, right) if math.isfinite(d)]
        ax.text(mi, np.nanmax(u) * 0.92, f"well {i + 1}\nwidth {'/'.join(w)}", ha="center",
                va="top", fontsize=8, color=COLORS[i % len(COLORS)])
    for sj in s:
        ax.axvline(sj, color="0.5", lw=1, ls="--")
    ax.set_ylim(min(u.min(), 0) - 0.05 * np.ptp(u), np.nanmax(u) * 1.0)
    ax.set_xlabel("x")
    ax.set_ylabel("U(x)")
    ax.set_title("landscape (dashed: maxima = well edges)", fontsize=10)
    # (b) occupation
    ax = axes[1]
    k_e = len(eps)
    width = 0.8 / (k_e + 1)
    for k, e in enumerate(eps):
        est = occupation[k]
        x = np.arange(n_w) + (k - k_e / 2) * width
        ax.bar(x, [v.value for v in est], width=width, color=COLORS[k % len(COLORS)], alpha=0.7,
               yerr=[[v.value - v.low for v in est], [v.high - v.value for v in est]], capsize=3,
               label=f"simulated, eps = {e:g}")
        if finite_occupation is not None:
            ax.plot(x, finite_occupation[k], "o", mfc="white", mec="k", ms=7, mew=1.5,
                    label="chain over the same horizon (theory)" if k == 0 else None)
    pi = np.asarray(pi, dtype=float)
    if pi.ndim == 1:                       # one law for every eps (Levy: pi is eps-free)
        ax.plot(np.arange(n_w) + 0.8 / 2 - width / 2, pi, "D", color="k", ms=7,
                label="stationary law pi (theory)")
    else:                                  # one law per eps
        for k in range(k_e):
            ax.plot(np.arange(n_w) + (k - k_e / 2) * width, pi[k], "D", color="k", ms=6,
                    label="stationary law pi (theory)" if k == 0 else None)
    ax.set_xticks(np.arange(n_w))
    ax.set_xticklabels([f"well {i + 1}\nm = {mi:g}" for i, mi in enumerate(m)])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("fraction of time in the well")
    ax.set_title(f"occupation, alpha = {alpha:g}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    # (c) rates vs eps
    ax = axes[2]
    for k, ((i, j), (est, g, q)) in enumerate(sorted(rates.items())):
        c = COLORS[k % len(COLORS)]
        draw_estimates(ax, eps, est, label=f"q_{i + 1}{j + 1} simulated", color=c, log_x=True)
        ax.plot(g, q, "-", color=c, lw=1.3, label=f"q_{i + 1}{j + 1} theory (Thm 2)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _value_ticks(ax, eps)
    ax.set_xlabel("noise level eps")
    ax.set_ylabel("transition rate q_ij  [1 / SDE time]")
    ax.set_title("rates ~ eps^alpha (width, not height)", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="lower right")
    if trajectories is not None:
        ax = axes[3]
        hl = [(sj, "--", "maxima" if k == 0 else None) for k, sj in enumerate(s)]
        hl += [(mi, ":", "minima" if k == 0 else None) for k, mi in enumerate(m)]
        draw_trajectories(ax, trajectories, hlines=hl,
                          title=f"sample paths, eps = {traj_eps:g}")
        ax.legend(fontsize=7, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def sample_paths_grid(panels, *, lower=None, upper=None, hlines=None, title: str = "",
                      path=None) -> Figure:
    """Stacked panels of sample paths, one per ``(label, Trajectories)``, shared time axis."""
    fig = Figure(figsize=(10, 2.1 * len(panels) + 0.6))
    axes = fig.subplots(len(panels), 1, sharex=True)
    axes = np.atleast_1d(axes)
    for ax, (label, traj) in zip(axes, panels):
        draw_trajectories(ax, traj, lower=lower, upper=upper, hlines=hlines)
        ax.set_title(label, fontsize=10, loc="left")
        ax.set_xlabel("")
    if hlines or lower is not None:
        axes[0].legend(fontsize=8, loc="upper right")
    axes[-1].set_xlabel(TIME_LABEL)
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def curves_loglog(series, *, xlabel: str, ylabel: str, title: str = "", log_x: bool = False,
                  ylim=None, path=None) -> Figure:
    """Generic: simulated Estimates (markers, CI) and theory lines on a log-y plot.

    ``series``: dicts with ``label``, optional ``x``/``estimates`` (simulated), optional
    ``theory_x``/``theory_y`` and ``style`` (line style of the theory)."""
    fig = Figure(figsize=(7, 4.8))
    ax = fig.subplots()
    for k, s in enumerate(series):
        c = s.get("color", COLORS[k % len(COLORS)])
        if s.get("estimates") is not None:
            draw_estimates(ax, s["x"], s["estimates"], label=f"{s['label']}: simulated (95% CI)",
                           color=c, marker=s.get("marker", "o"), log_x=log_x)
        if s.get("theory_x") is not None:
            ty = np.asarray(s["theory_y"], dtype=float)
            ok = np.isfinite(ty)
            ax.plot(np.asarray(s["theory_x"])[ok], ty[ok], s.get("style", "-"), color=c, lw=1.5,
                    label=f"{s['label']}: {s.get('theory_label', 'theory')}")
    if log_x:
        ax.set_xscale("log")
    ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="best")
    return _save(fig, path)


__all__ = ["axis_probabilities", "curves_loglog", "draw_estimates", "draw_trajectories",
           "escape_vs_eps", "probability_curves", "sample_paths_grid", "survival_curves",
           "wells_summary"]


# --------------------------------------------------------------------------- SGD tail index


def sgd_tail_index(rows, curves, critical, sigma: float, *, path=None) -> Figure:
    """Tail index alpha vs eta/b of SGD on Gaussian least squares
    (:mod:`levydyn.experiments.sgd_tails`): theory lines per ``(b, d)`` (``curves[(b, d)] =
    (eta/b, alpha)``), the simulated Hill (on ``||x||``) and Mohammadi (estimates
    ``min(alpha, 2)``) estimates of ``rows`` with 95 % bars, ``eta_2`` dotted (variance
    infinite beyond)."""
    fig = Figure(figsize=(7.5, 5))
    ax = fig.subplots()
    for i, ((b, d), (x, a)) in enumerate(curves.items()):
        col = COLORS[i % len(COLORS)]
        ax.plot(x, np.where(np.isfinite(a), a, np.nan), color=col, lw=1.5,
                label=f"theory d={d}, b={b}")
        pts = [r for r in rows if r["batch"] == b and r["dim"] == d and r.get("hill")]
        if pts:
            xs = np.array([r["ratio"] for r in pts])
            for key, fmt, extra, name in (("hill", "o", {}, "Hill on ||x||"),
                                          ("mohammadi", "s", {"mfc": "none", "alpha": 0.7},
                                           "Mohammadi (est. min(alpha,2))")):
                e = [r[key] for r in pts]
                ax.errorbar(xs, [v.value for v in e],
                            yerr=[[v.value - v.low for v in e], [v.high - v.value for v in e]],
                            fmt=fmt, color=col, ms=4, capsize=2, label=f"{name}, d={d}, b={b}",
                            **extra)
        ax.axvline(critical[(b, d)]["eta_2"] / b, color=col, ls=":", lw=0.8)
    ax.axhline(2.0, color="grey", ls="--", lw=0.8)
    ax.axhline(1.0, color="grey", ls="-.", lw=0.8)
    ax.set_xscale("log")
    ax.set_ylim(0, 8)
    ax.set_xlabel("eta / b")
    ax.set_ylabel("tail index alpha")
    ax.set_title(f"SGD on least squares, a ~ N(0, sigma^2 I_d), sigma = {sigma:g}: alpha vs eta/b\n"
                 "dotted: eta_2 (variance infinite beyond); dashed alpha=2, dash-dot alpha=1",
                 fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    return _save(fig, path, dpi=130)


def sgd_tail_index_dataset(rows, *, path=None) -> Figure:
    """The authors' naive alpha (Polyak averages) vs eta/b on a finite data set
    (:mod:`levydyn.experiments.sgd_tails_data`), marked by what the run supports
    (ok / not stationary / diverges)."""
    fig = Figure(figsize=(7.5, 4.5))
    ax = fig.subplots()
    colors = {"ok": "tab:blue", "not stationary": "tab:orange", "diverges": "tab:red"}
    markers = "osD^v<>p*h"
    for i, b in enumerate(sorted({r["batch"] for r in rows})):
        for status, col in colors.items():
            pts = [r for r in rows if r["batch"] == b and r["status"] == status]
            if pts:
                ax.plot([r["ratio"] for r in pts],
                        [min(r["naive_avg"], 10.0) if math.isfinite(r["naive_avg"]) else np.nan
                         for r in pts], markers[i % len(markers)], color=col, mfc="none",
                        ms=7, label=f"b={b}: {status}")
    ax.axhline(2.0, color="grey", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("eta / b")
    ax.set_ylabel("naive alpha (authors' estimator on Polyak averages)")
    ax.set_title("fixed-K SGD on a finite data set: the authors' estimate, marked by what the "
                 "run supports", fontsize=8)
    ax.legend(fontsize=6, ncol=2)
    return _save(fig, path, dpi=130)
