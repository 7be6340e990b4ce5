"""Reaction coordinates ``xi(x)`` for splitting: how far a state has gone towards the exit.

A reaction coordinate is a numba function ``xi(x, params) -> float`` compiled for
:data:`XI_SIG` (a first-class function, like the potentials' gradients, so the splitting
kernels are compiled once per machine whatever ``xi`` is). Adaptive multilevel splitting
is unbiased for *any* ``xi`` (Brehier et al. 2016, Thm 4.1); ``xi`` only decides how many
levels are needed and how noisy the estimate is. The defaults measure the distance from
the attractor ``x*`` relative to the exit set, so that ``xi >= 1`` on the whole exit set:

* :func:`box_coordinate` -- Box ``(x* - d-, x* + d+)``:
  ``xi(x) = max_l max((x_l - x*_l) / d+_l, (x*_l - x_l) / d-_l)`` (side-dependent widths;
  an infinite width contributes 0);
* :func:`ball_coordinate` -- Ball ``|x - c| < r``: ``xi(x) = |x - x*| / (r - |x* - c|)``;
* :func:`well_coordinate` -- 1-D wells, home minimum ``m`` between maxima ``s_-, s_+``:
  ``xi(x) = (x - m) / (s_+ - m)`` right of ``m``, ``(m - x) / (m - s_-)`` left of it.

The splitting kernels set ``xi = +inf`` on the exit set ``B`` itself, so "the path reached
B" is "its running maximum of ``xi`` is infinite", whatever ``xi`` is.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba import types

from levydyn.solvers.compiled import A1, F64

XI_SIG = F64(A1, A1)
"""``xi(x, params) -> float64`` (``x`` and ``params`` C-contiguous float64)."""
XiFn = types.FunctionType(XI_SIG)


@nb.njit(XI_SIG, cache=True)
def box_coordinate(x, params):
    """params = [x*_1..d, d-_1..d, d+_1..d]."""
    d = x.shape[0]
    out = 0.0
    for l in range(d):
        y = x[l] - params[l]
        w = params[2 * d + l] if y >= 0.0 else params[d + l]
        v = abs(y) / w if math.isfinite(w) else 0.0
        if v > out:
            out = v
    return out


@nb.njit(XI_SIG, cache=True)
def ball_coordinate(x, params):
    """params = [x*_1..d, scale]: ``|x - x*| / scale``."""
    d = x.shape[0]
    s = 0.0
    for l in range(d):
        y = x[l] - params[l]
        s += y * y
    return math.sqrt(s) / params[d]


@nb.njit(XI_SIG, cache=True)
def well_coordinate(x, params):
    """params = [m, m - s_-, s_+ - m] (1-D)."""
    y = x[0] - params[0]
    return y / params[2] if y >= 0.0 else -y / params[1]


def as_coordinate(fn):
    """A numba-jitted ``xi(x, params)`` compiled for :data:`XI_SIG`, or a one-line error."""
    if not hasattr(fn, "py_func"):
        raise ValueError(f"xi must be a numba.njit function xi(x, params) -> float, got xi={fn!r}")
    if XI_SIG.args not in [tuple(s) for s in getattr(fn, "signatures", [])]:
        try:
            fn.compile(XI_SIG)
        except Exception as err:            # numba's typing errors are many lines
            raise ValueError("xi must compile as xi(x, params) -> float on float64 arrays: "
                             f"{str(err).strip().splitlines()[0]}") from None
    return fn


@nb.njit(cache=True)
def _evaluate(xi, params, points, out):
    for i in range(points.shape[0]):
        out[i] = xi(np.ascontiguousarray(points[i]), params)


def evaluate(xi, params, points) -> np.ndarray:
    """``xi`` at each row of ``points`` (shape ``(n, d)``)."""
    pts = np.ascontiguousarray(np.atleast_2d(np.asarray(points, dtype=float)))
    out = np.empty(pts.shape[0])
    _evaluate(xi, np.ascontiguousarray(params, dtype=float), pts, out)
    return out


_ADDRESSES: dict = {}


def as_address(fn, sig):
    """``fn`` (a numba function) as a C callback of ``sig`` for the splitting kernels.

    A gAMS iteration calls a kernel with a few replicas, so the call's overhead counts:
    numba resolves a jitted function passed as a first-class argument on every call
    (~0.1 ms each), a ``cfunc`` by its address. Same machine code, same numbers.
    """
    key = (id(fn), str(sig))
    if key not in _ADDRESSES:
        _ADDRESSES[key] = (fn, nb.cfunc(sig)(fn.py_func))
    return _ADDRESSES[key][1]
