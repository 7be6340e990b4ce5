"""Tail-index estimators for symmetric alpha-stable data, and Gaussianity diagnostics.

Normalisation
-------------
As everywhere in levydyn, ``Z ~ SaS(1)`` means ``E exp(i w Z) = exp(-|w|^alpha)``
(scipy's ``levy_stable(alpha, 0, scale=1)``; ``N(0, 2)`` at ``alpha = 2``). A *scale*
``sigma`` returned here means ``x = loc + sigma * Z``; at ``alpha = 2`` the standard
deviation of ``x`` is ``sqrt(2) * sigma``.

Shapes
------
Every estimator takes a 1-D sample or a 2-D array (samples x coordinates, or pass
``axis``) and estimates every column in one vectorised call; a 1-D input gives a
float, a 2-D input an array with one entry per column. Columns with no spread (all
values equal) cannot be estimated and give ``nan``; non-finite input, too few
samples or a wrong number of dimensions raise one ``ValueError`` naming the field.

Which estimator to use (measured: ``benchmarks/bench_estimators.py``, docs/bench_estimators.md)
---------------------------------------------------------------------------------------------
- :func:`cf_regression` (empirical characteristic function, GLS regression) had the
  lowest RMSE of alpha (tied with McCulloch at small alpha) at every alpha in [0.6, 2]
  and n in {1e3, 1e4, 1e5} (0.009-0.016 at n = 1e4), gives the scale too, was on par
  with ``scipy.stats.levy_stable.fit`` on the same samples, and was >= 600 x faster per
  column than that fit at n = 1e3 and >= 1e4 x at n = 1e4.
- :func:`mcculloch` (quantiles) is within 25 % of it for alpha <= 1.2, worse near
  alpha = 2, and about 3 x cheaper; it is the starting point of the regression.
- :func:`mohammadi_alpha` (paper 000, eq. 15, K1 ~ sqrt(n)) is the estimator used by
  Simsekli et al. (2019); scale-free and simple, but its RMSE is 1.4-6 x that of
  cf_regression (more at alpha = 2). :func:`mohammadi_alpha_median` (median over the
  authors' block lengths 2..1000) cuts it by 25-60 % at n >= 1e4;
  :func:`mohammadi_order_alpha` (quantiles of block sums, the authors'
  ``alpha_estimator2`` idea) is close to the median at n >= 1e4 and ignores an atom.
- :func:`hill_alpha` is shown for comparison: on stable data it is biased upward from
  alpha ~ 1.5 (+0.25 at n = 1e3), +0.84 at alpha = 1.8 (n = 1e4), because the power
  tail starts far out; :func:`hill_curve` / :func:`hill_plot` show it against k.

Every estimator takes ``zeros="drop"`` (default: exact zeros, an atom at 0 such as ReLU
gradient noise, are left out with an :class:`AtomWarning`; :func:`atom_fraction` reports
the atom) or ``"keep"``; the block-sum ones take ``clip`` (default True: alpha <= 2).
:func:`alpha_ci` gives any of them a confidence interval (asymptotic or bootstrap,
coverage measured).
"""
from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field

import numba as nb
import numpy as np
from scipy.interpolate import CubicSpline

__all__ = [
    "MIN_SAMPLES",
    "BERRY_ESSEEN_CONSTANT",
    "mohammadi_alpha",
    "mohammadi_alpha_multivariate",
    "mohammadi_alpha_median",
    "mohammadi_order_alpha",
    "median_block_sizes",
    "AUTHORS_BLOCK_SIZES",
    "MIN_BLOCKS",
    "mcculloch",
    "cf_regression",
    "hill_alpha",
    "hill_k",
    "ZEROS",
    "AtomWarning",
    "atom_fraction",
    "ALPHA_METHODS",
    "AlphaCI",
    "alpha_ci",
    "HillCurve",
    "hill_curve",
    "hill_plot",
    "GaussianityResult",
    "shapiro_gaussian_fraction",
    "BerryEsseenBound",
    "ShapiroSensitivity",
    "shapiro_sensitivity",
    "standardized_third_abs_moment",
    "berry_esseen_bound",
    "FitErrors",
    "fit_errors",
]

#: Fewest samples per column accepted by the tail-index estimators.
MIN_SAMPLES = 16

#: Berry-Esseen constant for i.i.d. summands, ``C <= 0.4748`` (Shevtsova 2011,
#: arXiv:1111.6554, "On the absolute constants in the Berry-Esseen type inequalities
#: for identically distributed summands"). Esseen's lower bound is 0.4097.
BERRY_ESSEEN_CONSTANT = 0.4748

