"""Rendering poll results and verdicts for people (text) and scripts (JSON lines).

Text lines show feed text (titles, snippets, errors) as one clean line — no
control characters, so a feed cannot send escape sequences to a terminal — cut
at the lengths alerts use (:mod:`notifier.delivery.messages`). JSON lines carry the
values as they are. An entry with no published time shows its updated time,
labelled so ("updated Tue 10 Jun 2025 09:00 EDT"); JSON has both.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from notifier.delivery.messages import DETAIL_MAX, HEADLINE_MAX, LINK_MAX, SNIPPET_MAX, clip
from notifier.model import (
    ChannelStatus,
    Entry,
    FeedState,
    Match,
    Mute,
    Proposal,
    Story,
    StoryNote,
    highest_severity,
)
from notifier.text import relative, span, when

if TYPE_CHECKING:  # the callers have these loaded already; `status` needs none of them
    from notifier.delivery.stages import Fallback
    from notifier.matching import Verdict
    from notifier.pipeline.poll import PollResult
    from notifier.runtime.app import Replayed, ReplayReport
    from notifier.sources.health import HealthEvent
    from notifier.storage.cluster import WorkerRow


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "feed": entry.feed,
        "key": entry.key,
        "title": entry.title,
        "link": entry.link,
        "published": entry.published.isoformat() if entry.published else None,
        "updated": entry.updated.isoformat() if entry.updated else None,
    }


def story_json(
    matches: Sequence[Match], severity: Mapping[str, str], note: StoryNote | None
) -> str:
    """One JSON line for an entry that watches matched (``matches``: all of one entry).

    ``change`` is ``match`` (alerted: the story's first), ``update`` (alerted: a later
    source), ``edit`` (alerted: the text changed), or ``source`` (attached to a story
    already alerted: not sent); ``watch`` and ``hits`` are the first watch's, as before
    stories."""
    first = matches[0]
    return json.dumps(
        {
            "type": "story",
            "change": note.change if note else "source",
            "alerted": note is not None and note.change != "source",
            "watch": first.watch,
            "severity": highest_severity([severity.get(m.watch, "normal") for m in matches]),
            **_entry_json(first.entry),
            "hits": [{"term": h.term, "field": h.field, "snippet": h.snippet} for h in first.hits],
            "watches": [
                {
                    "watch": m.watch,
                    "severity": severity.get(m.watch, "normal"),
                    "why": m.explain(),
                    "hits": [
                        {"term": h.term, "field": h.field, "snippet": h.snippet} for h in m.hits
                    ],
                }
                for m in matches
            ],
            "story": (
                {
                    "id": note.story,
                    "sources": note.sources,
                    "first_seen": note.first_seen.isoformat() if note.first_seen else None,
                }
                if note and note.story is not None
                else None
            ),
            "reason": note.reason if note and note.reason else None,
            "diff": note.diff if note and note.diff else None,
        },
        ensure_ascii=False,
    )


def _entry_lines(
    label: str, matches: Sequence[Match], severity: Mapping[str, str], when_text: str
) -> list[str]:
    """``LABEL a, b [worst]  feed<when_text>``, the title, the link, and each watch's why."""
    entry = matches[0].entry
    worst = highest_severity([severity.get(m.watch, "normal") for m in matches])
    names = ", ".join(m.watch for m in matches)
    lines = [f"{label} {names} [{worst}]  {entry.feed}{when_text}", f"  {_title(entry)}"]
    if entry.link:
        lines.append(f"  {clip(entry.link, LINK_MAX)}")
    for m in matches:
        why = "why" if len(matches) == 1 else f"why ({m.watch})"
        for hit in m.hits:
            snippet = clip(hit.snippet, SNIPPET_MAX)
            lines.append(f'  {why}: "{hit.term}" in {hit.field}: {snippet}')
    return lines


