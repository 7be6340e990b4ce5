"""Input constraints, declared once and shared by the library's classes and the CLI's types.

Every check turns a user value into the type the code needs or raises one
``ValueError`` of one line that names the field and repeats the value::

    ValueError: alpha must lie in (0, 2], got alpha=3.0

A :class:`Constraint` says what a number must satisfy (``POSITIVE``, ``ALPHA``,
``UNIT_OPEN`` ...). The conversion functions (:func:`as_float`, :func:`as_int`,
:func:`as_vector`, :func:`per_axis`) apply one to a scalar, an integer or a vector;
:mod:`cli.types` wraps the same constraints as click parameter types, so
``--alpha 3`` and ``Problem(alpha=3)`` fail with the same sentence.

Booleans and strings are never numbers here: ``alpha=True`` or ``alpha='1.5'`` are
rejected, not coerced (``float(True)`` is 1.0, a silent wrong answer).
"""
from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = [
    "ALPHA", "ANY", "Constraint", "FINITE", "NONNEGATIVE", "POSITIVE", "POSITIVE_OR_INF",
    "PROBABILITY_LEVEL", "UNIT_OPEN", "as_array", "as_float", "as_int", "as_vector",
    "check_choice", "check_count", "check_index", "check_level", "check_memory", "check_nonnegative",
    "check_seed", "interleaved_extrema", "half_open", "per_axis", "physical_memory", "reject",
]


def reject(field: str, requirement: str, value) -> ValueError:
    """The one error sentence: ``"<field> must <requirement>, got <field>=<value>"``."""
    return ValueError(f"{field} must {requirement}, got {field}={_show(value)}")


def _show(value) -> str:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass(frozen=True)
class Constraint:
    """A predicate on floats with the words that describe it (``"lie in (0, 2]"``).

    ``holds`` works elementwise on numpy arrays as well as on one float.
    """

    requirement: str
    holds: Callable

    def check(self, field: str, value: float, shown=None) -> float:
        if not self.holds(value):
            raise reject(field, self.requirement, value if shown is None else shown)
        return value


ANY = Constraint("be a number", lambda v: ~np.isnan(v))
FINITE = Constraint("be a finite number", np.isfinite)
POSITIVE = Constraint("be a positive finite number", lambda v: np.isfinite(v) & (v > 0))
NONNEGATIVE = Constraint("be a non-negative finite number",
                         lambda v: np.isfinite(v) & (v >= 0))
ALPHA = Constraint("lie in (0, 2]", lambda v: (v > 0.0) & (v <= 2.0))
UNIT_OPEN = Constraint("lie in (0, 1)", lambda v: (v > 0.0) & (v < 1.0))
PROBABILITY_LEVEL = Constraint("lie in (0, 1)", lambda v: (v > 0.0) & (v < 1.0))
POSITIVE_OR_INF = Constraint("be positive (inf allowed)", lambda v: v > 0)


def half_open(lo: float, hi: float) -> Constraint:
    """``lo < v <= hi``."""
    return Constraint(f"lie in ({lo:g}, {hi:g}]", lambda v: (v > lo) & (v <= hi))


def _is_number(value) -> bool:
    return (isinstance(value, (numbers.Real, np.floating, np.integer))
            and not isinstance(value, (bool, np.bool_)))


