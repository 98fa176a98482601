"""Reminder plans: pure functions of a deadline and ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from notifier.config import Deadline
from notifier.deadlines import next_reminder, plan

DUE = datetime(2025, 7, 9, 4, 1, tzinfo=UTC)


def deadline(*remind: timedelta, due: datetime = DUE) -> Deadline:
    return Deadline(
        name="pause",
        title="Pause expires",
        due=due,
        timezone=ZoneInfo("America/New_York"),
        remind=remind,
        channels=("console",),
        severity="high",
        link=None,
        notes=None,
    )


def test_plan_has_one_reminder_per_offset_and_one_at_due() -> None:
    """[7d, 1d] gives three reminders: 7 days before, 1 day before, at the due time."""
    reminders = plan(deadline(timedelta(days=7), timedelta(days=1)))
    assert [r.at for r in reminders] == [DUE - timedelta(days=7), DUE - timedelta(days=1), DUE]
    assert [r.offset for r in reminders] == [timedelta(days=7), timedelta(days=1), timedelta(0)]


def test_next_reminder_is_the_first_not_yet_past() -> None:
    """Between the 7-day and 1-day reminders, the next is the 1-day one; after due, none."""
    reminders = plan(deadline(timedelta(days=7), timedelta(days=1)))
    assert next_reminder(reminders, DUE - timedelta(days=3)) == reminders[1]
    assert next_reminder(reminders, DUE) == reminders[2]
    assert next_reminder(reminders, DUE + timedelta(seconds=1)) is None


@given(
    st.lists(st.integers(min_value=1, max_value=400 * 24 * 60), max_size=12),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_plan_is_sorted_unique_and_never_after_due(minutes: list[int], due: datetime) -> None:
    """Whatever the offsets: reminders ascend strictly, end at the due time, none after it."""
    reminders = plan(deadline(*(timedelta(minutes=m) for m in minutes), due=due))
    times = [r.at for r in reminders]
    assert times == sorted(set(times))
    assert times[-1] == due
    assert len(reminders) == len(set(minutes)) + 1
