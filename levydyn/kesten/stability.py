"""Stability and tails of ``x_{k+1} = M_k x_k + q_k``, ``M_k = I - lr H_k``: Lyapunov exponents
and the Kesten tail index, each an :class:`~levydyn.results.Estimate` with a CI.

Definitions (Furstenberg & Kesten 1960; Kesten 1973; Goldie 1991; paper 001 = Gurbuzbalaban,
Simsekli & Zhu 2021 for SGD; Hodgkinson & Mahoney 2021):

- top Lyapunov exponent ``lambda_1 = lim (1/n) log ||M_n ... M_1 x||`` (a.s., any ``x != 0``
  outside a null set). ``lambda_1 < 0``: the iterates converge in law to a stationary
  ``x_inf``; ``lambda_1 > 0``: ``||x_k||`` grows like ``e^(lambda_1 k)``.
- generalised Lyapunov exponent ``Lambda(s) = lim (1/n) log E ||M_n ... M_1 x||^s``: convex
  in ``s``, ``Lambda(0) = 0``, ``Lambda'(0) = lambda_1``.
- Kesten tail index: if ``lambda_1 < 0`` and ``Lambda(s) > 0`` for some ``s``, the root
  ``alpha_K > 0`` of ``Lambda(alpha_K) = 0``; then ``P(u^T x_inf > R) ~ e(u) R^(-alpha_K)``
  (Kesten 1973, Thm. 6, under irreducibility conditions; in 1-D Goldie 1991:
  ``E|a|^alpha = 1``).

Estimators
----------
``lambda_1`` (:func:`lyapunov_exponent`): renormalised products (Benettin et al. 1980) on
``n_paths`` independent paths of ``n_steps`` steps after ``n_burn`` (to forget ``v_0``);
each path gives ``(1/n) sum log ||M_k v_{k-1}||``, the CI is the Student-t interval over the
paths (independent batch means). Bias ``O(1/n)`` from the initial direction, removed in
practice by the burn-in.

``Lambda(s)`` (:func:`generalized_lyapunov`): plain Monte Carlo of ``E||M_n..M_1 x||^s`` is
carried by exponentially rare products as ``n`` grows, so it is not used. ``Lambda(s)`` is
the log principal eigenvalue of the tilted transfer operator ``T_s f(v) = E[||M v||^s
f(M v / ||M v||)]`` on directions; its Feynman-Kac particle approximation, the *cloning*
or population-dynamics algorithm (Giardina, Kurchan & Peliti 2006; for products of random
matrices Vanneste 2010, Phys. Rev. E 81, 036701), keeps ``K`` directions, moves each by
its own ``M``, weighs it by ``||M v||^s``, adds ``log mean(w)`` to the estimate and resamples
by weight. Bias: ``log mean(w)`` underestimates ``log E w`` by ``Var(w) / (2 K (E w)^2)``
per step (delta method); that term is added back with the sample variance, leaving
``O(1/K^2)`` in 1-D and for isotropic laws (Gaussian least squares, where the direction
carries no information and the estimator is exactly the log of a mean of ``K`` i.i.d.
weights per step). For general laws the finite population also biases the selection of
directions, ``O(1/K)`` (Del Moral 2004), growing with ``|s|`` and with the spread of the
weights; the CI is the t interval over ``n_replicas`` independent populations and does not
include it (measured in tests/test_kesten.py against exact diagonal and isotropic cases).

``alpha_K`` (:func:`tail_index`): the root of the estimated ``Lambda``, located on grids of
``s`` (coarse doubling, then refinements, all with common random numbers); the CI inverts
the pointwise band ``Lambda_hat(s) +- t se(s)`` (lower end: root of the upper band; upper
end: root of the lower band; ``inf`` if the lower band has no root below ``s_max``).
Where the law has an exact ``Lambda`` (:class:`ScalarAffine`, :class:`GaussianLeastSquares`)
``method="auto"`` uses it.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from levydyn.kesten import kernel as K
from levydyn.kesten.models import MinibatchLaw, check_count
from levydyn.model.noise import check_seed
from levydyn.model.problem import check_positive
from levydyn.results import Estimate, mean_with_ci

__all__ = ["lyapunov_exponent", "generalized_lyapunov", "tail_index"]

#: Coarse grid of s for bracketing the tail index.
#: No start vectors: :func:`kernel.lyapunov_paths` draws a random direction per path.
_NO_START = np.zeros((0, 0))
S_GRID = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


def _law(law) -> MinibatchLaw:
    if not isinstance(law, MinibatchLaw):
        raise ValueError(f"law must be a MinibatchLaw (EmpiricalMinibatch, GaussianLeastSquares, "
                         f"ScalarAffine), got law={law!r}")
    return law


def _level(level) -> float:
    v = float(level)
    if not 0.0 < v < 1.0:
        raise ValueError(f"level must lie in (0, 1), got level={level!r}")
    return v


def lyapunov_exponent(law: MinibatchLaw, lr: float, n_paths: int = 256, n_steps: int = 2000,
                      n_burn: int | None = None, seed: int = 0, level: float = 0.95) -> Estimate:
    """Top Lyapunov exponent ``lambda_1`` of ``M = I - lr H`` per iteration (module docstring).

    ``n_burn`` defaults to ``n_steps // 10``. Path ``p`` uses stream ``(seed, p)``.
    """
    law = _law(law)
    lr = check_positive("lr", lr)
    n_paths = check_count("n_paths", n_paths, 2)
    n_steps = check_count("n_steps", n_steps)
    n_burn = n_steps // 10 if n_burn is None else check_count("n_burn", n_burn, 0)
    level = _level(level)
    out = np.empty(n_paths)
    K.lyapunov_paths(*law.encode(), lr, n_burn, n_steps, check_seed(seed), _NO_START,
                     out)
    est = mean_with_ci(out, level)
    return Estimate(est.value, est.low, est.high, level,
                    f"renormalised products, {n_paths} paths x {n_steps} steps (burn {n_burn}), "
                    "t interval over paths")


#: Largest weight spread ``Var(w) / (K mean(w)^2)`` (per step, averaged) for which the
#: cloning CI of ``Lambda(s)`` was seen to hold (tests/test_kesten_cloning_range.py).
SPREAD_LIMIT = 0.05


def _cloning(law, lr, s_values, n_particles, n_replicas, n_steps, n_burn, seed, spread=None):
    out = np.empty((len(s_values), n_replicas))
    spr = np.empty_like(out) if spread is None else spread
    K.cloning(*law.encode(), lr, np.asarray(s_values, dtype=float), n_particles, n_burn,
              n_steps, seed, out, spr)
    return out


def generalized_lyapunov(law: MinibatchLaw, lr: float, s, n_particles: int = 512,
                         n_replicas: int = 8, n_steps: int = 400, n_burn: int = 100,
                         seed: int = 0, level: float = 0.95) -> list[Estimate]:
    """``Lambda(s) = lim (1/n) log E||M_n ... M_1 x||^s`` for each ``s`` (cloning estimate).

    One :class:`Estimate` per ``s``: mean over ``n_replicas`` independent populations of
    ``n_particles`` with a t interval (module docstring; bias ``O(1/n_particles)`` not
    included). Cost: ``len(s) n_replicas n_particles (n_burn + n_steps)`` draws of ``M``.

    Range of validity: the delta-method correction needs ``K >> Var(w) / (E w)^2``, the
    relative variance of the weights ``w = ||M v||^s``, which grows fast with ``s``
    (lognormal ``|a|``: ``exp(s^2 sigma^2) - 1``). The measured spread
    ``Var(w) / (K mean(w)^2)`` (per step, averaged over steps and replicas) is reported in
    ``method``; above :data:`SPREAD_LIMIT` the estimate is biased low beyond its CI (issue
    26: lognormal, s = 8, K = 512: 1.517 [1.484, 1.550] for 1.6) and ``method`` says so:
    raise ``n_particles``.
    """
    law = _law(law)
    lr = check_positive("lr", lr)
    s_arr = np.atleast_1d(np.asarray(s, dtype=float))
    if s_arr.ndim != 1 or not np.all(np.isfinite(s_arr)):
        raise ValueError(f"s must be finite numbers, got s={np.asarray(s).tolist()!r}")
    n_particles = check_count("n_particles", n_particles, 2)
    n_replicas = check_count("n_replicas", n_replicas, 2)
    n_steps = check_count("n_steps", n_steps)
    n_burn = check_count("n_burn", n_burn, 0)
    level = _level(level)
    spread = np.empty((s_arr.size, n_replicas))
    out = _cloning(law, lr, s_arr, n_particles, n_replicas, n_steps, n_burn, check_seed(seed),
                   spread)
    method = (f"cloning, {n_replicas} replicas x {n_particles} particles x {n_steps} steps "
              f"(burn {n_burn}), delta-method bias correction, t interval over replicas")
    res = []
    for row, spr in zip(out, spread.mean(axis=1)):
        e = mean_with_ci(row, level)
        note = (f"; weight spread {spr:.2g} > {SPREAD_LIMIT}: biased low beyond the CI, "
                "raise n_particles" if spr > SPREAD_LIMIT else f"; weight spread {spr:.2g}")
        res.append(Estimate(e.value, e.low, e.high, level, method + note))
    return res


def _first_root(s, f) -> float | None:
    """First zero crossing (from below) of the piecewise-linear interpolant of ``f`` on the
    ascending grid ``s``, with ``f(0) = 0`` prepended; ``0.0`` if ``f(s_0) >= 0``; None if
    ``f < 0`` on the whole grid."""
    if f[0] >= 0:
        return 0.0
    for i in range(1, len(s)):
        if f[i] >= 0:
            return float(s[i - 1] + (s[i] - s[i - 1]) * (-f[i - 1]) / (f[i] - f[i - 1]))
    return None


def tail_index(law: MinibatchLaw, lr: float, method: str = "auto", s_max: float = 64.0,
               n_particles: int = 512, n_replicas: int = 8, n_steps: int = 400,
               n_burn: int = 100, refinements: int = 2, seed: int = 0,
               level: float = 0.95) -> Estimate:
    """Kesten tail index ``alpha_K``: the root ``s > 0`` of ``Lambda(s) = 0`` (module docstring).

    ``method``: ``"exact"`` (laws with a closed form / quadrature), ``"cloning"`` (any law),
    ``"auto"`` (exact where available). Returns ``0`` (a point, method says why) when
    ``lambda_1 >= 0`` (no stationary law: the unstable regime) and ``inf`` when
    ``Lambda(s) < 0`` up to ``s_max`` (tails lighter than any index searched).
    """
    law = _law(law)
    lr = check_positive("lr", lr)
    if method not in ("auto", "exact", "cloning"):
        raise ValueError(f"method must be auto, exact or cloning, got method={method!r}")
    s_max = check_positive("s_max", s_max)
    level = _level(level)
    has_exact = hasattr(law, "exact_tail_index")
    if method == "exact" and not has_exact:
        raise ValueError(f"method='exact' needs a law with a closed form, got "
                         f"law={type(law).__name__}")
    if method in ("auto", "exact") and has_exact:
        a = law.exact_tail_index(lr)
        a = math.inf if a > s_max else a
        return Estimate(a, a, a, level, f"exact: root of Lambda(s) = 0 ({type(law).__name__})")
    n_particles = check_count("n_particles", n_particles, 2)
    n_replicas = check_count("n_replicas", n_replicas, 2)
    n_steps = check_count("n_steps", n_steps)
    n_burn = check_count("n_burn", n_burn, 0)
    refinements = check_count("refinements", refinements, 0)
    seed = check_seed(seed)
    tq = float(stats.t.ppf(0.5 + level / 2, n_replicas - 1))
    pts: dict[float, np.ndarray] = {}

    def evaluate(s_new):
        s_new = [s for s in s_new if s not in pts]
        if s_new:
            out = _cloning(law, lr, s_new, n_particles, n_replicas, n_steps, n_burn, seed)
            for s, row in zip(s_new, out):
                pts[s] = row

    def curves():
        s = np.array(sorted(pts))
        rows = np.array([pts[v] for v in s])
        m = rows.mean(1)
        hw = tq * rows.std(1, ddof=1) / math.sqrt(n_replicas)
        return s, {"mid": m, "upper": m + hw, "lower": m - hw}

    grid = [s for s in S_GRID if s <= s_max] or [s_max]
    evaluate(grid[:5])                       # up to s = 2; extend while the lower band < 0
    for s_next in grid[5:]:
        s_now, cs = curves()
        if _first_root(s_now, cs["lower"]) is not None:
            break
        evaluate([s_next])
    for _ in range(refinements):
        s, cs = curves()
        los, his = [], []
        for f in cs.values():
            r = _first_root(s, f)
            if r is None:
                continue
            i = int(np.searchsorted(s, r))
            los.append(s[i - 1] if i > 0 else 0.0)
            his.append(s[min(i, s.size - 1)])
        if not los:
            break
        lo, hi = min(los), max(his)
        evaluate(list(np.linspace(lo, hi, 8)[1:-1]))
    s, cs = curves()
    mid, up, low = (_first_root(s, cs[k]) for k in ("mid", "upper", "lower"))
    method_txt = (f"cloning Lambda(s) on {s.size} values of s, {n_replicas} replicas x "
                  f"{n_particles} particles x {n_steps} steps; CI by band inversion")
    if mid is None:
        return Estimate(math.inf, up if up is not None else math.inf, math.inf, level,
                        method_txt + f"; Lambda < 0 up to s_max={s_max}")
    return Estimate(mid, up if up is not None else 0.0,
                    low if low is not None else math.inf, level, method_txt)
