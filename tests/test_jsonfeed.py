"""JSON Feed 1.0 / 1.1 (``notifier.sources.jsonfeed``): every field mapped, hostile input refused.

The feeds are written here, by hand or by :func:`jf`; none is copied from a site.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.errors import FeedParseError, NotAFeed
from notifier.model import Entry
from notifier.sources import ParsedFeed, jsonfeed, rss
from notifier.sources.jsonfeed import NOT_JSON_FEED, parse, prescan
from notifier.sources.keys import entry_key
from tests.test_poll import ITEMS
from tests.test_poll import rss as rss_document

URL = "https://blog.example.com/feed.json"
V1 = "https://jsonfeed.org/version/1"
V11 = "https://jsonfeed.org/version/1.1"


def jf(*items: Any, version: str = V11, **top: Any) -> bytes:
    """A JSON Feed document: ``top`` fields (title and home page by default) and ``items``."""
    document = {
        "version": version,
        "title": "Trade blog",
        "home_page_url": "https://blog.example.com/",
        **top,
        "items": list(items),
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def one(body: bytes, headers: dict[str, str] | None = None, **kw: Any) -> ParsedFeed:
    """``parse`` of ``body`` as feed ``blog`` fetched from :data:`URL`."""
    return parse(body, headers or {}, URL, "blog", **kw)


def only(body: bytes, headers: dict[str, str] | None = None) -> Entry:
    """The single entry of ``body``."""
    (entry,) = one(body, headers).entries
    return entry


# --- the mapping ---------------------------------------------------------------------------


def test_a_json_feed_1_1_item_maps_to_every_entry_field() -> None:
    """Each JSON Feed 1.1 field lands in its Entry field: plain text for matching, HTML as
    served, dates in UTC, the link made canonical (tracking parameters dropped)."""
    body = jf(
        {
            "id": "https://blog.example.com/p/1",
            "url": "https://Blog.Example.com:443/p/1?utm_source=rss&page=2#top",
            "external_url": "https://elsewhere.example.org/story",
            "title": "  Rare earth\n export rules ",
            "summary": "Licences for gallium.",
            "content_html": "<p>China <b>tightens</b> 稀土 rules.</p><script>x()</script>",
            "date_published": "2025-06-10T14:00:00+02:00",
            "date_modified": "2025-06-11T08:30:00.123Z",
            "tags": ["trade", "rare earths", "trade", 7, ""],
            "authors": [{"name": "Ann Lee", "url": "https://blog.example.com/ann"}],
        },
        language="en",
        user_comment="ignored",
    )
    parsed = one(body)
    assert (parsed.title, parsed.link, parsed.version, parsed.warning) == (
        "Trade blog",
        "https://blog.example.com/",
        "json11",
        None,
    )
    (entry,) = parsed.entries
    assert entry == Entry(
        feed="blog",
        key=entry_key("https://blog.example.com/p/1", None, "", None),
        title="Rare earth export rules",
        summary="Licences for gallium.",
        content="China tightens 稀土 rules.",
        link="https://blog.example.com/p/1?page=2",
        published=datetime(2025, 6, 10, 12, 0, tzinfo=UTC),
        updated=datetime(2025, 6, 11, 8, 30, 0, 123000, tzinfo=UTC),
        categories=("trade", "rare earths"),
        author="Ann Lee",
        summary_html="Licences for gallium.",
        content_html="<p>China <b>tightens</b> 稀土 rules.</p><script>x()</script>",
    )


def test_a_json_feed_1_0_document_reads_author_objects() -> None:
    """Version 1 is ``json1``; its ``author`` object names the author, and an item without
    one has the feed's (as the spec says)."""
    body = jf(
        {"id": "1", "content_text": "a", "author": {"name": "Bob"}},
        {"id": "2", "content_text": "b"},
        version=V1,
        author={"name": "The desk"},
    )
    parsed = one(body)
    assert parsed.version == "json1"
    assert [e.author for e in parsed.entries] == ["Bob", "The desk"]


