"""nn_bridge.escape.experiment: vectorised SGD escapes, the SGD <-> SDE conversion, CLI, bad input.

The conversion test is the end-to-end check of ``dt = lr``, ``eps_i = lr^(1-1/alpha_i)
sigma_i``: a linear model with squared loss (so ``grad U`` is exactly linear) and injected
SaS noise is run through the *network* escape machinery (``run_escape``: torch.func, per
replica streams), and the same model through levydyn (``simulate``, Euler, ``dt = lr``). The
two are the same recursion in law, so their escape iterations must agree within sampling
error; tolerances are stated at each assertion.
"""
import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from click.testing import CliRunner  # noqa: E402
from scipy import stats  # noqa: E402

from levydyn import Ball, Problem, Quadratic, simulate  # noqa: E402
from nn_bridge.escape.bridge import sgd_to_sde_eps  # noqa: E402
from nn_bridge.data.datasets import load_dataset  # noqa: E402
from nn_bridge.escape.experiment import (EscapeConfig, InjectedNoiseGradient, MinibatchGradient,  # noqa: E402
                              find_minimum, run_escape, run_escape_loop)
from nn_bridge.data.flat import FlatModel  # noqa: E402
from nn_bridge.data.models import ModelSpec, build_model  # noqa: E402


@pytest.fixture(scope="module")
def small_net():
    data = load_dataset("breast_cancer")
    spec = ModelSpec("mlp", data.n_features, data.n_classes, width=4, depth=3, seed=3)
    model = build_model(spec)
    mn = find_minimum(model, data, weight_decay=1e-2, max_evals=300)
    net = build_model(spec).double()
    flat = FlatModel(net)
    flat.load(mn.w)
    X = torch.as_tensor(data.X_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    return flat, X, y, mn


def test_find_minimum_is_stationary(small_net):
    flat, X, y, mn = small_net
    assert mn.grad_norm < 0.05 and mn.train_acc > 0.9
    assert mn.objective == pytest.approx(mn.loss + 0.5e-2 * float(mn.w @ mn.w), rel=1e-10)


def test_vectorised_escape_equals_loop(small_net):
    """Same per-replica streams: iterations, exit coordinates and weights must agree (the
    vmap'ed and the nn.Module gradients differ only by float64 round-off)."""
    flat, X, y, mn = small_net
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


def test_replica_streams_do_not_depend_on_the_number_of_seeds(small_net):
    flat, X, y, mn = small_net
    orc = MinibatchGradient(flat, X, y, batch_size=8, weight_decay=1e-2)
    few = run_escape(orc, mn.w, EscapeConfig(lr=0.8, batch_size=8, n_seeds=3, radius=0.35,
                                             max_iter=80, seed=2))
    many = run_escape(orc, mn.w, EscapeConfig(lr=0.8, batch_size=8, n_seeds=7, radius=0.35,
                                              max_iter=80, seed=2))
    np.testing.assert_array_equal(few.dist_iter, many.dist_iter[:3])
    np.testing.assert_array_equal(few.exit_param, many.exit_param[:3])


def _linear_problem(seed=0, n=40, p=3):
    rng = np.random.default_rng(seed)
    Xn = rng.standard_normal((n, p)) * np.array([1.0, 0.7, 0.4])
    yn = Xn @ np.array([0.5, -1.0, 0.3]) + 0.1 * rng.standard_normal(n)
    model = torch.nn.Linear(p, 1, bias=False).double()
    flat = FlatModel(model, loss_fn=lambda out, t: 0.5 * ((out[:, 0] - t) ** 2).mean())
    w_star = np.linalg.lstsq(Xn, yn, rcond=None)[0]
    H = Xn.T @ Xn / n
    return flat, torch.as_tensor(Xn), torch.as_tensor(yn), w_star, H


def test_sgd_sde_conversion_on_a_linear_model_with_injected_sas_noise():
    """SGD w <- w - lr (grad U + sigma Z) vs levydyn Euler with dt = lr,
    eps = lr^(1-1/alpha) sigma. 1000 replicas each; the mean exit iteration (~65) has a
    relative standard error ~3 % per side, so the means must agree within 4 combined
    standard errors (false alarm ~6e-5); the two-sample KS test of the iterations must not
    reject at 1e-3; the exit-axis frequencies must agree within 4 standard errors."""
    flat, X, y, w_star, H = _linear_problem()
    alpha = np.array([1.3, 1.7, 1.95])
    sigma = np.array([0.16, 0.24, 0.32])
    lr, r, n = 0.1, 0.5, 1000
    orc = InjectedNoiseGradient(flat, X, y, alpha, sigma)
    cfg = EscapeConfig(lr=lr, batch_size=1, n_seeds=n, radius=r, max_iter=3000, seed=11)
    net = run_escape(orc, w_star, cfg)
    prob = Problem(Quadratic(H, w_star), alpha, sgd_to_sde_eps(sigma, alpha, lr), Ball(w_star, r))
    sim = simulate(prob, n_paths=n, dt=lr, t_max=lr * 3000, seed=11)
    assert net.dist_exited.all() and sim.exited.all()
    it_sim = np.rint(sim.times / lr)                    # SDE time -> iterations
    np.testing.assert_allclose(it_sim * lr, sim.times, rtol=1e-12)
    m1, m2 = net.dist_iter.mean(), it_sim.mean()
    se = math.hypot(net.dist_iter.std(ddof=1), it_sim.std(ddof=1)) / math.sqrt(n)
    assert abs(m1 - m2) < 4 * se, (m1, m2, se)
    assert stats.ks_2samp(net.dist_iter, it_sim).pvalue > 1e-3
    for ax in range(3):
        p1 = np.mean(net.exit_param == ax)
        p2 = np.mean(sim.axis == ax)
        s = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n) + 1e-3
        assert abs(p1 - p2) < 4 * s, (ax, p1, p2)
    # and in SDE time the network's mean is the simulator's mean exit time
    t_net = net.escape_result(sde_time=True).mean_exit_time()
    assert t_net.value == pytest.approx(m1 * lr)


