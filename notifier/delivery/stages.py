"""The durable outbox: alerts are stored before any send is tried, and never lost.

::

    enqueue ─────▶ alerts        one row per (alert, channel); the key is unique, so
                                 queueing the same alert twice does nothing
    plan() ──────▶ which queued alerts go now, and folded how: a watch's digest
                   window, quiet hours and a rate limit *hold* alerts (they wait,
                   then go out folded into one digest), they never drop them
    compose ─────▶ messages      one row per message to send (one alert or a digest),
                                 rendered in the channel's format, plus
                   deliveries    one row per (message, URL of the channel)
    send ────────▶ a delivery is marked sent right after Apprise reports success for
                   that URL; a message is sent when all its deliveries are; failures
                   retry with backoff; a message still failing ``max_age`` after it
                   was composed is dead (reported once to the default channels)
    retarget ────▶ before each attempt a message's deliveries follow the channel's
                   *current* URLs: a URL that left the config is ``superseded``
                   (never counted as sent), a URL that joined gets a delivery
    reroute ─────▶ the alerts of a channel removed from the config are queued again
                   for the default channels (marked so), never dropped

The one window in which a crash can repeat an alert: after Apprise has handed a
message to a service and before the following SQLite commit records it (a few
milliseconds per URL). Everything else is at-least-once without repeats.

This module is the pure side — :func:`plan`, :func:`digest_window_end`,
:func:`url_hash`; the tables live behind the storage protocol
(:class:`notifier.storage.OutboxStore`, in SQLite :mod:`notifier.storage.outbox`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from notifier.model import Channel, Held, QueuedAlert


@dataclass(frozen=True, slots=True)
class Unit:
    """Alerts that go out as one message; ``reason`` is set when they form a digest."""

    alerts: tuple[QueuedAlert, ...]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """What to send now, and what to hold (alert id → why)."""

    units: tuple[Unit, ...] = ()
    hold: dict[int, Held] = field(default_factory=dict)


def digest_window_end(created: datetime, window: timedelta, zone: ZoneInfo) -> datetime:
    """The end of the digest window ``created`` falls in.

    Windows are aligned on local midnight in ``zone`` (so ``1h`` windows end
    on the hour and ``1d`` windows at midnight); windows longer than a day
    are aligned on the Unix epoch.
    """
    step = window.total_seconds()
    if window <= timedelta(days=1):
        local = created.astimezone(zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = (local - midnight).total_seconds()
        end = midnight + timedelta(seconds=(elapsed // step + 1) * step)
        return end.astimezone(UTC)
    epoch = created.timestamp()
    return datetime.fromtimestamp((epoch // step + 1) * step, UTC)


def plan(
    queued: Sequence[QueuedAlert],
    channel: Channel,
    now: datetime,
    zone: ZoneInfo,
    recent: int,
) -> Plan:
    """Decide which queued alerts of ``channel`` go now, and how they are folded.

    * An alert waits until its ``not_before`` (the end of its watch's digest
      window); then all alerts of that window go as one message.
    * During the channel's quiet hours only ``critical`` alerts go; the others
      are held, and go as one digest when the quiet hours end.
    * With a rate limit of N per period and ``recent`` messages composed in
      the last period, at most N − recent messages go now; when there are more,
      the last slot carries a digest of the rest, and with no slot left
      everything is held until one frees up.
    Nothing is ever dropped. Alerts keep the order they were queued in.
    """
    hold: dict[int, Held] = {}
    ready: list[QueuedAlert] = []
    quiet = channel.quiet_hours is not None and channel.quiet_hours.contains(
        now.astimezone(zone).time()
    )
    for alert in sorted(queued, key=lambda a: (a.created, a.id)):
        if alert.not_before > now:
            hold[alert.id] = Held.DIGEST
        elif quiet and alert.severity != "critical":
            hold[alert.id] = Held.QUIET
        else:
            ready.append(alert)

    units: list[Unit] = []
    groups: dict[str, list[QueuedAlert]] = {}
    held_before: list[QueuedAlert] = []
    for alert in ready:
        if alert.group is not None:
            groups.setdefault(alert.group, []).append(alert)
        elif alert.held is not None:
            held_before.append(alert)
        else:
            units.append(Unit((alert,)))
    for group, members in groups.items():
        reason = None if len(members) == 1 else f"digest of {group}"
        units.append(Unit(tuple(members), reason))
    if held_before:
        why = {a.held for a in held_before}
        text = " and ".join(sorted(str(w) for w in why if w)) or "hold"
        units.append(Unit(tuple(held_before), None if len(held_before) == 1 else f"held: {text}"))
    units.sort(key=lambda u: (u.alerts[0].created, u.alerts[0].id))

    if channel.rate_limit is not None:
        capacity = channel.rate_limit.count - recent
        limit_text = f"rate limit {channel.rate_limit}"
        if capacity <= 0:
            for unit in units:
                for alert in unit.alerts:
                    hold[alert.id] = Held.RATE
            return Plan((), hold)
        if len(units) > capacity:
            keep, rest = units[: capacity - 1], units[capacity - 1 :]
            folded = tuple(a for u in rest for a in u.alerts)
            units = [*keep, Unit(folded, f"held: {limit_text}")]
    return Plan(tuple(units), hold)


def url_hash(url: str) -> str:
    """A stable id for a channel URL that does not reveal it (URLs hold secrets)."""
    return hashlib.sha256(url.encode()).hexdigest()[:24]
