"""The cold cycle's cheap read (``rss.first_scan``): exactly what a parse gives, or unsure.

A silent first poll (no ``backfill``) takes its entries from ``first_scan``
instead of a full feedparser parse. These tests pin that it never changes what
is recorded: on every corpus file and on generated documents (guids present,
missing and shared; RSS, Atom and RDF; HTML, entities, odd links and dates,
other encodings) its entries equal the parse's in every field a first poll
records, and end to end (a real local HTTP server, real SQLite) a cold start
re-alerts nothing afterwards while later entries alert exactly as before.
"""

from __future__ import annotations

import asyncio
import functools
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.errors import FeedError
from notifier.matching import Matcher
from notifier.model import Entry, Feed, FetchPolicy, Watch
from notifier.pipeline.poll import Poller, PollResult, PollStatus, fingerprint
from notifier.pipeline.stories import StoryBook
from notifier.sources.http import HttpFetcher
from notifier.sources.keys import PLAIN_URL
from notifier.sources.rss import (
    _URI_FIXER,
    _base_independent,
    first_scan,
    key_scan,
    parse,
    prescan,
)
from notifier.storage.sqlite import Store
from tests.conftest import corpus_dir
from tests.feedserver import FeedServer

P = ParamSpec("P")
T = TypeVar("T")

#: What a silent first poll records of an entry (keys, history row, fingerprint).
FIELDS = (
    "key",
    "legacy_key",
    "title",
    "summary",
    "content",
    "summary_html",
    "content_html",
    "link",
    "published",
    "updated",
)
URL = "https://feeds.example/feed.xml"


def recorded(entries: tuple[Entry, ...]) -> list[tuple[object, ...]]:
    return [tuple(getattr(e, name) for name in FIELDS) for e in entries]


def assert_keys_as_parse(body: bytes, headers: dict[str, str], url: str = URL) -> bool:
    """key_scan is None or gives parse's keys and fingerprints, in order; True: answered."""
    keyed = key_scan(body, headers, url)
    if keyed is None:
        return False
    parsed = parse(body, headers, url, "f")
    assert keyed == [(e.key, fingerprint(e)) for e in parsed.entries]
    assert [k for k, _ in keyed] == prescan(body, headers)  # the pre-scan is as sure
    return True


def assert_same_as_parse(body: bytes, headers: dict[str, str], url: str = URL) -> bool:
    """first_scan is None or gives parse's entries (parse warns of nothing); True: answered.
    key_scan is checked too, and answers wherever first_scan does."""
    keys_answered = assert_keys_as_parse(body, headers, url)
    scanned = first_scan(body, headers, url, "f")
    if scanned is None:
        return False
    parsed = parse(body, headers, url, "f")
    assert parsed.warning is None
    assert recorded(scanned.entries) == recorded(parsed.entries)
    assert scanned.version == parsed.version
    # Never more sure than the pre-scan, and the same keys.
    assert prescan(body, headers) == [e.key for e in parsed.entries]
    assert keys_answered or b"<!DOCTYPE" in body
    return True


# --- the corpus ------------------------------------------------------------------------------


def test_first_scan_agrees_with_parse_on_every_corpus_file() -> None:
    """Wherever first_scan answers on a corpus file, every recorded field is parse's."""
    directory = corpus_dir()
    if directory is None:
        pytest.skip(
            "feed corpus not found: set NOTIFIER_FIXTURES, "
            "or put shared/fixtures/feeds beside the repository"
        )
    answered = keys_answered = 0
    for path in sorted(directory.iterdir()):
        if path.suffix not in (".xml", ".rss", ".atom", ".json", ".rdf"):
            continue
        body = path.read_bytes()
        try:
            parse(body, {}, f"https://feeds.example/{path.name}", path.name)
        except FeedError:
            assert first_scan(body, {}, URL, "f") is None, path.name
            assert key_scan(body, {}, URL) is None, path.name
            continue
        url = f"https://feeds.example/{path.name}"
        answered += assert_same_as_parse(body, {}, url)
        keys_answered += assert_keys_as_parse(body, {}, url)
    assert answered >= 4  # not vacuous: the plain well-formed feeds are answered
    assert keys_answered >= answered


