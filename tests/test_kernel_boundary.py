"""The kernel boundary: one cached Euler loop for every use, noise laws as a field of the
Problem, diverged paths as their own outcome, recording as an option of simulate."""
import math
import subprocess
import sys

import numba as nb
import numpy as np
import pytest
from scipy import special, stats
from scipy.stats import levy_stable

import levydyn as ld
from levydyn.model.noise_laws import EmpiricalNoise, StableNoise, TemperedStable, TruncatedStable
from levydyn.solvers import JumpAdapted
from levydyn.solvers.euler import run_paths


def _summary(r):
    return [int(r.exited.sum()), int(np.rint(r.times / r.dt).sum()), int((r.side == 1).sum()),
            int((r.axis == 1).sum()), round(float(np.abs(r.points).sum()), 6)]


def test_same_paths_as_the_kernels_before_the_boundary():
    """Integer summaries (exit counts, summed exit steps, sides) of four runs, recorded with
    the three separate kernels of commit 03282c5: the rewrite must reproduce them exactly
    (same counters, same drift sub-steps, same bridge uniforms)."""
    p = ld.Problem(ld.Quadratic([1.0, 4.0]), alpha=[1.2, 2.0], eps=[0.4, 0.3],
                   domain=ld.Box.around([0, 0], [1, 1], [2, 1]), schedule=ld.Power(0.8, t0=1.0))
    assert _summary(ld.simulate(p, 300, dt=0.01, t_max=200, seed=3)) == [300, 203581, 78, 0, 1277.883104]
    p = ld.Problem(ld.Quadratic([1.0, 2.0]), alpha=1.6, eps=0.5, domain=ld.Ball([0, 0], 1.5),
                   schedule=ld.MultiStep((5.0, 20.0), (0.5, 0.1)))
    assert _summary(ld.simulate(p, 300, dt=0.01, t_max=100, seed=11)) == [298, 269377, 142, 141, 1272.28299]
    p = ld.Problem(ld.MultiWell1D([-1, 2], [0]), alpha=1.5, eps=0.5,
                   domain=ld.WellPartition((-1, 2), (0,)))
    r = ld.simulate(p, 200, dt=0.01, t_max=100, seed=5)
    assert [int(r.n_visits.sum()), int(np.rint(r.entries / 0.01).sum()),
            round(float(r.occupancy[:, 0].sum()), 6)] == [1214, 4568991, 5437.86]
    p = ld.Problem(ld.Quadratic([1.0]), alpha=1.5, eps=0.1, domain=ld.Box([-1.0], [2.0]))
    r = ld.simulate(p, 200, dt=0.01, t_max=1e5, seed=2, method=JumpAdapted())
    assert [int(r.exited.sum()), round(float(r.times.sum()), 6), int((r.side == 1).sum())] == [200, 21372.973367, 49]


