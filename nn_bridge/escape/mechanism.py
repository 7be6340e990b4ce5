"""Which mechanism carries a network's slow escapes (issue 28, Deliver 4).

At a cell (B, lr) the mean escape iterations ``E tau`` from the ball ``||w - w*|| <= R`` are
measured against the radius ``R`` (0.25-4) at fixed (B, lr), and against the learning rate
at fixed (B, R). Three mechanisms predict three shapes:

(i) **heavy tails**: one large jump (Levy width law: exit rate ~ eps^alpha R^-alpha,
    Imkeller & Pavlyukevich 2006; paper 000 Thm 1) or the Kesten tail of the stable random
    recursion (``P(|x| > R) ~ R^-alpha_K``, Kesten 1973; Goldie 1991): ``E tau ~ R^a``, so
    ``log E tau = c + a log R`` with ``a`` compared to the measured ``alpha_i`` and to
    ``alpha_K``; over lr (:func:`~nn_bridge.escape.fit.fit_levy`) ``log tau = c - alpha log lr``.
(ii) **Gaussian climbing** (Arrhenius-Kramers): a quadratic barrier ``Delta U = h R^2 / 2``
    climbed at temperature ``T ~ lr / B`` (diffusion ``lr C / 2B``; Xie, Sato & Sugiyama
    2020): ``log E tau = c + Delta U / T``, i.e. ``log E tau = c + b R^2`` at fixed (B, lr)
    and ``log tau = c - log lr + K / lr`` over lr (:func:`~nn_bridge.escape.fit.fit_gaussian`).
(iii) **unstable growth** (``lambda_1 > 0``): ``|x_k| ~ r0 e^{lambda_1 k}`` leaves the ball at
    ``k = log(R / r0) / lambda_1``: ``E tau = c + s log R`` with ``s = 1 / lambda_1``, and over lr
    at fixed R ``E tau = c + s / lambda_1(lr)`` with ``s = log(R / r0) > 0`` (``r0`` unknown:
    free), over the lrs with ``lambda_1 > 0``.

Each fit is weighted least squares (:func:`~nn_bridge.escape.fit.wls`; standard errors times
``sqrt(chi2/dof)`` when that exceeds 1) with each mean's standard error from its CI: in log
space ``(log high - log low) / 2z`` (:func:`~nn_bridge.escape.fit.log_se`) for (i), (ii), in
linear space ``(high - low) / 2z`` for (iii). Only measured means enter
(:func:`nn_bridge.escape.horizon.is_measured`); bounds and imprecise means are listed with
the reason. A fit is **acceptable** when ``dof >= 1``, its chi2 p-value is at least
``P_ACCEPT`` and its rate parameter (a, b, s; alpha, K) is positive (a law whose escapes
get faster with the barrier is not that mechanism). The verdict of a scan is the acceptable
fit with the smallest chi2/dof, "neither" if none, "undetermined" with fewer than
``MIN_POINTS`` measured means.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import stats

from levydyn.results import Estimate
from nn_bridge.data.flat import positive
from nn_bridge.escape.fit import fit_gaussian, fit_levy, log_se, wls
from nn_bridge.escape.horizon import PRECISION, is_measured, why_not_measured
from nn_bridge.escape.radius_scan import RADII

__all__ = ["SCHEMA", "P_ACCEPT", "MIN_POINTS", "MECHANISMS", "fit_radius", "fit_lr", "verdict",
           "MechanismScan", "mechanism_scan", "scan_values", "choose_mechanism_cells"]

#: The JSON of ``levydyn nn mechanism --json``.
SCHEMA = "levydyn.nn_mechanism/1"
#: A fit is acceptable when its chi2 p-value is at least this (and dof >= 1).
P_ACCEPT = 0.01
#: Fewer measured means than this: no verdict ("undetermined").
MIN_POINTS = 3
#: The three mechanisms (keys of every scan's ``fits``), in words.
MECHANISMS = {"heavy_tails": "heavy tails (power law)",
              "gaussian_climbing": "Gaussian climbing (Arrhenius-Kramers)",
              "unstable_growth": "unstable growth (log R / lambda_1)"}


def _points(name: str, xs, means, precision: float):
    """Indices of the measured means and the left-out points with the reason."""
    xs = [float(x) for x in xs]
    if len(xs) != len(means):
        raise ValueError(f"means: {len(means)} values for {len(xs)} {name} values")
    for x in xs:
        if not (math.isfinite(x) and x > 0):
            raise ValueError(f"{name}={x!r}: must be a positive number")
    for e in means:
        if not isinstance(e, Estimate):
            raise ValueError(f"means: expected levydyn Estimates, got {type(e).__name__}")
    keep = [i for i, e in enumerate(means) if is_measured(e, precision) and e.high > e.low]
    left = [{name: xs[i], "reason": why_not_measured(e, precision) or "zero-width CI"}
            for i, e in enumerate(means) if i not in keep]
    return keep, left


def _zq(level: float) -> float:
    """The two-sided normal quantile of ``level``."""
    return float(stats.norm.ppf(0.5 + level / 2))


def _se(e: Estimate | None, level: float) -> float:
    """Standard error of an estimate from its CI (0 for a point value)."""
    if e is None or not (math.isfinite(e.low) and math.isfinite(e.high)):
        return 0.0
    return (e.high - e.low) / (2.0 * _zq(level))


def _z(value: float, se: float, target, level: float) -> float | None:
    """How many standard errors ``value`` lies from ``target`` (Estimate or number)."""
    if target is None:
        return None
    t = target.value if isinstance(target, Estimate) else float(target)
    s = math.hypot(se, _se(target, level) if isinstance(target, Estimate) else 0.0)
    return (value - t) / s if s > 0 and math.isfinite(t) else None


def _record(law: str, rate: str, n_left: int, names, beta, se, chi2: float, dof: int) -> dict:
    p = float(stats.chi2.sf(chi2, dof)) if dof > 0 else math.nan
    params = dict(zip(names, map(float, beta)))
    return {"law": law, "params": params, "se": dict(zip(names, map(float, se))),
            "chi2": float(chi2), "dof": int(dof), "chi2_dof": chi2 / dof if dof else math.nan,
            "p_value": p, "n": len(beta) + int(dof), "n_left_out": n_left,
            "rate_positive": bool(params[rate] > 0),
            "acceptable": bool(dof >= 1 and p >= P_ACCEPT and params[rate] > 0)}


def _too_few(law: str, n: int, n_left: int) -> dict:
    return {"law": law, "n": n, "n_left_out": n_left, "acceptable": False,
            "error": f"{n} points: a fit needs at least {MIN_POINTS}"}


def _wls_fit(law, rate, names, A, y, se, n_left) -> dict:
    if len(y) < MIN_POINTS:
        return _too_few(law, len(y), n_left)
    beta, sb, chi2, dof = wls(A, y, se)
    return _record(law, rate, n_left, names, beta, sb, chi2, dof)


def _curve_fit(law, rate, fn, x, y, se, n_left) -> dict:
    if len(y) < MIN_POINTS:
        return _too_few(law, len(y), n_left)
    f = fn(x, y, se)
    names = [k for k in f.params if k in ("c", rate)]
    return _record(law, rate, n_left, names, [f.params[k] for k in names],
                   [f.se[k] for k in names], f.chi2_dof * (f.n - 2), f.n - 2)


def verdict(fits: dict, n_measured: int) -> dict:
    """The scan's mechanism (module docstring) and one sentence on every fit."""
    words = []
    for k, f in fits.items():
        words.append(f"{MECHANISMS[k]} " + (f"not fitted ({f['error']})" if "error" in f else
                     ("acceptable" if f["acceptable"] else "rejected")
                     + f" (chi2/dof {f['chi2_dof']:.3g}, p {f['p_value']:.2g})"))
    if n_measured < MIN_POINTS:
        mech = "undetermined"
    else:
        ok = [k for k, f in fits.items() if f["acceptable"]]
        mech = min(ok, key=lambda k: fits[k]["chi2_dof"]) if ok else "neither"
    return {"mechanism": mech, "sentence": f"{mech} ({n_measured} measured means): "
            + "; ".join(words)}


