"""Heavy-tailed SGD iterates on least squares: the Kesten tail index, theory vs simulation.

Model (Gurbuzbalaban, Simsekli & Zhu, "The Heavy-Tail Phenomenon in SGD", ICML 2021,
main results for Gaussian data; paper 001 is the talk abstract)
-------------------------------------------------------------------------------------
Least squares ``f(x) = E (a^T x - y)^2 / 2`` with data ``a ~ N(0, sigma^2 I_d)`` and
``y = a^T x_* + noise * xi``, ``xi ~ N(0, 1)`` independent of ``a``. Mini-batch SGD with
step ``eta`` and batch ``b`` is the affine random recursion::

    x_{k+1} = M_{k+1} x_k + q_{k+1},   M = I - (eta/b) sum_{i=1}^b a_i a_i^T,
                                       q = (eta/b) sum_{i=1}^b a_i y_i.

The tail index does not depend on ``x_*``, so levydyn takes ``x_* = 0`` (the iterate is
the error ``x - x_*``); then ``(M, q) =_d (M, -q)`` and the stationary law is symmetric.

Tail index (Kesten 1973; Goldie 1991; as applied to SGD in GSZ 2021). With
``h(s) = lim_k (E ||M_k ... M_1||^s)^(1/k)`` and the Lyapunov exponent
``rho = lim_k (1/k) E log ||M_k ... M_1||``: if ``rho < 0`` the iterates converge in law
to a stationary ``x_inf``, and ``P(u^T x_inf > t) ~ e(u) t^(-alpha)`` with ``alpha`` the
unique positive root of ``h(alpha) = 1``. For isotropic Gaussian data the law of ``M`` is
invariant under rotations, so ``||M_k ... M_1 e_1||`` is a product of ``k`` independent
copies of ``||M e_1||`` and::

    h(s) = E ||M e_1||^s,          rho = E log ||M e_1||   (= h'(0)).

Exact reduction used here (derived for levydyn; it follows from ``a_i = sigma g_i``):
with ``c = eta sigma^2 / b``, ``X = sum_i g_i1^2 ~ chi2_b`` and, given the first
coordinates, ``sum_i g_ij g_i1 ~ N(0, X)`` independently for ``j = 2..d``::

    ||M e_1||^2 = (1 - c X)^2 + c^2 X Y,    X ~ chi2_b,  Y ~ chi2_{d-1} independent.

So ``h`` is a two-dimensional integral, computed by adaptive quadrature in ``X`` (split at
the kink ``X = 1/c``) and Gauss-Laguerre quadrature in ``Y``; in ``d = 1`` it is
``E |1 - c X|^s``, one integral. Moments of integer order are polynomials, e.g.
``h(2) = 1 - 2 c b + c^2 b (b + d + 1)``, so the **variance becomes infinite**
(``alpha <= 2``) exactly when::

    eta >= eta_2 = 2 b / (sigma^2 (b + d + 1)).

The mean diverges (``alpha <= 1``) past ``eta_1``, the root of ``h(1) = 1`` in eta
(no closed form), and the iterates diverge (``rho >= 0``) past ``eta_inf``.

Monotonicity (stated in GSZ 2021; checked numerically in tests/test_sgd_tails.py): alpha
decreases as ``eta`` or ``sigma^2`` grows and as ``d`` grows, and increases with ``b`` at
fixed ``eta``; ``alpha`` depends on ``eta`` and ``sigma`` only through ``eta sigma^2``.
At fixed ``eta / b`` a larger ``b`` gives a *smaller* alpha (``eta`` itself grows).

Estimation from simulation
--------------------------
The stationary law has a power tail of index ``alpha`` but is not stable. For
``alpha < 2`` it lies in the domain of attraction of an alpha-stable law, which is what
the block-sum estimator of Mohammadi et al. (used by the authors, multivariate form in
:func:`levydyn.estimators.mohammadi_alpha_multivariate`) measures; for ``alpha >= 2`` the
block sums are asymptotically Gaussian and that estimator returns 2. It therefore
estimates ``min(alpha, 2)``. The Hill estimator on ``||x||``
(:func:`levydyn.estimators.hill_alpha`) estimates ``alpha`` itself, at any value.

Randomness
----------
Counter-based streams of :mod:`levydyn.noise`: chain ``i`` uses stream ``i`` of ``seed``;
row ``r`` of a finite data set uses stream ``2^62 + r``. Normals come in pairs from
Marsaglia's polar method (the rejection form of Box-Muller: uniforms ``u, v`` on
(-1, 1), accepted when ``0 < s = u^2 + v^2 < 1``, giving ``(u, v) sqrt(-2 log s / s)``),
both members used. The stream's counter advances by the uniforms actually consumed, so
results are bit-identical for any thread count.

Simulation runs on the random-linear-recursion kernel of :mod:`levydyn.kesten`: online SGD
is its :class:`~levydyn.kesten.GaussianLeastSquares` law, a finite data set its
:class:`~levydyn.kesten.EmpiricalMinibatch` law (factors ``a_n``, per-sample gradients at
0 ``-a_n y_n``), the textbook check :func:`simulate_kesten` its
:class:`~levydyn.kesten.ScalarAffine` law with ``lr = 1``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numba as nb
import numpy as np
from scipy import integrate, optimize, special, stats

from levydyn.estimators import hill_alpha, mohammadi_alpha_multivariate
from levydyn.kesten import EmpiricalMinibatch, GaussianLeastSquares, Recursion, ScalarAffine
from levydyn.kesten import run_recursion
from levydyn.kesten.kernel import fill_normals as _fill_normals
from levydyn.noise import check_seed, stream_key
from levydyn.problem import check_positive
from levydyn.results import Estimate, mean_with_ci
from levydyn.validation import NONNEGATIVE, as_float

__all__ = [
    "SGDTailProblem",
    "SGDTailResult",
    "simulate_sgd",
    "relaxation_schedule",
    "moment_growth",
    "lyapunov_exponent",
    "tail_index",
    "tail_index_mc",
    "critical_step",
    "variance_critical_step",
    "stationary_second_moment",
    "divergence_step",
    "log_norm_samples",
    "kesten_tail_index",
    "simulate_kesten",
    "grouped_tail_estimates",
]

#: Largest tail index searched by :func:`tail_index`; beyond it ``inf`` is returned.
S_MAX = 64.0
#: Stream offset of the rows of a finite data set (chains use streams 0, 1, ...).
DATA_STREAM = 1 << 62
_TWO_PI = 2.0 * math.pi
_GL_NODES = 64


# ---------------------------------------------------------------------------------
# validation (one place for bad-input errors in this module)
# ---------------------------------------------------------------------------------
_positive = check_positive  # one validator for the whole package


def _nonnegative(name: str, value) -> float:
    """``value`` as a non-negative finite float (the shared constraint of :mod:`levydyn.validation`)."""
    return as_float(name, value, NONNEGATIVE)


def _count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")
    return int(value)


def _level(level) -> float:
    v = float(level)
    if not 0.0 < v < 1.0:
        raise ValueError(f"level must lie in (0, 1), got level={level!r}")
    return v


# ---------------------------------------------------------------------------------
# theory: h(s) = E||M e_1||^s by quadrature of the exact (chi2_b, chi2_{d-1}) reduction
# ---------------------------------------------------------------------------------
_NODE_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _y_nodes(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and probability weights for ``E f(Y)``, ``Y ~ chi2_{dim-1}``.

    Gauss rule of the Gamma((dim-1)/2, 1) law of ``Y/2`` (generalised Laguerre weight
    ``u^(a-1) e^(-u)``, ``a = (dim-1)/2``) by Golub-Welsch: the eigenvalues of the Jacobi
    matrix (diagonal ``2j + a``, off-diagonal ``sqrt(j (j + a - 1))``) are the nodes and
    the squared first components of its eigenvectors the normalised weights; no Gamma
    function is evaluated, so any dimension works.
    """
    if dim not in _NODE_CACHE:
        a = 0.5 * (dim - 1)
        j = np.arange(_GL_NODES, dtype=float)
        diag = 2.0 * j + a
        off = np.sqrt(j[1:] * (j[1:] + a - 1.0))
        u, vec = np.linalg.eigh(np.diag(diag) + np.diag(off, 1) + np.diag(off, -1))
        _NODE_CACHE[dim] = (2.0 * u, vec[0] ** 2)
    return _NODE_CACHE[dim]


