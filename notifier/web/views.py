"""What each page shows, read from the state and the config: plain values, for the
HTML templates and the JSON API alike (``docs/web-api.md`` documents them).

::

    config() ─┐
    Store (read-only) ─┼─▶ overview · deadlines · stories · story · feeds · proposals ─▶ dict
    now ───────┘                                   (datetimes kept: JSON writes ISO 8601,
                                                    the templates write when + relative)

Feed text is cleaned here, once, for every reader of it: one line, no control or
bidi-override characters (:func:`notifier.delivery.safety.clip`), capped; links are
kept only when they are http(s) (:func:`notifier.delivery.safety.linkable`), so no
``javascript:`` link reaches a page or the API. Escaping is the templates' (Jinja's
autoescape) and the JSON encoder's. Channel URLs are masked as ``notifier check``
masks them; feed URLs lose their passwords and secret-looking query values.

Each function is a handful of indexed reads (see :mod:`notifier.storage`), bounded by
a ``limit`` or a period; time is a parameter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from notifier.deadlines.planning import (
    RecurrenceTooDense,
    Reminder,
    next_reminder,
    occurrences,
    offsets,
    plan,
    shift,
)
from notifier.delivery import apprise as apprise_channels
from notifier.delivery.safety import (
    DETAIL_MAX,
    HEADLINE_MAX,
    PHRASE_MAX,
    clean_text,
    clip,
    linkable,
)
from notifier.delivery.stages import fallback
from notifier.durations import format_duration
from notifier.model import Channel, ChannelStatus, Config, Deadline, Proposal, Story, TimeWindow
from notifier.storage import State
from notifier.text import mask_feed_url

#: The overview's timeline: deadlines due this far ahead and back.
AHEAD: Final = timedelta(days=90)
BACK: Final = timedelta(days=14)
#: Occurrences of one recurring deadline shown (on the timeline and its plan).
OCCURRENCES: Final = 5
#: Days the feeds page counts (and draws) entries and matches over.
ACTIVITY_DAYS: Final = 7
#: Stories on the overview, and the period they come from.
OVERVIEW_STORIES: Final = 10
OVERVIEW_PERIOD: Final = timedelta(days=7)
#: Longest summary of one source on a story's page.
SOURCE_SUMMARY_MAX: Final = 600
#: Longest word diff of an edit shown.
DIFF_MAX: Final = 2000
#: How far ahead a recurring deadline's next occurrence is looked for.
_NEXT_WITHIN: Final = timedelta(days=400)


def line(text: str | None, limit: int = HEADLINE_MAX) -> str:
    """Feed text as one clean line of at most ``limit`` characters."""
    return clip(text, limit)


@functools.lru_cache(maxsize=256)
def masked_channel_url(url: str) -> str:
    """A channel URL as ``notifier check`` shows it (Apprise's privacy form)."""
    return apprise_channels.mask_url(url)


def offset_label(offset: timedelta) -> str:
    """``7d before``, ``at due time``, ``1d after``: one rung of a reminder ladder."""
    if offset > timedelta(0):
        return f"{format_duration(offset)} before"
    if offset < timedelta(0):
        return f"{format_duration(-offset)} after"
    return "at due time"


def next_due(deadline: Deadline, now: datetime) -> datetime:
    """The occurrence to show: the next one of a recurring deadline, else its due time
    (as ``notifier deadlines`` shows it)."""
    if deadline.recur:
        try:
            upcoming = occurrences(deadline, now, now + _NEXT_WITHIN)
        except RecurrenceTooDense:
            return deadline.due
        if upcoming:
            return upcoming[0]
    return deadline.due


def ladder(
    deadline: Deadline, due: datetime, done: set[str], now: datetime
) -> list[dict[str, Any]]:
    """The reminders of one occurrence, earliest first, each with whether it was
    recorded (sent, or folded into a later one, or skipped) and whether its time came."""
    rungs = []
    due_utc = due.astimezone(UTC)
    for off in offsets(deadline):
        reminder = Reminder(deadline.name, due_utc, shift(due_utc, off, deadline.timezone), off)
        rungs.append(
            {
                "offset": offset_label(off),
                "at": reminder.at,
                "done": reminder.key in done,
                "come": reminder.at <= now,
            }
        )
    return rungs


def _occurrences(deadline: Deadline, start: datetime, end: datetime) -> list[datetime]:
    try:
        return occurrences(deadline, start, end)[:OCCURRENCES]
    except RecurrenceTooDense:
        return []


def _deadline_head(deadline: Deadline) -> dict[str, Any]:
    return {
        "name": deadline.name,
        "title": line(deadline.title),
        "timezone": deadline.timezone.key,
        "severity": deadline.severity,
        "channels": list(deadline.channels),
        "recur": deadline.recur,
        "link": linkable(deadline.link),
    }


def timeline(config: Config, store: State, now: datetime) -> list[dict[str, Any]]:
    """The occurrences due from :data:`BACK` ago to :data:`AHEAD`, by due time, each
    with its reminder ladder."""
    items = []
    for d in config.deadlines:
        found = _occurrences(d, now - BACK, now + AHEAD)
        if not found:
            continue
        done = store.reminders.done(d.name)
        for due in found:
            items.append(
                {
                    **_deadline_head(d),
                    "due": due,
                    "past": due < now,
                    "reminders": ladder(d, due, done, now),
                }
            )
    items.sort(key=lambda item: (item["due"], item["name"]))
    return items


def deadline_plans(config: Config, store: State, now: datetime) -> list[dict[str, Any]]:
    """Every deadline, by its next (or only) due time: its ladder, next reminder, next
    occurrences, its moves (newest first), and the earlier due time the state still
    tracks if it moved and the daemon has not yet noticed."""
    rows = []
    for d in config.deadlines:
        due = next_due(d, now)
        done = store.reminders.done(d.name)
        try:
            upcoming = next_reminder(plan(d, now=now), now)
        except RecurrenceTooDense:
            upcoming = None
        tracked = store.reminders.tracked(d.name)
        previous: datetime | None = None
        if tracked is not None:
            known = datetime.fromisoformat(tracked[0].split(" ", 1)[0])
            if known != d.due or (d.recur or None) != _rule(tracked[0]):
                previous = known
        rows.append(
            {
                **_deadline_head(d),
                "due": due,
                "past": due < now,
                "notes": clean_text(d.notes or "", lines=True)[: DETAIL_MAX * 4] or None,
                "reminders": ladder(d, due, done, now),
                "next_reminder": None
                if upcoming is None
                else {"at": upcoming.at, "offset": offset_label(upcoming.offset)},
                "occurrences": _occurrences(d, now, now + _NEXT_WITHIN) if d.recur else [],
                "tracked_since": tracked[1] if tracked is not None else None,
                "previous_due": previous,
                "moves": [
                    {"from": old, "to": new, "at": at}
                    for old, new, at in store.reminders.moves(d.name)
                ],
            }
        )
    rows.sort(key=lambda row: (row["due"], row["name"]))
    return rows


def _rule(identity: str) -> str | None:
    """The rule part of a tracked identity (``<due> <rule>``), or None."""
    _, _, rule = identity.partition(" ")
    return rule or None


# --------------------------------------------------------------------------- stories


def _watches(story: Story) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for m in story.matches:
        seen.setdefault(m.watch, {"watch": m.watch, "why": line(m.why, DETAIL_MAX), "kind": m.kind})
    return list(seen.values())


def story_row(story: Story) -> dict[str, Any]:
    """A story in a list: title, when, feeds, watches with why, "+N sources", its link."""
    return {
        "id": story.id,
        "title": line(story.title) or "(no title)",
        "first_seen": story.first_seen,
        "last_seen": story.last_seen,
        "sources": len(story.entries),
        "more_sources": len(story.entries) - 1,
        "feeds": list(story.feeds),
        "watches": _watches(story),
        "edits": len(story.edits),
        "link": next((ok for e in story.entries if (ok := linkable(e.link))), None),
        "summary": line(story.entries[0].summary, SOURCE_SUMMARY_MAX) if story.entries else "",
    }


def story_detail(story: Story, proposals: Sequence[Proposal], command: str) -> dict[str, Any]:
    """One story: its row, every source, the diffs of its edits, and the deadline
    proposals whose sources include one of its entries."""
    titles = {e.id: line(e.title) for e in story.entries}
    keys = {(e.feed, e.key) for e in story.entries}
    return {
        **story_row(story),
        "entries": [
            {
                "id": e.id,
                "feed": e.feed,
                "title": line(e.title) or "(no title)",
                "summary": line(e.summary, SOURCE_SUMMARY_MAX),
                "link": linkable(e.link),
                "published": e.published,
                "seen": e.seen,
                "changed": e.changed,
            }
            for e in story.entries
        ],
        "matches": [
            {"watch": m.watch, "why": line(m.why, DETAIL_MAX), "kind": m.kind, "at": m.at}
            for m in story.matches
        ],
        "edit_list": [
            {
                "entry": d.entry,
                "entry_title": titles.get(d.entry, ""),
                "at": d.at,
                "old_title": line(d.old_title),
                "diff": clean_text(d.diff)[:DIFF_MAX],
                "alerted": d.alerted,
            }
            for d in story.edits
        ],
        "proposals": [
            proposal_row(p, command)
            for p in proposals
            if any((s.feed, s.key) in keys for s in p.sources)
        ],
    }


# --------------------------------------------------------------------------- feeds


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


Activity = Callable[[Sequence[datetime]], Mapping[str, Sequence[tuple[int, int]]]]


def activity_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, ...]:
    """The midnights (in ``zone``) that bound the last :data:`ACTIVITY_DAYS` days, today
    included: what :meth:`~notifier.storage.HistoryStore.feed_activity` is asked for."""
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=n) for n in range(ACTIVITY_DAYS - 1, -1, -1)]
    return (*(_midnight(d, zone) for d in days), _midnight(today + timedelta(days=1), zone))


