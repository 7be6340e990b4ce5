"""The ladder of models that predict a network's escapes from ``w*``, and how each is run.

Each rung changes one assumption of the one below it (``nn_bridge.escape.study``)::

    (a) "levy"  levydyn simulation of the per-parameter SaS Problem (``bridge``)
    (c) "gauss" levydyn simulation of the alpha = 2 twin (same variances)
    (d) "lin_gauss"  linearised SGD, Gaussian noise with the full covariance
    (e) "lin_minibatch" linearised SGD with the true minibatch noise at w*
    (f) "multiplicative" levydyn.kesten: x' = (I - lr H_B) x - lr u_B with per-sample
        Gauss-Newton curvature (minibatch-model profile; the shared remainder R is left
        out, see MinibatchModel.law)
    (f') "multiplicative_exact" the same recursion with exact per-sample Hessian-vector
        products (torch): the cost of the factorisation
    (g) "nonlinear_frozen" true full-batch gradient + noise frozen at w*
    (h) "nonlinear_multiplicative" (g) + (H_B - H)(w - w*)
    (i) "nonlinear_gauss" the network's landscape, Gaussian noise with the exact covariance
        of the minibatch noise at every w (``curvature.local_gauss``): the network but for
        the noise's shape (paper 003's view); not run unless asked (a full-batch gradient per step)

Time: predictions are simulated with ``dt = lr`` and reported in iterations (``t / lr``),
the unit of the measurement.
"""
from __future__ import annotations

from dataclasses import replace
import numpy as np

from levydyn.simulate import simulate
from nn_bridge.curvature.linearized import LinearizedGradient
from nn_bridge.curvature.local_gauss import LocalGaussianGradient
from nn_bridge.curvature.second_order import KINDS as SECOND_ORDER
from nn_bridge.curvature.second_order import SecondOrderGradient
from nn_bridge.escape.basin import Basin
from nn_bridge.escape.bridge import Bridge, build_bridge
from nn_bridge.escape.config import LADDER, MODEL_LABELS, MODELS
from nn_bridge.escape.experiment import EscapeConfig, NetworkEscape, run_escape

__all__ = ["MODELS", "MODEL_LABELS", "LADDER", "SECOND_ORDER", "predict_escape",
           "escape_from_levydyn", "escape_from_kesten", "predict_from_profile"]

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
                   n_paths: int, reachable: bool = False) -> NetworkEscape:
    """Predicted escapes of one model (module docstring) for the experiment ``config``.

    ``reachable``: run rung (f) on the subspace its iterates reach from ``w*``
    (:meth:`MinibatchModel.reachable`): the same recursion and the same escape times (the
    ball's norm is kept by the orthonormal basis), several times cheaper, but the exit
    coordinate is then not a parameter (``exit_param`` -1)."""
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
        from levydyn.model.domains import Ball
        from levydyn.kesten import Recursion
        from levydyn.kesten import simulate as kesten_simulate

        mb = basin.minibatch
        law = (mb.reachable().at_batch_size(config.batch_size) if reachable
               else mb.law(config.batch_size, remainder=False))
        rec = Recursion(law, lr, domain=Ball(np.zeros(law.dim), config.radius))
        res = kesten_simulate(rec, n_paths=n_paths, max_steps=config.max_iter,
                              seed=config.seed, classify=False)
        if reachable:
            res.axis[:] = -1
        return escape_from_kesten(res, basin.flat.layer_of(), basin.layer_names, config)
    if model in SECOND_ORDER:
        orc = SecondOrderGradient(basin.flat, basin.X, basin.y, basin.per_sample_centered,
                                  basin.minimum.w, basin.hessian, config.batch_size,
                                  basin.minimum.weight_decay, model)
        cfg = replace(config, n_seeds=n_paths, loss_rise=None)
        return run_escape(orc, basin.minimum.w, cfg)
    if model == "nonlinear_gauss":
        orc = LocalGaussianGradient(basin.flat, basin.X, basin.y, config.batch_size,
                                    basin.minimum.weight_decay)
        cfg = replace(config, n_seeds=n_paths, loss_rise=None)
        return run_escape(orc, basin.minimum.w, cfg)
    raise ValueError(f"model={model!r}: must be one of {', '.join(MODELS)}")


def predict_from_profile(profile, curvature, lrs, *, radius: float = 1.0, n_paths: int = 200,
                         max_iter: int = 3000, seed: int = 0,
                         max_axes: int | None = None) -> list[dict]:
    """Rungs (a), (b), (c) from files alone: a noise profile and the curvature at ``w*``.

    Per learning rate: ``bridge`` (:func:`build_bridge`), ``levy`` and ``gauss``
    (:class:`NetworkEscape` of the levydyn simulations, Euler with ``dt = lr``; ``gauss``
    None without the profile's noise std) and ``closed_levy`` (single-jump rate).
    """
    rows = []
    for lr in lrs:
        br = build_bridge(profile, curvature, lr, radius, max_axes=max_axes)
        cfg = EscapeConfig(lr=lr, batch_size=profile.batch_size, n_seeds=n_paths,
                           radius=radius, max_iter=max_iter, seed=seed)
        row = {"lr": lr, "bridge": br, "closed_levy": br.closed_form_levy()}
        for name, problem in (("levy", br.problem), ("gauss", br.gaussian)):
            row[name] = None if problem is None else escape_from_levydyn(
                simulate(problem, n_paths=n_paths, dt=lr, t_max=lr * max_iter, seed=seed),
                br, cfg)
        rows.append(row)
    return rows
