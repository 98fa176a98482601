"""parse(): feedparser hardened and normalised; prescan(): keys without a full parse."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
import warnings
from datetime import UTC, datetime
from pathlib import Path

import feedparser.api
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.errors import FeedParseError, NotAFeed
from notifier.sources import rss as parse_module
from notifier.sources.jsonfeed import NOT_JSON_FEED
from notifier.sources.keys import entry_key, text_key
from notifier.sources.rss import (
    ENTITIES_MESSAGE,
    HTML_PAGE_MESSAGE,
    ParsedFeed,
    harden,
    parse,
    prescan,
)

URL = "https://feeds.example/dir/feed.xml"


def rss(items: str, *, channel: str = "", prolog: str = '<?xml version="1.0"?>\n') -> bytes:
    """A small RSS 2.0 document around ``items``."""
    return (
        f"{prolog}<rss version='2.0'><channel><title>Channel</title>"
        f"<link>https://site.example/</link>{channel}{items}</channel></rss>"
    ).encode()


def atom(entries: str, *, feed_attrs: str = "") -> bytes:
    """A small Atom 1.0 document around ``entries``."""
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        f"<feed xmlns='http://www.w3.org/2005/Atom' {feed_attrs}><title>Feed</title>"
        f"<id>tag:feeds.example,2024:feed</id><updated>2024-05-01T00:00:00Z</updated>"
        f"{entries}</feed>"
    ).encode()


def one(body: bytes, headers: dict[str, str] | None = None, url: str = URL) -> ParsedFeed:
    """Parse ``body`` as feed ``f`` from ``url``."""
    return parse(body, headers or {}, url, "f")


# --- hardening -------------------------------------------------------------------------------


def entity_bomb(prefix: str = "") -> bytes:
    """~25 KB: a multi-line DOCTYPE declaring a 10 KB entity used 5,000 times (50 MB expanded)."""
    body = (
        f"{prefix}<?xml version='1.0'?>\n<!DOCTYPE rss [\n<!ENTITY e\n \"{'A' * 10_240}\">\n]>\n"
        "<rss version='2.0'><channel><title>t</title><item><title>x</title>"
        f"<description>{'&e;' * 5_000}</description></item></channel></rss>"
    )
    return body.encode()


def test_harden_is_idempotent() -> None:
    """defusedxml's reader stays first exactly once, and the entity guard wraps once."""
    harden()
    harden()
    parsers = feedparser.api.PREFERRED_XML_PARSERS
    assert parsers[0] == "defusedxml.expatreader"
    assert parsers.count("defusedxml.expatreader") == 1
    guard = feedparser.api.replace_doctype
    assert isinstance(guard, parse_module._EntityGuard)
    assert not isinstance(guard.replace_doctype, parse_module._EntityGuard)


@pytest.mark.parametrize(
    "prefix",
    ["", "\n", " ", "<!-- comment -->\n"],
    ids=["clean", "leading-newline", "leading-space", "leading-comment"],
)
def test_entity_blow_up_is_refused(prefix: str) -> None:
    """The 25 KB bomb raises FeedParseError, even when junk before <?xml forces the loose parser."""
    body = entity_bomb(prefix)
    assert 25_000 < len(body) < 36_000
    with pytest.raises(FeedParseError, match="entity declarations are not allowed"):
        one(body)


def test_billion_laughs_is_refused() -> None:
    """Nested entities are refused before anything expands them."""
    lol = "\n".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' if i else '<!ENTITY lol0 "lol">'
        for i in range(10)
    )
    body = rss(
        "<item><title>&lol9;</title></item>",
        prolog=f"<?xml version='1.0'?>\n<!DOCTYPE rss [\n{lol}\n]>\n",
    )
    with pytest.raises(FeedParseError) as caught:
        one(body)
    assert str(caught.value) == ENTITIES_MESSAGE


