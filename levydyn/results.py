"""Results of simulations, with confidence intervals that respect censoring.

Every summary is an :class:`Estimate` (value, CI bounds, level, method; intervals in
:mod:`levydyn.intervals`). Censoring is type I: a path that has not exited by ``t_max`` is
censored at ``t_max`` (a diverged path at the time it diverged); it is never dropped, the
censored fraction is always reported, and censored means follow the rule of
:mod:`levydyn.censoring` (extrapolated only where the sample supports an exponential tail,
else reported as a bound).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from levydyn.censoring import censored_mean, kaplan_meier
from levydyn.intervals import (Estimate, _chi2_ppf, _level, exponential_mean,  # noqa: F401
                               mean_with_ci, wilson, wilson_bounds)
from levydyn.output_files import atomic_write_text
from levydyn.model.validation import check_index, reject


def dump_json(payload: dict, path=None) -> str:
    """``payload`` as indented JSON text (through :func:`to_jsonable`, so non-finite
    numbers follow the package's one convention), also written atomically to ``path``."""
    s = json.dumps(to_jsonable(payload), indent=2, allow_nan=False)
    if path is not None:
        atomic_write_text(path, s + "\n")
    return s


@dataclass
class SurvivalCurve:
    """Survival ``P(sigma > t)`` (Kaplan-Meier) with pointwise Wilson bands.

    With type-I censoring at a single ``t_max`` the Kaplan-Meier product-limit estimate
    equals the empirical survival fraction for ``t < t_max``; paths censored earlier
    (diverged) are handled by the product limit (:meth:`EscapeResult.survival`).
    """

    t: np.ndarray
    survival: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: int

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(self).items()}


