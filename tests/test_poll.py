"""Polling feeds end to end through a real local HTTP server, real parser and real SQLite."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest

from notifier import logs
from notifier.matching import Matcher
from notifier.model import Config, Feed, FetchPolicy, NewAlert, Proposal, Watch
from notifier.pipeline.poll import MAX_ANNOUNCED, Poller, PollStatus
from notifier.pipeline.proposals import Discovery
from notifier.runtime.app import parse_pool, poll_once
from notifier.sources.health import HealthEventKind
from notifier.sources.http import HttpFetcher
from notifier.sources.rss import ParsedFeed, key_scan, parse
from notifier.storage.sqlite import Store
from tests.conftest import corpus_dir
from tests.feedserver import FeedServer

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
FIRST_PUBLISHED = datetime(2025, 6, 10, tzinfo=UTC)


def rss(*items: tuple[str, str, str], extra: str = "", published: datetime | None = None) -> bytes:
    """An RSS 2.0 document with (guid, title, description) items, published on 10 June
    2025 at 00:00, 01:00… UTC (or all at ``published``)."""
    body = "".join(
        f"<item><guid isPermaLink='false'>{escape(g)}</guid><title>{escape(t)}</title>"
        f"<link>https://news.example.com/{escape(g)}</link>"
        f"<description>{escape(d)}</description>"
        f"<pubDate>{format_datetime(published or FIRST_PUBLISHED + timedelta(hours=i))}"
        "</pubDate></item>"
        for i, (g, t, d) in enumerate(items)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Trade news</title><link>https://news.example.com/</link>{extra}{body}"
        "</channel></rss>"
    ).encode()


ITEMS = [
    ("a1", "Talks resume in London", "Delegations met on Monday."),
    ("a2", "China tightens 稀土 export rules", "Rare earth magnets need licences."),
    ("a3", "Weather", "Sunny."),
]

WATCH = Watch(
    name="rare-earths",
    any=("rare earth", "稀土"),
    all=(),
    none=(),
    feeds=("news",),
    fields=("title", "summary", "content"),
    severity="high",
    channels=("console",),
    digest=None,
)


class CountingParse:
    """The real parser, counting its calls (a fake wrapper, not a mock)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(
        self, body: bytes, headers: Mapping[str, str], url: str, feed: str, *, max_bytes: int
    ) -> ParsedFeed:
        self.calls += 1
        return parse(body, headers, url, feed, max_bytes=max_bytes)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def feed(url: str, name: str = "news", **kw: object) -> Feed:
    return Feed(name=name, url=url, title=None, interval=timedelta(minutes=15), **kw)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state") as s:
        yield s


OPTIONS = FetchPolicy(timeout=timedelta(seconds=2), connect_timeout=timedelta(seconds=2))


def news_config(url: str) -> Config:
    """A config with one feed, ``news`` at ``url``, and the rare-earths watch."""
    return Config(
        timezone=UTC,  # type: ignore[arg-type]
        default_channels=("console",),
        fetch=OPTIONS,
        feeds=(feed(url),),
        watches=(WATCH,),
    )


async def test_first_poll_is_silent_then_new_entries_match(store: Store) -> None:
    """A new feed records its entries without alerts; an entry added later is matched once."""
    counting = CountingParse()
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/news.xml", rss(*ITEMS))
        poller = Poller(
            store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7, parse_fn=counting
        )
        f = feed(server.url("/news.xml"))
        first = await poller.poll(f)
        assert first.status is PollStatus.FIRST
        assert (first.entries, first.new, first.matches) == (3, (), ())

        doc.update(rss(("a4", "US and China agree on rare earths", "A deal."), *ITEMS))
        second = await poller.poll(f)
        assert second.status is PollStatus.PARSED
        assert [e.title for e in second.new] == ["US and China agree on rare earths"]
        assert [m.watch for m in second.matches] == ["rare-earths"]
        assert second.matches[0].explain() == '"rare earth" in title'

        third = await poller.poll(f)
        assert third.status is PollStatus.NOT_MODIFIED
        assert third.matches == ()
        assert counting.calls == 2


