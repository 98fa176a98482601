"""Feed health decisions: backoff with jitter and a cap, one unhealthy and one recovered event."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.model import Feed, FeedState
from notifier.sources.health import HealthEventKind, backoff, on_failure, on_success

NOW = datetime(2025, 6, 1, tzinfo=UTC)
FEED = Feed(
    name="f",
    url="https://example.com/f",
    title=None,
    interval=timedelta(minutes=15),
    unhealthy_after=3,
    max_backoff=timedelta(hours=6),
)


def test_backoff_doubles_then_caps() -> None:
    """With no jitter (rand=1) the wait doubles per failure until the cap."""
    waits = [backoff(n, FEED.interval, FEED.max_backoff, 0.999999) for n in range(1, 10)]
    minutes = [round(w.total_seconds() / 60) for w in waits]
    assert minutes == [15, 30, 60, 120, 240, 360, 360, 360, 360]


@given(
    st.integers(min_value=1, max_value=200),
    st.floats(min_value=0, max_value=0.999999),
    st.integers(min_value=1, max_value=24 * 3600),
)
def test_backoff_bounds(failures: int, rand: float, interval_s: int) -> None:
    """Never faster than the feed's interval, never slower than the cap (or the interval)."""
    interval = timedelta(seconds=interval_s)
    cap = timedelta(hours=6)
    wait = backoff(failures, interval, cap, rand)
    assert interval <= wait <= max(cap, interval)


def test_retry_after_is_a_floor_up_to_max_backoff() -> None:
    """A server's Retry-After is honoured, but a week is clamped to the feed's max_backoff."""
    assert backoff(1, FEED.interval, FEED.max_backoff, 0.0, 7200) == timedelta(hours=2)
    assert backoff(1, FEED.interval, FEED.max_backoff, 0.0, 7 * 86400) == FEED.max_backoff
    long_cap = timedelta(days=2)
    assert backoff(1, FEED.interval, long_cap, 0.0, 7 * 86400) == long_cap


@pytest.mark.parametrize(
    "retry_after",
    [99999999999999999999.0, 1e308, math.inf, 86400.0 * 365],
)
def test_absurd_retry_after_is_clamped_to_max_backoff(retry_after: float) -> None:
    """Retry-After: 99999999999999999999 (or anything huge) no longer overflows timedelta:
    the wait is exactly the feed's max_backoff."""
    assert backoff(1, FEED.interval, FEED.max_backoff, 0.5, retry_after) == FEED.max_backoff
    assert backoff(9, FEED.interval, FEED.max_backoff, 0.0, retry_after) == FEED.max_backoff


@pytest.mark.parametrize("retry_after", [0.0, -5.0, -1e300, -math.inf, math.nan])
def test_non_positive_or_nan_retry_after_is_ignored(retry_after: float) -> None:
    """Zero, negative and NaN waits from a server change nothing: the usual backoff applies."""
    plain = backoff(3, FEED.interval, FEED.max_backoff, 0.25)
    assert backoff(3, FEED.interval, FEED.max_backoff, 0.25, retry_after) == plain


@given(
    st.integers(min_value=1, max_value=200),
    st.floats(min_value=0, max_value=0.999999),
    st.integers(min_value=1, max_value=24 * 3600),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_backoff_bounds_whatever_the_server_says(
    failures: int, rand: float, interval_s: int, retry_after: float | None
) -> None:
    """With any Retry-After at all, the wait stays between the interval and max_backoff."""
    interval = timedelta(seconds=interval_s)
    cap = timedelta(hours=6)
    wait = backoff(failures, interval, cap, rand, retry_after)
    assert interval <= wait <= max(cap, interval)


def test_huge_retry_after_still_counts_failures_and_marks_unhealthy() -> None:
    """A feed answering 429 with Retry-After: 99999999999999999999 on every poll: each
    failure is counted, the next poll is max_backoff away, and after unhealthy_after
    failures the feed is reported unhealthy once (before, OverflowError on every poll)."""
    state = FeedState("f", FEED.url)
    events = []
    now = NOW
    for _ in range(4):
        state, event = on_failure(
            state, FEED, "HTTP 429", now, 0.5, retry_after=99999999999999999999.0
        )
        events.append(event.kind if event else None)
        assert state.next_poll == now + FEED.max_backoff
        now = state.next_poll
    assert events == [None, None, HealthEventKind.UNHEALTHY, None]
    assert (state.failures, state.unhealthy, state.last_error) == (4, True, "HTTP 429")


def test_one_unhealthy_event_then_one_recovered() -> None:
    """Failures 1-2: no event; 3: unhealthy once; 4-5: none; success: recovered once."""
    state = FeedState("f", FEED.url)
    events = []
    for _ in range(5):
        state, event = on_failure(state, FEED, "HTTP 500", NOW, 0.5)
        events.append(event.kind if event else None)
    assert events == [None, None, HealthEventKind.UNHEALTHY, None, None]
    assert state.unhealthy
    assert state.failures == 5
    assert state.next_poll is not None
    assert state.next_poll > NOW
    state, event = on_success(state, FEED, NOW)
    assert event is not None
    assert event.kind is HealthEventKind.RECOVERED
    assert event.failures == 5
    assert (state.failures, state.unhealthy, state.last_error) == (0, False, None)
    state, event = on_success(state, FEED, NOW)
    assert event is None


def test_success_schedules_the_next_poll_at_the_interval() -> None:
    """A healthy feed is next polled one interval later."""
    state, _ = on_success(FeedState("f", FEED.url), FEED, NOW)
    assert state.next_poll == NOW + FEED.interval
    assert state.last_ok == NOW


def test_success_is_replace_of_the_health_fields() -> None:
    """on_success (built field by field, for speed) equals ``dataclasses.replace`` of the
    poll and health fields: every other field of the state, present or future, is kept."""
    from dataclasses import fields, replace  # noqa: PLC0415 - this test only

    state = FeedState(
        "f",
        "https://example.com/f",
        etag='"e"',
        last_modified="Sun, 01 Jun 2025 00:00:00 GMT",
        body_hash="h",
        last_polled=NOW - timedelta(hours=1),
        last_ok=NOW - timedelta(hours=2),
        last_parsed=NOW - timedelta(hours=3),
        failures=4,
        unhealthy=True,
        last_error="boom",
        next_poll=NOW,
    )
    assert {f.name for f in fields(FeedState)} == {
        "name", "url", "etag", "last_modified", "body_hash", "last_polled", "last_ok",
        "last_parsed", "failures", "unhealthy", "last_error", "next_poll",
    }  # fmt: skip
    new, _ = on_success(state, FEED, NOW)
    assert new == replace(
        state,
        last_polled=NOW,
        last_ok=NOW,
        failures=0,
        unhealthy=False,
        last_error=None,
        next_poll=NOW + FEED.interval,
    )
