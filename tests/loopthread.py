"""Run an async test server in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self


class InThread:
    """Mixin: ``with Server() as s:`` starts ``s.start()`` on a private loop in a thread,
    and ``__exit__`` awaits ``s.stop()`` there, then closes the loop.

    The class it is mixed into provides ``async start()`` and ``async stop()``.
    """

    _thread_name = "test-server"

    def __init__(self) -> None:
        super().__init__()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    if TYPE_CHECKING:  # provided by the server class this is mixed into

        def start(self) -> Coroutine[Any, Any, None]: ...

        def stop(self) -> Coroutine[Any, Any, None]: ...

    def __enter__(self) -> Self:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=self._thread_name, daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout=10)
        except BaseException:
            self._shut_loop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(timeout=30)
        finally:
            self._shut_loop()

    def _shut_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        # On the server's own loop, so this works from async tests too (whose thread
        # already runs a loop of its own).
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(loop.shutdown_asyncgens(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
