"""Human summaries of a loaded config (``notifier check`` and ``notifier run``).

Secrets never appear: channel URLs are shown in Apprise's privacy form and
feed URLs lose their password and secret-looking query values.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from notifier import channels as apprise_channels
from notifier.config import Config, Deadline
from notifier.deadlines import next_reminder, occurrences, offsets, plan
from notifier.durations import format_duration

_SECRET_KEY = re.compile(r"(token|key|secret|pass|auth|sig|session|code)", re.IGNORECASE)
HIDDEN = "****"


def mask_feed_url(url: str) -> str:
    """Hide a feed URL's password and the values of secret-looking query parameters."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    secret_query = any(_SECRET_KEY.search(k) for k, _ in pairs)
    if parts.password is None and not secret_query:
        return url
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", f":{HIDDEN}@", 1)
    query = parts.query
    if secret_query:
        masked = [(k, HIDDEN if _SECRET_KEY.search(k) else v) for k, v in pairs]
        query = urlencode(masked, safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def when(moment: datetime, zone: tzinfo) -> str:
    """Format an aware datetime in ``zone`` as ``Wed 9 Jul 2025 00:01 EDT``."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {local.tzname()}"


#: Closer to now than this, a time reads "just now" (not "in 0s" or "2s ago").
JUST_NOW = timedelta(seconds=3)

# Up to each magnitude, the unit a span is rounded to: seconds under 10 minutes,
# minutes under 3 hours, hours under a week, days beyond.
_PRECISION = (
    (timedelta(minutes=10), 1),
    (timedelta(hours=3), 60),
    (timedelta(days=7), 3600),
)
_UNIT_WORDS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def span(delta: timedelta, *, words: bool = False) -> str:
    """How long ``delta`` is (its sign ignored), as precise as its size deserves.

    Rounded to the second under 10 minutes, to the minute under 3 hours, to the
    hour under a week, to the day beyond: ``1m27s``, ``1h30m``, ``3d4h``, ``30d``
    — or, with ``words``, ``1 minute 27 seconds``, ``1 hour 30 minutes``,
    ``3 days 4 hours``, ``30 days``.
    """
    size = abs(delta)
    unit = next((u for limit, u in _PRECISION if size < limit), 86400)
    seconds = int(size.total_seconds() / unit + 0.5) * unit
    if not words:
        return format_duration(timedelta(seconds=seconds))
    parts = []
    for word, length in _UNIT_WORDS:
        count, seconds = divmod(seconds, length)
        if count:
            parts.append(f"{count} {word}" if count == 1 else f"{count} {word}s")
    return " ".join(parts) or "0 seconds"


def relative(delta: timedelta, *, words: bool = False) -> str:
    """``delta`` from now, for people: ``just now``, ``in 14s``, ``14s ago``, ``in 3d4h``.

    Within :data:`JUST_NOW` of zero it is ``just now``; otherwise the
    :func:`span` of ``delta`` (in words with ``words``: ``in 7 days``,
    ``2 hours 5 minutes ago``). The one relative-time wording of the program:
    ``check``, ``deadlines``, ``status`` and the alert texts all use it.
    """
    if abs(delta) < JUST_NOW:
        return "just now"
    text = span(delta, words=words)
    return f"in {text}" if delta > timedelta(0) else f"{text} ago"


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
        digest = f", digest every {format_duration(w.digest)}" if w.digest else ""
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
