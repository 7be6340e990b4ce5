"""``levydyn verify --quick``: every closed form inside its simulated CI (fixed seeds).

The quick run simulates 100-1000 paths per experiment (about a minute on two cores); the
rows use Bonferroni-adjusted intervals (joint level 95 %) widened by the stated
small-noise allowance, and fixed seeds make the outcome reproducible bit for bit.
"""
import json

import pytest
from click.testing import CliRunner

from cli.verify import verify as verify_cmd
from levydyn.experiments import verify


@pytest.fixture(scope="module")
def quick_report():
    return verify.run(quick=True, seed=0)


def test_quick_verify_every_row_passes(quick_report):
    rep = quick_report
    names = [c.name for c in rep.checks]
    for n in ("thm1_mean", "thm1_side", "measure_convention", "eps_scaling_a1.5", "thm2_q12",
              "thm2_q21", "thm2_pi", "box_axis", "cor44_ratio", "schedule_power_mean",
              "schedule_power_survival", "schedule_multistep_mean", "schedule_axis", "gaussian_mean"):
        assert n in names
    failed = [(c.name, c.theory, str(c.simulated), c.allowance) for c in rep.checks if not c.passed]
    assert not failed, rep.table()


def test_sas_noise_matches_only_the_converted_rate(quick_report):
    # Must-show 4: the simulated SaS(1) mean exit time agrees with c_alpha * (unit rate) and
    # rejects the unit-measure rate of the papers taken at face value.
    row = next(c for c in quick_report.checks if c.name == "measure_convention")
    assert row.simulated.contains(row.theory, row.allowance)
    assert not row.simulated.contains(row.extra["theory_unit"], row.allowance)


def test_report_json_and_table(quick_report, tmp_path):
    d = json.loads(quick_report.to_json(tmp_path / "v.json"))
    assert d["all_pass"] is True and len(d["checks"]) == len(quick_report.checks)
    row = d["checks"][0]
    for key in ("name", "theory", "simulated", "allowance", "n_paths", "assumption", "status"):
        assert key in row
    assert "thm1_mean" in quick_report.table()


def test_cli_only_one_group(tmp_path):
    out = tmp_path / "v.json"
    res = CliRunner().invoke(verify_cmd, ["--quick", "--only", "gaussian", "--json", str(out),
                                          "--no-notes"])
    assert res.exit_code == 0, res.output
    assert "gaussian_mean" in res.output and "thm1_mean" not in res.output
    assert json.loads(out.read_text())["checks"][0]["name"] == "gaussian_mean"


def test_cli_unknown_check_is_one_line_error():
    res = CliRunner().invoke(verify_cmd, ["--quick", "--only", "thm9"])
    assert res.exit_code == 2
    assert "thm9" in res.output and "Traceback" not in res.output
