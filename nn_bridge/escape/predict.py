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
nonlinearity (quadratic model with random curvature), (e) the curvature's randomness.

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
from nn_bridge.escape.bridge import Bridge, build_bridge
from nn_bridge.training.checkpoint import PartStore, config_key, json_safe
from nn_bridge.curvature.per_sample import Curvature, curvature_from_dense
from nn_bridge.data.datasets import load_dataset
from nn_bridge.escape.experiment import (EscapeConfig, Minimum, MinibatchGradient, NetworkEscape,
                              find_minimum, run_escape)
from nn_bridge.escape.fit import fit_escape_table, log_se
from nn_bridge.data.flat import FlatModel, positive, positive_int
from nn_bridge.curvature.linearized import LinearizedGradient
from nn_bridge.noise.measure import MeasureConfig, measure_noise
from nn_bridge.curvature.minibatch_model import MinibatchModel
from nn_bridge.data.models import ModelSpec, build_model, weights_checksum
from nn_bridge.noise.per_sample import per_sample_gradients
from nn_bridge.noise.profile import NoiseProfile
from nn_bridge.curvature.second_order import KINDS as SECOND_ORDER
from nn_bridge.curvature.second_order import SecondOrderGradient
from nn_bridge.curvature.stability import measure_minibatch_model, stability_cell
from nn_bridge.training.train import TrainConfig, train, train_key

__all__ = ["MODELS", "MODEL_LABELS", "LADDER", "StudyConfig", "Basin", "Cell", "Study",
           "prepare_basin", "predict_escape", "run_study", "escape_from_levydyn",
           "escape_from_kesten", "cell_stability", "radius_scan", "RadiusScan"]

MODELS = ("levy", "gauss", "lin_gauss", "lin_minibatch", "multiplicative", "multiplicative_exact",
          "nonlinear_frozen", "nonlinear_multiplicative")
MODEL_LABELS = {"levy": "(a) Levy sim", "gauss": "(c) Gauss sim",
                "lin_gauss": "(d) lin Gauss full-cov", "lin_minibatch": "(e) lin true noise",
                "multiplicative": "(f) 2nd-order per-sample",
                "multiplicative_exact": "(f') (f) exact HVP",
                "nonlinear_frozen": "(g) nonlinear frozen",
                "nonlinear_multiplicative": "(h) nonlinear mult."}
SCHEMA = "levydyn.nn_study/2"
#: The ladder of the README table, from the network to the SDE model.
LADDER = ("nonlinear_multiplicative", "nonlinear_frozen", "multiplicative", "lin_minibatch",
          "lin_gauss", "levy")


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
    torch_paths: int = 64
    models: tuple = MODELS
    lyap_paths: int = 64
    lyap_steps: int = 1000
    tail_particles: int = 128
    tail_replicas: int = 4
    tail_steps: int = 200
    factor_probes: int = 64

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
        for f in ("n_seeds", "max_iter", "n_paths", "torch_paths", "k", "n_minibatches", "loss_every",
                  "lyap_paths", "lyap_steps", "tail_particles", "tail_replicas", "tail_steps",
                  "factor_probes"):
            positive_int(f, getattr(self, f))
        if self.loss_rise is not None:
            positive("loss_rise", self.loss_rise)

    @classmethod
    def quick(cls, **overrides) -> "StudyConfig":
        """A small study for tests and smoke runs (width 8, 2 x 2 grid, 16 seeds)."""
        base = dict(width=8, max_epochs=60, grad_tol=0.0, batch_sizes=(8, 32), lrs=(0.4, 0.8),
                    n_seeds=16, max_iter=300, n_minibatches=200, k=5, n_paths=32, torch_paths=16,
                    loss_every=10, lyap_paths=8, lyap_steps=200, tail_particles=32,
                    tail_replicas=2, tail_steps=50, factor_probes=8)
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
    hessian: np.ndarray | None = None        # dense Hessian of the data loss at w* (no L2)
    minibatch: MinibatchModel | None = None  # per-sample G_n, F_n, R for levydyn.kesten

    @property
    def layer_names(self) -> list[str]:
        return self.flat.layer_names()

    def summary(self) -> dict:
        d = {"model": self.spec.to_dict(), "data": self.data, "training": self.training,
             "minimum": self.minimum.summary(), "curvature": self.curvature.summary(),
             "noise": self.noise}
        if self.minibatch is not None:
            mb = self.minibatch
            d["minibatch_model"] = {
                "n_samples": mb.n_samples, "n_params": mb.n_params, "factor_rank": mb.rank,
                "curvature": "Gauss-Newton factors J_n^T Q_n e_n^(1/2) + shared dense remainder",
                "remainder_frob_share": mb.extra.get("remainder_frob_share"),
                "factor_error": mb.factor_error}
        return d


