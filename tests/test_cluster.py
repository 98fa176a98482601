"""The cluster mode around the failover test: PostgreSQL down and back, workers with
different config files, ``status`` listing the workers, ``state migrate`` from SQLite,
and the pure slot arithmetic. Real PostgreSQL servers (tests/pg.py), real ``notifier``
processes, a real feed server and webhook receiver.
"""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from notifier.errors import StateError
from notifier.model import Feed, NewAlert
from notifier.runtime.daemon import phase
from notifier.runtime.worker import due_polls, slot
from notifier.storage.postgres import PgStore
from notifier.storage.sqlite import Store
from tests.conftest import CLI
from tests.feedserver import Document, ThreadedFeedServer
from tests.pg import PgServer, start
from tests.receivers import ThreadedWebhookReceiver
from tests.test_cluster_failover import Timed
from tests.test_daemon_e2e import Daemon, free_port

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def rss(*items: tuple[str, str]) -> str:
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>https://x.example/{g}</link></item>"
        for g, t in items
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>c</title>{body}</channel></rss>"
    )


# --------------------------------------------------------------------------- slots (pure)


def test_a_feed_is_due_once_per_interval_at_its_phase() -> None:
    feed = Feed(name="news", url="https://x.example/f", title=None, interval=timedelta(seconds=60))
    offset = phase("news", feed.interval)
    start_of_slot = datetime.fromtimestamp((slot(feed, T0) + 1) * 60 + offset.total_seconds(), UTC)
    before = start_of_slot - timedelta(milliseconds=1)
    assert slot(feed, start_of_slot) == slot(feed, before) + 1
    deferred = {"news": slot(feed, before)}
    assert due_polls([feed], deferred, before) == {}
    assert due_polls([feed], deferred, start_of_slot) == {"news": slot(feed, start_of_slot)}
    # Missed slots (every worker down for five minutes) fold into the current one.
    later = start_of_slot + timedelta(minutes=5)
    assert due_polls([feed], deferred, later) == {"news": slot(feed, later)}
    # A disabled feed is never due; a feed never deferred is due at once.
    off = Feed(
        name="off", url="https://x.example/o", title=None, interval=feed.interval, enabled=False
    )
    assert due_polls([off, feed], {}, T0) == {"news": slot(feed, T0)}


# --------------------------------------------------------------------------- the store


def test_a_lost_connection_is_opened_again_between_transactions(pg_server: PgServer) -> None:
    url = pg_server.database()
    store = PgStore.connect(url)
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            (pid,) = admin.execute("SELECT pg_backend_pid()").fetchone() or (0,)
            (mine,) = store.db.execute("SELECT pg_backend_pid()").fetchone()
            admin.execute("SELECT pg_terminate_backend(%s)", (mine,))
            assert pid != mine
        with pytest.raises(StateError):  # the statement the cut caught fails...
            store.seen_count()
        assert store.seen_count() == 0  # ...and the next one runs on a new connection
    finally:
        store.close()


# --------------------------------------------------------------------------- migrate


def test_state_migrate_copies_everything_and_verifies_the_counts(
    tmp_path: Path, pg_url: str, cli_process: CLI
) -> None:
    """A SQLite state made by the real ``once`` (feed states, seen keys, history, the
    outbox) copied by ``state migrate``: every count matches, the history is searchable
    in PostgreSQL, and ids go on after the copied ones."""
    state = tmp_path / "state"
    with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as chat:
        doc = feeds.feed("/news.xml", rss(("a1", "Old story")))
        config = tmp_path / "watch.yaml"
        _config(config, feeds, chat)
        args = ("--config", str(config), "--state-dir", str(state))
        assert cli_process("once", *args).code == 0
        doc.update(rss(("a2", "New 稀土 rare earth rules"), ("a1", "Old story")))
        assert cli_process("once", *args).code == 0
    r = cli_process("state", "migrate", *args, "--to", pg_url)
    assert r.code == 0, r.err
    assert "every count matches" in r.out
    assert all(t in r.out for t in ("seen", "alerts", "entries", "feeds"))
    with Store.open(state, read_only=True) as sqlite, PgStore.connect(pg_url) as pg:
        assert pg.known_keys("news", ["a1", "a2", "a3"]) == sqlite.known_keys(
            "news", ["a1", "a2", "a3"]
        )
        assert pg.feed_states() == sqlite.feed_states()
        assert pg.outbox.status() == sqlite.outbox.status()
        with pg.transaction():  # new ids go on after the copied ones
            pg.outbox.enqueue(
                [NewAlert(key="n1", channel="chat", kind="test", severity="normal", context={})],
                T0,
            )
    found = cli_process(
        "history", "--search", "稀土", "--all", "--json", *args, env={"NOTIFIER_STATE_URL": pg_url}
    )
    assert found.code == 0, found.err
    assert "New 稀土 rare earth rules" in found.out
    # A second copy into a state that holds rows is refused, unless --merge.
    again = cli_process("state", "migrate", *args, "--to", pg_url)
    assert again.code == 1
    assert "already holds rows" in again.err
    merged = cli_process("state", "migrate", *args, "--to", pg_url, "--merge")
    assert merged.code == 0, merged.err