#: Below this ``kappa = A / B`` the Gauss rule in Y misses the log singularity of
#: ``log(A + B Y)`` at ``Y = 0`` (d = 2: error 1e-2 at kappa = 0.01, 3e-11 at kappa = 1,
#: 4e-15 at kappa = 2).
_KAPPA_ADAPTIVE = 2.0


def _expect_y(fun_of_logsq, A: float, B: float, dim: int, y, wy) -> float:
    """``E fun(log(A + B Y))``, ``Y ~ chi2_{dim-1}``.

    The Gauss-Laguerre rule (:func:`_y_nodes`) is exact for polynomials in Y, but
    ``log(A + B Y)`` has a logarithmic singularity at ``Y = -A/B``, which comes within
    reach of the nodes as ``kappa = A/B -> 0`` (near the kink ``X = 1/c``), and the rule
    then over-estimates (issue 26: the d = 2 Lyapunov exponent biased upward by 1.4e-3).
    There (``kappa < _KAPPA_ADAPTIVE``) the expectation is written with ``Y = v^2``,
    density ``v^(d-2) e^(-v^2/2) / (2^((d-3)/2) Gamma((d-1)/2))`` (smooth for d >= 2),
    and the integrand ``fun(log B + log(kappa + v^2))`` is analytic except at
    ``v = +-i sqrt(kappa)``: a composite 10-point Gauss-Legendre rule on panels graded
    geometrically towards 0 down to ``sqrt(kappa)/4`` (then uniform, width 1, to
    ``sqrt(d) + 10``) converges geometrically whatever kappa (relative error < 1e-12
    against adaptive quadrature, tests/test_sgd_tails_quadrature.py).
    """
    if B <= 0.0 or A >= _KAPPA_ADAPTIVE * B:
        return float(np.dot(wy, fun_of_logsq(np.log(A + B * y))))
    r = math.sqrt(A / B)
    graded = r / 4.0 * 2.0 ** np.arange(0, 40) if r > 0 else 2.0 ** -np.arange(60, 0, -1)
    v, wd = _panel_rule(np.concatenate(([0.0], graded[graded < 1.0], [1.0])), dim)
    vt, wt = _V_TAIL.get(dim) or _V_TAIL.setdefault(
        dim, _panel_rule(np.arange(1.0, math.sqrt(dim) + 11.0, 1.0), dim))
    return float(np.dot(wd, fun_of_logsq(np.log(A + B * v * v)))
                 + np.dot(wt, fun_of_logsq(np.log(A + B * vt * vt))))