def test_external_entity_is_not_read(tmp_path: Path) -> None:
    """An entity pointing at a local file is refused; the file's content appears nowhere."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER", encoding="utf-8")
    prolog = (
        f"<?xml version='1.0'?>\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM \"{secret.as_uri()}\">\n]>\n"
    )
    body = rss("<item><title>&xxe;</title><guid>g</guid></item>", prolog=prolog)
    with pytest.raises(FeedParseError) as caught:
        one(body)
    assert "TOP-SECRET" not in str(caught.value)


def test_external_dtd_is_not_fetched(tmp_path: Path) -> None:
    """A DOCTYPE that only names an external DTD is dropped, not loaded (no entity is declared)."""
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY title "TOP-SECRET-MARKER">', encoding="utf-8")
    prolog = f"<?xml version='1.0'?>\n<!DOCTYPE rss SYSTEM \"{dtd.as_uri()}\">\n"
    parsed = one(rss("<item><title>&title;</title><guid>g</guid></item>", prolog=prolog))
    assert all("TOP-SECRET" not in e.title + e.summary for e in parsed.entries)


def test_body_over_the_limit_is_refused_before_parsing() -> None:
    """max_bytes is checked first: the entity bomb over the cap fails on size, not entities."""
    with pytest.raises(FeedParseError, match="over the 1,000-byte limit"):
        parse(entity_bomb(), {}, URL, "f", max_bytes=1_000)


def test_parse_is_hardened_in_a_fresh_worker_process() -> None:
    """A spawned worker imports this module to unpickle parse(), so it refuses the bomb too."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        future = pool.submit(parse, entity_bomb("\n"), {}, URL, "f")
        with pytest.raises(FeedParseError, match="entity declarations"):
            future.result(timeout=60)
        parsed = pool.submit(
            parse, rss("<item><guid>g</guid><title>T</title></item>"), {}, URL, "f"
        )
        assert parsed.result(timeout=60).entries[0].title == "T"


def test_parse_and_its_results_pickle() -> None:
    """parse is a top-level function and ParsedFeed/errors survive a trip between processes."""
    # S301: these bytes were pickled just above, in this process.
    assert pickle.loads(pickle.dumps(parse)) is parse  # noqa: S301
    item = "<item><guid>g</guid><title>T</title><pubDate>Mon, 06 May 2024 10:00:00 GMT</pubDate>"
    parsed = one(rss(item + "</item>"))
    assert pickle.loads(pickle.dumps(parsed)) == parsed  # noqa: S301
    error = pickle.loads(pickle.dumps(NotAFeed(HTML_PAGE_MESSAGE)))  # noqa: S301
    assert isinstance(error, NotAFeed)
    assert str(error) == HTML_PAGE_MESSAGE


# --- not a feed / broken --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not a feed: the body is empty"),
        (b"  \n ", "not a feed: the body is empty"),
        (b"<!DOCTYPE html><html><body><p>Sign in</p></body></html>", HTML_PAGE_MESSAGE),
        (b"<head><title>Moved</title></head><body>here</body>", HTML_PAGE_MESSAGE),
        (b'{"error": "rate limited"}', NOT_JSON_FEED),
        (b"<p>no markup we know</p>", "not a feed: feedparser found no RSS/Atom"),
    ],
)
def test_not_a_feed(body: bytes, message: str) -> None:
    """No RSS/Atom version (nor a JSON Feed one): NotAFeed, saying whether it looked like an
    HTML page or a JSON document."""
    with pytest.raises(NotAFeed) as caught:
        one(body)
    assert str(caught.value).startswith(message)


def test_truncated_feed_with_no_entry_is_an_error() -> None:
    """A body cut before its first item is broken, never "the feed is now empty"."""
    body = rss("<item><title>never closed")[:-40]
    with pytest.raises(
        FeedParseError, match=r"truncated or broken feed: 0 entries recovered \(SAX"
    ):
        one(body)


