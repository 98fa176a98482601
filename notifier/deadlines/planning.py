"""Reminder plans for deadlines, and what is due now — pure functions of the config and ``now``.

No I/O and no clock: every function that depends on the time takes ``now``.

::

    Deadline ──occurrences()──▶ due times ──plan()──▶ Reminders ──to_send(done, now)──▶ [ToSend]
                                                       │
                                                       └──next_reminder(now)──▶ the next one

Meanings (also pinned by ``tests/test_deadlines.py``):

* **Offsets.** ``remind`` offsets are sent that long *before* an occurrence's
  due time, ``after`` offsets that long *after* it, and ``at_due`` adds one *at*
  it. The whole days of an offset are **calendar days in the deadline's zone**
  (same wall-clock time: "1 day before 09:00" is 09:00 the day before, even
  across a DST change, when that is 23 or 25 hours); the rest (hours, minutes,
  seconds) is **absolute time** ("2 hours before" is 7 200 seconds before). So
  ``1d2h`` before 09:00 is 07:00 the day before. Should a calendar shift not
  land strictly on its side of the due time (only in zones that skipped a whole
  day), the absolute offset is used instead.
* **DST.** A local time the clocks skip (e.g. 02:30 on a spring-forward day)
  is read with the offset before the change, which moves it *forward by the gap*
  (02:30 → 03:30 EDT); an ambiguous local time (repeated when clocks go back)
  means the *first* one (``fold=0``). These are RFC 5545's rules too, so an
  exported calendar (:mod:`notifier.deadlines.ics`) agrees.
* **Recurrence.** ``recur`` is an RRULE expanded by dateutil over *naive local
  wall-clock times* from the first due time's local time, each then placed in
  the zone as above — a monthly 09:00 deadline stays at 09:00 local all year.
  The first due time is always an occurrence (as DTSTART is in RFC 5545).
  Expansion is bounded by the window asked for and by :data:`MAX_SCAN`.
* **Identity.** :attr:`Reminder.key` names the deadline, the occurrence (UTC)
  and the offset: it is stable across restarts and changes if the due time does.
* **Catch-up** (:func:`due`): per occurrence, only the most recent reminder that
  has come is sent, once; older missed ones are folded into it (never a burst).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from notifier.errors import NotifierError
from notifier.model import Deadline

#: A reminder sent more than this after its planned time is marked late.
LATE_AFTER = timedelta(minutes=1)
#: How far ahead :func:`plan` lists a recurring deadline's reminders by default.
HORIZON = timedelta(days=400)
#: How long after its last reminder a past occurrence of a recurring deadline
#: stays in :func:`plan` (so a reminder missed during a short outage is caught up).
LOOKBACK = timedelta(days=1)
#: Most recurrence instances examined for one :func:`occurrences` call.
MAX_SCAN = 100_000

_DAY = timedelta(days=1)
#: Calendar days differ from 24-hour periods by the DST change (at most a day,
#: when a zone skipped a date): windows are widened by this, then filtered exactly.
_SLACK = timedelta(days=2)

Kind = Literal["before", "at", "after"]


class RecurrenceTooDense(NotifierError, ValueError):
    """A recurring deadline's rule yields more than :data:`MAX_SCAN` instances to examine.

    Fixing the rule (a coarser ``FREQ``) is the remedy; retrying cannot help.
    """


@dataclass(frozen=True, slots=True)
class Reminder:
    """One planned notice about one occurrence of a deadline.

    ``offset`` > 0: that long before ``due``; 0: at ``due``; < 0: that long after
    it (a follow-up). ``at`` is when to send it and ``due`` the occurrence's due
    time, both in UTC: show them in the deadline's zone. (UTC because Python
    compares two datetimes of one zone by wall-clock time, and finds a time in
    a repeated hour equal to nothing in another zone — PEP 495.)
    """

    deadline: str
    due: datetime
    at: datetime
    offset: timedelta

    @property
    def kind(self) -> Kind:
        """``before``, ``at`` or ``after`` the due time."""
        if self.offset > timedelta(0):
            return "before"
        return "at" if self.offset == timedelta(0) else "after"

    @property
    def key(self) -> str:
        """Stable identity, e.g. ``pause@2025-07-09T04:01:00+00:00+86400s``.

        Used to record "sent" across restarts: the same deadline, occurrence and
        offset always give the same key.
        """
        return f"{self.deadline}@{self.due.astimezone(UTC).isoformat()}{_seconds(self.offset)}"


@dataclass(frozen=True, slots=True)
class ToSend:
    """A reminder to send now.

    ``late``: sent more than ``late_after`` after its planned time. ``folded``:
    older missed reminders of the same occurrence, not sent separately — record
    them as done along with ``reminder``.
    """

    reminder: Reminder
    late: bool
    folded: tuple[Reminder, ...] = ()


def _seconds(offset: timedelta) -> str:
    micros = offset // timedelta(microseconds=1)
    whole, frac = divmod(abs(micros), 1_000_000)
    sign = "-" if micros < 0 else "+"
    return f"{sign}{whole}" + (f".{frac:06d}" if frac else "") + "s"


def resolve_local(naive: datetime, zone: ZoneInfo) -> datetime:
    """Place a naive wall-clock time in ``zone``: skipped → forward by the gap; ambiguous → first.

    ``fold=0`` gives both: in a gap it applies the offset from before the change.
    """
    return naive.replace(tzinfo=zone, fold=0)


def _canonical(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` in ``zone`` as the clocks there show it (a skipped 02:30 becomes 03:30).

    Through UTC, because ``astimezone`` to the same zone changes nothing.
    """
    return moment.astimezone(UTC).astimezone(zone)


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


