import numba
import pytest


@pytest.fixture
def threads():
    """Set the numba thread count inside a test and restore it afterwards; a test asking
    for more threads than the process allows (``NUMBA_NUM_THREADS``) is skipped there."""
    before = numba.get_num_threads()

    def set_threads(n: int) -> None:
        if n > numba.config.NUMBA_NUM_THREADS:
            pytest.skip(f"needs {n} numba threads, NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}")
        numba.set_num_threads(n)

    yield set_threads
    numba.set_num_threads(before)
