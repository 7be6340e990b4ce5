"""Prediction vs measurement: a network's escapes against the simulator fed with its alpha_i.

One door, :func:`run_study` (the basin in ``basin``, the models in ``ladder``, one cell
in ``cells``, the radius scan in ``radius_scan``)::

    dataset -> train (plain SGD) -> find_minimum (L-BFGS on CE + L2) -> w*
      -> curvature at w* (Hessian-vector products)       -> per-sample gradients at w*
      -> noise profiles per batch size (alpha_i, sigma_i, noise std)
      -> for every (batch size B, learning rate lr):
           measured : run_escape on the real network (n_seeds replicas)
           bridge   : build_bridge(profile_B, curvature, lr, radius) -> levydyn Problem
           models   : (a) "levy"  levydyn simulation of the per-parameter SaS Problem
                      (b) closed forms: single-jump Levy rate (theory.box), 1-D Kramers
                      (c) "gauss" levydyn simulation of the alpha = 2 twin (same variances)
                      (d) "lin_gauss"  linearised SGD, Gaussian noise with the full covariance
                      (e) "lin_minibatch" linearised SGD with the true minibatch noise at w*
                      (f) "multiplicative" levydyn.kesten: x' = (I - lr H_B) x - lr u_B with
                          per-sample Gauss-Newton curvature (minibatch-model profile; the
                          shared remainder R is left out, see MinibatchModel.law)
                      (f') "multiplicative_exact" the same recursion with exact per-sample
                          Hessian-vector products (torch): the cost of the factorisation
                      (g) "nonlinear_frozen" true full-batch gradient + noise frozen at w*
                      (h) "nonlinear_multiplicative" (g) + (H_B - H)(w - w*)
           stability: lambda_1 (top Lyapunov exponent of prod (I - lr H_B)), the regime and,
                      where stable, the Kesten tail index alpha_K (levydyn.kesten)
           ratios   : predicted / measured mean escape iterations
      -> fits of mean escape time vs lr (Levy and Gaussian forms, ``nn_bridge.escape.fit``)

(a)-(c) are the product's path (profile -> levydyn); (d) and (e) are torch diagnostics that
keep the true noise and change one assumption at a time, so a failed prediction can be
traced to the noise law, to the dropped correlations, or to the linearisation. The ladder
measured -> (h) -> (g) -> (f) -> (e) puts one factor between neighbours: (h) keeps the
network's landscape and the noise to first order in ``w - w*`` (what it misses is the noise's
higher-order change), (g) drops the noise's change (multiplicative noise), (f) the landscape's
nonlinearity (quadratic model with random curvature), (e) the curvature's randomness. Rung
(i) (asked for with ``models``) sits beside (h), one assumption from the network the other
way: the noise's change kept to every order, its law made Gaussian of the local covariance.

Time: predictions are simulated with ``dt = lr`` and reported in iterations (``t / lr``),
the unit of the measurement. With a ``workdir`` every finished piece (training, minimum,
noise statistics, each measured cell, each prediction) is stored under a key of its inputs,
so a rerun after a kill resumes.
"""
from __future__ import annotations

import functools
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from nn_bridge.data.models import weights_checksum
from nn_bridge.curvature.stability import describe_stability
from nn_bridge.escape.basin import Basin, part_store, prepare_basin
from nn_bridge.escape.bridge import build_bridge
from nn_bridge.escape.cells import (Cell, ratio_text, cell_splitting, cell_stability, escape_ratio,
                                    model_splitting, plain, run_cell, stability_from_json)
from nn_bridge.escape.config import StudyConfig
from nn_bridge.escape.experiment import NetworkEscape
from nn_bridge.escape.fit import fit_escape_table
from nn_bridge.escape.horizon import is_measured
from nn_bridge.escape.slow_cells import SlowSelection, choose_slow_cells
from nn_bridge.escape.verdict import targets as verdict_targets
from nn_bridge.escape.ladder import MODEL_LABELS, SECOND_ORDER
from nn_bridge.training.checkpoint import PartStore, config_key, json_safe

__all__ = ["SCHEMA", "SCHEMAS_READ", "Study", "run_study", "study_plan", "compute_cell",
           "part_keys", "fits_from_report", "load_report", "stored_stability"]

SCHEMA = "levydyn.nn_study/4"     # /3: measured.method, lambda_1_reachable, alpha_K_reachable
#                                   /4: horizons to precision, slow cells, kind, method "imprecise"
#: Report schemas :func:`fits_from_report` reads.
SCHEMAS_READ = ("levydyn.nn_study/1", "levydyn.nn_study/2", "levydyn.nn_study/3", SCHEMA)


