"""Gaussian vs SaS goodness of fit on a histogram (paper 004, Tables 1-3).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from levydyn.estimators.characteristic_function import cf_regression
from levydyn.estimators.samples import MIN_SAMPLES, _as_columns


# ---------------------------------------------------------------------------------
# Gaussian vs SaS goodness of fit on a histogram (paper 004 Tables 1-3)
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FitErrors:
    """Histogram fit errors of a Gaussian and a SaS fit to one sample (paper 004 Tables 1-3).

    gauss_sse, sas_sse : sum over the finite bins of (histogram density - model mean
        density over the bin)^2.
    gauss_chi2, sas_chi2 : Pearson ``sum (O - E)^2 / E`` over the finite bins plus the
        two tail bins beyond them.
    better : "sas" or "gauss", the model with the smaller chi-square.
    better_sse : the model with the smaller SSE.
    gauss : (mean, std) of the Gaussian ML fit.
    sas : (alpha, scale, loc) of the SaS fit (cf_regression, median as loc).
    edges : bin edges of the finite bins.
    """

    gauss_sse: float
    sas_sse: float
    gauss_chi2: float
    sas_chi2: float
    better: str
    better_sse: str
    gauss: tuple[float, float]
    sas: tuple[float, float, float]
    edges: np.ndarray = field(repr=False)


#: Model bin probabilities are floored here so that a bin a fit deems impossible (a
#: Gaussian fit's far tail) costs a large but finite chi-square.
_MIN_BIN_PROB = 1e-12


def _sas_cdf(z, alpha):
    """CDF of SaS(1) (E exp(iwZ) = exp(-|w|^alpha)) at z."""
    from scipy.stats import levy_stable, norm

    if alpha >= 2.0:
        return norm.cdf(z / math.sqrt(2.0))
    return levy_stable.cdf(z, alpha, 0.0)


def fit_errors(x, bins: int = 50, tail: float = 0.005) -> FitErrors:
    """Gaussian vs SaS goodness of fit of one sample, as SSE and chi-square on a histogram.

    Fits: Gaussian by maximum likelihood (mean, std); SaS with ``loc`` = median and
    ``(alpha, scale)`` from :func:`cf_regression` (SaS(1)-scale convention). The
    histogram has ``bins`` equal bins on ``[q_tail, q_(1-tail)]`` of the sample, plus
    two tail bins ``(-inf, q_tail)`` and ``(q_(1-tail), inf)`` used by the chi-square
    only (they hold the heavy-tail evidence: a Gaussian fit expects almost nothing
    there). With ``O_k`` the counts, ``P_k`` a model's bin probabilities from its CDF
    (floored at 1e-12 in the chi-square so it stays finite), ``n`` the sample size and
    ``w`` the bin width::

        SSE  = sum_finite (O_k / (n w) - P_k / w)^2
        chi2 = sum_all (O_k - n P_k)^2 / (n P_k)

    Paper 004 (Tables 1-3) reports both errors for Gaussian and SaS fits of gradient
    noise without fixing the binning; this is the definition used here. The SaS CDF
    is scipy's ``levy_stable.cdf`` (a few ms per call). For a 2-D array call it per
    column.
    """
    from scipy.stats import norm

    a, _ = _as_columns(x, 0, min_n=MIN_SAMPLES)
    if a.shape[1] != 1:
        raise ValueError(f"x must be a 1-D sample, got shape={np.shape(x)}")
    if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got bins={bins!r}")
    tail = float(tail)
    if not 0.0 < tail < 0.5:
        raise ValueError(f"tail must lie in (0, 0.5), got tail={tail!r}")
    v = a[:, 0]
    n = v.size
    lo, hi = np.quantile(v, [tail, 1.0 - tail])
    if not hi > lo:
        raise ValueError(f"x has no spread between its {tail} and {1 - tail} quantiles")
    edges = np.linspace(lo, hi, bins + 1)
    width = edges[1] - edges[0]
    counts = np.histogram(v, edges)[0].astype(float)
    obs = np.concatenate([[np.sum(v < lo)], counts, [np.sum(v > hi)]])

    mu, sd = float(v.mean()), float(v.std())
    alpha, scale = cf_regression(v)
    loc = float(np.median(v))

    def errors(cdf_edges):
        full = np.concatenate([[0.0], cdf_edges, [1.0]])
        p = np.diff(full)
        sse = float(np.sum((counts / (n * width) - p[1:-1] / width) ** 2))
        e = n * np.maximum(p, _MIN_BIN_PROB)
        chi2 = float(np.sum((obs - e) ** 2 / e))
        return sse, chi2

    g_sse, g_chi2 = errors(norm.cdf(edges, mu, sd) if sd > 0 else (edges >= mu).astype(float))
    s_sse, s_chi2 = errors(_sas_cdf((edges - loc) / scale, alpha))
    return FitErrors(gauss_sse=g_sse, sas_sse=s_sse, gauss_chi2=g_chi2, sas_chi2=s_chi2,
                     better="sas" if s_chi2 < g_chi2 else "gauss",
                     better_sse="sas" if s_sse < g_sse else "gauss",
                     gauss=(mu, sd), sas=(float(alpha), float(scale), loc), edges=edges)