def story_text(
    matches: Sequence[Match], severity: Mapping[str, str], note: StoryNote | None, zone: tzinfo
) -> list[str]:
    """A few readable lines for an entry that watches matched: headline, source, link,
    each watch's why, and what the story stage made of it."""
    dated = _dated(matches[0].entry, zone)
    change = note.change if note else "source"
    label = {"match": "MATCH", "update": "UPDATE", "edit": "EDITED", "replay": "REPLAY"}
    lines = _entry_lines(
        label.get(change, "SOURCE"), matches, severity, f"{'  ' + dated if dated else ''}"
    )
    if note is None or note.change == "source":
        lines.append("  story: already alerted from another source; attached, not sent")
    else:
        if note.sources > 1:
            lines.append(f"  story: +{note.sources - 1} more source(s)")
        if note.reason:
            lines.append(f"  {change}: {clip(note.reason, DETAIL_MAX)}")
        for line in note.diff.splitlines():
            lines.append(f"  {clip(line, DETAIL_MAX * 2)}")
    return lines


def event_json(event: HealthEvent) -> str:
    """One JSON line for a feed health event."""
    return json.dumps(
        {
            "type": f"feed_{event.kind}",
            "feed": event.feed,
            "failures": event.failures,
            "error": event.error,
            "at": event.at.isoformat(),
        },
        ensure_ascii=False,
    )


def _title(entry: Entry) -> str:
    return clip(entry.title, HEADLINE_MAX) or "(no title)"


def _dated(entry: Entry, zone: tzinfo) -> str:
    """When the entry was published, else ``updated …``, in ``zone``; '' when neither is known."""
    if entry.published:
        return when(entry.published, zone)
    if entry.updated:
        return f"updated {when(entry.updated, zone)}"
    return ""


def event_text(event: HealthEvent) -> str:
    """One line for a feed health event."""
    if event.kind == "unhealthy":
        return (
            f"FEED UNHEALTHY {event.feed}: {event.failures} failures in a row; "
            f"last: {clip(event.error, DETAIL_MAX)}"
        )
    return f"FEED RECOVERED {event.feed} after {event.failures} failures"


def poll_summary(results: Sequence[PollResult]) -> str:
    """``5 feeds polled: 4 ok, 1 failed; 12 new entries; 3 matches``."""
    from notifier.pipeline.poll import PollStatus  # noqa: PLC0415 - loaded by the poll

    failed = sum(1 for r in results if r.status is PollStatus.FAILED)
    new = sum(len(r.new) for r in results)
    matches = sum(len(r.matches) for r in results)
    return (
        f"{len(results)} feed{'s' if len(results) != 1 else ''} polled: "
        f"{len(results) - failed} ok, {failed} failed; "
        f"{new} new entr{'ies' if new != 1 else 'y'}; "
        f"{matches} match{'es' if matches != 1 else ''}"
    )


def feed_line(result: PollResult) -> str:
    """``ustr-press: parsed, 50 entries, 3 new, 1 match (120 ms)`` or the error."""
    from notifier.pipeline.poll import PollStatus  # noqa: PLC0415 - loaded by the poll

    ms = f"({result.duration * 1000:.0f} ms)"
    if result.status is PollStatus.FAILED:
        return f"{result.feed}: FAILED: {clip(result.error, DETAIL_MAX)} {ms}"
    parts = [str(result.status).replace("_", " ")]
    if result.entries:
        parts.append(f"{result.entries} entr{'ies' if result.entries != 1 else 'y'}")
    parts.append(f"{len(result.new)} new")
    parts.append(f"{len(result.matches)} match{'es' if len(result.matches) != 1 else ''}")
    return f"{result.feed}: {', '.join(parts)} {ms}"


def verdict_text(verdict: Verdict, entry: Entry) -> list[str]:
    """``✓ title — matched`` plus one line per hit."""
    mark = "✓" if verdict.matched else "✗"
    lines = [f"{mark} {_title(entry)} — {verdict.reason}"]
    for hit in verdict.hits:
        lines.append(f'    "{hit.term}" in {hit.field}: {clip(hit.snippet, SNIPPET_MAX)}')
    return lines


def verdict_json(verdict: Verdict, entry: Entry) -> str:
    """One JSON line for a verdict."""
    return json.dumps(
        {
            "matched": verdict.matched,
            "reason": verdict.reason,
            **_entry_json(entry),
            "hits": [
                {"term": h.term, "field": h.field, "snippet": h.snippet} for h in verdict.hits
            ],
        },
        ensure_ascii=False,
    )


