"""A real PostgreSQL for the tests: one throwaway server per test session (per xdist
worker), one fresh database per test.

Fixtures (registered in ``tests/conftest.py``):

* ``pg_server`` (session): the running :class:`PgServer`;
* ``pg_url`` (function): the URL of a new, empty database of it, e.g.
  ``PgStore.connect(pg_url)`` or ``open_store(tmp_path, pg_url)``; call
  ``pg_server.database()`` for a second one in the same test.

The server is found on ``PATH`` or in ``/usr/lib/postgresql/*/bin``, created with
``initdb`` in a temporary folder (as user ``postgres`` when the tests run as root:
``initdb`` refuses root), listens on 127.0.0.1 and a free port, runs with
``fsync=off``, and is stopped (``-m immediate``) and deleted after the session.
Without PostgreSQL the tests that need it are skipped, with the command to install
it; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

INSTALL = "apt-get install -y postgresql"
USER = "notifier"


def find_bin() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl`` (newest version first), or None."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in candidates:
        if (Path(folder) / "pg_ctl").exists() and (Path(folder) / "initdb").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running throwaway server (superuser :data:`USER`, trust authentication)."""

    bin: Path
    folder: Path
    port: int
    prefix: list[str] = field(default_factory=list)
    options: str = ""
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str = "postgres") -> str:
        """The URL of ``database`` on this server."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """Create a new empty database; its URL."""
        import psycopg  # noqa: PLC0415 - optional: only with PostgreSQL

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        return self.url(name)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one of the server's programs (as the folder's owner)."""
        return subprocess.run(
            [*self.prefix, str(self.bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def pause(self) -> None:
        """Stop the server (fast shutdown: connections are cut), keeping its data."""
        done = self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
        assert done.returncode == 0, done.stderr

    def resume(self) -> None:
        """Start the paused server again, on the same port."""
        done = self.run(
            "pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), "-w",
            "-t", "30", "-o", self.options, "start",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr or done.stdout

    def stop(self) -> None:
        """Stop the server now and delete its folder."""
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def _owner() -> tuple[list[str], int | None, int | None]:
    """How to run the server's programs: as ``postgres`` (or ``nobody``) when root."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"], entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root, and there is no user postgres or nobody")


def start() -> PgServer:
    """Create and start a server; raises RuntimeError saying why it could not."""
    folder_bin = find_bin()
    if folder_bin is None:
        raise FileNotFoundError(f"PostgreSQL is not installed ({INSTALL})")
    prefix, uid, gid = _owner()
    folder = Path(tempfile.mkdtemp(prefix="notifier-pg-"))
    if uid is not None and gid is not None:
        os.chown(folder, uid, gid)
    server = PgServer(folder_bin, folder, 0, prefix)
    done = server.run(
        "initdb", "-D", str(folder / "data"), "-A", "trust", "-U", USER, "-E", "UTF8",
        "--locale=C", "--no-sync",
    )  # fmt: skip
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr.strip()}")
    error = ""
    for _ in range(5):  # a port found free may be taken before the server binds it
        server.port = _free_port()
        options = (
            f"-k {folder} -c listen_addresses=127.0.0.1 -p {server.port} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c shared_buffers=16MB"
        )
        done = server.run(
            "pg_ctl", "-D", str(folder / "data"), "-l", str(folder / "log"), "-w", "-t", "30",
            "-o", options, "start",
        )  # fmt: skip
        if done.returncode == 0:
            server.options = options
            atexit.register(server.stop)  # also when the session ends abruptly
            return server
        error = done.stderr.strip() or done.stdout.strip()
        with contextlib.suppress(OSError):
            error += "\n" + (folder / "log").read_text()[-2000:]
    server.stop()
    raise RuntimeError(f"pg_ctl start failed: {error}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A running PostgreSQL for this session (skipped without one; failed in CI)."""
    try:
        import psycopg  # noqa: F401, PLC0415 - optional
    except ImportError:
        _unavailable("psycopg is not installed: pip install 'notifier[postgres]'")
    try:
        server = start()
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        _unavailable(f"no PostgreSQL for the tests: {e}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a new, empty database (one per test)."""
    return pg_server.database()


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)