async def test_304_path_sends_validators_and_parses_nothing(store: Store) -> None:
    """The second poll of an unchanged feed sends If-None-Match/If-Modified-Since; no parse."""
    counting = CountingParse()
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/news.xml", rss(*ITEMS), last_modified=NOW)
        poller = Poller(store, fetcher, Matcher.compile([]), max_bytes=10**7, parse_fn=counting)
        f = feed(server.url("/news.xml"))
        await poller.poll(f)
        result = await poller.poll(f)
        sent = server.requests_to("/news.xml")[-1].headers
        assert sent["if-none-match"] == doc.etag
        assert "if-modified-since" in sent
        assert result.status is PollStatus.NOT_MODIFIED
        assert counting.calls == 1


async def test_304_polls_write_their_poll_times_in_one_transaction(
    store: Store, tmp_path: Path
) -> None:
    """Concurrent polls that change nothing but the poll times share one commit, read no
    feed state back from SQLite, and everything is on disk when the last of them returns."""
    clock = Clock(NOW)
    names = [f"f{i}" for i in range(6)]
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        for name in names:
            server.feed(f"/{name}.xml", rss(*ITEMS))
        feeds = [feed(server.url(f"/{n}.xml"), n) for n in names]
        poller = Poller(store, fetcher, Matcher.compile([]), max_bytes=10**7, clock=clock)
        await asyncio.gather(*(poller.poll(f) for f in feeds))

        clock.now = NOW + timedelta(minutes=15)
        statements: list[str] = []
        store.db.set_trace_callback(statements.append)
        results = await asyncio.gather(*(poller.poll(f) for f in feeds))
        store.db.set_trace_callback(None)

    assert {r.status for r in results} == {PollStatus.NOT_MODIFIED}
    assert sum(1 for q in statements if q.strip().upper() == "COMMIT") == 1
    assert not [q for q in statements if "FROM feeds" in q]  # states kept by the poller
    assert poller.state("f0") is not None
    assert poller.state("f0").last_polled == clock.now  # type: ignore[union-attr]
    with Store.open(tmp_path / "state", read_only=True) as other:
        for name in names:
            state = other.feed_state(name)
            assert state is not None
            assert state.last_polled == state.last_ok == clock.now
            assert state.next_poll == clock.now + timedelta(minutes=15)
            assert state.last_parsed == NOW  # only the poll times moved


async def test_a_changed_etag_on_an_identical_body_is_saved(store: Store) -> None:
    """UNCHANGED with a new ETag is a real change: written at once, not merely touched."""
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        server.feed("/news.xml", rss(*ITEMS), etag=False)
        poller = Poller(store, fetcher, Matcher.compile([]), max_bytes=10**7)
        f = feed(server.url("/news.xml"))
        await poller.poll(f)
        assert store.feed_state("news").etag is None  # type: ignore[union-attr]
        server.feed("/news.xml", rss(*ITEMS), etag=True)
        result = await poller.poll(f)
        assert result.status is PollStatus.UNCHANGED
        assert store.feed_state("news").etag is not None  # type: ignore[union-attr]


async def test_routine_polls_log_at_debug_news_at_info(store: Store) -> None:
    """At INFO, a 304 poll logs nothing; a poll that found entries logs its line."""
    for level, expected in (("info", ["first_poll"]), ("debug", ["first_poll", "not_modified"])):
        out = io.StringIO()
        logs.configure_logging("json", level, out)
        async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
            server.feed("/news.xml", rss(*ITEMS))
            with Store(":memory:") as fresh:
                poller = Poller(fresh, fetcher, Matcher.compile([]), max_bytes=10**7)
                f = feed(server.url("/news.xml"))
                await poller.poll(f)
                await poller.poll(f)
        polled = [
            line["status"]
            for line in map(json.loads, out.getvalue().splitlines())
            if line["event"] == "feed polled"
        ]
        assert polled == expected, level


