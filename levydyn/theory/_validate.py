"""Input checks shared by the theory modules (plain numbers in, one-line ValueError out).

The theory functions take plain numbers and arrays, not :class:`levydyn.Problem`, so
they check their own arguments; every message names the field and the offending value.
"""
from __future__ import annotations

import math

import numpy as np

MEASURES = ("sas", "unit")


def check_measure(measure) -> str:
    """``"sas"`` (Levy measure ``c_alpha |y|^(-1-alpha) dy``) or ``"unit"`` (``|y|^(-1-alpha) dy``)."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be 'sas' or 'unit', got measure={measure!r}")
    return measure


def check_alpha(alpha, name: str = "alpha") -> float:
    """A tail index in the open interval (0, 2) (the jump results need alpha < 2)."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 2), got {name}={alpha!r}") from None
    if not (0.0 < a < 2.0):
        raise ValueError(f"{name} must lie in (0, 2), got {name}={alpha!r}")
    return a


def check_positive(value, name: str, allow_inf: bool = False) -> float:
    """A positive number (``inf`` only where ``allow_inf``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {name}={value!r}") from None
    if not (v > 0.0) or (math.isinf(v) and not allow_inf):
        kind = "a positive number (inf allowed)" if allow_inf else "a positive finite number"
        raise ValueError(f"{name} must be {kind}, got {name}={value!r}")
    return v


def check_nonnegative(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative number, got {name}={value!r}") from None
    if not (v >= 0.0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a non-negative finite number, got {name}={value!r}")
    return v


def check_probability(p, name: str = "p") -> np.ndarray:
    """Probabilities in [0, 1) (a quantile at 1 is infinite, so it is refused)."""
    arr = np.asarray(p, dtype=float)
    bad = ~((arr >= 0.0) & (arr < 1.0))
    if np.any(bad):
        raise ValueError(f"{name} must lie in [0, 1), got {name}={np.ravel(arr[bad])[0]!r}")
    return arr


def check_times(t, name: str = "t") -> np.ndarray:
    arr = np.asarray(t, dtype=float)
    bad = ~(arr >= 0.0)
    if np.any(bad):
        raise ValueError(f"{name} must be non-negative, got {name}={np.ravel(arr[bad])[0]!r}")
    return arr


def check_side(side) -> int:
    if side not in (-1, 1):
        raise ValueError(f"side must be -1 or +1, got side={side!r}")
    return int(side)


def check_widths(d_minus, d_plus) -> tuple[float, float]:
    """Distances from the minimum to the two ends; one (not both) may be infinite."""
    dm = check_positive(d_minus, "d_minus", allow_inf=True)
    dp = check_positive(d_plus, "d_plus", allow_inf=True)
    if math.isinf(dm) and math.isinf(dp):
        raise ValueError(f"at least one of d_minus, d_plus must be finite, got d_minus={d_minus!r} "
                         f"d_plus={d_plus!r}")
    return dm, dp


def per_axis(name: str, value, n: int | None = None) -> np.ndarray:
    """A 1-D float array; a scalar broadcasts to ``n`` entries when ``n`` is given."""
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {name}={value!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a number or a 1-D sequence, got {name}={value!r}")
    if n is not None:
        if arr.size not in (1, n):
            raise ValueError(f"{name} must be a number or have {n} entries, got {name}={value!r}")
        arr = np.broadcast_to(arr, (n,)).astype(float)
    return arr


def box_arrays(alpha, eps, d_minus, d_plus):
    """Broadcast per-axis ``alpha, eps, d_minus, d_plus`` to a common length and check them."""
    sizes = [np.atleast_1d(np.asarray(v, dtype=object)).size for v in (alpha, eps, d_minus, d_plus)]
    n = next((k for k in sizes if k != 1), 1)  # the first non-scalar argument fixes N
    a = per_axis("alpha", alpha, n)
    e = per_axis("eps", eps, n)
    dm = per_axis("d_minus", d_minus, n)
    dp = per_axis("d_plus", d_plus, n)
    for i in range(n):
        sfx = f"[{i}]" if n > 1 else ""
        check_alpha(a[i], "alpha" + sfx)
        check_positive(e[i], "eps" + sfx)
        try:
            check_widths(dm[i], dp[i])
        except ValueError as err:
            raise ValueError(f"{err} (axis {i})" if n > 1 else str(err)) from None
    return a, e, dm, dp