def shift(due: datetime, offset: timedelta, zone: ZoneInfo) -> datetime:
    """When a reminder ``offset`` before ``due`` is sent (negative: after), in UTC.

    Whole days are calendar days in ``zone`` at the same wall-clock time; the
    rest is absolute time. Falls back to the absolute offset if a calendar
    shift would not land strictly before (or after) ``due``.
    """
    # Arithmetic on aware datetimes is wall-clock arithmetic in their zone: work in UTC.
    due_utc = due.astimezone(UTC)
    exact = due_utc - offset
    days, rest = divmod(abs(offset), _DAY)
    if not days:
        return exact
    sign = 1 if offset > timedelta(0) else -1
    try:
        moved = resolve_local(_wall(due, zone) - sign * days * _DAY, zone).astimezone(UTC)
    except OverflowError:
        return exact
    at = moved - sign * rest
    on_its_side = at < due_utc if sign > 0 else at > due_utc
    return at if on_its_side else exact


def occurrences(deadline: Deadline, start: datetime, end: datetime) -> list[datetime]:
    """Due times of ``deadline`` in ``[start, end]``, ascending and distinct, in its zone.

    A deadline without ``recur`` has one occurrence, ``deadline.due``. A
    recurring one is expanded over naive local times in its zone (see the module
    docstring); two local times that name the same instant (one skipped by DST)
    count once. Raises :class:`RecurrenceTooDense` when more than
    :data:`MAX_SCAN` rule instances would have to be examined.
    """
    zone = deadline.timezone
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if not deadline.recur:
        return [_canonical(deadline.due, zone)] if start <= deadline.due <= end else []
    first = _wall(deadline.due, zone)
    rules = rrulestr(deadline.recur, dtstart=first, forceset=True)
    rules.rdate(first)
    low = _wall(start, zone) - _SLACK
    high = _wall(end, zone) + _SLACK
    found: dict[datetime, datetime] = {}  # by UTC instant: two wall times may name one
    for scanned, naive in enumerate(rules):
        if naive > high:
            break
        if scanned >= MAX_SCAN:
            raise RecurrenceTooDense(
                f"deadline {deadline.name!r}: the rule {deadline.recur!r} recurs too often "
                f"(more than {MAX_SCAN} instances up to {end:%Y-%m-%d}); use a coarser FREQ"
            )
        if naive < low:
            continue
        moment = deadline.due if naive == first else resolve_local(naive, zone)
        if start <= moment <= end:
            found.setdefault(moment.astimezone(UTC), _canonical(moment, zone))
    return [found[k] for k in sorted(found)]


def offsets(deadline: Deadline) -> tuple[timedelta, ...]:
    """Distinct offsets: ``remind``, 0 if ``at_due``, minus each ``after``; longest before first."""
    wanted = {*deadline.remind, *(-a for a in deadline.after)}
    if deadline.at_due:
        wanted.add(timedelta(0))
    return tuple(sorted(wanted, reverse=True))


