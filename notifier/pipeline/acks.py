"""Acknowledging alerts: by short id (a unique prefix), by deadline or by story.

Shared by ``notifier ack`` (how=cli), the signed ack link (how=link) and
``POST /api/ack/<id>`` (how=web). Each call is one small write transaction, safe
beside a running daemon (SQLite serialises it; no daemon lock is taken).

**Escalation** (issue 16 section 2) will read :meth:`notifier.storage.AckStore.acked_keys`
before each step of a ladder: an ack committed here stops its ladder at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from notifier.model import AckableAlert, AckHow
from notifier.storage import State

#: ``notifier acks --open`` and the morning brief list open alerts this recent.
OPEN_WINDOW = timedelta(days=7)
#: An ack id is looked up among the alerts queued this recently.
LOOKUP_WINDOW = timedelta(days=30)


@dataclass
class AckResult:
    """What an ack did: ``acked`` newly, ``already`` acknowledged before; ``error``
    ("unknown", "ambiguous") when nothing was chosen, with ``candidates`` when ambiguous."""

    acked: list[AckableAlert] = field(default_factory=list)
    already: list[AckableAlert] = field(default_factory=list)
    error: str | None = None
    candidates: list[str] = field(default_factory=list)


def acknowledge(
    store: State,
    now: datetime,
    *,
    who: str,
    how: AckHow,
    ack_id: str | None = None,
    deadline: str | None = None,
    story: int | None = None,
) -> AckResult:
    """Acknowledge the alert whose id starts with ``ack_id``, or every pending (open)
    reminder of ``deadline`` (its current occurrence), or every open alert of ``story``."""
    since = now - LOOKUP_WINDOW
    result = AckResult()
    if ack_id is not None:
        prefix = ack_id.strip().lower()
        found = store.acks.alerts(since, prefix=prefix, limit=50) if prefix else []
        ids = sorted({a.ack_id for a in found})
        if not ids:
            result.error = "unknown"
            return result
        if len(ids) > 1:
            result.error, result.candidates = "ambiguous", ids
            return result
    else:
        found = store.acks.alerts(since, deadline=deadline, story=story)
        if not found:
            result.error = "unknown"
            return result
    with store.transaction():
        for alert in found:
            if alert.ack is None and store.acks.ack(alert, who, how, now):
                result.acked.append(alert)
            else:
                result.already.append(alert)
    return result


def open_alerts(store: State, now: datetime, limit: int = 1000) -> list[AckableAlert]:
    """The ack-eligible alerts of the last :data:`OPEN_WINDOW` not acknowledged, newest first."""
    return [a for a in store.acks.alerts(now - OPEN_WINDOW, limit=limit) if a.ack is None]
