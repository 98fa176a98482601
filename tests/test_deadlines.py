"""Reminder plans and catch-up: pure functions of a deadline, ``done`` and ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.deadlines.planning import (
    LATE_AFTER,
    RecurrenceTooDense,
    Reminder,
    ToSend,
    next_reminder,
    occurrences,
    plan,
    to_send,
)
from notifier.model import Deadline

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
ZONES = [
    ZoneInfo(z)
    for z in ("America/New_York", "Europe/London", "Asia/Shanghai", "Australia/Lord_Howe", "UTC")
]
DUE = datetime(2025, 7, 9, 4, 1, tzinfo=UTC)
DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


def deadline(
    *remind: timedelta,
    due: datetime = DUE,
    zone: ZoneInfo = NY,
    after: tuple[timedelta, ...] = (),
    at_due: bool = True,
    recur: str | None = None,
    name: str = "pause",
) -> Deadline:
    """A resolved deadline as the config builds it (``remind`` longest first, unique)."""
    return Deadline(
        name=name,
        title="Pause expires",
        due=due,
        timezone=zone,
        remind=tuple(sorted(set(remind), reverse=True)),
        channels=("console",),
        severity="high",
        link=None,
        notes=None,
        after=tuple(sorted(set(after))),
        at_due=at_due,
        recur=recur,
    )


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A wall-clock time in ``zone`` (the first of two, if the clocks repeat it)."""
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def by_offset(reminders: tuple[Reminder, ...]) -> dict[timedelta, datetime]:
    return {r.offset: r.at for r in reminders}


# --------------------------------------------------------------------------- plan


def test_plan_has_one_reminder_per_offset_and_one_at_due() -> None:
    """[7d, 1d] gives three reminders: 7 days before, 1 day before, at the due time."""
    reminders = plan(deadline(7 * DAY, DAY))
    assert [r.at for r in reminders] == [DUE - 7 * DAY, DUE - DAY, DUE]
    assert [r.offset for r in reminders] == [7 * DAY, DAY, timedelta(0)]
    assert [r.kind for r in reminders] == ["before", "before", "at"]
    assert all(r.at.tzinfo is UTC and r.due == DUE for r in reminders)


def test_follow_ups_come_after_due_and_at_due_can_be_off() -> None:
    """``after`` adds follow-ups (negative offsets); ``at_due=False`` drops the one at due."""
    reminders = plan(deadline(DAY, after=(DAY, 7 * DAY), at_due=False))
    assert [(r.kind, r.at) for r in reminders] == [
        ("before", DUE - DAY),
        ("after", DUE + DAY),
        ("after", DUE + 7 * DAY),
    ]
    assert [r.offset for r in reminders] == [DAY, -DAY, -7 * DAY]


def test_zero_in_remind_is_the_at_due_reminder() -> None:
    """A ``0s`` in ``remind`` and ``at_due`` are one reminder, not two."""
    reminders = plan(deadline(timedelta(0), HOUR))
    assert [r.offset for r in reminders] == [HOUR, timedelta(0)]


def test_key_names_deadline_occurrence_in_utc_and_signed_offset() -> None:
    """Keys are stable text: ``name@<due in UTC><±seconds>s``."""
    due_ny = local(NY, 2025, 7, 9, 0, 1)
    keys = [r.key for r in plan(deadline(DAY, due=due_ny, after=(2 * HOUR,)))]
    assert keys == [
        "pause@2025-07-09T04:01:00+00:00+86400s",
        "pause@2025-07-09T04:01:00+00:00+0s",
        "pause@2025-07-09T04:01:00+00:00-7200s",
    ]


def test_next_reminder_is_the_first_not_yet_past() -> None:
    """Between the 7-day and 1-day reminders, the next is the 1-day one; after due, none."""
    reminders = plan(deadline(7 * DAY, DAY))
    assert next_reminder(reminders, DUE - 3 * DAY) == reminders[1]
    assert next_reminder(reminders, DUE) == reminders[2]
    assert next_reminder(reminders, DUE + timedelta(seconds=1)) is None


def test_non_recurring_plan_ignores_now() -> None:
    """Without ``recur`` the plan is the whole single occurrence, whatever ``now``."""
    d = deadline(DAY)
    assert plan(d) == plan(d, now=DUE + 1000 * DAY) == plan(d, now=DUE - 1000 * DAY)


# --------------------------------------------------------------------------- DST


