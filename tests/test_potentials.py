import numba
import numpy as np
import pytest

from levydyn.model.potentials import Ackley2D, Custom, MultiWell1D, Quadratic


def _fd_grad(pot, x, h=1e-6):
    return np.array([(pot.value(x + h * e) - pot.value(x - h * e)) / (2 * h)
                     for e in np.eye(len(x))])


@pytest.mark.parametrize("pot,x", [
    (Quadratic([1.0, 3.0], [0.5, -1.0]), np.array([0.2, 0.4])),
    (Quadratic([[2.0, 0.5], [0.5, 1.0]]), np.array([0.3, -0.8])),
    (MultiWell1D((-1.0, 2.0), (0.0,)), np.array([0.7])),
    (MultiWell1D((-2.0, 0.5, 3.0), (-1.0, 1.5), scale=0.3), np.array([2.2])),
    (Ackley2D(), np.array([0.37, -1.21])),
])
def test_gradient_matches_finite_differences(pot, x):
    assert np.allclose(pot.gradient(x), _fd_grad(pot, x), rtol=1e-6, atol=1e-6)


def test_multiwell_critical_points_exact():
    p = MultiWell1D((-2.0, 0.5, 3.0), (-1.0, 1.5))
    for r in (-2.0, -1.0, 0.5, 1.5, 3.0):
        assert p.gradient([r])[0] == 0.0
    # minima are minima: U' goes from - to +
    for m in p.minima:
        assert p.gradient([m - 1e-3])[0] < 0 < p.gradient([m + 1e-3])[0]
    h = p.heights()
    assert np.isinf(h[0, 0]) and np.isinf(h[2, 1]) and (h[np.isfinite(h)] > 0).all()


def test_custom_gradient():
    @numba.njit
    def grad(x, params, out):
        out[0] = params[0] * x[0] ** 3

    p = Custom(grad, dim=1, params=[2.0])
    assert p.gradient([2.0])[0] == 16.0
    with pytest.raises(ValueError, match="njit"):
        Custom(lambda x, p, o: None, dim=1)


@pytest.mark.parametrize("kwargs,match", [
    (dict(minima=(-1.0, 2.0), maxima=()), "maximum"),
    (dict(minima=(-1.0, 2.0), maxima=(3.0,)), "interleave"),
    (dict(minima=(-1.0, float("nan")), maxima=(0.0,)), "finite"),
    (dict(minima=(-1.0, 2.0), maxima=(0.0,), scale=-1.0), "scale"),
])
def test_multiwell_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiWell1D(**kwargs)


def test_quadratic_bad_input():
    with pytest.raises(ValueError, match="hessian"):
        Quadratic([-1.0])
    with pytest.raises(ValueError, match="symmetric"):
        Quadratic([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="center"):
        Quadratic([1.0, 1.0], center=[0.0])
