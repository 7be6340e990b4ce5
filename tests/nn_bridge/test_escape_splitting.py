"""nn_bridge.escape.splitting: generalised AMS over the torch SGD replicas.

The reference chain is the linear model with squared loss and injected Gaussian noise of
``test_escape_bridge`` (alpha = 2): SGD there is *exactly* levydyn's Euler chain with
``dt = lr`` and ``eps = lr^(1/2) sigma`` (checked end to end in that file), so the mean
escape iterations of the torch replicas can be compared with a brute-force estimate from
levydyn's numba Euler loop (another implementation, thousands of paths in seconds).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from levydyn import Ball, Problem, Quadratic, simulate  # noqa: E402
from nn_bridge.escape.bridge import sgd_to_sde_eps  # noqa: E402
from nn_bridge.escape.experiment import InjectedNoiseGradient  # noqa: E402
from nn_bridge.escape.splitting import NetworkChain, split_network  # noqa: E402
from test_escape_bridge import _linear_problem  # noqa: E402  (tests/nn_bridge on sys.path)

LR, R, SIGMA = 0.1, 0.5, 0.2      # mean escape ~1.5e3 iterations, p(z0 -> B) ~ 0.04


def _oracle():
    flat, X, y, w_star, H = _linear_problem()
    return InjectedNoiseGradient(flat, X, y, 2.0, SIGMA), w_star, H


@pytest.mark.slow          # ~1-2 min on 2 busy cores (torch replicas, Python per level)
def test_mean_escape_against_brute_force_of_the_same_chain():
    """Reference: 4000 levydyn Euler paths of the same chain (exact in law), to 60,000
    iterations (none censored). Splitting: 48 replicas x 8 runs. The two must agree within
    the combined 99 % interval on the log scale (the splitting CI is the delta method over
    runs, the brute-force one a t interval; false alarm ~1 %), and splitting must report
    its work in SGD steps and finish uncensored."""
    orc, w_star, H = _oracle()
    prob = Problem(Quadratic(H, w_star), 2.0, sgd_to_sde_eps(np.full(3, SIGMA), 2.0, LR),
                   Ball(w_star, R))
    ref = simulate(prob, n_paths=4000, dt=LR, t_max=LR * 60_000, seed=7)
    assert ref.exited.all()
    it = ref.times / LR
    m, se_m = it.mean(), it.std(ddof=1) / math.sqrt(it.size)
    res = split_network(orc, w_star, LR, R, n_replicas=48, n_runs=8, seed=3, level=0.99)
    tau = res.mean_exit_time
    assert not res.censored and res.work > 0 and res.estimator == "gAMS"
    assert res.meta["time_unit"] == "iterations"
    se_log_split = math.log(tau.high / tau.low) / (2 * 2.576)
    z = abs(math.log(tau.value / m)) / math.hypot(se_log_split, se_m / m)
    assert z < 2.576, (tau, m, se_m)
    assert 0 < res.p.value < 0.5                        # the event is rare from z0


def test_small_run_records_its_work_and_levels():
    """A few replicas at a radius reached in ~170 iterations: the result is complete
    (levels per run, work = SGD steps > replicas x levels) and reproducible by seed."""
    orc, w_star, _ = _oracle()
    kw = dict(n_replicas=8, n_runs=2, seed=1, a=0.2, z0=0.4, k=2)
    r1 = split_network(orc, w_star, LR, 0.35, **kw)
    r2 = split_network(orc, w_star, LR, 0.35, **kw)
    assert r1.mean_exit_time.value == r2.mean_exit_time.value and r1.work == r2.work
    assert r1.levels.size == 2 and r1.work > 8 * r1.levels.sum()
    assert 0 < r1.p.value <= 1 and math.isfinite(r1.mean_exit_time.value)


def test_branch_restarts_from_the_first_state_above_the_level():
    """The quantised coordinate and the clone's start: a clone of a replica starts from that
    replica's first recorded state with xi > level (its weights, xi and time)."""
    orc, w_star, _ = _oracle()
    ch = NetworkChain(orc, w_star, LR, R, a=0.1, z0=0.2, cycles=1, seed=0, max_steps=10**5,
                      xi_step=0.25)
    W = torch.as_tensor(np.stack([w_star, w_star + [0.3 * R, 0, 0], w_star + [2 * R, 0, 0]]))
    np.testing.assert_array_equal(ch.xi(W), [0.0, 0.25, np.inf])
    reps, cyc = ch.first_crossings(0, 4)
    assert cyc.t1.size == 2 * 4                    # one cycle + the final climb, 4 chains
    ch.advance(reps, np.arange(4))
    st = reps.state
    src = int(np.argmax(np.where(np.isfinite(reps.score), reps.score, -1)))
    level = ch.z0
    first = next(r for r in st["records"][src] if r[0] > level)
    dst = (src + 1) % 4
    if reps.score[dst] > level:                   # make dst a replica to kill
        reps.score[dst] = level
    ch.branch(reps, np.array([dst]), np.array([src]), level, 1)
    assert st["records"][dst][0][0] == first[0]
    assert torch.equal(st["records"][dst][0][1], first[1])
    assert reps.t_end[dst] >= first[2]


