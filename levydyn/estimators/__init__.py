"""Tail-index estimators for symmetric alpha-stable data, and Gaussianity diagnostics.

Normalisation
-------------
As everywhere in levydyn, ``Z ~ SaS(1)`` means ``E exp(i w Z) = exp(-|w|^alpha)``
(scipy's ``levy_stable(alpha, 0, scale=1)``; ``N(0, 2)`` at ``alpha = 2``). A *scale*
``sigma`` returned here means ``x = loc + sigma * Z``; at ``alpha = 2`` the standard
deviation of ``x`` is ``sqrt(2) * sigma``.

Shapes
------
Every estimator takes a 1-D sample or a 2-D array (samples x coordinates, or pass
``axis``) and estimates every column in one vectorised call; a 1-D input gives a
float, a 2-D input an array with one entry per column. Columns with no spread (all
values equal) cannot be estimated and give ``nan``; non-finite input, too few
samples or a wrong number of dimensions raise one ``ValueError`` naming the field.

Which estimator to use (measured: ``benchmarks/bench_estimators.py``, docs/bench_estimators.md)
---------------------------------------------------------------------------------------------
- :func:`cf_regression` (empirical characteristic function, GLS regression) had the
  lowest RMSE of alpha (tied with McCulloch at small alpha) at every alpha in [0.6, 2]
  and n in {1e3, 1e4, 1e5} (0.009-0.016 at n = 1e4), gives the scale too, was on par
  with ``scipy.stats.levy_stable.fit`` on the same samples, and was >= 600 x faster per
  column than that fit at n = 1e3 and >= 1e4 x at n = 1e4.
- :func:`mcculloch` (quantiles) is within 25 % of it for alpha <= 1.2, worse near
  alpha = 2, and about 3 x cheaper; it is the starting point of the regression.
- :func:`mohammadi_alpha` (paper 000, eq. 15, K1 ~ sqrt(n)) is the estimator used by
  Simsekli et al. (2019); scale-free and simple, but its RMSE is 1.4-6 x that of
  cf_regression (more at alpha = 2). :func:`mohammadi_alpha_median` (median over the
  authors' block lengths 2..1000) cuts it by 25-60 % at n >= 1e4;
  :func:`mohammadi_order_alpha` (quantiles of block sums, the authors'
  ``alpha_estimator2`` idea) is close to the median at n >= 1e4 and ignores an atom.
- :func:`hill_alpha` is shown for comparison: on stable data it is biased upward from
  alpha ~ 1.5 (+0.25 at n = 1e3), +0.84 at alpha = 1.8 (n = 1e4), because the power
  tail starts far out; :func:`hill_curve` / :func:`hill_plot` show it against k.

Every estimator takes ``zeros="drop"`` (default: exact zeros, an atom at 0 such as ReLU
gradient noise, are left out with an :class:`AtomWarning`; :func:`atom_fraction` reports
the atom) or ``"keep"``; the block-sum ones take ``clip`` (default True: alpha <= 2).
:func:`alpha_ci` gives any of them a confidence interval (asymptotic or bootstrap,
coverage measured).

Modules (one concept each; every public name is re-exported here)
-----------------------------------------------------------------
- :mod:`.block_sums` (Mohammadi et al.), :mod:`.quantiles` (McCulloch),
  :mod:`.characteristic_function` (cf_regression), :mod:`.hill` (with the Hill plot and the
  choice of k): the tail-index estimators;
- :mod:`.intervals`: their confidence intervals; :mod:`.zeros`: exact-zero atoms;
- :mod:`.gaussianity`: Shapiro-Wilk fraction, its sensitivity, Berry-Esseen bound;
- :mod:`.goodness_of_fit`: Gaussian vs SaS goodness of fit on a histogram;
- :mod:`.summary`: all of them on one sample (what ``levydyn tail-index`` reports);
- :mod:`.samples`: the sample as columns (checks, bad-input errors, shared numba kernels).
"""

from levydyn.estimators.samples import MIN_SAMPLES
from levydyn.estimators.zeros import ZEROS, AtomWarning, atom_fraction
from levydyn.estimators.block_sums import (AUTHORS_BLOCK_SIZES, MIN_BLOCKS, BLOCK_SIZE_RULES,
                                           ORDER_P, ORDER_K1, mohammadi_alpha,
                                           mohammadi_alpha_multivariate, median_block_sizes,
                                           mohammadi_alpha_median, mohammadi_order_alpha)
from levydyn.estimators.quantiles import mcculloch
from levydyn.estimators.characteristic_function import cf_regression
from levydyn.estimators.hill import hill_k, hill_alpha, HillCurve, hill_curve, hill_plot
from levydyn.estimators.intervals import (ALPHA_METHODS, ASYMPTOTIC_METHODS, AUTO_ASYMPTOTIC,
                                          CI_KINDS, AlphaCI, alpha_ci)
from levydyn.estimators.gaussianity import (BERRY_ESSEEN_CONSTANT, GaussianityResult,
                                            shapiro_gaussian_fraction, ShapiroSensitivity,
                                            SENSITIVITY_SHAPES, shapiro_sensitivity,
                                            standardized_third_abs_moment, BerryEsseenBound,
                                            berry_esseen_bound)
from levydyn.estimators.goodness_of_fit import FitErrors, fit_errors
from levydyn.estimators.summary import SampleSummary, center_nonzero, summarize

__all__ = [
    "ALPHA_METHODS", "ASYMPTOTIC_METHODS", "AUTHORS_BLOCK_SIZES", "AUTO_ASYMPTOTIC", "AlphaCI",
    "AtomWarning", "BERRY_ESSEEN_CONSTANT", "BLOCK_SIZE_RULES", "BerryEsseenBound", "CI_KINDS",
    "FitErrors", "GaussianityResult", "HillCurve", "MIN_BLOCKS", "MIN_SAMPLES", "ORDER_K1",
    "ORDER_P", "SENSITIVITY_SHAPES", "SampleSummary", "ShapiroSensitivity", "ZEROS", "alpha_ci",
    "atom_fraction", "berry_esseen_bound", "center_nonzero", "cf_regression", "fit_errors",
    "hill_alpha", "hill_curve", "hill_k", "hill_plot", "mcculloch", "median_block_sizes",
    "mohammadi_alpha", "mohammadi_alpha_median", "mohammadi_alpha_multivariate",
    "mohammadi_order_alpha", "shapiro_gaussian_fraction", "shapiro_sensitivity",
    "standardized_third_abs_moment", "summarize",
]
