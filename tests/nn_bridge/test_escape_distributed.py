"""The escape study on Dask (``nn_bridge.escape.distributed``, ``levydyn nn study --workers``).

The cells computed by a two-process LocalCluster must give the serial study's report (the
same keys and seeds: a worker that used other settings, another basin or its own stream
would change the numbers), and a rerun after a part is lost must compute that part only
(a store key that differed between parent and workers would recompute everything)."""
import json
import math
import shutil

import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("sklearn")

# a 2 x 1 grid of the quick study (width 4) with one model, and a two-radius scan at one of
# its cells: every kind of task, in a few minutes on 2 loaded cores
CFG_KW = dict(width=4, models=("multiplicative",), batch_sizes=(8, 32), lrs=(0.8,), n_seeds=8,
              max_iter=200, lyap_paths=4, lyap_steps=50, tail_particles=16, tail_steps=20)
SCAN = {"batch_size": 8, "lr": 0.8, "radii": (0.5, 1.0), "models": ("multiplicative",)}
CELL_KINDS = ("escape", "predict", "stability", "splitting")   # a cell's parts, not the basin's


def _cfg():
    from nn_bridge.escape.config import StudyConfig

    return StudyConfig.quick(**CFG_KW)


def _without_wall_times(obj):
    """The report with every wall-clock time removed (the only thing that may differ)."""
    if isinstance(obj, dict):
        return {k: _without_wall_times(v) for k, v in obj.items() if "wall_time" not in k}
    if isinstance(obj, list):
        return [_without_wall_times(v) for v in obj]
    return obj


def _report(study) -> dict:
    return json.loads(json.dumps(_without_wall_times(study.report())))


def _assert_same(a, b, path="report"):
    """Equal, floats to 1e-12 relative: the stability's reachable-subspace basis comes from
    LAPACK, whose summation order depends on its thread count (one in a worker, more in the
    serial run); seen: differences in the 15th digit of lambda_1_reachable, nothing else.
    Every other number -- escape iterations, CIs, predictions -- must be identical."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), path
        for k in a:
            _assert_same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and "reachable" in path:
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _stamps(workdir) -> dict:
    """Part file -> (inode, mtime): an atomic rewrite of a part changes both."""
    parts = workdir / "parts"
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in parts.iterdir()}


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """The same study on a 2-worker LocalCluster and serially (the serial workdir starts
    with the Dask run's basin -- training, w*, curvature, noise -- but none of its cells)."""
    pytest.importorskip("distributed")
    from nn_bridge.escape.distributed import run_study_on_dask
    from nn_bridge.escape.radius_scan import radius_scan
    from nn_bridge.escape.study import run_study

    wd_dask, wd_serial = tmp_path_factory.mktemp("dask"), tmp_path_factory.mktemp("serial")
    dask = run_study_on_dask(_cfg(), wd_dask, workers=2, scan=SCAN, timeout=900)
    shutil.copytree(wd_dask, wd_serial, dirs_exist_ok=True,
                    ignore=lambda d, names: [n for n in names if n.startswith(CELL_KINDS)])
    serial = run_study(_cfg(), workdir=wd_serial)
    serial.scan = radius_scan(_cfg(), serial.basin, workdir=wd_serial, **SCAN)
    return dask, serial, wd_dask


@pytest.mark.slow
def test_localcluster_study_equals_the_serial_one(studies):
    dask, serial, _ = studies
    assert [(c.batch_size, c.lr) for c in dask.cells] == [(8, 0.8), (32, 0.8)]
    assert dask.scan.radii == (0.5, 1.0)
    _assert_same(_report(dask), _report(serial))


@pytest.mark.slow
def test_rerun_computes_only_the_lost_part(studies):
    """Delete one cell's measurement; the rerun measures that cell again and nothing else,
    and gives the same report (the same replicas' streams)."""
    from nn_bridge.escape.distributed import run_study_on_dask
    from nn_bridge.escape.study import part_keys
    from nn_bridge.training.checkpoint import config_key

    dask, _, wd = studies
    base, _ = part_keys(dask.config, dask.basin)
    lost = f"escape-{config_key({**base, 'B': 32, 'lr': 0.8, 'part': 'measured'})}.npz"
    (wd / "parts" / lost).unlink()
    before = _stamps(wd)
    again = run_study_on_dask(_cfg(), wd, workers=2, timeout=900)
    after = _stamps(wd)
    assert {n for n in after if before.get(n) != after[n]} == {lost}
    assert _report(again)["cells"] == _report(dask)["cells"]


@pytest.mark.parametrize("kw, needle", [
    (dict(workdir=None), "workdir"),
    (dict(scheduler="not-an-address"), "scheduler='not-an-address'"),
    (dict(scheduler="tcp://127.0.0.1:8786", workers=2), "workers sizes a LocalCluster"),
    (dict(workers=0), "workers=0"),
    (dict(scan={"radius": 1.0}), "scan: unknown setting 'radius'"),
])
def test_bad_input_is_one_line_before_anything_runs(kw, needle, tmp_path):
    from nn_bridge.escape.distributed import run_study_on_dask

    kw = {"workdir": tmp_path / "wd", **kw}
    with pytest.raises(ValueError, match=needle) as err:
        run_study_on_dask(_cfg(), kw.pop("workdir"), **kw)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "wd").exists()       # nothing trained, nothing written


@pytest.mark.parametrize("args, needle", [
    (["--scheduler", "localhost"], "scheduler='localhost'"),
    (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler needs --workdir"),
    (["--workers", "0"], "--workers"),
    (["--workers", "2", "--cached-only", "--workdir", "WD"], "--cached-only runs nothing"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2", "--workdir", "WD"],
     "workers sizes a LocalCluster"),
])
def test_cli_cluster_options_bad_input_is_one_line(args, needle, tmp_path):
    from cli.nn import nn

    args = [str(tmp_path / "wd") if a == "WD" else a for a in args]
    res = CliRunner().invoke(nn, ["study", "--quick", *args])
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "wd").exists()
