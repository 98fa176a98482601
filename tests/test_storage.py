"""The storage contract: every backend of :class:`notifier.storage.State` passes these.

Written against the protocols only (no SQL, no connection), parametrised by
backend, so every backend runs the same suite by
adding itself to :data:`BACKENDS` (SQLite and PostgreSQL, the latter on the
throwaway server of ``tests/pg.py``). Backend-specific behaviour (files, WAL, locks,
migrations of old SQLite stores) is tested beside each backend (``test_store.py``,
``test_state_safety.py``, ``test_upgrade.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notifier.deadlines.planning import Reminder
from notifier.errors import InvalidSearch, StateError
from notifier.model import EntryRecord, FeedState, Held, MatchRecord, NewAlert
from notifier.storage import OutboxStore, State
from notifier.storage.sqlite import Store

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

Opener = Callable[[], State]


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    return lambda: Store.open(tmp_path / "state")


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    from notifier.storage.postgres import PgStore  # noqa: PLC0415 - psycopg is optional

    url: str = request.getfixturevalue("pg_url")  # a new database (tests/pg.py)
    return lambda: PgStore.connect(url)


#: backend name → (the test's request, tmp folder → a function opening the same store
#: again).
BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Opener]] = {
    "sqlite": _sqlite,
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(BACKENDS))
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the backend's store (the same one each call: a restart)."""
    opener: Opener = BACKENDS[request.param](request, tmp_path)
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


def test_unrecorded_lists_seen_keys_without_a_history_entry(state: State) -> None:
    """A key-only first poll's keys have no history entry until recorded; keys first seen
    before ``since`` (history pruned them) and keys of other feeds are not listed."""
    later = T0 + timedelta(days=3)
    with state.transaction():
        state.mark_seen("a", ["old"], T0)
        state.mark_seen("a", ["k1", "k2", "k3"], later)
        state.mark_seen("b", ["k1"], later)
        state.history.add_silent("a", [record("k2", later, feed="a")])
    since = T0 + timedelta(days=1)
    found = state.unrecorded("a", ["old", "k1", "k2", "k3", "absent"], since)
    assert found == {"k1": later, "k3": later}
    assert state.unrecorded("a", ["k1"], later + timedelta(seconds=1)) == {}
    many = [f"m{i}" for i in range(1200)]  # more than one statement's worth
    with state.transaction():
        state.mark_seen("c", many, later)
    assert set(state.unrecorded("c", many, since)) == set(many)


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


def test_a_brief_is_recorded_once_per_day_and_survives_a_restart(reopen: Opener) -> None:
    """``record_brief`` says whether this call recorded the day's brief (a second one
    for the same day changes nothing); ``last_brief`` is the latest day, after a restart."""
    state = reopen()
    day = T0.date()
    assert state.reminders.last_brief() is None
    with state.transaction():
        assert state.reminders.record_brief(day - timedelta(days=1), T0 - timedelta(days=1))
        assert state.reminders.record_brief(day, T0)
        assert not state.reminders.record_brief(day, T0 + timedelta(hours=1))
    state.close()
    state = reopen()
    try:
        assert state.reminders.last_brief() == (day, T0)
    finally:
        state.close()


def test_errors_are_state_errors(state: State) -> None:
    """A write that the backend refuses comes out as StateError, nothing else."""
    state.close()
    with pytest.raises(StateError):
        state.probe(T0)


# --------------------------------------------------------------------------- history

ZH_TITLE = "中国加强稀土出口管制"


def record(key: str, seen: datetime, feed: str = "news", **kw: Any) -> EntryRecord:
    """An entry of ``feed`` first seen at ``seen`` (title ``Story KEY`` unless given)."""
    values: dict[str, Any] = {
        "title": f"Story {key}",
        "summary": f"About {key}.",
        "link": f"https://example.com/{key}",
        "canonical": f"https://example.com/{key}",
        "published": None,
    }
    values.update(kw)
    return EntryRecord(feed=feed, key=key, seen=seen, text_hash=f"h-{key}", **values)


def matched(entry: int, story: int, watch: str, at: datetime, kind: str = "match") -> MatchRecord:
    return MatchRecord(
        entry=entry,
        story=story,
        watch=watch,
        why=f'"{watch}" in title',
        terms=(watch,),
        at=at,
        kind=kind,  # type: ignore[arg-type]
    )


