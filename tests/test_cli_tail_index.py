"""CLI ``tail-index`` (imported directly; the lead registers it on ``cli.main``)."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from cli.tail_index import tail_index
from levydyn.noise import sas_rvs


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
    assert abs(np.median(data["alpha"]) - 1.5) < 0.05
    assert abs(data["pooled_alpha"] - 1.5) < 0.15
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
])
def test_bad_input_exit_2_one_line(files, name, args, needle):
    res = _run(files / name, *args)
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if ln.startswith("Error")]) == 1
