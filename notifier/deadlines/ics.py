"""Deadlines as an iCalendar feed (RFC 5545), written by hand: no runtime dependency.

:func:`to_ics` turns the config's deadlines into one ``VCALENDAR`` that a
calendar app can subscribe to: one ``VEVENT`` per deadline (a recurring one
carries its ``RRULE``), with one ``VALARM`` per reminder. It is pure: the time
(``DTSTAMP``) is a parameter.

Decisions:

* **Times in the deadline's zone, with a generated VTIMEZONE.** ``DTSTART`` is
  written as local time with ``TZID=<IANA name>`` and a ``VTIMEZONE`` built from
  the zone's rules (RFC 5545 requires one for each TZID); a deadline in UTC is
  written as ``…Z``. UTC everywhere would be simpler but wrong: an RRULE on a
  UTC start recurs in UTC, so a monthly 09:00 New York deadline would show at
  08:00 or 10:00 for half the year, and an alarm's ``-P1D`` would be 24 hours
  instead of notifier's "same time the day before". Clients that know the IANA
  name (Google, Apple) may use their own copy; others (Outlook) read ours.
* A due time that is the *second* of a repeated hour (clocks going back)
  cannot be written in local time — RFC 5545 reads an ambiguous time as the
  first, and a skipped one with the offset before the gap, as
  :mod:`notifier.deadlines.planning` does — so that one is written in UTC.
* **VTIMEZONE** transitions are found by sampling the zone daily and
  bisecting to the second, from a year before the earliest alarm to 10 years
  after ``max(now, last follow-up)``. Transitions that follow one yearly rule ("2nd
  Sunday of March at 02:00") become one observance with an RRULE; the last such
  run of a zone that still changes its clocks is left open-ended (its current
  rule, as zoneinfo itself extrapolates); irregular ones are listed one by one.
* **Events** are points in time (``DURATION:PT0S``) and ``TRANSP:TRANSPARENT``
  (a deadline does not make anyone busy). ``UID`` is ``<name>@notifier``, stable
  across exports. ``UNTIL`` in a rule is turned into UTC, as RFC 5545 requires.
* **Alarms**: ``TRIGGER`` is relative to the start — ``-P7D`` before,
  ``PT0S`` at, ``P1D`` after. Whole days are written as nominal days (``D``) and
  the rest as exact time (``T…H…M…S``): RFC 5545's own split, and the same as
  notifier's calendar days and absolute hours.
* **Text** is escaped (``\\``, ``;``, ``,``, newlines as ``\\n``); other control
  characters are dropped. Lines are folded at 75 octets, never inside a UTF-8
  sequence, and end with CRLF.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifier.deadlines.planning import offsets, resolve_local
from notifier.durations import format_duration
from notifier.model import Deadline

#: Longest physical line, in octets, before folding (RFC 5545 §3.1).
FOLD_AT = 75
#: Years of time-zone transitions written after ``max(now, last follow-up)``.
ZONE_YEARS = 10
#: A yearly run of transitions at least this long, still going at the end of the
#: span, is written open-ended.
OPEN_RUN = 7

_UTC_KEYS = frozenset(
    {"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"}
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # not TAB; newlines are handled first
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)


def escape_text(text: str) -> str:
    r"""Escape a TEXT value: ``\`` ``;`` ``,`` and newlines (as ``\n``); drop other controls."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold one content line at :data:`FOLD_AT` octets, never inside a UTF-8 sequence.

    Continuation lines start with one space, which counts towards their length.
    """
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > FOLD_AT:
            pieces.append("".join(current))
            current, size = [], 1
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def duration(delta: timedelta) -> str:
    """An RFC 5545 duration: ``P7D``, ``-PT2H``, ``P1DT2H``, ``PT1H0M30S``, ``PT0S``.

    Whole days are nominal days; seconds are the smallest unit written.
    """
    sign = "-" if delta < timedelta(0) else ""
    days, rest = divmod(abs(delta) // _SECOND, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(hours, "H"), (minutes, "M"), (seconds, "S")]
    used = [i for i, (value, _) in enumerate(parts) if value]
    text = f"{sign}P{days}D" if days else f"{sign}P"
    if used:  # the grammar allows no gap: 1 h and 30 s is T1H0M30S
        text += "T" + "".join(f"{v}{u}" for v, u in parts[used[0] : used[-1] + 1])
    elif not days:
        text = "PT0S"
    return text


def _stamp(moment: datetime) -> str:
    """A DATE-TIME without zone: ``20250310T090000`` (naive, or wall time of an aware one)."""
    m = moment
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}"


def _utc(moment: datetime) -> str:
    return _stamp(moment.astimezone(UTC)) + "Z"


def _offset(delta: timedelta) -> str:
    sign = "-" if delta < timedelta(0) else "+"
    hours, rest = divmod(abs(delta) // _SECOND, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def _param(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ':;,"') else value


def _parse_naive(value: str) -> datetime | None:
    for form in ("%Y%m%dT%H%M%S", "%Y%m%d"):
        try:
            return datetime.strptime(value, form)
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class _Start:
    """How a deadline's times are written: local with a TZID, or UTC."""

    zone: ZoneInfo
    local: bool

    def value(self, wall: datetime) -> str:
        """``;TZID=…:<wall>`` or ``:<utc>Z`` for a naive wall-clock time in the zone."""
        if self.local:
            return f";TZID={_param(self.zone.key)}:{_stamp(wall)}"
        return ":" + _utc(resolve_local(wall, self.zone))

    def until(self, value: str) -> str:
        """An UNTIL value in UTC (RFC 5545 requires it with a TZID or UTC start)."""
        if value.endswith("Z"):
            return value
        wall = _parse_naive(value)
        return value if wall is None else _utc(resolve_local(wall, self.zone))


