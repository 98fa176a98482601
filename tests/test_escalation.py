"""The pure escalation planner (notifier.escalation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifier.escalation import plan_escalation
from notifier.model import EscalationStep

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
