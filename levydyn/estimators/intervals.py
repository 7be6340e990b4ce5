"""Confidence intervals for every tail-index estimator: asymptotic or bootstrap.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from levydyn.estimators.block_sums import (MIN_BLOCKS, ORDER_K1, _block_stats, _inv_to_alpha,
                                           _k1_for, median_block_sizes, mohammadi_alpha,
                                           mohammadi_alpha_median, mohammadi_order_alpha)
from levydyn.estimators.characteristic_function import (_CF_AGRID, _CF_AGRID_STEP, _CF_ITER, _cf_cols,
                                              _cf_slope_var_table)
from levydyn.estimators.hill import _hill_cols, hill_alpha, hill_k
from levydyn.estimators.quantiles import _mcculloch_cols
from levydyn.estimators.samples import _as_columns, _no_spread, _out, _unit_interval, _z
from levydyn.estimators.zeros import _check_zeros, _on_nonzero, atom_fraction


# ---------------------------------------------------------------------------------
# Confidence intervals for every estimator; the Hill plot
# ---------------------------------------------------------------------------------
#: Estimators :func:`alpha_ci` knows, by name.
ALPHA_METHODS = ("cf_regression", "mcculloch", "mohammadi", "mohammadi_median",
                 "mohammadi_order", "hill")
#: Estimators with an asymptotic interval (all have a bootstrap one).
ASYMPTOTIC_METHODS = ("cf_regression", "mohammadi", "mohammadi_median", "hill")
#: Estimators whose ``ci="auto"`` interval is the asymptotic one (by measured coverage).
AUTO_ASYMPTOTIC = ("mohammadi", "mohammadi_median", "hill")
CI_KINDS = ("auto", "asymptotic", "bootstrap")

#: Most array elements one bootstrap call builds (columns are processed in chunks).
_BOOT_ELEMENTS = 20_000_000


@dataclass(frozen=True)
class AlphaCI:
    """A tail-index estimate with its confidence interval (per column for 2-D input).

    alpha : the estimate (the same number the estimator function returns).
    low, high : the interval at confidence ``level``.
    method : estimator name (:data:`ALPHA_METHODS`).
    ci : ``"asymptotic"`` or ``"bootstrap"`` (percentile, ``n_boot`` resamples).
    atom_fraction : share of exact zeros (left out with ``zeros="drop"``).
    n_used : samples the estimate used (nonzero samples with ``zeros="drop"``).
    """

    alpha: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    level: float
    method: str
    ci: str
    n_boot: int
    atom_fraction: float | np.ndarray
    n_used: int | np.ndarray


def _alpha_fn(method: str, options: dict):
    """The estimator as a function of a clean (n, m) array -> (m,) alphas."""
    if method == "cf_regression":
        n_iter = options.get("n_iter", _CF_ITER)
        return lambda b: _cf_cols(b, n_iter)[0]
    if method == "mcculloch":
        return lambda b: _mcculloch_cols(b)[0]
    if method == "hill":
        k = options.get("k")
        return lambda b: hill_alpha(b, k=k, zeros="keep")
    fn = {"mohammadi": mohammadi_alpha, "mohammadi_median": mohammadi_alpha_median,
          "mohammadi_order": mohammadi_order_alpha}[method]
    return lambda b: fn(b, zeros="keep", **options)

def _t_half(d, level):
    """Student-t half-width for the mean of the rows of d (K2 blocks x m columns)."""
    from scipy.stats import t as student_t

    k2 = d.shape[0]
    return float(student_t.ppf(0.5 + level / 2, k2 - 1)) * d.std(axis=0, ddof=1) / math.sqrt(k2)


def _asymptotic_core(method, b, level, options):
    """(alpha, low, high) from the estimator's large-sample normal law."""
    n, m = b.shape
    clip = options.get("clip", True)
    nan = np.full(m, np.nan)
    if method == "mohammadi":
        # 1/alpha_hat is the mean of K2 i.i.d. block statistics: a t interval on 1/alpha
        k1 = _k1_for(n, options.get("K1"))
        if k1 is None:
            return nan, nan.copy(), nan.copy()
        d = _block_stats(b, k1)
        inv, half = d.mean(axis=0), _t_half(d, level)
    elif method == "mohammadi_median":
        # median of the per-K1 estimates of 1/alpha, with the median of their t half-widths
        # (conservative: the median over K1 varies less than one K1's estimate)
        invs, halves = [], []
        for k1 in median_block_sizes(n, options.get("block_sizes", "authors")):
            d = _block_stats(b, k1)
            invs.append(d.mean(axis=0))
            halves.append(_t_half(d, level))
        inv, half = np.median(invs, axis=0), np.median(halves, axis=0)
    elif method == "hill":
        # Hill (1975): sqrt(k) (1/alpha_hat - 1/alpha) -> N(0, 1/alpha^2)
        k = options.get("k") or hill_k(n)
        if k > n - 1:
            return nan, nan.copy(), nan.copy()
        inv = 1.0 / _hill_cols(b, int(k))
        half = _z(level) * inv / math.sqrt(k)
        clip = False
    elif method == "cf_regression":
        # GLS slope: variance (X' S^+ X)^-1 [1, 1] / n with S the per-sample covariance
        alpha, _ = _cf_cols(b, options.get("n_iter", _CF_ITER))
        idx = np.clip(np.rint((np.nan_to_num(alpha, nan=2.0) - _CF_AGRID[0]) / _CF_AGRID_STEP)
                      .astype(np.intp), 0, _CF_AGRID.size - 1)
        half = _z(level) * np.sqrt(_cf_slope_var_table()[idx] / n)
        lo, hi = np.maximum(alpha - half, 0.1), np.minimum(alpha + half, 2.0)
    else:
        raise ValueError(f"ci must be 'bootstrap' for method={method!r}: an asymptotic "
                         f"interval exists for {', '.join(ASYMPTOTIC_METHODS)}")
    if method != "cf_regression":
        alpha, lo, hi = (_inv_to_alpha(v, clip) for v in (inv, inv + half, inv - half))
    bad = _no_spread(b) | ~np.isfinite(alpha)
    for v in (alpha, lo, hi):
        v[bad] = np.nan
    return alpha, lo, hi


