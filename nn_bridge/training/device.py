"""Device selection: ``auto`` means CUDA when available, else the CPU; torch's CPU threads.

Thread count: levydyn's parallel numba kernels (``cf_regression``, ``mcculloch``) run on
numba's ``omp`` threading layer, which shares the OpenMP runtime torch ships and sets its
thread count to numba's (the number of cores) on every parallel launch. Torch then runs its
CPU kernels with that many threads whatever ``OMP_NUM_THREADS`` or ``torch.set_num_threads``
said; on a loaded machine the extra threads wait on each other at every small matrix
product (measured: SGD on a 2,410-parameter MLP 10-120 x slower after one estimator call,
2 cores, load 3-5). ``keep_torch_threads`` undoes exactly that side effect.
"""
from __future__ import annotations

import contextlib

import torch

__all__ = ["resolve_device", "keep_torch_threads"]


@contextlib.contextmanager
def keep_torch_threads():
    """Run the block, then give torch back the CPU thread count it had before it."""
    n = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``"auto"``/``"cpu"``/``"cuda"``/``"cuda:N"`` into a usable ``torch.device``.

    Raises ``ValueError`` naming the value when it is malformed or names a CUDA device
    that this machine does not have.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={device!r}: expected auto, cpu, cuda or cuda:N") from None
    if dev.type == "cpu":
        return dev
    if dev.type != "cuda":
        raise ValueError(f"device={device!r}: only cpu and cuda are supported")
    if not torch.cuda.is_available():
        raise ValueError(f"device={device!r}: CUDA is not available on this machine")
    if dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s)")
    return dev
