"""Sources behind a protocol: the ``type:`` registry, the config key, and the poller's
dispatch by type over a real local HTTP server, real SQLite and real parse workers."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from notifier.config.loader import load
from notifier.config.schema import json_schema
from notifier.errors import FeedParseError
from notifier.matching import Matcher
from notifier.model import Feed
from notifier.pipeline.poll import Poller, PollStatus
from notifier.runtime.app import parse_pool
from notifier.sources import DEFAULT_TYPE, SOURCES, Source, jsonfeed, rss, source_for
from notifier.sources.http import ACCEPT, HttpFetcher
from notifier.storage.sqlite import Store
from tests.feedserver import FeedServer
from tests.test_jsonfeed import jf
from tests.test_poll import ITEMS, OPTIONS, WATCH
from tests.test_poll import rss as rss_document

JSON_TYPE = "application/feed+json"
#: ITEMS (the test_poll feed) as JSON Feed items.
JSON_ITEMS = [
    {"id": guid, "title": title, "content_text": text, "url": f"https://news.example.com/{guid}"}
    for guid, title, text in ITEMS
]
NEW = {"id": "a4", "title": "US and China agree on rare earths", "content_html": "<p>A deal.</p>"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state") as s:
        yield s


def news(url: str, kind: str = "jsonfeed") -> Feed:
    """Feed ``news`` (the one :data:`WATCH` watches) of source type ``kind``."""
    return Feed(name="news", url=url, title=None, interval=timedelta(minutes=15), type=kind)


# --- the registry ---------------------------------------------------------------------------


#: mypy checks these modules against the protocol (the test below checks every registered one).
CHECKED: tuple[Source, ...] = (rss, jsonfeed)


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_registered_type_is_a_source_module(name: str) -> None:
    """Each registry line names a module with the three names of :class:`Source`; its parse
    pickles by name (it runs in the parse pool) and checks ``max_bytes`` before anything;
    its prescan is unsure, not failing, about a body it cannot read."""
    module = source_for(name)
    assert isinstance(module, Source)
    assert sys.modules[SOURCES[name].module] is module
    assert module.ACCEPT is None or isinstance(module.ACCEPT, str)
    assert pickle.loads(pickle.dumps(module.parse)) is module.parse  # noqa: S301
    with pytest.raises(FeedParseError, match="over the 10-byte limit"):
        module.parse(b"<" * 11, {}, "https://example.com/", "x", max_bytes=10)
    assert module.prescan(b"\x00garbage", {}, max_bytes=100) is None


def test_the_registry_and_its_default() -> None:
    """``feed`` (RSS, Atom, RDF, JSON Feed by content) is the default type; ``jsonfeed``
    asks for JSON Feed first."""
    assert DEFAULT_TYPE == "feed" == next(iter(SOURCES))
    assert list(SOURCES) == ["feed", "jsonfeed"]
    assert source_for("feed") is rss
    assert source_for("jsonfeed") is jsonfeed
    assert rss.ACCEPT is None  # the fetcher's default: the XML types first
    assert f"{JSON_TYPE}, application/json;q=0.9, */*;q=0.8" == jsonfeed.ACCEPT


def test_an_unknown_type_is_refused_naming_the_known_ones() -> None:
    """A Feed built in code with a type nobody registered fails loudly, listing the types."""
    with pytest.raises(ValueError, match=r"unknown feed type 'rss' \(known: feed \(RSS, Atom"):
        source_for("rss")


def test_the_config_carries_the_type_and_loads_no_parser(tmp_path: Path) -> None:
    """``type:`` defaults to ``feed`` and reaches the model; loading a config (what
    ``notifier check`` does) imports neither feedparser nor any source module."""
    path = tmp_path / "watch.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            channels:
              console: ["console://"]
            feeds:
              - name: xml
                url: https://example.com/feed.xml
              - name: blog
                url: https://example.com/feed.json
                type: jsonfeed
            """
        ),
        encoding="utf-8",
    )
    assert [(f.name, f.type) for f in load(path, {}).feeds] == [
        ("xml", "feed"),
        ("blog", "jsonfeed"),
    ]
    script = (
        "import sys; from pathlib import Path; from notifier.config.loader import load; "
        f"load(Path({str(path)!r}), {{}}); "
        "print([m for m in ('feedparser', 'notifier.sources.rss', 'notifier.sources.jsonfeed') "
        "if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_the_json_schema_lists_the_registered_types() -> None:
    """Editors complete ``type:`` from the registry, default ``feed``."""
    feed = json_schema()["$defs"]["FeedSpec"]["properties"]["type"]
    assert (feed["enum"], feed["default"]) == (list(SOURCES), "feed")
    assert "jsonfeed (JSON Feed 1.0 or 1.1)" in feed["description"]


# --- the poller, by type ---------------------------------------------------------------------


async def test_a_json_feed_is_polled_end_to_end(store: Store) -> None:
    """``type: jsonfeed`` over a real socket: the first poll records silently, a new item is
    matched once, a reordered body of known ids skips the parse (ALL_KNOWN, the pre-scan),
    and every request asks for JSON Feed first."""
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/news.json", jf(*JSON_ITEMS), content_type=JSON_TYPE)
        poller = Poller(store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7)
        feed = news(server.url("/news.json"))

        first = await poller.poll(feed)
        assert (first.status, first.entries, first.matches) == (PollStatus.FIRST, 3, ())

        doc.update(jf(NEW, *JSON_ITEMS))
        second = await poller.poll(feed)
        assert second.status is PollStatus.PARSED, second.error
        assert [e.title for e in second.new] == ["US and China agree on rare earths"]
        assert [m.explain() for m in second.matches] == ['"rare earth" in title']
        assert second.new[0].content == "A deal."

        doc.update(jf(*JSON_ITEMS, NEW))
        third = await poller.poll(feed)
        assert (third.status, third.entries, third.matches) == (PollStatus.ALL_KNOWN, 4, ())

        assert (await poller.poll(feed)).status is PollStatus.NOT_MODIFIED
        accepts = {r.headers["accept"] for r in server.requests_to("/news.json")}
        assert accepts == {jsonfeed.ACCEPT}


async def test_type_feed_reads_a_json_feed_by_content(store: Store) -> None:
    """A ``type: feed`` URL that serves JSON Feed works (detected by content), with the
    default Accept; its entries get the keys they would get as ``type: jsonfeed``."""
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        server.feed("/news.json", jf(NEW, *JSON_ITEMS), content_type="application/json")
        poller = Poller(store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7, dry_run=True)
        as_feed = await poller.poll(news(server.url("/news.json"), "feed"))
        as_json = await poller.poll(news(server.url("/news.json"), "jsonfeed"))
        assert as_feed.status is PollStatus.PARSED, as_feed.error
        assert [e.key for e in as_feed.new] == [e.key for e in as_json.new]
        assert [m.entry.title for m in as_feed.matches] == [
            "US and China agree on rare earths",
            "China tightens 稀土 export rules",
        ]
        assert server.requests_to("/news.json")[0].headers["accept"] == ACCEPT


async def test_rss_under_type_jsonfeed_fails_with_a_hint(store: Store) -> None:
    """An RSS body for a ``type: jsonfeed`` feed fails that feed (not a crash), saying that
    RSS and Atom are type ``feed``; the same body under ``type: feed`` parses."""
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        server.feed("/news.xml", rss_document(*ITEMS))
        poller = Poller(store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7, dry_run=True)
        failed = await poller.poll(news(server.url("/news.xml")))
        assert failed.status is PollStatus.FAILED
        assert "RSS and Atom are type 'feed'" in (failed.error or "")
        parsed = await poller.poll(news(server.url("/news.xml"), "feed"))
        assert (parsed.status, parsed.entries) == (PollStatus.PARSED, 3)


async def test_a_json_feed_over_the_parse_cap_fails_that_poll(store: Store) -> None:
    """A 2 MB JSON Feed over the poller's 1 MB parse cap (the fetcher allows it) fails the
    poll with the size in the message; the next, smaller body parses."""
    big = jf(*({"id": str(i), "content_text": "x" * 200} for i in range(9000)))
    assert len(big) > 2_000_000
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/news.json", big, content_type=JSON_TYPE)
        poller = Poller(store, fetcher, Matcher.compile([WATCH]), max_bytes=1024 * 1024)
        result = await poller.poll(news(server.url("/news.json")))
        assert result.status is PollStatus.FAILED
        assert "over the 1,048,576-byte limit" in (result.error or "")
        doc.update(jf(*JSON_ITEMS))
        assert (await poller.poll(news(server.url("/news.json")))).status is PollStatus.FIRST


async def test_json_feeds_parse_in_the_worker_pool(store: Store) -> None:
    """With the real parse pool, a JSON Feed is parsed in a worker process (the parse
    function pickles by name) and its entries come back whole."""
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        server.feed("/news.json", jf(NEW, *JSON_ITEMS), content_type=JSON_TYPE)
        with parse_pool(1) as pool:
            poller = Poller(
                store,
                fetcher,
                Matcher.compile([WATCH]),
                max_bytes=10**7,
                executor=pool,
                dry_run=True,
            )
            result = await poller.poll(news(server.url("/news.json")))
            assert pool.starts == 1
        assert result.status is PollStatus.PARSED, result.error
        assert [m.entry.title for m in result.matches] == [
            "US and China agree on rare earths",
            "China tightens 稀土 export rules",
        ]
        assert result.new[0].content_html == "<p>A deal.</p>"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": 1', "broken JSON"),
        (b'{"error": "quota exceeded"}', "not a feed: a JSON document without a JSON Feed"),
        (b"[" * 50_000, "broken JSON: nested too deeply"),
        (jf()[:-3] + b'"all"}', "broken JSON Feed: 'items' is a string, not an array"),
    ],
)
async def test_a_broken_json_feed_fails_alone(store: Store, body: bytes, error: str) -> None:
    """A broken or foreign JSON body served over a socket fails its feed with the reason (and
    a backoff), in the worker pool; the feed beside it, served fine, still polls."""
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        server.feed("/bad.json", body, content_type=JSON_TYPE)
        server.feed("/news.json", jf(*JSON_ITEMS), content_type=JSON_TYPE)
        with parse_pool(1) as pool:
            poller = Poller(
                store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7, executor=pool
            )
            bad = Feed(
                name="bad",
                url=server.url("/bad.json"),
                title=None,
                interval=timedelta(minutes=15),
                type="jsonfeed",
            )
            failed, ok = await asyncio.gather(
                poller.poll(bad), poller.poll(news(server.url("/news.json")))
            )
        assert failed.status is PollStatus.FAILED
        assert error in (failed.error or "")
        state = poller.state("bad")
        assert state is not None
        assert (state.failures, state.next_poll is not None) == (1, True)
        assert ok.status is PollStatus.FIRST
