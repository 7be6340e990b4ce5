"""Fitting mean escape time against the learning rate (and batch size): Levy vs Gaussian.

Both theories, each with two free parameters per curve (paper 004, Fig. 3 fits "with the
same amount of free parameters"), in iterations ``tau`` (SDE time / lr):

- **Levy** (paper 004 eq. 17 at a single dominant tail index; paper 000 Thm 1): the exit
  rate in SDE time is ``sum_i c eps_i^alpha r^-alpha``, ``eps = lr^(1 - 1/alpha) sigma``,
  so ``E sigma_SDE ~ lr^(1 - alpha)`` and

      log tau = c - alpha log(lr)                      (+ (alpha - 1) log B across batch sizes,
                                                          GCLT: sigma_B ~ B^(1/alpha - 1));

  ``alpha`` fitted, or fixed to the measured value (then one free parameter).
- **Gaussian / Kramers** (Xie, Sato & Sugiyama 2020; Mori et al. 2021): noise covariance
  ``C / B``, diffusion ``lr C / (2B)``, barrier ``Delta U``:

      log tau = c - log(lr) + K / lr                   (K ~ 2 B Delta U / h_e: linear in B).

Weighted least squares in ``log tau`` with weights from the measured CIs
(``se = (log high - log low) / (2 z)``); censored cells (no estimate) are left out and
counted. Goodness of fit: ``chi2 / dof`` (dof = points - parameters) and ``R^2`` in log space.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

__all__ = ["CurveFit", "fit_levy", "fit_gaussian", "fit_levy_batch", "fit_gaussian_batch",
           "fit_escape_table", "log_se", "wls"]


@dataclass(frozen=True)
class CurveFit:
    """A weighted least-squares fit of ``log tau``.

    ``params``: name -> value; ``se``: name -> standard error (scaled by
    ``sqrt(chi2/dof)`` when that exceeds 1); ``chi2_dof``, ``r2``, ``n`` points used,
    ``n_left_out`` (censored / non-finite), ``predict(x)`` for plots.
    """

    model: str
    params: dict
    se: dict
    chi2_dof: float
    r2: float
    n: int
    n_left_out: int
    x_name: str

    def predict(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        p = self.params
        if self.model == "levy":
            return np.exp(p["c"] - p["alpha"] * np.log(x))
        if self.model == "gaussian":
            return np.exp(p["c"] - np.log(x) + p["K"] / x)
        if self.model == "levy_batch":
            return np.exp(p["c"] + (p["alpha"] - 1.0) * np.log(x))
        return np.exp(p["c"] + p["K"] * x)

    def to_dict(self) -> dict:
        return asdict(self)


def log_se(value, low, high, level: float = 0.95) -> np.ndarray:
    """Standard error of ``log tau`` from a CI (``inf``/NaN when the CI is open)."""
    z = float(stats.norm.ppf(0.5 + level / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.log(np.asarray(high, float)) - np.log(np.asarray(low, float))) / (2 * z)


def _prepare(x, tau, se):
    x = np.asarray(x, dtype=float)
    tau = np.asarray(tau, dtype=float)
    se = np.broadcast_to(np.asarray(se, dtype=float), tau.shape)
    if x.shape != tau.shape:
        raise ValueError(f"x and tau must have the same length, got {x.shape} and {tau.shape}")
    if np.any(~(x > 0)):
        raise ValueError(f"x: learning rates / batch sizes must be positive, got {x.tolist()}")
    ok = np.isfinite(tau) & (tau > 0) & np.isfinite(se) & (se > 0)
    return x[ok], np.log(tau[ok]), se[ok], int((~ok).sum())


def wls(A, b, se, scale: bool = True) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Weighted least squares ``b ~ A beta`` with independent errors ``se``: minimises
    ``chi2 = sum((b - A beta)^2 / se^2)``; ``cov = (A^T W A)^-1``, ``W = diag(se^-2)``.

    Returns ``(beta, se_beta, chi2, dof)`` with ``dof = rows - columns``; ``scale``
    multiplies ``se_beta`` by ``sqrt(chi2 / dof)`` when that exceeds 1 (Birge ratio: the
    scatter is larger than the quoted errors). One ValueError when ``dof < 0``.
    """
    A, b, se = np.asarray(A, float), np.asarray(b, float), np.asarray(se, float)
    n, p = A.shape
    if n < p:
        raise ValueError(f"fit: needs at least {p} points, got {n}")
    w = 1.0 / se
    coef, *_ = np.linalg.lstsq(A * w[:, None], b * w, rcond=None)
    chi2 = float((((b - A @ coef) * w) ** 2).sum())
    dof = n - p
    cov = np.linalg.pinv((A * w[:, None]).T @ (A * w[:, None]))
    factor = max(1.0, chi2 / dof) if (scale and dof > 0) else 1.0
    return coef, np.sqrt(np.diag(cov) * factor), chi2, dof