async def test_identical_body_without_validators_is_not_parsed(store: Store) -> None:
    """A server that ignores conditional GET and re-sends the same bytes costs no parse."""
    counting = CountingParse()
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        server.respond("/news.xml", 200, body=rss(*ITEMS))
        poller = Poller(store, fetcher, Matcher.compile([]), max_bytes=10**7, parse_fn=counting)
        f = feed(server.url("/news.xml"))
        await poller.poll(f)
        result = await poller.poll(f)
        assert result.status is PollStatus.UNCHANGED
        assert counting.calls == 1


async def test_changed_body_with_known_entries_skips_the_full_parse(store: Store) -> None:
    """Only lastBuildDate changed: the pre-scan sees every key known and skips feedparser."""
    counting = CountingParse()
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        route = server.respond("/news.xml", 200, body=rss(*ITEMS))
        poller = Poller(store, fetcher, Matcher.compile([]), max_bytes=10**7, parse_fn=counting)
        f = feed(server.url("/news.xml"))
        await poller.poll(f)
        route.body = rss(
            *ITEMS, extra="<lastBuildDate>Tue, 10 Jun 2025 12:00:00 GMT</lastBuildDate>"
        )
        result = await poller.poll(f)
        assert result.status is PollStatus.ALL_KNOWN
        assert result.entries == 3
        assert counting.calls == 1


async def test_edited_entry_does_not_alert_again(store: Store) -> None:
    """An entry re-served with a new title keeps its key: no second alert."""
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/news.xml", rss(*ITEMS))
        poller = Poller(store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7)
        f = feed(server.url("/news.xml"))
        await poller.poll(f)
        doc.update(rss(("a2", "UPDATED: rare earth rules", "More rare earth news."), ITEMS[0]))
        result = await poller.poll(f)
        assert result.status in (PollStatus.PARSED, PollStatus.ALL_KNOWN)
        assert result.new == ()
        assert result.matches == ()


async def test_backfill_alerts_on_the_newest_entries_of_a_first_poll(store: Store) -> None:
    """``backfill: 1`` treats the newest entry of a brand-new feed as new."""
    items = [
        ("b1", "Old rare earth story", "x"),
        ("b2", "Newest rare earth story", "y"),
    ]
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        server.feed("/news.xml", rss(*items))
        poller = Poller(store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7)
        result = await poller.poll(feed(server.url("/news.xml"), backfill=1))
        assert result.status is PollStatus.FIRST
        assert [m.entry.title for m in result.matches] == ["Newest rare earth story"]


async def test_failing_feed_backs_off_reports_unhealthy_once_and_recovers(store: Store) -> None:
    """500 three times then 200: three failures (unhealthy at the 3rd), then one recovery."""
    clock = Clock(NOW)
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        server.flaky("/news.xml", 3, rss(*ITEMS))
        poller = Poller(
            store, fetcher, Matcher.compile([]), max_bytes=10**7, clock=clock, rand=lambda: 0.5
        )
        f = feed(server.url("/news.xml"), unhealthy_after=3)
        kinds = []
        for _ in range(4):
            result = await poller.poll(f)
            kinds.append((result.status, result.event.kind if result.event else None))
            clock.now += timedelta(hours=1)
        assert kinds == [
            (PollStatus.FAILED, None),
            (PollStatus.FAILED, None),
            (PollStatus.FAILED, HealthEventKind.UNHEALTHY),
            (PollStatus.FIRST, HealthEventKind.RECOVERED),
        ]
        state = store.feed_state("news")
        assert state is not None
        assert state.failures == 0


def entity_bomb() -> bytes:
    """A ~25 KB feed declaring one 10 KB entity used 5,000 times (51 MB if expanded)."""
    entity = "A" * 10_000
    uses = "&big;" * 5_000
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "{entity}">\n]>\n'
        f'<rss version="2.0"><channel><title>t</title><item><title>x</title>'
        f"<description>{uses}</description></item></channel></rss>"
    ).encode()


