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

Which estimator to use (measured table: ``benchmarks/bench_estimators.py``, README)
----------------------------------------------------------------------------------
- :func:`cf_regression` (empirical characteristic function, GLS regression) had the
  lowest RMSE of alpha (tied with McCulloch at small alpha) at every alpha in [0.6, 2]
  and n in {1e3, 1e4, 1e5} (0.009-0.015 at n = 1e4), gives the scale too, was on par
  with ``scipy.stats.levy_stable.fit`` on the same samples, and was >= 600 x faster per
  column than that fit at n = 1e3 and >= 1e4 x at n = 1e4.
- :func:`mcculloch` (quantiles) is within 25 % of it for alpha <= 1.4, worse near
  alpha = 2, and about 3 x cheaper; it is the starting point of the regression.
- :func:`mohammadi_alpha` (paper 000, eq. 15) is the estimator used by Simsekli et
  al. (2019); scale-free and simple, but its RMSE is 1.4-6 x that of cf_regression (more
  at alpha = 2). :func:`mohammadi_alpha_median` (median over block sizes) cuts it by up
  to 40 %.
- :func:`hill_alpha` is shown for comparison: on stable data it is biased upward from
  alpha ~ 1.4 (+0.14 at n = 1e3), +0.84 at alpha = 1.8 (n = 1e4), because the power
  tail starts far out.
"""
from __future__ import annotations

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
    "mcculloch",
    "cf_regression",
    "hill_alpha",
    "hill_k",
    "GaussianityResult",
    "shapiro_gaussian_fraction",
    "BerryEsseenBound",
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


def _safe_log_abs(a):
    """log|a| with zeros floored at eps * max|column| (keeps scale invariance)."""
    absa = np.abs(a)
    floor = np.finfo(float).eps * absa.max(axis=0)
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(absa, floor))


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


# ---------------------------------------------------------------------------------
# Mohammadi et al. (2015) block-sum estimator
# ---------------------------------------------------------------------------------
def _mohammadi_inv(logabs_x, logabs_y, k1):
    with np.errstate(invalid="ignore"):
        return (logabs_y.mean(axis=0) - logabs_x.mean(axis=0)) / math.log(k1)


def _inv_to_alpha(inv):
    """alpha = 1 / max(inv, 1/2): estimates of 1/alpha below 1/2 are clipped to alpha = 2."""
    with np.errstate(invalid="ignore"):
        return 1.0 / np.maximum(inv, 0.5)


def mohammadi_alpha(x, axis: int = 0, K1: int | None = None):
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

    Returns
    -------
    alpha_hat (float for 1-D input, else one per column); ``1/alpha_hat`` below 1/2 is
    clipped so that ``alpha_hat <= 2``; constant columns (all-zero included) give nan, and a
    constant 1-D sample is an error (no spread: the tail index is undefined).
    """
    a, one_d = _as_columns(x, axis)
    n = a.shape[0]
    if K1 is None:
        k1, k2 = _block_sizes(n)
    else:
        if isinstance(K1, (bool, np.bool_)) or not isinstance(K1, (int, np.integer)) \
                or not 2 <= K1 <= n // 2:
            raise ValueError(f"K1 must be an integer in [2, n/2 = {n // 2}], got K1={K1!r}")
        k1, k2 = int(K1), n // int(K1)
    _reject_constant_sample(a, one_d)
    k = k1 * k2
    a = a[:k]
    y = a.reshape(k2, k1, a.shape[1]).sum(axis=1)
    dead = ~np.any(a != a[0], axis=0)
    alpha = _inv_to_alpha(_mohammadi_inv(_safe_log_abs(a), _safe_log_abs(y), k1))
    alpha[dead] = np.nan
    return _out(alpha, one_d)


def mohammadi_alpha_multivariate(X, K1: int | None = None) -> float:
    """Mohammadi estimator on vectors via Euclidean norms (one alpha for all coordinates).

    For ``X`` of shape ``(n, d)`` (n i.i.d. vectors) and block sums
    ``Y_i = sum_{j=1}^{K1} X_{j + (i-1) K1}``::

        1/alpha_hat = ( mean_i log||Y_i|| - mean_j log||X_j|| ) / log K1

    as used for gradient-noise vectors by Simsekli et al. (2019) and Gurbuzbalaban,
    Simsekli & Zhu (2021). Exact in law when the coordinates are independent SaS with a
    common alpha and any scales, since then ``Y_i =_d K1^(1/alpha) X_1`` as vectors.
    ``K1`` is chosen as in :func:`mohammadi_alpha`. Rows must be centred.
    """
    if np.ndim(X) != 2:
        raise ValueError(f"X must be 2-D (n vectors x d coordinates), got ndim={np.ndim(X)}")
    a, _ = _as_columns(X, 0, name="X")
    norms = np.sqrt(np.einsum("ij,ij->i", a, a))
    n = a.shape[0]
    if K1 is None:
        k1, k2 = _block_sizes(n)
    else:
        if isinstance(K1, (bool, np.bool_)) or not isinstance(K1, (int, np.integer)) \
                or not 2 <= K1 <= n // 2:
            raise ValueError(f"K1 must be an integer in [2, n/2 = {n // 2}], got K1={K1!r}")
        k1, k2 = int(K1), n // int(K1)
    k = k1 * k2
    if not np.any(norms[:k] > 0):
        return float("nan")
    y = a[:k].reshape(k2, k1, a.shape[1]).sum(axis=1)
    ynorm = np.sqrt(np.einsum("ij,ij->i", y, y))
    inv = _mohammadi_inv(_safe_log_abs(norms[:k, None]), _safe_log_abs(ynorm[:, None]), k1)
    return float(_inv_to_alpha(inv)[0])