@dataclass
class Study:
    """Result of :func:`run_study`."""

    config: StudyConfig
    basin: Basin
    cells: list[Cell]
    wall_time: float = 0.0
    scan: "RadiusScan | None" = None
    slow_selection: SlowSelection | None = None

    def cell(self, batch_size: int, lr: float) -> Cell:
        for c in self.cells:
            if c.batch_size == batch_size and c.lr == lr:
                return c
        raise ValueError(f"batch_size={batch_size}, lr={lr}: not in the study")

    def fits(self, criterion: str = "distance", level: float = 0.95) -> dict:
        """Levy and Gaussian fits of the measured mean escape iterations vs lr (per batch
        size) and vs batch size (per lr); see :func:`nn_bridge.escape.fit.fit_escape_table`."""
        rows = []
        for c in self.cells:
            e = (c.measured_mean(level) if criterion == "distance"
                 else c.measured.mean_iterations(criterion, level))
            rows.append((c.batch_size, c.lr, e.value, e.low, e.high))
        alpha = {B: n["alpha_median"] for B, n in self.basin.noise.items()}
        return fit_escape_table(rows, alpha, level)

    def report(self, level: float = 0.95) -> dict:
        """JSON-able: configuration, basin, every cell's summaries, fits."""
        fits = self.fits(level=level)
        conv = {"vs_lr": {str(B): {k: (v.to_dict() if hasattr(v, "to_dict") else v)
                                   for k, v in f.items()} for B, f in fits["vs_lr"].items()},
                "vs_batch": {str(lr): {k: (v.to_dict() if hasattr(v, "to_dict") else v)
                                       for k, v in f.items()} for lr, f in fits["vs_batch"].items()}}
        return json_safe(plain({"schema": SCHEMA, "config": self.config.to_dict(),
                                 "time_unit": "SGD iterations (SDE time = iterations * lr)",
                                 "basin": self.basin.summary(),
                                 "cells": [c.summary(level) for c in self.cells],
                                 "fits": conv, "wall_time_s": self.wall_time,
                                 "radius_scan": None if self.scan is None
                                 else self.scan.summary(level),
                                 "slow_selection": None if self.slow_selection is None
                                 else self.slow_selection.summary(),
                                 "targets": self.targets(level)}))

    def targets(self, level: float = 0.95) -> dict:
        """The study's checks (:func:`nn_bridge.escape.verdict.targets` on the cells'
        summaries): per cell whose mean is measured (brute force < 50 % censored, or a
        finished splitting estimate: ``measured.method``), is rung (f) within a factor 2 of
        it (undecided where a side is only a bound); where not, the first rung of the ladder
        (from the network down) that misses by more than 2x. ``by_regime`` splits the count
        by the sign of the cell's top Lyapunov exponent lambda_1 on the reachable subspace
        (cells without a stability estimate are left out of the split)."""
        return verdict_targets([plain(c.summary(level)) for c in self.cells])


def part_keys(cfg: StudyConfig, basin: Basin) -> tuple[dict, dict]:
    """What the measured cells (``base``) and the predictions (``pbase``) depend on: the keys
    of their parts in the workdir."""
    c = cfg.to_dict()
    base = {"weights": weights_checksum(basin.flat.model), "wd": cfg.weight_decay,
            **{k: c[k] for k in ("radius", "loss_rise", "loss_every", "n_seeds", "max_iter",
                                 "seed")}}
    pbase = {**base, **{k: c[k] for k in ("n_paths", "k", "n_minibatches", "estimator")}}
    return base, pbase


def _predict_key(pbase: dict, B: int, lr: float, model: str, cfg: StudyConfig) -> str:
    torch_rung = model in SECOND_ORDER
    return config_key({**pbase, "B": B, "lr": lr, "model": model,
                       **({"n_paths": cfg.torch_paths} if torch_rung else {}),
                       **({"remainder": False} if model == "multiplicative" else {})})


def _stability_key(pbase: dict, B: int, lr: float, cfg: StudyConfig) -> str:
    c = cfg.to_dict()
    return config_key({**pbase, "B": B, "lr": lr, "part": "stability", "remainder": False,
                       **{k: c[k] for k in ("lyap_paths", "lyap_steps", "tail_particles",
                                            "tail_replicas", "tail_steps")}})