async def test_broken_feeds_fail_clearly_while_the_others_succeed(tmp_path: Path) -> None:
    """Stall, 500s, 50 MB, redirect loop, entity bomb, HTML page: each a clear logged error."""
    out = io.StringIO()
    logs.configure_logging("json", "info", out)
    async with FeedServer() as server:
        server.feed("/good.xml", rss(*ITEMS))
        server.slow("/stall.xml", 60)
        server.flaky("/flaky.xml", 3, rss(*ITEMS))
        big = server.stream("/big.xml", 50 * 1024 * 1024)
        server.redirect("/loop-a", "/loop-b")
        server.redirect("/loop-b", "/loop-a")
        server.feed("/bomb.xml", entity_bomb())
        server.feed("/page.html", b"<html><body><h1>Moved</h1></body></html>")
        names = ["good", "stall", "flaky", "big", "loop", "bomb", "page"]
        paths = ["/good.xml", "/stall.xml", "/flaky.xml", "/big.xml", "/loop-a", "/bomb.xml"]
        paths.append("/page.html")
        config = Config(
            timezone=UTC,  # type: ignore[arg-type]
            default_channels=(),
            fetch=FetchPolicy(
                timeout=timedelta(seconds=2),
                connect_timeout=timedelta(seconds=2),
                max_bytes=1024 * 1024,
            ),
            feeds=tuple(feed(server.url(p), n) for n, p in zip(names, paths, strict=True)),
        )
        results = {r.feed: r for r in await poll_once(config, tmp_path, dry_run=True)}
    assert results["good"].ok
    assert results["good"].entries == 3
    expected = {
        "stall": "no complete response within 2 s",
        "flaky": "HTTP 500",
        "big": "more than fetch.max_bytes",
        "loop": "redirect loop",
        "bomb": "entit",
        "page": "not a feed",
    }
    for name, words in expected.items():
        assert results[name].status is PollStatus.FAILED, name
        assert words in (results[name].error or ""), (name, results[name].error)
    assert not big.finished
    logged = {
        line["feed"]: line
        for line in map(json.loads, out.getvalue().splitlines())
        if line["event"] == "feed polled"
    }
    assert set(logged) == set(names)
    assert logged["stall"]["level"] == "warning"
    assert "within 2 s" in logged["stall"]["error"]


async def test_dry_run_writes_no_state_and_matches_a_first_poll(tmp_path: Path) -> None:
    """``once --dry-run``: matches every unseen entry, creates no state file."""
    async with FeedServer() as server:
        server.feed("/news.xml", rss(*ITEMS))
        config = news_config(server.url("/news.xml"))
        (result,) = await poll_once(config, tmp_path / "state", dry_run=True)
    assert [m.entry.title for m in result.matches] == ["China tightens 稀土 export rules"]
    assert not (tmp_path / "state").exists()


async def test_parsing_in_a_process_pool(tmp_path: Path) -> None:
    """The real process pool parses feeds (arguments and results pickle)."""
    async with FeedServer() as server:
        server.feed("/news.xml", rss(*ITEMS))
        config = news_config(server.url("/news.xml"))
        with parse_pool(2) as pool:
            (result,) = await poll_once(config, tmp_path, dry_run=True, executor=pool)
    assert result.entries == 3
    assert len(result.matches) == 1


