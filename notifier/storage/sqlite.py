"""The state store: one SQLite file (WAL) under the state folder.

What it remembers, per feed:

* ``feeds``: HTTP caching headers (ETag, Last-Modified), the hash of the last
  body, health (failures in a row, unhealthy flag, last error) and when to
  poll next;
* ``seen``: the key of every entry seen, with when it was first and last seen;
* the history: every entry polled, its story, matches and edits, searchable
  (:mod:`notifier.storage.history`, kept for ``history.keep``).

Writes for one poll happen in one transaction (one commit per feed, not per
entry: PITFALLS measured 765 µs an entry the other way). Keys stay in SQLite,
not in a Python set, so memory does not grow with history.

Retention: an entry key is pruned once it has been absent from the feed for
``retention`` — measured against the feed's last parse, not the wall clock, so
a feed that answers 304 for months keeps the keys of the entries it still has.

Safety:

* The file is created with mode 0600 (it holds alert texts and feed state);
  feed URLs are stored with their credentials masked.
* A file that exists but is empty (0 bytes) or is no SQLite database is
  refused with one line saying so: opening it would silently start a fresh
  store, and every pending alert and seen key would be lost.
* Schema changes are numbered steps (:mod:`notifier.storage.migrations`),
  applied in order in one transaction; a store written by a newer notifier is
  refused. A read-only open of an older store migrates a copy in memory.
* :func:`lock_state_dir` takes an exclusive ``flock`` on ``lock`` in the state
  folder, so two daemons never share one state.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from notifier.errors import StateError, StateLocked
from notifier.model import FeedState
from notifier.storage import migrations
from notifier.storage.acks import SqliteAcks
from notifier.storage.dbapi import Connection
from notifier.storage.escalations import SqliteEscalations
from notifier.storage.history import SqliteHistory
from notifier.storage.mutes import SqliteMutes
from notifier.storage.outbox import SqliteOutbox
from notifier.storage.proposals import SqliteProposals
from notifier.storage.reminders import SqliteReminders

FILENAME = "notifier.sqlite3"
LOCKFILE = "lock"
SCHEMA_VERSION = migrations.LATEST
#: What a query on a damaged file raises (past what opening it checks), for the
#: command line to report in one line.
DAMAGED: tuple[type[Exception], ...] = (sqlite3.DatabaseError,)
_CHUNK = 500  # SQLite's default limit on host parameters is 999 (older) / 32766


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class SqlState:
    """The State protocol on a :class:`~notifier.storage.dbapi.Connection` with this
    package's portable SQL: feeds and seen keys here, the other tables in their
    modules. :class:`Store` (SQLite) and :class:`~notifier.storage.postgres.PgStore`
    add opening, migrating and their transactions."""

    _db: Connection
    #: The history class (PostgreSQL's overrides the search index).
    _history_type: type[SqliteHistory] = SqliteHistory

    def _reset_tables(self) -> None:
        self._outbox: SqliteOutbox | None = None
        self._reminders: SqliteReminders | None = None
        self._history: SqliteHistory | None = None
        self._proposals: SqliteProposals | None = None
        self._mutes: SqliteMutes | None = None
        self._acks: SqliteAcks | None = None
        self._escalations: SqliteEscalations | None = None

    def shrink_memory(self) -> None:
        """Free what the connection's page cache holds (refilled from disk as needed)."""
        self._db.execute("PRAGMA shrink_memory")

    @property
    def outbox(self) -> SqliteOutbox:
        """The outbox tables (:mod:`notifier.storage.outbox`)."""
        if self._outbox is None:
            self._outbox = SqliteOutbox(self)
        return self._outbox

    @property
    def reminders(self) -> SqliteReminders:
        """The deadline tables (:mod:`notifier.storage.reminders`)."""
        if self._reminders is None:
            self._reminders = SqliteReminders(self._db)
        return self._reminders

    @property
    def history(self) -> SqliteHistory:
        """The history tables (:mod:`notifier.storage.history`)."""
        if self._history is None:
            self._history = self._history_type(self._db)
        return self._history

    @property
    def proposals(self) -> SqliteProposals:
        """The proposals table (:mod:`notifier.storage.proposals`)."""
        if self._proposals is None:
            self._proposals = SqliteProposals(self._db)
        return self._proposals

    @property
    def mutes(self) -> SqliteMutes:
        """The mutes table (:mod:`notifier.storage.mutes`)."""
        if self._mutes is None:
            self._mutes = SqliteMutes(self._db)
        return self._mutes

    @property
    def acks(self) -> SqliteAcks:
        """The acks table (:mod:`notifier.storage.acks`)."""
        if self._acks is None:
            self._acks = SqliteAcks(self._db)
        return self._acks

    @property
    def escalations(self) -> SqliteEscalations:
        """The escalations table (:mod:`notifier.storage.escalations`)."""
        if self._escalations is None:
            self._escalations = SqliteEscalations(self._db)
        return self._escalations

    @property
    def db(self) -> Connection:
        """The connection, for the modules that own other tables (the outbox)."""
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit; roll back on error."""
        with self._db:
            yield

    def probe(self, now: datetime) -> None:
        """Prove the store can be written: a real row changed and committed.

        Raises :class:`StateError` when it cannot (a full disk, a read-only
        file system, a damaged file)."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO meta(key, value) VALUES ('probe', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (_ts(now),),
            )

    def lock_feed(self, name: str) -> None:
        """Nothing to do: one process writes a SQLite store (:func:`lock_state_dir`)."""

    def lock_stories(self) -> None:
        """Nothing to do: one process writes a SQLite store (:func:`lock_state_dir`)."""

    # ------------------------------------------------------------------ feeds

    _FEED_COLUMNS = (
        "name, url, etag, last_modified, body_hash, last_polled, last_ok, "
        "last_parsed, failures, unhealthy, last_error, next_poll"
    )

    @staticmethod
    def _feed_row(row: tuple[Any, ...]) -> FeedState:
        # Positional, in the columns' (and the dataclass's) order: read for every feed.
        name, url, etag, modified, body, polled, ok, parsed, failures, bad, error, due = row
        return FeedState(
            name,
            url,
            etag,
            modified,
            body,
            None if polled is None else datetime.fromisoformat(polled),
            None if ok is None else datetime.fromisoformat(ok),
            None if parsed is None else datetime.fromisoformat(parsed),
            failures,
            bool(bad),
            error,
            None if due is None else datetime.fromisoformat(due),
        )

    def feed_state(self, name: str) -> FeedState | None:
        """Return what is stored about feed ``name``, or None for a feed never polled."""
        row = self._db.execute(
            f"SELECT {self._FEED_COLUMNS} FROM feeds WHERE name=?",  # noqa: S608 - constant
            (name,),
        ).fetchone()
        return None if row is None else self._feed_row(row)

    def feed_states(self) -> list[FeedState]:
        """Every stored feed, by name (one query)."""
        return [
            self._feed_row(row)
            for row in self._db.execute(
                f"SELECT {self._FEED_COLUMNS} FROM feeds ORDER BY name"  # noqa: S608 - constant
            )
        ]

    def save_feed_state(self, state: FeedState) -> None:
        """Insert or replace the state of one feed (call inside :meth:`transaction`)."""
        self._db.execute(
            "INSERT INTO feeds(name, url, etag, last_modified, body_hash, "
            "last_polled, last_ok, last_parsed, failures, unhealthy, last_error, next_poll) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "url=excluded.url, etag=excluded.etag, last_modified=excluded.last_modified, "
            "body_hash=excluded.body_hash, last_polled=excluded.last_polled, "
            "last_ok=excluded.last_ok, last_parsed=excluded.last_parsed, "
            "failures=excluded.failures, unhealthy=excluded.unhealthy, "
            "last_error=excluded.last_error, next_poll=excluded.next_poll",
            (
                state.name,
                state.url,
                state.etag,
                state.last_modified,
                state.body_hash,
                _ts(state.last_polled),
                _ts(state.last_ok),
                _ts(state.last_parsed),
                state.failures,
                int(state.unhealthy),
                state.last_error,
                _ts(state.next_poll),
            ),
        )

    def touch_feeds(self, states: Iterable[FeedState]) -> None:
        """Write only the poll times of feeds whose other state did not change
        (call inside :meth:`transaction`): the cheap write of a 304 poll."""
        rows = []
        for s in states:
            polled = _ts(s.last_polled)
            ok = polled if s.last_ok == s.last_polled else _ts(s.last_ok)  # a 304: the same
            rows.append((polled, ok, _ts(s.next_poll), s.name))
        self._db.executemany(
            "UPDATE feeds SET last_polled=?, last_ok=?, next_poll=? WHERE name=?", rows
        )

    # ------------------------------------------------------------------ seen

    def known_keys(self, feed: str, keys: Iterable[str]) -> set[str]:
        """Return which of ``keys`` have been seen before in ``feed``."""
        return self._present("key", feed, keys)

    def _present(self, column: str, feed: str, values: Iterable[str]) -> set[str]:
        """Which of ``values`` the ``seen`` table holds in ``column`` for ``feed``."""
        wanted = list(dict.fromkeys(values))
        found: set[str] = set()
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self._db.execute(
                    f"SELECT {column} FROM seen WHERE feed=? AND {column} IN ({marks})",  # noqa: S608
                    (feed, *chunk),
                )
            )
        return found

    def unrecorded(self, feed: str, keys: Iterable[str], since: datetime) -> dict[str, datetime]:
        """Which of ``keys``, first seen in ``feed`` at ``since`` or later, have no
        history entry (a key-only first poll recorded them), with when first seen."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, datetime] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT s.key, s.first_seen FROM seen s WHERE s.feed=? AND s.first_seen>=? "  # noqa: S608
                f"AND s.key IN ({marks}) AND NOT EXISTS "
                "(SELECT 1 FROM entries e WHERE e.feed=s.feed AND e.key=s.key)",
                (feed, _ts(since), *chunk),
            )
            found.update((r[0], datetime.fromisoformat(r[1])) for r in rows)
        return found

    def mark_seen(
        self,
        feed: str,
        keys: Sequence[str],
        now: datetime,
        fingerprints: Sequence[str | None] | None = None,
    ) -> None:
        """Record ``keys`` as present in ``feed`` at ``now`` (new ones get first_seen=now).

        ``fingerprints`` (one per key, when given) are the entries' content
        fingerprints, kept for :meth:`known_fingerprints`."""
        stamp = _ts(now)
        prints = fingerprints if fingerprints is not None else [None] * len(keys)
        rows = {key: (feed, key, stamp, stamp, fp) for key, fp in zip(keys, prints, strict=True)}
        self._db.executemany(
            "INSERT INTO seen(feed, key, first_seen, last_seen, fp) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(feed, key) DO UPDATE SET last_seen=excluded.last_seen, "
            "fp=COALESCE(excluded.fp, seen.fp)",
            list(rows.values()),
        )

    def known_fingerprints(self, feed: str, fingerprints: Iterable[str]) -> set[str]:
        """Return which of ``fingerprints`` belong to entries seen before in ``feed``."""
        return self._present("fp", feed, fingerprints)

    def prune(self, feed: str, retention: timedelta, last_parsed: datetime) -> int:
        """Forget keys of ``feed`` absent from it for longer than ``retention``.

        ``last_parsed`` is the time of the feed's latest parse: keys seen then
        (still in the feed) are never pruned, however old.
        """
        cursor = self._db.execute(
            "DELETE FROM seen WHERE feed=? AND last_seen < ?",
            (feed, _ts(last_parsed - retention)),
        )
        return cursor.rowcount

    def seen_count(self, feed: str | None = None) -> int:
        """How many keys are stored (for one feed, or all)."""
        if feed is None:
            row = self._db.execute("SELECT COUNT(*) FROM seen").fetchone()
        else:
            row = self._db.execute("SELECT COUNT(*) FROM seen WHERE feed=?", (feed,)).fetchone()
        return int(row[0])


class Store(SqlState):
    """SQLite state. Not thread-safe: use it from one thread (the event loop's)."""

    _db: sqlite3.Connection

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self._reset_tables()
        exists = self.path is not None and self.path.exists()
        if self.path is not None and exists:
            _refuse_unusable(self.path)
        try:
            if read_only:
                if self.path is None or not exists:
                    # Nothing stored yet: an empty in-memory store changes nothing on disk.
                    self._db = sqlite3.connect(":memory:")
                else:
                    self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            else:
                if self.path is not None and not exists:
                    _create_private(self.path)
                self._db = sqlite3.connect(str(path))
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            if not read_only or self.path is None or not exists:
                self._migrate()
            else:
                self._migrate_copy()
        except sqlite3.DatabaseError as e:
            raise StateError(damaged(self.path or path, e)) from e
        except sqlite3.Error as e:
            raise StateError(f"cannot open the state store {path}: {e}") from e

    @classmethod
    def open(cls, state_dir: Path, *, read_only: bool = False) -> Store:
        """Open (creating the folder and file if needed) the store in ``state_dir``."""
        if not read_only:
            try:
                state_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StateError(
                    f"state folder {state_dir} is not usable: {e.strerror or type(e).__name__}"
                ) from e
        return cls(state_dir / FILENAME, read_only=read_only)

    def _check_version(self) -> None:
        try:
            migrations.check(self._db)
        except migrations.NewerStore as e:
            raise StateError(
                f"the state store was written by a newer notifier (schema {e.version}); "
                "upgrade notifier or use another state folder"
            ) from None

    def _migrate(self) -> None:
        """Bring the store to the latest schema (see :mod:`notifier.storage.migrations`)."""
        self._check_version()
        migrations.migrate(self._db)

    def _migrate_copy(self) -> None:
        """A read-only store of an older version: migrate a copy in memory."""
        self._check_version()
        if migrations.version(self._db) < migrations.LATEST:
            copy = sqlite3.connect(":memory:")
            self._db.backup(copy)
            self._db.close()
            self._db = copy
            migrations.migrate(self._db)

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, for the modules that own other tables (the outbox)."""
        return self._db

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit; roll back on error."""
        try:
            with self._db:
                yield
        except sqlite3.Error as e:
            raise StateError(f"state store write failed: {e}") from e


def damaged(path: Path | str, error: BaseException) -> str:
    """One line for a state file SQLite cannot read."""
    return (
        f"the state store {path} is damaged or is not a notifier state file ({error}); "
        "restore it from a backup, or move it away to start afresh"
    )


def _refuse_unusable(path: Path) -> None:
    """Refuse an existing state file that is empty or not SQLite at all."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as e:
        raise StateError(f"cannot read the state store {path}: {e.strerror}") from e
    if size == 0:
        raise StateError(
            f"the state store {path} is empty (0 bytes): it was truncated or replaced, "
            "and the alerts it held are gone. Restore it from a backup; or, to start "
            "afresh, delete it (feeds' first polls are silent, so nothing re-alerts)"
        )
    if head != b"SQLite format 3\x00":
        raise StateError(damaged(path, ValueError("no SQLite header")))


def _create_private(path: Path) -> None:
    """Create an empty file readable and writable by its owner only (0600)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


class StateLock:
    """An exclusive ``flock`` on the state folder's lock file, held until :meth:`release`."""

    def __init__(self, handle: IO[str], path: Path) -> None:
        self._handle = handle
        self.path = path

    def release(self) -> None:
        """Let go of the lock (idempotent); the file stays."""
        with contextlib.suppress(OSError, ValueError):
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_state_dir(state_dir: Path, purpose: str) -> StateLock:
    """Take the state folder's exclusive lock, or raise :class:`StateLocked`.

    The lock file holds the PID and ``purpose`` (``run``, ``once``…) of the
    holder, for the message another process prints. The kernel drops a
    ``flock`` when its process dies, even by ``kill -9``: a stale lock file
    never blocks a restart."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StateError(
            f"state folder {state_dir} is not usable: {e.strerror or type(e).__name__}"
        ) from e
    path = state_dir / LOCKFILE
    try:
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held past this call
    except OSError as e:
        raise StateError(f"cannot open the lock file {path}: {e.strerror}") from e
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        if e.errno in (errno.EAGAIN, errno.EACCES):
            raise StateLocked(path, holder) from None
        raise StateError(f"cannot lock {path}: {e.strerror}") from e
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()} {purpose}\n")
    handle.flush()
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    return StateLock(handle, path)