def add(state: State, *records: EntryRecord) -> list[int]:
    """Record entries and make them searchable, as the daemon does soon after a poll."""
    with state.transaction():
        ids = state.history.add_entries(records)
        state.history.index_pending()
        return ids


def test_entries_are_stored_once_and_start_their_own_stories(state: State, reopen: Opener) -> None:
    """A new entry starts its own story (story = its id); one added with a story joins
    it; adding an entry again (same feed and key) changes nothing and returns its id;
    the same key in another feed is another entry. All survives a restart."""
    first, second = add(state, record("a", T0), record("b", T0))
    assert first != second
    (joined,) = add(state, record("c", T0, feed="wire", story=first))
    again = add(state, record("a", T0 + timedelta(hours=1), title="Changed"), record("a", T0))
    assert again == [first, first]
    (other,) = add(state, record("a", T0, feed="wire"))
    assert other not in (first, second, joined)
    state.close()
    store = reopen()
    try:
        got = store.history.entries_by_key("news", ["a", "b", "zz"])
        assert set(got) == {"a", "b"}
        a = got["a"]
        assert (a.id, a.story, a.title, a.seen, a.text_hash) == (first, first, "Story a", T0, "h-a")
        assert got["b"].story == second
        assert store.history.entries_by_key("wire", ["c"])["c"].story == first
        assert store.history.story_sources(first) == 2
        assert store.history.story_sources(second) == 1
    finally:
        store.close()


def test_silent_entries_are_stored_once_each_its_own_story(state: State) -> None:
    """A first poll's entries (``add_silent``): each starts its own story, an entry
    already stored keeps its row, and texts are capped as ``add_entries`` caps them."""
    (kept,) = add(state, record("a", T0, title="Kept"))
    with state.transaction():
        state.history.add_silent(
            "news",
            [
                record("a", T0, title="Other"),
                record("b", T0),
                record("c", T0, title="t" * 600),
            ],
        )
    got = state.history.entries_by_key("news", ["a", "b", "c"])
    assert got["a"].id == kept
    assert got["a"].title == "Kept"
    assert got["b"].story == got["b"].id
    assert got["c"].story == got["c"].id
    assert got["b"].id != got["c"].id
    assert len(got["c"].title) == 500


def test_entries_after_an_id_come_by_id(state: State) -> None:
    """``entries_after`` reads the entries with a higher id, by id, ``limit`` at a time;
    ``last_entry_id`` is the highest id (0 when there is none)."""
    assert state.history.last_entry_id() == 0
    ids = add(state, record("a", T0), record("b", T0), record("c", T0, feed="wire"))
    assert state.history.last_entry_id() == max(ids)
    after = state.history.entries_after(ids[0])
    assert [(r.feed, r.key) for r in after] == [("news", "b"), ("wire", "c")]
    assert [r.key for r in state.history.entries_after(0, limit=2)] == ["a", "b"]
    assert state.history.entries_after(max(ids)) == []


def test_long_texts_are_capped(state: State) -> None:
    """Titles are kept to 500 characters and summaries to 2,000."""
    add(state, record("a", T0, title="t" * 600, summary="s" * 3000))
    got = state.history.entries_by_key("news", ["a"])["a"]
    assert (len(got.title), len(got.summary)) == (500, 2000)