# ---------------------------------------------------------------------------------
# McCulloch table for beta = 0, computed for this module (not copied from McCulloch
# 1986): quantiles q_0.75 and q_0.95 of SaS(1) at alpha = 0.40, 0.45, ..., 2.00, from
# scipy.stats.levy_stable.ppf (alpha = 2: sqrt(2) * normal quantiles) and checked to
# ~1e-8 in probability by mpmath Fourier inversion. tests/test_estimators.py re-checks
# off-grid points against scipy. nu(alpha) = q95 / q75 = (q95 - q05) / (q75 - q25).
# ---------------------------------------------------------------------------------
_MCC_TABLE = np.array([
    (0.40, 1.508958485227, 173.585446937686),
    (0.45, 1.377592901152, 93.730847723968),
    (0.50, 1.283832775189, 57.304027730637),
    (0.55, 1.214566945815, 38.338497081965),
    (0.60, 1.162103963677, 27.439818699486),
    (0.65, 1.121649854424, 20.682793253196),
    (0.70, 1.090064220036, 16.235162461777),
    (0.75, 1.065200507810, 13.163239069717),
    (0.80, 1.045534735334, 10.956245660647),
    (0.85, 1.029946245165, 9.317940288664),
    (0.90, 1.017583407565, 8.067902364760),
    (0.95, 1.007779526352, 7.091609370017),
    (1.00, 1.000000000000, 6.313751514675),
    (1.05, 0.993809579855, 5.683274707664),
    (1.10, 0.988852331566, 5.164646084367),
    (1.15, 0.984838895545, 4.732567718843),
    (1.20, 0.981537200396, 4.368675430838),
    (1.25, 0.978764368319, 4.059419245250),
    (1.30, 0.976378940326, 3.794667408026),
    (1.35, 0.974273414787, 3.566762423263),
    (1.40, 0.972367403210, 3.369860506445),
    (1.45, 0.970601671526, 3.199444612729),
    (1.50, 0.968933181714, 3.051940973238),
    (1.55, 0.967331109167, 2.924406837709),
    (1.60, 0.965773727223, 2.814292806148),
    (1.65, 0.964246016719, 2.719296729582),
    (1.70, 0.962737857524, 2.637306981008),
    (1.75, 0.961242674466, 2.566404149626),
    (1.80, 0.959756431402, 2.504881480786),
    (1.85, 0.958276888607, 2.451257486514),
    (1.90, 0.956803057547, 2.404272218608),
    (1.95, 0.955334802695, 2.362869933128),
    (2.00, 0.953872552409, 2.326174307353),
])
_MCC_ALPHA = _MCC_TABLE[:, 0]
_MCC_LOGNU = np.log(_MCC_TABLE[:, 2] / _MCC_TABLE[:, 1])      # decreasing in alpha
_MCC_ALPHA_OF_LOGNU = CubicSpline(_MCC_LOGNU[::-1], _MCC_ALPHA[::-1])
_MCC_PROBS = np.array([0.05, 0.25, 0.75, 0.95])
_MCC_IQR_OF_ALPHA = CubicSpline(_MCC_ALPHA, 2.0 * _MCC_TABLE[:, 1])  # q75 - q25 of SaS(1)

# Characteristic-function regression grid on the standardised sample: t_k = k * _CF_DT,
# k = 1.._CF_K, i.e. t in [0.1, 2.0] (chosen by the measured RMSE, see cf_regression),
# and the alpha grid on which the GLS weights are tabulated.
_CF_DT = 0.1
_CF_K = 20
_CF_ITER = 2
_CF_AGRID_STEP = 0.01
_CF_AGRID = np.round(np.arange(0.1, 2.0 + 1e-9, _CF_AGRID_STEP), 2)


# ---------------------------------------------------------------------------------
# numba kernels: plain functions over arrays
# ---------------------------------------------------------------------------------
_BLOCK = 64


def _ecf_modulus2_py(x, inv_scale, dt, n_t, out):
    """out[k, j] = |mean_i exp(i (k+1) dt x[i, j] inv_scale[j])|^2 for k < n_t.

    Powers of exp(i dt u) by complex recurrence (one sin/cos per sample); columns are
    processed in blocks of 64 so the row-major array is read contiguously and the
    inner loops vectorise across columns.
    """
    n, m = x.shape
    n_blocks = (m + _BLOCK - 1) // _BLOCK
    for b in nb.prange(n_blocks):
        j0 = b * _BLOCK
        w = min(m, j0 + _BLOCK) - j0
        acc_re = np.zeros((n_t, w))
        acc_im = np.zeros((n_t, w))
        c = np.empty(w)
        s = np.empty(w)
        zr = np.empty(w)
        zi = np.empty(w)
        for i in range(n):
            for jj in range(w):
                u = x[i, j0 + jj] * inv_scale[j0 + jj] * dt
                c[jj] = math.cos(u)
                s[jj] = math.sin(u)
                zr[jj] = c[jj]
                zi[jj] = s[jj]
            for k in range(n_t):
                for jj in range(w):
                    acc_re[k, jj] += zr[jj]
                    acc_im[k, jj] += zi[jj]
                    r = zr[jj] * c[jj] - zi[jj] * s[jj]
                    zi[jj] = zr[jj] * s[jj] + zi[jj] * c[jj]
                    zr[jj] = r
        for k in range(n_t):
            for jj in range(w):
                re = acc_re[k, jj] / n
                im = acc_im[k, jj] / n
                out[k, j0 + jj] = re * re + im * im


@nb.njit(inline="always")
def _swap(a, i, j):
    t = a[i]
    a[i] = a[j]
    a[j] = t


@nb.njit(cache=True)
def _select(a, k, left, right):
    """Hoare quickselect: reorder a[left:right+1] so that a[k] is in sorted position."""
    while right > left:
        mid = (left + right) >> 1
        if a[mid] < a[left]:
            _swap(a, mid, left)
        if a[right] < a[left]:
            _swap(a, right, left)
        if a[right] < a[mid]:
            _swap(a, right, mid)
        pivot = a[mid]
        i = left
        j = right
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                _swap(a, i, j)
                i += 1
                j -= 1
        if k <= j:
            right = j
        elif k >= i:
            left = i
        else:
            return


@nb.njit(cache=True)
def _multi_select(a, kth):
    """Put a[k] in sorted position for every k of the ascending array kth (in place)."""
    prev = -1
    n = a.size
    for k in kth:
        if prev >= 0 and k == prev + 1:
            jm = k                      # next order statistic: minimum of the rest
            for j in range(k + 1, n):
                if a[j] < a[jm]:
                    jm = j
            _swap(a, k, jm)
        else:
            _select(a, k, prev + 1, n - 1)
        prev = k