def fit_radius(radii, means, *, alpha_K: Estimate | None = None, alpha_i: float | None = None,
               lambda_1: Estimate | None = None, precision: float = PRECISION,
               level: float = 0.95) -> dict:
    """Fits (i)-(iii) of ``E tau`` against the radius at fixed (B, lr) (module docstring).

    ``means``: one :class:`Estimate` per radius. Fit (i) carries ``z_alpha_K``, ``z_alpha_i``
    (the exponent's distance in standard errors), (iii) ``predicted_s = 1 / lambda_1`` and
    ``z_predicted`` when ``lambda_1 > 0``. Returns ``{"fits", "left_out", "n_measured",
    "mechanism", "sentence"}``."""
    keep, left = _points("radius", radii, means, precision)
    R = np.array([float(radii[i]) for i in keep])
    m, lo, hi = (np.array([getattr(means[i], k) for i in keep]) for k in ("value", "low", "high"))
    sl, sn = log_se(m, lo, hi, level), (hi - lo) / (2 * _zq(level))
    one, nl = np.ones_like(R), len(left)
    fits = {"heavy_tails": _wls_fit("log E tau = c + a log R", "a", ["c", "a"],
                                    np.column_stack([one, np.log(R)]), np.log(m), sl, nl),
            "gaussian_climbing": _wls_fit("log E tau = c + b R^2", "b", ["c", "b"],
                                          np.column_stack([one, R ** 2]), np.log(m), sl, nl),
            "unstable_growth": _wls_fit("E tau = c + s log R", "s", ["c", "s"],
                                        np.column_stack([one, np.log(R)]), m, sn, nl)}
    h, u = fits["heavy_tails"], fits["unstable_growth"]
    if "error" not in h:
        h.update(alpha_K=alpha_K, alpha_i=alpha_i,
                 z_alpha_K=_z(h["params"]["a"], h["se"]["a"], alpha_K, level),
                 z_alpha_i=_z(h["params"]["a"], h["se"]["a"], alpha_i, level))
    if "error" not in u:
        lam = lambda_1 if lambda_1 is not None and lambda_1.value > 0 else None
        d = 0.0 if lam is None else _se(lam, level) / lam.value ** 2 * _zq(level)
        pred = None if lam is None else Estimate(1 / lam.value, 1 / lam.value - d,
                                                 1 / lam.value + d, level, "1 / lambda_1 (delta method)")
        u.update(lambda_1=lambda_1, predicted_s=pred,
                 z_predicted=_z(u["params"]["s"], u["se"]["s"], pred, level))
    return {"fits": fits, "left_out": left, "n_measured": len(keep),
            **verdict(fits, len(keep))}


