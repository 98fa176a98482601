"""JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/), which feedparser does not read.

The source type ``jsonfeed``; the ``feed`` type hands a body that is a JSON
document to :func:`parse` too (see :mod:`notifier.sources.rss`). Like every
source's, :func:`parse` is a top-level function of picklable arguments (it
runs in the parse pool) and makes no decision beyond "is this a usable feed"::

    body ──▶ size cap ──▶ UTF-8 ──▶ json ──▶ a JSON Feed? ──▶ items ──▶ entries + keys
               │      (bad bytes      │          │              │
               │       replaced)      │       NotAFeed     FeedParseError
         FeedParseError        FeedParseError  (not an object,  ('items' missing
                               (broken JSON,    no JSON Feed     or not an array)
                                too deep)       version)

What is read (anything else is ignored, and so is a field of the wrong type:
a number where text belongs, an object where a list does)::

    JSON Feed                          Entry / ParsedFeed
    version                            ParsedFeed.version: json1 (1.0), json11 (1.1)
    title, home_page_url               ParsedFeed.title, .link (http(s) only, canonical)
    items[].id                         the guid of the key (notifier.sources.keys): a
                                       number is coerced to text (``json.dumps``), as
                                       the spec says
    items[].url (else external_url)    link: made absolute against the feed URL,
                                       canonical, http(s) only
    items[].title                      title (plain text, spaces collapsed)
    items[].summary                    summary (plain text); summary_html: it, escaped
    items[].content_text, content_html content: content_text, else the words of
                                       content_html (notifier.sources.html.to_text);
                                       content_html: as served, else content_text escaped
    items[].date_published, _modified  published, updated: RFC 3339 (an RFC 822 date
                                       and a date without a zone, read as UTC, too)
                                       → aware UTC; unreadable → None
    items[].tags                       categories (strings only, repeats dropped)
    items[].authors[].name (1.1),      author: the names, joined by ", "; an item
      else items[].author.name (1.0)   without any has the feed's (as the spec says)

Hostile input: the size cap comes first; JSON Feed is UTF-8 by definition, so
bytes are decoded as UTF-8 whatever the headers say, a bad sequence becoming
U+FFFD (and a warning, worded as the RSS path words it); nesting deeper than
Python's recursion limit is a :class:`~notifier.errors.FeedParseError`, and
so is a number Python will not read (over 4,300 digits). Memory: a hostile
document of many tiny values (``[{},{},…]``) becomes about 30 times its size
in Python objects for the moment of the parse, in the worker (~300 MB and
0.2 s for the default 10 MB cap); feedparser makes more than that of XML of
the same size (and takes about 40 s), so ``fetch.max_bytes`` bounds both.

:func:`prescan` reads the ids (a ``json.loads``, no HTML conversion, no
worker process) and answers when the keys follow from the ids alone.
"""

from __future__ import annotations

import email.utils
import html as _html
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from notifier.errors import FeedParseError, NotAFeed
from notifier.model import Entry
from notifier.sources.base import DEFAULT_MAX_BYTES, ParsedFeed, too_large
from notifier.sources.html import to_text
from notifier.sources.keys import KeyItem, assign_keys, canonical_link, entry_key, http_link

__all__ = ["ACCEPT", "NOT_JSON_FEED", "VERSIONS", "looks_like_json", "parse", "prescan"]

#: What a ``jsonfeed`` feed asks for (the spec's media type first).
ACCEPT: str | None = "application/feed+json, application/json;q=0.9, */*;q=0.8"

#: The versions this module reads, by the URL a feed names in ``version``.
VERSIONS = {
    "https://jsonfeed.org/version/1": "json1",
    "https://jsonfeed.org/version/1.1": "json11",
}
_VERSION_PREFIX = "https://jsonfeed.org/version/"
NOT_JSON_FEED = (
    "not a feed: a JSON document without a JSON Feed version (https://jsonfeed.org/version/1.1)"
)
_UTF16_32 = (b"\xff\xfe", b"\xfe\xff")
_BLANK = b" \t\r\n"


def looks_like_json(body: bytes) -> bool:
    """Whether ``body`` starts, after a UTF-8 BOM and blanks, with ``{`` or ``[``.

    No XML document does, so the ``feed`` type can hand such a body to
    :func:`parse` instead of feedparser.
    """
    start = body[3:1027] if body.startswith(b"\xef\xbb\xbf") else body[:1024]
    return start.lstrip(_BLANK)[:1] in (b"{", b"[")


def _decode(body: bytes) -> tuple[str, str | None]:
    """The text of ``body`` read as UTF-8 (BOM dropped), and the warning when bytes were bad."""
    try:
        return body.decode("utf-8").removeprefix("\ufeff"), None
    except UnicodeDecodeError:
        replaced = body.decode("utf-8", "replace")
        bad = replaced.count("\ufffd") - body.decode("utf-8", "ignore").count("\ufffd")
        plural = "" if bad == 1 else "s"
        note = f"invalid UTF-8: {bad} bad byte sequence{plural} replaced with U+FFFD"
        return replaced.removeprefix("\ufeff"), note


