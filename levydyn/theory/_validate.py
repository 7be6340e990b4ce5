"""Input checks shared by the theory modules (plain numbers in, one-line ValueError out).

The theory functions take plain numbers and arrays (or the package's domain and schedule
objects), not :class:`levydyn.Problem` -- :func:`levydyn.theory.closed_forms` is the
door from a Problem -- so they check their own arguments; every message names the field
and the offending value. :func:`faces` and :func:`wells` turn the geometry arguments
(plain numbers or a domain object) into numbers, the same way for every module.
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


def _in_open_interval(value, name: str, lo: float, hi: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in ({lo:g}, {hi:g}), got {name}={value!r}") from None
    if not (lo < v < hi):
        raise ValueError(f"{name} must lie in ({lo:g}, {hi:g}), got {name}={value!r}")
    return v


def check_alpha(alpha, name: str = "alpha") -> float:
    """A tail index in the open interval (0, 2) (the jump results need alpha < 2)."""
    return _in_open_interval(alpha, name, 0.0, 2.0)


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


def check_rho(rho) -> float:
    """Paper 004's large-jump threshold exponent, in the open interval (0, 1)."""
    return _in_open_interval(rho, "rho", 0.0, 1.0)


def as_output(x):
    """A float for a scalar result, an array otherwise (the shape of the evaluation point)."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


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
    """Distances from the minimum to the two ends of an interval; one (not both) may be
    infinite. ``d_minus`` may be a 1-D domain with the attractor in ``d_plus`` (:func:`faces`)."""
    d_minus, d_plus = (_scalar(name, v) for name, v in zip(("d_minus", "d_plus"), faces(d_minus, d_plus)))
    dm = check_positive(d_minus, "d_minus", allow_inf=True)
    dp = check_positive(d_plus, "d_plus", allow_inf=True)
    if math.isinf(dm) and math.isinf(dp):
        raise ValueError(f"at least one of d_minus, d_plus must be finite, got d_minus={d_minus!r} "
                         f"d_plus={d_plus!r}")
    return dm, dp


def _scalar(name: str, value):
    """A number, or the entry of a one-entry sequence (a 1-D domain's distances)."""
    if np.ndim(value) == 0:
        return value
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"{name} must be one number (a 1-D interval), got {name}={arr.tolist()!r}")
    return arr.reshape(-1)[0]


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
    """Broadcast per-axis ``alpha, eps, d_minus, d_plus`` to a common length and check them.

    ``d_minus, d_plus`` may be a domain and its attractor (:func:`faces`).
    """
    d_minus, d_plus = faces(d_minus, d_plus)
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


def faces(d_minus, d_plus):
    """The geometry ``(d_minus, d_plus)`` of an exit problem, from numbers or a domain.

    Either the distances from the attractor ``x*`` to the lower and upper faces (numbers,
    per axis), or a :class:`~levydyn.model.domains.Box` / :class:`~levydyn.model.domains.Ball` in the
    first slot and the attractor ``x*`` in the second. For a ball ``|x - c| < r`` the
    distances are those of a jump along axis l from ``x*`` to the sphere,
    ``d+-_l = sqrt(r^2 - |x* - c|^2 + (x*_l - c_l)^2) -+ (x*_l - c_l)`` (``r`` on every
    axis when ``x* = c``): the one-hot large jumps of the theory leave along an axis.
    """
    from levydyn.model.domains import Ball, Box

    if isinstance(d_minus, (Box, Ball)):
        dom = d_minus
        try:
            x = np.atleast_1d(np.asarray(d_plus, dtype=float))
        except (TypeError, ValueError):
            raise ValueError(f"with a domain, the second argument is the attractor x*, "
                             f"got x*={d_plus!r}") from None
        if x.shape != (dom.dim,) or not np.all(np.isfinite(x)):
            raise ValueError(f"the attractor x* must be {dom.dim} finite numbers, "
                             f"got x*={np.asarray(d_plus).tolist()!r}")
        if not dom.contains(x):
            raise ValueError(f"the attractor x*={x.tolist()} is not inside the domain {dom.describe()}")
        if isinstance(dom, Box):
            return dom.distances(x)
        delta = x - dom.center
        reach = np.sqrt(dom.radius ** 2 - float(delta @ delta) + delta ** 2)
        return reach + delta, reach - delta
    return d_minus, d_plus


def wells(minima, maxima):
    """``(minima, maxima)`` of a 1-D landscape, from two sequences or a WellPartition.

    A :class:`~levydyn.model.domains.WellPartition` goes in the first slot (the second is then
    omitted); its minima and maxima are used (its core radius only where a function
    says so).
    """
    from levydyn.model.domains import WellPartition

    if isinstance(minima, WellPartition):
        if maxima is not None:
            raise ValueError(f"give a WellPartition or minima and maxima, not both (got maxima={maxima!r})")
        return np.asarray(minima.minima, dtype=float), np.asarray(minima.maxima, dtype=float)
    if maxima is None:
        raise ValueError(f"maxima is missing: give minima and maxima, or a WellPartition, "
                         f"got minima={minima!r}")
    return minima, maxima