def test_first_scan_refuses_the_known_hard_cases() -> None:
    """Duplicate or missing guids, RDF, leading junk, relative links: left to the parse."""
    directory = corpus_dir()
    if directory is None:
        pytest.skip("feed corpus not found")
    for name in (
        "rome-moe-sg-feedburner-rss2-duplicate-guids.xml",
        "rsparser-scriptingnews-rss2-duplicate-guids.xml",
        "feedjira-hackernews-rss2-noguid.xml",
        "rome-slashdot-rss1-rdf.xml",
        "rssparser-swr-podcast-rss2-leading-space.xml",
        "nodefeedparser-neverwinter-rss2-relative-urls.xml",
        "rssparser-html-object-moved-not-a-feed.xml",
    ):
        assert first_scan((directory / name).read_bytes(), {}, URL, "f") is None, name
        assert key_scan((directory / name).read_bytes(), {}, URL) is None, name


# --- generated documents ---------------------------------------------------------------------

_words = st.sampled_from(
    [
        "rare earth",
        "稀土",
        "Zölle",
        "café",
        "Ã©t",  # Latin-1 letters that are UTF-8: feedparser re-decodes them
        "a &amp; b",
        "&lt;b&gt;bold&lt;/b&gt;",
        "x &#8217; y",
        "<![CDATA[<p>in CDATA</p>]]>",
        "  spaced\n out  ",
        "\u0093quoted\u0094",  # C1 controls: feedparser maps them as cp1252
        "",
    ]
)
_guids = st.one_of(
    st.none(),
    st.sampled_from(["a1", "a2", "urn:uuid:1234", "tag:x.org,2025:1", "https://x.org/p?a=1&b=2"]),
    st.sampled_from(["/relative", "http://x.org/a b", "é1"]),
)
_links = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "https://news.example.com/a",
            "https://news.example.com/a?x=1&amp;y=2",
            "HTTP://News.Example.com:80/b#frag",
            "/relative/c",
            "https://news.example.com/é",
        ]
    ),
)
_dates = st.sampled_from(
    [
        None,
        "Tue, 10 Jun 2025 08:00:00 GMT",
        "2025-06-10T08:00:00+02:00",
        "10 juin 2025",
        "",
    ]
)
_extras = st.sampled_from(
    [
        "",
        "<category>trade</category>",
        "<author>a@example.com (A)</author>",
        "<media:title xmlns:media='http://search.yahoo.com/mrss/'>Other</media:title>",
        "<dc:date xmlns:dc='http://purl.org/dc/elements/1.1/'>2025-06-10</dc:date>",
        "<content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
        "&lt;p&gt;Full text&lt;/p&gt;</content:encoded>",
    ]
)

_atom_extras = st.sampled_from(
    [
        "",
        "<content type='html'>&lt;p&gt;Full &lt;b&gt;rare earth&lt;/b&gt; text&lt;/p&gt;</content>",
        "<content>plain content</content>",
        "<content type='text'>  spaced\n content </content>",
        "<content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>x</div></content>",
        "<content type='html' src='https://x.org/c'/>",
        "<link rel='enclosure' href='https://x.org/a.mp3'/>",
        "<link rel='alternate' type='text/html' href='https://x.org/second'/>",
        "<link rel='alternate' type='application/pdf' href='https://x.org/doc.pdf'/>",
        "<link rel='self' href='https://x.org/self'/>",
        "<link href='relative/x'/>",
        "<author><name>A</name><email>a@x.org</email></author>",
        "<category term='trade'/>",
        "<published>2025-06-09T08:00:00Z</published>",
        "<summary>second summary</summary>",
    ]
)


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "guid": draw(_guids),
        "permalink": draw(st.sampled_from([None, "true", "false"])),
        "title": draw(_words),
        "title_type": draw(st.sampled_from([None, "html", "text", "xhtml"])),
        "link": draw(_links),
        "summary": draw(_words),
        "date": draw(_dates),
        "extra": draw(_extras),
        "atom_extras": draw(st.lists(_atom_extras, max_size=2)),
        "content_first": draw(st.booleans()),
    }


