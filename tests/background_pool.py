"""The pool that runs the test session's slow work in the background (tests/conftest.py).

This module imports nothing but the standard library: the pool's processes import it
first, and a library that starts threads (NumPy's BLAS, PyTorch) must not be imported
before ``_idle_priority`` has limited them to one.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from concurrent.futures import Future, ProcessPoolExecutor

ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _idle_priority() -> None:
    """Run this process, and what it starts, only on an otherwise idle core, and with one
    BLAS and OpenMP thread: the pool's two processes are the parallelism, and a BLAS
    thread waiting for a core spins on the other."""
    for name in ONE_THREAD:
        os.environ[name] = "1"
    with open(os.devnull, "w") as nowhere:  # what a run prints goes to no test's output
        os.dup2(nowhere.fileno(), 1)
    os.setpgrp()  # a group of its own, with its subprocesses: Background.close can stop them
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux
        os.nice(19)


def _timed(function, *args):
    """``function(*args)`` in a worker: ``(result, started, finished)``, wall-clock times."""
    started = time.time()
    result = function(*args)
    return result, started, time.time()


class Background:
    """The session's background work: a future per key, its result kept once collected."""

    def __init__(self, tasks: list[tuple[int, str, object, tuple]]) -> None:
        self.futures: dict[str, Future] = {}
        self.results: dict[str, object] = {}
        self.pool = None
        self.started = time.time()
        self.spans: dict[str, tuple[float, float]] = {}
        self.waited = 0.0
        if tasks:
            self.pool = ProcessPoolExecutor(
                max_workers=2,
                mp_context=multiprocessing.get_context("spawn"),  # no fork of threads
                initializer=_idle_priority,
            )
            for _order, key, function, args in sorted(tasks, key=lambda task: task[0]):
                self.futures[key] = self.pool.submit(_timed, function, *args)

    def result(self, key: str):
        """The result of the work started under ``key``, waited for once and kept for the
        session, so that every test asking for a key gets the one result."""
        if key not in self.results:
            future = self.futures.get(key)
            if future is None:
                raise LookupError(
                    f"no background work {key!r} was started: the background_work of its "
                    "test module did not ask for it (tests/conftest.py)"
                )
            waiting = time.time()
            self.results[key], started, finished = future.result()
            self.waited += time.time() - waiting
            self.spans[key] = (started, finished)
            del self.futures[key]  # collected: close() need not stop it
        return self.results[key]

    def close(self) -> None:
        """End the pool. Work no test collected (the session stopped early: ``-x``, Ctrl-C,
        a failed fixture) is not waited for: the workers and their subprocesses are killed."""
        if self.pool is None:
            return
        if not self.futures:
            self.pool.shutdown(wait=True)
            return
        workers = list(getattr(self.pool, "_processes", {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            try:
                os.killpg(worker.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def summary(self) -> str | None:
        """One line on the work collected: how much there was, and how long tests waited
        for it (``MNIST_MATH_BACKGROUND_LOG=file`` writes each run's start and end)."""
        if not self.spans:
            return None
        work = sum(finished - started for started, finished in self.spans.values())
        last = max(finished for _started, finished in self.spans.values())
        log = os.environ.get("MNIST_MATH_BACKGROUND_LOG")
        if log:
            with open(log, "w", encoding="utf-8") as out:
                for key, (started, finished) in sorted(
                    self.spans.items(), key=lambda span: span[1]
                ):
                    out.write(
                        f"{started - self.started:7.1f} {finished - self.started:7.1f} {key}\n"
                    )
        return (
            f"background work: {len(self.spans)} runs, {work:.0f} s of work done by "
            f"{last - self.started:.0f} s into the session; the tests waited "
            f"{self.waited:.0f} s for it"
        )