def _column_quantiles_py(x, probs, out):
    """out[q, j] = Hazen quantile probs[q] of column j of x (n, m).

    Hazen plotting positions: the i-th smallest (1-based) sits at p = (i - 1/2)/n, with
    linear interpolation between and clamping beyond the extreme order statistics
    (numpy's method="hazen"). Columns are gathered in blocks of 64 and only the
    needed order statistics are selected (quickselect).
    """
    n, m = x.shape
    nq = probs.size
    lo = np.empty(nq, np.int64)
    frac = np.empty(nq)
    for q in range(nq):
        h = min(max(n * probs[q] - 0.5, 0.0), n - 1.0)
        lo[q] = min(int(math.floor(h)), n - 2)
        frac[q] = h - lo[q]
    kth = np.empty(2 * nq, np.int64)
    for q in range(nq):
        kth[2 * q] = lo[q]
        kth[2 * q + 1] = lo[q] + 1
    kth = np.unique(kth)
    n_blocks = (m + _BLOCK - 1) // _BLOCK
    for b in nb.prange(n_blocks):
        j0 = b * _BLOCK
        w = min(m, j0 + _BLOCK) - j0
        tile = np.empty((w, n))
        for i in range(n):
            for jj in range(w):
                tile[jj, i] = x[i, j0 + jj]
        for jj in range(w):
            col = tile[jj]
            _multi_select(col, kth)
            for q in range(nq):
                out[q, j0 + jj] = col[lo[q]] + frac[q] * (col[lo[q] + 1] - col[lo[q]])


# Each kernel is compiled twice: parallel over column blocks, and serial (prange runs as
# range) for a single block, where a thread-pool launch costs more than the work (and
# much more on an oversubscribed machine).
_ecf_par = nb.njit(parallel=True, cache=True)(_ecf_modulus2_py)
_ecf_ser = nb.njit(cache=True)(_ecf_modulus2_py)
_cq_par = nb.njit(parallel=True, cache=True)(_column_quantiles_py)
_cq_ser = nb.njit(cache=True)(_column_quantiles_py)


def _ecf_modulus2(x, inv_scale, dt, n_t, out):
    """Dispatch to the serial or parallel kernel (see _ecf_modulus2_py)."""
    (_ecf_ser if x.shape[1] <= _BLOCK else _ecf_par)(x, inv_scale, dt, n_t, out)


def _column_quantiles(x, probs, out):
    """Dispatch to the serial or parallel kernel (see _column_quantiles_py)."""
    (_cq_ser if x.shape[1] <= _BLOCK else _cq_par)(x, probs, out)


# ---------------------------------------------------------------------------------
# validation and shaping (one place for bad-input errors in this module)
# ---------------------------------------------------------------------------------
def _as_columns(x, axis: int = 0, min_n: int = MIN_SAMPLES, name: str = "x"):
    """Return (C-contiguous float (n, m) array, input_was_1d); raise one ValueError."""
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array, got {type(x).__name__}") from None
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D (samples x coordinates), got ndim={a.ndim}")
    if not isinstance(axis, (int, np.integer)) or not -a.ndim <= axis < a.ndim:
        raise ValueError(f"axis must be an integer in [{-a.ndim}, {a.ndim - 1}], got axis={axis!r}")
    one_d = a.ndim == 1
    a = a[:, None] if one_d else np.moveaxis(a, axis, 0)
    n, m = a.shape
    if n < min_n:
        raise ValueError(f"{name} needs at least {min_n} samples along axis {axis}, got n={n}")
    if m == 0:
        raise ValueError(f"{name} has no coordinates, got shape={np.shape(x)}")
    finite = np.isfinite(a)
    if not finite.all():
        i, j = np.argwhere(~finite)[0]
        where = f"sample {i}" if one_d else f"sample {i}, column {j}"
        raise ValueError(f"{name} must be finite, got {a[i, j]} at {where}")
    return np.ascontiguousarray(a), one_d


def _reject_constant_sample(a: np.ndarray, one_d: bool, name: str = "x") -> None:
    """A 1-D sample with no spread has no tail index: one ValueError naming it."""
    if one_d and not np.any(a != a[0, 0]):
        raise ValueError(f"{name} must not be constant (no spread: the tail index is undefined), "
                         f"got {name}=[{float(a[0, 0])!r}] * {a.shape[0]}")


def _out(v, one_d):
    v = np.asarray(v, dtype=float)
    return float(v[0]) if one_d else v


def _check_flag(value, name: str):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {name}={value!r}")
    return bool(value)


def _no_spread(a):
    """Columns whose values are all equal (constant data: no tail index to estimate)."""
    return ~np.any(a != a[:1], axis=0)


def _safe_log_abs(a):
    """log|a| with zeros floored at eps * max|column| (keeps scale invariance)."""
    absa = np.abs(a)
    floor = np.finfo(float).eps * absa.max(axis=0)
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(absa, floor))


# ---------------------------------------------------------------------------------
# exact zeros: an atom at 0 (ReLU gradient noise) is reported and left out
# ---------------------------------------------------------------------------------
#: Accepted values of the ``zeros`` argument of the estimators.
ZEROS = ("drop", "keep")


class AtomWarning(UserWarning):
    """Some samples are exact zeros (a point mass at 0) and were left out of an estimate."""


def _check_zeros(zeros):
    if zeros not in ZEROS:
        raise ValueError(f"zeros must be one of {', '.join(map(repr, ZEROS))}, got zeros={zeros!r}")
    return zeros


