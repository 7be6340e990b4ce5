"""Tests of ``nn_bridge.escape.fit``.

From the former tests/test_nn_bridge.py: nn_bridge.curvature.per_sample, bridge, linearized, fit: network -> levydyn Problem, and the fits."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from levydyn import Box, Problem, Quadratic, simulate  # noqa: E402
from nn_bridge.escape.bridge import sgd_to_sde_eps  # noqa: E402
from nn_bridge.escape.fit import fit_escape_table, fit_gaussian, fit_levy, log_se  # noqa: E402


def test_fit_recovers_alpha_from_levy_escape_curves():
    """Synthetic escape curves from levydyn: 1-D OU with SaS(1.5) SGD noise (eps = lr^(1/3)
    sigma, dt = lr), exit from (-1, 1), 1000 paths per lr. Small-noise theory: mean
    iterations ~ lr^-alpha. Finite-noise corrections (eps ~ 0.1-0.2 here) bias the slope by
    a few hundredths; the tolerance is 0.15 (about 3 standard errors)."""
    alpha, sigma = 1.5, 0.5
    lrs = np.array([0.005, 0.01, 0.02, 0.04])
    rows = []
    for lr in lrs:
        eps = float(sgd_to_sde_eps(sigma, alpha, lr))
        prob = Problem(Quadratic(1.0), alpha, eps, Box.around(0.0, 1.0, 1.0))
        res = simulate(prob, n_paths=1000, dt=lr, t_max=lr * 2e5, seed=7)
        e = res.mean_exit_time()
        rows.append((8, lr, e.value / lr, e.low / lr, e.high / lr))
    rows = np.array(rows)
    f = fit_levy(lrs, rows[:, 2], log_se(rows[:, 2], rows[:, 3], rows[:, 4]))
    assert abs(f.params["alpha"] - alpha) < 0.15, f
    fixed = fit_levy(lrs, rows[:, 2], log_se(rows[:, 2], rows[:, 3], rows[:, 4]), alpha=alpha)
    assert fixed.chi2_dof < 10
    table = fit_escape_table(rows, {8: alpha})
    assert table["vs_lr"][8]["levy_free"].params["alpha"] == pytest.approx(f.params["alpha"])


def test_fit_gaussian_recovers_kramers_constant_and_skips_censored():
    lr = np.array([0.1, 0.15, 0.2, 0.3, 0.5])
    tau = np.exp(1.0 - np.log(lr) + 0.8 / lr) * np.exp(0.02 * np.array([1, -1, 1, -1, 0]))
    f = fit_gaussian(lr, tau, 0.05)
    assert f.params["K"] == pytest.approx(0.8, abs=0.05) and f.r2 > 0.99
    tau2 = tau.copy()
    tau2[0] = np.inf
    g = fit_gaussian(lr, tau2, 0.05)
    assert g.n == 4 and g.n_left_out == 1
    with pytest.raises(ValueError, match="at least 2"):
        fit_gaussian(lr[:1], tau[:1], 0.05)
    with pytest.raises(ValueError, match="positive"):
        fit_levy([-0.1, 0.2], [1.0, 2.0], 0.1)


def test_bounds_are_left_out_of_the_fits_and_listed_with_the_reason():
    """Hand-made table: exact Levy curve log tau = 2 - 1.5 log lr at 4 lrs, plus a 5th cell
    whose estimate is a bound (value = restricted mean 10, high = inf, far below the
    curve's e^2 0.005^-1.5 = 2.1e4): fitting it as a mean would pull alpha away from 1.5;
    it must be left out, the fit exact, and the bound listed with its reason."""
    lrs = [0.01, 0.02, 0.04, 0.08]
    tau = [float(np.exp(2.0 - 1.5 * np.log(lr))) for lr in lrs]
    rows = [(8, lr, t, t * 0.9, t / 0.9) for lr, t in zip(lrs, tau)]
    rows.append((8, 0.005, 10.0, 10.0, np.inf))
    f = fit_escape_table(rows)["vs_lr"][8]
    assert f["levy_free"].params["alpha"] == pytest.approx(1.5, abs=1e-9)
    assert f["levy_free"].n == 4
    (b,) = f["bounds_left_out"]
    assert b["lr"] == 0.005 and b["mean_at_least"] == 10.0 and "lower bound" in b["reason"]
    # a censored cell (no estimate) is not a bound
    g = fit_escape_table(rows[:4] + [(8, 0.005, np.inf, np.inf, np.inf)])["vs_lr"][8]
    assert "bounds_left_out" not in g
    # across batch sizes at one lr
    rows_b = [(B, 0.01, 100.0 * B ** 0.5, 90.0 * B ** 0.5, 110.0 * B ** 0.5) for B in (2, 4, 8)]
    vb = fit_escape_table(rows_b + [(16, 0.01, 5.0, 5.0, np.inf)])["vs_batch"][0.01]
    assert vb["bounds_left_out"][0]["batch_size"] == 16
    assert vb["levy"].n == 3
