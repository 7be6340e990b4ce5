"""Validation table of levydyn.kesten against exact results: ``python -m levydyn.kesten``.

Rows: the estimators (renormalised products, cloning, band-inverted root, escape slopes)
next to the exact values of a scalar law (E a = 1, so alpha_K = 1), a diagonal law
(Lambda(s) = max_j log E|a_j|^s) and Gaussian least squares (gaussian_ls' quadrature,
paper 001). Seeds fixed; 95 % CIs.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from levydyn import Ball
from levydyn import kesten as kz
from levydyn.kesten import gaussian_ls as st


def _row(name, est, exact):
    ok = "yes" if est.contains(exact) else "NO"
    print(f"{name:<48} {str(est):<32} {exact:<10.4g} {ok}")


def main() -> None:
    print(f"{'quantity':<48} {'estimate [95% CI]':<32} {'exact':<10} in CI")
    scalar = kz.ScalarAffine.from_ab([0.4, 1.5], [5 / 11, 6 / 11])
    _row("scalar a in {0.4, 1.5}: lambda_1", kz.lyapunov_exponent(scalar, 1.0, seed=1),
         scalar.exact_lyapunov(1.0))
    for s, e in zip([0.5, 2.0], kz.generalized_lyapunov(scalar, 1.0, [0.5, 2.0], seed=2)):
        _row(f"scalar: Lambda({s:g})", e, scalar.exact_growth(s, 1.0))
    _row("scalar: alpha_K (cloning)", kz.tail_index(scalar, 1.0, method="cloning", seed=3), 1.0)
    F = np.zeros((2, 2, 2))
    F[0], F[1] = np.diag(np.sqrt([0.5, 0.1])), np.diag(np.sqrt([2.2, 0.05]))
    diag = kz.EmpiricalMinibatch(np.zeros((2, 2)), F, 1)
    a1, a2 = np.array([0.5, -1.2]), np.array([0.9, 0.95])
    lam_s = lambda a, s: math.log(np.mean(np.abs(a) ** s))  # noqa: E731
    _row("diagonal empirical: lambda_1", kz.lyapunov_exponent(diag, 1.0, seed=4),
         max(np.mean(np.log(np.abs(a1))), np.mean(np.log(np.abs(a2)))))
    _row("diagonal: Lambda(4)", kz.generalized_lyapunov(diag, 1.0, [4.0], seed=5)[0],
         max(lam_s(a1, 4), lam_s(a2, 4)))
    _row("diagonal: alpha_K (cloning)", kz.tail_index(diag, 1.0, seed=6),
         optimize.brentq(lambda s: lam_s(a1, s), 0.5, 10))
    ls = kz.GaussianLeastSquares(3, 2)
    for eta in (0.5, 0.8):
        _row(f"least squares d=3 b=2 eta={eta}: lambda_1",
             kz.lyapunov_exponent(ls, eta, seed=7), st.lyapunov_exponent(eta, 2, 3))
        _row(f"least squares eta={eta}: Lambda(2)",
             kz.generalized_lyapunov(ls, eta, [2.0], seed=8)[0],
             math.log(st.moment_growth(2.0, eta, 2, 3)))
        if eta == 0.5:      # alpha_K = 4 here: Lambda(4) = 0, weights very skewed
            _row("least squares eta=0.5: Lambda(4)",
                 kz.generalized_lyapunov(ls, eta, [4.0], seed=8)[0],
                 math.log(st.moment_growth(4.0, eta, 2, 3)))
        _row(f"least squares eta={eta}: alpha_K (cloning)",
             kz.tail_index(ls, eta, method="cloning", seed=9), st.tail_index(eta, 2, 3))
    unstable = kz.ScalarAffine.from_ab([0.5, 3.0], [0.5, 0.5])
    radii = [1e2, 1e4, 1e8]
    res = [kz.simulate(kz.Recursion(unstable, 1.0, domain=Ball([0.0], R)), n_paths=2000,
                       max_steps=100_000, seed=10, classify=False) for R in radii]
    _row("unstable a in {0.5, 3}: dE tau/dlog R (1e2-1e8)",
         kz.escape_scaling(radii, res, "unstable"), 1 / unstable.exact_lyapunov(1.0))
    radii = [1e3, 1e4]
    res = [kz.simulate(kz.Recursion(scalar, 1.0, domain=Ball([0.0], R)), n_paths=2000,
                       max_steps=5_000_000, seed=11, classify=False) for R in radii]
    _row("stable scalar: dlog E tau/dlog R (1e3-1e4)",
         kz.escape_scaling(radii, res, "stable"), 1.0)


if __name__ == "__main__":
    main()
