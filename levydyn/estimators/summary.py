"""Every estimator of this package on one sample: what ``levydyn tail-index`` reports.

:func:`summarize` takes a 2-D sample (samples x coordinates) and returns a
:class:`SampleSummary`: per-coordinate alpha and scale (SaS(1) convention,
``x = loc + scale Z``) with intervals; paper 000's pooled alpha (eq. 15 on all coordinates of
all samples concatenated, as the authors do: it mixes coordinate scales); the pooled alpha of
the standardised coordinates and the multivariate (norm-based) alpha; the atom at 0; the
Shapiro-Wilk Gaussian fraction (paper 003); the Berry-Esseen bound; the Gauss-vs-SaS fit
errors on a histogram (paper 004, Tables 1-3); optionally the Hill curve.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from levydyn.estimators.block_sums import (_block_sizes, mohammadi_alpha,
                                           mohammadi_alpha_median, mohammadi_alpha_multivariate,
                                           mohammadi_order_alpha)
from levydyn.estimators.characteristic_function import cf_regression
from levydyn.estimators.gaussianity import berry_esseen_bound, shapiro_gaussian_fraction
from levydyn.estimators.goodness_of_fit import fit_errors
from levydyn.estimators.hill import hill_alpha, hill_curve
from levydyn.estimators.intervals import ALPHA_METHODS, AUTO_ASYMPTOTIC, alpha_ci
from levydyn.estimators.quantiles import mcculloch
from levydyn.estimators.zeros import AtomWarning

__all__ = ["SampleSummary", "summarize", "center_nonzero"]


def center_nonzero(x: np.ndarray) -> np.ndarray:
    """Subtract each column's median of its nonzero samples; exact zeros stay 0.

    The median is the mean of the two central order statistics (for an odd count, the
    middle one and the next), so that no nonzero sample becomes an exact 0, which the
    estimators would take for part of an atom; samples tied at the centre are moved
    off 0 by the smallest positive float.
    """
    nz = x != 0.0
    c = nz.sum(axis=0)
    srt = np.sort(np.where(nz, x, np.inf), axis=0)          # nonzero samples first
    lo = np.clip((c - 1) // 2, 0, None)
    hi = np.minimum(c // 2 + (c % 2), np.maximum(c - 1, 0))
    cols = np.arange(x.shape[1])
    med = np.where(c > 0, 0.5 * (srt[lo, cols] + srt[hi, cols]), 0.0)
    out = np.where(nz, x - med, 0.0)
    out[nz & (out == 0.0)] = np.finfo(float).tiny
    return out


def _alpha_scale(method: str, x: np.ndarray, zeros: str, options: dict):
    """(alpha, scale) per column; scale-free estimators get McCulloch's scale."""
    if method == "cf_regression":
        return cf_regression(x, zeros=zeros)
    if method == "mcculloch":
        return mcculloch(x, zeros=zeros)
    _, scale = mcculloch(x, zeros=zeros)
    fn = {"mohammadi": mohammadi_alpha, "mohammadi_median": mohammadi_alpha_median,
          "mohammadi_order": mohammadi_order_alpha, "hill": hill_alpha}[method]
    return fn(x, zeros=zeros, **options), scale


def _mean_sd(vals) -> tuple[float, float]:
    v = np.asarray(vals, dtype=float)
    return float(np.mean(v)), float(np.std(v))


@dataclass
class SampleSummary:
    """What :func:`summarize` found (fields as in the module docstring).

    ``alpha_ci`` is None when the per-coordinate intervals were skipped (a bootstrap over
    more than ``ci_columns`` coordinates); ``pooled_keep`` the pooled alpha with the zeros
    kept (only when zeros were dropped and there are some); ``standardised`` and
    ``multivariate`` None for one coordinate; ``fit_summary`` None without fits.
    """

    method: str
    n_samples: int
    n_coordinates: int
    centered: bool
    zeros: str
    atom_fraction: np.ndarray
    constant: np.ndarray
    alpha: np.ndarray
    scale: np.ndarray
    alpha_ci: object
    pooled: object
    pooled_k1: int
    pooled_keep: float | None
    standardised: object
    multivariate: float | None
    gaussianity: object
    berry_esseen: object
    batch_size: int | None
    fit_summary: dict | None
    hill: object

    @property
    def partial_atoms(self) -> np.ndarray:
        """Coordinates with some, but not only, exact zeros."""
        return (self.atom_fraction > 0) & ~self.constant

    def to_dict(self) -> dict:
        """The summary as plain JSON data (non-finite floats left to
        :func:`levydyn.results.to_jsonable`)."""
        def ci_json(r):
            return None if r is None else {"alpha": float(r.alpha), "low": float(r.low),
                                           "high": float(r.high), "level": r.level, "ci": r.ci,
                                           "n_used": int(r.n_used)}

        floats = lambda a: [float(v) for v in np.atleast_1d(a)]  # noqa: E731
        ci, gauss, be = self.alpha_ci, self.gaussianity, self.berry_esseen
        return {
            "n_samples": self.n_samples, "n_coordinates": self.n_coordinates,
            "method": self.method, "centered": self.centered, "zeros": self.zeros,
            "alpha": floats(self.alpha), "scale": floats(self.scale),
            "alpha_ci": None if ci is None else {"level": ci.level, "ci": ci.ci,
                                                 "low": floats(ci.low), "high": floats(ci.high)},
            "atom_fraction": floats(self.atom_fraction),
            "n_constant": int(self.constant.sum()),
            "pooled_alpha_eq15": ci_json(self.pooled),
            "pooled_alpha_eq15_zeros_kept": self.pooled_keep,
            "pooled_alpha_standardised": ci_json(self.standardised),
            "multivariate_alpha": self.multivariate,
            "gaussian_fraction": float(gauss.fraction),
            "gaussian_fraction_ci": floats(gauss.fraction_ci),
            "gaussian_fraction_with_constant": float(gauss.fraction_with_constant),
            "level": gauss.level,
            "shapiro_samples": gauss.n_samples,
            "shapiro_pvalues": floats(gauss.pvalues),
            "berry_esseen": None if be is None else {
                "batch_size": self.batch_size, "constant": be.constant,
                "ratio": floats(be.ratio), "bound": floats(be.bound)},
            "fit_errors": self.fit_summary,
        }