def test_broken_feed_with_entries_is_kept_with_a_warning() -> None:
    """Ill-formed but recoverable (a newline before <?xml): entries come back, bozo in warning."""
    parsed = one(
        rss("<item><guid>g</guid><title>T</title></item>", prolog="\n<?xml version='1.0'?>")
    )
    assert [e.title for e in parsed.entries] == ["T"]
    assert parsed.warning is not None
    assert parsed.warning.startswith("SAXParseException:")


def test_valid_empty_feed_is_not_an_error() -> None:
    """A well-formed feed with no items is just empty, even when served as text/html."""
    assert one(rss("")).entries == ()
    served_as_html = one(rss(""), {"Content-Type": "text/html"})
    assert served_as_html.entries == ()
    assert served_as_html.warning is not None
    assert "NonXMLContentType" in served_as_html.warning


# --- headers and encodings ------------------------------------------------------------------


def test_header_names_are_case_insensitive() -> None:
    """A ``Content-Type`` charset in any case decides the decoding (feedparser wants lower case)."""
    body = (
        "<rss version='2.0'><channel><title>Новости</title>"
        "<item><title>Цитата</title></item></channel></rss>"
    )
    parsed = one(
        body.encode("windows-1251"), {"CONTENT-TYPE": "application/rss+xml; charset=windows-1251"}
    )
    assert parsed.title == "Новости"
    assert parsed.entries[0].title == "Цитата"
    assert parsed.warning is None


def test_undeclared_utf8_without_content_type_is_utf8() -> None:
    """No header and no XML declaration: UTF-8 (the XML default), not ISO-8859-1 mojibake."""
    body = (
        "<rss version='2.0'><channel><title>Café</title>"
        "<item><title>“Déjà vu”</title></item></channel></rss>"
    )
    parsed = one(body.encode())
    assert parsed.title == "Café"
    assert parsed.entries[0].title == "“Déjà vu”"
    assert parsed.warning is None


def chinese_feed(bad: bytes, *, prolog: str = "", encoding: str = "utf-8") -> bytes:
    """An RSS feed in ``encoding`` whose item title is "稀土" + ``bad`` + "出口管制"."""
    head = (
        f"{prolog}<rss version='2.0'><channel><title>中国商务部</title>"
        "<item><guid isPermaLink='false'>moc-1</guid><title>稀土"
    ).encode(encoding)
    return head + bad + "出口管制</title></item></channel></rss>".encode(encoding)


@pytest.mark.parametrize(
    ("prolog", "headers"),
    [
        ("", {}),
        ("<?xml version='1.0' encoding='UTF-8'?>", {}),
        ("<?xml version='1.0' encoding='utf-8'?>", {"Content-Type": "text/xml"}),
        ("", {"Content-Type": "application/rss+xml; charset=UTF-8"}),
        ("\ufeff", {}),
    ],
    ids=["undeclared", "declared", "text-xml", "charset", "bom"],
)
def test_one_bad_byte_in_utf8_replaces_only_that_byte(prolog: str, headers: dict[str, str]) -> None:
    """One invalid byte in a UTF-8 feed: the Chinese text stays Chinese (a watch for 稀土 still
    finds it), the byte alone becomes U+FFFD, and the warning says so; before, the whole
    document was decoded as windows-1252 ("ç¨€åœŸ")."""
    parsed = one(chinese_feed(b"\xff", prolog=prolog), headers)
    assert parsed.title == "中国商务部"
    assert parsed.entries[0].title == "稀土\ufffd出口管制"
    assert parsed.warning == "invalid UTF-8: 1 bad byte sequence replaced with U+FFFD"


def test_bad_sequences_are_counted_and_a_real_replacement_character_is_not() -> None:
    """A truncated character and a stray byte are two bad sequences; a U+FFFD the feed
    really contains (EF BF BD) is text, not a bad sequence."""
    body = chinese_feed("\ufffd".encode() + b"\xe7\xa8 \x80")
    parsed = one(body)
    assert parsed.entries[0].title == "稀土\ufffd\ufffd \ufffd出口管制"
    assert parsed.warning == "invalid UTF-8: 2 bad byte sequences replaced with U+FFFD"