def rss_doc(entries: list[dict[str, Any]], *, rdf: bool = False) -> str:
    out = []
    for e in entries:
        parts = []
        if e["guid"] is not None:
            attr = f" isPermaLink={quoteattr(e['permalink'])}" if e["permalink"] else ""
            parts.append(f"<guid{attr}>{escape(e['guid'])}</guid>")
        parts.append(f"<title>{e['title']}</title>")
        if e["link"] is not None:
            parts.append(f"<link>{e['link'] if '&amp;' in e['link'] else escape(e['link'])}</link>")
        parts.append(f"<description>{e['summary']}</description>")
        if e["date"] is not None:
            parts.append(f"<pubDate>{e['date']}</pubDate>")
        parts.append(e["extra"])
        about = f" rdf:about={quoteattr(e['guid'] or 'x')}" if rdf else ""
        out.append(f"<item{about}>{''.join(parts)}</item>")
    if rdf:
        return (
            "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' "
            "xmlns='http://purl.org/rss/1.0/'><channel rdf:about='x'><title>T</title></channel>"
            f"{''.join(out)}</rdf:RDF>"
        )
    return f"<rss version='2.0'><channel><title>T</title>{''.join(out)}</channel></rss>"


def atom_doc(entries: list[dict[str, Any]]) -> str:
    out = []
    for e in entries:
        parts = []
        if e["guid"] is not None:
            parts.append(f"<id>{escape(e['guid'])}</id>")
        kind = f" type='{e['title_type']}'" if e["title_type"] else ""
        title = e["title"] if e["title_type"] != "xhtml" else f"<div>{e['title']}</div>"
        parts.append(f"<title{kind}>{title}</title>")
        if e["link"] is not None:
            href = e["link"] if "&amp;" in e["link"] else escape(e["link"])
            parts.append(f"<link href='{href}'/>")
        summary = f"<summary type='html'>{e['summary']}</summary>"
        extras = "".join(e.get("atom_extras", ()))
        parts.extend([extras, summary] if e.get("content_first") else [summary, extras])
        if e["date"] is not None:
            parts.append(f"<updated>{e['date']}</updated>")
        out.append(f"<entry>{''.join(parts)}</entry>")
    return (
        "<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>"
        f"<id>urn:feed</id>{''.join(out)}</feed>"
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(items(), min_size=1, max_size=4),
    kind=st.sampled_from(["rss", "atom", "rdf"]),
    encoding=st.sampled_from(["utf-8", "iso-8859-1", "windows-1251", "utf-16", None]),
    content_type=st.sampled_from([None, "application/rss+xml", "text/xml", "text/html"]),
    plain=st.booleans(),
)
def test_generated_documents_first_scan_is_parse_or_unsure(
    entries: list[dict[str, Any]],
    kind: str,
    encoding: str | None,
    content_type: str | None,
    plain: bool,
) -> None:
    """On any generated RSS/Atom/RDF document, first_scan gives parse's entries or None.

    ``plain``: every entry gets a distinct absolute guid and link (the case first_scan
    is for), so that the odd texts, dates, extras and encodings are tested answered too."""
    if plain:
        entries = [
            {**e, "guid": f"urn:x:{i}", "link": f"https://news.example.com/{i}?a=1&amp;b=2"}
            for i, e in enumerate(entries)
        ]
    text = atom_doc(entries) if kind == "atom" else rss_doc(entries, rdf=kind == "rdf")
    declaration = f"<?xml version='1.0' encoding='{encoding}'?>" if encoding else ""
    try:
        body = (declaration + text).encode(encoding or "utf-8")
    except UnicodeEncodeError:
        body = (declaration + text).encode(encoding or "utf-8", "xmlcharrefreplace")
    headers = {"Content-Type": content_type} if content_type else {}
    try:
        parse(body, headers, URL, "f")
    except FeedError:
        assert first_scan(body, headers, URL, "f") is None
        assert key_scan(body, headers, URL) is None
        return
    if assert_keys_as_parse(body, headers):
        guids = [e["guid"] for e in entries]
        assert None not in guids
        assert len(set(guids)) == len(guids)
    if assert_same_as_parse(body, headers):
        guids = [e["guid"] for e in entries]
        assert None not in guids
        assert len(set(guids)) == len(guids)


def test_plain_feeds_are_answered() -> None:
    """Not vacuous: a plain RSS and Atom feed (unique guids, absolute links) are answered."""
    entries = [
        {
            "guid": f"https://x.org/{i}",
            "permalink": "false",
            "title": "rare earth &amp; more",
            "title_type": None,
            "link": f"https://news.example.com/{i}?a=1&amp;utm_source=x",
            "summary": "&lt;p&gt;Rare earth &lt;b&gt;magnets&lt;/b&gt;&lt;/p&gt;",
            "date": "Tue, 10 Jun 2025 08:00:00 GMT",
            "extra": "<category>trade</category>",
        }
        for i in range(3)
    ]
    for text in (rss_doc(entries), atom_doc(entries)):
        for encoding in ("utf-8", "iso-8859-1"):
            body = f"<?xml version='1.0' encoding='{encoding}'?>{text}".encode(encoding)
            assert assert_same_as_parse(body, {"content-type": "application/xml"}), text
            assert key_scan(body, {"content-type": "application/xml"}, URL) is not None


