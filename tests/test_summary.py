"""Summaries shown by ``check`` and ``run``: readable times, masked URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifier.loader import loads
from notifier.summary import describe, mask_feed_url, relative, when

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
        (timedelta(hours=5, minutes=10), "in 5h"),
        (timedelta(minutes=90), "in 1h30m"),
        (-timedelta(days=3), "3d ago"),
        (timedelta(0), "in 0s"),
    ],
)
def test_relative(delta: timedelta, text: str) -> None:
    """Relative times are coarse when far away and precise when close."""
    assert relative(delta) == text


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
    assert "pause  due Wed 9 Jul 2025 00:01 EDT (in 37d)" in text
    assert "next reminder: Mon 9 Jun 2025 00:01 EDT (30d before, in 7d)" in text
