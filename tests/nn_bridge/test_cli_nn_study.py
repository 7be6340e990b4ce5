"""Tests of ``levydyn nn study`` (cli/).

From the former tests/test_nn_escape.py: nn_bridge.escape.experiment: vectorised SGD escapes, the SGD <-> SDE conversion, CLI, bad input."""
import json
import pytest
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from click.testing import CliRunner  # noqa: E402


def test_cli_study_quick_and_fit(tmp_path):
    """The one-command loop at --quick size, then `nn fit` on its JSON report."""
    from cli.nn import nn

    runner = CliRunner()
    out = tmp_path / "study.json"
    res = runner.invoke(nn, ["study", "--quick", "--workdir", str(tmp_path / "wd"), "--json",
                             str(out), "--plot-dir", str(tmp_path / "plots"), "--basin-out",
                             str(tmp_path / "basin.npz"), "--profile-out",
                             str(tmp_path / "prof.json"), "--model-out",
                             str(tmp_path / "mb.npz"), "-q"])
    assert res.exit_code == 0, res.output
    assert "ratio" in res.output and "(a) Levy sim" in res.output
    assert "the ladder" in res.output and "lambda_1" in res.output
    rep = json.loads(out.read_text())
    assert rep["schema"] == "levydyn.nn_study/4" and len(rep["cells"]) == 4
    cell = rep["cells"][0]
    for k in ("mean", "low", "high", "censored"):
        assert k in cell["measured"]
    for m in ("multiplicative", "nonlinear_frozen", "nonlinear_multiplicative", "lin_minibatch"):
        assert set(cell["models"][m]) >= {"mean", "low", "high"}
    assert set(cell["lambda_1"]) >= {"value", "low", "high"}
    assert cell["regime"] in ("stable", "unstable", "marginal")
    for c in rep["cells"]:        # schema /4: how each mean was measured; the reachable exponent
        m = c["measured"]
        assert m["method"] in ("brute", "bound", "imprecise")      # no --splitting here
        # brute exactly when the mean is a number known to 25 % (16 seeds: rarely)
        rel = (m["high"] - m["low"]) / (2 * m["mean"]) if m["method"] != "bound" else None
        assert (m["method"] == "brute") == (rel is not None and rel <= 0.25)
        assert (m["why_not_measured"] is None) == (m["method"] == "brute")
        assert set(c["lambda_1_reachable"]) >= {"value", "low", "high"}
        assert 1 <= c["reachable_dim"] <= rep["basin"]["minibatch_model"]["n_params"]
        assert c["regime_full"] in ("stable", "unstable", "marginal")
    t = rep["targets"]
    split = t["by_regime"]
    assert sum(v["n_counted"] for v in split.values()) == sum(
        r["counted"] and r["regime"] in split for r in t["cells"])
    for reg, v in split.items():
        assert v["n_f_within_2x"] == sum(r["counted"] and r["regime"] == reg and r["f_within_2x"]
                                         for r in t["cells"])
    assert (tmp_path / "plots" / "nn_ladder_breast_cancer.png").stat().st_size > 0
    res = runner.invoke(nn, ["stability", "--profile", str(tmp_path / "mb.npz"), "--no-tail",
                             "--lyap-paths", "4", "--lyap-steps", "50", "-q"])
    assert res.exit_code == 0, res.output
    assert "regime" in res.output
    res = runner.invoke(nn, ["stability", "--profile", str(tmp_path / "mb.npz"), "--lrs", "0.5"])
    assert res.exit_code == 2 and "lr=0.5: outside the measured grid" in res.output
    assert (tmp_path / "plots" / "nn_escape_curves.png").stat().st_size > 0
    assert (tmp_path / "plots" / "nn_survival.png").stat().st_size > 0
    res = runner.invoke(nn, ["fit", str(out)])
    assert res.exit_code == 0, res.output
    assert "Gaussian/Kramers" in res.output
    res = runner.invoke(nn, ["predict", str(tmp_path / "prof_b8.json"), "--basin",
                             str(tmp_path / "basin.npz"), "--lrs", "0.8", "--paths", "20",
                             "--max-iter", "100"])
    assert res.exit_code == 0, res.output
    assert "Levy 1-jump" in res.output


@pytest.mark.parametrize("args, needle", [
    (["study", "--quick", "--lrs", "abc"], "--lrs"),
    (["study", "--quick", "--batch-sizes", "0,8"], "--batch-sizes"),
    (["study", "--quick", "--models", "levy,magic"], "magic"),
    (["study", "--quick", "--radius", "-1"], "--radius"),
    (["fit", "no-such-file.json"], "not found"),
    (["predict", "no-such.json", "--basin", "b.npz", "--lrs", "0.1"], "not found"),
])
def test_cli_bad_input_is_one_line(args, needle, tmp_path):
    from cli.nn import nn

    res = CliRunner().invoke(nn, args)
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output


def test_cli_study_runs_rung_i_when_asked(tmp_path):
    """Rung (i) (Gaussian noise of the exact local covariance) is not in the default models
    and runs through the study when named, with its row in the ladder."""
    from cli.nn import nn
    from nn_bridge.escape.config import DEFAULT_MODELS, StudyConfig

    assert "nonlinear_gauss" not in DEFAULT_MODELS
    assert "nonlinear_gauss" not in StudyConfig.quick().models
    out = tmp_path / "study.json"
    res = CliRunner().invoke(nn, ["study", "--quick", "--batch-sizes", "8", "--lrs", "0.8",
                                  "--models", "nonlinear_gauss,multiplicative", "--workdir",
                                  str(tmp_path / "wd"), "--json", str(out), "--plot-dir",
                                  str(tmp_path / "plots"), "-q"])
    assert res.exit_code == 0, res.output
    assert "(i) nonlinear, Gauss local cov" in res.output
    for name in ("nn_escape_curves.png", "nn_survival.png", "nn_ladder_breast_cancer.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 0
    cell = json.loads(out.read_text())["cells"][0]
    rung = cell["models"]["nonlinear_gauss"]
    assert rung["mean"] > 0 and rung["details"]["n_seeds"] >= 2
