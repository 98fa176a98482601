"""The iCalendar export: read back by an independent parser (icalendar), byte rules checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar, Component, Timezone
from icalendar.prop import vRecur

from notifier.deadlines.ics import FOLD_AT, duration, escape_text, fold, to_ics, vtimezone
from notifier.deadlines.planning import occurrences
from notifier.model import Deadline

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
MESSY = 'Tariffs, rare earths; 稀土 "quotes"\nsecond line \\ back\\slash'


def deadline(
    name: str = "pause",
    *,
    title: str = "Pause expires",
    due: datetime = datetime(2025, 7, 9, 0, 1, tzinfo=NY),
    zone: ZoneInfo = NY,
    remind: tuple[timedelta, ...] = (7 * DAY, 2 * HOUR),
    after: tuple[timedelta, ...] = (),
    at_due: bool = True,
    recur: str | None = None,
    link: str | None = "https://example.com/notice?id=1,2",
    notes: str | None = "Check the notice.",
) -> Deadline:
    return Deadline(
        name=name,
        title=title,
        due=due,
        timezone=zone,
        remind=remind,
        channels=("console",),
        severity="high",
        link=link,
        notes=notes,
        after=after,
        at_due=at_due,
        recur=recur,
    )


def parse(text: str) -> Calendar:
    return Calendar.from_ical(text)


def events(text: str) -> list[Component]:
    return list(parse(text).walk("VEVENT"))


def triggers(event: Component) -> list[timedelta]:
    return [alarm.decoded("TRIGGER") for alarm in event.walk("VALARM")]


def test_calendar_header_and_one_event_per_deadline() -> None:
    """The calendar says VERSION 2.0, PRODID, GREGORIAN, PUBLISH and its name; one VEVENT
    per deadline with a stable UID, DTSTAMP = now, zero duration, and it is transparent."""
    cal = parse(to_ics([deadline("a"), deadline("b", title="B")], now=NOW))
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == "-//notifier//deadlines//EN"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "notifier deadlines"
    a, b = cal.walk("VEVENT")
    assert [str(a["UID"]), str(b["UID"])] == ["a@notifier", "b@notifier"]
    assert [str(a["SUMMARY"]), str(b["SUMMARY"])] == ["Pause expires", "B"]
    assert a.decoded("DTSTAMP") == NOW
    assert a.decoded("DURATION") == timedelta(0)
    assert str(a["TRANSP"]) == "TRANSPARENT"


def test_dtstart_is_the_due_instant_in_the_deadline_zone() -> None:
    """DTSTART carries TZID=America/New_York and local time, and names the due instant."""
    text = to_ics([deadline()], now=NOW)
    assert "DTSTART;TZID=America/New_York:20250709T000100\r\n" in text
    (event,) = events(text)
    assert event.decoded("DTSTART") == datetime(2025, 7, 9, 4, 1, tzinfo=UTC)


def test_a_utc_deadline_is_written_in_utc_without_a_vtimezone() -> None:
    """A deadline in UTC uses the ``Z`` form and needs no VTIMEZONE."""
    utc = ZoneInfo("UTC")
    text = to_ics([deadline(due=datetime(2025, 7, 9, 4, 1, tzinfo=utc), zone=utc)], now=NOW)
    assert "DTSTART:20250709T040100Z\r\n" in text
    assert "VTIMEZONE" not in text
    assert events(text)[0].decoded("DTSTART") == datetime(2025, 7, 9, 4, 1, tzinfo=UTC)


def test_the_second_of_a_repeated_hour_is_written_in_utc() -> None:
    """01:30 EST on 2 November 2025 (the second 01:30) cannot be written as local time, which
    RFC 5545 reads as the first (EDT): it is written in UTC, and the instant survives."""
    second = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    text = to_ics([deadline(due=second.astimezone(NY))], now=NOW)
    assert "DTSTART:20251102T063000Z\r\n" in text
    assert events(text)[0].decoded("DTSTART") == second


def test_description_url_and_alarms() -> None:
    """DESCRIPTION holds the notes and the link, URL the link; one alarm per reminder:
    -P7D and -PT2H before, PT0S at due, P1D after."""
    (event,) = events(to_ics([deadline(after=(DAY,))], now=NOW))
    assert str(event["DESCRIPTION"]) == "Check the notice.\n\nhttps://example.com/notice?id=1,2"
    assert str(event["URL"]) == "https://example.com/notice?id=1,2"
    assert triggers(event) == [-7 * DAY, -2 * HOUR, timedelta(0), DAY]
    text = to_ics([deadline(after=(DAY,))], now=NOW)
    for trigger in ("TRIGGER:-P7D", "TRIGGER:-PT2H", "TRIGGER:PT0S", "TRIGGER:P1D"):
        assert f"\r\n{trigger}\r\n" in text
    alarm = event.walk("VALARM")[0]
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert str(alarm["DESCRIPTION"]) == "Pause expires — due in 7d"


def test_no_link_no_notes_no_at_due() -> None:
    """Without link and notes there is no URL or DESCRIPTION; ``at_due=False`` drops PT0S."""
    (event,) = events(to_ics([deadline(link=None, notes=None, at_due=False)], now=NOW))
    assert "URL" not in event
    assert "DESCRIPTION" not in event
    assert triggers(event) == [-7 * DAY, -2 * HOUR]


def test_recurring_deadline_has_its_rule_with_until_in_utc() -> None:
    """RRULE is written as configured, with a local UNTIL turned into UTC (RFC 5545 requires
    UTC with a TZID start): 31 December 2026 00:00 New York is 05:00Z."""
    d = deadline(
        due=datetime(2025, 1, 15, 9, 0, tzinfo=NY),
        recur="FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20261231",
    )
    (event,) = events(to_ics([d], now=NOW))
    rule = event["RRULE"]
    assert isinstance(rule, vRecur)
    assert rule["FREQ"] == ["MONTHLY"]
    assert rule["BYMONTHDAY"] == [15]
    assert rule["UNTIL"] == [datetime(2026, 12, 31, 5, 0, tzinfo=UTC)]


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe"])
def test_recurrence_read_back_matches_notifier_occurrences(zone: str) -> None:
    """Expanding the exported DTSTART + RRULE gives the very instants notifier plans: a
    monthly 09:00 deadline stays at 09:00 local across DST in the calendar too."""
    tz = ZoneInfo(zone)
    d = deadline(due=datetime(2025, 1, 15, 9, 0, tzinfo=tz), zone=tz, recur="FREQ=MONTHLY;COUNT=24")
    text = to_ics([d], now=NOW)
    (event,) = events(text)
    in_event = text.split("BEGIN:VEVENT", 1)[1].split("\r\n")
    written = next(line for line in in_event if line.startswith("RRULE:"))
    rule = rrulestr(written, dtstart=event.decoded("DTSTART"))
    exported = [o.astimezone(UTC) for o in rule]
    planned = occurrences(d, datetime(2024, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    assert exported == [o.astimezone(UTC) for o in planned]
    assert len({o.utcoffset() for o in planned}) == 2  # DST changed; the local time did not


def test_exdate_is_written_in_the_start_form() -> None:
    """An EXDATE in the rule is local time, so it gets the deadline's TZID."""
    d = deadline(
        due=datetime(2025, 1, 6, 9, 0, tzinfo=NY),
        recur="FREQ=WEEKLY;COUNT=4\nEXDATE:20250113T090000",
    )
    text = to_ics([d], now=NOW)
    assert "\r\nEXDATE;TZID=America/New_York:20250113T090000\r\n" in text
    (event,) = events(text)
    assert event.decoded("EXDATE").dts[0].dt == datetime(2025, 1, 13, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "zone",
    [
        "America/New_York",
        "Europe/London",
        "Europe/Dublin",
        "Australia/Lord_Howe",
        "Asia/Shanghai",
        "Asia/Jerusalem",
        "America/Santiago",
    ],
)
def test_vtimezone_agrees_with_zoneinfo(zone: str) -> None:
    """Read by icalendar, the generated VTIMEZONE gives zoneinfo's UTC offset at ~7 300
    instants (every 31 hours) in its span and for 14 years after it (open-ended yearly
    rules), away from the changes themselves (where icalendar reads the repeated hour its
    own way)."""
    tz = ZoneInfo(zone)
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2036, 1, 1, tzinfo=UTC)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x", *vtimezone(tz, start, end)]
    text = "\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n"
    (component,) = parse(text).walk("VTIMEZONE")
    assert isinstance(component, Timezone)
    theirs = component.to_tz(lookup_tzid=False)
    moment, checked = start + DAY, 0
    while moment < datetime(2050, 1, 1, tzinfo=UTC):
        near_change = (moment - 3 * HOUR).astimezone(tz).utcoffset() != (
            moment + 3 * HOUR
        ).astimezone(tz).utcoffset()
        if not near_change:
            assert moment.astimezone(theirs).utcoffset() == moment.astimezone(tz).utcoffset()
            checked += 1
        moment += 31 * HOUR
    assert checked > 7_000