def _panel_rule(edges: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``v`` and weights (10-point Gauss-Legendre per panel times the density of
    ``v = sqrt(Y)``, ``Y ~ chi2_{dim-1}``) on the panels between ``edges``."""
    x, w = _GL
    half = 0.5 * np.diff(edges)
    v = ((edges[:-1] + half)[:, None] + half[:, None] * x[None, :]).ravel()
    k = dim - 1
    log_norm = (0.5 * k - 1.0) * math.log(2.0) + special.gammaln(0.5 * k)
    dens = np.exp((k - 1) * np.log(v) - 0.5 * v * v - log_norm)
    return v, (half[:, None] * w[None, :]).ravel() * dens


_V_TAIL: dict[int, tuple[np.ndarray, np.ndarray]] = {}
_GL = np.polynomial.legendre.leggauss(10)


def _expect(fun_of_logsq, c: float, b: int, dim: int) -> float:
    """E fun(log ||M e_1||^2) by quadrature; ``fun`` is vectorised over its argument."""
    half_b = 0.5 * b
    log_norm_const = special.gammaln(half_b) + half_b * math.log(2.0)
    if dim > 1:
        y, wy = _y_nodes(dim)

    def integrand(x):
        if x <= 0.0:
            return 0.0
        dens = math.exp((half_b - 1.0) * math.log(x) - 0.5 * x - log_norm_const)
        if dens == 0.0:
            return 0.0
        one_minus = 1.0 - c * x
        if dim > 1:
            v = _expect_y(fun_of_logsq, one_minus * one_minus, c * c * x, dim, y, wy)
        else:
            sq = one_minus * one_minus
            v = float(fun_of_logsq(np.array([math.log(sq) if sq > 0 else -math.inf]))[0])
        return v * dens

    # pieces split at the kink X = 1/c and at the bulk of chi2_b (median, far quantile)
    cuts = sorted({1.0 / c, float(stats.chi2.median(b)), float(stats.chi2.isf(1e-8, b))})
    edges = [0.0] + cuts + [math.inf]
    opts = dict(limit=400, epsabs=1e-15, epsrel=1e-11)
    return math.fsum(integrate.quad(integrand, lo, hi, **opts)[0]
                     for lo, hi in zip(edges[:-1], edges[1:]))


def _h_minus_one(s: float, c: float, b: int, dim: int) -> float:
    """h(s) - 1 = E expm1(s log||M e_1||), accurate for small s."""
    return _expect(lambda l2: np.expm1(0.5 * s * l2), c, b, dim)


def _theory_args(eta, batch, dim, sigma):
    eta = _positive("eta", eta)
    batch = _count("batch", batch)
    dim = _count("dim", dim)
    sigma = _positive("sigma", sigma)
    return eta, batch, dim, sigma, eta * sigma * sigma / batch


def moment_growth(s: float, eta: float, batch: int, dim: int, sigma: float = 1.0) -> float:
    """``h(s) = E ||(I - (eta/b) sum_{i<=b} a_i a_i^T) e_1||^s``, ``a_i ~ N(0, sigma^2 I_d)``.

    The growth rate of ``E ||M_k ... M_1||^s`` for isotropic Gaussian data (GSZ 2021),
    evaluated by quadrature of the exact reduction
    ``||M e_1||^2 = (1 - cX)^2 + c^2 X Y`` (module docstring), ``c = eta sigma^2 / b``.
    Relative accuracy about 1e-10 for moderate ``s``.
    """
    s = _nonnegative("s", s)
    _, b, d, _, c = _theory_args(eta, batch, dim, sigma)
    return 1.0 + _h_minus_one(s, c, b, d)


def lyapunov_exponent(eta: float, batch: int, dim: int, sigma: float = 1.0) -> float:
    """``rho = E log ||M e_1||`` (top Lyapunov exponent of the products ``M_k ... M_1``).

    ``rho < 0`` is the condition for a stationary law (Kesten 1973; GSZ 2021); ``1/|rho|``
    is the relaxation time in iterations used for the default burn-in.
    """
    _, b, d, _, c = _theory_args(eta, batch, dim, sigma)
    return _expect(lambda l2: 0.5 * l2, c, b, d)


def _root_of_growth(hm1, rho: float, s_max: float) -> float:
    """Positive root of ``hm1(s) = h(s) - 1`` given ``rho = h'(0)``; see :func:`tail_index`."""
    if not rho < 0.0:
        return 0.0
    f = lambda s: hm1(s) / s  # noqa: E731  increasing in s (log h convex), -> rho at 0
    hi = 1.0
    if f(hi) < 0.0:
        lo = hi
        while True:
            hi = min(2.0 * hi, s_max)
            if f(hi) >= 0.0:
                break
            if hi >= s_max:
                return math.inf
            lo = hi
    else:
        lo = 0.5
        while f(lo) >= 0.0:
            lo *= 0.5
            if lo < 1e-12:
                return 0.0
    return float(optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-10))


