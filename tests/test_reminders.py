"""Deadline reminders with the real state store: on time, late after downtime, edits, removal;
and their texts rendered at send time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.config.loader import loads
from notifier.deadlines.planning import Reminder, ToSend
from notifier.delivery.messages import ON_TIME, Renderer
from notifier.model import BodyFormat, Config, Deadline, Severity, Template
from notifier.pipeline.reminders import check_deadlines, moved_context, reminder_context
from notifier.pipeline.sender import Sender
from notifier.storage.sqlite import Store
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
        "[HIGH] 90-day pause expires — in 7 days",
        "[HIGH] 90-day pause expires — in 1 day",
        "[HIGH] 90-day pause expires — in 2 hours",
        "[HIGH] Due now: 90-day pause expires",
        "[HIGH] Passed 1 day ago: 90-day pause expires",
    ]


async def test_reminder_text_has_time_left_due_time_zone_link_and_notes(runner: Runner) -> None:
    """The 7-day reminder says "in 7 days — Wed 9 Jul 2025 00:01 EDT" with link and notes."""
    cfg = config()
    await runner.at(DUE_UTC - timedelta(days=30), cfg)
    ((title, body),) = await runner.at(DUE_UTC - timedelta(days=7), cfg)
    assert title == "[HIGH] 90-day pause expires — in 7 days"
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
    assert title == "[HIGH] 90-day pause expires — in 20 hours"
    assert (
        "Sent late: the daemon was down at the planned time (Tue 8 Jul 2025 00:01 EDT),"
        " 4 hours ago." in body
    )
    assert "1 earlier reminder missed meanwhile, folded into this one." in body
    assert await runner.at(back + timedelta(minutes=1), cfg) == []
    ((title, _),) = await runner.at(DUE_UTC - timedelta(hours=2), cfg)
    assert title == "[HIGH] 90-day pause expires — in 2 hours"


async def test_a_new_deadline_does_not_fire_its_past_reminders(runner: Runner) -> None:
    """Added 3 days before due: the 7d reminder is not sent late; the 1d one comes on time."""
    cfg = config()
    assert await runner.at(DUE_UTC - timedelta(days=3), cfg) == []
    assert await runner.at(DUE_UTC - timedelta(days=2), cfg) == []
    ((title, _),) = await runner.at(DUE_UTC - timedelta(days=1), cfg)
    assert title == "[HIGH] 90-day pause expires — in 1 day"


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
    assert title == "[HIGH] Deadline moved: 90-day pause expires"
    assert "From Wed 9 Jul 2025 00:01 EDT to Fri 1 Aug 2025 00:01 EDT" in body
    assert await runner.at(now + timedelta(hours=1), moved) == []
    new_due = datetime(2025, 8, 1, 4, 1, tzinfo=UTC)
    ((title, _),) = await runner.at(new_due - timedelta(days=7), moved)
    assert title == "[HIGH] 90-day pause expires — in 7 days"
    with Store.open(runner.state) as store:  # the move is remembered (the web UI shows it)
        assert store.reminders.moves("pause") == [(DUE_UTC, new_due, now)]


async def test_moving_to_a_date_whose_reminders_passed_skips_them(runner: Runner) -> None:
    """Moved earlier, so its 7d reminder time is already past: it is skipped, not sent late."""
    await runner.at(DUE_UTC - timedelta(days=20), config())
    moved = config(due="2025-07-01T00:01:00-04:00")
    now = datetime(2025, 6, 26, 4, 1, tzinfo=UTC)  # 5 days before the new due time
    titles = [t for t, _ in await runner.at(now, moved)]
    assert titles == ["[HIGH] Deadline moved: 90-day pause expires"]
    ((title, _),) = await runner.at(datetime(2025, 6, 30, 4, 1, tzinfo=UTC), moved)
    assert title == "[HIGH] 90-day pause expires — in 1 day"


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
    assert titles == ["[HIGH] Weekly review — in 1 day", "[HIGH] Weekly review — in 1 day"]


# --------------------------------------------------------------------------- texts at send time


def deadline(severity: Severity = "high", due: str = DUE) -> Deadline:
    """The deadline ``pause`` of the example config, with ``severity``."""
    (d,) = config(due=due).deadlines
    return Deadline(**{**{f: getattr(d, f) for f in d.__slots__}, "severity": severity})


def reminder(
    offset: timedelta, *, late: bool = False, queued: datetime | None = None
) -> dict[str, Any]:
    """The context of the ``offset``-before reminder of ``pause``, queued at ``queued``
    (default: its planned time)."""
    r = Reminder("pause", DUE_UTC, DUE_UTC - offset, offset)
    return reminder_context(deadline(), ToSend(r, late), queued or r.at)


def render(
    ctx: dict[str, Any], now: datetime | None, fmt: BodyFormat = "text"
) -> tuple[str, list[str]]:
    """Title and body lines of ``ctx`` rendered at ``now`` in New York time."""
    r = Renderer({}, config().timezone).render(ctx, fmt, now=now)
    return r.title, r.body.split("\n")


def test_a_reminder_sent_33s_late_says_the_time_left_and_how_late() -> None:
    """The 2-minute reminder rendered 33 s after its planned time: "in 1 minute 27 seconds",
    in the title and the body alike, and a "sent late" note saying by how much."""
    ctx = reminder(timedelta(minutes=2))
    title, body = render(ctx, DUE_UTC - timedelta(minutes=2) + timedelta(seconds=33))
    assert title == "[HIGH] 90-day pause expires — in 1 minute 27 seconds"
    assert body[1] == "in 1 minute 27 seconds — Wed 9 Jul 2025 00:01 EDT"
    assert body[-1] == "Sent late: 33 seconds after the planned time (Tue 8 Jul 2025 23:59 EDT)."


def test_a_due_now_reminder_sent_99s_late_does_not_say_due_now() -> None:
    """The at-due reminder rendered 99 s late: title and body both say it passed 1 minute
    39 seconds ago, and the body says it was sent late."""
    ctx = reminder(timedelta(0))
    title, body = render(ctx, DUE_UTC + timedelta(seconds=99))
    assert title == "[HIGH] Passed 1 minute 39 seconds ago: 90-day pause expires"
    assert body[1] == "1 minute 39 seconds ago — Wed 9 Jul 2025 00:01 EDT"
    assert (
        body[-1]
        == "Sent late: 1 minute 39 seconds after the planned time (Wed 9 Jul 2025 00:01 EDT)."
    )


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=20), ON_TIME])
def test_a_reminder_within_30s_of_its_plan_reads_the_planned_offset(late: timedelta) -> None:
    """Rendered up to ON_TIME (30 s) after its planned time, the 7-day reminder reads "in
    7 days" (not "in 6 days 23 hours"), with no late note."""
    title, body = render(reminder(timedelta(days=7)), DUE_UTC - timedelta(days=7) + late)
    assert title == "[HIGH] 90-day pause expires — in 7 days"
    assert body[1] == "in 7 days — Wed 9 Jul 2025 00:01 EDT"
    assert not any("late" in line for line in body)


