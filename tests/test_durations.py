"""Durations as written in the config: 90s, 15m, 2h, 7d, 1w, 1h30m."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 2H ", timedelta(hours=2)),
        ("1d 12h", timedelta(days=1, hours=12)),
        ("0s", timedelta(0)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    """Each unit, combinations, spaces and upper case are understood."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "15 minutes", "1.5h", "-1d", "h", "2x", "no"])
def test_parse_rejects_with_examples(text: str) -> None:
    """Anything else is refused with a message that shows the accepted forms."""
    with pytest.raises(ValueError, match=r"e\.g\. 90s, 15m, 2h, 7d"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=90), "1m30s"),
        (timedelta(days=14), "14d"),
        (timedelta(days=1, hours=2), "1d2h"),
        (timedelta(0), "0s"),
        (-timedelta(hours=1), "-1h"),
    ],
)
def test_format(delta: timedelta, text: str) -> None:
    """Formatting uses days and smaller units, largest first."""
    assert format_duration(delta) == text


@given(st.integers(min_value=0, max_value=10**9))
def test_format_then_parse_round_trips(seconds: int) -> None:
    """Any whole number of seconds survives format → parse unchanged."""
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


@pytest.mark.parametrize("text", ["1000000w", "99999999999999w", "9" * 80 + "s"])
def test_absurd_durations_are_refused_in_words(text: str) -> None:
    """A duration longer than about a century (or too long to be typed on purpose) is a
    config error, never an OverflowError later when a poll adds it to now."""
    with pytest.raises(ValueError, match=r"too long|longer than"):
        parse_duration(text)