def fit_lr(lrs, means, *, alpha_i: float | None = None, alpha_K=None, lambda_1=None,
           precision: float = PRECISION, level: float = 0.95) -> dict:
    """Fits (i)-(iii) of ``E tau`` against the learning rate at fixed (B, R).

    ``alpha_K``, ``lambda_1``: one Estimate (or None) per lr. Fit (i) carries ``z_alpha_i``
    and ``z_alpha_K`` (to the mean of the alpha_K's of the lrs fitted); fit (iii) uses only
    the lrs with ``lambda_1 > 0`` (the others listed). Returns as :func:`fit_radius`."""
    keep, left = _points("lr", lrs, means, precision)
    per_lr = {}
    for name, vals in (("alpha_K", alpha_K), ("lambda_1", lambda_1)):
        vals = [None] * len(lrs) if vals is None else list(vals)
        if len(vals) != len(lrs):
            raise ValueError(f"{name}: {len(vals)} values for {len(lrs)} lrs")
        per_lr[name] = vals
    x = np.array([float(lrs[i]) for i in keep])
    m, lo, hi = (np.array([getattr(means[i], k) for i in keep]) for k in ("value", "low", "high"))
    sl, nl = log_se(m, lo, hi, level), len(left)
    fits = {"heavy_tails": _curve_fit("log tau = c - alpha log lr", "alpha", fit_levy, x, m,
                                      sl, nl),
            "gaussian_climbing": _curve_fit("log tau = c - log lr + K / lr", "K", fit_gaussian,
                                            x, m, sl, nl)}
    h = fits["heavy_tails"]
    ks = [per_lr["alpha_K"][i] for i in keep if per_lr["alpha_K"][i] is not None]
    mean_K = None if not ks else Estimate(
        float(np.mean([k.value for k in ks])), math.nan, math.nan, level, "mean over lrs")
    if "error" not in h:
        h.update(alpha_i=alpha_i, alpha_K=ks, alpha_K_mean=mean_K,
                 z_alpha_i=_z(h["params"]["alpha"], h["se"]["alpha"], alpha_i, level),
                 z_alpha_K=_z(h["params"]["alpha"], h["se"]["alpha"], mean_K, level))
    lam = [per_lr["lambda_1"][i] for i in keep]
    up = [j for j, e in enumerate(lam) if e is not None and e.value > 0]
    un_left = [{"lr": float(x[j]), "reason": "lambda_1 <= 0 or unknown: not unstable"}
               for j in range(len(keep)) if j not in up]
    inv = np.array([1.0 / lam[j].value for j in up])
    u = _wls_fit("E tau = c + s / lambda_1(lr)", "s", ["c", "s"],
                 np.column_stack([np.ones_like(inv), inv]), m[up],
                 ((hi - lo) / (2 * _zq(level)))[up],
                 nl + len(un_left))
    u["not_unstable"] = un_left
    fits["unstable_growth"] = u
    return {"fits": fits, "left_out": left, "n_measured": len(keep),
            **verdict(fits, len(keep))}


