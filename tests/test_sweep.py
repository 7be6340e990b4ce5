"""levydyn.experiments.sweep: spec parsing, derived seeds, resumable tables, serial vs Dask execution.

The simulations here are small (6 cells of 300 paths) because what is tested is
bookkeeping, not statistics: the tables of different executions must be *byte-identical*,
which holds because every cell's seed is derived from its parameters and the simulator
is bit-identical for any thread count. The Dask tests start processes on 127.0.0.1 only,
and every wait is bounded.
"""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import levydyn.experiments.sweep as sw
from cli.sweep import sweep as sweep_cmd

REPO = Path(__file__).resolve().parents[1]

# 6 cells; the alpha = 1.8, eps = 0.2 cell (mean exit time ~130) is the slowest, ~1-2 s
SPEC = {
    "seed": 7,
    "widths": [1, 2],
    "paths": 300,
    "dt": 0.01,
    "t_max": 1.0e4,
    "grid": {"alpha": [1.5, 1.8], "eps": [0.5, 0.3, 0.2]},
}
N_CELLS = 6


def _write_yaml(path: Path, spec: dict) -> Path:
    yaml = pytest.importorskip("yaml")     # the sweep extra; skip cleanly without it

    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The serial table of SPEC (bytes), computed once."""
    out = tmp_path_factory.mktemp("ref") / "ref.csv"
    rep = sw.sweep(SPEC, out, serial=True)
    assert rep.computed == N_CELLS and rep.executor == "serial"
    return out.read_bytes()


# ------------------------------------------------------------------ spec and seeds (no simulation)

def test_seed_depends_on_parameters_not_grid_position():
    a = sw.plan(SPEC)
    b = sw.plan({**SPEC, "grid": {"eps": [0.2, 0.5, 0.3], "alpha": [1.8, 1.5]}})
    key = lambda c: (c.params["alpha"][0], c.params["eps"][0])  # noqa: E731
    sa = {key(c): (c.seed, c.cell_id) for c in a.cells}
    sb = {key(c): (c.seed, c.cell_id) for c in b.cells}
    assert sa == sb and len(set(v[0] for v in sa.values())) == N_CELLS
    # more paths: same seed (the run extends), different cell identity
    c = sw.plan({**SPEC, "paths": 600})
    assert [x.seed for x in c.cells] == [x.seed for x in a.cells]
    assert not {x.cell_id for x in c.cells} & {x.cell_id for x in a.cells}
    # another base seed or replicate: other seeds
    assert sw.plan({**SPEC, "seed": 8}).cells[0].seed != a.cells[0].seed
    assert sw.plan({**SPEC, "replicate": 1}).cells[0].seed != a.cells[0].seed


def test_yaml_and_toml_specs_give_the_same_cells(tmp_path):
    y = _write_yaml(tmp_path / "s.yaml", SPEC)
    t = tmp_path / "s.toml"
    t.write_text(textwrap.dedent("""\
        seed = 7
        widths = [1, 2]
        paths = 300
        dt = 0.01
        t_max = 1e4
        [grid]
        alpha = [1.5, 1.8]
        eps = [0.5, 0.3, 0.2]
        """))
    assert [c.cell_id for c in sw.plan(y).cells] == [c.cell_id for c in sw.plan(t).cells]
    # YAML 1.1 reads 1e4 as text; it is still the number 1e4
    s2 = _write_yaml(tmp_path / "s2.yaml", {**SPEC, "t_max": "1e4"})
    assert sw.plan(s2).cells[0].cell_id == sw.plan(y).cells[0].cell_id


def test_multi_axis_schedule_and_columns():
    p = sw.plan({"alpha": [1.2, 1.8], "eps": 0.1, "widths": [[1, 2], [1, 1]],
                 "grid": {"schedule": ["constant", "power:0.8", "multistep:100,200:0.5,0.1"]}})
    assert p.dim == 2 and len(p.cells) == 3
    assert {"alpha_0", "alpha_1", "d_plus_1", "p_axis_1_high", "theory_p_axis_0"} <= set(p.columns)
    assert [c.params["schedule"] for c in p.cells] == [
        "constant", "power:0.8", "multistep:100.0,200.0:0.5,0.1"]


@pytest.mark.parametrize("spec,needle", [
    ({"eps": 0.1}, "must give alpha"),
    ({"alpha": 1.5, "eps": 0.1, "bogus": 1}, "unknown spec key 'bogus'"),
    ({"alpha": 1.5, "eps": 0.1, "grid": {"bogus": [1]}}, "unknown grid parameter 'bogus'"),
    ({"alpha": 1.5, "grid": {"eps": 0.1}}, "grid eps must be a non-empty list"),
    ({"alpha": 1.5, "eps": 0.1, "grid": {"eps": [0.1]}}, "both at the top level and under grid"),
    ({"eps": 0.1, "grid": {"alpha": [1.5, 2.5]}}, "cell 1 (alpha=2.5): alpha must lie in (0, 2]"),
    ({"alpha": 1.5, "grid": {"eps": [0.1, -1]}}, "eps=-1"),
    ({"alpha": 1.5, "eps": 0.1, "widths": [1, 0]}, "d_plus"),
    ({"alpha": 1.5, "eps": 0.1, "paths": 2.5}, "paths must be an integer"),
    ({"alpha": 1.5, "eps": 0.1, "dt": 1, "t_max": 0.5}, "dt must not exceed t_max"),
    ({"alpha": 1.5, "eps": 0.1, "schedule": "cosine"}, "unknown schedule 'cosine'"),
    ({"alpha": 1.5, "eps": 0.1, "method": "rk4"}, "unknown method 'rk4'"),
    ({"alpha": 2.0, "eps": 0.1, "method": "jump_adapted"}, "jump_adapted needs"),
    ({"alpha": [1.5, 1.2, 1.1], "eps": [0.1, 0.2]}, "eps has 2 entries"),
    ({"alpha": 1.5, "grid": {"eps": [0.1, 0.1]}}, "are the same cell"),
    ({"eps": 0.1, "grid": {"alpha": [1.5, [1.5, 1.5]]}}, "same number of axes"),
    ({"alpha": 1.5, "eps": 0.1, "level": 1.5}, "level must lie in (0, 1)"),
])
def test_bad_spec_is_one_value_error(spec, needle):
    with pytest.raises(ValueError) as err:
        sw.plan(spec)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_cli_bad_spec_is_one_line_exit_2(tmp_path):
    cases = [
        (_write_yaml(tmp_path / "a.yaml", {"eps": 0.1, "grid": {"alpha": [1.5, 2.5]}}), "alpha=2.5"),
        (tmp_path / "missing.yaml", "spec file not found"),
        (tmp_path / "s.json", "must be a .yaml, .yml or .toml"),
    ]
    broken = tmp_path / "b.yaml"
    broken.write_text("grid:\n  alpha: [1.5\n")
    cases.append((broken, "cannot parse spec"))
    for spec, needle in cases:
        res = CliRunner().invoke(sweep_cmd, [str(spec), "--out", str(tmp_path / "t.csv")])
        assert res.exit_code == 2, res.output
        errors = [line for line in res.output.splitlines() if line.startswith("Error")]
        assert len(errors) == 1 and needle in errors[0] and "Traceback" not in res.output
    ok = _write_yaml(tmp_path / "ok.yaml", {"alpha": 1.5, "eps": 0.5})
    for extra, needle in [(["--out", str(tmp_path / "t.txt")], ".csv or .parquet"),
                          (["--out", str(tmp_path / "t.csv"), "--serial", "--workers", "2"],
                           "serial runs in this process")]:
        res = CliRunner().invoke(sweep_cmd, [str(ok), *extra])
        assert res.exit_code == 2 and needle in res.output


def test_theory_columns_pick_the_closed_form():
    from levydyn.theory import exit_interval, gaussian

    p = sw.plan({"alpha": 1.5, "eps": 0.1, "widths": [1, 2]}).cells[0].params
    t = sw.theory_columns(p)
    assert t["theory_mean_exit_time"] == exit_interval.mean_exit_time(1.5, 0.1, 1.0, 2.0)
    assert t["theory_p_upper"] == exit_interval.side_probability(1, 1.5, 0.1, 1.0, 2.0)
    g = sw.theory_columns(sw.plan({"alpha": 2, "eps": 0.5, "curvature": 2}).cells[0].params)
    assert g["theory"] == "gaussian exact"
    assert g["theory_mean_exit_time"] == gaussian.quadratic_mean_exit_time(0.5, 1.0, 2.0, curvature=2.0)
    two = sw.theory_columns(sw.plan({"alpha": [1.2, 1.8], "eps": 0.1}).cells[0].params)
    assert two["theory"] == "box small-noise limit"
    assert abs(two["theory_p_axis_0"] + two["theory_p_axis_1"] - 1) < 1e-12
    mixed = sw.theory_columns(sw.plan({"alpha": [2.0, 1.5], "eps": 0.1}).cells[0].params)
    assert mixed["theory"] == "none" and mixed["theory_mean_exit_time"] != mixed["theory_mean_exit_time"]


# ------------------------------------------------------------------ serial runs, resume, repair

def test_rerun_of_a_finished_table_computes_nothing(tmp_path, reference, monkeypatch):
    out = tmp_path / "t.csv"
    out.write_bytes(reference)
    monkeypatch.setattr(sw, "run_cell", lambda *a: pytest.fail("recomputed a finished cell"))
    rep = sw.sweep(SPEC, out)
    assert (rep.computed, rep.skipped, rep.executor) == (0, N_CELLS, "nothing to run")
    assert out.read_bytes() == reference
    assert [r["cell"] for r in sw.read_table(out)] == list(range(N_CELLS))


def test_interrupted_sweep_resumes_without_recomputing(tmp_path, reference, monkeypatch):
    out = tmp_path / "t.csv"

    def ctrl_c_after_two(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sw.sweep(SPEC, out, serial=True, progress=ctrl_c_after_two)
    first = sw.read_table(out)
    assert len(first) == 2 and not (tmp_path / "t.csv.lock").exists()

    calls = []
    real = sw.run_cell
    monkeypatch.setattr(sw, "run_cell", lambda p, s, lv: calls.append(s) or real(p, s, lv))
    rep = sw.sweep(SPEC, out, serial=True)
    assert (rep.computed, rep.skipped) == (N_CELLS - 2, 2)
    assert len(calls) == N_CELLS - 2 and not {r["seed"] for r in first} & set(calls)
    assert out.read_bytes() == reference


def test_torn_last_line_is_dropped_and_recomputed(tmp_path, reference):
    out = tmp_path / "t.csv"
    out.write_bytes(reference[:-25])          # a kill in the middle of the last append
    rep = sw.sweep(SPEC, out, serial=True)
    assert (rep.computed, rep.skipped) == (1, N_CELLS - 1)
    assert out.read_bytes() == reference


def test_table_of_another_spec_is_refused(tmp_path, reference):
    out = tmp_path / "t.csv"
    out.write_bytes(reference)
    with pytest.raises(ValueError, match="not in this spec"):
        sw.sweep({**SPEC, "seed": 8}, out, serial=True)
    assert out.read_bytes() == reference
    other = tmp_path / "o.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="other columns"):
        sw.sweep(SPEC, other, serial=True)


def test_a_growing_grid_reuses_finished_cells(tmp_path, reference):
    out = tmp_path / "t.csv"
    out.write_bytes(reference)
    bigger = {**SPEC, "grid": {"alpha": [1.5, 1.8], "eps": [0.6, 0.5, 0.3, 0.2]}}
    rep = sw.sweep(bigger, out, serial=True)
    assert (rep.computed, rep.skipped) == (2, N_CELLS)
    rows = sw.read_table(out)
    assert [r["cell"] for r in rows] == list(range(8)) and rows[0]["eps"] == 0.6
    ref_path = tmp_path / "ref.csv"
    ref_path.write_bytes(reference)
    old = {r["cell_id"]: {k: v for k, v in r.items() if k != "cell"} for r in sw.read_table(ref_path)}
    new = {r["cell_id"]: {k: v for k, v in r.items() if k != "cell"} for r in rows}
    assert all(new[k] == v for k, v in old.items())


def test_serial_fallback_without_dask(tmp_path, monkeypatch):
    monkeypatch.setattr(sw, "dask_available", lambda: False)
    rep = sw.sweep({"alpha": 1.5, "eps": 0.5, "paths": 50}, tmp_path / "t.csv")
    assert rep.executor == "serial" and rep.computed == 1
    with pytest.raises(ValueError, match="Dask is not installed"):
        sw.sweep({"alpha": 1.5, "eps": 0.5, "paths": 50}, tmp_path / "u.csv", workers=2)


def test_parquet_table(tmp_path, reference):
    pytest.importorskip("pyarrow")
    out = tmp_path / "t.parquet"
    sw.sweep(SPEC, out, serial=True, progress=lambda d, n: None)
    ref_path = tmp_path / "ref.csv"
    ref_path.write_bytes(reference)
    got, want = sw.read_table(out), sw.read_table(ref_path)
    assert json.dumps(got) == json.dumps(want)
    assert not (tmp_path / "t.parquet.partial.csv").exists()
    rep = sw.sweep(SPEC, out, serial=True)
    assert rep.computed == 0


def test_cli_serial_prints_the_table(tmp_path, reference):
    out = tmp_path / "t.csv"
    out.write_bytes(reference)
    spec = _write_yaml(tmp_path / "s.yaml", SPEC)
    res = CliRunner().invoke(sweep_cmd, [str(spec), "--out", str(out), "--serial"])
    assert res.exit_code == 0, res.output
    assert "mean exit time [CI]" in res.output and "6 cells (0 computed, 6 already there)" in res.output


# ------------------------------------------------------------------ Dask

def test_localcluster_table_equals_serial(tmp_path, reference):
    pytest.importorskip("distributed")
    out = tmp_path / "t.csv"
    rep = sw.sweep(SPEC, out, workers=2, timeout=240)
    assert rep.executor == "LocalCluster (2 workers)" and rep.computed == N_CELLS
    assert out.read_bytes() == reference


def _env():
    env = dict(os.environ, NUMBA_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    return env


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two worker processes (no nanny) on 127.0.0.1, as separate processes."""
    pytest.importorskip("distributed")
    d = tmp_path_factory.mktemp("cluster")
    sched_file = d / "scheduler.json"
    procs = {}
    log = open(d / "cluster.log", "w")
    procs["scheduler"] = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
        env=_env(), cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (sched_file.exists() and sched_file.stat().st_size):
            assert time.monotonic() < deadline, "scheduler did not start in 60 s"
            assert procs["scheduler"].poll() is None, "scheduler exited"
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for name in ("w0", "w1"):
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                 str(sched_file), "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                 "--no-dashboard", "--name", name, "--death-timeout", "60"],
                env=_env(), cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        from distributed import Client

        with Client(address, timeout="30s", set_as_default=False) as c:
            c.wait_for_workers(2, timeout=60)
        yield address, procs
    finally:
        for p in procs.values():
            p.kill()
        for p in procs.values():
            p.wait(timeout=30)
        log.close()