def as_float(field: str, value, constraint: Constraint = FINITE) -> float:
    """``value`` as a float satisfying ``constraint`` (bools and strings rejected)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not _is_number(value):
        raise reject(field, constraint.requirement if constraint is not ANY else "be a number",
                     value)
    return constraint.check(field, float(value), value)


def as_int(field: str, value, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (bools, floats and strings rejected)."""
    words = ("be an integer" if low is None and high is None else
             f"be an integer >= {low}" if high is None else
             f"be an integer in {low}..{high}" if low is not None else f"be an integer <= {high}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise reject(field, words, value)
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise reject(field, words, value)
    return v


def check_seed(seed) -> int:
    """A seed: a non-negative integer below 2^64."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise reject("seed", "be a non-negative integer", seed)
    if not 0 <= int(seed) < 2**64:
        raise reject("seed", "be a non-negative integer below 2^64", seed)
    return int(seed)


def as_vector(field: str, value, dim: int | None = None, constraint: Constraint = FINITE,
              *, min_size: int = 1) -> np.ndarray:
    """``value`` as a 1-D float array whose entries satisfy ``constraint``.

    A scalar becomes a length-1 vector; ``dim`` fixes the length; ``min_size`` rejects
    shorter (by default empty) vectors.
    """
    arr = as_array(field, value)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise reject(field, "be a 1-D sequence of numbers", value)
    if dim is not None and arr.size != dim:
        raise reject(field, f"have {dim} entr{'y' if dim == 1 else 'ies'}", arr)
    if arr.size < min_size:
        raise reject(field, f"have at least {min_size} entr{'y' if min_size == 1 else 'ies'}", arr)
    _check_entries(field, arr, constraint)
    return arr


def per_axis(field: str, value, dim: int, constraint: Constraint = FINITE) -> np.ndarray:
    """A number (broadcast to every axis) or one number per axis, each satisfying
    ``constraint``; the result has shape ``(dim,)``."""
    arr = as_array(field, value)
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.size not in (1, dim):
        raise reject(field, f"be a number or have one entry per axis ({dim})", value)
    _check_entries(field, arr, constraint)
    return np.broadcast_to(arr, (dim,)).copy()


_NOT_NUMBERS = {bool, np.bool_, str, bytes, type(None)}


def as_array(field: str, value) -> np.ndarray:
    """A float array of any shape from numbers / nested sequences of numbers (no bools, no
    strings, not ragged); entries are not checked (see :func:`as_vector`)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fiu":
            return value.astype(float)
        raise reject(field, "contain numbers only", value)
    if _is_number(value):
        return np.asarray(float(value))
    if isinstance(value, (str, bytes)) or value is None or isinstance(value, (bool, np.bool_)):
        raise reject(field, "be a number or a sequence of numbers", value)
    if isinstance(value, (list, tuple)) and not set(map(type, value)) & _NOT_NUMBERS:
        arr = np.asarray(value) if value else np.zeros(0)       # fast path: numbers only
        if arr.dtype.kind in "fiu":
            return arr.astype(float)
    try:
        items = list(value)
    except TypeError:
        raise reject(field, "be a number or a sequence of numbers", value) from None
    parts = [as_array(field, v) if not _is_number(v) else np.asarray(float(v)) for v in items]
    if any(p.shape != parts[0].shape for p in parts):
        raise reject(field, "be a regular (non-ragged) array of numbers", value)
    return np.array(parts, dtype=float) if parts else np.zeros(0)


def _check_entries(field: str, arr: np.ndarray, constraint: Constraint) -> None:
    flat = arr.ravel()
    with np.errstate(invalid="ignore"):
        ok = np.asarray(constraint.holds(flat), dtype=bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        err = reject(field, constraint.requirement, float(flat[i]))
        raise err if arr.size == 1 else ValueError(f"{err} (entry {i})")


def check_choice(field: str, value, choices) -> object:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise reject(field, "be one of " + ", ".join(map(str, choices)), value)
    return value


def check_index(field: str, value, size: int, what: str = "axis") -> int:
    """An index in ``0..size-1`` (e.g. an axis of a ``size``-dimensional problem)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or not 0 <= int(value) < size:
        raise reject(field, f"be an integer {what} in 0..{size - 1}", value)
    return int(value)


def check_count(name: str, value, minimum: int = 1) -> int:
    """``value`` as an integer >= ``minimum`` (an integral float is accepted) or a one-line
    ValueError naming it: ``"<name> must be an integer >= <minimum>, got <name>=<value>"``."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")
    return int(value)


def check_nonnegative(name: str, value) -> float:
    """``value`` as a non-negative finite float (:data:`NONNEGATIVE`)."""
    return as_float(name, value, NONNEGATIVE)


def check_level(level) -> float:
    """A confidence level in the open interval (0, 1)."""
    v = float(level)
    if not 0.0 < v < 1.0:
        raise ValueError(f"level must lie in (0, 1), got level={level!r}")
    return v


def interleaved_extrema(minima, maxima, min_minima: int = 1
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Finite ``minima`` (at least ``min_minima``) and ``maxima`` (one between consecutive
    minima) of a 1-D landscape, checked to interleave ``m1 < s1 < m2 < ... < m_n``; returns
    ``(minima, maxima, all of them in order)``."""
    m = as_vector("minima", minima, None, FINITE, min_size=min_minima)
    s = as_vector("maxima", maxima, None, FINITE, min_size=0)
    if s.size != m.size - 1:
        raise reject("maxima", f"have {m.size - 1} entries (one maximum between "
                     f"consecutive minima={m.tolist()})", s)
    r = np.empty(m.size + s.size)
    r[0::2], r[1::2] = m, s
    if np.any(np.diff(r) <= 0):
        raise reject("maxima", f"interleave minima={m.tolist()} (m1 < s1 < m2 < ...)", s.tolist())
    return m, s, r


def physical_memory() -> int:
    """Bytes of physical memory (``0`` where the platform does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):   # pragma: no cover - non-POSIX
        return 0


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"       # pragma: no cover


def check_memory(field: str, value, need: float, what: str, memory: int | None = None) -> None:
    """Refuse, before allocating, ``need`` bytes (``what``) that exceed physical memory
    (``memory`` overrides it, for tests): one ``ValueError`` naming ``field`` and ``value``."""
    have = physical_memory() if memory is None else int(memory)
    if have and need > have:
        raise reject(field, f"fit in memory: {what} need {_bytes(need)}, this machine has "
                     f"{_bytes(have)}", value)
