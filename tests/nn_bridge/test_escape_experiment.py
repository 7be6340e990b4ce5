"""Tests of ``nn_bridge.escape.experiment``.

From the former tests/test_nn_escape.py: nn_bridge.escape.experiment: vectorised SGD escapes, the SGD <-> SDE conversion, CLI, bad input."""
import json
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.data.datasets import load_dataset  # noqa: E402
from nn_bridge.escape.experiment import (EscapeConfig, InjectedNoiseGradient, MinibatchGradient, distance_profile, find_minimum, run_escape, run_escape_loop)


def test_find_minimum_is_stationary(breast_cancer_mlp_at_minimum):
    flat, X, y, mn = breast_cancer_mlp_at_minimum
    assert mn.grad_norm < 0.05 and mn.train_acc > 0.9
    assert mn.objective == pytest.approx(mn.loss + 0.5e-2 * float(mn.w @ mn.w), rel=1e-10)


def test_vectorised_escape_equals_loop(breast_cancer_mlp_at_minimum):
    """Same per-replica streams: iterations, exit coordinates and weights must agree (the
    vmap'ed and the nn.Module gradients differ only by float64 round-off)."""
    flat, X, y, mn = breast_cancer_mlp_at_minimum
    orc = MinibatchGradient(flat, X, y, batch_size=8, weight_decay=1e-2)
    cfg = EscapeConfig(lr=0.4, batch_size=8, n_seeds=4, radius=0.4, loss_rise=0.05,
                       loss_every=5, max_iter=150, seed=5)
    vec = run_escape(orc, mn.w, cfg, keep_final=True)
    loop = run_escape_loop(orc, mn.w, cfg)
    assert vec.dist_exited.all() and vec.loss_exited.all() and vec.dist_iter.max() > 10
    np.testing.assert_array_equal(vec.dist_iter, loop.dist_iter)
    np.testing.assert_array_equal(vec.dist_exited, loop.dist_exited)
    np.testing.assert_array_equal(vec.exit_param, loop.exit_param)
    np.testing.assert_array_equal(vec.loss_iter, loop.loss_iter)
    np.testing.assert_allclose(vec.layer_share, loop.layer_share, rtol=1e-9)
    np.testing.assert_allclose(vec.final_w, loop.final_w, rtol=1e-8, atol=1e-10)


def test_replica_streams_do_not_depend_on_the_number_of_seeds(breast_cancer_mlp_at_minimum):
    flat, X, y, mn = breast_cancer_mlp_at_minimum
    orc = MinibatchGradient(flat, X, y, batch_size=8, weight_decay=1e-2)
    few = run_escape(orc, mn.w, EscapeConfig(lr=0.8, batch_size=8, n_seeds=3, radius=0.35,
                                             max_iter=80, seed=2))
    many = run_escape(orc, mn.w, EscapeConfig(lr=0.8, batch_size=8, n_seeds=7, radius=0.35,
                                              max_iter=80, seed=2))
    np.testing.assert_array_equal(few.dist_iter, many.dist_iter[:3])
    np.testing.assert_array_equal(few.exit_param, many.exit_param[:3])


def test_escape_result_survival_and_layers(breast_cancer_mlp_at_minimum):
    flat, X, y, mn = breast_cancer_mlp_at_minimum
    orc = MinibatchGradient(flat, X, y, batch_size=8, weight_decay=1e-2)
    e = run_escape(orc, mn.w, EscapeConfig(lr=0.8, batch_size=8, n_seeds=12, radius=0.35,
                                           max_iter=60, seed=1))
    s = e.survival(np.array([0.0, 10.0, 60.0]))
    assert s.survival[0] == 1.0 and np.all(np.diff(s.survival) <= 0)
    lp = e.layer_probability()
    assert set(lp) == {"fc1", "fc2", "fc3"}
    assert sum(v.value for v in lp.values()) == pytest.approx(1.0)
    sh = e.layer_share[e.dist_exited]
    np.testing.assert_allclose(sh.sum(1), 1.0)
    json.dumps(e.summary(), default=str)


@pytest.mark.parametrize("kw, field", [({"lr": -0.1}, "lr"), ({"batch_size": 0}, "batch_size"),
                                       ({"radius": 0.0}, "radius"), ({"n_seeds": 1.5}, "n_seeds"),
                                       ({"loss_rise": -1.0}, "loss_rise")])
def test_bad_escape_config(kw, field):
    base = dict(lr=0.1, batch_size=8)
    base.update(kw)
    with pytest.raises(ValueError, match=field):
        EscapeConfig(**base)


def test_bad_inputs_are_one_line(breast_cancer_mlp_at_minimum):
    flat, X, y, mn = breast_cancer_mlp_at_minimum
    orc = MinibatchGradient(flat, X, y, batch_size=8)
    with pytest.raises(ValueError, match="w_star"):
        run_escape(orc, mn.w[:-1], EscapeConfig(lr=0.1, batch_size=8))
    with pytest.raises(ValueError, match="weight_decay"):
        find_minimum(flat.model, load_dataset("breast_cancer"), weight_decay=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        InjectedNoiseGradient(flat, X, y, alpha=2.5, sigma=0.1)
    with pytest.raises(ValueError, match="criterion"):
        run_escape(orc, mn.w, EscapeConfig(lr=0.1, batch_size=8, n_seeds=2,
                                           max_iter=2)).mean_iterations("loss")


def test_distance_profile_follows_the_escape_replicas(breast_cancer_mlp_at_minimum):
    """One replica with a checkpoint at every step: its median is its own distance, which
    first passes R exactly where run_escape (same stream) records the exit; with three
    replicas the quantiles are ordered and the 90 % one is the largest distance
    (inverted-cdf quantile of three). A planted off-by-one in the step count, or a stream
    other than run_escape's, fails the first check."""
    flat, X, y, mn = breast_cancer_mlp_at_minimum
    orc = MinibatchGradient(flat, X, y, batch_size=8, weight_decay=1e-2)
    cfg = EscapeConfig(lr=0.4, batch_size=8, n_seeds=1, radius=0.4, max_iter=150, seed=5)
    esc = run_escape(orc, mn.w, cfg)
    assert esc.dist_exited[0] and esc.dist_iter[0] > 3
    prof = distance_profile(orc, mn.w, 0.4, 1, 150, seed=5, at=np.arange(1, 151))
    np.testing.assert_array_equal(prof["k"], np.arange(1, 151))
    assert int(prof["k"][np.argmax(prof["q50"] > 0.4)]) == esc.dist_iter[0]
    three = distance_profile(orc, mn.w, 0.4, 3, 40, seed=5, points=5)
    assert np.all(three["q10"] <= three["q50"]) and np.all(three["q50"] <= three["q90"])
    assert three["k"][-1] == 40 and three["q50"][-1] > three["q50"][0]
    with pytest.raises(ValueError, match="at: need increasing"):
        distance_profile(orc, mn.w, 0.4, 1, 10, at=[3, 2])
