"""Escape time against the ball radius at one cell: which escape law the network follows.

:func:`radius_scan` runs the study's one cell runner (:func:`nn_bridge.escape.cells.run_cell`)
at radii ``R`` and fits the measured means to the two laws of :mod:`levydyn.kesten.escape`
(unstable: logarithmic in ``R``; stable: a power of ``R``).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from levydyn.results import Estimate
from nn_bridge.data.flat import positive
from nn_bridge.data.models import weights_checksum
from nn_bridge.escape.basin import Basin, part_store
from nn_bridge.escape.bridge import build_bridge
from nn_bridge.escape.cells import cell_stability, escape_ratio, run_cell
from nn_bridge.escape.config import StudyConfig
from nn_bridge.escape.experiment import NetworkEscape
from nn_bridge.escape.fit import wls
from nn_bridge.escape.ladder import MODEL_LABELS, MODELS
from nn_bridge.training.checkpoint import PartStore, config_key

__all__ = ["RADII", "GROWTH_P", "SCAN_CELL", "RadiusScan", "radius_scan", "check_scan",
           "scan_point"]

#: Radii of the scan (issue: R in {0.25, 0.5, 1, 2, 4}).
RADII = (0.25, 0.5, 1.0, 2.0, 4.0)
#: A growth law is accepted when its WLS fit has chi2 p-value >= this.
GROWTH_P = 0.01
#: The cell of the scan on every dataset: the middle of the default grid, fixed in advance.
SCAN_CELL = (8, 0.5)


@dataclass
class RadiusScan:
    """Mean escape iterations against the ball radius ``R`` at one cell (B, lr).

    ``measured[R]``, ``predicted[model][R]``: escapes; ``stability``: ``lambda_1`` (and
    ``alpha_K``) of the multiplicative model at the cell; ``growth``: fits of the measured
    means to the two escape laws of :mod:`levydyn.kesten.escape` --

    - unstable: ``E tau_R = a + log(R) / lambda_1`` (linear in ``log R``),
    - stable: ``E tau_R = C R^alpha`` (linear in ``log R`` after a log),

    by weighted least squares with each mean's standard error (from its CI), each with its
    chi2 per degree of freedom and p-value; the measured growth is called *logarithmic* or
    *polynomial* by the smaller chi2 if that fit is acceptable (p >= ``GROWTH_P``), else
    *neither*; ``agrees`` says whether the verdict matches the sign of ``lambda_1``
    (logarithmic <-> unstable, polynomial <-> stable; None when marginal or neither).
    """

    batch_size: int
    lr: float
    radii: tuple
    measured: dict
    predicted: dict
    stability: dict

    def ratio(self, model: str, R: float, level: float = 0.95) -> Estimate:
        return escape_ratio(self.predicted[model][R].mean_iterations("distance", level),
                      self.measured[R].mean_iterations("distance", level), level)

    def largest_radius_within(self, model: str, factor: float = 2.0) -> float | None:
        """The largest ``R`` of the scan up to which every ratio lies in [1/factor, factor]."""
        best = None
        for R in self.radii:
            r = self.ratio(model, R).value
            if not (math.isfinite(r) and 1.0 / factor <= r <= factor):
                break
            best = R
        return best

    def growth(self, level: float = 0.95) -> dict:
        from scipy import stats

        z = float(stats.norm.ppf(0.5 + level / 2))
        est = [self.measured[R].mean_iterations("distance", level) for R in self.radii]
        m = np.array([e.value for e in est])
        se = np.array([(e.high - e.low) / (2 * z) for e in est])
        x = np.log(np.array(self.radii))
        ok = np.isfinite(m) & np.isfinite(se) & (se > 0)
        out = {"n_radii": int(ok.sum())}
        if ok.sum() < 3:
            out["verdict"] = None
            return out
        fits = {}
        for name, yv, sv in (("logarithmic", m[ok], se[ok]),
                             ("polynomial", np.log(m[ok]), se[ok] / m[ok])):
            A = np.column_stack([np.ones(ok.sum()), x[ok]])
            beta, se_beta, chi2, _ = wls(A, yv, sv, scale=False)
            fits[name] = {"intercept": float(beta[0]), "slope": float(beta[1]),
                          "slope_se": float(se_beta[1]), "chi2_dof": chi2 / (ok.sum() - 2)}
        out.update(fits)
        out["logarithmic"]["meaning"] = "E tau = a + slope log R; unstable law: slope = 1/lambda_1"
        out["polynomial"]["meaning"] = "log E tau = c + slope log R; stable law: slope = alpha_K"
        dof = int(ok.sum()) - 2
        for f in fits.values():
            f["p_value"] = float(stats.chi2.sf(f["chi2_dof"] * dof, dof))
        verdict = min(fits, key=lambda k: fits[k]["chi2_dof"])
        if fits[verdict]["p_value"] < GROWTH_P:     # neither law describes the measurement
            verdict = "neither"
        out["verdict"] = verdict
        reg = self.stability.get("regime")
        want = {"unstable": "logarithmic", "stable": "polynomial"}.get(reg)
        out["regime"] = reg
        out["agrees"] = None if want is None or verdict == "neither" else (verdict == want)
        lam = self.stability.get("lambda_1")
        if reg == "unstable" and lam is not None:
            out["predicted_log_slope"] = 1.0 / lam.value
        return out

    def summary(self, level: float = 0.95) -> dict:
        def head(e: NetworkEscape) -> dict:
            m = e.mean_iterations("distance", level)
            return {"mean": m.value, "low": m.low, "high": m.high,
                    "censored": 1.0 - float(e.dist_exited.mean())}

        rows = []
        for R in self.radii:
            rows.append({"radius": R, "measured": head(self.measured[R]),
                         "models": {k: {**head(v[R]), "ratio": self.ratio(k, R, level)}
                                    for k, v in self.predicted.items()}})
        return {"batch_size": self.batch_size, "lr": self.lr, "rows": rows,
                "lambda_1": self.stability.get("lambda_1"),
                "alpha_K": self.stability.get("alpha_K"),
                "regime": self.stability.get("regime"), "growth": self.growth(level),
                "largest_radius_within_2x": {k: self.largest_radius_within(k)
                                             for k in self.predicted}}


def radius_scan(cfg: StudyConfig, basin: Basin, *, batch_size: int = SCAN_CELL[0],
                lr: float = SCAN_CELL[1], radii=RADII,
                models=("multiplicative", "nonlinear_multiplicative"),
                workdir: str | Path | None = None,
                log: Callable[[str], None] = lambda s: None,
                cached_only: bool = False) -> RadiusScan:
    """Escape time against the radius at one cell (:class:`RadiusScan`); the loss criterion
    is off (the distance exit does not depend on it: same streams). Cached in ``workdir``."""
    radii = check_scan(basin, batch_size, lr, radii, models)
    store = part_store(workdir)
    meas, preds = {}, {m: {} for m in models}
    for R in radii:
        words = []
        e, p = scan_point(
            basin, cfg, batch_size, lr, R, models, store, cached_only=cached_only,
            on_prediction=lambda m, p: words.append(
                f"; {MODEL_LABELS[m]} not run yet" if p is None
                else f"; {MODEL_LABELS[m]} {p.mean_iterations()}"))
        if e is None:
            log(f"R={R:g}: not measured yet (left out)")
            continue
        meas[R] = e
        for m, v in p.items():
            preds[m][R] = v
        log(f"R={R:g}: measured {e.mean_iterations()} "
            f"({100 * (1 - e.dist_exited.mean()):.0f}% censored)" + "".join(words))
    stab = cell_stability(basin.minibatch.law(batch_size), lr, cfg, basin.minibatch.reachable()) \
        if basin.minibatch is not None else {}
    done = tuple(R for R in radii if R in meas)
    preds = {m: v for m, v in preds.items() if all(R in v for R in done)}
    return RadiusScan(batch_size, lr, done, meas, preds, stab)


def check_scan(basin: Basin, batch_size: int, lr: float, radii, models) -> tuple:
    """The scan's radii as floats; one ValueError for a cell the minibatch model does not
    cover, a radius that is not positive or an unknown model."""
    if basin.minibatch is not None:
        basin.minibatch.check_batch_size(batch_size)
        basin.minibatch.check_lr(lr)
    radii = tuple(float(positive("radius", r)) for r in radii)
    bad = [m for m in models if m not in MODELS]
    if bad:
        raise ValueError(f"models: {bad[0]!r} is not one of {', '.join(MODELS)}")
    return radii


def scan_point(basin: Basin, cfg: StudyConfig, batch_size: int, lr: float, R: float, models,
               store: PartStore, *, cached_only: bool = False,
               on_prediction: Callable[[str, NetworkEscape | None], None] = lambda m, p: None,
               ) -> tuple[NetworkEscape | None, dict[str, NetworkEscape]]:
    """One radius ``R`` of the scan at (B, lr): :func:`run_cell` with the loss criterion off,
    each part read from ``store`` or run and saved there. The serial scan and the Dask tasks
    (:mod:`nn_bridge.escape.distributed`) both call this."""
    c = cfg.to_dict()
    base = {"weights": weights_checksum(basin.flat.model), "wd": cfg.weight_decay,
            **{k: c[k] for k in ("n_seeds", "max_iter", "seed")}, "loss_rise": None}
    ecfg = replace(cfg.escape_config(lr, batch_size), radius=R, loss_rise=None)
    cell = {**base, "B": batch_size, "lr": lr, "radius": R}
    bridge = functools.cache(
        lambda: build_bridge(basin.profiles[batch_size], basin.curvature, lr, R))
    def at(h: int) -> dict:                 # the key's horizon (the base one as before)
        return cell if h == cfg.max_iter else {**cell, "max_iter": int(h)}

    return run_cell(
        basin, cfg, ecfg, store, measured_key=lambda h: config_key({**at(h), "part": "measured"}),
        prediction_key=lambda m, npaths, h: config_key({**at(h), "model": m, "n_paths": npaths,
                                                        "remainder": False}),
        models=models, bridge=lambda m: bridge() if m in ("levy", "gauss") else None,
        cached_only=cached_only, cap=cfg.long_max_iter, on_prediction=on_prediction)
