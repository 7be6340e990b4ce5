"""Tests of ``nn_bridge.noise.measure``.

From the former tests/test_nn_measure.py: nn_bridge.noise.measure, profile and the `levydyn nn` CLI: resume, export, bad input."""
import json
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")


class _Kill(Exception):
    pass


def test_resume_after_interruption_is_identical(tmp_path, measured, measure_wine):
    full = measured
    done = []

    def kill(b):
        done.append(b)
        if b == 32:
            raise _Kill

    with pytest.raises(_Kill):
        measure_wine(tmp_path / "b", on_part=kill)
    assert done == [8, 32]
    redone = []
    resumed = measure_wine(tmp_path / "b", on_part=redone.append)
    assert redone == [256]                      # finished parts were not recomputed
    assert json.dumps(resumed.report()) == json.dumps(full.report())
    for b in measured.config.batch_sizes:
        for k, v in full.stats[b].arrays().items():
            np.testing.assert_array_equal(resumed.stats[b].arrays()[k], v)
    # a fully finished workdir recomputes nothing
    measure_wine(tmp_path / "b", on_part=redone.append)
    assert redone == [256]


def test_measurement_report_and_sweep(measured):
    m = measured
    rep = m.report()
    assert [r["batch_size"] for r in rep["results"]] == [8, 32, 256]
    P = sum(int(np.prod(s)) for s in m.profile(8).layer_shapes)
    for b, st in m.stats.items():
        assert st.alpha.shape == (P,) and st.n_minibatches == 100
        a = st.alpha[np.isfinite(st.alpha)]
        assert a.size > 0.5 * P and np.all((a > 0) & (a <= 2))
        assert 0.0 <= st.overall.gaussian_fraction <= 1.0
        assert np.isfinite(st.pooled_alpha) and st.fit is not None and st.fit.n_drawn == 2
    json.dumps(rep, allow_nan=False)