def feed_rows(
    config: Config,
    store: State,
    now: datetime,
    *,
    failing_only: bool = False,
    activity: Activity | None = None,
) -> list[dict[str, Any]]:
    """Per feed (the config's, then any the state still remembers): health, polls,
    backoff, last error, and its entries and matches a day over :data:`ACTIVITY_DAYS`
    (not read with ``failing_only``: the overview lists only the failing feeds).
    ``activity``: where the counts come from (default: the store; the app caches them)."""
    bounds = activity_bounds(now, config.timezone)
    days = [b.date() for b in bounds[:-1]]
    read = activity if activity is not None else store.history.feed_activity
    counts = {} if failing_only else read(bounds)
    quiet = [(0, 0)] * ACTIVITY_DAYS
    states = {s.name: s for s in store.feed_states()}
    configured = {f.name: f for f in config.feeds}
    rows = []
    for name in [*configured, *(n for n in states if n not in configured)]:
        feed, state = configured.get(name), states.get(name)
        if failing_only and (state is None or not state.failures or feed is None):
            continue
        per_day = counts.get(name, quiet)
        entries = [seen for seen, _ in per_day]
        matches = [matched for _, matched in per_day]
        if feed is None:
            health = "removed"
        elif not feed.enabled:
            health = "disabled"
        elif state is None or state.last_polled is None:
            health = "never polled"
        elif state.unhealthy:
            health = "unhealthy"
        elif state.failures:
            health = "failing"
        else:
            health = "ok"
        url = feed.url if feed is not None else (state.url if state is not None else "")
        rows.append(
            {
                "name": name,
                "title": line(feed.title) if feed is not None and feed.title else None,
                "url": mask_feed_url(url),
                "health": health,
                "failing": health in ("failing", "unhealthy"),
                "interval": _duration(feed.interval) if feed is not None else None,
                "last_polled": state.last_polled if state else None,
                "last_ok": state.last_ok if state else None,
                "next_poll": state.next_poll if state else None,
                "failures": state.failures if state else 0,
                "backoff": _backoff(state.next_poll, state.last_polled, feed.interval)
                if state is not None and feed is not None and state.failures
                else None,
                "last_error": line(state.last_error, DETAIL_MAX)
                if state and state.last_error
                else None,
                "entries_7d": sum(entries),
                "matches_7d": sum(matches),
                "days": [d.isoformat() for d in days],
                "entries_per_day": entries,
                "matches_per_day": matches,
            }
        )
    return rows