#: Documents whose structure key_scan must read as the streaming scan and feedparser do:
#: nested or misplaced items, comments and CDATA in fields, HTML-ish titles, the order of
#: a guid and a link, several Atom links, a DOCTYPE, an item of another namespace.
_RSS = "<rss version='2.0'><channel><title>T</title>{}</channel></rss>"
_ATOM = "<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>{}</feed>"
STRUCTURES = [
    _RSS.format("<item><guid>https://a.example/1</guid><title>a<!-- c -->b</title></item>"),
    _RSS.format("<item><guid>https://a.example/1</guid><title>a<!--c-->b<!--d-->c</title></item>"),
    _RSS.format("<item><guid>https://a.example/1</guid><title>a<?pi x?>b&#160;c</title></item>"),
    _RSS.format(
        "<item><guid>https://a.example/1</guid><title><![CDATA[x <b>y</b>]]></title></item>"
    ),
    _RSS.format("<item><guid>https://a.example/1</guid><title>R&amp;D &lt;b&gt;</title></item>"),
    _RSS.format("<item><guid>https://a.example/1</guid><link>https://b.example/x</link></item>"),
    _RSS.format("<item><link>https://b.example/x</link><guid>https://a.example/1</guid></item>"),
    _RSS.format(
        "<item><guid isPermaLink='false'>x1</guid><title> t  u </title></item>"
        "<item><guid isPermaLink='false'>x2</guid><title>t u</title></item>"
    ),
    _RSS.format(
        "<item><guid>https://a.example/1</guid><item><guid>https://a.example/2</guid></item></item>"
    ),
    "<rss version='2.0'><item><guid>https://a.example/1</guid></item></rss>",
    "<rss version='2.0'><channel><x><item><guid>https://a.example/1</guid></item></x></channel></rss>",
    _RSS.format("<item><guid>https://a.example/1</guid><category><b>x</b></category></item>"),
    _RSS.format("<item><guid>https://a.example/1</guid><description><p>x</p></description></item>"),
    _RSS.format("<item><guid>https://a.example/1</guid><title>a</title><title>b</title></item>"),
    _RSS.format("<a:item xmlns:a='urn:x'><guid>https://a.example/1</guid></a:item>"),
    _RSS.format(
        "<item xml:lang='en'><guid>https://a.example/1</guid><pubDate>x &amp; y</pubDate></item>"
    ),
    "<!DOCTYPE rss>" + _RSS.format("<item><guid>https://a.example/1</guid></item>"),
    _ATOM.format(
        "<entry><id>https://a.example/1</id><link href='https://b.example/1'/>"
        "<link rel='alternate' href='https://b.example/2'/>"
        "<title type='html'>a &lt;b&gt;b&lt;/b&gt;</title></entry>"
    ),
    _ATOM.format("<entry><link href='https://b.example/1'/><id>https://a.example/1</id></entry>"),
    _ATOM.format(
        "<entry><id>https://a.example/1</id><link rel='self' href='https://b.example/1'/></entry>"
    ),
    _ATOM.format(
        "<entry><id>https://a.example/1</id><author><name>n</name><x>y</x></author></entry>"
    ),
    _ATOM.format("<entry><id>https://a.example/1</id><author><name>n</name></author></entry>"),
    _ATOM.format(
        "<entry><id>https://a.example/1</id><link href='https://b.example/1'><x/></link></entry>"
    ),
    _ATOM.format("<entry><id>https://A.example:443/1#f</id><title>T</title></entry>"),
    _ATOM.format("<x><entry><id>https://a.example/1</id></entry></x>"),
]


@pytest.mark.parametrize("text", STRUCTURES)
def test_key_scan_reads_structures_as_parse_or_is_unsure(text: str) -> None:
    body = text.encode()
    try:
        parse(body, {}, URL, "f")
    except FeedError:
        assert key_scan(body, {}, URL) is None
        return
    assert_keys_as_parse(body, {})
    # The streaming scan and the tree agree on being sure (a DOCTYPE aside).
    if first_scan(body, {}, URL, "f") is not None:
        assert key_scan(body, {}, URL) is not None


