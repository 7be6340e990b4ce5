"""Tests of ``nn_bridge.noise.profile``.

From the former tests/test_nn_measure.py: nn_bridge.noise.measure, profile and the `levydyn nn` CLI: resume, export, bad input."""
import numpy as np
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from nn_bridge.noise.profile import NoiseProfile, load_profile, save_profile  # noqa: E402


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_profile_roundtrip(tmp_path, suffix, measured):
    m = measured
    prof = m.profile(32)
    path = save_profile(prof, tmp_path / f"p{suffix}")
    back = load_profile(path)
    np.testing.assert_array_equal(back.alpha, prof.alpha)
    np.testing.assert_array_equal(back.sigma, prof.sigma)
    assert back.layer_names == prof.layer_names and back.layer_shapes == prof.layer_shapes
    assert (back.lr, back.batch_size, back.dataset) == (0.05, 32, "wine")
    assert back.weights_sha256 == m.weights_sha256 and back.model == m.spec.to_dict()
    eps = back.sde_eps()
    ok = np.isfinite(back.alpha)
    np.testing.assert_allclose(eps[ok], 0.05 ** (1 - 1 / back.alpha[ok]) * back.sigma[ok])
    assert back.layer_index().shape == back.alpha.shape


def test_profile_validation(tmp_path):
    kw = dict(layer_names=["w"], layer_shapes=[[3]], lr=0.05, batch_size=8, dataset="x",
              model={}, weights_sha256="0", n_minibatches=10, sampling="iid",
              estimator="cf_regression")
    with pytest.raises(ValueError, match="alpha"):
        NoiseProfile(alpha=[1.0, 2.5, 1.0], sigma=[1, 1, 1], **kw)
    with pytest.raises(ValueError, match="layer_shapes"):
        NoiseProfile(alpha=[1.0, 1.5], sigma=[1, 1], **kw)
    with pytest.raises(ValueError, match="path="):
        save_profile(NoiseProfile(alpha=[1, 1, 1], sigma=[1, 1, 1], **kw), tmp_path / "p.txt")
    (tmp_path / "bad.json").write_text('{"schema": "other"}')
    with pytest.raises(ValueError, match="schema='other'"):
        load_profile(tmp_path / "bad.json")
