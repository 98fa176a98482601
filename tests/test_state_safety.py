"""The state folder: one owner at a time, refused when damaged, private, and probed for real.

Two real ``notifier run`` processes contend for one folder; damaged files are
real files on disk; the full-disk test fills a real (tiny) tmpfs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifier.errors import StateError, StateLocked
from notifier.model import FeedState
from notifier.runtime.monitor import (
    LOOP_BLOCKED_AFTER,
    SCHEDULER_STALE_AFTER,
    Health,
)
from notifier.storage.migrations import LATEST
from notifier.storage.sqlite import FILENAME, Store, lock_state_dir
from tests.conftest import CLI
from tests.feedserver import ThreadedFeedServer
from tests.test_daemon_e2e import Daemon as Process
from tests.test_poll import rss

CONFIG = """\
channels:
  console: ["console://"]
feeds:
  - name: news
    url: {feed}
    interval: 1s
"""


def test_the_lock_names_its_holder_and_is_released(tmp_path: Path) -> None:
    """A second lock on the folder fails naming the first holder's PID and purpose; once
    released, the folder can be locked again."""
    lock = lock_state_dir(tmp_path, "run")
    with pytest.raises(StateLocked) as raised:
        lock_state_dir(tmp_path, "once")
    assert f"PID {os.getpid()}" in str(raised.value)
    assert "'notifier run'" in str(raised.value)
    lock.release()
    lock_state_dir(tmp_path, "once").release()


@pytest.mark.slow
def test_a_second_daemon_on_the_same_folder_exits_naming_the_first(
    cli: CLI, tmp_path: Path, feeds: ThreadedFeedServer
) -> None:
    """Two daemons on one state folder would send every alert twice: the second ``run``
    exits 1 with one line naming the PID that holds the folder; ``once`` and ``deliver``
    refuse the same way while it runs; ``once --dry-run`` (which writes nothing) works."""
    feeds.feed("/news.xml", rss(("a1", "Old", "x")))
    config = tmp_path / "watch.yaml"
    config.write_text(CONFIG.format(feed=feeds.url("/news.xml")), "utf-8")
    state = tmp_path / "state"
    first = Process(config, state, tmp_path / "first.log")
    try:
        first.wait_for_log("daemon started")
        flags = ("--config", str(config), "--state-dir", str(state))
        for command in (("run",), ("once",), ("deliver",)):
            result = cli(*command, *flags)
            assert result.code == 1, result
            lines = result.err.strip().splitlines()
            assert len(lines) == 1, result.err
            assert f"PID {first.proc.pid}" in lines[0]
            assert "'notifier run'" in lines[0]
        assert cli("once", "--dry-run", *flags).code == 0
        assert first.proc.poll() is None  # the first one never noticed
    finally:
        assert first.stop(signal.SIGTERM) == 0
    assert cli("once", *flags).code == 0  # free again once it stopped


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "is empty (0 bytes)"), (b"this is not a database\n" * 50, "is damaged")],
)
def test_an_empty_or_damaged_state_file_is_refused_by_every_command(
    cli: CLI, tmp_path: Path, content: bytes, words: str
) -> None:
    """A truncated or foreign state file would silently become a fresh store (every
    pending alert lost, every entry alerted again): ``status``, ``once``, ``deliver``
    and ``run`` all refuse it with the same one line and exit 1, and leave it alone."""
    state = tmp_path / "state"
    state.mkdir()
    (state / FILENAME).write_bytes(content)
    config = tmp_path / "watch.yaml"
    config.write_text('channels:\n  console: ["console://"]\n', "utf-8")
    flags = ("--config", str(config), "--state-dir", str(state))
    messages = set()
    for command in ("status", "once", "deliver", "run"):
        result = cli(command, *flags)
        assert result.code == 1, (command, result)
        lines = result.err.strip().splitlines()
        assert len(lines) == 1, (command, result.err)
        assert words in lines[0]
        assert "Traceback" not in result.err
        messages.add(lines[0])
    assert len(messages) == 1, messages
    assert (state / FILENAME).read_bytes() == content


def test_the_state_file_is_private_and_holds_no_feed_credentials(tmp_path: Path) -> None:
    """The database is created 0600, and a feed URL's password and token are stored masked."""
    with Store.open(tmp_path) as store:
        assert stat.S_IMODE((tmp_path / FILENAME).stat().st_mode) == 0o600
    from notifier.text import mask_feed_url  # noqa: PLC0415 - what the poller stores

    url = "https://user:hunter22@feeds.example.com/rss?token=s3cr3t-t0ken&page=1"
    with Store.open(tmp_path) as store, store.transaction():
        store.save_feed_state(FeedState("news", mask_feed_url(url)))
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(FILENAME))
    assert b"hunter22" not in raw
    assert b"s3cr3t-t0ken" not in raw


