"""Exit sets and well partitions.

* :class:`Box` -- the open box ``prod_l (lower_l, upper_l)``; a path exits at the first
  grid time where some coordinate is ``<= lower_l`` or ``>= upper_l``. Around a minimum
  ``x*`` it is given by the distances ``d-_l, d+_l`` (paper 004's ``[d-_l, d+_l]``;
  paper 000's interval ``(-a, b)`` around a well), see :meth:`Box.around`.
* :class:`Ball` -- the open Euclidean ball ``|x - c| < r`` (escape experiments on networks).
* :class:`WellPartition` -- 1-D multi-well transitions: the line is cut at the maxima
  ``s_i`` into wells; a path is "in well i" from the time it first enters the core
  ``|x - m_i| < core * min(m_i - s_{i-1}, s_i - m_i)`` until it enters another core.
  Counting at cores (milestoning) keeps a path hovering over a saddle from producing
  spurious back-and-forth transitions; for small noise the time to relax from the
  landing point to the core is O(log 1/eps), negligible against sojourns of order
  eps^(-alpha).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from levydyn.model.validation import (ANY, POSITIVE, POSITIVE_OR_INF, UNIT_OPEN, as_float,
                                      as_vector, interleaved_extrema, reject)


@dataclass(frozen=True, eq=False)
class Box:
    """Open box ``(lower_l, upper_l)`` per axis; 1-D boxes are intervals."""

    lower: object
    upper: object

    def __post_init__(self):
        lo = as_vector("lower", self.lower, None, ANY)
        hi = as_vector("upper", self.upper, lo.size, ANY)
        bad = np.flatnonzero(~(hi > lo))
        if bad.size:
            i = int(bad[0])
            raise reject("upper", f"exceed lower={float(lo[i])!r} on axis {i}", float(hi[i]))
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)

    @classmethod
    def around(cls, center, d_minus, d_plus) -> "Box":
        """Box ``(center - d_minus, center + d_plus)``; widths must be positive (inf allowed)."""
        c = as_vector("center", center)
        dm = as_vector("d_minus", d_minus, c.size, POSITIVE_OR_INF)
        dp = as_vector("d_plus", d_plus, c.size, POSITIVE_OR_INF)
        return cls(c - dm, c + dp)

    @property
    def dim(self) -> int:
        return self.lower.size

    def contains(self, x) -> bool:
        x = np.asarray(x, dtype=float)
        return bool(np.all((x > self.lower) & (x < self.upper)))

    def describe(self) -> dict:
        return {"box_lower": self.lower.tolist(), "box_upper": self.upper.tolist()}

    def distances(self, center) -> tuple[np.ndarray, np.ndarray]:
        """``(d_minus, d_plus)`` from ``center`` to the faces."""
        c = np.asarray(center, dtype=float)
        return c - self.lower, self.upper - c

    @property
    def length_scale(self) -> float:
        w = self.upper - self.lower
        w = w[np.isfinite(w)]
        return float(w.max()) if w.size else 1.0


@dataclass(frozen=True, eq=False)
class Ball:
    """Open ball ``|x - center| < radius`` (Euclidean): the exit set of an SGD escape
    experiment, ``||w - w*|| > r`` (nn_bridge). The exit axis is the coordinate with the
    largest displacement at the exit time, the side its sign."""

    center: object
    radius: float

    def __post_init__(self):
        c = as_vector("center", self.center)
        r = as_float("radius", self.radius, POSITIVE)
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "radius", r)

    @property
    def dim(self) -> int:
        return self.center.size

    def contains(self, x) -> bool:
        x = np.asarray(x, dtype=float)
        return bool(np.sum((x - self.center) ** 2) < self.radius**2)

    def describe(self) -> dict:
        return {"ball_center": self.center.tolist(), "ball_radius": self.radius}

    def distances(self, point) -> tuple[np.ndarray, np.ndarray]:
        """Distance from ``point`` to the sphere, repeated per axis (as ``(d-, d+)``)."""
        gap = self.radius - float(np.linalg.norm(np.asarray(point, dtype=float) - self.center))
        g = np.full(self.dim, gap)
        return g, g.copy()

    @property
    def length_scale(self) -> float:
        return 2.0 * self.radius


@dataclass(frozen=True, eq=False)
class WellPartition:
    """Wells of a 1-D landscape, cut at the maxima, with cores around the minima."""

    minima: tuple
    maxima: tuple
    core: float = 0.5

    def __post_init__(self):
        m, s, _ = interleaved_extrema(self.minima, self.maxima, min_minima=2)
        core = as_float("core", self.core, UNIT_OPEN)
        left = np.concatenate([[np.inf], m[1:] - s])
        right = np.concatenate([s - m[:-1], [np.inf]])
        object.__setattr__(self, "minima", tuple(m.tolist()))
        object.__setattr__(self, "maxima", tuple(s.tolist()))
        object.__setattr__(self, "core", core)
        object.__setattr__(self, "core_radius", core * np.minimum(left, right))

    @classmethod
    def of(cls, potential, core: float = 0.5) -> "WellPartition":
        """The partition of a :class:`~levydyn.model.potentials.MultiWell1D`."""
        return cls(potential.minima, potential.maxima, core)

    @property
    def dim(self) -> int:
        return 1

    @property
    def n_wells(self) -> int:
        return len(self.minima)

    def describe(self) -> dict:
        return {"minima": list(self.minima), "maxima": list(self.maxima), "core": self.core}

    def well_of(self, x: float) -> int:
        return int(np.searchsorted(np.asarray(self.maxima), float(x)))

    @property
    def length_scale(self) -> float:
        return float(max(self.minima[-1] - self.minima[0], 1.0))
