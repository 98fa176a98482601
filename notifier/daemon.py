"""The long-running daemon: APScheduler 3.x jobs over the poller, reminders and sender.

::

    start ─▶ load config ─▶ store, parse pool, fetcher, scheduler (UTC, explicit)
             jobs:  feed:<name>     every feed interval, at a fixed per-feed phase
                                    (non-drifting jitter); skipped while backing off
                    deadlines       at the next reminder time (and every minute)
                    send            every few seconds: retries, releases of held alerts
                    config          every 2 s: the file changed? → reload
                    heartbeat       every 10 s: heartbeat file, systemd watchdog
    reload ─▶ new config valid? apply only what changed (an unchanged feed keeps its
              schedule and state) : keep the old one, log every problem, alert once
    stop ──▶ take no new work, let in-flight jobs finish (grace), then shut down

Every job has ``max_instances=1`` and coalescing. The app knows nothing of
signals: the CLI calls :meth:`Daemon.start`, :meth:`Daemon.reload` and
:meth:`Daemon.stop`, and so do the tests.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from notifier import app
from notifier import clock as clocks
from notifier.config import Config, Feed
from notifier.deadlines import next_reminder, plan
from notifier.deliver import Sender, Sink
from notifier.errors import ConfigError
from notifier.feeds.fetch import HttpFetcher
from notifier.loader import load_with_secrets
from notifier.logs import add_secrets, get_logger
from notifier.match import Matcher
from notifier.outbox import NewAlert, Outbox
from notifier.poll import Poller, PollResult
from notifier.pool import IdlePool
from notifier.reminders import check_deadlines
from notifier.settings import Settings
from notifier.store import Store

log = get_logger("notifier.daemon")

HEARTBEAT_FILE = "heartbeat"
HEARTBEAT_EVERY = 10.0
CONFIG_CHECK_EVERY = 2.0
DEADLINE_TICK = 60.0
#: Checks in one deadlines run, at most: each round sends what it queued, and the
#: next round picks up reminders that came due during that send.
MAX_DEADLINE_ROUNDS = 5


def phase(name: str, interval: timedelta) -> timedelta:
    """A fixed offset in [0, min(interval/10, 30 s)) for feed ``name``: feeds with the
    same interval spread out, and the period stays exactly the interval (no drift)."""
    span = min(interval.total_seconds() / 10, 30.0)
    digest = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big")
    return timedelta(seconds=span * (digest / 2**32))


class Metrics:
    """Counters for ``/metrics`` (Prometheus text format)."""

    def __init__(self) -> None:
        self.polls: Counter[str] = Counter()
        self.entries_new = 0
        self.matches = 0
        self.alerts: Counter[str] = Counter()
        self.reminders = 0
        self.reminder_lateness = 0.0
        self.reloads: Counter[str] = Counter()
        self.job_errors = 0
        self.last_tick = 0.0

    def record_poll(self, result: PollResult) -> None:
        self.polls[str(result.status)] += 1
        self.entries_new += len(result.new)
        self.matches += len(result.matches)

    def render(self, outbox: dict[str, int]) -> str:
        lines = []

        def metric(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP notifier_{name} {text}")
            lines.append(f"# TYPE notifier_{name} {kind}")
            for labels, value in samples:
                lines.append(f"notifier_{name}{labels} {value:g}")

        metric(
            "polls_total",
            "counter",
            "Feed polls by outcome.",
            [(f'{{status="{k}"}}', v) for k, v in sorted(self.polls.items())] or [("", 0)],
        )
        metric(
            "poll_failures_total",
            "counter",
            "Failed feed polls.",
            [("", self.polls.get("failed", 0))],
        )
        metric("entries_new_total", "counter", "New entries seen.", [("", self.entries_new)])
        metric("matches_total", "counter", "Entries matched by a watch.", [("", self.matches)])
        metric(
            "alerts_total",
            "counter",
            "Messages by send outcome (sent, failed attempts, dead).",
            [(f'{{outcome="{k}"}}', v) for k, v in sorted(self.alerts.items())] or [("", 0)],
        )
        metric(
            "outbox_alerts",
            "gauge",
            "Alerts and messages in the outbox by state.",
            [(f'{{state="{k}"}}', v) for k, v in sorted(outbox.items())],
        )
        metric("reminders_total", "counter", "Deadline notices queued.", [("", self.reminders)])
        metric(
            "reminder_lateness_seconds_total",
            "counter",
            "Sum of how late reminders were queued after their planned time.",
            [("", round(self.reminder_lateness, 3))],
        )
        metric(
            "config_reloads_total",
            "counter",
            "Config reloads by result.",
            [(f'{{result="{k}"}}', v) for k, v in sorted(self.reloads.items())] or [("", 0)],
        )
        metric(
            "job_errors_total", "counter", "Scheduler jobs that raised.", [("", self.job_errors)]
        )
        metric(
            "last_tick_timestamp_seconds",
            "gauge",
            "Unix time of the last heartbeat.",
            [("", round(self.last_tick, 3))],
        )
        return "\n".join(lines) + "\n"


def _file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class Daemon:
    """The running service. ``start`` → (``reload``)* → ``stop``; usable inside a test."""

    def __init__(
        self,
        settings: Settings,
        sink: Sink,
        *,
        clock: clocks.Clock = clocks.utcnow,
        executor: Executor | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.clock = clock
        self.environ = environ
        self._own_pool = executor is None
        self._executor = executor
        self.metrics = Metrics()
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 60},
        )
        self.config: Config | None = None
        self.config_hash: str | None = None
        self.store: Store | None = None
        self.fetcher: HttpFetcher | None = None
        self.poller: Poller | None = None
        self.sender: Sender | None = None
        self.stopping = False
        self._inflight: set[asyncio.Task[Any]] = set()
        self._health: web.AppRunner | None = None
        self.health_port: int | None = None
        self._rejected: str | None = None
        self._send_lock = asyncio.Lock()
        self._feeds: dict[str, Feed] = {}  # the config's feeds by name

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the config (raising :class:`ConfigError` if invalid) and start every job."""
        # Everything allocated so far (the imported modules: some 200,000 objects) lives
        # as long as the process. Moved out of the cyclic GC's generations, it is not
        # scanned again by every full collection; measured: -10 to -25 % CPU in a 304
        # poll cycle of 1,000 feeds (bench/).
        gc.freeze()
        config = self._load()
        self.store = Store.open(self.settings.state_dir)
        if self._executor is None:
            self._pool_cm = app.parse_pool()
            self._executor = self._pool_cm.__enter__()
        self.scheduler.add_listener(
            self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        self.scheduler.start()
        await self._apply(config)
        self._add("send", self._send, IntervalTrigger(seconds=self._send_every(), timezone=UTC))
        self._add(
            "config", self._watch_config, IntervalTrigger(seconds=CONFIG_CHECK_EVERY, timezone=UTC)
        )
        self._add(
            "heartbeat", self._heartbeat, IntervalTrigger(seconds=HEARTBEAT_EVERY, timezone=UTC)
        )
        self._add(
            "deadlines", self._deadlines, IntervalTrigger(seconds=DEADLINE_TICK, timezone=UTC)
        )
        await self._heartbeat()
        await self._deadlines()  # catch up on what was missed while down
        if self.settings.health_port is not None:
            await self._start_health()
        _sd_notify("READY=1")
        log.info(
            "daemon started",
            feeds=len(config.feeds),
            watches=len(config.watches),
            deadlines=len(config.deadlines),
            channels=len(config.channels),
            health_port=self.health_port,
        )

    async def stop(self) -> None:
        """Take no new work, let in-flight jobs finish within the grace period, shut down."""
        if self.stopping:
            return
        self.stopping = True
        _sd_notify("STOPPING=1")
        with suppress(Exception):
            self.scheduler.pause()
        pending = {t for t in self._inflight if not t.done()}
        if pending:
            log.info("waiting for in-flight work", jobs=len(pending), grace=self.settings.grace)
            _, late = await asyncio.wait(pending, timeout=self.settings.grace)
            for task in late:
                task.cancel()
            if late:
                log.warning("in-flight work cancelled after the grace period", jobs=len(late))
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._health is not None:
            await self._health.cleanup()
        if self.fetcher is not None:
            await self.fetcher.close()
        if self._own_pool and self._executor is not None:
            self._pool_cm.__exit__(None, None, None)
            self._executor = None
        if self.store is not None:
            self.store.close()
        log.info("daemon stopped")

    async def reload(self) -> bool:
        """Reload the config file. Invalid: keep the old one, log, alert once. Returns success."""
        try:
            config = self._load()
        except ConfigError as e:
            self.metrics.reloads["rejected"] += 1
            for problem in e.problems:
                log.error("config rejected", problem=str(problem))
            self._alert_rejected(e)
            return False
        await self._apply(config)
        self._rejected = None
        self.metrics.reloads["applied"] += 1
        log.info("config reloaded", feeds=len(config.feeds), watches=len(config.watches))
        return True

    # ------------------------------------------------------------------ config

    def _load(self) -> Config:
        path = self.settings.config
        self.config_hash = _file_hash(path)
        config, secrets = load_with_secrets(path, self.environ)
        add_secrets(secrets)
        return config

    async def _apply(self, config: Config) -> None:
        """Switch to ``config``: reschedule only the feeds whose schedule changed."""
        old = self.config
        assert self.store is not None  # noqa: S101 - started
        if self.fetcher is None or (old is not None and old.fetch != config.fetch):
            if self.fetcher is not None:
                await self.fetcher.close()
            self.fetcher = HttpFetcher(config.fetch, user_agent=app.USER_AGENT)
            await self.fetcher.__aenter__()
        self.poller = Poller(
            self.store,
            self.fetcher,
            Matcher.compile(config.watches),
            max_bytes=config.fetch.max_bytes,
            executor=self._executor,
            clock=self.clock,
            router=app.router_for(config),
        )
        self.sender = Sender(self.store, config, self.sink, clock=self.clock)
        self.config = config
        self._feeds = {f.name: f for f in config.feeds}
        old_feeds = {f.name: f for f in old.feeds} if old else {}
        new_feeds = {f.name: f for f in config.feeds if f.enabled}
        for name in old_feeds.keys() - new_feeds.keys():
            with suppress(Exception):
                self.scheduler.remove_job(f"feed:{name}")
        for name, feed in new_feeds.items():
            before = old_feeds.get(name)
            if before is not None and before.interval == feed.interval and before.enabled:
                continue  # unchanged schedule: the job keeps its phase
            self._schedule_feed(feed)
        if old is not None and old.delivery != config.delivery:
            self.scheduler.reschedule_job(
                "send", trigger=IntervalTrigger(seconds=self._send_every(), timezone=UTC)
            )
        self._schedule_next_reminder(self.clock())

    def _schedule_feed(self, feed: Feed) -> None:
        start = self.clock() + phase(feed.name, feed.interval)
        trigger = IntervalTrigger(
            seconds=feed.interval.total_seconds(), start_date=start, timezone=UTC
        )
        self._add(f"feed:{feed.name}", self._poll, trigger, args=(feed.name,))
        # The first poll right away (at its phase), not one interval later.
        self.scheduler.modify_job(f"feed:{feed.name}", next_run_time=start)

    def _send_every(self) -> float:
        assert self.config is not None  # noqa: S101
        return min(5.0, max(1.0, self.config.delivery.min_retry.total_seconds()))

    def _alert_rejected(self, error: ConfigError) -> None:
        """One alert to the default channels per distinct broken file."""
        key = self.config_hash or "unreadable"
        if self._rejected == key or self.config is None or self.store is None:
            return
        self._rejected = key
        body = "\n".join(str(p) for p in error.problems)
        alerts = [
            NewAlert(
                key=f"config-rejected:{key}",
                channel=channel,
                kind="config",
                severity="high",
                context={
                    "kind": "config",
                    "title": f"Config rejected: {self.settings.config.name} "
                    "(still running the old one)",
                    "body": body,
                },
            )
            for channel in self.config.default_channels
        ]
        with self.store.transaction():
            Outbox(self.store).enqueue(alerts, self.clock())

    # ------------------------------------------------------------------ jobs

    def _add(
        self,
        job_id: str,
        func: Callable[..., Awaitable[None]],
        trigger: Any,
        args: tuple[Any, ...] = (),
    ) -> None:
        self.scheduler.add_job(
            self._guard,
            trigger,
            args=(func, *args),
            id=job_id,
            name=job_id,
            replace_existing=True,
        )

    async def _guard(self, func: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Run a job unless stopping, tracked so that stop() can let it finish."""
        if self.stopping:
            return
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await func(*args)
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def _poll(self, name: str) -> None:
        assert self.poller is not None  # noqa: S101 - started
        assert self.config is not None  # noqa: S101
        assert self.store is not None  # noqa: S101
        feed = self._feeds.get(name)
        if feed is None:
            return
        state = self.poller.state(name)
        if state and state.failures and state.next_poll and self.clock() < state.next_poll:
            log.debug("feed backing off", feed=name, until=state.next_poll.isoformat())
            return
        result = await self.poller.poll(feed)
        self.metrics.record_poll(result)
        if result.matches or result.event:
            await self._send()

    async def _send(self) -> None:
        if self.sender is None:
            return
        async with self._send_lock:  # one sender pass at a time: no message sent twice
            report = await self.sender.tick()
        self.metrics.alerts["sent"] += report.sent
        self.metrics.alerts["failed"] += report.failed
        self.metrics.alerts["dead"] += report.dead

    async def _deadlines(self) -> None:
        """Queue and send what is due, then set the one-off job for the next reminder.

        Sending takes time (a slow channel, a retry), and a reminder may come due
        meanwhile: so check again after each send until a check finds nothing,
        and schedule from the time of that last, empty check — never from the
        clock after a send, which would skip what came due during it."""
        assert self.store is not None  # noqa: S101 - started
        assert self.config is not None  # noqa: S101
        for _ in range(MAX_DEADLINE_ROUNDS):
            now = self.clock()
            queued = check_deadlines(self.store, self.config, now)
            for alert in queued:
                planned = alert.context.get("planned")
                if alert.kind == "reminder" and isinstance(planned, str):
                    lateness = (now - datetime.fromisoformat(planned)).total_seconds()
                    self.metrics.reminders += 1
                    self.metrics.reminder_lateness += max(lateness, 0.0)
            if not queued:
                break
            await self._send()
        self._schedule_next_reminder(now)

    def _schedule_next_reminder(self, checked: datetime) -> None:
        """A one-off job at the first reminder after ``checked`` (the last check that
        found nothing due), so reminders go out on the second."""
        if self.config is None:
            return
        upcoming = [
            r.at
            for d in self.config.deadlines
            if (r := next_reminder(plan(d, now=checked), checked + timedelta(microseconds=1)))
        ]
        if not upcoming:
            return
        self._add(
            "deadline-next", self._deadlines, DateTrigger(run_date=min(upcoming), timezone=UTC)
        )

    async def _watch_config(self) -> None:
        digest = _file_hash(self.settings.config)
        if digest is not None and digest != self.config_hash:
            log.info("config file changed", path=str(self.settings.config))
            await self.reload()

    async def _heartbeat(self) -> None:
        self.metrics.last_tick = time.time()
        if isinstance(self._executor, IdlePool) and await asyncio.to_thread(self._executor.reap):
            log.debug("parse workers stopped while idle", idle_after=self._executor.idle_after)
        path = self.settings.state_dir / HEARTBEAT_FILE
        try:
            path.write_text(f"{self.clock().isoformat()}\n", encoding="utf-8")
        except OSError as e:
            log.error("heartbeat not written", error=e.strerror)
        _sd_notify("WATCHDOG=1")

    def _on_job_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_ERROR and isinstance(event, JobExecutionEvent):
            self.metrics.job_errors += 1
            log.error("job failed", job=event.job_id, error=repr(event.exception))
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            # A poll longer than its feed's interval, say: that run is skipped.
            log.warning("job skipped: its previous run is still going", job=event.job_id)
        else:
            log.warning("job missed its run time", job=event.job_id)

    # ------------------------------------------------------------------ health

    def healthy(self) -> tuple[bool, dict[str, Any]]:
        """Scheduler running, a recent heartbeat, and a writable store."""
        age = time.time() - self.metrics.last_tick
        writable = True
        try:
            assert self.store is not None  # noqa: S101
            with self.store.transaction():
                self.store.db.execute("UPDATE meta SET value=value WHERE key='schema'")
        except Exception:  # noqa: BLE001 - any failure means "not writable"
            writable = False
        running = self.scheduler.running and not self.stopping
        ok = running and writable and age < 3 * HEARTBEAT_EVERY
        return ok, {
            "status": "ok" if ok else "unhealthy",
            "scheduler_running": running,
            "last_tick_age_seconds": round(age, 3),
            "state_writable": writable,
        }

    def _outbox_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        if self.store is None:
            return {}
        for c in Outbox(self.store).status():
            counts["queued"] += c.queued
            counts["held"] += c.held
            counts["pending"] += c.pending
            counts["retrying"] += c.retrying
            counts["dead"] += c.dead
            counts["sent"] += c.sent
        return dict(counts)

    async def _start_health(self) -> None:
        async def healthz(_: web.Request) -> web.Response:
            ok, body = self.healthy()
            return web.json_response(body, status=200 if ok else 503)

        async def metrics(_: web.Request) -> web.Response:
            text = self.metrics.render(self._outbox_counts())
            return web.Response(text=text, content_type="text/plain", charset="utf-8")

        application = web.Application()
        application.router.add_get("/healthz", healthz)
        application.router.add_get("/metrics", metrics)
        self._health = web.AppRunner(application, access_log=None)
        await self._health.setup()
        site = web.TCPSite(self._health, self.settings.health_host, self.settings.health_port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.health_port = sockets[0].getsockname()[1] if sockets else self.settings.health_port
        log.info("health endpoint listening", host=self.settings.health_host, port=self.health_port)


def heartbeat_age(state_dir: Path, now: datetime) -> float | None:
    """Seconds since the daemon last wrote its heartbeat, or None if it never did."""
    try:
        text = (state_dir / HEARTBEAT_FILE).read_text(encoding="utf-8").strip()
        return (now - datetime.fromisoformat(text)).total_seconds()
    except (OSError, ValueError):
        return None


def _sd_notify(message: str) -> None:
    """Tell systemd (Type=notify, WatchdogSec=) how we are; a no-op elsewhere."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(message.encode())
