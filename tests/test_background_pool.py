"""The pool that runs the session's slow work in the background (tests/background_pool.py).

Its results must be the work's results, collected once; its processes must run only on an
idle core, with one BLAS thread; and work that no test collects must not hold the session
open at its end.
"""

import os
import sys
import time

import pytest
from background_pool import ONE_THREAD, Background


def where_and_how() -> dict:
    """Run in a pool process: its scheduling policy and thread settings."""
    return {
        "pid": os.getpid(),
        "idle": sys.platform != "linux" or os.sched_getscheduler(0) == os.SCHED_IDLE,
        "threads": {name: os.environ.get(name) for name in ONE_THREAD},
    }


def square(x: int) -> int:
    return x * x


def test_background_work_runs_elsewhere_at_idle_priority_with_one_thread() -> None:
    work = Background([(1, "facts", where_and_how, ()), (0, "square", square, (7,))])
    try:
        facts = work.result("facts")
        assert work.result("square") == 49
    finally:
        work.close()
    assert facts["pid"] != os.getpid(), "the work ran in the test's own process"
    assert facts["idle"], "the pool's process is not at SCHED_IDLE"
    assert set(facts["threads"].values()) == {"1"}, facts["threads"]
    assert "2 runs" in work.summary()


def test_a_result_is_kept_and_work_never_started_is_an_error() -> None:
    work = Background([(0, "facts", where_and_how, ())])
    try:
        first = work.result("facts")
        assert work.result("facts") is first, "a second ask gets the first result"
        with pytest.raises(LookupError, match="no background work 'other'"):
            work.result("other")
    finally:
        work.close()
    assert Background([]).pool is None, "no work, no pool"


@pytest.mark.skipif(sys.platform == "win32", reason="process groups")
def test_work_nobody_collects_does_not_hold_the_session() -> None:
    work = Background([(0, "sleep", time.sleep, (60,))])
    time.sleep(1)  # let a worker start it
    started = time.perf_counter()
    work.close()
    assert time.perf_counter() - started < 10, "close() waited for uncollected work"
