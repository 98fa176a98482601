"""The SQLite backend's own behaviour, on real files (the storage contract is in
``test_storage.py``, run against every backend)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifier.errors import StateError
from notifier.model import FeedState
from notifier.storage.sqlite import FILENAME, Store

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_store_uses_wal_in_the_state_folder(tmp_path: Path) -> None:
    """The file lives in the state folder (created if missing), in WAL mode."""
    folder = tmp_path / "deep" / "state"
    with Store.open(folder):
        pass
    db = sqlite3.connect(folder / FILENAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


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
        db.execute("UPDATE schema_version SET version=99")
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
