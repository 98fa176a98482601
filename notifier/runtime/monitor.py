"""Health and metrics of the running daemon, judged and served off the event loop.

An alerting daemon that stops alerting must say so, and a check that runs *on*
the stuck thing cannot: a regex that never returns blocks the event loop, and
an endpoint served by that loop would just time out. So::

    event loop ──beats every 0.5 s──▶ Health (thread-safe snapshot) ◀── the daemon
                                        │   reports: jobs run, channels stuck,
                                        │   state probe, outbox counts
    watchdog thread, every 2 s ─────────┤──▶ health.json in the state folder
                                        │    (what ``notifier healthcheck`` reads)
    HTTP thread (runtime/http.py) ──────┴──▶ GET /healthz (200 / 503), GET /metrics

:meth:`Health.judge` is a pure decision over a snapshot and ``now``: not ok,
naming each problem, when

* the event loop has not beaten for :data:`LOOP_BLOCKED_AFTER` seconds;
* the scheduler is not running, or has run no job for :data:`SCHEDULER_STALE_AFTER`;
* a channel's send is stuck past its deadline;
* the last probe of the state store (a real write, every heartbeat) failed.

Metrics use ``prometheus_client`` (its own registry; exact number formatting).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

#: The file the watchdog writes (in the state folder) and ``notifier healthcheck`` reads.
HEALTH_FILE = "health.json"
#: Seconds without a beat of the event loop after which it counts as blocked.
LOOP_BLOCKED_AFTER = 5.0
#: Seconds without any scheduled job run after which the scheduler counts as stalled.
SCHEDULER_STALE_AFTER = 35.0
#: How often the loop beats and the watchdog writes the health file.
BEAT_EVERY = 0.5
WATCHDOG_EVERY = 2.0

prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the daemon is healthy, each problem in words, and the measurements."""

    ok: bool
    problems: tuple[str, ...]
    body: dict[str, Any]


@dataclass(slots=True)
class _Snapshot:
    started: float
    beat: float
    job_run: float
    scheduler_running: bool = False
    stopping: bool = False
    stuck: dict[str, tuple[float, float]] = field(default_factory=dict)  # channel: since, limit
    state_ok: bool = True
    state_error: str | None = None
    state_checked: float = 0.0
    outbox: dict[str, int] = field(default_factory=dict)
    cluster: dict[str, Any] | None = None  # notifier worker only


class Health:
    """What the daemon reports about itself; safe to read from any thread."""

    def __init__(
        self,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        loop_blocked_after: float = LOOP_BLOCKED_AFTER,
        scheduler_stale_after: float = SCHEDULER_STALE_AFTER,
    ) -> None:
        self._monotonic = monotonic
        self.loop_blocked_after = loop_blocked_after
        self.scheduler_stale_after = scheduler_stale_after
        now = monotonic()
        self._lock = threading.Lock()
        self._s = _Snapshot(started=now, beat=now, job_run=now)

    # ---------------------------------------------------------------- reports (loop)

    def beat(self) -> None:
        """The event loop is alive (called by a loop task every :data:`BEAT_EVERY`)."""
        with self._lock:
            self._s.beat = self._monotonic()

    def job_ran(self, scheduler_running: bool) -> None:
        """The scheduler ran a job (any job: the config check alone runs every 2 s)."""
        with self._lock:
            self._s.job_run = self._monotonic()
            self._s.scheduler_running = scheduler_running

    def scheduler(self, running: bool, stopping: bool = False) -> None:
        with self._lock:
            self._s.scheduler_running = running
            self._s.stopping = stopping

    def stuck(self, channels: Mapping[str, tuple[float, float]]) -> None:
        """Channels whose send passed its deadline: name → (monotonic start, timeout s)."""
        with self._lock:
            self._s.stuck = dict(channels)

    def state(self, ok: bool, error: str | None = None) -> None:
        """The result of the latest real write to the state store and folder."""
        with self._lock:
            self._s.state_ok, self._s.state_error = ok, error
            self._s.state_checked = self._monotonic()

    def cluster(self, info: Mapping[str, Any]) -> None:
        """A worker's view of its cluster (``notifier worker``): queue depth, stalled
        jobs, the locks it holds; shown as ``cluster`` in the health body."""
        with self._lock:
            self._s.cluster = dict(info)

    def outbox(self, counts: Mapping[str, int]) -> None:
        with self._lock:
            self._s.outbox = dict(counts)

    def outbox_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._s.outbox)

    # ---------------------------------------------------------------- judging (any thread)

    def judge(self) -> Verdict:
        """Decide from the snapshot and the time now (see the module docstring)."""
        with self._lock:
            s = replace(self._s)  # the dicts are replaced on update, never changed in place
        now = self._monotonic()
        problems: list[str] = []
        lag = now - s.beat
        if lag > self.loop_blocked_after:
            problems.append(f"event loop blocked for {lag:.1f} s")
        job_age = now - s.job_run
        if s.stopping:
            problems.append("stopping")
        elif not s.scheduler_running:
            problems.append("scheduler not running")
        elif job_age > self.scheduler_stale_after:
            problems.append(f"scheduler has run no job for {job_age:.0f} s")
        stuck = {}
        for channel, (since, limit) in sorted(s.stuck.items()):
            stuck[channel] = round(now - since, 1)
            problems.append(
                f"channel {channel}: a send has been running for {now - since:.0f} s "
                f"(deadline {limit:g} s)"
            )
        if not s.state_ok:
            problems.append(f"state store not writable: {s.state_error or 'write failed'}")
        body = {
            "status": "ok" if not problems else "unhealthy",
            "problems": problems,
            "event_loop_lag_seconds": round(lag, 3),
            "scheduler_running": s.scheduler_running and not s.stopping,
            "last_job_age_seconds": round(job_age, 3),
            "stuck_channels": stuck,
            "state_writable": s.state_ok,
            "uptime_seconds": round(now - s.started, 1),
        }
        if s.cluster is not None:
            body["cluster"] = s.cluster
        return Verdict(not problems, tuple(problems), body)