def _order(r: Reminder) -> tuple[datetime, datetime, timedelta]:
    """Plan order: by send time; ties by occurrence, then the offset nearest the due time last."""
    return (r.at, r.due, -r.offset)


def _reminders(deadline: Deadline, due_at: datetime) -> list[Reminder]:
    due_at = due_at.astimezone(UTC)
    return [
        Reminder(deadline.name, due_at, shift(due_at, off, deadline.timezone), off)
        for off in offsets(deadline)
    ]


def plan(
    deadline: Deadline,
    *,
    now: datetime | None = None,
    horizon: timedelta = HORIZON,
    lookback: timedelta = LOOKBACK,
) -> tuple[Reminder, ...]:
    """Every reminder the deadline calls for, sorted by send time, keys unique.

    Each occurrence gets one reminder per distinct offset: each ``remind``
    (before), one at the due time if ``at_due`` (a 0 in ``remind`` is the same
    one), each ``after`` (follow-ups).

    A non-recurring deadline has one occurrence; ``now`` is ignored. A recurring
    one needs ``now`` (``ValueError`` otherwise) and lists the occurrences whose
    reminders reach into ``[now - lookback, now + horizon]``: an occurrence is
    kept, with *all* its reminders, when its last reminder is at or after
    ``now - lookback`` and its first at or before ``now + horizon``. An older
    occurrence (missed by an outage longer than ``lookback``) is not caught up.
    """
    if not deadline.recur:
        return tuple(sorted(_reminders(deadline, deadline.due), key=_order))
    if now is None:
        raise ValueError(f"deadline {deadline.name!r} recurs: plan() needs 'now'")
    offs = offsets(deadline)
    if not offs:
        return ()
    now = now.astimezone(UTC)
    early, late = now - lookback, now + horizon
    found = occurrences(deadline, early + offs[-1] - _SLACK, late + offs[0] + _SLACK)
    out: list[Reminder] = []
    for due_at in found:
        batch = _reminders(deadline, due_at)
        if max(r.at for r in batch) >= early and min(r.at for r in batch) <= late:
            out += batch
    return tuple(sorted(out, key=_order))


def next_reminder(reminders: Sequence[Reminder], now: datetime) -> Reminder | None:
    """Return the first reminder (in the given order) at or after ``now``, or ``None``."""
    return next((r for r in reminders if r.at >= now), None)


def to_send(
    reminders: Sequence[Reminder],
    done: Collection[str],
    now: datetime,
    *,
    since: datetime | None = None,
    late_after: timedelta = LATE_AFTER,
) -> list[ToSend]:
    """What to send at ``now``: at most one :class:`ToSend` per occurrence, ordered by send time.

    The catch-up rule, for each occurrence (reminders grouped by deadline and
    due time): of the reminders whose time has come (``at <= now``), only the
    **most recent** may be sent, and only if its key is not in ``done`` and
    (when ``since`` is given) it is not planned before ``since`` — reminders
    planned before a deadline was first tracked are never sent. The other
    reminders that have come, are not done and are not before ``since`` are
    ``folded`` into it. If the most recent one is done (or before ``since``),
    nothing is sent for that occurrence: an older reminder left over (say, an
    offset added to the config later) is stale. So a deadline long past sends
    nothing new unless one of its follow-ups (``after``) has come since.

    ``late`` is set when ``now - at > late_after``. Marking the returned
    reminders and their folded ones as done makes a second call at the same
    ``now`` return nothing.
    """
    now = now.astimezone(UTC)
    groups: dict[tuple[str, datetime], list[Reminder]] = {}
    for r in reminders:
        if r.at <= now:
            groups.setdefault((r.deadline, r.due), []).append(r)

    def pending(r: Reminder) -> bool:
        return r.key not in done and (since is None or r.at >= since)

    out: list[ToSend] = []
    for come in groups.values():
        latest = max(come, key=_order)
        if not pending(latest):
            continue
        folded = tuple(sorted((r for r in come if r is not latest and pending(r)), key=_order))
        out.append(ToSend(latest, now - latest.at > late_after, folded))
    return sorted(out, key=lambda d: _order(d.reminder))
