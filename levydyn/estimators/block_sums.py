"""Mohammadi, Mohammadpour & Ogata (2015) block-sum estimators of alpha (paper 000, eq. 15),
the median over the authors' block lengths, and the order-statistic variant.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from levydyn.estimators.samples import (MIN_SAMPLES, _as_columns, _check_flag, _no_spread, _out,
                                        _reject_constant_sample, _safe_log_abs, _unit_interval)
from levydyn.estimators.zeros import AtomWarning, _check_zeros, _on_nonzero


# ---------------------------------------------------------------------------------
# Mohammadi et al. (2015) block-sum estimators
# ---------------------------------------------------------------------------------
#: Block lengths of the authors' code for the median estimator (Simsekli et al.'s
#: heavy-tail experiments): the median of eq. 15 over K1 in this list.
AUTHORS_BLOCK_SIZES = (2, 5, 10, 20, 50, 100, 500, 1000)

#: Fewest blocks K2 for a block length to enter the median over block lengths. A
#: median ingredient from fewer blocks is noise: at n = 1e3, dropping K1 = 500 (2 blocks)
#: lowered the RMSE by 2-8 % (paired z = 1.0-4.0; ``benchmarks/bench_estimators.py
#: --blocks``, docs/bench_estimators.md); at n >= 1e4 it changes nothing.
MIN_BLOCKS = 10

BLOCK_SIZE_RULES = ("authors", "powers")

#: Quantile level and block length of :func:`mohammadi_order_alpha` (see its docstring).
ORDER_P = 0.75
ORDER_K1 = 10


def _balanced_divisor(k: int) -> int:
    """The divisor of k closest to sqrt(k) (the smaller one on a tie)."""
    r = math.isqrt(k)
    best = 1
    for d in range(r, 0, -1):
        if k % d == 0:
            best = d
            break
    # the co-divisor k // best is the smallest divisor >= sqrt(k)
    other = k // best
    return other if abs(other - math.sqrt(k)) < abs(best - math.sqrt(k)) else best


def _block_sizes(n: int) -> tuple[int, int]:
    """(K1, K2) for n samples: K = K1*K2 <= n, K1 the divisor of K closest to sqrt(K).

    Uses K = n when n has a divisor within a factor 2 of sqrt(n); otherwise (n prime,
    say) the largest K < n that does, dropping the last n - K samples.
    """
    for k in range(n, 3, -1):
        k1 = _balanced_divisor(k)
        if 2 * k1 >= math.sqrt(k) and k1 <= 2 * math.sqrt(k) and k1 >= 2 and k // k1 >= 2:
            return k1, k // k1
    raise ValueError(f"n must be at least 4 for block sums, got n={n}")  # pragma: no cover


def _k1_k2(n: int, K1):
    if K1 is None:
        return _block_sizes(n)
    if isinstance(K1, (bool, np.bool_)) or not isinstance(K1, (int, np.integer)) \
            or not 2 <= K1 <= n // 2:
        raise ValueError(f"K1 must be an integer in [2, n/2 = {n // 2}], got K1={K1!r}")
    return int(K1), n // int(K1)


def _k1_for(n: int, K1):
    """K1 for a column of n (nonzero) samples: the sqrt rule, the given K1, or None when
    the given K1 leaves fewer than 2 blocks (the column then gives nan)."""
    if K1 is None:
        return _block_sizes(n)[0]
    return int(K1) if K1 <= n // 2 else None


def _block_stats(a, k1):
    """D_i = (log|Y_i| - mean_{j in block i} log|X_j|) / log K1, shape (K2, m).

    Their mean over the K2 blocks is eq. 15's estimate of 1/alpha exactly (the mean of
    log|X| over all K = K1 K2 samples is the mean of the block means); the blocks are
    independent, which gives the CLT interval of :func:`alpha_ci`.
    """
    n, m = a.shape
    k2 = n // k1
    k = k1 * k2
    blocks = a[:k].reshape(k2, k1, m)
    ly = _safe_log_abs(blocks.sum(axis=1))
    lx = _safe_log_abs(a[:k]).reshape(k2, k1, m).mean(axis=1)
    return (ly - lx) / math.log(k1)


def _mohammadi_inv(a, k1):
    """Eq. 15's estimate of 1/alpha per column of the clean (n, m) array a."""
    with np.errstate(invalid="ignore"):
        return _block_stats(a, k1).mean(axis=0)


