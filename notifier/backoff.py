"""One backoff for everything that retries: feeds that fail and sends that fail. Pure.

Exponential with "equal jitter": after the ``n``-th failure in a row, wait a
random point in the upper half of ``low × 2^(n-1)`` (capped at ``high``), and
never less than ``low``. Things failing together spread out; the wait grows
quickly to the cap and stays there; nothing is ever given up on here (the
callers decide that: feeds never, messages after ``delivery.max_age``).
"""

from __future__ import annotations

from datetime import timedelta


def backoff(failures: int, low: timedelta, high: timedelta, rand: float) -> timedelta:
    """How long to wait after the ``failures``-th failure in a row (``rand`` in [0, 1)).

    ``high`` below ``low`` counts as ``low``.
    """
    ceiling = max(high, low).total_seconds()
    exponent = min(max(failures - 1, 0), 64)
    base = min(low.total_seconds() * 2.0**exponent, ceiling)
    return max(timedelta(seconds=base / 2 + base / 2 * rand), low)
