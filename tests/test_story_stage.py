"""The story stage of a poll (notifier.pipeline.stories) on a real SQLite state: which
story an entry joins, which matches alert, and which edits alert again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.model import Entry, EntryRecord, Feed, Hit, Match, Watch
from notifier.pipeline.stories import (
    PLACED_PER_POLL,
    PollStories,
    StoryBook,
    StoryOutcome,
    prepare,
    record,
    specific,
)
from notifier.storage.sqlite import Store

T0 = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
SUMMARY = (
    "Washington and Beijing agreed on Monday to extend their tariff truce by 90 days, "
    "keeping the 30% rate on Chinese goods until November 10, officials said."
)


def feed(name: str, *, official: bool = False) -> Feed:
    return Feed(
        name, f"https://{name}.example.com/rss", name, timedelta(minutes=5), official=official
    )


def watch(name: str, **changes: object) -> Watch:
    fields: dict[str, object] = {
        "name": name,
        "any": ("truce",),
        "all": (),
        "none": (),
        "feeds": (),
        "fields": ("title",),
        "severity": "normal",
        "channels": ("chat",),
        "digest": None,
    }
    fields.update(changes)
    return Watch(**fields)  # type: ignore[arg-type]  # a test's loose keyword arguments


def entry(
    feed: str, key: str, title: str, summary: str = SUMMARY, link: str | None = None
) -> Entry:
    return Entry(feed=feed, key=key, title=title, summary=summary, link=link)


def hit(e: Entry, name: str = "truce", term: str = "truce") -> Match:
    return Match(name, e, (Hit(term, "title", e.title),))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state") as s:
        yield s


def poll(
    store: Store,
    book: StoryBook,
    f: Feed,
    entries: list[Entry],
    matches: list[Match],
    watches: dict[str, Watch],
    at: datetime = T0,
) -> StoryOutcome:
    work = PollStories(f, new=entries, matches=matches)
    with store.transaction():
        return record(store.history, book, work, watches, at)


WATCHES = {"truce": watch("truce")}


def test_a_story_alerts_once_across_feeds_then_again_from_an_official_feed(store: Store) -> None:
    book = StoryBook()
    a = entry(
        "wire", "a", "US and China extend tariff truce by 90 days", link="https://n.example.com/x"
    )
    first = poll(store, book, feed("wire"), [a], [hit(a)], WATCHES)
    assert [m.entry.key for m in first.alerting] == ["a"]
    assert first.notes[("wire", "a")].change == "match"

    # Another outlet: the same link with tracking parameters, another headline.
    b = entry(
        "mirror",
        "b",
        "Washington, Beijing prolong truce",
        "另一种文字",
        "https://n.example.com/x?utm_source=rss",
    )
    second = poll(store, book, feed("mirror"), [b], [hit(b)], WATCHES, T0 + timedelta(hours=1))
    assert second.alerting == ()
    assert second.sources == 1

    c = entry(
        "ustr", "c", "USTR: US and China extend tariff truce", SUMMARY, "https://ustr.example.gov/t"
    )
    third = poll(
        store, book, feed("ustr", official=True), [c], [hit(c)], WATCHES, T0 + timedelta(hours=2)
    )
    note = third.notes[("ustr", "c")]
    assert note.change == "update"
    assert note.sources == 3
    assert note.first_seen == T0
    assert "official source" in note.reason
    story = store.history.story(note.story or 0)
    assert story is not None
    assert [e.feed for e in story.entries] == ["wire", "mirror", "ustr"]
    assert [m.kind for m in story.matches] == ["match", "source", "update"]


def test_updates_all_alerts_every_source_and_a_new_watch_still_gets_its_first(store: Store) -> None:
    book = StoryBook()
    watches = {
        "truce": watch("truce"),
        "every": watch("every", updates="all"),
        "late": watch("late"),
    }
    a = entry("wire", "a", "US and China extend tariff truce by 90 days")
    poll(store, book, feed("wire"), [a], [hit(a), hit(a, "every")], watches)
    b = entry("mirror", "b", "US, China extend tariff truce by 90 days")
    out = poll(store, book, feed("mirror"), [b], [hit(b), hit(b, "every"), hit(b, "late")], watches)
    assert sorted(m.watch for m in out.alerting) == ["every", "late"]
    assert out.notes[("mirror", "b")].change == "match"  # "late" sees it for the first time
    assert out.sources == 1  # "truce" had it already


def test_within_one_feed_only_the_same_headline_joins(store: Store) -> None:
    book = StoryBook()
    one = entry("news", "1", "Rare earth late A", "Rare earth news about 稀土 and magnets today.")
    two = entry("news", "2", "Rare earth late B", "Rare earth news about 稀土 and magnets today.")
    again = entry(
        "news", "3", "RARE EARTH late  A", "Rare earth news about 稀土 and magnets today."
    )
    out = poll(
        store, book, feed("news"), [one, two, again], [hit(e) for e in (one, two, again)], WATCHES
    )
    stories = {k: n.story for (_, k), n in out.notes.items()}
    assert set(stories) == {"1", "2"}  # "3" is "1" posted again: attached, silent
    assert stories["1"] != stories["2"]
    assert out.sources == 1


def test_one_feed_giving_every_entry_one_link_does_not_merge_them(store: Store) -> None:
    book = StoryBook()
    link = "https://broken.example.com/news/index"
    a = entry(
        "broken", "a", "Tariff truce extended", "A first story about the truce and its terms.", link
    )
    b = entry(
        "broken", "b", "Port fees suspended", "A second story about port fees and ships.", link
    )
    out = poll(store, book, feed("broken"), [a, b], [hit(a), Match("truce", b, ())], WATCHES)
    assert len({n.story for n in out.notes.values()}) == 2


def test_a_home_page_link_is_no_evidence() -> None:
    assert not specific("example.com")
    assert not specific("example.com/")
    assert specific("example.com/2025/06/truce")
    assert not specific(None)


def test_stories_end_with_their_window(store: Store) -> None:
    book = StoryBook(timedelta(hours=48))
    a = entry(
        "wire", "a", "US and China extend tariff truce by 90 days", link="https://n.example.com/x"
    )
    poll(store, book, feed("wire"), [a], [hit(a)], WATCHES)
    b = entry(
        "mirror", "b", "US and China extend tariff truce by 90 days", link="https://n.example.com/x"
    )
    out = poll(store, book, feed("mirror"), [b], [hit(b)], WATCHES, T0 + timedelta(hours=49))
    assert out.notes[("mirror", "b")].change == "match"
    assert out.notes[("mirror", "b")].sources == 1


def test_a_restarted_book_remembers_the_window_from_history(store: Store) -> None:
    a = entry(
        "wire", "a", "US and China extend tariff truce by 90 days", link="https://n.example.com/x"
    )
    poll(store, StoryBook(), feed("wire"), [a], [hit(a)], WATCHES)
    book = StoryBook()
    assert book.load(store.history, T0 + timedelta(hours=1)) == 1
    b = entry("mirror", "b", "Washington, Beijing prolong truce", "", "https://n.example.com/x")
    out = poll(store, book, feed("mirror"), [b], [hit(b)], WATCHES, T0 + timedelta(hours=1))
    assert out.alerting == ()


def edit_poll(
    store: Store, book: StoryBook, e: Entry, watches: dict[str, Watch], at: datetime
) -> StoryOutcome:
    (stored,) = store.history.entries_by_key(e.feed, [e.key]).values()
    matches = [hit(e, name) for name in watches if "truce" in e.title.lower()]
    work = PollStories(
        feed(e.feed), edited=[(e, stored)], edit_matches=matches, prepared={e.key: prepare(e)}
    )
    with store.transaction():
        return record(store.history, book, work, watches, at)


@pytest.mark.parametrize(
    ("policy", "new_summary", "alerts"),
    [
        ("facts", "The truce was extended to August 12, officials said.", True),
        ("facts", "The truce is set to end on July 9, as officials said.", False),
        ("all", "The truce is set to end on July 9, as officials said.", True),
        ("none", "The truce was extended to August 12, officials said.", False),
    ],
)
def test_an_edit_alerts_by_the_watch_s_policy(
    store: Store, policy: str, new_summary: str, alerts: bool
) -> None:
    book = StoryBook()
    watches = {"truce": watch("truce", edits=policy)}
    old = entry(
        "wire", "p", "Tariff truce ends soon", "The truce is set to end on July 9, officials said."
    )
    poll(store, book, feed("wire"), [old], [hit(old)], watches)
    new = entry("wire", "p", "Tariff truce ends soon", new_summary)
    out = edit_poll(store, book, new, watches, T0 + timedelta(hours=1))
    assert out.edits == 1
    assert bool(out.alerting) is alerts
    (stored,) = store.history.entries_by_key("wire", ["p"]).values()
    assert stored.summary == new_summary  # the new text is kept
    if alerts:
        note = out.notes[("wire", "p")]
        assert note.change == "edit"
        assert note.revision
        assert "[-" in note.diff or "{+" in note.diff


def test_an_entry_that_links_two_stories_found_apart_merges_them(store: Store) -> None:
    """A translation (same link as the original, other words) and a rewrite (other link,
    the same words) recorded before the original are two stories, and both alert; the
    original, carrying the link of one and the words of the other, makes them one, so a
    later copy of either alerts no third time."""
    book = StoryBook()
    link = "https://n.example.com/2025/06/truce"
    rewrite = entry(
        "digest",
        "d",
        "US, China agree to extend tariff truce by 90 days",
        SUMMARY,
        "https://d.example.org/1",
    )
    translation = entry(
        "zh", "z", "中美同意将关税休战延长90天 truce", "双方同意延长关税休战。", link + "/amp"
    )
    original = entry("wire", "w", "US and China extend tariff truce by 90 days", SUMMARY, link)
    later = entry(
        "other",
        "o",
        "US and China agree to extend tariff truce by 90 days",
        SUMMARY,
        "https://o.example.com/x",
    )
    outcomes = [
        poll(store, book, feed(e.feed), [e], [hit(e)], WATCHES, T0 + timedelta(minutes=i))
        for i, e in enumerate((rewrite, translation, original, later))
    ]
    assert [len(o.alerting) for o in outcomes] == [1, 1, 0, 0]
    stories = {o.placed[k] for o, k in zip(outcomes, "dzwo", strict=True)}
    assert len({book.resolve(s) for s in stories}) == 1
    (merged,) = {book.resolve(s) for s in stories}
    told = store.history.story(merged)
    assert told is not None
    assert sorted(e.feed for e in told.entries) == ["digest", "other", "wire", "zh"]


class _Broken(list[EntryRecord]):
    def __iter__(self) -> Iterator[EntryRecord]:
        raise OSError("disk went away")


async def test_a_failed_background_load_is_logged_and_retried_at_the_next_save(
    store: Store,
) -> None:
    """The daemon loads the index in a thread; a poll waits for it. A failed load does
    not fail the poll: the book is loaded again from history when the poll records."""
    a = entry(
        "wire", "a", "US and China extend tariff truce by 90 days", link="https://n.example.com/x"
    )
    poll(store, StoryBook(), feed("wire"), [a], [hit(a)], WATCHES)
    book = StoryBook()
    book.load_in_background(_Broken())
    await book.ready()
    assert not book.loaded
    book.load(store.history, T0 + timedelta(hours=1))
    b = entry("mirror", "b", "Washington, Beijing prolong truce", "", "https://n.example.com/x")
    out = poll(store, book, feed("mirror"), [b], [hit(b)], WATCHES, T0 + timedelta(hours=1))
    assert out.alerting == ()


async def test_polls_wait_for_a_background_load(store: Store) -> None:
    a = entry(
        "wire", "a", "US and China extend tariff truce by 90 days", link="https://n.example.com/x"
    )
    poll(store, StoryBook(), feed("wire"), [a], [hit(a)], WATCHES)
    book = StoryBook()
    book.load_in_background(store.history.recent_entries(T0 - timedelta(hours=1)))
    await book.ready()
    assert book.loaded
    assert len(book.index) == 1


def test_a_flood_places_the_matched_entries_and_records_the_rest_each_on_its_own(
    store: Store,
) -> None:
    """Past PLACED_PER_POLL new entries, the unmatched ones are recorded without a story
    lookup; a matched one, even last in the feed, is still placed (and kept silent)."""
    book = StoryBook()
    link = "https://n.example.com/x"
    a = entry("wire", "a", "US and China extend tariff truce by 90 days", link=link)
    poll(store, book, feed("wire"), [a], [hit(a)], WATCHES)
    flood = [
        entry("flood", f"f{i}", f"Filler item number {i} about nothing", f"Body {i} text here.")
        for i in range(PLACED_PER_POLL + 50)
    ]
    copy = entry("flood", "copy", "Washington, Beijing prolong truce", "", link)
    out = poll(
        store, book, feed("flood"), [*flood, copy], [hit(copy)], WATCHES, T0 + timedelta(hours=1)
    )
    assert out.alerting == ()  # the copy joined the story already alerted
    assert out.sources == 1
    assert len(out.placed) == PLACED_PER_POLL + 51
