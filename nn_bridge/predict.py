"""Prediction vs measurement: a network's escapes against the simulator fed with its alpha_i.

One door, :func:`run_study`::

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
           ratios   : predicted / measured mean escape iterations
      -> fits of mean escape time vs lr (Levy and Gaussian forms, ``nn_bridge.fit``)

(a)-(c) are the product's path (profile -> levydyn); (d) and (e) are torch diagnostics that
keep the true noise and change one assumption at a time, so a failed prediction can be
traced to the noise law, to the dropped correlations, or to the linearisation.

Time: predictions are simulated with ``dt = lr`` and reported in iterations (``t / lr``),
the unit of the measurement. With a ``workdir`` every finished piece (training, minimum,
noise statistics, each measured cell, each prediction) is stored under a key of its inputs,
so a rerun after a kill resumes.
"""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from levydyn.results import Estimate
from levydyn.simulate import simulate
from nn_bridge.bridge import Bridge, build_bridge
from nn_bridge.checkpoint import PartStore, config_key, json_safe
from nn_bridge.curvature import Curvature, hessian_curvature
from nn_bridge.data import load_dataset
from nn_bridge.escape import (EscapeConfig, Minimum, MinibatchGradient, NetworkEscape,
                              find_minimum, run_escape)
from nn_bridge.fit import fit_escape_table, log_se
from nn_bridge.flat import FlatModel, positive, positive_int
from nn_bridge.linearized import LinearizedGradient
from nn_bridge.measure import MeasureConfig, measure_noise
from nn_bridge.models import ModelSpec, build_model, weights_checksum
from nn_bridge.noise import per_sample_gradients
from nn_bridge.profile import NoiseProfile
from nn_bridge.train import TrainConfig, train, train_key

__all__ = ["MODELS", "MODEL_LABELS", "StudyConfig", "Basin", "Cell", "Study", "prepare_basin",
           "predict_escape", "run_study", "escape_from_levydyn"]

MODELS = ("levy", "gauss", "lin_gauss", "lin_minibatch")
MODEL_LABELS = {"levy": "(a) Levy sim", "gauss": "(c) Gauss sim",
                "lin_gauss": "(d) lin Gauss full-cov", "lin_minibatch": "(e) lin true noise"}


@dataclass(frozen=True)
class StudyConfig:
    """Everything a study depends on (module docstring). ``quick()``: a seconds-long version."""

    dataset: str = "breast_cancer"
    width: int = 16
    depth: int = 3
    seed: int = 0
    test_fraction: float = 0.2
    train_lr: float = 0.05
    train_batch_size: int = 128
    max_epochs: int = 3000
    grad_tol: float = 1e-3
    weight_decay: float = 1e-2
    batch_sizes: tuple = (4, 8, 16)
    lrs: tuple = (0.2, 0.3, 0.5, 0.8)
    radius: float = 1.0
    loss_rise: float | None = 0.1
    loss_every: int = 10
    n_seeds: int = 200
    max_iter: int = 2000
    n_minibatches: int = 1000
    estimator: str = "cf_regression"
    k: int = 20
    n_paths: int = 200
    models: tuple = MODELS

    def __post_init__(self):
        object.__setattr__(self, "batch_sizes", tuple(int(b) for b in self.batch_sizes))
        object.__setattr__(self, "lrs", tuple(float(v) for v in self.lrs))
        object.__setattr__(self, "models", tuple(self.models))
        if not self.batch_sizes or not self.lrs:
            raise ValueError("batch_sizes and lrs: give at least one value each")
        for b in self.batch_sizes:
            positive_int("batch_size", b)
        for v in self.lrs:
            positive("lr", v)
        if len(set(self.lrs)) != len(self.lrs) or len(set(self.batch_sizes)) != len(self.batch_sizes):
            raise ValueError(f"lrs={list(self.lrs)} / batch_sizes={list(self.batch_sizes)}: "
                             "contain duplicates")
        bad = [m for m in self.models if m not in MODELS]
        if bad:
            raise ValueError(f"models: {bad[0]!r} is not one of {', '.join(MODELS)}")
        positive("radius", self.radius)
        positive("weight_decay", self.weight_decay, allow_zero=True)
        for f in ("n_seeds", "max_iter", "n_paths", "k", "n_minibatches", "loss_every"):
            positive_int(f, getattr(self, f))
        if self.loss_rise is not None:
            positive("loss_rise", self.loss_rise)

    @classmethod
    def quick(cls, **overrides) -> "StudyConfig":
        """A small study for tests and smoke runs (width 8, 2 x 2 grid, 16 seeds)."""
        base = dict(width=8, max_epochs=60, grad_tol=0.0, batch_sizes=(8, 32), lrs=(0.4, 0.8),
                    n_seeds=16, max_iter=300, n_minibatches=200, k=5, n_paths=32,
                    loss_every=10)
        base.update(overrides)
        return cls(**base)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("batch_sizes", "lrs", "models"):
            d[k] = list(d[k])
        return d

    def train_config(self) -> TrainConfig:
        return TrainConfig(lr=self.train_lr, batch_size=self.train_batch_size,
                           max_epochs=self.max_epochs, grad_tol=self.grad_tol, seed=self.seed)

    def escape_config(self, lr: float, batch_size: int, n_seeds: int | None = None) -> EscapeConfig:
        return EscapeConfig(lr=lr, batch_size=batch_size, n_seeds=n_seeds or self.n_seeds,
                            radius=self.radius, loss_rise=self.loss_rise,
                            loss_every=self.loss_every, max_iter=self.max_iter, seed=self.seed)


