"""Summaries shown by ``check`` and ``run``: readable times, masked URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifier.cli.summary import describe
from notifier.config.loader import loads
from notifier.text import mask_feed_url, relative, span, when

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_when_uses_the_zone_and_its_abbreviation() -> None:
    """The same instant reads in EDT in July, EST in January, BST in London."""
    ny, london = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
    assert when(datetime(2025, 7, 9, 4, 1, tzinfo=UTC), ny) == "Wed 9 Jul 2025 00:01 EDT"
    assert when(datetime(2025, 1, 9, 5, 1, tzinfo=UTC), ny) == "Thu 9 Jan 2025 00:01 EST"
    assert when(datetime(2025, 7, 9, 4, 1, tzinfo=UTC), london) == "Wed 9 Jul 2025 05:01 BST"


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=30, hours=5), "in 30d"),
        (timedelta(days=29, hours=23, minutes=59), "in 30d"),
        (timedelta(days=3, hours=4, minutes=20), "in 3d4h"),
        (timedelta(hours=5, minutes=10), "in 5h"),
        (timedelta(minutes=90), "in 1h30m"),
        (timedelta(minutes=1, seconds=27), "in 1m27s"),
        (-timedelta(days=3), "3d ago"),
        (timedelta(seconds=14), "in 14s"),
        (-timedelta(seconds=14), "14s ago"),
        (timedelta(seconds=3), "in 3s"),
    ],
)
def test_relative(delta: timedelta, text: str) -> None:
    """Relative times are coarse when far away (days past a week, hours past 3 hours) and
    precise when close (seconds under 10 minutes), rounded to the nearest unit shown."""
    assert relative(delta) == text


@pytest.mark.parametrize(
    "delta",
    [timedelta(0), timedelta(seconds=2.9), -timedelta(seconds=2.9), -timedelta(milliseconds=300)],
)
def test_a_time_within_three_seconds_is_just_now(delta: timedelta) -> None:
    """A time within 3 s of now, past or future, reads "just now" — never "in 0s"."""
    assert relative(delta) == "just now"
    assert relative(delta, words=True) == "just now"


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=7), "in 7 days"),
        (timedelta(days=6, hours=23, minutes=59, seconds=15), "in 7 days"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(days=1, hours=4), "in 1 day 4 hours"),
        (timedelta(hours=2, minutes=5), "in 2 hours 5 minutes"),
        (timedelta(seconds=87), "in 1 minute 27 seconds"),
        (-timedelta(seconds=99), "1 minute 39 seconds ago"),
        (-timedelta(seconds=1.5), "just now"),
    ],
)
def test_relative_in_words(delta: timedelta, text: str) -> None:
    """Alerts use the same rounding, spelled out: "in 7 days", "1 minute 39 seconds ago"."""
    assert relative(delta, words=True) == text


def test_span_ignores_the_sign() -> None:
    """span() is the size of a duration only: how late, how long ago."""
    assert span(-timedelta(seconds=33), words=True) == "33 seconds"
    assert span(timedelta(hours=26)) == "1d2h"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://example.com/feed.xml", "https://example.com/feed.xml"),
        ("https://u:pw123@example.com/f", "https://u:****@example.com/f"),
        ("https://example.com/rss?q=a&token=abc123", "https://example.com/rss?q=a&token=****"),
        ("https://x.test/r?api_key=zz&page=2", "https://x.test/r?api_key=****&page=2"),
        (
            "https://news.test/rss?q=%22a%22&ceid=US:en",
            "https://news.test/rss?q=%22a%22&ceid=US:en",
        ),
    ],
)
def test_mask_feed_url(url: str, masked: str) -> None:
    """Passwords and secret-looking query values are hidden; other URLs are untouched."""
    assert mask_feed_url(url) == masked


def test_describe_shows_next_reminder_in_deadline_zone() -> None:
    """A future deadline shows its next reminder, its offset and how far away it is."""
    config = loads(
        "channels: {c: console://}\n"
        "deadlines:\n"
        "  - name: pause\n    title: Pause\n    due: 2025-07-09T00:01:00-04:00\n"
        "    timezone: America/New_York\n    remind: [30d, 7d]\n",
        "watch.yaml",
        {},
    )
    text = "\n".join(describe(config, NOW))
    assert "pause  due Wed 9 Jul 2025 00:01 EDT (in 38d)" in text  # 37d16h
    assert "next reminder: Mon 9 Jun 2025 00:01 EDT (30d before, in 8d)" in text  # 7d16h


def test_describe_says_just_now_for_a_deadline_due_now() -> None:
    """``deadlines`` shows a deadline due this very second as "(just now)", not "(in 0s)"."""
    config = loads(
        "channels: {c: console://}\n"
        "deadlines:\n  - name: pause\n    title: Pause\n    due: 2025-06-01T12:00:00Z\n",
        "watch.yaml",
        {},
    )
    assert "pause  due Sun 1 Jun 2025 12:00 UTC (just now)" in "\n".join(describe(config, NOW))


def test_describe_says_how_a_watch_digests() -> None:
    """A window reads "digest every 1h", fixed times "digest daily at 08:00 and 17:00"."""
    config = loads(
        "channels: {c: console://}\n"
        "feeds: [{name: f, url: https://example.com/f}]\n"
        "watches:\n"
        "  - {name: hourly, any: [x], digest: 1h}\n"
        '  - {name: twice, any: [x], digest: "daily@17:00,08:00"}\n',
        "watch.yaml",
        {},
    )
    text = "\n".join(describe(config, NOW))
    assert "hourly  [normal] → c, digest every 1h" in text
    assert "twice  [normal] → c, digest daily at 08:00 and 17:00" in text
