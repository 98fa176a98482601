"""The daemon inside a test (no subprocess, no signals): start, reload, stop."""

from __future__ import annotations

import asyncio
import gc
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from notifier.config.settings import Settings
from notifier.model import BodyFormat
from notifier.pipeline.sender import SendOutcome
from notifier.runtime.daemon import Daemon, phase
from notifier.runtime.monitor import Health, Metrics
from notifier.runtime.pool import IdlePool
from tests.feedserver import FeedServer
from tests.test_poll import ITEMS, rss
from tests.test_sender import FakeSink

BASE = """\
channels:
  console: ["json://127.0.0.1:9/hook"]
feeds:
{feeds}
watches:
  - name: rare
    any: ["rare earth"]
"""


def feeds_yaml(server: FeedServer, **intervals: str) -> str:
    return "".join(
        f"  - name: {name}\n    url: {server.url('/' + name)}\n    interval: {interval}\n"
        for name, interval in intervals.items()
    )


def test_phase_is_fixed_per_feed_and_small() -> None:
    """A feed's phase is stable (no drift between runs) and under a tenth of its interval."""
    interval = timedelta(minutes=15)
    assert phase("ustr", interval) == phase("ustr", interval)
    assert phase("ustr", interval) != phase("fedreg", interval)
    assert timedelta(0) <= phase("ustr", interval) < timedelta(seconds=30)
    assert phase("x", timedelta(seconds=10)) < timedelta(seconds=1)


async def test_reload_changes_only_what_changed(tmp_path: Path) -> None:
    """Reloading keeps an unchanged feed's job (same next run), adds new feeds, drops removed
    ones, reschedules a changed interval; a broken file keeps the old config."""
    async with FeedServer() as server:
        for name in ("a", "b", "c"):
            server.feed(f"/{name}", rss(*ITEMS))
        path = tmp_path / "watch.yaml"
        path.write_text(BASE.format(feeds=feeds_yaml(server, a="1h", b="1h")), "utf-8")
        settings = Settings(config=path, state_dir=tmp_path / "state", grace=1)
        daemon = Daemon(settings, FakeSink())
        await daemon.start()
        try:
            job_a = daemon.scheduler.get_job("feed:a")
            before_a = job_a.next_run_time
            assert daemon.scheduler.get_job("feed:b") is not None

            path.write_text(BASE.format(feeds=feeds_yaml(server, a="1h", c="2h")), "utf-8")
            assert await daemon.reload()
            assert daemon.scheduler.get_job("feed:a").next_run_time == before_a
            assert daemon.scheduler.get_job("feed:b") is None
            assert daemon.scheduler.get_job("feed:c") is not None

            path.write_text(BASE.format(feeds=feeds_yaml(server, a="30m", c="2h")), "utf-8")
            assert await daemon.reload()
            trigger = daemon.scheduler.get_job("feed:a").trigger
            assert trigger.interval == timedelta(minutes=30)

            path.write_text("feeds: [\n", "utf-8")
            assert not await daemon.reload()
            assert daemon.config is not None
            assert [f.name for f in daemon.config.feeds] == ["a", "c"]
            metrics = daemon.metrics
            assert metrics.count(metrics.reloads, ("applied",)) == 2
            assert metrics.count(metrics.reloads, ("rejected",)) == 1
            ok, health = daemon.healthy()
            assert ok, health
            assert gc.get_freeze_count() > 0  # start() took the imported modules out of GC
        finally:
            await daemon.stop()
        assert not daemon.scheduler.running
        assert (tmp_path / "state" / "health.json").exists()


def test_metrics_render_in_prometheus_text_format() -> None:
    """Every metric has HELP and TYPE lines and samples with numeric values; timestamps
    keep full precision (no ``1.79616e+09``)."""
    health = Health()
    metrics = Metrics(health)
    metrics.polls.labels("parsed").inc(2)
    metrics.alerts.labels("sent").inc(3)
    metrics.last_tick.set(1796160000.125)
    health.outbox({"pending": 1})
    text = metrics.render().decode()
    assert "# TYPE notifier_polls_total counter" in text
    assert 'notifier_polls_total{status="parsed"} 2.0' in text
    assert 'notifier_alerts_total{outcome="sent"} 3.0' in text
    assert 'notifier_outbox_alerts{state="pending"} 1.0' in text
    assert "notifier_last_tick_timestamp_seconds 1.796160000125e+09" in text
    assert "_created" not in text
    for line in text.splitlines():
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


