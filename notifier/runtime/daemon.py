"""The long-running daemon: APScheduler 3.x jobs over the poller and reminders, and one
sender task per channel.

::

    start ─▶ lock the state folder ─▶ load config ─▶ store, pools, fetcher, scheduler
             (every resource on one AsyncExitStack, closed in reverse order at stop)
             jobs:  feed:<name>     every feed interval, at a fixed per-feed phase
                                    (non-drifting jitter); skipped while backing off
                    deadlines       at the next reminder time (and every minute)
                    brief           at the next morning brief time (and every minute)
                    escalate        at the next escalation step (and every minute)
                    config          every 2 s: the file changed? → reload (read off the loop)
                    heartbeat       every 10 s: state probe (a real write), idle workers
             tasks: channel:<name>  one per channel: compose and send its outbox when
                                    kicked (a poll or reminder queued something) or due
                    beat            every 0.5 s: the event loop is alive
             threads: watchdog      every 2 s: health.json in the state folder
                      health        /healthz and /metrics (with --health-port)
    reload ─▶ new config valid? apply only what changed (an unchanged feed keeps its
              schedule and state) : keep the old one, log every problem, alert once
    stop ──▶ take no new work, let in-flight polls and sends finish (grace), cancel
             the rest, shut down; a send past its deadline is simply left behind

No unit of work waits on another: a poll queues its alerts and kicks the
channels (it never waits for a send), each channel sends on its own with a
hard deadline per send, and regex matching runs in a thread with a time
budget. Health is judged off the event loop (:mod:`notifier.runtime.monitor`), so a
stuck loop is reported, not just silent.

Every job has ``max_instances=1`` and coalescing. The app knows nothing of
signals: the CLI calls :meth:`Daemon.start`, :meth:`Daemon.reload` and
:meth:`Daemon.stop`, and so do the tests.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import os
import socket
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import AsyncExitStack, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from notifier import clock as clocks
from notifier.ack import link as ack_link
from notifier.brief import next_brief
from notifier.config.schema import is_loopback
from notifier.config.settings import Settings
from notifier.deadlines.planning import next_reminder, plan
from notifier.delivery.kinds import config_context
from notifier.errors import ConfigError, Problem, StateError
from notifier.logs import add_secrets, get_logger
from notifier.matching import Matcher
from notifier.model import Config, Feed, NewAlert
from notifier.pipeline.brief import check_brief
from notifier.pipeline.escalate import check_escalations
from notifier.pipeline.poll import Poller, PollResult
from notifier.pipeline.reminders import check_deadlines
from notifier.pipeline.sender import Sender, Sink, TickReport
from notifier.pipeline.stories import StoryBook
from notifier.runtime import app, memory, systemd
from notifier.runtime.configfile import ConfigFile
from notifier.runtime.http import HealthServer
from notifier.runtime.monitor import (
    BEAT_EVERY,
    HEALTH_FILE,
    Health,
    Metrics,
    Verdict,
    Watchdog,
)
from notifier.runtime.pool import IdlePool
from notifier.sources.http import HttpFetcher
from notifier.storage.sqlite import Store, lock_state_dir

log = get_logger("notifier.runtime.daemon")


def _ack_link(base: str, secret: str, ack_id: str, now: datetime) -> str:
    return ack_link(base, ack_id, secret, now)


HEARTBEAT_EVERY = 10.0
CONFIG_CHECK_EVERY = 2.0
DEADLINE_TICK = 60.0
#: History is pruned this often (seconds), in at most this many bounded batches.
HISTORY_PRUNE_EVERY = 3600.0
HISTORY_PRUNE_BATCHES = 20
#: New entries are added to the search index this often (seconds), a batch at a time.
HISTORY_INDEX_EVERY = 30.0
HISTORY_INDEX_BATCH = 500
#: A channel task with nothing due looks at its outbox at least this often.
CHANNEL_IDLE_WAKE = 5.0
#: Threads for regex matching (off the event loop; each search releases the GIL).
MATCH_THREADS = 2


def phase(name: str, interval: timedelta) -> timedelta:
    """A fixed offset in [0, min(interval/10, 30 s)) for feed ``name``: feeds with the
    same interval spread out, and the period stays exactly the interval (no drift)."""
    span = min(interval.total_seconds() / 10, 30.0)
    spread = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big")
    return timedelta(seconds=span * (spread / 2**32))


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
        self._executor = executor
        self._match_pool: ThreadPoolExecutor | None = None
        self._resources = AsyncExitStack()
        self.health = Health()
        self.metrics = Metrics(self.health)
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 60},
        )
        self.config: Config | None = None
        self.config_file = ConfigFile(settings.config, environ)
        self.store: Store | None = None
        self.fetcher: HttpFetcher | None = None
        self.poller: Poller | None = None
        self._story_book: StoryBook | None = None
        self.sender: Sender | None = None
        self.stopping = False
        self._inflight: set[asyncio.Task[Any]] = set()
        self._channels: dict[str, asyncio.Task[None]] = {}
        self._kicks: dict[str, asyncio.Event] = {}
        self._beat: asyncio.Task[None] | None = None
        self._watchdog: Watchdog | None = None
        self.health_port: int | None = None
        self.web_port: int | None = None
        #: ``(ack id, now) → signed ack link`` when the web UI and NOTIFIER_SECRET are on.
        self.ack_link: Callable[[str, datetime], str] | None = None
        self._rejected: str | None = None
        self._reloading = asyncio.Lock()
        self._feeds: dict[str, Feed] = {}  # the config's feeds by name
        self._trimmed_at = 0  # the poller's poll count when memory was last given back

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Lock the state folder (raising :class:`~notifier.errors.StateLocked` when
        another notifier holds it), load the config (raising :class:`ConfigError` if
        invalid) and start every job, task and thread."""
        # Everything allocated so far (the imported modules: some 200,000 objects) lives
        # as long as the process. Moved out of the cyclic GC's generations, it is not
        # scanned again by every full collection; measured: -10 to -25 % CPU in a 304
        # poll cycle of 1,000 feeds (bench/).
        gc.freeze()
        # Every resource goes on one stack, closed in reverse order by stop() — also
        # when start() fails half-way (stop() is then still called).
        stack = self._resources
        stack.callback(lock_state_dir(self.settings.state_dir, "run").release)
        config, matcher = await asyncio.to_thread(self._load)
        web = self._web_target(config)  # refused before anything starts
        self.store = stack.enter_context(Store.open(self.settings.state_dir))
        self._watchdog = Watchdog(self.health, self.settings.state_dir / HEALTH_FILE)
        stack.callback(self._watchdog.stop)
        if self._executor is None:
            self._executor = pool = app.new_parse_pool()
            stack.callback(pool.shutdown, wait=False, cancel_futures=True)
        self._match_pool = ThreadPoolExecutor(MATCH_THREADS, thread_name_prefix="notifier-match")
        stack.callback(self._match_pool.shutdown, wait=False, cancel_futures=True)
        stack.push_async_callback(self._close_fetcher)
        self.scheduler.add_listener(
            self._on_job_event,
            EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED,
        )
        self.scheduler.start()
        self.health.scheduler(running=True)
        self._beat = asyncio.create_task(self._beat_loop(), name="notifier-beat")
        # The story index of the last window, rebuilt from history in a thread; polls
        # that record entries wait for it, nothing else does.
        book = self._stories_for(config)
        book.load_in_background(self.store.history.recent_entries(self.clock() - book.window))
        await self._apply(config, matcher)
        self._add(
            "config", self._watch_config, IntervalTrigger(seconds=CONFIG_CHECK_EVERY, timezone=UTC)
        )
        self._add(
            "heartbeat", self._heartbeat, IntervalTrigger(seconds=HEARTBEAT_EVERY, timezone=UTC)
        )
        self._add(
            "deadlines", self._deadlines, IntervalTrigger(seconds=DEADLINE_TICK, timezone=UTC)
        )
        self._add("brief", self._brief, IntervalTrigger(seconds=DEADLINE_TICK, timezone=UTC))
        self._add("escalate", self._escalate, IntervalTrigger(seconds=DEADLINE_TICK, timezone=UTC))
        self._add(
            "history",
            self._prune_history,
            IntervalTrigger(seconds=HISTORY_PRUNE_EVERY, timezone=UTC),
        )
        self._add(
            "search-index",
            self._index_history,
            IntervalTrigger(seconds=HISTORY_INDEX_EVERY, timezone=UTC),
        )
        await self._heartbeat()
        self._watchdog.write()
        self._watchdog.start()
        await self._deadlines()  # catch up on what was missed while down
        await self._brief()  # a brief missed while down is sent now, once
        await self._escalate()  # steps missed while down: caught up now, folded into one
        if self.settings.health_port is not None:
            server = HealthServer(
                self.health, self.metrics, self.settings.health_host, self.settings.health_port
            )
            server.start()
            stack.push_async_callback(asyncio.to_thread, server.stop)
            self.health_port = server.port
            log.info(
                "health endpoint listening", host=self.settings.health_host, port=self.health_port
            )
        if web is not None:
            self._start_web(config, stack, *web)
        systemd.notify("READY=1")
        log.info(
            "daemon started",
            feeds=len(config.feeds),
            watches=len(config.watches),
            deadlines=len(config.deadlines),
            channels=len(config.channels),
            health_port=self.health_port,
            web_port=self.web_port,
        )

    def _web_target(self, config: Config) -> tuple[str, int, str | None] | None:
        """Where the web UI listens (host, port, token), or None when it is off (no
        ``--web-port`` and no ``web.port``). A host other than loopback without
        ``web.token`` is a config error."""
        port = self.settings.web_port if self.settings.web_port is not None else config.web.port
        if port is None:
            return None
        host = self.settings.web_host or config.web.host
        token = config.web.token
        if not is_loopback(host) and not token:
            raise ConfigError(
                [
                    Problem(
                        str(self.settings.config),
                        1,
                        1,
                        "web",
                        f"the web UI on {host} is reachable from other machines: set "
                        "web.token (16 characters or more, e.g. ${NOTIFIER_WEB_TOKEN})",
                    )
                ]
            )
        return host, port, token

    def _start_web(
        self, config: Config, stack: AsyncExitStack, host: str, port: int, token: str | None
    ) -> None:
        """The read-only web UI: a thread of its own reading the state read-only, so it
        never blocks a poll or a send."""
        from notifier.web.app import WebApp  # noqa: PLC0415 - only when the UI is on
        from notifier.web.server import WebServer  # noqa: PLC0415

        environ = self.environ if self.environ is not None else os.environ
        secret = environ.get("NOTIFIER_SECRET") or None
        if secret is not None:
            add_secrets([secret])  # never in a log line, a page or an error
        app_ = WebApp(
            config=lambda: self.config or config,
            state_dir=self.settings.state_dir,
            token=token,
            clock=self.clock,
            command=app.command_for(self.settings.config, self.settings.state_dir),
            secret=secret,
        )
        server = WebServer(app_, host, port)
        server.start()
        stack.push_async_callback(asyncio.to_thread, server.stop)
        self.web_port = server.port
        if secret is not None:
            shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host  # noqa: S104
            base = f"http://{f'[{shown}]' if ':' in shown else shown}:{self.web_port}"
            self.ack_link = functools.partial(_ack_link, base, secret)
            if self.sender is not None:
                self.sender.ack_link = self.ack_link
        log.info(
            "web UI listening",
            host=host,
            port=self.web_port,
            token=bool(token),
            ack_links=secret is not None,
        )

    async def stop(self) -> None:
        """Take no new work, let in-flight polls and sends finish within the grace
        period, cancel what is left, shut down. Never waits on a send past its
        deadline (its thread is a daemon thread)."""
        if self.stopping:
            return
        self.stopping = True
        self.health.scheduler(running=False, stopping=True)
        systemd.notify("STOPPING=1")
        with suppress(Exception):
            self.scheduler.pause()
        if self.poller is not None:
            self.poller.stopping.set()
        for event in self._kicks.values():
            event.set()  # channel tasks see `stopping` and end after their pass
        pending = {t for t in (*self._inflight, *self._channels.values()) if not t.done()}
        if pending:
            log.info("waiting for in-flight work", tasks=len(pending), grace=self.settings.grace)
            _, late = await asyncio.wait(pending, timeout=self.settings.grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1)
                log.warning("in-flight work cancelled after the grace period", tasks=len(late))
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._beat is not None:
            self._beat.cancel()
        await self._resources.aclose()  # HTTP, fetcher, pools, watchdog, store, lock
        log.info("daemon stopped")

    async def _close_fetcher(self) -> None:
        if self.fetcher is not None:
            await self.fetcher.close()

    async def reload(self) -> bool:
        """Reload the config file. Invalid: keep the old one, log, alert once. Returns success.

        The file is read and validated in a worker thread: a large or slow file
        never stalls polls and sends."""
        async with self._reloading:
            try:
                config, matcher = await asyncio.to_thread(self._load)
            except ConfigError as e:
                self.metrics.reloads.labels("rejected").inc()
                for problem in e.problems:
                    log.error("config rejected", problem=str(problem))
                self._alert_rejected(e)
                return False
            await self._apply(config, matcher)
            self._rejected = None
            self.metrics.reloads.labels("applied").inc()
            log.info("config reloaded", feeds=len(config.feeds), watches=len(config.watches))
            await self._deadlines()  # a moved deadline is announced now, not at the next tick
            await self._brief()  # a changed brief time is scheduled now
            return True

    # ------------------------------------------------------------------ config

    @property
    def config_hash(self) -> str | None:
        """The hash of the config file as last loaded."""
        return self.config_file.hash

    def _load(self) -> tuple[Config, Matcher]:
        """Read, validate and compile the config (in a worker thread)."""
        return self.config_file.load()

    async def _apply(self, config: Config, matcher: Matcher) -> None:
        """Switch to ``config``: reschedule only the feeds whose schedule changed."""
        old = self.config
        assert self.store is not None  # noqa: S101 - started
        self.fetcher = await app.fetcher_for(self.fetcher, old, config)
        stopping = self.poller.stopping if self.poller is not None else None
        self.poller = app.poller_for(
            config,
            self.store,
            self.fetcher,
            matcher,
            executor=self._executor,
            clock=self.clock,
            match_executor=self._match_pool,
            stories=self._stories_for(config),
            command=app.command_for(self.settings.config, self.settings.state_dir),
        )
        if stopping is not None:
            self.poller.stopping = stopping
        if self.sender is None:
            self.sender = Sender(self.store, config, self.sink, clock=self.clock)
            self.sender.ack_link = self.ack_link
        else:
            self.sender.update(config)
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
        self._schedule_next_reminder(self.clock())
        # Alerts waiting for a channel that left the config go to the default channels.
        if self.sender.reroute_removed():
            self._update_outbox_counts()
        for name in list(self._channels):
            if name not in config.channels:
                self._kicks[name].set()  # ends: its channel is gone
        for name in config.channels:
            if name not in self._channels or self._channels[name].done():
                self._kicks[name] = asyncio.Event()
                self._channels[name] = asyncio.create_task(
                    self._channel_loop(name), name=f"notifier-channel-{name}"
                )
        self.kick()

    def _stories_for(self, config: Config) -> StoryBook:
        self._story_book = app.story_book_for(self._story_book, config)
        return self._story_book

    def _schedule_feed(self, feed: Feed) -> None:
        start = self.clock() + phase(feed.name, feed.interval)
        trigger = IntervalTrigger(
            seconds=feed.interval.total_seconds(), start_date=start, timezone=UTC
        )
        self._add(f"feed:{feed.name}", self._poll, trigger, args=(feed.name,))
        # The first poll right away (at its phase), not one interval later.
        self.scheduler.modify_job(f"feed:{feed.name}", next_run_time=start)

    def _alert_rejected(self, error: ConfigError) -> None:
        """One alert to the default channels per distinct broken file."""
        key = self.config_hash or "unreadable"
        if self._rejected == key or self.config is None or self.store is None:
            return
        self._rejected = key
        context = config_context(self.settings.config.name, [str(p) for p in error.problems])
        alerts = [
            NewAlert(
                key=f"config-rejected:{key}",
                channel=channel,
                kind="config",
                severity="high",
                context=context,
            )
            for channel in self.config.default_channels
        ]
        with self.store.transaction():
            self.store.outbox.enqueue(alerts, self.clock())
        self.kick(self.config.default_channels)

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
        feed = self._feeds.get(name)
        if feed is None:
            return
        state = self.poller.state(name)
        if state and state.failures and state.next_poll and self.clock() < state.next_poll:
            log.debug("feed backing off", feed=name, until=state.next_poll.isoformat())
            return
        result = await self.poller.poll(feed)
        self._record_poll(result)
        if result.matches or result.event:
            self.kick()  # the channels send; the poll never waits for them
            self._escalate_soon()  # plan the ladders of the alerts just queued

    def _record_poll(self, result: PollResult) -> None:
        self.metrics.polls.labels(str(result.status)).inc()
        if not result.ok:
            self.metrics.poll_failures.inc()
        self.metrics.entries_new.inc(len(result.new))
        self.metrics.matches.inc(len(result.matches))
        self.metrics.regex_overruns.inc(len(result.overruns))

    async def _prune_history(self) -> None:
        """Forget old history (see :func:`app.prune_history`), hourly."""
        if self.store is not None and self.config is not None:
            app.prune_history(self.store, self.config, self.clock(), HISTORY_PRUNE_BATCHES)

    async def _index_history(self) -> None:
        """Make newly recorded entries searchable: one bounded batch, then yield."""
        if self.store is None:
            return
        # 500 entries take some 30 ms: the loop is never held up for long. After each
        # batch the loop gets as long again (at most 0.1 s): a backlog of tens of
        # thousands (every feed's first-poll entries, recorded at once) never has the
        # alerts' sends wait for the whole of it.
        while True:
            started = time.perf_counter()
            if not app.index_history(self.store, batches=1, limit=HISTORY_INDEX_BATCH):
                break
            await asyncio.sleep(min(time.perf_counter() - started, 0.1))

    def kick(self, channels: Any = None) -> None:
        """Wake the sender tasks of ``channels`` (all by default): something was queued."""
        for name in self._kicks if channels is None else channels:
            event = self._kicks.get(name)
            if event is not None:
                event.set()

    async def _channel_loop(self, name: str) -> None:
        """Send channel ``name``'s outbox: when kicked, when something comes due, and
        every few seconds. Each pass is bounded; a failure is logged and retried."""
        event = self._kicks[name]
        while not self.stopping and self.config is not None and name in self.config.channels:
            event.clear()
            assert self.sender is not None  # noqa: S101 - started
            report = TickReport()
            try:
                more = await self.sender.run_channel(name, report)
                if report.wake:
                    self.kick(report.wake)  # alerts queued for them via fallback
                if report.dead:
                    self.sender.report_dead()
                    self.kick(self.config.default_channels)
            except Exception:  # the loop must outlive any bug in one pass
                log.exception("channel pass crashed", channel=name)
                more = False
            self._account(name, report)
            if more:
                await asyncio.sleep(0)
                continue
            wake = self.sender.next_wake(name)
            timeout = CHANNEL_IDLE_WAKE
            if wake is not None:
                timeout = min(max((wake - self.clock()).total_seconds(), 0.05), timeout)
            with suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)

    def _account(self, name: str, report: TickReport) -> None:
        for outcome in ("sent", "failed", "dead"):
            value = getattr(report, outcome)
            if value:
                self.metrics.alerts.labels(outcome).inc(value)
        if report.composed or report.sent or report.failed or report.dead:
            self._update_outbox_counts()
        assert self.sender is not None  # noqa: S101
        stuck = self.sender.stuck()
        if name in stuck and not stuck[name].counted:
            stuck[name].counted = True
            self.metrics.send_timeouts.labels(name).inc()
        self._report_stuck()

    def _report_stuck(self) -> None:
        if self.sender is None or self.config is None:
            return
        now_wall, now_mono = self.clock(), time.monotonic()
        self.health.stuck(
            {
                name: (
                    now_mono - (now_wall - s.started).total_seconds(),
                    (s.deadline - s.started).total_seconds(),
                )
                for name, s in self.sender.stuck().items()
            }
        )

    async def _deadlines(self) -> None:
        """Queue what is due (kicking its channels), then set the one-off job for the
        next reminder, from the time of this check: nothing here waits on a send."""
        assert self.store is not None  # noqa: S101 - started
        assert self.config is not None  # noqa: S101
        now = self.clock()
        queued = check_deadlines(self.store, self.config, now)
        for alert in queued:
            planned = alert.context.get("planned")
            if alert.kind == "reminder" and isinstance(planned, str):
                lateness = (now - datetime.fromisoformat(planned)).total_seconds()
                self.metrics.reminders.inc()
                self.metrics.reminder_lateness.inc(max(lateness, 0.0))
        if queued:
            self.kick({a.channel for a in queued})
            self._escalate_soon()
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

    async def _brief(self) -> None:
        """Queue the morning brief if it is due (kicking its channels), then set the
        one-off job for the next one; the every-minute check is the safety net."""
        assert self.store is not None  # noqa: S101 - started
        if self.config is None:
            return
        now = self.clock()
        queued = check_brief(self.store, self.config, now)
        if queued:
            self.kick({a.channel for a in queued})
        policy = self.config.brief
        upcoming = next_brief(policy, now) if policy is not None else None
        if upcoming is None:
            if self.scheduler.get_job("brief-next") is not None:
                self.scheduler.remove_job("brief-next")
            return
        self._add("brief-next", self._brief, DateTrigger(run_date=upcoming, timezone=UTC))

    def _escalate_soon(self) -> None:
        """Run the escalation check now, as its own job (a new alert's first step is
        planned at once, not at the next minute)."""
        self._add("escalate-next", self._escalate, DateTrigger(run_date=self.clock(), timezone=UTC))

    async def _escalate(self) -> None:
        """Queue the escalation steps due (kicking their channels), then set the one-off
        job for the next step; the every-minute check is the safety net (and finds the
        ladders of alerts queued since)."""
        assert self.store is not None  # noqa: S101 - started
        if self.config is None:
            return
        now = self.clock()
        queued, upcoming = check_escalations(self.store, self.config, now)
        if queued:
            self.kick({a.channel for a in queued})
        if upcoming is None:
            if self.scheduler.get_job("escalate-next") is not None:
                self.scheduler.remove_job("escalate-next")
            return
        self._add("escalate-next", self._escalate, DateTrigger(run_date=upcoming, timezone=UTC))

    async def _watch_config(self) -> None:
        if await self.config_file.changed():
            await self.reload()

    async def _heartbeat(self) -> None:
        """Prove the state can be written, stop idle parse workers, tell systemd."""
        self.health.job_ran(self.scheduler.running)
        self.metrics.last_tick.set(time.time())
        if isinstance(self._executor, IdlePool) and await asyncio.to_thread(self._executor.reap):
            log.debug("parse workers stopped while idle", idle_after=self._executor.idle_after)
        await self._probe_state()
        self._update_outbox_counts()
        self._report_stuck()
        self._give_memory_back()
        systemd.notify("WATCHDOG=1")

    def _give_memory_back(self) -> None:
        """After polls, once none is in flight: hand freed memory back (see
        :mod:`notifier.runtime.memory`)."""
        poller, store = self.poller, self.store
        if poller is None or store is None or poller.busy or poller.polls == self._trimmed_at:
            return
        self._trimmed_at = poller.polls
        store.shrink_memory()
        memory.give_back()

    async def _probe_state(self) -> None:
        """A real write to the store and to a new file in the state folder: a full
        disk or a read-only mount shows here, not only when an alert is lost."""
        assert self.store is not None  # noqa: S101 - started
        error = None
        try:
            self.store.probe(self.clock())
            await asyncio.to_thread(_probe_folder, self.settings.state_dir)
        except StateError as e:
            error = str(e)
        except OSError as e:
            error = f"cannot write in {self.settings.state_dir}: {e.strerror or e}"
        if error is not None:
            log.error("state not writable", error=error)
        self.health.state(error is None, error)

    def _update_outbox_counts(self) -> None:
        if self.store is not None:
            self.health.outbox(app.outbox_counts(self.store))

    async def _beat_loop(self) -> None:
        """Tell the health monitor every :data:`BEAT_EVERY` s that the loop runs."""
        while True:
            self.health.beat()
            await asyncio.sleep(BEAT_EVERY)

    def _on_job_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_EXECUTED:
            self.health.job_ran(self.scheduler.running)
            return
        if event.code == EVENT_JOB_ERROR and isinstance(event, JobExecutionEvent):
            self.metrics.job_errors.inc()
            log.error("job failed", job=event.job_id, error=repr(event.exception))
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            # A poll longer than its feed's interval, say: that run is skipped.
            log.warning("job skipped: its previous run is still going", job=event.job_id)
        else:
            log.warning("job missed its run time", job=event.job_id)

    # ------------------------------------------------------------------ health

    def healthy(self) -> tuple[bool, dict[str, Any]]:
        """The health monitor's verdict now (see :mod:`notifier.runtime.monitor`)."""
        verdict: Verdict = self.health.judge()
        return verdict.ok, verdict.body


def _probe_folder(folder: Path) -> None:
    """Create, fill, sync and remove a new file: fails on a full or read-only disk."""
    path = folder / f".probe-{os.getpid()}"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"\0" * 65536)
        os.fsync(fd)
    finally:
        os.close(fd)
        with suppress(OSError):
            os.unlink(path)
