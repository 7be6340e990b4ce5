"""Per-parameter statistics of gradient noise: alpha_i, sigma_i, Gaussianity, fit errors.

For every parameter ``i`` the M minibatch noises ``u_{d,i}`` (``nn_bridge.noise.per_sample``) are
one sample; from it (estimators in ``levydyn.estimators``, SaS(1) normalisation
``E exp(iwZ) = exp(-|w|^alpha)``, so ``u ~ sigma_i Z`` and at alpha = 2 the standard
deviation is ``sqrt(2) sigma_i``):

- ``alpha_i, sigma_i``: tail index and scale (``cf_regression`` by default, the most
  accurate estimator in ``levydyn.estimators``; ``mcculloch`` as an alternative) --
  the per-parameter methodology of paper 004 (Sec. 5, Fig. 5);
- Gaussianity %: share of parameters whose Shapiro-Wilk test is not rejected at
  ``level`` (paper 003, Sec. 5, "percentage of Gaussianity"), per layer;
- fit errors: Gaussian vs SaS histogram SSE and chi-square, averaged over ``n_fit``
  randomly chosen parameters (paper 004, Tables 1-3 average over 100-120);
- the pooled, one-alpha-per-network value of paper 000 (eq. 15 on all parameters'
  noise concatenated) next to them, so the two methodologies can be compared.

"Heavy" parameters are those whose alpha_i lies below ``alpha_gauss_q05``, the 5 %
quantile of the same estimator on exactly Gaussian samples of the same size (computed
by simulation with a fixed seed): if all noise were Gaussian, about 5 % would be
flagged.

Degenerate parameters (point-mass noise: dead ReLU units, constant inputs) get NaN;
so do parameters whose noise has a (round-off) zero inter-quartile range -- an atom
holding half the minibatches, e.g. a unit active on a few samples only, which most small
minibatches miss -- since no SaS law fits them. Both are counted (``n_degenerate``,
``n_nan``), not hidden.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field

import numpy as np

from levydyn import estimators as est
from nn_bridge.training.device import keep_torch_threads
from nn_bridge.noise.per_sample import GradientNoise, derive_seed, pooled_noise

__all__ = ["ESTIMATORS", "LayerSummary", "FitSummary", "NoiseStats", "fit_summary", "noise_stats",
           "gaussian_alpha_quantile"]

ESTIMATORS = ("cf_regression", "mcculloch")
#: A parameter whose noise inter-quartile range is below this fraction of its expected
#: spread ``per-sample std / sqrt(B)`` has an atom holding half the minibatches (the
#: rest is round-off); its alpha_i is NaN.
ATOM_RTOL = 1e-6


def _estimate(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """alpha_i, sigma_i per column; torch's thread count is kept (``nn_bridge.training.device``)."""
    if name == "cf_regression":
        with keep_torch_threads():
            return est.cf_regression(x, axis=0)
    if name == "mcculloch":
        with keep_torch_threads():
            return est.mcculloch(x, axis=0)
    raise ValueError(f"estimator={name!r}: must be one of {', '.join(ESTIMATORS)}")


@functools.lru_cache(maxsize=16)
def gaussian_alpha_quantile(estimator: str, n_samples: int, q: float = 0.05,
                            n_rep: int = 2000, seed: int = 20240611) -> float:
    """``q``-quantile of ``estimator``'s alpha on ``n_rep`` Gaussian samples of ``n_samples``."""
    rng = np.random.default_rng(seed)
    alpha, _ = _estimate(estimator, rng.standard_normal((n_samples, n_rep)))
    return float(np.quantile(alpha, q))


@dataclass(frozen=True)
class LayerSummary:
    """Summary of alpha_i, sigma_i and Gaussianity over one parameter tensor."""

    name: str
    n_params: int
    n_degenerate: int
    n_nan: int
    alpha_median: float
    alpha_q10: float
    alpha_q90: float
    alpha_mean: float
    heavy_fraction: float
    sigma_median: float
    gaussian_fraction: float


@dataclass(frozen=True)
class FitSummary:
    """``levydyn.estimators.fit_errors`` over ``n`` random parameters, each standardised.

    Each parameter's noise is divided by its robust scale ``IQR / 1.349`` (the standard
    deviation for Gaussian data) first, so the SSE -- a squared difference of densities,
    which scales like ``1/scale`` -- is comparable across parameters whose noise scales
    differ by orders of magnitude; the chi-square does not depend on it. Each error is
    given as ``(mean, std, median)`` over the parameters: paper 004 reports mean +- std,
    but a single parameter where a fit puts almost no mass on an occupied bin makes the
    chi-square mean explode, so the median is the robust summary. ``n`` counts the
    parameters whose both fits gave finite errors, of ``n_drawn`` drawn.
    """

    n: int
    n_drawn: int
    gauss_sse: tuple[float, float, float]
    sas_sse: tuple[float, float, float]
    gauss_chi2: tuple[float, float, float]
    sas_chi2: tuple[float, float, float]
    sas_better_fraction: float
    sas_better_fraction_sse: float