def test_gradient_is_a_first_class_function_and_the_kernel_is_cached():
    """The kernel is compiled for one signature whose gradient is a FunctionType, so it is
    written to numba's disk cache; a fresh process loads it instead of compiling."""
    assert isinstance(run_paths.sig[0], nb.types.FunctionType)
    code = ("import levydyn as ld; from levydyn.solvers.euler import run_paths;"
            "p = ld.Problem(ld.Quadratic([1.0]), alpha=1.5, eps=0.5, domain=ld.Box([-1.0], [2.0]));"
            "ld.simulate(p, 4, t_max=1.0);"
            "s = run_paths.dispatcher.stats; print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            for _ in range(2)]
    hits, misses = map(int, runs[1].stdout.split())
    assert (hits, misses) == (1, 0)


@nb.njit
def _grad_nan_outside(x, params, out):
    out[0] = x[0] if abs(x[0]) < 1.5 else math.nan


def test_diverged_paths_are_not_exits():
    p = ld.Problem(ld.Custom(_grad_nan_outside, 1), alpha=1.5, eps=0.5, domain=ld.Box([-3.0], [3.0]))
    with pytest.warns(RuntimeWarning, match="diverged"):
        r = ld.simulate(p, 200, dt=0.01, t_max=100, seed=0)
    assert r.n_diverged > 50
    assert not np.any(r.exited & r.diverged)
    assert r.n_exited + r.n_diverged <= r.n_paths
    assert np.all(np.isfinite(r.points[r.exited]))
    assert r.summary()["n_diverged"] == r.n_diverged


def test_visit_table_bounds():
    p = ld.Problem(ld.MultiWell1D([-1, 2], [0]), alpha=1.5, eps=0.5,
                   domain=ld.WellPartition((-1, 2), (0,)))
    with pytest.raises(ValueError, match="max_visits"):
        ld.simulate(p, 4, t_max=50.0, max_visits=0)
    r = ld.simulate(p, 50, t_max=50.0, max_visits=1, seed=1)
    assert np.all(r.n_visits == 1)
    assert np.all(r.status[r.t_end < 50.0 - 1e-9] == 3)     # stopped: visit table full


def test_recording_is_the_ensemble():
    p = ld.Problem(ld.Quadratic([1.0, 2.0]), alpha=[1.3, 1.8], eps=0.5,
                   domain=ld.Box.around([0, 0], [1, 1], [1, 2]))
    r = ld.simulate(p, 600, dt=0.01, t_max=300, seed=9, record=4, chunk=256)
    plain = ld.simulate(p, 600, dt=0.01, t_max=300, seed=9)
    assert np.array_equal(r.times, plain.times) and np.array_equal(r.points, plain.points)
    tr = r.paths
    assert tr.n_paths == 4
    for i in range(4):
        t, x = tr.path(i)
        assert t[-1] == r.times[i] and np.array_equal(x[-1], r.points[i])
        assert tr.exited[i] == r.exited[i]
    with pytest.raises(ValueError, match="record"):
        ld.simulate(p, 10, record=-1)


# --- noise laws -------------------------------------------------------------------------

def _one_step(noise, n, dt, seed=0):
    """``n`` increments of one step of length ``dt`` under zero drift."""
    p = ld.Problem(ld.Quadratic([0.0]), domain=ld.Box([-1e300], [1e300]), noise=noise)
    return ld.simulate(p, n, dt=dt, t_max=dt, seed=seed).points[:, 0]


def test_stable_noise_is_the_default():
    p1 = ld.Problem(ld.Quadratic([1.0]), alpha=1.4, eps=0.3, domain=ld.Box([-1.0], [1.0]))
    p2 = ld.Problem(ld.Quadratic([1.0]), domain=ld.Box([-1.0], [1.0]), noise=StableNoise(1.4, 0.3))
    assert isinstance(p1.noise, StableNoise)
    r1, r2 = (ld.simulate(p, 300, t_max=1e3, seed=4) for p in (p1, p2))
    assert np.array_equal(r1.times, r2.times)
    with pytest.raises(ValueError, match="not both"):
        ld.Problem(ld.Quadratic([1.0]), alpha=1.5, eps=0.3, domain=ld.Box([-1.0], [1.0]),
                   noise=TruncatedStable(1.4, 0.3, 1.0))
    # replace() changes the level of stable noise, or the law
    import dataclasses

    p3 = dataclasses.replace(p1, eps=0.6)
    assert p3.eps[0] == 0.6 and p3.alpha[0] == 1.4 and isinstance(p3.noise, StableNoise)
    p4 = dataclasses.replace(p1, noise=TruncatedStable(1.4, 0.3, 1.0))
    assert isinstance(p4.noise, TruncatedStable)


def test_truncated_stable_increments():
    """One-step increments are SaS(1) * scale conditioned on |inc| <= radius: KS against
    the conditioned scipy cdf (n = 4000: KS p-value > 1e-3 for the right law; a 25 %
    wrong scale, which moves D far beyond the 0.03 critical value at n = 4000, is rejected)."""
    alpha, eps, radius, dt = 1.5, 1.0, 0.1, 0.01
    scale = eps * dt ** (1 / alpha)
    x = _one_step(TruncatedStable(alpha, eps, radius), 4000, dt, seed=1)
    assert np.all(np.abs(x) <= radius)
    c = radius / scale
    lo, hi = levy_stable.cdf([-c, c], alpha, 0.0)

    def cdf(z, s=1.0):
        return (levy_stable.cdf(np.clip(z / s, -c / s, c / s), alpha, 0.0) - levy_stable.cdf(-c / s, alpha, 0.0)) / (
            levy_stable.cdf(c / s, alpha, 0.0) - levy_stable.cdf(-c / s, alpha, 0.0))
    assert stats.kstest(x / scale, cdf).pvalue > 1e-3
    assert stats.kstest(x / (1.25 * scale), cdf).pvalue < 1e-3
    n = TruncatedStable(alpha, eps, radius)
    full = StableNoise(alpha, eps).jump_intensity(0.05)
    assert np.allclose(n.jump_intensity(0.05), full - StableNoise(alpha, eps).jump_intensity(radius))
    assert np.all(n.jump_intensity(0.2) == 0.0)
    with pytest.raises(ValueError, match="too large"):
        _one_step(TruncatedStable(alpha, eps, 0.001), 10, 1.0)
    p = ld.Problem(ld.Quadratic([1.0]), domain=ld.Box([-1.0], [1.0]), noise=TruncatedStable(alpha, eps, radius))
    with pytest.raises(ValueError, match="support TruncatedStable"):
        ld.simulate(p, 10, method="jump_adapted")  # noqa


def test_tempered_stable_characteristic_function():
    """Exact sampler: the increment over dt has characteristic function
    exp(dt 2 c_a eps^a Gamma(-a) [(l^2 + w^2)^(a/2) cos(a arctan(w/l)) - l^a]) (symmetric
    tempered stable, Rosinski 2007). E cos(wX) is checked at four w within 4.5 standard
    errors (n = 20000, |cos| <= 1), and the variance against 2 c_a eps^a Gamma(2-a) l^(a-2) dt."""
    a, eps, lam, dt = 0.6, 1.0, 2.0, 0.5
    noise = TemperedStable(a, eps, lam)
    x = _one_step(noise, 20000, dt, seed=2)
    ca = ld.c_alpha(a)
    for w in (0.5, 1.0, 3.0, 10.0):
        psi = 2 * ca * eps ** a * special.gamma(-a) * (
            (lam ** 2 + w ** 2) ** (a / 2) * math.cos(a * math.atan(w / lam)) - lam ** a)
        c = np.cos(w * x)
        assert abs(c.mean() - math.exp(dt * psi)) < 4.5 * c.std() / math.sqrt(x.size)
    v = x ** 2
    assert abs(v.mean() - noise.variance_rate()[0] * dt) < 4.5 * v.std() / math.sqrt(x.size)
    with pytest.raises(ValueError, match="alpha"):
        TemperedStable(1.5, 1.0, 1.0)


def test_tempered_intensity_against_quadrature():
    from scipy import integrate

    n = TemperedStable(0.7, 0.5, 3.0)
    a = 0.2
    quad = 2 * ld.c_alpha(0.7) * 0.5 ** 0.7 * integrate.quad(
        lambda y: y ** -1.7 * math.exp(-3.0 * y), a, np.inf)[0]
    assert math.isclose(n.jump_intensity(a)[0], quad, rel_tol=1e-8)


def test_empirical_noise_resamples_the_values():
    """Each increment is eps dt u, u uniform over the values: chi-square goodness of fit
    of the counts (n = 6000 over 3 values)."""
    values = np.array([-2.0, 0.5, 3.0])
    dt, eps = 0.1, 2.0
    x = _one_step(EmpiricalNoise(values, eps), 6000, dt, seed=3)
    got = np.round(x / (eps * dt), 12)
    assert set(np.unique(got)) <= set(values)
    counts = np.array([(got == v).sum() for v in values])
    assert stats.chisquare(counts).pvalue > 1e-3
    with pytest.raises(ValueError, match="finite"):
        EmpiricalNoise([1.0, np.nan])
    p = ld.Problem(ld.Quadratic([1.0, 1.0]), domain=ld.Box([-1, -1], [1, 1]),
                   noise=EmpiricalNoise([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    assert p.alpha is None and p.noise.dim == 2


def test_theory_door_refuses_other_noise_laws():
    from levydyn.theory import closed_forms

    stable = ld.Problem(ld.Quadratic([1.0]), alpha=1.5, eps=0.1, domain=ld.Box([-1.0], [2.0]))
    assert "mean_exit_time" in closed_forms(stable).forms
    capped = ld.Problem(ld.Quadratic([1.0]), domain=ld.Box([-1.0], [2.0]),
                        noise=TruncatedStable(1.5, 0.1, 0.5))
    cf = closed_forms(capped)
    assert cf.model == "none" and not cf.forms and "TruncatedStable" in cf.reason