@pytest.mark.parametrize(
    ("encoding", "text", "bad", "label"),
    [
        ("windows-1251", "Цитата о пошлинах", b"\x98", "windows-1251"),  # 0x98: unassigned
        # read as its superset gb18030, as feedparser does, and named so
        ("gb2312", "稀土出口管制", b"\xff", "gb18030"),
    ],
)
def test_a_declared_encoding_with_one_bad_byte_keeps_that_encoding(
    encoding: str, text: str, bad: bytes, label: str
) -> None:
    """The same holds for a document that declares another encoding: one bad byte no longer
    turns the whole feed into windows-1252 mojibake."""
    body = (
        f"<?xml version='1.0' encoding='{encoding}'?><rss version='2.0'><channel>"
        f"<title>{text}</title><item><title>{text}</title></item></channel></rss>"
    ).encode("gb18030" if encoding == "gb2312" else encoding)
    body = body.replace(b"</title></item>", bad + b"</title></item>")
    parsed = one(body)
    assert parsed.title == text
    assert parsed.entries[0].title == text + "\ufffd"
    assert parsed.warning == f"invalid {label}: 1 bad byte sequence replaced with U+FFFD"


def test_undeclared_legacy_encodings_still_fall_back_with_a_warning() -> None:
    """Bytes that are not UTF-8 at all (Latin-1, GB2312 with no declaration) are still read
    as windows-1252, as feedparser does, and the fallback is named in the warning."""
    latin1 = one(
        "<rss version='2.0'><channel><title>t</title><item><title>déjà vu à l'été</title>"
        "</item></channel></rss>".encode("latin-1")
    )
    assert latin1.entries[0].title == "déjà vu à l'été"
    assert latin1.warning == (
        "CharacterEncodingOverride: document declared as utf-8, but parsed as windows-1252"
    )
    gb = one(chinese_feed(b"", encoding="gb18030"))
    assert gb.entries[0].title == "稀土出口管制".encode("gb18030").decode("windows-1252")
    assert gb.warning is not None
    assert "parsed as windows-1252" in gb.warning


def test_an_encoding_problem_is_not_hidden_by_a_later_xml_error() -> None:
    """A bad byte in a feed that is also ill-formed (a newline before <?xml): the warning
    names both, encoding first (feedparser keeps only the XML error)."""
    body = chinese_feed(b"\xff", prolog="\n<?xml version='1.0' encoding='utf-8'?>")
    parsed = one(body)
    assert parsed.entries[0].title == "稀土\ufffd出口管制"
    assert parsed.warning is not None
    encoding, xml_error = parsed.warning.split("; ")
    assert encoding == "invalid UTF-8: 1 bad byte sequence replaced with U+FFFD"
    assert xml_error.startswith("SAXParseException:")
    latin1 = "<rss version='2.0'><channel><item><title>été</title></item></channel></rss>"
    fallback = one(b"\n<?xml version='1.0'?>" + latin1.encode("latin-1"))
    assert fallback.entries[0].title == "été"
    assert fallback.warning is not None
    assert fallback.warning.startswith("CharacterEncodingOverride: ")
    assert "; SAXParseException: " in fallback.warning


def test_prescan_leaves_a_body_with_bad_bytes_to_parse() -> None:
    """The pre-scan (expat, strict decoding) never answers for a body with an invalid byte,
    in UTF-8 or in a declared single-byte encoding (it would agree with parse if it did)."""
    assert prescan(chinese_feed(b"")) == keys_of(chinese_feed(b""))
    assert prescan(chinese_feed(b"\xff")) is None
    for encoding, text, bad in (("windows-1251", "Ёлка", b"\x98"), ("cp1252", "été", b"\x81")):
        body = (
            f"<?xml version='1.0' encoding='{encoding}'?><rss version='2.0'><channel><item>"
            f"<guid isPermaLink='false'>a</guid><title>{text}</title></item></channel></rss>"
        ).encode(encoding)
        body = body.replace(b"</title>", bad + b"</title>")
        assert one(body).entries[0].title == f"{text}\ufffd"
        assert prescan(body) is None


