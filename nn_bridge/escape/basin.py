"""The network at its minimum ``w*``: everything the escape study measures once per network.

    dataset -> train (plain SGD) -> find_minimum (L-BFGS on CE + L2) -> w*
      -> curvature at w* (Hessian-vector products)       -> per-sample gradients at w*
      -> noise profiles per batch size (alpha_i, sigma_i, noise std)
      -> minibatch-model profile (per-sample curvature factors, ``nn_bridge.curvature``)

With a ``workdir`` every finished piece is stored under a key of its inputs
(:func:`part_store`), so a rerun after a kill resumes.
"""
from __future__ import annotations

import copy
import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from nn_bridge.curvature.minibatch_model import MinibatchModel
from nn_bridge.curvature.per_sample import Curvature, curvature_from_dense
from nn_bridge.curvature.stability import measure_minibatch_model
from nn_bridge.data.datasets import load_dataset
from nn_bridge.data.flat import FlatModel
from nn_bridge.data.models import ModelSpec, build_model, weights_checksum
from nn_bridge.data.network import Network
from nn_bridge.escape.config import StudyConfig
from nn_bridge.escape.experiment import MINIMUM_EVALS, Minimum, find_minimum
from nn_bridge.noise.measure import MeasureConfig, measure_noise
from nn_bridge.noise.per_sample import per_sample_gradients
from nn_bridge.noise.profile import NoiseProfile
from nn_bridge.training.checkpoint import (PartStore, atomic_save_npz, config_key, json_safe,
                                           read_npz_meta)
from nn_bridge.training.train import load_weights, train_network

__all__ = ["Basin", "minimum_warning", "prepare_basin", "basin_at", "cached_minimum",
           "part_store", "save_basin", "load_basin_curvature", "network_minibatch_model",
           "network_minimum", "network_stability", "study_network", "warn_minimum"]


@dataclass
class Basin:
    """The network at ``w*``: minimum, curvature, per-sample gradients and noise profiles."""

    spec: ModelSpec | None
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
    network: Network | None = None          # the network (model, loss, data) it came from

    def model_dict(self) -> dict:
        """The built-in spec, or the user's network's description (no data)."""
        return self.spec.to_dict() if self.spec is not None else self.network.model_dict()

    @property
    def layer_names(self) -> list[str]:
        return self.flat.layer_names()

    def summary(self) -> dict:
        d = {"model": self.model_dict(), "data": self.data, "training": self.training,
             "minimum": self.minimum.summary(), "curvature": self.curvature.summary(),
             "noise": self.noise}
        warning = minimum_warning(self.minimum,
                                  (self.training.get("config") or {}).get("grad_tol", 0.0))
        if warning is not None:
            d["minimum"]["warning"] = warning
        if self.minibatch is not None:
            mb = self.minibatch
            d["minibatch_model"] = {
                "n_samples": mb.n_samples, "n_params": mb.n_params, "factor_rank": mb.rank,
                "curvature": "Gauss-Newton factors J_n^T Q_n e_n^(1/2) + shared dense remainder",
                "remainder_frob_share": mb.extra.get("remainder_frob_share"),
                "factor_error": mb.factor_error}
        return d


#: ``||grad U(w*)||`` above this multiple of the training tolerance draws a warning.
GRAD_WARN_FACTOR = 10.0


def minimum_warning(minimum: Minimum, grad_tol: float,
                    factor: float = GRAD_WARN_FACTOR) -> str | None:
    """One line when ``w*``'s full-batch gradient norm exceeds ``factor`` times the training
    tolerance ``grad_tol`` (``w*`` is then not a minimum to tolerance: the quadratic models
    of the ladder assume one); None otherwise or when ``grad_tol = 0`` (no tolerance)."""
    if not grad_tol > 0 or not minimum.grad_norm > factor * grad_tol:
        return None
    return (f"w* is not a minimum to tolerance: ||grad U(w*)|| = {minimum.grad_norm:.3g} is "
            f"{minimum.grad_norm / grad_tol:.0f}x the training tolerance grad_tol = "
            f"{grad_tol:g} (warning above {factor:g}x)")


