"""Rendering poll results and verdicts for people (text) and scripts (JSON lines)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from notifier.health import HealthEvent
from notifier.match import Verdict
from notifier.model import Entry, Match
from notifier.poll import PollResult, PollStatus
from notifier.summary import when


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "feed": entry.feed,
        "key": entry.key,
        "title": entry.title,
        "link": entry.link,
        "published": entry.published.isoformat() if entry.published else None,
    }


def match_json(match: Match, severity: str) -> str:
    """One JSON line for a match."""
    return json.dumps(
        {
            "type": "match",
            "watch": match.watch,
            "severity": severity,
            **_entry_json(match.entry),
            "hits": [{"term": h.term, "field": h.field, "snippet": h.snippet} for h in match.hits],
        },
        ensure_ascii=False,
    )


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


def match_text(match: Match, severity: str, zone: tzinfo) -> list[str]:
    """A few readable lines for a match: headline, source, link and why."""
    entry = match.entry
    published = f"  {when(entry.published, zone)}" if entry.published else ""
    lines = [
        f"MATCH {match.watch} [{severity}]  {entry.feed}{published}",
        f"  {entry.title or '(no title)'}",
    ]
    if entry.link:
        lines.append(f"  {entry.link}")
    for hit in match.hits:
        lines.append(f'  why: "{hit.term}" in {hit.field}: {hit.snippet}')
    return lines


def event_text(event: HealthEvent) -> str:
    """One line for a feed health event."""
    if event.kind == "unhealthy":
        return (
            f"FEED UNHEALTHY {event.feed}: {event.failures} failures in a row; last: {event.error}"
        )
    return f"FEED RECOVERED {event.feed} after {event.failures} failures"


def poll_summary(results: Sequence[PollResult]) -> str:
    """``5 feeds polled: 4 ok, 1 failed; 12 new entries; 3 matches``."""
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
    ms = f"({result.duration * 1000:.0f} ms)"
    if result.status is PollStatus.FAILED:
        return f"{result.feed}: FAILED: {result.error} {ms}"
    parts = [str(result.status).replace("_", " ")]
    if result.entries:
        parts.append(f"{result.entries} entr{'ies' if result.entries != 1 else 'y'}")
    parts.append(f"{len(result.new)} new")
    parts.append(f"{len(result.matches)} match{'es' if len(result.matches) != 1 else ''}")
    return f"{result.feed}: {', '.join(parts)} {ms}"


def verdict_text(verdict: Verdict, entry: Entry) -> list[str]:
    """``✓ title — matched`` plus one line per hit."""
    mark = "✓" if verdict.matched else "✗"
    lines = [f"{mark} {entry.title or '(no title)'} — {verdict.reason}"]
    for hit in verdict.hits:
        lines.append(f'    "{hit.term}" in {hit.field}: {hit.snippet}')
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
