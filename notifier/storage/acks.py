"""The ``acks`` table in SQLite: which alerts were acknowledged, by whom, how and when.

An alert that can be acknowledged stores its short id in ``alerts.ack_id`` (set by
:meth:`~notifier.storage.outbox.SqliteOutbox.enqueue` from its context; see
:mod:`notifier.ack`). Its ``alerts`` rows are one per channel, keyed
``"<alert key>|<channel>"``; an ack is one row per alert key. Acknowledging twice
keeps the first ack (idempotent: a link opened twice, or by a link preview, records
nothing new).

Call writes inside ``store.transaction()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

from notifier.model import Ack, AckableAlert, AckHow, NewAlert
from notifier.storage.dbapi import Connection

_CHUNK = 500


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def ackable(db: Connection, alert: NewAlert, now: datetime) -> None:
    """Store that ``alert`` (its context has an ``ack_id``) can be acknowledged; once per
    alert key (its other channels add nothing). An escalation (its context has
    ``escalated``) is not stored: it is acknowledged through the alert it escalates."""
    context = alert.context
    if "escalated" in context:
        return
    name = context.get("deadline")
    title = context.get("title") or context.get("feed") or alert.key
    db.execute(
        "INSERT INTO ackable(alert_key, ack_id, kind, severity, title, deadline, "
        "story, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            alert.key,
            str(context["ack_id"]),
            alert.kind,
            alert.severity,
            str(title)[:300],
            name if isinstance(name, str) else None,
            _story(context),
            _ts(now),
        ),
    )


def _story(context: dict[str, Any]) -> int | None:
    story = context.get("story")
    if isinstance(story, dict) and isinstance(story.get("id"), int):
        return int(story["id"])
    return None


class SqliteAcks:
    """The ``acks`` table (see the module docstring)."""

    def __init__(self, db: Connection) -> None:
        self.db = db

    def alerts(
        self,
        since: datetime,
        *,
        prefix: str | None = None,
        deadline: str | None = None,
        story: int | None = None,
        limit: int = 1000,
    ) -> list[AckableAlert]:
        sql = (
            "SELECT a.alert_key, a.ack_id, a.kind, a.severity, a.title, a.deadline, a.story, "
            "a.created, k.who, k.how, k.at FROM ackable a "
            "LEFT JOIN acks k ON k.alert_key = a.alert_key WHERE a.created>=?"
        )
        params: list[Any] = [_ts(since)]
        if prefix is not None:
            sql += " AND a.ack_id >= ? AND a.ack_id < ?"
            params += [prefix, prefix + "g"]  # hex digits sort below "g"
        if deadline is not None:
            sql += " AND a.deadline=?"
            params.append(deadline)
        if story is not None:
            sql += " AND a.story=?"
            params.append(story)
        sql += " ORDER BY a.created DESC, a.alert_key LIMIT ?"
        params.append(limit)
        out = []
        for key, ack_id, kind, sev, title, name, sid, created, who, how, at in self.db.execute(
            sql, params
        ):
            ack = (
                Ack(key, ack_id, who, cast(AckHow, how), datetime.fromisoformat(at), name, sid)
                if who is not None
                else None
            )
            out.append(
                AckableAlert(
                    key, ack_id, kind, sev, title, datetime.fromisoformat(created), name, sid, ack
                )
            )
        return out

    def ack(self, alert: AckableAlert, who: str, how: AckHow, now: datetime) -> bool:
        cursor = self.db.execute(
            "INSERT INTO acks(alert_key, ack_id, deadline, story, who, how, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (alert.alert_key, alert.ack_id, alert.deadline, alert.story, who, how, _ts(now)),
        )
        return cursor.rowcount > 0

    def is_acked(self, alert_key: str) -> bool:
        return bool(self.acked_keys([alert_key]))

    def acked_keys(self, keys: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT alert_key FROM acks WHERE alert_key IN ({marks})",  # noqa: S608
                chunk,
            )
            found.update(r[0] for r in rows)
        return found