def warn_minimum(minimum: Minimum, grad_tol: float) -> None:
    """:func:`minimum_warning` and, when the search used its whole evaluation budget,
    :meth:`~nn_bridge.escape.experiment.Minimum.budget_line`, each as a ``UserWarning``
    (printed once by Python, on stderr)."""
    for msg in (minimum_warning(minimum, grad_tol), minimum.budget_line()):
        if msg is not None:
            warnings.warn(msg, UserWarning, stacklevel=2)


def cached_minimum(store: PartStore, model, data, weights_sha256: str,
                   weight_decay: float, loss_fn=None, max_evals: int = MINIMUM_EVALS) -> Minimum:
    """The minimum ``w*`` of ``U = loss + (weight_decay/2)||w||^2`` reached from ``model``,
    found once per (weights, weight decay, evaluation budget ``max_evals``) and kept in
    ``store``; ``loss_fn`` is the network's loss (default cross-entropy). The key of the
    default budget is the key minima had before the budget was an option, so their
    stored minima stay valid."""
    key = config_key({"weights": weights_sha256, "wd": weight_decay,
                      **({} if max_evals == MINIMUM_EVALS else {"max_evals": int(max_evals)})})
    part = store.load("minimum", key)
    if part is not None:
        return Minimum.from_summary(part["w"], json.loads(str(part["meta"])))
    mn = find_minimum(model, data, weight_decay, max_evals=max_evals,
                      **({} if loss_fn is None else {"loss_fn": loss_fn}))
    store.save("minimum", key, w=mn.w, meta=np.array(json.dumps(json_safe(
        {k: v for k, v in mn.summary().items() if k not in ("w_norm", "n_params")}))))
    return mn