def test_driver_killed_mid_run_loses_nothing(tmp_path, cluster, reference):
    """SIGKILL the process running the sweep; the rows it wrote stay, the rerun does the rest."""
    address, _ = cluster
    spec = _write_yaml(tmp_path / "s.yaml", SPEC)
    out = tmp_path / "t.csv"
    driver = subprocess.Popen(
        [sys.executable, "-c", "import sys; from levydyn.experiments.sweep import sweep; "
         "sweep(sys.argv[1], sys.argv[2], scheduler=sys.argv[3])", str(spec), str(out), address],
        env=_env(), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out.exists() and out.read_bytes().count(b"\n") >= 3):   # header + 2 rows
            assert time.monotonic() < deadline, "no rows written in 120 s"
            assert driver.poll() is None, "driver finished before it could be killed"
            time.sleep(0.05)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    kept = len(sw._read_csv(out, sw.plan(SPEC).columns)[1])
    assert 2 <= kept < N_CELLS
    assert (tmp_path / "t.csv.lock").exists()   # left behind, but its flock died with the driver
    rep = sw.sweep(SPEC, out, scheduler=address, timeout=180)
    assert (rep.skipped, rep.computed) == (kept, N_CELLS - kept)
    assert not (tmp_path / "t.csv.lock").exists()
    assert out.read_bytes() == reference


def test_worker_killed_mid_run_every_cell_once(tmp_path, cluster, reference):
    """Kill a worker that is running a cell; Dask reruns it elsewhere; each cell recorded once."""
    from distributed import Client

    address, procs = cluster
    out = tmp_path / "t.csv"
    seen, killed = [], []
    with Client(address, timeout="30s", set_as_default=False) as monitor:
        def progress(done, total):
            seen.append(done)
            if killed or done < 1:
                return
            info = monitor.scheduler_info()["workers"]
            busy = {info[a]["name"]: keys for a, keys in monitor.processing().items() if keys}
            for name in ("w0", "w1"):
                if busy.get(name) and procs[name].poll() is None:
                    procs[name].kill()
                    procs[name].wait(timeout=30)
                    killed.append((name, len(busy[name])))
                    return

        rep = sw.sweep(SPEC, out, scheduler=address, progress=progress, timeout=180)
    assert killed and killed[0][1] >= 1, "no worker was busy when one had to be killed"
    assert seen == list(range(N_CELLS + 1))          # every cell recorded exactly once
    assert rep.computed == N_CELLS
    rows = sw.read_table(out)
    assert sorted(r["cell"] for r in rows) == list(range(N_CELLS))
    assert out.read_bytes() == reference