def _load(text: str) -> object:
    """``json.loads`` with its failures translated."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise FeedParseError(f"broken JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise FeedParseError("broken JSON: nested too deeply") from None
    except ValueError as e:  # a number over Python's 4,300 digits, say
        raise FeedParseError(f"unreadable JSON: {str(e).partition(':')[0]}") from None


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


@dataclass(frozen=True, slots=True)
class _Document:
    """A body that is a JSON Feed: the top-level object, its version tag and items, notes."""

    feed: dict[str, Any]
    version: str
    items: list[Any]
    notes: list[str]


def _document(body: bytes, max_bytes: int) -> _Document:
    """Check and load ``body``; raises FeedParseError or NotAFeed (see the module diagram)."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError(f"parse() takes the body as bytes, not {type(body).__name__}")
    if len(body) > max_bytes:
        raise FeedParseError(too_large(len(body), max_bytes))
    body = bytes(body)
    if not body.strip():
        raise NotAFeed("not a feed: the body is empty")
    if body[:2] in _UTF16_32 or (len(body) >= 4 and b"\x00" in body[:4]):
        raise FeedParseError("not UTF-8: a JSON Feed must be UTF-8 (this looks like UTF-16/32)")
    if not looks_like_json(body):
        xml = body.lstrip(b"\xef\xbb\xbf" + _BLANK).startswith(b"<")
        hint = " (it looks like XML or HTML; RSS and Atom are type 'feed')" if xml else ""
        raise NotAFeed(f"not a feed: expected a JSON Feed, but the body is not JSON{hint}")
    text, encoding_note = _decode(body)
    value = _load(text)
    if not isinstance(value, dict):
        raise NotAFeed(f"not a feed: a JSON document that is {_kind(value)}, not an object")
    version = _version(value.get("version"))
    if version is None:
        raise NotAFeed(NOT_JSON_FEED)
    tag, version_note = version
    items = value.get("items")
    if not isinstance(items, list):
        found = "missing" if "items" not in value else f"{_kind(items)}, not an array"
        raise FeedParseError(f"broken JSON Feed: 'items' is {found}")
    notes = [n for n in (encoding_note, version_note) if n]
    return _Document(value, tag, items, notes)


def _version(value: object) -> tuple[str, str | None] | None:
    """The version tag and a note, when ``value`` names a JSON Feed version; else None.

    ``http://`` and a trailing slash are tolerated. A later version than 1.1
    is read as 1.1 (the spec keeps versions compatible), with a note.
    """
    if not isinstance(value, str):
        return None
    url = value.strip()
    if url.startswith("http://"):
        url = "https://" + url.removeprefix("http://")
    url = url.rstrip("/")
    if url in VERSIONS:
        return VERSIONS[url], None
    if url.startswith(_VERSION_PREFIX) and url != _VERSION_PREFIX.rstrip("/"):
        shown = url.removeprefix(_VERSION_PREFIX)[:20]
        return "json11", f"unknown JSON Feed version {shown!r}, read as 1.1"
    return None


# --- fields ---------------------------------------------------------------------------------


def _str(mapping: dict[str, Any], key: str) -> str | None:
    """A text field (a number or anything else there counts as absent)."""
    value = mapping.get(key)
    return value if isinstance(value, str) else None


def _plain(value: str | None) -> str:
    return " ".join(value.split()) if value else ""


def _id(item: dict[str, Any]) -> str | None:
    """The item's id: text, or a number (or boolean) as JSON writes it (the spec says to
    coerce one to a string); None when absent, blank, null or a container."""
    value = item.get("id")
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def _served_html(value: str | None, html: bool) -> str | None:
    if value is None or not value.strip():
        return None
    return value if html else _html.escape(value, quote=False)


def _author(mapping: dict[str, Any]) -> str | None:
    """``authors[].name`` (1.1), else ``author.name`` (1.0), joined by ", "; None if none."""
    authors = mapping.get("authors")
    if not isinstance(authors, list):
        authors = [mapping.get("author")]
    names: dict[str, None] = {}
    for author in authors:
        name = _plain(_str(author, "name")) if isinstance(author, dict) else ""
        if name:
            names.setdefault(name, None)
    return ", ".join(names) or None


def _when(value: object) -> datetime | None:
    """An RFC 3339 date as an aware UTC datetime (also RFC 822, and no zone as UTC); else None."""
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        return None
    text = value.strip()
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text.upper())
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _key_date(parsed: datetime | None, raw: object) -> str | None:
    """A date as a key reads it: ISO 8601 UTC when it parses, else as written."""
    if parsed is not None:
        return parsed.isoformat()
    if not isinstance(raw, str):
        return None
    return raw.strip() or None


def _categories(item: dict[str, Any]) -> tuple[str, ...]:
    tags = item.get("tags")
    seen: dict[str, None] = {}
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, str) and tag.strip():
            seen.setdefault(" ".join(tag.split()), None)
    return tuple(seen)


def _link(raw: str | None, base: str) -> str | None:
    """``raw`` made absolute against ``base`` and canonical (None when absent or blank)."""
    return canonical_link(raw, base) if raw is not None and raw.strip() else None