@pytest.mark.parametrize(
    ("item", "feed", "author"),
    [
        ({"authors": [{"name": "Ann"}, {"name": "Bo"}]}, {}, "Ann, Bo"),
        (
            {"authors": [{"name": "Ann"}, {"name": "Ann"}, {"url": "x"}, "Cy", {"name": 5}]},
            {},
            "Ann",
        ),
        ({"authors": [{"name": "Ann"}], "author": {"name": "Old"}}, {}, "Ann"),  # 1.1 wins
        ({"author": {"name": " Old\n Name "}}, {}, "Old Name"),
        ({}, {"authors": [{"name": "Desk"}]}, "Desk"),
        ({"authors": []}, {"authors": [{"name": "Desk"}]}, "Desk"),
        ({"authors": {"name": "Ann"}}, {}, None),  # an object where an array belongs
        ({"author": "Ann"}, {}, None),  # a string where an object belongs
        ({}, {}, None),
    ],
)
def test_authors_in_every_form(item: dict[str, Any], feed: dict[str, Any], author: str) -> None:
    """``authors[].name`` (1.1), else ``author.name`` (1.0), else the feed's; names joined,
    repeats and nameless or wrong-typed authors left out."""
    assert only(jf({"id": "1", "content_text": "x", **item}, **feed)).author == author


def test_an_item_with_only_an_id_and_text_leaves_the_rest_empty() -> None:
    """Every optional field may be missing: no title, link, dates, tags or author."""
    entry = only(jf({"id": "only", "content_text": "Talks resume <today>."}, home_page_url=None))
    assert entry == Entry(
        feed="blog",
        key=entry_key("only", None, "", None),
        title="",
        content="Talks resume <today>.",
        content_html="Talks resume &lt;today&gt;.",
    )
    parsed = one(jf(title=None, home_page_url=None))
    assert (parsed.title, parsed.link, parsed.entries) == ("", None, ())


@pytest.mark.parametrize(
    ("item", "content", "content_html"),
    [
        ({"content_html": "<p>Rare <i>earth</i></p>"}, "Rare earth", "<p>Rare <i>earth</i></p>"),
        ({"content_text": "a < b\n\n  c"}, "a < b c", "a &lt; b\n\n  c"),
        (
            {"content_text": "plain words", "content_html": "<p>html <b>words</b></p>"},
            "plain words",
            "<p>html <b>words</b></p>",
        ),
        ({"content_text": "  ", "content_html": "<p>html</p>"}, "html", "<p>html</p>"),
        ({"content_text": "text", "content_html": " "}, "text", "text"),
    ],
)
def test_html_and_text_content(item: dict[str, Any], content: str, content_html: str) -> None:
    """``content`` is content_text, else the words of content_html; ``content_html`` is the
    HTML as served, else the text escaped."""
    entry = only(jf({"id": "1", **item}))
    assert (entry.content, entry.content_html) == (content, content_html)


def test_relative_urls_resolve_against_the_feed_url_or_content_location() -> None:
    """A relative ``url`` is read against the feed URL (or Content-Location); links that
    are not http(s) are no links."""
    body = jf({"id": "1", "url": "/p/1", "content_text": "x"}, home_page_url="../")
    parsed = one(body)
    assert parsed.link == "https://blog.example.com/"
    assert parsed.entries[0].link == "https://blog.example.com/p/1"
    moved = one(body, {"Content-Location": "https://cdn.example.net/feeds/x.json"})
    assert moved.entries[0].link == "https://cdn.example.net/p/1"
    for url in ("javascript:alert(1)", "mailto:a@example.com", "data:,x", "   "):
        assert only(jf({"id": "1", "url": url, "content_text": "x"})).link is None, url
    external = only(jf({"id": "1", "external_url": "https://other.example/a", "title": "t"}))
    assert external.link == "https://other.example/a"


def test_items_without_an_id_are_keyed_like_rss_items_without_a_guid() -> None:
    """The id is required by the spec; an item without one (or with an object as its id)
    is keyed by its link, else its title and date, as an RSS item without a guid is."""
    entries = one(
        jf(
            {"url": "https://blog.example.com/a", "title": "A"},
            {"id": {"no": "pe"}, "url": "https://blog.example.com/b", "title": "B"},
            {"title": "C", "date_published": "2025-06-10T00:00:00Z"},
            {"id": "   ", "title": "D"},
            {"id": None},  # carries nothing at all: left out
        )
    ).entries
    assert [e.key for e in entries] == [
        entry_key(None, "https://blog.example.com/a", "A", None),
        entry_key(None, "https://blog.example.com/b", "B", None),
        entry_key(None, None, "C", "2025-06-10T00:00:00+00:00"),
        entry_key(None, None, "D", None),
    ]


