"""The SQLite state store, on real files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.errors import StateError
from notifier.model import FeedState
from notifier.storage.sqlite import FILENAME, Store

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_feed_state_round_trips_and_survives_reopening(tmp_path: Path) -> None:
    """What is saved is what a later process reads back, datetimes aware."""
    state = FeedState(
        name="ustr",
        url="https://example.com/feed.xml",
        etag='"abc"',
        last_modified="Sun, 01 Jun 2025 12:00:00 GMT",
        body_hash="h1",
        last_polled=T0,
        last_ok=T0,
        last_parsed=T0,
        failures=2,
        unhealthy=True,
        last_error="example.com/feed.xml: HTTP 503",
        next_poll=T0 + timedelta(minutes=15),
    )
    with Store.open(tmp_path) as store, store.transaction():
        store.save_feed_state(state)
    with Store.open(tmp_path) as store:
        assert store.feed_state("ustr") == state
        assert store.feed_state("other") is None
        assert store.feed_states() == [state]


def test_store_uses_wal_in_the_state_folder(tmp_path: Path) -> None:
    """The file lives in the state folder (created if missing), in WAL mode."""
    folder = tmp_path / "deep" / "state"
    with Store.open(folder):
        pass
    db = sqlite3.connect(folder / FILENAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_known_keys_and_mark_seen(tmp_path: Path) -> None:
    """Keys are per feed; marking twice keeps one row and the first-seen time."""
    with Store.open(tmp_path) as store:
        with store.transaction():
            store.mark_seen("a", ["k1", "k2", "k2"], T0)
            store.mark_seen("b", ["k1"], T0)
        assert store.known_keys("a", ["k1", "k3"]) == {"k1"}
        assert store.known_keys("b", ["k2"]) == set()
        with store.transaction():
            store.mark_seen("a", ["k1"], T0 + timedelta(days=1))
        assert store.seen_count("a") == 2
        assert store.seen_count() == 3


def test_known_keys_handles_more_keys_than_sqlite_parameters(tmp_path: Path) -> None:
    """Thousands of keys in one query are chunked, not rejected by SQLite."""
    keys = [f"k{i}" for i in range(5000)]
    with Store.open(tmp_path) as store:
        with store.transaction():
            store.mark_seen("a", keys[::2], T0)
        assert store.known_keys("a", keys) == set(keys[::2])


def test_prune_keeps_keys_still_in_the_feed(tmp_path: Path) -> None:
    """Only keys absent from the latest parse for longer than the retention go."""
    with Store.open(tmp_path) as store:
        with store.transaction():
            store.mark_seen("a", ["old", "current"], T0)
            store.mark_seen("a", ["current"], T0 + timedelta(days=100))
            removed = store.prune("a", timedelta(days=90), last_parsed=T0 + timedelta(days=100))
        assert removed == 1
        assert store.known_keys("a", ["old", "current"]) == {"current"}


def test_prune_is_relative_to_last_parse_not_wall_clock(tmp_path: Path) -> None:
    """A feed that answered 304 for a year keeps the keys of entries it still has."""
    with Store.open(tmp_path) as store:
        with store.transaction():
            store.mark_seen("a", ["k"], T0)
            store.prune("a", timedelta(days=90), last_parsed=T0)
        assert store.known_keys("a", ["k"]) == {"k"}


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    """A failed transaction leaves nothing half-written."""
    with Store.open(tmp_path) as store:

        def write_then_fail() -> None:
            with store.transaction():
                store.mark_seen("a", ["k"], T0)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            write_then_fail()
        assert store.seen_count() == 0


def test_read_only_store_creates_nothing(tmp_path: Path) -> None:
    """A dry run opens no file that does not exist yet."""
    with Store.open(tmp_path / "nope", read_only=True) as store:
        assert store.feed_state("a") is None
    assert not (tmp_path / "nope").exists()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A store written by a newer notifier is not silently misread."""
    with Store.open(tmp_path):
        pass
    db = sqlite3.connect(tmp_path / FILENAME)
    with db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema'")
    db.close()
    with pytest.raises(StateError, match="newer notifier"):
        Store.open(tmp_path)


def test_unusable_state_folder_is_a_state_error(tmp_path: Path) -> None:
    """A state folder under a file cannot be created: a StateError, not an OSError."""
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(StateError, match="not usable"):
        Store.open(blocker / "state")


def test_url_change_drops_caching_headers() -> None:
    """A feed whose URL changed must not send the old feed's ETag."""
    state = FeedState("a", "https://old.test/f", etag="e", last_modified="m", body_hash="h")
    moved = state.with_url("https://new.test/f")
    assert (moved.etag, moved.last_modified, moved.body_hash) == (None, None, None)
    assert state.with_url("https://old.test/f") is state
