"""The escape study on a Dask cluster: one task per cell (and per radius-scan point).

    parent : prepare_basin (train, w*, curvature, noise profiles; cached in the workdir)
      -> one task per (B, lr) of the grid [and per radius R of the scan], on the cluster:
           worker: the basin read back from the workdir (once per worker process)
                   -> compute_cell / scan_point: the serial study's own computation, each
                      finished part saved in the workdir's part store
      -> parent : run_study(cached_only=True) [and radius_scan] assembles the study from it

The tasks exchange nothing but the workdir: every part is stored under a key of its inputs
and read before it is computed (:func:`nn_bridge.escape.study.compute_cell`,
:func:`nn_bridge.escape.radius_scan.scan_point`), so the study equals the serial one (same
keys, same seeds) and a rerun after a kill computes only the parts that are missing. A
remote cluster's workers must see the workdir at the same path (a shared filesystem).

Each task runs torch and numba on one thread; a LocalCluster has one single-threaded worker
process per core (:func:`levydyn.experiments.dask_client.dask_client`), so the cluster uses
each core once.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import torch

from levydyn.experiments.dask_client import (check_cluster_options, dask_available, dask_client,
                                             run_tasks)
from nn_bridge.escape.basin import Basin, part_store, prepare_basin
from nn_bridge.escape.config import StudyConfig
from nn_bridge.escape.radius_scan import RADII, SCAN_CELL, check_scan, radius_scan, scan_point
from nn_bridge.escape.study import Study, compute_cell, run_study, study_plan
from nn_bridge.training.checkpoint import PartStore, config_key

__all__ = ["StudyTaskError", "run_study_on_dask"]

#: The radius scan's defaults (:func:`nn_bridge.escape.radius_scan.radius_scan`).
SCAN_DEFAULTS = {"batch_size": SCAN_CELL[0], "lr": SCAN_CELL[1], "radii": RADII,
                 "models": ("multiplicative", "nonlinear_multiplicative")}


class StudyTaskError(RuntimeError):
    """Some of the study's tasks raised; the parts the others finished are in the workdir."""


def run_study_on_dask(cfg: StudyConfig, workdir: str | Path, *, scheduler: str | None = None,
                      workers: int | None = None, scan: bool | dict = False,
                      log: Callable[[str], None] = lambda s: None,
                      timeout: float | None = None) -> Study:
    """:func:`~nn_bridge.escape.study.run_study` with its cells computed on a Dask cluster.

    Parameters
    ----------
    cfg : the study.
    workdir : the part store every worker reads and writes (required: the tasks return
        nothing else); resolved to an absolute path.
    scheduler : address of a running Dask scheduler (``tcp://HOST:8786``); its workers need
        levydyn and the workdir. Default: a ``LocalCluster`` of ``workers`` processes.
    workers : LocalCluster worker processes (default one per core, at most one per task).
    scan : also the radius scan (``Study.scan``), one task per radius; ``True`` for
        :func:`~nn_bridge.escape.radius_scan.radius_scan`'s defaults or a dict of its
        ``batch_size``, ``lr``, ``radii``, ``models``.
    log : one line per finished task, then the lines of the assembled study.
    timeout : seconds to wait for the cluster before ``TimeoutError`` (finished parts stay).

    Raises
    ------
    ValueError : no workdir, bad cluster options or scan settings (one line).
    ConnectionError : the scheduler cannot be reached.
    StudyTaskError : some tasks raised, or their parts are not in the workdir.
    """
    t0 = time.perf_counter()
    if workdir is None:
        raise ValueError("workdir: a study on Dask needs one (its workers exchange results "
                         "through it), got workdir=None")
    check_cluster_options(scheduler, workers, have_dask=dask_available())
    unknown = set(scan) - set(SCAN_DEFAULTS) if isinstance(scan, dict) else set()
    if unknown:
        raise ValueError(f"scan: unknown setting {sorted(unknown)[0]!r}; settings: "
                         f"{', '.join(SCAN_DEFAULTS)}")
    sc = {**SCAN_DEFAULTS, **(scan if isinstance(scan, dict) else {})} if scan else None
    workdir = Path(workdir).resolve()
    n_tasks = len(cfg.batch_sizes) * len(cfg.lrs) + cfg.slow_cells \
        + (len(sc["radii"]) if sc else 0)
    failed = []
    # connect first: an unreachable scheduler fails before the basin is prepared
    with dask_client(scheduler, workers, n_tasks) as (client, executor):
        basin = prepare_basin(cfg, workdir=workdir, log=log)
        _, cells = study_plan(basin, cfg, part_store(workdir), log)    # slow cells: probed here
        tag = config_key({"study": cfg.to_dict(), "workdir": str(workdir)})
        tasks = [(f"B={B} lr={lr:g}", f"levydyn-study-{tag}-B{B}-lr{lr!r}", _cell_task,
                  (cfg, str(workdir), B, lr, kind)) for B, lr, kind in cells]
        if sc:
            sc.update(radii=check_scan(basin, sc["batch_size"], sc["lr"], sc["radii"],
                                       sc["models"]), models=tuple(sc["models"]))
            tasks += [(f"scan R={R:g}", f"levydyn-study-{tag}-scan-R{R!r}", _scan_task,
                       (cfg, str(workdir), sc["batch_size"], sc["lr"], R, sc["models"]))
                      for R in sc["radii"]]
        log(f"{len(tasks)} tasks on {executor}")
        for label, saved, error in run_tasks(client, tasks, timeout):
            if error is not None:
                failed.append((label, error))
                log(f"{label}: failed ({error})")
            else:
                log(f"{label}: " + (f"{len(saved)} parts computed" if saved
                                    else "every part already in the workdir"))
    if failed:
        raise StudyTaskError(f"{len(failed)} of {len(tasks)} study tasks failed; first, "
                             f"{failed[0][0]}: {failed[0][1]} (finished parts are in {workdir}; "
                             "rerun to resume)")
    study = run_study(cfg, workdir=workdir, log=log, basin=basin, cached_only=True)
    if sc:
        study.scan = radius_scan(cfg, basin, workdir=workdir, log=log, cached_only=True, **sc)
    missing = len(cells) - len(study.cells) + (len(sc["radii"]) - len(study.scan.radii)
                                                 if sc else 0)
    if missing:
        raise StudyTaskError(f"the workers finished, but {missing} of {len(tasks)} tasks' "
                             f"parts are not in workdir={str(workdir)!r}: every worker must "
                             "see that directory at that path (a shared filesystem)")
    study.wall_time = time.perf_counter() - t0
    return study


