"""Tests for levydyn.estimators.hill: the Hill curve and plot.

Fixed seeds; each statistical tolerance is explained next to its test.
"""
from __future__ import annotations

import numpy as np
import pytest

from levydyn import estimators as est
from levydyn.model.noise import sas_rvs


def test_hill_curve_matches_hill_alpha_and_plots(tmp_path):
    x = sas_rvs(1.0, 3000, seed=90)
    c = est.hill_curve(x)
    assert c.k[0] == 2 and c.k[-1] == 2999 and c.k_default == est.hill_k(3000)
    i = int(np.flatnonzero(c.k == c.k_default)[0])
    assert c.alpha[i] == pytest.approx(est.hill_alpha(x), rel=1e-12)
    for k in (10, 500):
        assert c.alpha[c.k == k][0] == pytest.approx(est.hill_alpha(x, k=k), rel=1e-12)
    assert np.all(c.low[10:] <= c.alpha[10:]) and np.all(c.alpha[10:] <= c.high[10:])
    fig = est.hill_plot(c, tmp_path / "h.png", references={"cf": 1.0})
    assert (tmp_path / "h.png").stat().st_size > 1000 and fig is not None
