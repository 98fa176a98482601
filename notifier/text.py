"""Words for times and URLs, shared by the alert texts and the command line. Pure.

* :func:`when` — a time in a zone: ``Wed 9 Jul 2025 00:01 EDT``;
* :func:`span` and :func:`relative` — the one relative-time wording of the
  program: ``just now``, ``in 14s``, ``14s ago``, ``in 7 days``;
* :func:`mask_feed_url` — a feed URL without its password and secret-looking
  query values (what may be shown or stored).
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, tzinfo
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from notifier.durations import format_duration

_SECRET_KEY = re.compile(r"(token|key|secret|pass|auth|sig|session|code)", re.IGNORECASE)
HIDDEN = "****"


@functools.lru_cache(maxsize=4096)
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
