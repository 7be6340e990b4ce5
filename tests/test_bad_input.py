"""The bad-input battery (issue 18): every case is rejected cleanly, early and by name.

CLI: exit status 2, exactly one output line (``Error: ...``), the field's name and the
value in it, and nothing simulated or compiled first (an autouse fixture makes any
simulation or numba compilation fail the test). API: one ``ValueError`` of one line
naming the field and the value. Output-path faults: a missing directory and a read-only
one are rejected before the run; a full disk (a small tmpfs, where the test may mount
one) is one line, exit 1, and leaves no partial or temporary file.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from click.testing import CliRunner

import cli.runs
from cli.main import main
from levydyn import (Ackley2D, Ball, Box, Custom, MultiStep, MultiWell1D, Power, Problem,
                     Quadratic, WellPartition, parse_schedule, sas_rvs, simulate)
from levydyn import estimators as est
from levydyn.output_files import IMAGE_SUFFIXES, atomic_write_bytes, check_output_path
from levydyn.results import EscapeResult, TransitionResult, wilson
from levydyn.run_limits import check_run
from levydyn.seeding import derive_seed
from levydyn.experiments.dask_client import check_scheduler_address

MISSING = "/nonexistent-levydyn-dir/sub"


@numba.njit(cache=True)
def _identity_grad(x, params, out):
    out[0] = x[0]


@pytest.fixture
def no_compilation(monkeypatch):
    """Fail the test if anything is simulated or any numba function compiles."""
    def refuse(*args, **kwargs):
        raise AssertionError("simulated or compiled before the input was checked")

    monkeypatch.setattr(cli.runs, "simulate", refuse)
    monkeypatch.setattr(numba.core.dispatcher.Dispatcher, "compile", refuse)


def _one_line_exit_2(args, needles):
    res = CliRunner().invoke(main, [str(a) for a in args])
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert res.exit_code == 2, res.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    assert "Traceback" not in res.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def constant_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "constant.npy"
    np.save(path, np.ones((500, 3)))
    return path


# (command line, strings the one error line must contain: the field and the value)
CLI_CASES = [
    (["escape", "--alpha", "2.5"], ["alpha", "2.5"]),
    (["escape", "--alpha", "0"], ["alpha=0.0"]),
    (["escape", "--alpha", "abc"], ["alpha='abc'"]),
    (["escape", "--eps", "-0.1"], ["eps=-0.1"]),
    (["escape", "--eps", "nan"], ["eps=nan"]),
    (["escape", "--eps", "1e300"], ["eps=1e+300"]),
    (["escape", "--eps", "0.5,,0.2"], ["eps='0.5,,0.2'"]),
    (["escape", "--widths", "1,,2"], ["widths='1,,2'"]),
    (["escape", "--widths", "1,2,"], ["widths='1,2,'"]),
    (["escape", "--widths", "1,2,3"], ["widths=[1.0, 2.0, 3.0]"]),
    (["escape", "--widths", "0,2"], ["--widths", "widths must be positive", "0.0"]),   # the option, not d_minus
    (["escape", "--paths", "0"], ["n_paths=0"]),
    (["escape", "--paths", "2.5"], ["n_paths='2.5'"]),
    (["escape", "--paths", "1000000000000"], ["n_paths=1000000000000", "memory"]),
    (["escape", "--dt", "0"], ["dt=0.0"]),
    (["escape", "--dt", "1e-300", "--t-max", "1e10"], ["t_max/dt", "dt=1e-300"]),
    (["escape", "--dt", "2", "--t-max", "1"], ["dt=2.0"]),
    (["escape", "--t-max", "0"], ["t_max=0.0"]),
    (["escape", "--t-max", "inf"], ["t_max=inf"]),
    (["escape", "--seed", "-1"], ["seed=-1"]),
    (["escape", "--seed", str(2**64)], [f"seed={2**64}"]),
    (["escape", "--schedule", "power:0.5:1:9"], ["schedule='power:0.5:1:9'"]),
    (["escape", "--schedule", "power:2"], ["gamma=2.0"]),
    (["escape", "--schedule", "multistep:1,,2:0.5,0.2"], ["schedule='multistep:1,,2:0.5,0.2'"]),
    (["escape", "--schedule", "multistep:10:0"], ["values=0.0"]),
    (["escape", "--curvature", "-1"], ["curvature=-1.0"]),
    (["escape", "--trajectories", "51"], ["trajectories=51"]),
    (["escape", "--json", f"{MISSING}/x.json"], ["json=", MISSING]),
    (["escape", "--plot", "out.xyz"], ["plot='out.xyz'"]),
    (["escape", "--method", "rk4"], ["--method", "rk4"]),
    (["escape", "--potential", "sphere"], ["--potential", "sphere"]),
    (["wells", "--minima", "-1,2", "--maxima", "3"], ["maxima", "3.0"]),
    (["wells", "--minima", "a,b"], ["minima='a,b'"]),
    (["wells", "--core", "1.5"], ["core=1.5"]),
    (["wells", "--scale", "0"], ["scale=0.0"]),
    (["wells", "--cycles", "0"], ["cycles=0.0"]),
    (["wells", "--eps", "0"], ["eps=0.0"]),
    (["wells", "--alpha", "2.5"], ["alpha=2.5"]),
    (["wells", "--paths", "-3"], ["n_paths=-3"]),
    (["wells", "--plot", "w.txt"], ["plot='w.txt'"]),
    (["exit-axis", "--alphas", "1.2,2.5"], ["alpha=2.5"]),
    (["exit-axis", "--alphas", "1.2,1.8", "--eps", "0.1,-0.1"], ["eps=-0.1"]),
    (["exit-axis", "--curvature", "1,-1"], ["curvature=-1.0"]),
    (["exit-axis", "--alpha2", "3"], ["alpha2=3.0"]),
    (["exit-axis", "--alphas", "2,2", "--method", "jump_adapted"], ["method='jump_adapted'"]),
    (["exit-axis", "--t-max", "-5"], ["t_max=-5.0"]),
    (["schedule", "--gamma", "1.5"], ["gamma=1.5"]),
    (["schedule", "--t0", "-1"], ["t0=-1.0"]),
    (["schedule", "--eps", "0"], ["eps=0.0"]),
    (["schedule", "--alpha", "-1"], ["alpha=-1.0"]),
    (["schedule", "--u", "-1"], ["u=[-1.0]"]),
    (["tail-index", "CONSTANT", "--seed", "-1"], ["seed=-1"]),
    (["tail-index", "CONSTANT", "--json", f"{MISSING}/t.json"], ["json=", MISSING]),
    (["tail-index", "CONSTANT"], ["FILE", "constant.npy", "constant"]),
    (["sgd-tails", "--chains", "0"], ["chains=0"]),
    (["sgd-tails", "--sigma", "-1"], ["sigma=-1.0"]),
    (["sgd-tails", "--mc-samples", "1"], ["mc-samples=1"]),
    (["sgd-tails", "--plot", f"{MISSING}/p.png"], ["plot=", MISSING]),
    (["sweep", "SPEC", "--out", "t.csv", "--scheduler", "notanaddress"],
     ["scheduler='notanaddress'"]),
    (["sweep", "SPEC", "--out", "t.csv", "--workers", "0"], ["workers=0"]),
    (["sweep", "SPEC", "--out", f"{MISSING}/t.csv"], ["out=", MISSING]),
    (["verify", "--plot", f"{MISSING}/plots"], ["plot=", MISSING]),
    (["verify", "--seed", "-5"], ["seed=-5"]),
    (["nn", "measure", "--json", f"{MISSING}/m.json"], ["json=", MISSING]),
    (["nn", "measure", "--profile", "p.txt"], ["profile='p.txt'"]),
]


@pytest.mark.parametrize("args,needles", CLI_CASES, ids=[" ".join(a) for a, _ in CLI_CASES])
def test_cli_bad_input_one_line_exit_2_before_any_compile(args, needles, constant_file,
                                                          no_compilation, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text("alpha = 1.5\neps = 0.5\n")
    args = [constant_file if a == "CONSTANT" else spec if a == "SPEC" else a for a in args]
    _one_line_exit_2(args, needles)


def _escape_result(dim=1):
    p = Problem(Quadratic([1.0] * dim), alpha=1.5, eps=0.5,
                domain=Box.around([0.0] * dim, [1.0] * dim, [2.0] * dim))
    n = 20
    return EscapeResult(p, np.linspace(1, 2, n), np.ones(n, bool), np.zeros(n, np.int64),
                        np.ones(n, np.int64), np.zeros((n, dim)), 0.01, 10.0, 0)


def _transition_result():
    pot = MultiWell1D((-1.0, 2.0), (0.0,))
    p = Problem(pot, alpha=1.5, eps=0.5, domain=WellPartition.of(pot))
    return TransitionResult(p, np.array([[0, 1]]), np.array([[0.0, 3.0]]), np.array([2]),
                            np.array([[3.0, 2.0]]), np.array([5.0]), 0.01, 5.0, 0)


def _box_problem(**kw):
    base = dict(potential=Quadratic([1.0]), alpha=1.5, eps=0.5,
                domain=Box.around([0.0], [1.0], [2.0]))
    return Problem(**{**base, **kw})


def _wells_problem():
    pot = MultiWell1D((-1.0, 2.0), (0.0,))
    return Problem(pot, alpha=1.5, eps=0.5, domain=WellPartition.of(pot))


# (call, strings the one-line ValueError must contain)
API_CASES = [
    (lambda: _box_problem(alpha="abc"), ["alpha='abc'"]),
    (lambda: _box_problem(alpha=True), ["alpha=True"]),
    (lambda: _box_problem(alpha=2.5), ["alpha=2.5"]),
    (lambda: _box_problem(eps=1e300), ["eps=1e+300"]),
    (lambda: _box_problem(eps=[0.1, 0.2]), ["eps=[0.1, 0.2]"]),
    (lambda: _box_problem(x0=[5.0]), ["x0=[5.0]"]),
    (lambda: _box_problem(potential="quadratic"), ["potential='quadratic'"]),
    (lambda: _box_problem(domain=Box.around([0.0, 0.0], [1, 1], [1, 1])),
     ["domain=", "dimensions"]),
    (lambda: _box_problem(schedule="constant"), ["schedule='constant'"]),
    (lambda: Problem(Quadratic([1.0, 1.0]), alpha=[1.5, 3.0], eps=0.1,
                     domain=Box.around([0, 0], [1, 1], [1, 1])), ["alpha=3.0"]),
    (lambda: Problem(MultiWell1D((-1.0, 2.0), (0.0,)), alpha=1.5, eps=0.5,
                     domain=WellPartition((-5.0, 5.0), (0.0,))), ["domain=", "-5.0", "wells"]),
    (lambda: Quadratic("abc"), ["hessian='abc'"]),
    (lambda: Quadratic([]), ["hessian=[]"]),
    (lambda: Quadratic([1.0, -1.0]), ["hessian=-1.0"]),
    (lambda: Quadratic([[1.0, 2.0], [0.0, 1.0]]), ["hessian=", "symmetric"]),
    (lambda: Quadratic([1.0], center=[1.0, 2.0]), ["center=[1.0, 2.0]"]),
    (lambda: MultiWell1D((-1.0, 2.0), (3.0,)), ["maxima=[3.0]"]),
    (lambda: MultiWell1D((-1.0, 2.0), (0.0,), scale=0), ["scale=0"]),
    (lambda: Ackley2D(a=-1.0), ["a=-1.0"]),
    (lambda: Custom(_identity_grad, dim="abc"), ["dim='abc'"]),
    (lambda: Custom(_identity_grad, dim=0), ["dim=0"]),
    (lambda: Custom(lambda x, p, o: None, dim=1), ["grad_kernel="]),
    (lambda: Box([0.0], [0.0]), ["upper=0.0"]),
    (lambda: Box.around([0.0], [0.0], [1.0]), ["d_minus=0.0"]),
    (lambda: Box.around([0.0, 0.0], [1.0], [1.0, 1.0]), ["d_minus=[1.0]"]),
    (lambda: Ball([0.0], "abc"), ["radius='abc'"]),
    (lambda: Ball([0.0], -1.0), ["radius=-1.0"]),
    (lambda: WellPartition((-1.0, 2.0), (0.0,), core=1.5), ["core=1.5"]),
    (lambda: WellPartition((1.0,), ()), ["minima=[1.0]"]),
    (lambda: Power("abc"), ["gamma='abc'"]),
    (lambda: Power(None), ["gamma=None"]),
    (lambda: Power(0.5, t0=-1.0), ["t0=-1.0"]),
    (lambda: MultiStep((10.0, 5.0), (0.5, 0.2)), ["milestones=(10.0, 5.0)"]),
    (lambda: MultiStep((10.0,), (0.5, 0.2)), ["values=[0.5, 0.2]"]),
    (lambda: MultiStep(100, "x"), ["values='x'"]),
    (lambda: parse_schedule("power:0.5:1:9"), ["schedule='power:0.5:1:9'"]),
    (lambda: sas_rvs(True, 10), ["alpha=True"]),
    (lambda: sas_rvs(1.5, 10, seed=1.5), ["seed=1.5"]),
    (lambda: check_run(_box_problem(), t_max=0), ["t_max=0"]),
    (lambda: check_run(_box_problem(), n_paths=10**12), ["n_paths=1000000000000", "memory"]),
    (lambda: check_run(_box_problem(), dt=1e-300, t_max=1e10), ["t_max/dt", "dt=1e-300"]),
    (lambda: check_run(_box_problem(), chunk=-5), ["chunk=-5"]),
    (lambda: check_run(_wells_problem(), max_visits=-1), ["max_visits=-1"]),
    (lambda: check_run(_wells_problem(), max_visits=0), ["max_visits=0"]),
    (lambda: check_run(_box_problem(), n_paths=True), ["n_paths=True"]),
    (lambda: check_run(_box_problem(), method="rk4"), ["method='rk4'"]),
    (lambda: check_run(_wells_problem(), method="jump_adapted"), ["method='jump_adapted'"]),
    (lambda: check_run(_box_problem(alpha=2.0), method="jump_adapted"), ["method='jump_adapted'"]),
    (lambda: simulate(_box_problem(), dt=0.0), ["dt=0.0"]),
    (lambda: simulate(_box_problem(), seed=-3), ["seed=-3"]),
    (lambda: simulate(_box_problem(), n_paths=0), ["n_paths=0"]),
    (lambda: _escape_result().mean_exit_time(level=1.5), ["level=1.5"]),
    (lambda: _escape_result().axis_probability(5), ["axis=5"]),
    (lambda: _escape_result(2).axis_probability(-1), ["axis=-1"]),
    (lambda: _escape_result().side_probability(0), ["side=0"]),
    (lambda: _escape_result().survival(level=0), ["level=0"]),
    (lambda: _escape_result().survival(t=[-1.0]), ["t=[-1.0]"]),
    (lambda: _transition_result().mean_sojourn(7), ["well=7"]),
    (lambda: _transition_result().generator(level=2), ["level=2"]),
    (lambda: wilson(5, 3), ["k=5"]),
    (lambda: est.mohammadi_alpha(np.ones(500)), ["x=[1.0] * 500"]),
    (lambda: derive_seed(-1, {}), ["seed=-1"]),
    (lambda: check_output_path("json", f"{MISSING}/x.json"), ["json=", MISSING]),
    (lambda: check_output_path("plot", "x.xyz", IMAGE_SUFFIXES), ["plot='x.xyz'"]),
    (lambda: check_scheduler_address("notanaddress"), ["scheduler='notanaddress'"]),
]


@pytest.mark.parametrize("call,needles", API_CASES,
                         ids=[f"api{i}-{n[0]}" for i, (_, n) in enumerate(API_CASES)])
def test_api_bad_input_one_line_value_error(call, needles):
    with pytest.raises(ValueError) as err:
        call()
    msg = str(err.value)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg, (needle, msg)


def test_nn_batch_larger_than_the_training_set_and_garbage_weights(tmp_path):
    """`nn measure --batch-size 100000` on 455 samples and `--weights garbage.npy`."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from types import SimpleNamespace

    from nn_bridge.noise.measure import MeasureConfig, _check_fits
    from nn_bridge.training.train import load_weights

    with pytest.raises(ValueError, match=r"batch_size must not exceed the 455 training "
                                         r"samples .*got batch_size=100000$"):
        _check_fits(MeasureConfig(batch_sizes=(32, 100000), sampling="epoch"),
                    SimpleNamespace(n_train=455))
    with pytest.warns(UserWarning, match=r"batch_size=100000 exceeds the 455 training samples"):
        _check_fits(MeasureConfig(batch_sizes=(32, 100000)), SimpleNamespace(n_train=455))
    garbage = tmp_path / "garbage.npy"
    np.save(garbage, np.arange(5.0))
    with pytest.raises(ValueError) as err:
        load_weights(garbage)
    assert "\n" not in str(err.value) and f"weights={str(garbage)!r}" in str(err.value)


