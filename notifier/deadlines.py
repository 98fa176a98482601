"""Reminder plans for deadlines — pure functions of the deadline and ``now``.

``plan(deadline)`` lists every reminder a deadline calls for: one per offset in
``remind`` (that long before the due time) and one at the due time itself.
``next_reminder(plan, now)`` picks the first one still ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from notifier.config import Deadline


@dataclass(frozen=True, slots=True)
class Reminder:
    """One planned notice about a deadline.

    ``offset`` is how long before the due time it is sent (0 = at the due time).
    """

    deadline: str
    at: datetime
    offset: timedelta


def plan(deadline: Deadline) -> tuple[Reminder, ...]:
    """Return the deadline's reminders, earliest first, one per distinct offset."""
    offsets = sorted({*deadline.remind, timedelta(0)}, reverse=True)
    return tuple(Reminder(deadline.name, deadline.due - off, off) for off in offsets)


def next_reminder(reminders: Sequence[Reminder], now: datetime) -> Reminder | None:
    """Return the first reminder at or after ``now``, or ``None`` if all are past."""
    return next((r for r in reminders if r.at >= now), None)