def test_numbers_as_ids_are_coerced_to_text() -> None:
    """The spec says to coerce a number id to a string: as JSON writes it (so ``123`` and
    ``"123"`` are one entry); a number Python refuses to read (over 4,300 digits) makes the
    document unreadable, in plain words, never a crash."""
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": ['
        b'{"id": 123, "title": "a"}, {"id": 1.50, "title": "b"}, {"id": 1e400, "title": "c"},'
        b'{"id": true, "title": "d"}, {"id": -0, "title": "e"}]}'
    )
    keys = [e.key for e in one(body).entries]
    expected = ("123", "1.5", "Infinity", "true", "0")
    assert keys == [entry_key(i, None, "", None) for i in expected]
    huge = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": ' + b"9" * 5000
    with pytest.raises(FeedParseError, match=r"^unreadable JSON: Exceeds the limit \(4300 digits"):
        one(huge + b"}]}")


def test_same_items_get_the_same_keys_as_in_rss() -> None:
    """A JSON Feed item gets the key the same item has in RSS (id as guid, same link and
    date): a site moving from RSS to JSON Feed re-alerts nothing."""
    items = [
        {
            "id": guid,
            "title": title,
            "url": f"https://news.example.com/{guid}",
            "summary": text,
            "date_published": f"2025-06-10T0{i}:00:00Z",
        }
        for i, (guid, title, text) in enumerate(ITEMS)
    ]
    from_rss = rss.parse(rss_document(*ITEMS), {}, URL, "blog").entries
    from_json = one(jf(*items)).entries
    assert [e.key for e in from_json] == [e.key for e in from_rss]
    assert [(e.title, e.link, e.published) for e in from_json] == [
        (e.title, e.link, e.published) for e in from_rss
    ]


def test_duplicate_ids_behave_like_duplicate_guids() -> None:
    """Items sharing an id keep distinct keys (the oldest keeps the id's key, each other one
    is told apart by its link); an exact repeat is one entry; same as RSS guids."""
    repeat = {"id": "x", "url": "https://blog.example.com/old", "title": "Old"}
    body = jf(
        {"id": "x", "url": "https://blog.example.com/new", "title": "New"},
        repeat,
        repeat,
    )
    keys = [e.key for e in one(body).entries]
    assert keys[1] == keys[2] == entry_key("x", None, "", None)  # listed last: the oldest
    assert keys[0] not in (keys[1], entry_key("x", None, "", None))
    assert prescan(body) is None  # the ids alone do not give these keys


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-06-10T12:00:00Z", datetime(2025, 6, 10, 12, tzinfo=UTC)),
        ("2025-06-10t12:00:00z", datetime(2025, 6, 10, 12, tzinfo=UTC)),  # RFC 3339 allows it
        ("2025-06-10T08:00:00-04:00", datetime(2025, 6, 10, 12, tzinfo=UTC)),
        ("2025-06-10T12:00:00", datetime(2025, 6, 10, 12, tzinfo=UTC)),  # no zone: UTC
        ("Tue, 10 Jun 2025 12:00:00 GMT", datetime(2025, 6, 10, 12, tzinfo=UTC)),  # RFC 822
        ("yesterday", None),
        ("2025-13-45T00:00:00Z", None),
        ("0001-01-01T00:00:00+01:00", None),  # before year 1 in UTC
        ("", None),
        (20250610, None),
        (["2025-06-10T12:00:00Z"], None),
        ("2025-06-10T12:00:00Z" + " " * 200, None),
    ],
)
def test_dates(value: object, expected: datetime | None) -> None:
    """RFC 3339 dates become aware UTC datetimes; anything unreadable is None, never an error."""
    entry = only(jf({"id": "1", "title": "t", "date_published": value, "date_modified": value}))
    assert (entry.published, entry.updated) == (expected, expected)


def test_a_bad_date_still_keys_by_what_is_written() -> None:
    """Without an id or link, an unreadable date keys the item as written (stable across
    polls), as an RSS item's unparsable pubDate does."""
    entry = only(jf({"title": "t", "date_published": " next week "}))
    assert entry.key == entry_key(None, None, "t", "next week")


# --- hostile input --------------------------------------------------------------------------