def to_jsonable(obj):
    """Nested dicts/lists/arrays/Estimates -> plain JSON types.

    The one JSON convention for non-finite numbers in levydyn (every ``--json`` file,
    ``to_json``, verify and nn_bridge reports): ``inf``, ``-inf`` and ``nan`` are written
    as the strings ``"inf"``, ``"-inf"`` and ``"nan"`` (JSON has no such numbers, and
    ``null`` would lose which one it was); ``float(s)`` reads them back. ``None`` stays
    ``null`` and means "not applicable".
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else ("nan" if math.isnan(v) else str(v))
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, Estimate):
        return to_jsonable(asdict(obj))
    return obj


@dataclass
class EscapeResult:
    """Per-path first exits from a box.

    Attributes
    ----------
    times : exit time (grid time of the first step outside), or ``t_max`` if censored.
    exited : False for censored paths.
    axis, side : exit axis (0-based) and side (-1 lower face, +1 upper face); -1 / 0 if
        censored.
    points : position at the exit time (shape ``(n, dim)``).
    diverged : paths whose state became non-finite; they are not exits and are censored
        at the time they diverged (``times``).
    paths : recorded sample paths (:class:`~levydyn.trajectories.Trajectories`) or None.
    """

    problem: object
    times: np.ndarray
    exited: np.ndarray
    axis: np.ndarray
    side: np.ndarray
    points: np.ndarray
    dt: float
    t_max: float
    seed: int
    method: str = "euler"
    wall_time: float = 0.0
    interrupted: bool = False
    meta: dict = field(default_factory=dict)
    diverged: np.ndarray = None
    paths: object = None

    def __post_init__(self):
        if self.diverged is None:
            self.diverged = np.zeros(self.times.size, dtype=bool)

    @property
    def n_diverged(self) -> int:
        return int(self.diverged.sum())

    @property
    def n_paths(self) -> int:
        return int(self.times.size)

    @property
    def n_exited(self) -> int:
        return int(self.exited.sum())

    @property
    def censored_fraction(self) -> float:
        return 1.0 - self.n_exited / self.n_paths if self.n_paths else math.nan

    def mean_exit_time(self, level: float = 0.95) -> Estimate:
        """Mean first-exit time (:func:`levydyn.censoring.censored_mean`).

        Without censoring: the sample mean with a t interval. With censoring the mean is
        not identified without a model: the exponential MLE ``(sum of all times) / exits``
        with its exact chi-square interval is used only when the sample's own exits do not
        reject an exponential law (Weibull likelihood-ratio test; the law Theorem 1 of
        paper 000 predicts in the small-noise limit); otherwise the Kaplan-Meier restricted
        mean up to ``t_max`` is returned as a lower bound (``method`` starts ``"bound: "``,
        ``high = inf``). ``method`` says which, and why.
        """
        return censored_mean(self.times, self.exited, level)

    def median_exit_time(self) -> float:
        """Median exit time (``inf`` if at least half the paths are censored)."""
        if self.n_exited * 2 <= self.n_paths:
            return math.inf
        return float(np.median(np.where(self.exited, self.times, np.inf)))

    def side_probability(self, side: int = 1, axis: int | None = None,
                         level: float = 0.95) -> Estimate:
        """P(exit through ``side`` [of ``axis``]) among exited paths, Wilson interval."""
        if isinstance(side, (bool, np.bool_)) or side not in (-1, 1):
            raise reject("side", "be -1 or +1", side)
        level = _level(level)
        mask = self.side == side
        if axis is not None:
            axis = check_index("axis", axis, self.points.shape[1])
            mask &= self.axis == axis
        return wilson(int((mask & self.exited).sum()), self.n_exited, level)

    def axis_probability(self, axis: int, level: float = 0.95) -> Estimate:
        """P(exit along ``axis``) among exited paths, Wilson interval."""
        axis = check_index("axis", axis, self.points.shape[1])
        return wilson(int(((self.axis == axis) & self.exited).sum()), self.n_exited, level)

    def survival(self, t=None, level: float = 0.95) -> SurvivalCurve:
        """Kaplan-Meier ``P(sigma > t)`` on a grid (default: 200 points up to ``t_max``);
        an exit at exactly ``t`` does not survive ``t``. Bands: Wilson at the effective
        sample size ``S (1 - S) / Var_Greenwood S`` (Anderson, Bernstein & Pike 1982), which
        is ``n`` itself when every censored path is censored after ``t`` (then the bands
        are the exact-binomial Wilson ones); ``n`` where ``S`` is 0 or 1."""
        level = _level(level)
        if t is None:
            hi = float(self.times.max()) if self.n_paths else self.t_max
            t = np.linspace(0.0, min(hi, self.t_max), 200)
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if not np.all(t >= 0):
            raise reject("t", "be non-negative times", t)
        if np.any(t > self.t_max):
            raise ValueError(f"survival is only identified up to t_max={self.t_max}, got t={t.max()}")
        if self.n_paths == 0:
            nan = np.full(t.shape, math.nan)
            return SurvivalCurve(t, nan, np.zeros(t.shape), np.ones(t.shape), 0)
        km = kaplan_meier(self.times, self.exited)
        s, var = km(t), km.greenwood(t)
        inner = (s > 0) & (s < 1) & (var > 0)
        n_eff = np.where(inner, s * (1 - s) / np.where(inner, var, 1.0), self.n_paths)
        low, high = wilson_bounds(s, n_eff, level)
        return SurvivalCurve(t, s, low, high, self.n_paths)

    def summary(self, level: float = 0.95) -> dict:
        d = {
            "n_paths": self.n_paths,
            "censored_fraction": self.censored_fraction,
            "n_diverged": self.n_diverged,
            "mean_exit_time": self.mean_exit_time(level),
            "median_exit_time": self.median_exit_time(),
        }
        dim = self.points.shape[1]
        if dim == 1:
            d["p_exit_upper"] = self.side_probability(1, level=level)
        else:
            d["p_axis"] = [self.axis_probability(a, level) for a in range(dim)]
        return d

    def to_dict(self, paths: bool = False) -> dict:
        d = {"problem": self.problem.describe(), "method": self.method, "dt": self.dt,
             "t_max": self.t_max, "seed": self.seed, "wall_time_s": self.wall_time,
             "interrupted": self.interrupted, "summary": self.summary()}
        if paths:
            d["paths"] = {"times": self.times, "exited": self.exited, "axis": self.axis,
                          "side": self.side}
        return to_jsonable(d)

    def to_json(self, path=None, paths: bool = False) -> str:
        return dump_json(self.to_dict(paths), path)


@dataclass
class TransitionResult:
    """Per-path visits to the wells of a 1-D multi-well landscape.

    ``wells[i, :n_visits[i]]`` is the sequence of wells path i visited (milestoned at
    the cores), ``entries`` the entry times; ``occupancy[i, w]`` the time spent in the
    region of well w; ``t_end[i]`` the time the path stopped; ``status[i]`` why
    (:mod:`levydyn.solvers.euler` ``STATUS_*``: horizon, diverged, visit table full).
    """

    problem: object
    wells: np.ndarray
    entries: np.ndarray
    n_visits: np.ndarray
    occupancy: np.ndarray
    t_end: np.ndarray
    dt: float
    t_max: float
    seed: int
    method: str = "euler"
    wall_time: float = 0.0
    interrupted: bool = False
    status: np.ndarray = None
    paths: object = None

    def __post_init__(self):
        if self.status is None:
            self.status = np.zeros(self.t_end.size, dtype=np.int64)

    @property
    def n_diverged(self) -> int:
        return int((self.status == 2).sum())

    @property
    def n_paths(self) -> int:
        return int(self.t_end.size)

    @property
    def n_wells(self) -> int:
        return self.occupancy.shape[1]

    def _sojourns(self):
        """(well, duration, completed) for every sojourn of every path."""
        w_all, d_all, c_all = [], [], []
        for i in range(self.n_paths):
            nv = int(self.n_visits[i])
            w = self.wells[i, :nv]
            e = np.append(self.entries[i, :nv], self.t_end[i])
            w_all.append(w)
            d_all.append(np.diff(e))
            done = np.ones(nv, bool)
            done[-1] = False
            c_all.append(done)
        return np.concatenate(w_all), np.concatenate(d_all), np.concatenate(c_all)

    def transition_counts(self) -> np.ndarray:
        """``N[i, j]``: number of observed jumps i -> j."""
        n = np.zeros((self.n_wells, self.n_wells), dtype=np.int64)
        for p in range(self.n_paths):
            w = self.wells[p, :int(self.n_visits[p])]
            np.add.at(n, (w[:-1], w[1:]), 1)
        return n

    def time_at_risk(self) -> np.ndarray:
        """Total sojourn time in each well (censored last sojourns included)."""
        w, d, _ = self._sojourns()
        return np.bincount(w, weights=d, minlength=self.n_wells)

    def generator(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Maximum-likelihood generator ``Q[i, j] = N_ij / T_i`` of a continuous-time
        Markov chain, with exact Poisson (Garwood) intervals for each off-diagonal rate.
        Returns ``(Q, Q_low, Q_high)``."""
        level = _level(level)
        n = self.transition_counts()
        T = self.time_at_risk()
        a = 1 - level
        with np.errstate(divide="ignore", invalid="ignore"):
            q = n / T[:, None]
            lo = np.where(n > 0, _chi2_ppf(a / 2, 2 * n) / 2, 0.0) / T[:, None]
            hi = _chi2_ppf(1 - a / 2, 2 * n + 2) / 2 / T[:, None]
        for Q in (q, lo, hi):
            np.fill_diagonal(Q, 0.0)
        np.fill_diagonal(q, -q.sum(axis=1))
        return q, lo, hi

    def mean_sojourn(self, well: int, level: float = 0.95) -> Estimate:
        """Mean time in ``well`` before leaving; the last sojourn of each path is censored
        (:func:`levydyn.censoring.censored_mean`: exponential MLE only where the sojourns
        do not reject an exponential law, else a bound)."""
        well = check_index("well", well, self.n_wells, "well")
        w, d, c = self._sojourns()
        m = w == well
        return censored_mean(d[m], c[m], level)

    def occupation(self, level: float = 0.95) -> list[Estimate]:
        """Fraction of time spent in each well region, with a t interval over paths."""
        frac = self.occupancy / np.maximum(self.t_end, 1e-300)[:, None]
        return [mean_with_ci(frac[:, w], level) for w in range(self.n_wells)]

    def summary(self, level: float = 0.95) -> dict:
        q, lo, hi = self.generator(level)
        return {"n_paths": self.n_paths, "transitions": self.transition_counts(),
                "generator": q, "generator_low": lo, "generator_high": hi,
                "occupation": self.occupation(level),
                "mean_sojourn": [self.mean_sojourn(w, level) for w in range(self.n_wells)]}

    def to_dict(self) -> dict:
        return to_jsonable({"problem": self.problem.describe(), "method": self.method,
                          "dt": self.dt, "t_max": self.t_max, "seed": self.seed,
                          "wall_time_s": self.wall_time, "interrupted": self.interrupted,
                          "summary": self.summary()})

    def to_json(self, path=None) -> str:
        return dump_json(self.to_dict(), path)