def _reachable(stab: dict, name: str):
    """``lambda_1`` / ``alpha_K`` on the reachable subspace where the cell has it, else the
    full-space one."""
    return stab.get(f"{name}_reachable") if "lambda_1_reachable" in stab else stab.get(name)


@dataclass
class MechanismScan:
    """Mean escape iterations at (B, lr) against the radius, and at (B, ``radius``) against
    the learning rate, with the fits of the module docstring.

    ``by_radius[R]``, ``by_lr[lr]``: the network's escapes (points not run are absent);
    ``predicted``: model -> {("R", R) or ("lr", lr): escapes}; ``stability[lr]``: the study's
    stability of (B, lr); ``alpha_i``: median measured tail index at B."""

    batch_size: int
    lr: float
    radius: float
    radii: tuple
    lrs: tuple
    by_radius: dict
    by_lr: dict
    stability: dict
    alpha_i: float | None = None
    predicted: dict = field(default_factory=dict)
    precision: float = PRECISION
    profile: dict | None = None

    def profile_summary(self, level: float = 0.95) -> dict | None:
        """The distance profile at (B, lr) (:func:`~nn_bridge.escape.experiment.distance_profile`)
        and, at the checkpoint nearest the measured mean escape time at ``radius``, the median
        ``||w_k - w*||`` in units of the radius (near 1: the median path crosses R when the
        mean escape happens, a transport; well below 1: exits are excursions)."""
        if self.profile is None:
            return None
        out = {k: np.asarray(v).tolist() for k, v in self.profile.items()}
        e = _cell_escape(self.by_radius, self.by_lr, self.radius, self.lr)
        m = None if e is None else e.mean_iterations("distance", level)
        out["median_over_radius_at_mean"] = None
        if m is not None and is_measured(m, self.precision):
            k = np.asarray(self.profile["k"], dtype=float)
            j = int(np.argmin(np.abs(np.log(k) - math.log(m.value))))
            out["at_k"] = int(k[j])
            out["median_over_radius_at_mean"] = float(self.profile["q50"][j]) / self.radius
        return out

    def radius_fit(self, level: float = 0.95) -> dict:
        R = [r for r in self.radii if r in self.by_radius]
        st = self.stability.get(self.lr, {})
        return fit_radius(R, [self.by_radius[r].mean_iterations("distance", level) for r in R],
                          alpha_K=_reachable(st, "alpha_K"), alpha_i=self.alpha_i,
                          lambda_1=_reachable(st, "lambda_1"), precision=self.precision,
                          level=level)

    def lr_fit(self, level: float = 0.95) -> dict:
        lrs = [v for v in self.lrs if v in self.by_lr]
        st = [self.stability.get(v, {}) for v in lrs]
        return fit_lr(lrs, [self.by_lr[v].mean_iterations("distance", level) for v in lrs],
                      alpha_i=self.alpha_i, alpha_K=[_reachable(s, "alpha_K") for s in st],
                      lambda_1=[_reachable(s, "lambda_1") for s in st],
                      precision=self.precision, level=level)

    def points(self, level: float = 0.95) -> dict:
        """Each point's mean, CI, Weibull shape of its escape times (1: memoryless, the
        rare-event exit the three laws describe; >> 1: concentrated), censored fraction,
        horizon, method and reason."""
        from nn_bridge.escape.cells import measurement_method

        def row(e, key) -> dict:
            m = e.mean_iterations("distance", level)
            how = measurement_method(e, None, self.precision)
            k = e.hazard_shape(level)
            return {"mean": m.value, "low": m.low, "high": m.high,
                    "weibull_k": {"value": k.value, "low": k.low, "high": k.high},
                    "censored": 1.0 - float(e.dist_exited.mean()),
                    "horizon": int(e.config.max_iter),
                    "method": "measured" if how == "brute" else how,
                    "why_not_measured": why_not_measured(m, self.precision),
                    "models": {k: {"mean": p[key].mean_iterations("distance", level).value,
                                   "censored": 1.0 - float(p[key].dist_exited.mean())}
                               for k, p in self.predicted.items() if key in p}}

        return {"radius": [{"radius": R, **row(self.by_radius[R], ("R", R))}
                           for R in self.radii if R in self.by_radius],
                "lr": [{"lr": v, **row(self.by_lr[v], ("lr", v))}
                       for v in self.lrs if v in self.by_lr]}

    def summary(self, level: float = 0.95) -> dict:
        """JSON-able: the cell, every point (:meth:`points`), both fits and verdicts."""
        from nn_bridge.escape.cells import plain

        return plain({"batch_size": self.batch_size, "lr": self.lr, "radius": self.radius,
                      "alpha_i_median": self.alpha_i, "precision": self.precision,
                      "points": self.points(level),
                      "stability": {str(v): {k: s.get(k) for k in (
                          "lambda_1", "alpha_K", "lambda_1_reachable", "alpha_K_reachable",
                          "regime")} for v, s in self.stability.items()},
                      "vs_radius": self.radius_fit(level), "vs_lr": self.lr_fit(level),
                      "distance_profile": self.profile_summary(level)})


