"""Compiled once per machine: kernels with explicit signatures, cached on disk.

A kernel whose signature is given explicitly, with the gradient typed as a numba
first-class function (:data:`GradFn`), is compiled for that one signature and written to
numba's on-disk cache (``cache=True``); every later process loads it in milliseconds,
whichever potential it runs. (A kernel that receives a jitted function as an ordinary
argument is specialised on that function's identity and can never be cached.)

:func:`lazy_kernel` delays the compilation (or the cache load) to the first call, so
importing a module costs nothing for a command that does not run its kernels.
"""
from __future__ import annotations

import numba as nb
from numba import types

F64 = types.float64
I64 = types.int64
U64 = types.uint64
BOOL = types.boolean
A1 = types.float64[::1]
A2 = types.float64[:, ::1]
A3 = types.float64[:, :, ::1]
I1 = types.int64[::1]
I2 = types.int64[:, ::1]

GRAD_SIG = types.void(A1, A1, A1)
"""``grad(x, params, out)``: writes ``grad U(x)`` into ``out`` (all C-contiguous float64)."""
GradFn = types.FunctionType(GRAD_SIG)


class _LazyKernel:
    """A numba kernel compiled for one explicit signature on its first call."""

    def __init__(self, py_func, sig, options):
        self.py_func = py_func
        self.sig = sig
        self.options = options
        self._compiled = None
        self.__doc__ = py_func.__doc__
        self.__name__ = py_func.__name__

    @property
    def dispatcher(self):
        if self._compiled is None:
            self._compiled = nb.njit(self.sig, cache=True, **self.options)(self.py_func)
        return self._compiled

    def __call__(self, *args):
        return self.dispatcher(*args)


def lazy_kernel(sig, **options):
    """Decorator: compile ``fn`` for ``sig`` (``cache=True``) when it is first called."""
    def wrap(fn):
        return _LazyKernel(fn, sig, options)
    return wrap


def as_gradient(fn):
    """A numba-jitted ``grad(x, params, out)`` compiled for :data:`GRAD_SIG` (a no-op for a
    function already compiled with that signature)."""
    if GRAD_SIG.args not in [tuple(s) for s in getattr(fn, "signatures", [])]:
        fn.compile(GRAD_SIG)
    return fn