def _boot_unit(method, n, options):
    """Resampling unit: 1 sample, or a whole block for the block-sum estimators.

    Resampling single samples with replacement repeats some inside a block (K1 = 100,
    n = 1e3: ~5 repeats per block), and a block sum that adds a value to itself is not
    a sum of independent terms: such bootstrap intervals covered 98-100 % at level 0.95.
    Blocks are i.i.d., so they are resampled whole (the median estimator: blocks of its
    largest K1, which all its K1 divide).
    """
    if method == "mohammadi":
        return _k1_for(n, options.get("K1"))
    if method == "mohammadi_order":
        return max(2, min(ORDER_K1, n // MIN_BLOCKS)) if options.get("K1") is None \
            else _k1_for(n, options["K1"])
    if method == "mohammadi_median":
        return max(median_block_sizes(n, options.get("block_sizes", "authors")))
    return 1


def _bootstrap_core(method, fn, b, level, n_boot, rng, options):
    """(alpha, low, high): percentile interval over n_boot resamples of each column's units."""
    n, m = b.shape
    unit = _boot_unit(method, n, options)
    if unit is None:
        nan = np.full(m, np.nan)
        return nan, nan.copy(), nan.copy()
    if method in ("mohammadi", "mohammadi_order") and options.get("K1") is None:
        fn = _alpha_fn(method, dict(options, K1=unit))
    n_units = n // unit
    used = n_units * unit
    alpha = fn(b)
    lo, hi = np.empty(m), np.empty(m)
    chunk = max(1, _BOOT_ELEMENTS // (used * n_boot))
    q = [0.5 - level / 2, 0.5 + level / 2]
    for j0 in range(0, m, chunk):
        cols = b[:used, j0:j0 + chunk].reshape(n_units, unit, -1)
        idx = rng.integers(0, n_units, size=(n_units, n_boot))
        res = cols[idx]                                   # (n_units, n_boot, unit, mc)
        res = res.transpose(0, 2, 1, 3).reshape(used, -1)  # samples x (n_boot * mc)
        boot = fn(np.ascontiguousarray(res)).reshape(n_boot, -1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # all-nan columns
            lo[j0:j0 + chunk], hi[j0:j0 + chunk] = np.nanquantile(boot, q, axis=0)
    bad = ~np.isfinite(alpha)
    lo[bad] = hi[bad] = np.nan
    return alpha, lo, hi


def alpha_ci(x, method: str = "mohammadi_median", axis: int = 0, level: float = 0.95,
             ci: str = "auto", n_boot: int = 200, seed: int = 0, zeros: str = "drop",
             **options) -> AlphaCI:
    """Tail-index estimate and confidence interval, per column.

    ``method`` is one of :data:`ALPHA_METHODS` (the estimator functions of this module,
    ``options`` passed on: ``K1``, ``clip``, ``block_sizes``, ``p``, ``k``, ``n_iter``).
    ``ci``:

    - ``"asymptotic"``: ``mohammadi``: eq. 15's ``1/alpha_hat`` is the mean of K2
      independent block statistics, so a Student-t interval (K2 - 1 degrees of
      freedom) on ``1/alpha``, inverted; ``mohammadi_median``: the median over K1 of
      those estimates with the median of their half-widths (conservative); ``hill``:
      ``sqrt(k)(1/alpha_hat - 1/alpha) -> N(0, alpha^-2)`` (Hill 1975; it covers Hill's
      own limit, which on stable data with alpha >~ 1.4 is far from alpha, see
      :func:`hill_alpha`); ``cf_regression``: the GLS slope's variance
      ``(X' S^+ X)^-1 / n`` under the fitted alpha (fails near alpha = 2, where that
      variance vanishes).
    - ``"bootstrap"`` (any method): percentile interval over ``n_boot`` resamples with
      replacement, of samples, or of whole blocks for the block-sum estimators (see
      ``_boot_unit``), drawn from ``numpy.random.default_rng(seed)``. The samples must
      be i.i.d. For ``mohammadi_median`` the unit is a block of its largest K1, so
      there are only about ``MIN_BLOCKS`` = 10 units and its intervals run short:
      prefer ``"auto"`` there.
    - ``"auto"`` (default): asymptotic for mohammadi, mohammadi_median and hill,
      bootstrap for the others: the choice with the better measured coverage.

    Coverage at level 0.95 is measured by ``benchmarks/bench_estimators.py --coverage``
    (README). A clipped estimator's interval is clipped too (at alpha = 2 it is
    ``[low, 2]``). ``zeros``: as :func:`mohammadi_alpha`.
    """
    if method not in ALPHA_METHODS:
        raise ValueError(f"method must be one of {', '.join(ALPHA_METHODS)}, got method={method!r}")
    if ci not in CI_KINDS:
        raise ValueError(f"ci must be one of {', '.join(CI_KINDS)}, got ci={ci!r}")
    level = _unit_interval("level", level)
    if isinstance(n_boot, (bool, np.bool_)) or not isinstance(n_boot, (int, np.integer)) \
            or n_boot < 20:
        raise ValueError(f"n_boot must be an integer >= 20, got n_boot={n_boot!r}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got seed={seed!r}")
    _check_zeros(zeros)
    a, one_d = _as_columns(x, axis)
    kind = ci
    if kind == "auto":
        kind = "asymptotic" if method in AUTO_ASYMPTOTIC else "bootstrap"
    if kind == "asymptotic" and method not in ASYMPTOTIC_METHODS:
        raise ValueError(f"ci must be 'bootstrap' or 'auto' for method={method!r}: an "
                         f"asymptotic interval exists for {', '.join(ASYMPTOTIC_METHODS)}")
    fn = _alpha_fn(method, options)
    fn(a[:, :1])                       # validates the options once, on the full length
    if kind == "asymptotic":
        core = lambda b: _asymptotic_core(method, b, level, options)  # noqa: E731
    else:
        rng = np.random.default_rng(seed)
        core = lambda b: _bootstrap_core(method, fn, b, level, n_boot, rng, options)  # noqa: E731
    alpha, lo, hi = _on_nonzero(a, zeros, core, 3, name="x")
    zf = np.mean(a == 0.0, axis=0)
    n_used = a.shape[0] - (np.sum(a == 0.0, axis=0) if zeros == "drop" else 0)
    n_used = np.broadcast_to(n_used, (a.shape[1],))
    return AlphaCI(alpha=_out(alpha, one_d), low=_out(lo, one_d), high=_out(hi, one_d),
                   level=level, method=method, ci=kind,
                   n_boot=n_boot if kind == "bootstrap" else 0, atom_fraction=_out(zf, one_d),
                   n_used=int(n_used[0]) if one_d else n_used.astype(int))