def run_study(cfg: StudyConfig, *, workdir: str | Path | None = None,
              log: Callable[[str], None] = lambda s: None,
              basin: Basin | None = None, cached_only: bool = False) -> Study:
    """The whole loop of the module docstring; ``log`` receives one line per step.

    ``cached_only``: report only what ``workdir`` already holds (cells without a measurement
    and predictions not yet run are left out and logged) -- for reading a long study while
    another process is still filling it."""
    t0 = time.perf_counter()
    basin = basin or prepare_basin(cfg, workdir=workdir, log=log)
    store = part_store(workdir)
    selection, plan = study_plan(basin, cfg, store, log, cached_only)
    cells = []
    for B, lr, kind in plan:
        cell = compute_cell(basin, cfg, B, lr, store, log, cached_only, kind)
        if cell is not None:
            cells.append(cell)
    return Study(config=cfg, basin=basin, cells=cells, wall_time=time.perf_counter() - t0,
                 slow_selection=selection)


def study_plan(basin: Basin, cfg: StudyConfig, store: PartStore,
               log: Callable[[str], None] = lambda s: None, cached_only: bool = False
               ) -> tuple[SlowSelection, list[tuple[int, float, str]]]:
    """The slow-cell choice (:func:`choose_slow_cells`) and the study's cells in order:
    ``(B, lr, "grid")`` over the grid, then ``(B, lr, "slow")``."""
    selection = choose_slow_cells(basin, cfg, store, log, cached_only)
    plan = [(B, lr, "grid") for B in cfg.batch_sizes for lr in cfg.lrs]
    plan += [(B, lr, "slow") for B, lr in selection.cells]
    return selection, plan


def compute_cell(basin: Basin, cfg: StudyConfig, B: int, lr: float, store: PartStore,
                 log: Callable[[str], None] = lambda s: None,
                 cached_only: bool = False, kind: str = "grid") -> Cell | None:
    """One cell (B, lr) of :func:`run_study`: the measurement and the predictions (each run
    to its precision, :mod:`nn_bridge.escape.horizon`), the stability and (``cfg.splitting``,
    where brute force leaves a mean unmeasured) the splitting estimates, each read from
    ``store`` or run and saved there; None when ``cached_only`` and the measurement is not
    stored. The serial loop and the Dask tasks (:mod:`nn_bridge.escape.distributed`) both
    call this."""
    base, pbase = part_keys(cfg, basin)
    if basin.minibatch is not None:
        basin.minibatch.check_batch_size(B)
        basin.minibatch.check_lr(lr)
    bridge = functools.cache(
        lambda: build_bridge(basin.profiles[B], basin.curvature, lr, cfg.radius))
    progress = _CellLog(log, kind)
    meas, preds = run_cell(
        basin, cfg, cfg.escape_config(lr, B), store,
        measured_key=lambda h: config_key(
            {**_at_horizon(base, h, cfg), "B": B, "lr": lr, "part": "measured"}),
        prediction_key=lambda model, npaths, h: _predict_key(
            _at_horizon(pbase, h, cfg), B, lr, model, cfg),
        models=cfg.models, bridge=lambda model: bridge(),
        cached_only=cached_only, cap=cfg.long_max_iter,
        on_prediction=progress.prediction, on_measured=progress.measured)
    if meas is None:
        log(f"B={B} lr={lr:g}: not measured yet (left out)")
        return None
    stab = _cell_stability(basin, store, _stability_key(pbase, B, lr, cfg), B, lr, cfg,
                           cached_only, log)
    cl = bridge().closed_form_levy()
    try:
        cg = bridge().closed_form_gaussian(basin.curvature) if bridge().gaussian else {}
    except (ValueError, np.linalg.LinAlgError) as exc:
        cg = {"error": str(exc)}
    ecfg = meas.config
    split = None
    if cfg.splitting and not is_measured(meas.mean_iterations(), cfg.precision):
        split = cell_splitting(basin, cfg, ecfg, store,
                               config_key({**base, "B": B, "lr": lr, "part": "splitting",
                                           "replicas": cfg.split_replicas,
                                           "runs": cfg.split_runs}), cached_only)
        if split is not None and "error" in split:
            log(f"    splitting: not run ({split['error']})")
        elif split is not None:
            log(f"    splitting: mean escape {split['mean_iterations']} iterations "
                f"(p {split['p']}, {split['work']} SGD steps"
                + (f"; censored: {split['reason']}" if split["censored"] else "") + ")")
    msplit = {}
    if (cfg.splitting and "multiplicative" in preds and basin.minibatch is not None
            and not is_measured(preds["multiplicative"].mean_iterations(), cfg.precision)):
        msplit["multiplicative"] = model_splitting(
            basin, cfg, ecfg, store,
            config_key({**pbase, "B": B, "lr": lr, "part": "splitting",
                        "model": "multiplicative", "replicas": cfg.split_replicas,
                        "runs": cfg.split_runs}), cached_only)
        if msplit["multiplicative"] is None:
            del msplit["multiplicative"]
    return Cell(B, lr, meas, preds, cl, cg, bridge().reduction, stab, split, msplit,
                kind=kind, precision=cfg.precision)


