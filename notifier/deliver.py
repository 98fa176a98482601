"""Delivery: route alerts to channels, and send the outbox through Apprise.

::

    matches / health events ──route──▶ NewAlert per channel ──▶ outbox (queued)
    Sender.tick(now), for every channel at once (one channel's failure never
    blocks another):
        plan (digest windows, quiet hours, rate limit) ──▶ compose messages
        send each due message, URL by URL, through the Sink ──▶ record per URL
        failures: retry with backoff and jitter; past ``delivery.max_age``: dead,
        reported once to the default channels

The :class:`Sink` protocol is the only I/O: :class:`AppriseSink` sends through
Apprise (one Apprise object per URL, so each URL's result is known); tests
use a fake.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import apprise

from notifier import clock as clocks
from notifier.channels import quiet_apprise
from notifier.config import BodyFormat, Channel, Config
from notifier.health import HealthEvent
from notifier.logs import get_logger, redact
from notifier.messages import (
    Renderer,
    dead_letter_context,
    health_context,
    match_context,
)
from notifier.model import Match
from notifier.outbox import NewAlert, Outbox, PendingMessage, digest_window_end, plan, url_hash
from notifier.store import Store

log = get_logger("notifier.deliver")


# --------------------------------------------------------------------------- routing (pure)


def route_matches(matches: Sequence[Match], config: Config, now: datetime) -> list[NewAlert]:
    """One alert per (match, channel of its watch); digest watches wait for their window."""
    watches = {w.name: w for w in config.watches}
    titles = {f.name: f.title for f in config.feeds}
    alerts = []
    for m in matches:
        watch = watches[m.watch]
        context = match_context(m, watch.severity, titles.get(m.entry.feed))
        not_before = digest_window_end(now, watch.digest, config.timezone) if watch.digest else None
        for channel in watch.channels:
            alerts.append(
                NewAlert(
                    key=f"match:{m.entry.feed}:{m.entry.key}:{m.watch}",
                    channel=channel,
                    kind="match",
                    severity=watch.severity,
                    context=context,
                    group=f"watch {watch.name}" if watch.digest else None,
                    not_before=not_before,
                )
            )
    return alerts


def route_health(event: HealthEvent, config: Config) -> list[NewAlert]:
    """A feed health notice goes to the default channels."""
    return [
        NewAlert(
            key=f"health:{event.feed}:{event.kind}:{event.at.isoformat()}",
            channel=channel,
            kind="health",
            severity="high" if event.kind == "unhealthy" else "normal",
            context=health_context(event),
        )
        for channel in config.default_channels
    ]


# --------------------------------------------------------------------------- sending


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """The result of sending to one URL; ``reason`` says why it failed (no secrets)."""

    ok: bool
    reason: str | None = None


class Sink(Protocol):
    """Sends one message to one URL. Never raises: failures come back as an outcome."""

    async def send(self, url: str, title: str, body: str, fmt: BodyFormat) -> SendOutcome: ...


_FORMATS = {
    "text": apprise.NotifyFormat.TEXT,
    "markdown": apprise.NotifyFormat.MARKDOWN,
    "html": apprise.NotifyFormat.HTML,
}


class AppriseSink:
    """Sends through Apprise, one Apprise object per send (so each URL's result is
    known, and Apprise's own pacing of a reused object does not stall a channel:
    pacing is ours, with ``rate_limit`` and digests)."""

    async def send(self, url: str, title: str, body: str, fmt: BodyFormat) -> SendOutcome:
        return await asyncio.to_thread(self._send, url, title, body, fmt)

    @staticmethod
    def _send(url: str, title: str, body: str, fmt: BodyFormat) -> SendOutcome:
        sender = apprise.Apprise()
        with quiet_apprise():
            added = sender.add(url)
        if not added:
            return SendOutcome(False, "Apprise cannot use this URL")
        try:
            result = sender.notify(body=body, title=title, body_format=_FORMATS[fmt])
        except Exception as e:  # noqa: BLE001 - a plugin bug must not kill the sender
            return SendOutcome(False, f"Apprise raised {type(e).__name__}")
        try:
            if bool(result):
                return SendOutcome(True)
            return SendOutcome(False, _reason(result))
        finally:
            close = getattr(result, "close", None)  # AppriseResult keeps logs until closed
            if callable(close):
                close()


def _reason(result: Any) -> str:
    """The last error Apprise logged for the URL, else its status."""
    for item in result if hasattr(result, "__iter__") else ():
        status = str(getattr(item, "status", "failure")).lower()
        logs = []
        entries = getattr(item, "logs", None)
        if callable(entries):
            entries = entries()
        for entry in entries or ():
            text = getattr(entry, "message", None) or str(entry)
            level = str(getattr(entry, "level", "")).upper()
            if "ERROR" in level or "WARN" in level or not level:
                logs.append(text)
        detail = logs[-1] if logs else ""
        return redact(f"{status}: {detail}".strip(": ").strip())
    return "failure"


@dataclass(slots=True)
class TickReport:
    """What one pass of the sender did."""

    composed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def retry_delay(attempts: int, low: timedelta, high: timedelta, rand: float) -> timedelta:
    """Exponential backoff with equal jitter between ``low`` and ``high``."""
    base = min(low.total_seconds() * 2.0 ** min(attempts - 1, 40), high.total_seconds())
    return timedelta(seconds=max(low.total_seconds(), base / 2 + base / 2 * rand))


class Sender:
    """Composes and sends the outbox of a config. Safe to call ``tick`` repeatedly."""

    def __init__(
        self,
        store: Store,
        config: Config,
        sink: Sink,
        *,
        clock: clocks.Clock = clocks.utcnow,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.outbox = Outbox(store)
        self.store = store
        self.config = config
        self.sink = sink
        self.clock = clock
        self.rand = rand
        self.renderer = Renderer(config.templates, config.timezone)

    async def tick(self) -> TickReport:
        """Compose what may go now and send what is due, every channel concurrently."""
        report = TickReport()
        channels = [c for c in self.outbox.channels_with_work() if c in self.config.channels]
        for name in channels:
            self._compose(self.config.channels[name], report)
        await asyncio.gather(
            *(self._send_channel(self.config.channels[n], report) for n in channels)
        )
        self._report_dead()
        return report

    async def drain(
        self,
        timeout: float,
        sleep: Callable[[float], Any] = asyncio.sleep,
        monotonic: Callable[[], float] | None = None,
    ) -> TickReport:
        """Tick until nothing is pending or ``timeout`` seconds have passed."""
        loop = asyncio.get_running_loop()
        now_s = monotonic or loop.time
        deadline = now_s() + timeout
        total = TickReport()
        while True:
            report = await self.tick()
            for name in ("composed", "sent", "failed", "dead"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.held = report.held
            total.errors.update(report.errors)
            waits = [t for t in (self.outbox.next_attempt(), self.outbox.next_release()) if t]
            if not waits or now_s() >= deadline:
                return total
            progress = report.composed or report.sent or report.failed or report.dead
            wait = max((min(waits) - self.clock()).total_seconds(), 0.05 if progress else 1.0)
            await sleep(min(wait, max(deadline - now_s(), 0)))

    # ------------------------------------------------------------------ compose

    def _compose(self, channel: Channel, report: TickReport) -> None:
        now = self.clock()
        recent = 0
        if channel.rate_limit is not None:
            recent = self.outbox.recent_messages(channel.name, now - channel.rate_limit.per)
        decided = plan(self.outbox.queued(channel.name), channel, now, self.config.timezone, recent)
        hashes = [url_hash(u) for u in channel.urls]
        with self.store.transaction():
            self.outbox.hold(decided.hold)
            for unit in decided.units:
                contexts = [a.context for a in unit.alerts]
                if len(contexts) == 1:
                    rendered = self.renderer.render(contexts[0], channel.format)
                    kind = unit.alerts[0].kind
                else:
                    rendered = self.renderer.render_digest(
                        contexts, channel.format, unit.reason or "digest"
                    )
                    kind = "digest"
                if rendered.template_error:
                    log.warning(
                        "template failed; default text used",
                        channel=channel.name,
                        error=rendered.template_error,
                    )
                self.outbox.compose(
                    channel.name,
                    kind=kind,
                    title=rendered.title,
                    body=rendered.body,
                    fmt=rendered.format,
                    alert_ids=[a.id for a in unit.alerts],
                    url_hashes=hashes,
                    now=now,
                )
                report.composed += 1
        report.held += len(decided.hold)

    # ------------------------------------------------------------------ send

    async def _send_channel(self, channel: Channel, report: TickReport) -> None:
        try:
            for message in self.outbox.due(channel.name, self.clock()):
                await self._send_message(channel, message, report)
        except Exception as e:  # one channel's bug must not stop the others
            log.exception("channel send crashed", channel=channel.name)
            report.errors[channel.name] = f"internal error: {e!r}"

    async def _send_message(
        self, channel: Channel, message: PendingMessage, report: TickReport
    ) -> None:
        by_hash = {url_hash(u): u for u in channel.urls}
        errors = []
        for h in message.pending:
            url = by_hash.get(h)
            if url is None:  # the URL left the channel's config: nothing to send it to
                self.outbox.delivered(message.id, h, self.clock())
                continue
            outcome = await self.sink.send(url, message.title, message.body, message.format)
            if outcome.ok:
                self.outbox.delivered(message.id, h, self.clock())
            else:
                errors.append(outcome.reason or "failure")
        now = self.clock()
        attempt = message.attempts + 1
        with self.store.transaction():
            if not errors:
                self.outbox.finish(message.id, now)
                report.sent += 1
                status = "sent"
            elif now - message.composed >= self.config.delivery.max_age:
                self.outbox.dead(message.id, "; ".join(errors), now)
                report.dead += 1
                status = "dead"
            else:
                delay = retry_delay(
                    attempt,
                    self.config.delivery.min_retry,
                    self.config.delivery.max_retry,
                    self.rand(),
                )
                self.outbox.failed(message.id, "; ".join(errors), now + delay)
                report.failed += 1
                status = "retrying"
        fields = {
            "channel": channel.name,
            "message": message.id,
            "kind": message.kind,
            "status": status,
            "attempt": attempt,
        }
        if errors:
            report.errors[channel.name] = "; ".join(errors)
            log.warning("alert sent", **fields, error=redact("; ".join(errors)))
        else:
            log.info("alert sent", **fields)

    def _report_dead(self) -> None:
        """Queue one notice per dead message to the default channels (not for notices)."""
        now = self.clock()
        with self.store.transaction():
            for dead in self.outbox.unreported_dead():
                if dead.kind != "dead_letter":
                    context = dead_letter_context(
                        dead.channel, dead.title, dead.composed, dead.attempts, dead.last_error
                    )
                    self.outbox.enqueue(
                        [
                            NewAlert(
                                key=f"dead:{dead.id}",
                                channel=channel,
                                kind="dead_letter",
                                severity="high",
                                context=context,
                            )
                            for channel in self.config.default_channels
                        ],
                        now,
                    )
                self.outbox.reported(dead.id)
                log.error(
                    "alert dead-lettered",
                    channel=dead.channel,
                    message=dead.id,
                    attempts=dead.attempts,
                    error=dead.last_error,
                )