def outbox_lines(channels: Sequence[ChannelStatus]) -> list[str]:
    """One line per channel: queued, held, pending, retrying, dead, sent."""
    if not channels:
        return ["outbox: empty"]
    lines = ["outbox:"]
    for c in channels:
        rerouted = f", {c.rerouted} rerouted to the defaults" if c.rerouted else ""
        lines.append(
            f"  {c.channel}: {c.queued} queued, {c.held} held, {c.pending} pending, "
            f"{c.retrying} retrying, {c.dead} dead, {c.sent} sent{rerouted}"
        )
    return lines


def failing_line(since: datetime, now: datetime, fallback: Fallback | None) -> str:
    """A failing channel's line: since when, and whether its alerts fall back."""
    failing = f"every URL failing since {relative(since - now)}"
    if fallback is None or not fallback.to:
        return failing
    targets = ", ".join(fallback.to)
    if fallback.active and fallback.starts is not None:
        return f"falling back to {targets} since {relative(fallback.starts - now)} ({failing})"
    if fallback.starts is not None:
        return f"{failing}; falls back to {targets} {relative(fallback.starts - now)}"
    return failing


def status_lines(
    feeds: Sequence[FeedState],
    channels: Sequence[ChannelStatus],
    now: datetime,
    history: Mapping[str, int] | None = None,
    proposals: int | None = None,
    *,
    mutes: Sequence[Mute] = (),
    fallbacks: Mapping[str, Fallback] | None = None,
) -> list[str]:
    """The text of ``notifier status``; ``history``: the counts of the last 24 hours;
    ``proposals``: how many found deadlines wait for accept or dismiss; ``mutes``: the
    active mutes; ``fallbacks``: the fallback stage's decision per channel (from the
    config, when it loads)."""
    lines = [f"feeds ({len(feeds)}):"] if feeds else ["feeds: none polled yet"]
    for f in feeds:
        if f.unhealthy:
            health = f"UNHEALTHY ({f.failures} failures)"
        elif f.failures:
            health = f"failing ({f.failures})"
        else:
            health = "ok"
        polled = relative(f.last_polled - now) if f.last_polled else "never"
        lines.append(f"  {f.name}: {health}, last polled {polled}")
        if f.last_error:
            lines.append(f"    last error: {clip(f.last_error, DETAIL_MAX)}")
    lines += outbox_lines(channels)
    for c in channels:
        if c.last_sent is not None:
            lines.append(
                f"  {c.channel}: last sent {relative(c.last_sent - now)}: "
                f"{clip(c.last_sent_title, HEADLINE_MAX)}"
            )
        if c.last_error:
            lines.append(f"  {c.channel}: last error: {clip(c.last_error, DETAIL_MAX)}")
        if c.failing_since is not None:
            state = failing_line(c.failing_since, now, (fallbacks or {}).get(c.channel))
            lines.append(f"  {c.channel}: {state}")
    if history is not None:
        stories = _plural(history["stories"], "story", "stories")
        entries = _plural(history["entries"], "new entry", "new entries")
        matches = _plural(history["matches"], "match", "matches")
        lines.append(
            f"stories (last 24 h): {stories} from {entries}; "
            f"{history['matched_stories']} matched ({matches}), "
            f"{_plural(history['edits'], 'edit')}; "
            f"{history['total_entries']:,} entries kept in history"
        )
    if proposals:
        lines.append(
            f"deadlines found in the news: {proposals} open "
            f"proposal{'s' if proposals != 1 else ''} (notifier proposals)"
        )
    if mutes:
        lines.append(f"muted ({len(mutes)}; notifier unmute TARGET to end one):")
        lines += mute_lines(mutes, now)
    return lines