def test_key_scan_answers_the_plain_structures() -> None:
    """Not vacuous: the plain ones among :data:`STRUCTURES` are answered."""
    answered = [t for t in STRUCTURES if key_scan(t.encode(), {}, URL) is not None]
    assert len(answered) >= 8


# --- end to end --------------------------------------------------------------------------------

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
OPTIONS = FetchPolicy(timeout=timedelta(seconds=2), connect_timeout=timedelta(seconds=2))
WATCH = Watch(
    name="rare-earths",
    any=("rare earth", "稀土"),
    all=(),
    none=(),
    feeds=("rss", "atom"),
    fields=("title", "summary", "content"),
    severity="high",
    channels=("console",),
    digest=None,
)


def rss_body(items: list[tuple[str, str, str]]) -> bytes:
    return rss_doc(
        [
            {
                "guid": f"https://news.example.com/{g}",
                "permalink": None,
                "title": escape(t),
                "title_type": None,
                "link": f"https://news.example.com/{g}",
                "summary": escape(d),
                "date": format_datetime(NOW - timedelta(hours=i)),
                "extra": "",
            }
            for i, (g, t, d) in enumerate(items)
        ]
    ).encode()


def atom_body(items: list[tuple[str, str, str]]) -> bytes:
    return atom_doc(
        [
            {
                "guid": f"tag:news.example.com,2025:{g}",
                "permalink": None,
                "title": escape(t),
                "title_type": None,
                "link": f"https://news.example.com/atom/{g}",
                "summary": escape(escape(d)),
                "date": (NOW - timedelta(hours=i)).isoformat(),
                "extra": "",
            }
            for i, (g, t, d) in enumerate(items)
        ]
    ).encode()


OLD = [
    ("a1", "Talks resume in London", "Delegations met on <b>Monday</b>."),
    ("a2", "China tightens 稀土 export rules", "Rare earth magnets need licences."),
    ("a3", "Weather", "Sunny."),
]
NEW = ("a4", "US and China agree on rare earths", "A deal on <i>magnets</i>.")


