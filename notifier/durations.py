"""Durations as people write them: ``90s``, ``15m``, ``2h``, ``7d``, ``1w``, ``1h30m``.

Used everywhere the watch config takes a length of time. A bare number is
rejected on purpose: ``interval: 15`` could mean seconds or minutes.
"""

from __future__ import annotations

import re
from datetime import timedelta

UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)\s*([smhdw])")
#: A JSON Schema pattern for the same grammar (used by ``notifier schema``).
PATTERN = r"^\s*(\d+\s*[smhdw]\s*)+$"
_WHOLE = re.compile(PATTERN)
#: The longest duration accepted (about 100 years): anything longer is a typo, and
#: ``now + duration`` would overflow a datetime.
MAX_DURATION = timedelta(days=36525)


def parse_duration(text: str) -> timedelta:
    """Parse ``text`` (e.g. ``"1h30m"``) into a :class:`timedelta`.

    Raises :class:`ValueError` with a message that shows the accepted forms.
    """
    cleaned = text.strip().lower()
    if not cleaned or not _WHOLE.match(cleaned):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit, "
            "e.g. 90s, 15m, 2h, 7d, 1w or 1h30m"
        )
    if len(cleaned) > 64:
        raise ValueError(f"{text[:20]!r}… is too long for a duration")
    seconds = sum(int(n) * UNITS[unit] for n, unit in _PART.findall(cleaned))
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than {MAX_DURATION.days} days; is it a typo?")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Format a duration in the same grammar, days and smaller (``1h30m``, ``14d``)."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts = []
    for unit, size in sorted(UNITS.items(), key=lambda kv: -kv[1]):
        if unit == "w":
            continue  # "14d" reads better than "2w" next to "7d" and "1d"
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)