def _median_block_sizes(n: int) -> list[int]:
    """Block lengths K1 ~ n^p for p in 0.3, 0.35, ..., 0.7 (distinct, >= 2, <= n/4)."""
    ks = sorted({int(round(n ** p)) for p in np.linspace(0.3, 0.7, 9)})
    ks = [k for k in ks if 2 <= k <= n // 4]
    return ks or [2]


def mohammadi_alpha_median(x, axis: int = 0):
    """Median of :func:`mohammadi_alpha` over block lengths ``K1 ~ n^p``, p in [0.3, 0.7].

    For each ``K1`` in ``round(n^p)``, ``p = 0.30, 0.35, ..., 0.70`` (distinct values,
    ``2 <= K1 <= n/4``), eq. 15 of paper 000 is evaluated with ``K2 = n // K1`` on the
    first ``K1 K2`` samples; the median of the resulting alphas is returned per column.
    Less sensitive than a single block length to how close the data are to stable
    (blocks too short) and to noise (too few blocks). Same normalisation-freeness and
    clipping as :func:`mohammadi_alpha`.
    """
    a, one_d = _as_columns(x, axis)
    n, m = a.shape
    logx = _safe_log_abs(a)
    dead = ~np.any(a != 0.0, axis=0)
    ests = []
    for k1 in _median_block_sizes(n):
        k2 = n // k1
        k = k1 * k2
        y = a[:k].reshape(k2, k1, m).sum(axis=1)
        ests.append(_inv_to_alpha(_mohammadi_inv(logx[:k], _safe_log_abs(y), k1)))
    alpha = np.median(np.array(ests), axis=0)
    alpha[dead] = np.nan
    return _out(alpha, one_d)


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


def mcculloch(x, axis: int = 0):
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
    inter-quartile range give nan.
    """
    a, one_d = _as_columns(x, axis)
    alpha, scale = _mcculloch_cols(a)
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


_CF_WEIGHTS: np.ndarray | None = None


def _cf_weight_table() -> np.ndarray:
    """(len(_CF_AGRID), 2, _CF_K) GLS weights, computed once on first use."""
    global _CF_WEIGHTS
    if _CF_WEIGHTS is None:
        t = _CF_DT * np.arange(1, _CF_K + 1)
        _CF_WEIGHTS = np.array([_cf_gls_weights(a, t) for a in _CF_AGRID])
    return _CF_WEIGHTS


def cf_regression(x, axis: int = 0, n_iter: int = _CF_ITER):
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
    """
    a, one_d = _as_columns(x, axis)
    if isinstance(n_iter, (bool, np.bool_)) or not isinstance(n_iter, (int, np.integer)) \
            or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer, got n_iter={n_iter!r}")
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
    return _out(alpha, one_d), _out(scale, one_d)


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


def hill_alpha(x, axis: int = 0, k: int | None = None):
    """Hill estimator of the tail index from the k largest |x|, per column.

    With ``|x|_(1) >= |x|_(2) >= ...`` the order statistics of ``|x|``::

        alpha_hat = [ (1/k) sum_{i=1}^{k} log(|x|_(i) / |x|_(k+1)) ]^(-1)

    B. M. Hill, "A simple general approach to inference about the tail of a
    distribution", Ann. Statist. 3 (1975) 1163-1174. ``k`` defaults to
    :func:`hill_k` ``(n) = round(n^(2/3))``. Scale-free; not clipped: on stable data
    with alpha near 2 it is strongly biased upward (the power tail starts far out),
    which the accuracy table shows. Data should be centred.
    """
    a, one_d = _as_columns(x, axis)
    n = a.shape[0]
    if k is None:
        k = hill_k(n)
    elif isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) \
            or not 2 <= k <= n - 1:
        raise ValueError(f"k must be an integer in [2, n-1 = {n - 1}], got k={k!r}")
    absa = np.abs(a)
    part = np.partition(absa, n - k - 1, axis=0)
    thresh = part[n - k - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_log = np.log(part[n - k:] / thresh).mean(axis=0)
        alpha = 1.0 / mean_log
    alpha[~(thresh > 0) | ~(mean_log > 0)] = np.nan
    return _out(alpha, one_d)


# ---------------------------------------------------------------------------------
# Gaussianity (paper 003): Shapiro-Wilk fraction and Berry-Esseen bound
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GaussianityResult:
    """Share of columns that a per-column Shapiro-Wilk test does not reject.

    fraction : share of columns with p-value > level ("percentage of Gaussian
        coordinates" of paper 003, as a fraction).
    fraction_ci : 95 % Wilson interval for that share over the columns.
    pvalues : per-column Shapiro-Wilk p-values.
    level : test level.
    n_samples : samples per column used by the test.
    n_constant : columns with zero range (scipy gives them p = 1, i.e. "Gaussian",
        as paper 003 notes for point masses).
    """

    fraction: float
    fraction_ci: tuple[float, float]
    pvalues: np.ndarray = field(repr=False)
    level: float
    n_samples: int
    n_constant: int


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
    Gaussian data the expected fraction is ``1 - level``. AS R94 is valid up to 5000
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
    m = p.size
    k = int(np.sum(p > level))
    return GaussianityResult(fraction=k / m, fraction_ci=_wilson(k, m), pvalues=p,
                             level=level, n_samples=a.shape[0], n_constant=int(constant.sum()))


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
