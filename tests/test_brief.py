"""The morning brief's planner (:mod:`notifier.brief`): pure, time a parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from notifier.brief import brief_day, brief_due, next_brief, slot
from notifier.model import BriefPolicy

NY = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))


def policy(at: str = "08:00", days: frozenset[int] = WEEKDAYS) -> BriefPolicy:
    return BriefPolicy(time.fromisoformat(at), days, ("mail",), NY)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


def test_due_at_its_time_on_its_days_and_not_before() -> None:
    """Tuesday 2025-06-10 08:00 New York: nothing at 07:59, the slot at 08:00."""
    p = policy()
    assert brief_due(p, date(2025, 6, 9), local("2025-06-10 07:59")) is None
    due = brief_due(p, date(2025, 6, 9), local("2025-06-10 08:00"))
    assert due == local("2025-06-10 08:00")
    assert brief_day(p, due) == date(2025, 6, 10)


def test_sent_today_is_not_due_again() -> None:
    """Once recorded for its day, a slot is never due again (a restart included)."""
    assert brief_due(policy(), date(2025, 6, 10), local("2025-06-10 17:00")) is None


def test_started_late_on_a_weekday_catches_up_now() -> None:
    """The daemon started at 09:30 with no brief today: the 08:00 slot is due now."""
    assert brief_due(policy(), date(2025, 6, 9), local("2025-06-10 09:30")) == local(
        "2025-06-10 08:00"
    )


def test_down_for_three_days_catches_up_once() -> None:
    """Last brief Monday; back on Thursday 10:00: one brief (Thursday's), not three."""
    p = policy()
    due = brief_due(p, date(2025, 6, 9), local("2025-06-12 10:00"))
    assert due == local("2025-06-12 08:00")
    assert brief_due(p, brief_day(p, due), local("2025-06-12 10:00")) is None


def test_weekend_is_skipped_and_monday_waits_for_its_time() -> None:
    """Friday's brief sent; Sunday noon: nothing; Monday 07:00: nothing yet."""
    p = policy()
    assert brief_due(p, date(2025, 6, 13), local("2025-06-15 12:00")) is None
    assert brief_due(p, date(2025, 6, 13), local("2025-06-16 07:00")) is None
    assert next_brief(p, local("2025-06-13 09:00")) == local("2025-06-16 08:00")


def test_never_sent_only_a_slot_of_today_is_caught_up() -> None:
    """A new brief config sends today's missed brief, never yesterday's."""
    p = policy()
    assert brief_due(p, None, local("2025-06-10 09:00")) == local("2025-06-10 08:00")
    assert brief_due(p, None, local("2025-06-14 09:00")) is None  # Saturday: Friday's slot


def test_eight_oclock_is_local_on_both_dst_days() -> None:
    """08:00 New York is 12:00 UTC in summer, 13:00 in winter, and 08:00 local on the
    days the clocks change (2025-03-09 and 2025-11-02)."""
    p = policy(days=frozenset(range(7)))
    assert slot(p, date(2025, 3, 9)) == datetime(2025, 3, 9, 12, 0, tzinfo=UTC)
    assert slot(p, date(2025, 11, 2)) == datetime(2025, 11, 2, 13, 0, tzinfo=UTC)
    assert next_brief(p, local("2025-03-08 09:00")) == datetime(2025, 3, 9, 12, 0, tzinfo=UTC)
    assert next_brief(p, local("2025-11-01 09:00")) == datetime(2025, 11, 2, 13, 0, tzinfo=UTC)
    # 23 and 25 hours between the slots around the changes.
    assert slot(p, date(2025, 3, 9)) - slot(p, date(2025, 3, 8)) == timedelta(hours=23)
    assert slot(p, date(2025, 11, 2)) - slot(p, date(2025, 11, 1)) == timedelta(hours=25)


def test_a_time_the_clocks_skip_lands_after_the_gap_and_a_repeated_one_is_the_first() -> None:
    """02:30 on 2025-03-09 does not exist in New York: the brief goes at 03:30 EDT;
    01:30 on 2025-11-02 happens twice: the first (EDT)."""
    skipped = slot(policy("02:30"), date(2025, 3, 9))
    assert skipped.astimezone(NY).replace(tzinfo=None) == datetime(2025, 3, 9, 3, 30)
    repeated = slot(policy("01:30"), date(2025, 11, 2))
    assert repeated == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_no_days_means_never() -> None:
    """An empty ``days`` (not allowed by the config, but pure code is total) plans nothing."""
    p = policy(days=frozenset())
    assert brief_due(p, None, local("2025-06-10 09:00")) is None
    assert next_brief(p, local("2025-06-10 09:00")) is None


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
    st.frozensets(st.integers(0, 6), min_size=1),
    st.times(),
)
def test_next_brief_is_on_a_brief_day_after_now_and_then_due(
    naive: datetime, days: frozenset[int], at: time
) -> None:
    """The next slot is after ``now``, on one of the days, within 8 days, and due at it
    whatever the last day sent before it."""
    now = naive.replace(tzinfo=UTC)
    p = BriefPolicy(at.replace(tzinfo=None, fold=0), days, ("mail",), NY)
    nxt = next_brief(p, now)
    assert nxt is not None
    assert now < nxt <= now + timedelta(days=8, hours=2)
    assert brief_day(p, nxt).weekday() in days
    assert brief_due(p, brief_day(p, nxt) - timedelta(days=1), nxt) == nxt
    assert brief_due(p, brief_day(p, nxt), nxt) is None


