"""CLI ``tail-index`` (imported directly; the lead registers it on ``cli.main``)."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from cli.tail_index import tail_index
from levydyn.model.noise import sas_rvs


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("ti")
    stable = sas_rvs(1.5, (2000, 40), seed=1) * np.linspace(0.5, 4.0, 40)
    np.save(d / "stable.npy", stable)
    np.savez(d / "two.npz", first=stable[:, :3],
             gauss=np.random.default_rng(0).standard_normal((1000, 5)))
    np.savetxt(d / "g.csv", np.random.default_rng(1).standard_normal((400, 3)), delimiter=",",
               header="a,b,c", comments="")
    np.save(d / "one.npy", sas_rvs(1.2, 3000, seed=2))
    # issue 16: Gaussian columns whose scales span 4 decades
    np.save(d / "g4.npy", np.random.default_rng(3).standard_normal((2000, 40))
            * np.logspace(-2, 2, 40))
    z = sas_rvs(1.5, (3001, 20), seed=4)
    z[np.random.default_rng(4).random(z.shape) < 0.05] = 0.0
    np.save(d / "zeros.npy", z)
    np.save(d / "const.npy", np.full((100, 3), 2.5))
    part = np.random.default_rng(5).standard_normal((500, 4))
    part[:, 2] = 1.0
    np.save(d / "part.npy", part)
    np.save(d / "nan.npy", np.r_[np.ones(30), np.nan])
    np.save(d / "short.npy", np.ones((5, 3)))
    np.save(d / "cube.npy", np.ones((20, 2, 2)))
    (d / "x.txt").write_text("1,2\n3,oops\n")
    (d / "x.dat").write_text("")
    return d


def _run(*args):
    return CliRunner().invoke(tail_index, [str(a) for a in args])


def test_npy_table_plot_and_json(files, tmp_path):
    """40 coordinates of SaS(1.5), n = 2000: cf RMSE at n = 1e3 is 0.044-0.051 (table), so the
    median over 40 coordinates lies well within 0.05; Shapiro-Wilk rejects all of them."""
    png, js = tmp_path / "a.png", tmp_path / "a.json"
    res = _run(files / "stable.npy", "--batch-size", "64", "--fit-columns", "3",
               "--plot", png, "--json", js)
    assert res.exit_code == 0, res.output
    assert "2000 samples x 40 coordinates" in res.output
    assert "pooled alpha" in res.output and "Berry-Esseen" in res.output
    assert png.stat().st_size > 1000
    data = json.loads(js.read_text())
    assert data["n_coordinates"] == 40 and len(data["alpha"]) == 40
    assert len(data["alpha_ci"]["low"]) == 40 and data["alpha_ci"]["ci"] == "bootstrap"
    assert all(lo <= a <= hi for lo, a, hi in zip(data["alpha_ci"]["low"], data["alpha"],
                                                  data["alpha_ci"]["high"]))
    assert abs(np.median(data["alpha"]) - 1.5) < 0.05
    # columns of SaS(1.5) with any scales: eq. 15 pooled and standardised both estimate 1.5
    assert abs(data["pooled_alpha_eq15"]["alpha"] - 1.5) < 0.15
    assert abs(data["pooled_alpha_standardised"]["alpha"] - 1.5) < 0.15
    assert data["pooled_alpha_eq15"]["low"] < data["pooled_alpha_eq15"]["high"]
    # scales follow the column multipliers 0.5 .. 4 (SaS(1)-scale convention)
    np.testing.assert_allclose(data["scale"], np.linspace(0.5, 4.0, 40), rtol=0.1)
    assert data["gaussian_fraction"] < 0.1
    assert data["fit_errors"]["columns"] == 3
    assert data["fit_errors"]["sas_better_fraction_chi2"] == 1.0
    assert len(data["berry_esseen"]["bound"]) == 40


def test_npz_key_csv_header_and_1d(files):
    res = _run(files / "two.npz", "--key", "gauss", "--fit-columns", "0")
    assert res.exit_code == 0, res.output
    assert "1000 samples x 5 coordinates" in res.output
    res = _run(files / "g.csv", "--method", "mcculloch", "--fit-columns", "1")
    assert res.exit_code == 0, res.output
    assert "400 samples x 3 coordinates" in res.output
    res = _run(files / "one.npy", "--method", "mohammadi-median", "--no-center")
    assert res.exit_code == 0, res.output
    assert "3000 samples x 1 coordinate" in res.output and "alpha (mohammadi-median)" in res.output


def test_transpose(files):
    res = _run(files / "two.npz", "--transpose", "--fit-columns", "0")
    # 3 x 2000 after transposing: too few samples per coordinate
    assert res.exit_code == 2
    assert "at least 16 samples" in res.output


@pytest.mark.parametrize("name,args,needle", [
    ("nan.npy", [], "non-finite value nan"),
    ("short.npy", [], "at least 16 samples"),
    ("cube.npy", [], "1-D or 2-D"),
    ("two.npz", ["--key", "zz"], "no array 'zz'"),
    ("x.txt", [], "cannot read"),
    ("x.dat", [], "unsupported file type"),
    ("stable.npy", ["--level", "1.5"], "level"),
    ("stable.npy", ["--method", "magic"], "magic"),
    ("missing.npy", [], "does not exist"),
    ("const.npy", [], "are constant"),
    ("stable.npy", ["--zeros", "maybe"], "maybe"),
    ("stable.npy", ["--n-boot", "3"], "n-boot"),
])
def test_bad_input_exit_2_one_line(files, name, args, needle):
    res = _run(files / name, *args)
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if ln.startswith("Error")]) == 1


def test_pooled_eq15_and_standardised_are_named_apart(files, tmp_path):
    """Gaussian columns with scales 1e-2..1e2 (the issue's example): paper 000's eq. 15 on the
    concatenated coordinates is dominated by the scale mixture and lands near 1 (0.9 here),
    the standardised pooled alpha near 2. n = 2000 x 40: eq. 15's standard error at K1 = 250
    is ~0.01 (its CI below), so 1.5 separates the two by far."""
    js = tmp_path / "g.json"
    res = _run(files / "g4.npy", "--fit-columns", "0", "--json", js)
    assert res.exit_code == 0, res.output
    assert "pooled alpha (paper 000 eq. 15" in res.output
    assert "pooled alpha (standardised" in res.output
    data = json.loads(js.read_text())
    assert data["pooled_alpha_eq15"]["alpha"] < 1.5 < data["pooled_alpha_standardised"]["alpha"]
    assert data["pooled_alpha_eq15"]["high"] < 1.5


def test_exact_zeros_reported_and_left_out(files, tmp_path):
    """SaS(1.5) with 5 % exact zeros, 20 columns of 3001 (odd: centring must not add zeros).
    cf on the nonzero part: RMSE ~0.035 at n = 3000, median of 20 within 0.05. Kept, eq. 15
    falls to ~1 (printed as the authors' value next to the default)."""
    js = tmp_path / "z.json"
    res = _run(files / "zeros.npy", "--fit-columns", "0", "--json", js)
    assert res.exit_code == 0, res.output
    assert "exact zeros (an atom at 0)" in res.output and "with the zeros kept" in res.output
    data = json.loads(js.read_text())
    assert abs(np.median(data["alpha"]) - 1.5) < 0.05
    assert data["pooled_alpha_eq15_zeros_kept"] < 1.2
    assert abs(data["pooled_alpha_eq15"]["alpha"] - 1.5) < 0.15
    raw = np.load(files / "zeros.npy")
    np.testing.assert_allclose(data["atom_fraction"], np.mean(raw == 0, axis=0))
    # centring moved no nonzero sample onto 0: the estimate used exactly the nonzero samples
    assert data["pooled_alpha_eq15"]["n_used"] == int(np.sum(raw != 0))


def test_constant_column_not_counted_as_gaussian(files):
    res = _run(files / "part.npy", "--fit-columns", "0")
    assert res.exit_code == 0, res.output
    assert "1 constant coordinate" in res.output
    assert "of 3 (95% CI" in res.output and "counting the constant ones" in res.output


def test_single_sample_ci_and_hill_plot(files, tmp_path):
    png = tmp_path / "h.png"
    res = _run(files / "one.npy", "--method", "mohammadi-median", "--hill-plot", png,
               "--fit-columns", "0")
    assert res.exit_code == 0, res.output
    assert "alpha (mohammadi-median) = " in res.output and "95% CI [" in res.output
    assert "alpha (paper 000 eq. 15, K1 = " in res.output
    assert png.stat().st_size > 1000


def test_no_clip_and_keep_zeros_options(files, tmp_path):
    """Gaussian data, eq. 15 per coordinate: unclipped, some of 40 estimates exceed 2 (sd of
    each ~0.2 at n = 2000, so P(none of 40 > 2) is tiny); clipped, none does."""
    js = tmp_path / "c.json"
    res = _run(files / "g4.npy", "--method", "mohammadi", "--no-clip", "--fit-columns", "0",
               "--json", js)
    assert res.exit_code == 0, res.output
    assert max(json.loads(js.read_text())["alpha"]) > 2.0
    res = _run(files / "g4.npy", "--method", "mohammadi", "--fit-columns", "0", "--json", js)
    assert max(json.loads(js.read_text())["alpha"]) <= 2.0
    res = _run(files / "zeros.npy", "--zeros", "keep", "--method", "mohammadi",
               "--fit-columns", "0", "--json", js)
    assert res.exit_code == 0, res.output
    assert "kept in the estimates" in res.output
    assert np.median(json.loads(js.read_text())["alpha"]) < 1.2
