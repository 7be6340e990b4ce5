"""Wall-clock timing shared by the benchmarks (run as scripts: ``benchmarks/`` is on the path)."""
import math
import time


def best_of(fn, repeat: int) -> float:
    """Smallest wall time (s, ``time.perf_counter``) of ``repeat`` calls of ``fn()``: the
    least disturbed run on a shared machine."""
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best