def test_state_migrate_never_prints_the_password(tmp_path: Path, cli_process: CLI) -> None:
    state = tmp_path / "state"
    Store.open(state).close()
    port = free_port()  # nothing listens there
    r = cli_process(
        "state", "migrate", "--state-dir", str(state),
        "--to", f"postgresql://desk:hunter2secret@127.0.0.1:{port}/notifier",
    )  # fmt: skip
    assert r.code == 1
    assert "hunter2secret" not in r.err + r.out
    assert "cannot connect" in r.err


# --------------------------------------------------------------------------- workers


def _worker(tmp_path: Path, config: Path, url: str, n: int, port: int | None = None) -> Daemon:
    return Daemon(
        config,
        tmp_path / f"state-{n}",
        tmp_path / f"worker-{n}.log",
        port if port is not None else free_port(),
        environ={"NOTIFIER_STATE_URL": url},
        command="worker",
    )


def _config(
    path: Path, feeds: ThreadedFeedServer, chat: ThreadedWebhookReceiver, extra: str = ""
) -> None:
    path.write_text(
        "delivery: {min_retry: 1s, max_retry: 2s}\n"
        "defaults: {channels: [chat]}\n"
        f'channels:\n  chat: ["{chat.json_url("/c")}"]\n'
        f"feeds:\n  - name: news\n    url: {feeds.url('/news.xml')}\n    interval: 1s\n"
        f"watches:\n  - name: rare\n    any: [rare earth]\n{extra}",
        "utf-8",
    )


@pytest.mark.slow
@pytest.mark.xdist_group("postgres")
def test_postgres_down_and_back_nothing_lost_and_healthz_says_so(
    tmp_path: Path, pg_server: PgServer
) -> None:
    """PostgreSQL stops under a running worker: /healthz says the state is not writable,
    the worker keeps running and retrying; once PostgreSQL is back, the entry planted
    while it was down alerts exactly once, and /healthz is ok again."""
    server = start()  # a server of its own: this test stops it
    try:
        url = server.database()
        with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as chat:
            doc = feeds.feed("/news.xml", rss(("a1", "Old story")))
            config = tmp_path / "watch.yaml"
            _config(config, feeds, chat)
            worker = _worker(tmp_path, config, url, 0)
            try:
                worker.wait_for_log("worker started", timeout=60)
                worker.wait_for_log("feed polled", feed="news", status="first_poll", timeout=30)
                server.pause()
                doc.update(rss(("a2", "New rare earth rules"), ("a1", "Old story")))
                deadline = time.monotonic() + 30
                body: dict[str, object] = {}
                while time.monotonic() < deadline:
                    status, text = worker.get("/healthz")
                    body = json.loads(text)
                    if status == 503 and any(
                        "state store not writable" in str(p)
                        for p in body["problems"]  # type: ignore[attr-defined]
                    ):
                        break
                    time.sleep(0.5)
                else:
                    raise AssertionError(f"/healthz never said the state is down: {body}")
                time.sleep(3)  # down a while: the worker must outlive it
                assert worker.proc.poll() is None
                assert chat.messages() == []
                server.resume()
                chat.wait_for(1, timeout=60)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    status, _ = worker.get("/healthz")
                    if status == 200:
                        break
                    time.sleep(0.5)
                assert status == 200
                time.sleep(3)  # polls go on: nothing arrives twice
                assert [n.title for n in chat.messages()].count("New rare earth rules") == 1
                assert worker.stop() == 0
            finally:
                if worker.proc.poll() is None:
                    worker.proc.kill()
                    worker.proc.wait(timeout=10)
                worker.close()
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.xdist_group("postgres")
def test_workers_with_different_configs_are_named_by_status(
    tmp_path: Path, pg_url: str, cli_process: CLI
) -> None:
    """Two workers, two config files that differ: a warning in the log, and ``status``
    lists both workers, one marked as differing; each says what it holds."""
    with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as chat:
        feeds.feed("/news.xml", rss(("a1", "Old story")))
        one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
        _config(one, feeds, chat)
        _config(two, feeds, chat, "  - name: extra\n    any: [quota]\n")
        workers = [_worker(tmp_path, one, pg_url, 0), _worker(tmp_path, two, pg_url, 1)]
        try:
            for w in workers:
                w.wait_for_log("worker started", timeout=60)
            deadline = time.monotonic() + 30
            while not any(
                line.get("event") == "workers run different config files"
                for w in workers
                for line in w.log()
            ):
                assert time.monotonic() < deadline, "no warning about differing configs"
                time.sleep(0.3)
            r = cli_process(
                "status", "--config", str(one), "--state-dir", str(tmp_path / "s"),
                env={"NOTIFIER_STATE_URL": pg_url},
            )  # fmt: skip
            assert r.code == 0, r.err
            assert "workers: 2 alive" in r.out
            assert r.out.count("DIFFERS") == 1
            j = cli_process(
                "status", "--json", "--config", str(one), env={"NOTIFIER_STATE_URL": pg_url}
            )
            data = json.loads(j.out)
            assert len(data["workers"]) == 2
            assert sum(w["config_differs"] for w in data["workers"]) == 1
            assert all(w["alive"] for w in data["workers"])
            status, metrics = workers[0].get("/metrics")
            assert status == 200
            assert "notifier_queue_depth " in metrics
            assert "notifier_stalled_jobs " in metrics
            status, health = workers[0].get("/healthz")
            assert "queue_depth" in json.loads(health)["cluster"]
            for w in workers:
                assert w.stop() == 0
            # Stopped workers leave the cluster.
            after = cli_process("status", "--config", str(one), env={"NOTIFIER_STATE_URL": pg_url})
            assert "workers: 0 alive" in after.out
        finally:
            for w in workers:
                if w.proc.poll() is None:
                    w.proc.kill()
                    w.proc.wait(timeout=10)
                w.close()


