"""The parse pool: worker processes for feedparser that exist only while there is work.

feedparser is slow (tens of milliseconds for a typical feed), so full parses
run in worker processes: they use every core and never stall the event loop.
But a daemon polling every 15 minutes parses for a few seconds an hour, and
each idle worker would hold tens of megabytes. So :class:`IdlePool` starts
its workers on the first submit and stops them once nothing was submitted
for ``idle_after`` seconds (checked by :meth:`IdlePool.reap`, which the
daemon calls on its heartbeat). The next parse starts them again (a fraction
of a second, from the ``forkserver`` process).

``forkserver`` rather than ``fork``: the daemon has threads (Apprise sends,
the resolver), and forking a process with threads can deadlock the child.

**No orphans.** After ``kill -9`` of the main process, its helpers must not
live on (they did, for 13 minutes and 80 MB). Who keeps whom alive:

* a worker waits on the pool's call queue, a pipe whose write end every worker
  also holds: it never sees end-of-file, so it would wait forever;
* the forkserver exits when the "alive" pipe is closed by *all* its clients —
  the main process and every worker (multiprocessing hands each worker that
  pipe) — so a live worker keeps it alive;
* the resource tracker exits at end-of-file on its pipe, also held by every
  worker.

So only the workers need to die with the main process, and then the other two
follow at once. Each worker runs :func:`exit_with` as its initializer: a
daemon thread waits on a pidfd of the main process (Linux 5.3+; elsewhere it
checks once a second) and ends the worker the moment the main process is
gone, or at once if it was gone already. A signal such as
``PR_SET_PDEATHSIG`` would not do: a worker's parent is the forkserver, which
outlives the main process, and the death signal follows the parent *thread*.
The watcher costs no import beyond the standard library's ``select``.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: Seconds without a submit after which the workers are stopped.
IDLE_AFTER = 60.0
#: How often the portable fallback of :func:`exit_with` looks at the main process.
_POLL_SECONDS = 1.0


def exit_with(main_pid: int) -> None:
    """Worker initializer: end this process as soon as ``main_pid`` is gone (see module).

    Ctrl-C reaches the whole process group: a worker ignores SIGINT (the main process
    decides when to stop, and a traceback from each worker would only be noise)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pidfd: int | None = os.pidfd_open(main_pid)
    except ProcessLookupError:  # gone before we could watch it
        os._exit(1)
    except (AttributeError, OSError):  # not Linux, or a kernel older than 5.3
        pidfd = None
    threading.Thread(
        target=_wait_for_exit, args=(main_pid, pidfd), name="exit-with-main", daemon=True
    ).start()


def _wait_for_exit(main_pid: int, pidfd: int | None) -> None:
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable once the process has exited
        os._exit(1)
    while _alive(main_pid):
        time.sleep(_POLL_SECONDS)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class IdlePool(Executor):
    """A :class:`ProcessPoolExecutor` whose workers stop when idle (see the module)."""

    def __init__(
        self,
        workers: int,
        *,
        idle_after: float = IDLE_AFTER,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workers = workers
        self.idle_after = idle_after
        self._monotonic = monotonic
        self._context = multiprocessing.get_context("forkserver")
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._pending = 0
        self._last_used = monotonic()
        self._closed = False
        self.starts = 0  # how many times workers were started (for tests and metrics)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            if self._pool is not None and getattr(self._pool, "_broken", False):
                # A worker died (killed, out of memory): that pool refuses all work
                # from now on. Its parses failed; the next ones get a new pool.
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=self._context,
                    initializer=exit_with,
                    initargs=(os.getpid(),),
                )
                self.starts += 1
            self._pending += 1
            self._last_used = self._monotonic()
            future = self._pool.submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1
            self._last_used = self._monotonic()

    def reap(self) -> bool:
        """Stop the workers if idle for ``idle_after`` seconds; True if it did."""
        with self._lock:
            pool = self._pool
            idle = self._monotonic() - self._last_used
            if pool is None or self._pending or idle < self.idle_after:
                return False
            self._pool = None
        pool.shutdown(wait=True)
        return True

    def pids(self) -> list[int]:
        """The worker processes' ids (none while idle)."""
        with self._lock:
            pool = self._pool
        processes: dict[int, Any] = getattr(pool, "_processes", None) or {}
        return list(processes)

    def running(self) -> bool:
        """Whether worker processes exist now."""
        return self._pool is not None

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            self._closed = True
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)