def test_due_now_on_time() -> None:
    """The at-due reminder rendered on time says "Due now", and "now" in the body."""
    title, body = render(reminder(timedelta(0)), DUE_UTC + timedelta(seconds=2))
    assert title == "[HIGH] Due now: 90-day pause expires"
    assert body[1] == "now — Wed 9 Jul 2025 00:01 EDT"


def test_a_reminder_queued_on_time_but_sent_hours_later_says_so() -> None:
    """Queued on time, held (quiet hours, a failing channel) and rendered 3 hours later: it says
    the truth at send time, not what was true when it was queued."""
    title, body = render(reminder(timedelta(days=1)), DUE_UTC - timedelta(hours=21))
    assert title == "[HIGH] 90-day pause expires — in 21 hours"
    assert body[-1] == "Sent late: 3 hours after the planned time (Tue 8 Jul 2025 00:01 EDT)."


def test_a_caught_up_reminder_says_the_daemon_was_down() -> None:
    """After downtime (queued 4 h late), sent 10 s after it was queued: 4 hours late, and why."""
    queued = DUE_UTC - timedelta(hours=20)
    ctx = reminder(timedelta(days=1), late=True, queued=queued)
    title, body = render(ctx, queued + timedelta(seconds=10))
    assert title == "[HIGH] 90-day pause expires — in 20 hours"
    assert body[-1] == (
        "Sent late: the daemon was down at the planned time (Tue 8 Jul 2025 00:01 EDT),"
        " 4 hours ago."
    )


def test_without_now_the_context_is_rendered_as_built() -> None:
    """Old callers that pass no ``now`` get the times of the context as it was queued."""
    title, body = render(reminder(timedelta(days=7)), None)
    assert title == "[HIGH] 90-day pause expires — in 7 days"
    assert not any("late" in line for line in body)