def _start(deadline: Deadline) -> _Start:
    zone = deadline.timezone
    if zone.key in _UTC_KEYS:
        return _Start(zone, local=False)
    wall = deadline.due.astimezone(zone).replace(tzinfo=None, fold=0)
    exact = resolve_local(wall, zone).astimezone(UTC) == deadline.due.astimezone(UTC)
    return _Start(zone, local=exact)


def _rule_lines(recur: str, start: _Start) -> list[str]:
    """The recurrence as content lines: UNTIL in UTC, RDATE/EXDATE in DTSTART's form."""
    lines: list[str] = []
    for line in recur.split():
        head, sep, value = line.partition(":")
        name = head.upper() if sep else "RRULE"
        value = value if sep else line
        if name in ("RRULE", "EXRULE"):
            parts = []
            for part in value.upper().split(";"):
                key, _, arg = part.partition("=")
                parts.append(f"UNTIL={start.until(arg)}" if key == "UNTIL" else part)
            lines.append(f"{name}:{';'.join(parts)}")
        elif name in ("RDATE", "EXDATE"):
            for item in value.split(","):
                wall = _parse_naive(item)
                lines.append(f"{name}:{item}" if wall is None else name + start.value(wall))
        elif name != "DTSTART":
            lines.append(line)
    return lines


def _alarm(deadline: Deadline, offset: timedelta) -> list[str]:
    if offset > timedelta(0):
        says = f"{deadline.title} — due in {format_duration(offset)}"
    elif offset == timedelta(0):
        says = f"{deadline.title} — due now"
    else:
        says = f"{deadline.title} — was due {format_duration(-offset)} ago"
    return [
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{escape_text(says)}",
        f"TRIGGER:{duration(-offset)}",
        "END:VALARM",
    ]


def _event(deadline: Deadline, now: datetime) -> list[str]:
    start = _start(deadline)
    wall = deadline.due.astimezone(deadline.timezone).replace(tzinfo=None, fold=0)
    dtstart = start.value(wall) if start.local else ":" + _utc(deadline.due)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(deadline.name)}@notifier",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART{dtstart}",
        "DURATION:PT0S",
        f"SUMMARY:{escape_text(deadline.title)}",
    ]
    about = "\n\n".join(text for text in (deadline.notes, deadline.link) if text)
    if about:
        lines.append(f"DESCRIPTION:{escape_text(about)}")
    if deadline.link:
        lines.append(f"URL:{_CONTROL.sub('', deadline.link)}")
    if deadline.recur:
        lines += _rule_lines(deadline.recur, start)
    lines.append("TRANSP:TRANSPARENT")
    for offset in offsets(deadline):
        lines += _alarm(deadline, offset)
    lines.append("END:VEVENT")
    return lines


# --------------------------------------------------------------------------- time zones

_State = tuple[timedelta, bool, str]  # UTC offset, daylight saving?, abbreviation


def _state(zone: ZoneInfo, moment: datetime) -> _State:
    local = moment.astimezone(zone)
    dst = local.dst() or timedelta(0)
    return (local.utcoffset() or timedelta(0), dst > timedelta(0), local.tzname() or "")


@dataclass(frozen=True, slots=True)
class _Transition:
    onset: datetime  # UTC
    before: _State
    after: _State

    @property
    def wall(self) -> datetime:
        """The onset as the clocks showed it just before (an observance's DTSTART)."""
        return (self.onset + self.before[0]).replace(tzinfo=None)

    @property
    def daylight(self) -> bool:
        """Clocks going forward start DAYLIGHT time, going back STANDARD time.

        Not zoneinfo's ``dst()``: Europe/Dublin's winter time is a *negative*
        DST there, which calendar software does not expect (tzdata's
        "rearguard" form, which they follow, calls it standard time).
        """
        if self.after[0] != self.before[0]:
            return self.after[0] > self.before[0]
        return self.after[1]


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[_Transition]:
    """Every change of offset, DST flag or abbreviation in ``[start, end)``, by onset."""
    found: list[_Transition] = []
    moment, state = start, _state(zone, start)
    while moment < end:
        step = min(moment + _DAY, end)
        if _state(zone, step) == state:
            moment = step
            continue
        low, high = 0, (step - moment) // _SECOND  # state(low) is old, state(high) is new
        while high - low > 1:
            middle = (low + high) // 2
            if _state(zone, moment + middle * _SECOND) == state:
                low = middle
            else:
                high = middle
        onset = moment + high * _SECOND
        new = _state(zone, onset)
        found.append(_Transition(onset, state, new))
        moment, state = onset, new
    return found


