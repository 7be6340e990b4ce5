"""Stability diagram of SGD at a network's minimum: ``lambda_1`` and ``alpha_K`` over (lr, B).

SGD near ``w*`` is the random linear recursion ``x_{k+1} = (I - lr H_{B_k}) x_k - lr u_{B_k}``
(:mod:`nn_bridge.curvature.minibatch_model`). Whether it stays near ``w*`` is decided by the top
Lyapunov exponent of the random product (Furstenberg & Kesten 1960; for SGD: Wu, Ma & E 2018,
"dynamical stability"; Ziyin et al. 2023, "probabilistic stability" phase diagrams)

    lambda_1(lr, B) = lim (1/k) log ||(I - lr H_{B_k}) ... (I - lr H_{B_1}) x||     per iteration,

- ``lambda_1 > 0`` (CI above 0): *unstable*, ``||x_k||`` grows like ``e^(lambda_1 k)`` until
  the quadratic picture ends; escape from radius ``R`` takes ``log(R) / lambda_1 + O(1)``;
- ``lambda_1 < 0``: *stable*; the iterates have a stationary law with Kesten tail index
  ``alpha_K`` (root of ``Lambda(s) = 0``, paper 001), ``P(||x|| > R) ~ C R^(-alpha_K)``, and the
  mean escape time from radius ``R`` grows like ``R^alpha_K``;
- otherwise *marginal*.

Both come from :mod:`levydyn.kesten` (renormalised products; cloning for ``Lambda(s)``), with
CIs. :func:`measure_minibatch_model` turns a trained network into the model (L-BFGS minimum,
per-sample gradients, Gauss-Newton factors, exact Hessian for the remainder);
:func:`stability_diagram` evaluates the grid; :func:`plot_stability` draws the heat map.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from levydyn.results import Estimate
from nn_bridge.curvature.minibatch_model import MinibatchModel
from nn_bridge.report import figure, save_figure

__all__ = ["StabilityDiagram", "describe_stability", "stability_cell", "stability_diagram", "plot_stability",
           "measure_minibatch_model", "REGIMES"]

REGIMES = ("stable", "marginal", "unstable")


def stability_cell(law, lr: float, *, lyap_paths: int = 64, lyap_steps: int = 1000,
                   tail: bool = True, tail_particles: int = 128, tail_replicas: int = 4,
                   tail_steps: int = 200, seed: int = 0, reachable: bool = True,
                   subspace=None) -> dict:
    """``lambda_1`` (CI), the regime and, where stable and ``tail``, ``alpha_K`` (CI) of one cell.

    With ``reachable`` (an :class:`~levydyn.kesten.EmpiricalMinibatch` law) the same on the
    subspace the iterates reach from ``w*`` (:func:`levydyn.kesten.reachable_subspace`):
    ``lambda_1_reachable``, ``alpha_K_reachable``, ``reachable_dim``; the cell's ``regime``
    is then that of the reachable recursion and ``regime_full`` the full-space one (whose
    exponent may sit at the weight-decay floor ``log(1 - lr wd)`` of directions no
    per-sample gradient or factor reaches, issue 28). ``subspace``: that subspace if already
    known (:meth:`MinibatchModel.reachable`; it is the same for every cell)."""
    from levydyn.kesten import EmpiricalMinibatch, reachable_subspace

    t0 = time.perf_counter()
    full = _exponent_and_tail(law, lr, lyap_paths, lyap_steps, tail, tail_particles,
                              tail_replicas, tail_steps, seed)
    out = {"lambda_1": full[0], "alpha_K": full[1], "regime": full[2]}
    if reachable and isinstance(law, EmpiricalMinibatch):
        sub = reachable_subspace(law) if subspace is None else subspace
        lam, alpha, regime = _exponent_and_tail(sub.at_batch_size(law.batch_size), lr, lyap_paths, lyap_steps, tail,
                                                tail_particles, tail_replicas, tail_steps, seed)
        out.update(lambda_1_reachable=lam, alpha_K_reachable=alpha, regime=regime,
                   regime_full=full[2], reachable_dim=sub.dim,
                   reachable_invariance_error=sub.invariance_error)
    out["wall_time_s"] = time.perf_counter() - t0
    return out


def _exponent_and_tail(law, lr, lyap_paths, lyap_steps, tail, tail_particles, tail_replicas,
                       tail_steps, seed):
    from levydyn.kesten import lyapunov_exponent, tail_index

    lam = lyapunov_exponent(law, lr, n_paths=lyap_paths, n_steps=lyap_steps, seed=seed)
    regime = "unstable" if lam.low > 0 else "stable" if lam.high < 0 else "marginal"
    alpha = None
    if regime == "stable" and tail:
        alpha = tail_index(law, lr, n_particles=tail_particles, n_replicas=tail_replicas,
                           n_steps=tail_steps, n_burn=max(1, tail_steps // 4), seed=seed)
    return lam, alpha, regime


def describe_stability(c: dict) -> str:
    """One line: the reachable exponent and verdict (when present) beside the full-space one."""
    a = c.get("alpha_K_reachable", c["alpha_K"]) if "lambda_1_reachable" in c else c["alpha_K"]
    if "lambda_1_reachable" in c:
        head = (f"lambda_1 reachable (dim {c['reachable_dim']}) = {c['lambda_1_reachable']} "
                f"({c['regime']}); full space = {c['lambda_1']} ({c['regime_full']})")
    else:
        head = f"lambda_1 = {c['lambda_1']} ({c['regime']})"
    return head + (f", alpha_K = {a}" if a is not None else "")


@dataclass
class StabilityDiagram:
    """``lambda_1`` and ``alpha_K`` on the grid ``batch_sizes x lrs`` (rows: B, columns: lr)."""

    lrs: tuple
    batch_sizes: tuple
    cells: dict                     # (B, lr) -> stability_cell dict
    model: dict = field(default_factory=dict)
    wall_time: float = 0.0

    @property
    def reachable(self) -> bool:
        """Whether the cells carry the reachable-subspace exponent (the diagram's verdict)."""
        return all("lambda_1_reachable" in c for c in self.cells.values())

    def grid(self, what: str = "lambda_1", part: str = "value") -> np.ndarray:
        out = np.full((len(self.batch_sizes), len(self.lrs)), np.nan)
        for i, B in enumerate(self.batch_sizes):
            for j, lr in enumerate(self.lrs):
                e = self.cells[(B, lr)].get(what)
                if e is not None:
                    out[i, j] = getattr(e, part)
        return out

    def report(self) -> dict:
        from nn_bridge.training.checkpoint import json_safe

        def est(e: Estimate | None):
            return None if e is None else {"value": e.value, "low": e.low, "high": e.high,
                                           "level": e.level, "method": e.method}

        cells = [{"batch_size": B, "lr": lr, "lambda_1": est(c["lambda_1"]),
                  "alpha_K": est(c["alpha_K"]), "regime": c["regime"],
                  **({"lambda_1_reachable": est(c["lambda_1_reachable"]),
                      "alpha_K_reachable": est(c["alpha_K_reachable"]),
                      "regime_full": c["regime_full"], "reachable_dim": c["reachable_dim"]}
                     if "lambda_1_reachable" in c else {}),
                  "wall_time_s": c["wall_time_s"]}
                 for (B, lr), c in sorted(self.cells.items())]
        return json_safe({"schema": "levydyn.nn_stability/1",
                          "recursion": "x' = (I - lr H_B) x - lr u_B (levydyn.kesten, empirical "
                                       "minibatch law, Gauss-Newton per-sample curvature)",
                          "time_unit": "lambda_1 per SGD iteration",
                          "lrs": list(self.lrs), "batch_sizes": list(self.batch_sizes),
                          "model": self.model, "cells": cells, "wall_time_s": self.wall_time})


def stability_diagram(model: MinibatchModel, lrs=None, batch_sizes=None, *,
                      remainder: bool = False,
                      log: Callable[[str], None] = lambda s: None, **kw) -> StabilityDiagram:
    """Every cell of ``batch_sizes x lrs`` (default: the profile's grid; values outside it
    are refused with a one-line ValueError). ``kw`` go to :func:`stability_cell`."""
    lrs = tuple(model.lrs if lrs is None else (model.check_lr(v) for v in lrs))
    bs = tuple(model.batch_sizes if batch_sizes is None
               else (model.check_batch_size(b) for b in batch_sizes))
    t0 = time.perf_counter()
    cells = {}
    for B in bs:
        law = model.law(B, remainder=remainder)
        for lr in lrs:
            c = stability_cell(law, lr, subspace=model.reachable(remainder)
                               if kw.get("reachable", True) else None, **kw)
            cells[(B, lr)] = c
            log(f"B={B} lr={lr:g}: {describe_stability(c)}  [{c['wall_time_s']:.1f}s]")
    meta = {"dataset": model.dataset, "n_samples": model.n_samples, "n_params": model.n_params,
            "factor_rank": model.rank, "weights_sha256": model.weights_sha256,
            "curvature": "Gauss-Newton factors" + (" + dense remainder R" if remainder else ""),
            "weight_decay": model.weight_decay, "factor_error": model.factor_error}
    return StabilityDiagram(lrs, bs, cells, meta, time.perf_counter() - t0)


def plot_stability(diagram: StabilityDiagram, path: str | Path) -> Path:
    """Heat map of ``lambda_1`` (diverging colours around 0) with ``alpha_K`` written in the
    stable cells and the CI's sign in the others."""
    from matplotlib.colors import TwoSlopeNorm

    lam_key, a_key = (("lambda_1_reachable", "alpha_K_reachable") if diagram.reachable
                      else ("lambda_1", "alpha_K"))
    lam = diagram.grid(lam_key)
    lo, hi = diagram.grid(lam_key, "low"), diagram.grid(lam_key, "high")
    al = diagram.grid(a_key)
    vmax = float(np.nanmax(np.abs(lam))) or 1.0
    fig, ax = figure(figsize=(1.3 * len(diagram.lrs) + 2.5, 0.9 * len(diagram.batch_sizes) + 1.8))
    im = ax.imshow(lam, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -vmax, vmax), origin="lower",
                   aspect="auto")
    for i in range(lam.shape[0]):
        for j in range(lam.shape[1]):
            txt = f"{lam[i, j]:+.3f}\n[{lo[i, j]:+.3f}, {hi[i, j]:+.3f}]"
            if math.isfinite(al[i, j]):
                txt += f"\nalpha_K {al[i, j]:.2g}"
            dark = math.isfinite(lam[i, j]) and abs(lam[i, j]) > 0.6 * vmax
            ax.text(j, i, txt, ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
    ax.set_xticks(range(len(diagram.lrs)), [f"{v:g}" for v in diagram.lrs])
    ax.set_yticks(range(len(diagram.batch_sizes)), [str(b) for b in diagram.batch_sizes])
    ax.set_xlabel("learning rate")
    ax.set_ylabel("batch size B")
    ds = diagram.model.get("dataset", "")
    where = " on the reachable subspace" if diagram.reachable else ""
    ax.set_title(f"top Lyapunov exponent of prod (I - lr H_B){where} per iteration"
                 f"{(' - ' + ds) if ds else ''}\n"
                 "red: unstable (escape ~ log R / lambda_1), blue: stable (tail alpha_K)",
                 fontsize=9)
    fig.colorbar(im, ax=ax, label=lam_key)
    return save_figure(fig, path, dpi=120)


def measure_minibatch_model(flat, X, y, minimum, per_sample_centered, *, lrs, batch_sizes,
                            dataset, spec: dict, trained_sha256: str = "", store=None,
                            factor_probes: int = 64, seed: int = 0,
                            log: Callable[[str], None] = lambda s: None
                            ) -> tuple[MinibatchModel, np.ndarray]:
    """The minibatch model of ``flat`` at ``minimum`` (module docstring) and the dense Hessian
    of the data loss at ``w*``. ``store`` (a ``PartStore``) caches the Hessian and factors.

    ``flat`` must hold ``w*`` (float64); ``per_sample_centered`` is ``(N, P)``
    ``grad l_n(w*) - grad CE(w*)``; ``dataset`` the :class:`~nn_bridge.data.datasets.Dataset`.
    """
    import torch

    from nn_bridge.training.checkpoint import config_key
    from nn_bridge.curvature.per_sample import exact_hessian, factor_error, gn_mean, per_sample_gn_factors
    from nn_bridge.data.models import weights_checksum

    wsum = weights_checksum(flat.model)
    key = config_key({"weights": wsum, "wd": minimum.weight_decay, "part": "hessian+gn"})
    part = None if store is None else store.load("second_order", key)
    if part is None:
        t1 = time.perf_counter()
        H = exact_hessian(flat, X, y, minimum.w, 0.0)
        F = per_sample_gn_factors(flat, X, minimum.w, y=y)
        if store is not None:
            store.save("second_order", key, hessian=H, factors=F)
        log(f"exact Hessian and per-sample Gauss-Newton factors ({time.perf_counter() - t1:.1f}s)")
    else:
        H, F = part["hessian"], part["factors"]
    R = H - gn_mean(F)
    ferr = {}
    for B in batch_sizes:
        fe = factor_error(flat, X, y, minimum.w, F, None, int(B), n=factor_probes, seed=seed)
        fr = factor_error(flat, X, y, minimum.w, F, R, int(B), n=factor_probes, seed=seed)
        ferr[str(B)] = {**fe.summary(), "with_remainder": fr.summary()}
        log(f"factored H_B vs exact (B={B}, {fe.n} random (batch, v)): relative error median "
            f"{fe.median:.3f}, mean {fe.mean:.3f}, q90 {fe.q90:.3f}; with the remainder R: "
            f"median {fr.median:.3f}, mean {fr.mean:.3f}; full-batch H instead: "
            f"{fr.mean_only:.3f}")
    G = torch.as_tensor(per_sample_centered).numpy()
    mbm = MinibatchModel(G, F, R, minimum.w, minimum.weight_decay, lrs, batch_sizes, wsum,
                         dataset=dataset.name, dataset_checksum=dataset.checksum, model=spec,
                         layer_names=flat.layout.names, layer_shapes=flat.layout.shapes,
                         factor_error=ferr, seed=seed,
                         extra={"trained_weights_sha256": trained_sha256,
                                "remainder_frob_share": float(np.linalg.norm(R)
                                                              / np.linalg.norm(H)),
                                "at": "w* (find_minimum)"})
    return mbm, H


def load_stability_json(path: str | Path) -> dict:
    """Read a ``levydyn nn stability --json`` file (for tests and the README)."""
    return json.loads(Path(path).read_text())
