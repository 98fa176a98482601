"""The PostgreSQL backend's own behaviour: the connection adapter, its migrations,
the feed lock of the cluster mode, and :func:`open_store`. The storage contract
itself runs on PostgreSQL in ``test_storage.py``."""

from __future__ import annotations

import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifier.errors import StateError
from notifier.model import FeedState
from notifier.storage import pg_migrations
from notifier.storage.open import open_store
from notifier.storage.search import tsquery
from notifier.storage.sqlite import Store
from tests.pg import PgServer

psycopg = pytest.importorskip("psycopg")

from notifier.storage.postgres import PgStore, mask_url, translate  # noqa: E402

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_translate_turns_sqlite_placeholders_into_psycopg_ones() -> None:
    """``?`` and ``:name`` become ``%s`` and ``%(name)s``; a ``%`` is escaped everywhere,
    a ``?`` or ``:x`` inside quotes is text, and a ``::`` cast stays."""
    assert translate("SELECT a FROM t WHERE b=? AND c LIKE ?") == (
        "SELECT a FROM t WHERE b=%s AND c LIKE %s"
    )
    assert translate("SELECT :c, x::text, ':no ?', '50%' FROM t WHERE y=:c") == (
        "SELECT %(c)s, x::text, ':no ?', '50%%' FROM t WHERE y=%(c)s"
    )
    assert translate("SELECT 'it''s ?', \"col?\" WHERE v=?") == (
        "SELECT 'it''s ?', \"col?\" WHERE v=%s"
    )


def test_the_adapter_runs_placeholders_percents_and_named_parameters(pg_url: str) -> None:
    """A real round trip: positional and named parameters, a literal ``%``, rowcount,
    fetchone after the last row, and iteration."""
    with PgStore.connect(pg_url) as store:
        db = store.db
        assert db.execute("SELECT '100%', ?, ? || 'b'", ("x", "a")).fetchone() == (
            "100%",
            "x",
            "ab",
        )
        assert db.execute("SELECT :c || :c", {"c": "%s"}).fetchone() == ("%s%s",)
        db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [("a", "1"), ("b", "2")])
        cursor = db.execute("SELECT key FROM meta WHERE key IN ('a', 'b') ORDER BY key")
        assert [row[0] for row in cursor] == ["a", "b"]
        assert cursor.fetchone() is None
        assert db.execute("UPDATE meta SET value='3' WHERE key IN ('a', 'b')").rowcount == 2


def test_sessions_are_bounded(pg_url: str) -> None:
    """Every connection has a statement timeout and an idle-in-transaction timeout."""
    with PgStore.connect(pg_url) as store:
        assert store.db.execute("SHOW statement_timeout").fetchone() == ("15s",)
        assert store.db.execute("SHOW idle_in_transaction_session_timeout").fetchone() == ("1min",)


def test_errors_are_state_errors_and_never_show_the_password(pg_server: PgServer) -> None:
    """A failed connection (a database that does not exist, a closed port) and a
    failed statement raise StateError; no message, nor the exception chain, carries
    the password of the URL."""
    secret = "s3cr3t-Pa55"
    missing = f"postgresql://notifier:{secret}@127.0.0.1:{pg_server.port}/nowhere"
    port = _closed_port()
    closed = f"postgresql://notifier:{secret}@127.0.0.1:{port}/x"
    keyword = f"host=127.0.0.1 port={port} user=notifier password={secret} dbname=x"
    invalid = f"postgresql://notifier:{secret}@127.0.0.1:{port}/x?nonsense=1"
    for url in (missing, closed, keyword, invalid):
        with pytest.raises(StateError) as caught:
            PgStore.connect(url)
        assert secret not in str(caught.value)
        assert "***" in str(caught.value)
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__
    url = pg_server.database().replace("notifier@", f"notifier:{secret}@")
    with PgStore.connect(url) as store, pytest.raises(StateError) as failed:
        store.db.execute("SELECT * FROM no_such_table")
    assert "no_such_table" in str(failed.value)
    assert secret not in str(failed.value)