def _inv_to_alpha(inv, clip=True):
    """alpha = 1/inv. clip: inv below 1/2 gives alpha = 2; else inv <= 0 gives +inf."""
    inv = np.asarray(inv, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if clip:
            return 1.0 / np.maximum(inv, 0.5)
        return np.where(inv > 0, 1.0 / np.where(inv > 0, inv, 1.0), np.where(np.isnan(inv),
                                                                           np.nan, np.inf))


def mohammadi_alpha(x, axis: int = 0, K1: int | None = None, clip: bool = True,
                    zeros: str = "drop"):
    """Mohammadi et al. block-sum estimator of the tail index, per column.

    With ``K = K1 * K2`` samples ``X_1..X_K`` of ``SaS(sigma)`` and block sums
    ``Y_i = sum_{j=1}^{K1} X_{j + (i-1) K1}`` (``i = 1..K2``)::

        1/alpha_hat = (1 / log K1) * ( (1/K2) sum_i log|Y_i| - (1/K) sum_i log|X_i| )

    (paper 000, Simsekli, Sagun & Gurbuzbalaban 2019, eq. 15 / Theorem 3, after
    Mohammadi, Mohammadpour & Ogata 2015). It uses ``Y_i =_d K1^(1/alpha) X_1`` and is
    therefore independent of the scale ``sigma`` (any normalisation).

    Parameters
    ----------
    x : 1-D sample or 2-D array (samples x coordinates); data must be centred
        (symmetric about 0), as gradient noise is.
    axis : sample axis.
    K1 : block length. Default: with ``n`` samples, ``K = n`` and ``K1`` the divisor of
        ``K`` closest to ``sqrt(K)`` (paper 000, section 3). If ``n`` has no divisor
        within a factor 2 of ``sqrt(n)`` (e.g. ``n`` prime) the largest such ``K < n``
        is used and the trailing samples are dropped. Given ``K1``, ``K2 = n // K1``.
    clip : True (default): ``1/alpha_hat`` below 1/2 is raised to 1/2, so
        ``alpha_hat <= 2`` (stable laws have alpha <= 2; biases the estimate low at
        alpha = 2). False: ``alpha_hat = 1/(1/alpha_hat)`` as computed, ``+inf`` when
        that is <= 0 (block sums no larger than their terms).
    zeros : ``"drop"`` (default): exact zeros are an atom, not part of a SaS law; they
        are left out (per column, keeping the order of the rest) with an
        :class:`AtomWarning`, and alpha is that of the nonzero part (see
        :func:`atom_fraction`). ``"keep"``: as the authors' code, ``log 0`` floored at
        ``eps * max|x|`` (an atom then pulls alpha_hat far down).

    Returns
    -------
    alpha_hat (float for 1-D input, else one per column); constant columns (no spread,
    all-zero included) and columns with fewer than ``MIN_SAMPLES`` nonzero samples give
    nan; a constant 1-D sample is an error (no spread: the tail index is undefined).
    """
    a, one_d = _as_columns(x, axis)
    clip = _check_flag(clip, "clip")
    _check_zeros(zeros)
    if K1 is not None:
        _k1_k2(a.shape[0], K1)
    _reject_constant_sample(a, one_d)

    def core(b):
        k1 = _k1_for(b.shape[0], K1)
        if k1 is None:
            return (np.full(b.shape[1], np.nan),)
        alpha = _inv_to_alpha(_mohammadi_inv(b, k1), clip)
        alpha[_no_spread(b)] = np.nan
        return (alpha,)

    return _out(_on_nonzero(a, zeros, core, 1)[0], one_d)


def mohammadi_alpha_multivariate(X, K1: int | None = None, clip: bool = True,
                                 zeros: str = "drop") -> float:
    """Mohammadi estimator on vectors via Euclidean norms (one alpha for all coordinates).

    For ``X`` of shape ``(n, d)`` (n i.i.d. vectors) and block sums
    ``Y_i = sum_{j=1}^{K1} X_{j + (i-1) K1}``::

        1/alpha_hat = ( mean_i log||Y_i|| - mean_j log||X_j|| ) / log K1

    as used for gradient-noise vectors by Simsekli et al. (2019) and Gurbuzbalaban,
    Simsekli & Zhu (2021). Exact in law when the coordinates are independent SaS with a
    common alpha and any scales, since then ``Y_i =_d K1^(1/alpha) X_1`` as vectors.
    ``K1`` and ``clip`` as in :func:`mohammadi_alpha`. Rows must be centred.
    ``zeros="drop"`` leaves out exactly-zero rows (an atom at the origin) with an
    :class:`AtomWarning`.
    """
    if np.ndim(X) != 2:
        raise ValueError(f"X must be 2-D (n vectors x d coordinates), got ndim={np.ndim(X)}")
    a, _ = _as_columns(X, 0, name="X")
    clip = _check_flag(clip, "clip")
    _check_zeros(zeros)
    _k1_k2(a.shape[0], K1)
    norms = np.sqrt(np.einsum("ij,ij->i", a, a))
    if zeros == "drop" and np.any(norms == 0) and np.any(norms > 0):
        keep = norms > 0
        warnings.warn(f"X: {int(np.sum(~keep))} of {a.shape[0]} rows ({100 * np.mean(~keep):.3g}%)"
                      " are exact zero vectors (an atom at 0); alpha is estimated on the others"
                      " (zeros='keep' includes them)", AtomWarning, stacklevel=2)
        a = a[keep]
        if a.shape[0] < MIN_SAMPLES:
            return float("nan")
    if not np.any(a != a[:1]):
        return float("nan")
    k1 = _k1_for(a.shape[0], K1)
    if k1 is None:
        return float("nan")
    k2 = a.shape[0] // k1
    k = k1 * k2
    norms = np.sqrt(np.einsum("ij,ij->i", a[:k], a[:k]))
    y = a[:k].reshape(k2, k1, a.shape[1]).sum(axis=1)
    ynorm = np.sqrt(np.einsum("ij,ij->i", y, y))
    with np.errstate(invalid="ignore"):
        inv = (_safe_log_abs(ynorm[:, None]).mean(axis=0)
               - _safe_log_abs(norms[:, None]).mean(axis=0)) / math.log(k1)
    return float(_inv_to_alpha(inv, clip)[0])


def median_block_sizes(n: int, rule="authors", min_blocks: int = MIN_BLOCKS) -> list[int]:
    """Block lengths K1 over which :func:`mohammadi_alpha_median` takes its median.

    ``rule="authors"``: the authors' list (2, 5, 10, 20, 50, 100, 500, 1000) restricted to
    ``K2 = n // K1 >= min_blocks``; ``"powers"``: ``round(n^p)``, p = 0.30, 0.35, ..., 0.70,
    restricted to ``2 <= K1 <= n/4`` (levydyn's earlier default); or a sequence of
    integers. Falls back to ``[2]`` when nothing qualifies (n < 20).
    """
    if isinstance(rule, str):
        if rule == "authors":
            ks = [k for k in AUTHORS_BLOCK_SIZES if n // k >= min_blocks]
        elif rule == "powers":
            ks = sorted({int(round(n ** p)) for p in np.linspace(0.3, 0.7, 9)})
            ks = [k for k in ks if 2 <= k <= n // 4]
        else:
            raise ValueError(f"block_sizes must be 'authors', 'powers' or a sequence of integers,"
                             f" got block_sizes={rule!r}")
        return ks or [2]
    try:
        ks = sorted({int(k) for k in rule})
    except (TypeError, ValueError):
        raise ValueError(f"block_sizes must be 'authors', 'powers' or a sequence of integers,"
                         f" got block_sizes={rule!r}") from None
    if not ks or any(isinstance(k, (bool, np.bool_)) for k in rule) \
            or not all(2 <= k <= n // 2 for k in ks) or any(int(k) != k for k in rule):
        raise ValueError(f"block_sizes must be integers in [2, n/2 = {n // 2}], "
                         f"got block_sizes={list(rule)!r}")
    return ks


def mohammadi_alpha_median(x, axis: int = 0, block_sizes="authors", clip: bool = True,
                           zeros: str = "drop"):
    """Median of eq. 15 (:func:`mohammadi_alpha`) over several block lengths K1, per column.

    For each K1 of :func:`median_block_sizes` ``(n, block_sizes)``, eq. 15 of paper 000 is
    evaluated with ``K2 = n // K1`` on the first ``K1 K2`` samples; the median of the
    estimates of ``1/alpha`` is inverted (the median of alpha itself, as in the authors'
    code, is the same up to the mean of the two middle values of an even count).

    ``block_sizes="authors"`` (default): K1 in (2, 5, 10, 20, 50, 100, 500, 1000) with at
    least ``MIN_BLOCKS`` = 10 blocks, as in the authors' code (Simsekli et al.'s
    heavy-tail experiments; they keep every K1 <= n). It had a lower RMSE than
    ``"powers"`` (K1 ~ n^0.3 .. n^0.7, levydyn's former default) on the same samples at
    every alpha in [0.6, 2] and n in {1e3, 1e4, 1e5}: by 16-29 % at n = 1e4 (paired
    z = 2.1-7.1) and 32-52 % at n = 1e5 (z = 5.0-8.8); at n = 1e3 by 0-19 % (z = 0.1-5.1)
    (``benchmarks/bench_estimators.py --blocks``, docs/bench_estimators.md). Short blocks
    mean more blocks, and for exactly stable data eq. 15 has no bias at any K1.
    ``clip`` and ``zeros`` as in :func:`mohammadi_alpha`.
    """
    a, one_d = _as_columns(x, axis)
    clip = _check_flag(clip, "clip")
    _check_zeros(zeros)
    median_block_sizes(a.shape[0], block_sizes)      # validate once on the full length
    _reject_constant_sample(a, one_d)

    def core(b):
        inv = np.median([_mohammadi_inv(b, k1) for k1 in median_block_sizes(b.shape[0],
                                                                           block_sizes)], axis=0)
        alpha = _inv_to_alpha(inv, clip)
        alpha[_no_spread(b)] = np.nan
        return (alpha,)

    return _out(_on_nonzero(a, zeros, core, 1)[0], one_d)


def _order_inv(b, k1, p):
    """(log|Y|_(k) - log|X|_(K1 k)) / log K1, k = round(p K2) clamped to [1, K2]."""
    n, m = b.shape
    k2 = n // k1
    k = min(max(int(round(p * k2)), 1), k2)
    y = np.abs(b[:k1 * k2].reshape(k2, k1, m).sum(axis=1))
    ay = np.partition(y, k - 1, axis=0)[k - 1]
    ax = np.partition(np.abs(b[:k1 * k2]), k1 * k - 1, axis=0)[k1 * k - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.log(ay) - np.log(ax)) / math.log(k1)


def mohammadi_order_alpha(x, axis: int = 0, K1: int | None = None, p: float = ORDER_P,
                          clip: bool = True, zeros: str = "drop"):
    """Order-statistic block-sum estimator of the tail index (Mohammadi et al., Cor. 2.2).

    With block sums ``Y_i`` as in :func:`mohammadi_alpha` (``K = K1 K2``) and
    ``k = round(p K2)``::

        1/alpha_hat = ( log|Y|_(k) - log|X|_(K1 k) ) / log K1

    where ``|Y|_(k)`` is the k-th smallest of the K2 values ``|Y_i|`` and ``|X|_(K1 k)``
    the ``K1 k``-th smallest of the K values ``|X_j|``: both are empirical p-quantiles,
    and ``Y =_d K1^(1/alpha) X`` scales every quantile by ``K1^(1/alpha)``. This is the
    idea of the authors' ``alpha_estimator2`` (Simsekli et al.'s code, after Mohammadi,
    Mohammadpour & Ogata 2015). Scale-free, insensitive to the far tail and to an atom's
    log(0) (for p above the atom's weight). ``K1``: block length, default
    ``min(ORDER_K1 = 10, n // MIN_BLOCKS)`` (at least 2); ``p``: quantile level in (0, 1),
    default ``ORDER_P = 0.75``. Both chosen by RMSE on SaS data, paired on the same
    samples (300 repetitions, alpha in 0.8..2; ``benchmarks/bench_estimators.py --blocks``,
    docs/bench_estimators_blocks.md): K1 = 10 beat the sqrt rule by 37-46 % at n = 1e4
    (z = 4.7-7.9) and 8-24 % at n = 1e3 for alpha < 2; p = 0.75 beat p = 0.5 by 18-29 %
    for alpha >= 1.5 at n = 1e4 and lost 10-29 % at alpha <= 1.2 (gradient noise is
    mostly measured in 1.2..2). ``clip``, ``zeros``: as :func:`mohammadi_alpha`.
    """
    a, one_d = _as_columns(x, axis)
    clip = _check_flag(clip, "clip")
    _check_zeros(zeros)
    p = _unit_interval("p", p)
    if K1 is not None:
        _k1_k2(a.shape[0], K1)
    _reject_constant_sample(a, one_d)

    def core(b):
        k1 = max(2, min(ORDER_K1, b.shape[0] // MIN_BLOCKS)) if K1 is None \
            else _k1_for(b.shape[0], K1)
        if k1 is None:
            return (np.full(b.shape[1], np.nan),)
        alpha = _inv_to_alpha(_order_inv(b, k1, p), clip)
        alpha[_no_spread(b)] = np.nan
        return (alpha,)

    return _out(_on_nonzero(a, zeros, core, 1)[0], one_d)