@dataclass
class NoiseStats:
    """Everything measured from one ``GradientNoise`` (one batch size)."""

    batch_size: int
    n_minibatches: int
    sampling: str
    estimator: str
    level: float
    alpha: np.ndarray
    sigma: np.ndarray
    pvalues: np.ndarray
    degenerate: np.ndarray
    layers: list[LayerSummary]
    overall: LayerSummary
    gaussian_fraction_ci: tuple[float, float]
    alpha_gauss_q05: float
    pooled_alpha: float
    pooled_alpha_norm: float
    fit: FitSummary | None
    layer_names: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict:
        """JSON-able summary (no per-parameter arrays)."""
        d = {k: getattr(self, k) for k in ("batch_size", "n_minibatches", "sampling",
                                           "estimator", "level", "alpha_gauss_q05",
                                           "pooled_alpha", "pooled_alpha_norm")}
        d["gaussian_fraction_ci"] = list(self.gaussian_fraction_ci)
        d["overall"] = asdict(self.overall)
        d["layers"] = [asdict(s) for s in self.layers]
        d["fit"] = None if self.fit is None else asdict(self.fit)
        return d

    def arrays(self) -> dict[str, np.ndarray]:
        return {"alpha": self.alpha, "sigma": self.sigma, "pvalues": self.pvalues,
                "degenerate": self.degenerate}

    @classmethod
    def from_parts(cls, summary: dict, arrays: dict, layer_names) -> "NoiseStats":
        """Rebuild from ``summary()`` and ``arrays()`` (used when resuming)."""
        fit = summary["fit"]
        if fit is not None:
            fit = FitSummary(**{k: tuple(v) if isinstance(v, list) else v for k, v in fit.items()})
        return cls(batch_size=summary["batch_size"], n_minibatches=summary["n_minibatches"],
                   sampling=summary["sampling"], estimator=summary["estimator"],
                   level=summary["level"], alpha=arrays["alpha"], sigma=arrays["sigma"],
                   pvalues=arrays["pvalues"], degenerate=arrays["degenerate"].astype(bool),
                   layers=[LayerSummary(**_nan(s)) for s in summary["layers"]],
                   overall=LayerSummary(**_nan(summary["overall"])),
                   gaussian_fraction_ci=tuple(summary["gaussian_fraction_ci"]),
                   alpha_gauss_q05=summary["alpha_gauss_q05"],
                   pooled_alpha=_none_nan(summary["pooled_alpha"]),
                   pooled_alpha_norm=_none_nan(summary["pooled_alpha_norm"]), fit=fit,
                   layer_names=tuple(layer_names))


def _none_nan(v):
    return float("nan") if v is None else v


def _nan(d: dict) -> dict:
    return {k: _none_nan(v) for k, v in d.items()}


def _summarise(name, alpha, sigma, pvalues, degenerate, level, q05) -> LayerSummary:
    ok = ~degenerate & np.isfinite(alpha)
    a, s = alpha[ok], sigma[ok]
    p = pvalues[~degenerate]
    nan = float("nan")
    return LayerSummary(
        name=name, n_params=int(alpha.size), n_degenerate=int(degenerate.sum()),
        n_nan=int((~degenerate & ~np.isfinite(alpha)).sum()),
        alpha_median=float(np.median(a)) if a.size else nan,
        alpha_q10=float(np.quantile(a, 0.1)) if a.size else nan,
        alpha_q90=float(np.quantile(a, 0.9)) if a.size else nan,
        alpha_mean=float(a.mean()) if a.size else nan,
        heavy_fraction=float(np.mean(a < q05)) if a.size else nan,
        sigma_median=float(np.median(s)) if s.size else nan,
        gaussian_fraction=float(np.mean(p > level)) if p.size else nan)