@dataclass
class Basin:
    """The network at ``w*``: minimum, curvature, per-sample gradients and noise profiles."""

    spec: ModelSpec
    data: dict
    training: dict
    minimum: Minimum
    curvature: Curvature
    flat: FlatModel
    X: torch.Tensor
    y: torch.Tensor
    per_sample_centered: torch.Tensor
    profiles: dict[int, NoiseProfile] = field(default_factory=dict)
    noise: dict[int, dict] = field(default_factory=dict)

    @property
    def layer_names(self) -> list[str]:
        return self.flat.layer_names()

    def summary(self) -> dict:
        return {"model": self.spec.to_dict(), "data": self.data, "training": self.training,
                "minimum": self.minimum.summary(), "curvature": self.curvature.summary(),
                "noise": self.noise}


def _store(workdir) -> PartStore:
    return PartStore(None if workdir is None else Path(workdir) / "parts")


def prepare_basin(cfg: StudyConfig, *, workdir: str | Path | None = None,
                  log: Callable[[str], None] = lambda s: None) -> Basin:
    """Train, find ``w*``, measure curvature and the noise profiles (cached in ``workdir``)."""
    data = load_dataset(cfg.dataset, test_fraction=cfg.test_fraction, seed=cfg.seed)
    spec = ModelSpec(kind="mlp", in_features=data.n_features, n_classes=data.n_classes,
                     width=cfg.width, depth=cfg.depth, seed=cfg.seed)
    tcfg = cfg.train_config()
    ckpt = None if workdir is None else Path(workdir) / f"train-{train_key(data, spec, tcfg)}.pt"
    t0 = time.perf_counter()
    res = train(data, spec, tcfg, device="cpu", checkpoint=ckpt)
    training = {"config": tcfg.to_dict(), **res.summary()}
    log(f"trained: {res.epochs} epochs, loss {res.final.get('loss', float('nan')):.3g}, "
        f"{res.reason} ({time.perf_counter() - t0:.1f}s)")
    store = _store(workdir)
    mkey = config_key({"weights": res.weights_sha256, "wd": cfg.weight_decay})
    part = store.load("minimum", mkey)
    if part is None:
        mn = find_minimum(res.model, data, cfg.weight_decay)
        store.save("minimum", mkey, w=mn.w, meta=np.array(json.dumps(json_safe(
            {k: v for k, v in mn.summary().items() if k not in ("w_norm", "n_params")}))))
    else:
        meta = json.loads(str(part["meta"]))
        mn = Minimum(w=part["w"], **meta)
    log(f"minimum: U {mn.objective:.4g} (CE {mn.loss:.4g} + L2 {cfg.weight_decay:g}), "
        f"||grad U|| {mn.grad_norm:.2e}, train acc {mn.train_acc:.3f}, ||w*|| "
        f"{np.linalg.norm(mn.w):.3g}")
    net = build_model(spec).double()
    flat = FlatModel(net)
    flat.load(mn.w)
    X = torch.as_tensor(data.X_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    curv = hessian_curvature(flat, X, y, mn.w, weight_decay=cfg.weight_decay,
                             k=min(cfg.k, flat.n_params), seed=cfg.seed)
    cs = curv.summary()
    log(f"curvature ({cs['method']}): top eigenvalues {curv.eigvals[:3].round(4).tolist()}, "
        f"top-{curv.k} share of trace {cs['top_k_trace_share']:.2f}, reduction error "
        f"{cs['frob_rel_error']:.3f} (Frobenius)")
    G = per_sample_gradients(net, X, y).to(torch.float64)
    G = G - G.mean(0)
    ps_std = G.pow(2).mean(0).sqrt().numpy()
    # noise statistics at w* (float32 copy, as nn_bridge.measure does) with resume
    net32 = copy.deepcopy(net).float()
    mcfg = MeasureConfig(batch_sizes=cfg.batch_sizes, n_minibatches=cfg.n_minibatches,
                         estimator=cfg.estimator, n_fit=0, seed=cfg.seed)
    stats = measure_noise(net32, data, mcfg, device="cpu", workdir=workdir)
    wsum = weights_checksum(net32)
    basin = Basin(spec=spec, data=data.describe(), training=training, minimum=mn,
                  curvature=curv, flat=flat, X=X, y=y, per_sample_centered=G)
    for B, st in stats.items():
        std = ps_std / math.sqrt(B)
        basin.profiles[B] = NoiseProfile(
            alpha=st.alpha, sigma=st.sigma, layer_names=flat.layout.names,
            layer_shapes=flat.layout.shapes, lr=cfg.train_lr, batch_size=B,
            dataset=data.name, model=spec.to_dict(), weights_sha256=wsum,
            n_minibatches=st.n_minibatches, sampling=st.sampling, estimator=st.estimator,
            seed=cfg.seed, dataset_checksum=data.checksum,
            extra={"noise_std": std.tolist(), "weight_decay": cfg.weight_decay,
                   "at": "w* (find_minimum)"})
        # the largest single SGD noise step in the measured sample, per coordinate and norm
        idx = np.random.default_rng([cfg.seed, B]).integers(0, G.shape[0], (cfg.n_minibatches, B))
        U = G[torch.as_tensor(idx)].mean(1)
        basin.noise[B] = {
            "alpha_median": float(np.nanmedian(st.alpha)),
            "alpha_q10": float(np.nanquantile(st.alpha, 0.1)),
            "alpha_q90": float(np.nanquantile(st.alpha, 0.9)),
            "pooled_alpha": st.pooled_alpha, "n_nan": int((~np.isfinite(st.alpha)).sum()),
            "noise_std_total": float(np.sqrt((std ** 2).sum())),
            "max_noise_norm": float(U.norm(dim=1).max()),
            "max_noise_coord": float(U.abs().max()),
        }
        nz = basin.noise[B]
        log(f"noise B={B}: alpha_i median {nz['alpha_median']:.2f} [q10 {nz['alpha_q10']:.2f}, "
            f"q90 {nz['alpha_q90']:.2f}], pooled {nz['pooled_alpha']:.2f}; largest measured "
            f"noise |u| {nz['max_noise_norm']:.3g}")
    return basin


def escape_from_levydyn(result, bridge: Bridge, config: EscapeConfig) -> NetworkEscape:
    """A levydyn ``EscapeResult`` (SDE time, dt = lr) as a :class:`NetworkEscape` in iterations."""
    it = np.rint(result.times / result.dt).astype(np.int64)
    ex = result.exited.astype(bool)
    layer = np.where(ex & (result.axis >= 0), bridge.axis_layer[np.maximum(result.axis, 0)], -1)
    param = np.where(ex & (result.axis >= 0), bridge.axes[np.maximum(result.axis, 0)], -1)
    n = it.size
    return NetworkEscape(config=replace(config, n_seeds=n), dist_iter=it, dist_exited=ex,
                         exit_param=param, exit_layer=layer,
                         layer_share=np.full((n, len(bridge.layer_names)), np.nan),
                         layer_names=list(bridge.layer_names), wall_time=result.wall_time)


def predict_escape(model: str, bridge: Bridge, basin: Basin, config: EscapeConfig,
                   n_paths: int) -> NetworkEscape:
    """Predicted escapes of one model (module docstring) for the experiment ``config``."""
    lr = config.lr
    if model in ("levy", "gauss"):
        problem = bridge.problem if model == "levy" else bridge.gaussian
        if problem is None:
            raise ValueError("model 'gauss' needs the noise standard deviation (profile extra)")
        res = simulate(problem, n_paths=n_paths, dt=lr, t_max=lr * config.max_iter,
                       seed=config.seed)
        return escape_from_levydyn(res, bridge, config)
    if model in ("lin_gauss", "lin_minibatch"):
        orc = LinearizedGradient(basin.curvature, basin.per_sample_centered, config.batch_size,
                                 "gaussian" if model == "lin_gauss" else "minibatch",
                                 basin.flat.layer_of(), basin.layer_names)
        cfg = replace(config, n_seeds=n_paths, loss_rise=None)
        return run_escape(orc, np.zeros(orc.n_params), cfg)
    raise ValueError(f"model={model!r}: must be one of {', '.join(MODELS)}")


def _escape_arrays(e: NetworkEscape) -> dict:
    d = {"dist_iter": e.dist_iter, "dist_exited": e.dist_exited, "exit_param": e.exit_param,
         "exit_layer": e.exit_layer, "layer_share": e.layer_share,
         "wall_time": np.array(e.wall_time)}
    if e.loss_iter is not None:
        d["loss_iter"], d["loss_exited"] = e.loss_iter, e.loss_exited
    return d


def _escape_from_arrays(a: dict, config: EscapeConfig, names: list[str]) -> NetworkEscape:
    return NetworkEscape(config=replace(config, n_seeds=int(a["dist_iter"].size)),
                         dist_iter=a["dist_iter"], dist_exited=a["dist_exited"].astype(bool),
                         exit_param=a["exit_param"], exit_layer=a["exit_layer"],
                         layer_share=a["layer_share"], layer_names=list(names),
                         loss_iter=a.get("loss_iter"),
                         loss_exited=None if "loss_exited" not in a else a["loss_exited"].astype(bool),
                         wall_time=float(a["wall_time"]))


@dataclass
class Cell:
    """One (batch size, lr): the measurement, the predictions and the closed forms."""

    batch_size: int
    lr: float
    measured: NetworkEscape
    predicted: dict[str, NetworkEscape]
    closed_levy: dict
    closed_gauss: dict
    reduction: dict

    def ratio(self, model: str, level: float = 0.95) -> Estimate:
        """predicted / measured mean escape iterations, CI from both (log-normal approx.)."""
        m = self.measured.mean_iterations("distance", level)
        p = self.predicted[model].mean_iterations("distance", level)
        return _ratio(p, m, level)

    def survival_check(self) -> dict:
        """Survival ``P(escape > t)`` of every model at the measured quartile iterations
        ``t_q`` (where the measured survival is 0.75, 0.5, 0.25; NaN where censored)."""
        it = np.where(self.measured.dist_exited, self.measured.dist_iter, np.inf)
        with np.errstate(invalid="ignore"):
            tq = np.quantile(it, [0.25, 0.5, 0.75])
        ok = np.isfinite(tq)
        out = {"t": tq.tolist(), "measured": [0.75, 0.5, 0.25]}
        for k, e in self.predicted.items():
            pit = np.where(e.dist_exited, e.dist_iter, np.inf)
            out[k] = [float(np.mean(pit > t)) if f else math.nan for t, f in zip(tq, ok)]
        return out

    def summary(self, level: float = 0.95) -> dict:
        d = {"batch_size": self.batch_size, "lr": self.lr,
             "measured": self.measured.summary(level),
             "predicted": {k: v.summary(level) for k, v in self.predicted.items()},
             "ratio": {k: self.ratio(k, level) for k in self.predicted},
             "closed_form_levy": self.closed_levy, "closed_form_gauss": self.closed_gauss,
             "reduction": self.reduction}
        d["survival_at_measured_quartiles"] = self.survival_check()
        m = self.measured.mean_iterations("distance", level).value
        d["ratio_closed_levy"] = self.closed_levy.get("mean_iterations", math.nan) / m \
            if math.isfinite(m) else math.nan
        return d


def _ratio(p: Estimate, m: Estimate, level: float) -> Estimate:
    from scipy import stats

    if not (math.isfinite(p.value) and math.isfinite(m.value)) or m.value <= 0 or p.value <= 0:
        return Estimate(p.value / m.value if m.value else math.nan, math.nan, math.nan, level,
                        "ratio (censored: no CI)")
    z = float(stats.norm.ppf(0.5 + level / 2))
    s = math.hypot(float(log_se(p.value, p.low, p.high, level)),
                   float(log_se(m.value, m.low, m.high, level)))
    r = p.value / m.value
    if not math.isfinite(s):
        return Estimate(r, math.nan, math.nan, level, "ratio")
    return Estimate(r, r * math.exp(-z * s), r * math.exp(z * s), level,
                    "ratio, log-normal CI from both CIs")


@dataclass
class Study:
    """Result of :func:`run_study`."""

    config: StudyConfig
    basin: Basin
    cells: list[Cell]
    wall_time: float = 0.0

    def cell(self, batch_size: int, lr: float) -> Cell:
        for c in self.cells:
            if c.batch_size == batch_size and c.lr == lr:
                return c
        raise ValueError(f"batch_size={batch_size}, lr={lr}: not in the study")

    def fits(self, criterion: str = "distance", level: float = 0.95) -> dict:
        """Levy and Gaussian fits of the measured mean escape iterations vs lr (per batch
        size) and vs batch size (per lr); see :func:`nn_bridge.fit.fit_escape_table`."""
        rows = []
        for c in self.cells:
            e = c.measured.mean_iterations(criterion, level)
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
        return json_safe(_plain({"schema": "levydyn.nn_study/1", "config": self.config.to_dict(),
                                 "time_unit": "SGD iterations (SDE time = iterations * lr)",
                                 "basin": self.basin.summary(),
                                 "cells": [c.summary(level) for c in self.cells],
                                 "fits": conv, "wall_time_s": self.wall_time}))


def _plain(obj):
    if isinstance(obj, Estimate):
        return {"value": obj.value, "low": obj.low, "high": obj.high, "level": obj.level,
                "method": obj.method}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def run_study(cfg: StudyConfig, *, workdir: str | Path | None = None,
              log: Callable[[str], None] = lambda s: None,
              basin: Basin | None = None) -> Study:
    """The whole loop of the module docstring; ``log`` receives one line per step."""
    t0 = time.perf_counter()
    basin = basin or prepare_basin(cfg, workdir=workdir, log=log)
    store = _store(workdir)
    names = basin.layer_names
    c = cfg.to_dict()
    # keys hash exactly what each part depends on
    base = {"weights": weights_checksum(basin.flat.model), "wd": cfg.weight_decay,
            **{k: c[k] for k in ("radius", "loss_rise", "loss_every", "n_seeds", "max_iter",
                                 "seed")}}
    pbase = {**base, **{k: c[k] for k in ("n_paths", "k", "n_minibatches", "estimator")}}
    cells = []
    for B in cfg.batch_sizes:
        for lr in cfg.lrs:
            ecfg = cfg.escape_config(lr, B)
            key = config_key({**base, "B": B, "lr": lr, "part": "measured"})
            part = store.load("escape", key)
            if part is None:
                orc = MinibatchGradient(basin.flat, basin.X, basin.y, B, cfg.weight_decay)
                meas = run_escape(orc, basin.minimum.w, ecfg)
                store.save("escape", key, **_escape_arrays(meas))
            else:
                meas = _escape_from_arrays(part, ecfg, names)
            m = meas.mean_iterations()
            log(f"B={B} lr={lr:g}: measured mean escape {m} iterations "
                f"({100 * (1 - meas.dist_exited.mean()):.0f}% censored, {meas.wall_time:.1f}s)")
            bridge = build_bridge(basin.profiles[B], basin.curvature, lr, cfg.radius)
            preds = {}
            for model in cfg.models:
                pkey = config_key({**pbase, "B": B, "lr": lr, "model": model})
                part = store.load("predict", pkey)
                if part is None:
                    pred = predict_escape(model, bridge, basin, ecfg, cfg.n_paths)
                    store.save("predict", pkey, **_escape_arrays(pred))
                else:
                    pred = _escape_from_arrays(part, ecfg, names)
                preds[model] = pred
                pm = pred.mean_iterations()
                log(f"    {MODEL_LABELS[model]:>24}: {pm}  ratio "
                    f"{pm.value / m.value if math.isfinite(m.value) else float('nan'):.3g}")
            cl = bridge.closed_form_levy()
            try:
                cg = bridge.closed_form_gaussian(basin.curvature) if bridge.gaussian else {}
            except (ValueError, np.linalg.LinAlgError) as exc:
                cg = {"error": str(exc)}
            cells.append(Cell(B, lr, meas, preds, cl, cg, bridge.reduction))
    return Study(config=cfg, basin=basin, cells=cells, wall_time=time.perf_counter() - t0)