class RecordingExecutor(Executor):
    """Runs each call at once in the caller's thread and records the function's name."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        inner = fn.func if isinstance(fn, functools.partial) else fn
        self.calls.append(getattr(inner, "__name__", "?"))
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - handed to the awaiting poll, as a pool would
            future.set_exception(e)
        return future


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    with Store.open(tmp_path / "scan") as a, Store.open(tmp_path / "parse") as b:
        yield a, b


def summary_of(result: PollResult) -> list[tuple[object, ...]]:
    """What a poll decided, in a form two pollers can be compared on."""
    return [
        (str(result.status), result.entries),
        *((e.key, e.title) for e in result.new),
        *((m.watch, m.entry.key, m.explain()) for m in result.matches),
        *((m.watch, m.entry.key) for m in result.alerted),
    ]


async def test_cold_start_then_polls_alert_exactly_as_after_a_full_parse(
    stores: tuple[Store, Store],
) -> None:
    """A cold start through key_scan records the keys and fingerprints a full parse
    records; the history rows follow at the feed's next parse, the same rows as a full
    parse's, first seen at the first poll. The next polls re-alert nothing, and an entry
    added later alerts with the same match and "why" as after a full-parse cold start."""
    scan_store, parse_store = stores
    watches = {WATCH.name: WATCH}
    times = [NOW]
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        docs = {"rss": server.feed("/rss.xml", rss_body(OLD))}
        docs["atom"] = server.feed("/atom.xml", atom_body(OLD))
        feeds = [
            Feed(name=n, url=server.url(f"/{n}.xml"), title=None, interval=timedelta(minutes=15))
            for n in ("rss", "atom")
        ]
        recording = RecordingExecutor()
        pollers = [
            Poller(
                store,
                fetcher,
                Matcher.compile([WATCH]),
                max_bytes=10**7,
                executor=recording if store is scan_store else None,
                parse_fn=None if store is scan_store else parse,  # parse_fn: always a parse
                stories=StoryBook(),
                watches=watches,
                clock=lambda: times[-1],
            )
            for store in (scan_store, parse_store)
        ]

        async def poll_all() -> list[list[list[tuple[object, ...]]]]:
            return [[summary_of(await poller.poll(f)) for f in feeds] for poller in pollers]

        first = await poll_all()
        assert recording.calls == ["key_scan", "key_scan"]  # no parse, not even a first scan
        assert first[0] == first[1]
        assert all(r[0] == ("first_poll", 3) and len(r) == 1 for r in first[0])
        for f in feeds:
            keys = [e.key for e in parse(docs[f.name].body, {}, f.url, f.name).entries]
            assert scan_store.known_keys(f.name, keys) == set(keys)
            assert scan_store.history.entries_by_key(f.name, keys) == {}  # not yet
            assert len(parse_store.history.entries_by_key(f.name, keys)) == 3
            prints = [fingerprint(e) for e in parse(docs[f.name].body, {}, f.url, "x").entries]
            wanted = {p for p in prints if p}
            assert len(wanted) == 3
            assert scan_store.known_fingerprints(f.name, list(wanted)) == wanted
            assert parse_store.known_fingerprints(f.name, list(wanted)) == wanted

        # Polled again: nothing new (304), then the same entries re-served (no alert).
        times.append(NOW + timedelta(hours=1))
        assert all(r[0][0] == "not_modified" for r in (await poll_all())[0])
        for name, body in (("rss", rss_body(OLD[::-1])), ("atom", atom_body(OLD[::-1]))):
            docs[name].update(body)
        again = await poll_all()
        assert again[0] == again[1]
        assert all(len(r) == 1 and r[0][0] in ("all_known", "parsed") for r in again[0])

        # A new entry alerts, with the same match and why as after a full-parse cold start.
        docs["rss"].update(rss_body([NEW, *OLD]))
        docs["atom"].update(atom_body([NEW, *OLD]))
        recording.calls.clear()
        times.append(NOW + timedelta(hours=2))
        later = await poll_all()
        assert later[0] == later[1]
        assert "first_scan" not in recording.calls
        assert "key_scan" not in recording.calls
        for result in later[0]:
            assert result[0] == ("parsed", 4)
            assert [r[1] for r in result[1:2]] == ["US and China agree on rare earths"]
            assert ("rare-earths", result[1][0], '"rare earth" in title') in result
        for f in feeds:  # the old entries' rows: a full parse's, first seen at the first poll
            entries = parse(docs[f.name].body, {}, f.url, f.name).entries
            scan_rows = scan_store.history.entries_by_key(f.name, [e.key for e in entries])
            parse_rows = parse_store.history.entries_by_key(f.name, [e.key for e in entries])
            assert len(scan_rows) == len(parse_rows) == 4
            for e in entries:  # the same history rows (ids, and dates the feed moved, aside)
                a, b = scan_rows[e.key], parse_rows[e.key]
                assert (a.title, a.summary, a.link, a.canonical, a.text_hash) == (
                    b.title,
                    b.summary,
                    b.link,
                    b.canonical,
                    b.text_hash,
                )
                assert a.published == (e.published or e.updated)  # as the feed has it now
                assert a.seen == b.seen
                assert (a.story == a.id) == (b.story == b.id)  # old ones: their own stories
            assert sorted(r.seen for r in scan_rows.values()) == [NOW] * 3 + [times[-1]]


async def test_history_rows_are_not_recorded_again_once_pruned(tmp_path: Path) -> None:
    """An entry first seen longer than ``history.keep`` ago that history no longer holds
    was pruned, not missed: a later parse does not record it again."""
    times = [NOW]
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/rss.xml", rss_body(OLD))
        feed = Feed(
            name="rss", url=server.url("/rss.xml"), title=None, interval=timedelta(minutes=15)
        )
        with Store.open(tmp_path / "state") as store:
            poller = Poller(
                store,
                fetcher,
                Matcher.compile([WATCH]),
                max_bytes=10**7,
                executor=RecordingExecutor(),
                stories=StoryBook(),
                watches={WATCH.name: WATCH},
                clock=lambda: times[-1],
                history_keep=timedelta(days=2),
            )
            assert (await poller.poll(feed)).status is PollStatus.FIRST
            times.append(NOW + timedelta(days=3))
            doc.update(rss_body([NEW, *OLD]))
            result = await poller.poll(feed)
            assert result.status is PollStatus.PARSED
            keys = [e.key for e in parse(doc.body, {}, feed.url, feed.name).entries]
            rows = store.history.entries_by_key(feed.name, keys)
            assert [r.title for r in rows.values()] == [NEW[1]]


async def test_cold_start_falls_back_to_the_parse_when_unsure(tmp_path: Path) -> None:
    """An entry without a guid, a backfill or a dry run: the first poll parses in full."""
    no_guid = rss_doc(
        [
            {
                "guid": None,
                "permalink": None,
                "title": "Rare earth news",
                "title_type": None,
                "link": "https://news.example.com/x",
                "summary": "x",
                "date": None,
                "extra": "",
            }
        ]
    ).encode()
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        server.feed("/a.xml", no_guid)
        server.feed("/b.xml", rss_body(OLD))
        with Store.open(tmp_path / "state") as store:
            recording = RecordingExecutor()
            poller = Poller(
                store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7, executor=recording
            )
            a = Feed(name="rss", url=server.url("/a.xml"), title=None, interval=timedelta(hours=1))
            b = Feed(
                name="atom",
                url=server.url("/b.xml"),
                title=None,
                interval=timedelta(hours=1),
                backfill=1,
            )
            results = await asyncio.gather(poller.poll(a), poller.poll(b))
        assert [r.status for r in results] == [PollStatus.FIRST, PollStatus.FIRST]
        assert sorted(recording.calls) == ["first_scan", "key_scan", "parse", "parse"]
        assert [len(r.new) for r in results] == [0, 1]  # backfill: the newest is new


class FailingScan(RecordingExecutor):
    """Records like :class:`RecordingExecutor`, but the key scan and the first scan raise
    (a bug, a dead pool)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        inner = fn.func if isinstance(fn, functools.partial) else fn
        name = getattr(inner, "__name__", "")
        if name in ("key_scan", "first_scan"):
            self.calls.append(name)
            future: Future[T] = Future()
            future.set_exception(RuntimeError("boom"))
            return future
        return super().submit(fn, *args, **kwargs)