# --------------------------------------------------------------------------- metrics


class Metrics:
    """The daemon's Prometheus metrics, in a registry of their own."""

    def __init__(self, health: Health) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.polls = Counter("notifier_polls", "Feed polls by outcome.", ["status"], registry=r)
        self.poll_failures = Counter("notifier_poll_failures", "Failed feed polls.", registry=r)
        self.entries_new = Counter("notifier_entries_new", "New entries seen.", registry=r)
        self.matches = Counter("notifier_matches", "Entries matched by a watch.", registry=r)
        self.alerts = Counter(
            "notifier_alerts",
            "Message sends by outcome (sent, failed attempts, dead).",
            ["outcome"],
            registry=r,
        )
        self.send_timeouts = Counter(
            "notifier_send_timeouts",
            "Sends that passed their channel's deadline.",
            ["channel"],
            registry=r,
        )
        self.regex_overruns = Counter(
            "notifier_regex_overruns",
            "Regex searches that ran out of time (the watch did not match that entry).",
            registry=r,
        )
        self.reminders = Counter("notifier_reminders", "Deadline notices queued.", registry=r)
        self.reminder_lateness = Counter(
            "notifier_reminder_lateness_seconds",
            "Sum of how late reminders were queued after their planned time.",
            registry=r,
        )
        self.reloads = Counter(
            "notifier_config_reloads", "Config reloads by result.", ["result"], registry=r
        )
        self.job_errors = Counter("notifier_job_errors", "Scheduler jobs that raised.", registry=r)
        self.last_tick = Gauge(
            "notifier_last_tick_timestamp_seconds",
            "Unix time of the last heartbeat.",
            registry=r,
        )
        r.register(_HealthCollector(health))
        for outcome in ("sent", "failed", "dead"):
            self.alerts.labels(outcome)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        data: bytes = prometheus_client.generate_latest(self.registry)
        return data

    def count(self, counter: Counter, labels: tuple[str, ...] = ()) -> float:
        """The current value of ``counter`` (for tests and logs)."""
        metric = counter.labels(*labels) if labels else counter
        value: float = metric._value.get()
        return value


class _HealthCollector(Collector):
    """Gauges read from the health snapshot at scrape time."""

    def __init__(self, health: Health) -> None:
        self.health = health

    def collect(self) -> Iterator[GaugeMetricFamily]:
        verdict = self.health.judge()
        outbox = GaugeMetricFamily(
            "notifier_outbox_alerts",
            "Alerts and messages in the outbox by state.",
            labels=["state"],
        )
        for state, value in sorted(self.health.outbox_counts().items()):
            outbox.add_metric([state], value)
        yield outbox
        yield GaugeMetricFamily(
            "notifier_healthy", "1 when /healthz is ok, else 0.", value=1 if verdict.ok else 0
        )
        yield GaugeMetricFamily(
            "notifier_event_loop_lag_seconds",
            "Seconds since the event loop last beat.",
            value=verdict.body["event_loop_lag_seconds"],
        )
        stuck = GaugeMetricFamily(
            "notifier_channel_stuck_seconds",
            "Seconds a channel's send has been running past its deadline.",
            labels=["channel"],
        )
        for channel, seconds in verdict.body["stuck_channels"].items():
            stuck.add_metric([channel], seconds)
        yield stuck


# --------------------------------------------------------------------------- serving


def write_health_file(path: Path, verdict: Verdict, now: datetime) -> None:
    """Write the verdict to ``path`` atomically (a temporary file, then rename)."""
    body = {**verdict.body, "written_at": now.astimezone(UTC).isoformat(), "pid": os.getpid()}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_health_file(path: Path) -> dict[str, Any] | None:
    """The last verdict a daemon wrote, or None if there is none readable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class Watchdog:
    """A daemon thread writing the health file every :data:`WATCHDOG_EVERY` seconds,
    whatever the event loop is doing."""

    def __init__(
        self,
        health: Health,
        path: Path,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        every: float = WATCHDOG_EVERY,
    ) -> None:
        self.health = health
        self.path = path
        self.clock = clock
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notifier-watchdog", daemon=True)
        self.errors = 0

    def start(self) -> None:
        self._thread.start()

    def write(self) -> None:
        """Write the health file now (errors are counted, not raised: a full disk
        shows in the verdict itself, through the state probe)."""
        try:
            write_health_file(self.path, self.health.judge(), self.clock())
        except OSError:
            self.errors += 1

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.write()

    def stop(self) -> None:
        """Stop writing, then write the last verdict (stopping: not ok)."""
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=5)
        self.write()
