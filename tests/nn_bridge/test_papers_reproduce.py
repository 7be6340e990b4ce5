"""Tests of ``nn_bridge.papers.reproduce``.

From the former tests/test_nn_reproduce.py: the reproduction grid at tiny size (seconds):
shapes of the tables, bad input; the Berry-Esseen link of paper 003 on laws with known moments."""
import math
import numpy as np
import pytest
pytest.importorskip("torch")
pytest.importorskip("sklearn")
from levydyn.estimators import BERRY_ESSEEN_CONSTANT, shapiro_sensitivity  # noqa: E402
from nn_bridge.noise.per_sample import ParameterLayout  # noqa: E402
from nn_bridge.papers.reproduce import (bound_batch_size, layer_third_moments, reproduce_grid)


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