async def test_a_failing_first_scan_or_known_keys_mean_a_full_parse(tmp_path: Path) -> None:
    """A first scan that raises is logged and the feed parsed; a first poll whose keys
    are already stored (state lost, seen keys kept) is parsed too (edits are looked at)."""
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        doc = server.feed("/a.xml", rss_body(OLD))
        with Store.open(tmp_path / "state") as store:
            failing = FailingScan()
            poller = Poller(
                store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7, executor=failing
            )
            a = Feed(name="rss", url=server.url("/a.xml"), title=None, interval=timedelta(hours=1))
            result = await poller.poll(a)
            assert result.status is PollStatus.FIRST
            assert failing.calls == ["key_scan", "first_scan", "parse"]

            keys = [e.key for e in parse(doc.body, {}, a.url, "rss").entries]
            with store.transaction():
                store.mark_seen("atom", keys, NOW, None)
            recording = RecordingExecutor()
            poller = Poller(
                store, fetcher, Matcher.compile([WATCH]), max_bytes=10**7, executor=recording
            )
            b = Feed(name="atom", url=server.url("/a.xml"), title=None, interval=timedelta(hours=1))
            result = await poller.poll(b)
            assert result.status is PollStatus.FIRST
            assert recording.calls == ["key_scan", "first_scan", "parse"]


def test_key_scan_refuses_entity_declarations_before_building_a_tree() -> None:
    """A billion-laughs document is refused as it arrives (a DOCTYPE), never expanded:
    were it built, its title would be 10^9 bytes."""
    levels = "".join(
        f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" if i else "<!ENTITY l0 'lol'>" for i in range(10)
    )
    body = (
        f"<?xml version='1.0'?><!DOCTYPE rss [{levels}]><rss version='2.0'><channel>"
        "<item><guid>https://a.example/1</guid><title>&l9;</title></item></channel></rss>"
    ).encode()
    assert key_scan(body, {}, URL) is None
    assert first_scan(body, {}, URL, "f") is None


@given(st.from_regex(PLAIN_URL, fullmatch=True))
def test_a_plain_url_is_base_independent_as_feedparser_resolves(url: str) -> None:
    """_base_independent takes a PLAIN_URL without parsing it: feedparser's fix-up of
    extra slashes leaves it alone, and urlparse/urlunparse give it back unchanged."""
    assert _URI_FIXER.sub(r"\1\3", url) == url
    assert urllib.parse.urlunparse(urllib.parse.urlparse(url)) == url
    assert _base_independent(url)
