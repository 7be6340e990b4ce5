"""Issue 26 Deliver 2: the bad-input and fault battery, one test per item (one-line errors
that name the option or field and the value; no traceback, no silent result)."""
import pytest

from levydyn.theory import closed_forms


def test_closed_forms_of_not_a_problem():
    with pytest.raises(ValueError, match="problem must be a levydyn.Problem, got problem=None"):
        closed_forms(None)


def test_sas_rvs_checks_memory_and_streams_before_allocating():
    from levydyn import sas_rvs
    with pytest.raises(ValueError, match=r"^size must fit in memory: the draws need 7.28 TiB, "
                                         r"this machine has .*, got size=1000000000000$"):
        sas_rvs(1.5, 10**12)
    with pytest.raises(ValueError, match=r"^streams must be an integer >= 1, got streams=0$"):
        sas_rvs(1.5, 10, streams=0)
    with pytest.raises(ValueError, match=r"^size must be a non-negative integer"):
        sas_rvs(1.5, (3, -1))
    assert sas_rvs(1.5, (2, 3), streams=1).shape == (2, 3)


def test_memory_check_is_shared_with_simulate():
    from levydyn.model.validation import check_memory
    with pytest.raises(ValueError, match=r"^n_paths must fit in memory: the results need 2 KiB, "
                                         r"this machine has 1 KiB, got n_paths=7$"):
        check_memory("n_paths", 7, 2048, "the results", memory=1024)
    check_memory("n_paths", 7, 1024, "the results", memory=1024)


def test_sweep_plan_of_not_a_spec():
    from levydyn.experiments import sweep
    with pytest.raises(ValueError, match=r"^spec must be a mapping or a .yaml/.yml/.toml path, got spec=5$"):
        sweep.plan(5)


def test_simulate_checks_progress_before_running():
    from levydyn import Box, Problem, Quadratic, simulate
    p = Problem(Quadratic([1.0]), alpha=1.5, eps=0.5, domain=Box([-1.0], [1.0]))
    with pytest.raises(ValueError, match=r"^progress must be None or a function"):
        simulate(p, n_paths=10**5, t_max=1e9, progress="x")      # refused before any work


def test_theory_schedule_gamma_constraint():
    """The closed forms take Power's (0, 1] plus gamma = 0 (the exponent 2 gamma - 1 of the
    squared schedule at gamma = 1/2, which `levydyn verify` compares with), and need
    g = 1 + (gamma - 1)(alpha - 1) > 0; Power itself keeps (0, 1]."""
    import math

    from levydyn import Power
    from levydyn.theory import schedules as ts
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"^gamma must lie in \[0, 1\]"):
            ts.mean_exit_time(1.5, 0.1, 1.0, 2.0, gamma=bad)
    for bad in (1.5, 0.0, float("nan")):
        with pytest.raises(ValueError, match=r"^gamma must lie in \(0, 1\]"):
            Power(bad)
    assert math.isfinite(ts.mean_exit_time(1.5, 0.1, 1.0, 2.0, gamma=0.0))


def _cli(*args):
    from click.testing import CliRunner

    from cli.main import main
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("cmd", ["escape", "schedule", "exit-axis"])
def test_widths_errors_name_the_option(cmd):
    from tests.cli_checks import assert_one_line_error
    res = _cli(cmd, "--widths", "0,1", "--paths", "5")
    assert_one_line_error(res, "'--widths'")
    assert "widths must be positive (inf allowed), got widths=0.0" in res.output
    assert "d_minus" not in res.output


def test_tiny_eps_gives_an_infinite_theory_not_a_traceback():
    # eps^alpha underflows: the small-noise mean overflows to inf; side probabilities do not
    # depend on eps (d^-alpha ratios): 1 / (1 + 2^1.5) = 0.2612 for widths 1, 2
    from levydyn.theory import exit_interval
    assert exit_interval.mean_exit_time(1.5, 1e-320, 1.0, 2.0) == float("inf")
    assert exit_interval.side_probability(1, 1.5, 1e-320, 1.0, 2.0) == pytest.approx(1 / (1 + 2 ** 1.5))
    res = _cli("escape", "--eps", "1e-320", "--paths", "10", "--t-max", "20")
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output


