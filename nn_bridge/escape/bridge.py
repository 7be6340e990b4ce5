"""From a network at a minimum to a levydyn Problem: measured alpha_i -> simulator.

SGD -> SDE conversion (paper 004, eq. 1; DESIGN.md "Time")
-----------------------------------------------------------
Near ``w*`` write ``x = w - w*``. One SGD step with learning rate ``eta`` and gradient
noise ``u_k`` whose coordinate ``i`` is ``sigma_i Z`` (``Z ~ SaS(alpha_i)``, SaS(1)
normalisation ``E exp(iwZ) = exp(-|w|^alpha)``, as in the noise profile) is

    x_{k+1} = x_k - eta grad U(x_k) - eta sigma_i Z_{k,i}.

An Euler step of ``dX = -grad U(X) dt + eps dL`` (``L`` a SaS(1) Levy process, increment
over ``dt`` equal in law to ``dt^(1/alpha) Z``) is ``x - dt grad U + eps_i dt^(1/alpha_i) Z``.
The two coincide in law (``Z`` is symmetric) when

    dt = eta,    eps_i = eta^(1 - 1/alpha_i) sigma_i      (eps_i dt^(1/alpha_i) = eta sigma_i),

so SDE time is ``t = iterations * eta`` and levydyn's Euler scheme with ``dt = eta`` *is*
the SGD recursion of the model. At ``alpha = 2`` (the Gaussian model) a noise of standard
deviation ``s_i`` is ``sigma_i = s_i / sqrt(2)`` and ``eps_i = sqrt(eta) s_i / sqrt(2)``.

The Problem (``build_bridge``)
------------------------------
- axes: the network's parameters (paper 004's one-hot noise directions ``r_l``), each with
  its measured ``alpha_i`` and ``eps_i`` from the profile. Parameters without a noise law
  (NaN: dead units, atoms) are dropped; ``max_axes`` may keep only the parameters with
  the largest Gaussian stationary spread ``s_i^2 / h_ii`` -- both reported;
- drift: ``-H x`` with ``H`` the top-``k`` Hessian eigenpairs plus a diagonal remainder
  (:mod:`nn_bridge.curvature.per_sample`), restricted to the kept axes, as a numba ``Custom``
  potential (cost ``O(P k)`` per step, not ``O(P^2)``);
- exit set: ``levydyn.model.domains.Ball(0, radius)`` -- the experiment's ``||w - w*|| > radius``;
  levydyn's exit axis (largest displacement) maps to the exit layer as in the experiment;
- the Gaussian twin: the same Problem with ``alpha_i = 2`` and the measured per-parameter
  variance (``noise_std``; for i.i.d. minibatches exactly ``per-sample std / sqrt(B)``).

What the model leaves out (and the report says): the noise's correlations across
parameters (the profile is per-parameter, paper 004's model), its dependence on ``w``,
its boundedness (finite data: ``|u_i| <= max_n |grad_i l_n - grad_i U|``, whereas SaS has
unbounded jumps), the nonlinearity of ``U`` away from ``w*``, and the off-diagonal part of
the Hessian outside its top-``k`` eigenspace.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from levydyn.model.domains import Ball
from levydyn.model.potentials import Custom
from levydyn.model.problem import Problem
from levydyn.theory import box as box_theory
from levydyn.theory import gaussian as gauss_theory
from nn_bridge.curvature.per_sample import Curvature
from nn_bridge.data.flat import positive, positive_int
from nn_bridge.noise.profile import NoiseProfile

__all__ = ["sgd_to_sde_eps", "gaussian_eps", "iterations_to_sde_time",
           "sde_time_to_iterations", "lowrank_potential", "Bridge", "build_bridge"]


def sgd_to_sde_eps(sigma, alpha, lr: float) -> np.ndarray:
    """``eps_i = lr^(1 - 1/alpha_i) sigma_i``: SDE noise level of SGD noise ``sigma_i SaS(alpha_i)``
    with ``dt = lr`` (module docstring; ``NoiseProfile.sde_eps`` at the profile's own lr)."""
    lr = positive("lr", lr)
    a = np.asarray(alpha, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return lr ** (1.0 - 1.0 / a) * np.asarray(sigma, dtype=float)


def gaussian_eps(noise_std, lr: float) -> np.ndarray:
    """``eps_i = sqrt(lr) s_i / sqrt(2)``: the alpha = 2 level of noise with standard deviation ``s_i``."""
    lr = positive("lr", lr)
    return math.sqrt(lr) * np.asarray(noise_std, dtype=float) / math.sqrt(2.0)


def iterations_to_sde_time(k, lr: float):
    """``t = k * lr``."""
    return np.asarray(k, dtype=float) * positive("lr", lr)


def sde_time_to_iterations(t, lr: float):
    """``k = t / lr``."""
    return np.asarray(t, dtype=float) / positive("lr", lr)


@nb.njit(cache=True)
def _grad_lowrank_diag(x, params, out):
    # params = [k, d_1..d_n, lam_1..lam_k, V (n x k, row-major)]:  out = d*x + V (lam * V^T x)
    n = x.shape[0]
    k = int(params[0])
    od = 1
    ol = od + n
    ov = ol + k
    for i in range(n):
        out[i] = params[od + i] * x[i]
    for j in range(k):
        s = 0.0
        for i in range(n):
            s += params[ov + i * k + j] * x[i]
        s *= params[ol + j]
        if s != 0.0:
            for i in range(n):
                out[i] += params[ov + i * k + j] * s


def lowrank_potential(curvature: Curvature, axes: np.ndarray | None = None) -> Custom:
    """``U(x) = x^T H_k x / 2`` with the reduced ``H_k`` (top-k + diagonal) restricted to ``axes``."""
    d, _ = curvature.remainder_diag()
    V, lam = curvature.eigvecs, curvature.eigvals
    if axes is not None:
        d, V = d[axes], V[axes]
    params = np.concatenate([[float(lam.size)], d, lam, np.ascontiguousarray(V).ravel()])
    return Custom(_grad_lowrank_diag, int(d.size), params, np.zeros(d.size),
                  scale=1.0)


def _module_name(param_name: str) -> str:
    parts = param_name.split(".")
    return parts[-2] if len(parts) >= 2 else param_name


@dataclass
class Bridge:
    """A levydyn Problem (and its Gaussian twin) for one network, lr and radius."""

    problem: Problem
    gaussian: Problem | None
    axes: np.ndarray
    axis_layer: np.ndarray
    layer_names: list[str]
    lr: float
    radius: float
    batch_size: int
    reduction: dict = field(default_factory=dict)

    def layer_distribution(self, axis: np.ndarray, exited: np.ndarray) -> np.ndarray:
        """Counts of exits per layer from levydyn exit axes."""
        ok = exited & (axis >= 0)
        return np.bincount(self.axis_layer[axis[ok]], minlength=len(self.layer_names))

    def closed_form_levy(self) -> dict:
        """Small-noise single-jump exit (paper 004 Thm 4.3 / eqs. 12-13 at s = 1; levydyn
        ``theory.box`` with ``d-_i = d+_i = radius`` on every axis, ``measure="sas"``).

        From ``w*`` a jump of coordinate ``i`` larger than ``radius`` leaves the ball;
        these arrive at rates ``lambda_i = 2 c_alpha_i eps_i^alpha_i radius^-alpha_i / alpha_i``.
        Returns the mean exit time (SDE time and iterations), the exit rate per iteration
        and the exit-layer probabilities.
        """
        a, e = self.problem.alpha, self.problem.eps
        heavy = a < 2.0
        if not heavy.any():
            return {"mean_time": math.inf, "mean_iterations": math.inf, "layer_p": None}
        r = np.full(int(heavy.sum()), self.radius)
        rates = box_theory.axis_rates(a[heavy], e[heavy], r, r, measure="sas")
        lam = float(rates.sum())
        per_layer = np.bincount(self.axis_layer[heavy], weights=rates,
                                minlength=len(self.layer_names)) / lam
        return {"mean_time": 1.0 / lam, "mean_iterations": 1.0 / (lam * self.lr),
                "rate_per_iteration": lam * self.lr,
                "layer_p": dict(zip(self.layer_names, per_layer.tolist()))}

    def closed_form_gaussian(self, curvature: Curvature) -> dict:
        """alpha = 2 model: stationary covariance and a 1-D Kramers estimate.

        ``Sigma`` solves ``H Sigma + Sigma H = 2 diag(eps^2)`` (OU with SaS(1) = N(0, 2)
        noise); ``sqrt(tr Sigma)`` is the stationary RMS radius (when it is not well below
        ``radius`` the exit is no rare event). The closed form is the exact 1-D mean exit
        time of ``(-radius, radius)`` (``theory.gaussian.quadratic_mean_exit_time``) of the OU
        projected on the top eigenvector ``u`` of ``Sigma`` (curvature ``u^T H u``, level
        ``sqrt(u^T diag(eps^2) u)``). It ignores the other directions' share of ``||x||``,
        so it over-estimates the ball's exit time.
        """
        if self.gaussian is None:
            return {}
        from scipy.linalg import solve_continuous_lyapunov

        H = _restricted_dense(curvature, self.axes)
        D = np.diag(self.gaussian.eps ** 2)
        Sig = solve_continuous_lyapunov(H, 2.0 * D)
        Sig = 0.5 * (Sig + Sig.T)
        ev, U = np.linalg.eigh(Sig)
        u = U[:, -1]
        h_u = float(u @ H @ u)
        e_u = float(math.sqrt(u @ D @ u))
        rms = float(math.sqrt(max(np.trace(Sig), 0.0)))
        try:
            t = gauss_theory.quadratic_mean_exit_time(e_u, self.radius, self.radius, curvature=h_u)
        except (ValueError, OverflowError, ZeroDivisionError):
            t = math.nan
        return {"stationary_rms_radius": rms, "top_direction_std": float(math.sqrt(ev[-1])),
                "mean_time_1d": t, "mean_iterations_1d": t / self.lr}


def _restricted_dense(curvature: Curvature, axes: np.ndarray) -> np.ndarray:
    d, _ = curvature.remainder_diag()
    V = curvature.eigvecs[axes]
    return (V * curvature.eigvals) @ V.T + np.diag(d[axes])


def build_bridge(profile: NoiseProfile, curvature: Curvature, lr: float, radius: float, *,
                 noise_std=None, max_axes: int | None = None) -> Bridge:
    """The levydyn Problem of the network described by ``profile`` and ``curvature``.

    Parameters
    ----------
    profile : per-parameter ``alpha_i, sigma_i`` at the escape batch size (its ``lr``
        field is ignored: ``eps_i`` uses the escape ``lr``).
    curvature : Hessian of ``U`` at ``w*`` (same parameter order).
    lr : learning rate of the escape runs (``dt = lr``).
    radius : the exit ball's radius.
    noise_std : per-parameter standard deviation of the minibatch noise, for the Gaussian
        twin (default ``profile.extra["noise_std"]`` when present, else no twin).
    max_axes : keep at most this many parameters (largest ``s_i^2 / h_ii``); ``None``: all.
    """
    lr = positive("lr", lr)
    radius = positive("radius", radius)
    P = profile.alpha.size
    if curvature.n_params != P:
        raise ValueError(f"curvature: has {curvature.n_params} parameters, profile has {P}")
    if noise_std is None and "noise_std" in profile.extra:
        noise_std = profile.extra["noise_std"]
    std = None
    if noise_std is not None:
        std = np.asarray(noise_std, dtype=float)
        if std.shape != (P,):
            raise ValueError(f"noise_std: expected {P} values, got shape {std.shape}")
    live = np.isfinite(profile.alpha) & np.isfinite(profile.sigma) & (profile.sigma > 0)
    if std is not None:
        live &= np.isfinite(std) & (std > 0)
    axes = np.flatnonzero(live)
    if axes.size == 0:
        raise ValueError("profile: no parameter has a finite noise law (all alpha_i NaN)")
    hdiag = np.maximum(curvature.diag, 1e-12 * max(float(np.abs(curvature.diag).max()), 1e-300))
    spread = (std if std is not None else profile.sigma) ** 2 / hdiag
    n_live = axes.size
    if max_axes is not None:
        max_axes = positive_int("max_axes", max_axes)
        if axes.size > max_axes:
            order = np.argsort(spread[axes])[::-1]
            axes = np.sort(axes[order[:max_axes]])
    kept_spread = float(spread[axes].sum() / spread[np.flatnonzero(live)].sum())
    layer_names = []
    for n in profile.layer_names:
        m = _module_name(n)
        if m not in layer_names:
            layer_names.append(m)
    param_layer = np.array([layer_names.index(_module_name(n)) for n in profile.layer_names])
    axis_layer = param_layer[profile.layer_index()][axes]
    pot = lowrank_potential(curvature, axes)
    ball = Ball(np.zeros(axes.size), radius)
    alpha = profile.alpha[axes]
    eps = sgd_to_sde_eps(profile.sigma[axes], alpha, lr)
    problem = Problem(pot, alpha, eps, ball)
    gproblem = None
    if std is not None:
        gproblem = Problem(pot, 2.0, gaussian_eps(std[axes], lr), ball)
    _, clipped = curvature.remainder_diag()
    reduction = {
        "n_params": int(P), "n_axes": int(axes.size),
        "dropped_no_noise_law": int(P - n_live), "dropped_by_max_axes": int(n_live - axes.size),
        "kept_gaussian_spread_share": kept_spread,
        "hessian": f"top-{curvature.k} eigenpairs + diagonal remainder ({curvature.method})",
        "hessian_top_k_trace_share": float(curvature.eigvals.sum() / curvature.trace)
        if curvature.trace else None,
        "hessian_frob_rel_error": curvature.frob_rel_error,
        "hessian_remainder_clipped": clipped,
        "noise": "independent per parameter (profile); cross-parameter correlations dropped",
    }
    return Bridge(problem=problem, gaussian=gproblem, axes=axes, axis_layer=axis_layer,
                  layer_names=layer_names, lr=lr, radius=radius,
                  batch_size=int(profile.batch_size), reduction=reduction)