# --- entries --------------------------------------------------------------------------------


def test_relative_links_resolve_against_the_feed_url() -> None:
    """Relative item links become absolute against the feed URL, then canonical."""
    parsed = one(
        rss(
            "<item><title>a</title><link>/news/1?utm_source=rss#top</link></item>"
            "<item><title>b</title><link>2</link></item>"
        )
    )
    assert [e.link for e in parsed.entries] == [
        "https://feeds.example/news/1",
        "https://feeds.example/dir/2",
    ]


def test_xml_base_and_content_location_decide_the_base() -> None:
    """xml:base wins for Atom links; a relative Content-Location is joined to the URL first."""
    body = atom(
        "<entry><id>tag:x,2024:1</id><title>t</title><link href='post'/>"
        "<updated>2024-05-01T00:00:00Z</updated></entry>",
        feed_attrs="xml:base='https://base.example/blog/'",
    )
    assert one(body).entries[0].link == "https://base.example/blog/post"
    moved = one(rss("<item><title>a</title><link>x</link></item>"), {"Content-Location": "/other/"})
    assert moved.entries[0].link == "https://feeds.example/other/x"


def test_atom_html_title_and_content() -> None:
    """Atom type="html" titles become plain text; HTML is kept as served in the *_html fields."""
    body = atom(
        "<entry><id>tag:x,2024:1</id>"
        "<title type='html'>Rare &lt;b&gt;earth&lt;/b&gt; &amp;amp; more</title>"
        "<summary type='text'>5 &lt; 6</summary>"
        "<content type='html'>"
        "&lt;p&gt;Export &lt;script&gt;x()&lt;/script&gt;ban&lt;/p&gt;</content>"
        "<updated>2024-05-01T08:00:00+02:00</updated></entry>"
    )
    entry = one(body).entries[0]
    assert entry.title == "Rare earth & more"
    assert entry.summary == "5 < 6"
    assert entry.summary_html == "5 &lt; 6"
    assert entry.content == "Export ban"
    assert entry.content_html == "<p>Export <script>x()</script>ban</p>"
    assert entry.updated == datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
    assert entry.published is None


def test_rss_fields() -> None:
    """Dates are aware UTC; categories, author and content:encoded are read."""
    body = rss(
        "<item><guid isPermaLink='false'>42</guid><title>A  title</title>"
        "<link>https://site.example/a</link>"
        "<description>&lt;p&gt;Short&lt;/p&gt;</description>"
        "<content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
        "<![CDATA[<p>Long <em>text</em></p>]]></content:encoded>"
        "<category>Trade</category><category> Trade </category><category>Tariffs</category>"
        "<author>ed@site.example (Ed)</author>"
        "<pubDate>Mon, 06 May 2024 10:00:00 +0800</pubDate></item>"
    )
    entry = one(body).entries[0]
    assert entry.feed == "f"
    assert entry.key == entry_key("42", None, "", None)
    assert entry.title == "A title"
    assert entry.summary == "Short"
    assert entry.summary_html == "<p>Short</p>"
    assert entry.content == "Long text"
    assert entry.content_html == "<p>Long <em>text</em></p>"
    assert entry.categories == ("Trade", "Tariffs")
    assert entry.author == "ed@site.example (Ed)"
    assert entry.published == datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
    assert entry.published.tzinfo is UTC


def test_unparseable_date_is_none() -> None:
    """A date feedparser cannot read gives None, and the entry is still there."""
    body = rss(
        "<item><title>t</title><link>https://x.example/</link>"
        "<pubDate>Seg, 24 Set 2018</pubDate></item>"
    )
    entry = one(body).entries[0]
    assert entry.published is None
    assert entry.updated is None


def test_only_published_reads_without_deprecation_warning() -> None:
    """feedparser's updated→published fallback warns; parse never triggers it."""
    body = rss("<item><title>t</title><pubDate>Mon, 06 May 2024 10:00:00 GMT</pubDate></item>")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        entry = one(body).entries[0]
    assert [w for w in caught if issubclass(w.category, DeprecationWarning)] == []
    assert entry.updated is None