def test_run_refuses_a_postgresql_state(tmp_path: Path, cli_process: CLI) -> None:
    """``run`` keeps SQLite: with NOTIFIER_STATE_URL set it says to use ``worker``."""
    r = cli_process("run", env={"NOTIFIER_STATE_URL": "postgresql://u@127.0.0.1:1/x"})
    assert r.code == 1
    assert "notifier worker" in r.err


def test_worker_without_a_state_url_says_what_to_set(cli_process: CLI) -> None:
    r = cli_process("worker")
    assert r.code == 1
    assert "NOTIFIER_STATE_URL" in r.err


@pytest.mark.slow
@pytest.mark.xdist_group("postgres")
def test_a_worker_presumed_dead_that_wakes_up_does_not_alert_twice(
    tmp_path: Path, pg_url: str
) -> None:
    """A worker frozen (SIGSTOP) in the middle of a poll is presumed dead: its poll runs
    again on the other worker, which alerts. Thawed (SIGCONT), the first one finishes
    its own poll and commits it: the alert is not queued or sent a second time."""
    with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as chat:
        slow = feeds.route(
            "/news.xml", Timed(Document(rss(("a1", "Old story")).encode()), delay=0.0)
        )
        config = tmp_path / "watch.yaml"
        _config(config, feeds, chat)
        workers = [_worker(tmp_path, config, pg_url, n) for n in range(2)]
        try:
            for w in workers:
                w.wait_for_log("worker started", timeout=60)
            deadline = time.monotonic() + 30
            while not any(line.get("event") == "feed polled" for w in workers for line in w.log()):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            slow.delay = 4.0
            slow.then.update(rss(("a2", "New rare earth rules"), ("a1", "Old story")))
            frozen = None
            deadline = time.monotonic() + 30
            while frozen is None and time.monotonic() < deadline:
                for w in workers:
                    _, body = w.get("/healthz")
                    if "feed:news" in json.loads(body).get("cluster", {}).get("holding", []):
                        frozen = w
                        break
                time.sleep(0.05)
            assert frozen is not None, "no worker seen polling"
            frozen.proc.send_signal(signal.SIGSTOP)
            try:
                chat.wait_for(1, timeout=45)  # the other worker took the poll over
                slow.delay = 0.0
            finally:
                frozen.proc.send_signal(signal.SIGCONT)
            time.sleep(8)  # the thawed worker finishes its poll and commits it
            titles = [n.title for n in chat.messages()]
            assert titles.count("New rare earth rules") == 1, titles
            for w in workers:
                assert w.stop() == 0
        finally:
            for w in workers:
                if w.proc.poll() is None:
                    w.proc.kill()
                    w.proc.wait(timeout=10)
                w.close()