def _closed_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_urls_own_options_win(pg_url: str) -> None:
    """A URL's ``options`` (here another schema, a longer statement timeout) are kept
    after notifier's own: the tables go in that schema."""
    with PgStore.connect(pg_url) as store:
        store.db.execute("CREATE SCHEMA alerting")
    url = pg_url + "?options=-c%20search_path%3Dalerting%20-c%20statement_timeout%3D30s"
    with PgStore.connect(url) as store:
        assert store.db.execute("SHOW statement_timeout").fetchone() == ("30s",)
        assert store.db.execute("SELECT to_regclass('alerting.feeds') IS NOT NULL").fetchone() == (
            True,
        )


def test_mask_url_hides_passwords_in_urls_and_conninfo() -> None:
    """Both spellings of a connection: the URL's ``user:password@`` and ``password=``."""
    assert mask_url("postgresql://u:p%40ss@db:5432/n") == "postgresql://u:***@db:5432/n"
    assert mask_url("postgres://db/n") == "postgres://db/n"
    assert mask_url("host=db password='a b' user=u") == "host=db password=*** user=u"
    assert mask_url("host=db password=abc") == "host=db password=***"


def test_migrating_twice_changes_nothing(pg_url: str) -> None:
    """The first open creates the schema (version LATEST); the next opens apply nothing."""
    PgStore.connect(pg_url).close()
    with PgStore.connect(pg_url) as store:
        assert pg_migrations.version(store.db) == pg_migrations.LATEST
        assert pg_migrations.migrate(store.db) == []
        assert store.db.execute("SELECT COUNT(*) FROM schema_version").fetchone() == (1,)


