"""The deadline tables in SQLite: which deadlines are tracked, which reminders went out.

* ``deadlines``: per deadline, its identity (due time and rule) and when it was
  first seen (reminders planned before that are never sent);
* ``reminders``: every reminder recorded once, as ``sent``, ``late``,
  ``folded``, ``skipped`` or ``expired``;
* ``deadline_moves``: each change of a deadline's due time (from, to, when noticed);
* ``briefs``: each morning brief queued, by its local day (:mod:`notifier.brief`).

Call inside ``store.transaction()``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from notifier.storage.dbapi import Connection

if TYPE_CHECKING:
    from notifier.deadlines.planning import Reminder


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


class SqliteReminders:
    """The ``deadlines`` and ``reminders`` tables (see the module docstring)."""

    def __init__(self, db: Connection) -> None:
        self.db = db

    def tracked(self, name: str) -> tuple[str, datetime] | None:
        row = self.db.execute(
            "SELECT due, first_seen FROM deadlines WHERE name=?", (name,)
        ).fetchone()
        return None if row is None else (row[0], datetime.fromisoformat(row[1]))

    def track(self, name: str, identity: str, first_seen: datetime) -> None:
        self.db.execute(
            "INSERT INTO deadlines(name, due, first_seen) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET due=excluded.due",
            (name, identity, _ts(first_seen)),
        )

    def forget_others(self, names: set[str]) -> None:
        for (name,) in self.db.execute("SELECT name FROM deadlines").fetchall():
            if name not in names:
                self.db.execute("DELETE FROM deadlines WHERE name=?", (name,))
                self.db.execute("DELETE FROM reminders WHERE deadline=?", (name,))
                self.db.execute("DELETE FROM deadline_moves WHERE deadline=?", (name,))

    def done(self, name: str) -> set[str]:
        return {
            r[0] for r in self.db.execute("SELECT key FROM reminders WHERE deadline=?", (name,))
        }

    def record(self, reminder: Reminder, status: str, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO reminders(key, deadline, at, status, done) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (reminder.key, reminder.deadline, _ts(reminder.at), status, _ts(now)),
        )

    def record_move(self, name: str, old_due: datetime, new_due: datetime, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO deadline_moves(deadline, old_due, new_due, at) VALUES (?, ?, ?, ?)",
            (name, _ts(old_due), _ts(new_due), _ts(now)),
        )

    def moves(self, name: str, limit: int = 50) -> list[tuple[datetime, datetime, datetime]]:
        rows = self.db.execute(
            "SELECT old_due, new_due, at FROM deadline_moves WHERE deadline=? "
            "ORDER BY at DESC LIMIT ?",
            (name, limit),
        )
        return [
            (datetime.fromisoformat(a), datetime.fromisoformat(b), datetime.fromisoformat(c))
            for a, b, c in rows
        ]

    def last_brief(self) -> tuple[date, datetime] | None:
        row = self.db.execute(
            "SELECT day, sent_at FROM briefs ORDER BY day DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        return date.fromisoformat(row[0]), datetime.fromisoformat(row[1])

    def record_brief(self, day: date, now: datetime) -> bool:
        cursor = self.db.execute(
            "INSERT INTO briefs(day, sent_at) VALUES (?, ?) ON CONFLICT(day) DO NOTHING",
            (day.isoformat(), _ts(now)),
        )
        return cursor.rowcount == 1