def atom_fraction(x, axis: int = 0):
    """Share of samples that are exactly 0, per column (1-D input: a float).

    Gradient noise of ReLU networks puts a point mass at 0 (a unit inactive on a whole
    minibatch gives an exact zero). A SaS law has no atom, so the estimators here
    (``zeros="drop"``, the default) estimate alpha of the *continuous part* -- the law of
    x given x != 0 -- and warn (:class:`AtomWarning`); this function reports the atom's
    weight so it can be quoted next to the estimate.
    """
    a, one_d = _as_columns(x, axis, min_n=1)
    return _out(np.mean(a == 0.0, axis=0), one_d)


def _on_nonzero(a, zeros, core, n_out, min_n=MIN_SAMPLES, name="x", warn=True):
    """Apply ``core`` to the nonzero samples of every column of the clean (n, m) array a.

    ``core(b)`` takes a (n_b, m_b) array without zeros (or with them when
    ``zeros="keep"``) and returns ``n_out`` arrays of shape (m_b,). Columns are compacted
    (nonzero samples first, original order kept, so block sums stay sums of consecutive
    samples) and grouped by their number of nonzero samples, one vectorised call per
    group. Columns with fewer than ``min_n`` nonzero samples give nan. One
    :class:`AtomWarning` per call when some column has a partial atom at 0.
    """
    n, m = a.shape
    nz = a != 0.0
    cnt = nz.sum(axis=0)
    partial = (cnt < n) & (cnt > 0)
    if zeros == "keep" or not partial.any():
        return core(a)
    outs = [np.full(m, np.nan) for _ in range(n_out)]

    def put(cols, res):
        for o, r in zip(outs, res):
            o[cols] = r

    full = np.flatnonzero(cnt == n)
    if full.size:
        put(full, core(np.ascontiguousarray(a[:, full])))
    part = np.flatnonzero(partial & (cnt >= min_n))
    if part.size:
        order = np.argsort(~nz[:, part], axis=0, kind="stable")
        sub = np.take_along_axis(a[:, part], order, axis=0)
        cp = cnt[part]
        for c in np.unique(cp):
            sel = cp == c
            put(part[sel], core(np.ascontiguousarray(sub[:c, sel])))
    if warn:
        frac = 1.0 - cnt[partial] / n
        short = int(np.sum(partial & (cnt < min_n)))
        msg = (f"{name}: exact zeros (an atom at 0) in {int(partial.sum())} of {m} column"
               f"{'s' if m > 1 else ''}, {100 * frac.max():.3g}% of the samples at most"
               f" (mean {100 * frac.mean():.3g}%); alpha is estimated on the nonzero samples"
               " (zeros='keep' includes them)")
        if short:
            msg += (f"; {short} column{'s' if short > 1 else ''} with fewer than {min_n} nonzero"
                    f" samples give{'' if short > 1 else 's'} nan")
        warnings.warn(msg, AtomWarning, stacklevel=3)
    return outs


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

# ---------------------------------------------------------------------------------
# McCulloch (1986) quantile estimator, symmetric case
# ---------------------------------------------------------------------------------
def _mcculloch_cols(a):
    q = np.empty((4, a.shape[1]))
    _column_quantiles(a, _MCC_PROBS, q)
    q05, q25, q75, q95 = q
    iqr = q75 - q25
    with np.errstate(divide="ignore", invalid="ignore"):
        lognu = np.log((q95 - q05) / iqr)
    lognu = np.clip(lognu, _MCC_LOGNU[-1], _MCC_LOGNU[0])
    alpha = _MCC_ALPHA_OF_LOGNU(lognu)
    alpha = np.clip(alpha, _MCC_ALPHA[0], 2.0)
    scale = iqr / _MCC_IQR_OF_ALPHA(alpha)
    bad = ~(iqr > 0)
    alpha[bad] = np.nan
    scale[bad] = np.nan
    return alpha, scale


def mcculloch(x, axis: int = 0, zeros: str = "drop"):
    """McCulloch (1986) quantile estimator of (alpha, scale) for symmetric stable data.

    With sample quantiles ``q_p`` (Hazen plotting positions ``(i - 1/2)/n``, as in
    McCulloch 1986)::

        nu = (q_0.95 - q_0.05) / (q_0.75 - q_0.25),   alpha_hat = psi(nu),
        scale_hat = (q_0.75 - q_0.25) / (Q_0.75(alpha_hat) - Q_0.25(alpha_hat))

    where ``Q_p(alpha)`` are the quantiles of SaS(1) (``E exp(iwZ) = exp(-|w|^alpha)``),
    so ``x = loc + scale_hat * Z``, and ``psi`` inverts ``nu(alpha) = Q_0.95/Q_0.75``.
    The table behind ``psi`` and ``Q`` (beta = 0 only) is computed for this module
    from scipy's quantiles on alpha = 0.40, 0.45, ..., 2.00 and interpolated by a cubic
    spline (error < 1e-5 in alpha off the grid). Source: J. H. McCulloch, "Simple
    consistent estimators of stable distribution parameters", Commun. Statist. -
    Simul. 15 (1986) 1109-1136.

    Returns
    -------
    (alpha_hat, scale_hat): alpha clipped to the table range [0.4, 2]; columns with zero
    inter-quartile range give nan. ``zeros``: as :func:`mohammadi_alpha` (``"drop"``:
    the estimate is that of the nonzero part, with an :class:`AtomWarning`).
    """
    a, one_d = _as_columns(x, axis)
    _check_zeros(zeros)
    alpha, scale = _on_nonzero(a, zeros, _mcculloch_cols, 2)
    return _out(alpha, one_d), _out(scale, one_d)


