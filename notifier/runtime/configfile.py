"""The watch config file a long-running process follows (``run`` and ``worker``).

It is read, checked and compiled off the event loop (a large file takes seconds); a
change is noticed cheaply by (size, mtime, inode) and confirmed by a hash of the
file, so touching it without changing it reloads nothing. The hash is also what a
worker shows the cluster (workers running different files are named).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
from pathlib import Path

from notifier.config.loader import load_with_secrets
from notifier.logs import add_secrets, get_logger
from notifier.matching import Matcher
from notifier.model import Config

log = get_logger("notifier.runtime.configfile")

#: The hash reads at most this much of the file (with its size): a huge file is
#: refused by the loader anyway, and is not read whole twice a second.
READ_LIMIT = 2 * 1024 * 1024


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """(size, mtime, inode): cheap evidence that the config file changed."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def file_hash(path: Path) -> str | None:
    """A hash of the file's first bytes and its size (a huge file is not read whole)."""
    try:
        with path.open("rb") as f:
            head = f.read(READ_LIMIT)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return None
    return hashlib.sha256(head + str(size).encode()).hexdigest()


class ConfigFile:
    """One config file: :meth:`load` it (in a thread), ask whether it :meth:`changed`."""

    def __init__(self, path: Path, environ: dict[str, str] | None = None) -> None:
        self.path = path
        self.environ = environ
        #: The hash of the file as last loaded (None: unreadable, or not loaded yet).
        self.hash: str | None = None
        self._signature: tuple[int, int, int] | None = None

    def load(self) -> tuple[Config, Matcher]:
        """Read, validate and compile the config; raises ConfigError. Run it in a
        thread: the event loop must not wait for a large file."""
        self._signature = file_signature(self.path)
        self.hash = file_hash(self.path)
        # A large file is a tree of millions of objects while it is read; the cyclic
        # GC's full collections over them hold the GIL for half a second at a time (a
        # 1 MB config, measured), and the event loop stands still meanwhile. Reading
        # makes no cycles worth collecting: the collector rests until it is done.
        gc.disable()
        try:
            config, secrets = load_with_secrets(self.path, self.environ)
        finally:
            gc.enable()
        add_secrets(secrets)
        return config, Matcher.compile(config.watches)

    async def changed(self) -> bool:
        """Whether the file's content changed since the last load (read off the loop)."""
        signature = await asyncio.to_thread(file_signature, self.path)
        if signature == self._signature:
            return False
        hashed = await asyncio.to_thread(file_hash, self.path)
        if hashed is not None and hashed != self.hash:
            log.info("config file changed", path=str(self.path))
            return True
        self._signature = signature
        return False
