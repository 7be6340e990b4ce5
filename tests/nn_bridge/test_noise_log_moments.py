"""Tests of ``nn_bridge.noise.log_moments``.

From the former tests/test_nn_stream.py: nn_bridge.noise.stream, log_moments and user_model: streaming noise statistics of any model."""
import math
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from levydyn import sas_rvs  # noqa: E402
from nn_bridge.noise.log_moments import (EULER_GAMMA, log_moment_alpha, log_moment_alpha_sd, log_moment_cumulants)
torch.set_num_threads(1)
# ----------------------------------------------------------------------------- log-moments
def test_log_moment_cumulants_derived_from_fractional_moments():
    """d^k/dp^k log E|X|^p at p = 0 (sympy) equals the closed forms of log_moments."""
    sp = pytest.importorskip("sympy")
    p, a, s = sp.symbols("p alpha sigma", positive=True)
    K = sp.log(s ** p * 2 ** p * sp.gamma((1 + p) / 2) * sp.gamma(1 - p / a)
               / (sp.sqrt(sp.pi) * sp.gamma(1 - p / 2)))
    k1, k2, k4 = (sp.simplify(sp.diff(K, p, k).subs(p, 0)) for k in (1, 2, 4))
    for alpha in (0.7, 1.0, 1.5, 2.0):
        mean, var, kap4 = log_moment_cumulants(alpha, 3.0)
        sub = {a: alpha, s: 3.0}
        assert math.isclose(float(k1.subs(sub)), float(mean), rel_tol=1e-12)
        assert math.isclose(float(k2.subs(sub)), float(var), rel_tol=1e-12)
        assert math.isclose(float(k4.subs(sub)), float(kap4), rel_tol=1e-12)
    # alpha = 2 is N(0, 2 sigma^2): Var log|Z| = pi^2/8, E log|Z| = -(gamma_E + log 2)/2
    m, v, _ = log_moment_cumulants(2.0, 1 / math.sqrt(2))
    assert math.isclose(v, math.pi ** 2 / 8) and math.isclose(m, -(EULER_GAMMA + math.log(2)) / 2)


@pytest.mark.parametrize("alpha", [1.1, 1.5, 1.8])
def test_log_moment_estimator_on_sas_data(alpha):
    """n = 40000 SaS(alpha) draws, scale 2.5. The tolerance is 4 delta-method sd of alpha
    (0.012-0.036 here) and 4 sd of log sigma (sd of the mean of log|X| plus the alpha
    error propagated through gamma_E/alpha^2): a false failure has probability < 1e-4."""
    n = 40000
    x = 2.5 * sas_rvs(alpha, n, seed=11)
    lg = np.log(np.abs(x))
    a_hat, s_hat = log_moment_alpha(lg.mean(), lg.var(ddof=1))
    sd_a = float(log_moment_alpha_sd(alpha, n))
    assert abs(a_hat - alpha) < 4 * sd_a
    _, k2, _ = log_moment_cumulants(alpha)
    sd_ls = math.sqrt(k2 / n) + EULER_GAMMA / alpha ** 2 * sd_a
    assert abs(math.log(s_hat / 2.5)) < 4 * sd_ls


def test_log_moment_sd_formula():
    """300 replicates of n = 1000 at alpha = 1.3: the empirical sd of alpha_hat agrees with
    the delta-method sd (0.074) within 20 %; the sd of a sample sd from 300 replicates is
    ~4 % (plus a few % of delta-method error), so 20 % is a > 3.5-sd margin."""
    est = []
    for r in range(300):
        lg = np.log(np.abs(sas_rvs(1.3, 1000, seed=1000 + r)))
        est.append(log_moment_alpha(lg.mean(), lg.var(ddof=1))[0])
    ratio = np.std(est, ddof=1) / float(log_moment_alpha_sd(1.3, 1000))
    assert 0.8 < ratio < 1.2, ratio
    assert abs(np.mean(est) - 1.3) < 0.02          # bias << sd / sqrt(300) * 5 = 0.021
