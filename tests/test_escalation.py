"""The pure escalation planner (notifier.escalation)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from notifier.ack import short_id
from notifier.delivery.stages import escalation_note, mute
from notifier.escalation import plan_escalation
from notifier.model import Channel, Config, EscalationStep, NewAlert, QueuedAlert, TimeWindow
from notifier.pipeline.escalate import check_escalations
from notifier.storage import migrations
from notifier.storage.sqlite import Store

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LADDER = (
    EscalationStep(timedelta(minutes=30), ("email",)),
    EscalationStep(timedelta(hours=2), ("sms",), repeat=timedelta(hours=1)),
)


def test_nothing_before_the_first_step() -> None:
    due, nxt = plan_escalation(T0, LADDER, T0 + timedelta(minutes=10), set())
    assert due is None
    assert nxt == T0 + timedelta(minutes=30)


def test_first_step_due_then_next() -> None:
    due, nxt = plan_escalation(T0, LADDER, T0 + timedelta(minutes=31), set())
    assert due is not None
    assert (due.step, due.n, due.to, due.after, due.folded) == (0, 0, ("email",), "30m", 0)
    assert due.key("match:f:1") == "escalate:match:f:1:1"
    assert nxt == T0 + timedelta(hours=2)
    # recorded: nothing more until the next step
    due, nxt = plan_escalation(T0, LADDER, T0 + timedelta(minutes=50), {(0, 0)})
    assert due is None
    assert nxt == T0 + timedelta(hours=2)


def test_repeat_on_the_last_step() -> None:
    done = {(0, 0), (1, 0)}
    due, nxt = plan_escalation(T0, LADDER, T0 + timedelta(hours=3, minutes=1), done)
    assert due is not None
    assert (due.step, due.n, due.to, due.folded) == (1, 1, ("sms",), 0)
    assert due.key("k") == "escalate:k:2:1"
    assert due.at == T0 + timedelta(hours=3)
    assert nxt == T0 + timedelta(hours=4)


def test_catch_up_folds_missed_steps_into_one() -> None:
    # down from before the first step until 5h later: one message, to everyone on the way
    due, nxt = plan_escalation(T0, LADDER, T0 + timedelta(hours=5, minutes=5), set())
    assert due is not None
    assert (due.step, due.n) == (1, 3)
    assert due.to == ("email", "sms")
    assert due.folded == 4  # step 1, step 2 and its repeats 1 and 2
    assert nxt == T0 + timedelta(hours=6)
    # the latest recorded: the folded ones are not sent afterwards
    due, _ = plan_escalation(T0, LADDER, T0 + timedelta(hours=5, minutes=30), {(1, 3)})
    assert due is None


def test_ack_stops_the_ladder() -> None:
    due, nxt = plan_escalation(T0, LADDER, T0 + timedelta(hours=1), set(), acked=True)
    assert (due, nxt) == (None, None)


def test_ladder_ends_without_repeat() -> None:
    ladder = (EscalationStep(timedelta(minutes=30), ("email",)),)
    due, nxt = plan_escalation(T0, ladder, T0 + timedelta(minutes=30), set())
    assert due is not None
    assert nxt is None
    due, nxt = plan_escalation(T0, ladder, T0 + timedelta(days=3), {(0, 0)})
    assert (due, nxt) == (None, None)


def test_deadline_passed_stops_the_ladder() -> None:
    until = T0 + timedelta(hours=2, minutes=30)
    due, nxt = plan_escalation(
        T0, LADDER, T0 + timedelta(hours=2, minutes=1), {(0, 0)}, until=until
    )
    assert due is not None
    assert due.step == 1
    assert nxt is None  # the repeat at 3h is after the deadline
    due, nxt = plan_escalation(T0, LADDER, T0 + timedelta(hours=3), {(0, 0)}, until=until)
    assert (due, nxt) == (None, None)


def test_empty_ladder() -> None:
    assert plan_escalation(T0, (), T0 + timedelta(days=1), set()) == (None, None)


# --------------------------------------------------------------------------- storage + pipeline


def _config(ladder: tuple[EscalationStep, ...]) -> Config:
    channels = {
        n: Channel(n, (f"json://localhost/{n}",), "text", None, None) for n in ("chat", "desk")
    }
    return Config(
        timezone=ZoneInfo("UTC"),
        default_channels=("chat",),
        channels=channels,
        escalate={"high": ladder},
    )


def _queue(store: Store, now: datetime) -> NewAlert:
    alert = NewAlert(
        key="match:news:a2",
        channel="chat",
        kind="match",
        severity="high",
        context={"title": "Rare earth rules", "ack_id": short_id("match:news:a2")},
    )
    with store.transaction():
        store.outbox.enqueue([alert], now)
    return alert


def test_migration_13_and_the_store(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        assert migrations.version(store.db) == 13
        assert store.escalations.done(["k"]) == {}
        with store.transaction():
            assert store.escalations.record("k", 0, 0, T0)
            assert not store.escalations.record("k", 0, 0, T0)  # never doubled
            assert store.escalations.record("k", 1, 2, T0, folded=3)
        assert store.escalations.done(["k", "other"]) == {"k": {(0, 0), (1, 2)}}
        assert store.escalations.original("k") is None
        _queue(store, T0)
        original = store.escalations.original("match:news:a2")
        assert original is not None
        assert original[:2] == ("match", "high")


def test_pipeline_queues_once_folds_after_downtime_and_stops_at_an_ack(tmp_path: Path) -> None:
    ladder = (
        EscalationStep(timedelta(minutes=30), ("desk",)),
        EscalationStep(timedelta(hours=1), ("desk", "chat"), repeat=timedelta(hours=1)),
    )
    config = _config(ladder)
    with Store.open(tmp_path) as store:
        _queue(store, T0)
        assert check_escalations(store, config, T0 + timedelta(minutes=5)) == (
            [],
            T0 + timedelta(minutes=30),
        )
        queued, nxt = check_escalations(store, config, T0 + timedelta(minutes=31))
        assert [(a.key, a.channel) for a in queued] == [("escalate:match:news:a2:1", "desk")]
        assert queued[0].context["escalated"] == {"step": 1, "n": 0, "after": "30m"}
        assert escalation_note(queued[0].context) == "Escalated (not acknowledged after 30m)."
        assert nxt == T0 + timedelta(hours=1)
        # the escalation is not an ackable alert of its own
        assert [a.alert_key for a in store.acks.alerts(T0 - timedelta(days=1))] == ["match:news:a2"]
        assert check_escalations(store, config, T0 + timedelta(minutes=40))[0] == []
        # down 3 hours: one message for step 2 and its repeats
        queued, nxt = check_escalations(store, config, T0 + timedelta(hours=3, minutes=10))
        assert {a.key for a in queued} == {"escalate:match:news:a2:2:2"}
        assert nxt == T0 + timedelta(hours=4)
        (alert,) = store.acks.alerts(T0 - timedelta(days=1))
        with store.transaction():
            store.acks.ack(alert, "ana", "cli", T0 + timedelta(hours=3, minutes=20))
        assert check_escalations(store, config, T0 + timedelta(hours=5)) == ([], None)


def test_quiet_hours_hold_a_non_critical_escalation() -> None:
    quiet = Channel("desk", ("json://x",), "text", TimeWindow(time(22), time(7)), None)
    escalated = {"escalated": {"step": 1, "n": 0, "after": "30m"}}
    alerts = [
        QueuedAlert(1, "desk", "match", "high", escalated, None, T0, T0),
        QueuedAlert(2, "desk", "match", "critical", escalated, None, T0, T0),
    ]
    going, held = mute(alerts, quiet, T0.replace(hour=23), ZoneInfo("UTC"))
    assert [a.id for a in going] == [2]
    assert held == [1]


def test_an_ack_by_signed_link_stops_the_ladder_too(tmp_path: Path) -> None:
    """The same alert acknowledged through the web UI's signed link (not the CLI): the
    next step is not queued."""
    from notifier.ack import link  # noqa: PLC0415
    from notifier.web.app import WebApp  # noqa: PLC0415

    ladder = (
        EscalationStep(timedelta(minutes=30), ("desk",)),
        EscalationStep(timedelta(hours=1), ("desk", "chat")),
    )
    config = _config(ladder)
    secret = "s" * 32
    with Store.open(tmp_path) as store:
        alert = _queue(store, T0)
        queued, _ = check_escalations(store, config, T0 + timedelta(minutes=31))
        assert [a.key for a in queued] == ["escalate:match:news:a2:1"]
    now = T0 + timedelta(minutes=40)
    web = WebApp(lambda: config, tmp_path, None, lambda: now, secret=secret)
    target = link("http://h:1", alert.context["ack_id"], secret, now).removeprefix("http://h:1")
    assert web.handle("GET", target, {}).status == 200
    with Store.open(tmp_path) as store:
        assert check_escalations(store, config, T0 + timedelta(hours=2)) == ([], None)
