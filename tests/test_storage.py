"""The storage contract: every backend of :class:`notifier.storage.State` passes these.

Written against the protocols only (no SQL, no connection), parametrised by
backend, so a new backend (PostgreSQL, in a later issue) runs the same suite by
adding itself to :data:`BACKENDS`. Backend-specific behaviour (files, WAL, locks,
migrations of old SQLite stores) is tested beside each backend (``test_store.py``,
``test_state_safety.py``, ``test_upgrade.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.deadlines.planning import Reminder
from notifier.errors import StateError
from notifier.model import FeedState, Held, NewAlert
from notifier.storage import OutboxStore, State
from notifier.storage.sqlite import Store

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

Opener = Callable[[], State]


def _sqlite(tmp_path: Path) -> Opener:
    return lambda: Store.open(tmp_path / "state")


#: backend name → (tmp folder → a function opening the same store again).
BACKENDS: dict[str, Callable[[Path], Opener]] = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(BACKENDS))
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the backend's store (the same one each call: a restart)."""
    opener: Opener = BACKENDS[request.param](tmp_path)
    return opener


@pytest.fixture
def state(reopen: Opener) -> Iterator[State]:
    store = reopen()
    yield store
    store.close()


def alert(i: int, channel: str = "chat", **kw: object) -> NewAlert:
    return NewAlert(
        key=f"match:news:k{i}:w",
        channel=channel,
        kind="match",
        severity="normal",
        context={"kind": "match", "title": f"Story {i}"},
        **kw,  # type: ignore[arg-type]
    )


def compose(outbox: OutboxStore, ids: list[int], urls: list[str], now: datetime) -> int:
    """One plain message carrying ``ids``, pending for ``urls``."""
    return outbox.compose(
        "chat",
        kind="match",
        title="t",
        body="b",
        fmt="text",
        alert_ids=ids,
        url_hashes=urls,
        now=now,
    )


# --------------------------------------------------------------------------- feed states


def test_feed_states_round_trip_across_a_restart(state: State, reopen: Opener) -> None:
    """What is saved is what a restarted store reads back, datetimes aware."""
    saved = FeedState(
        "ustr",
        "https://example.com/feed.xml",
        etag='"abc"',
        last_modified="Sun, 01 Jun 2025 12:00:00 GMT",
        body_hash="h1",
        last_polled=T0,
        last_ok=T0,
        last_parsed=T0,
        failures=2,
        unhealthy=True,
        last_error="HTTP 503",
        next_poll=T0 + timedelta(minutes=15),
    )
    with state.transaction():
        state.save_feed_state(saved)
    state.close()
    again = reopen()
    try:
        assert again.feed_state("ustr") == saved
        assert again.feed_state("other") is None
        assert again.feed_states() == [saved]
    finally:
        again.close()


def test_touch_writes_only_poll_times(state: State) -> None:
    """A touch changes the poll times and leaves the caching headers and health alone."""
    with state.transaction():
        state.save_feed_state(FeedState("a", "u", etag="e", failures=1))
    later = T0 + timedelta(hours=1)
    touched = FeedState("a", "other", etag="x", last_polled=later, last_ok=later, next_poll=later)
    with state.transaction():
        state.touch_feeds([touched])
    got = state.feed_state("a")
    assert got is not None
    assert (got.url, got.etag, got.failures) == ("u", "e", 1)
    assert (got.last_polled, got.last_ok, got.next_poll) == (later, later, later)


# --------------------------------------------------------------------------- seen entries


def test_seen_keys_are_per_feed_and_keep_their_first_sighting(state: State) -> None:
    """Keys are per feed; marking twice keeps one; thousands are looked up at once."""
    keys = [f"k{i}" for i in range(2500)]
    with state.transaction():
        state.mark_seen("a", keys, T0)
        state.mark_seen("b", ["k1"], T0)
        state.mark_seen("a", ["k1"], T0 + timedelta(days=1))
    assert state.known_keys("a", [*keys, "zz"]) == set(keys)
    assert state.known_keys("b", ["k2"]) == set()
    assert state.seen_count("a") == 2500
    assert state.seen_count() == 2501