def test_battery_size():
    """Issue 18 asks for at least 60 cases over the CLI and the API."""
    assert len(CLI_CASES) + len(API_CASES) >= 60
    assert len(CLI_CASES) >= 30 and len(API_CASES) >= 30


# ------------------------------------------------------------------ output-path faults


@contextlib.contextmanager
def _tmpfs(path: Path, size: str, read_only: bool = False):
    """A small tmpfs at ``path`` (root with mount rights only), else skip."""
    path.mkdir()
    opts = f"size={size}" + (",ro" if read_only else "")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()[:80]}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], capture_output=True)


@contextlib.contextmanager
def _read_only_dir(tmp_path: Path):
    """A directory this process cannot write: chmod 555, or for root a read-only tmpfs."""
    d = tmp_path / "ro"
    if os.geteuid() != 0:
        d.mkdir()
        d.chmod(0o555)
        try:
            if os.access(d, os.W_OK):
                pytest.skip("chmod 555 does not stop this user writing")
            yield d
        finally:
            d.chmod(0o755)
        return
    with _tmpfs(d, "64k", read_only=True) as ro:
        yield ro


def test_missing_directory_rejected_before_the_run(no_compilation):
    _one_line_exit_2(["escape", "--json", f"{MISSING}/x.json"], ["json=", MISSING])
    _one_line_exit_2(["escape", "--plot", f"{MISSING}/x.png"], ["plot=", MISSING])


