"""The outbox tables in SQLite: alerts, messages and deliveries.

The pure side (planning, digest windows) is :mod:`notifier.delivery.stages`.

::

    enqueue ─────▶ alerts        one row per (alert, channel); the key is unique, so
                                 queueing the same alert twice does nothing
    compose ─────▶ messages      one row per message to send (one alert or a digest)
                   deliveries    one row per (message, URL of the channel)
    send ────────▶ a delivery is marked sent right after the service accepted it;
                   a message is sent when all its deliveries are
    retarget ────▶ a message's deliveries follow the channel's *current* URLs: a URL
                   that left the config is ``superseded`` (never counted as sent)
    reroute ─────▶ the alerts of a channel removed from the config are queued again
                   for the default channels (their old rows: ``message_id`` = -1)
    fallback ────▶ ``failing_since``: when a channel's failures began (no delivery since);
                   ``fallback_copy``: its pending alerts also queued for its fallback
                   channels, under the same key (never twice to one channel)

Every call is a few indexed statements on the one connection of the
:class:`~notifier.storage.sqlite.Store`; call writes inside ``store.transaction()``
unless a method says it commits itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from notifier.model import (
    BodyFormat,
    Channel,
    ChannelStatus,
    DeadMessage,
    Held,
    NewAlert,
    PendingMessage,
    QueuedAlert,
)
from notifier.storage.acks import ackable
from notifier.storage.dbapi import Connection


class Store(Protocol):
    """What the outbox needs of its store: the connection, and transactions."""

    @property
    def db(self) -> Connection:
        """The connection."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes into one commit."""
        ...


#: ``alerts.message_id`` of an alert moved to other channels (:meth:`SqliteOutbox.reroute`).
REROUTED = -1


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


