"""Where levydyn's grids of independent tasks run: a Dask cluster, chosen and checked once.

``levydyn sweep`` (:mod:`levydyn.experiments.sweep`) and ``levydyn nn study``
(:mod:`nn_bridge.escape.distributed`) share this: the scheduler address check (made before
Dask is imported, so a typo fails at once and not after a connection timeout), the rules
for combining ``scheduler`` / ``workers`` / ``serial``, the cluster itself -- an existing
one through its scheduler address, or a ``distributed.LocalCluster`` of single-threaded
worker processes on 127.0.0.1 -- and the loop that submits the tasks and hands back each
result, or its error, in the order the tasks finish.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

__all__ = ["check_scheduler_address", "check_cluster_options", "dask_available",
           "dask_client", "run_tasks"]

_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ucx|ws|wss)://)?(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}/?$"
                      r"|^inproc://\S+$")


def check_scheduler_address(address) -> str:
    """A Dask scheduler address, ``[tcp://]HOST:PORT`` (also tls://, ucx://, ws(s)://,
    inproc://); checked before Dask is imported so a typo fails at once, not after a
    connection timeout."""
    if not isinstance(address, str) or not _ADDRESS.match(address.strip()):
        raise ValueError(f"scheduler must be an address like tcp://HOST:PORT, got "
                         f"scheduler={address!r}")
    return address.strip()


def dask_available() -> bool:
    """Whether ``dask.distributed`` can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def check_cluster_options(scheduler: str | None, workers: int | None, serial: bool = False,
                          have_dask: bool = True) -> None:
    """One ``ValueError`` for a combination that cannot run: ``serial`` with a cluster,
    ``workers`` (the size of a LocalCluster) with an existing cluster's ``scheduler``, a
    ``workers`` that is not a positive integer, a malformed address, or a cluster without
    Dask installed (``have_dask``, usually :func:`dask_available`)."""
    if serial and (scheduler or workers):
        raise ValueError("serial runs in this process: drop scheduler / workers")
    if scheduler and workers:
        raise ValueError("workers sizes a LocalCluster; an existing cluster at scheduler "
                         "brings its own workers")
    if workers is not None and (isinstance(workers, bool) or int(workers) != workers or workers < 1):
        raise ValueError(f"workers must be a positive integer, got workers={workers!r}")
    if scheduler is not None:
        check_scheduler_address(scheduler)
    if not have_dask and (scheduler or workers):
        raise ValueError("Dask is not installed (pip install 'dask[distributed]'); "
                         "drop scheduler / workers to run serially")


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None,
                n_tasks: int = 1) -> Iterator[tuple[object, str]]:
    """``(client, description)`` of the cluster at ``scheduler``, or of a new LocalCluster.

    The LocalCluster has ``workers`` processes (default one per core, at most ``n_tasks``),
    one thread each, and ``cores // workers`` numba threads per process; it is closed on
    exit. An unreachable scheduler raises ``ConnectionError`` (one line)."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler}: "
                                  f"{' '.join(str(err).split())}") from None
        description = f"Dask scheduler {scheduler}"
    else:
        cores = os.cpu_count() or 1
        n = int(workers) if workers else max(1, min(cores, n_tasks))
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR,
                               env={"NUMBA_NUM_THREADS": str(max(1, cores // n))})
        client = Client(cluster, set_as_default=False)
        description = f"LocalCluster ({n} workers)"
    try:
        yield client, description
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_tasks(client, tasks: Iterable[tuple[object, str, Callable, tuple]],
              timeout: float | None = None) -> Iterator[tuple[object, object, str | None]]:
    """Submit ``(item, key, function, args)`` tasks; yield ``(item, result, None)`` or
    ``(item, None, "ErrorType: message")`` as each finishes (a task that raised, was
    cancelled, or whose workers kept dying). ``timeout``: seconds for all of them, then
    ``TimeoutError``. Tasks are not retried; a finished task whose worker died before its
    result was fetched is recomputed by Dask."""
    from distributed import as_completed

    futures = {}
    for item, key, fn, args in tasks:
        fut = client.submit(fn, *args, key=key, retries=0)
        futures[fut.key] = (fut, item)
    deadline = None if timeout is None else time.monotonic() + timeout
    for fut in as_completed([f for f, _ in futures.values()], loop=client.loop, timeout=timeout):
        item = futures[fut.key][1]
        # the future of a result lost with its worker turns pending again: result() waits
        left = None if deadline is None else max(1.0, deadline - time.monotonic())
        try:
            result = fut.result(timeout=left)
        except TimeoutError:
            raise
        except (Exception, asyncio.CancelledError) as err:  # noqa: BLE001 - reported per task
            yield item, None, f"{type(err).__name__}: {err}"
        else:
            yield item, result, None
        fut.release()