def scan_values(radii, lrs) -> tuple[tuple, tuple]:
    """The scan's radii and learning rates as floats; one ValueError naming a value that is
    not positive (checked before any network is trained)."""
    return (tuple(float(positive("radius", r)) for r in radii),
            tuple(float(positive("lr", v)) for v in lrs))


def mechanism_scan(cfg, basin, *, batch_size: int, lr: float, radii=RADII, lrs=None, workdir: str | Path | None = None,
                   log: Callable[[str], None] = lambda s: None, cached_only: bool = False,
                   models=("multiplicative",)) -> MechanismScan:
    """The network's escapes at (B, lr) for each of ``radii`` and at (B, ``cfg.radius``) for
    each of ``lrs`` (default ``cfg.all_lrs``), each point through
    :func:`~nn_bridge.escape.radius_scan.scan_point` (the radius scan's keys: parts shared
    with it are read from ``workdir``; horizons grow until the mean is measured), and the
    study's stability at every lr (:func:`~nn_bridge.escape.study.stored_stability`).
    ``cached_only``: run nothing, leave out what is not stored."""
    from nn_bridge.escape.basin import part_store
    from nn_bridge.escape.radius_scan import check_scan, scan_point
    from nn_bridge.escape.study import stored_stability

    radii, lrs = scan_values(radii, cfg.all_lrs if lrs is None else lrs)
    check_scan(basin, batch_size, lr, radii, models)
    for v in lrs:
        check_scan(basin, batch_size, v, (cfg.radius,), models)
    store = part_store(workdir)
    by_radius, by_lr, pred, seen = {}, {}, {m: {} for m in models}, {}
    for what, points in (("R", [(lr, R) for R in radii]),
                         ("lr", [(v, cfg.radius) for v in lrs])):
        for v, R in points:
            if (v, R) not in seen:        # (lr, cfg.radius) is on both scans: run once
                seen[(v, R)] = scan_point(basin, cfg, batch_size, v, R, models, store,
                                          cached_only=cached_only)
            e, p = seen[(v, R)]
            where = f"B={batch_size} lr={v:g} R={R:g}"
            if e is None:
                log(f"{where}: not measured yet (left out)")
                continue
            (by_radius if what == "R" else by_lr)[R if what == "R" else v] = e
            for m, x in p.items():
                pred[m][(what, R if what == "R" else v)] = x
            log(f"{where}: measured {e.mean_iterations()} ({100 * (1 - e.dist_exited.mean()):.0f}"
                f"% censored at {e.config.max_iter})")
    stab = {v: stored_stability(basin, cfg, store, batch_size, v, cached_only, log)
            for v in sorted(set(lrs) | {float(lr)})}
    noise = basin.noise.get(batch_size, {})
    e = _cell_escape(by_radius, by_lr, cfg.radius, float(lr))
    profile = None if e is None else stored_profile(
        basin, cfg, store, batch_size, float(lr), int(e.config.max_iter), cached_only, log)
    return MechanismScan(batch_size, float(lr), cfg.radius, radii, lrs, by_radius, by_lr, stab,
                         noise.get("alpha_median"), pred, cfg.precision, profile)


