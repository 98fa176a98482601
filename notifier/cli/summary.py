"""Human summaries of a loaded config (``notifier check`` and ``notifier run``).

Secrets never appear: channel URLs are shown in Apprise's privacy form and
feed URLs lose their password and secret-looking query values.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from notifier.deadlines.planning import next_reminder, occurrences, offsets, plan
from notifier.delivery import apprise as apprise_channels
from notifier.durations import format_duration
from notifier.model import Config, DailyDigest, Deadline
from notifier.text import mask_feed_url, relative, when


def _quote(terms: tuple[str, ...]) -> str:
    return ", ".join(f'"{t}"' for t in terms)


def describe(config: Config, now: datetime) -> list[str]:
    """Return the lines of a summary of ``config`` as of ``now``."""
    lines = [f"timezone: {config.timezone.key}"]
    if config.default_channels:
        lines.append(f"default channels: {', '.join(config.default_channels)}")

    lines.append(f"channels ({len(config.channels)}):")
    for ch in config.channels.values():
        extras = [f"format={ch.format}"]
        if ch.quiet_hours:
            extras.append(f"quiet={ch.quiet_hours}")
        if ch.rate_limit:
            extras.append(f"limit={ch.rate_limit}")
        lines.append(f"  {ch.name}  ({' '.join(extras)})")
        lines += [f"    {apprise_channels.mask_url(u)}" for u in ch.urls]

    lines.append(f"feeds ({len(config.feeds)}):")
    for f in config.feeds:
        state = "" if f.enabled else "  [disabled]"
        if f.backfill:
            state += f"  backfill {f.backfill}"
        lines.append(
            f"  {f.name}  every {format_duration(f.interval)}  {mask_feed_url(f.url)}{state}"
        )

    lines.append(f"watches ({len(config.watches)}):")
    for w in config.watches:
        terms = []
        for label, group in (("any", w.any), ("all", w.all), ("none", w.none)):
            if group:
                terms.append(f"{label}: {_quote(group)}")
        scope = "all feeds" if len(w.feeds) == len(config.feeds) else ", ".join(w.feeds)
        digest = ""
        if isinstance(w.digest, DailyDigest):
            digest = f", digest {w.digest.describe()}"
        elif w.digest:
            digest = f", digest every {format_duration(w.digest)}"
        if not w.plurals:
            digest += ", exact words (plurals off)"
        lines.append(f"  {w.name}  [{w.severity}] → {', '.join(w.channels)}{digest}")
        lines.append(f"    {' · '.join(terms)}")
        lines.append(f"    in {', '.join(w.fields)} of {scope or 'no feeds'}")

    lines.append(f"deadlines ({len(config.deadlines)}):")
    for d in config.deadlines:
        lines += deadline_lines(d, now)
    return lines


def next_due(deadline: Deadline, now: datetime) -> datetime:
    """The occurrence to show: the next one of a recurring deadline, else its due time."""
    if deadline.recur:
        upcoming = occurrences(deadline, now, now + timedelta(days=400))
        if upcoming:
            return upcoming[0]
    return deadline.due


def _offset_label(offset: timedelta) -> str:
    if offset > timedelta(0):
        return f"{format_duration(offset)} before"
    if offset < timedelta(0):
        return f"{format_duration(-offset)} after"
    return "at due time"


def deadline_lines(d: Deadline, now: datetime, *, verbose: bool = False) -> list[str]:
    """A deadline: due time (in its zone), title, next reminder; with ``verbose`` its plan."""
    due_at = next_due(d, now)
    repeat = f"  repeats {d.recur}" if d.recur else ""
    lines = [
        f"  {d.name}  due {when(due_at, d.timezone)} ({relative(due_at - now)})"
        f"  [{d.severity}] → {', '.join(d.channels)}{repeat}",
        f"    {d.title}",
    ]
    upcoming = next_reminder(plan(d, now=now), now)
    if upcoming is None:
        lines.append("    next reminder: none (the deadline has passed)")
    else:
        lines.append(
            f"    next reminder: {when(upcoming.at, d.timezone)}"
            f" ({_offset_label(upcoming.offset)}, {relative(upcoming.at - now)})"
        )
    if verbose:
        ladder = ", ".join(_offset_label(o) for o in offsets(d)) or "none"
        lines.append(f"    reminders: {ladder}")
        if d.link:
            lines.append(f"    {d.link}")
    return lines