def test_a_body_over_max_bytes_is_refused_before_parsing() -> None:
    """A 2 MB document over a 1 MB cap fails at once, by both the ``jsonfeed`` and the ``feed``
    types; prescan does not answer."""
    body = jf(*({"id": str(i), "content_text": "x" * 200} for i in range(9000)))
    assert len(body) > 2_000_000
    for parser in (parse, rss.parse):
        with pytest.raises(FeedParseError, match=r"over the 1,048,576-byte limit"):
            parser(body, {}, URL, "blog", max_bytes=1024 * 1024)
    assert prescan(body, max_bytes=1024 * 1024) is None
    assert len(one(body, max_bytes=len(body)).entries) == 9000


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "broken JSON: Expecting"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [],}', "broken JSON"),
        (b'{"version": "x" "items": []}', "(line 1, column 17)"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "broken JSON: nested too deeply"),
        (b"[" * 100_000, "broken JSON: nested too deeply"),
        (b'{"version": "https://jsonfeed.org/version/1"}', "broken JSON Feed: 'items' is missing"),
        (jf()[:-3] + b"{}}", "broken JSON Feed: 'items' is an object, not an array"),
    ],
)
def test_broken_json_is_a_parse_error(body: bytes, message: str) -> None:
    """Broken JSON (truncated, too deep, no items array) is FeedParseError, saying where;
    never NotAFeed, never a crash."""
    for parser in (parse, rss.parse):
        with pytest.raises(FeedParseError) as caught:
            parser(body, {}, URL, "blog")
        assert not isinstance(caught.value, NotAFeed)
        assert message in str(caught.value)


def test_a_json_feed_must_be_utf8() -> None:
    """A UTF-16 document (JSON Feed is UTF-8 by definition) is refused in plain words."""
    body = jf({"id": "1", "title": "t"}).decode().encode("utf-16")
    with pytest.raises(FeedParseError, match=r"^not UTF-8: a JSON Feed must be UTF-8"):
        one(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": "rate limited"}', NOT_JSON_FEED),
        (b'{"version": "https://example.com/version/1", "items": []}', NOT_JSON_FEED),
        (b'{"version": 1.1, "items": []}', NOT_JSON_FEED),
        (b'{"version": "https://jsonfeed.org/version/", "items": []}', NOT_JSON_FEED),
        (b' \n[{"id": 1}]', "not a feed: a JSON document that is an array, not an object"),
        (b"", "not a feed: the body is empty"),
    ],
)
def test_json_that_is_no_feed_is_not_a_feed(body: bytes, message: str) -> None:
    """A JSON document without a JSON Feed version is NotAFeed, read by either type."""
    for parser in (parse, rss.parse):
        with pytest.raises(NotAFeed) as caught:
            parser(body, {}, URL, "blog")
        assert str(caught.value) == message


def test_xml_under_type_jsonfeed_is_not_a_feed_with_a_hint() -> None:
    """RSS served to a ``jsonfeed`` feed is NotAFeed, pointing at ``type: feed``."""
    with pytest.raises(NotAFeed, match=r"not JSON \(it looks like XML or HTML; RSS and Atom"):
        one(rss_document(*ITEMS))
    with pytest.raises(NotAFeed, match=r"^not a feed: expected a JSON Feed, but the body is not"):
        one(b"version: 1")


def test_bad_bytes_are_replaced_and_the_rest_kept() -> None:
    """An invalid UTF-8 byte becomes U+FFFD, the rest of the text stays right, and the
    warning says so (as for RSS); a UTF-8 BOM is fine."""
    body = jf({"id": "1", "title": "稀土 BADBYTE rules"}).replace(b"BADBYTE", b"\xff")
    parsed = one(b"\xef\xbb\xbf" + body)
    assert parsed.entries[0].title == "稀土 \ufffd rules"
    assert parsed.warning == "invalid UTF-8: 1 bad byte sequence replaced with U+FFFD"
    clean = one(b"\xef\xbb\xbf" + jf({"id": "1", "title": "稀土"}))
    assert (clean.entries[0].title, clean.warning) == ("稀土", None)


def test_items_that_are_not_objects_are_left_out_with_a_warning() -> None:
    """Strings, numbers, arrays and nulls among the items are counted, not fatal."""
    parsed = one(jf("x", 5, None, [], {"id": "1", "title": "kept"}))
    assert [e.title for e in parsed.entries] == ["kept"]
    assert parsed.warning == "4 items are not JSON objects (left out)"


@pytest.mark.parametrize(
    ("version", "tag", "warning"),
    [
        ("http://jsonfeed.org/version/1", "json1", None),
        ("https://jsonfeed.org/version/1.1/", "json11", None),
        (" https://jsonfeed.org/version/1.1 ", "json11", None),
        (
            "https://jsonfeed.org/version/1.2",
            "json11",
            "unknown JSON Feed version '1.2', read as 1.1",
        ),
    ],
)
def test_versions(version: str, tag: str, warning: str | None) -> None:
    """http:// and a trailing slash are tolerated; a later version is read as 1.1, with a
    warning."""
    parsed = one(jf({"id": "1", "title": "t"}, version=version))
    assert (parsed.version, parsed.warning) == (tag, warning)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
