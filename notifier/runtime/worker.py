"""``notifier worker``: one of several processes sharing a PostgreSQL state, coordinated
by Procrastinate (a PostgreSQL task queue). The single-machine daemon
(:mod:`notifier.runtime.daemon`, SQLite and APScheduler 3) does not change.

::

    periodic  notifier.tick      every second (one run per second in the whole cluster:
                                 Procrastinate dedups periodic jobs by their timestamp)
                                 ─▶ a poll job per feed whose slot came, a reminder job
                                 per upcoming reminder, a send job per channel with work
                                 due; every 5 s: stalled jobs retried
    jobs      notifier.poll      lock + queueing lock ``feed:<name>``: one poller per
                                 feed; claims its slot (storage.cluster) before fetching
              notifier.remind    ``schedule_at`` the reminder time, queueing lock
                                 ``reminder:<deadline>:<time>``, lock ``deadlines``: the
                                 same idempotent deadline check as ``run``
              notifier.send      lock ``channel:<name>``: today's sender, one channel,
                                 so digests, rate limits and quiet hours stay correct
              notifier.minute    lock ``minute``: deadlines, brief, escalation, history
    loop      every second       heartbeat (cluster_workers), config file changed? →
                                 reload, state probe (a real write), health, gauges

**Failover.** Procrastinate's workers beat every :data:`HEARTBEAT` s; a job whose
worker has not beaten for :data:`STALL_AFTER` s is *stalled* and the tick puts it
back to ``todo`` (same id), where another worker takes it. A poll's slot claim
accepts the same job again, so the retried poll runs; every write of a poll is one
transaction whose alerts are ``ON CONFLICT DO NOTHING`` by key, so a worker that was
presumed dead but still lives cannot alert twice. A send interrupted by a kill is
sent again (at-least-once, like ``run`` after a crash).

**PostgreSQL down.** Every store call fails with :class:`StateError`; the jobs fail
and are retried by the next tick once it is back; Procrastinate's worker is restarted
with backoff; ``/healthz`` says the state is not writable. Nothing is lost: an alert is
either committed with its poll or the poll is redone.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import time
from collections.abc import Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import AsyncExitStack, suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from prometheus_client import Counter as PromCounter
from prometheus_client import Gauge

from notifier import clock as clocks
from notifier.config.settings import Settings
from notifier.deadlines.planning import next_reminder, plan
from notifier.errors import ConfigError, NotifierError, StateError
from notifier.logs import add_secrets, get_logger
from notifier.matching import Matcher
from notifier.model import Config, Feed
from notifier.pipeline.brief import check_brief
from notifier.pipeline.escalate import check_escalations
from notifier.pipeline.poll import Poller
from notifier.pipeline.reminders import check_deadlines
from notifier.pipeline.sender import Sender, Sink, TickReport
from notifier.pipeline.stories import StoryBook
from notifier.runtime import app as wiring
from notifier.runtime.configfile import ConfigFile
from notifier.runtime.daemon import phase
from notifier.runtime.http import HealthServer
from notifier.runtime.monitor import HEALTH_FILE, Health, Metrics, Watchdog
from notifier.sources.http import HttpFetcher
from notifier.storage import State
from notifier.storage.cluster import Cluster

if TYPE_CHECKING:
    import procrastinate

log = get_logger("notifier.runtime.worker")

#: Procrastinate's worker heartbeat, and the silence after which its jobs are stalled.
HEARTBEAT = 2.0
STALL_AFTER = 10.0
#: How often the tick looks for stalled jobs.
STALLED_EVERY = 5
#: Jobs each worker process runs at once (polls wait on the network, mostly).
CONCURRENCY = 10
#: A send job's passes over its channel at most (then the next sweep goes on).
SEND_PASSES = 20
#: How far ahead reminder jobs are deferred (they are deferred again if missed).
REMIND_AHEAD = timedelta(hours=1)
MATCH_THREADS = 2
#: Entries read at a time when a worker catches up on the others' stories.
STORY_SYNC_BATCH = 1000
#: How often an idle worker looks for jobs whose ``schedule_at`` came (new jobs wake it
#: at once through LISTEN/NOTIFY; a reminder's job is found within this).
FETCH_EVERY = 0.5


def slot(feed: Feed, moment: datetime) -> int:
    """The poll slot of ``feed`` at ``moment``: its interval's count since the epoch,
    shifted by the feed's fixed phase (the same spread as ``run``'s)."""
    interval = feed.interval.total_seconds()
    offset = phase(feed.name, feed.interval).total_seconds()
    return math.floor((moment.timestamp() - offset) / interval)


def due_polls(feeds: Iterable[Feed], deferred: dict[str, int], now: datetime) -> dict[str, int]:
    """Feed → slot to poll now: each enabled feed whose current slot is past the last
    one deferred (missed slots fold into the current one)."""
    out: dict[str, int] = {}
    for feed in feeds:
        if not feed.enabled:
            continue
        current = slot(feed, now)
        if current > deferred.get(feed.name, -1):
            out[feed.name] = current
    return out


def _connect(url: str) -> State:
    from notifier.storage.postgres import PgStore  # noqa: PLC0415 - the postgres extra

    return PgStore.connect(url)


def _conninfo_password(url: str) -> str | None:
    with suppress(ValueError):
        return urlsplit(url).password
    return None


class Worker:
    """One ``notifier worker`` process. ``start`` → (``reload``)* → ``stop``."""

    def __init__(
        self,
        settings: Settings,
        sink: Sink,
        *,
        clock: clocks.Clock = clocks.utcnow,
        executor: Executor | None = None,
        environ: dict[str, str] | None = None,
        concurrency: int = CONCURRENCY,
        stall_after: float = STALL_AFTER,
    ) -> None:
        if not settings.state_url:
            raise StateError("notifier worker needs NOTIFIER_STATE_URL (a PostgreSQL URL)")
        self.settings = settings
        self.url: str = settings.state_url
        self.sink = sink
        self.clock = clock
        self.environ = environ
        self.concurrency = concurrency
        self.stall_after = stall_after
        self._executor = executor
        self._match_pool: ThreadPoolExecutor | None = None
        self._resources = AsyncExitStack()
        self.health = Health(scheduler_stale_after=max(35.0, stall_after * 3))
        self.metrics = Metrics(self.health)
        registry = self.metrics.registry
        self._queue_gauge = Gauge(
            "notifier_queue_depth", "Jobs due and waiting for a worker.", registry=registry
        )
        self._stalled_gauge = Gauge(
            "notifier_stalled_jobs",
            "Jobs of workers that stopped beating, at the last look.",
            registry=registry,
        )
        self._retried = PromCounter(
            "notifier_stalled_jobs_retried", "Stalled jobs put back to run.", registry=registry
        )
        self.config: Config | None = None
        self.config_file = ConfigFile(settings.config, environ)
        self.store: State | None = None
        self.cluster = Cluster(self.url)
        self.worker_id: int | None = None
        self.fetcher: HttpFetcher | None = None
        self.poller: Poller | None = None
        self.sender: Sender | None = None
        self._story_book: StoryBook | None = None
        self._book_last_id = 0  # the highest entry id this worker's book has looked at
        #: Entries this worker placed, until its next look at the others' passes them.
        self._indexed: dict[tuple[str, str], datetime] = {}
        self._feeds: dict[str, Feed] = {}
        self._holding: set[str] = set()
        self._queue: Any = None  # the procrastinate App
        self._runner: asyncio.Task[None] | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._reloading = asyncio.Lock()
        self._mismatch: frozenset[str] | None = None
        self.stopping = False
        self.health_port: int | None = None
        self.queue_depth = 0
        self.stalled_jobs = 0
        self.retried_stalled = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect, load the config (raising ConfigError if invalid), and start the
        Procrastinate worker, the tick and the health loop."""
        gc.freeze()
        # Procrastinate logs every job start and end at INFO (several lines a second
        # here); our own lines say what each job did.
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
        password = _conninfo_password(self.url)
        if password:
            add_secrets([password])
        stack = self._resources
        config, matcher = await asyncio.to_thread(self._load)
        self.store = await asyncio.to_thread(_connect, self.url)
        stack.callback(self._close_store)
        await asyncio.to_thread(self.cluster.setup)
        stack.callback(self.cluster.close)
        if self._executor is None:
            self._executor = pool = wiring.new_parse_pool()
            stack.callback(pool.shutdown, wait=False, cancel_futures=True)
        self._match_pool = ThreadPoolExecutor(MATCH_THREADS, thread_name_prefix="notifier-match")
        stack.callback(self._match_pool.shutdown, wait=False, cancel_futures=True)
        stack.push_async_callback(self._close_fetcher)
        self._queue = await self._open_queue()
        stack.push_async_callback(self._close_queue)
        book = self._stories_for(config)
        self._book_last_id = last = self.store.history.last_entry_id()
        recent = self.store.history.recent_entries(self.clock() - book.window)
        book.load_in_background([r for r in recent if (r.id or 0) <= last])  # later: a sync
        await self._apply(config, matcher)
        self.worker_id = self.cluster.register(self.clock(), self.config_hash)
        stack.callback(self._leave)
        # Catch up as `run` does at start: a deadline is known from now on (a reminder
        # planned before its deadline was first seen is not sent), missed reminders and
        # a missed brief go out now (folded), missed escalation steps too.
        await self.run_minute()
        self.health.scheduler(running=True)
        self._runner = asyncio.create_task(self._run_queue(), name="notifier-procrastinate")
        self._loop_task = asyncio.create_task(self._housekeeping(), name="notifier-worker-loop")
        # health.json in the state folder, from a thread: `notifier healthcheck` reads it.
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        watchdog = Watchdog(self.health, self.settings.state_dir / HEALTH_FILE)
        stack.callback(watchdog.stop)
        watchdog.write()
        watchdog.start()
        if self.settings.health_port is not None:
            server = HealthServer(
                self.health, self.metrics, self.settings.health_host, self.settings.health_port
            )
            server.start()
            stack.push_async_callback(asyncio.to_thread, server.stop)
            self.health_port = server.port
        log.info(
            "worker started",
            worker=self.worker_id,
            feeds=len(config.feeds),
            channels=len(config.channels),
            health_port=self.health_port,
        )

    async def stop(self) -> None:
        """Finish the jobs in hand within the grace period, leave the cluster."""
        if self.stopping:
            return
        self.stopping = True
        self.health.scheduler(running=False, stopping=True)
        if self.poller is not None:
            self.poller.stopping.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._loop_task
        if self._runner is not None:
            self._runner.cancel()  # Procrastinate: graceful, then cancels its jobs
            with suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._runner, self.settings.grace + 5)
        await self._resources.aclose()
        log.info("worker stopped", worker=self.worker_id)

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()

    def _leave(self) -> None:
        if self.worker_id is not None:
            with suppress(StateError):
                self.cluster.leave(self.worker_id)

    async def _close_fetcher(self) -> None:
        if self.fetcher is not None:
            await self.fetcher.close()

    # ------------------------------------------------------------------ the queue

    async def _open_queue(self) -> procrastinate.App:
        import procrastinate  # noqa: PLC0415 - the optional postgres extra

        connector = procrastinate.PsycopgConnector(
            conninfo=self.url,
            min_size=1,
            max_size=max(4, self.concurrency // 2),
            kwargs={"connect_timeout": 5, "options": "-c statement_timeout=15000"},
        )
        queue = procrastinate.App(connector=connector)
        self._register_tasks(queue)
        await queue.open_async()
        await self._apply_queue_schema(queue)
        return queue

    async def _close_queue(self) -> None:
        if self._queue is not None:
            with suppress(Exception):
                await self._queue.close_async()

    async def _apply_queue_schema(self, queue: procrastinate.App) -> None:
        """Procrastinate's own tables, once per database (under an advisory lock)."""
        connector = queue.connector
        await connector.execute_query_async("SELECT pg_advisory_lock(1852798063)")
        try:
            row = await connector.execute_query_one_async(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
            )
            if not row["present"]:
                await queue.schema_manager.apply_schema_async()
                log.info("procrastinate schema applied")
        finally:
            await connector.execute_query_async("SELECT pg_advisory_unlock(1852798063)")

    async def _run_queue(self) -> None:
        """Run Procrastinate's worker; restart it (with backoff) when it fails, e.g.
        while PostgreSQL is down."""
        delay = 1.0
        while True:
            if self.stopping:
                return
            started = time.monotonic()
            try:
                await self._queue.run_worker_async(
                    concurrency=self.concurrency,
                    wait=True,
                    install_signal_handlers=False,
                    update_heartbeat_interval=HEARTBEAT,
                    stalled_worker_timeout=self.stall_after,
                    shutdown_graceful_timeout=self.settings.grace,
                    fetch_job_polling_interval=FETCH_EVERY,
                    delete_jobs="successful",
                    name=f"notifier-{self.worker_id}",
                )
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - PostgreSQL down, say: it must come back
                log.error("job queue worker failed; restarting", error=str(e)[:300])
            if time.monotonic() - started > 30:
                delay = 1.0
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    def _register_tasks(self, queue: procrastinate.App) -> None:
        worker = self

        @queue.periodic(cron="* * * * * *", periodic_id="tick")
        @queue.task(name="notifier.tick", queue="notifier", pass_context=False)
        async def tick(timestamp: int) -> None:
            await worker.tick(datetime.fromtimestamp(timestamp, UTC))

        @queue.task(name="notifier.poll", queue="notifier", pass_context=True)
        async def poll(context: Any, feed: str, slot: int) -> None:
            await worker.run_poll(feed, slot, int(context.job.id))

        @queue.task(name="notifier.remind", queue="notifier")
        async def remind(at: str) -> None:
            log.debug("reminder job", at=at, worker=worker.worker_id)
            await worker.run_deadlines()

        @queue.task(name="notifier.send", queue="notifier")
        async def send(channel: str) -> None:
            await worker.run_send(channel)

        @queue.task(name="notifier.minute", queue="notifier")
        async def minute() -> None:
            await worker.run_minute()

    async def _defer(
        self,
        task: str,
        *,
        lock: str | None = None,
        queueing_lock: str | None = None,
        schedule_at: datetime | None = None,
        **kwargs: Any,
    ) -> bool:
        """Defer a job; False when one with the same queueing lock is already waiting."""
        from procrastinate import exceptions  # noqa: PLC0415

        options: dict[str, Any] = {"queue": "notifier"}
        if lock is not None:
            options["lock"] = lock
        if queueing_lock is not None:
            options["queueing_lock"] = queueing_lock
        if schedule_at is not None:
            options["schedule_at"] = schedule_at
        try:
            await self._queue.configure_task(task, **options).defer_async(**kwargs)
        except exceptions.AlreadyEnqueued:
            return False
        return True

    async def _defer_polls(self, due: dict[str, int]) -> None:
        """Defer a poll job per feed in ``due`` (feed → slot) that has none waiting:
        one query for the waiting ones, one insert for the rest (one by one only if a
        poll was queued meanwhile). A saturated cluster does not spend itself trying
        to queue again the polls already waiting."""
        from procrastinate import exceptions, jobs  # noqa: PLC0415 - the postgres extra

        rows = await self._queue.connector.execute_query_all_async(
            "SELECT queueing_lock FROM procrastinate_jobs "
            "WHERE status = 'todo' AND task_name = 'notifier.poll'"
        )
        waiting = {row["queueing_lock"] for row in rows}
        fresh = [
            jobs.Job(
                queue="notifier",
                lock=f"feed:{name}",
                queueing_lock=f"feed:{name}",
                task_name="notifier.poll",
                task_kwargs={"feed": name, "slot": number},
            )
            for name, number in due.items()
            if f"feed:{name}" not in waiting
        ]
        if not fresh:
            return
        try:
            await self._queue.job_manager.batch_defer_jobs_async(fresh)
        except exceptions.AlreadyEnqueued:
            for job in fresh:
                with suppress(exceptions.AlreadyEnqueued):
                    await self._queue.job_manager.defer_job_async(job)

    async def kick(self, channels: Iterable[str] | None = None) -> None:
        """Defer a send job for each of ``channels`` (all by default)."""
        if self.config is None:
            return
        names = self.config.channels if channels is None else channels
        for name in sorted(set(names)):
            if name in self.config.channels:
                await self._defer(
                    "notifier.send",
                    lock=f"channel:{name}",
                    queueing_lock=f"send:{name}",
                    channel=name,
                )

    # ------------------------------------------------------------------ jobs

    async def tick(self, now: datetime) -> None:
        """The cluster's clock: defer what is due (polls, reminders, sends); every few
        seconds retry stalled jobs; every minute the minute job."""
        if self.config is None or self.stopping:
            return
        now = max(now, self.clock())
        deferred = self.cluster.deferred()
        due = due_polls(self._feeds.values(), deferred, now)
        if due:
            await self._defer_polls(due)
            # A feed whose poll still waits (its queueing lock) is polled by that job.
            self.cluster.set_deferred(due)
        for deadline in self.config.deadlines:
            upcoming = next_reminder(plan(deadline, now=now), now)
            if upcoming is not None and upcoming.at - now <= REMIND_AHEAD:
                at = upcoming.at.isoformat()
                await self._defer(
                    "notifier.remind",
                    lock="deadlines",
                    queueing_lock=f"reminder:{deadline.name}:{at}",
                    schedule_at=upcoming.at,
                    at=at,
                )
        if self.sender is not None:
            wake = [
                name
                for name in self.config.channels
                if (w := self.sender.next_wake(name)) is not None and w <= now
            ]
            if wake:
                await self.kick(wake)
        second = int(now.timestamp())
        if second % STALLED_EVERY == 0:
            await self.retry_stalled()
        if second % 60 == 0:
            await self._defer("notifier.minute", lock="minute", queueing_lock="minute")

    async def retry_stalled(self) -> int:
        """Put the jobs of workers silent for :attr:`stall_after` s back to ``todo``."""
        manager = self._queue.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=self.stall_after))
        self.stalled_jobs = len(stalled)
        from procrastinate import exceptions, jobs  # noqa: PLC0415 - the postgres extra

        for job in stalled:
            try:
                await manager.retry_job(job)
            except exceptions.UniqueViolation:
                # A newer job with its queueing lock waits already (the next poll of that
                # feed, the next send of that channel): it does this one's work.
                await manager.finish_job(job, status=jobs.Status.FAILED, delete_job=False)
                log.warning(
                    "closed a stalled job: a newer one does its work",
                    job=job.id,
                    task=job.task_name,
                    lock=job.lock,
                )
            else:
                log.warning(
                    "retrying a stalled job (its worker stopped beating)",
                    job=job.id,
                    task=job.task_name,
                    lock=job.lock,
                )
        self.retried_stalled += len(stalled)
        self._stalled_gauge.set(len(stalled))
        self._retried.inc(len(stalled))
        return len(stalled)

    async def run_poll(self, name: str, number: int, job: int) -> None:
        """Poll feed ``name`` for slot ``number`` (once: see :meth:`Cluster.claim`)."""
        feed = self._feeds.get(name)
        if feed is None or self.poller is None or self.stopping:
            return
        if not self.cluster.claim(name, number, job):
            log.debug("poll slot already run", feed=name, slot=number)
            return
        state = self.poller.state(name)
        if state and state.failures and state.next_poll and self.clock() < state.next_poll:
            log.debug("feed backing off", feed=name, until=state.next_poll.isoformat())
            return
        self._hold(f"feed:{name}")
        try:
            result = await self.poller.poll(feed)
        finally:
            self._hold(f"feed:{name}", held=False)
        seen = self.clock()  # the entries this poll placed are in the book already
        for key in {*(e.key for e in result.new), *result.story_of}:
            self._indexed[(name, key)] = seen
        log.debug("poll slot done", feed=name, slot=number, job=job, worker=self.worker_id)
        self.metrics.polls.labels(str(result.status)).inc()
        if not result.ok:
            self.metrics.poll_failures.inc()
        self.metrics.entries_new.inc(len(result.new))
        self.metrics.matches.inc(len(result.matches))
        if result.matches or result.event:
            await self.kick()
            await self._escalate()

    def _sync_stories(self) -> None:
        """Index in this worker's story book the entries other workers placed in
        stories since the last look (a story spans feeds polled by different workers).

        The poll calls it in its transaction, holding the stories' lock: story steps
        run one at a time in the cluster, and each inserts its entries under that
        lock, so entry ids grow with them and "every id above the last one read" is
        exactly what the others placed since (committed: the lock is released at
        commit). Entries this worker placed itself are in its book already; a first
        poll's silent entries are not indexed anyway."""
        book, store = self._story_book, self.store
        if book is None or store is None:
            return
        while True:
            fresh = store.history.entries_after(self._book_last_id, STORY_SYNC_BATCH)
            if not fresh:
                return
            self._book_last_id = fresh[-1].id or self._book_last_id
            # This worker's own entries: in the book already, and never read again.
            others = [r for r in fresh if self._indexed.pop((r.feed, r.key), None) is None]
            if others:
                book.fill(others)
            if len(fresh) < STORY_SYNC_BATCH:
                return

    async def run_deadlines(self) -> None:
        """The deadline check (idempotent): queue what is due, kick its channels."""
        if self.store is None or self.config is None:
            return
        queued = check_deadlines(self.store, self.config, self.clock())
        log.debug("deadlines checked", queued=len(queued))
        for alert in queued:
            if alert.kind == "reminder":
                self.metrics.reminders.inc()
        if queued:
            await self.kick({a.channel for a in queued})

    async def _escalate(self) -> None:
        if self.store is None or self.config is None:
            return
        queued, _ = check_escalations(self.store, self.config, self.clock())
        if queued:
            await self.kick({a.channel for a in queued})

    async def run_minute(self) -> None:
        """Once a minute somewhere in the cluster: deadlines, brief, escalations,
        and history upkeep (the same checks ``run`` makes every minute)."""
        if self.store is None or self.config is None:
            return
        await self.run_deadlines()
        queued = check_brief(self.store, self.config, self.clock())
        if queued:
            await self.kick({a.channel for a in queued})
        await self._escalate()
        wiring.prune_history(self.store, self.config, self.clock(), 5)
        wiring.index_history(self.store, batches=2, limit=500)

    async def run_send(self, name: str) -> None:
        """Send channel ``name``'s outbox (the job holds lock ``channel:<name>``)."""
        if self.sender is None or self.config is None or name not in self.config.channels:
            return
        self._hold(f"channel:{name}")
        try:
            for _ in range(SEND_PASSES):
                report = TickReport()
                more = await self.sender.run_channel(name, report)
                self._account(report)
                if report.wake:
                    await self.kick(report.wake)
                if report.dead:
                    self.sender.report_dead()
                    await self.kick(self.config.default_channels)
                if name in self.sender.stuck():
                    # A send past its deadline: hold the channel until its thread ends,
                    # so no other worker sends behind it.
                    while name in self.sender.stuck() and not self.stopping:
                        await asyncio.sleep(0.5)
                    continue
                if not more:
                    break
        finally:
            self._hold(f"channel:{name}", held=False)

    def _account(self, report: TickReport) -> None:
        for outcome in ("sent", "failed", "dead"):
            value = getattr(report, outcome)
            if value:
                self.metrics.alerts.labels(outcome).inc(value)

    # ------------------------------------------------------------------ config

    @property
    def config_hash(self) -> str | None:
        """The hash of the config file as last loaded (shown to the cluster)."""
        return self.config_file.hash

    def _load(self) -> tuple[Config, Matcher]:
        return self.config_file.load()

    def _stories_for(self, config: Config) -> StoryBook:
        self._story_book = wiring.story_book_for(self._story_book, config)
        return self._story_book

    async def _apply(self, config: Config, matcher: Matcher) -> None:
        old = self.config
        assert self.store is not None  # noqa: S101 - started
        self.fetcher = await wiring.fetcher_for(self.fetcher, old, config)
        stopping = self.poller.stopping if self.poller is not None else None
        self.poller = wiring.poller_for(
            config,
            self.store,
            self.fetcher,
            matcher,
            executor=self._executor,
            clock=self.clock,
            match_executor=self._match_pool,
            stories=self._stories_for(config),
            command="notifier",
            shared=True,  # other workers poll the same feeds
            refresh_stories=self._sync_stories,
        )
        if stopping is not None:
            self.poller.stopping = stopping
        if self.sender is None:
            self.sender = Sender(self.store, config, self.sink, clock=self.clock)
        else:
            self.sender.update(config)
        self.config = config
        self._feeds = {f.name: f for f in config.feeds}
        if self.sender.reroute_removed():
            await self.kick(config.default_channels)

    async def reload(self) -> bool:
        """Reload the config file; a broken one is refused and the old one kept."""
        async with self._reloading:
            try:
                config, matcher = await asyncio.to_thread(self._load)
            except ConfigError as e:
                self.metrics.reloads.labels("rejected").inc()
                for problem in e.problems:
                    log.error("config rejected", problem=str(problem))
                return False
            await self._apply(config, matcher)
            self.metrics.reloads.labels("applied").inc()
            log.info("config reloaded", feeds=len(config.feeds), watches=len(config.watches))
            await self.run_deadlines()
            return True

    async def _watch_config(self) -> None:
        if await self.config_file.changed():
            await self.reload()

    # ------------------------------------------------------------------ housekeeping

    async def _housekeeping(self) -> None:
        """Every second: beat, config, health; never ends while running."""
        last_probe = 0.0
        while not self.stopping:
            self.health.beat()
            try:
                await self._watch_config()
            except Exception:  # the loop must outlive any bug
                log.exception("config check failed")
            if time.monotonic() - last_probe >= 2.0:
                last_probe = time.monotonic()
                await self._beat_cluster()
            await asyncio.sleep(1.0)

    async def _beat_cluster(self) -> None:
        """Heartbeat, state probe, queue gauges, config hashes compared."""
        now = self.clock()
        error = None
        try:
            assert self.store is not None  # noqa: S101 - started
            self.store.probe(now)
            if self.worker_id is not None:
                self.cluster.beat(
                    self.worker_id, now, self.config_hash, tuple(sorted(self._holding))
                )
            self._compare_configs(now)
            self._update_outbox_counts()
        except (StateError, NotifierError) as e:
            error = str(e)
        except Exception as e:  # noqa: BLE001 - psycopg errors on a broken connection
            error = f"PostgreSQL state: {type(e).__name__}"
        if error is not None:
            log.error("state not writable", error=error)
        self.health.state(error is None, error)
        runner_alive = self._runner is not None and not self._runner.done()
        self.health.job_ran(runner_alive and error is None)
        with contextlib.suppress(Exception):
            await self._queue_gauges()

    async def _queue_gauges(self) -> None:
        row = await self._queue.connector.execute_query_one_async(
            "SELECT count(*) AS n FROM procrastinate_jobs WHERE status='todo' "
            "AND (scheduled_at IS NULL OR scheduled_at <= now())"
        )
        self.queue_depth = int(row["n"])
        self._queue_gauge.set(self.queue_depth)
        self._report_cluster()

    def _hold(self, lock: str, *, held: bool = True) -> None:
        """This worker now holds (or let go of) ``lock``: shown at once in /healthz."""
        if held:
            self._holding.add(lock)
        else:
            self._holding.discard(lock)
        self._report_cluster()

    def _report_cluster(self) -> None:
        self.health.cluster(
            {
                "worker_id": self.worker_id,
                "queue_depth": self.queue_depth,
                "stalled_jobs": self.stalled_jobs,
                "retried_stalled_jobs": self.retried_stalled,
                "holding": sorted(self._holding),
            }
        )

    def _compare_configs(self, now: datetime) -> None:
        hashes = {w.config_hash for w in self.cluster.workers(now) if w.config_hash}
        differing = frozenset(hashes) if len(hashes) > 1 else frozenset()
        if differing and differing != self._mismatch:
            log.warning(
                "workers run different config files",
                hashes=",".join(sorted(h[:12] for h in differing)),
                mine=(self.config_hash or "")[:12],
            )
        self._mismatch = differing

    def _update_outbox_counts(self) -> None:
        if self.store is not None:
            self.health.outbox(wiring.outbox_counts(self.store))

    def healthy(self) -> tuple[bool, dict[str, Any]]:
        verdict = self.health.judge()
        return verdict.ok, verdict.body