def tail_index(eta: float, batch: int, dim: int, sigma: float = 1.0,
               s_max: float = S_MAX) -> float:
    """Tail index ``alpha`` of stationary SGD on least squares: ``h(alpha) = 1``, ``alpha > 0``.

    ``h(s) = E ||M e_1||^s`` (GSZ 2021; see :func:`moment_growth`), computed by
    quadrature; the root is bracketed by doubling from ``s = 1`` and refined by
    ``scipy.optimize.brentq`` on ``(h(s) - 1)/s`` (increasing in ``s`` because ``log h``
    is convex with ``log h(0) = 0``), to a relative accuracy of about 1e-9.

    Returns
    -------
    alpha; ``0.0`` when ``rho = E log||M e_1|| >= 0`` (no stationary law: the iterates
    diverge almost surely); ``inf`` when ``alpha > s_max`` (tails lighter than any index
    worth estimating).
    """
    _, b, d, _, c = _theory_args(eta, batch, dim, sigma)
    s_max = _positive("s_max", s_max)
    rho = _expect(lambda l2: 0.5 * l2, c, b, d)
    return _root_of_growth(lambda s: _h_minus_one(s, c, b, d), rho, s_max)


# ---------------------------------------------------------------------------------
# theory by Monte Carlo, with a CI propagated to the root
# ---------------------------------------------------------------------------------
@nb.njit(parallel=True, cache=True)
def _log_norm_kernel(c, b, d, seed, out):
    """out[i] = log||M e_1|| for sample i: M e_1 = e_1 - c sum_{j<b} g_j g_j1, g_j ~ N(0, I_d)."""
    n = out.size
    for i in nb.prange(n):
        key = stream_key(seed, i)
        v = np.zeros(d)
        v[0] = 1.0
        g = np.empty(d)
        ctr = 0
        for _ in range(b):
            ctr = _fill_normals(key, ctr, g, d)
            f = c * g[0]
            for k in range(d):
                v[k] -= f * g[k]
        s = 0.0
        for k in range(d):
            s += v[k] * v[k]
        out[i] = 0.5 * math.log(s) if s > 0.0 else -math.inf


def log_norm_samples(eta: float, batch: int, dim: int, sigma: float = 1.0,
                     n_samples: int = 100_000, seed: int = 0) -> np.ndarray:
    """``n_samples`` i.i.d. draws of ``log ||M e_1||``, drawing the ``b`` vectors
    ``a_i ~ N(0, sigma^2 I_d)`` in full (no reduction), sample ``i`` from stream ``i``."""
    _, b, d, _, c = _theory_args(eta, batch, dim, sigma)
    n = _count("n_samples", n_samples, 2)
    out = np.empty(n)
    _log_norm_kernel(c, b, d, check_seed(seed), out)
    return out


def tail_index_mc(eta: float, batch: int, dim: int, sigma: float = 1.0,
                  n_samples: int = 100_000, seed: int = 0, level: float = 0.95,
                  s_max: float = S_MAX) -> Estimate:
    """Tail index from a Monte Carlo ``h``, with a confidence interval.

    ``h_n(s) - 1 = mean_i expm1(s L_i)``, ``L_i = log||M e_1||`` drawn in full
    (:func:`log_norm_samples`, common random numbers for every ``s``); the point value is
    the root of ``h_n = 1``. The CI inverts the pointwise Student-t band
    ``[h_n(s) - w(s), h_n(s) + w(s)]`` of :func:`levydyn.results.mean_with_ci`: the
    lower end is the root of the upper band, the upper end the root of the lower band
    (a test inversion, so it covers ``alpha`` with the band's level at ``s = alpha``).
    The band needs ``E ||M e_1||^(2 alpha) < inf`` (always true for Gaussian data) and,
    in practice, ``n`` large enough for the mean of the very skewed ``||M e_1||^s`` to be
    near normal: that fails for large alpha, where ``h(s)`` is carried by rare draws and
    the root comes out too large with a too-narrow interval (measured, n = 20 000, d = 1,
    b = 1, eta = 0.3: 6.54 [6.10, 7.45] against the quadrature value 5.306; fine for
    alpha <= 4 in the README grid). Use it as a check of :func:`tail_index` for moderate
    alpha.
    """
    level = _level(level)
    s_max = _positive("s_max", s_max)
    L = log_norm_samples(eta, batch, dim, sigma, n_samples, seed)
    n = L.size
    tq = float(stats.t.ppf(0.5 + level / 2, n - 1))

    def band(sign):
        def hm1(s):
            e = np.expm1(s * L)
            return float(e.mean() + sign * tq * e.std(ddof=1) / math.sqrt(n))
        return hm1

    rho = mean_with_ci(L, level)
    point = _root_of_growth(band(0), rho.value, s_max)
    low = _root_of_growth(band(+1), rho.high, s_max)
    high = _root_of_growth(band(-1), rho.low, s_max)
    return Estimate(point, low, high, level, f"monte carlo h(s), n={n}, band inversion")


