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


def assert_one_line_error(res, needle: str) -> None:
    """A CLI run rejected bad input as the project promises: exit status 2, the bad value
    named, no traceback, exactly one ``Error`` line."""
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
    assert len([l for l in res.output.splitlines() if l.startswith("Error")]) == 1
