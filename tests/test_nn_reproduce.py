"""``levydyn nn reproduce`` on a tiny grid (seconds): shapes of the tables, JSON, bad input;
the Berry-Esseen link of paper 003 on laws with known moments; paper 001's iterate
protocol on synthetic iterates with a known tail index."""
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from cli.nn_reproduce import reproduce_cmd  # noqa: E402
from levydyn.estimators import BERRY_ESSEEN_CONSTANT, shapiro_sensitivity  # noqa: E402
from levydyn.noise import sas_rvs  # noqa: E402
from nn_bridge.papers.iterates import (IterateConfig, layer_tail_index, run_iterates,  # noqa: E402
                                time_tail_indices)
from nn_bridge.noise.per_sample import ParameterLayout  # noqa: E402
from nn_bridge.papers.reproduce import bound_batch_size, layer_third_moments, reproduce_grid  # noqa: E402

TINY = ["--widths", "4", "--base-width", "4", "--batch-sizes", "4,16", "--minibatches", "32",
        "--epochs", "2"]
TINY_ITER = ["--iter-etas", "0.05", "--iter-batches", "8,32", "--iter-steps", "120",
             "--iter-keep", "20", "--iter-thin", "2"]


def test_grid_rows_and_numbers():
    rows = reproduce_grid("wine", widths=(4, 8), depths=(2,), base_width=4, base_depth=2,
                          batch_sizes=(4, 16), n_minibatches=32, epochs=2, cnn_channels=())
    assert [(r.arch, r.width, r.depth, r.batch_size) for r in rows] == [
        ("mlp", 4, 2, 4), ("mlp", 4, 2, 16), ("mlp", 8, 2, 4), ("mlp", 8, 2, 16)]
    for r in rows:
        assert 0 < r.pooled_alpha <= 2 and 0 <= r.gaussian_overall <= 1
        assert set(r.alpha_layers) == set(r.gaussian_layers) == set(r.third_moment_layers)
        assert all(math.isnan(m) or 0 < m <= 2 for m, _, _ in r.alpha_layers.values())
        for layer, ratio in r.third_moment_layers.items():
            # E|u|^3 >= (E u^2)^(3/2) (Lyapunov), so beta/sigma^3 >= 1
            assert ratio >= 1.0
            # the median of C r / sqrt(B) is C median(r) / sqrt(B) (monotone map)
            assert r.berry_esseen_layers[layer] == pytest.approx(
                BERRY_ESSEEN_CONSTANT * ratio / math.sqrt(r.batch_size), rel=1e-12)


def test_cnn_rows():
    rows = reproduce_grid("digits", widths=(4,), depths=(2,), base_width=4, base_depth=2,
                          batch_sizes=(8, 32), n_minibatches=32, epochs=1, cnn_channels=(2, 4))
    cnn = [r for r in rows if r.arch == "cnn"]
    assert [(r.width, r.depth, r.batch_size) for r in cnn] == [(2, 3, 8), (2, 3, 32),
                                                               (4, 3, 8), (4, 3, 32)]
    for r in cnn:
        assert set(r.alpha_layers) == {"features.conv1.weight", "features.conv1.bias",
                                       "features.conv2.weight", "features.conv2.bias",
                                       "fc.weight", "fc.bias"}
        assert 0 < r.pooled_alpha <= 2 and 0.1 < r.test_acc <= 1
        assert all(v >= 1 for v in r.third_moment_layers.values())
    with pytest.raises(ValueError, match="cnn_channels=\\[8\\]: dataset 'wine' has no images"):
        reproduce_grid("wine", cnn_channels=(8,))


