"""Delivery: route alerts to channels, and send the outbox through Apprise.

::

    matches / health events ──route──▶ NewAlert per channel ──▶ outbox (queued)
        (more than ``max_alerts`` entries from one poll of a feed: the rest are
        folded into one digest — counted, listed, never dropped)

    Sender.run_channel(name): one channel, never blocked by another
        compose  plan (digest windows, mutes, quiet hours, rate limit) ──▶ messages,
                 at most COMPOSE_BATCH per pass (a backlog drains over passes); the
                 active mutes are read each pass (one indexed lookup), and the
                 channel wakes when the mute holding its alerts ends
        send     each due message to each *current* URL of the channel, rendered
                 at send time in the format that URL's service renders; every send
                 has a hard deadline (``channels.X.timeout``, default 30 s)
        record   success per URL at once; failures retry with backoff and jitter;
                 past ``delivery.max_age``: dead, reported once to the defaults
        fallback every URL failing for ``fallback_after`` (``failing_since``, from the
                 outbox: a restart keeps it): the channel's pending alerts, and its new
                 ones on later passes, are also queued for its ``fallback`` channels
                 (marked "via fallback"), which are woken (``TickReport.wake``); it
                 stops when a send to the channel succeeds. Its own copies still retry.

A send that passes its deadline counts as a failed attempt. Apprise's thread
cannot be killed, so it is left to finish on its own (a daemon thread: it never
holds up a stop) and its channel is *stuck*: no other send starts on that
channel until the thread ends, so a slow service never piles up threads, and
the health check reports the channel. When the thread ends with a success
while the delivery is still pending, the delivery is recorded then — the late
send is not repeated.

The :class:`Sink` protocol is the only I/O: :class:`AppriseSink` sends through
Apprise (one Apprise object per URL, so each URL's result is known); tests
use a fake.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import html
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

import apprise

from notifier import clock as clocks
from notifier.delivery.apprise import quiet_apprise
from notifier.delivery.messages import (
    Rendered,
    Renderer,
    dead_letter_context,
)
from notifier.delivery.stages import (
    FallbackReason,
    Origin,
    after_send,
    decide,
    escalation_note,
    fallback,
    fallback_note,
    origin,
    url_hash,
)
from notifier.logs import get_logger, redact
from notifier.model import (
    BodyFormat,
    Channel,
    Config,
    Held,
    NewAlert,
    PendingMessage,
    highest_severity,
)
from notifier.storage import State

log = get_logger("notifier.pipeline.sender")

T = TypeVar("T")

#: Messages composed for one channel in one pass; a backlog drains over passes.
COMPOSE_BATCH = 100
#: Due messages sent for one channel in one pass.
SEND_BATCH = 50

NotifyType = Literal["info", "success", "warning", "failure"]
#: Apprise's notify type for a severity: it sets the colour or icon chat services show.
NOTIFY_TYPES: dict[str, NotifyType] = {
    "low": "info",
    "normal": "info",
    "high": "warning",
    "critical": "failure",
}


# --------------------------------------------------------------------------- sending


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """The result of sending to one URL; ``reason`` says why it failed (no secrets).

    ``timed_out`` is set when the send passed its deadline and was left running."""

    ok: bool
    reason: str | None = None
    timed_out: bool = False


class Sink(Protocol):
    """Sends one message to one URL. Never raises: failures come back as an outcome.

    It may take as long as the service takes; the sender bounds the wait."""

    async def send(
        self, url: str, title: str, body: str, fmt: BodyFormat, *, notify_type: NotifyType = "info"
    ) -> SendOutcome: ...


_FORMATS = {
    "text": apprise.NotifyFormat.TEXT,
    "markdown": apprise.NotifyFormat.MARKDOWN,
    "html": apprise.NotifyFormat.HTML,
}
_BODY_FORMATS: tuple[BodyFormat, ...] = ("text", "markdown", "html")


@functools.lru_cache(maxsize=256)
def body_formats(url: str) -> tuple[BodyFormat, ...]:
    """The body formats the service behind ``url`` renders, its preferred one first.

    From Apprise's own declaration for the service (and a ``?format=`` in the
    URL): ntfy and Mattermost render plain text, Slack markdown, e-mail and
    Telegram HTML first. A URL Apprise cannot read gets ``("text",)``."""
    with quiet_apprise(url):
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return ("text",)
    declared: Any = plugin.notify_format  # one format, or a tuple of them (preferred first)
    items = declared if isinstance(declared, list | tuple) else (declared,)
    formats = tuple(str(getattr(f, "value", f)) for f in items)
    override = getattr(plugin, "_format_override", None)
    if override is not None and str(getattr(override, "value", override)) in formats:
        chosen = str(getattr(override, "value", override))
        formats = (chosen, *(f for f in formats if f != chosen))
    known: tuple[BodyFormat, ...] = tuple(f for f in _BODY_FORMATS if f in formats)
    known = tuple(sorted(known, key=formats.index))
    return known or ("text",)


def choose_format(preferred: str, formats: Sequence[BodyFormat]) -> BodyFormat:
    """The body format to render for a URL whose service renders ``formats``.

    ``auto`` takes the service's own preference; an explicit format is used when
    the service renders it, else the service's preference: a plain-text service
    never shows ``**bold**`` or ``\\(escapes\\)``."""
    if preferred in formats:
        return preferred  # type: ignore[return-value]
    return formats[0] if formats else "text"


async def in_daemon_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a new daemon thread and await its result.

    A daemon thread, not the loop's executor: a call that never returns (a
    service dripping its answer) cannot exhaust a pool, nor hold up the exit
    of the process after a stop."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def run() -> None:
        try:
            result = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
            outcome: tuple[bool, Any] = (False, e)
        else:
            outcome = (True, result)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name="notifier-send", daemon=True).start()
    return await future


#: Apprise sends in the calling (daemon) thread: no async mode, and no service timeout
#: of its own (ours is the channel's ``timeout``). Either would hand the request to
#: Apprise's shared pool of non-daemon threads, and one request that never ends would
#: then hold up the exit of the process after a SIGTERM.
_ASSET = apprise.AppriseAsset(async_mode=False, service_timeout=0)


class AppriseSink:
    """Sends through Apprise, one Apprise object per send (so each URL's result is
    known, and Apprise's own pacing of a reused object does not stall a channel:
    pacing is ours, with ``rate_limit`` and digests). Each send runs in its own
    daemon thread (see :func:`in_daemon_thread`)."""

    async def send(
        self, url: str, title: str, body: str, fmt: BodyFormat, *, notify_type: NotifyType = "info"
    ) -> SendOutcome:
        return await in_daemon_thread(
            functools.partial(self._send, url, title, body, fmt, notify_type)
        )

    @staticmethod
    def _send(url: str, title: str, body: str, fmt: BodyFormat, notify_type: str) -> SendOutcome:
        sender = apprise.Apprise(asset=_ASSET)
        with quiet_apprise(url):
            added = sender.add(url)
        if not added:
            return SendOutcome(False, "Apprise cannot use this URL")
        try:
            result = sender.notify(
                body=body,
                title=title,
                body_format=_FORMATS[fmt],
                notify_type=apprise.NotifyType(notify_type),
            )
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
    """What one or more passes of the sender did."""

    composed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    #: Channels that were given alerts (via fallback) and should be woken.
    wake: set[str] = field(default_factory=set)

    def add(self, other: TickReport) -> None:
        """Add ``other``'s counts (``held`` is a level, so the latest wins)."""
        self.composed += other.composed
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead
        self.held = other.held
        self.errors.update(other.errors)
        self.wake |= other.wake


