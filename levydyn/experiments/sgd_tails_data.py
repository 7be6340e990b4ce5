"""SGD on a user's finite data set, as in the authors' experiments: fixed K, Polyak averages.

The setting of Gurbuzbalaban, Simsekli & Zhu ("The Heavy-Tail Phenomenon in SGD", ICML
2021; their public synthetic-data notebook): least squares on a fixed data set
``(A, y)`` (``A`` is n x d), ``f(x) = sum_i (a_i^T x - y_i)^2 / (2 n)``, minibatches of
``b`` rows drawn *without* replacement within a step (a fresh random subset each step),
``K`` iterations from a random start ``x0 ~ N(0, x0_scale^2 I_d)`` drawn per chain, and the
Polyak average of the iterates ``k >= K/2``. The tail index is estimated across chains
from ``x_K - x_hat`` and from the averages minus ``x_hat`` (``x_hat`` the least-squares
solution), with the multivariate Mohammadi estimator, median over block lengths, as the
authors do. That is the *naive* number: it assumes the chains have reached a stationary
law, which a fixed K does not guarantee, and that one exists (it does not when the
recursion expands). This module measures both:

- the top Lyapunov exponent ``rho = lim (1/k) log ||M_k ... M_1 v||`` of the random
  matrices ``M = I - (eta/b) sum_{i in S} a_i a_i^T`` of this data set (renormalised
  products over independent vectors, with a t interval over them). ``rho >= 0``: no
  stationary law (the iterates diverge or wander); ``rho < 0``: the start is forgotten
  like ``exp(rho k)``;
- ``x0 memory = exp(rho K_avg)`` at the start of the averaging (``K_avg`` = first averaged
  step): the share of the initial error left; above ``MEMORY_MAX`` the run is not
  stationary at K;
- the spread ratio ``median ||x_K - x_hat|| / median ||x_{K_avg} - x_hat||`` across chains:
  far from 1 the law still moves during the averaging window.

Randomness: counter-based streams of :mod:`levydyn.model.noise`; chain ``i`` uses stream ``i``
of ``seed`` for its minibatches; its start is ``x0_scale`` times stream ``i`` of
``seed + 1`` through :func:`levydyn.model.noise.sas_rvs` at alpha = 2 divided by sqrt 2 (a
standard normal); the Lyapunov vectors use ``seed + 2``. Bit-identical for any thread
count.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from levydyn import estimators as est
from levydyn.estimators.block_sums import _inv_to_alpha
from levydyn.kesten import EmpiricalMinibatch
from levydyn.kesten import kernel as K
from levydyn.model.noise import check_seed, sas_rvs
from levydyn.model.schedules import Constant
from levydyn.model.validation import check_memory

__all__ = ["MEMORY_MAX", "SPREAD_TOLERANCE", "SAMPLINGS", "authors_synthetic_data",
           "check_dataset", "load_npz", "FixedKResult", "run_fixed_k", "dataset_lyapunov", "TailReport",
           "tail_report", "run_setting"]

_CONSTANT = Constant().encode()     # (kind, gamma, t0, ms, vs) of a constant step

#: Largest x0 memory ``exp(rho K_avg)`` of a run called stationary.
MEMORY_MAX = 0.05
#: Spread ratio (median norm at K over median norm at the start of averaging) accepted as
#: stationary: within this factor of 1.
SPREAD_TOLERANCE = 1.25
SAMPLINGS = ("without", "with")


def _count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")
    return int(value)


def _positive(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {name}={value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive number, got {name}={value!r}")
    return v


def load_npz(path, keys: str = "A,y") -> tuple[np.ndarray, np.ndarray]:
    """``(A, y)`` from a .npz file holding both arrays, named by ``keys`` (``"A,y"``)."""
    names = [k.strip() for k in keys.split(",")]
    if len(names) != 2 or not all(names):
        raise ValueError(f"data-keys must be two array names 'A,y', got data-keys={keys!r}")
    try:
        with np.load(path, allow_pickle=False) as z:
            files = list(z.files)
            missing = [k for k in names if k not in files]
            if not missing:
                return np.asarray(z[names[0]]), np.asarray(z[names[1]])
    except (OSError, ValueError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"data: cannot read {path} as .npz: {msg}") from None
    raise ValueError(f"data: no array {missing[0]!r} in {path}; it holds "
                     f"{', '.join(files) or 'nothing'} (see --data-keys)")


def check_dataset(A, y):
    """``(A, y)`` as contiguous float arrays: A n x d (n >= 2), y of length n, all finite."""
    try:
        A = np.ascontiguousarray(A, dtype=float)
        y = np.ascontiguousarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("A and y must be numeric arrays") from None
    if A.ndim != 2 or A.shape[0] < 2 or A.shape[1] < 1:
        raise ValueError(f"A must be 2-D (n rows x d features, n >= 2), got shape={A.shape}")
    if y.shape != (A.shape[0],):
        raise ValueError(f"y must have one entry per row of A ({A.shape[0]}), got shape={y.shape}")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(y))):
        raise ValueError("A and y must be finite, got a non-finite entry")
    return A, y


def authors_synthetic_data(n: int = 10000, d: int = 100, sig_a: float = 1.0, sig_x: float = 3.0,
                           sig_y: float = 3.0, seed: int = 0):
    """The authors' synthetic regression data: ``A = sig_a G``, ``x_true = sig_x g``,
    ``y = A x_true + sig_y xi`` (G, g, xi standard normal). Defaults are theirs (n = 1e4,
    d = 100, 1, 3, 3). Returns ``(A, y)``. Normals from :func:`levydyn.model.noise.sas_rvs` at
    alpha = 2 (N(0, 2)) divided by sqrt 2, streams of ``seed``."""
    n, d = _count("n", n, 2), _count("d", d)
    sig_a, sig_x, sig_y = (_positive(k, v) for k, v in
                           (("sig_a", sig_a), ("sig_x", sig_x), ("sig_y", sig_y)))
    # the draws, A and y: about twice (n + 1)(d + 1) doubles at the peak
    check_memory("n", f"{n} (d={d})", 16.0 * (n + 1) * (d + 1), "the data")
    z = sas_rvs(2.0, (n + 1, d + 1), seed=check_seed(seed)) / math.sqrt(2.0)
    A = sig_a * z[:n, :d]
    x_true = sig_x * z[n, :d]
    y = A @ x_true + sig_y * z[:n, d]
    return A, y


def _law(A, y, eta, batch, sampling) -> tuple[float, EmpiricalMinibatch]:
    """``eta`` checked, and the minibatch law of SGD on ``(A, y)``: per-sample gradient at
    ``x`` ``a_n (a_n^T x - y_n) = a_n a_n^T x - a_n y_n``, i.e. curvature factor ``a_n`` and
    deviation ``-a_n y_n`` (:class:`~levydyn.kesten.EmpiricalMinibatch`, rank 1), ``b`` rows
    per step with or without replacement. ``x <- x - (eta/b) sum_{n in S} a_n (a_n^T x - y_n)``
    is then one step of :func:`levydyn.kesten.kernel.step` with ``lr = eta``."""
    eta = _positive("eta", eta)
    batch = _count("batch", batch)
    if batch > A.shape[0]:
        raise ValueError(f"batch must be at most the number of rows {A.shape[0]}, "
                         f"got batch={batch}")
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be 'without' or 'with', got sampling={sampling!r}")
    return eta, EmpiricalMinibatch(-A * y[:, None], A, batch, replace=sampling == "with")


# ---------------------------------------------------------------------------------
# Python-facing functions
# ---------------------------------------------------------------------------------
def dataset_lyapunov(A, eta: float, batch: int, steps: int = 4000, n_vectors: int = 32,
                     sampling: str = "without", seed: int = 0, level: float = 0.95):
    """Top Lyapunov exponent of ``M = I - (eta/b) sum_{i in S} a_i a_i^T`` on this data set.

    ``(1/L) log ||M_L ... M_1 v||`` for ``n_vectors`` independent random unit vectors and
    minibatch sequences (renormalised every step), averaged, with a Student-t interval over
    the vectors. Returns ``(rho, low, high)`` per step. Products of i.i.d. random
    matrices: the limit is the same for almost every v (Furstenberg-Kesten), so the spread
    over vectors is the estimate's sampling error (plus an O(1/L) start-up bias).
    """
    from scipy.stats import t as student_t

    A = np.ascontiguousarray(A, dtype=float)
    eta, law = _law(A, np.zeros(A.shape[0]), eta, batch, sampling)
    steps = _count("steps", steps)
    n_vectors = _count("n_vectors", n_vectors, 2)
    v0 = sas_rvs(2.0, (n_vectors, A.shape[1]), seed=check_seed(seed) + 2)
    r = np.empty(n_vectors)
    K.lyapunov_paths(*law.encode(), eta, 0, steps, seed + 2, v0, r)
    if not np.all(np.isfinite(r)):
        v = float(np.max(r))
        return v, v, v
    m = float(r.mean())
    h = float(student_t.ppf(0.5 + level / 2, n_vectors - 1) * r.std(ddof=1) / math.sqrt(n_vectors))
    return m, m - h, m + h


@dataclass
class FixedKResult:
    """Chains of fixed-K SGD on one data set (the authors' protocol).

    x_last, x_avg, x_start : ``(n_chains, d)``: ``x_K``, the Polyak average over steps
        ``k_avg .. K``, and ``x_{k_avg}``.
    x_hat : least-squares solution of ``(A, y)`` (what the iterates fluctuate around).
    """

    eta: float
    batch: int
    iterations: int
    k_avg: int
    x0_scale: float
    sampling: str
    seed: int
    x_last: np.ndarray = field(repr=False)
    x_avg: np.ndarray = field(repr=False)
    x_start: np.ndarray = field(repr=False)
    x_hat: np.ndarray = field(repr=False)
    wall_time: float = 0.0


def run_fixed_k(A, y, eta: float, batch: int, iterations: int = 1000, n_chains: int = 1600,
                x0_scale: float = 5.0, avg_from: float = 0.5, sampling: str = "without",
                seed: int = 0) -> FixedKResult:
    """``n_chains`` independent SGD runs of ``iterations`` steps on ``(A, y)``.

    ``x <- x - (eta/b) sum_{i in S_k} a_i (a_i^T x - y_i)``, ``|S_k| = b``, each chain from
    its own ``x0 ~ N(0, x0_scale^2 I)`` (``x0_scale = 0``: all start at 0); the Polyak
    average runs over steps ``k >= k_avg = floor(avg_from K)``. Defaults are the authors'
    (K = 1000, 1600 = 40^2 chains, x0 scale 5, average over the second half, subsets
    without replacement).
    """
    A, y = check_dataset(A, y)
    eta, law = _law(A, y, eta, batch, sampling)
    iterations = _count("iterations", iterations)
    n_chains = _count("n_chains", n_chains, 2)
    try:
        x0_scale = float(x0_scale)
    except (TypeError, ValueError):
        raise ValueError(f"x0_scale must be a number >= 0, got x0_scale={x0_scale!r}") from None
    if not (math.isfinite(x0_scale) and x0_scale >= 0):
        raise ValueError(f"x0_scale must be a number >= 0, got x0_scale={x0_scale!r}")
    try:
        avg_from = float(avg_from)
    except (TypeError, ValueError):
        raise ValueError(f"avg_from must be in [0, 1), got avg_from={avg_from!r}") from None
    if not 0.0 <= avg_from < 1.0:
        raise ValueError(f"avg_from must be in [0, 1), got avg_from={avg_from!r}")
    seed = check_seed(seed)
    d = A.shape[1]
    x0s = np.ascontiguousarray(x0_scale * sas_rvs(2.0, (n_chains, d), seed=seed + 1)
                               / math.sqrt(2.0))
    k_avg = int(math.floor(avg_from * iterations))
    x_start = x0s.copy() if k_avg == 0 else np.empty((n_chains, d))
    rec = np.empty((0 if k_avg == 0 else 1, n_chains, d))     # x_{k_avg} (burn_in = k_avg - 1)
    x_avg = np.empty((n_chains, d))
    x_last = np.empty((n_chains, d))
    times = np.empty(n_chains, dtype=np.int64)
    flags = np.empty(n_chains, dtype=np.bool_)
    axis = np.empty(n_chains, dtype=np.int64)
    side = np.empty(n_chains, dtype=np.int64)
    none = np.zeros(0)
    t0 = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):
        K.run_paths(*law.encode(), eta, *_CONSTANT, x0s,
                    K.EXIT_NONE, none, none, none, 0.0, iterations, max(k_avg - 1, 0), 1, rec,
                    x_avg, True, k_avg, iterations - k_avg + 1, seed, times, flags, axis, side,
                    x_last)
    if k_avg > 0:
        x_start = rec[0]
    x_hat = np.linalg.lstsq(A, y, rcond=None)[0]
    return FixedKResult(eta, law.batch_size, iterations, k_avg, x0_scale, sampling, seed, x_last, x_avg,
                        x_start, x_hat, time.perf_counter() - t0)


@dataclass(frozen=True)
class TailReport:
    """What a fixed-K run supports, next to what the naive estimators report.

    status : ``"ok"``, ``"not stationary"`` or ``"diverges"``; reason : one line why.
    rho, rho_ci : Lyapunov exponent per step and its interval (:func:`dataset_lyapunov`).
    memory : ``exp(rho k_avg)``, the share of the start left when averaging begins.
    spread_ratio : median ``||x_K - x_hat||`` over median ``||x_{k_avg} - x_hat||``.
    naive_avg : the authors' number: multivariate Mohammadi, median over the authors'
        block lengths, on the Polyak averages minus ``x_hat``, unclipped as theirs.
    naive_last : the same on ``x_K - x_hat``.
    hill_last : :func:`levydyn.estimators.alpha_ci` (Hill, asymptotic) on
        ``||x_K - x_hat||``: (alpha, low, high).
    """

    status: str
    reason: str
    rho: float
    rho_ci: tuple[float, float]
    memory: float
    spread_ratio: float
    naive_avg: float
    naive_last: float
    hill_last: tuple[float, float, float]


def _multivariate_median(X) -> float:
    """Multivariate Mohammadi estimate, median of 1/alpha over the authors' block lengths
    (at least 10 blocks), not clipped."""
    if not np.all(np.isfinite(X)):
        return float("nan")
    n = X.shape[0]
    invs = [1.0 / est.mohammadi_alpha_multivariate(X, K1=k, clip=False)
            for k in est.median_block_sizes(n)]
    return float(_inv_to_alpha(np.median(invs), False))


def tail_report(res: FixedKResult, A, lyapunov_steps: int | None = None,
                n_vectors: int = 32) -> TailReport:
    """Naive tail estimates of a fixed-K run and whether they mean anything.

    ``diverges``: ``rho``'s interval reaches 0 or above, or an iterate is not finite (no
    stationary law: any alpha estimated there describes a transient). ``not stationary``:
    ``exp(rho k_avg) > MEMORY_MAX`` (the chains still remember their start when averaging
    begins) or the spread ratio is off 1 by more than ``SPREAD_TOLERANCE``. ``ok``
    otherwise. ``lyapunov_steps`` defaults to ``max(4000, iterations)``.
    """
    A = np.ascontiguousarray(A, dtype=float)
    steps = max(4000, res.iterations) if lyapunov_steps is None else lyapunov_steps
    rho, lo, hi = dataset_lyapunov(A, res.eta, res.batch, steps=steps, n_vectors=n_vectors,
                                   sampling=res.sampling, seed=res.seed)
    with np.errstate(over="ignore", invalid="ignore"):
        memory = float(math.exp(min(rho * max(res.k_avg, 1), 700.0)))
        nl = np.linalg.norm(res.x_last - res.x_hat, axis=1)
        ns = np.linalg.norm(res.x_start - res.x_hat, axis=1)
        na = np.linalg.norm(res.x_avg - res.x_hat, axis=1)
        # finite and far from overflow: block sums of up to 1000 norms must stay finite
        finite = bool(np.all(np.isfinite(nl)) and np.all(np.isfinite(ns))
                      and np.all(np.isfinite(na))
                      and max(nl.max(), na.max()) < 1e300 / max(1000, nl.size))
        spread = float(np.median(nl) / np.median(ns)) if finite else float("nan")
    naive_avg = _multivariate_median(res.x_avg - res.x_hat) if finite else float("nan")
    naive_last = _multivariate_median(res.x_last - res.x_hat) if finite else float("nan")
    if finite:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", est.AtomWarning)
            h = est.alpha_ci(nl, method="hill")
        hill = (float(h.alpha), float(h.low), float(h.high))
    else:
        hill = (float("nan"),) * 3
    if not finite or hi >= 0:
        status = "diverges"
        reason = ("iterates overflow (not finite)" if not finite else
                  f"rho = {rho:.3g} per step, 95% CI [{lo:.3g}, {hi:.3g}] reaches 0: no "
                  "stationary law")
    elif memory > MEMORY_MAX or not (1 / SPREAD_TOLERANCE <= spread <= SPREAD_TOLERANCE):
        status = "not stationary"
        reason = (f"x0 memory exp(rho k_avg) = {memory:.2g} at step {res.k_avg}"
                  f" (> {MEMORY_MAX:g} means the start is not forgotten)"
                  if memory > MEMORY_MAX else
                  f"spread of ||x - x_hat|| changed by x{spread:.3g} over the averaging window")
    else:
        status, reason = "ok", f"x0 memory {memory:.2g}, spread ratio {spread:.3g}"
    return TailReport(status, reason, rho, (lo, hi), memory, spread, naive_avg, naive_last, hill)


def run_setting(A, y, eta: float, batch: int, iterations: int = 1000, n_chains: int = 1600,
                x0_scale: float = 5.0, avg_from: float = 0.5, sampling: str = "without",
                seed: int = 0) -> dict:
    """One row of ``levydyn sgd-tails --data``: :func:`run_fixed_k` and its
    :func:`tail_report` as plain numbers (status, reason, rho and its CI, x0 memory,
    spread ratio, naive alphas, Hill on ``||x_K - x_hat||``, wall time)."""
    res = run_fixed_k(A, y, eta, batch, iterations=iterations, n_chains=n_chains,
                      x0_scale=x0_scale, avg_from=avg_from, sampling=sampling, seed=seed)
    rep = tail_report(res, A)
    return {"batch": batch, "eta": eta, "ratio": eta / batch, "seed": seed,
            "status": rep.status, "reason": rep.reason, "rho": rep.rho,
            "rho_ci": list(rep.rho_ci), "x0_memory": rep.memory,
            "spread_ratio": rep.spread_ratio, "naive_avg": rep.naive_avg,
            "naive_last": rep.naive_last, "hill_last": list(rep.hill_last),
            "wall_s": res.wall_time}