def test_vtimezone_uses_yearly_rules() -> None:
    """New York's changes since 2007 are two open-ended yearly rules, not a list of dates."""
    lines = vtimezone(NY, datetime(2024, 1, 1, tzinfo=UTC), datetime(2036, 1, 1, tzinfo=UTC))
    assert "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU" in lines
    assert "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU" in lines
    assert sum(line.startswith("BEGIN:") for line in lines) == 4  # VTIMEZONE + 3 observances


def test_one_vtimezone_per_zone_used() -> None:
    """Two New York deadlines and a London one: two VTIMEZONEs, New York first."""
    london = ZoneInfo("Europe/London")
    text = to_ics(
        [
            deadline("a"),
            deadline("b"),
            deadline("c", due=datetime(2025, 1, 1, tzinfo=london), zone=london),
        ],
        now=NOW,
    )
    assert [str(tz["TZID"]) for tz in parse(text).walk("VTIMEZONE")] == [
        "America/New_York",
        "Europe/London",
    ]


def test_text_round_trips_exactly() -> None:
    """Commas, semicolons, quotes, backslashes, newlines and Chinese survive a round trip."""
    d = deadline(title=MESSY, notes=MESSY, link=None)
    (event,) = events(to_ics([d], now=NOW))
    assert str(event["SUMMARY"]) == MESSY
    assert str(event["DESCRIPTION"]) == MESSY