def test_day_offsets_are_calendar_days_across_spring_forward_in_new_york() -> None:
    """1d before 09:00 EDT on 9 March 2025 (the change day) is 09:00 EST the day before: 23 h."""
    due_at = local(NY, 2025, 3, 9, 9, 0)
    at = by_offset(plan(deadline(DAY, 2 * HOUR, DAY + 2 * HOUR, due=due_at)))
    assert at[DAY] == local(NY, 2025, 3, 8, 9, 0)
    assert due_at - at[DAY] == 23 * HOUR
    assert at[2 * HOUR] == local(NY, 2025, 3, 9, 7, 0)
    assert at[DAY + 2 * HOUR] == local(NY, 2025, 3, 8, 7, 0)


def test_hour_offsets_are_absolute_across_spring_forward() -> None:
    """2h before 03:30 EDT on 9 March 2025 is 00:30 EST: 7 200 s earlier, not 01:30 wall time."""
    due_at = local(NY, 2025, 3, 9, 3, 30)
    (before, _) = plan(deadline(2 * HOUR, due=due_at))
    assert before.at == local(NY, 2025, 3, 9, 0, 30)
    assert due_at - before.at == 2 * HOUR


def test_day_offsets_are_calendar_days_across_fall_back_in_new_york() -> None:
    """1d before 09:00 EST on 2 November 2025 is 09:00 EDT on 1 November: 25 h."""
    due_at = local(NY, 2025, 11, 2, 9, 0)
    at = by_offset(plan(deadline(DAY, 3 * HOUR, due=due_at)))
    assert at[DAY] == local(NY, 2025, 11, 1, 9, 0)
    assert due_at - at[DAY] == 25 * HOUR
    assert due_at - at[3 * HOUR] == 3 * HOUR
    assert at[3 * HOUR] == local(NY, 2025, 11, 2, 6, 0)


def test_day_offsets_are_calendar_days_across_both_changes_in_london() -> None:
    """London: 1d before 09:00 BST on 30 March is 09:00 GMT (23 h); in October, 25 h."""
    spring = local(LONDON, 2025, 3, 30, 9, 0)
    at = by_offset(plan(deadline(DAY, due=spring, zone=LONDON)))
    assert at[DAY] == local(LONDON, 2025, 3, 29, 9, 0)
    assert spring - at[DAY] == 23 * HOUR
    autumn = local(LONDON, 2025, 10, 26, 9, 0)
    at = by_offset(plan(deadline(DAY, due=autumn, zone=LONDON)))
    assert at[DAY] == local(LONDON, 2025, 10, 25, 9, 0)
    assert autumn - at[DAY] == 25 * HOUR


def test_follow_up_days_are_calendar_days_too() -> None:
    """A 1d follow-up to 09:00 BST on 25 October 2025 is 09:00 GMT the next day (25 h later)."""
    due_at = local(LONDON, 2025, 10, 25, 9, 0)
    at = by_offset(plan(deadline(due=due_at, zone=LONDON, after=(DAY,))))
    assert at[-DAY] == local(LONDON, 2025, 10, 26, 9, 0)
    assert at[-DAY] - due_at == 25 * HOUR


def test_a_skipped_local_time_moves_forward_by_the_gap() -> None:
    """1d before 02:30 on 10 March 2025 would be 02:30 on 9 March, which NY skips: 03:30 EDT."""
    at = by_offset(plan(deadline(DAY, due=local(NY, 2025, 3, 10, 2, 30))))
    assert at[DAY] == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)
    assert at[DAY].astimezone(NY).strftime("%H:%M %Z") == "03:30 EDT"


def test_an_ambiguous_local_time_means_the_first() -> None:
    """1d before 01:30 on 3 November 2025 is 01:30 on 2 November, which NY repeats: the EDT one."""
    at = by_offset(plan(deadline(DAY, due=local(NY, 2025, 11, 3, 1, 30))))
    assert at[DAY] == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


# --------------------------------------------------------------------------- recurrence