def cached_minimum(store: PartStore, model, data, weights_sha256: str,
                   weight_decay: float) -> Minimum:
    """The minimum ``w*`` of ``U = CE + (weight_decay/2)||w||^2`` reached from ``model``,
    found once per (weights, weight decay) and kept in ``store``."""
    key = config_key({"weights": weights_sha256, "wd": weight_decay})
    part = store.load("minimum", key)
    if part is not None:
        return Minimum(w=part["w"], **json.loads(str(part["meta"])))
    mn = find_minimum(model, data, weight_decay)
    store.save("minimum", key, w=mn.w, meta=np.array(json.dumps(json_safe(
        {k: v for k, v in mn.summary().items() if k not in ("w_norm", "n_params")}))))
    return mn


def basin_at(spec, data, w):
    """``(flat, X, y, G)`` at the weights ``w`` in float64: the flat model, the training
    data and the per-sample gradient deviations ``G = g_n - mean_n g_n`` (N x P)."""
    flat = FlatModel(build_model(spec).double())
    flat.load(w)
    X = torch.as_tensor(data.X_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    G = per_sample_gradients(flat.model, X, y).to(torch.float64)
    return flat, X, y, G - G.mean(0)


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
    mn = cached_minimum(store, res.model, data, res.weights_sha256, cfg.weight_decay)
    log(f"minimum: U {mn.objective:.4g} (CE {mn.loss:.4g} + L2 {cfg.weight_decay:g}), "
        f"||grad U|| {mn.grad_norm:.2e}, train acc {mn.train_acc:.3f}, ||w*|| "
        f"{np.linalg.norm(mn.w):.3g}")
    flat, X, y, G = basin_at(spec, data, mn.w)
    mbm, H_data = measure_minibatch_model(
        flat, X, y, mn, G, lrs=cfg.lrs, batch_sizes=cfg.batch_sizes, dataset=data,
        spec=spec.to_dict(), trained_sha256=res.weights_sha256, store=store,
        factor_probes=cfg.factor_probes, seed=cfg.seed, log=log)
    curv = curvature_from_dense(H_data + cfg.weight_decay * np.eye(flat.n_params),
                                min(cfg.k, flat.n_params), cfg.weight_decay)
    cs = curv.summary()
    log(f"curvature ({cs['method']}): top eigenvalues {curv.eigvals[:3].round(4).tolist()}, "
        f"top-{curv.k} share of trace {cs['top_k_trace_share']:.2f}, reduction error "
        f"{cs['frob_rel_error']:.3f} (Frobenius)")
    ps_std = G.pow(2).mean(0).sqrt().numpy()
    # noise statistics at w* (float32 copy, as nn_bridge.noise.measure does) with resume
    net32 = copy.deepcopy(flat.model).float()
    mcfg = MeasureConfig(batch_sizes=cfg.batch_sizes, n_minibatches=cfg.n_minibatches,
                         estimator=cfg.estimator, n_fit=0, seed=cfg.seed)
    stats = measure_noise(net32, data, mcfg, device="cpu", workdir=workdir)
    wsum = weights_checksum(net32)
    basin = Basin(spec=spec, data=data.describe(), training=training, minimum=mn,
                  curvature=curv, flat=flat, X=X, y=y, per_sample_centered=G,
                  hessian=H_data, minibatch=mbm)
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


def escape_from_kesten(result, layer_of: np.ndarray, layer_names: list[str],
                       config: EscapeConfig) -> NetworkEscape:
    """A ``levydyn.kesten`` EscapeResult (iterations, Ball around ``w*``) as a NetworkEscape."""
    it = np.rint(result.times).astype(np.int64)
    ex = result.exited.astype(bool)
    param = np.where(ex & (result.axis >= 0), result.axis, -1)
    layer = np.where(param >= 0, layer_of[np.maximum(param, 0)], -1)
    n = it.size
    return NetworkEscape(config=replace(config, n_seeds=n, loss_rise=None), dist_iter=it,
                         dist_exited=ex, exit_param=param, exit_layer=layer,
                         layer_share=np.full((n, len(layer_names)), np.nan),
                         layer_names=list(layer_names), wall_time=result.wall_time)


def predict_escape(model: str, bridge: Bridge | None, basin: Basin, config: EscapeConfig,
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
    if model == "multiplicative":
        from levydyn.domains import Ball
        from levydyn.kesten import Recursion
        from levydyn.kesten import simulate as kesten_simulate

        mb = basin.minibatch
        rec = Recursion(mb.law(config.batch_size, remainder=False), lr,
                        domain=Ball(np.zeros(mb.n_params), config.radius))
        res = kesten_simulate(rec, n_paths=n_paths, max_steps=config.max_iter,
                              seed=config.seed, classify=False)
        return escape_from_kesten(res, basin.flat.layer_of(), basin.layer_names, config)
    if model in SECOND_ORDER:
        orc = SecondOrderGradient(basin.flat, basin.X, basin.y, basin.per_sample_centered,
                                  basin.minimum.w, basin.hessian, config.batch_size,
                                  basin.minimum.weight_decay, model)
        cfg = replace(config, n_seeds=n_paths, loss_rise=None)
        return run_escape(orc, basin.minimum.w, cfg)
    raise ValueError(f"model={model!r}: must be one of {', '.join(MODELS)}")


def cell_stability(law, lr: float, cfg: StudyConfig) -> dict:
    """:func:`nn_bridge.curvature.stability.stability_cell` with the study's settings."""
    return stability_cell(law, lr, lyap_paths=cfg.lyap_paths, lyap_steps=cfg.lyap_steps,
                          tail_particles=cfg.tail_particles, tail_replicas=cfg.tail_replicas,
                          tail_steps=cfg.tail_steps, seed=cfg.seed)


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
    stability: dict = field(default_factory=dict)

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
        """JSON-able cell: ``measured`` and each of ``models`` carry ``mean``, ``low``,
        ``high`` (mean escape iterations, distance criterion) and ``censored`` (fraction);
        ``lambda_1``, ``alpha_K`` (``value``, ``low``, ``high``; ``alpha_K`` null unless
        stable) and ``regime`` come from the multiplicative model."""
        def head(e: NetworkEscape) -> dict:
            m = e.mean_iterations("distance", level)
            return {"mean": m.value, "low": m.low, "high": m.high,
                    "censored": 1.0 - float(e.dist_exited.mean())}

        models = {}
        for k, v in self.predicted.items():
            models[k] = {**head(v), "label": MODEL_LABELS[k], "ratio": self.ratio(k, level),
                         "details": v.summary(level)}
        st = self.stability
        d = {"batch_size": self.batch_size, "lr": self.lr,
             "measured": {**head(self.measured), **self.measured.summary(level)},
             "models": models,
             "lambda_1": st.get("lambda_1"), "alpha_K": st.get("alpha_K"),
             "regime": st.get("regime"),
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
    scan: "RadiusScan | None" = None

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
        return json_safe(_plain({"schema": SCHEMA, "config": self.config.to_dict(),
                                 "time_unit": "SGD iterations (SDE time = iterations * lr)",
                                 "basin": self.basin.summary(),
                                 "cells": [c.summary(level) for c in self.cells],
                                 "fits": conv, "wall_time_s": self.wall_time,
                                 "radius_scan": None if self.scan is None
                                 else self.scan.summary(level),
                                 "targets": self.targets(level)}))

    def targets(self, level: float = 0.95) -> dict:
        """The issue's checks on this study: per cell whose measurement is < 50 % censored,
        is rung (f) within a factor 2 of the measured mean; where not, the first rung of the
        ladder (from the network down) that misses by more than 2x. ``by_regime`` splits the
        count by the sign of the cell's top Lyapunov exponent lambda_1 (cells without a
        stability estimate are left out of the split)."""
        rows = []
        for c in self.cells:
            cens = 1.0 - float(c.measured.dist_exited.mean())
            row = {"batch_size": c.batch_size, "lr": c.lr, "censored": cens}
            if "multiplicative" in c.predicted:
                r = c.ratio("multiplicative", level).value
                row["f_ratio"] = r
                row["f_within_2x"] = bool(math.isfinite(r) and 0.5 <= r <= 2.0)
            first = None
            for m in LADDER:
                if m in c.predicted:
                    r = c.ratio(m, level).value
                    if not (math.isfinite(r) and 0.5 <= r <= 2.0):
                        first = m
                        break
            row["first_rung_off_by_2x"] = first
            row["counted"] = cens < 0.5
            row["regime"] = c.stability.get("regime") if c.stability else None
            rows.append(row)
        counted = [r for r in rows if r["counted"] and "f_within_2x" in r]
        by_regime = {reg: {"n_counted": sum(r["regime"] == reg for r in counted),
                           "n_f_within_2x": sum(r["f_within_2x"] for r in counted
                                                if r["regime"] == reg)}
                     for reg in ("unstable", "stable")}
        return {"cells": rows, "f_within_2x_in_every_counted_cell":
                all(r["f_within_2x"] for r in counted) if counted else None,
                "n_counted": len(counted),
                "n_f_within_2x": sum(r["f_within_2x"] for r in counted),
                "by_regime": by_regime}


def _stability_from_json(d: dict) -> dict:
    def est(e):
        if e is None:
            return None
        f = [math.inf if e[k] is None else float(e[k]) for k in ("value", "low", "high")]
        return Estimate(*f, float(e["level"]), e["method"])

    return {"lambda_1": est(d["lambda_1"]), "alpha_K": est(d.get("alpha_K")),
            "regime": d["regime"], "wall_time_s": d.get("wall_time_s")}


def _plain(obj):
    if isinstance(obj, Estimate):
        return {"value": obj.value, "low": obj.low, "high": obj.high, "level": obj.level,
                "method": obj.method}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


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
    store = _store(workdir)
    names = basin.layer_names
    base, pbase = part_keys(cfg, basin)
    cells = []
    for B in cfg.batch_sizes:
        for lr in cfg.lrs:
            ecfg = cfg.escape_config(lr, B)
            if basin.minibatch is not None:
                basin.minibatch.check_batch_size(B)
                basin.minibatch.check_lr(lr)
            key = config_key({**base, "B": B, "lr": lr, "part": "measured"})
            part = store.load("escape", key)
            if part is None and cached_only:
                log(f"B={B} lr={lr:g}: not measured yet (left out)")
                continue
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
                npaths = cfg.torch_paths if model in SECOND_ORDER else cfg.n_paths
                pkey = _predict_key(pbase, B, lr, model, cfg)
                part = store.load("predict", pkey)
                if part is None and cached_only:
                    log(f"    {MODEL_LABELS[model]:>24}: not run yet (left out)")
                    continue
                if part is None:
                    pred = predict_escape(model, bridge, basin, ecfg, npaths)
                    store.save("predict", pkey, **_escape_arrays(pred))
                else:
                    pred = _escape_from_arrays(part, ecfg, names)
                preds[model] = pred
                pm = pred.mean_iterations()
                log(f"    {MODEL_LABELS[model]:>24}: {pm}  ratio "
                    f"{pm.value / m.value if math.isfinite(m.value) else float('nan'):.3g}")
            stab = {}
            if basin.minibatch is not None:
                skey = _stability_key(pbase, B, lr, cfg)
                part = store.load("stability", skey)
                if part is None and cached_only:
                    log("    stability: not run yet (left out)")
                elif part is None:
                    stab = cell_stability(basin.minibatch.law(B), lr, cfg)
                    store.save("stability", skey, meta=np.array(json.dumps(json_safe(_plain(stab)))))
                else:
                    stab = _stability_from_json(json.loads(str(part["meta"])))
                if stab:
                    a = stab["alpha_K"]
                    log(f"    lambda_1 = {stab['lambda_1']} per iteration: {stab['regime']}"
                        + (f", alpha_K = {a}" if a is not None else ""))
            cl = bridge.closed_form_levy()
            try:
                cg = bridge.closed_form_gaussian(basin.curvature) if bridge.gaussian else {}
            except (ValueError, np.linalg.LinAlgError) as exc:
                cg = {"error": str(exc)}
            cells.append(Cell(B, lr, meas, preds, cl, cg, bridge.reduction, stab))
    return Study(config=cfg, basin=basin, cells=cells, wall_time=time.perf_counter() - t0)


# --------------------------------------------------------------------------- radius scan
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
        return _ratio(self.predicted[model][R].mean_iterations("distance", level),
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
            w = 1.0 / sv ** 2
            A = np.column_stack([np.ones(ok.sum()), x[ok]])
            cov = np.linalg.inv(A.T @ (A * w[:, None]))
            beta = cov @ (A.T @ (w * yv))
            chi2 = float(np.sum(w * (yv - A @ beta) ** 2))
            fits[name] = {"intercept": float(beta[0]), "slope": float(beta[1]),
                          "slope_se": float(math.sqrt(cov[1, 1])),
                          "chi2_dof": chi2 / (ok.sum() - 2)}
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
    if basin.minibatch is not None:
        basin.minibatch.check_batch_size(batch_size)
        basin.minibatch.check_lr(lr)
    radii = tuple(float(positive("radius", r)) for r in radii)
    bad = [m for m in models if m not in MODELS]
    if bad:
        raise ValueError(f"models: {bad[0]!r} is not one of {', '.join(MODELS)}")
    store = _store(workdir)
    names = basin.layer_names
    c = cfg.to_dict()
    base = {"weights": weights_checksum(basin.flat.model), "wd": cfg.weight_decay,
            **{k: c[k] for k in ("n_seeds", "max_iter", "seed")}, "loss_rise": None}
    meas, preds = {}, {m: {} for m in models}
    for R in radii:
        ecfg = replace(cfg.escape_config(lr, batch_size), radius=R, loss_rise=None)
        key = config_key({**base, "B": batch_size, "lr": lr, "radius": R, "part": "measured"})
        part = store.load("escape", key)
        if part is None and cached_only:
            log(f"R={R:g}: not measured yet (left out)")
            continue
        if part is None:
            orc = MinibatchGradient(basin.flat, basin.X, basin.y, batch_size, cfg.weight_decay)
            e = run_escape(orc, basin.minimum.w, ecfg)
            store.save("escape", key, **_escape_arrays(e))
        else:
            e = _escape_from_arrays(part, ecfg, names)
        meas[R] = e
        line = f"R={R:g}: measured {e.mean_iterations()} ({100 * (1 - e.dist_exited.mean()):.0f}% censored)"
        for m in models:
            npaths = cfg.torch_paths if m in SECOND_ORDER else cfg.n_paths
            pkey = config_key({**base, "B": batch_size, "lr": lr, "radius": R, "model": m,
                               "n_paths": npaths, "remainder": False})
            part = store.load("predict", pkey)
            if part is None and cached_only:
                line += f"; {MODEL_LABELS[m]} not run yet"
                continue
            if part is None:
                bridge = None
                if m in ("levy", "gauss"):
                    bridge = build_bridge(basin.profiles[batch_size], basin.curvature, lr, R)
                p = predict_escape(m, bridge, basin, ecfg, npaths)
                store.save("predict", pkey, **_escape_arrays(p))
            else:
                p = _escape_from_arrays(part, ecfg, names)
            preds[m][R] = p
            line += f"; {MODEL_LABELS[m]} {p.mean_iterations()}"
        log(line)
    stab = cell_stability(basin.minibatch.law(batch_size), lr, cfg) \
        if basin.minibatch is not None else {}
    done = tuple(R for R in radii if R in meas)
    preds = {m: v for m, v in preds.items() if all(R in v for R in done)}
    return RadiusScan(batch_size, lr, done, meas, preds, stab)