def basin_at(spec, data, w):
    """``(flat, X, y, G)`` at the weights ``w`` in float64: the flat model, the training
    data and the per-sample gradient deviations ``G = g_n - mean_n g_n`` (N x P).
    ``spec``: a built-in ``ModelSpec`` or a :class:`~nn_bridge.data.network.Network` (its
    model and loss; ``data`` is then its data)."""
    if isinstance(spec, Network):
        flat = spec.flat(w)
    else:
        flat = FlatModel(build_model(spec).double())
        flat.load(w)
    X = torch.as_tensor(data.X_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    y = y.double() if y.is_floating_point() else y
    G = per_sample_gradients(flat.model, X, y, loss_fn=flat.loss_fn).to(torch.float64)
    return flat, X, y, G - G.mean(0)


def part_store(workdir) -> PartStore:
    """The study's cache of finished pieces under ``workdir/parts`` (none without a workdir)."""
    return PartStore(None if workdir is None else Path(workdir) / "parts")


def prepare_basin(cfg: StudyConfig, *, workdir: str | Path | None = None,
                  log: Callable[[str], None] = lambda s: None) -> Basin:
    """Train, find ``w*``, measure curvature and the noise profiles (cached in ``workdir``).
    The network is ``cfg.network`` (any model, loss, data) or the built-in MLP of ``cfg``."""
    network = study_network(cfg)
    data, spec = network.data, network.spec
    tcfg = cfg.train_config(data.n_train)
    ckpt = None if workdir is None else Path(workdir) / f"train-{network.train_key(tcfg)}.pt"
    t0 = time.perf_counter()
    res = train_network(network, tcfg, checkpoint=ckpt)
    training = {"config": tcfg.to_dict(), **res.summary()}
    log(f"trained: {res.epochs} epochs, loss {res.final.get('loss', float('nan')):.3g}, "
        f"{res.reason} ({time.perf_counter() - t0:.1f}s)")
    store = part_store(workdir)
    mn = cached_minimum(store, res.model, data, res.weights_sha256, cfg.weight_decay,
                        network.loss_fn, cfg.minimum_evals)
    log(f"minimum: U {mn.objective:.4g} (loss {mn.loss:.4g} + L2 {cfg.weight_decay:g}), "
        f"||grad U|| {mn.grad_norm:.2e}, train acc {mn.train_acc:.3f}, ||w*|| "
        f"{np.linalg.norm(mn.w):.3g}; {mn.search()}")
    warn_minimum(mn, cfg.grad_tol)
    flat, X, y, G = basin_at(network, data, mn.w)
    model_dict = network.model_dict()
    mbm, H_data = measure_minibatch_model(
        flat, X, y, mn, G, lrs=cfg.all_lrs, batch_sizes=cfg.all_batch_sizes, dataset=data,
        spec=model_dict, trained_sha256=res.weights_sha256, store=store,
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
    mcfg = MeasureConfig(batch_sizes=cfg.all_batch_sizes, n_minibatches=cfg.n_minibatches,
                         estimator=cfg.estimator, n_fit=0, seed=cfg.seed)
    stats = measure_noise(net32, data, mcfg, device="cpu", workdir=workdir,
                          loss_fn=network.loss_fn)
    wsum = weights_checksum(net32)
    basin = Basin(spec=spec, data=data.describe(), training=training, minimum=mn,
                  curvature=curv, flat=flat, X=X, y=y, per_sample_centered=G,
                  hessian=H_data, minibatch=mbm, network=network)
    for B, st in stats.items():
        std = ps_std / math.sqrt(B)
        basin.profiles[B] = NoiseProfile(
            alpha=st.alpha, sigma=st.sigma, layer_names=flat.layout.names,
            layer_shapes=flat.layout.shapes, lr=cfg.train_lr, batch_size=B,
            dataset=data.name, model=model_dict, weights_sha256=wsum,
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


def save_basin(basin: Basin, path: str | Path) -> Path:
    """``w*`` and the curvature model at it (``.npz``, with a JSON ``meta``): the basin
    file of ``levydyn nn predict`` (read back by :func:`load_basin_curvature`)."""
    meta = {"curvature": basin.curvature.summary(), "minimum": basin.minimum.summary(),
            "model": basin.model_dict(), "data": basin.data}
    return atomic_save_npz(path, w_star=basin.minimum.w, **basin.curvature.arrays(),
                           meta=np.array(json.dumps(json_safe(meta))))


def load_basin_curvature(path: str | Path) -> Curvature:
    """The curvature model stored by :func:`save_basin`."""
    arrays, meta = read_npz_meta(path, "meta", "basin file", field="basin",
                                 arrays=("eigvals", "eigvecs", "diag"))
    return Curvature.from_arrays(arrays, meta["curvature"])


def study_network(cfg: StudyConfig) -> Network:
    """The network of a study: ``cfg.network``, else the built-in MLP of ``cfg`` (dataset,
    width, depth, seed) on the CPU."""
    if cfg.network is not None:
        return cfg.network
    data = load_dataset(cfg.dataset, test_fraction=cfg.test_fraction, seed=cfg.seed)
    spec = ModelSpec(kind="mlp", in_features=data.n_features, n_classes=data.n_classes,
                     width=cfg.width, depth=cfg.depth, seed=cfg.seed)
    return Network.builtin(data, spec, device="cpu")


def network_minimum(cfg: StudyConfig, *, weights: str | Path | None = None,
                    workdir: str | Path = ".levydyn-nn",
                    log: Callable[[str], None] = lambda s: None):
    """``(network, model, trained_sha256, minimum)``: ``cfg``'s network (``cfg.network`` or
    the built-in MLP) at ``weights`` (from ``levydyn nn train``) or trained here, and the
    minimum ``w*`` of ``U = loss + (wd/2)||w||^2`` from there (all cached in ``workdir``)."""
    network = study_network(cfg)
    data = network.data
    if weights is not None:
        if cfg.network is None:
            model, meta = load_weights(weights, data)
            network = Network.builtin(data, meta["spec"], device="cpu")
        else:
            model, meta = load_weights(weights, data, network=network)
        trained = weights_checksum(model)
    else:
        tcfg = cfg.train_config(data.n_train)
        ckpt = Path(workdir) / f"train-{network.train_key(tcfg)}.pt"
        res = train_network(network, tcfg, checkpoint=ckpt)
        model, trained = res.model, res.weights_sha256
        log(f"trained: {res.epochs} epochs ({res.reason})")
    mn = cached_minimum(part_store(workdir), model, data, trained, cfg.weight_decay,
                        network.loss_fn, cfg.minimum_evals)
    log(f"minimum: U {mn.objective:.4g}, ||grad U|| {mn.grad_norm:.2e}, train acc "
        f"{mn.train_acc:.3f}; {mn.search()}")
    warn_minimum(mn, cfg.grad_tol)
    return network, model, trained, mn


def network_minibatch_model(cfg: StudyConfig, *, weights: str | Path | None = None,
                            workdir: str | Path = ".levydyn-nn",
                            log: Callable[[str], None] = lambda s: None) -> MinibatchModel:
    """Trained network (``weights`` from ``levydyn nn train``, else ``cfg``'s network --
    ``cfg.network`` or the built-in MLP -- trained here) -> ``w*`` -> the minibatch model
    over ``cfg``'s grid (all cached in ``workdir``)."""
    network, _, trained, mn = network_minimum(cfg, weights=weights, workdir=workdir, log=log)
    flat, X, y, G = basin_at(network, network.data, mn.w)
    mbm, _ = measure_minibatch_model(flat, X, y, mn, G, lrs=cfg.lrs, batch_sizes=cfg.batch_sizes,
                                     dataset=network.data, spec=network.model_dict(),
                                     trained_sha256=trained, store=part_store(workdir),
                                     factor_probes=cfg.factor_probes, seed=cfg.seed, log=log)
    return mbm


def network_stability(cfg: StudyConfig, *, weights: str | Path | None = None,
                      workdir: str | Path = ".levydyn-nn", matrix_free: bool | None = None,
                      memory_limit: float | None = None,
                      log: Callable[[str], None] = lambda s: None, **kw):
    """Stability diagram of ``cfg``'s network over ``cfg``'s grid: ``(diagram, model)``.

    The switch: when the stored path (per-sample factors, deviations and the dense Hessian,
    :func:`~nn_bridge.curvature.matrix_free.factor_bytes`) would exceed ``memory_limit``
    bytes (default 2 GiB), or with ``matrix_free=True``, ``lambda_1`` comes from matrix-free
    Gauss-Newton products on ``network.device`` and ``model`` is ``None`` (no factors, no
    ``alpha_K``); otherwise from the stored :class:`MinibatchModel` (returned).
    ``kw``: ``lyap_paths``, ``lyap_steps``, ``seed`` and, on the stored path, the other
    arguments of :func:`~nn_bridge.curvature.stability.stability_diagram`."""
    from nn_bridge.curvature.matrix_free import (DEFAULT_MEMORY_LIMIT, factor_bytes,
                                                 stability_diagram_matrix_free, use_matrix_free)
    from nn_bridge.curvature.stability import stability_diagram

    limit = DEFAULT_MEMORY_LIMIT if memory_limit is None else memory_limit
    network = study_network(cfg)
    N, P, r = network.data.n_train, network.n_params, network.factor_rank
    free = use_matrix_free(N, P, r, limit) if matrix_free is None else bool(matrix_free)
    log(f"stored path would hold {factor_bytes(N, P, r) / 2 ** 30:.3g} GiB (N={N}, P={P}, "
        f"r={r}; limit {limit / 2 ** 30:.3g} GiB): "
        f"{'matrix-free products' if free else 'stored per-sample factors'}")
    if not free:
        mbm = network_minibatch_model(cfg, weights=weights, workdir=workdir, log=log)
        return stability_diagram(mbm, cfg.lrs, cfg.batch_sizes, log=log, **kw), mbm
    network, _, trained, mn = network_minimum(cfg, weights=weights, workdir=workdir, log=log)
    dev = network.device
    flat = network.flat(mn.w, torch.float64, dev)
    X, y = network.tensors(torch.float64, dev)
    lyap = {k: kw[k] for k in ("seed",) if k in kw}
    lyap.update(n_paths=kw.get("lyap_paths", 16), n_steps=kw.get("lyap_steps", 500))
    diag = stability_diagram_matrix_free(
        flat, X, y, mn.w, cfg.weight_decay, cfg.lrs, cfg.batch_sizes, log=log,
        meta={"dataset": network.data.name, "weights_sha256": trained, "device": str(dev),
              "model": network.model_dict()}, **lyap)
    return diag, None
