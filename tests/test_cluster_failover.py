"""Scale-out: three real ``notifier worker`` processes share one real PostgreSQL; one is
killed with SIGKILL in the middle of a poll. Then:

* every planted entry alerts exactly once (each alert key arrives once);
* each feed is polled by one worker at a time, as the feed server observes it;
* no poll slot is run twice (from the workers' "poll slot done" lines), except the
  killed worker's own poll, which never finished and was retried;
* reminders arrive at most 1 s late, or at most the stall threshold + 2 s for one that
  was on the killed worker.

The figures are printed, so a CI log shows them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from aiohttp import web

from tests.feedserver import Document, FeedServer, Route, ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver
from tests.test_daemon_e2e import Daemon, free_port

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]

FEEDS = 12
INTERVAL = 2.0
SLOW = 4.0  # seconds the "slow" feed takes to answer: a worker is caught mid-poll
STALL = 10.0  # the worker's stall threshold (notifier.runtime.worker.STALL_AFTER)


def document(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title>"
        f"<link>https://news.example.com/{guid}</link></item>"
        for guid, title in reversed(items)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>cluster</title>{body}</channel></rss>"
    ).encode()


@dataclass(eq=False)
class Timed(Route):
    """Answers like ``then`` after ``delay`` s, recording when each request began and
    ended, so overlapping polls of one feed show."""

    then: Document
    delay: float = 0.0
    spans: list[tuple[float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: web.Request, server: FeedServer) -> web.StreamResponse:
        start = time.monotonic()
        if self.delay:
            await asyncio.sleep(self.delay)
        response = await self.then.handle(request, server)
        with self.lock:
            self.spans.append((start, time.monotonic()))
        return response


def overlaps(spans: list[tuple[float, float]]) -> int:
    ordered = sorted(spans)
    return sum(1 for a, b in itertools.pairwise(ordered) if b[0] < a[1])


def test_three_workers_one_killed_mid_poll_nothing_lost_or_doubled(
    tmp_path: Path, pg_url: str
) -> None:
    with ThreadedFeedServer() as server, ThreadedWebhookReceiver() as chat:
        items = {i: [(f"old-{i}", f"Old story {i}")] for i in range(FEEDS)}
        routes = {
            i: server.route(
                f"/f{i}", Timed(Document(document(items[i])), delay=SLOW if i == 0 else 0.0)
            )
            for i in range(FEEDS)
        }
        planted: dict[str, float] = {}

        def plant(i: int, n: int) -> None:
            title = f"Planted {n} rare earth"
            items[i].append((f"p{n}", title))
            routes[i].then.update(document(items[i][-20:]))
            planted[title] = time.monotonic()

        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=75)
        offsets = [45, 40, 30, 20]  # reminders at due - offset: 30 s to 55 s from now
        config = tmp_path / "watch.yaml"
        feeds = "".join(
            f"  - name: f{i}\n    url: {server.url(f'/f{i}')}\n    interval: {INTERVAL:g}s\n"
            for i in range(FEEDS)
        )
        config.write_text(
            "delivery: {min_retry: 1s, max_retry: 2s}\n"
            "defaults: {channels: [chat]}\n"
            f'channels:\n  chat: ["{chat.json_url("/c")}"]\n'
            f"feeds:\n{feeds}"
            "watches:\n  - name: rare\n    any: [rare earth]\n"
            "deadlines:\n  - name: pause\n    title: Pause ends\n"
            f"    due: {due.isoformat().replace('+00:00', 'Z')}\n"
            f"    remind: [{', '.join(f'{o}s' for o in offsets)}]\n",
            "utf-8",
        )
        env = {"NOTIFIER_STATE_URL": pg_url}
        workers: list[Daemon] = []

        def start(n: int) -> Daemon:
            worker = Daemon(
                config,
                tmp_path / f"state-{n}",
                tmp_path / f"worker-{n}.log",
                free_port(),
                environ=env,
                command="worker",
            )
            workers.append(worker)
            worker.wait_for_log("worker started", timeout=60)
            return worker

        try:
            for n in range(3):
                start(n)
            for i in range(1, FEEDS):
                deadline = time.monotonic() + 60
                while not any(
                    line.get("event") == "feed polled" and line.get("feed") == f"f{i}"
                    for w in workers
                    for line in w.log()
                ):
                    assert time.monotonic() < deadline, f"f{i} never polled"
                    time.sleep(0.2)
            for n in range(12):
                plant(1 + n % (FEEDS - 1), n)
                time.sleep(0.3)
            plant(0, 100)  # on the slow feed: in flight when its worker dies
            # Find the worker holding the slow feed's poll, and kill it mid-poll.
            victim = None
            deadline = time.monotonic() + 30
            while victim is None and time.monotonic() < deadline:
                for w in workers:
                    if w.proc.poll() is None and "feed:f0" in _holding(w):
                        victim = w
                        break
                time.sleep(0.1)
            assert victim is not None, "no worker was seen polling the slow feed"
            killed_at, killed_wall = time.monotonic(), datetime.now(UTC)
            victim.stop(signal.SIGKILL)
            for n in range(12, 24):
                plant(1 + n % (FEEDS - 1), n)
                time.sleep(0.3)
            expected = set(planted)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                titles = {n.title for n in chat.messages()}
                reminders = [t for t in titles if "Pause ends" in t]
                if expected <= titles and len(reminders) >= len(offsets):
                    break
                time.sleep(0.5)
            survivors = [w for w in workers if w is not victim]
            for w in survivors:
                assert w.stop(signal.SIGTERM, timeout=30) == 0
        finally:
            # What the queue held at the end, for a failure's post-mortem.
            with psycopg.connect(pg_url) as db:
                (tmp_path / "jobs.txt").write_text(
                    "\n".join(
                        str(r)
                        for r in db.execute(
                            "SELECT id, task_name, status, lock, queueing_lock, scheduled_at, "
                            "attempts, args FROM procrastinate_jobs "
                            "WHERE task_name <> 'notifier.tick' ORDER BY id"
                        )
                    )
                )
            for w in workers:
                if w.proc.poll() is None:
                    w.proc.kill()
                    w.proc.wait(timeout=10)
                w.close()

        counts: Counter[str] = Counter()
        arrivals: dict[str, float] = {}
        for request in chat.accepted():
            notice = request.notice()
            if notice is not None:
                counts[notice.title] += 1
                arrivals.setdefault(notice.title, request.received)
        missing = sorted(expected - {t for t in counts if t in expected})
        doubled = {t: c for t, c in counts.items() if c > 1}
        slots = Counter(
            (line["feed"], line["slot"])
            for w in workers
            for line in w.log()
            if line.get("event") == "poll slot done"
        )
        twice = {k: c for k, c in slots.items() if c > 1}
        overlapping = {f"f{i}": overlaps(r.spans) for i, r in routes.items() if overlaps(r.spans)}
        now_wall, now_mono = datetime.now(UTC), time.monotonic()
        wall = {t: now_wall - timedelta(seconds=now_mono - m) for t, m in arrivals.items()}
        late = []
        for offset in offsets:
            planned = due - timedelta(seconds=offset)
            got = [t for t in arrivals if "Pause ends" in t and f"in {offset} seconds" in t]
            assert got, (offset, sorted(t for t in arrivals if "Pause" in t))
            late.append((wall[got[0]] - planned).total_seconds())
        print(
            f"\ncluster: {len(expected)} planted, {len(missing)} missing, {len(doubled)} doubled, "
            f"{len(slots)} poll slots ({len(twice)} twice), overlapping polls {overlapping}, "
            f"reminder lateness {[round(x, 2) for x in late]} s, "
            f"killed at +{killed_at - min(planted.values()):.1f} s"
        )
        assert not missing, missing
        assert not doubled, doubled
        assert not overlapping, overlapping
        assert not twice, twice
        for offset, lateness in zip(offsets, late, strict=True):
            planned = due - timedelta(seconds=offset)
            near_kill = killed_wall <= planned <= killed_wall + timedelta(seconds=STALL + 5)
            assert -0.05 <= lateness <= (STALL + 2 if near_kill else 1.0), (offset, lateness)


def _holding(worker: Daemon) -> set[str]:
    """What ``worker`` says it holds, from its /healthz body (``cluster.holding``)."""
    try:
        _, body = worker.get("/healthz")
    except OSError:
        return set()
    data = json.loads(body)
    return set(data.get("cluster", {}).get("holding", []))
