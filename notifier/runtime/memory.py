"""Giving freed memory back to the system while the daemon is idle.

A poll cycle allocates and frees a lot (bodies, parsed entries, history rows),
and the C allocator keeps what it freed: the process's resident size stays at
its peak although Python holds far less. Two things hand it back, each costs
a few milliseconds, and both are safe at any moment:

- SQLite's page cache of the state connection (``PRAGMA shrink_memory``:
  :meth:`notifier.storage.sqlite.Store.shrink_memory`);
- glibc's ``malloc_trim(0)``, which returns free heap pages to the system
  (:func:`give_back`; nothing on a C library without it, such as musl).

The daemon calls both from its heartbeat when polls ran since the last time and
none is in flight (measured: about -3 MiB resident at idle with 1,000 feeds).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

__all__ = ["give_back", "trim_available"]


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        function = ctypes.CDLL(None).malloc_trim  # this process's C library
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    trim: Callable[[int], int] = function
    return trim


_TRIM = _malloc_trim()


def trim_available() -> bool:
    """Whether this C library can give heap pages back (glibc's ``malloc_trim``)."""
    return _TRIM is not None


def give_back() -> bool:
    """Return the C heap's free pages to the system; True if any memory was released."""
    return bool(_TRIM(0)) if _TRIM is not None else False
