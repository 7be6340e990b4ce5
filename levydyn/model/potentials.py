"""Potentials U(x) with numba-compiled gradients.

Every potential exposes ``grad_kernel``, a numba function ``grad(x, params, out)``
writing ``grad U(x)`` into ``out``, and ``params``, the float64 array it reads. The
solvers receive the pair as a first-class function of the fixed signature
:data:`levydyn.solvers.compiled.GRAD_SIG` (compiled, or loaded from numba's disk cache,
when the first potential using it is built), so the kernels are compiled once per machine
for every potential, and a user's own potential runs at compiled speed (:class:`Custom`).
``gradient(x)`` and ``value(x)`` are the Python-facing versions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from levydyn.solvers.compiled import as_gradient
from levydyn.model.validation import (NONNEGATIVE, POSITIVE, as_array, as_float, as_int, as_vector,
                                      interleaved_extrema, reject)


@nb.njit(cache=True)
def _grad_quadratic_diag(x, params, out):
    # params = [h_1..h_d, c_1..c_d]
    d = x.shape[0]
    for i in range(d):
        out[i] = params[i] * (x[i] - params[d + i])


@nb.njit(cache=True)
def _grad_quadratic_full(x, params, out):
    # params = [c_1..c_d, H row-major]
    d = x.shape[0]
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += params[d + i * d + j] * (x[j] - params[j])
        out[i] = acc


@nb.njit(cache=True)
def _grad_multiwell(x, params, out):
    # params = [scale, r_1..r_{2n-1}]: U'(x) = scale * prod_k (x - r_k)
    acc = params[0]
    for k in range(1, params.shape[0]):
        acc *= x[0] - params[k]
    out[0] = acc


@nb.njit(cache=True)
def _grad_ackley(x, params, out):
    # params = [a, b, c]; U = -a exp(-b r) - exp((cos cx + cos cy)/2) + a + e,
    # r = sqrt((x^2 + y^2)/2)
    a, b, c = params[0], params[1], params[2]
    r = math.sqrt(0.5 * (x[0] * x[0] + x[1] * x[1]))
    e2 = math.exp(0.5 * (math.cos(c * x[0]) + math.cos(c * x[1])))
    radial = a * b * math.exp(-b * r) * 0.5 / r if r > 0.0 else 0.0
    out[0] = radial * x[0] + 0.5 * c * math.sin(c * x[0]) * e2
    out[1] = radial * x[1] + 0.5 * c * math.sin(c * x[1]) * e2


class Potential:
    """Base class. Subclasses set ``dim``, ``params``, ``grad_kernel``, ``minimum``."""

    def gradient(self, x) -> np.ndarray:
        """``grad U(x)`` for one point (shape ``(dim,)``)."""
        x = as_vector("x", x, self.dim)
        out = np.empty(self.dim)
        self.grad_kernel(x, self.params, out)
        return out

    def value(self, x) -> float:
        raise NotImplementedError(f"{type(self).__name__} defines no value(); gradient only")

    @property
    def length_scale(self) -> float:
        """A natural length of the landscape (used by the stiff-drift step control)."""
        return 1.0


@dataclass(frozen=True, eq=False)
class Quadratic(Potential):
    """``U(x) = (x - c)^T H (x - c) / 2``.

    ``hessian`` is either a vector (diagonal H, entries >= 0) or a symmetric positive
    semi-definite matrix. ``center`` defaults to the origin.
    """

    hessian: object
    center: object = None

    def __post_init__(self):
        h = as_array("hessian", self.hessian)
        if h.ndim == 0:
            h = h.reshape(1)
        if h.ndim == 1:
            h = as_vector("hessian", h, None, NONNEGATIVE)
        elif h.ndim != 2 or h.shape[0] != h.shape[1] or h.shape[0] == 0:
            raise reject("hessian", "be a non-empty vector or a square matrix", h)
        elif not np.all(np.isfinite(h)):
            raise reject("hessian", "be finite", h)
        dim = h.shape[0]
        c = np.zeros(dim) if self.center is None else as_vector("center", self.center, dim)
        if h.ndim == 1:
            params, kern = np.concatenate([h, c]), _grad_quadratic_diag
        else:
            if not np.allclose(h, h.T):
                raise reject("hessian", "be a symmetric matrix", h)
            if np.linalg.eigvalsh(h).min() < -1e-12 * max(1.0, np.abs(h).max()):
                raise reject("hessian", "be positive semi-definite", h)
            params, kern = np.concatenate([c, h.ravel()]), _grad_quadratic_full
        object.__setattr__(self, "dim", dim)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "grad_kernel", as_gradient(kern))
        object.__setattr__(self, "minimum", c)
        object.__setattr__(self, "_h", h)

    def value(self, x) -> float:
        y = as_vector("x", x, self.dim) - self.minimum
        return 0.5 * float(y @ (self._h * y if self._h.ndim == 1 else self._h @ y))

    @property
    def hessian_matrix(self) -> np.ndarray:
        return np.diag(self._h) if self._h.ndim == 1 else self._h.copy()


@dataclass(frozen=True, eq=False)
class MultiWell1D(Potential):
    """1-D multi-well potential with prescribed critical points.

    ``U'(x) = scale * prod_k (x - r_k)`` over the sorted roots
    ``m_1 < s_1 < m_2 < ... < s_{n-1} < m_n`` (minima ``m_i``, maxima ``s_i``), so the
    minima and maxima sit exactly where given and the well widths
    ``m_i - s_{i-1}``, ``s_i - m_i`` are exact inputs (the quantities in Theorems 1-2 of
    Simsekli et al. 2019). ``U`` grows like ``x^(2n)``: superlinear drift far away,
    as the theorems assume. ``U(m_1) = 0``.
    """

    minima: tuple
    maxima: tuple = field(default_factory=tuple)
    scale: float = 1.0

    def __post_init__(self):
        m, s, roots = interleaved_extrema(self.minima, self.maxima)
        sc = as_float("scale", self.scale, POSITIVE)
        object.__setattr__(self, "minima", tuple(m.tolist()))
        object.__setattr__(self, "maxima", tuple(s.tolist()))
        object.__setattr__(self, "dim", 1)
        object.__setattr__(self, "params", np.concatenate([[sc], roots]))
        object.__setattr__(self, "grad_kernel", as_gradient(_grad_multiwell))
        object.__setattr__(self, "minimum", m[:1].copy())
        poly = np.polynomial.Polynomial.fromroots(roots) * sc
        anti = poly.integ()
        object.__setattr__(self, "_U", anti - anti(m[0]))

    def value(self, x) -> float:
        return float(self._U(float(np.asarray(x).reshape(-1)[0])))

    def heights(self) -> np.ndarray:
        """Barrier heights ``U(s_j) - U(m_i)`` to the left and right of each minimum
        (``inf`` where there is no barrier), shape ``(n, 2)``."""
        m, s = np.array(self.minima), np.array(self.maxima)
        out = np.full((m.size, 2), np.inf)
        for i in range(m.size):
            if i > 0:
                out[i, 0] = self._U(s[i - 1]) - self._U(m[i])
            if i < s.size:
                out[i, 1] = self._U(s[i]) - self._U(m[i])
        return out

    @property
    def length_scale(self) -> float:
        r = self.params[1:]
        return float(max(r.max() - r.min(), 1.0))


@dataclass(frozen=True, eq=False)
class Ackley2D(Potential):
    """Ackley function, 2-D (paper 004, section 5):
    ``U = -a exp(-b sqrt((x^2 + y^2)/2)) - exp((cos(c x) + cos(c y))/2) + a + e``,
    global minimum 0 at the origin, local minima near the integer lattice.
    """

    a: float = 20.0
    b: float = 0.2
    c: float = 2.0 * math.pi

    def __post_init__(self):
        for name in ("a", "b", "c"):
            object.__setattr__(self, name, as_float(name, getattr(self, name), POSITIVE))
        object.__setattr__(self, "dim", 2)
        object.__setattr__(self, "params", np.array([self.a, self.b, self.c], dtype=float))
        object.__setattr__(self, "grad_kernel", as_gradient(_grad_ackley))
        object.__setattr__(self, "minimum", np.zeros(2))

    def value(self, x) -> float:
        x = as_vector("x", x, 2)
        r = math.sqrt(0.5 * float(x @ x))
        return (-self.a * math.exp(-self.b * r)
                - math.exp(0.5 * (math.cos(self.c * x[0]) + math.cos(self.c * x[1])))
                + self.a + math.e)


@dataclass(frozen=True, eq=False)
class Custom(Potential):
    """A user-supplied compiled gradient.

    ``grad_kernel`` must be a ``numba.njit`` function ``grad(x, params, out)`` that writes
    ``grad U(x)`` into ``out`` (both float64 arrays of length ``dim``). It is compiled for
    the solvers' signature ``void(float64[::1], float64[::1], float64[::1])``; the solver
    kernels themselves are cached whatever the gradient. To cache the gradient too (no
    compilation in a new process), define it at module level with
    ``@numba.njit("void(float64[::1], float64[::1], float64[::1])", cache=True)``.
    """

    grad_kernel: object
    dim: int
    params: object = None
    minimum: object = None
    scale: float = 1.0

    def __post_init__(self):
        if not hasattr(self.grad_kernel, "py_func"):
            raise reject("grad_kernel", "be a numba.njit-compiled function grad(x, params, out)",
                         self.grad_kernel)
        dim = as_int("dim", self.dim, 1)
        params = (np.zeros(0) if self.params is None
                  else as_vector("params", np.ravel(as_array("params", self.params)),
                                 min_size=0))
        mn = np.zeros(dim) if self.minimum is None else as_vector("minimum", self.minimum, dim)
        object.__setattr__(self, "scale", as_float("scale", self.scale, POSITIVE))
        try:
            as_gradient(self.grad_kernel)
        except Exception as err:                 # numba's typing errors are many lines
            raise ValueError("grad_kernel must compile as grad(x, params, out) on float64 "
                             f"arrays: {str(err).strip().splitlines()[0]}") from None
        object.__setattr__(self, "dim", dim)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "minimum", mn)
        g = self.gradient(mn)
        if not np.all(np.isfinite(g)):
            raise ValueError(f"grad_kernel returned a non-finite gradient at the minimum: {g.tolist()}")

    @property
    def length_scale(self) -> float:
        return float(self.scale)