@functools.lru_cache(maxsize=256)
def _duration(delta: timedelta) -> str:
    return format_duration(delta)


def _backoff(
    next_poll: datetime | None, last_polled: datetime | None, interval: timedelta
) -> str | None:
    """How long a failing feed waits between polls now, when longer than its interval."""
    if next_poll is None or last_polled is None:
        return None
    wait = next_poll - last_polled
    return format_duration(wait) if wait > interval else None


# --------------------------------------------------------------------------- outbox


def quiet_until(window: TimeWindow | None, zone: ZoneInfo, now: datetime) -> datetime | None:
    """When the quiet hours ``window`` (local times in ``zone``) end, if ``now`` is in
    them; else None."""
    if window is None:
        return None
    local = now.astimezone(zone)
    if not window.contains(local.time()):
        return None
    end = datetime.combine(local.date(), window.end, zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), window.end, zone)
    return end


def outbox(config: Config, store: State, now: datetime) -> dict[str, Any]:
    """Per channel: queued, held (and until when: its quiet hours' end, or the earliest
    digest window's), pending, retrying (with the last error), dead, sent; the channels'
    URLs masked; when the next held alert is released."""
    status = {c.channel: c for c in store.outbox.status()}
    names = [*config.channels, *(n for n in status if n not in config.channels)]
    channels = []
    for name in names:
        c = status.get(name)
        channel = config.channels.get(name)
        channels.append(
            {
                "name": name,
                "urls": [masked_channel_url(u) for u in channel.urls] if channel else [],
                "configured": channel is not None,
                "queued": c.queued if c else 0,
                "held": c.held if c else 0,
                "held_until": _held_until(
                    name, channel, status=c, store=store, zone=config.timezone, now=now
                ),
                "pending": c.pending if c else 0,
                "retrying": c.retrying if c else 0,
                "dead": c.dead if c else 0,
                "sent": c.sent if c else 0,
                "last_sent": c.last_sent if c else None,
                "last_sent_title": line(c.last_sent_title) if c and c.last_sent_title else None,
                "last_error": line(c.last_error, DETAIL_MAX) if c and c.last_error else None,
                "failing_since": c.failing_since if c else None,
                "falling_back_to": _falling_back_to(channel, c, now),
            }
        )
    return {"channels": channels, "next_release": store.outbox.next_release()}