async def test_whole_corpus_over_http(tmp_path: Path) -> None:
    """All 50 real feeds, served over HTTP: none crashes a poll, and a re-poll parses nothing.

    The HTML page fails as "not a feed"; the truncated Reuters capture fails
    instead of recording anything; the other feeds' entries are all recorded.
    """
    root = corpus_dir()
    if root is None:
        pytest.skip("feed corpus not found: set NOTIFIER_FIXTURES or put ../shared beside the repo")
    files = sorted(p.name for p in root.glob("*.xml"))
    assert len(files) == 50
    async with FeedServer() as server:
        server.directory("/feeds/", root)
        config = Config(
            timezone=UTC,  # type: ignore[arg-type]
            default_channels=(),
            fetch=OPTIONS,
            feeds=tuple(
                feed(server.url(f"/feeds/{name}"), f"f{i}") for i, name in enumerate(files)
            ),
        )
        first = await poll_once(config, tmp_path)
        second = await poll_once(config, tmp_path)
    by_file = dict(zip(files, first, strict=True))
    assert "not a feed" in (by_file["rssparser-html-object-moved-not-a-feed.xml"].error or "")
    reuters = by_file["feedrs-reuters-rss2-truncated-server-error.xml"]
    assert reuters.status is PollStatus.FAILED
    failed = {name for name, r in by_file.items() if not r.ok}
    assert failed <= {
        "rssparser-html-object-moved-not-a-feed.xml",
        "feedrs-reuters-rss2-truncated-server-error.xml",
        "feedparser-synthetic-rss2-incomplete-cdata.xml",
    }
    assert all(r.status is PollStatus.FIRST for n, r in by_file.items() if n not in failed)
    assert all(r.error is None or "internal error" not in r.error for r in first)
    with Store.open(tmp_path) as store:
        assert store.seen_count(by_file[files[0]].feed) > 0
        assert store.seen_count(reuters.feed) == 0
    for name, result in zip(files, second, strict=True):
        if name not in failed:
            assert result.status is PollStatus.NOT_MODIFIED, name


async def test_a_feed_that_rekeys_every_entry_does_not_alert_again(store: Store) -> None:
    """A feed that gives every entry a new guid at once, links and titles unchanged, is
    the same entries re-keyed: nothing alerts, the poll says how many were recognised,
    and an entry that is really new among them still alerts."""
    items = [
        ("a1", "Rare earth talks resume", "Delegations met."),
        ("a2", "Rare earth magnets licensed", "Licences."),
        ("a3", "Rare earth prices", "Up."),
    ]

    def keyed(prefix: str, rows: list[tuple[str, str, str]]) -> bytes:
        # new guids, the same links (rss() puts the guid in the link: keep the old one)
        body = "".join(
            f"<item><guid isPermaLink='false'>{prefix}{g}</guid><title>{t}</title>"
            f"<link>https://news.example.com/{g}</link><description>{d}</description></item>"
            for g, t, d in rows
        )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Trade news</title>{body}</channel></rss>"
        ).encode()

    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/news.xml", keyed("old-", items))
        poller = Poller(store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7)
        f = feed(server.url("/news.xml"))
        # The first poll is key-only: the fingerprints come from the key scan.
        assert key_scan(doc.body, {}, f.url) is not None
        assert (await poller.poll(f)).status is PollStatus.FIRST
        doc.update(keyed("new-", items))
        rekeyed = await poller.poll(f)
        assert rekeyed.status is PollStatus.PARSED
        assert (rekeyed.matches, rekeyed.rekeyed) == ((), 3)
        fresh = ("a4", "Rare earth deal signed", "News.")
        doc.update(keyed("newer-", [*items, fresh]))
        mixed = await poller.poll(f)
        assert [m.entry.title for m in mixed.matches] == ["Rare earth deal signed"]
        assert mixed.rekeyed == 3


