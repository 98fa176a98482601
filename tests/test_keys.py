"""Entry keys and canonical links: stable, versioned, and no collapse of distinct items."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import re
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from notifier.sources.keys import (
    PLAIN_URL,
    TRACKING_PARAMS,
    KeyItem,
    Keys,
    _canonical_once,
    assign_keys,
    canonical_link,
    entry_key,
    http_link,
    text_key,
)

KEY = re.compile(r"v1:[0-9a-f]{32}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM/Path/Page?b=2&a=1", "http://example.com/Path/Page?b=2&a=1"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com:443/x", "https://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        (
            "https://example.com/a?utm_source=rss&id=7&utm_medium=feed&fbclid=X&x=1",
            "https://example.com/a?id=7&x=1",
        ),
        (
            "https://example.com/a?gclid=1&mc_cid=2&mc_eid=3&_hsenc=4&_hsmi=5",
            "https://example.com/a",
        ),
        (
            "https://example.com/a?igshid=1&ref_src=twsrc&UTM_Campaign=x&q=1",
            "https://example.com/a?q=1",
        ),
        ("https://example.com/a?q=a%20b&r=c+d", "https://example.com/a?q=a%20b&r=c+d"),
        ("https://user:Secret@Example.com/", "https://user:Secret@example.com/"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("mailto:Someone@Example.com", "mailto:Someone@Example.com"),
        ("tag:example.com,2004:3299", "tag:example.com,2004:3299"),
        ("http://[broken", "http://[broken"),
    ],
)
def test_canonical_link_examples(url: str, expected: str) -> None:
    """Scheme/host lower-cased, default port, fragment and tracking parameters dropped."""
    assert canonical_link(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/blog/post", "https://Feeds.example/dir/feed.xml", "https://feeds.example/blog/post"),
        ("post?id=1", "https://feeds.example/dir/feed.xml", "https://feeds.example/dir/post?id=1"),
        ("//cdn.example/x", "https://feeds.example/", "https://cdn.example/x"),
        ("https://other.example/x", "https://feeds.example/", "https://other.example/x"),
    ],
)
def test_canonical_link_resolves_against_base(url: str, base: str, expected: str) -> None:
    """A relative link is made absolute against ``base`` before it is canonicalised."""
    assert canonical_link(url, base) == expected


_hosts = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}(\.[A-Za-z]{2,5}){1,2}", fullmatch=True)
_segments = st.lists(st.from_regex(r"[A-Za-z0-9._~%-]{0,8}", fullmatch=True), max_size=4)
_param_names = st.one_of(
    st.sampled_from(sorted(TRACKING_PARAMS)),
    st.from_regex(r"utm_[a-z]{1,8}", fullmatch=True),
    st.from_regex(r"[a-z]{1,6}", fullmatch=True),
)
_params = st.lists(
    st.tuples(_param_names, st.from_regex(r"[A-Za-z0-9%+.-]{0,6}", fullmatch=True)), max_size=6
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    """Realistic feed links: any case, optional port, path, query with tracking, fragment."""
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(_hosts)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":"]))
    path = "/".join(draw(_segments))
    query = "&".join(f"{k}={v}" for k, v in draw(_params))
    fragment = draw(st.sampled_from(["", "#", "#top", "#a?b"]))
    return f"{scheme}://{host}{port}/{path}" + (f"?{query}" if query else "") + fragment


@given(urls())
def test_canonical_link_is_idempotent_on_links(url: str) -> None:
    """Canonicalising a canonical link changes nothing."""
    once = canonical_link(url)
    assert canonical_link(once) == once


@given(st.text(max_size=60), st.one_of(st.none(), urls(), st.text(max_size=20)))
@example("////A", None)  # urlsplit/urlunsplit need two passes to settle these
@example("http:////A", None)
def test_canonical_link_is_idempotent_on_any_text(text: str, base: str | None) -> None:
    """Whatever the input (even garbage), the result is a fixed point and no exception escapes."""
    once = canonical_link(text, base)
    assert canonical_link(once) == once


@given(st.from_regex(PLAIN_URL, fullmatch=True), st.one_of(st.none(), urls()))
@example("http://./a", "https://example.com/b")
@example("https://a.example/..//x/./", "https://a.example/base/")
def test_a_plain_url_is_what_parsing_it_would_give(url: str, base: str | None) -> None:
    """canonical_link and http_link return a PLAIN_URL as it is, without parsing it: that
    is what the parsing would give (joined to any base, split and put back together)."""
    if base is not None:
        assert urllib.parse.urljoin(base, url) == url
    assert _canonical_once(url).strip() == url
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert parts.hostname
    assert canonical_link(url, base) == url
    assert http_link(url) == url


@given(urls())
def test_canonical_link_drops_only_tracking_parameters(url: str) -> None:
    """Tracking parameters go; the others stay, in their original order and spelling."""
    query = url.partition("#")[0].partition("?")[2]
    kept = [
        p
        for p in query.split("&")
        if p
        and not (
            p.partition("=")[0].lower().startswith("utm_")
            or p.partition("=")[0].lower() in TRACKING_PARAMS
        )
    ]
    result = canonical_link(url)
    assert result.partition("?")[2] == "&".join(kept)
    assert "#" not in result
    scheme_and_host = result.split("/")[:3]
    assert scheme_and_host == [s.lower() for s in scheme_and_host]


def test_entry_key_is_pinned() -> None:
    """The v1 scheme never changes: a stored key must still match after an upgrade."""
    assert entry_key("tag:example.com,2024:1", None, "", None) == (
        "v1:445ba55381a3ef95ae4d5a3aaa8818c6"
    )
    assert entry_key(None, "https://example.com/a", "t", None) == (
        "v1:ee8a0973521c00ae7af612da4858191e"
    )


def test_entry_key_prefers_guid_then_link_then_title_and_date() -> None:
    """The guid decides alone; without one the canonical link; without both title + date."""
    by_guid = entry_key(" g-1 ", "https://a.example/x", "Title", "2024-01-01")
    assert by_guid == entry_key("g-1", "https://b.example/y", "Other", None)
    by_link = entry_key(None, "https://a.example/x?utm_source=rss#top", "Title", None)
    assert by_link == entry_key("", "HTTPS://A.example:443/x", "Other title", "2020-01-01")
    by_title = entry_key(None, None, "Some  title\n", "2024-01-01")
    assert by_title == entry_key("  ", "  ", "Some title", "2024-01-01")
    assert by_title != entry_key(None, None, "Some title", "2024-01-02")
    assert len({by_guid, by_link, by_title}) == 3


def test_entry_key_tags_keep_kinds_apart() -> None:
    """A guid that reads like a link does not share its key with the same link."""
    url = "https://example.com/a"
    assert entry_key(url, None, "", None) != entry_key(None, url, "", None)


@given(
    st.one_of(st.none(), st.text(max_size=30)),
    st.one_of(st.none(), st.text(max_size=30)),
    st.text(max_size=30),
    st.one_of(st.none(), st.text(max_size=20)),
)
def test_entry_key_shape_and_determinism(
    guid: str | None, link: str | None, title: str, date: str | None
) -> None:
    """Any input (lone surrogates included) gives ``v1:`` + 32 hex digits, the same each time."""
    key = entry_key(guid, link, title, date)
    assert KEY.fullmatch(key)
    assert key == entry_key(guid, link, title, date)


# --- assign_keys: items of one document ------------------------------------------------------

D1 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
D2 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def item(
    guid: str | None,
    link: str | None = None,
    title: str = "",
    when: datetime | None = None,
    *,
    text: str = "",
    updated: datetime | None = None,
) -> KeyItem:
    """A KeyItem as the parser makes it: ``when`` is the published date, else ``updated``."""
    published = when.isoformat() if when else None
    date = published or (updated.isoformat() if updated else None)
    return KeyItem(guid, link, title, date, published, when or updated, text)


def keys(items: list[KeyItem]) -> list[str]:
    """The keys assign_keys gives ``items``."""
    return [k.key for k in assign_keys(items)]


def test_keys_of_ordinary_entries_are_pinned() -> None:
    """Keys computed with the code before variant keys (unique guid; no guid but a link;
    title + date; title alone; date alone) stay byte-identical, and have no legacy key."""
    pinned = [
        (
            KeyItem("tag:example.com,2024:1", "https://example.com/a", "Title", D1.isoformat()),
            "v1:445ba55381a3ef95ae4d5a3aaa8818c6",
        ),
        (
            KeyItem(None, "https://example.com/news/1?utm_source=rss", "Tariffs rise", None),
            "v1:15cf41349da27969dea27d6d651b4136",
        ),
        (
            KeyItem(None, None, "China tightens 稀土 export rules", "2025-06-10T01:00:00+00:00"),
            "v1:d790534773270921aeb98a05ba18eeaf",
        ),
        (KeyItem(None, None, "Untitled date-less", None), "v1:3d87a7fe63de2487cfe7b5dc5e870e32"),
        (
            KeyItem(None, None, "", "2025-06-10T01:00:00+00:00"),
            "v1:e67257aa1f137056b73192d0ce9a56e6",
        ),
    ]
    for key_item, expected in pinned:
        assert assign_keys([key_item]) == [Keys(expected, None)]
        assert entry_key(key_item.guid, key_item.link, key_item.title, key_item.date) == expected
    assert keys([p[0] for p in pinned]) == [p[1] for p in pinned]


def test_legacy_keys_are_the_keys_before_variant_keys() -> None:
    """Items of a group sharing a guid keep, as legacy_key, the "dup" key the earlier
    scheme gave them (pinned values), so a store knowing only those re-alerts nothing."""
    guid = "http://www.moe.gov.sg/media/spotlight/"
    link = "http://feedproxy.google.com/~r/x/~3/vnNsA4Hdk6U/"
    moe = assign_keys([KeyItem(guid, link, "One", None), KeyItem(guid, link, "Two", None)])
    assert [k.legacy for k in moe] == [
        "v1:06e4bd4c40560f30f5d80731e1d74479",
        "v1:7eb0eb3f2f4a1f98151a1d5ea605c8a9",
    ]
    scripting = assign_keys(
        [
            KeyItem("g", "https://x.example/p", "A", "2024-01-02T00:00:00+00:00"),
            KeyItem("g", "https://x.example/p", "B", "2024-01-01T00:00:00+00:00"),
        ]
    )
    assert [k.legacy for k in scripting] == [
        "v1:872b55dfa89d233e9f0abd193d7a86ce",
        "v1:368b09db45ad27c34bd8c8dba94fbcfb",
    ]


def test_assign_keys_unique_identities_use_entry_key() -> None:
    """Without duplicates, assign_keys gives exactly entry_key of each item, no legacy key."""
    items = [
        KeyItem("a", None, "A", None),
        KeyItem("b", "https://x.example/b", "B", None),
        KeyItem(None, "https://x.example/c", "C", None),
        KeyItem(None, None, "C", "d"),
    ]
    assert assign_keys(items) == [Keys(entry_key(i.guid, i.link, i.title, i.date)) for i in items]


def test_a_reused_guid_does_not_re_key_the_first_item() -> None:
    """A second post reusing an existing guid: the first (older) post keeps its key, so it
    does not alert again; the new post gets a key of its own. Before, both were re-keyed."""
    first = item("g", "https://x.example/a", "Tariff pause extended", D1)
    before = keys([first])
    second = item("g", "https://x.example/b", "Tariff pause ends", D2)
    for document in ([second, first], [first, second]):  # newest first, or oldest first
        after = dict(zip(document, keys(document), strict=True))
        assert after[first] == before[0]
        assert after[second] != before[0]


def test_a_reused_guid_without_dates_keeps_the_last_listed_item() -> None:
    """Without dates, the item listed last (the oldest, in a newest-first feed) keeps the key."""
    first = item("g", "https://x.example/p", "One")
    second = item("g", "https://x.example/p", "Two")
    assert keys([second, first])[1] == keys([first])[0]


def test_editing_items_that_share_a_guid_does_not_re_key_them() -> None:
    """Title edits of either item of a shared guid change no key (the README's promise):
    the older keeps the plain key, the newer is told apart by its link or published date."""
    old, new = (
        item("g", "https://x.example/a", "Old", D1),
        item("g", "https://x.example/b", "New", D2),
    )
    same_link = item("g", "https://x.example/a", "New", D2)
    for document in ([new, old], [same_link, old]):
        edited = [dataclasses.replace(i, title=i.title + " (updated)", text="x") for i in document]
        assert keys(edited) == keys(document)
        assert len(set(keys(document))) == 2


def test_items_with_only_text_are_keyed_by_it() -> None:
    """Items with no guid, link, title or date no longer share one key (only the first ever
    alerted): each is keyed by its text, and has no legacy key (the old one was shared)."""
    items = [item(None, text="<p>Export licences suspended</p>"), item(None, text="Tariffs up")]
    result = assign_keys(items)
    assert len({k.key for k in result}) == 2
    assert [k.legacy for k in result] == [None, None]
    assert result[0].key == text_key("<p>Export licences\n suspended</p>")
    assert keys([items[0], items[0]]) == [result[0].key] * 2


def test_exact_repeats_share_a_key() -> None:
    """The same item listed twice is one entry: both copies get the same key."""
    one = item("g", "https://x.example/a", "Title", D1)
    result = keys([one, item("h", None, "Other"), one])
    assert result[0] == result[2] == entry_key("g", "https://x.example/a", "Title", D1.isoformat())


def test_the_qualifier_is_the_first_field_that_tells_an_item_apart() -> None:
    """Link, then published date, then title, then all fields: a variant whose only unique
    field is its title is re-keyed by a title edit; one told apart by its date is not."""
    link = "https://x.example/p"
    oldest = item("g", link, "A", D1)
    by_date = item("g", link, "A", D2)
    by_title = item("g", link, "B")
    base = keys([by_title, by_date, oldest])
    retitled = keys([item("g", link, "B2"), by_date, oldest])
    assert retitled[1:] == base[1:]
    assert retitled[0] != base[0]
    assert len(set(base)) == 3
    assert keys([by_title, item("g", link, "A, corrected", D2), oldest]) == base


_guids = st.sampled_from([None, "", "g1", "g2", " g1 "])
_links = st.sampled_from(
    [None, "https://a.example/1", "https://a.example/1#x", "https://b.example/"]
)
_titles = st.sampled_from(["", "T1", "T2", "T 2"])
_dates = st.sampled_from([None, D1, D2])
_texts = st.sampled_from(["", "x", "y"])


@st.composite
def key_items(draw: st.DrawFn) -> KeyItem:
    """Items from a small alphabet, so that guids, links, titles and dates collide often."""
    published, updated = draw(_dates), draw(_dates)
    return item(
        draw(_guids),
        draw(_links),
        draw(_titles),
        published,
        text=draw(_texts),
        updated=updated if published is None else None,
    )


_documents = st.lists(key_items(), max_size=8)


def _distinct(i: KeyItem) -> tuple[str, ...]:
    """What makes two items different entries (spaces collapsed, links canonical)."""
    guid, link = (i.guid or "").strip(), canonical_link(i.link) if i.link else ""
    title, date = " ".join(i.title.split()), i.date or ""
    if not (guid or link or title or date):
        return ("text", i.text)
    return (guid, link, title, date)


@given(_documents)
@example([item(None, text="x"), item(None, text="y")])  # once, all of these shared one key
def test_distinct_items_never_share_a_key(items: list[KeyItem]) -> None:
    """Items that differ in guid, canonical link, title or date (or, with none of them, in
    text) never share a key; exact repeats do."""
    result = keys(items)
    for a, key_a in zip(items, result, strict=True):
        for b, key_b in zip(items, result, strict=True):
            assert (key_a == key_b) == (_distinct(a) == _distinct(b)), (a, b)


@given(_documents)
@example([item("g", "https://a.example/1", "T1"), item("g", "https://a.example/1", "T2")])
@example([item(None, text="x"), item(None, text="y")])
def test_keys_and_legacy_keys_keep_every_earlier_key(items: list[KeyItem]) -> None:
    """Every item gets the key the earlier scheme gave it, or has it as legacy_key (text-only
    items excepted: their earlier key was one shared by all of them)."""
    for i, k in zip(items, assign_keys(items), strict=True):
        earlier = legacy_scheme(items)[items.index(i)]
        if _distinct(i)[0] == "text":
            assert k.legacy is None
        elif k.key != earlier:
            assert k.legacy == earlier
        else:
            assert k.legacy is None


def legacy_scheme(items: list[KeyItem]) -> list[str]:
    """The keys of the scheme before variant keys (a frozen copy of that code)."""
    identities = [
        ("guid", i.guid.strip())
        if i.guid and i.guid.strip()
        else ("link", canonical_link(i.link))
        if i.link and i.link.strip() and canonical_link(i.link)
        else ("title", " ".join(i.title.split()), (i.date or "").strip())
        for i in items
    ]
    details = [
        (
            canonical_link(i.link) if i.link and i.link.strip() else "",
            " ".join(i.title.split()),
            (i.date or "").strip(),
        )
        for i in items
    ]
    variants: dict[tuple[str, ...], set[tuple[str, str, str]]] = {}
    for identity, detail in zip(identities, details, strict=True):
        variants.setdefault(identity, set()).add(detail)
    return [
        _legacy_digest(identity, detail, len(variants[identity]) > 1)
        for identity, detail in zip(identities, details, strict=True)
    ]


def _legacy_digest(identity: tuple[str, ...], detail: tuple[str, str, str], dup: bool) -> str:
    material = ["v1", "dup", *identity, *detail] if dup else ["v1", *identity]
    payload = json.dumps(material, ensure_ascii=True, separators=(",", ":"))
    return "v1:" + hashlib.blake2b(payload.encode("ascii"), digest_size=16).hexdigest()


@given(_documents, st.data())
def test_editing_a_title_changes_no_key_unless_the_title_tells_items_apart(
    items: list[KeyItem], data: st.DataObject
) -> None:
    """Give an item that has a guid or a link a title no other item has: no key changes
    at all, unless its identity is shared by another variant and neither its link nor its
    published date is unique among them, or its old title was shared with one of them
    (then the title is what tells them apart, and a re-key is expected)."""
    candidates = [n for n, i in enumerate(items) if _identity_of(i)[0] in ("guid", "link")]
    if not candidates:
        return
    target = items[data.draw(st.sampled_from(candidates))]
    published: dict[tuple[str, ...], str] = {}  # a variant's first published date
    for i in items:
        if _identity_of(i) == _identity_of(target) and not published.get(_distinct(i)):
            published[_distinct(i)] = i.published or ""
    if len(published) > 1:
        mine = _distinct(target)
        others = [d for d in published if d != mine]
        told_apart = (mine[1] and all(d[1] != mine[1] for d in others)) or (
            published[mine] and all(published[d] != published[mine] for d in others)
        )
        title_shared = any(d[2] == mine[2] for d in others)
        if not told_apart or title_shared:
            return
    edited = [
        dataclasses.replace(i, title="A fresh title") if _distinct(i) == _distinct(target) else i
        for i in items
    ]
    assert keys(edited) == keys(items)


def _identity_of(i: KeyItem) -> tuple[str, ...]:
    """The identity an item is grouped by: guid, else canonical link, else what it has."""
    guid, link = (i.guid or "").strip(), canonical_link(i.link) if i.link else ""
    return ("guid", guid) if guid else ("link", link) if link else _distinct(i)


@given(
    st.lists(
        st.tuples(_guids, _links, _titles, st.integers(min_value=0, max_value=10**6)),
        max_size=8,
        unique_by=lambda t: t[3],
    ),
    st.randoms(use_true_random=False),
)
def test_order_does_not_matter_when_items_are_dated(
    raw: list[tuple[str | None, str | None, str, int]], rnd: random.Random
) -> None:
    """Reordering a feed whose items all have distinct dates changes no key (only an undated
    group depends on order: its last item is taken for the oldest)."""
    items = [item(g, link, t, D1 + timedelta(seconds=s)) for g, link, t, s in raw]
    order = list(range(len(items)))
    rnd.shuffle(order)
    result = assign_keys(items)
    assert assign_keys([items[i] for i in order]) == [result[i] for i in order]