def _at_horizon(base: dict, h: int, cfg: StudyConfig) -> dict:
    """A part key's inputs at horizon ``h``: the study's own at ``cfg.max_iter`` (so parts
    stored before horizons grew are found), else ``max_iter = h`` without the loss criterion
    (:func:`nn_bridge.escape.cells.run_cell`)."""
    return base if h == cfg.max_iter else {**base, "max_iter": int(h), "loss_rise": None}


class _CellLog:
    """The study's progress lines for one cell: the measurement, then one line per model."""

    def __init__(self, log: Callable[[str], None], kind: str = "grid"):
        self.log, self.mean, self.kind = log, None, kind

    def measured(self, e: NetworkEscape) -> None:
        self.mean = e.mean_iterations()
        self.log(f"B={e.config.batch_size} lr={e.config.lr:g}"
                 f"{' (slow cell)' if self.kind == 'slow' else ''}: measured mean escape "
                 f"{self.mean} iterations ({100 * (1 - e.dist_exited.mean()):.0f}% censored "
                 f"at {e.config.max_iter}, {e.wall_time:.1f}s)")

    def prediction(self, model: str, e: NetworkEscape | None) -> None:
        if e is None:
            self.log(f"    {MODEL_LABELS[model]:>24}: not run yet (left out)")
            return
        pm = e.mean_iterations()
        self.log(f"    {MODEL_LABELS[model]:>24}: {pm}  ratio "
                 f"{ratio_text(escape_ratio(pm, self.mean, pm.level))}")


def _cell_stability(basin: Basin, store, key: str, B: int, lr: float, cfg: StudyConfig,
                    cached_only: bool, log: Callable[[str], None]) -> dict:
    """lambda_1 (and alpha_K) of the multiplicative model at (B, lr), stored under ``key``."""
    if basin.minibatch is None:
        return {}
    part = store.load("stability", key)
    if part is None and cached_only:
        log("    stability: not run yet (left out)")
        return {}
    stab = None if part is None else stability_from_json(json.loads(str(part["meta"])))
    if stab is None or ("lambda_1_reachable" not in stab and not cached_only):
        stab = cell_stability(basin.minibatch.law(B), lr, cfg, basin.minibatch.reachable())    # none stored, or from before reachable
        store.save("stability", key, meta=np.array(json.dumps(json_safe(plain(stab)))))
    log("    " + describe_stability(stab))
    return stab


def stored_stability(basin: Basin, cfg: StudyConfig, store: PartStore, B: int, lr: float,
                     cached_only: bool = False,
                     log: Callable[[str], None] = lambda s: None) -> dict:
    """The stability of cell (B, lr) (lambda_1, alpha_K, their reachable-subspace values) as
    the study keeps it: read from ``store`` under the study's key or computed and saved
    there ({} when ``cached_only`` and not stored, or without a minibatch model)."""
    _, pbase = part_keys(cfg, basin)
    return _cell_stability(basin, store, _stability_key(pbase, B, lr, cfg), B, lr, cfg,
                           cached_only, log)


def load_report(path: str | Path) -> dict:
    """A study's JSON report (``levydyn nn study/escape --json``), checked: one ValueError
    naming the file for a missing file, another format or an unknown schema."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"report={str(path)!r}: file not found")
    try:
        rep = json.loads(p.read_text())
        rep["cells"], rep["basin"]["noise"], rep["config"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"report={str(path)!r}: not a `levydyn nn study/escape --json` "
                         f"report ({exc})") from None
    if rep.get("schema") not in SCHEMAS_READ:
        raise ValueError(f"report={str(path)!r}: schema {rep.get('schema')!r}, expected "
                         f"{SCHEMA!r} (or /1)")
    return rep


def fits_from_report(path: str | Path, criterion: str = "distance", level: float = 0.95) -> dict:
    """:meth:`Study.fits` from a study's JSON report (``levydyn nn study/escape --json``)."""
    rep = load_report(path)
    cells, noise = rep["cells"], rep["basin"]["noise"]

    def mean(c):
        m = c["measured"].get(criterion)
        if m is None:
            raise ValueError(f"criterion={criterion!r}: not in the report (loss criterion off?)")
        e = m["mean_iterations"]
        if criterion == "distance" and c["measured"].get("method") == "splitting":
            e = {"value": c["measured"]["mean"], "low": c["measured"]["low"],
                 "high": c["measured"]["high"]}
        return tuple(math.inf if v is None else float(v) for v in (e["value"], e["low"], e["high"]))

    rows = [(c["batch_size"], c["lr"], *mean(c)) for c in cells]
    alpha = {int(B): n.get("alpha_median") for B, n in noise.items()}
    return fit_escape_table(rows, alpha, level)
