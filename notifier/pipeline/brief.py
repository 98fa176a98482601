"""The morning brief across restarts: queue it when due, recorded in the state store.

Each run (the daemon's ``brief`` job, ``notifier once``) calls :func:`check_brief`
with ``now``:

1. :func:`notifier.brief.brief_due` says whether a slot is due — on time, or caught
   up once after downtime — given the last day recorded (``briefs``);
2. the brief's context is built from the state: the stories first seen since the
   last brief (matched ones, by watch), the deadlines due in the next 14 days, the
   open proposals, the unhealthy feeds;
3. the day is recorded and the brief queued (outbox key ``brief:<day>``, one alert
   per channel) in ONE transaction: a crash never sends two briefs or none.

The brief goes to ``brief.channels`` whatever their ``min_severity``: it is asked
for by name, not routed by severity.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from notifier.brief import brief_day, brief_due
from notifier.deadlines.planning import occurrences
from notifier.delivery.kinds import brief_context
from notifier.logs import get_logger
from notifier.model import Config, Deadline, NewAlert
from notifier.pipeline.acks import open_alerts
from notifier.storage import State

log = get_logger("notifier.pipeline.brief")

#: The deadlines a brief lists: those due within this.
AHEAD = timedelta(days=14)
#: With no brief before, the stories of this long before it.
FIRST_SINCE = timedelta(days=1)
#: The open (unacknowledged) alerts read for a brief (the context lists fewer).
UNACKED_READ = 200
#: The stories read for a brief (the context lists fewer, and counts the rest).
STORIES_READ = 500


def check_brief(store: State, config: Config, now: datetime) -> list[NewAlert]:
    """Queue the brief due at ``now``, if one is; return what was queued."""
    policy = config.brief
    if policy is None:
        return []
    last = store.reminders.last_brief()
    due = brief_due(policy, last[0] if last else None, now)
    if due is None:
        return []
    day = brief_day(policy, due)
    since = last[1] if last else now - FIRST_SINCE
    stories = store.history.stories(since=since, matched_only=True, limit=STORIES_READ)
    ahead: list[tuple[Deadline, datetime]] = []
    for d in config.deadlines:
        try:
            ahead += [(d, due_at) for due_at in occurrences(d, now, now + AHEAD)]
        except ValueError:  # a rule too dense to expand: the reminders report it
            continue
    proposals = store.proposals.proposals("open")
    unhealthy = [f for f in store.feed_states() if f.unhealthy]
    # Open ack-eligible alerts of the last 7 days, newest first (capped in the context).
    unacknowledged = [
        {"id": a.ack_id, "title": a.title, "kind": a.kind, "severity": a.severity}
        for a in open_alerts(store, now, limit=UNACKED_READ)
    ]
    context = brief_context(
        day,
        now,
        since=last[1] if last else None,
        stories=stories,
        deadlines=ahead,
        proposals=proposals,
        unhealthy=unhealthy,
        unacknowledged=unacknowledged,
    )
    alerts = [
        NewAlert(
            key=f"brief:{day.isoformat()}",
            channel=c,
            kind="brief",
            severity="normal",
            context=context,
        )
        for c in policy.channels
    ]
    with store.transaction():
        if not store.reminders.record_brief(day, now):
            return []
        store.outbox.enqueue(alerts, now)
    log.info(
        "brief queued",
        day=day.isoformat(),
        late=round((now - due).total_seconds()),
        stories=len(stories),
        deadlines=len(ahead),
        proposals=len(proposals),
        unhealthy=len(unhealthy),
    )
    return alerts
