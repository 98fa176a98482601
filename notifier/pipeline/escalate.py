"""Escalation ladders across restarts: queue the steps due, recorded in the state store.

Each run (the daemon's ``escalate`` job) calls :func:`check_escalations` with ``now``:

1. the open ack-eligible alerts of the last :data:`WINDOW` (``ackable`` without an
   ack) each get their ladder: their deadline's ``escalate``, else their first watch's
   that has one, else ``escalate`` of their severity (none: nothing to do);
2. :func:`notifier.escalation.plan_escalation` says what is due (missed steps folded
   into one) given the steps recorded (``escalations``); a reminder's ladder stops at
   its deadline's due;
3. in ONE transaction: the ack is checked again (:meth:`AckStore.is_acked`: an ack
   committed before stops the step at once), the step recorded and its alerts queued
   (key ``escalate:<alert key>:<step>[:<n>]``, the original's kind, severity and
   context, marked ``escalated``): a crash never sends a step twice or loses it.

Escalations go to the step's channels whatever their ``min_severity`` (asked for by
name). Quiet hours still hold them like any alert of their severity (the sender's
silence stage): a non-critical escalation waits for the end of the channel's quiet hours.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from notifier.escalation import plan_escalation
from notifier.logs import get_logger
from notifier.model import SEVERITIES, AckableAlert, Config, EscalationStep, NewAlert
from notifier.storage import State

log = get_logger("notifier.pipeline.escalate")

#: Alerts older than this are no longer escalated.
WINDOW = timedelta(days=7)


def ladder_for(
    config: Config, alert: AckableAlert, context: dict[str, Any]
) -> tuple[EscalationStep, ...]:
    """The ladder of ``alert``: its deadline's, its first watch's with one, its severity's."""
    if alert.deadline is not None:
        for d in config.deadlines:
            if d.name == alert.deadline and d.escalate:
                return d.escalate
    watches = {w.name: w for w in config.watches}
    for item in context.get("watches") or ():
        name = item.get("watch") if isinstance(item, dict) else None
        watch = watches.get(name) if isinstance(name, str) else None
        if watch is not None and watch.escalate:
            return watch.escalate
    return config.escalate.get(alert.severity, ())


def _until(context: dict[str, Any]) -> datetime | None:
    """A reminder's deadline (its due): its ladder stops there."""
    due = context.get("due")
    if context.get("deadline") and isinstance(due, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(due)
    return None


def check_escalations(
    store: State, config: Config, now: datetime
) -> tuple[list[NewAlert], datetime | None]:
    """Queue the escalation steps due at ``now``; what was queued, and when the next
    step of any open alert comes (None: none)."""
    candidates = [a for a in store.acks.alerts(now - WINDOW) if a.ack is None]
    if not candidates or not (config.escalate or _any_ladder(config)):
        return [], None
    done = store.escalations.done(a.alert_key for a in candidates)
    queued: list[NewAlert] = []
    upcoming: list[datetime] = []
    for alert in candidates:
        original = store.escalations.original(alert.alert_key)
        if original is None:
            continue
        kind, severity, context = original
        ladder = ladder_for(config, alert, context)
        if not ladder:
            continue
        due, nxt = plan_escalation(
            alert.created, ladder, now, done.get(alert.alert_key, set()), until=_until(context)
        )
        if nxt is not None:
            upcoming.append(nxt)
        if due is None:
            continue
        marked = dict(context)
        marked["escalated"] = {"step": due.step + 1, "n": due.n, "after": due.after}
        alerts = [
            NewAlert(
                key=due.key(alert.alert_key),
                channel=channel,
                kind=kind,
                severity=severity if severity in SEVERITIES else "high",
                context=marked,
            )
            for channel in due.to
            if channel in config.channels
        ]
        with store.transaction():
            if store.acks.is_acked(alert.alert_key):
                continue  # acked since it was read: the ladder stops here
            if not store.escalations.record(alert.alert_key, due.step, due.n, now, due.folded):
                continue
            store.outbox.enqueue(alerts, now)
        log.info(
            "escalated",
            alert=alert.alert_key,
            step=due.step + 1,
            n=due.n,
            folded=due.folded,
            channels=list(due.to),
        )
        queued += alerts
    return queued, min(upcoming) if upcoming else None


def _any_ladder(config: Config) -> bool:
    return any(w.escalate for w in config.watches) or any(d.escalate for d in config.deadlines)