async def test_a_regex_bomb_entry_is_recorded_as_seen_and_not_matched_again(
    store: Store,
) -> None:
    """An entry on which a watch's regex runs out of time is recorded as seen (with the
    overrun in the poll result), so the next poll does not try it again."""
    bomb = Watch(
        name="bomb",
        any=("/(a|aa)+$/",),
        all=(),
        none=(),
        feeds=("news",),
        fields=("title",),
        severity="normal",
        channels=("console",),
        digest=None,
    )
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/news.xml", rss(("a1", "calm", "x")))
        poller = Poller(store, fetcher, Matcher.compile([bomb, WATCH]), max_bytes=10**7)
        f = feed(server.url("/news.xml"))
        await poller.poll(f)
        doc.update(rss(("a1", "calm", "x"), ("a2", "a" * 40 + "b rare earth", "x")))
        result = await poller.poll(f)
        assert [(o.watch, o.feed) for o in result.overruns] == [("bomb", "news")]
        assert [m.watch for m in result.matches] == ["rare-earths"]
        doc.update(rss(("a2", "a" * 40 + "b rare earth", "x"), ("a1", "calm", "x")))
        again = await poller.poll(f)
        assert again.status is PollStatus.ALL_KNOWN
        assert again.overruns == ()


async def test_entries_seen_under_their_old_keys_do_not_alert_again(store: Store) -> None:
    """Two items share a guid (each with its own link): their keys changed with the key
    scheme, and a store that recorded them under the old keys does not alert on them
    after the upgrade — but a new item still alerts."""
    shared = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>"
        "<item><guid isPermaLink='false'>same</guid><title>Rare earth talks</title>"
        "<link>https://news.example.com/1</link><pubDate>Tue, 10 Jun 2025 01:00:00 GMT</pubDate>"
        "</item><item><guid isPermaLink='false'>same</guid><title>Rare earth quotas</title>"
        "<link>https://news.example.com/2</link><pubDate>Tue, 10 Jun 2025 02:00:00 GMT</pubDate>"
        "</item>{more}</channel></rss>"
    )
    body = shared.format(more="").encode()
    parsed = parse(body, {}, "https://news.example.com/rss", "news")
    legacy = [e.legacy_key for e in parsed.entries]
    assert all(legacy), "the scheme must have changed these keys for this test to mean anything"
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/news.xml", body)
        f = feed(server.url("/news.xml"))
        with store.transaction():
            store.mark_seen("news", [k for k in legacy if k], NOW)
            from notifier.model import FeedState  # noqa: PLC0415

            store.save_feed_state(FeedState("news", f.url, last_parsed=NOW))
        poller = Poller(store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7)
        result = await poller.poll(f)
        assert result.status is PollStatus.PARSED
        assert result.matches == ()
        doc.update(
            shared.format(
                more="<item><guid>n1</guid><title>Rare earth deal</title>"
                "<link>https://news.example.com/3</link></item>"
            ).encode()
        )
        fresh = await poller.poll(f)
        assert [m.entry.title for m in fresh.matches] == ["Rare earth deal"]


async def test_a_flood_of_dated_entries_announces_ten_and_keeps_the_rest(store: Store) -> None:
    """A feed that suddenly serves 30 entries with a deadline each: all 30 become proposals
    (``notifier proposals`` lists them), 10 are announced; the poll goes on normally."""
    items = [
        (f"d{i}", f"Rare earth rule {i}", f"Comments on rare earth rule {i} are due on March {i}.")
        for i in range(1, 31)
    ]
    announced: list[int] = []

    def announce(proposals: Sequence[Proposal], now: datetime) -> list[NewAlert]:
        announced.append(len(proposals))
        return []

    config = replace(news_config("http://unused"), timezone=ZoneInfo("UTC"))
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/news.xml", rss(*ITEMS))
        f = feed(server.url("/news.xml"))
        poller = Poller(
            store,
            fetcher,
            Matcher.compile([WATCH]),
            max_bytes=10**7,
            clock=Clock(datetime(2025, 1, 10, tzinfo=UTC)),
            discovery=Discovery.of(replace(config, feeds=(f,))),
            announce=announce,
        )
        await poller.poll(f)  # the first poll: silent, nothing read
        doc.update(rss(*items, *ITEMS))
        result = await poller.poll(f)
    assert result.status is PollStatus.PARSED
    assert len(result.matches) == 30
    assert len(result.proposals) == 30
    assert announced == [MAX_ANNOUNCED]
    assert len(store.proposals.proposals()) == 30