# ---------------------------------------------------------------------------------
# Characteristic-function regression (Koutrouvelis 1980; Kogon & Williams 1998)
# ---------------------------------------------------------------------------------
def _cf_gls_weights(alpha: float, t: np.ndarray) -> np.ndarray:
    """GLS coefficient rows (2, K) for y_k = log(-log|phi_n(t_k)|^2) on [1, log t_k].

    For standardised SaS data (scale 1), ``phi(t) = exp(-|t|^alpha)``, the per-sample
    covariance of ``cos(t_j u)`` and ``cos(t_k u)`` is
    ``G_jk = (phi(t_j - t_k) + phi(t_j + t_k)) / 2 - phi_j phi_k``; by the delta method
    ``cov(y_j, y_k) = G_jk / (n phi_j phi_k t_j^alpha t_k^alpha)``. Returns
    ``(X' S^+ X)^-1 X' S^+`` (pseudo-inverse: S is smooth and ill-conditioned).
    """
    phi = lambda s: np.exp(-np.abs(s) ** alpha)  # noqa: E731
    tj, tk = t[:, None], t[None, :]
    g = 0.5 * (phi(tj - tk) + phi(tj + tk)) - phi(tj) * phi(tk)
    cov = g / (phi(tj) * phi(tk) * tj ** alpha * tk ** alpha)
    design = np.stack([np.ones_like(t), np.log(t)], axis=1)
    cinv = np.linalg.pinv(cov, rcond=1e-12, hermitian=True)
    return np.linalg.solve(design.T @ cinv @ design, design.T @ cinv)


def _cf_gls_slope_var(alpha: float, t: np.ndarray) -> float:
    """Per-sample variance of the GLS slope, ``(X' S^+ X)^-1 [1, 1]`` (S as above)."""
    phi = lambda s: np.exp(-np.abs(s) ** alpha)  # noqa: E731
    tj, tk = t[:, None], t[None, :]
    g = 0.5 * (phi(tj - tk) + phi(tj + tk)) - phi(tj) * phi(tk)
    cov = g / (phi(tj) * phi(tk) * tj ** alpha * tk ** alpha)
    design = np.stack([np.ones_like(t), np.log(t)], axis=1)
    cinv = np.linalg.pinv(cov, rcond=1e-12, hermitian=True)
    return float(np.linalg.inv(design.T @ cinv @ design)[1, 1])


@functools.cache
def _cf_table(fn) -> np.ndarray:
    """``fn(alpha, t)`` on the alpha grid at the regression's points ``t``, computed once
    on first use: the per-sample slope variances ``(len(_CF_AGRID),)`` or the GLS weights
    ``(len(_CF_AGRID), 2, _CF_K)``."""
    t = _CF_DT * np.arange(1, _CF_K + 1)
    return np.array([fn(a, t) for a in _CF_AGRID])


def _cf_slope_var_table() -> np.ndarray:
    return _cf_table(_cf_gls_slope_var)


def _cf_weight_table() -> np.ndarray:
    return _cf_table(_cf_gls_weights)