def test_a_template_sees_the_time_left_at_send_time() -> None:
    """``remaining_seconds`` and ``late_seconds`` in a template are those of the send time."""
    spec = Template(title="{{ remaining_seconds }} left, {{ late_seconds }} late")
    rend = Renderer({"reminder": spec}, config().timezone)
    ctx = reminder(timedelta(minutes=2))
    now = DUE_UTC - timedelta(minutes=2) + timedelta(seconds=33)
    assert rend.render(ctx, "text", now=now).title == "87 left, 33 late"


def test_a_digest_of_reminders_uses_the_send_time() -> None:
    """Reminders folded into a digest (held by quiet hours) say the time left when it is sent."""
    now = DUE_UTC - timedelta(hours=21)
    r = Renderer({}, config().timezone).render_digest(
        [reminder(timedelta(days=1))], "text", "held during quiet hours", now=now
    )
    assert "1. [HIGH] 90-day pause expires — in 21 hours" in r.body.split("\n")


def test_a_moved_deadline_says_the_time_left_at_send_time() -> None:
    """A "deadline moved" notice rendered a day after it was queued counts from the send time."""
    moved = moved_context(deadline(due="2025-08-01T00:01:00-04:00"), DUE_UTC, DUE_UTC)
    now = datetime(2025, 7, 30, 4, 1, tzinfo=UTC)
    title, body = render(moved, now)
    assert title == "[HIGH] Deadline moved: 90-day pause expires"
    assert "Now due in 2 days — Fri 1 Aug 2025 00:01 EDT" in body


@pytest.mark.parametrize(
    ("severity", "tag"),
    [("low", ""), ("normal", ""), ("high", "[HIGH] "), ("critical", "[CRITICAL] ")],
)
def test_reminder_and_moved_titles_carry_the_severity_tag(severity: Severity, tag: str) -> None:
    """Like matches, high and critical reminders and deadline moves lead with their tag."""
    r = Reminder("pause", DUE_UTC, DUE_UTC - timedelta(days=7), timedelta(days=7))
    ctx = reminder_context(deadline(severity), ToSend(r, False), r.at)
    assert render(ctx, r.at)[0] == f"{tag}90-day pause expires — in 7 days"
    moved = moved_context(deadline(severity), DUE_UTC - timedelta(days=1), r.at)
    assert render(moved, r.at)[0] == f"{tag}Deadline moved: 90-day pause expires"


@settings(max_examples=200, deadline=None)
@given(
    offset=st.integers(0, 40 * 86400).map(lambda s: timedelta(seconds=s)),
    late=st.integers(-5, 3 * 86400).map(lambda s: timedelta(seconds=s)),
)
def test_title_and_body_always_agree(offset: timedelta, late: timedelta) -> None:
    """Whatever the offset and however late it is sent, the title states the same time left as
    the body's due line, and a reminder sent after ON_TIME says it was late."""
    ctx = reminder(offset)
    title, body = render(ctx, DUE_UTC - offset + late)
    said = body[1].split(" — ")[0]
    if said == "now":
        assert title == "[HIGH] Due now: 90-day pause expires"
    elif said.endswith(" ago"):
        assert title == f"[HIGH] Passed {said}: 90-day pause expires"
    else:
        assert title == f"[HIGH] 90-day pause expires — {said}"
    assert any(line.startswith("Sent late: ") for line in body) == (late > ON_TIME)


def test_every_reminder_carries_an_ack_id_and_can_be_acknowledged(state: Path) -> None:
    """A reminder (whatever its severity) has the short id of its alert key, stored as
    ack-eligible; ``--deadline`` acknowledges its pending reminders."""
    from notifier.ack import short_id  # noqa: PLC0415
    from notifier.pipeline.acks import acknowledge  # noqa: PLC0415

    cfg = config(extra="ack: {min_severity: critical}\n")
    with Store.open(state) as store:
        check_deadlines(store, cfg, DUE_UTC - timedelta(days=30))  # starts tracking
        queued = check_deadlines(store, cfg, DUE_UTC - timedelta(days=7))
        assert queued
        assert queued[0].context["ack_id"] == short_id(queued[0].key)
        done = acknowledge(
            store, DUE_UTC - timedelta(days=7), who="ana", how="cli", deadline="pause"
        )
        assert [a.alert_key for a in done.acked] == [queued[0].key]
        assert store.acks.is_acked(queued[0].key)
