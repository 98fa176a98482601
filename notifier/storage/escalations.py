"""The ``escalations`` table in SQLite: the escalation steps done, one row per
(alert key, step, n) (see :mod:`notifier.escalation`). Call writes inside
``store.transaction()``, with the enqueue of the step's alerts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from notifier.storage.dbapi import Connection

_CHUNK = 500


class SqliteEscalations:
    """The ``escalations`` table (see the module docstring)."""

    def __init__(self, db: Connection) -> None:
        self.db = db

    def done(self, alert_keys: Iterable[str]) -> dict[str, set[tuple[int, int]]]:
        wanted = list(dict.fromkeys(alert_keys))
        out: dict[str, set[tuple[int, int]]] = {}
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT alert_key, step, n FROM escalations WHERE alert_key IN ({marks})",  # noqa: S608
                chunk,
            )
            for key, step, n in rows:
                out.setdefault(key, set()).add((int(step), int(n)))
        return out

    def record(self, alert_key: str, step: int, n: int, at: datetime, folded: int = 0) -> bool:
        cursor = self.db.execute(
            "INSERT INTO escalations(alert_key, step, n, at, folded) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (alert_key, step, n, at.astimezone(UTC).isoformat(), folded),
        )
        return cursor.rowcount > 0

    def original(self, alert_key: str) -> tuple[str, str, dict[str, Any]] | None:
        # alerts.key is "<alert key>|<channel>": a range on its unique index ("}" follows "|")
        row = self.db.execute(
            "SELECT kind, severity, context FROM alerts WHERE key > ? AND key < ? "
            "ORDER BY id LIMIT 1",
            (alert_key + "|", alert_key + "}"),
        ).fetchone()
        if row is None:
            return None
        return str(row[0]), str(row[1]), dict(json.loads(row[2]))