def test_fingerprints_are_kept_with_the_keys(state: State) -> None:
    """A key's fingerprint is found again; a later mark without one keeps it."""
    with state.transaction():
        state.mark_seen("a", ["k1", "k2"], T0, ["fp1", None])
        state.mark_seen("a", ["k1"], T0 + timedelta(hours=1))
    assert state.known_fingerprints("a", ["fp1", "fp2"]) == {"fp1"}
    assert state.known_fingerprints("b", ["fp1"]) == set()


def test_prune_forgets_only_keys_long_absent_from_the_feed(state: State) -> None:
    """Keys not seen for longer than the retention before the last parse go; the rest stay."""
    with state.transaction():
        state.mark_seen("a", ["old"], T0)
        state.mark_seen("a", ["current"], T0 + timedelta(days=100))
    with state.transaction():
        assert state.prune("a", timedelta(days=90), T0 + timedelta(days=100)) == 1
    assert state.known_keys("a", ["old", "current"]) == {"current"}


def test_prune_is_relative_to_the_last_parse_not_the_wall_clock(state: State) -> None:
    """A feed that answered 304 for a year keeps the keys of the entries it still has."""
    with state.transaction():
        state.mark_seen("a", ["k"], T0)
        state.prune("a", timedelta(days=90), T0)
    assert state.known_keys("a", ["k"]) == {"k"}


def test_a_failed_transaction_leaves_nothing_behind(state: State) -> None:
    """An error inside a transaction rolls every write of it back."""

    class Boom(Exception):
        pass

    def write_then_fail() -> None:
        with state.transaction():
            state.mark_seen("a", ["k1"], T0)
            raise Boom

    with pytest.raises(Boom):
        write_then_fail()
    assert state.known_keys("a", ["k1"]) == set()


def test_the_probe_writes(state: State) -> None:
    """The health probe is a real write that succeeds on a healthy store."""
    state.probe(T0)


# --------------------------------------------------------------------------- the outbox


def test_an_alert_is_queued_once_and_composed_into_one_message(state: State) -> None:
    """Queueing the same alert twice keeps one; composing moves it into a message with a
    pending delivery per URL; a restart would find it due."""
    outbox = state.outbox
    with state.transaction():
        assert outbox.enqueue([alert(1), alert(1), alert(2, "mail")], T0) == 2
    assert outbox.channels_with_work() == ["chat", "mail"]
    (queued,) = outbox.queued("chat")
    assert queued.context["title"] == "Story 1"
    with state.transaction():
        message = outbox.compose(
            "chat",
            kind="match",
            title="Story 1",
            body="b",
            fmt="text",
            alert_ids=[queued.id],
            url_hashes=["u1", "u2"],
            now=T0,
            severity="high",
        )
    assert outbox.queued("chat") == []
    (due,) = outbox.due_messages("chat", T0)
    assert (due.id, due.pending, due.sent, due.severity) == (message, ("u1", "u2"), (), "high")
    assert outbox.contexts(message) == [queued.context]


def test_deliveries_failures_retries_and_dead_letters(state: State) -> None:
    """One URL delivered, the other failing: the message waits for its retry time; past
    its age it is dead, reported once; status counts each state."""
    outbox = state.outbox
    with state.transaction():
        outbox.enqueue([alert(1)], T0)
        (q,) = outbox.queued("chat")
        message = compose(outbox, [q.id], ["u1", "u2"], T0)
    assert outbox.delivered(message, "u1", T0)
    assert not outbox.delivered(message, "u1", T0)  # not pending any more
    with state.transaction():
        outbox.failed(message, "HTTP 503", T0 + timedelta(minutes=1))
    assert outbox.due_messages("chat", T0) == []
    (later,) = outbox.due_messages("chat", T0 + timedelta(minutes=1))
    assert (later.pending, later.sent, later.attempts) == (("u2",), ("u1",), 1)
    assert outbox.next_attempt() == T0 + timedelta(minutes=1)
    (chat,) = outbox.status()
    assert (chat.retrying, chat.last_error) == (1, "HTTP 503")
    with state.transaction():
        outbox.dead(message, None, T0 + timedelta(days=1))
    (dead,) = outbox.unreported_dead()
    assert (dead.id, dead.last_error) == (message, "HTTP 503")
    with state.transaction():
        outbox.reported(message)
    assert outbox.unreported_dead() == []
    (chat,) = outbox.status()
    assert (chat.dead, chat.retrying) == (1, 0)


