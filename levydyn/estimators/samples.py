"""The sample as columns: shape checks, bad-input errors and the shared numba kernels.

Every estimator takes a 1-D sample or a 2-D array (samples x coordinates, or pass ``axis``);
this module turns it into columns, rejects what cannot be estimated with one ``ValueError``
naming the field, and holds the compiled column kernels (quantiles by selection, the
modulus of the empirical characteristic function).
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np


#: Fewest samples per column accepted by the tail-index estimators.
MIN_SAMPLES = 16
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


def _unit_interval(name: str, value) -> float:
    """``value`` as a float in the open interval (0, 1), or one line naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {name}={value!r}") from None
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1), got {name}={value!r}")
    return v


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))