@pytest.mark.parametrize("kw, msg", [({"n_replicas": 1}, "n_replicas"),
                                     ({"a": 0.5, "z0": 0.4}, "a, z0"),
                                     ({"radius": 0.0}, "radius")])
def test_bad_input_is_one_line(kw, msg):
    orc, w_star, _ = _oracle()
    args = dict(radius=R, n_replicas=8, n_runs=2, a=0.1, z0=0.3)
    args.update(kw)
    with pytest.raises(ValueError, match=msg):
        split_network(orc, w_star, LR, **args)


def test_an_escape_that_is_not_rare_is_refused_by_the_pilot():
    orc, w_star, _ = _oracle()
    with pytest.raises(ValueError, match="not rare"):
        split_network(orc, w_star, LR, 0.05, n_replicas=8, n_runs=2)


def test_rung_f_by_splitting_against_brute_force_of_the_recursion():
    """Rung (f) through levydyn.rare.split_recursion: a 2-D empirical law (6 samples,
    weight decay) at R = 1.5, mean escape ~3.4e4 iterations. Reference: 1000 brute-force
    paths of the recursion (levydyn.kesten.simulate, none censored). Splitting: 100 x 10.
    Agreement within the combined 99 % interval on the log scale (false alarm ~1 %), at
    fewer recursion steps than the reference."""
    from levydyn import kesten as kz
    from nn_bridge.escape.splitting import split_multiplicative

    rng = np.random.default_rng(0)
    G = rng.normal(size=(6, 2))
    G -= G.mean(0)
    law = kz.EmpiricalMinibatch(G, 0.8 * rng.normal(size=(6, 2, 1)), 2, weight_decay=0.01)
    ref = kz.simulate(kz.Recursion(law, 0.3, domain=Ball(np.zeros(2), 1.5)), n_paths=1000,
                      max_steps=400_000, seed=1, classify=False)
    assert ref.exited.all()
    m, se = ref.times.mean(), ref.times.std(ddof=1) / math.sqrt(ref.times.size)
    res = split_multiplicative(law, 0.3, 1.5, 100, 10, seed=2, level=0.99)
    tau = res.mean_exit_time
    se_log = math.log(tau.high / tau.low) / (2 * 2.576)
    assert abs(math.log(tau.value / m)) < 2.576 * math.hypot(se_log, se / m), (tau, m, se)
    assert res.work < ref.times.sum() and res.meta["time_unit"] == "iterations"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_splitting_runs_on_the_oracles_device():
    """The replicas live where the oracle's tensors live; the estimate is complete there."""
    flat, X, y, w_star, _ = _linear_problem()
    flat.model.to("cuda")
    orc = InjectedNoiseGradient(flat, X.cuda(), y.cuda(), 2.0, SIGMA)
    res = split_network(orc, w_star, LR, 0.35, n_replicas=8, n_runs=2, seed=1, a=0.2, z0=0.4,
                        k=2)
    assert not res.censored and math.isfinite(res.mean_exit_time.value) and res.work > 0
