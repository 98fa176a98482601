"""Output for people and scripts: ``once``/``match`` lines, JSON lines, ``status``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from notifier.cli.report import event_text, status_lines, story_json, story_text, verdict_text
from notifier.delivery.messages import HEADLINE_MAX
from notifier.matching import Outcome, Verdict
from notifier.model import Entry, FeedState, Hit, Match, StoryNote
from notifier.sources.health import HealthEvent, HealthEventKind

NY = ZoneInfo("America/New_York")
NOW = datetime(2025, 6, 10, 13, 0, tzinfo=UTC)


def atom_entry(**changes: object) -> Entry:
    """An Atom entry with ``<updated>`` but no ``<published>``; keywords replace fields."""
    fields: dict[str, object] = {
        "feed": "news",
        "key": "v1:a",
        "title": "China tightens 稀土 export rules",
        "link": "https://news.example.com/a2",
        "updated": NOW,
    }
    fields.update(changes)
    return Entry(**fields)  # type: ignore[arg-type]


def test_once_shows_the_updated_time_when_there_is_no_published_one() -> None:
    """``notifier once`` labels an Atom entry's <updated> time instead of showing no time."""
    match = Match("rare-earths", atom_entry(), (Hit("稀土", "title", "tightens 稀土 export"),))
    assert story_text([match], {"rare-earths": "high"}, StoryNote(), NY)[0] == (
        "MATCH rare-earths [high]  news  updated Tue 10 Jun 2025 09:00 EDT"
    )
    published = Match("w", atom_entry(published=NOW - timedelta(hours=1)), ())
    assert (
        story_text([published], {}, StoryNote(), NY)[0]
        == "MATCH w [normal]  news  Tue 10 Jun 2025 08:00 EDT"
    )


def test_json_lines_carry_the_updated_time() -> None:
    """``once --json`` has ``updated`` beside ``published`` (null when the feed gave none)."""
    line = json.loads(story_json([Match("w", atom_entry(), ())], {}, StoryNote()))
    assert line["published"] is None
    assert line["updated"] == "2025-06-10T13:00:00+00:00"


def test_text_lines_cannot_carry_terminal_escapes_or_huge_titles() -> None:
    """Feed titles, snippets and errors print as one clean, capped line: no escape sequence
    reaches the terminal, and a 1 MB title prints a few hundred characters."""
    hostile = "Tariffs\x1b[2J\x1b]52;c;ZXZpbA==\x07 up\u202e\nnow"
    hit = Hit("tariff", "title", "…\x1b[31mred\x1b[0m…")
    lines = story_text([Match("w", atom_entry(title=hostile), (hit,))], {"w": "low"}, None, NY)
    verdict = verdict_text(
        Verdict("w", Outcome.MATCHED, "matched", (hit,)), atom_entry(title="x" * 1_000_000)
    )
    event = HealthEvent(HealthEventKind.UNHEALTHY, "news", 5, "bad\x1b[2J\r\nreply", NOW)
    text = "\n".join([*lines, *verdict, event_text(event)])
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert lines[1] == "  Tariffs[2J]52;c;ZXZpbA== up now"
    assert event_text(event).endswith("last: bad[2J reply")
    assert len(verdict[0]) < HEADLINE_MAX + 20


def test_status_says_just_now_and_ago() -> None:
    """``status`` reads "last polled just now" / "14s ago", never "in 0s" for a past time."""
    feeds = [
        FeedState(name="a", url="https://a.test/", last_polled=NOW - timedelta(milliseconds=400)),
        FeedState(name="b", url="https://b.test/", last_polled=NOW - timedelta(seconds=14)),
    ]
    lines = status_lines(feeds, [], NOW)
    assert "  a: ok, last polled just now" in lines
    assert "  b: ok, last polled 14s ago" in lines
