"""Deadline reminders across restarts: what to send now, recorded in the state store.

Each run (``notifier once``, and the daemon's tick) calls :func:`check_deadlines`
with ``now``. For every deadline of the config it:

1. starts tracking a deadline seen for the first time (``first_seen = now``):
   reminders planned before that are never sent — adding a deadline does not
   fire its past reminders;
2. notices an edited due time: one "deadline moved from X to Y" alert, and the
   reminders of the new plan whose time has already passed are recorded as
   skipped, so no catch-up repeats them;
3. sends what :func:`notifier.deadlines.planning.due` says is due: on time, or, after
   downtime, the most recent missed reminder once, marked late, with older
   missed ones folded into it (never a burst) — except that once the deadline
   has passed, a reminder more than a day late is recorded but not sent
   (a deadline long past sends nothing new unless a follow-up is due);
4. sends each to the deadline's channels that admit its severity
   (``channels.X.min_severity``); one no channel admits is still recorded as
   sent — the user asked not to get it there — and logged at INFO as filtered;
5. records what it sent — in the same transaction that queues the alerts in
   the outbox, so a crash never loses or repeats a reminder.

A deadline removed from the config stops reminding (its records are dropped).
The contexts of reminders and moves are built by the registry of alert kinds
(:mod:`notifier.delivery.kinds`); ``reminder_context`` and ``moved_context``
are importable from here too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from notifier.ack import short_id
from notifier.deadlines.planning import plan, to_send
from notifier.delivery.kinds import moved_context, reminder_context
from notifier.delivery.stages import admitted
from notifier.logs import get_logger
from notifier.model import Config, Deadline, NewAlert
from notifier.storage import ReminderStore, State

log = get_logger("notifier.pipeline.reminders")

#: A reminder for a deadline already past is not caught up later than this.
STALE_AFTER = timedelta(days=1)

__all__ = ["STALE_AFTER", "check_deadlines", "moved_context", "reminder_context"]


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _identity(deadline: Deadline) -> str:
    """What makes a deadline "the same": its due time (and rule, if it recurs)."""
    due_text = _ts(deadline.due)
    return f"{due_text} {deadline.recur}" if deadline.recur else due_text


def check_deadlines(store: State, config: Config, now: datetime) -> list[NewAlert]:
    """Queue the reminders and "moved" notices due at ``now``; return what was queued."""
    book = store.reminders
    queued: list[NewAlert] = []
    with store.transaction():
        book.forget_others({d.name for d in config.deadlines})
        for deadline in config.deadlines:
            queued += _check_one(book, config, deadline, now)
        store.outbox.enqueue(queued, now)
    return queued


def _alerts(
    config: Config, deadline: Deadline, key: str, kind: str, context: dict[str, Any]
) -> list[NewAlert]:
    channels = admitted(deadline.channels, deadline.severity, config)
    if not channels:
        log.info(
            "alert filtered by severity",
            deadline=deadline.name,
            alert=key,
            severity=deadline.severity,
            channels=list(deadline.channels),
        )
    return [
        NewAlert(key=key, channel=c, kind=kind, severity=deadline.severity, context=context)
        for c in channels
    ]


def _check_one(
    book: ReminderStore, config: Config, deadline: Deadline, now: datetime
) -> list[NewAlert]:
    identity = _identity(deadline)
    tracked = book.tracked(deadline.name)
    reminders = plan(deadline, now=now)
    out: list[NewAlert] = []
    if tracked is None:
        book.track(deadline.name, identity, now)
        since = now
    else:
        old_identity, since = tracked
        if old_identity != identity:
            old_due = datetime.fromisoformat(old_identity.split(" ", 1)[0])
            out += _alerts(
                config,
                deadline,
                f"moved:{deadline.name}:{old_identity}->{identity}",
                "moved",
                moved_context(deadline, old_due, now),
            )
            book.track(deadline.name, identity, since)
            if old_due != deadline.due:  # (a changed rule alone is no move)
                book.record_move(deadline.name, old_due, deadline.due, now)
            done = book.done(deadline.name)
            for reminder in reminders:
                if reminder.at <= now and reminder.key not in done:
                    book.record(reminder, "skipped", now)
    done = book.done(deadline.name)
    for item in to_send(reminders, done, now, since=since):
        if now > item.reminder.due and now - item.reminder.at > STALE_AFTER:
            # Past the deadline and a day late: news to nobody. Recorded, not sent.
            for r in (item.reminder, *item.folded):
                book.record(r, "expired", now)
            continue
        key = f"reminder:{item.reminder.key}"
        context = reminder_context(deadline, item, now)
        context["ack_id"] = short_id(key)  # every reminder can be acknowledged
        out += _alerts(config, deadline, key, "reminder", context)
        book.record(item.reminder, "late" if item.late else "sent", now)
        for folded in item.folded:
            book.record(folded, "folded", now)
    return out