def _with_note(rendered: Rendered, note: str) -> Rendered:
    """``rendered`` with a line of our own (plain words, no markup) added at the end."""
    line = f"<p><em>{html.escape(note)}</em></p>" if rendered.format == "html" else note
    return dataclasses.replace(rendered, body=f"{rendered.body.rstrip()}\n\n{line}")


@dataclass(slots=True)
class StuckSend:
    """A send that passed its deadline and whose thread is still running."""

    task: asyncio.Future[SendOutcome]
    message_id: int
    url_hash: str
    started: datetime
    deadline: datetime
    counted: bool = False  # in the metrics already


class Sender:
    """Composes and sends the outbox of a config, one channel at a time or all at once.

    Keep one :class:`Sender` for the life of a process and hand it a new config
    with :meth:`update`: it remembers the sends left running past their deadline.
    Two passes over the same channel never overlap (a lock per channel)."""

    def __init__(
        self,
        store: State,
        config: Config,
        sink: Sink,
        *,
        clock: clocks.Clock = clocks.utcnow,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.outbox = store.outbox
        self.store = store
        self.sink = sink
        self.clock = clock
        self.rand = rand
        self._locks: dict[str, asyncio.Lock] = {}
        self._stuck: dict[str, StuckSend] = {}
        self._mute_ends: dict[str, datetime] = {}  # channel → end of the mute holding it
        self._fallback_starts: dict[str, datetime] = {}  # failing channel → its fallback's start
        self._fallback_marks: dict[str, int] = {}  # channel falling back → last alert id copied
        #: ``(ack id, now) → signed ack link``, set by the daemon when its web port and
        #: ``NOTIFIER_SECRET`` are set; messages composed then carry the link.
        self.ack_link: Callable[[str, datetime], str] | None = None
        self.config = config
        self.update(config)

    def update(self, config: Config) -> None:
        """Use ``config`` from the next pass on (channels, templates, delivery options).

        A late send of a channel that left the config is forgotten: its thread ends
        on its own, and its message was rerouted (see :meth:`reroute_removed`)."""
        self.config = config
        self.renderer = Renderer.for_config(config)
        for name in [n for n in self._stuck if n not in config.channels]:
            del self._stuck[name]

    # ------------------------------------------------------------------ passes

    async def tick(self) -> TickReport:
        """Every channel with work, concurrently, until each has nothing more due now."""
        report = TickReport()
        channels = [c for c in self.outbox.channels_with_work() if c in self.config.channels]
        reports = await asyncio.gather(*(self._drain_channel(name) for name in channels))
        for one in reports:
            report.add(one)
        report.held = sum(r.held for r in reports)
        self.report_dead()
        return report

    async def _drain_channel(self, name: str) -> TickReport:
        report = TickReport()
        more = True
        while more:
            more = await self.run_channel(name, report)
        return report

    async def run_channel(self, name: str, report: TickReport) -> bool:
        """One pass over channel ``name``: compose a batch, send what is due.

        Returns True when more work is ready right now (a backlog larger than
        a batch). Never raises for a channel's own failures."""
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            channel = self.config.channels.get(name)
            if channel is None:
                return False
            try:
                if self._settle_stuck(channel):
                    self._fall_back(channel, report)
                    return False
                more = self._compose(channel, report)
                due = self.outbox.due_messages(name, self.clock(), limit=SEND_BATCH)
                for message in due:
                    await self._send_message(channel, message, report)
                    if name in self._stuck:
                        break  # this channel waits for its late send
                self._fall_back(channel, report)
                if name in self._stuck:
                    return False
                return more or len(due) >= SEND_BATCH
            except asyncio.CancelledError:
                raise
            except Exception as e:  # one channel's bug must not stop the others
                log.exception("channel send crashed", channel=name)
                report.errors[name] = f"internal error: {e!r}"
                return False

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
            total.add(report)
            waits = [t for t in (self.outbox.next_attempt(), self.outbox.next_release()) if t]
            if self._stuck:
                waits.append(self.clock() + timedelta(seconds=1))
            if not waits or now_s() >= deadline:
                return total
            progress = report.composed or report.sent or report.failed or report.dead
            wait = max((min(waits) - self.clock()).total_seconds(), 0.05 if progress else 1.0)
            await sleep(min(wait, max(deadline - now_s(), 0)))

    def next_wake(self, name: str) -> datetime | None:
        """When channel ``name`` next has something to do (None: only when kicked)."""
        if name in self._stuck:
            return self.clock() + timedelta(seconds=1)
        times = [
            t
            for t in (
                self.outbox.next_due(name, self.clock()),
                self._mute_ends.get(name),
                self._fallback_starts.get(name),
            )
            if t is not None
        ]
        return min(times) if times else None

    def stuck(self) -> dict[str, StuckSend]:
        """Channels whose last send is still running past its deadline."""
        return {n: s for n, s in self._stuck.items() if not s.task.done()}

    # ------------------------------------------------------------------ compose

    def _with_link(self, context: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The context with its signed ack link (see :attr:`ack_link`), if it has an id."""
        ack_id = context.get("ack_id")
        if self.ack_link is None or not isinstance(ack_id, str):
            return context
        return {**context, "ack_link": self.ack_link(ack_id, now)}

    def _compose(self, channel: Channel, report: TickReport) -> bool:
        """Compose up to :data:`COMPOSE_BATCH` messages; True if more are ready."""
        now = self.clock()
        recent = 0
        if channel.rate_limit is not None:
            recent = self.outbox.recent_messages(channel.name, now - channel.rate_limit.per)
        queued = self.outbox.queued(channel.name, with_context=False)
        self._mute_ends.pop(channel.name, None)
        if not queued:
            return False
        mutes = [
            m for m in self.store.mutes.active(now) if m.kind != "channel" or m.name == channel.name
        ]
        origins: dict[int, Origin] | None = None
        if any(m.kind != "channel" for m in mutes):
            ready = [a.id for a in queued if a.not_before <= now]
            origins = {i: origin(c) for i, c in self.outbox.alert_contexts(ready).items()}
        decided = decide(
            queued, channel, now, self.config.timezone, recent, mutes=mutes, origins=origins
        )
        if mutes and Held.MUTED in decided.hold.values():
            self._mute_ends[channel.name] = mutes[0].until  # the soonest: look again then
        units = decided.units[:COMPOSE_BATCH]
        hashes = [url_hash(u) for u in channel.urls]
        contexts = self.outbox.alert_contexts([a.id for u in units for a in u.alerts])
        preview: BodyFormat = "text"  # stored for `status` and dead-letter notices
        with self.store.transaction():
            self.outbox.hold(decided.hold, {a.id: a.held for a in queued})
            for unit in units:
                unit_contexts = [contexts[a.id] for a in unit.alerts]
                kind = unit.alerts[0].kind if len(unit.alerts) == 1 else "digest"
                reason = unit.reason or ("digest" if len(unit.alerts) > 1 else None)
                rendered = self._render(channel, unit_contexts, preview, reason, now)
                self.outbox.compose(
                    channel.name,
                    kind=kind,
                    title=rendered.title,
                    body=rendered.body,
                    fmt=rendered.format,
                    alert_ids=[a.id for a in unit.alerts],
                    url_hashes=hashes,
                    now=now,
                    reason=reason,
                    severity=highest_severity(a.severity for a in unit.alerts),
                )
                report.composed += 1
        report.held = len(decided.hold)
        return len(decided.units) > len(units)

    def _render(
        self,
        channel: Channel,
        contexts: Sequence[dict[str, Any]],
        fmt: BodyFormat,
        reason: str | None,
        now: datetime,
    ) -> Rendered:
        """Render at ``now`` (a reminder states the time left when it is sent), feed text
        with mentions escaped unless the channel allows them, with the templates of the
        watch or deadline the alerts come from; with the signed ack link of an alert
        that has an ack id, when :attr:`ack_link` is set (fresh at each send)."""
        contexts = [self._with_link(c, now) for c in contexts]
        if len(contexts) == 1 and reason is None:
            rendered = self.renderer.render(contexts[0], fmt, now=now, mentions=channel.mentions)
        else:
            rendered = self.renderer.render_digest(
                contexts, fmt, reason or "digest", now=now, mentions=channel.mentions
            )
        origins = sorted({str(c["rerouted_from"]) for c in contexts if c.get("rerouted_from")})
        if origins:
            note = (
                f"Rerouted: meant for channel {', '.join(origins)}, "
                "which is no longer in the config."
            )
            rendered = _with_note(rendered, note)
        notes = dict.fromkeys(n for c in contexts if (n := escalation_note(c)))
        notes.update(
            dict.fromkeys(n for c in contexts if (n := fallback_note(c, self.config.timezone)))
        )
        for note in notes:
            rendered = _with_note(rendered, note)
        return rendered

    # ------------------------------------------------------------------ fallback

    def _fall_back(self, channel: Channel, report: TickReport) -> None:
        """The fallback stage, once a pass: while every URL of ``channel`` has been
        failing for ``fallback_after``, queue its pending alerts not yet copied for its
        fallback channels and wake them (:meth:`OutboxStore.fallback_copy`)."""
        name = channel.name
        if not channel.fallback:
            self._fallback_starts.pop(name, None)
            self._fallback_marks.pop(name, None)
            return
        now = self.clock()
        decision = fallback(channel, self.outbox.failing_since(name), now)
        if decision.reason is FallbackReason.WAITING and decision.starts is not None:
            self._fallback_starts[name] = decision.starts
        else:
            self._fallback_starts.pop(name, None)
        if not decision.active:
            if self._fallback_marks.pop(name, None) is not None:
                log.info("fallback ended", channel=name, reason=str(decision.reason))
            return
        targets = [t for t in decision.to if t in self.config.channels]
        after = self._fallback_marks.get(name, 0)
        with self.store.transaction():
            copied, mark = self.outbox.fallback_copy(
                name, [self.config.channels[t] for t in targets], decision.note(name), now, after
            )
        if name not in self._fallback_marks:
            log.warning(
                "channel failing; its alerts also go to its fallback channels",
                channel=name,
                to=",".join(targets),
                since=decision.since.isoformat() if decision.since else None,
                reason=str(decision.reason),
            )
        self._fallback_marks[name] = mark
        if copied:
            log.info("queued via fallback", channel=name, to=",".join(targets), alerts=copied)
            report.wake.update(targets)

    def falling_back(self) -> dict[str, tuple[str, ...]]:
        """The channels whose alerts now also go to their fallback channels."""
        return {
            n: self.config.channels[n].fallback
            for n in self._fallback_marks
            if n in self.config.channels
        }

    # ------------------------------------------------------------------ send

    async def _send_message(
        self, channel: Channel, message: PendingMessage, report: TickReport
    ) -> None:
        by_hash = {url_hash(u): u for u in channel.urls}
        targets = self.outbox.retarget(message, list(by_hash))
        contexts = self.outbox.contexts(message.id)
        now = self.clock()
        renders: dict[BodyFormat, Rendered] = {}
        errors = []
        for h in targets:
            url = by_hash[h]
            fmt = choose_format(channel.format, body_formats(url))
            if fmt not in renders:
                rendered = renders[fmt] = self._render(channel, contexts, fmt, message.reason, now)
                if rendered.template_error:
                    log.warning(
                        "template failed; default text used",
                        channel=channel.name,
                        error=rendered.template_error,
                    )
            rendered = renders[fmt]
            outcome = await self._send_one(channel, message, h, url, rendered)
            if outcome.ok:
                self.outbox.delivered(message.id, h, self.clock())
            else:
                errors.append(outcome.reason or "failure")
            if outcome.timed_out:
                break  # the rest of the channel waits for that send to end
        self._record(channel, message, errors, report)

    async def _send_one(
        self, channel: Channel, message: PendingMessage, h: str, url: str, rendered: Rendered
    ) -> SendOutcome:
        """Send with the channel's hard deadline; past it, leave the send running."""
        started = self.clock()
        timeout = channel.timeout.total_seconds()
        task = asyncio.ensure_future(
            self.sink.send(
                url,
                rendered.title,
                rendered.body,
                rendered.format,
                notify_type=NOTIFY_TYPES.get(message.severity, "info"),
            )
        )
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            self._stuck[channel.name] = StuckSend(
                task, message.id, h, started, started + channel.timeout
            )
            log.warning(
                "send passed its deadline; the channel waits for it",
                channel=channel.name,
                message=message.id,
                timeout_s=timeout,
            )
            return SendOutcome(False, f"no answer within {timeout:g} s", timed_out=True)
        except asyncio.CancelledError:
            task.cancel()
            raise
        except Exception as e:  # noqa: BLE001 - a sink bug is a failed send
            return SendOutcome(False, f"internal error: {type(e).__name__}")

    def _settle_stuck(self, channel: Channel) -> bool:
        """True while the channel's late send still runs; record its result once done."""
        stuck = self._stuck.get(channel.name)
        if stuck is None:
            return False
        if not stuck.task.done():
            return True
        del self._stuck[channel.name]
        outcome = (
            stuck.task.result()
            if not stuck.task.cancelled() and stuck.task.exception() is None
            else SendOutcome(False)
        )
        now = self.clock()
        waited = round((now - stuck.started).total_seconds(), 1)
        if outcome.ok and self.outbox.delivered(stuck.message_id, stuck.url_hash, now):
            with self.store.transaction():
                finished = self.outbox.finish_if_complete(stuck.message_id, now)
            log.info(
                "late send succeeded; recorded, not repeated",
                channel=channel.name,
                message=stuck.message_id,
                seconds=waited,
                finished=finished,
            )
        else:
            log.info(
                "late send ended",
                channel=channel.name,
                message=stuck.message_id,
                ok=outcome.ok,
                seconds=waited,
            )
        return False

    def _record(
        self, channel: Channel, message: PendingMessage, errors: list[str], report: TickReport
    ) -> None:
        now = self.clock()
        attempt = message.attempts + 1
        outcome = after_send(
            errors, attempt, message.composed, now, policy=self.config.delivery, rand=self.rand()
        )
        status = outcome.status
        with self.store.transaction():
            if status == "sent":
                self.outbox.finish(message.id, now)
                report.sent += 1
            elif status == "dead":
                self.outbox.dead(message.id, "; ".join(errors), now)
                report.dead += 1
            else:
                assert outcome.retry_at is not None  # noqa: S101 - retrying has a time
                self.outbox.failed(message.id, "; ".join(errors), outcome.retry_at)
                report.failed += 1
        fields = {
            "channel": channel.name,
            "message": message.id,
            "kind": message.kind,
            "status": status,
            "attempt": attempt,
        }
        if errors:
            report.errors[channel.name] = "; ".join(errors)
            log.warning("alert not sent", **fields, error=redact("; ".join(errors)))
        else:
            log.info("alert sent", **fields)

    def report_dead(self) -> None:
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

    def reroute_removed(self) -> int:
        """Send the waiting alerts of channels no longer in the config to the default
        channels (marked "rerouted from"); returns how many were moved."""
        orphans = self.outbox.orphan_channels(self.config.channels)
        moved = 0
        targets = [c for c in self.config.default_channels if c in self.config.channels]
        for name in orphans:
            if not targets:
                log.error(
                    "alerts wait for a channel that left the config, and there is no "
                    "default channel to take them",
                    channel=name,
                )
                continue
            with self.store.transaction():
                count = self.outbox.reroute(name, targets, self.clock())
            moved += count
            log.warning(
                "channel left the config; its waiting alerts go to the default channels",
                channel=name,
                to=",".join(targets),
                alerts=count,
            )
        return moved
