"""The state store: one SQLite file (WAL) under the state folder.

What it remembers, per feed:

* ``feeds``: HTTP caching headers (ETag, Last-Modified), the hash of the last
  body, health (failures in a row, unhealthy flag, last error) and when to
  poll next;
* ``seen``: the key of every entry seen, with when it was first and last seen.

Writes for one poll happen in one transaction (one commit per feed, not per
entry: PITFALLS measured 765 µs an entry the other way). Keys stay in SQLite,
not in a Python set, so memory does not grow with history.

Retention: an entry key is pruned once it has been absent from the feed for
``retention`` — measured against the feed's last parse, not the wall clock, so
a feed that answers 304 for months keeps the keys of the entries it still has.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from notifier.errors import StateError

FILENAME = "notifier.sqlite3"
SCHEMA_VERSION = 3
_CHUNK = 500  # SQLite's default limit on host parameters is 999 (older) / 32766

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feeds (
    name          TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    body_hash     TEXT,
    last_polled   TEXT,
    last_ok       TEXT,
    last_parsed   TEXT,
    failures      INTEGER NOT NULL DEFAULT 0,
    unhealthy     INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    next_poll     TEXT
);
CREATE TABLE IF NOT EXISTS seen (
    feed       TEXT NOT NULL,
    key        TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    PRIMARY KEY (feed, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    channel    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    severity   TEXT NOT NULL,
    context    TEXT NOT NULL,
    grp        TEXT,
    created    TEXT NOT NULL,
    not_before TEXT NOT NULL,
    held       TEXT,
    message_id INTEGER
);
CREATE INDEX IF NOT EXISTS alerts_queued ON alerts(channel, message_id);
CREATE TABLE IF NOT EXISTS messages (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    format       TEXT NOT NULL,
    alerts       INTEGER NOT NULL,
    composed     TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    last_error   TEXT,
    finished     TEXT,
    reported     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_status ON messages(status, channel);
CREATE TABLE IF NOT EXISTS deadlines (
    name       TEXT PRIMARY KEY,
    due        TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reminders (
    key      TEXT PRIMARY KEY,
    deadline TEXT NOT NULL,
    at       TEXT NOT NULL,
    status   TEXT NOT NULL,
    done     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reminders_deadline ON reminders(deadline);
CREATE TABLE IF NOT EXISTS deliveries (
    message_id INTEGER NOT NULL,
    url_hash   TEXT NOT NULL,
    status     TEXT NOT NULL,
    sent       TEXT,
    PRIMARY KEY (message_id, url_hash)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the store knows about one feed. ``last_parsed`` is None until a first parse."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_polled: datetime | None = None
    last_ok: datetime | None = None
    last_parsed: datetime | None = None
    failures: int = 0
    unhealthy: bool = False
    last_error: str | None = None
    next_poll: datetime | None = None

    def with_url(self, url: str) -> FeedState:
        """The state for a feed whose configured URL changed: caching headers dropped."""
        if url == self.url:
            return self
        return replace(self, url=url, etag=None, last_modified=None, body_hash=None)


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class Store:
    """SQLite state. Not thread-safe: use it from one thread (the event loop's)."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        try:
            if read_only:
                if self.path is None or not self.path.exists():
                    # Nothing stored yet: an empty in-memory store changes nothing on disk.
                    self._db = sqlite3.connect(":memory:")
                else:
                    self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            else:
                self._db = sqlite3.connect(str(path))
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            if not read_only or self.path is None or not self.path.exists():
                self._migrate()
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

    def _migrate(self) -> None:
        with self._db:
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise StateError(
                    f"the state store was written by a newer notifier (schema {row[0]}); "
                    "upgrade notifier or use another state folder"
                )
            elif int(row[0]) < SCHEMA_VERSION:  # the new tables were created above
                self._db.execute(
                    "UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),)
                )

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

    # ------------------------------------------------------------------ feeds

    _FEED_COLUMNS = (
        "name, url, etag, last_modified, body_hash, last_polled, last_ok, "
        "last_parsed, failures, unhealthy, last_error, next_poll"
    )

    @staticmethod
    def _feed_row(row: tuple[Any, ...]) -> FeedState:
        return FeedState(
            name=row[0],
            url=row[1],
            etag=row[2],
            last_modified=row[3],
            body_hash=row[4],
            last_polled=_dt(row[5]),
            last_ok=_dt(row[6]),
            last_parsed=_dt(row[7]),
            failures=row[8],
            unhealthy=bool(row[9]),
            last_error=row[10],
            next_poll=_dt(row[11]),
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
            "INSERT OR REPLACE INTO feeds(name, url, etag, last_modified, body_hash, "
            "last_polled, last_ok, last_parsed, failures, unhealthy, last_error, next_poll) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        self._db.executemany(
            "UPDATE feeds SET last_polled=?, last_ok=?, next_poll=? WHERE name=?",
            [(_ts(s.last_polled), _ts(s.last_ok), _ts(s.next_poll), s.name) for s in states],
        )

    # ------------------------------------------------------------------ seen

    def known_keys(self, feed: str, keys: Iterable[str]) -> set[str]:
        """Return which of ``keys`` have been seen before in ``feed``."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self._db.execute(
                    f"SELECT key FROM seen WHERE feed=? AND key IN ({marks})",  # noqa: S608
                    (feed, *chunk),
                )
            )
        return found

    def mark_seen(self, feed: str, keys: Sequence[str], now: datetime) -> None:
        """Record ``keys`` as present in ``feed`` at ``now`` (new ones get first_seen=now)."""
        stamp = _ts(now)
        self._db.executemany(
            "INSERT INTO seen(feed, key, first_seen, last_seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(feed, key) DO UPDATE SET last_seen=excluded.last_seen",
            [(feed, key, stamp, stamp) for key in dict.fromkeys(keys)],
        )

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