def test_sde_eps_matches_profile_convention():
    from nn_bridge.noise.profile import NoiseProfile

    a = np.array([0.7, 1.5, 2.0])
    s = np.array([0.1, 0.2, 0.3])
    prof = NoiseProfile(alpha=a, sigma=s, layer_names=("w",), layer_shapes=((3,),), lr=0.3,
                        batch_size=8, dataset="x", model={}, weights_sha256="", n_minibatches=100,
                        sampling="iid", estimator="cf_regression")
    np.testing.assert_allclose(sgd_to_sde_eps(s, a, 0.3), prof.sde_eps())
    # eps dt^(1/alpha) = lr sigma: one Euler step's noise is one SGD step's noise
    np.testing.assert_allclose(sgd_to_sde_eps(s, a, 0.3) * 0.3 ** (1 / a), 0.3 * s)


def test_escape_result_survival_and_layers(small_net):
    flat, X, y, mn = small_net
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


def test_bad_inputs_are_one_line(small_net):
    flat, X, y, mn = small_net
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


def test_cli_study_quick_and_fit(tmp_path):
    """The one-command loop at --quick size, then `nn fit` on its JSON report."""
    from cli.nn import nn

    runner = CliRunner()
    out = tmp_path / "study.json"
    res = runner.invoke(nn, ["study", "--quick", "--workdir", str(tmp_path / "wd"), "--json",
                             str(out), "--plot-dir", str(tmp_path / "plots"), "--basin-out",
                             str(tmp_path / "basin.npz"), "--profile-out",
                             str(tmp_path / "prof.json"), "--model-out",
                             str(tmp_path / "mb.npz"), "-q"])
    assert res.exit_code == 0, res.output
    assert "ratio" in res.output and "(a) Levy sim" in res.output
    assert "the ladder" in res.output and "lambda_1" in res.output
    rep = json.loads(out.read_text())
    assert rep["schema"] == "levydyn.nn_study/2" and len(rep["cells"]) == 4
    cell = rep["cells"][0]
    for k in ("mean", "low", "high", "censored"):
        assert k in cell["measured"]
    for m in ("multiplicative", "nonlinear_frozen", "nonlinear_multiplicative", "lin_minibatch"):
        assert set(cell["models"][m]) >= {"mean", "low", "high"}
    assert set(cell["lambda_1"]) >= {"value", "low", "high"}
    assert cell["regime"] in ("stable", "unstable", "marginal")
    t = rep["targets"]
    split = t["by_regime"]
    assert sum(v["n_counted"] for v in split.values()) == sum(
        r["counted"] and r["regime"] in split for r in t["cells"])
    for reg, v in split.items():
        assert v["n_f_within_2x"] == sum(r["counted"] and r["regime"] == reg and r["f_within_2x"]
                                         for r in t["cells"])
    assert (tmp_path / "plots" / "nn_ladder_breast_cancer.png").stat().st_size > 0
    res = runner.invoke(nn, ["stability", "--profile", str(tmp_path / "mb.npz"), "--no-tail",
                             "--lyap-paths", "4", "--lyap-steps", "50", "-q"])
    assert res.exit_code == 0, res.output
    assert "regime" in res.output
    res = runner.invoke(nn, ["stability", "--profile", str(tmp_path / "mb.npz"), "--lrs", "0.5"])
    assert res.exit_code == 2 and "lr=0.5: outside the measured grid" in res.output
    assert (tmp_path / "plots" / "nn_escape_curves.png").stat().st_size > 0
    assert (tmp_path / "plots" / "nn_survival.png").stat().st_size > 0
    res = runner.invoke(nn, ["fit", str(out)])
    assert res.exit_code == 0, res.output
    assert "Gaussian/Kramers" in res.output
    res = runner.invoke(nn, ["predict", str(tmp_path / "prof_b8.json"), "--basin",
                             str(tmp_path / "basin.npz"), "--lrs", "0.8", "--paths", "20",
                             "--max-iter", "100"])
    assert res.exit_code == 0, res.output
    assert "Levy 1-jump" in res.output


@pytest.mark.parametrize("args, needle", [
    (["study", "--quick", "--lrs", "abc"], "--lrs"),
    (["study", "--quick", "--batch-sizes", "0,8"], "--batch-sizes"),
    (["study", "--quick", "--models", "levy,magic"], "magic"),
    (["study", "--quick", "--radius", "-1"], "--radius"),
    (["fit", "no-such-file.json"], "not found"),
    (["predict", "no-such.json", "--basin", "b.npz", "--lrs", "0.1"], "not found"),
])
def test_cli_bad_input_is_one_line(args, needle, tmp_path):
    from cli.nn import nn

    res = CliRunner().invoke(nn, args)
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