# ------------------------------------------------------------------ on the workers

class _RecordingStore(PartStore):
    """A part store that remembers what it saved (``kind-key``), to report a task's work."""

    def __init__(self, root):
        super().__init__(root)
        self.saved: list[str] = []

    def save(self, kind: str, key: str, **arrays) -> None:
        super().save(kind, key, **arrays)
        self.saved.append(f"{kind}-{key}")


_BASIN: dict = {}
_BASIN_LOCK = threading.Lock()


def _worker_basin(cfg: StudyConfig, workdir: str) -> Basin:
    """The study's basin in this worker process, read back from ``workdir`` (where the parent
    prepared it) once and kept for the worker's next tasks."""
    key = (workdir, config_key(cfg.to_dict()))
    with _BASIN_LOCK:
        if key not in _BASIN:
            if not part_store(workdir).root.is_dir():
                raise ValueError(f"workdir={workdir!r}: not found on this worker; the workers "
                                 "must see the parent's workdir (a shared filesystem)")
            _BASIN.clear()
            _BASIN[key] = prepare_basin(cfg, workdir=workdir)
        return _BASIN[key]


@contextmanager
def _one_thread():
    """torch and numba on one thread inside a task (the cluster has a process per core)."""
    import numba

    threads, nthreads = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        numba.set_num_threads(nthreads)


def _cell_task(cfg: StudyConfig, workdir: str, B: int, lr: float, kind: str) -> list[str]:
    """One cell of the study (:func:`compute_cell`); returns the parts it computed."""
    with _one_thread():
        store = _RecordingStore(part_store(workdir).root)
        compute_cell(_worker_basin(cfg, workdir), cfg, B, lr, store, kind=kind)
        return store.saved


def _scan_task(cfg: StudyConfig, workdir: str, B: int, lr: float, R: float,
               models: tuple) -> list[str]:
    """One radius of the scan (:func:`scan_point`); returns the parts it computed."""
    with _one_thread():
        store = _RecordingStore(part_store(workdir).root)
        scan_point(_worker_basin(cfg, workdir), cfg, B, lr, R, models, store)
        return store.saved
