"""Tests for levydyn.estimators.summary: every estimator on one sample (``levydyn tail-index``).

Each reported number is compared with the estimator called directly on data prepared by
hand (centred by a hand-computed median, zeros dropped by hand), not with the summary itself.
"""
from __future__ import annotations

import numpy as np
import pytest

from levydyn import estimators as est
from levydyn.model.noise import sas_rvs


def test_center_nonzero_hand_computed():
    """By hand: column [0, 3, 1, 0, 5] has nonzero samples 1 < 3 < 5; for an odd count the
    centre is the mean of the middle one and the next, (3 + 5) / 2 = 4; column [4, 2, 0, 6, 0]:
    2 < 4 < 6, centre (4 + 6) / 2 = 5. Zeros stay 0."""
    x = np.array([[0.0, 4.0], [3.0, 2.0], [1.0, 0.0], [0.0, 6.0], [5.0, 0.0]])
    c = est.center_nonzero(x)
    np.testing.assert_array_equal(c[:, 0], [0.0, 3.0 - 4.0, 1.0 - 4.0, 0.0, 5.0 - 4.0])
    np.testing.assert_array_equal(c[:, 1], [4.0 - 5.0, 2.0 - 5.0, 0.0, 6.0 - 5.0, 0.0])
    assert np.all((c != 0) == (x != 0))           # no nonzero sample became an exact 0


def test_summary_numbers_equal_the_estimators_on_hand_prepared_data():
    """SaS(1.5), 2000 x 6, 10 % exact zeros in column 0: the summary's per-column alpha,
    pooled eq. 15, atom fraction and Gaussian fraction equal direct calls on the data centred
    by hand and with the zeros removed by hand."""
    x = sas_rvs(1.5, (2000, 6), seed=5)
    x[::10, 0] = 0.0
    s = est.summarize(x, "mohammadi_median", fit_columns=2, batch_size=16, seed=1)
    xc = est.center_nonzero(x)
    np.testing.assert_allclose(s.atom_fraction, [0.1, 0, 0, 0, 0, 0])
    col0 = xc[:, 0][xc[:, 0] != 0.0]
    assert s.alpha[0] == pytest.approx(float(est.mohammadi_alpha_median(col0)), rel=1e-12)
    assert s.alpha[3] == pytest.approx(float(est.mohammadi_alpha_median(xc[:, 3])), rel=1e-12)
    flat = xc.reshape(-1)
    assert s.pooled.alpha == pytest.approx(float(est.mohammadi_alpha(flat[flat != 0.0])),
                                           rel=1e-12)
    assert s.pooled_keep == pytest.approx(float(est.mohammadi_alpha(flat, zeros="keep")),
                                          rel=1e-12)
    assert s.gaussianity.fraction == est.shapiro_gaussian_fraction(xc).fraction
    assert s.fit_summary["columns"] == 2 and s.partial_atoms.tolist() == [True] + [False] * 5
    d = s.to_dict()
    assert d["method"] == "mohammadi_median" and len(d["alpha"]) == 6
    assert d["berry_esseen"]["batch_size"] == 16


def test_summarize_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="method must be one of .* got method='cf'"):
        est.summarize(np.ones((20, 2)), "cf")