async def test_heartbeat_stops_idle_parse_workers(tmp_path: Path) -> None:
    """The first poll parses in a worker process; once idle, the heartbeat stops it."""
    async with FeedServer() as server:
        server.feed("/a", rss(*ITEMS))
        path = tmp_path / "watch.yaml"
        path.write_text(BASE.format(feeds=feeds_yaml(server, a="30s")), "utf-8")
        settings = Settings(config=path, state_dir=tmp_path / "state", grace=1)
        pool = IdlePool(1, idle_after=0.0)
        daemon = Daemon(settings, FakeSink(), executor=pool)
        await daemon.start()
        try:
            for _ in range(200):  # the first poll runs at its phase (< 3 s for 30s)
                if daemon.metrics.count(daemon.metrics.polls, ("first_poll",)):
                    break
                await asyncio.sleep(0.05)
            assert daemon.metrics.count(daemon.metrics.polls, ("first_poll",)) == 1
            assert pool.starts == 1
            await daemon._heartbeat()
            assert not pool.running()
        finally:
            await daemon.stop()
            pool.shutdown()


class SlowSink(FakeSink):
    """A channel that takes ``delay`` seconds to accept each message, recording when."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.arrived: dict[str, float] = {}

    async def send(
        self, url: str, title: str, body: str, fmt: BodyFormat, *, notify_type: str = "info"
    ) -> SendOutcome:
        await asyncio.sleep(self.delay)
        self.arrived.setdefault(title, time.time())
        return await super().send(url, title, body, fmt, notify_type=notify_type)


async def test_a_reminder_due_during_a_slow_send_is_not_skipped(tmp_path: Path) -> None:
    """Deadline X reminds at T, Y at T+1 s, and each send takes 1.5 s: Y goes out right after
    X's send, not at the next minute's deadline check."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    due_x, due_y = start + timedelta(seconds=30), start + timedelta(seconds=31)
    path = tmp_path / "watch.yaml"
    path.write_text(
        "channels:\n  chat: ['json://127.0.0.1:9/hook']\n"
        "deadlines:\n"
        f"  - name: x\n    title: Pause X ends\n    due: {due_x.isoformat()}\n"
        "    remind: [30s]\n    at_due: false\n"
        f"  - name: y\n    title: Pause Y ends\n    due: {due_y.isoformat()}\n"
        "    remind: [30s]\n    at_due: false\n",
        "utf-8",
    )
    sink = SlowSink(1.5)
    daemon = Daemon(Settings(config=path, state_dir=tmp_path / "state", grace=3), sink)
    await daemon.start()
    try:
        for _ in range(200):
            if len(sink.arrived) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await daemon.stop()
    assert sorted(sink.arrived) == [
        "[HIGH] Pause X ends — in 30 seconds",
        "[HIGH] Pause Y ends — in 30 seconds",
    ]
    y_late = sink.arrived["[HIGH] Pause Y ends — in 30 seconds"] - (start.timestamp() + 1)
    # Y waits for X's send (1.5 s) and its own (1.5 s); never for the 60 s deadline tick.
    assert 0 < y_late < 5, y_late


async def test_a_moved_deadline_is_announced_at_once_on_reload(tmp_path: Path) -> None:
    """Editing a deadline's due time sends the "deadline moved" alert right after the
    reload, not at the next minute's deadline check."""
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    path = tmp_path / "watch.yaml"
    template = (
        "channels:\n  chat: ['json://127.0.0.1:9/hook']\n"
        "deadlines:\n  - name: pause\n    title: Pause ends\n    due: {due}\n    remind: [7d]\n"
    )
    path.write_text(template.format(due=due.isoformat()), "utf-8")
    sink = FakeSink()
    daemon = Daemon(Settings(config=path, state_dir=tmp_path / "state", grace=1), sink)
    await daemon.start()
    try:
        path.write_text(template.format(due=(due + timedelta(days=14)).isoformat()), "utf-8")
        assert await daemon.reload()
        for _ in range(40):
            if sink.sent:
                break
            await asyncio.sleep(0.05)
        (title,) = [t for _, t, _ in sink.sent]
        assert "moved" in title.lower(), title
    finally:
        await daemon.stop()
