"""The ``mutes`` table in SQLite: which watches, feeds and channels are muted, until when.

A mute is active while ``ended`` is NULL and ``until`` is later than now; the
sender reads the active ones each pass (:meth:`SqliteMutes.active`: one lookup in
the partial index ``mutes_active``). ``notifier unmute`` sets ``ended``; a new
mute of a target already muted ends the old one and takes its place. Rows are
kept (a short history of who muted what); they are tiny.

Call writes inside ``store.transaction()``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from notifier.model import Mute, MuteKind
from notifier.storage.dbapi import Connection


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


class SqliteMutes:
    """The ``mutes`` table (see the module docstring)."""

    def __init__(self, db: Connection) -> None:
        self.db = db

    def mute(
        self,
        kind: MuteKind,
        name: str,
        until: datetime,
        now: datetime,
        *,
        reason: str | None = None,
        who: str = "cli",
    ) -> Mute:
        self.end(kind, name, now)
        cursor = self.db.execute(
            "INSERT INTO mutes(kind, name, until, reason, who, created) VALUES (?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (kind, name, _ts(until), reason, who, _ts(now)),
        )
        return Mute(kind, name, until, now, reason, who, int(cursor.fetchone()[0]))

    def active(self, now: datetime) -> list[Mute]:
        rows = self.db.execute(
            "SELECT id, kind, name, until, reason, who, created FROM mutes "
            "WHERE ended IS NULL AND until>? ORDER BY until, id",
            (_ts(now),),
        ).fetchall()
        return [
            Mute(
                kind=cast(MuteKind, r[1]),
                name=r[2],
                until=datetime.fromisoformat(r[3]),
                created=datetime.fromisoformat(r[6]),
                reason=r[4],
                who=r[5],
                id=r[0],
            )
            for r in rows
        ]

    def end(self, kind: MuteKind, name: str, now: datetime) -> int:
        cursor = self.db.execute(
            "UPDATE mutes SET ended=? WHERE kind=? AND name=? AND ended IS NULL AND until>?",
            (_ts(now), kind, name, _ts(now)),
        )
        return cursor.rowcount