def mute_lines(mutes: Sequence[Mute], now: datetime) -> list[str]:
    """One line per active mute: target, until (and in how long), why, who."""
    lines = []
    for m in mutes:
        why = f": {clip(m.reason, DETAIL_MAX)}" if m.reason else ""
        lines.append(
            f"  {m.target} until {m.until:%Y-%m-%d %H:%M} UTC ({relative(m.until - now)}), "
            f"by {m.who}{why}"
        )
    return lines


def mute_json(m: Mute) -> dict[str, str | None]:
    """A mute in ``status --json`` and ``mutes --json``."""
    return {
        "target": m.target,
        "kind": m.kind,
        "name": m.name,
        "until": m.until.isoformat(),
        "reason": m.reason,
        "who": m.who,
        "created": m.created.isoformat(),
    }


def status_json(
    feeds: Sequence[FeedState],
    channels: Sequence[ChannelStatus],
    history: Mapping[str, int] | None = None,
    proposals: int | None = None,
    *,
    mutes: Sequence[Mute] = (),
    fallbacks: Mapping[str, Fallback] | None = None,
) -> str:
    """``notifier status --json``; ``history``: the counts of the last 24 hours;
    ``proposals``: the open proposals; ``mutes``: the active mutes."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return json.dumps(
        {
            "feeds": [
                {
                    "name": f.name,
                    "healthy": not f.unhealthy,
                    "failures": f.failures,
                    "last_polled": iso(f.last_polled),
                    "last_ok": iso(f.last_ok),
                    "next_poll": iso(f.next_poll),
                    "last_error": f.last_error,
                }
                for f in feeds
            ],
            "channels": [
                {
                    "name": c.channel,
                    "queued": c.queued,
                    "held": c.held,
                    "pending": c.pending,
                    "retrying": c.retrying,
                    "dead": c.dead,
                    "sent": c.sent,
                    "rerouted": c.rerouted,
                    "last_sent": iso(c.last_sent),
                    "last_sent_title": c.last_sent_title,
                    "last_error": c.last_error,
                    "failing_since": iso(c.failing_since),
                    "falling_back_to": list(fb.to)
                    if (fb := (fallbacks or {}).get(c.channel)) and fb.active
                    else [],
                }
                for c in channels
            ],
            "stories_24h": dict(history) if history is not None else None,
            "proposals_open": proposals,
            "mutes": [mute_json(m) for m in mutes],
        },
        ensure_ascii=False,
        indent=2,
    )


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def story_lines(story: Story, zone: tzinfo, now: datetime) -> list[str]:
    """A story for ``notifier history``: when, title, its other sources, its feeds,
    each watch that matched with why, its edits, and the first link."""
    head = f"{when(story.first_seen, zone)} ({relative(story.first_seen - now)})"
    title = clip(story.title, HEADLINE_MAX) or "(no title)"
    more = len(story.entries) - 1
    extra = ""
    if more:
        extra = f"  +{_plural(more, 'source')}, latest {relative(story.last_seen - now)}"
    lines = [f"{head}  {title}{extra}", f"  feeds: {', '.join(story.feeds)}"]
    whys: dict[str, str] = {}
    for m in story.matches:
        whys.setdefault(m.watch, m.why)
    for watch, why in whys.items():
        lines.append(f"  {watch}: {clip(why, DETAIL_MAX)}")
    if story.edits:
        lines.append(
            f"  edited {_plural(len(story.edits), 'time')}, "
            f"last {relative(story.edits[-1].at - now)}"
        )
    link = next((e.link for e in story.entries if e.link), None)
    if link:
        lines.append(f"  {clip(link, LINK_MAX)}")
    return lines


def stories_summary(count: int, limit: int, *, matched_only: bool) -> str:
    """The last line of ``notifier history``."""
    text = _plural(count, "story", "stories")
    if count >= limit:
        text += f" (the newest {limit}; --limit shows more)"
    if matched_only:
        text += "; only those a watch matched (--all shows every story)"
    return text


def stories_json(stories: Sequence[Story]) -> str:
    """``notifier history --json``: a list of stories, each with its sources,
    watches (one per recorded match) and edits."""
    return json.dumps(
        [
            {
                "id": s.id,
                "title": s.title,
                "first_seen": s.first_seen.isoformat(),
                "last_seen": s.last_seen.isoformat(),
                "sources": [
                    {"feed": e.feed, "title": e.title, "link": e.link, "seen": e.seen.isoformat()}
                    for e in s.entries
                ],
                "watches": [
                    {"watch": m.watch, "why": m.why, "kind": m.kind, "at": m.at.isoformat()}
                    for m in s.matches
                ],
                "edits": [{"at": d.at.isoformat(), "diff": d.diff} for d in s.edits],
            }
            for s in stories
        ],
        ensure_ascii=False,
        indent=2,
    )


def replay_json(found: Replayed, severity: Mapping[str, str]) -> str:
    """One JSON line for an entry ``notifier replay`` found."""
    return json.dumps(
        {
            "type": "replay",
            **_entry_json(found.entry),
            "story": found.story,
            "seen": found.seen.isoformat(),
            "severity": highest_severity([severity.get(m.watch, "normal") for m in found.matches]),
            "watches": [
                {
                    "watch": m.watch,
                    "why": m.explain(),
                    "hits": [
                        {"term": h.term, "field": h.field, "snippet": h.snippet} for h in m.hits
                    ],
                }
                for m in found.matches
            ],
        },
        ensure_ascii=False,
    )


def replay_text(found: Replayed, severity: Mapping[str, str], zone: tzinfo) -> list[str]:
    """A few readable lines for an entry ``notifier replay`` found."""
    return _entry_lines("WOULD MATCH", found.matches, severity, f"  seen {when(found.seen, zone)}")


def replay_summary(done: ReplayReport, *, sent: bool) -> str:
    """``1,204 stored entries read; 3 would have matched (not sent: add --send)``."""
    found = len(done.found)
    text = (
        f"{done.entries:,} stored entr{'ies' if done.entries != 1 else 'y'} read; "
        f"{found} would have matched"
    )
    if not found:
        return text
    if sent:
        return f"{text}; {done.queued} queued as replay alerts"
    return f"{text} (printed only: add --send to alert)"


# --------------------------------------------------------------------------- proposals


def proposal_when(p: Proposal) -> str:
    """A proposal's date in its zone: ``Tue 1 Jul 2025``, a window ``1–10 Jul 2025``,
    or with a time ``Fri 1 Aug 2025 17:00 EDT``."""
    zone = ZoneInfo(p.timezone)
    local = p.due.astimezone(zone)
    if not p.all_day:
        return when(p.due, zone)
    day = local.date()
    if p.window_end is not None and p.window_end != day:
        end = p.window_end
        if (end.year, end.month) == (day.year, day.month):
            return f"{day.day}–{end.day} {end:%b %Y}"
        return f"{day.day} {day:%b} – {end.day} {end:%b %Y}"
    return f"{day:%a} {day.day} {day:%b %Y}"


_CHANGE_LABEL = {
    "deadline": "Possible deadline",
    "move": "Possible move",
    "change": "Possible change",
}


def proposal_lines(p: Proposal, command: str = "notifier") -> list[str]:
    """A proposal for people: id, what, when, the phrase, the sources, the commands."""
    label = "Fact" if p.status == "fact" else _CHANGE_LABEL.get(p.change, p.change)
    head = f"{p.id}  {label}: {clip(p.title, HEADLINE_MAX)}"
    if p.status not in ("open", "fact"):
        head += f"  [{p.status}]"
    lines = [head]
    if p.change == "move" and p.old_due is not None:
        old = replace(p, due=p.old_due, window_end=None, all_day=_midnight(p.old_due, p.timezone))
        lines.append(f"    {p.kind}: {proposal_when(old)} → {proposal_when(p)}")
    elif p.change == "change":
        lines.append(f"    {p.kind} of deadline {p.deadline}, due {proposal_when(p)}")
    elif p.status == "fact":
        lines.append(f"    {p.kind}: {proposal_when(p)} (before its publication: a fact)")
    else:
        lines.append(f"    {p.kind}: {proposal_when(p)}   suggested name: {p.name}")
    lines.append(f"    “{clip(p.phrase, DETAIL_MAX)}”")
    first = p.sources[0] if p.sources else None
    if first is not None:
        more = f" (+{len(p.sources) - 1} more)" if len(p.sources) > 1 else ""
        lines.append(f"    source: {first.feed} — {clip(first.title, HEADLINE_MAX)}{more}")
    lines.append(
        f"    watches: {', '.join(p.watches) or '-'}   confidence: {round(p.confidence * 100)}%"
    )
    if p.status == "open":
        if p.change != "change":
            lines.append(f"    accept: {command} accept {p.id}   dismiss: {command} dismiss {p.id}")
        else:
            lines.append(
                f"    not applied by accept: edit the deadline; dismiss: {command} dismiss {p.id}"
            )
    return lines


def _midnight(moment: datetime, zone: str) -> bool:
    local = moment.astimezone(ZoneInfo(zone))
    return (local.hour, local.minute, local.second) == (0, 0, 0)


def proposal_json(p: Proposal, command: str = "notifier") -> dict[str, Any]:
    """One proposal as ``notifier proposals --json`` prints it (the README documents it)."""
    zone = ZoneInfo(p.timezone)
    return {
        "id": p.id,
        "change": p.change,
        "status": p.status,
        "kind": p.kind,
        "name": p.name,
        "title": p.title,
        "due": p.due.astimezone(zone).isoformat(),
        "all_day": p.all_day,
        "window_end": p.window_end.isoformat() if p.window_end else None,
        "timezone": p.timezone,
        "deadline": p.deadline,
        "old_due": p.old_due.astimezone(zone).isoformat() if p.old_due else None,
        "phrase": p.phrase,
        "confidence": round(p.confidence, 3),
        "watches": list(p.watches),
        "sources": [
            {
                "feed": s.feed,
                "key": s.key,
                "title": s.title,
                "link": s.link,
                "published": s.published.isoformat() if s.published else None,
            }
            for s in p.sources
        ],
        "source_count": len(p.sources),
        "created": p.created.isoformat() if p.created else None,
        "updated": p.updated.isoformat() if p.updated else None,
        "accept": f"{command} accept {p.id}"
        if p.change != "change" and p.status != "fact"
        else None,
        "dismiss": f"{command} dismiss {p.id}" if p.status != "fact" else None,
    }


# --------------------------------------------------------------------------- cluster


def worker_lines(workers: Sequence[WorkerRow], now: datetime) -> list[str]:
    """The ``status`` lines of a cluster's workers (``notifier worker``)."""
    alive = [w for w in workers if w.alive(now)]
    hashes = Counter(w.config_hash for w in alive if w.config_hash)
    common = hashes.most_common(1)[0][0] if hashes else None
    lines = [
        "",
        f"workers: {len(alive)} alive"
        + (f", {len(workers) - len(alive)} gone" if len(workers) > len(alive) else ""),
    ]
    for w in workers:
        state = "alive" if w.alive(now) else "gone"
        differs = w.alive(now) and w.config_hash is not None and w.config_hash != common
        config = (w.config_hash or "?")[:12] + (" DIFFERS from the others" if differs else "")
        holding = ", ".join(w.holding) if w.holding else "nothing"
        lines.append(
            f"  worker {w.id}  {w.host} pid {w.pid}  {state}, beat {relative(w.seen - now)}, "
            f"up {span(now - w.started)}  config {config}  holding {holding}"
        )
    return lines


def workers_json(workers: Sequence[WorkerRow], now: datetime) -> list[dict[str, Any]]:
    """The workers for ``status --json``."""
    alive = [w for w in workers if w.alive(now)]
    hashes = Counter(w.config_hash for w in alive if w.config_hash)
    common = hashes.most_common(1)[0][0] if hashes else None
    return [
        {
            "id": w.id,
            "host": w.host,
            "pid": w.pid,
            "alive": w.alive(now),
            "started": w.started.isoformat(),
            "seen": w.seen.isoformat(),
            "config_hash": w.config_hash,
            "config_differs": w.alive(now)
            and w.config_hash is not None
            and w.config_hash != common,
            "holding": list(w.holding),
        }
        for w in workers
    ]
