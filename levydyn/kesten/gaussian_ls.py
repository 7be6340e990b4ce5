"""Exact stability and tails of SGD on least squares with isotropic Gaussian data.

The law :class:`~levydyn.kesten.GaussianLeastSquares` of the recursion
``x_{k+1} = M_{k+1} x_k + q_{k+1}``, ``M = I - (eta/b) sum_{i<=b} a_i a_i^T``,
``a_i ~ N(0, sigma^2 I_d)`` (Gurbuzbalaban, Simsekli & Zhu, "The Heavy-Tail Phenomenon in
SGD", ICML 2021; paper 001 is the talk abstract), where rotation invariance makes the
growth function, the Lyapunov exponent and the tail index one- or two-dimensional
integrals. :mod:`levydyn.experiments.sgd_tails` compares them with simulation.

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
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import integrate, optimize, special, stats

from levydyn.kesten.kernel import fill_normals as _fill_normals
from levydyn.model.noise import check_seed, stream_key
from levydyn.model.problem import check_positive as _positive
from levydyn.model.validation import check_count as _count
from levydyn.model.validation import check_level as _level
from levydyn.model.validation import check_nonnegative as _nonnegative
from levydyn.results import Estimate, mean_with_ci

__all__ = [
    "moment_growth", "lyapunov_exponent", "tail_index", "tail_index_mc", "log_norm_samples",
    "critical_step", "variance_critical_step", "stationary_second_moment", "divergence_step",
]

#: Largest tail index searched by :func:`tail_index`; beyond it ``inf`` is returned.
S_MAX = 64.0
_GL_NODES = 64


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
    against adaptive quadrature, tests/test_kesten_gaussian_ls_quadrature.py).
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
