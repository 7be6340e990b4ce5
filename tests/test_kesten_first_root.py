"""levydyn.kesten.stability._first_root (the tail index's root bracketing) on known lines
and piecewise-linear curves, roots computed by hand."""
import numpy as np
import pytest

from levydyn.kesten.stability import _first_root


@pytest.mark.parametrize("root", [0.3, 1.0, 1.7, 5.9])
@pytest.mark.parametrize("slope", [0.2, 3.0])
def test_lines_are_found_exactly(root, slope):
    # f = slope (s - root) is its own linear interpolant: the root is exact on any grid
    s = np.array([0.25, 0.5, 1.0, 2.0, 4.0, 8.0])
    f = slope * (s - root)
    if root < s[0]:
        pytest.skip("root below the grid")
    assert _first_root(s, f) == pytest.approx(root, rel=1e-12)


def test_uneven_grid_hand_value():
    # between s = 2 (f = -1) and s = 5 (f = 2): 2 + 3 * 1/3 = 3
    assert _first_root([1.0, 2.0, 5.0, 6.0], np.array([-0.5, -1.0, 2.0, 4.0])) == pytest.approx(3.0)


def test_first_crossing_from_below_is_taken():
    # f crosses up at 1.5, down at 3.5, up again at 5.5: the first up-crossing counts
    s = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    f = np.array([-1.0, 1.0, 1.0, -1.0, -1.0, 1.0])
    assert _first_root(s, f) == pytest.approx(1.5)


def test_zero_on_a_grid_point_and_edge_cases():
    assert _first_root([1.0, 2.0, 3.0], np.array([-2.0, 0.0, 1.0])) == 2.0
    assert _first_root([1.0, 2.0], np.array([0.5, 1.0])) == 0.0          # f(s_0) >= 0
    assert _first_root([1.0, 2.0], np.array([0.0, 1.0])) == 0.0
    assert _first_root([1.0, 2.0, 3.0], np.array([-3.0, -2.0, -1.0])) is None


def test_zero_on_the_last_grid_point_is_the_root():
    # f reaches 0 exactly at the end of the grid: the root is s = 2, not "no root"
    # (a strict f > 0 test would miss it; at an inner grid point it would not matter)
    assert _first_root([1.0, 2.0], np.array([-1.0, 0.0])) == 2.0
