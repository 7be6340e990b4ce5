import os

import numba
import pytest


def pytest_collection_modifyitems(config, items):
    """``long`` tests (whole worked examples, many minutes on 2 cores) run only when
    ``LEVYDYN_LONG_TESTS=1``: the default suite must stay within ~10 minutes."""
    if os.environ.get("LEVYDYN_LONG_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="long end-to-end run: set LEVYDYN_LONG_TESTS=1")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


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