# ---------------------------------------------------------------------------------
# critical step sizes
# ---------------------------------------------------------------------------------
def variance_critical_step(batch: int, dim: int, sigma: float = 1.0) -> float:
    """``eta_2 = 2 b / (sigma^2 (b + d + 1))``: the stationary variance is infinite for
    ``eta >= eta_2``.

    From ``h(2) = E||M e_1||^2 = 1 - 2cb + c^2 b (b + d + 1)`` with ``c = eta sigma^2/b``
    (``E X = b``, ``E X^2 = b(b+2)``, ``E Y = d - 1``); ``h(2) = 1`` at ``c = 2/(b+d+1)``.
    """
    b = _count("batch", batch)
    d = _count("dim", dim)
    sigma = _positive("sigma", sigma)
    return 2.0 * b / (sigma * sigma * (b + d + 1))


def stationary_second_moment(eta: float, batch: int, dim: int, sigma: float = 1.0,
                             noise: float = 1.0) -> float:
    """``E ||x_inf||^2 = (eta^2 / b) sigma^2 noise^2 d / (1 - h(2))`` for ``eta < eta_2``;
    ``inf`` for ``eta >= eta_2``.

    From stationarity of ``x' = M x + q``: ``E x^T M^T q = 0`` (``q`` is symmetric given
    ``M`` and independent of ``x``), ``E M^T M = h(2) I`` by isotropy, and
    ``E ||q||^2 = (eta/b)^2 b E||a||^2 E y^2 = (eta^2/b) sigma^2 d noise^2`` (y = noise xi,
    ``x_* = 0``); ``h(2) = 1 - 2cb + c^2 b (b + d + 1)``, ``c = eta sigma^2 / b``.
    """
    eta, b, d, sigma, c = _theory_args(eta, batch, dim, sigma)
    noise = _positive("noise", noise)
    h2 = 1.0 - 2.0 * c * b + c * c * b * (b + d + 1)
    if h2 >= 1.0:
        return math.inf
    return eta * eta / b * sigma * sigma * noise * noise * d / (1.0 - h2)


def critical_step(alpha: float, batch: int, dim: int, sigma: float = 1.0) -> float:
    """Step size ``eta`` at which the tail index equals ``alpha``: root in eta of
    ``h_eta(alpha) = 1``.

    Since ``h`` is convex with ``h(0) = 1``, ``tail_index(eta) < alpha`` exactly when
    ``h_eta(alpha) > 1``; the root is bracketed by doubling ``eta`` and refined by brentq.
    ``alpha = 1``: the stationary mean diverges beyond it; ``alpha = 2``: equals
    :func:`variance_critical_step`.
    """
    alpha = _positive("alpha", alpha)
    b = _count("batch", batch)
    d = _count("dim", dim)
    sigma = _positive("sigma", sigma)
    f = lambda log_c: _h_minus_one(alpha, math.exp(log_c), b, d)  # noqa: E731
    step = math.log(2.0)
    lo = math.log(1.0 / (b + d + 1))
    while f(lo) >= 0.0:
        lo -= step
    hi = lo + step
    while f(hi) < 0.0:
        lo, hi = hi, hi + step
    c = math.exp(optimize.brentq(f, lo, hi, xtol=1e-13, rtol=1e-12))
    return c * b / (sigma * sigma)


def divergence_step(batch: int, dim: int, sigma: float = 1.0) -> float:
    """``eta_inf``: the Lyapunov exponent ``rho = E log||M e_1||`` is negative (a stationary
    law exists) for ``eta < eta_inf`` and non-negative beyond it; root by brentq."""
    b = _count("batch", batch)
    d = _count("dim", dim)
    sigma = _positive("sigma", sigma)
    f = lambda log_c: _expect(lambda l2: 0.5 * l2, math.exp(log_c), b, d)  # noqa: E731
    hi = math.log(2.0 / (b + d + 1))
    while f(hi) < 0.0:
        hi += math.log(2.0)
    c = math.exp(optimize.brentq(f, hi - math.log(2.0), hi, xtol=1e-13, rtol=1e-12))
    return c * b / (sigma * sigma)


# ---------------------------------------------------------------------------------
# simulation: numba kernels
# ---------------------------------------------------------------------------------
@nb.njit(parallel=True, cache=True)
def _gaussian_data_kernel(seed, sigma, noise, A, y):
    """Row r (stream DATA_STREAM + r): A[r] = sigma g, y[r] = noise xi (x_* = 0)."""
    n, d = A.shape
    for r in nb.prange(n):
        key = stream_key(seed, DATA_STREAM + r)
        g = np.empty(d + 1)
        _fill_normals(key, 0, g, d + 1)
        for j in range(d):
            A[r, j] = sigma * g[j]
        y[r] = noise * g[d]


