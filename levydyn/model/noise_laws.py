"""Noise laws: the driving process of the SDE, a field of the :class:`~levydyn.Problem`.

Each law says, per axis ``l``, what the solver adds to ``X^l`` over a step ``[t, t + dt]``
under the learning-rate schedule ``s``:

========================  ==================================================================
``StableNoise``           ``eps_l (int_t^{t+dt} s_u^(alpha_l-1) du)^(1/alpha_l) Z``,
                          ``Z ~ SaS(1)`` (``E exp(iwZ) = exp(-|w|^alpha)``); exact in law.
``TruncatedStable``       the same increment conditioned on ``|increment| <= radius_l``
                          (bounded minibatch noise, paper 003's point): as ``dt -> 0`` the
                          Levy process whose Levy measure ``c_alpha eps^alpha |y|^(-1-alpha)``
                          is cut at ``|y| = radius``.
``TemperedStable``        Levy measure ``c_alpha eps^alpha |y|^(-1-alpha) exp(-rate |y|)``
                          (exponential tempering, Rosinski 2007); for ``alpha < 1`` sampled
                          exactly as the difference of two positive tempered stable
                          increments, each by rejection from the positive stable law with
                          acceptance ``exp(-rate S)`` (Kawai & Masuda 2011, alg. 4.1).
``EmpiricalNoise``        ``eps_l (int_t^{t+dt} s_u du) u``, ``u`` resampled with replacement
                          from measured values of axis ``l``: one SGD step with learning rate
                          ``dt`` and noise ``u`` (DESIGN.md, "Time").
========================  ==================================================================

Every law encodes itself for the kernels (:meth:`Noise.encode`), declares which solver
methods support it (:attr:`Noise.methods`) and, where it has one, its Levy jump intensity
beyond a level (:meth:`Noise.jump_intensity`), which the theory and the jump-adapted solver
use. ``c_alpha = Gamma(1 + alpha) sin(pi alpha / 2) / pi`` (:func:`levydyn.c_alpha`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from levydyn.model.noise import c_alpha
from levydyn.model.validation import ALPHA, POSITIVE, Constraint, per_axis

LAW_STABLE = 0
LAW_TRUNCATED = 1
LAW_TEMPERED = 2
LAW_EMPIRICAL = 3


@dataclass(frozen=True)
class NoiseEncoding:
    """A noise law as kernel arguments (one row per axis).

    law : law code per axis; alpha : stable index of the sampler (2 where unused);
    eps : noise level; param : truncation radius / tempering rate (0 where unused);
    table, table_n : resampled values (row l holds ``table_n[l]`` values of axis l);
    sched_alpha, power : the increment scale over ``[t, t + dt]`` is
    ``eps (int_t^{t+dt} s_u^(sched_alpha - 1) du)^power``.
    """

    law: np.ndarray
    alpha: np.ndarray
    eps: np.ndarray
    param: np.ndarray
    table: np.ndarray
    table_n: np.ndarray
    sched_alpha: np.ndarray
    power: np.ndarray

    def base_scale(self, dt: float) -> np.ndarray:
        """Increment scale of a step under a constant schedule: ``eps dt^power``."""
        return self.eps * dt ** self.power


class Noise:
    """Base class of noise laws. Subclasses hold per-axis parameters (scalars broadcast
    to the problem's dimension in :meth:`broadcast`)."""

    methods: frozenset = frozenset({"euler"})
    name = "noise"

    def broadcast(self, dim: int) -> "Noise":
        raise NotImplementedError

    def encode(self) -> NoiseEncoding:
        raise NotImplementedError

    def jump_intensity(self, level) -> np.ndarray | None:
        """Per-axis rate (per unit time, constant schedule) of increments larger than
        ``level`` in absolute value, or ``None`` for a law without a Levy measure."""
        return None

    @property
    def dim(self) -> int:
        return int(self.eps.size)

    def describe(self) -> dict:
        raise NotImplementedError


def _stable_intensity(alpha, eps, level):
    """``nu(|y| > a) = 2 c_alpha eps^alpha a^(-alpha) / alpha`` (0 on Brownian axes)."""
    a = np.asarray(level, dtype=float)
    return np.where(alpha < 2.0, 2.0 * c_alpha(alpha) * eps ** alpha * a ** (-alpha) / alpha, 0.0)


@dataclass(frozen=True, eq=False)
class StableNoise(Noise):
    """Symmetric alpha-stable noise ``eps_l dL^l``, ``L^l_1 ~ SaS(1)`` (the default law).

    alpha : tail index per axis in (0, 2] (2: Brownian motion with ``E L_t^2 = 2t``).
    eps : noise level per axis, positive and finite.
    """

    alpha: object
    eps: object
    methods = frozenset({"euler", "jump_adapted"})
    name = "stable"

    def __post_init__(self):
        dim = max(np.size(self.alpha), np.size(self.eps))
        alpha = per_axis("alpha", self.alpha, dim, ALPHA)
        eps = per_axis("eps", self.eps, dim, POSITIVE)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "eps", eps)

    def broadcast(self, dim: int) -> "StableNoise":
        return type(self)(per_axis("alpha", self.alpha, dim, ALPHA), per_axis("eps", self.eps, dim, POSITIVE))

    def encode(self) -> NoiseEncoding:
        d = self.dim
        return NoiseEncoding(np.full(d, LAW_STABLE, dtype=np.int64), self.alpha, self.eps,
                             np.zeros(d), np.zeros((d, 1)), np.zeros(d, dtype=np.int64),
                             self.alpha, 1.0 / self.alpha)

    def jump_intensity(self, level) -> np.ndarray:
        return _stable_intensity(self.alpha, self.eps, level)

    def describe(self) -> dict:
        return {"law": self.name, "alpha": self.alpha.tolist(), "eps": self.eps.tolist()}


