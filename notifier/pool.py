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
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: Seconds without a submit after which the workers are stopped.
IDLE_AFTER = 60.0


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
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context)
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