def test_empty_items_are_left_out() -> None:
    """An item with no id, link, title or text (as feedparser makes for nested items) is dropped."""
    parsed = one(
        rss(
            "<item><pubDate>Mon, 06 May 2024 10:00:00 GMT</pubDate></item>"
            "<item><title>kept</title></item>"
        )
    )
    assert [e.title for e in parsed.entries] == ["kept"]


def test_keys_come_from_the_whole_document() -> None:
    """Two different items sharing a guid get distinct keys; the guid alone keys a unique item."""
    parsed = one(
        rss(
            "<item><guid>dup</guid><title>One</title></item>"
            "<item><guid>dup</guid><title>Two</title></item>"
            "<item><guid isPermaLink='false'>solo</guid><title>Three</title></item>"
        )
    )
    keys = [e.key for e in parsed.entries]
    assert len(set(keys)) == 3
    assert keys[2] == entry_key("solo", None, "", None)


def test_a_post_reusing_a_guid_leaves_the_first_post_its_key() -> None:
    """Poll 1 has one post; poll 2 adds a newer post with the same guid (and edits the first
    one's title): the first post's key is unchanged, so only the new post is new."""
    first = (
        "<item><guid isPermaLink='false'>moc-notice</guid><title>{title}</title>"
        "<link>https://site.example/a</link><pubDate>Mon, 02 Jun 2025 09:00:00 GMT</pubDate></item>"
    )
    second = (
        "<item><guid isPermaLink='false'>moc-notice</guid><title>Rare earth licences</title>"
        "<link>https://site.example/b</link><pubDate>Tue, 03 Jun 2025 09:00:00 GMT</pubDate></item>"
    )
    (before,) = one(rss(first.format(title="Export controls"))).entries
    newer, older = one(rss(second + first.format(title="Export controls (corrected)"))).entries
    assert older.key == before.key == entry_key("moc-notice", None, "", None)
    assert newer.key != before.key
    # The scheme before gave both posts a "dup" key: kept for stores that know only those.
    assert older.legacy_key is not None
    assert newer.legacy_key is not None
    assert before.legacy_key is None


def test_items_with_only_text_get_keys_of_their_own() -> None:
    """Items with no guid, link, title or date are keyed by their text: each can alert
    (before, all of them shared one key and only the first ever alerted)."""
    parsed = one(
        rss(
            "<item><description>Export licences suspended</description></item>"
            "<item><description>Tariffs raised to 50%</description></item>"
        )
    )
    assert len({e.key for e in parsed.entries}) == 2
    assert [e.legacy_key for e in parsed.entries] == [None, None]
    assert parsed.entries[0].key == text_key("Export licences suspended")


def test_relative_permalink_guid_is_resolved_by_feedparser() -> None:
    """feedparser joins a permalink guid to the feed URL, so such keys depend on that URL."""
    body = rss("<item><guid>solo</guid><title>t</title></item>")
    assert keys_of(body) == [entry_key("https://feeds.example/dir/solo", None, "", None)]


def test_absolute_guid_keys_do_not_depend_on_the_url() -> None:
    """The same document fetched from another URL keeps its keys (absolute guids)."""
    body = rss("<item><guid>https://site.example/p/1</guid><title>t</title></item>")
    assert one(body).entries[0].key == one(body, url="http://mirror.example/x").entries[0].key


# --- prescan --------------------------------------------------------------------------------


def keys_of(body: bytes, url: str = URL) -> list[str]:
    """The keys parse() assigns, in order."""
    return [e.key for e in one(body, url=url).entries]