# ---------------------------------------------------------------------------------
# tail estimation with CIs over independent groups of chains
# ---------------------------------------------------------------------------------
def grouped_tail_estimates(samples: np.ndarray, groups: int = 10, level: float = 0.95
                           ) -> dict[str, Estimate]:
    """Tail index of stationary samples, with CIs from independent groups of chains.

    ``samples`` has shape ``(n_records, n_chains, d)`` (snapshots of independent chains;
    snapshots of one chain are dependent). The chains are split into ``groups`` equal
    groups; each estimator is applied to each group, ``1/alpha`` is averaged over groups
    with a Student-t interval (:func:`levydyn.results.mean_with_ci`) and both are inverted
    (see :func:`_inverse_mean_ci`). Groups are independent, so the interval accounts for
    the dependence within chains; it does not account for the estimators' bias.

    - ``"mohammadi"``: :func:`levydyn.estimators.mohammadi_alpha_multivariate` on the
      vectors, rows ordered chain-fastest so that each block sums ``K1`` different
      (independent) chains; ``K1 = round(sqrt(n))`` with ``n`` the *total* sample size,
      so the mean over groups is the full-sample estimator (same blocks, same bias).
      Estimates ``min(alpha, 2)`` (clipped at 2 by the estimator).
    - ``"hill"``: :func:`levydyn.estimators.hill_alpha` on ``||x||`` with
      ``k_group = round(sqrt(n) / groups)`` upper order statistics per group, i.e. the
      tail fraction ``n^(-1/2)`` of the whole sample. Not the estimator module's default
      ``k = n^(2/3)`` (tuned for stable laws): Kesten stationary laws approach their power
      tail slowly: on one d = 1, b = 1 run with alpha = 4 and n = 4.2e6 samples, Hill gave
      3.49 at tail fraction 3 %, 3.79 at 0.3 %, 3.91 at 0.1 % and 4.05 at ``k = sqrt(n)``
      (alpha = 3: 2.72, 2.97, 2.97, 3.03). At ``n^(-1/2)`` the bias stayed below the
      interval's half-width in the README grid.
    """
    x = np.asarray(samples, dtype=float)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"samples must have shape (n_records, n_chains, d), got shape={x.shape}")
    groups = _count("groups", groups, 2)
    level = _level(level)
    n_rec, n_chains, _ = x.shape
    m = n_chains // groups
    if m < 2:
        raise ValueError(f"groups must leave at least 2 chains per group, got groups={groups} "
                         f"for n_chains={n_chains}")
    n = n_rec * m * groups
    k1 = int(min(max(2, round(math.sqrt(n))), m, (n_rec * m) // 2))
    k_hill = max(2, int(round(math.sqrt(n) / groups)))
    if not np.all(np.isfinite(x)):
        nan = Estimate(math.nan, math.nan, math.nan, level, "iterates not finite (diverging)")
        return {"mohammadi": nan, "hill": nan}
    moh, hill = [], []
    for g in range(groups):
        block = x[:, g * m:(g + 1) * m, :].reshape(n_rec * m, -1)   # chain-fastest rows
        moh.append(mohammadi_alpha_multivariate(block, K1=k1))
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        hill.append(hill_alpha(norms, k=min(k_hill, norms.size - 1)))
    out = {}
    for name, vals, how in (("mohammadi", moh, f"multivariate Mohammadi, K1={k1}"),
                            ("hill", hill, f"Hill on ||x||, k={k_hill} per group")):
        out[name] = _inverse_mean_ci(np.array(vals), level,
                                     f"{how}; 1/alpha averaged over {groups} groups of {m} "
                                     "chains, t interval, inverted")
    return out


def _inverse_mean_ci(alphas: np.ndarray, level: float, method: str) -> Estimate:
    """alpha = 1 / mean(1/alpha_g) with the t interval of the mean of ``1/alpha_g``, inverted.

    Both estimators are linear in ``1/alpha`` (mean log excess for Hill, difference of mean
    logs for Mohammadi), so averaging ``1/alpha_g`` reproduces the full-sample statistic;
    averaging ``alpha_g`` would add a Jensen bias of order ``alpha / k``.
    """
    inv = mean_with_ci(1.0 / alphas, level)
    hi = 1.0 / inv.low if inv.low > 0 else math.inf
    return Estimate(1.0 / inv.value, 1.0 / inv.high, hi, level, method)


# ---------------------------------------------------------------------------------
# Python-facing problem and result
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SGDTailProblem:
    """SGD on least squares with Gaussian data (what is simulated).

    Parameters
    ----------
    eta : step size > 0.
    batch : batch size b >= 1.
    dim : dimension d >= 1.
    sigma : data scale, ``a ~ N(0, sigma^2 I_d)``.
    noise : label noise, ``y = a^T x_* + noise * xi`` with ``x_* = 0``; ``noise > 0``
        (with ``noise = 0`` the iterates collapse to ``x_*``).
    data_size : ``None`` for online SGD (fresh data every step); else the size ``n`` of a
        finite data set drawn once and resampled with replacement (offline SGD). The
        theory (:meth:`tail_index`) is that of the online algorithm.
    """

    eta: float
    batch: int
    dim: int
    sigma: float = 1.0
    noise: float = 1.0
    data_size: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "eta", _positive("eta", self.eta))
        object.__setattr__(self, "batch", _count("batch", self.batch))
        object.__setattr__(self, "dim", _count("dim", self.dim))
        object.__setattr__(self, "sigma", _positive("sigma", self.sigma))
        object.__setattr__(self, "noise", _positive("noise", self.noise))
        if self.data_size is not None:
            object.__setattr__(self, "data_size", _count("data_size", self.data_size, 1))

    @property
    def ratio(self) -> float:
        """``eta / b``."""
        return self.eta / self.batch

    def tail_index(self) -> float:
        """Theoretical alpha (:func:`tail_index`)."""
        return tail_index(self.eta, self.batch, self.dim, self.sigma)

    def lyapunov_exponent(self) -> float:
        return lyapunov_exponent(self.eta, self.batch, self.dim, self.sigma)

    def describe(self) -> dict:
        return {"eta": self.eta, "batch": self.batch, "dim": self.dim, "sigma": self.sigma,
                "noise": self.noise, "data_size": self.data_size}


@dataclass
class SGDTailResult:
    """Stationary SGD iterates of many independent chains.

    iterates : ``(n_records, n_chains, dim)`` snapshots every ``thin`` steps after
        ``burn_in`` steps (chain-major in the second axis).
    averages : Polyak averages ``(n_chains, dim)`` over the steps after burn-in, or None.
    center : the point the iterates fluctuate around: ``x_* = 0`` online, the
        least-squares solution of the data set offline; tail estimates use
        ``iterates - center``.
    """

    problem: SGDTailProblem
    iterates: np.ndarray
    averages: np.ndarray | None
    center: np.ndarray
    burn_in: int
    thin: int
    seed: int
    wall_time: float = 0.0
    meta: dict = field(default_factory=dict)

    @property
    def n_chains(self) -> int:
        return self.iterates.shape[1]

    @property
    def n_samples(self) -> int:
        return self.iterates.shape[0] * self.iterates.shape[1]

    def tail_estimates(self, groups: int = 10, level: float = 0.95) -> dict[str, Estimate]:
        """:func:`grouped_tail_estimates` of ``iterates - center``."""
        return grouped_tail_estimates(self.iterates - self.center, groups, level)


def relaxation_schedule(problem: SGDTailProblem, burn_factor: float = 15.0) -> tuple[int, int]:
    """Default ``(burn_in, thin) = (ceil(burn_factor tau), ceil(tau / 2))`` with the
    relaxation time ``tau = 1 / |rho|`` in iterations (see :func:`simulate_sgd`).
    Raises ``ValueError`` when ``rho >= 0`` (no stationary law)."""
    if not isinstance(problem, SGDTailProblem):
        raise ValueError(f"problem must be an SGDTailProblem, got problem={problem!r}")
    burn_factor = _positive("burn_factor", burn_factor)
    rho = problem.lyapunov_exponent()
    if not rho < 0:
        raise ValueError(f"no stationary law: rho = E log||M e_1|| = {rho:.4g} >= 0 for "
                         f"eta={problem.eta}, batch={problem.batch}, dim={problem.dim}; pass "
                         "burn_in and thin explicitly to simulate anyway")
    tau = 1.0 / abs(rho)
    return int(math.ceil(burn_factor * tau)), int(math.ceil(tau / 2))


def simulate_sgd(problem: SGDTailProblem, n_chains: int = 4096, n_records: int = 64,
                 burn_in: int | None = None, thin: int | None = None, seed: int = 0,
                 polyak: bool = False, x0=None, burn_factor: float = 15.0) -> SGDTailResult:
    """Run ``n_chains`` independent SGD chains (numba, parallel over chains).

    Defaults use the relaxation time ``tau = 1/|rho|`` (``rho`` of the online theory,
    :func:`lyapunov_exponent`): ``burn_in = ceil(burn_factor tau)`` and
    ``thin = ceil(tau / 2)``. A chain starts at ``x0`` (default ``x_* = 0``). Why 15 tau
    is enough: ``x_k`` is the stationary series truncated to products of at most ``k``
    factors, and a level ``t`` of the tail is reached by products of about
    ``log(t) / m`` factors, ``m = h'(alpha)/h(alpha)`` (the drift of ``log||M e_1||``
    under the alpha-tilted law), which is close to ``|rho|`` when ``log||M e_1||`` is
    nearly Gaussian; so ``k = 15 tau`` reproduces the tail up to about ``e^15`` times
    the bulk scale, beyond the order statistics the estimators use.
    Cost: ``n_chains (burn_in + n_records thin) b (d + 1)`` normal draws.
    """
    if not isinstance(problem, SGDTailProblem):
        raise ValueError(f"problem must be an SGDTailProblem, got problem={problem!r}")
    n_chains = _count("n_chains", n_chains, 2)
    n_records = _count("n_records", n_records, 1)
    seed = check_seed(seed)
    burn_factor = _positive("burn_factor", burn_factor)
    p = problem
    if burn_in is None or thin is None:
        auto_burn, auto_thin = relaxation_schedule(p, burn_factor)
        burn_in = auto_burn if burn_in is None else burn_in
        thin = auto_thin if thin is None else thin
    burn_in = _count("burn_in", burn_in, 0)
    thin = _count("thin", thin, 1)
    if x0 is None:
        x0 = np.zeros(p.dim)
    x0 = np.asarray(x0, dtype=float)
    if x0.shape != (p.dim,) or not np.all(np.isfinite(x0)):
        raise ValueError(f"x0 must be a finite vector of length dim={p.dim}, "
                         f"got x0={x0.tolist()!r}")
    t0 = time.perf_counter()
    meta = {}
    if p.data_size is None:
        law = GaussianLeastSquares(p.dim, p.batch, p.sigma, p.noise)
        center = np.zeros(p.dim)
    else:
        A = np.empty((p.data_size, p.dim))
        y = np.empty(p.data_size)
        _gaussian_data_kernel(seed, p.sigma, p.noise, A, y)
        center = np.linalg.lstsq(A, y, rcond=None)[0]
        # per-sample gradient at w: a_n (a_n^T w - y_n) = a_n a_n^T w - a_n y_n
        law = EmpiricalMinibatch(-A * y[:, None], A, p.batch, replace=True)
        meta["data_hessian_eigs"] = np.linalg.eigvalsh(A.T @ A / p.data_size).tolist()
    out = run_recursion(Recursion(law, p.eta, x0=x0), n_chains, burn_in + n_records * thin,
                        seed, burn_in, thin, n_records, polyak)
    return SGDTailResult(p, out["iterates"], out["averages"], center, burn_in, thin, seed,
                         time.perf_counter() - t0, meta)


# ---------------------------------------------------------------------------------
# scalar Kesten recursion with discrete multiplier: a case with a known tail index
# ---------------------------------------------------------------------------------
def _kesten_args(m_values, m_probs):
    m = np.atleast_1d(np.asarray(m_values, dtype=float))
    p = np.atleast_1d(np.asarray(m_probs, dtype=float))
    if m.ndim != 1 or m.size < 2 or not np.all(np.isfinite(m)):
        raise ValueError(f"m_values must be at least two finite numbers, "
                         f"got m_values={m.tolist()!r}")
    if p.shape != m.shape or np.any(~(p > 0)) or abs(p.sum() - 1.0) > 1e-12:
        raise ValueError(f"m_probs must be positive, one per value and sum to 1, got "
                         f"m_probs={p.tolist()!r}")
    return m, p


def kesten_tail_index(m_values, m_probs) -> float:
    """Tail index of ``x <- M x + Q`` with ``P(M = m_j) = p_j``: root of
    ``sum_j p_j |m_j|^alpha = 1`` (Kesten 1973; Goldie 1991).

    Requires ``E log|M| < 0`` and some ``|m_j| > 1``; the Kesten-Goldie asymptotics
    ``P(|x| > t) ~ C t^(-alpha)`` also need ``log|M|`` non-arithmetic (e.g. values 1/2 and
    3), else the tail is only of order ``t^(-alpha)`` with log-periodic wiggles.
    """
    m, p = _kesten_args(m_values, m_probs)
    am = np.abs(m)
    with np.errstate(divide="ignore"):
        rho = float(np.sum(p * np.log(am)))
    if not rho < 0 or not np.any(am > 1):
        raise ValueError(f"need E log|M| < 0 and some |m| > 1, got m_values={m.tolist()!r}, "
                         f"m_probs={p.tolist()!r}")
    hm1 = lambda s: float(np.sum(p * np.expm1(s * np.log(np.maximum(am, 1e-300)))))  # noqa: E731
    return _root_of_growth(hm1, rho, 1e6)


def simulate_kesten(m_values, m_probs, n_chains: int = 4096, n_records: int = 16,
                    burn_in: int = 200, thin: int = 10, seed: int = 0) -> np.ndarray:
    """Samples ``(n_records, n_chains)`` of ``x_{k+1} = M_{k+1} x_k + Q_{k+1}``, ``x_0 = 0``,
    ``P(M = m_j) = p_j``, ``Q ~ N(0, 1)``: the textbook Kesten recursion whose tail index
    :func:`kesten_tail_index` gives in closed form (a check of the simulation + estimator
    pipeline of this module)."""
    m, p = _kesten_args(m_values, m_probs)
    n_chains = _count("n_chains", n_chains, 2)
    n_records = _count("n_records", n_records, 1)
    burn_in = _count("burn_in", burn_in, 0)
    thin = _count("thin", thin, 1)
    # x' = m x + q is the scalar law with lr = 1, h = 1 - m, u = -q (same symmetric law)
    rec = Recursion(ScalarAffine.from_ab(m, p, 1.0), 1.0)
    out = run_recursion(rec, n_chains, burn_in + n_records * thin, check_seed(seed), burn_in,
                        thin, n_records)
    return out["iterates"][:, :, 0]