def test_schedule_alpha_2_refused_and_default_u_follows_t_max():
    from tests.cli_checks import assert_one_line_error
    assert_one_line_error(_cli("schedule", "--alpha", "2", "--paths", "10", "--t-max", "20"),
                          "alpha must lie in (0, 2), got alpha=2.0")
    res = _cli("schedule", "--paths", "10", "--t-max", "20")
    assert res.exit_code == 0 and "--u must" not in res.output, res.output


def test_tail_index_unreadable_files(tmp_path):
    from tests.cli_checks import assert_one_line_error
    (tmp_path / "garbage.npz").write_bytes(b"garbage")
    (tmp_path / "empty.npy").write_bytes(b"")
    assert_one_line_error(_cli("tail-index", str(tmp_path / "garbage.npz")), "not a numpy .npz file")
    res = _cli("tail-index", str(tmp_path / "empty.npy"))
    assert_one_line_error(res, "not a numpy .npy file (empty)")
    assert "Aborted" not in res.output


def test_ci_level_nan_names_the_option(tmp_path):
    import numpy as np

    from tests.cli_checks import assert_one_line_error
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_cauchy(200))
    assert_one_line_error(_cli("tail-index", "--ci-level", "nan", str(tmp_path / "x.npy")),
                          "'--ci-level': ci_level must lie in (0, 1), got ci_level=nan")


def test_outputs_only_replace_regular_files(tmp_path):
    import os

    from levydyn.output_files import atomic_write_text, check_output_path
    from tests.cli_checks import assert_one_line_error
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="json must name a regular file"):
        check_output_path("json", fifo)
    with pytest.raises(ValueError, match="path must name a regular file"):
        atomic_write_text(fifo, "{}")
    assert not fifo.is_file() and fifo.exists()          # still the pipe
    assert_one_line_error(_cli("escape", "--paths", "5", "--json", str(fifo)),
                          "json must name a regular file")
    reg = tmp_path / "ok.json"
    reg.write_text("old")
    atomic_write_text(reg, "new")
    assert reg.read_text() == "new"


def test_a_custom_gradient_that_raises_is_one_line_error():
    import numba

    from levydyn import Box, Custom, Problem, simulate

    @numba.njit
    def grad(x, p, out):
        if x[0] > 0.5:
            raise ValueError("boom")
        out[0] = x[0]

    p = Problem(Custom(grad, 1), alpha=1.5, eps=0.5, domain=Box([-1.0], [1.0]))
    with pytest.raises(ValueError, match=r"^the potential's gradient raised inside the "
                                         r"simulation: ValueError: boom$"):
        simulate(p, n_paths=20, t_max=50)


def test_exit_axis_radius_must_be_positive():
    from tests.cli_checks import assert_one_line_error
    assert_one_line_error(_cli("exit-axis", "--radius", "0", "--paths", "5"),
                          "radius must be a positive finite number, got radius=0.0")


def test_sgd_tails_huge_grid_and_synthetic_data_refused_before_work():
    from tests.cli_checks import assert_one_line_error
    assert_one_line_error(_cli("sgd-tails", "--eta", "0.01:0.1:100000000", "--batch", "1", "--dim", "1",
                               "--chains", "64", "--records", "8", "--mc-samples", "0"),
                          "'--eta': COUNT must be at most 10000")
    assert_one_line_error(_cli("sgd-tails", "--synthetic", "1000000000,1000", "--eta", "0.05",
                               "--chains", "16"), "n must fit in memory: the data need 14.6 TiB")


def test_sweep_on_a_full_disk_is_one_line(tmp_path, monkeypatch):
    import errno

    import cli.sweep as cs

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cs, "run_sweep", full)
    spec = tmp_path / "s.yaml"
    spec.write_text("alpha: 1.5\neps: 0.5\n")
    res = _cli("sweep", str(spec), "--serial", "--out", str(tmp_path / "s.csv"))
    assert res.exit_code == 1, res.output
    assert "No space left on device" in res.output and "Traceback" not in res.output
    assert len([line for line in res.output.splitlines() if line.startswith("Error")]) == 1
