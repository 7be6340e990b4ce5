"""Tests of ``nn_bridge.papers.iterates``.

From the former tests/test_nn_reproduce.py: paper 001's iterate protocol on synthetic
iterates with a known tail index."""
import math
import numpy as np
import pytest
pytest.importorskip("torch")
pytest.importorskip("sklearn")
from levydyn.model.noise import sas_rvs  # noqa: E402
from nn_bridge.papers.iterates import (IterateConfig, layer_tail_index, run_iterates, time_tail_indices)
from nn_bridge.noise.per_sample import ParameterLayout  # noqa: E402


def test_layer_tail_index_recovers_sas():
    # a "layer" of n = 20,000 SaS(1.2) averaged weights plus an offset (removed by the
    # centring): the authors' median estimator has RMSE ~0.026 at n = 1e4 and alpha = 1.2
    # (issue 16), ~0.02 at 2e4; tolerance 0.1 (~5 RMSE).
    x = 3.0 + 0.01 * sas_rvs(1.2, 20_000, seed=5)
    assert layer_tail_index(x) == pytest.approx(1.2, abs=0.1)
    # uniform entries (PyTorch's Kaiming-uniform init) are lighter than any stable law
    assert layer_tail_index(np.random.default_rng(0).uniform(-1, 1, 20_000)) > 2.0
    assert math.isnan(layer_tail_index(np.arange(10.0)))      # < 16 entries


def test_time_tail_indices_on_synthetic_iterates():
    # K = 2000 iterates of 200 parameters: layer "a" i.i.d. symmetric Pareto(1.5) in time
    # (P(|X| > x) = x^-1.5, x >= 1), for which Hill is unbiased: sd 1.5/sqrt(k) = 0.12 per
    # parameter with k = round(2000^(2/3)) = 159, ~0.01 for the median of 200; tolerance
    # 0.1. Layer "b" is a linear trend plus small noise: drift ~ sqrt(3) = 1.73.
    rng = np.random.default_rng(11)
    K = 2000
    a = rng.choice([-1.0, 1.0], (K, 200)) * rng.uniform(size=(K, 200)) ** (-1 / 1.5)
    b = np.linspace(0, 1, K)[:, None] + 1e-3 * rng.standard_normal((K, 20))
    layout = ParameterLayout(("a", "b"), ((200,), (20,)))
    layer_alpha, time_alpha, drift, detrended = time_tail_indices(np.hstack([a, b]), layout)
    assert time_alpha["a"][0] == pytest.approx(1.5, abs=0.1)
    assert detrended["a"][0] == pytest.approx(1.5, abs=0.1)
    # about the mean, the trend's deviations are uniform-like (light: Hill >> 2); about the
    # line they are the N(0, 1e-6) noise, for which Hill at K = 2000 gives ~4.7
    assert time_alpha["b"][0] > 8 and 3 < detrended["b"][0] < 7
    assert time_alpha["a"][1] <= time_alpha["a"][0] <= time_alpha["a"][2]
    assert drift["a"] < 0.2 and drift["b"] == pytest.approx(math.sqrt(3), abs=0.05)
    assert math.isfinite(layer_alpha["a"]) and math.isfinite(layer_alpha["b"])


def test_run_iterates_small():
    cfg = IterateConfig(etas=(0.05,), batch_sizes=(8, 32), iterations=150, keep=20, thin=3)
    rows = run_iterates("wine", width=4, depth=2, config=cfg)
    assert [(r.eta, r.batch_size) for r in rows] == [(0.05, 8), (0.05, 32)]
    for r in rows:
        assert not r.diverged and r.iterations >= 150
        assert r.eta_over_b == pytest.approx(0.05 / r.batch_size)
        assert set(r.time_alpha) == {"net.fc1.weight", "net.fc1.bias", "net.fc2.weight",
                                     "net.fc2.bias"}
        assert math.isnan(r.layer_alpha["net.fc2.bias"])      # 3 entries < 16
    with pytest.raises(ValueError, match="keep=20 x thin=10"):
        IterateConfig(iterations=100, keep=20, thin=10)