def _unit_interval(name: str, value) -> float:
    """``value`` as a float in the open interval (0, 1), or one line naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {name}={value!r}") from None
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1), got {name}={value!r}")
    return v


def cf_regression(x, axis: int = 0, n_iter: int = _CF_ITER, zeros: str = "drop"):
    """Characteristic-function (Koutrouvelis-type) regression estimate of (alpha, scale).

    For symmetric stable ``x = loc + sigma Z`` the modulus of the characteristic
    function is ``|phi(t)|^2 = exp(-2 |sigma t|^alpha)`` whatever ``loc``, hence::

        y(t) = log(-log |phi(t)|^2) = log 2 + alpha log sigma + alpha log t

    a straight line in ``log t``. With ``u = x / s`` (``s`` a preliminary scale) the
    empirical ``|phi_n(t)|^2 = (mean cos tu)^2 + (mean sin tu)^2`` is computed at
    ``t_k = k/10``, ``k = 1..20``, and ``y_k`` is regressed on ``log t_k`` by
    generalised least squares, with the delta-method covariance of the ``y_k`` under
    the current ``alpha`` (tabulated on an alpha grid of step 0.01). The slope is
    ``alpha_hat``; the intercept ``b`` updates the scale to ``s exp((b - log 2) /
    alpha_hat)``. The first ``s`` and ``alpha`` are McCulloch's; the regression is run
    ``n_iter`` times (Koutrouvelis' iteration; 2 is enough in the measured table).
    Scale in the SaS(1) convention ``E exp(iwZ) = exp(-|w|^alpha)``.

    Sources: I. A. Koutrouvelis, "Regression-type estimation of the parameters of stable
    laws", JASA 75 (1980) 918-928 (regression on log t, iteration, weighting);
    S. M. Kogon & D. B. Williams (1998), "Characteristic function based estimation of
    stable distribution parameters" (a fixed t grid on the standardised sample). The
    grid [0.1, 2] and the GLS weighting were chosen here by their measured RMSE.

    Returns
    -------
    (alpha_hat, scale_hat); alpha clipped to [0.1, 2]; zero-spread columns give nan.
    ``zeros``: as :func:`mohammadi_alpha` (an atom at 0 keeps ``|phi_n(t)|`` from
    decaying; ``"drop"`` estimates the nonzero part, with an :class:`AtomWarning`).
    """
    a, one_d = _as_columns(x, axis)
    if isinstance(n_iter, (bool, np.bool_)) or not isinstance(n_iter, (int, np.integer)) \
            or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer, got n_iter={n_iter!r}")
    _check_zeros(zeros)
    alpha, scale = _on_nonzero(a, zeros, lambda b: _cf_cols(b, n_iter), 2)
    return _out(alpha, one_d), _out(scale, one_d)


def _cf_cols(a, n_iter):
    """cf_regression on the clean (n, m) array a: (alpha, scale) arrays."""
    alpha, scale = _mcculloch_cols(a)
    bad = ~(scale > 0)
    scale = np.where(bad, 1.0, scale)
    alpha = np.where(bad, 2.0, alpha)
    table = _cf_weight_table()
    psi = np.empty((_CF_K, a.shape[1]))
    tiny = np.finfo(float).tiny
    for _ in range(n_iter):
        _ecf_modulus2(a, 1.0 / scale, _CF_DT, _CF_K, psi)
        y = np.log(-np.log(np.clip(psi, tiny, 1.0 - 1e-16)))
        idx = np.clip(np.rint((alpha - _CF_AGRID[0]) / _CF_AGRID_STEP).astype(np.intp),
                      0, _CF_AGRID.size - 1)
        coef = np.einsum("mik,km->im", table[idx], y)     # (2, m): intercept, slope
        alpha = np.clip(coef[1], 0.1, 2.0)
        scale = scale * np.exp((coef[0] - math.log(2.0)) / alpha)
    alpha[bad] = np.nan
    scale[bad] = np.nan
    return alpha, scale


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


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


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


# ---------------------------------------------------------------------------------
# Gaussianity (paper 003): Shapiro-Wilk fraction and Berry-Esseen bound
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GaussianityResult:
    """Share of columns that a per-column Shapiro-Wilk test does not reject.

    fraction : share of the *non-constant* columns with p-value > level ("percentage of
        Gaussian coordinates" of paper 003, as a fraction); nan when every column is
        constant (no Gaussianity to test).
    fraction_ci : 95 % Wilson interval for that share over the non-constant columns.
    pvalues : per-column Shapiro-Wilk p-values (scipy's p = 1 for constant columns).
    level : test level.
    n_samples : samples per column used by the test.
    n_constant : columns with zero range (point masses, e.g. dead ReLU units).
    fraction_with_constant : share counting constant columns as Gaussian, as paper 003
        does ("the Shapiro-Wilk test also recognizes point mass data as Gaussian").
    """

    fraction: float
    fraction_ci: tuple[float, float]
    pvalues: np.ndarray = field(repr=False)
    level: float
    n_samples: int
    n_constant: int
    fraction_with_constant: float = float("nan")


def _wilson(k: int, m: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / m
    den = 1.0 + z * z / m
    mid = (p + z * z / (2 * m)) / den
    half = z * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / den
    return (0.0 if k == 0 else mid - half), (1.0 if k == m else mid + half)


def shapiro_gaussian_fraction(X, level: float = 0.05, axis: int = 0,
                              max_samples: int = 5000) -> GaussianityResult:
    """Shapiro-Wilk test per column; the fraction of columns not rejected at ``level``.

    The statistic ``W = (sum a_i x_(i))^2 / sum (x_i - xbar)^2`` (Shapiro & Wilk 1965)
    with Royston's AS R94 p-values (scipy.stats.shapiro), as used for gradient noise
    in paper 003 ("percentage of Gaussianity"). Scale- and location-free. Under
    Gaussian data the expected fraction is ``1 - level``. Constant columns (point
    masses) are not counted as Gaussian in ``fraction`` (scipy gives them p = 1);
    ``fraction_with_constant`` is paper 003's share that counts them. AS R94 is valid up to 5000
    samples: longer columns are cut to their first ``max_samples`` samples.
    """
    from scipy.stats import shapiro  # local: keeps module import light

    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got level={level!r}")
    if isinstance(max_samples, (bool, np.bool_)) or not isinstance(max_samples, (int, np.integer)) \
            or not 3 <= max_samples <= 5000:
        raise ValueError(f"max_samples must be an integer in [3, 5000], got max_samples={max_samples!r}")
    a, _ = _as_columns(X, axis, min_n=3, name="X")
    a = a[:max_samples]
    constant = ~np.any(a != a[0], axis=0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*range zero.*")
        p = np.atleast_1d(np.asarray(shapiro(a, axis=0).pvalue, dtype=float))
    live = ~constant
    m = int(live.sum())
    k = int(np.sum(p[live] > level))
    return GaussianityResult(fraction=k / m if m else float("nan"),
                             fraction_ci=_wilson(k, m) if m else (float("nan"), float("nan")),
                             pvalues=p, level=level, n_samples=a.shape[0],
                             n_constant=int(constant.sum()),
                             fraction_with_constant=float(np.mean(p > level)))


@dataclass(frozen=True)
class ShapiroSensitivity:
    """How large a Kolmogorov distance from Gaussian a Shapiro-Wilk test on n samples sees.

    shapes : Gamma shapes k of the alternatives (standardised Gamma(k) laws).
    distance : their exact Kolmogorov distance ``sup_x |F_k(x) - Phi(x)|`` from N(0, 1).
    rejection : share of ``reps`` samples of size ``n_samples`` rejected at ``level``.
    detectable_distance : the distance at which the rejection rate crosses 1/2
        (interpolated linearly in log distance); nan if it never does.
    ks_critical : ``sqrt(-log(level/2)/2) / sqrt(n)``, the asymptotic critical distance of
        the Kolmogorov-Smirnov test at ``level``: a distance-based test sees about this.
    """

    n_samples: int
    level: float
    reps: int
    shapes: np.ndarray
    distance: np.ndarray
    rejection: np.ndarray
    detectable_distance: float
    ks_critical: float


#: Gamma shapes of :func:`shapiro_sensitivity` (Kolmogorov distances ~0.1 down to ~0.003).
SENSITIVITY_SHAPES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)


def shapiro_sensitivity(n_samples: int, level: float = 0.05, reps: int = 400, seed: int = 0,
                        shapes=SENSITIVITY_SHAPES) -> ShapiroSensitivity:
    """Rejection rate of the Shapiro-Wilk test against laws at a known Kolmogorov distance.

    The Berry-Esseen bound (:func:`berry_esseen_bound`) bounds the Kolmogorov distance
    ``d_K = sup_x |F(x) - Phi(x)|`` of a standardised minibatch mean from N(0, 1); the
    Gaussian % of paper 003 counts Shapiro-Wilk non-rejections. To relate the two, this
    calibrates the test on a family with the same leading departure as a mean of B
    skewed terms: the standardised Gamma(k) law (a mean of k exponentials), whose
    skewness is ``2/sqrt(k)`` and whose one-term Edgeworth distance is
    ``d_K ~ phi(0) (2/sqrt(k)) / 6 = 0.133/sqrt(k)``. For each k the exact ``d_K`` is
    computed from ``scipy.stats.gamma.cdf`` on a grid of 40,001 points in [-10, 10]
    (error < 1e-4) and the rejection rate from ``reps`` samples of ``n_samples`` drawn
    with ``numpy.random.default_rng(seed)`` (binomial s.e. <= 0.5/sqrt(reps)).

    A skewed departure is what per-sample gradients of ReLU networks show (an atom at 0
    and one long side); a symmetric heavy-tailed one is not calibrated here.
    """
    from scipy.stats import gamma as gamma_law
    from scipy.stats import norm, shapiro

    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, (int, np.integer)) \
            or not 3 <= n_samples <= 5000:
        raise ValueError(f"n_samples must be an integer in [3, 5000], got n_samples={n_samples!r}")
    level = _unit_interval("level", level)
    if isinstance(reps, (bool, np.bool_)) or not isinstance(reps, (int, np.integer)) or reps < 20:
        raise ValueError(f"reps must be an integer >= 20, got reps={reps!r}")
    ks = np.asarray(shapes, dtype=float)
    if ks.ndim != 1 or ks.size < 2 or not np.all(np.isfinite(ks) & (ks > 0)):
        raise ValueError(f"shapes must be at least two positive numbers, got shapes={shapes!r}")
    x = np.linspace(-10.0, 10.0, 40001)
    rng = np.random.default_rng(seed)
    dist, rej = np.empty(ks.size), np.empty(ks.size)
    for i, k in enumerate(ks):
        dist[i] = np.max(np.abs(gamma_law.cdf(k + math.sqrt(k) * x, k) - norm.cdf(x)))
        p = shapiro(rng.gamma(k, size=(int(n_samples), int(reps))), axis=0).pvalue
        rej[i] = float(np.mean(np.asarray(p) < level))
    order = np.argsort(dist)
    d, r = dist[order], rej[order]
    cross = np.flatnonzero((r[:-1] < 0.5) & (r[1:] >= 0.5))
    if cross.size:
        j = int(cross[0])
        t = (0.5 - r[j]) / (r[j + 1] - r[j])
        detect = float(np.exp(np.log(d[j]) + t * (np.log(d[j + 1]) - np.log(d[j]))))
    else:
        detect = float("nan")
    return ShapiroSensitivity(n_samples=int(n_samples), level=level, reps=int(reps), shapes=ks,
                              distance=dist, rejection=rej, detectable_distance=detect,
                              ks_critical=math.sqrt(-math.log(level / 2) / 2)
                              / math.sqrt(n_samples))


def standardized_third_abs_moment(x, axis: int = 0):
    """``beta / sigma^3`` per column, ``beta = mean|x - xbar|^3``, ``sigma^2 = mean (x - xbar)^2``.

    Plug-in (1/n) moments about the sample mean; paper 003 eq. 17. Zero-variance
    columns give nan.
    """
    a, one_d = _as_columns(x, axis, min_n=2)
    return _out(_third_ratio(a), one_d)


def _third_ratio(a):
    d = a - a.mean(axis=0)
    var = np.mean(d * d, axis=0)
    beta = np.mean(np.abs(d) ** 3, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = beta / var ** 1.5
    r[~(var > 0)] = np.nan
    return r


@dataclass(frozen=True)
class BerryEsseenBound:
    """Berry-Esseen bound on sup_x |F_S(x) - Phi(x)| for standardized batch means.

    ratio : beta / sigma^3 per column (standardized third absolute moment).
    bound : ``constant * ratio / sqrt(batch_size)``.
    kurtosis_sqrt : ``sqrt(E z^4)``, the Cauchy-Schwarz upper bound on ``ratio``
        (paper 003 eq. 19-21).
    batch_size, constant : as used.
    """

    ratio: float | np.ndarray
    bound: float | np.ndarray
    kurtosis_sqrt: float | np.ndarray
    batch_size: int
    constant: float


def berry_esseen_bound(x, batch_size: int, axis: int = 0,
                       constant: float = BERRY_ESSEEN_CONSTANT) -> BerryEsseenBound:
    """Berry-Esseen bound for the mean of ``batch_size`` i.i.d. draws like ``x``, per column.

    For i.i.d. ``chi_s`` with variance ``sigma^2`` and ``beta = E|chi - E chi|^3``, the
    distribution function ``F_S`` of the standardized sum of ``S`` terms satisfies::

        sup_x |F_S(x) - Phi(x)| <= C * (beta / sigma^3) / sqrt(S)

    (paper 003, Theorem 1, eq. 13). ``C = 0.4748`` by default: the best known constant
    for identically distributed summands, I. Shevtsova (2011), arXiv:1111.6554.
    ``beta`` and ``sigma`` are the plug-in (1/n) moments of ``x`` about its sample
    mean. Zero-variance columns give nan. The bound can exceed 1 (then it is void).
    """
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got batch_size={batch_size!r}")
    constant = float(constant)
    if not constant > 0:
        raise ValueError(f"constant must be positive, got constant={constant!r}")
    a, one_d = _as_columns(x, axis, min_n=2)
    r = _third_ratio(a)
    d = a - a.mean(axis=0)
    var = np.mean(d * d, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        k4 = np.sqrt(np.mean(d ** 4, axis=0)) / var
    k4[~(var > 0)] = np.nan
    return BerryEsseenBound(ratio=_out(r, one_d),
                            bound=_out(constant * r / math.sqrt(batch_size), one_d),
                            kurtosis_sqrt=_out(k4, one_d),
                            batch_size=int(batch_size), constant=constant)


# ---------------------------------------------------------------------------------
# Gaussian vs SaS goodness of fit on a histogram (paper 004 Tables 1-3)
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FitErrors:
    """Histogram fit errors of a Gaussian and a SaS fit to one sample (paper 004 Tables 1-3).

    gauss_sse, sas_sse : sum over the finite bins of (histogram density - model mean
        density over the bin)^2.
    gauss_chi2, sas_chi2 : Pearson ``sum (O - E)^2 / E`` over the finite bins plus the
        two tail bins beyond them.
    better : "sas" or "gauss", the model with the smaller chi-square.
    better_sse : the model with the smaller SSE.
    gauss : (mean, std) of the Gaussian ML fit.
    sas : (alpha, scale, loc) of the SaS fit (cf_regression, median as loc).
    edges : bin edges of the finite bins.
    """

    gauss_sse: float
    sas_sse: float
    gauss_chi2: float
    sas_chi2: float
    better: str
    better_sse: str
    gauss: tuple[float, float]
    sas: tuple[float, float, float]
    edges: np.ndarray = field(repr=False)


#: Model bin probabilities are floored here so that a bin a fit deems impossible (a
#: Gaussian fit's far tail) costs a large but finite chi-square.
_MIN_BIN_PROB = 1e-12


def _sas_cdf(z, alpha):
    """CDF of SaS(1) (E exp(iwZ) = exp(-|w|^alpha)) at z."""
    from scipy.stats import levy_stable, norm

    if alpha >= 2.0:
        return norm.cdf(z / math.sqrt(2.0))
    return levy_stable.cdf(z, alpha, 0.0)


def fit_errors(x, bins: int = 50, tail: float = 0.005) -> FitErrors:
    """Gaussian vs SaS goodness of fit of one sample, as SSE and chi-square on a histogram.

    Fits: Gaussian by maximum likelihood (mean, std); SaS with ``loc`` = median and
    ``(alpha, scale)`` from :func:`cf_regression` (SaS(1)-scale convention). The
    histogram has ``bins`` equal bins on ``[q_tail, q_(1-tail)]`` of the sample, plus
    two tail bins ``(-inf, q_tail)`` and ``(q_(1-tail), inf)`` used by the chi-square
    only (they hold the heavy-tail evidence: a Gaussian fit expects almost nothing
    there). With ``O_k`` the counts, ``P_k`` a model's bin probabilities from its CDF
    (floored at 1e-12 in the chi-square so it stays finite), ``n`` the sample size and
    ``w`` the bin width::

        SSE  = sum_finite (O_k / (n w) - P_k / w)^2
        chi2 = sum_all (O_k - n P_k)^2 / (n P_k)

    Paper 004 (Tables 1-3) reports both errors for Gaussian and SaS fits of gradient
    noise without fixing the binning; this is the definition used here. The SaS CDF
    is scipy's ``levy_stable.cdf`` (a few ms per call). For a 2-D array call it per
    column.
    """
    from scipy.stats import norm

    a, _ = _as_columns(x, 0, min_n=MIN_SAMPLES)
    if a.shape[1] != 1:
        raise ValueError(f"x must be a 1-D sample, got shape={np.shape(x)}")
    if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got bins={bins!r}")
    tail = float(tail)
    if not 0.0 < tail < 0.5:
        raise ValueError(f"tail must lie in (0, 0.5), got tail={tail!r}")
    v = a[:, 0]
    n = v.size
    lo, hi = np.quantile(v, [tail, 1.0 - tail])
    if not hi > lo:
        raise ValueError(f"x has no spread between its {tail} and {1 - tail} quantiles")
    edges = np.linspace(lo, hi, bins + 1)
    width = edges[1] - edges[0]
    counts = np.histogram(v, edges)[0].astype(float)
    obs = np.concatenate([[np.sum(v < lo)], counts, [np.sum(v > hi)]])

    mu, sd = float(v.mean()), float(v.std())
    alpha, scale = cf_regression(v)
    loc = float(np.median(v))

    def errors(cdf_edges):
        full = np.concatenate([[0.0], cdf_edges, [1.0]])
        p = np.diff(full)
        sse = float(np.sum((counts / (n * width) - p[1:-1] / width) ** 2))
        e = n * np.maximum(p, _MIN_BIN_PROB)
        chi2 = float(np.sum((obs - e) ** 2 / e))
        return sse, chi2

    g_sse, g_chi2 = errors(norm.cdf(edges, mu, sd) if sd > 0 else (edges >= mu).astype(float))
    s_sse, s_chi2 = errors(_sas_cdf((edges - loc) / scale, alpha))
    return FitErrors(gauss_sse=g_sse, sas_sse=s_sse, gauss_chi2=g_chi2, sas_chi2=s_chi2,
                     better="sas" if s_chi2 < g_chi2 else "gauss",
                     better_sse="sas" if s_sse < g_sse else "gauss",
                     gauss=(mu, sd), sas=(float(alpha), float(scale), loc), edges=edges)