def _mean_std_median(v) -> tuple[float, float, float]:
    v = np.asarray(v, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(v.mean())
        std = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return mean, std, float(np.median(v))


def fit_summary(U: np.ndarray, pick: np.ndarray) -> FitSummary | None:
    """``FitSummary`` of ``levydyn.estimators.fit_errors`` over the columns ``pick`` of ``U``.

    Each column is standardised by its ``IQR / 1.349`` first (see ``FitSummary``); columns
    whose fit fails or gives non-finite errors are left out. ``None`` when none is left.
    """
    errs = []
    for j in pick:
        q25, q75 = np.quantile(U[:, j], [0.25, 0.75])
        try:
            with keep_torch_threads():
                e = est.fit_errors(U[:, j] / ((q75 - q25) / 1.349))
        except ValueError:       # no spread between the tail quantiles: skip
            continue
        if np.all(np.isfinite([e.gauss_sse, e.sas_sse, e.gauss_chi2, e.sas_chi2])):
            errs.append(e)
    if not errs:
        return None
    return FitSummary(n=len(errs), n_drawn=int(len(pick)),
                      gauss_sse=_mean_std_median([e.gauss_sse for e in errs]),
                      sas_sse=_mean_std_median([e.sas_sse for e in errs]),
                      gauss_chi2=_mean_std_median([e.gauss_chi2 for e in errs]),
                      sas_chi2=_mean_std_median([e.sas_chi2 for e in errs]),
                      sas_better_fraction=float(np.mean([e.better == "sas" for e in errs])),
                      sas_better_fraction_sse=float(np.mean([e.better_sse == "sas"
                                                             for e in errs])))


def noise_stats(noise: GradientNoise, *, estimator: str = "cf_regression", level: float = 0.05,
                n_fit: int = 100, seed: int = 0) -> NoiseStats:
    """alpha_i, sigma_i per parameter; per-layer summaries, Gaussianity, fit errors, pooled alpha.

    Parameters
    ----------
    estimator : ``"cf_regression"`` (default) or ``"mcculloch"``.
    level : Shapiro-Wilk level (paper 003 uses 0.05).
    n_fit : parameters drawn (seeded by ``(seed, batch_size)``) for the fit-error
        average; 0 skips it (``fit = None``).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator={estimator!r}: must be one of {', '.join(ESTIMATORS)}")
    if isinstance(n_fit, bool) or not isinstance(n_fit, (int, np.integer)) or n_fit < 0:
        raise ValueError(f"n_fit={n_fit!r}: must be an integer >= 0")
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level={level!r}: must lie in (0, 1)")
    U = noise.noise
    P = U.shape[1]
    M = U.shape[0]
    if M < est.MIN_SAMPLES:
        raise ValueError(f"n_minibatches={M}: the estimators need at least {est.MIN_SAMPLES}")
    deg = noise.degenerate
    live = np.flatnonzero(~deg)
    alpha = np.full(P, np.nan)
    sigma = np.full(P, np.nan)
    pvals = np.full(P, np.nan)
    if live.size:
        Ul = np.ascontiguousarray(U[:, live], dtype=np.float64)
        q25, q75 = np.quantile(Ul, [0.25, 0.75], axis=0)
        # atom: half the minibatches give the same value up to round-off
        atom = (q75 - q25) <= ATOM_RTOL * noise.per_sample_std[live] / np.sqrt(noise.batch_size)
        est_cols = live[~atom]
        if est_cols.size:
            alpha[est_cols], sigma[est_cols] = _estimate(estimator, Ul[:, ~atom])
        gauss = est.shapiro_gaussian_fraction(Ul, level=level)
        pvals[live] = gauss.pvalues
        ci = tuple(float(c) for c in gauss.fraction_ci)
    else:
        ci = (float("nan"), float("nan"))
    q05 = gaussian_alpha_quantile(estimator, M)
    lidx = noise.layout.layer_index()
    layers = [_summarise(name, alpha[lidx == k], sigma[lidx == k], pvals[lidx == k],
                         deg[lidx == k], level, q05)
              for k, name in enumerate(noise.layout.names)]
    overall = _summarise("all", alpha, sigma, pvals, deg, level, q05)

    pooled = pooled_noise(noise)
    pooled_alpha = float(est.mohammadi_alpha(pooled)) if pooled.size >= est.MIN_SAMPLES \
        else float("nan")
    pooled_norm = float(est.mohammadi_alpha_multivariate(U[:, live])) if live.size \
        else float("nan")

    fit = None
    fit_ok = live[np.isfinite(alpha[live])]
    if n_fit and fit_ok.size:
        rng = np.random.default_rng(derive_seed(seed, noise.batch_size, 4))
        pick = np.sort(rng.choice(fit_ok, size=min(n_fit, fit_ok.size), replace=False))
        fit = fit_summary(U, pick)
    return NoiseStats(batch_size=noise.batch_size, n_minibatches=M, sampling=noise.sampling,
                      estimator=estimator, level=float(level), alpha=alpha, sigma=sigma,
                      pvalues=pvals, degenerate=deg, layers=layers, overall=overall,
                      gaussian_fraction_ci=ci, alpha_gauss_q05=q05,
                      pooled_alpha=pooled_alpha, pooled_alpha_norm=pooled_norm, fit=fit,
                      layer_names=noise.layout.names)