def _base(headers: Mapping[str, str], url: str) -> str:
    """What relative URLs are read against: ``Content-Location`` (against ``url``), else ``url``."""
    location = next(
        (str(v).strip() for k, v in headers.items() if str(k).lower() == "content-location"), ""
    )
    if not location:
        return url
    try:
        return urllib.parse.urljoin(url, location)
    except ValueError:
        return url


@dataclass(frozen=True, slots=True)
class _Draft:
    """An entry before its key is known (keys depend on the whole document)."""

    key: KeyItem
    fields: dict[str, Any]


def _draft(item: dict[str, Any], feed: str, base: str, feed_author: str | None) -> _Draft | None:
    """Read one item; None when it carries nothing (no id, link, title or text)."""
    guid = _id(item)
    raw_link = _str(item, "url")
    if raw_link is None or not raw_link.strip():
        raw_link = _str(item, "external_url")
    key_link = _link(raw_link, base)
    title = _plain(_str(item, "title"))
    summary_value = _str(item, "summary")
    text_value = _str(item, "content_text")
    html_value = _str(item, "content_html")
    summary = _plain(summary_value)
    if text_value is not None and text_value.strip():
        content = _plain(text_value)
    else:
        content = to_text(html_value) if html_value else ""
    if not (guid or key_link or title or summary or content):
        return None
    published = _when(item.get("date_published"))
    updated = _when(item.get("date_modified"))
    key_published = _key_date(published, item.get("date_published"))
    key_updated = _key_date(updated, item.get("date_modified"))
    served = html_value if html_value is not None and html_value.strip() else None
    key = KeyItem(
        guid=guid,
        link=key_link,
        title=title,
        # published, else modified (a blank published date counts: keys must not change)
        date=key_updated if key_published is None else key_published,
        published=key_published,
        when=published or updated,
        text=f"{summary_value or ''} {served or text_value or ''}",
    )
    return _Draft(
        key,
        {
            "feed": feed,
            "title": title,
            "summary": summary,
            "content": content,
            "link": http_link(key_link),
            "published": published,
            "updated": updated,
            "categories": _categories(item),
            "author": _author(item) or feed_author,
            "summary_html": _served_html(summary_value, html=False),
            "content_html": served or _served_html(text_value, html=False),
        },
    )


def parse(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    feed: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedFeed:
    """Parse one fetched JSON Feed ``body`` of feed ``feed`` (fetched from ``url``) into entries.

    Relative URLs are read against ``Content-Location`` or ``url``. Items
    that are not objects are left out (the warning counts them), and so are
    items that carry nothing at all. Keys come from
    :func:`~notifier.sources.keys.assign_keys` over the whole document, the
    id in the guid's place: items sharing an id are told apart as items
    sharing a guid are.

    Raises :class:`~notifier.errors.FeedParseError` (too large, not UTF-8 at
    all, broken JSON, no ``items`` array) or :class:`~notifier.errors.NotAFeed`
    (empty, not an object, no JSON Feed ``version``).
    """
    document = _document(body, max_bytes)
    base = _base(headers, url)
    feed_author = _author(document.feed)
    drafts: list[_Draft] = []
    not_objects = 0
    for item in document.items:
        if not isinstance(item, dict):
            not_objects += 1
            continue
        draft = _draft(item, feed, base, feed_author)
        if draft is not None:
            drafts.append(draft)
    notes = list(document.notes)
    if not_objects:
        plural = "item is not a JSON object" if not_objects == 1 else "items are not JSON objects"
        notes.append(f"{not_objects} {plural} (left out)")
    keys = assign_keys([d.key for d in drafts])
    entries = tuple(
        Entry(key=k.key, legacy_key=k.legacy, **d.fields) for d, k in zip(drafts, keys, strict=True)
    )
    return ParsedFeed(
        title=_plain(_str(document.feed, "title")),
        link=http_link(_link(_str(document.feed, "home_page_url"), base)),
        version=document.version,
        entries=entries,
        warning="; ".join(notes) or None,
    )


def prescan(
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[str] | None:
    """Return the keys :func:`parse` would give the entries of ``body``, or None when unsure.

    One ``json.loads`` (the poller calls this on the event loop; it is the
    cheap part of a parse: no HTML conversion, no worker process). It
    answers only when the keys follow from the ids alone, else None: the
    body is a JSON Feed :func:`parse` accepts, it has at
    least one item, every item is an object with a non-blank id, and no
    two items share an id. Each key is then
    :func:`~notifier.sources.keys.entry_key` of the id, as in :func:`parse`.
    ``headers`` are not needed (JSON Feed is always UTF-8).
    """
    if not isinstance(body, bytes | bytearray | memoryview) or len(body) > max_bytes:
        return None
    try:
        document = _document(body, max_bytes)
    except FeedParseError:
        return None
    ids: list[str] = []
    for item in document.items:
        guid = _id(item) if isinstance(item, dict) else None
        if guid is None:
            return None
        ids.append(guid)
    if not ids or len(set(ids)) != len(ids):
        return None
    return [entry_key(guid, None, "", None) for guid in ids]