def test_prescan_answers_for_a_clean_feed() -> None:
    """Well-formed, one absolute or non-permalink guid per item: the same keys as parse."""
    for body in (
        rss(
            "<item><guid>https://site.example/p/1</guid><title>a</title></item>"
            "<item><guid isPermaLink='false'>post-2</guid><title>b</title></item>"
            "<item><guid>tag:site.example,2024:3</guid></item>"
        ),
        atom("<entry><id>urn:uuid:1</id><title>t</title></entry><entry><id>tag:x,1:2</id></entry>"),
        # CDATA and character references read the same through expat and feedparser's strict path
        rss("<item><guid isPermaLink='false'> <![CDATA[g]]>x&#x41; </guid></item>"),
    ):
        assert prescan(body) == keys_of(body)


@pytest.mark.parametrize(
    "body",
    [
        rss("<item><guid>relative/1</guid></item>"),
        rss("<item><guid>g</guid></item><item><title>no guid</title></item>"),
        rss(
            "<item><guid isPermaLink='false'>g</guid></item>"
            "<item><guid isPermaLink='false'>g</guid></item>"
        ),
        rss("<item><guid isPermaLink='false'>a&amp;b</guid></item>"),
        rss("<item><guid isPermaLink='false'>a b</guid></item>"),
        rss("<item><guid isPermaLink='false'>café</guid></item>"),
        rss("<item><guid isPermaLink='false'>a</guid><guid isPermaLink='false'>b</guid></item>"),
        rss(
            "<item><guid isPermaLink='false'>a</guid>"
            "<atom:id xmlns:atom='http://www.w3.org/2005/Atom'>tag:x,1:1</atom:id></item>"
        ),
        rss(
            "<item><guid isPermaLink='false'>a</guid>"
            "<item><guid isPermaLink='false'>b</guid></item></item>"
        ),
        rss("<item><guid isPermaLink='false'>a</guid></item>", prolog="\n<?xml version='1.0'?>"),
        rss("<item><guid isPermaLink='false'>a</guid></item>")[:-20],
        rss(
            "<item><guid isPermaLink='false'>a</guid></item>",
            prolog="<?xml version='1.0'?><!DOCTYPE rss>",
        ),
        rss("<item><guid>HTTP://Site.example/a</guid></item>"),
        rss("<item><guid>https://site.example/a?</guid></item>"),
        rss(""),
        atom("<entry><id>/t3_42tizy</id></entry>"),
        atom("<entry><id>tag:x,1:1</id><source><id>tag:y,1:1</id></source></entry>"),
        (
            "<?xml version='1.0' encoding='utf-16'?>"
            "<rss><channel><item><guid>tag:x,1:1</guid></item></channel></rss>"
        ).encode("utf-16"),
        b"<?xml version='1.0' encoding='shift_jis'?>"
        b"<rss><channel><item><guid>tag:x,1:1</guid></item></channel></rss>",
        b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' xmlns='http://purl.org/rss/1.0/'>"
        b"<item rdf:about='https://x.example/1'><title>t</title></item></rdf:RDF>",
    ],
    ids=[
        "relative-permalink",
        "item-without-guid",
        "duplicate-guid",
        "entity-in-guid",
        "space-in-guid",
        "non-ascii-guid",
        "two-guids",
        "guid-and-atom-id",
        "nested-item",
        "leading-newline",
        "truncated",
        "doctype",
        "uppercase-scheme",
        "empty-query",
        "no-items",
        "relative-atom-id",
        "source-id",
        "utf-16",
        "multibyte-encoding",
        "rss-1.0",
    ],
)
def test_prescan_is_unsure(body: bytes) -> None:
    """Anything the pre-scan cannot be sure about returns None (the full parse decides)."""
    assert prescan(body) is None


def test_prescan_respects_max_bytes_and_headers() -> None:
    """Over max_bytes, or a non-ASCII-compatible charset header: None, as parse would differ."""
    body = rss("<item><guid isPermaLink='false'>a</guid></item>")
    assert prescan(body) == keys_of(body)
    assert prescan(body, max_bytes=10) is None
    assert prescan(body, {"Content-Type": "application/rss+xml; charset=UTF-16"}) is None
    assert prescan(body, {"content-type": "application/rss+xml; charset=utf-8"}) == keys_of(body)