@pytest.mark.slow
@pytest.mark.xdist_group("postgres")
def test_a_story_spans_feeds_polled_by_different_workers(tmp_path: Path, pg_url: str) -> None:
    """One story published by two feeds, each feed polled by whichever worker is free:
    the second copy joins the story the first one started (one alert per story), even
    when another worker recorded the first."""
    with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as chat:
        a = feeds.feed("/a.xml", rss(("a0", "Old story A")))
        b = feeds.feed("/b.xml", rss(("b0", "Old story B")))
        config = tmp_path / "watch.yaml"
        config.write_text(
            "defaults: {channels: [chat]}\n"
            f'channels:\n  chat: ["{chat.json_url("/c")}"]\n'
            "feeds:\n"
            f"  - name: a\n    url: {feeds.url('/a.xml')}\n    interval: 1s\n"
            f"  - name: b\n    url: {feeds.url('/b.xml')}\n    interval: 1s\n"
            "watches:\n  - name: rare\n    any: [rare earth]\n",
            "utf-8",
        )
        workers = [_worker(tmp_path, config, pg_url, n) for n in range(2)]
        try:
            for w in workers:
                w.wait_for_log("worker started", timeout=60)
            for name in ("a", "b"):
                deadline = time.monotonic() + 30
                while not any(
                    line.get("event") == "feed polled" and line.get("feed") == name
                    for w in workers
                    for line in w.log()
                ):
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
            items_a, items_b = [("a0", "Old story A")], [("b0", "Old story B")]
            for n in range(4):
                title = f"Rare earth export rules, part {n}"
                link = f"https://gov.example/rules-{n}"
                items_a.insert(0, (f"a{n + 1}", title))
                a.update(rss(*items_a).replace(f"https://x.example/a{n + 1}", link))
                chat.wait_for(n + 1, timeout=30)
                items_b.insert(0, (f"b{n + 1}", title))
                b.update(rss(*items_b).replace(f"https://x.example/b{n + 1}", link))
                time.sleep(2.5)  # both workers poll b meanwhile; the copy must join
            titles = [m.title for m in chat.messages()]
            assert len(titles) == 4, titles
            for w in workers:
                assert w.stop() == 0
        finally:
            for w in workers:
                if w.proc.poll() is None:
                    w.proc.kill()
                    w.proc.wait(timeout=10)
                w.close()


def test_worker_with_postgresql_unreachable_exits_1_without_the_password(
    tmp_path: Path, cli_process: CLI
) -> None:
    config = tmp_path / "watch.yaml"
    config.write_text(
        'channels:\n  chat: ["json://127.0.0.1:9/hook"]\n'
        "feeds:\n  - name: news\n    url: http://127.0.0.1:9/f.xml\n"
        "watches:\n  - name: rare\n    any: [rare earth]\n",
        "utf-8",
    )
    url = f"postgresql://desk:hunter2secret@127.0.0.1:{free_port()}/notifier"
    r = cli_process("worker", "--config", str(config), env={"NOTIFIER_STATE_URL": url})
    assert r.code == 1
    assert "hunter2secret" not in r.err + r.out
    assert "cannot connect" in r.err


@pytest.mark.slow
@pytest.mark.xdist_group("postgres")
def test_a_worker_killed_mid_send_repeats_at_most_the_message_in_flight(
    tmp_path: Path, pg_url: str
) -> None:
    """The at-least-once window, measured: the worker holding a channel is killed while
    the chat service takes 3 s to answer. After the stall threshold another worker
    sends what was left; every alert arrives, and only the one message in flight may
    arrive twice."""
    with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as chat:
        doc = feeds.feed("/news.xml", rss(("a0", "Old story")))
        config = tmp_path / "watch.yaml"
        _config(config, feeds, chat)
        workers = [_worker(tmp_path, config, pg_url, n) for n in range(2)]
        try:
            for w in workers:
                w.wait_for_log("worker started", timeout=60)
            deadline = time.monotonic() + 30
            while not any(line.get("event") == "feed polled" for w in workers for line in w.log()):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            chat.delay(3.0)
            items = [("a0", "Old story")] + [(f"n{i}", f"Rare earth item {i}") for i in range(3)]
            doc.update(rss(*reversed(items)))
            victim = None
            deadline = time.monotonic() + 30
            while victim is None and time.monotonic() < deadline:
                for w in workers:
                    _, body = w.get("/healthz")
                    if "channel:chat" in json.loads(body).get("cluster", {}).get("holding", []):
                        victim = w
                        break
                time.sleep(0.05)
            assert victim is not None, "no worker seen sending"
            time.sleep(1.0)  # the first message is in flight
            victim.stop(signal.SIGKILL)
            chat.delay(0.0)
            expected = {f"Rare earth item {i}" for i in range(3)}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if expected <= {n.title for n in chat.messages()}:
                    break
                time.sleep(0.5)
            titles = [n.title for n in chat.messages()]
            assert expected <= set(titles), titles
            repeats = len(titles) - len(set(titles))
            print(f"\nkilled mid-send: {len(titles)} messages for 3 alerts ({repeats} repeated)")
            assert repeats <= 1, titles
            survivor = next(w for w in workers if w is not victim)
            assert survivor.stop() == 0
        finally:
            for w in workers:
                if w.proc.poll() is None:
                    w.proc.kill()
                    w.proc.wait(timeout=10)
                w.close()
