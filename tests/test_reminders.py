"""Deadline reminders with the real state store: on time, late after downtime, edits, removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.config import Config
from notifier.deliver import Sender
from notifier.loader import loads
from notifier.reminders import check_deadlines
from notifier.store import Store
from tests.test_sender import FakeSink

MAIL = "json://127.0.0.1:9/desk"

YAML = """\
timezone: America/New_York
channels:
  desk: ["{mail}"]
deadlines:
  - name: pause
    title: 90-day pause expires
    due: {due}
    remind: [7d, 1d, 2h]
    after: [1d]
    link: https://example.com/pause
    notes: Watch for an extension.
"""

DUE = "2025-07-09T00:01:00-04:00"
DUE_UTC = datetime(2025, 7, 9, 4, 1, tzinfo=UTC)


def config(due: str = DUE, extra: str = "") -> Config:
    return loads(YAML.format(mail=MAIL, due=due) + extra, "watch.yaml", {})


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


class Runner:
    """Runs ``check_deadlines`` + the sender like one ``notifier once`` at a given time,
    on a fresh Store each time (a new process)."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.sink = FakeSink()

    async def at(self, now: datetime, cfg: Config) -> list[tuple[str, str]]:
        before = len(self.sink.sent)
        with Store.open(self.state) as store:
            check_deadlines(store, cfg, now)
            await Sender(store, cfg, self.sink, clock=lambda: now, rand=lambda: 0.5).tick()
        return [(title, body) for _, title, body in self.sink.sent[before:]]


@pytest.fixture
def runner(state: Path) -> Runner:
    return Runner(state)


async def test_reminders_arrive_on_time_once_each(runner: Runner) -> None:
    """Tracked from well before: 7d, 1d, 2h, at-due and the 1d follow-up, each exactly once."""
    cfg = config()
    start = DUE_UTC - timedelta(days=10)
    assert await runner.at(start, cfg) == []
    got = []
    for when in (
        DUE_UTC - timedelta(days=7),
        DUE_UTC - timedelta(days=7, minutes=-5),
        DUE_UTC - timedelta(days=1),
        DUE_UTC - timedelta(hours=2),
        DUE_UTC,
        DUE_UTC + timedelta(days=1),
        DUE_UTC + timedelta(days=3),
    ):
        got += [title for title, _ in await runner.at(when, cfg)]
    assert got == [
        "90-day pause expires — in 7 days",
        "90-day pause expires — in 1 day",
        "90-day pause expires — in 2 hours",
        "Due now: 90-day pause expires",
        "Passed 1 day ago: 90-day pause expires",
    ]


async def test_reminder_text_has_time_left_due_time_zone_link_and_notes(runner: Runner) -> None:
    """The 7-day reminder says "in 7 days — Wed 9 Jul 2025 00:01 EDT" with link and notes."""
    cfg = config()
    await runner.at(DUE_UTC - timedelta(days=30), cfg)
    ((title, body),) = await runner.at(DUE_UTC - timedelta(days=7), cfg)
    assert title == "90-day pause expires — in 7 days"
    assert "in 7 days — Wed 9 Jul 2025 00:01 EDT" in body
    assert "https://example.com/pause" in body
    assert "Watch for an extension." in body
    assert "late" not in body


async def test_missed_reminders_fold_into_one_late_message(runner: Runner) -> None:
    """Down across the 7d and 1d reminders: on restart one message, marked late, folding the
    older one; nothing more at the same time."""
    cfg = config()
    await runner.at(DUE_UTC - timedelta(days=30), cfg)
    back = DUE_UTC - timedelta(hours=20)
    ((title, body),) = await runner.at(back, cfg)
    assert title == "90-day pause expires — in 20 hours"
    assert "Sent late: the daemon was down at the planned time" in body
    assert "1 earlier reminder missed meanwhile, folded into this one." in body
    assert await runner.at(back + timedelta(minutes=1), cfg) == []
    ((title, _),) = await runner.at(DUE_UTC - timedelta(hours=2), cfg)
    assert title == "90-day pause expires — in 2 hours"


