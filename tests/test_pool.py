"""The parse pool: real worker processes, started on demand and stopped when idle."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from notifier.runtime.pool import IdlePool


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


# --------------------------------------------------------------------------- orphans

#: Run in a subprocess: start a pool with two busy workers, say "ready", then wait
#: to be killed.
ORPHAN_PARENT = """\
import sys, time
from notifier.runtime.pool import IdlePool
pool = IdlePool(2)
started = [pool.submit(time.sleep, 0.3) for _ in range(2)]
for f in started:
    f.result(timeout=60)
assert len(pool.pids()) == 2, pool.pids()
print("ready", flush=True)
time.sleep(120)
"""


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, for every process (from /proc)."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    """Exists and is not a zombie (a container's init may be slow to reap)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the children")
def test_no_helper_process_outlives_a_killed_main_process() -> None:
    """After kill -9 of the process that owns the pool, its parse workers, the
    forkserver and the resource tracker all exit within a few seconds."""
    helpers: list[int] = []
    with subprocess.Popen(
        [sys.executable, "-c", ORPHAN_PARENT],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the tracker's note about the semaphores it cleans up
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            helpers = _descendants(proc.pid)
            assert len(helpers) >= 4, helpers  # 2 workers, the forkserver, the tracker
            proc.kill()
            proc.wait(timeout=10)
            deadline = time.monotonic() + 5
            while any(_running(pid) for pid in helpers) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [pid for pid in helpers if _running(pid)] == []
        finally:
            proc.kill()
            for pid in helpers:
                with contextlib.suppress(OSError):
                    if _running(pid):
                        os.kill(pid, signal.SIGKILL)


def test_a_worker_started_after_its_main_process_died_exits_at_once() -> None:
    """The race: if the main process is gone before the watch starts, the worker
    does not wait for it (its pid has no process: it ends immediately)."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    code = (
        f"from notifier.runtime.pool import exit_with\nexit_with({dead.pid})\nprint('still here')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert (out.returncode, out.stdout, out.stderr) == (1, "", "")


def test_the_watch_ends_the_worker_when_the_main_process_exits() -> None:
    """A process watching a live one keeps running, and ends when that one exits."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])
    code = (
        "import time\nfrom notifier.runtime.pool import exit_with\n"
        f"exit_with({sleeper.pid})\nprint('watching', flush=True)\ntime.sleep(30)\n"
    )
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    sleeper.wait(timeout=30)
    assert (out.returncode, out.stdout, out.stderr) == (1, "watching\n", "")
    assert time.monotonic() - started < 10