def test_recent_entries_and_entries_between_are_oldest_first(state: State) -> None:
    """``recent_entries`` gives what was first seen at or after a time, oldest first;
    ``entries_between`` streams a half-open period, across its pages."""
    keys = [f"k{i:04d}" for i in range(2100)]
    add(state, *(record(k, T0 + timedelta(minutes=i // 3)) for i, k in enumerate(keys)))
    recent = state.history.recent_entries(T0 + timedelta(minutes=600))
    assert [e.key for e in recent] == keys[1800:]
    between = list(
        state.history.entries_between(T0 + timedelta(minutes=1), T0 + timedelta(minutes=500))
    )
    assert [e.key for e in between] == keys[3:1500]


def test_an_edit_keeps_the_old_text_and_is_searchable_by_the_new(state: State) -> None:
    """An edit stores the new text, marks the entry changed, keeps the old title and
    summary with the diff, and moves the search index from the old words to the new."""
    (entry,) = add(state, record("a", T0, title="Tariff pause extended"))
    later = T0 + timedelta(hours=2)
    with state.transaction():
        state.history.record_edit(
            entry,
            title="Tariff pause ended",
            summary="Now over.",
            text_hash="h2",
            at=later,
            diff="Tariff pause [-extended-]{+ended+}",
            alerted=True,
        )
        state.history.record_edit(
            999_999, title="x", summary="", text_hash="", at=later, diff="", alerted=False
        )
    got = state.history.entries_by_key("news", ["a"])["a"]
    assert (got.title, got.summary, got.text_hash, got.changed) == (
        "Tariff pause ended",
        "Now over.",
        "h2",
        later,
    )
    history = state.history
    assert [s.id for s in history.stories(since=T0, search="ended", matched_only=False)] == [entry]
    assert history.stories(since=T0, search="extended", matched_only=False) == []
    story = history.story(entry)
    assert story is not None
    (edit,) = story.edits
    assert (edit.at, edit.old_title, edit.old_summary, edit.alerted) == (
        later,
        "Tariff pause extended",
        "About a.",
        True,
    )
    assert edit.diff == "Tariff pause [-extended-]{+ended+}"


def test_matches_are_found_by_feed_and_key(state: State) -> None:
    """``matches_for`` gives each entry's matches with their terms, oldest first;
    ``matched_keys`` says which keys have any; other feeds' entries are not theirs."""
    a, b, _ = add(state, record("a", T0), record("b", T0), record("c", T0))
    (wire_a,) = add(state, record("a", T0, feed="wire"))
    with state.transaction():
        state.history.record_matches(
            [
                matched(a, a, "tariffs", T0),
                matched(a, a, "china", T0 + timedelta(minutes=1)),
                matched(b, b, "tariffs", T0),
            ]
        )
    found = state.history.matches_for("news", ["a", "b", "c", "zz"])
    assert [m.watch for m in found["a"]] == ["tariffs", "china"]
    assert found["a"][0].terms == ("tariffs",)
    assert found["a"][0].why == '"tariffs" in title'
    assert set(found) == {"a", "b"}
    assert state.history.matched_keys("news", ["a", "b", "c", "zz"]) == {"a", "b"}
    assert state.history.matched_keys("wire", ["a"]) == set()
    assert wire_a != a


def test_story_watches_count_only_what_alerted(state: State) -> None:
    """A story's alerted watches are those recorded as match, update, edit or replay; a
    source attached without alerting does not count."""
    first, second = add(state, record("a", T0), record("b", T0))
    (later,) = add(state, record("c", T0, feed="wire", story=first))
    with state.transaction():
        state.history.record_matches(
            [
                matched(first, first, "tariffs", T0),
                matched(later, first, "china", T0, kind="source"),
                matched(later, first, "quotas", T0, kind="update"),
                matched(second, second, "other", T0, kind="replay"),
            ]
        )
    assert state.history.story_watches(first) == {"tariffs", "quotas"}
    assert state.history.story_watches(second) == {"other"}
    assert state.history.story_watches(12345) == set()


def fill_stories(state: State) -> dict[str, int]:
    """Four stories over three days (one with two sources, one Chinese, one unmatched)."""
    ids = add(
        state,
        record("tariff", T0, title="Tariff pause extended to August"),
        record("zh", T0 + timedelta(days=1), feed="xinhua", title=ZH_TITLE),
        record("quiet", T0 + timedelta(days=1, hours=1), title="Weather report"),
        record("chips", T0 + timedelta(days=2), feed="wire", title="Chip export rules"),
    )
    tariff, zh, quiet, chips = ids
    (echo,) = add(
        state,
        record(
            "tariff-echo", T0 + timedelta(days=2, hours=5), feed="wire", story=tariff, title="Echo"
        ),
    )
    with state.transaction():
        state.history.record_matches(
            [
                matched(tariff, tariff, "tariffs", T0),
                matched(echo, tariff, "tariffs", T0 + timedelta(days=2, hours=5), "source"),
                matched(zh, zh, "rare-earths", T0 + timedelta(days=1)),
                matched(chips, chips, "export-controls", T0 + timedelta(days=2)),
            ]
        )
    return {"tariff": tariff, "zh": zh, "quiet": quiet, "chips": chips, "echo": echo}


def test_stories_newest_first_with_their_sources_and_matches(state: State) -> None:
    """Stories come newest last-seen first, each with all its entries (first seen first),
    its matches and its title from the first entry; unmatched ones only when asked."""
    ids = fill_stories(state)
    got = state.history.stories(since=T0)
    assert [s.id for s in got] == [ids["tariff"], ids["chips"], ids["zh"]]
    tariff = got[0]
    assert tariff.title == "Tariff pause extended to August"
    assert [e.key for e in tariff.entries] == ["tariff", "tariff-echo"]
    assert tariff.feeds == ("news", "wire")
    assert (tariff.first_seen, tariff.last_seen) == (T0, T0 + timedelta(days=2, hours=5))
    assert [m.kind for m in tariff.matches] == ["match", "source"]
    assert tariff.watches == ("tariffs",)
    everything = state.history.stories(since=T0, matched_only=False)
    assert ids["quiet"] in [s.id for s in everything]
    assert [s.id for s in state.history.stories(since=T0, limit=1)] == [ids["tariff"]]
    assert state.history.stories(since=T0, limit=0) == []
    assert state.history.story(ids["quiet"]) is not None
    assert state.history.story(987654) is None


def test_stories_filter_by_period_watch_and_feed(state: State) -> None:
    """``since``/``until`` select stories by when their entries were first seen (half
    open); ``watch`` and ``feed`` narrow them."""
    ids = fill_stories(state)
    history = state.history
    day = timedelta(days=1)
    assert [s.id for s in history.stories(since=T0 + day, until=T0 + 2 * day)] == [ids["zh"]]
    # the tariff story has an entry in the last day (its second source)
    assert [s.id for s in history.stories(since=T0 + 2 * day)] == [ids["tariff"], ids["chips"]]
    assert [s.id for s in history.stories(since=T0, watch="rare-earths")] == [ids["zh"]]
    assert history.stories(since=T0, watch="nothing") == []
    assert [s.id for s in history.stories(since=T0, feed="wire")] == [ids["tariff"], ids["chips"]]
    assert [s.id for s in history.stories(since=T0, feed="news", until=T0 + day)] == [ids["tariff"]]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("稀土", ["zh"]),
        ("稀", ["zh"]),
        ("管制", ["zh"]),
        ("出口管制", ["zh"]),
        ("中国 稀土", ["zh"]),
        ("土稀", []),
        ("稀土 tariff", []),
        ("tariff", ["tariff"]),
        ("TARIFF pause", ["tariff"]),
        ("pause august", ["tariff"]),
        ("export", ["chips"]),
        ("chip", ["chips"]),
        ("weather", ["quiet"]),
        ("echo", ["tariff"]),
        ("missing", []),
    ],
)
def test_stories_search_titles_and_summaries_in_english_and_chinese(
    state: State, search: str, expected: list[str]
) -> None:
    """Every word of the search must be in an entry's title or summary: English words
    by prefix and without case, Chinese by character bigrams (a two-character word
    inside a longer run is found; a one-character search too)."""
    ids = fill_stories(state)
    got = state.history.stories(since=T0, search=search, matched_only=False)
    assert [s.id for s in got] == [ids[k] for k in expected]


def test_search_finds_accented_and_full_width_text(state: State) -> None:
    """Diacritics and full-width forms are folded on both sides."""
    (entry,) = add(state, record("a", T0, title="Zölle auf Stahl", summary="ＷＴＯ ruling"))
    history = state.history
    assert [s.id for s in history.stories(since=T0, search="zolle", matched_only=False)] == [entry]
    assert [s.id for s in history.stories(since=T0, search="wto", matched_only=False)] == [entry]


@pytest.mark.parametrize(
    "search",
    [
        '"tariff',
        "tariff*",
        "NEAR(tariff pause)",
        "tariff OR",
        "OR",
        "AND NOT",
        "-tariff",
        "tariff -pause",
        "title:tariff",
        "^tariff",
        "{title} : tariff",
        "tariff 🦀",
        '(稀土) + "出口"',
        "x" * 200,
    ],
)
def test_hostile_searches_are_text_not_syntax(state: State, search: str) -> None:
    """What a user types is only ever searched for: quotes, stars, NEAR, OR, AND, NOT,
    minus signs, column filters and emoji never reach FTS5 as syntax."""
    fill_stories(state)
    state.history.stories(since=T0, search=search, matched_only=False)


@pytest.mark.parametrize("search", ["", "   ", '"', "*", "-", "()", "🦀🦀", "x" * 10_000])
def test_a_search_with_nothing_to_find_or_too_long_is_a_clear_error(
    state: State, search: str
) -> None:
    """An empty or punctuation-only search, or one longer than 200 characters, is an
    InvalidSearch saying why, never an FTS syntax error."""
    fill_stories(state)
    with pytest.raises(InvalidSearch) as caught:
        state.history.stories(since=T0, search=search)
    assert "search" in str(caught.value)
    assert "fts5" not in str(caught.value)


def test_prune_keeps_matched_entries_within_retention_and_drops_the_rest(state: State) -> None:
    """Entries older than ``keep`` go with their edits and search rows, unless a match
    younger than ``retention`` holds them; matches older than ``retention`` go; young
    entries stay. A second call finds nothing more."""
    keep, retention = timedelta(days=30), timedelta(days=90)
    old = T0 - timedelta(days=40)
    plain, held, stale, young = add(
        state,
        record("plain", old, title="Plain tariff"),
        record("held", old, title="Held tariff"),
        record("stale", old - timedelta(days=100), title="Stale tariff"),
        record("young", T0 - timedelta(days=1), title="Young tariff"),
    )
    with state.transaction():
        state.history.record_edit(
            plain, title="Plain tariffs", summary="", text_hash="h", at=old, diff="", alerted=False
        )
        state.history.record_matches(
            [
                matched(held, held, "tariffs", old),
                matched(stale, stale, "tariffs", old - timedelta(days=100)),
            ]
        )
    with state.transaction():
        deleted = state.history.prune_history(keep=keep, retention=retention, now=T0)
    assert deleted == 3  # the stale match, then the plain and stale entries
    with state.transaction():
        assert state.history.prune_history(keep=keep, retention=retention, now=T0) == 0
    assert set(state.history.entries_by_key("news", ["plain", "held", "stale", "young"])) == {
        "held",
        "young",
    }
    found = state.history.stories(
        since=T0 - timedelta(days=365), search="tariff", matched_only=False
    )
    assert sorted(s.id for s in found) == sorted([held, young])
    assert state.history.story(plain) is None
    assert state.history.history_counts(T0 - timedelta(days=365))["edits"] == 0


def test_prune_is_bounded_per_call(state: State) -> None:
    """One call deletes at most ``batch`` entries; calling again finishes the job."""
    add(state, *(record(f"k{i}", T0 - timedelta(days=60)) for i in range(25)))
    calls = []
    while True:
        with state.transaction():
            n = state.history.prune_history(
                keep=timedelta(days=30), retention=timedelta(days=30), now=T0, batch=10
            )
        calls.append(n)
        if n == 0:
            break
    assert calls == [10, 10, 5, 0]
    assert state.history.history_counts(T0 - timedelta(days=365))["total_entries"] == 0


def test_history_counts_for_status(state: State) -> None:
    """Counts since a time: entries, stories, matched stories, matches, edits; and the
    total stored."""
    ids = fill_stories(state)
    with state.transaction():
        state.history.record_edit(
            ids["chips"],
            title="Chip export rules eased",
            summary="",
            text_hash="h",
            at=T0 + timedelta(days=2, hours=1),
            diff="",
            alerted=False,
        )
    counts = state.history.history_counts(T0 + timedelta(days=1))
    assert counts == {
        "entries": 4,
        "stories": 4,
        "matched_stories": 3,
        "matches": 3,
        "edits": 1,
        "total_entries": 5,
    }


def test_feed_activity_counts_entries_and_matches_per_feed_and_period(state: State) -> None:
    """Entries and matches are counted per feed and per period between the bounds (the
    caller's midnights); what is outside the bounds is not counted."""
    with state.transaction():
        a, _, c, _ = state.history.add_entries(
            [
                record("a", T0),
                record("b", T0 + timedelta(hours=11)),  # the next period
                record("c", T0 + timedelta(hours=1), feed="wire"),
                record("old", T0 - timedelta(days=30)),
            ]
        )
        state.history.record_matches(
            [matched(a, a, "w", T0), matched(a, a, "v", T0), matched(c, c, "w", T0)]
        )
    bounds = [T0 - timedelta(hours=12), T0 + timedelta(hours=10), T0 + timedelta(hours=34)]
    assert state.history.feed_activity(bounds) == {
        "news": [(1, 2), (1, 0)],
        "wire": [(1, 1), (0, 0)],
    }
    assert state.history.feed_activity(bounds[:2]) == {"news": [(1, 2)], "wire": [(1, 1)]}
    assert state.history.feed_activity([T0 + timedelta(days=2), T0 + timedelta(days=3)]) == {}
    assert state.history.feed_activity([T0]) == {}


def test_story_of_link_finds_the_latest_story_with_that_link(state: State) -> None:
    """A canonical link seen within the period names the story of its latest entry."""
    first, second = add(
        state,
        record("a", T0, canonical="https://example.com/x"),
        record("b", T0 + timedelta(hours=1), feed="wire", canonical="https://example.com/x"),
    )
    assert state.history.story_of_link("https://example.com/x", T0) == second
    assert state.history.story_of_link("https://example.com/x", T0 + timedelta(hours=2)) is None
    assert state.history.story_of_link("https://example.com/y", T0) is None
    assert first != second


def test_entries_are_searchable_once_indexed_in_batches_and_edits_and_prunes_follow(
    state: State,
) -> None:
    """Recording an entry does not index it (a poll never pays for the search index);
    ``index_pending`` does, a bounded batch at a time, oldest first. An edit of an entry
    not yet indexed, and the pruning of one, leave the index consistent."""
    history = state.history
    with state.transaction():
        ids = history.add_entries(
            [record(f"k{i}", T0, title=f"稀土 tariff news {i}") for i in range(5)]
        )

    def found(text: str) -> list[int]:
        return sorted(s.id for s in history.stories(since=T0, search=text, matched_only=False))

    assert found("稀土") == []
    with state.transaction():
        history.record_edit(
            ids[0],
            title="出口管制 export",
            summary="",
            text_hash="h2",
            at=T0,
            diff="",
            alerted=False,
        )
        assert history.index_pending(limit=2) == 2
    assert found("出口管制") == [ids[0]]  # indexed with its edited text
    assert found("稀土") == [ids[1]]
    with state.transaction():
        assert history.index_pending(limit=2) == 2
        assert history.index_pending(limit=2) == 1
        assert history.index_pending(limit=2) == 0
    assert found("稀土") == ids[1:]
    with state.transaction():
        history.record_edit(
            ids[1], title="Port fees", summary="", text_hash="h3", at=T0, diff="", alerted=False
        )
    assert found("稀土") == ids[2:]
    assert found("port fees") == [ids[1]]
    with state.transaction():
        (late,) = history.add_entries([record("late", T0, title="稀土 unindexed")])
        history.prune_history(
            keep=timedelta(days=1), retention=timedelta(days=1), now=T0 + timedelta(days=3)
        )
        assert history.index_pending() == 0  # the pruned entry is gone, never indexed
    assert found("稀土") == []
    assert late not in found("unindexed")


def test_merge_stories_moves_entries_and_matches(state: State) -> None:
    """Merging story B into A moves B's entries and matches; the watches A has alerted
    then include B's."""
    a, b = add(state, record("a", T0), record("b", T0))
    with state.transaction():
        state.history.record_matches([MatchRecord(b, b, "w", "why", ("t",), T0)])
        assert state.history.merge_stories(a, b) == 1
        assert state.history.merge_stories(a, a) == 0
    assert state.history.story_watches(a) == {"w"}
    assert state.history.story_sources(a) == 2
    gone = state.history.story(b)
    assert gone is None or gone.entries == ()


def test_mutes_are_active_until_their_end_or_an_unmute(state: State, reopen: Opener) -> None:
    """A mute is active from its creation until ``until`` (soonest end first), survives a
    restart, and ``end`` stops it at once; ending a target not muted ends nothing."""
    with state.transaction():
        first = state.mutes.mute("watch", "tariffs", T0 + timedelta(hours=2), T0, reason="mtg")
        state.mutes.mute("channel", "chat", T0 + timedelta(hours=1), T0, who="ana")
    assert first.target == "watch:tariffs"
    assert [m.target for m in state.mutes.active(T0)] == ["channel:chat", "watch:tariffs"]
    state.close()
    again = reopen()
    try:
        (chat, tariffs) = again.mutes.active(T0 + timedelta(minutes=1))
        assert (chat.who, chat.reason, chat.until) == ("ana", None, T0 + timedelta(hours=1))
        assert (tariffs.who, tariffs.reason, tariffs.created) == ("cli", "mtg", T0)
        assert [m.target for m in again.mutes.active(T0 + timedelta(hours=1))] == ["watch:tariffs"]
        with again.transaction():
            assert again.mutes.end("watch", "tariffs", T0 + timedelta(minutes=5)) == 1
            assert again.mutes.end("watch", "tariffs", T0 + timedelta(minutes=5)) == 0
            assert again.mutes.end("feed", "nowhere", T0) == 0
        assert [m.target for m in again.mutes.active(T0 + timedelta(minutes=6))] == ["channel:chat"]
    finally:
        again.close()


def test_muting_a_muted_target_again_replaces_its_mute(state: State) -> None:
    """A second mute of the same target ends the first: one active mute per target,
    with the new end, reason and who."""
    with state.transaction():
        state.mutes.mute("feed", "wire", T0 + timedelta(hours=1), T0)
        state.mutes.mute(
            "feed", "wire", T0 + timedelta(minutes=10), T0 + timedelta(minutes=1), reason="less"
        )
    (only,) = state.mutes.active(T0 + timedelta(minutes=2))
    assert (only.until, only.reason) == (T0 + timedelta(minutes=10), "less")
    assert state.mutes.active(T0 + timedelta(minutes=11)) == []


def _ackable(key: str, channel: str, **context: object) -> NewAlert:
    from notifier.ack import short_id  # noqa: PLC0415

    return NewAlert(
        key=key,
        channel=channel,
        kind=str(context.get("kind", "match")),
        severity="high",
        context={"kind": "match", "title": key, "ack_id": short_id(key), **context},
    )


def test_acks_record_who_how_when_once_per_alert(state: State, reopen: Opener) -> None:
    """An alert with an ack id is listed once whatever its channels; an ack is recorded
    once (the first stays), survives a restart, and ``acked_keys`` — the escalation
    hook — finds it; an alert without an ack id is never listed."""
    from notifier.ack import short_id  # noqa: PLC0415

    story = {"id": 7, "sources": 1}
    with state.transaction():
        state.outbox.enqueue(
            [
                _ackable("match:news:a", "chat", story=story),
                _ackable("match:news:a", "mail", story=story),
                _ackable("reminder:tax:1", "chat", kind="reminder", deadline="tax"),
                alert(1),
            ],
            T0,
        )
    found = state.acks.alerts(T0 - timedelta(days=7))
    assert [(a.alert_key, a.ack) for a in found] == [
        ("match:news:a", None),  # newest first, then by key
        ("reminder:tax:1", None),
    ]
    (tax,) = state.acks.alerts(T0 - timedelta(days=7), deadline="tax")
    (news,) = state.acks.alerts(T0 - timedelta(days=7), story=7)
    assert news.ack_id == short_id("match:news:a")
    assert state.acks.alerts(T0 - timedelta(days=7), prefix=news.ack_id[:4])[0] == news
    assert state.acks.alerts(T0 + timedelta(minutes=1)) == []  # bounded by ``since``
    with state.transaction():
        assert state.acks.ack(news, "ana", "cli", T0 + timedelta(minutes=5))
        assert not state.acks.ack(news, "bob", "link", T0 + timedelta(minutes=6))
    state.close()
    again = reopen()
    try:
        assert again.acks.is_acked("match:news:a")
        assert not again.acks.is_acked("reminder:tax:1")
        assert again.acks.acked_keys(["match:news:a", "reminder:tax:1", "x"]) == {"match:news:a"}
        listed = {a.alert_key: a.ack for a in again.acks.alerts(T0 - timedelta(days=1))}
        ack = listed["match:news:a"]
        assert ack is not None
        assert (ack.who, ack.how, ack.at, ack.story) == ("ana", "cli", T0 + timedelta(minutes=5), 7)
        assert listed["reminder:tax:1"] is None
        assert tax.deadline == "tax"
    finally:
        again.close()
