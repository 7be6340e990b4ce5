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

The theory of this law (Kesten-Goldie tail index, the exact reduction to a
two-dimensional integral, critical step sizes, monotonicity) is in
:mod:`levydyn.kesten.gaussian_ls`; its functions are re-exported here.

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
Counter-based streams of :mod:`levydyn.model.noise`: chain ``i`` uses stream ``i`` of ``seed``;
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

from levydyn.kesten import EmpiricalMinibatch, GaussianLeastSquares, Recursion, ScalarAffine
from levydyn.kesten import run_recursion
from levydyn.kesten.gaussian_ls import (S_MAX, _root_of_growth, critical_step,  # noqa: F401
                                        divergence_step, log_norm_samples, lyapunov_exponent,
                                        moment_growth, stationary_second_moment, tail_index,
                                        tail_index_mc, variance_critical_step)
from levydyn.kesten.kernel import fill_normals as _fill_normals
from levydyn.kesten.tail_estimates import grouped_tail_estimates
from levydyn.model.noise import check_seed, stream_key
from levydyn.model.problem import check_positive as _positive
from levydyn.model.validation import check_count as _count
from levydyn.results import Estimate

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
    "critical_steps",
    "settings_grid",
    "theory_curve",
    "run_setting",
]

#: Stream offset of the rows of a finite data set (chains use streams 0, 1, ...).
DATA_STREAM = 1 << 62


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


# ---------------------------------------------------------------------------------
# one setting of the theory-vs-simulation table (``levydyn sgd-tails``)
# ---------------------------------------------------------------------------------
def critical_steps(batch: int, dim: int, sigma: float = 1.0) -> dict[str, float]:
    """``eta_2`` (variance infinite beyond), ``eta_1`` (mean infinite beyond) and
    ``eta_inf`` (the iterates diverge beyond) of Gaussian least squares."""
    return {"eta_2": variance_critical_step(batch, dim, sigma),
            "eta_1": critical_step(1.0, batch, dim, sigma),
            "eta_inf": divergence_step(batch, dim, sigma)}


def settings_grid(batches, dims, sigma: float = 1.0, etas=None, alpha_target=None
                  ) -> tuple[dict, list[SGDTailProblem]]:
    """The settings of a table: for every ``(b, d)`` its :func:`critical_steps` and one
    :class:`SGDTailProblem` per step size, either ``etas`` or, for each target tail index in
    ``alpha_target``, the step whose theoretical alpha it is (:func:`critical_step`)."""
    if (etas is None) == (alpha_target is None):
        raise ValueError("give either etas or alpha_target, not both or neither")
    for a in alpha_target or ():
        if not (math.isfinite(a) and a > 0):
            raise ValueError(f"alpha-target must be positive, got alpha={a!r}")
    crit, settings = {}, []
    for b in batches:
        for d in dims:
            crit[(b, d)] = critical_steps(b, d, sigma)
            steps = etas if etas is not None else [critical_step(a, b, d, sigma)
                                                   for a in alpha_target]
            settings += [SGDTailProblem(e, b, d, sigma=sigma) for e in steps]
    return crit, settings


def theory_curve(batch: int, dim: int, sigma: float = 1.0, n: int = 50
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(eta/b, alpha)`` on a geometric grid of ``n`` step sizes from alpha = 10 up to the
    divergence step ``eta_inf`` (:func:`tail_index` at each)."""
    lo = critical_step(10.0, batch, dim, sigma)
    hi = divergence_step(batch, dim, sigma)
    grid = np.geomspace(lo, hi * (1 - 1e-6), _count("n", n, 2))
    alpha = np.array([tail_index(e, batch, dim, sigma) for e in grid])
    return grid / batch, alpha


def run_setting(problem: SGDTailProblem, seed: int = 0, simulate_range=(0.5, 4.5),
                mc_samples: int = 20000, burn_factor: float = 15.0, n_chains: int = 4096,
                n_records: int = 64, max_draws: float = 2e9, groups: int = 10) -> dict:
    """Theory and, where affordable, simulation of one ``(eta, b, d)`` setting: a table row.

    Always ``alpha_theory`` (:func:`tail_index`) and ``rho``; ``alpha_mc``
    (:func:`tail_index_mc`, ``mc_samples`` draws; 0: off) when the theoretical alpha lies in
    ``simulate_range``; then, unless the chains would need more than ``max_draws`` normal
    draws (``n_chains (burn_in + n_records thin) b (d + 1)``, burn-in from
    :func:`relaxation_schedule`), :func:`simulate_sgd` and its ``mohammadi`` and ``hill``
    :func:`grouped_tail_estimates`. A row not simulated says why under ``skipped``.
    """
    p = problem
    alpha = p.tail_index()
    rho = p.lyapunov_exponent()
    row = {"eta": p.eta, "batch": p.batch, "dim": p.dim, "ratio": p.ratio,
           "alpha_theory": alpha, "rho": rho, "seed": seed}
    in_range = simulate_range[0] <= alpha <= simulate_range[1]
    if mc_samples and in_range:
        row["alpha_mc"] = tail_index_mc(p.eta, p.batch, p.dim, p.sigma, n_samples=mc_samples,
                                        seed=seed)
    if alpha == 0.0:
        row["skipped"] = "diverges (rho >= 0)"
    elif not in_range:
        row["skipped"] = "alpha outside --simulate-range"
    else:
        burn_in, thin = relaxation_schedule(p, burn_factor)
        draws = n_chains * (burn_in + n_records * thin) * p.batch * (p.dim + 1)
        row.update(burn_in=burn_in, thin=thin, draws=draws)
        if draws > max_draws:
            row["skipped"] = (f"needs {draws:.2g} normal draws > --max-draws "
                              f"(tau = {1 / abs(rho):.0f} iterations)")
        else:
            res = simulate_sgd(p, n_chains=n_chains, n_records=n_records, burn_in=burn_in,
                               thin=thin, seed=seed)
            est = res.tail_estimates(groups=groups)
            row.update(mohammadi=est["mohammadi"], hill=est["hill"], samples=res.n_samples,
                       wall_s=res.wall_time)
    return row