def test_escaping_and_control_characters() -> None:
    r"""``\`` ``;`` ``,`` are escaped, CRLF/CR/LF become ``\n``, other controls are dropped."""
    assert escape_text("a,b;c\\d") == "a\\,b\\;c\\\\d"
    assert escape_text("1\r\n2\r3\n4") == "1\\n2\\n3\\n4"
    assert escape_text("bell\x07 tab\t") == "bell tab\t"


def test_long_lines_fold_at_75_octets_never_inside_a_character() -> None:
    """A long Chinese title is folded: every physical line is at most 75 octets, decodes as
    UTF-8 on its own, and unfolding gives the title back."""
    title = "稀土出口管制" * 30 + " tail"
    text = to_ics([deadline(title=title)], now=NOW)
    raw = text.encode("utf-8")
    physical = raw.split(b"\r\n")
    assert all(len(line) <= FOLD_AT for line in physical)
    for line in physical:
        line.decode("utf-8")  # raises if a sequence was split
    assert any(line.startswith(b" ") for line in physical)
    assert str(events(text)[0]["SUMMARY"]) == title


@given(st.text(min_size=0, max_size=400))
def test_fold_property(line: str) -> None:
    """Any text: pieces of at most 75 octets, each whole UTF-8, that unfold to the input."""
    folded = fold(line)
    pieces = folded.split("\r\n ")
    assert "".join(pieces) == line
    assert all(len(p.encode("utf-8")) + (i > 0) <= FOLD_AT for i, p in enumerate(pieces))


def test_every_line_ends_with_crlf() -> None:
    """Content lines end in CRLF; no bare LF or CR anywhere."""
    text = to_ics([deadline(title=MESSY, notes=MESSY)], now=NOW)
    assert text.endswith("END:VCALENDAR\r\n")
    assert text.count("\n") == text.count("\r\n") == text.count("\r")


def test_empty_deadline_list_is_a_valid_empty_calendar() -> None:
    """No deadlines: a calendar with its header, no events, no time zones."""
    text = to_ics([], now=NOW)
    cal = parse(text)
    assert str(cal["VERSION"]) == "2.0"
    assert cal.walk("VEVENT") == []
    assert cal.walk("VTIMEZONE") == []
    assert text.startswith("BEGIN:VCALENDAR\r\n")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (7 * DAY, "P7D"),
        (-7 * DAY, "-P7D"),
        (2 * HOUR, "PT2H"),
        (-(DAY + 2 * HOUR), "-P1DT2H"),
        (HOUR + timedelta(seconds=30), "PT1H0M30S"),
        (timedelta(seconds=90), "PT1M30S"),
        (timedelta(0), "PT0S"),
    ],
)
def test_duration(delta: timedelta, text: str) -> None:
    """Durations: whole days as ``D``, the rest as ``T…H…M…S`` with no gap in the units."""
    assert duration(delta) == text