ITEM_FIELDS = [
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "image",
    "date_published",
    "date_modified",
    "authors",
    "author",
    "tags",
    "language",
    "attachments",
]
FEED_FIELDS = [
    "title",
    "home_page_url",
    "feed_url",
    "description",
    "authors",
    "author",
    "icon",
    "expired",
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(FEED_FIELDS), JSON_VALUES),
    st.lists(st.dictionaries(st.sampled_from(ITEM_FIELDS), JSON_VALUES) | JSON_VALUES, max_size=5),
)
def test_wrong_types_anywhere_never_crash(top: dict[str, Any], items: list[Any]) -> None:
    """Any JSON value in any field, any item that is no object: a ParsedFeed whose entries
    have the declared types, never an exception."""
    body = json.dumps({"version": V11, **top, "items": items}).encode()
    parsed = one(body)
    assert isinstance(parsed.title, str)
    assert parsed.link is None or parsed.link.startswith(("http://", "https://"))
    for entry in parsed.entries:
        assert all(isinstance(v, str) for v in (entry.title, entry.summary, entry.content))
        assert all(isinstance(c, str) and c for c in entry.categories)
        assert entry.author is None or isinstance(entry.author, str)
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
        for when in (entry.published, entry.updated):
            assert when is None or when.tzinfo is UTC
        assert entry.key.startswith("v1:")


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_a_feed_error_at_worst(tail: bytes) -> None:
    """Random bytes after ``{`` (so the JSON path is taken by both types): a ParsedFeed or a
    FeedParseError, nothing else."""
    for parser in (parse, rss.parse):
        with contextlib.suppress(FeedParseError):
            parser(b"{" + tail, {}, URL, "blog")


# --- prescan --------------------------------------------------------------------------------


def test_prescan_answers_with_the_keys_of_unique_ids() -> None:
    """Unique ids: the keys parse gives, in order, from one json.loads; the ``feed`` type's
    prescan hands a JSON body over too."""
    body = jf(*({"id": f"p{i}", "content_html": f"<p>{i}</p>"} for i in range(5)))
    keys = [e.key for e in one(body).entries]
    assert prescan(body) == keys
    assert rss.prescan(body) == keys


@pytest.mark.parametrize(
    "body",
    [
        jf(),  # no items
        jf({"id": "1"}, {"id": "1"}),  # a shared id
        jf({"id": "1"}, {"url": "https://blog.example.com/2"}),  # an item without an id
        jf({"id": "1"}, "junk"),  # an item that is no object
        jf({"id": " "}),
        b'{"error": 1}',
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
    ],
)
def test_prescan_is_unsure(body: bytes) -> None:
    """Whenever the ids alone do not give parse's keys, prescan says None."""
    assert prescan(body) is None


@settings(max_examples=300)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "id": st.sampled_from(["a", "b", " a ", "", 1, 1.5, True, None, {}]),
                "url": st.sampled_from(["/x", "https://blog.example.com/y", ""]),
                "title": st.sampled_from(["T", "", 3]),
                "date_published": st.sampled_from(["2025-06-10T00:00:00Z", "bad"]),
            },
        )
        | st.sampled_from(["junk", 1, None]),
        max_size=5,
    )
)
def test_prescan_never_disagrees_with_parse(items: list[Any]) -> None:
    """Whenever prescan answers, parse assigns exactly those keys, in order."""
    body = jf(*items)
    keys = prescan(body)
    if keys is not None:
        assert keys == [e.key for e in one(body).entries]


# --- the worker process ----------------------------------------------------------------------


def test_parse_runs_in_a_worker_process() -> None:
    """parse pickles by name into another process, and its result and errors come back."""
    body = jf({"id": "1", "title": "稀土", "content_html": "<p>x</p>"})
    assert pickle.loads(pickle.dumps(jsonfeed.parse)) is jsonfeed.parse  # noqa: S301
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")) as pool:
        assert pool.submit(parse, body, {}, URL, "blog").result() == one(body)
        with pytest.raises(NotAFeed):
            pool.submit(parse, b'{"error": 1}', {}, URL, "blog").result()