class _ModifiedStable(StableNoise):
    """A stable law modified by one positive per-axis parameter (``_param``), encoded
    with law code ``_law``: the shared validation, broadcasting and encoding."""

    _param = ""
    _law = LAW_STABLE

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, self._param,
                           per_axis(self._param, getattr(self, self._param), self.dim, POSITIVE))

    def broadcast(self, dim: int):
        return type(self)(per_axis("alpha", self.alpha, dim, ALPHA),
                          per_axis("eps", self.eps, dim, POSITIVE),
                          per_axis(self._param, getattr(self, self._param), dim, POSITIVE))

    def encode(self) -> NoiseEncoding:
        e = super().encode()
        return NoiseEncoding(np.full(self.dim, self._law, dtype=np.int64), e.alpha, e.eps,
                             getattr(self, self._param).copy(), e.table, e.table_n,
                             e.sched_alpha, e.power)

    def describe(self) -> dict:
        return {**super().describe(), self._param: getattr(self, self._param).tolist()}


@dataclass(frozen=True, eq=False)
class TruncatedStable(_ModifiedStable):
    """Stable noise whose increments are capped at ``radius``: each step's increment is
    the stable one conditioned on ``|increment| <= radius_l`` (exact rejection from the
    stable draw). As ``dt -> 0`` this is the Levy process with Levy measure
    ``c_alpha eps^alpha |y|^(-1-alpha) 1{|y| <= radius} dy``: finite variance
    ``2 c_alpha eps^alpha radius^(2-alpha) / (2-alpha)`` per unit time, no jump out of a
    domain wider than ``radius``, so escapes need several jumps (paper 003's bounded noise).

    The kernel rejects at most a few draws per step when ``radius`` is large against the
    step's scale ``eps dt^(1/alpha)``; :func:`levydyn.simulate` refuses ``dt`` where the
    acceptance probability would be below 1/2.
    """

    radius: object = 1.0
    methods = frozenset({"euler"})
    name = "truncated_stable"
    _param = "radius"
    _law = LAW_TRUNCATED

    def jump_intensity(self, level) -> np.ndarray:
        a = np.asarray(level, dtype=float)
        rate = _stable_intensity(self.alpha, self.eps, a) - _stable_intensity(
            self.alpha, self.eps, self.radius)
        return np.where(a < self.radius, rate, 0.0)

    def variance_rate(self) -> np.ndarray:
        """``E X_1^2 = 2 c_alpha eps^alpha radius^(2-alpha) / (2-alpha)`` per unit time
        (``2 eps^2`` on Brownian axes)."""
        a = self.alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            v = 2 * c_alpha(a) * self.eps ** a * self.radius ** (2 - a) / (2 - a)
        return np.where(a < 2.0, v, 2 * self.eps ** 2)


