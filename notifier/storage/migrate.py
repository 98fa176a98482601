"""Copy a SQLite state folder into a PostgreSQL state (``notifier state migrate``).

::

    SQLite (read-only) ──table by table, in key order, 1,000 rows a batch──▶ PostgreSQL
    feeds, seen, deadlines, reminders, briefs, deadline_moves, alerts, messages,
    deliveries, entries, matches, edits, proposals, mutes, ackable, acks, escalations
                        ──▶ identity sequences moved past the copied ids
                        ──▶ the search index rebuilt (entries copied as not indexed)
                        ──▶ counts compared, table by table

The copy is one transaction: a failure leaves the PostgreSQL state as it was. Rows
already there are kept (``ON CONFLICT DO NOTHING``), so a second run adds nothing;
a target whose tables hold other rows is refused unless ``merge`` is asked for, since
ids would collide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from notifier.errors import StateError

#: The tables copied, parents before children (messages before deliveries...).
TABLES: tuple[str, ...] = (
    "feeds",
    "seen",
    "deadlines",
    "reminders",
    "briefs",
    "deadline_moves",
    "alerts",
    "messages",
    "deliveries",
    "entries",
    "matches",
    "edits",
    "proposals",
    "mutes",
    "ackable",
    "acks",
    "escalations",
)
#: Tables whose ``id`` is an identity column in PostgreSQL.
_IDENTITY = ("alerts", "messages", "entries", "mutes")
BATCH = 1000


@dataclass(frozen=True, slots=True)
class Copied:
    """One table: rows in the SQLite state, rows in PostgreSQL after the copy."""

    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.target >= self.source


def _columns(sqlite_db: Any, table: str) -> tuple[list[str], str]:
    """The table's columns, and the order to copy it in: its primary key (insertion
    order, ``rowid``, for a table without one)."""
    rows = list(sqlite_db.execute(f"PRAGMA table_info({table})"))
    key = [r[1] for r in sorted(rows, key=lambda r: r[5]) if r[5]]
    return [r[1] for r in rows], ", ".join(key) or "rowid"


def copy_state(
    source: Any,
    target: Any,
    *,
    merge: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> list[Copied]:
    """Copy every table of ``source`` (a SQLite :class:`~notifier.storage.sqlite.Store`)
    into ``target`` (a :class:`~notifier.storage.postgres.PgStore`); the counts after.

    Raises :class:`StateError` when the target already holds rows (unless ``merge``)
    or a write fails (then nothing was copied)."""
    src, dst = source.db, target.db
    if not merge:
        busy = [t for t in TABLES if dst.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()]  # noqa: S608 - constant names
        if busy:
            raise StateError(
                "the PostgreSQL state already holds rows in "
                + ", ".join(busy)
                + "; migrate into an empty database (or pass --merge to add to it)"
            )
    with target.transaction():
        for table in TABLES:
            columns, order = _columns(src, table)
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            insert = f"INSERT INTO {table}({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608
            cursor = src.execute(f"SELECT {names} FROM {table} ORDER BY {order}")  # noqa: S608
            done = 0
            while rows := cursor.fetchmany(BATCH):
                if table == "entries":
                    at = columns.index("indexed")
                    rows = [(*r[:at], 0, *r[at + 1 :]) for r in rows]
                dst.executemany(insert, rows)
                done += len(rows)
                if progress is not None:
                    progress(table, done)
        for table in _IDENTITY:
            dst.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
            )
    while True:
        with target.transaction():
            if not target.history.index_pending(2000):
                break
    counts = []
    for table in TABLES:
        (n_src,) = src.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        (n_dst,) = dst.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        counts.append(Copied(table, int(n_src), int(n_dst)))
    return counts