async def test_a_new_deadline_does_not_fire_its_past_reminders(runner: Runner) -> None:
    """Added 3 days before due: the 7d reminder is not sent late; the 1d one comes on time."""
    cfg = config()
    assert await runner.at(DUE_UTC - timedelta(days=3), cfg) == []
    assert await runner.at(DUE_UTC - timedelta(days=2), cfg) == []
    ((title, _),) = await runner.at(DUE_UTC - timedelta(days=1), cfg)
    assert title == "90-day pause expires — in 1 day"


async def test_a_long_past_deadline_sends_nothing_new(runner: Runner) -> None:
    """Tracked once, then the daemon is down for months: nothing is sent for it."""
    cfg = config()
    await runner.at(DUE_UTC - timedelta(days=30), cfg)
    await runner.at(DUE_UTC - timedelta(days=7), cfg)
    assert await runner.at(DUE_UTC + timedelta(days=200), cfg) == []


async def test_moving_the_due_date_sends_one_moved_alert_and_the_new_plan(runner: Runner) -> None:
    """Editing ``due`` in the YAML: exactly one "moved" alert; reminders whose new time has
    passed are not repeated; the new schedule applies."""
    await runner.at(DUE_UTC - timedelta(days=8), config())
    await runner.at(DUE_UTC - timedelta(days=7), config())  # the 7d reminder went out
    moved = config(due="2025-08-01T00:01:00-04:00")
    now = DUE_UTC - timedelta(days=6)
    ((title, body),) = await runner.at(now, moved)
    assert title == "Deadline moved: 90-day pause expires"
    assert "From Wed 9 Jul 2025 00:01 EDT to Fri 1 Aug 2025 00:01 EDT" in body
    assert await runner.at(now + timedelta(hours=1), moved) == []
    new_due = datetime(2025, 8, 1, 4, 1, tzinfo=UTC)
    ((title, _),) = await runner.at(new_due - timedelta(days=7), moved)
    assert title == "90-day pause expires — in 7 days"


async def test_moving_to_a_date_whose_reminders_passed_skips_them(runner: Runner) -> None:
    """Moved earlier, so its 7d reminder time is already past: it is skipped, not sent late."""
    await runner.at(DUE_UTC - timedelta(days=20), config())
    moved = config(due="2025-07-01T00:01:00-04:00")
    now = datetime(2025, 6, 26, 4, 1, tzinfo=UTC)  # 5 days before the new due time
    titles = [t for t, _ in await runner.at(now, moved)]
    assert titles == ["Deadline moved: 90-day pause expires"]
    ((title, _),) = await runner.at(datetime(2025, 6, 30, 4, 1, tzinfo=UTC), moved)
    assert title == "90-day pause expires — in 1 day"


async def test_removed_deadline_stops_reminding(runner: Runner) -> None:
    """Once removed from the config, a deadline sends nothing more."""
    await runner.at(DUE_UTC - timedelta(days=8), config())
    empty = loads(f"channels:\n  desk: ['{MAIL}']\n", "watch.yaml", {})
    assert await runner.at(DUE_UTC - timedelta(days=1), empty) == []


async def test_recurring_deadline_reminds_every_occurrence(runner: Runner) -> None:
    """A weekly deadline at 09:00 New York reminds a day before each occurrence."""
    cfg = loads(
        "timezone: America/New_York\n"
        f"channels:\n  desk: ['{MAIL}']\n"
        "deadlines:\n"
        "  - name: review\n    title: Weekly review\n    due: 2025-03-03 09:00\n"
        "    recur: FREQ=WEEKLY;BYDAY=MO\n    remind: [1d]\n    at_due: false\n",
        "watch.yaml",
        {},
    )
    await runner.at(datetime(2025, 3, 1, 0, 0, tzinfo=UTC), cfg)
    sundays = [
        datetime(2025, 3, 2, 14, 0, tzinfo=UTC),  # Sun 09:00 EST
        datetime(2025, 3, 9, 13, 0, tzinfo=UTC),  # Sun 09:00 EDT (DST began at 02:00)
    ]
    titles = []
    for sunday in sundays:
        assert await runner.at(sunday - timedelta(minutes=1), cfg) == []
        titles += [t for t, _ in await runner.at(sunday, cfg)]
    assert titles == ["Weekly review — in 1 day", "Weekly review — in 1 day"]
