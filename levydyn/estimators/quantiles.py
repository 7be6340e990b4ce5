"""McCulloch (1986) quantile estimator of alpha and scale, symmetric case.
"""
from __future__ import annotations


import numpy as np
from scipy.interpolate import CubicSpline

from levydyn.estimators.samples import _as_columns, _column_quantiles, _out
from levydyn.estimators.zeros import _check_zeros, _on_nonzero


# ---------------------------------------------------------------------------------
# McCulloch table for beta = 0, computed for this module (not copied from McCulloch
# 1986): quantiles q_0.75 and q_0.95 of SaS(1) at alpha = 0.40, 0.45, ..., 2.00, from
# scipy.stats.levy_stable.ppf (alpha = 2: sqrt(2) * normal quantiles) and checked to
# ~1e-8 in probability by mpmath Fourier inversion. tests/test_estimators.py re-checks
# off-grid points against scipy. nu(alpha) = q95 / q75 = (q95 - q05) / (q75 - q25).
# ---------------------------------------------------------------------------------
_MCC_TABLE = np.array([
    (0.40, 1.508958485227, 173.585446937686),
    (0.45, 1.377592901152, 93.730847723968),
    (0.50, 1.283832775189, 57.304027730637),
    (0.55, 1.214566945815, 38.338497081965),
    (0.60, 1.162103963677, 27.439818699486),
    (0.65, 1.121649854424, 20.682793253196),
    (0.70, 1.090064220036, 16.235162461777),
    (0.75, 1.065200507810, 13.163239069717),
    (0.80, 1.045534735334, 10.956245660647),
    (0.85, 1.029946245165, 9.317940288664),
    (0.90, 1.017583407565, 8.067902364760),
    (0.95, 1.007779526352, 7.091609370017),
    (1.00, 1.000000000000, 6.313751514675),
    (1.05, 0.993809579855, 5.683274707664),
    (1.10, 0.988852331566, 5.164646084367),
    (1.15, 0.984838895545, 4.732567718843),
    (1.20, 0.981537200396, 4.368675430838),
    (1.25, 0.978764368319, 4.059419245250),
    (1.30, 0.976378940326, 3.794667408026),
    (1.35, 0.974273414787, 3.566762423263),
    (1.40, 0.972367403210, 3.369860506445),
    (1.45, 0.970601671526, 3.199444612729),
    (1.50, 0.968933181714, 3.051940973238),
    (1.55, 0.967331109167, 2.924406837709),
    (1.60, 0.965773727223, 2.814292806148),
    (1.65, 0.964246016719, 2.719296729582),
    (1.70, 0.962737857524, 2.637306981008),
    (1.75, 0.961242674466, 2.566404149626),
    (1.80, 0.959756431402, 2.504881480786),
    (1.85, 0.958276888607, 2.451257486514),
    (1.90, 0.956803057547, 2.404272218608),
    (1.95, 0.955334802695, 2.362869933128),
    (2.00, 0.953872552409, 2.326174307353),
])
_MCC_ALPHA = _MCC_TABLE[:, 0]
_MCC_LOGNU = np.log(_MCC_TABLE[:, 2] / _MCC_TABLE[:, 1])      # decreasing in alpha
_MCC_ALPHA_OF_LOGNU = CubicSpline(_MCC_LOGNU[::-1], _MCC_ALPHA[::-1])
_MCC_PROBS = np.array([0.05, 0.25, 0.75, 0.95])
_MCC_IQR_OF_ALPHA = CubicSpline(_MCC_ALPHA, 2.0 * _MCC_TABLE[:, 1])  # q75 - q25 of SaS(1)

# ---------------------------------------------------------------------------------
# McCulloch (1986) quantile estimator, symmetric case
# ---------------------------------------------------------------------------------
def _mcculloch_cols(a):
    q = np.empty((4, a.shape[1]))
    _column_quantiles(a, _MCC_PROBS, q)
    q05, q25, q75, q95 = q
    iqr = q75 - q25
    with np.errstate(divide="ignore", invalid="ignore"):
        lognu = np.log((q95 - q05) / iqr)
    lognu = np.clip(lognu, _MCC_LOGNU[-1], _MCC_LOGNU[0])
    alpha = _MCC_ALPHA_OF_LOGNU(lognu)
    alpha = np.clip(alpha, _MCC_ALPHA[0], 2.0)
    scale = iqr / _MCC_IQR_OF_ALPHA(alpha)
    bad = ~(iqr > 0)
    alpha[bad] = np.nan
    scale[bad] = np.nan
    return alpha, scale


def mcculloch(x, axis: int = 0, zeros: str = "drop"):
    """McCulloch (1986) quantile estimator of (alpha, scale) for symmetric stable data.

    With sample quantiles ``q_p`` (Hazen plotting positions ``(i - 1/2)/n``, as in
    McCulloch 1986)::

        nu = (q_0.95 - q_0.05) / (q_0.75 - q_0.25),   alpha_hat = psi(nu),
        scale_hat = (q_0.75 - q_0.25) / (Q_0.75(alpha_hat) - Q_0.25(alpha_hat))

    where ``Q_p(alpha)`` are the quantiles of SaS(1) (``E exp(iwZ) = exp(-|w|^alpha)``),
    so ``x = loc + scale_hat * Z``, and ``psi`` inverts ``nu(alpha) = Q_0.95/Q_0.75``.
    The table behind ``psi`` and ``Q`` (beta = 0 only) is computed for this module
    from scipy's quantiles on alpha = 0.40, 0.45, ..., 2.00 and interpolated by a cubic
    spline (error < 1e-5 in alpha off the grid). Source: J. H. McCulloch, "Simple
    consistent estimators of stable distribution parameters", Commun. Statist. -
    Simul. 15 (1986) 1109-1136.

    Returns
    -------
    (alpha_hat, scale_hat): alpha clipped to the table range [0.4, 2]; columns with zero
    inter-quartile range give nan. ``zeros``: as :func:`mohammadi_alpha` (``"drop"``:
    the estimate is that of the nonzero part, with an :class:`AtomWarning`).
    """
    a, one_d = _as_columns(x, axis)
    _check_zeros(zeros)
    alpha, scale = _on_nonzero(a, zeros, _mcculloch_cols, 2)
    return _out(alpha, one_d), _out(scale, one_d)