@dataclass(frozen=True, eq=False)
class TemperedStable(_ModifiedStable):
    """Exponentially tempered stable noise, Levy measure
    ``c_alpha eps^alpha |y|^(-1-alpha) exp(-rate |y|) dy`` (Rosinski 2007).

    Exact sampler for ``alpha < 1``: ``X = P - N`` with ``P, N`` independent positive
    tempered stable increments; each is a positive stable increment ``S`` with Laplace
    transform ``E exp(-uS) = exp(-dt k u^alpha)``, ``k = eps^alpha c_alpha Gamma(1-alpha) / alpha``
    (Kanter's representation), accepted with probability ``exp(-rate S)`` (Kawai & Masuda
    2011). The acceptance probability is ``exp(-dt k rate^alpha)``, close to 1 for the
    steps of a simulation. ``alpha >= 1`` has no exact rejection sampler of this kind (the
    spectrally positive stable law has a negative part) and is refused rather than
    approximated silently.

    Variance per unit time: ``2 c_alpha eps^alpha Gamma(2-alpha) rate^(alpha-2)``.
    """

    rate: object = 1.0
    methods = frozenset({"euler"})
    name = "tempered_stable"
    _param = "rate"
    _law = LAW_TEMPERED

    def __post_init__(self):
        super().__post_init__()
        per_axis("alpha", self.alpha, self.dim,
                 Constraint("lie in (0, 1) for TemperedStable (exact sampler)", lambda v: v < 1.0))

    def jump_intensity(self, level) -> np.ndarray:
        """``2 c_alpha eps^alpha int_a^inf y^(-1-alpha) e^(-rate y) dy
        = 2 c_alpha eps^alpha rate^alpha Gamma(-alpha, rate a)``."""
        a = np.asarray(level, dtype=float)
        al = self.alpha
        # Gamma(-alpha, x) = (Gamma(1-alpha, x) - x^(-alpha) e^(-x)) / (-alpha)
        x = self.rate * a
        g1 = special.gammaincc(1 - al, x) * special.gamma(1 - al)
        upper_gamma = (g1 - x ** (-al) * np.exp(-x)) / (-al)
        return 2 * c_alpha(al) * self.eps ** al * self.rate ** al * upper_gamma

    def variance_rate(self) -> np.ndarray:
        """``E X_1^2 = 2 c_alpha eps^alpha Gamma(2 - alpha) rate^(alpha - 2)``."""
        a = self.alpha
        return 2 * c_alpha(a) * self.eps ** a * special.gamma(2 - a) * self.rate ** (a - 2)


@dataclass(frozen=True, eq=False)
class EmpiricalNoise(Noise):
    """Measured noise values resampled with replacement, per axis.

    values : a 1-D array (every axis resamples the same values), a 2-D array ``(n, dim)``
        (column l for axis l) or a list of 1-D numpy arrays (one per axis; lengths may
        differ).
    eps : factor per axis (default 1).

    A step ``[t, t + dt]`` adds ``eps_l (int_t^{t+dt} s_u du) u`` with ``u`` drawn
    uniformly from axis l's values: with a constant schedule, one SGD step of learning
    rate ``dt`` whose gradient noise is a measured minibatch value (DESIGN.md: an SGD
    iteration with learning rate eta is ``dt = eta``). No Levy measure: no jump intensity.
    """

    values: object
    eps: object = 1.0
    name = "empirical"

    def __post_init__(self):
        v = self.values
        if isinstance(v, (list, tuple)) and v and all(isinstance(c, np.ndarray) and c.ndim == 1
                                                      for c in v):
            cols = [np.asarray(c, dtype=float) for c in v]      # one column per axis
        else:
            try:
                arr = np.asarray(v, dtype=float)
            except (TypeError, ValueError):
                raise ValueError(f"values must be numbers (1-D, 2-D (n, dim), or a list of 1-D "
                                 f"numpy arrays), got values={v!r:.80}") from None
            if arr.ndim == 1:
                cols = [arr]
            elif arr.ndim == 2:
                cols = [arr[:, l].copy() for l in range(arr.shape[1])]
            else:
                raise ValueError(f"values must be 1-D, 2-D (n, dim) or a list of 1-D arrays, "
                                 f"got shape {arr.shape}")
        for l, c in enumerate(cols):
            if c.size == 0:
                raise ValueError(f"values must not be empty, got an empty column {l}")
            if not np.all(np.isfinite(c)):
                raise ValueError(f"values must be finite, got {float(c[~np.isfinite(c)][0])!r} "
                                 f"in column {l}")
        eps = per_axis("eps", self.eps, len(cols) if len(cols) > 1 else np.size(self.eps), POSITIVE)
        object.__setattr__(self, "values", cols)
        object.__setattr__(self, "eps", eps)

    @property
    def dim(self) -> int:
        return max(len(self.values), int(self.eps.size))

    def broadcast(self, dim: int) -> "EmpiricalNoise":
        if len(self.values) == dim and self.eps.size in (1, dim):
            return type(self)(list(self.values), per_axis("eps", self.eps, dim, POSITIVE))
        cols = self.values if len(self.values) == dim else (
            self.values * dim if len(self.values) == 1 else None)
        if cols is None:
            raise ValueError(f"values has {len(self.values)} columns but the problem has {dim} axes")
        return type(self)(list(cols), per_axis("eps", self.eps, dim, POSITIVE))

    def encode(self) -> NoiseEncoding:
        d = len(self.values)
        m = max(c.size for c in self.values)
        table = np.zeros((d, m))
        for l, c in enumerate(self.values):
            table[l, :c.size] = c
        return NoiseEncoding(np.full(d, LAW_EMPIRICAL, dtype=np.int64), np.full(d, 2.0),
                             self.eps, np.zeros(d), table,
                             np.array([c.size for c in self.values], dtype=np.int64),
                             np.full(d, 2.0), np.ones(d))

    def describe(self) -> dict:
        return {"law": self.name, "eps": self.eps.tolist(),
                "n_values": [int(c.size) for c in self.values]}


__all__ = ["EmpiricalNoise", "Noise", "NoiseEncoding", "StableNoise", "TemperedStable",
           "TruncatedStable"]
