"""When the morning brief is due. Pure: time is a parameter, no clock, no state.

The brief (``brief:``) has one *slot* a day on its ``days``: local time ``at`` in
the config's zone. A slot's *day* is its local date; the state records the day of
each brief sent (``briefs``), and the outbox key ``brief:<day>`` dedupes too.

::

    slot(day)     at on that day, local; a time a DST change skips is read with the
                  offset before the change (02:30 → 03:30 on a spring-forward day), a
                  repeated one is its first occurrence — so "08:00" is 08:00 every day
    brief_due     the latest slot at or before now, if no brief was sent for its day
                  or later: on time, or caught up ONCE after downtime (down three
                  days: one brief, for the latest slot). With no brief ever sent, only
                  a slot of today is caught up (a new config sends no brief for
                  yesterday).
    next_brief    the first slot after a time: when the daemon's job runs next
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from notifier.model import BriefPolicy

#: Days of the week: any 7 days in a row hold every slot of a non-empty ``days``.
_WEEK = 7


def slot(policy: BriefPolicy, day: date) -> datetime:
    """The brief's time on local ``day`` (aware, UTC), whether or not ``day`` is one of its
    days. A local time skipped by a DST change is read with the offset in force before
    the change (so it lands after the gap); a repeated one is its first occurrence."""
    local = datetime.combine(day, policy.at).replace(tzinfo=policy.timezone, fold=0)
    return local.astimezone(UTC)


def _slots_back(policy: BriefPolicy, now: datetime) -> datetime | None:
    """The latest slot at or before ``now``, or None if the policy has no days."""
    today = now.astimezone(policy.timezone).date()
    for back in range(_WEEK + 1):
        day = today - timedelta(days=back)
        if day.weekday() in policy.days and (moment := slot(policy, day)) <= now:
            return moment
    return None


def brief_due(policy: BriefPolicy, last_sent_day: date | None, now: datetime) -> datetime | None:
    """The slot whose brief is due at ``now`` (send it now, for that slot's day), or None.

    The latest slot at or before ``now`` is due unless a brief was already recorded
    for its local day or a later one. ``last_sent_day`` None (never sent): only a
    slot of today's local date is due."""
    latest = _slots_back(policy, now)
    if latest is None:
        return None
    day = latest.astimezone(policy.timezone).date()
    if last_sent_day is None:
        return latest if day == now.astimezone(policy.timezone).date() else None
    return latest if day > last_sent_day else None


def brief_day(policy: BriefPolicy, moment: datetime) -> date:
    """The local day of a slot (its key in the state and the outbox)."""
    return moment.astimezone(policy.timezone).date()


def next_brief(policy: BriefPolicy, after: datetime) -> datetime | None:
    """The first slot strictly after ``after``, or None if the policy has no days."""
    today = after.astimezone(policy.timezone).date()
    for ahead in range(_WEEK + 2):
        day = today + timedelta(days=ahead)
        if day.weekday() in policy.days and (moment := slot(policy, day)) > after:
            return moment
    return None
