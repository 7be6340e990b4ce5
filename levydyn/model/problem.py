"""The Problem: what is simulated (potential, noise, schedule, domain, start point).

    dX^l_t = -d_l U(X_t) dt + eps_l s_t^((alpha_l - 1)/alpha_l) dL^l_t,   l = 1..N,

with independent SaS(1) Levy processes ``L^l`` of tail index ``alpha_l`` in (0, 2]
(``alpha_l = 2``: Brownian motion with ``E (L_t)^2 = 2t``), learning-rate schedule
``s_t`` and noise levels ``eps_l > 0`` (paper 004, eq. 3 with one-hot directions;
paper 000, eq. 9 when N = 1 and s = 1).

All validation of user input happens here (and in the component constructors), so a bad
value fails once, with one line naming the field and the value.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from levydyn.model.domains import Ball, Box, WellPartition
from levydyn.model.noise_laws import Noise, StableNoise
from levydyn.model.potentials import MultiWell1D, Potential
from levydyn.model.schedules import Constant, Schedule
from levydyn.model.validation import ALPHA, FINITE, POSITIVE, as_float, as_vector, per_axis, reject

# largest eps**alpha kept: the escape rates scale like eps^alpha, and beyond this the
# noise of one step overflows float64 long before any exit statistics mean anything
_MAX_EPS_POWER = 1e150


def check_positive(name: str, value) -> float:
    """``value`` as a positive finite float, or a one-line ValueError naming ``name``."""
    return as_float(name, value, POSITIVE)


def _resolve_noise(noise, alpha, eps, dim: int) -> Noise:
    """The noise law from ``noise=`` and the shorthand ``alpha=, eps=`` (stable noise).

    ``dataclasses.replace`` passes every field again, so a value of ``alpha`` / ``eps``
    equal to the given law's own is no conflict; one that differs changes the index /
    level of stable noise, and is an error for another law.
    """
    if noise is not None and not isinstance(noise, Noise):
        raise ValueError(f"noise must be a levydyn noise law, got noise={noise!r}")
    if noise is None:
        if alpha is None or eps is None:
            raise ValueError(f"give alpha and eps, or noise=, got alpha={alpha!r} eps={eps!r}")
        return StableNoise(per_axis("alpha", alpha, dim, ALPHA), per_axis("eps", eps, dim, POSITIVE))
    noise = noise.broadcast(dim)
    own = {"alpha": getattr(noise, "alpha", None), "eps": noise.eps}
    changed = {k: v for k, v in (("alpha", alpha), ("eps", eps))
               if v is not None and not (own[k] is not None and np.array_equal(
                   np.broadcast_to(np.asarray(v, dtype=float), (dim,)), own[k]))}
    if not changed:
        return noise
    if type(noise) is not StableNoise:
        raise ValueError("give either noise= or alpha and eps, not both (alpha and eps define "
                         f"stable noise; noise={type(noise).__name__})")
    new = {**own, **changed}
    return StableNoise(per_axis("alpha", new["alpha"], dim, ALPHA),
                       per_axis("eps", new["eps"], dim, POSITIVE))


@dataclass(frozen=True, eq=False)
class Problem:
    """An SDE, an exit set (or well partition) and a start point.

    Parameters
    ----------
    potential : a :mod:`levydyn.model.potentials` object (gradient compiled with numba).
    alpha : tail index per axis (scalar broadcasts), each in (0, 2]: shorthand for
        ``noise=StableNoise(alpha, eps)``.
    eps : noise level per axis (scalar broadcasts), each > 0 and finite.
    domain : :class:`~levydyn.model.domains.Box` or :class:`~levydyn.model.domains.Ball` (first exit) or
        :class:`~levydyn.model.domains.WellPartition` (transitions between wells).
    schedule : :mod:`levydyn.model.schedules` object, default constant.
    x0 : start point, default the potential's minimum; must lie inside a Box.
    noise : a :mod:`levydyn.model.noise_laws` law (``StableNoise``, ``TruncatedStable``,
        ``TemperedStable``, ``EmpiricalNoise``) instead of ``alpha`` and ``eps``. After
        construction ``noise`` is always set (per axis), and the attributes ``alpha`` /
        ``eps`` are its stable index and level (``alpha`` is ``None`` for a law without
        one). ``dataclasses.replace(problem, eps=...)`` (or ``alpha=``) changes the level
        (index) of stable noise; ``replace(problem, noise=...)`` changes the law.
    """

    potential: Potential
    alpha: object = None
    eps: object = None
    domain: object = None
    schedule: Schedule = field(default_factory=Constant)
    x0: object = None
    noise: Noise = None

    def __post_init__(self):
        if not isinstance(self.potential, Potential):
            raise ValueError(f"potential must be a levydyn potential, got potential={self.potential!r}")
        dim = self.potential.dim
        noise = _resolve_noise(self.noise, self.alpha, self.eps, dim)
        alpha = getattr(noise, "alpha", None)
        if alpha is not None:
            eps = noise.eps
            with np.errstate(over="ignore"):
                power = eps ** alpha
            bad = np.flatnonzero(~(power <= _MAX_EPS_POWER))
            if bad.size:
                i = int(bad[0])
                raise reject("eps", f"keep eps**alpha below {_MAX_EPS_POWER:g} (alpha={alpha[i]:g}"
                             + (f", axis {i})" if dim > 1 else ")"), float(eps[i]))
        if not isinstance(self.schedule, Schedule):
            raise ValueError(f"schedule must be a levydyn schedule, got schedule={self.schedule!r}")
        if self.domain is None or not isinstance(self.domain, (Box, Ball, WellPartition)):
            raise ValueError(f"domain must be a Box, Ball or WellPartition, got domain={self.domain!r}")
        if self.domain.dim != dim:
            raise reject("domain", f"have as many dimensions as the potential ({dim})",
                         self.domain.describe())
        x0 = self.potential.minimum if self.x0 is None else self.x0
        x0 = as_vector("x0", x0, dim, FINITE)
        if isinstance(self.domain, (Box, Ball)) and not self.domain.contains(x0):
            raise reject("x0", f"lie inside the domain {self.domain.describe()}", x0)
        if isinstance(self.domain, WellPartition):
            _check_wells_match(self.potential, self.domain)
        object.__setattr__(self, "noise", noise)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "eps", noise.eps)
        object.__setattr__(self, "x0", x0)

    @property
    def dim(self) -> int:
        return self.potential.dim

    @property
    def is_transition(self) -> bool:
        return isinstance(self.domain, WellPartition)

    def describe(self) -> dict:
        """A JSON-friendly summary of the problem."""
        d = {
            "potential": type(self.potential).__name__,
            "dim": self.dim,
            "alpha": None if self.alpha is None else self.alpha.tolist(),
            "eps": self.eps.tolist(),
            "schedule": str(self.schedule),
            "x0": self.x0.tolist(),
        }
        d["domain"] = self.domain.describe()
        if type(self.noise) is not StableNoise:     # stable noise is said by alpha and eps
            d["noise"] = self.noise.describe()
        return d


def _check_wells_match(potential: Potential, wells: WellPartition) -> None:
    """The partition's minima and maxima must be the potential's: for a
    :class:`MultiWell1D` exactly its critical points; for any 1-D potential, U must rise
    from each minimum to the neighbouring maxima (checked at the midpoints)."""
    m, s = np.asarray(wells.minima), np.asarray(wells.maxima)
    if isinstance(potential, MultiWell1D):
        pm, ps = np.asarray(potential.minima), np.asarray(potential.maxima)
        scale = max(1.0, float(np.abs(np.concatenate([pm, ps])).max()))
        if pm.shape != m.shape or not np.allclose(pm, m, rtol=0, atol=1e-9 * scale) \
                or not np.allclose(ps, s, rtol=0, atol=1e-9 * scale):
            raise reject("domain", f"have the potential's wells (minima={pm.tolist()}, "
                         f"maxima={ps.tolist()})", wells.describe())
        return
    for i, top in enumerate(s):
        for bottom, rising in ((m[i], 1.0), (m[i + 1], -1.0)):
            g = potential.gradient([0.5 * (bottom + top)])[0]
            if not rising * g > 0:
                raise reject("domain", "have minima and maxima of the potential (U must rise "
                             f"from minimum {bottom:g} to maximum {top:g})", wells.describe())
