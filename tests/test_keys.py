"""Entry keys and canonical links: stable, versioned, and no collapse of distinct items."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from notifier.feeds.keys import TRACKING_PARAMS, assign_keys, canonical_link, entry_key

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


def test_keys_of_ordinary_entries_are_pinned() -> None:
    """Literal keys of ordinary entries (unique guid; no guid but a link; title + date;
    title alone; date alone; a duplicate-guid pair), computed before any change to the
    scheme: a stored key must still match after an upgrade."""
    pinned = [
        (
            ("tag:example.com,2024:1", "https://example.com/a", "Title", "2025-06-01T09:00Z"),
            "v1:445ba55381a3ef95ae4d5a3aaa8818c6",
        ),
        (
            (None, "https://example.com/news/1?utm_source=rss", "Tariffs rise", None),
            "v1:15cf41349da27969dea27d6d651b4136",
        ),
        (
            (None, None, "China tightens 稀土 export rules", "2025-06-10T01:00:00+00:00"),
            "v1:d790534773270921aeb98a05ba18eeaf",
        ),
        ((None, None, "Untitled date-less", None), "v1:3d87a7fe63de2487cfe7b5dc5e870e32"),
        ((None, None, "", "2025-06-10T01:00:00+00:00"), "v1:e67257aa1f137056b73192d0ce9a56e6"),
    ]
    items = [item for item, _ in pinned]
    assert assign_keys(items) == [key for _, key in pinned]
    guid = "http://www.moe.gov.sg/media/spotlight/"
    link = "http://feedproxy.google.com/~r/x/~3/vnNsA4Hdk6U/"
    assert assign_keys([(guid, link, "One", None), (guid, link, "Two", None)]) == [
        "v1:06e4bd4c40560f30f5d80731e1d74479",
        "v1:7eb0eb3f2f4a1f98151a1d5ea605c8a9",
    ]


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


def test_assign_keys_unique_guids_use_entry_key() -> None:
    """Without duplicates, assign_keys gives exactly entry_key of each item."""
    items = [
        ("a", None, "A", None),
        ("b", "https://x.example/b", "B", None),
        (None, None, "C", "d"),
    ]
    assert assign_keys(items) == [entry_key(*item) for item in items]


def test_assign_keys_duplicate_guid_distinct_items_do_not_collapse() -> None:
    """The MOE case: one guid and one link on four posts; the titles tell them apart."""
    link = "http://feedproxy.google.com/~r/x/~3/vnNsA4Hdk6U/"
    guid = "http://www.moe.gov.sg/media/spotlight/"
    items = [(guid, link, title, None) for title in ("One", "Two", "Three", "Four")]
    keys = assign_keys(items)
    assert len(set(keys)) == 4
    assert entry_key(guid, link, "One", None) not in keys


def test_assign_keys_untitled_duplicates_differ_by_date() -> None:
    """The Scripting News case: same guid and link, no title; the dates tell them apart."""
    guid = "http://scripting.com/2017/06/25.html#a080631"
    items = [(guid, guid, "", "2017-06-25T12:27:31+00:00"), (guid, guid, "", "2017-06-25T12:32:31")]
    assert len(set(assign_keys(items))) == 2


def test_assign_keys_exact_repeats_share_a_key() -> None:
    """The same item listed twice is one entry: both copies get the plain guid key."""
    item = ("g", "https://x.example/a", "Title", "2024-01-01")
    keys = assign_keys([item, ("h", None, "Other", None), item])
    assert keys[0] == keys[2] == entry_key(*item)


def test_assign_keys_shared_link_without_guid_is_qualified() -> None:
    """Guid-less items that all point at one page (a home page) keep distinct keys."""
    items = [
        (None, "https://x.example/", "First", None),
        (None, "https://x.example/", "Second", None),
    ]
    assert len(set(assign_keys(items))) == 2


_items = st.lists(
    st.tuples(
        st.sampled_from([None, "", "g1", "g2", " g1 "]),
        st.sampled_from(
            [None, "https://a.example/1", "https://a.example/1#x", "https://b.example/"]
        ),
        st.sampled_from(["", "T1", "T2"]),
        st.sampled_from([None, "2024-01-01", "2024-01-02"]),
    ),
    max_size=8,
)


def _identity(item: tuple[str | None, str | None, str, str | None]) -> tuple[str, str, str, str]:
    guid, link, title, date = item
    return (
        (guid or "").strip(),
        canonical_link(link) if link else "",
        title,
        date or "",
    )


@given(_items)
def test_assign_keys_never_collapses_distinct_items(
    items: list[tuple[str | None, str | None, str, str | None]],
) -> None:
    """Items that differ in guid, canonical link, title or date never share a key; repeats do."""
    keys = assign_keys(items)
    assert len(keys) == len(items)
    for i, a in enumerate(items):
        for j, b in enumerate(items):
            assert (keys[i] == keys[j]) == (_identity(a) == _identity(b)), (a, b)


@given(_items, st.randoms(use_true_random=False))
def test_assign_keys_ignores_order(
    items: list[tuple[str | None, str | None, str, str | None]], rnd: random.Random
) -> None:
    """Reordering a feed's items does not change any item's key."""
    order = list(range(len(items)))
    rnd.shuffle(order)
    keys = assign_keys(items)
    shuffled = assign_keys([items[i] for i in order])
    assert shuffled == [keys[i] for i in order]