def test_workers_starting_at_once_migrate_once(pg_url: str) -> None:
    """Four workers opening a new database at the same moment: one migrates (under the
    advisory lock), the others wait and find it done; none fails."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        try:
            start.wait()
            PgStore.connect(pg_url).close()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with PgStore.connect(pg_url) as store:
        assert store.db.execute("SELECT version FROM schema_version").fetchall() == [
            (pg_migrations.LATEST,)
        ]


def test_a_database_of_a_newer_notifier_is_refused(pg_url: str) -> None:
    """A schema above LATEST is never downgraded nor written: opening says to upgrade."""
    with PgStore.connect(pg_url) as store:
        store.db.execute("UPDATE schema_version SET version=?", (pg_migrations.LATEST + 1,))
    with pytest.raises(StateError, match="newer notifier"):
        PgStore.connect(pg_url)


def test_read_only_sessions_cannot_write_and_do_not_migrate(pg_url: str) -> None:
    """Read-only on an empty database says to start once read-write; on a migrated one
    reads work and a write is refused by the server."""
    with pytest.raises(StateError, match="without read-only"):
        PgStore.connect(pg_url, read_only=True)
    PgStore.connect(pg_url).close()
    with PgStore.connect(pg_url, read_only=True) as store:
        assert store.read_only
        assert store.feed_states() == []
        with pytest.raises(StateError, match="read-only"):
            store.probe(T0)


def test_a_nested_transaction_is_a_savepoint(pg_url: str) -> None:
    """An inner ``with`` that fails rolls back only its own writes; the outer commits."""
    with PgStore.connect(pg_url) as store:

        def inner() -> None:
            with store.transaction():
                store.db.execute("INSERT INTO meta(key, value) VALUES ('inner', '1')")
                store.db.execute("INSERT INTO meta(key, value) VALUES ('outer', '2')")

        def failing() -> None:
            with store.transaction():
                store.db.execute("INSERT INTO meta(key, value) VALUES ('gone', '1')")
                raise RuntimeError

        with store.transaction():
            store.db.execute("INSERT INTO meta(key, value) VALUES ('outer', '1')")
            with pytest.raises(StateError):
                inner()
        keys = [r[0] for r in store.db.execute("SELECT key FROM meta ORDER BY key")]
        assert keys == ["outer"]
        with pytest.raises(RuntimeError):
            failing()
        assert store.db.execute("SELECT COUNT(*) FROM meta WHERE key='gone'").fetchone() == (0,)


def test_lock_feed_serialises_two_polls_of_one_feed(pg_url: str) -> None:
    """While one worker's poll transaction holds a feed's lock, another's waits for it
    (and sees the first one's write once it gets it); another feed does not wait."""
    first, second = PgStore.connect(pg_url), PgStore.connect(pg_url)
    held, other_feed_done = threading.Event(), threading.Event()
    waited: list[float] = []
    seen: list[int] = []

    def poll_again() -> None:
        held.wait(10)
        with second.transaction():
            second.lock_feed("other")
        other_feed_done.set()
        begun = time.monotonic()
        with second.transaction():
            second.lock_feed("news")
            waited.append(time.monotonic() - begun)
            state = second.feed_state("news")
            seen.append(state.failures if state else -1)

    thread = threading.Thread(target=poll_again)
    thread.start()
    try:
        with first.transaction():
            first.lock_feed("news")
            held.set()
            assert other_feed_done.wait(10)
            time.sleep(0.3)
            first.save_feed_state(FeedState(name="news", url="https://x", failures=7))
        thread.join(10)
    finally:
        first.close()
        second.close()
    assert len(waited) == 1
    assert waited[0] >= 0.25
    assert seen == [7]


def test_search_terms_never_reach_tsquery_syntax(pg_url: str) -> None:
    """Hostile searches become quoted lexemes only: the cast parses, and finds nothing
    it should not."""
    hostile = ["a & | ! ( ) : * '", "x' | 'y", "\\' & !b", "稀土 <-> c:*", "a:* & b"]
    with PgStore.connect(pg_url) as store:
        for text in hostile:
            query = tsquery(text)
            (parsed,) = store.db.execute("SELECT ?::tsquery::text", (query,)).fetchone()
            assert not {"|", "!", "<->", "("} & set(parsed.split())


def test_open_store_picks_the_backend(tmp_path: Path, pg_url: str) -> None:
    """No URL: the SQLite store in the state folder; a URL: PostgreSQL."""
    sqlite = open_store(tmp_path / "state", None)
    assert isinstance(sqlite, Store)
    sqlite.close()
    pg = open_store(tmp_path / "state", pg_url)
    assert isinstance(pg, PgStore)
    pg.close()


def test_open_store_without_psycopg_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg is an optional extra: without it a URL gives one line naming it."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "notifier.storage.postgres", raising=False)
    with pytest.raises(StateError, match=r"notifier\[postgres\]"):
        open_store(tmp_path, "postgresql://u:p@127.0.0.1:1/x")


def test_lock_stories_serialises_the_story_step_of_two_workers(pg_url: str) -> None:
    """While one worker places entries in stories, another's story step waits, then sees
    the first one's entries; a feed lock is not the stories' lock."""
    first, second = PgStore.connect(pg_url), PgStore.connect(pg_url)
    held = threading.Event()
    waited: list[float] = []
    counts: list[int] = []

    def place_too() -> None:
        held.wait(10)
        with second.transaction():
            second.lock_feed("stories")  # another lock: does not wait
        begun = time.monotonic()
        with second.transaction():
            second.lock_stories()
            waited.append(time.monotonic() - begun)
            counts.append(second.seen_count())

    thread = threading.Thread(target=place_too)
    thread.start()
    try:
        with first.transaction():
            first.lock_stories()
            held.set()
            time.sleep(0.3)
            first.mark_seen("news", ["k1"], datetime(2026, 1, 1, tzinfo=UTC))
        thread.join(10)
    finally:
        first.close()
        second.close()
    assert len(waited) == 1
    assert waited[0] >= 0.2, waited
    assert counts == [1]