async def test_the_poller_stores_feed_urls_masked(tmp_path: Path) -> None:
    """A real poll of a feed whose URL carries a token: the token is not on disk."""
    from notifier.config.loader import loads  # noqa: PLC0415
    from notifier.runtime.app import poll_once  # noqa: PLC0415

    with ThreadedFeedServer() as feeds:
        feeds.feed("/rss", rss(("a1", "Old", "x")))
        url = feeds.url("/rss") + "?token=s3cr3t-t0ken"
        config = loads(CONFIG.format(feed=url), "watch.yaml", {})
        await poll_once(config, tmp_path)
    with Store.open(tmp_path) as store:
        (state,) = store.feed_states()
    assert "s3cr3t-t0ken" not in state.url
    db = sqlite3.connect(tmp_path / FILENAME)
    dump = "\n".join(db.iterdump())
    db.close()
    assert "s3cr3t-t0ken" not in dump


def test_an_older_store_is_migrated_step_by_step(tmp_path: Path) -> None:
    """A schema-3 store (no fingerprints, no message reasons) opens, gains the new
    columns, keeps its rows, and records the latest version in ``schema_version``."""
    db = sqlite3.connect(tmp_path / FILENAME)
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema', '3');
        CREATE TABLE seen (feed TEXT NOT NULL, key TEXT NOT NULL, first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL, PRIMARY KEY (feed, key)) WITHOUT ROWID;
        INSERT INTO seen VALUES ('news', 'v1:abc', '2025-01-01T00:00:00+00:00',
            '2025-01-01T00:00:00+00:00');
        CREATE TABLE messages (id INTEGER PRIMARY KEY, channel TEXT NOT NULL,
            kind TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, format TEXT NOT NULL,
            alerts INTEGER NOT NULL, composed TEXT NOT NULL, status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt TEXT NOT NULL, last_error TEXT,
            finished TEXT, reported INTEGER NOT NULL DEFAULT 0);
        """
    )
    db.close()
    with Store.open(tmp_path) as store:
        assert store.known_keys("news", ["v1:abc"]) == {"v1:abc"}
        columns = {r[1] for r in store.db.execute("PRAGMA table_info(messages)")}
        assert {"reason", "severity"} <= columns
        assert store.db.execute("SELECT version FROM schema_version").fetchone() == (LATEST,)
        assert store.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() is None


def test_a_version_8_store_gains_the_briefs_table(tmp_path: Path) -> None:
    """Steps 9 (mutes) and 10 (the morning briefs) apply to a store of version 8: the
    tables appear and the version is the latest."""
    with Store.open(tmp_path) as store, store.transaction():
        store.db.execute("DROP TABLE briefs")
        store.db.execute("DROP TABLE mutes")
        store.db.execute("UPDATE schema_version SET version=8")
    with Store.open(tmp_path) as store:
        assert store.reminders.last_brief() is None
        assert store.mutes.active(datetime.now(UTC)) == []
        assert store.db.execute("SELECT version FROM schema_version").fetchone() == (LATEST,)


def test_a_version_10_store_gains_the_index_of_finished_messages(tmp_path: Path) -> None:
    """Step 11 adds the index ``failing_since`` reads (a channel's last delivery)."""
    with Store.open(tmp_path) as store, store.transaction():
        store.db.execute("DROP INDEX messages_finished")
        store.db.execute("UPDATE schema_version SET version=10")
    with Store.open(tmp_path) as store:
        names = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
        assert "messages_finished" in names
        assert store.db.execute("SELECT version FROM schema_version").fetchone() == (LATEST,)


def test_a_store_from_a_newer_notifier_is_refused(tmp_path: Path) -> None:
    """Schema 99 was written by a later version: refused, not downgraded."""
    with Store.open(tmp_path) as store, store.transaction():
        store.db.execute("UPDATE schema_version SET version=99")
    with pytest.raises(StateError, match="newer notifier"):
        Store.open(tmp_path)
    with pytest.raises(StateError, match="newer notifier"):
        Store.open(tmp_path, read_only=True)


# --------------------------------------------------------------------------- health verdicts


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_health_names_each_problem() -> None:
    """Each condition makes the verdict not ok and is named: a blocked loop, a stalled
    scheduler, a stuck channel, a state store that cannot be written."""
    ticks = Ticks()
    health = Health(ticks)
    health.scheduler(running=True)
    health.job_ran(True)
    assert health.judge().ok
    ticks.now += LOOP_BLOCKED_AFTER + 1
    verdict = health.judge()
    assert not verdict.ok
    assert any("event loop blocked" in p for p in verdict.problems)
    health.beat()
    ticks.now += SCHEDULER_STALE_AFTER - LOOP_BLOCKED_AFTER
    health.beat()
    assert any("scheduler has run no job" in p for p in health.judge().problems)
    health.job_ran(True)
    health.stuck({"chat": (ticks.now - 45, 30.0)})
    verdict = health.judge()
    assert verdict.body["stuck_channels"] == {"chat": 45.0}
    assert any("channel chat" in p and "deadline 30 s" in p for p in verdict.problems)
    health.stuck({})
    health.state(False, "database or disk is full")
    verdict = health.judge()
    assert verdict.body["state_writable"] is False
    assert verdict.problems == ("state store not writable: database or disk is full",)
    health.state(True)
    assert health.judge().ok
    health.scheduler(running=False)
    assert health.judge().problems == ("scheduler not running",)


# --------------------------------------------------------------------------- a full disk


@contextlib.contextmanager
def tiny_tmpfs(where: Path, size: str = "4m") -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


async def test_a_full_disk_makes_health_say_the_state_is_not_writable(tmp_path: Path) -> None:
    """On a full file system the daemon's probe (a real write) fails: /healthz and
    health.json say the state is not writable; freeing space makes it ok again."""
    from notifier.runtime.daemon import Daemon  # noqa: PLC0415
    from tests.test_sender import FakeSink  # noqa: PLC0415

    with tiny_tmpfs(tmp_path / "disk") as disk:
        config = tmp_path / "watch.yaml"
        config.write_text('channels:\n  console: ["console://"]\n', "utf-8")
        from notifier.config.settings import Settings  # noqa: PLC0415

        daemon = Daemon(Settings(config=config, state_dir=disk / "state", grace=1), FakeSink())
        await daemon.start()
        try:
            assert daemon.healthy()[0], daemon.healthy()
            filler = disk / "filler"
            with contextlib.suppress(OSError), filler.open("wb") as f:
                while True:
                    f.write(b"\0" * 65536)
            await daemon._heartbeat()
            ok, body = daemon.healthy()
            assert not ok
            assert body["state_writable"] is False
            filler.unlink()
            await daemon._heartbeat()
            assert daemon.healthy()[0]
        finally:
            await daemon.stop()


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    """A kill -9 leaves the lock file behind but not the lock: a restart is never
    blocked by a dead process."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; sys.path.insert(0, sys.argv[1]);"
            "from notifier.storage.sqlite import lock_state_dir;"
            "lock = lock_state_dir(__import__('pathlib').Path(sys.argv[2]), 'run');"
            "print('locked', flush=True); time.sleep(60)",
            str(Path(__file__).resolve().parent.parent),
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"locked"
        with pytest.raises(StateLocked, match=f"PID {holder.pid}"):
            lock_state_dir(tmp_path, "run")
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    lock_state_dir(tmp_path, "run").release()


def test_a_version_11_store_gains_the_ack_tables(tmp_path: Path) -> None:
    """Step 12 adds ``ackable`` and ``acks`` (acknowledgement)."""
    with Store.open(tmp_path) as store, store.transaction():
        store.db.execute("DROP TABLE acks")
        store.db.execute("DROP TABLE ackable")
        store.db.execute("UPDATE schema_version SET version=11")
    with Store.open(tmp_path) as store:
        assert store.acks.alerts(datetime.now(UTC)) == []
        assert not store.acks.is_acked("match:x")
        assert store.db.execute("SELECT version FROM schema_version").fetchone() == (LATEST,)