def test_read_only_directory_rejected_before_the_run(tmp_path, no_compilation):
    with _read_only_dir(tmp_path) as ro:
        _one_line_exit_2(["escape", "--json", ro / "x.json"], ["json=", "writable"])
        _one_line_exit_2(["wells", "--plot", ro / "x.png"], ["plot=", "writable"])


def _fill(directory: Path) -> None:
    """Fill a filesystem up to the last byte (unbuffered writes: closing cannot fail)."""
    for name, block in (("filler", 4096), ("filler-tail", 1)):
        fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * block)
        finally:
            os.close(fd)


def test_full_disk_atomic_write_leaves_old_file_and_no_temporary(tmp_path):
    with _tmpfs(tmp_path / "fs", "64k") as fs:
        target = fs / "r.json"
        target.write_text('{"old": true}')
        _fill(fs)
        with pytest.raises(OSError):
            atomic_write_bytes(target, b"x" * 100_000)
        assert json.loads(target.read_text()) == {"old": True}
        assert sorted(p.name for p in fs.iterdir()) == ["filler", "filler-tail", "r.json"]


def test_full_disk_cli_one_line_exit_1_no_partial_json(tmp_path):
    with _tmpfs(tmp_path / "fs", "64k") as fs:
        _fill(fs)
        res = CliRunner().invoke(main, ["escape", "--eps", "0.5", "--paths", "20",
                                        "--json", str(fs / "r.json")])
        assert res.exit_code == 1, res.output
        errors = [line for line in res.output.splitlines() if line.startswith("Error")]
        assert len(errors) == 1 and "No space left" in errors[0] and "r.json" in errors[0]
        assert "Traceback" not in res.output
        assert "mean exit time" in res.output            # the table was printed first
        assert sorted(p.name for p in fs.iterdir()) == ["filler", "filler-tail"]


def test_unknown_image_extension_rejected_before_the_run(no_compilation):
    _one_line_exit_2(["exit-axis", "--plot", "axes.bmpx"], ["plot='axes.bmpx'"])


def test_t_max_zero_refused_in_a_fresh_process_without_compiling():
    """``levydyn escape --t-max 0`` is refused in a fresh process without compiling
    (issue 18 item 6: it used to take 81.6 s): a few seconds of imports at most."""
    r = subprocess.run([sys.executable, "-m", "cli.main", "escape", "--t-max", "0"],
                       capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parents[1],
                       env={**os.environ, "NUMBA_DEBUG_CACHE": "1"})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "Error: Invalid value for '--t-max': t_max must be a positive finite number, got "
        "t_max=0.0"]
    assert "[cache]" not in r.stdout + r.stderr       # no kernel compiled, none even loaded