def _falling_back_to(
    channel: Channel | None, status: ChannelStatus | None, now: datetime
) -> list[str]:
    """The channels that now also get this channel's alerts (its fallback is active)."""
    if channel is None or status is None or status.failing_since is None:
        return []
    decision = fallback(channel, status.failing_since, now)
    return list(decision.to) if decision.active else []


def _held_until(
    name: str,
    channel: Channel | None,
    *,
    status: ChannelStatus | None,
    store: State,
    zone: ZoneInfo,
    now: datetime,
) -> datetime | None:
    """When the channel's waiting alerts may go: the end of its quiet hours (while they
    last), else the earliest end of a digest window; None when nothing waits (a rate
    limit's release depends on sends, and is not shown)."""
    if status is None or not (status.held or status.queued):
        return None
    quiet = quiet_until(channel.quiet_hours if channel else None, zone, now)
    release = store.outbox.next_release(name)
    if quiet is not None:
        return quiet if release is None else max(quiet, release)
    return release if release is not None and release > now else None


# --------------------------------------------------------------------------- proposals


def proposal_row(p: Proposal, command: str) -> dict[str, Any]:
    """A proposal as the page and the API show it, with the command that accepts it."""
    zone = ZoneInfo(p.timezone)
    acceptable = p.status == "open" and p.change != "change"
    return {
        "id": p.id,
        "change": p.change,
        "status": p.status,
        "kind": p.kind,
        "name": p.name,
        "title": line(p.title),
        "due": p.due.astimezone(zone),
        "all_day": p.all_day,
        "window_end": p.window_end,
        "timezone": p.timezone,
        "deadline": p.deadline,
        "old_due": p.old_due.astimezone(zone) if p.old_due else None,
        "phrase": line(p.phrase, PHRASE_MAX),
        "confidence": round(p.confidence, 3),
        "watches": list(p.watches),
        "sources": [
            {"feed": s.feed, "key": line(s.key), "title": line(s.title), "link": linkable(s.link)}
            for s in p.sources
        ],
        "accept": f"{command} accept {p.id}" if acceptable else None,
        "dismiss": f"{command} dismiss {p.id}" if p.status == "open" else None,
    }


@dataclass(frozen=True, slots=True)
class StoryQuery:
    """The stories page's filters, already bounded (see :mod:`notifier.web.app`)."""

    search: str | None = None
    watch: str | None = None
    feed: str | None = None
    since: timedelta = timedelta(days=7)
    limit: int = 50
    matched_only: bool = True


def stories(store: State, query: StoryQuery, now: datetime) -> list[Story]:
    """The stories ``query`` asks for, newest first (raises
    :class:`~notifier.errors.InvalidSearch` for a search that cannot run)."""
    return store.history.stories(
        since=now - query.since,
        watch=query.watch,
        feed=query.feed,
        search=query.search,
        matched_only=query.matched_only,
        limit=query.limit,
    )


def overview(config: Config, store: State, now: datetime) -> dict[str, Any]:
    """The overview: the timeline, the latest stories, the failing feeds, the outbox,
    how many proposals are open, and the active mutes (read-only: ``notifier mute``)."""
    latest = store.history.stories(since=now - OVERVIEW_PERIOD, limit=OVERVIEW_STORIES)
    open_proposals = store.proposals.proposals("open")
    return {
        "timeline": timeline(config, store, now),
        "stories": [story_row(s) for s in latest],
        "failing_feeds": [
            r for r in feed_rows(config, store, now, failing_only=True) if r["failing"]
        ],
        "outbox": outbox(config, store, now),
        "open_proposals": len(open_proposals),
        "mutes": [
            {
                "target": m.target,
                "kind": m.kind,
                "name": m.name,
                "until": m.until,
                "reason": m.reason,
                "who": m.who,
                "created": m.created,
            }
            for m in store.mutes.active(now)
        ],
    }