def _cell_escape(by_radius: dict, by_lr: dict, radius: float, lr: float):
    """The network's escapes at the scan's own cell (B, lr, radius), from either scan."""
    e = by_radius.get(radius)
    return e if e is not None else by_lr.get(lr)


#: Replicas of the distance profile (its quantiles, not a mean, are reported).
PROFILE_SEEDS = 64


def stored_profile(basin, cfg, store, batch_size: int, lr: float, n_steps: int,
                   cached_only: bool, log: Callable[[str], None]) -> dict | None:
    """The distance profile of ``PROFILE_SEEDS`` replicas at (B, lr) up to ``n_steps`` (the
    horizon at which the cell's mean was measured), read from ``store`` or run and saved."""
    from nn_bridge.data.models import weights_checksum
    from nn_bridge.escape.experiment import MinibatchGradient, distance_profile
    from nn_bridge.training.checkpoint import config_key

    key = config_key({"weights": weights_checksum(basin.flat.model), "wd": cfg.weight_decay,
                      "B": batch_size, "lr": lr, "n_seeds": PROFILE_SEEDS, "n_steps": n_steps,
                      "seed": cfg.seed, "part": "distance_profile"})
    got = store.load("distance", key)
    if got is not None or cached_only:
        return got
    log(f"B={batch_size} lr={lr:g}: distance profile, {PROFILE_SEEDS} replicas x {n_steps} steps")
    orc = MinibatchGradient(basin.flat, basin.X, basin.y, batch_size, cfg.weight_decay)
    got = distance_profile(orc, basin.minimum.w, lr, PROFILE_SEEDS, n_steps, seed=cfg.seed)
    store.save("distance", key, **got)
    return got


def choose_mechanism_cells(study, n: int = 2) -> list[tuple[int, float]]:
    """The ``n`` slow cells (``kind == "slow"``) whose mean is measured (method "brute" or
    "splitting") with the smallest means -- so the larger radii stay affordable -- topped up
    with the slowest measured grid cells when fewer slow cells are measured.

    ``study``: a :class:`~nn_bridge.escape.study.Study` or its report (dict; a report from
    before ``measured.method``, schema /1-/2, counts a mean as measured by
    :func:`~nn_bridge.escape.horizon.is_measured`)."""
    if isinstance(study, dict):
        rows = [(c["batch_size"], c["lr"], c.get("kind", "grid"), _method(c["measured"]),
                 _num(c["measured"].get("mean"))) for c in study["cells"]]
    else:
        rows = [(c.batch_size, c.lr, c.kind, c.method, c.measured_mean().value)
                for c in study.cells]
    ok = [(int(B), float(lr), kind, float(m)) for B, lr, kind, how, m in rows
          if how in ("brute", "splitting") and math.isfinite(float(m))]
    slow = sorted((r for r in ok if r[2] == "slow"), key=lambda r: r[3])[:n]
    grid = sorted((r for r in ok if r[2] != "slow"), key=lambda r: -r[3])[:n - len(slow)]
    return [(B, lr) for B, lr, _, _ in slow + grid]


def _num(v) -> float:
    """A report's number (None or a string such as "inf" for non-finite values)."""
    return math.nan if v is None else float(v)


def _method(measured: dict) -> str | None:
    """A report cell's ``measured.method``; before schema /3, "brute" when its mean is
    measured by the rule of :mod:`nn_bridge.escape.horizon`."""
    if "method" in measured:
        return measured["method"]
    e = Estimate(*(_num(measured.get(k)) for k in ("mean", "low", "high")))
    return "brute" if is_measured(e) else None
