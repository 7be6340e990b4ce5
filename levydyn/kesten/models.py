"""Minibatch laws of ``(H, u)`` and the recursion ``x_{k+1} = (I - lr_k H_k) x_k - lr_k u_k``.

SGD near a minimum ``w*`` of ``U(w) = (1/N) sum_n l_n(w) + (wd/2)||w||^2``, to first order
in ``x = w - w*``: the minibatch gradient at ``w`` is ``H_B x + u_B`` with the minibatch
curvature ``H_B`` and the minibatch noise ``u_B`` at ``w*``, both random through the batch
``B_k``. So SGD is a *random linear (affine) recursion*, ``x_{k+1} = M_k x_k + q_k``,
``M_k = I - lr_k H_k``, ``q_k = -lr_k u_k`` (Kesten 1973; Gurbuzbalaban, Simsekli & Zhu 2021,
paper 001; Hodgkinson & Mahoney 2021): the randomness of the curvature is *multiplicative*
noise, that of the gradient *additive* noise.

Laws (each a :class:`MinibatchLaw`; ``dim`` = P):

- :class:`EmpiricalMinibatch` -- N per-sample gradient deviations ``G_n`` (N x P, e.g.
  ``grad l_n(w*) - grad U(w*)``) and per-sample curvature factors ``F_n`` (N x P x r, e.g.
  the Gauss-Newton factor ``J_n^T Lambda_n^(1/2)``), an optional shared remainder ``R``
  (P-vector = diagonal, or P x P) and weight decay ``wd``; with ``B`` indices drawn
  uniformly (with replacement by default)::

      H_B = (1/B) sum_{b} F_{n_b} F_{n_b}^T + R + wd I,      u_B = (1/B) sum_{b} G_{n_b}.

- :class:`GaussianLeastSquares` -- paper 001's model (``levydyn.experiments.sgd_tails``): ``b`` fresh
  ``a ~ N(0, sigma^2 I_d)``, ``y = noise xi``; ``H = (1/b) sum a a^T``, ``u = -(1/b) sum a y``.
- :class:`ScalarAffine` -- ``P = 1``: ``h`` from a finite law ``P(h = h_j) = p_j`` and
  ``u = u_scale z``, ``z ~ N(0, 1)`` independent; ``a = 1 - lr h``, ``b = -lr u``
  (:meth:`ScalarAffine.from_ab` takes the law of ``a`` with ``lr = 1``). Exact:
  ``lambda_1 = sum p_j log|a_j|``, ``Lambda(s) = log sum p_j |a_j|^s``.

:class:`Recursion` ties a law to ``lr``, a :class:`~levydyn.model.schedules.Schedule` (step ``k``
uses ``lr_k = lr int_k^{k+1} s_u du``, time in iterations: for a constant schedule
``lr_k = lr``; the integral keeps ``Power(gamma)`` with ``t0 = 0`` finite at ``k = 0``), an
exit set (:class:`~levydyn.model.domains.Ball` or :class:`~levydyn.model.domains.Box`, in ``x``
coordinates, i.e. around ``w*``) and ``x0``; it is the ``problem`` of an
:class:`~levydyn.results.EscapeResult`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from levydyn.model.domains import Ball, Box
from levydyn.kesten import kernel as K
from levydyn.model.problem import check_positive
from levydyn.model.schedules import Constant, Schedule
from levydyn.model.validation import check_count, check_nonnegative

__all__ = ["MinibatchLaw", "EmpiricalMinibatch", "GaussianLeastSquares", "ScalarAffine",
           "Recursion"]


def _finite_array(name: str, value, ndim: tuple[int, ...]) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array, got {name}={value!r}") from None
    if a.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimensions, got "
                         f"{name}.shape={a.shape}")
    bad = np.flatnonzero(~np.isfinite(a.ravel()))
    if bad.size:
        idx = np.unravel_index(bad[0], a.shape)
        raise ValueError(f"{name} must be finite, got {name}[{', '.join(map(str, idx))}]="
                         f"{float(a[idx])!r}")
    return a


_EMPTY2 = np.zeros((0, 0))
_EMPTY1 = np.zeros(0)
_EMPTY3 = np.zeros((0, 0, 0))


class MinibatchLaw:
    """Law of one draw ``(H, u)``; encodes itself for :mod:`levydyn.kesten.kernel`."""

    kind: int = -1      # subclasses also provide ``dim`` (P)

    def encode(self) -> tuple:
        """``(kind, ints, reals, F, G, R2, Rd, atoms, cdf)`` (layout in the kernel module)."""
        raise NotImplementedError

    def describe(self) -> dict:
        raise NotImplementedError

    # exact results where the law admits them (None otherwise)
    def exact_lyapunov(self, lr: float) -> float | None:
        return None

    def exact_growth(self, s: float, lr: float) -> float | None:
        """``Lambda(s)`` in closed form or by quadrature, if known."""
        return None


@dataclass(frozen=True, eq=False)
class EmpiricalMinibatch(MinibatchLaw):
    """Minibatch law of a finite training set (module docstring).

    Parameters
    ----------
    deviations : (N, P) per-sample gradient deviations ``G_n`` at ``w*``.
    factors : (N, P, r) per-sample curvature factors ``F_n`` (``H_n = F_n F_n^T``), or
        (N, P) for ``r = 1``.
    batch_size : ``B >= 1``.
    replace : draw the ``B`` indices with replacement (default) or without (``B <= N``).
    remainder : optional shared ``R``: a P-vector (diagonal) or a P x P matrix.
    weight_decay : ``wd >= 0`` (adds ``wd I`` to every ``H``; no noise).
    """

    deviations: object
    factors: object
    batch_size: int
    replace: bool = True
    remainder: object = None
    weight_decay: float = 0.0
    kind = K.KIND_EMPIRICAL

    def __post_init__(self):
        G = _finite_array("deviations", self.deviations, (2,))
        F = _finite_array("factors", self.factors, (2, 3))
        if F.ndim == 2:
            F = F[:, :, None]
        if F.shape[:2] != G.shape:
            raise ValueError(f"factors must have shape (N, P, r) with (N, P) = deviations.shape="
                             f"{G.shape}, got factors.shape={F.shape}")
        if G.shape[0] < 1 or G.shape[1] < 1 or F.shape[2] < 1:
            raise ValueError(f"deviations and factors must be non-empty, got factors.shape="
                             f"{F.shape}")
        B = check_count("batch_size", self.batch_size)
        if not isinstance(self.replace, (bool, np.bool_)):
            raise ValueError(f"replace must be True or False, got replace={self.replace!r}")
        if not self.replace and B > G.shape[0]:
            raise ValueError(f"batch_size must not exceed N={G.shape[0]} without replacement, "
                             f"got batch_size={B}")
        R = self.remainder
        if R is not None:
            R = _finite_array("remainder", R, (1, 2))
            P = G.shape[1]
            if R.shape not in ((P,), (P, P)):
                raise ValueError(f"remainder must have shape ({P},) or ({P}, {P}), got "
                                 f"remainder.shape={R.shape}")
        object.__setattr__(self, "deviations", np.ascontiguousarray(G))
        object.__setattr__(self, "factors", F)
        object.__setattr__(self, "_F_kernel", np.ascontiguousarray(F.transpose(0, 2, 1)))
        object.__setattr__(self, "batch_size", B)
        object.__setattr__(self, "replace", bool(self.replace))
        object.__setattr__(self, "remainder", R)
        object.__setattr__(self, "weight_decay", check_nonnegative("weight_decay",
                                                                   self.weight_decay))

    @property
    def dim(self) -> int:
        return int(self.deviations.shape[1])

    @property
    def n_samples(self) -> int:
        return int(self.deviations.shape[0])

    @property
    def rank(self) -> int:
        return int(self.factors.shape[2])

    def with_batch(self, batch_size: int, replace: bool | None = None) -> "EmpiricalMinibatch":
        """The same data with another batch size (arrays shared, not copied)."""
        return EmpiricalMinibatch(self.deviations, self.factors, batch_size,
                                  self.replace if replace is None else replace,
                                  self.remainder, self.weight_decay)

    def mean_hessian(self) -> np.ndarray:
        """``E H_B = (1/N) sum_n F_n F_n^T + R + wd I`` (P x P)."""
        F = self.factors
        H = np.einsum("npr,nqr->pq", F, F) / self.n_samples
        if self.remainder is not None:
            H = H + (np.diag(self.remainder) if self.remainder.ndim == 1 else self.remainder)
        return H + self.weight_decay * np.eye(self.dim)

    def encode(self) -> tuple:
        N, P, r = self.factors.shape
        R = self.remainder
        R2 = R if R is not None and R.ndim == 2 else _EMPTY2
        Rd = R if R is not None and R.ndim == 1 else _EMPTY1
        ints = np.array([N, P, r, self.batch_size, int(self.replace), 0], dtype=np.int64)
        reals = np.array([self.weight_decay, 0.0, 0.0, 0.0])
        return (self.kind, ints, reals, self._F_kernel, self.deviations,
                np.ascontiguousarray(R2), np.ascontiguousarray(Rd), _EMPTY1, _EMPTY1)

    def describe(self) -> dict:
        return {"law": "empirical", "n_samples": self.n_samples, "dim": self.dim,
                "rank": self.rank, "batch_size": self.batch_size, "replace": self.replace,
                "remainder": None if self.remainder is None else
                ("diagonal" if self.remainder.ndim == 1 else "dense"),
                "weight_decay": self.weight_decay}


@dataclass(frozen=True)
class GaussianLeastSquares(MinibatchLaw):
    """Paper 001's least squares with Gaussian data (:mod:`levydyn.experiments.sgd_tails`), ``x_* = 0``.

    ``a ~ N(0, sigma^2 I_dim)``, ``y = noise xi``; per step ``batch`` fresh samples,
    ``H = (1/b) sum a a^T``, ``u = -(1/b) sum a y``. Exact (rotation invariance, GSZ 2021):
    ``lambda_1 = E log||M e_1||`` and ``Lambda(s) = log E||M e_1||^s``, by quadrature of
    :func:`levydyn.kesten.gaussian_ls.moment_growth`.
    """

    dim: int
    batch: int
    sigma: float = 1.0
    noise: float = 1.0
    kind = K.KIND_GAUSSIAN_LS

    def __post_init__(self):
        object.__setattr__(self, "dim", check_count("dim", self.dim))
        object.__setattr__(self, "batch", check_count("batch", self.batch))
        object.__setattr__(self, "sigma", check_positive("sigma", self.sigma))
        object.__setattr__(self, "noise", check_nonnegative("noise", self.noise))

    def encode(self) -> tuple:
        ints = np.array([0, self.dim, 0, self.batch, 1, 0], dtype=np.int64)
        reals = np.array([0.0, self.sigma, self.noise, 0.0])
        return (self.kind, ints, reals, _EMPTY3, _EMPTY2, _EMPTY2, _EMPTY1, _EMPTY1, _EMPTY1)

    def describe(self) -> dict:
        return {"law": "gaussian_least_squares", "dim": self.dim, "batch": self.batch,
                "sigma": self.sigma, "noise": self.noise}

    def exact_lyapunov(self, lr: float) -> float:
        from levydyn.kesten import gaussian_ls
        return gaussian_ls.lyapunov_exponent(lr, self.batch, self.dim, self.sigma)

    def exact_growth(self, s: float, lr: float) -> float:
        from levydyn.kesten import gaussian_ls
        return math.log(gaussian_ls.moment_growth(s, lr, self.batch, self.dim, self.sigma))

    def exact_tail_index(self, lr: float) -> float:
        from levydyn.kesten import gaussian_ls
        return gaussian_ls.tail_index(lr, self.batch, self.dim, self.sigma)


@dataclass(frozen=True)
class ScalarAffine(MinibatchLaw):
    """``x_{k+1} = (1 - lr h_k) x_k - lr u_k``: ``P(h = h_j) = p_j``, ``u = u_scale z``.

    Kesten (1973) / Goldie (1991): with ``a = 1 - lr h``, if ``E log|a| < 0`` and
    ``P(|a| > 1) > 0`` the stationary law has ``P(|x| > R) ~ C R^(-alpha)``, ``alpha`` the
    positive root of ``E|a|^alpha = 1`` (for the constant ``C`` also ``log|a|``
    non-arithmetic; ``C`` has no closed form).
    """

    h_values: tuple
    h_probs: tuple
    u_scale: float = 1.0
    kind = K.KIND_SCALAR

    def __post_init__(self):
        h = _finite_array("h_values", self.h_values, (0, 1)).ravel()
        p = _finite_array("h_probs", self.h_probs, (0, 1)).ravel()
        if h.size < 1 or p.shape != h.shape:
            raise ValueError(f"h_probs must give one probability per value, got h_values="
                             f"{h.tolist()} h_probs={p.tolist()}")
        if np.any(~(p > 0)) or abs(p.sum() - 1.0) > 1e-12:
            raise ValueError(f"h_probs must be positive and sum to 1, got h_probs={p.tolist()}")
        object.__setattr__(self, "h_values", tuple(h.tolist()))
        object.__setattr__(self, "h_probs", tuple(p.tolist()))
        object.__setattr__(self, "u_scale", check_nonnegative("u_scale", self.u_scale))

    @classmethod
    def from_ab(cls, a_values, a_probs, b_scale: float = 1.0) -> "ScalarAffine":
        """``x_{k+1} = a_k x_k + b_k``, ``P(a = a_j) = p_j``, ``b ~ N(0, b_scale^2)``: use it
        with ``lr = 1`` (then ``h = 1 - a``; ``b = -u`` has the same symmetric law)."""
        a = _finite_array("a_values", a_values, (0, 1)).ravel()
        return cls(tuple((1.0 - a).tolist()), a_probs, b_scale)

    @property
    def dim(self) -> int:
        return 1

    def multipliers(self, lr: float) -> tuple[np.ndarray, np.ndarray]:
        """``(a_j, p_j)``, ``a_j = 1 - lr h_j``."""
        return 1.0 - lr * np.asarray(self.h_values), np.asarray(self.h_probs)

    def encode(self) -> tuple:
        ints = np.array([0, 1, 0, 1, 1, len(self.h_values)], dtype=np.int64)
        reals = np.array([0.0, 0.0, 0.0, self.u_scale])
        return (self.kind, ints, reals, _EMPTY3, _EMPTY2, _EMPTY2, _EMPTY1,
                np.asarray(self.h_values, dtype=float), np.cumsum(self.h_probs))

    def describe(self) -> dict:
        return {"law": "scalar", "h_values": list(self.h_values), "h_probs": list(self.h_probs),
                "u_scale": self.u_scale}

    def exact_lyapunov(self, lr: float) -> float:
        a, p = self.multipliers(lr)
        with np.errstate(divide="ignore"):
            return float(np.sum(p * np.log(np.abs(a))))

    def exact_growth(self, s: float, lr: float) -> float:
        a, p = self.multipliers(lr)
        with np.errstate(divide="ignore"):
            la = np.log(np.abs(a))
        top = float(np.max(s * la))
        return top + math.log(float(np.sum(p * np.exp(s * la - top))))

    def exact_tail_index(self, lr: float) -> float:
        """Root ``alpha > 0`` of ``sum_j p_j |a_j|^alpha = 1``; 0 if ``lambda_1 >= 0``, inf if
        every ``|a_j| <= 1``."""
        from scipy import optimize
        a, p = self.multipliers(lr)
        if not self.exact_lyapunov(lr) < 0:
            return 0.0
        if not np.any(np.abs(a) > 1):
            return math.inf
        f = lambda s: self.exact_growth(s, lr)  # noqa: E731  convex, f(0) = 0, f'(0) < 0
        hi = 1.0
        while f(hi) < 0:
            hi *= 2.0
        return float(optimize.brentq(f, 1e-9, hi, xtol=1e-13, rtol=1e-12))


@dataclass(frozen=True, eq=False)
class Recursion:
    """The recursion ``x_{k+1} = x_k - lr_k (H_k x_k + u_k)`` from ``x0`` with an exit set.

    ``lr_k = lr int_k^{k+1} s_u du`` for the schedule ``s`` (time in iterations).
    ``domain``: a :class:`Ball` or :class:`Box` in ``x = w - w*`` coordinates, or None
    (stationary sampling). ``x0`` defaults to 0 (the minimum).
    """

    law: MinibatchLaw
    lr: float
    schedule: Schedule = field(default_factory=Constant)
    domain: object = None
    x0: object = None

    def __post_init__(self):
        if not isinstance(self.law, MinibatchLaw):
            raise ValueError(f"law must be a MinibatchLaw, got law={self.law!r}")
        object.__setattr__(self, "lr", check_positive("lr", self.lr))
        if not isinstance(self.schedule, Schedule):
            raise ValueError(f"schedule must be a Schedule, got schedule={self.schedule!r}")
        d = self.law.dim
        if self.domain is not None:
            if not isinstance(self.domain, (Ball, Box)):
                raise ValueError(f"domain must be a Ball or a Box, got domain={self.domain!r}")
            if self.domain.dim != d:
                raise ValueError(f"domain must have dimension {d}, got domain.dim="
                                 f"{self.domain.dim}")
        x0 = np.zeros(d) if self.x0 is None else _finite_array("x0", self.x0, (0, 1)).ravel()
        if x0.shape != (d,):
            raise ValueError(f"x0 must have {d} entries, got x0={x0.tolist()!r}")
        if self.domain is not None and not self.domain.contains(x0):
            raise ValueError(f"x0 must lie inside the domain, got x0={x0.tolist()!r}")
        object.__setattr__(self, "x0", x0)

    @property
    def dim(self) -> int:
        return self.law.dim

    def describe(self) -> dict:
        d = {"model": "random linear recursion x' = x - lr_k (H_k x + u_k)",
             **self.law.describe(), "lr": self.lr, "schedule": str(self.schedule),
             "time_unit": "iterations"}
        if self.domain is not None:
            d.update(self.domain.describe())
        return d

    def exit_args(self) -> tuple:
        """``(exit_kind, lower, upper, center, radius)`` for :func:`kernel.run_paths`."""
        dom, d = self.domain, self.dim
        if dom is None:
            return K.EXIT_NONE, np.zeros(d), np.zeros(d), np.zeros(d), 0.0
        if isinstance(dom, Box):
            return K.EXIT_BOX, dom.lower, dom.upper, np.zeros(d), 0.0
        return K.EXIT_BALL, np.zeros(d), np.zeros(d), dom.center, dom.radius
