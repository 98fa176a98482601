"""The durable outbox: alerts are stored before any send is tried, and never lost.

::

    enqueue ─────▶ alerts        one row per (alert, channel); the key is unique, so
                                 queueing the same alert twice does nothing
    decide() ────▶ which queued alerts go now, and folded how: a watch's digest
                   window, a mute (``notifier mute``), quiet hours and a rate limit
                   *hold* alerts (they wait, then go out folded into one digest),
                   they never drop them
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
    fallback() ──▶ a channel whose every URL has been failing for ``fallback_after``
                   also hands its pending and new alerts to its ``fallback`` channels
                   (marked "via fallback"); it stops when a send to it succeeds

The one window in which a crash can repeat an alert: after Apprise has handed a
message to a service and before the following SQLite commit records it (a few
milliseconds per URL). Everything else is at-least-once without repeats.

This module is the pure side — :func:`decide` (and its stages), :func:`digest_window_end`,
:func:`url_hash`; the tables live behind the storage protocol
(:class:`notifier.storage.OutboxStore`, in SQLite :mod:`notifier.storage.outbox`).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from notifier.ack import short_id
from notifier.backoff import backoff
from notifier.delivery.kinds import proposal_context
from notifier.delivery.messages import entry_context, health_context, story_context
from notifier.model import (
    Channel,
    Config,
    DailyDigest,
    DeliveryPolicy,
    Held,
    Match,
    Mute,
    NewAlert,
    Proposal,
    QueuedAlert,
    Severity,
    StoryNote,
    Watch,
    highest_severity,
)
from notifier.sources.health import HealthEvent


@dataclass(frozen=True, slots=True)
class Unit:
    """Alerts that go out as one message; ``reason`` is set when they form a digest."""

    alerts: tuple[QueuedAlert, ...]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What to send now, and what to hold (alert id → why)."""

    units: tuple[Unit, ...] = ()
    hold: dict[int, Held] = field(default_factory=dict)


