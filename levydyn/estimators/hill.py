"""Hill (1975) estimator on |x|, its default k, and the Hill plot (alpha against k, with CIs).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from levydyn.estimators.block_sums import _inv_to_alpha
from levydyn.estimators.samples import MIN_SAMPLES, _as_columns, _out, _unit_interval, _z
from levydyn.estimators.zeros import AtomWarning, _check_zeros, _on_nonzero, atom_fraction


# ---------------------------------------------------------------------------------
# Hill (1975) estimator on |x|
# ---------------------------------------------------------------------------------
def hill_k(n: int) -> int:
    """Automatic number of upper order statistics for :func:`hill_alpha`: ``k = round(n^(2/3))``.

    For stable laws ``P(|X| > x) = C x^-alpha (1 + D x^-alpha + ...)``, i.e. second-order
    parameter rho = -1 in the sense of Hall (1982), whose AMSE-optimal rate is
    ``k ~ n^(2|rho|/(1+2|rho|)) = n^(2/3)``; the constant is set to 1.
    """
    return int(min(max(round(n ** (2.0 / 3.0)), 2), n - 1))


def hill_alpha(x, axis: int = 0, k: int | None = None, zeros: str = "drop"):
    """Hill estimator of the tail index from the k largest |x|, per column.

    With ``|x|_(1) >= |x|_(2) >= ...`` the order statistics of ``|x|``::

        alpha_hat = [ (1/k) sum_{i=1}^{k} log(|x|_(i) / |x|_(k+1)) ]^(-1)

    B. M. Hill, "A simple general approach to inference about the tail of a
    distribution", Ann. Statist. 3 (1975) 1163-1174. ``k`` defaults to
    :func:`hill_k` ``(n) = round(n^(2/3))``. Scale-free; not clipped: on stable data
    with alpha near 2 it is strongly biased upward (the power tail starts far out),
    which the accuracy table shows. Data should be centred. ``zeros``: as
    :func:`mohammadi_alpha`; with ``"drop"`` a default ``k`` follows each column's
    number of nonzero samples, a given ``k`` is kept (columns with ``k + 1`` or fewer
    nonzero samples give nan).
    """
    a, one_d = _as_columns(x, axis)
    n = a.shape[0]
    if k is not None and (isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer))
                          or not 2 <= k <= n - 1):
        raise ValueError(f"k must be an integer in [2, n-1 = {n - 1}], got k={k!r}")
    _check_zeros(zeros)

    def core(b):
        kk = hill_k(b.shape[0]) if k is None else int(k)
        if kk > b.shape[0] - 1:
            return (np.full(b.shape[1], np.nan),)
        return (_hill_cols(b, kk),)

    return _out(_on_nonzero(a, zeros, core, 1)[0], one_d)


def _hill_cols(a, k):
    """Hill's alpha from the k largest |a| per column of the (n, m) array a."""
    n = a.shape[0]
    absa = np.abs(a)
    part = np.partition(absa, n - k - 1, axis=0)
    thresh = part[n - k - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_log = np.log(part[n - k:] / thresh).mean(axis=0)
        alpha = 1.0 / mean_log
    alpha[~(thresh > 0) | ~(mean_log > 0)] = np.nan
    return alpha


@dataclass(frozen=True)
class HillCurve:
    """Hill estimates alpha_k against the number k of upper order statistics (a Hill plot).

    k, alpha, low, high : arrays over k = 2 .. k_max; (low, high) the asymptotic interval
        of :func:`alpha_ci` (``method="hill"``) at each k.
    k_default : :func:`hill_k` (n), the k of :func:`hill_alpha`.
    n : samples used; atom_fraction : exact zeros left out.
    """

    k: np.ndarray = field(repr=False)
    alpha: np.ndarray = field(repr=False)
    low: np.ndarray = field(repr=False)
    high: np.ndarray = field(repr=False)
    level: float
    k_default: int
    n: int
    atom_fraction: float


def hill_curve(x, k_max: int | None = None, level: float = 0.95, zeros: str = "drop") -> HillCurve:
    """Hill's estimator at every k = 2 .. k_max for a 1-D sample (the data of a Hill plot).

    ``alpha_k = [ (1/k) sum_{i<=k} log(|x|_(i) / |x|_(k+1)) ]^-1`` with ``|x|_(1) >= |x|_(2)
    >= ...`` (Hill 1975), all k in one sort. A stable region of the curve (flat in k
    over a range of k) is the usual evidence for a power tail; on stable data with
    alpha near 2 the curve keeps falling with k (the tail starts far out). ``k_max``
    defaults to ``n - 1``. ``zeros`` as :func:`mohammadi_alpha`.
    """
    a, _ = _as_columns(x, 0)
    if a.shape[1] != 1:
        raise ValueError(f"x must be a 1-D sample, got shape={np.shape(x)}")
    _check_zeros(zeros)
    level = _unit_interval("level", level)
    v = a[:, 0]
    zf = float(np.mean(v == 0.0))
    if zeros == "drop" and 0.0 < zf < 1.0:
        warnings.warn(f"x: {100 * zf:.3g}% of the samples are exact zeros (an atom at 0); the "
                      "Hill curve uses the nonzero samples (zeros='keep' includes them)",
                      AtomWarning, stacklevel=2)
        v = v[v != 0.0]
    n = v.size
    if n < MIN_SAMPLES or not np.any(v != v[0]):
        raise ValueError(f"x needs at least {MIN_SAMPLES} nonzero samples with spread, got n={n}")
    if k_max is None:
        k_max = n - 1
    elif isinstance(k_max, (bool, np.bool_)) or not isinstance(k_max, (int, np.integer)) \
            or not 2 <= k_max <= n - 1:
        raise ValueError(f"k_max must be an integer in [2, n-1 = {n - 1}], got k_max={k_max!r}")
    s = np.sort(np.abs(v))[::-1]
    with np.errstate(divide="ignore"):
        logs = np.log(s)
    k = np.arange(1, k_max + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_top = np.cumsum(logs[:k_max]) / k
        inv = mean_top - logs[1:k_max + 1]
        alpha = np.where(inv > 0, 1.0 / inv, np.nan)
        half = _z(level) * inv / np.sqrt(k)
        low = _inv_to_alpha(inv + half, False)
        high = _inv_to_alpha(inv - half, False)
    sl = slice(1, None)                  # k >= 2
    return HillCurve(k=k[sl], alpha=alpha[sl], low=low[sl], high=high[sl], level=level,
                     k_default=hill_k(n), n=n, atom_fraction=zf)


def hill_plot(curve: HillCurve, path=None, *, references: dict | None = None, title: str = ""):
    """Draw a :class:`HillCurve` (alpha_k and its interval against k, log k axis).

    ``references``: ``{label: alpha}`` drawn as horizontal lines (e.g. other estimators'
    values); the default k of :func:`hill_alpha` is a vertical line. Returns the
    matplotlib Figure (no pyplot state) and writes it to ``path`` when given.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4))
    ax = fig.subplots()
    ax.fill_between(curve.k, curve.low, curve.high, color="tab:blue", alpha=0.2, lw=0,
                    label=f"{100 * curve.level:g}% CI (asymptotic)")
    ax.plot(curve.k, curve.alpha, color="tab:blue", lw=1.2, label="Hill alpha_k")
    ax.axvline(curve.k_default, color="k", ls=":", lw=1, label=f"k = n^(2/3) = {curve.k_default}")
    colors = ("tab:red", "tab:green", "tab:orange", "tab:purple", "tab:brown")
    for (lab, val), c in zip((references or {}).items(), colors):
        if val is not None and np.isfinite(val):
            ax.axhline(val, color=c, ls="--", lw=1, label=f"{lab} = {val:.3f}")
    ax.set_xscale("log")
    fin = curve.alpha[np.isfinite(curve.alpha)]
    if fin.size:
        ax.set_ylim(0.0, min(max(4.0, 1.2 * np.quantile(fin, 0.9)), 10.0))
    ax.set_xlabel("k (upper order statistics of |x|)")
    ax.set_ylabel("alpha")
    ax.set_title(title or f"Hill plot, n = {curve.n}"
                 + (f", {100 * curve.atom_fraction:.3g}% zeros left out" if curve.atom_fraction
                    else ""))
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
