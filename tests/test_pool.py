"""The parse pool: real worker processes, started on demand and stopped when idle."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from notifier.pool import IdlePool


class Monotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def worker_pid() -> int:
    return os.getpid()


def test_workers_start_on_first_use_and_stop_when_idle() -> None:
    clock = Monotonic()
    pool = IdlePool(1, idle_after=60, monotonic=clock)
    try:
        assert not pool.running()
        assert pool.pids() == []
        first = pool.submit(worker_pid).result(timeout=60)
        assert first != os.getpid()
        assert pool.running()
        assert pool.pids() == [first]

        clock.now += 59
        assert pool.reap() is False  # not idle long enough
        assert pool.running()
        clock.now += 2
        assert pool.reap() is True
        assert not pool.running()
        assert pool.pids() == []

        again = pool.submit(worker_pid).result(timeout=60)  # started again on demand
        assert again != first
        assert pool.starts == 2
    finally:
        pool.shutdown()


def test_busy_pool_is_not_reaped() -> None:
    clock = Monotonic()
    pool = IdlePool(1, idle_after=1, monotonic=clock)
    try:
        pool.submit(worker_pid).result(timeout=60)
        # Work still in flight when reap() looks, however old: not idle.
        pending = pool.submit(time.sleep, 1)
        clock.now += 3600
        assert pool.reap() is False
        assert pool.running()
        pending.result(timeout=60)
        assert pool.reap() is False  # just finished: idle for 0 s
        clock.now += 2
        assert pool.reap() is True
    finally:
        pool.shutdown()


def test_a_killed_worker_costs_one_parse_not_the_pool() -> None:
    pool = IdlePool(1)
    try:
        pid = pool.submit(worker_pid).result(timeout=60)
        os.kill(pid, signal.SIGKILL)
        results: list[int | None] = []
        for _ in range(3):  # the first may still go to the dying pool and fail
            try:
                results.append(pool.submit(worker_pid).result(timeout=60))
            except BrokenProcessPool:
                results.append(None)
        assert results[-2:] == [results[-1]] * 2
        assert results[-1] not in (None, pid)
    finally:
        pool.shutdown()


def test_shut_down_pool_refuses_work() -> None:
    pool = IdlePool(1)
    pool.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(worker_pid)
