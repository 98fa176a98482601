"""Feed health: backoff after failures, unhealthy/recovered events — pure decisions.

A failing feed is polled less and less often (exponential backoff with jitter,
capped at ``max_backoff``) but never given up on. After ``unhealthy_after``
failures in a row it becomes *unhealthy* and one ``unhealthy`` event is
produced; the first success after that produces one ``recovered`` event.
A server's ``Retry-After`` is honoured as a floor, up to ``max_backoff``: a
server asking for more (or for ``99999999999999999999`` seconds) gets the
feed's longest wait, and the failure still counts like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from notifier.backoff import backoff as exponential
from notifier.model import Feed, FeedState


class HealthEventKind(StrEnum):
    UNHEALTHY = "unhealthy"
    RECOVERED = "recovered"


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """A feed became unhealthy, or recovered. Goes to the default channels."""

    kind: HealthEventKind
    feed: str
    failures: int
    error: str | None
    at: datetime


def backoff(
    failures: int,
    interval: timedelta,
    cap: timedelta,
    rand: float,
    retry_after: float | None = None,
) -> timedelta:
    """How long to wait after the ``failures``-th failure in a row.

    ``interval × 2^(failures-1)``, capped at ``cap`` (but never below the
    feed's own interval), then "equal jitter": a random point in the upper
    half, so that feeds failing together spread out. ``rand`` is in [0, 1).
    A ``retry_after`` (seconds) from the server is a floor, clamped to
    ``cap``: whatever the server sends (huge, infinite, NaN, negative), the
    wait stays within ``[interval, max(cap, interval)]``.
    """
    delay = exponential(failures, interval, cap, rand)
    if retry_after is not None and retry_after > 0:  # False for NaN
        delay = max(delay, timedelta(seconds=min(retry_after, cap.total_seconds())))
    return delay


def on_failure(
    state: FeedState,
    feed: Feed,
    error: str,
    now: datetime,
    rand: float,
    *,
    retry_after: float | None = None,
) -> tuple[FeedState, HealthEvent | None]:
    """The state after a failed poll, and the ``unhealthy`` event if this failure tips it."""
    failures = state.failures + 1
    delay = backoff(failures, feed.interval, feed.max_backoff, rand, retry_after)
    becomes_unhealthy = not state.unhealthy and failures >= feed.unhealthy_after
    new = replace(
        state,
        last_polled=now,
        failures=failures,
        unhealthy=state.unhealthy or becomes_unhealthy,
        last_error=error,
        next_poll=now + delay,
    )
    event = (
        HealthEvent(HealthEventKind.UNHEALTHY, feed.name, failures, error, now)
        if becomes_unhealthy
        else None
    )
    return new, event


def on_success(state: FeedState, feed: Feed, now: datetime) -> tuple[FeedState, HealthEvent | None]:
    """The state after a successful poll, and the ``recovered`` event if it was unhealthy."""
    event = (
        HealthEvent(HealthEventKind.RECOVERED, feed.name, state.failures, None, now)
        if state.unhealthy
        else None
    )
    # Built field by field: ``dataclasses.replace`` costs several times more, and
    # this runs for every poll (the whole of a 304's state change).
    new = FeedState(
        name=state.name,
        url=state.url,
        etag=state.etag,
        last_modified=state.last_modified,
        body_hash=state.body_hash,
        last_polled=now,
        last_ok=now,
        last_parsed=state.last_parsed,
        failures=0,
        unhealthy=False,
        last_error=None,
        next_poll=now + feed.interval,
    )
    return new, event
