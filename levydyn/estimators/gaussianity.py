"""Gaussianity of gradient noise (paper 003): Shapiro-Wilk fraction, its sensitivity, and the
Berry-Esseen bound on the distance of a minibatch mean from the normal law.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from levydyn.estimators.samples import _as_columns, _out, _unit_interval


#: Berry-Esseen constant for i.i.d. summands, ``C <= 0.4748`` (Shevtsova 2011,
#: arXiv:1111.6554, "On the absolute constants in the Berry-Esseen type inequalities
#: for identically distributed summands"). Esseen's lower bound is 0.4097.
BERRY_ESSEEN_CONSTANT = 0.4748

# ---------------------------------------------------------------------------------
# Gaussianity (paper 003): Shapiro-Wilk fraction and Berry-Esseen bound
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GaussianityResult:
    """Share of columns that a per-column Shapiro-Wilk test does not reject.

    fraction : share of the *non-constant* columns with p-value > level ("percentage of
        Gaussian coordinates" of paper 003, as a fraction); nan when every column is
        constant (no Gaussianity to test).
    fraction_ci : 95 % Wilson interval for that share over the non-constant columns.
    pvalues : per-column Shapiro-Wilk p-values (scipy's p = 1 for constant columns).
    level : test level.
    n_samples : samples per column used by the test.
    n_constant : columns with zero range (point masses, e.g. dead ReLU units).
    fraction_with_constant : share counting constant columns as Gaussian, as paper 003
        does ("the Shapiro-Wilk test also recognizes point mass data as Gaussian").
    """

    fraction: float
    fraction_ci: tuple[float, float]
    pvalues: np.ndarray = field(repr=False)
    level: float
    n_samples: int
    n_constant: int
    fraction_with_constant: float = float("nan")


def _wilson(k: int, m: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / m
    den = 1.0 + z * z / m
    mid = (p + z * z / (2 * m)) / den
    half = z * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / den
    return (0.0 if k == 0 else mid - half), (1.0 if k == m else mid + half)


def shapiro_gaussian_fraction(X, level: float = 0.05, axis: int = 0,
                              max_samples: int = 5000) -> GaussianityResult:
    """Shapiro-Wilk test per column; the fraction of columns not rejected at ``level``.

    The statistic ``W = (sum a_i x_(i))^2 / sum (x_i - xbar)^2`` (Shapiro & Wilk 1965)
    with Royston's AS R94 p-values (scipy.stats.shapiro), as used for gradient noise
    in paper 003 ("percentage of Gaussianity"). Scale- and location-free. Under
    Gaussian data the expected fraction is ``1 - level``. Constant columns (point
    masses) are not counted as Gaussian in ``fraction`` (scipy gives them p = 1);
    ``fraction_with_constant`` is paper 003's share that counts them. AS R94 is valid up to 5000
    samples: longer columns are cut to their first ``max_samples`` samples.
    """
    from scipy.stats import shapiro  # local: keeps module import light

    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got level={level!r}")
    if isinstance(max_samples, (bool, np.bool_)) or not isinstance(max_samples, (int, np.integer)) \
            or not 3 <= max_samples <= 5000:
        raise ValueError(f"max_samples must be an integer in [3, 5000], got max_samples={max_samples!r}")
    a, _ = _as_columns(X, axis, min_n=3, name="X")
    a = a[:max_samples]
    constant = ~np.any(a != a[0], axis=0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*range zero.*")
        p = np.atleast_1d(np.asarray(shapiro(a, axis=0).pvalue, dtype=float))
    live = ~constant
    m = int(live.sum())
    k = int(np.sum(p[live] > level))
    return GaussianityResult(fraction=k / m if m else float("nan"),
                             fraction_ci=_wilson(k, m) if m else (float("nan"), float("nan")),
                             pvalues=p, level=level, n_samples=a.shape[0],
                             n_constant=int(constant.sum()),
                             fraction_with_constant=float(np.mean(p > level)))


@dataclass(frozen=True)
class ShapiroSensitivity:
    """How large a Kolmogorov distance from Gaussian a Shapiro-Wilk test on n samples sees.

    shapes : Gamma shapes k of the alternatives (standardised Gamma(k) laws).
    distance : their exact Kolmogorov distance ``sup_x |F_k(x) - Phi(x)|`` from N(0, 1).
    rejection : share of ``reps`` samples of size ``n_samples`` rejected at ``level``.
    detectable_distance : the distance at which the rejection rate crosses 1/2
        (interpolated linearly in log distance); nan if it never does.
    ks_critical : ``sqrt(-log(level/2)/2) / sqrt(n)``, the asymptotic critical distance of
        the Kolmogorov-Smirnov test at ``level``: a distance-based test sees about this.
    """

    n_samples: int
    level: float
    reps: int
    shapes: np.ndarray
    distance: np.ndarray
    rejection: np.ndarray
    detectable_distance: float
    ks_critical: float


#: Gamma shapes of :func:`shapiro_sensitivity` (Kolmogorov distances ~0.1 down to ~0.003).
SENSITIVITY_SHAPES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)


def shapiro_sensitivity(n_samples: int, level: float = 0.05, reps: int = 400, seed: int = 0,
                        shapes=SENSITIVITY_SHAPES) -> ShapiroSensitivity:
    """Rejection rate of the Shapiro-Wilk test against laws at a known Kolmogorov distance.

    The Berry-Esseen bound (:func:`berry_esseen_bound`) bounds the Kolmogorov distance
    ``d_K = sup_x |F(x) - Phi(x)|`` of a standardised minibatch mean from N(0, 1); the
    Gaussian % of paper 003 counts Shapiro-Wilk non-rejections. To relate the two, this
    calibrates the test on a family with the same leading departure as a mean of B
    skewed terms: the standardised Gamma(k) law (a mean of k exponentials), whose
    skewness is ``2/sqrt(k)`` and whose one-term Edgeworth distance is
    ``d_K ~ phi(0) (2/sqrt(k)) / 6 = 0.133/sqrt(k)``. For each k the exact ``d_K`` is
    computed from ``scipy.stats.gamma.cdf`` on a grid of 40,001 points in [-10, 10]
    (error < 1e-4) and the rejection rate from ``reps`` samples of ``n_samples`` drawn
    with ``numpy.random.default_rng(seed)`` (binomial s.e. <= 0.5/sqrt(reps)).

    A skewed departure is what per-sample gradients of ReLU networks show (an atom at 0
    and one long side); a symmetric heavy-tailed one is not calibrated here.
    """
    from scipy.stats import gamma as gamma_law
    from scipy.stats import norm, shapiro

    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, (int, np.integer)) \
            or not 3 <= n_samples <= 5000:
        raise ValueError(f"n_samples must be an integer in [3, 5000], got n_samples={n_samples!r}")
    level = _unit_interval("level", level)
    if isinstance(reps, (bool, np.bool_)) or not isinstance(reps, (int, np.integer)) or reps < 20:
        raise ValueError(f"reps must be an integer >= 20, got reps={reps!r}")
    ks = np.asarray(shapes, dtype=float)
    if ks.ndim != 1 or ks.size < 2 or not np.all(np.isfinite(ks) & (ks > 0)):
        raise ValueError(f"shapes must be at least two positive numbers, got shapes={shapes!r}")
    x = np.linspace(-10.0, 10.0, 40001)
    rng = np.random.default_rng(seed)
    dist, rej = np.empty(ks.size), np.empty(ks.size)
    for i, k in enumerate(ks):
        dist[i] = np.max(np.abs(gamma_law.cdf(k + math.sqrt(k) * x, k) - norm.cdf(x)))
        p = shapiro(rng.gamma(k, size=(int(n_samples), int(reps))), axis=0).pvalue
        rej[i] = float(np.mean(np.asarray(p) < level))
    order = np.argsort(dist)
    d, r = dist[order], rej[order]
    cross = np.flatnonzero((r[:-1] < 0.5) & (r[1:] >= 0.5))
    if cross.size:
        j = int(cross[0])
        t = (0.5 - r[j]) / (r[j + 1] - r[j])
        detect = float(np.exp(np.log(d[j]) + t * (np.log(d[j + 1]) - np.log(d[j]))))
    else:
        detect = float("nan")
    return ShapiroSensitivity(n_samples=int(n_samples), level=level, reps=int(reps), shapes=ks,
                              distance=dist, rejection=rej, detectable_distance=detect,
                              ks_critical=math.sqrt(-math.log(level / 2) / 2)
                              / math.sqrt(n_samples))


def standardized_third_abs_moment(x, axis: int = 0):
    """``beta / sigma^3`` per column, ``beta = mean|x - xbar|^3``, ``sigma^2 = mean (x - xbar)^2``.

    Plug-in (1/n) moments about the sample mean; paper 003 eq. 17. Zero-variance
    columns give nan.
    """
    a, one_d = _as_columns(x, axis, min_n=2)
    return _out(_third_ratio(a), one_d)


def _third_ratio(a):
    d = a - a.mean(axis=0)
    var = np.mean(d * d, axis=0)
    beta = np.mean(np.abs(d) ** 3, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = beta / var ** 1.5
    r[~(var > 0)] = np.nan
    return r


@dataclass(frozen=True)
class BerryEsseenBound:
    """Berry-Esseen bound on sup_x |F_S(x) - Phi(x)| for standardized batch means.

    ratio : beta / sigma^3 per column (standardized third absolute moment).
    bound : ``constant * ratio / sqrt(batch_size)``.
    kurtosis_sqrt : ``sqrt(E z^4)``, the Cauchy-Schwarz upper bound on ``ratio``
        (paper 003 eq. 19-21).
    batch_size, constant : as used.
    """

    ratio: float | np.ndarray
    bound: float | np.ndarray
    kurtosis_sqrt: float | np.ndarray
    batch_size: int
    constant: float


def berry_esseen_bound(x, batch_size: int, axis: int = 0,
                       constant: float = BERRY_ESSEEN_CONSTANT) -> BerryEsseenBound:
    """Berry-Esseen bound for the mean of ``batch_size`` i.i.d. draws like ``x``, per column.

    For i.i.d. ``chi_s`` with variance ``sigma^2`` and ``beta = E|chi - E chi|^3``, the
    distribution function ``F_S`` of the standardized sum of ``S`` terms satisfies::

        sup_x |F_S(x) - Phi(x)| <= C * (beta / sigma^3) / sqrt(S)

    (paper 003, Theorem 1, eq. 13). ``C = 0.4748`` by default: the best known constant
    for identically distributed summands, I. Shevtsova (2011), arXiv:1111.6554.
    ``beta`` and ``sigma`` are the plug-in (1/n) moments of ``x`` about its sample
    mean. Zero-variance columns give nan. The bound can exceed 1 (then it is void).
    """
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got batch_size={batch_size!r}")
    constant = float(constant)
    if not constant > 0:
        raise ValueError(f"constant must be positive, got constant={constant!r}")
    a, one_d = _as_columns(x, axis, min_n=2)
    r = _third_ratio(a)
    d = a - a.mean(axis=0)
    var = np.mean(d * d, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        k4 = np.sqrt(np.mean(d ** 4, axis=0)) / var
    k4[~(var > 0)] = np.nan
    return BerryEsseenBound(ratio=_out(r, one_d),
                            bound=_out(constant * r / math.sqrt(batch_size), one_d),
                            kurtosis_sqrt=_out(k4, one_d),
                            batch_size=int(batch_size), constant=constant)