def _wls(A, b, se, names, model, n_left, x_name, fixed=None) -> CurveFit:
    n, p = A.shape
    if n < p:
        raise ValueError(f"{model} fit: needs at least {p} uncensored points, got {n}")
    coef, se_c, chi2, dof = wls(A, b, se)
    resid = b - A @ coef
    chi2_dof = chi2 / dof if dof > 0 else math.nan
    ss_tot = float(((b - b.mean()) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / ss_tot if ss_tot > 0 else math.nan
    params = dict(zip(names, coef.tolist()))
    ses = dict(zip(names, se_c.tolist()))
    if fixed:
        params.update(fixed)
        ses.update({k: 0.0 for k in fixed})
    return CurveFit(model=model, params=params, se=ses, chi2_dof=chi2_dof, r2=r2, n=n,
                    n_left_out=n_left, x_name=x_name)


def fit_levy(lr, tau, se, alpha: float | None = None) -> CurveFit:
    """``log tau = c - alpha log lr``; ``alpha=None`` fits it, a number fixes it."""
    x, b, s, nl = _prepare(lr, tau, se)
    if alpha is None:
        A = np.stack([np.ones_like(x), -np.log(x)], axis=1)
        return _wls(A, b, s, ["c", "alpha"], "levy", nl, "lr")
    a = float(alpha)
    if not 0 < a <= 2:
        raise ValueError(f"alpha={alpha!r}: must lie in (0, 2]")
    return _wls(np.ones((x.size, 1)), b + a * np.log(x), s, ["c"], "levy", nl, "lr",
                fixed={"alpha": a})


def fit_gaussian(lr, tau, se) -> CurveFit:
    """``log tau = c - log lr + K / lr`` (Kramers / Xie et al. 2020)."""
    x, b, s, nl = _prepare(lr, tau, se)
    A = np.stack([np.ones_like(x), 1.0 / x], axis=1)
    return _wls(A, b + np.log(x), s, ["c", "K"], "gaussian", nl, "lr")


def fit_levy_batch(batch, tau, se) -> CurveFit:
    """At fixed lr: ``log tau = c + (alpha - 1) log B`` (GCLT scaling of sigma with B)."""
    x, b, s, nl = _prepare(batch, tau, se)
    A = np.stack([np.ones_like(x), np.log(x)], axis=1)
    f = _wls(A, b, s, ["c", "slope"], "levy_batch", nl, "batch_size")
    params = {"c": f.params["c"], "alpha": f.params["slope"] + 1.0}
    return CurveFit("levy_batch", params, {"c": f.se["c"], "alpha": f.se["slope"]}, f.chi2_dof,
                    f.r2, f.n, f.n_left_out, "batch_size")


def fit_gaussian_batch(batch, tau, se) -> CurveFit:
    """At fixed lr: ``log tau = c + K B`` (Kramers with diffusion ~ 1/B)."""
    x, b, s, nl = _prepare(batch, tau, se)
    A = np.stack([np.ones_like(x), x], axis=1)
    return _wls(A, b, s, ["c", "K"], "gaussian_batch", nl, "batch_size")


def fit_escape_table(rows, alpha_measured: dict | None = None, level: float = 0.95) -> dict:
    """All fits of a study's measured mean escape times.

    ``rows``: ``(batch_size, lr, value, low, high)`` per cell (``inf``/NaN for censored).
    Returns ``{"vs_lr": {B: {"levy_free", "levy_measured_alpha", "gaussian", ...}},
    "vs_batch": {lr: {"levy", "gaussian"}}}``; a fit that cannot be made (too few
    uncensored points) is replaced by its error message. ``alpha_measured[B]`` fixes alpha
    in ``levy_measured_alpha`` (capped at 2). A cell whose estimate is a bound (finite
    value, ``high = inf``: :attr:`levydyn.intervals.Estimate.is_bound`) is no mean: it is
    left out of every fit and listed, with the reason, under ``"bounds_left_out"`` of its
    curve.
    """
    rows = [tuple(float(v) for v in r) for r in rows]
    alpha_measured = alpha_measured or {}
    bounds = [r for r in rows if _is_bound(r)]
    # a bound (levydyn.intervals.Estimate.is_bound: value = restricted mean, high = inf) says
    # only mean >= value: never fitted as a mean, listed with the reason
    rows = [(B, lr, math.nan, lo, hi) if _is_bound((B, lr, v, lo, hi)) else (B, lr, v, lo, hi)
            for B, lr, v, lo, hi in rows]

    def attempt(fn):
        try:
            return fn()
        except ValueError as exc:
            return str(exc)

    out: dict = {"vs_lr": {}, "vs_batch": {}}
    for B in sorted({r[0] for r in rows}):
        sel = np.array([r for r in rows if r[0] == B])
        lr, tau = sel[:, 1], sel[:, 2]
        se = log_se(tau, sel[:, 3], sel[:, 4], level)
        f: dict = {"levy_free": attempt(lambda: fit_levy(lr, tau, se)),
                   "gaussian": attempt(lambda: fit_gaussian(lr, tau, se))}
        a = alpha_measured.get(int(B))
        if a is not None and np.isfinite(a):
            f["alpha_measured_median"] = float(a)
            f["levy_measured_alpha"] = attempt(lambda: fit_levy(lr, tau, se, alpha=min(a, 2.0)))
        f.update(_bounds_left_out([r for r in bounds if r[0] == B], "lr"))
        out["vs_lr"][int(B)] = f
    for lr in sorted({r[1] for r in rows}):
        sel = np.array([r for r in rows if r[1] == lr])
        if sel.shape[0] < 3:
            continue
        se = log_se(sel[:, 2], sel[:, 3], sel[:, 4], level)
        out["vs_batch"][lr] = {"levy": attempt(lambda: fit_levy_batch(sel[:, 0], sel[:, 2], se)),
                               "gaussian": attempt(lambda: fit_gaussian_batch(sel[:, 0],
                                                                              sel[:, 2], se)),
                             **_bounds_left_out([r for r in bounds if r[1] == lr],
                                                "batch_size")}
    return out


def _is_bound(row) -> bool:
    """A cell whose estimate is a one-sided bound (finite value, ``high = inf``)."""
    _, _, value, _, high = row
    return math.isfinite(value) and high == math.inf


def _bounds_left_out(bounds, x_name: str) -> dict:
    """``{"bounds_left_out": [...]}`` for the bound cells of one curve (empty dict if none)."""
    if not bounds:
        return {}
    return {"bounds_left_out": [
        {x_name: (r[1] if x_name == "lr" else int(r[0])), "mean_at_least": r[2],
         "reason": "the estimate is a lower bound (mean >= value: too few exits to "
                   "extrapolate the censored mean), not a mean: left out of the fit"}
        for r in bounds]}
