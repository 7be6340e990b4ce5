"""Tail index and scale of SaS data from the mean and variance of ``log|X|`` (streamable).

For ``X = sigma Z``, ``Z ~ SaS(alpha)`` in levydyn's normalisation
``E exp(i w Z) = exp(-|w|^alpha)`` (``N(0, 2)`` at alpha = 2), the fractional moments are
(Zolotarev 1986, Sec. 2.6; Nikias & Shao 1995, eq. 3.8 with dispersion ``sigma^alpha``)::

    E|X|^p = sigma^p 2^p Gamma((1 + p)/2) Gamma(1 - p/alpha) / (sqrt(pi) Gamma(1 - p/2)),
             -1 < p < alpha.

``K(p) = log E|X|^p`` is the cumulant generating function of ``log|X|``; its derivatives at
``p = 0`` (``psi`` the digamma function, ``psi(1) = -gamma_E``, ``psi'(1) = pi^2/6``,
``psi'(1/2) = pi^2/2``, ``psi'''(1) = pi^4/15``, ``psi'''(1/2) = pi^4``) give exactly

    E log|X|   = gamma_E (1/alpha - 1) + log sigma,
    Var log|X| = (pi^2/6) (1/alpha^2 + 1/2),
    kappa_4    = pi^4 (7/120 + 1/(15 alpha^4))       (fourth cumulant of log|X|),

the log-moment ("logarithmic moments") estimator of Ma & Nikias (1995) and Kuruoglu (2001,
IEEE Trans. Signal Process. 49(10), eq. 13-14 for the symmetric case). Inverting,

    alpha = (6 V / pi^2 - 1/2)^(-1/2),      log sigma = m - gamma_E (1/alpha - 1),

with ``m, V`` the sample mean and variance of ``log|x|``. A sample whose ``6V/pi^2 - 1/2``
falls below ``1/4`` (lighter than Gaussian in log-spread) is clipped to alpha = 2.
``tests/nn_bridge/test_noise_log_moments.py`` re-derives the three cumulants from ``E|X|^p`` with sympy and
checks the estimator on simulated SaS data.

Only a running mean and variance of ``log|u|`` per coordinate are needed, so the estimate
streams in O(1) memory per parameter (``nn_bridge.noise.stream``). The price is accuracy: by the
delta method, with ``n`` samples,

    sd(alpha_hat) = (3 alpha^3 / pi^2) sqrt((kappa_4 + 2 kappa_2^2) / n),

about 0.06 at alpha = 1.1, 0.11 at 1.5 and 0.23 at 2 for n = 1000 -- one to five times the
error of ``levydyn.estimators.cf_regression`` on the same n, which is why the streaming
measurement also runs the full estimators on a sampled subset of parameters.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["EULER_GAMMA", "log_moment_cumulants", "log_moment_alpha", "log_moment_alpha_sd"]

EULER_GAMMA = 0.5772156649015329


def log_moment_cumulants(alpha, sigma=1.0):
    """``(E log|X|, Var log|X|, kappa_4)`` of ``X = sigma Z``, ``Z ~ SaS(alpha)`` (exact)."""
    a = np.asarray(alpha, dtype=float)
    mean = EULER_GAMMA * (1.0 / a - 1.0) + np.log(sigma)
    var = math.pi ** 2 / 6.0 * (1.0 / a ** 2 + 0.5)
    k4 = math.pi ** 4 * (7.0 / 120.0 + 1.0 / (15.0 * a ** 4))
    return mean, var, k4


def log_moment_alpha(mean_log, var_log):
    """``(alpha, sigma)`` from the mean and variance of ``log|x|`` (module docstring).

    Vectorised over coordinates; NaN in gives NaN out. Exact for SaS in the limit of
    many samples; alpha is clipped to (0, 2].
    """
    m = np.asarray(mean_log, dtype=float)
    v = np.asarray(var_log, dtype=float)
    inv_a2 = 6.0 * v / math.pi ** 2 - 0.5
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(inv_a2 > 0.25, 1.0 / np.sqrt(np.maximum(inv_a2, 0.25)), 2.0)
    alpha = np.where(np.isfinite(v) & np.isfinite(m), alpha, np.nan)
    sigma = np.exp(m - EULER_GAMMA * (1.0 / alpha - 1.0))
    return alpha, sigma


def log_moment_alpha_sd(alpha, n):
    """Delta-method standard deviation of ``log_moment_alpha``'s alpha from ``n`` samples."""
    a = np.asarray(alpha, dtype=float)
    _, k2, k4 = log_moment_cumulants(a)
    return 3.0 * a ** 3 / math.pi ** 2 * np.sqrt((k4 + 2.0 * k2 ** 2) / n)