def digest_window_end(
    created: datetime, window: timedelta | DailyDigest, zone: ZoneInfo
) -> datetime:
    """The end of the digest window ``created`` falls in.

    A :class:`DailyDigest` ends at the next of its local times of day
    (:func:`next_time_of_day`). Duration windows are aligned on local midnight
    in ``zone`` (so ``1h`` windows end on the hour and ``1d`` windows at
    midnight); windows longer than a day are aligned on the Unix epoch.
    Boundaries are local wall-clock times; where a daylight-saving change
    repeats an hour, the end is the first boundary after ``created`` in real
    time, so it is never before ``created`` and at most one window (plus the
    hour repeated) after it.
    """
    if isinstance(window, DailyDigest):
        return next_time_of_day(created, window.at, zone)
    step = window.total_seconds()
    if window <= timedelta(days=1):
        wall = created.astimezone(zone).replace(tzinfo=None)
        midnight = datetime.combine(wall.date(), time(0))
        k = (wall - midnight).total_seconds() // step + 1
        while True:
            boundary = min(midnight + timedelta(seconds=k * step), midnight + timedelta(days=1))
            later = [
                moment
                for fold in (0, 1)
                if (moment := boundary.replace(tzinfo=zone, fold=fold).astimezone(UTC)) > created
            ]
            if later:
                return min(later)
            k += 1
    epoch = created.timestamp()
    return datetime.fromtimestamp((epoch // step + 1) * step, UTC)


def next_time_of_day(created: datetime, at: Sequence[time], zone: ZoneInfo) -> datetime:
    """The first moment strictly after ``created`` whose local time in ``zone`` is one of ``at``.

    Daylight saving is handled as a wall clock would: a time the change skips
    (02:30 on a spring-forward night) falls on the first valid time after it
    (03:00), and a time the change repeats (01:30 on a fall-back night) counts
    once, at its first occurrence — so a daily digest goes once a day per time.
    """
    if not at:
        raise ValueError("no time of day given")
    day = created.astimezone(zone).date()
    for offset in range(3):  # today's times may all have passed; tomorrow's cannot
        moments = [
            moment
            for t in at
            if (moment := _wall_clock(datetime.combine(day + timedelta(days=offset), t), zone))
            > created
        ]
        if moments:
            return min(moments)
    raise AssertionError("unreachable: a day later every time of day is ahead")


def _wall_clock(naive: datetime, zone: ZoneInfo) -> datetime:
    """The UTC moment of the local time ``naive``: its first occurrence when it is
    repeated, the first valid minute after it when daylight saving skips it."""
    if not _exists(naive, zone):
        minute = naive.replace(second=0, microsecond=0)
        naive = next(
            later
            for k in range(1, 24 * 60)
            if _exists(later := minute + timedelta(minutes=k), zone)
        )
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


# --------------------------------------------------------------------------- route


def admitted(channels: Iterable[str], severity: str, config: Config) -> tuple[str, ...]:
    """The channels of ``channels`` whose ``min_severity`` lets an alert of ``severity``
    through, in order and once each: the one severity filter of every route (matches,
    health, proposals, reminders). An alert no channel admits goes nowhere; the callers
    count it as *filtered* and log it. A name the config does not know is kept (the
    sender reroutes alerts of removed channels)."""
    known = config.channels
    return tuple(
        name
        for name in dict.fromkeys(channels)
        if name not in known or known[name].admits(severity)
    )


def filtered_entries(matches: Sequence[Match], config: Config) -> list[tuple[str, str]]:
    """The (feed, key) of the entries :func:`route_matches` sends nowhere because every
    channel of their watches wants a higher severity (``channels.X.min_severity``)."""
    watches = {w.name: w for w in config.watches}
    by_entry: dict[tuple[str, str], list[Match]] = {}
    for m in matches:
        if m.watch in watches:
            by_entry.setdefault((m.entry.feed, m.entry.key), []).append(m)
    out = []
    for entry, found in by_entry.items():
        severity = highest_severity(watches[m.watch].severity for m in found)
        names = [c for m in found for c in watches[m.watch].channels]
        if names and not admitted(names, severity, config):
            out.append(entry)
    return out


def route_matches(
    matches: Sequence[Match],
    config: Config,
    now: datetime,
    notes: Mapping[tuple[str, str], StoryNote] | None = None,
) -> list[NewAlert]:
    """One alert per (entry, channel): an entry that several watches matched makes one
    message per channel, listing the watches routed to that channel, each with its why.

    * Channels: the union of the matched watches' channels, less those whose
      ``min_severity`` is above the alert's (:func:`admitted`).
    * Severity: the highest of the matched watches'.
    * Timing: the alert goes at once when any of the channel's watches is
      immediate; when all of them are digest watches, it waits for the shortest
      window's end and is folded with that watch's digest.
    * ``notes`` (by feed and entry key) say what the story stage found: a
      story update, an edit (its alert key names the revision, so each
      revision alerts once) or a replay; the context gets ``change``,
      ``story`` (id, sources, first seen), ``change_reason`` and ``diff``.
    * The matches come from one poll. Its feed's ``max_alerts`` limits the
      entries that alert one by one: the entries beyond it (in feed order) are
      folded into one digest per channel, so a feed that suddenly serves
      thousands of new entries sends one message listing them, not thousands.
    """
    watches = {w.name: w for w in config.watches}
    order = {w.name: i for i, w in enumerate(config.watches)}
    titles = {f.name: f.title for f in config.feeds}
    caps = {f.name: f.max_alerts for f in config.feeds}
    by_entry: dict[tuple[str, str], list[Match]] = {}
    for m in matches:
        if m.watch in watches:
            by_entry.setdefault((m.entry.feed, m.entry.key), []).append(m)
    alerts = []
    for rank, ((feed, key), found) in enumerate(by_entry.items()):
        found.sort(key=lambda m: order[m.watch])
        severity = highest_severity(watches[m.watch].severity for m in found)
        cap = caps.get(feed)
        channels: dict[str, list[Match]] = {}
        for m in found:
            for channel in admitted(watches[m.watch].channels, severity, config):
                channels.setdefault(channel, []).append(m)
        for channel, routed in channels.items():
            context = entry_context(routed, [watches[m.watch] for m in routed], titles.get(feed))
            context["severity"] = severity  # of every watch that matched, routed here or not
            note = notes.get((feed, key)) if notes else None
            alert_key = f"match:{feed}:{key}"
            if note is not None:
                context.update(story_context(note))
                if note.change == "edit":
                    alert_key = f"edit:{feed}:{key}:{note.revision}"
                elif note.change == "replay":
                    alert_key = f"replay:{feed}:{key}"
            if config.ack.eligible(severity):
                context["ack_id"] = short_id(alert_key)
            group, not_before = None, None
            if all(watches[m.watch].digest for m in routed):
                group, not_before = _digest_slot(
                    [watches[m.watch] for m in routed], now, config.timezone
                )
            if group is None and cap is not None and rank >= cap:
                group = f"feed {feed}: more than {cap} new matches in one poll"
            alerts.append(
                NewAlert(
                    key=alert_key,
                    channel=channel,
                    kind="match",
                    severity=severity,
                    context=context,
                    group=group,
                    not_before=not_before,
                )
            )
    return alerts


def _digest_slot(routed: Sequence[Watch], now: datetime, zone: ZoneInfo) -> tuple[str, datetime]:
    """The digest group an alert of these digest watches joins, and when it goes: the
    shortest duration window's (the first such watch's), or a fixed-time digest's when
    it ends sooner. A fixed-time group says so: "watch tariffs, daily at 08:00"."""
    durations = [(w.digest, w) for w in routed if isinstance(w.digest, timedelta)]
    candidates = [min(durations, key=lambda d: d[0])[1]] if durations else []
    candidates += [w for w in routed if isinstance(w.digest, DailyDigest)]
    ends = {w.name: digest_window_end(now, w.digest, zone) for w in candidates if w.digest}
    soonest = min(candidates, key=lambda w: ends[w.name])
    if isinstance(soonest.digest, DailyDigest):
        return f"watch {soonest.name}, {soonest.digest.describe()}", ends[soonest.name]
    return f"watch {soonest.name}", ends[soonest.name]


def route_health(event: HealthEvent, config: Config) -> list[NewAlert]:
    """A feed health notice goes to the default channels that admit its severity."""
    severity: Severity = "high" if event.kind == "unhealthy" else "normal"
    key = f"health:{event.feed}:{event.kind}:{event.at.isoformat()}"
    context = health_context(event)
    if config.ack.eligible(severity):
        context["ack_id"] = short_id(key)
    return [
        NewAlert(key=key, channel=channel, kind="health", severity=severity, context=context)
        for channel in admitted(config.default_channels, severity, config)
    ]


def route_proposals(
    proposals: Sequence[Proposal], config: Config, command: str = "notifier"
) -> list[NewAlert]:
    """Announce each new proposal once per channel: a new deadline to the channels of the
    watches that found it, a possible move or change to the tracked deadline's.

    Severity: the watches' highest (a move or change: the deadline's). ``command``
    starts the commands the alert shows (``notifier --config PATH`` when the daemon
    runs on another file than the default)."""
    watches = {w.name: w for w in config.watches}
    deadlines = {d.name: d for d in config.deadlines}
    alerts = []
    for p in proposals:
        tracked = deadlines.get(p.deadline) if p.deadline else None
        found = [watches[w] for w in p.watches if w in watches]
        if tracked is not None:
            channels = tracked.channels
            severity = tracked.severity
        else:
            channels = tuple(dict.fromkeys(c for w in found for c in w.channels))
            severity = highest_severity(w.severity for w in found) if found else "normal"
        context = proposal_context(
            p, severity, accept=f"{command} accept {p.id}", dismiss=f"{command} dismiss {p.id}"
        )
        alerts += [
            NewAlert(
                key=f"proposal:{p.id}",
                channel=channel,
                kind="proposal",
                severity=severity,
                context=context,
            )
            for channel in admitted(channels or config.default_channels, severity, config)
        ]
    return alerts


# --------------------------------------------------------------------------- the stages
# Route → window (digests) → silence (mutes) → mute (quiet hours) → group → rate limit;
# then send and retry (:func:`after_send`). Each stage is a pure function of what it
# is given.


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an alert comes from, as mutes see it: its feed (a match, an edit, a feed
    health notice) and the watches in its context (a match routed for several)."""

    feed: str | None = None
    watches: tuple[str, ...] = ()


def origin(context: Mapping[str, object]) -> Origin:
    """The :class:`Origin` read from an alert's stored context (reminders, dead letters
    and the like have neither a feed nor watches: only a channel mute holds them)."""
    feed = context.get("feed")
    listed = context.get("watches")
    watches: tuple[str, ...] = ()
    if isinstance(listed, list):
        watches = tuple(str(w["watch"]) for w in listed if isinstance(w, dict) and "watch" in w)
    elif isinstance(context.get("watch"), str):
        watches = (str(context["watch"]),)
    return Origin(feed if isinstance(feed, str) else None, watches)


def mute_target(
    text: str, config: Config, also: Sequence[tuple[str, str]] = ()
) -> tuple[str, str] | str:
    """``(kind, name)`` of a mute target named ``kind:name`` or by a bare name that one
    watch, feed or channel of ``config`` (or of ``also``: the active mutes) has; else
    the one line saying why not (``notifier mute`` and the web UI's ``/api/mute``)."""
    known = {("watch", w.name) for w in config.watches}
    known |= {("feed", f.name) for f in config.feeds}
    known |= {("channel", c) for c in config.channels}
    known |= set(also)
    kind, sep, name = text.partition(":")
    if sep and kind in {"watch", "feed", "channel"}:
        if (kind, name) in known:
            return kind, name
        return f"no {kind} named {name!r} in the config"
    found = sorted(k for k, n in known if n == text)
    if len(found) == 1:
        return found[0], text
    if not found:
        return f"no watch, feed or channel named {text!r} in the config"
    kinds = " or ".join(f"{k}:{text}" for k in found)
    return f"{text!r} names a {' and a '.join(found)}: say {kinds}"


def muted_by(alert_origin: Origin | None, channel: str, mutes: Sequence[Mute]) -> Mute | None:
    """The mute that holds an alert of ``channel`` from ``alert_origin``, or None.

    * a mute of the channel holds every alert of it;
    * a mute of the feed holds the feed's alerts (its matches, edits and health notices);
    * a mute of a watch holds a match only when **every** watch in the alert's context
      is muted: an alert is one per entry per channel (:func:`route_matches`), so an
      entry that an unmuted watch also matched still goes, listing the muted watch too.

    Severity does not matter: a mute holds ``critical`` alerts too, because the user
    asked for silence; nothing is dropped, and they all arrive when the mute ends."""
    by_target = {(m.kind, m.name): m for m in mutes}
    found = by_target.get(("channel", channel))
    if found is not None or alert_origin is None:
        return found
    if alert_origin.feed is not None and ("feed", alert_origin.feed) in by_target:
        return by_target[("feed", alert_origin.feed)]
    if alert_origin.watches and all(("watch", w) in by_target for w in alert_origin.watches):
        return by_target[("watch", alert_origin.watches[0])]
    return None


def silence(
    alerts: Sequence[QueuedAlert],
    channel: str,
    mutes: Sequence[Mute],
    origins: Mapping[int, Origin] | None = None,
) -> tuple[list[QueuedAlert], list[int]]:
    """Alerts no active mute holds, and the ids of the held ones (see :func:`muted_by`);
    ``origins`` (alert id → :class:`Origin`) is needed only for watch and feed mutes."""
    if not mutes:
        return list(alerts), []
    going: list[QueuedAlert] = []
    held: list[int] = []
    for alert in alerts:
        found = muted_by((origins or {}).get(alert.id), channel, mutes)
        if found is None:
            going.append(alert)
        else:
            held.append(alert.id)
    return going, held


def muted_reason(alerts: Sequence[QueuedAlert]) -> str:
    """The reason of the digest of alerts a mute held: "while muted: 3 stories" (matches
    only), else "while muted: 3 alerts"."""
    n = len(alerts)
    if all(a.kind == "match" for a in alerts):
        return f"while muted: {n} {'story' if n == 1 else 'stories'}"
    return f"while muted: {n} {'alert' if n == 1 else 'alerts'}"


def window(queued: Sequence[QueuedAlert], now: datetime) -> tuple[list[QueuedAlert], list[int]]:
    """Alerts whose digest window has ended (oldest first), and the ids still waiting."""
    ready: list[QueuedAlert] = []
    waiting: list[int] = []
    for alert in sorted(queued, key=lambda a: (a.created, a.id)):
        if alert.not_before > now:
            waiting.append(alert.id)
        else:
            ready.append(alert)
    return ready, waiting


def mute(
    alerts: Sequence[QueuedAlert], channel: Channel, now: datetime, zone: ZoneInfo
) -> tuple[list[QueuedAlert], list[int]]:
    """During the channel's quiet hours only ``critical`` alerts go; the ids of the rest."""
    quiet = channel.quiet_hours is not None and channel.quiet_hours.contains(
        now.astimezone(zone).time()
    )
    if not quiet:
        return list(alerts), []
    going = [a for a in alerts if a.severity == "critical"]
    return going, [a.id for a in alerts if a.severity != "critical"]


def group(alerts: Sequence[QueuedAlert]) -> list[Unit]:
    """Fold alerts into messages: one per alert, one per digest group, one for the
    alerts a mute held (always a digest: "while muted: N stories", even for one), and
    one for the alerts that were held before (quiet hours, rate limit) — in queue order."""
    units: list[Unit] = []
    groups: dict[str, list[QueuedAlert]] = {}
    held_before: list[QueuedAlert] = []
    was_muted: list[QueuedAlert] = []
    for alert in alerts:
        if alert.held == Held.MUTED:
            was_muted.append(alert)
        elif alert.group is not None:
            groups.setdefault(alert.group, []).append(alert)
        elif alert.held is not None:
            held_before.append(alert)
        else:
            units.append(Unit((alert,)))
    for name, members in groups.items():
        reason = None if len(members) == 1 else f"digest of {name}"
        units.append(Unit(tuple(members), reason))
    if held_before:
        why = {a.held for a in held_before}
        text = " and ".join(sorted(str(w) for w in why if w)) or "hold"
        units.append(Unit(tuple(held_before), None if len(held_before) == 1 else f"held: {text}"))
    if was_muted:
        units.append(Unit(tuple(was_muted), muted_reason(was_muted)))
    units.sort(key=lambda u: (u.alerts[0].created, u.alerts[0].id))
    return units


def limit(units: Sequence[Unit], channel: Channel, recent: int) -> tuple[list[Unit], list[int]]:
    """Apply the channel's rate limit, given ``recent`` messages composed in its period:
    at most N − recent messages go; when there are more, the last slot carries a
    digest of the rest, and with no slot left every alert is held (their ids)."""
    if channel.rate_limit is None:
        return list(units), []
    capacity = channel.rate_limit.count - recent
    if capacity <= 0:
        return [], [a.id for u in units for a in u.alerts]
    if len(units) <= capacity:
        return list(units), []
    keep, rest = units[: capacity - 1], units[capacity - 1 :]
    folded = tuple(a for u in rest for a in u.alerts)
    return [*keep, Unit(folded, f"held: rate limit {channel.rate_limit}")], []


def decide(
    queued: Sequence[QueuedAlert],
    channel: Channel,
    now: datetime,
    zone: ZoneInfo,
    recent: int,
    *,
    mutes: Sequence[Mute] = (),
    origins: Mapping[int, Origin] | None = None,
) -> Decision:
    """Decide which queued alerts of ``channel`` go now, and how they are folded:
    :func:`window`, then :func:`silence`, :func:`mute`, :func:`group` and :func:`limit`.

    * An alert waits until its ``not_before`` (the end of its watch's digest
      window); then all alerts of that window go as one message.
    * While one of the active ``mutes`` holds an alert (its channel, its feed, or
      every one of its watches: :func:`muted_by`; ``origins`` by alert id), it is
      held, whatever its severity; when the mute ends, the alerts it held go as one
      digest per channel, "while muted: N stories".
    * During the channel's quiet hours only ``critical`` alerts go; the others
      are held, and go as one digest when the quiet hours end.
    * With a rate limit of N per period and ``recent`` messages composed in
      the last period, at most N − recent messages go now; when there are more,
      the last slot carries a digest of the rest, and with no slot left
      everything is held until one frees up.
    Nothing is ever dropped. Alerts keep the order they were queued in.
    """
    ready, waiting = window(queued, now)
    unmuted, silenced = silence(ready, channel.name, mutes, origins)
    going, muted = mute(unmuted, channel, now, zone)
    units, limited = limit(group(going), channel, recent)
    hold = dict.fromkeys(waiting, Held.DIGEST)
    hold.update(dict.fromkeys(silenced, Held.MUTED))
    hold.update(dict.fromkeys(muted, Held.QUIET))
    hold.update(dict.fromkeys(limited, Held.RATE))
    return Decision(tuple(units), hold)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What becomes of a message after an attempt: ``sent``, ``retrying`` (at
    ``retry_at``) or ``dead``."""

    status: str
    retry_at: datetime | None = None


def after_send(
    errors: Sequence[str],
    attempt: int,
    composed: datetime,
    now: datetime,
    *,
    policy: DeliveryPolicy,
    rand: float,
) -> Outcome:
    """The retry stage: no error → sent; failing past ``policy.max_age`` since it was
    composed → dead; else retry after an exponential backoff with jitter."""
    if not errors:
        return Outcome("sent")
    if now - composed >= policy.max_age:
        return Outcome("dead")
    return Outcome("retrying", now + backoff(attempt, policy.min_retry, policy.max_retry, rand))


class FallbackReason(StrEnum):
    """Why a channel's alerts do or do not also go to its fallback channels."""

    NONE = "no fallback configured"
    HEALTHY = "not failing"
    WAITING = "failing, not for long enough yet"
    FAILING = "failing for fallback_after"


@dataclass(frozen=True, slots=True)
class Fallback:
    """The fallback stage's decision for one channel: whether its alerts also go to
    ``to`` now (``active``), why, and ``starts`` — when it will if the channel keeps
    failing (a time to look again)."""

    reason: FallbackReason
    to: tuple[str, ...] = ()
    since: datetime | None = None
    starts: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the channel's alerts also go to its fallback channels now."""
        return self.reason is FallbackReason.FAILING

    def note(self, channel: str) -> dict[str, str]:
        """The context note a copy carries: ``via_fallback`` = {channel, since (ISO)}."""
        assert self.since is not None  # noqa: S101 - only asked of an active fallback
        return {"channel": channel, "since": self.since.astimezone(UTC).isoformat()}


def fallback(channel: Channel, failing_since: datetime | None, now: datetime) -> Fallback:
    """The fallback stage: ``failing_since`` is when every URL of ``channel`` started
    failing with no success since (None: it is not failing; see
    :meth:`notifier.storage.OutboxStore.failing_since`). Failing for at least
    ``channel.fallback_after`` → its alerts also go to ``channel.fallback``."""
    if not channel.fallback:
        return Fallback(FallbackReason.NONE)
    if failing_since is None:
        return Fallback(FallbackReason.HEALTHY)
    starts = failing_since + channel.fallback_after
    reason = FallbackReason.FAILING if now >= starts else FallbackReason.WAITING
    return Fallback(reason, channel.fallback, failing_since, starts)


def fallback_note(context: Mapping[str, object], zone: ZoneInfo) -> str | None:
    """The line a copy sent via fallback ends with, or None for an alert of its own."""
    via = context.get("via_fallback")
    if not isinstance(via, Mapping) or not via.get("channel"):
        return None
    since = ""
    with contextlib.suppress(TypeError, ValueError):
        when = datetime.fromisoformat(str(via.get("since"))).astimezone(zone)
        since = f" since {when:%Y-%m-%d %H:%M %Z}"
    return f"Via fallback: channel {via['channel']} failing{since}."


def escalation_note(context: Mapping[str, object]) -> str | None:
    """The line an escalation ends with, or None for an alert that is not one."""
    marked = context.get("escalated")
    if not isinstance(marked, Mapping) or not marked.get("after"):
        return None
    return f"Escalated (not acknowledged after {marked['after']})."


def url_hash(url: str) -> str:
    """A stable id for a channel URL that does not reveal it (URLs hold secrets)."""
    return hashlib.sha256(url.encode()).hexdigest()[:24]