def test_third_moments_known_laws():
    # N(0, 1): E|Z|^3 / 1 = 2 sqrt(2/pi) = 1.5958; Exp(1) centred: E|X - 1|^3 = 12/e - 2
    # (integrate (1-x)^3 e^-x on [0, 1] and (x-1)^3 e^-x on [1, inf)), variance 1.
    # n = 200,000 samples: sd of the plug-in E|u|^3 is sqrt(15 - 8/pi)/sqrt(n) = 0.008 for
    # the Gaussian column (sqrt(E Z^6 - (E|Z|^3)^2)); the median of 20 columns ~0.002.
    # The Exp column: sd ~ sqrt(E|X-1|^6)/sqrt(n) ~ 0.06 at most; tolerance 0.03 for the
    # Gaussian median (>10 sd), 0.25 for the single Exp column (>4 sd).
    rng = np.random.default_rng(3)
    n = 200_000
    G = np.hstack([rng.standard_normal((n, 20)), rng.exponential(size=(n, 1))])
    layout = ParameterLayout(("gauss", "expo"), ((20,), (1,)))
    ratios, bounds = layer_third_moments(G, layout, batch_sizes=(1, 64))
    assert ratios["gauss"] == pytest.approx(2 * math.sqrt(2 / math.pi), abs=0.03)
    assert ratios["expo"] == pytest.approx(12 / math.e - 2, abs=0.25)
    assert bounds["gauss"][64] == pytest.approx(BERRY_ESSEEN_CONSTANT * ratios["gauss"] / 8)
    assert bound_batch_size(2.0, 0.01) == pytest.approx((BERRY_ESSEEN_CONSTANT * 2 / 0.01) ** 2)
    with pytest.raises(ValueError, match="must be"):
        layer_third_moments(G[:, :3], layout)


def test_shapiro_sensitivity_matches_edgeworth():
    # one-term Edgeworth: d_K(Gamma(k)) ~ phi(0) * skew / 6 = 0.3989 * (2/sqrt k) / 6
    s = shapiro_sensitivity(400, reps=100, shapes=(4, 64, 1024))
    edge = 0.3989423 * (2 / np.sqrt(s.shapes)) / 6
    assert np.allclose(s.distance, edge, rtol=0.15)
    assert s.ks_critical == pytest.approx(1.3581 / 20, rel=1e-3)
    # rejection falls as the distance falls: near 1 at k = 4, near the level at k = 1024
    # (100 samples: binomial sd <= 0.05)
    assert s.rejection[0] > 0.9 and s.rejection[2] < 0.25
    assert s.distance[2] < s.detectable_distance < s.distance[0]


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


def test_cli_tables_json_plot(tmp_path):
    js, png, png2 = tmp_path / "r.json", tmp_path / "r.png", tmp_path / "i.png"
    res = CliRunner().invoke(reproduce_cmd, ["--dataset", "wine", "--depths", "2,3",
                                             "--cnn-channels", ""] + TINY + TINY_ITER
                             + ["--json", str(js), "--plot", str(png),
                                "--plot-iterates", str(png2)])
    assert res.exit_code == 0, res.output
    for needle in ("paper 000", "paper 001", "paper 003", "paper 004", "beta/sigma^3",
                   "Kolmogorov distance"):
        assert needle in res.output
    d = json.loads(js.read_text())
    assert len(d["rows"]) == 4      # (4, 2) and (4, 3) x 2 batches
    assert len(d["iterates"]) == 2 and d["iterate_config"]["keep"] == 20
    assert 0 < d["shapiro_sensitivity"]["ks_critical"] < 1
    assert png.stat().st_size > 1000 and png2.stat().st_size > 1000


def test_cli_cnn_rows_printed():
    res = CliRunner().invoke(reproduce_cmd, ["--dataset", "digits", "--depths", "2",
                                             "--cnn-channels", "2", "--no-iterates"] + TINY)
    assert res.exit_code == 0, res.output
    assert "CNN 2 channels, depth 3" in res.output
    assert any(line.split()[:3] == ["cnn", "2", "3"] for line in res.output.splitlines())


def test_cli_bad_input():
    res = CliRunner().invoke(reproduce_cmd, ["--widths", "0"])
    assert res.exit_code == 2 and "widths must be positive integers" in res.output
    res = CliRunner().invoke(reproduce_cmd, ["--cnn-channels", "0"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "cnn-channels must be positive integers, got cnn-channels=0" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(reproduce_cmd, ["--dataset", "wine", "--cnn-channels", "8"] + TINY)
    assert res.exit_code == 2 and "has no images" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(reproduce_cmd, ["--iter-keep", "100", "--iter-thin", "5",
                                             "--iter-steps", "200"])
    assert res.exit_code == 2 and "keep=100 x thin=5" in res.output
    res = CliRunner().invoke(reproduce_cmd, ["--dataset", "nope", "--widths", "4", "--depths",
                                             "2", "--base-width", "4"])
    assert res.exit_code == 2 and "Traceback" not in res.output