def test_retarget_follows_the_channel_s_current_urls(state: State) -> None:
    """A URL that left the channel is superseded (never sent); a new one gets a delivery;
    one already delivered is not sent again."""
    outbox = state.outbox
    with state.transaction():
        outbox.enqueue([alert(1)], T0)
        (q,) = outbox.queued("chat")
        message = compose(outbox, [q.id], ["old", "kept"], T0)
    outbox.delivered(message, "kept", T0)
    (pending,) = outbox.due_messages("chat", T0)
    assert outbox.retarget(pending, ["kept", "new"]) == ("new",)
    (pending,) = outbox.due_messages("chat", T0)
    assert pending.pending == ("new",)
    outbox.delivered(message, "new", T0)
    with state.transaction():
        assert outbox.finish_if_complete(message, T0)
    (chat,) = outbox.status()
    assert chat.sent == 1


def test_reroute_moves_a_removed_channel_s_alerts(state: State) -> None:
    """Queued and pending alerts of a channel are queued again for other channels, marked
    with where they came from; the status counts them as rerouted, never as sent."""
    outbox = state.outbox
    with state.transaction():
        outbox.enqueue([alert(1), alert(2)], T0)
        first, _ = outbox.queued("chat")
        compose(outbox, [first.id], ["u"], T0)
    assert outbox.orphan_channels(["mail"]) == ["chat"]
    with state.transaction():
        assert outbox.reroute("chat", ["mail"], T0) == 2
    moved = outbox.queued("mail")
    assert [a.context["rerouted_from"] for a in moved] == ["chat", "chat"]
    by_channel = {c.channel: c for c in outbox.status()}
    assert by_channel["chat"].rerouted == 2
    assert by_channel["chat"].sent == 0
    assert outbox.orphan_channels(["mail"]) == []


def test_holds_and_digest_windows_set_the_next_wake(state: State) -> None:
    """A held alert records why; an alert waiting for its digest window sets when the
    channel next has work, and one already past it does not."""
    outbox = state.outbox
    window = T0 + timedelta(minutes=30)
    with state.transaction():
        outbox.enqueue([alert(1), alert(2, group="watch w", not_before=window)], T0)
        first, _ = outbox.queued("chat")
        outbox.hold({first.id: Held.QUIET})
    held = {a.id: a.held for a in outbox.queued("chat")}
    assert held[first.id] == "quiet hours"
    assert outbox.next_due("chat", T0) == window
    assert outbox.next_due("chat", window) is None
    assert outbox.next_release() == T0


def test_recent_messages_count_for_rate_limits(state: State) -> None:
    """Messages composed since a time are counted per channel."""
    outbox = state.outbox
    with state.transaction():
        outbox.enqueue([alert(1), alert(2)], T0)
        for i, q in enumerate(outbox.queued("chat")):
            outbox.compose(
                "chat",
                kind="match",
                title="t",
                body="b",
                fmt="text",
                alert_ids=[q.id],
                url_hashes=["u"],
                now=T0 + timedelta(minutes=i),
            )
    assert outbox.recent_messages("chat", T0 + timedelta(seconds=30)) == 1
    assert outbox.recent_messages("mail", T0) == 0


# --------------------------------------------------------------------------- the deadline book


def test_reminders_are_recorded_once_and_forgotten_with_their_deadline(state: State) -> None:
    """A tracked deadline keeps its first sighting; a reminder is recorded once; a deadline
    that left the config is forgotten with its reminders."""
    book = state.reminders
    reminder = Reminder("pause", due=T0 + timedelta(days=7), at=T0, offset=timedelta(days=7))
    with state.transaction():
        book.track("pause", "2025-07-09", T0)
        book.track("pause", "2025-07-10", T0 + timedelta(days=1))  # moved: identity only
        book.record(reminder, "sent", T0)
        book.record(reminder, "late", T0)
        book.track("other", "x", T0)
    assert book.tracked("pause") == ("2025-07-10", T0)
    assert book.done("pause") == {reminder.key}
    with state.transaction():
        book.forget_others({"other"})
    assert book.tracked("pause") is None
    assert book.done("pause") == set()
    assert book.tracked("other") is not None


def test_errors_are_state_errors(state: State) -> None:
    """A write that the backend refuses comes out as StateError, nothing else."""
    state.close()
    with pytest.raises(StateError):
        state.probe(T0)