@pytest.mark.parametrize(("zone", "offsets"), [(NY, {-5, -4}), (LONDON, {0, 1})])
def test_monthly_deadline_stays_at_the_same_local_time_across_dst(
    zone: ZoneInfo, offsets: set[int]
) -> None:
    """A monthly 09:00 deadline is at 09:00 local every month, so its UTC offset changes."""
    d = deadline(DAY, due=local(zone, 2025, 1, 15, 9, 0), zone=zone, recur="FREQ=MONTHLY")
    found = occurrences(d, datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    assert len(found) == 12
    assert all((o.day, o.hour, o.minute) == (15, 9, 0) for o in found)
    assert {int(o.utcoffset().total_seconds()) // 3600 for o in found} == offsets  # type: ignore[union-attr]
    reminders = plan(d, now=datetime(2025, 1, 1, tzinfo=UTC), horizon=365 * DAY)
    before = [r for r in reminders if r.kind == "before"]
    assert all(r.at.astimezone(zone).hour == 9 for r in before)
    assert [r.at.astimezone(zone).day for r in before] == [14] * 12


def test_recurring_local_time_skipped_by_dst_moves_forward() -> None:
    """A daily 02:30 deadline happens at 03:30 EDT on the day New York skips 02:30."""
    d = deadline(due=local(NY, 2025, 3, 7, 2, 30), recur="FREQ=DAILY;COUNT=4")
    found = occurrences(d, datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    assert [o.strftime("%d %H:%M %Z") for o in found] == [
        "07 02:30 EST",
        "08 02:30 EST",
        "09 03:30 EDT",
        "10 02:30 EDT",
    ]


def test_two_wall_times_naming_one_instant_are_one_occurrence() -> None:
    """Hourly at :30 through the spring gap: 02:30 (skipped) and 03:30 are one instant, once."""
    d = deadline(due=local(NY, 2025, 3, 9, 0, 30), recur="FREQ=HOURLY;COUNT=5")
    reminders = plan(d, now=datetime(2025, 3, 1, tzinfo=UTC))
    assert [r.due.astimezone(NY).strftime("%H:%M %Z") for r in reminders] == [
        "00:30 EST",
        "01:30 EST",
        "03:30 EDT",
        "04:30 EDT",
    ]
    assert len({r.key for r in reminders}) == 4


def test_the_first_due_time_is_always_an_occurrence() -> None:
    """``due`` counts even when the rule would not pick it (as DTSTART does in RFC 5545)."""
    d = deadline(due=local(NY, 2025, 1, 10, 9, 0), recur="FREQ=MONTHLY;BYMONTHDAY=15;COUNT=2")
    found = occurrences(d, datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    assert [o.date().isoformat() for o in found] == ["2025-01-10", "2025-01-15", "2025-02-15"]


def test_recurring_plan_needs_now() -> None:
    """``plan`` of a recurring deadline without ``now`` is a programming error."""
    with pytest.raises(ValueError, match="needs 'now'"):
        plan(deadline(recur="FREQ=WEEKLY"))


def test_recurring_plan_window_keeps_recent_and_upcoming_occurrences() -> None:
    """Weekly on Mondays, [1d] before and [2d] after, a 30-day horizon: the plan holds the
    occurrences whose reminders reach into [now - 1 day, now + 30 days] — last Monday's while
    its follow-up (Wednesday 09:00) is less than a day old, and those whose 1-day reminder
    falls within the horizon — each with all its reminders."""
    d = deadline(
        DAY, due=local(NY, 2025, 1, 6, 9, 0), after=(2 * DAY,), recur="FREQ=WEEKLY;BYDAY=MO"
    )
    now = local(NY, 2025, 2, 4, 12, 0)  # Tuesday; the last occurrence was Monday 3 February
    reminders = plan(d, now=now, horizon=30 * DAY)
    dues = sorted({r.due.astimezone(NY).date().isoformat() for r in reminders})
    assert dues == ["2025-02-03", "2025-02-10", "2025-02-17", "2025-02-24", "2025-03-03"]
    assert len(reminders) == 5 * 3
    assert [r.at for r in reminders] == sorted(r.at for r in reminders)

    def first_due(at: datetime) -> str:
        return (
            min(r.due for r in plan(d, now=at, horizon=30 * DAY)).astimezone(NY).date().isoformat()
        )

    assert first_due(local(NY, 2025, 2, 6, 8, 0)) == "2025-02-03"  # follow-up 23 h ago
    assert first_due(local(NY, 2025, 2, 6, 10, 0)) == "2025-02-10"  # follow-up 25 h ago


def test_finished_rule_plans_nothing_more() -> None:
    """After the last instance of a rule with COUNT, a recurring deadline plans nothing."""
    d = deadline(DAY, due=local(NY, 2025, 1, 6, 9, 0), recur="FREQ=DAILY;COUNT=3")
    assert plan(d, now=local(NY, 2025, 2, 1, 0, 0)) == ()


def test_occurrences_of_a_one_off_deadline() -> None:
    """A deadline without ``recur`` occurs once, if inside the window (bounds included)."""
    d = deadline()
    assert occurrences(d, DUE, DUE) == [DUE]
    assert occurrences(d, DUE + MINUTE, DUE + DAY) == []


def test_a_rule_too_dense_to_expand_is_an_error() -> None:
    """A rule with more than MAX_SCAN instances to examine raises instead of looping on."""
    d = deadline(due=datetime(2020, 1, 1, tzinfo=UTC), zone=ZoneInfo("UTC"), recur="FREQ=MINUTELY")
    with pytest.raises(RecurrenceTooDense, match="recurs too often"):
        plan(d, now=datetime(2025, 1, 1, tzinfo=UTC))


# --------------------------------------------------------------------------- catch-up


def test_on_time_reminder_is_not_late_and_folds_nothing() -> None:
    """At its planned time a reminder is due, not late, alone."""
    reminders = plan(deadline(7 * DAY, DAY))
    assert to_send(reminders, set(), DUE - DAY) == [
        ToSend(reminders[1], late=False, folded=(reminders[0],))
    ]
    assert to_send(reminders, {reminders[0].key}, DUE - DAY) == [ToSend(reminders[1], late=False)]


def test_late_means_more_than_a_minute_after_the_planned_time() -> None:
    """A minute after the planned time is still on time; a second more is late."""
    reminders = plan(deadline(DAY))
    done: set[str] = set()
    assert to_send(reminders, done, DUE - DAY + LATE_AFTER)[0].late is False
    assert to_send(reminders, done, DUE - DAY + LATE_AFTER + timedelta(seconds=1))[0].late is True


def test_two_missed_reminders_make_one_late_notice() -> None:
    """After downtime over the 7-day and 1-day reminders: one late 1-day notice, 7-day folded."""
    reminders = plan(deadline(7 * DAY, DAY))
    [item] = to_send(reminders, set(), DUE - 12 * HOUR)
    assert item.reminder.offset == DAY
    assert item.late is True
    assert item.folded == (reminders[0],)


def test_nothing_is_due_before_the_first_reminder() -> None:
    """Before any planned time, nothing is due."""
    assert to_send(plan(deadline(7 * DAY)), set(), DUE - 8 * DAY) == []


def test_a_long_past_deadline_sends_nothing_new() -> None:
    """Once the at-due reminder is done, old reminders never sent (e.g. an offset added later)
    stay unsent: the most recent one that has come is done."""
    reminders = plan(deadline(30 * DAY, DAY))
    at_due = next(r for r in reminders if r.kind == "at")
    assert to_send(reminders, {at_due.key}, DUE + 90 * DAY) == []


def test_a_follow_up_of_a_long_past_deadline_is_sent() -> None:
    """A 30-day follow-up is sent 30 days after the deadline, even with older ones never sent."""
    reminders = plan(deadline(DAY, after=(30 * DAY,)))
    before, at_due, follow_up = reminders
    [item] = to_send(reminders, {at_due.key}, DUE + 30 * DAY)
    assert item == ToSend(follow_up, late=False, folded=(before,))


def test_reminders_planned_before_since_are_never_sent() -> None:
    """With ``since`` (first tracked) between the 7-day and 1-day reminders, the 7-day one is
    neither sent nor folded; and when all that has come predates ``since``, nothing is sent."""
    reminders = plan(deadline(7 * DAY, DAY))
    since = DUE - 3 * DAY
    assert to_send(reminders, set(), DUE - 12 * HOUR, since=since) == [
        ToSend(reminders[1], late=True, folded=())
    ]
    assert to_send(reminders, set(), DUE - 2 * DAY, since=since) == []


def test_each_occurrence_catches_up_once() -> None:
    """A daily deadline missed for two days (planned with a 3-day lookback): one late notice
    per occurrence, each folding its 2-hour reminder, in time order."""
    d = deadline(2 * HOUR, due=local(NY, 2025, 5, 1, 9, 0), recur="FREQ=DAILY")
    now = local(NY, 2025, 5, 3, 9, 30)
    items = to_send(plan(d, now=now, lookback=3 * DAY), set(), now)
    assert [(i.reminder.due.astimezone(NY).day, i.reminder.kind, i.late) for i in items] == [
        (1, "at", True),
        (2, "at", True),
        (3, "at", True),
    ]
    assert [len(i.folded) for i in items] == [1, 1, 1]


def test_deadlines_sharing_a_due_time_are_separate() -> None:
    """Two deadlines due at the same instant each get their own notice."""
    reminders = plan(deadline(name="a")) + plan(deadline(name="b"))
    assert [i.reminder.deadline for i in to_send(reminders, set(), DUE)] == ["a", "b"]


# --------------------------------------------------------------------------- properties

zones = st.sampled_from(ZONES)
wall_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
offsets = st.one_of(
    st.integers(min_value=1, max_value=400).map(lambda n: n * DAY),
    st.integers(min_value=1, max_value=400 * 24 * 60).map(lambda n: n * MINUTE),
)
RULES = ["FREQ=DAILY;INTERVAL=5", "FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=MONTHLY", "FREQ=YEARLY"]


@st.composite
def deadlines(draw: st.DrawFn, recurring: bool = False) -> Deadline:
    zone = draw(zones)
    return deadline(
        *draw(st.lists(offsets, max_size=6)),
        due=draw(wall_times).replace(tzinfo=zone),
        zone=zone,
        after=tuple(draw(st.lists(offsets, max_size=3))),
        at_due=draw(st.booleans()),
        recur=draw(st.sampled_from(RULES)) if recurring else None,
    )


def check_plan(d: Deadline, reminders: tuple[Reminder, ...]) -> None:
    assert [r.at for r in reminders] == sorted(r.at for r in reminders)
    assert len({r.key for r in reminders}) == len(reminders)
    for r in reminders:
        assert r.at.tzinfo is UTC
        assert r.due.tzinfo is UTC
        if r.kind == "before":
            assert r.at < r.due
        elif r.kind == "at":
            assert r.at == r.due
        else:
            assert r.at > r.due
    wanted = {*d.remind, *(-a for a in d.after)} | ({timedelta(0)} if d.at_due else set())
    per_due: dict[datetime, set[timedelta]] = {}
    for r in reminders:
        per_due.setdefault(r.due, set()).add(r.offset)
    assert all(found == wanted for found in per_due.values())
    assert sum(len(found) for found in per_due.values()) == len(reminders)


@given(deadlines())
def test_plan_properties(d: Deadline) -> None:
    """Any offsets, zone and due time: sorted by send time, unique keys, before/at/after on
    their side of the due time, one reminder per distinct offset."""
    reminders = plan(d)
    check_plan(d, reminders)
    assert len(reminders) == len(
        {*d.remind, *(-a for a in d.after)} | ({timedelta(0)} if d.at_due else set())
    )


@settings(max_examples=60, deadline=None)
@given(deadlines(recurring=True), st.integers(min_value=-400, max_value=3 * 365))
def test_recurring_plan_properties(d: Deadline, days: int) -> None:
    """Recurring: the same properties hold for every occurrence planned, and occurrences
    planned reach into the window [now - lookback, now + horizon]."""
    now = d.due + days * DAY
    horizon = 40 * DAY
    reminders = plan(d, now=now, horizon=horizon)
    check_plan(d, reminders)
    for r in reminders:
        siblings = [s.at for s in reminders if s.due == r.due]
        assert max(siblings) >= now - DAY
        assert min(siblings) <= now + horizon


@st.composite
def catch_ups(
    draw: st.DrawFn,
) -> tuple[tuple[Reminder, ...], set[str], datetime, datetime | None]:
    d = draw(deadlines(recurring=draw(st.booleans())))
    now = d.due + draw(st.integers(min_value=-500 * 24, max_value=500 * 24)) * HOUR
    reminders = plan(d, now=now, horizon=60 * DAY, lookback=30 * DAY)
    done = {r.key for r in reminders if draw(st.booleans())}
    since = now - draw(st.integers(min_value=0, max_value=400 * 24)) * HOUR
    return reminders, done, now, draw(st.sampled_from([None, since]))


@settings(max_examples=150, deadline=None)
@given(catch_ups())
def test_catch_up_properties(
    case: tuple[tuple[Reminder, ...], set[str], datetime, datetime | None],
) -> None:
    """``due``: at most one per occurrence, never done, never in the future, nothing before
    ``since``; marking what it returns (and what it folded) done leaves nothing due."""
    reminders, done, now, since = case
    items = to_send(reminders, done, now, since=since)
    occurrences_seen = [(i.reminder.deadline, i.reminder.due) for i in items]
    assert len(occurrences_seen) == len(set(occurrences_seen))
    assert [i.reminder.at for i in items] == sorted(i.reminder.at for i in items)
    for item in items:
        for r in (item.reminder, *item.folded):
            assert r.key not in done
            assert r.at <= now
            assert since is None or r.at >= since
            assert r.due == item.reminder.due
        assert all(f.at <= item.reminder.at for f in item.folded)
        assert item.late == (now - item.reminder.at > LATE_AFTER)
    marked = done | {r.key for i in items for r in (i.reminder, *i.folded)}
    assert to_send(reminders, marked, now, since=since) == []