def test_check_brief_queues_once_a_day_and_catches_up_once(tmp_path: object) -> None:
    """With a real store: the brief is queued at its time (key ``brief:<day>``, each
    channel), not again that day (a restart included), and after three days down only
    once, listing the deadline ahead and the unhealthy feed."""
    from pathlib import Path  # noqa: PLC0415

    from notifier.model import Config, Deadline, FeedState  # noqa: PLC0415
    from notifier.pipeline.brief import check_brief  # noqa: PLC0415
    from notifier.storage.sqlite import Store  # noqa: PLC0415

    assert isinstance(tmp_path, Path)
    due = local("2025-06-20 17:00")
    config = Config(
        timezone=NY,
        default_channels=("mail",),
        deadlines=(Deadline("pause", "Pause ends", due, NY, (), ("mail",), "high", None, None),),
        brief=BriefPolicy(time(8), WEEKDAYS, ("mail", "chat"), NY),
    )
    with Store.open(tmp_path) as store:
        store.save_feed_state(FeedState("ustr", "https://u", failures=6, unhealthy=True))
        assert check_brief(store, config, local("2025-06-10 07:59")) == []
        sent = check_brief(store, config, local("2025-06-10 08:00"))
        assert [(a.key, a.channel) for a in sent] == [
            ("brief:2025-06-10", "mail"),
            ("brief:2025-06-10", "chat"),
        ]
        context = sent[0].context
        assert [d["deadline"] for d in context["deadlines"]] == ["pause"]
        assert [f["feed"] for f in context["unhealthy"]] == ["ustr"]
        assert context["unacknowledged"] == []
        assert check_brief(store, config, local("2025-06-10 12:00")) == []
    with Store.open(tmp_path) as store:  # a restart
        assert check_brief(store, config, local("2025-06-10 13:00")) == []
        back = check_brief(store, config, local("2025-06-13 10:00"))  # down Wed-Fri morning
        assert {a.key for a in back} == {"brief:2025-06-13"}
        assert back[0].context["since"] == local("2025-06-10 08:00").astimezone(UTC).isoformat()
        assert check_brief(store, config, local("2025-06-13 10:01")) == []
        assert len(store.outbox.queued("mail")) == 2


def test_the_brief_lists_open_ack_eligible_alerts(tmp_path: object) -> None:
    """The unacknowledged section holds the open alerts with an ack id of the last 7
    days (newest first, with their id); an acknowledged one and an older one are not."""
    from pathlib import Path  # noqa: PLC0415

    from notifier.ack import short_id  # noqa: PLC0415
    from notifier.model import Config, NewAlert  # noqa: PLC0415
    from notifier.pipeline.brief import check_brief  # noqa: PLC0415
    from notifier.storage.sqlite import Store  # noqa: PLC0415

    assert isinstance(tmp_path, Path)
    config = Config(timezone=NY, default_channels=("mail",), brief=policy())
    now = local("2025-06-10 08:00")

    def alert(key: str) -> NewAlert:
        context = {"kind": "match", "title": f"T {key}", "ack_id": short_id(key)}
        return NewAlert(key, "mail", "match", "high", context)

    with Store.open(tmp_path) as store:
        with store.transaction():
            store.outbox.enqueue([alert("old")], now - timedelta(days=8))
            store.outbox.enqueue([alert("a"), alert("b")], now - timedelta(hours=2))
            store.outbox.enqueue([alert("c")], now - timedelta(hours=1))
            (b,) = store.acks.alerts(now - timedelta(days=1), prefix=short_id("b"))
            store.acks.ack(b, "ana", "cli", now)
        (sent,) = check_brief(store, config, now)
    listed = sent.context["unacknowledged"]
    assert [(a["title"], a["id"]) for a in listed] == [
        ("T c", short_id("c")),
        ("T a", short_id("a")),
    ]