_tricky_guids = st.sampled_from(
    [
        "https://site.example/p/1",
        "https://site.example/p/2?x=1&amp;y=2",
        "http://site.example/p/3#frag",
        "https://Site.example/p/4",
        "HTTPS://site.example/p/5",
        "https://site.example/p/6?",
        "http:///site.example/p/7",
        "http://[broken/p/8",
        "tag:site.example,2024:9",
        "urn:uuid:10",
        "mailto:someone@site.example",
        "relative/11",
        "/rooted/12",
        "13",
        "  padded-14  ",
        "<![CDATA[cdata-15]]>",
        "with space 16",
        "non-ascii-ü-17",
        "",
        "&#x68;ttp://site.example/p/18",
    ]
)
_permalinks = st.sampled_from(
    ["", " isPermaLink='false'", " isPermaLink='true'", " isPermaLink='True'"]
)


@st.composite
def _guid_element(draw: st.DrawFn, kind: str, index: int) -> str:
    """Mostly clean, unique guids (so the pre-scan answers), sometimes a tricky one."""
    if draw(st.integers(min_value=0, max_value=3)):
        value, attrs = draw(
            st.sampled_from(
                [
                    (f"tag:site.example,2024:{index}", ""),
                    (f"https://site.example/post/{index}", ""),
                    (f"http://site.example/?p={index}", ""),
                    (f" <![CDATA[urn:uuid:{index}]]> ", ""),
                    (f"post-{index}", " isPermaLink='false'"),
                    (f"post/{index}?a=1&amp;b=2", " isPermaLink='false'"),
                ]
            )
        )
    else:
        value, attrs = draw(_tricky_guids), draw(_permalinks)
    if kind == "atom":
        return f"<id>{value}</id>"
    return f"<guid{attrs}>{value}</guid>"


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """Small RSS or Atom documents mixing every guid form the pre-scan must get right or refuse."""
    count = draw(st.integers(min_value=0, max_value=5))
    kind = draw(st.sampled_from(["rss", "atom"]))
    tag = "item" if kind == "rss" else "entry"
    parts = []
    for i in range(count):
        guid_count = draw(st.sampled_from([1, 1, 1, 1, 1, 0, 2]))
        ids = "".join(draw(_guid_element(kind, i)) for _ in range(guid_count))
        parts.append(f"<{tag}>{ids}<title>Item {i % 3}</title><link>/p/{i % 2}</link></{tag}>")
    prolog = draw(
        st.sampled_from(["<?xml version='1.0'?>\n", "", "\ufeff", "\n<?xml version='1.0'?>"])
    )
    base = draw(
        st.sampled_from(
            ["", " xml:base='https://base.example/x/'", " xml:base='http://other.example/'"]
        )
    )
    if kind == "rss":
        body = (
            f"{prolog}<rss version='2.0'><channel{base}><title>c</title>"
            f"{''.join(parts)}</channel></rss>"
        )
    else:
        body = (
            f"{prolog}<feed xmlns='http://www.w3.org/2005/Atom'{base}><title>c</title>"
            f"<id>tag:c,1:c</id>{''.join(parts)}</feed>"
        )
    return body.encode()


@settings(max_examples=150, deadline=None)
@given(documents(), st.sampled_from([URL, "http://mirror.example/a/b.xml", "file:///srv/feed.xml"]))
def test_prescan_never_disagrees_with_parse(body: bytes, url: str) -> None:
    """Whenever prescan answers, parse (from any URL) assigns exactly those keys, in order."""
    keys = prescan(body)
    if keys is None:
        return
    assert keys == keys_of(body, url=url)


def test_a_string_body_is_refused_not_opened_as_a_path() -> None:
    """feedparser reads a ``str`` as a URL or file path; ``parse`` refuses one outright."""
    with pytest.raises(TypeError, match="as bytes"):
        parse("/etc/hostname", {}, "https://feeds.example/f", "f")  # type: ignore[arg-type]