class SqliteOutbox:
    """The outbox tables of the state store. Call writes inside ``store.transaction()``
    unless a method says it commits itself."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # ------------------------------------------------------------------ alerts

    def enqueue(self, alerts: Iterable[NewAlert], now: datetime) -> int:
        """Queue alerts; one already queued (same key and channel) is ignored. Returns the new."""
        added = 0
        for a in alerts:
            cursor = self.db.execute(
                "INSERT INTO alerts(key, channel, kind, severity, context, grp, "
                "created, not_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    f"{a.key}|{a.channel}",
                    a.channel,
                    a.kind,
                    a.severity,
                    json.dumps(a.context, ensure_ascii=False, sort_keys=True),
                    a.group,
                    _ts(now),
                    _ts(a.not_before or now),
                ),
            )
            added += cursor.rowcount
            if isinstance(a.context.get("ack_id"), str):
                ackable(self.db, a, now)
        return added

    def queued(self, channel: str, *, with_context: bool = True) -> list[QueuedAlert]:
        """Alerts of ``channel`` not yet composed into a message, oldest first.

        Without ``with_context`` the contexts are left empty (``{}``): planning
        needs none, and a backlog of thousands is read cheaply; fetch the
        contexts of the alerts composed with :meth:`alert_contexts`."""
        column = "context" if with_context else "NULL"
        rows = self.db.execute(
            f"SELECT id, channel, kind, severity, {column}, grp, created, not_before, held "  # noqa: S608
            "FROM alerts WHERE channel=? AND message_id IS NULL ORDER BY id",
            (channel,),
        ).fetchall()
        return [
            QueuedAlert(
                id=r[0],
                channel=r[1],
                kind=r[2],
                severity=r[3],
                context=json.loads(r[4]) if r[4] is not None else {},
                group=r[5],
                created=_dt(r[6]),
                not_before=_dt(r[7]),
                held=r[8],
            )
            for r in rows
        ]

    def alert_contexts(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The contexts of the alerts ``ids``, by id."""
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for alert_id, context in self.db.execute(
                f"SELECT id, context FROM alerts WHERE id IN ({marks})",  # noqa: S608
                chunk,
            ):
                found[alert_id] = json.loads(context)
        return found

    def channels_with_work(self) -> list[str]:
        """Channels with queued alerts or pending messages."""
        rows = self.db.execute(
            "SELECT channel FROM alerts WHERE message_id IS NULL "
            "UNION SELECT channel FROM messages WHERE status='pending' ORDER BY 1"
        )
        return [r[0] for r in rows]

    def hold(self, held: dict[int, Held], current: dict[int, str | None] | None = None) -> None:
        """Record why alerts are held (shown by ``status``; a held alert goes in a digest).

        With ``current`` (alert id → its held value now), only changes are written."""
        self.db.executemany(
            "UPDATE alerts SET held=? WHERE id=? AND message_id IS NULL",
            [
                (str(reason), alert_id)
                for alert_id, reason in held.items()
                if current is None or current.get(alert_id) != str(reason)
            ],
        )

    def recent_messages(self, channel: str, since: datetime) -> int:
        """Messages composed for ``channel`` since ``since`` (for rate limits)."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM messages WHERE channel=? AND composed>=? AND status!='dead'",
            (channel, _ts(since)),
        ).fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ messages

    def compose(
        self,
        channel: str,
        *,
        kind: str,
        title: str,
        body: str,
        fmt: BodyFormat,
        alert_ids: Sequence[int],
        url_hashes: Sequence[str],
        now: datetime,
        reason: str | None = None,
        severity: str = "normal",
    ) -> int:
        """Store one message for ``alert_ids`` with a pending delivery per URL."""
        cursor = self.db.execute(
            "INSERT INTO messages(channel, kind, title, body, format, alerts, composed, status, "
            "next_attempt, reason, severity) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) "
            "RETURNING id",
            (
                channel,
                kind,
                title,
                body,
                fmt,
                len(alert_ids),
                _ts(now),
                _ts(now),
                reason,
                severity,
            ),
        )
        message_id = int(cursor.fetchone()[0])
        self.db.executemany(
            "UPDATE alerts SET message_id=? WHERE id=?", [(message_id, a) for a in alert_ids]
        )
        self.db.executemany(
            "INSERT INTO deliveries(message_id, url_hash, status) "
            "VALUES (?, ?, 'pending') ON CONFLICT DO NOTHING",
            [(message_id, h) for h in url_hashes],
        )
        return message_id

    def due_messages(self, channel: str, now: datetime, limit: int = 100) -> list[PendingMessage]:
        """Pending messages of ``channel`` whose next attempt is due, oldest first (at
        most ``limit``), with their pending and delivered URL hashes (one query)."""
        rows = self.db.execute(
            "SELECT m.id, m.channel, m.kind, m.title, m.body, m.format, m.composed, m.attempts, "
            "m.reason, m.severity, d.url_hash, d.status FROM "
            "(SELECT * FROM messages WHERE channel=? AND status='pending' AND next_attempt<=? "
            "ORDER BY id LIMIT ?) m LEFT JOIN deliveries d ON d.message_id=m.id "
            "ORDER BY m.id, d.url_hash",
            (channel, _ts(now), limit),
        ).fetchall()
        out: list[PendingMessage] = []
        by_id: dict[int, tuple[list[str], list[str]]] = {}
        heads: dict[int, tuple[Any, ...]] = {}
        for r in rows:
            if r[0] not in by_id:
                by_id[r[0]] = ([], [])
                heads[r[0]] = r
            if r[10] is not None:
                pending, sent = by_id[r[0]]
                if r[11] == "pending":
                    pending.append(r[10])
                elif r[11] == "sent":
                    sent.append(r[10])
        for message_id, r in heads.items():
            pending, sent = by_id[message_id]
            out.append(
                PendingMessage(
                    id=r[0],
                    channel=r[1],
                    kind=r[2],
                    title=r[3],
                    body=r[4],
                    format=r[5],
                    composed=_dt(r[6]),
                    attempts=r[7],
                    pending=tuple(pending),
                    sent=tuple(sent),
                    reason=r[8],
                    severity=r[9] or "normal",
                )
            )
        return out

    def contexts(self, message_id: int) -> list[dict[str, Any]]:
        """The contexts of the alerts a message carries, in queue order."""
        return [
            json.loads(r[0])
            for r in self.db.execute(
                "SELECT context FROM alerts WHERE message_id=? ORDER BY created, id",
                (message_id,),
            )
        ]

    def retarget(self, message: PendingMessage, current: Sequence[str]) -> tuple[str, ...]:
        """Make ``message``'s deliveries follow the channel's current URL hashes.

        A pending delivery to a URL no longer in the channel becomes
        ``superseded`` (never "sent"); a current URL that has not received the
        message gets a pending delivery. Returns the URL hashes to send to now,
        in the channel's URL order. Commits."""
        wanted = [h for h in dict.fromkeys(current) if h not in message.sent]
        gone = [h for h in message.pending if h not in wanted]
        added = [h for h in wanted if h not in message.pending]
        if gone or added:
            with self.store.transaction():
                self.db.executemany(
                    "UPDATE deliveries SET status='superseded' WHERE message_id=? AND url_hash=? "
                    "AND status='pending'",
                    [(message.id, h) for h in gone],
                )
                self.db.executemany(
                    "INSERT INTO deliveries(message_id, url_hash, status) VALUES (?, ?, 'pending') "
                    "ON CONFLICT(message_id, url_hash) DO UPDATE SET status='pending' "
                    "WHERE deliveries.status!='sent'",
                    [(message.id, h) for h in added],
                )
        return tuple(wanted)

    def orphan_channels(self, known: Iterable[str]) -> list[str]:
        """Channels with queued alerts or pending messages that ``known`` lacks."""
        names = set(known)
        return [c for c in self.channels_with_work() if c not in names]

    def reroute(self, channel: str, to: Sequence[str], now: datetime) -> int:
        """Queue the waiting alerts of ``channel`` (removed from the config) again for
        the channels ``to``, each marked with where it came from; the old rows are
        closed as ``rerouted``, never counted as sent. Returns the alerts moved.
        Call inside ``store.transaction()``."""
        rows = self.db.execute(
            "SELECT a.id, a.key, a.kind, a.severity, a.context, a.grp, a.message_id FROM alerts a "
            "LEFT JOIN messages m ON m.id=a.message_id WHERE a.channel=? AND "
            "(a.message_id IS NULL OR m.status='pending') ORDER BY a.id",
            (channel,),
        ).fetchall()
        moved = 0
        for alert_id, key, kind, severity, context, grp, _message in rows:
            ctx = json.loads(context)
            ctx["rerouted_from"] = channel
            base = key.rsplit("|", 1)[0]
            for target in to:
                cursor = self.db.execute(
                    "INSERT INTO alerts(key, channel, kind, severity, context, grp, "
                    "created, not_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (
                        f"{base}|rerouted-from:{channel}|{target}",
                        target,
                        kind,
                        severity,
                        json.dumps(ctx, ensure_ascii=False, sort_keys=True),
                        grp,
                        _ts(now),
                        _ts(now),
                    ),
                )
                moved += cursor.rowcount
            self.db.execute(
                "UPDATE alerts SET held='rerouted', message_id=? WHERE id=?", (REROUTED, alert_id)
            )
        self.db.execute(
            "UPDATE messages SET status='rerouted', finished=? "
            "WHERE channel=? AND status='pending'",
            (_ts(now), channel),
        )
        return moved

    def failing_since(self, channel: str) -> datetime | None:
        """Since when every URL of ``channel`` has been failing, or None (see
        :meth:`notifier.storage.OutboxStore.failing_since`). The last success is the
        latest ``finished`` of its sent messages (index ``messages_finished``) or a
        delivery of one of its pending messages; string times compare as UTC ISO."""
        row = self.db.execute(
            "SELECT MIN(composed) FROM messages WHERE status='pending' AND channel=:c "
            "AND attempts>0 AND composed > COALESCE((SELECT MAX(t) FROM ("
            "SELECT MAX(finished) AS t FROM messages WHERE channel=:c AND status='sent' "
            "UNION ALL SELECT MAX(d.sent) FROM messages p JOIN deliveries d "
            "ON d.message_id=p.id WHERE p.status='pending' AND p.channel=:c "
            "AND d.status='sent') AS s), '')",
            {"c": channel},
        ).fetchone()
        return _dt(row[0]) if row and row[0] else None

    def fallback_copy(
        self,
        channel: str,
        to: Sequence[Channel],
        note: dict[str, str],
        now: datetime,
        after: int = 0,
    ) -> tuple[int, int]:
        """Queue ``channel``'s pending alerts above id ``after`` also for ``to``, marked
        ``via_fallback``; returns (copies queued, highest id read). Call inside
        ``store.transaction()``."""
        rows = self.db.execute(
            "SELECT id, key, kind, severity, context, grp FROM alerts "
            "WHERE channel=:c AND message_id IS NULL AND id>:after UNION ALL "
            "SELECT id, key, kind, severity, context, grp FROM alerts WHERE channel=:c "
            "AND id>:after AND message_id IN "
            "(SELECT id FROM messages WHERE status='pending' AND channel=:c) ORDER BY 1",
            {"c": channel, "after": after},
        ).fetchall()
        copied = 0
        for _alert_id, key, kind, severity, context, grp in rows:
            ctx = json.loads(context)
            ctx["via_fallback"] = note
            base = key.rsplit("|", 1)[0]
            for target in (t.name for t in to if t.admits(severity)):
                cursor = self.db.execute(
                    "INSERT INTO alerts(key, channel, kind, severity, context, grp, "
                    "created, not_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (
                        f"{base}|{target}",
                        target,
                        kind,
                        severity,
                        json.dumps(ctx, ensure_ascii=False, sort_keys=True),
                        grp,
                        _ts(now),
                        _ts(now),
                    ),
                )
                copied += cursor.rowcount
        return copied, max((r[0] for r in rows), default=after)

    def next_attempt(self) -> datetime | None:
        """When the earliest pending message is due, or None."""
        row = self.db.execute(
            "SELECT MIN(next_attempt) FROM messages WHERE status='pending'"
        ).fetchone()
        return _dt(row[0]) if row and row[0] else None

    def next_release(self, channel: str | None = None) -> datetime | None:
        """The earliest ``not_before`` of a queued alert (of ``channel``), or None."""
        if channel is None:
            row = self.db.execute(
                "SELECT MIN(not_before) FROM alerts WHERE message_id IS NULL"
            ).fetchone()
        else:
            row = self.db.execute(
                "SELECT MIN(not_before) FROM alerts WHERE message_id IS NULL AND channel=?",
                (channel,),
            ).fetchone()
        return _dt(row[0]) if row and row[0] else None

    def delivered(self, message_id: int, url: str, now: datetime) -> bool:
        """Record one URL's success and commit at once (the repeat window is this call).

        Returns False when that delivery was no longer pending (superseded, or
        recorded already)."""
        with self.store.transaction():
            cursor = self.db.execute(
                "UPDATE deliveries SET status='sent', sent=? WHERE message_id=? AND url_hash=? "
                "AND status='pending'",
                (_ts(now), message_id, url),
            )
        return cursor.rowcount > 0

    def finish_if_complete(self, message_id: int, now: datetime) -> bool:
        """Mark a pending message sent if none of its deliveries is pending any more."""
        cursor = self.db.execute(
            "UPDATE messages SET status='sent', finished=?, last_error=NULL WHERE id=? AND "
            "status='pending' AND NOT EXISTS (SELECT 1 FROM deliveries WHERE message_id=? AND "
            "status='pending')",
            (_ts(now), message_id, message_id),
        )
        return cursor.rowcount > 0

    def next_due(self, channel: str, now: datetime) -> datetime | None:
        """When channel ``channel`` next has a message to retry or a digest window
        ending. Alerts already past their window but held (quiet hours, a rate
        limit) are not counted: the caller looks again every few seconds."""
        row = self.db.execute(
            "SELECT MIN(t) FROM (SELECT MIN(next_attempt) AS t FROM messages "
            "WHERE channel=? AND status='pending' UNION ALL SELECT MIN(not_before) FROM alerts "
            "WHERE channel=? AND message_id IS NULL AND not_before>?) AS t",
            (channel, channel, _ts(now)),
        ).fetchone()
        return _dt(row[0]) if row and row[0] else None

    def finish(self, message_id: int, now: datetime) -> None:
        """Mark a message sent (all its deliveries are)."""
        self.db.execute(
            "UPDATE messages SET status='sent', finished=?, last_error=NULL WHERE id=?",
            (_ts(now), message_id),
        )

    def failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        """Record a failed attempt and when to retry."""
        self.db.execute(
            "UPDATE messages SET attempts=attempts+1, last_error=?, next_attempt=? WHERE id=?",
            (error, _ts(retry_at), message_id),
        )

    def dead(self, message_id: int, error: str | None, now: datetime) -> None:
        """Give up on a message (dead letter), keeping its last error."""
        self.db.execute(
            "UPDATE messages SET status='dead', finished=?, "
            "last_error=COALESCE(?, last_error) WHERE id=?",
            (_ts(now), error, message_id),
        )

    def unreported_dead(self) -> list[DeadMessage]:
        """Dead messages not yet reported to the default channels."""
        rows = self.db.execute(
            "SELECT id, channel, kind, title, composed, attempts, last_error FROM messages "
            "WHERE status='dead' AND reported=0 ORDER BY id"
        ).fetchall()
        return [DeadMessage(r[0], r[1], r[2], r[3], _dt(r[4]), r[5], r[6]) for r in rows]

    def reported(self, message_id: int) -> None:
        """Mark a dead message as reported."""
        self.db.execute("UPDATE messages SET reported=1 WHERE id=?", (message_id,))

    # ------------------------------------------------------------------ status

    def status(self) -> list[ChannelStatus]:
        """Per channel: queued/held alerts, pending/retrying/dead/sent messages, last send."""
        result: dict[str, dict[str, Any]] = {}

        def slot(channel: str) -> dict[str, Any]:
            return result.setdefault(channel, {"channel": channel})

        for channel, held, count in self.db.execute(
            "SELECT channel, held IS NOT NULL, COUNT(*) FROM alerts WHERE message_id IS NULL "
            "GROUP BY channel, held IS NOT NULL"
        ):
            slot(channel)["held" if held else "queued"] = count
        for channel, count in self.db.execute(
            "SELECT channel, COUNT(*) FROM alerts WHERE message_id=? GROUP BY channel",
            (REROUTED,),
        ):
            slot(channel)["rerouted"] = count
        for channel, status, retrying, count in self.db.execute(
            "SELECT channel, status, attempts>0, COUNT(*) FROM messages "
            "GROUP BY channel, status, attempts>0"
        ):
            if status == "rerouted":
                continue  # counted by alert above
            key = status if status != "pending" else ("retrying" if retrying else "pending")
            slot(channel)[key] = slot(channel).get(key, 0) + count
        for channel, finished, title in self.db.execute(
            "SELECT channel, finished, title FROM messages m WHERE status='sent' AND id = "
            "(SELECT MAX(id) FROM messages WHERE channel=m.channel AND status='sent')"
        ):
            slot(channel).update(last_sent=_dt(finished), last_sent_title=title)
        for channel, error in self.db.execute(
            "SELECT channel, last_error FROM messages m WHERE last_error IS NOT NULL AND id = "
            "(SELECT MAX(id) FROM messages WHERE channel=m.channel AND last_error IS NOT NULL)"
        ):
            slot(channel)["last_error"] = error
        for name, slots in result.items():
            if slots.get("retrying"):
                slots["failing_since"] = self.failing_since(name)
        return [ChannelStatus(**result[name]) for name in sorted(result)]