#: A yearly date rule: ``"last"`` (the last such weekday of the month), or the
#: first day ``d`` of a 7-day window ``d..d+6`` holding it ("Sunday on or after the 8th").
_DayRule = int | str


def _day_rules(wall: datetime) -> set[_DayRule]:
    """Every day rule that picks this date (for its weekday)."""
    length = calendar.monthrange(wall.year, wall.month)[1]
    rules: set[_DayRule] = set(range(max(1, wall.day - 6), min(wall.day, length - 6) + 1))
    if wall.day > length - 7:
        rules.add("last")
    return rules


def _by_day(rules: set[_DayRule], weekday: int) -> str:
    """The RRULE parts for one of ``rules``: ``-1SU``, ``2SU``, or a BYMONTHDAY window."""
    code = _WEEKDAYS[weekday]
    if "last" in rules:
        return f"BYDAY=-1{code}"
    windows = sorted(r for r in rules if isinstance(r, int))
    nth = [w for w in windows if w in (1, 8, 15, 22)]
    if nth:
        return f"BYDAY={(nth[0] - 1) // 7 + 1}{code}"
    first = windows[0]
    return f"BYDAY={code};BYMONTHDAY={','.join(str(d) for d in range(first, first + 7))}"


@dataclass(slots=True)
class _Run:
    """Transitions in consecutive years that one yearly RRULE describes."""

    members: list[_Transition]
    rules: set[_DayRule]


def _runs(transitions: list[_Transition]) -> list[_Run]:
    Signature = tuple[_State, _State, int, time, int]
    runs: list[_Run] = []
    latest: dict[Signature, _Run] = {}
    for t in transitions:
        wall = t.wall
        sig: Signature = (t.before, t.after, wall.month, wall.time(), wall.weekday())
        rules = _day_rules(wall)
        run = latest.get(sig)
        if run and run.members[-1].wall.year + 1 == wall.year and run.rules & rules:
            run.members.append(t)
            run.rules &= rules
            continue
        latest[sig] = _Run([t], rules)
        runs.append(latest[sig])
    return runs


def _observance(
    daylight: bool, wall: datetime, before: timedelta, after: _State, rule: str | None = None
) -> list[str]:
    kind = "DAYLIGHT" if daylight else "STANDARD"
    lines = [
        f"BEGIN:{kind}",
        f"DTSTART:{_stamp(wall)}",
        f"TZOFFSETFROM:{_offset(before)}",
        f"TZOFFSETTO:{_offset(after[0])}",
    ]
    if rule:
        lines.append(f"RRULE:{rule}")
    if after[2]:
        lines.append(f"TZNAME:{escape_text(after[2])}")
    lines.append(f"END:{kind}")
    return lines


def vtimezone(zone: ZoneInfo, start: datetime, end: datetime) -> list[str]:
    """The content lines of a VTIMEZONE for ``zone``, exact from ``start`` to ``end`` (UTC).

    A first observance gives the offset in force at ``start``.
    """
    first = _state(zone, start)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone.key}"]
    lines += _observance(first[1], (start + first[0]).replace(tzinfo=None), first[0], first)
    for run in _runs(_transitions(zone, start, end)):
        head, tail = run.members[0], run.members[-1]
        rule = None
        if len(run.members) > 1:
            wall = head.wall
            rule = f"FREQ=YEARLY;BYMONTH={wall.month};{_by_day(run.rules, wall.weekday())}"
            still_going = tail.onset.year >= end.year - 1 and len(run.members) >= OPEN_RUN
            if not still_going:
                rule += f";UNTIL={_utc(tail.onset)}"
        lines += _observance(head.daylight, head.wall, head.before[0], head.after, rule)
    lines.append("END:VTIMEZONE")
    return lines


def _span(deadlines: Sequence[Deadline], now: datetime) -> tuple[datetime, datetime]:
    """From January a year before the earliest alarm to ZONE_YEARS after ``now`` or the last."""
    earliest = min(d.due - max(offsets(d), default=timedelta(0)) for d in deadlines)
    latest = max(now, *(d.due - min(offsets(d), default=timedelta(0)) for d in deadlines))
    first_year = earliest.astimezone(UTC).year - 1
    last_year = latest.astimezone(UTC).year + ZONE_YEARS + 1
    return datetime(first_year, 1, 1, tzinfo=UTC), datetime(last_year, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- calendar


def to_ics(
    deadlines: Sequence[Deadline], *, now: datetime, prodid: str = "-//notifier//deadlines//EN"
) -> str:
    """The deadlines as the text of one iCalendar object (CRLF line endings)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{escape_text(prodid)}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:notifier deadlines",
    ]
    by_zone: dict[str, list[Deadline]] = {}
    for d in deadlines:
        if _start(d).local:
            by_zone.setdefault(d.timezone.key, []).append(d)
    for group in by_zone.values():
        lines += vtimezone(group[0].timezone, *_span(group, now))
    for d in deadlines:
        lines += _event(d, now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