def summarize(x, method: str = "cf_regression", *, center: bool = True, zeros: str = "drop",
              block_sizes: str = "authors", clip: bool = True, ci_level: float = 0.95,
              n_boot: int = 200, ci_columns: int = 200, level: float = 0.05,
              batch_size: int | None = None, fit_columns: int = 100, bins: int = 50,
              seed: int = 0, hill: bool = False) -> SampleSummary:
    """Run the estimators of this package on ``x`` (samples x coordinates; 1-D: one column).

    ``method`` is one of :data:`ALPHA_METHODS` (the per-coordinate estimator);
    ``center`` subtracts each coordinate's median (of its nonzero samples with
    ``zeros="drop"``, :func:`center_nonzero`) since the block-sum and Hill estimators assume
    centred data. Intervals: :func:`alpha_ci` at ``ci_level`` (bootstrapped ones only for at
    most ``ci_columns`` coordinates); ``level`` is the Shapiro-Wilk test level;
    ``fit_columns`` random coordinates (``seed``) get :func:`fit_errors` with ``bins`` bins;
    ``hill`` adds the Hill curve of the sample (1-D) or of the standardised pooled sample.
    """
    if method not in ALPHA_METHODS:
        raise ValueError(f"method must be one of {', '.join(ALPHA_METHODS)}, got method={method!r}")
    x = np.asarray(x, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    n, d = x.shape
    constant = ~np.any(x != x[:1], axis=0)
    zero_frac = np.mean(x == 0.0, axis=0)
    if center:
        x = center_nonzero(x) if zeros == "drop" else x - np.median(x, axis=0)
    options = {}
    if method.startswith("mohammadi"):
        options["clip"] = clip
    if method == "mohammadi_median":
        options["block_sizes"] = block_sizes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AtomWarning)   # reported by atom_fraction
        alpha, scale = _alpha_scale(method, x, zeros, options)
        alpha, scale = np.atleast_1d(alpha), np.atleast_1d(scale)
        ci_cols = None
        if method in AUTO_ASYMPTOTIC or d <= ci_columns:
            ci_cols = alpha_ci(x, method=method, level=ci_level, n_boot=n_boot, seed=seed,
                               zeros=zeros, **options)
        live = np.isfinite(alpha) & np.isfinite(scale) & (scale > 0)
        flat = x.reshape(-1)                       # sample by sample: paper 000's order
        pooled = alpha_ci(flat, method="mohammadi", level=ci_level, zeros=zeros, clip=clip)
        pooled_keep = None
        if zeros == "drop" and np.any(flat == 0.0):
            pooled_keep = float(mohammadi_alpha(flat, zeros="keep", clip=clip))
        std = multi = None
        if live.any() and d > 1:
            z = (x[:, live] / scale[live]).reshape(-1)
            std = alpha_ci(z, method="mohammadi", level=ci_level, zeros=zeros, clip=clip)
            multi = float(mohammadi_alpha_multivariate(x[:, live], zeros=zeros, clip=clip))
        gauss = shapiro_gaussian_fraction(x, level=level)
        be = berry_esseen_bound(x, batch_size) if batch_size else None
        fits = []
        cand = np.flatnonzero(live)
        if fit_columns and cand.size:
            rng = np.random.default_rng(seed)
            pick = np.sort(rng.choice(cand, size=min(fit_columns, cand.size), replace=False))
            for j in pick:
                v = x[:, j]
                if zeros == "drop":
                    v = v[v != 0.0]
                try:
                    fits.append(fit_errors(v, bins=bins))
                except ValueError:          # no spread between the tail quantiles
                    continue
        curve = None
        if hill:
            hx = x[:, 0] if d == 1 else (x[:, live] / scale[live]).reshape(-1)
            curve = hill_curve(hx, zeros=zeros)
    fit_summary = None
    if fits:
        fit_summary = {
            "columns": len(fits),
            "gauss_sse": _mean_sd([f.gauss_sse for f in fits]),
            "sas_sse": _mean_sd([f.sas_sse for f in fits]),
            "gauss_chi2": _mean_sd([f.gauss_chi2 for f in fits]),
            "sas_chi2": _mean_sd([f.sas_chi2 for f in fits]),
            "sas_better_fraction_chi2": float(np.mean([f.better == "sas" for f in fits])),
            "sas_better_fraction_sse": float(np.mean([f.better_sse == "sas" for f in fits])),
        }
    return SampleSummary(method, n, d, bool(center), zeros, zero_frac, constant, alpha, scale,
                         ci_cols, pooled, _block_sizes(int(pooled.n_used))[0], pooled_keep, std,
                         multi, gauss, be, batch_size, fit_summary, curve)
