"""Source type ``feed``: a body into entries (feedparser, hardened), and a cheap pre-scan of keys.

:func:`parse` is CPU-bound and runs in a worker process, so it is a top-level
function of picklable arguments returning a picklable :class:`ParsedFeed`. It
makes no decisions beyond "is this a usable feed"::

    body ──▶ size cap ──▶ feedparser (defusedxml first, entity guard) ──▶ checks ──▶ entries + keys
               │                       │                                    │
         FeedParseError      FeedParseError (entities)      NotAFeed (no RSS/Atom, an HTML page)
                                                            FeedParseError (broken, 0 entries)

What :func:`parse` raises (both are :class:`~notifier.errors.FeedError`, so one
broken feed never stops the others):

- :class:`~notifier.errors.FeedParseError` when the body is over ``max_bytes``
  (checked before parsing), when it declares XML entities (refused outright:
  see :func:`harden`), or when it is broken and no entry could be recovered.
  A truncated feed with 0 entries is an error, never "every entry was removed".
- :class:`~notifier.errors.NotAFeed` when feedparser finds no RSS/Atom at all
  (an HTML page, an empty body).

**JSON Feed, by content.** A body that starts (after a BOM and blanks) with
``{`` or ``[`` cannot be XML: it goes to :func:`notifier.sources.jsonfeed.parse`
instead of feedparser, so a ``type: feed`` whose URL serves a JSON Feed (its
``version`` https://jsonfeed.org/version/1 or /1.1) works, and any other JSON
(an API's error object) is :class:`~notifier.errors.NotAFeed` saying so.
:func:`prescan` hands such a body to :func:`notifier.sources.jsonfeed.prescan`.

A feed that is ill-formed but still yields entries (``bozo`` in feedparser's
words: a leading newline before ``<?xml``, a bad byte, a wrong encoding
declaration) is fine: the reason is kept in :attr:`ParsedFeed.warning`.

Encodings: feedparser decodes the *whole* document in a last-resort codec
(windows-1252) when a single byte is invalid in the document's own encoding,
so one bad byte in a UTF-8 feed turned "稀土" into "ç¨€åœŸ". When that
happens and the bytes are mostly good in the declared encoding (or the XML
default, UTF-8), the document is decoded in it with only the bad sequences
replaced by U+FFFD (:func:`_repair_encoding`); either way the warning says so.

How feedparser is called (each point is a trap, see ``PITFALLS.md``):

- from ``io.BytesIO(body)``, never a ``str`` (a string is tried as a URL, then
  as a file path);
- with lower-cased ``response_headers``; ``content-location`` defaults to the
  feed URL so relative links resolve; ``content-type`` defaults to
  ``application/xml``. Without that default feedparser reads an undeclared
  document as ISO-8859-1 (the HTTP default) instead of UTF-8 (the XML
  default), and UTF-8 text without an XML declaration turns into mojibake;
- with ``sanitize_html=False, resolve_relative_uris=False``: we keep the HTML
  as served (sanitised later, only for HTML channels) and save ~75% of the
  parse time. feedparser still resolves the ``<link>``/``<id>`` *elements*
  against ``xml:base`` and ``content-location``; we resolve and canonicalise
  links once more against the feed URL (:func:`~notifier.sources.keys.canonical_link`);
- ``published_parsed``/``updated_parsed`` are UTC ``struct_time`` values:
  ``calendar.timegm``, never ``time.mktime``; read with ``dict.get`` so that
  feedparser's deprecated ``updated`` → ``published`` fallback (and its
  DeprecationWarning) never fires.

:func:`prescan` reads only the guids, with the standard library's expat, about
20x faster than a full parse; see its docstring for when it answers.
:func:`first_scan` reads a little more the same way (each entry's guid, title,
link, dates, summary and content), enough for a first poll that records its
entries silently; it too answers only when it reads exactly what :func:`parse` would.
"""

from __future__ import annotations

import calendar
import codecs
import gc
import html as _html
import io
import re
import time
import urllib.parse
import xml.etree.ElementTree as ET
import xml.parsers.expat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import feedparser
import feedparser.api
import feedparser.datetimes
import feedparser.encodings
import feedparser.exceptions
import feedparser.html
import feedparser.mixin
from defusedxml import DefusedXmlException

from notifier.errors import FeedParseError, NotAFeed
from notifier.model import Entry
from notifier.sources import jsonfeed
from notifier.sources.base import DEFAULT_MAX_BYTES, ParsedFeed, too_large
from notifier.sources.html import to_text
from notifier.sources.keys import (
    PLAIN_URL,
    KeyItem,
    assign_keys,
    canonical_link,
    content_fingerprint,
    entry_key,
    http_link,
)

__all__ = [
    "ACCEPT",
    "DEFAULT_MAX_BYTES",
    "ENTITIES_MESSAGE",
    "HTML_PAGE_MESSAGE",
    "ParsedFeed",
    "first_scan",
    "harden",
    "key_scan",
    "parse",
    "prescan",
]

#: Feeds of this type take the fetcher's default ``Accept`` (the XML feed types first).
ACCEPT: str | None = None
ENTITIES_MESSAGE = "entity declarations are not allowed (possible entity expansion attack)"
HTML_PAGE_MESSAGE = "not a feed: looks like an HTML page (feedparser found no RSS/Atom)"

_DEFUSED_READER = "defusedxml.expatreader"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})


class _EntityDeclared(ValueError):
    """The prolog of a document declares an XML entity (raised inside feedparser)."""


class _EntityGuard:
    """feedparser's ``replace_doctype``, refusing documents whose prolog declares an entity."""

    def __init__(self, replace_doctype: Callable[[bytes], tuple[Any, bytes, Any]]) -> None:
        self.replace_doctype = replace_doctype

    def __call__(self, data: bytes) -> tuple[Any, bytes, Any]:
        first_element = re.search(rb"<\w", data)
        head = data[: first_element.start()] if first_element else data
        if re.search(rb"<!ENTITY", head, re.IGNORECASE):
            raise _EntityDeclared(ENTITIES_MESSAGE)
        return self.replace_doctype(data)


def harden() -> None:
    """Make feedparser refuse XML entity declarations (idempotent; runs at import).

    1. ``defusedxml.expatreader`` goes first in
       ``feedparser.api.PREFERRED_XML_PARSERS``: the strict (SAX) parser then
       raises ``EntitiesForbidden`` on any ``<!ENTITY`` instead of expanding it.
    2. That alone is not enough: when the strict parse fails *before* the
       DOCTYPE — a newline or a comment before ``<?xml``, as several real feeds
       have — feedparser falls back to its loose parser, which expands the
       "safe" entities it copied out of the DOCTYPE (a 35 KB body becomes a
       51 MB string in 0.6 s). So feedparser's ``replace_doctype`` step, which
       sees the decoded prolog of every document on both paths, is wrapped to
       raise when the prolog declares an entity.

    Worker processes import this module to unpickle :func:`parse`, so they
    are hardened too.
    """
    parsers: list[str] = feedparser.api.PREFERRED_XML_PARSERS
    if parsers[:1] != [_DEFUSED_READER]:
        while _DEFUSED_READER in parsers:
            parsers.remove(_DEFUSED_READER)
        parsers.insert(0, _DEFUSED_READER)
    if not isinstance(feedparser.api.replace_doctype, _EntityGuard):
        feedparser.api.replace_doctype = _EntityGuard(feedparser.api.replace_doctype)


harden()


def _response_headers(headers: Mapping[str, str], url: str) -> dict[str, str]:
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    location = lowered.get("content-location", "").strip()
    try:
        lowered["content-location"] = urllib.parse.urljoin(url, location) if location else url
    except ValueError:
        lowered["content-location"] = url
    if not lowered.get("content-type", "").strip():
        lowered["content-type"] = "application/xml"
    return lowered


def _reason(exc: object) -> str:
    return f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else str(exc)


def _structural(exc: object) -> bool:
    """Whether a bozo exception means the document is damaged (not just mislabelled)."""
    benign = (
        feedparser.exceptions.CharacterEncodingOverride,
        feedparser.exceptions.NonXMLContentType,
    )
    return not isinstance(exc, benign)


_HTML_START = re.compile(rb"<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE)


def _looks_like_html(body: bytes) -> bool:
    """Whether the first markup of ``body`` is an HTML doctype or an html/head/body element.

    Skips a UTF-8 BOM, whitespace, processing instructions and comments first
    (a plain scan: a regex with nested repetition could backtrack badly here).
    """
    head = body[:4096]
    position = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while position < len(head) and head[position] in b" \t\r\n":
            position += 1
        if head.startswith(b"<?", position):
            end, skip = head.find(b"?>", position + 2), 2
        elif head.startswith(b"<!--", position):
            end, skip = head.find(b"-->", position + 4), 3
        else:
            break
        if end < 0:
            return False
        position = end + skip
    return _HTML_START.match(head, position) is not None


# --- encodings ------------------------------------------------------------------------------

#: What feedparser falls back to when the document's own encoding fails (it tries
#: the declared one, the XML declaration's, the BOM's, then UTF-8, windows-1252 and
#: ISO-8859-2, and keeps the first that decodes without error).
_LAST_RESORT_CODECS = frozenset({"cp1252", "iso8859-2"})
_OVERRIDE_MESSAGE = re.compile(r"document declared as (?P<declared>.+), but parsed as .+")
# feedparser's own patterns (feedparser.encodings): the XML declaration and its encoding.
_XML_DECLARATION_TEXT = re.compile(r"^<\?xml[^>]*?>")
_XML_PI_ENCODING = re.compile(rb"^<\?.*encoding=['\"](.*?)['\"].*\?>")
_UTF8_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>"


def _codec_name(encoding: object) -> str | None:
    """Python's canonical name of ``encoding`` (``cp1252`` for ``windows-1252``), or None."""
    if not isinstance(encoding, str) or not encoding.strip():
        return None
    try:
        return codecs.lookup(encoding.strip()).name
    except LookupError:
        return None


def _feedparser(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """``feedparser.parse`` of ``body``, hardened, with its failures translated."""
    try:
        result: dict[str, Any] = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except (DefusedXmlException, _EntityDeclared) as e:
        raise FeedParseError(ENTITIES_MESSAGE) from e
    except Exception as e:  # a feedparser bug on one body must stay that feed's error
        raise FeedParseError(f"feedparser failed: {_reason(e)}") from e
    return result


def _encoding_fallback(
    body: bytes, headers: dict[str, str]
) -> feedparser.exceptions.CharacterEncodingOverride | None:
    """feedparser's complaint when it could not decode ``body`` as the document says, else None.

    Runs feedparser's own decoding step again (a fraction of a parse, and only
    for bodies that ended up in a last-resort codec): a later XML error
    replaces this complaint in the parse result, so it cannot be read there.
    """
    probe: dict[str, Any] = {}
    feedparser.encodings.convert_to_utf8(headers, body, probe)
    complaint = probe.get("bozo_exception")
    if isinstance(complaint, feedparser.exceptions.CharacterEncodingOverride):
        return complaint
    return None


def _intended_encodings(
    body: bytes, fallback: feedparser.exceptions.CharacterEncodingOverride
) -> list[str]:
    """The encodings the document asked for, in feedparser's order: the one it was declared
    as (HTTP charset, XML declaration or the XML default UTF-8), the XML declaration's, UTF-8."""
    names: list[str] = []
    declared = _OVERRIDE_MESSAGE.fullmatch(str(fallback))
    if declared is not None:
        names.append(declared["declared"])
    in_document = _XML_PI_ENCODING.match(body.removeprefix(codecs.BOM_UTF8)[:1024])
    if in_document is not None:
        names.append(in_document.group(1).decode("ascii", "replace"))
    names.append("utf-8")
    return [n.strip() for n in names]


@dataclass(frozen=True, slots=True)
class _Repair:
    """``body`` re-encoded as valid UTF-8 (bad sequences replaced), and headers that say so."""

    body: bytes
    headers: dict[str, str]
    warning: str


def _repair_encoding(
    body: bytes, headers: dict[str, str], fallback: feedparser.exceptions.CharacterEncodingOverride
) -> _Repair | None:
    """Decode ``body`` in the encoding it asked for, replacing only its bad byte sequences.

    feedparser decodes a whole document in a last-resort codec (windows-1252)
    as soon as one byte is invalid in the document's own encoding: "稀土"
    becomes "ç¨€åœŸ" and no watch finds it. The document's intended encodings
    (:func:`_intended_encodings`, ASCII-compatible ones only) are tried in
    order; the first one that reads *at least as many* good non-ASCII
    characters as it meets bad sequences is used, each bad sequence becoming
    U+FFFD. Otherwise (no good non-ASCII character at all, as in Latin-1 text
    that lacks a declaration, or more bad sequences than good characters, as in
    undeclared GB2312) the bytes are not in that encoding, and feedparser's
    last-resort decoding stands: None.

    The repaired text goes back to feedparser as UTF-8, its XML declaration
    rewritten to say so (as feedparser itself does) and ``charset=utf-8`` on the
    media type it was served with.
    """
    for name in dict.fromkeys(_intended_encodings(body, fallback)):
        # feedparser reads gb2312 as its superset gb18030, and so do we.
        codec = _codec_name("gb18030" if name.lower() == "gb2312" else name)
        if codec is None or "<?xml".encode(codec, "replace") != b"<?xml":
            continue  # unknown, or not ASCII-compatible (UTF-16/32, UTF-7, EBCDIC)
        replaced = body.decode(codec, "replace")
        kept = body.decode(codec, "ignore")
        bad = replaced.count("\ufffd") - kept.count("\ufffd")
        good = len(kept) - len(kept.encode("ascii", "ignore"))
        if bad == 0 or good < bad:
            continue
        text = _XML_DECLARATION_TEXT.sub(_UTF8_DECLARATION, replaced.removeprefix("\ufeff"), 1)
        label = "UTF-8" if codec == "utf-8" else name.lower()
        plural = "" if bad == 1 else "s"
        warning = f"invalid {label}: {bad} bad byte sequence{plural} replaced with U+FFFD"
        return _Repair(text.encode("utf-8"), _utf8_headers(headers), warning)
    return None


def _utf8_headers(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` whose ``content-type`` makes feedparser read a UTF-8 body as UTF-8.

    A ``charset`` parameter wins over the XML declaration, and a ``text/*``
    type without one means US-ASCII: both get ``charset=utf-8``. Other types
    fall back to the XML declaration (rewritten by the caller), so they are
    left as served (feedparser quotes them in its "not an XML media type" note).
    """
    content_type = headers.get("content-type", "")
    media_type, _, parameters = content_type.partition(";")
    if _CHARSET.search(content_type) is None and not media_type.strip().lower().startswith("text/"):
        return headers
    kept = [p.strip() for p in parameters.split(";") if p.strip() and not _CHARSET.search(";" + p)]
    return {**headers, "content-type": "; ".join([media_type.strip(), *kept, "charset=utf-8"])}


def _warning(encoding_note: str | None, bozo: object) -> str | None:
    """What :attr:`ParsedFeed.warning` says: the encoding problem first, then feedparser's."""
    parts = [encoding_note] if encoding_note else []
    if bozo is not None and _reason(bozo) not in parts:
        parts.append(_reason(bozo))
    return "; ".join(parts) or None


def _utc(value: object) -> datetime | None:
    """An aware UTC datetime from feedparser's UTC ``struct_time`` (None if absent or absurd)."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _str(mapping: dict[str, Any], key: str) -> str | None:
    # dict.get, not FeedParserDict.get: no keymap magic, no deprecation fallbacks.
    value = dict.get(mapping, key)
    return value if isinstance(value, str) else None


def _is_html(detail: object) -> bool:
    kind = dict.get(detail, "type") if isinstance(detail, dict) else None
    return isinstance(kind, str) and kind.lower() in _HTML_TYPES


def _plain(value: str, html: bool) -> str:
    return to_text(value) if html else " ".join(value.split())


def _served_html(value: str | None, html: bool) -> str | None:
    """The value as HTML: as served when it is HTML, escaped when it is plain text."""
    if value is None or not value.strip():
        return None
    return value if html else _html.escape(value, quote=False)


def _content(entry: dict[str, Any]) -> tuple[str | None, bool]:
    """The first HTML content value of an entry (else the first one) and whether it is HTML."""
    contents = dict.get(entry, "content")
    if not isinstance(contents, list):
        return None, False
    candidates = [c for c in contents if isinstance(c, dict) and isinstance(c.get("value"), str)]
    for detail in candidates:
        if _is_html(detail):
            return str(detail["value"]), True
    if candidates:
        return str(candidates[0]["value"]), False
    return None, False


def _canonical(raw: str | None, base: str) -> str | None:
    """``raw`` made absolute and canonical (None when absent or blank)."""
    return canonical_link(raw, base) if raw is not None and raw.strip() else None


def _categories(entry: dict[str, Any]) -> tuple[str, ...]:
    tags = dict.get(entry, "tags")
    seen: dict[str, None] = {}
    for tag in tags if isinstance(tags, list) else []:
        term = dict.get(tag, "term") if isinstance(tag, dict) else None
        if isinstance(term, str) and term.strip():
            seen.setdefault(" ".join(term.split()), None)
    return tuple(seen)


def _key_date(parsed: datetime | None, raw: dict[str, Any], name: str) -> str | None:
    """One date of an entry as a key reads it: ISO 8601 UTC when it parses, else as written."""
    if parsed is not None:
        return parsed.isoformat()
    text = _str(raw, name)
    return text.strip() if text else None


@dataclass(frozen=True, slots=True)
class _Draft:
    """An entry before its key is known (keys depend on the whole document)."""

    guid: str | None
    key_link: str | None
    key_published: str | None
    key_updated: str | None
    text: str
    fields: dict[str, Any]

    def key_item(self) -> KeyItem:
        """What :func:`~notifier.sources.keys.assign_keys` reads of this entry."""
        published: datetime | None = self.fields["published"]
        updated: datetime | None = self.fields["updated"]
        return KeyItem(
            guid=self.guid,
            link=self.key_link,
            title=self.fields["title"],
            # published, else updated (a blank published date counts: keys must not change)
            date=self.key_updated if self.key_published is None else self.key_published,
            published=self.key_published,
            when=published or updated,
            text=self.text,
        )


def _draft(raw: dict[str, Any], feed: str, base: str) -> _Draft | None:
    """Read one feedparser entry; None when it carries nothing (no id, link or text)."""
    guid = (_str(raw, "id") or "").strip() or None
    raw_link = _str(raw, "link")
    title_value = _str(raw, "title") or ""
    title = _plain(title_value, _is_html(dict.get(raw, "title_detail")))
    summary_value = _str(raw, "summary")
    content_value, content_is_html = _content(raw)
    summary_detail = dict.get(raw, "summary_detail")
    if isinstance(summary_detail, dict):
        summary_is_html = _is_html(summary_detail)
    else:
        # feedparser copies an Atom <content> into "summary" without a summary_detail.
        summary_is_html = content_is_html if summary_value == content_value else True
    content = _plain(content_value, content_is_html) if content_value else ""
    if summary_value == content_value and summary_is_html == content_is_html:
        summary = content  # feedparser's copy of an Atom <content>: convert it once
    else:
        summary = _plain(summary_value, summary_is_html) if summary_value else ""
    key_link = _canonical(raw_link, base)
    link = http_link(key_link)
    if not (guid or (raw_link and raw_link.strip()) or title or summary or content):
        return None
    published = _utc(dict.get(raw, "published_parsed"))
    updated = _utc(dict.get(raw, "updated_parsed"))
    author = " ".join((_str(raw, "author") or "").split()) or None
    return _Draft(
        guid=guid,
        key_link=key_link,
        key_published=_key_date(published, raw, "published"),
        key_updated=_key_date(updated, raw, "updated"),
        text=f"{summary_value or ''} {content_value or ''}",
        fields={
            "feed": feed,
            "title": title,
            "summary": summary,
            "content": content,
            "link": link,
            "published": published,
            "updated": updated,
            "categories": _categories(raw),
            "author": author,
            "summary_html": _served_html(summary_value, summary_is_html),
            "content_html": _served_html(content_value, content_is_html),
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
    """Parse one fetched ``body`` of feed ``feed`` (fetched from ``url``) into entries.

    ``headers`` are the HTTP response headers (any case). Entries that carry
    nothing at all (no id, link, title or text: feedparser makes one for each
    illegally nested ``<item>``) are left out. Keys come from
    :func:`~notifier.sources.keys.assign_keys` over the whole document.

    Raises :class:`~notifier.errors.FeedParseError` (too large, entity
    declarations, broken with 0 entries) or :class:`~notifier.errors.NotAFeed`.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        # feedparser would try a str as a URL, then as a file path (PITFALLS).
        raise TypeError(f"parse() takes the body as bytes, not {type(body).__name__}")
    if len(body) > max_bytes:
        raise FeedParseError(too_large(len(body), max_bytes))
    if jsonfeed.looks_like_json(body):  # no XML starts so: JSON Feed, or no feed at all
        return jsonfeed.parse(body, headers, url, feed, max_bytes=max_bytes)
    response_headers = _response_headers(headers, url)
    result = _feedparser(body, response_headers)
    encoding_note: str | None = None
    if _codec_name(dict.get(result, "encoding")) in _LAST_RESORT_CODECS:
        fallback = _encoding_fallback(body, response_headers)
        if fallback is not None:
            repair = _repair_encoding(body, response_headers, fallback)
            if repair is not None:
                result = _feedparser(repair.body, repair.headers)
                encoding_note = repair.warning
            else:
                encoding_note = _reason(fallback)

    bozo = dict.get(result, "bozo_exception") if dict.get(result, "bozo") else None
    version = dict.get(result, "version")
    if not version:
        if not body.strip():
            raise NotAFeed("not a feed: the body is empty")
        if _looks_like_html(body):
            raise NotAFeed(HTML_PAGE_MESSAGE)
        detail = f" ({_reason(bozo)})" if bozo is not None else ""
        raise NotAFeed(f"not a feed: feedparser found no RSS/Atom{detail}")

    base = response_headers["content-location"]
    raw_entries = dict.get(result, "entries") or []
    drafts = [d for d in (_draft(raw, feed, base) for raw in raw_entries) if d is not None]
    if not drafts:
        if _looks_like_html(body):
            raise NotAFeed(HTML_PAGE_MESSAGE)
        if bozo is not None and _structural(bozo):
            raise FeedParseError(f"truncated or broken feed: 0 entries recovered ({_reason(bozo)})")

    keys = assign_keys([d.key_item() for d in drafts])
    entries = tuple(
        Entry(key=k.key, legacy_key=k.legacy, **d.fields) for d, k in zip(drafts, keys, strict=True)
    )

    channel = dict.get(result, "feed") or {}
    title_value = _str(channel, "title") or ""
    return ParsedFeed(
        title=_plain(title_value, _is_html(dict.get(channel, "title_detail"))),
        link=http_link(_canonical(_str(channel, "link"), base)),
        version=str(version),
        entries=entries,
        warning=_warning(encoding_note, bozo),
    )


# --- prescan ------------------------------------------------------------------------------

_ATOM_NS = "http://www.w3.org/2005/atom"
_CORE_NS = ("", _ATOM_NS)
_ENTRY_NAMES = frozenset({"item", "entry"})
_ID_NAMES = frozenset({"guid", "id"})
#: Printable ASCII without space, '&', '<', '>': text that reads the same in every
#: ASCII-compatible encoding, through expat, feedparser's strict and loose paths.
_PLAIN_ID = re.compile(r"[!-%'-;=?-~]+")
_ASCII_SAFE_ENCODING = re.compile(
    r"utf-?8|(?:us-)?ascii|iso[-_]?8859-\d{1,2}|latin-?1|(?:windows|cp)-?125\d|koi8-[ru]",
    re.IGNORECASE,
)
_XML_DECLARATION = re.compile(rb"<\?xml\b[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']", re.DOTALL)
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)
# feedparser's own fix-up of "http:///x" before it joins a URL to its base.
_URI_FIXER = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")


class _Unsure(Exception):
    """The pre-scan cannot be sure what feedparser would make of this document."""


def _base_independent(value: str) -> bool:
    """Whether feedparser's join of ``value`` to *any* base URL returns ``value`` unchanged.

    feedparser resolves a permalink guid (and every Atom ``<id>``) against the
    document's base URL. An absolute id whose scheme differs from the base's,
    or that ``urlunparse(urlparse())`` leaves as it is, comes out unchanged
    whatever the base; a relative one depends on the base, which the pre-scan
    does not model.
    """
    if PLAIN_URL.fullmatch(value):
        return True  # no extra slashes, a host, and what urlparse leaves as it is
    if _URI_FIXER.sub(r"\1\3", value) != value:
        return False
    try:
        parts = urllib.parse.urlparse(value)
    except ValueError:
        return False
    if not parts.scheme:
        return False
    if parts.scheme not in urllib.parse.uses_relative:
        return True
    return bool(parts.netloc) and urllib.parse.urlunparse(parts) == value


class _Scanner:
    """Expat handlers collecting the one guid/id of each item/entry, or raising _Unsure."""

    def __init__(self, parser: Any) -> None:
        self.parser: Any = parser
        self.depth = 0
        self.entry_depth: int | None = None
        self.entry_ids: list[str] = []
        self.chars: list[str] | None = None
        self.permalink = True
        self.ids: list[str] = []

    def doctype(self, *_args: object) -> None:
        raise _Unsure("a DOCTYPE")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        namespace, _, local = name.rpartition(" ")
        namespace, local = namespace.lower(), local.lower()
        if self.chars is not None:
            raise _Unsure("markup inside a guid")
        if self.depth == 1:
            if (namespace, local) not in (("", "rss"), (_ATOM_NS, "feed")):
                raise _Unsure("not an RSS 2.0 or Atom 1.0 root")
            return
        if local in _ENTRY_NAMES:
            if namespace not in _CORE_NS or self.entry_depth is not None:
                raise _Unsure("a nested or namespaced item")
            if any(key.rpartition(" ")[2].lower() == "about" for key in attrs):
                raise _Unsure("rdf:about")
            self.entry_depth = self.depth
            self.entry_ids = []
        elif local in _ID_NAMES and self.entry_depth is not None:
            if namespace not in _CORE_NS or self.depth != self.entry_depth + 1:
                raise _Unsure("a namespaced or nested guid")
            self.permalink = True
            for key, value in attrs.items():
                attr_namespace, _, attr = key.rpartition(" ")
                if attr.lower() == "ispermalink":
                    if attr_namespace:
                        raise _Unsure("a namespaced isPermaLink")
                    self.permalink = value == "true"  # exactly feedparser's test
            self.chars = []
            self.parser.CharacterDataHandler = self.chars.append

    def end(self, name: str) -> None:
        if self.chars is not None:  # the guid/id ends (children were refused)
            value = "".join(self.chars).strip()
            self.chars = None
            self.parser.CharacterDataHandler = None
            if not _PLAIN_ID.fullmatch(value):
                raise _Unsure("an empty or non-ASCII guid")
            if self.permalink and not _base_independent(value):
                raise _Unsure("a relative permalink guid")
            self.entry_ids.append(value)
        elif self.entry_depth == self.depth:
            if len(self.entry_ids) != 1:
                raise _Unsure("an item without exactly one guid")
            self.ids.append(self.entry_ids[0])
            self.entry_depth = None
        self.depth -= 1


_S = TypeVar("_S", "_Scanner", "_FirstScanner")


def _stream(body: bytes, make: Callable[[Any], _S]) -> _S | None:
    """``body`` through expat (namespaces split by a space, text buffered), calling the
    handlers of the scanner ``make(parser)`` builds; None when it is unsure (it raised
    :class:`_Unsure`, or the document is not well-formed). A DOCTYPE or an entity
    declaration is refused by the scanner's ``doctype``."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    scanner = make(parser)
    parser.StartDoctypeDeclHandler = scanner.doctype
    parser.EntityDeclHandler = scanner.doctype
    parser.StartElementHandler = scanner.start
    parser.EndElementHandler = scanner.end
    try:
        parser.Parse(body, True)
    except (_Unsure, xml.parsers.expat.ExpatError, ValueError, LookupError):
        return None
    finally:
        scanner.parser = None  # the parser's handlers and the scanner refer to each
        # other: without this cycle, the parser and its buffers go now, not at the next GC
    return scanner


def _ascii_safe(encoding: str) -> bool:
    return _ASCII_SAFE_ENCODING.fullmatch(encoding.strip()) is not None


def prescan(
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[str] | None:
    """Return the keys :func:`parse` would give the entries of ``body``, or None when unsure.

    Cheap (expat from the standard library, no feedparser): the poller uses it
    to skip the full parse when every key is already known. A wrong answer
    would hide new entries, so it answers only when all of this holds, and
    returns None otherwise:

    - the body is at most ``max_bytes`` and is well-formed XML (so feedparser
      takes its strict path, the same expat, and no loose-parser recovery can
      find other items); no DOCTYPE (:func:`parse` refuses entity declarations);
    - the encoding is ASCII-compatible (no UTF-16/32 BOM; the XML declaration
      and any ``charset`` in ``headers`` name UTF-8, ASCII, ISO-8859-*,
      windows-125x or KOI8), so the ASCII guids read the same whatever
      decoding feedparser settles on;
    - the root is ``<rss>`` (no namespace) or an Atom 1.0 ``<feed>``: RSS 1.0
      and 0.90 (``rdf:about`` identities) are left to the full parse;
    - there is at least one item/entry, none nested in another, and each has
      exactly one ``<guid>``/``<id>`` as a direct child, with no markup inside;
    - every guid is non-empty printable ASCII without ``&``, ``<``, ``>`` or
      spaces (so entities, CDATA and feedparser's encoding fix-ups cannot
      change it), and when feedparser would resolve it as a URL (a permalink
      guid, any Atom id) it is absolute and comes out of that resolution unchanged;
    - no two items share a guid (items sharing one are keyed by their dates,
      link and title, which the pre-scan does not read).

    Then each key is :func:`~notifier.sources.keys.entry_key` of the guid, as in :func:`parse`.
    """
    if len(body) > max_bytes:
        return None
    if jsonfeed.looks_like_json(body):
        return jsonfeed.prescan(body, headers, max_bytes=max_bytes)
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:4]:
        return None
    declaration = _XML_DECLARATION.match(body, 3 if body.startswith(b"\xef\xbb\xbf") else 0)
    if declaration is not None and not _ascii_safe(declaration.group(1).decode("ascii", "replace")):
        return None
    content_type = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    charset = _CHARSET.search(content_type)
    if charset is not None and not _ascii_safe(charset.group(1)):
        return None

    scanner = _stream(body, _Scanner)
    if scanner is None or not scanner.ids or len(set(scanner.ids)) != len(scanner.ids):
        return None
    return [entry_key(guid, None, "", None) for guid in scanner.ids]


# --- first scan -----------------------------------------------------------------------------

_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_DC_NS = "http://purl.org/dc/elements/1.1/"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
#: What an entry of each format may hold, as (namespace, local name) -> the field it
#: fills (None: ignored, as it fills nothing a silent first poll records). Anything
#: else in an entry (media:title, itunes:summary, dc:date, atom:link in RSS, an
#: enclosure, a source...) fills fields in feedparser's own ways: the scan is unsure.
_RSS_CHILDREN: Mapping[tuple[str, str], str | None] = {
    ("", "guid"): "id",
    ("", "title"): "title",
    ("", "link"): "link",
    ("", "description"): "summary",
    ("", "pubdate"): "published",
    ("", "author"): None,
    ("", "category"): None,
    ("", "comments"): None,
    (_DC_NS, "creator"): None,
    (_CONTENT_NS, "encoded"): "content",
}
_ATOM_CHILDREN: Mapping[tuple[str, str], str | None] = {
    (_ATOM_NS, "id"): "id",
    (_ATOM_NS, "title"): "title",
    (_ATOM_NS, "link"): "link",
    (_ATOM_NS, "summary"): "summary",
    (_ATOM_NS, "content"): "content",
    (_ATOM_NS, "published"): "published",
    (_ATOM_NS, "updated"): "updated",
    (_ATOM_NS, "author"): None,
    (_ATOM_NS, "contributor"): None,
    (_ATOM_NS, "category"): None,
}
#: Children of an Atom author/contributor (they fill only the author, not read here).
_PERSON_CHILDREN = frozenset({(_ATOM_NS, "name"), (_ATOM_NS, "email"), (_ATOM_NS, "uri")})
#: feedparser's XML media types (``feedparser.encodings``): any other one is a warning.
_XML_MEDIA_TYPES = frozenset(
    {"application/xml", "application/xml-dtd", "application/xml-external-parsed-entity"}
)
_TEXT_TYPES = frozenset({"text/plain", "text/html"})
#: feedparser's default content type of each text field (RSS descriptions are HTML).
_ATOM_DEFAULT_TYPES = {"title": "text/plain", "summary": "text/plain", "content": "text/plain"}
_RSS_DEFAULT_TYPES = {"title": "text/plain", "summary": "text/html", "content": "text/html"}
#: A link as the scan takes it: printable ASCII without spaces or angle brackets.
_PLAIN_LINK = re.compile(r"[!-;=?-~]+")
#: feedparser's fix-up of ``?a=1&b;=2`` in an RSS ``<link>`` (after ``&amp;`` → ``&``).
_LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")
#: feedparser's guess that an RSS title is HTML (a close tag or an entity, known tags only).
_FEEDPARSER_HTMLISH: Callable[[str], bool] = feedparser.mixin._FeedParserMixin.looks_like_html
#: The fields :func:`key_scan` does not read (no key or fingerprint depends on them).
_UNREAD_BY_KEY_SCAN = frozenset({"summary", "content", "published", "updated"})
_RSS_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}


def _content_type(value: str | None, default: str) -> str:
    """feedparser's ``map_content_type`` of a ``type`` attribute (``html`` → ``text/html``)."""
    kind = (value if value is not None else default).lower()
    return {"text": "text/plain", "plain": "text/plain", "html": "text/html"}.get(kind, kind)


def _popped(pieces: list[str]) -> str:
    """The text of an element as feedparser's ``pop`` leaves it on its strict path.

    Stripped, then its cp1252 mapping of U+0080–U+009F. Raises :class:`_Unsure`
    when feedparser's "UTF-8 read as ISO-8859-1" repair would change it (text
    whose characters are all below U+0100 and whose Latin-1 bytes are UTF-8).
    """
    text = "".join(pieces).strip()
    if text.isascii():
        return text  # nothing for either step to change
    try:
        repaired = text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        repaired = text
    if repaired != text:
        raise _Unsure("text feedparser would re-decode")
    return text.translate(feedparser.html._cp1252)


class _FirstScanner:
    """Expat handlers reading what :func:`parse` reads of each entry, or raising _Unsure.

    Each entry becomes a dict shaped like feedparser's (``id``, ``link``, ``title``,
    ``title_detail``, ``summary``, ``summary_detail``, ``content``, ``published``,
    ``published_parsed``, ``updated``, ``updated_parsed``) for :func:`_draft`.
    """

    def __init__(self, parser: Any) -> None:
        self.parser = parser
        self.depth = 0
        self.atom = False
        self.children: Mapping[tuple[str, str], str | None] = _RSS_CHILDREN
        self.entry: dict[str, Any] | None = None
        self.filled: set[str] = set()
        self.field: str | None = None  # the field whose text is being read
        self.detail: dict[str, str] = {}
        self.chars: list[str] = []
        self.person = False  # inside an Atom author/contributor
        self.entries: list[dict[str, Any]] = []
        self.root: dict[str, str] = {}  # the root element's attributes
        self.tags: dict[str, tuple[str, str]] = {}  # expat name -> (namespace, local), lower

    def doctype(self, *_args: object) -> None:
        raise _Unsure("a DOCTYPE")

    def tag(self, name: str) -> tuple[str, str]:
        """``(namespace, local name)`` of an expat name, lower-cased (cached: names repeat)."""
        tag = self.tags.get(name)
        if tag is None:
            namespace, _, local = name.rpartition(" ")
            tag = self.tags[name] = (namespace.lower(), local.lower())
        return tag

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        tag = self.tag(name)
        local = tag[1]
        if self.field is not None:
            raise _Unsure("markup inside a field")
        if self.depth == 1:
            if tag not in (("", "rss"), (_ATOM_NS, "feed")):
                raise _Unsure("not an RSS 2.0 or Atom 1.0 root")
            self.root = dict(attrs)
            self.atom = tag[0] == _ATOM_NS
            self.children = _ATOM_CHILDREN if self.atom else _RSS_CHILDREN
            return
        if self.entry is None:
            if tag[1] in _ENTRY_NAMES:
                if tag[0] not in _CORE_NS or tag != (tag[0], "entry" if self.atom else "item"):
                    raise _Unsure("an item of another format")
                if self.depth != (2 if self.atom else 3):
                    raise _Unsure("an item out of place")
                if any(k != f"{_XML_NS} lang" for k in attrs):
                    raise _Unsure("attributes on an item")  # rdf:about, CDF's href/lastmod
                self.entry, self.filled = {}, set()
            return
        if self.person:
            if self.depth != 4 or tag not in _PERSON_CHILDREN:
                raise _Unsure("markup inside an author")
            return
        entry_depth = 3 if self.atom else 4
        if self.depth != entry_depth or tag not in self.children:
            raise _Unsure(f"an element feedparser may read: {local}")
        field = self.children[tag]
        if field is None:
            self.person = self.atom and tag[1] in ("author", "contributor")
            return
        if not self.open_field(field, attrs):
            return
        self.field = field
        self.chars = []
        self.parser.CharacterDataHandler = self.chars.append

    def open_field(self, field: str, attrs: dict[str, str]) -> bool:
        """A field's element starts: True when its text is to be read. An Atom link is
        read from its attributes (False); any other field is checked (at most once an
        entry, its attributes) and its content type noted (:meth:`_attributes`)."""
        if field == "link" and self.atom:
            self._atom_link(attrs)
            return False
        if field in self.filled:
            raise _Unsure(f"two {field} elements in an entry")
        self.filled.add(field)
        self._attributes(field, attrs)
        return True

    def _attributes(self, field: str, attrs: dict[str, str]) -> None:
        """Check a text field's attributes; note its content type in ``self.detail``."""
        self.detail = {}
        kinds = _ATOM_DEFAULT_TYPES if self.atom else _RSS_DEFAULT_TYPES
        for key in attrs:
            local = key.rpartition(" ")[2].lower()
            if key == f"{_XML_NS} lang":
                continue
            if field == "id" and local == "ispermalink" and not self.atom and " " not in key:
                continue
            if self.atom and local == "type" and " " not in key and field in kinds:
                continue
            raise _Unsure(f"an attribute feedparser may read: {local}")
        if field in kinds:
            kind = _content_type(attrs.get("type"), kinds[field])
            if kind not in _TEXT_TYPES:
                raise _Unsure("a content type other than text or html")
            self.detail = {"type": kind}
        if field == "id":
            permalink = next((v for k, v in attrs.items() if k.lower() == "ispermalink"), "true")
            self.detail = {"permalink": "1" if self.atom or permalink == "true" else ""}

    def _atom_link(self, attrs: dict[str, str]) -> None:
        """An Atom link: the entry's link is the last ``alternate`` HTML one, as feedparser's."""
        if any(
            " " in key or key.lower() not in ("href", "rel", "type", "title", "hreflang", "length")
            for key in attrs
        ):
            raise _Unsure("a link feedparser may read otherwise")
        rel = attrs.get("rel", "alternate")
        kind = _content_type(
            attrs.get("type"), "application/atom+xml" if rel == "self" else "text/html"
        )
        href = attrs.get("href")
        if href is None:
            raise _Unsure("a link without href")
        if rel == "alternate" and kind in ("text/html", "application/xhtml+xml"):
            if not _PLAIN_LINK.fullmatch(href) or not _base_independent(href):
                raise _Unsure("a relative or unusual link")
            assert self.entry is not None  # noqa: S101 - only called inside an entry
            self.entry["link"] = href
            self.filled.add("alternate")

    def end(self, name: str) -> None:
        if self.field is not None:
            self._end_field()
        elif self.person and self.depth == (3 if self.atom else 4):
            self.person = False
        elif self.entry is not None and self.depth == (2 if self.atom else 3):
            if "id" not in self.filled:
                raise _Unsure("an item without a guid")
            self.entries.append(self.entry)
            self.entry = None
        self.depth -= 1
        del name

    def _end_field(self) -> None:
        field, self.field = self.field, None
        self.parser.CharacterDataHandler = None
        entry = self.entry
        assert entry is not None  # noqa: S101 - set with the field
        assert field is not None  # noqa: S101 - checked by the caller
        text = _popped(self.chars)
        if field == "id":
            if not _PLAIN_ID.fullmatch(text):
                raise _Unsure("an empty or non-ASCII guid")
            permalink = bool(self.detail.get("permalink"))
            if permalink and not _base_independent(text):
                raise _Unsure("a relative permalink guid")
            entry["id"] = text
            if permalink and "link" not in entry:  # feedparser: the guid is the link
                entry["link"] = text
        elif field == "link":  # RSS <link>: resolved against the base, then '&amp;' fixed up
            if not _PLAIN_LINK.fullmatch(text) or not _base_independent(text):
                raise _Unsure("a relative or unusual link")
            entry["link"] = _LINK_ENTITY.sub(r"&\g<1>", text.replace("&amp;", "&"))
        elif field in ("published", "updated"):
            if "&" in text or "<" in text:
                raise _Unsure("an unusual date")
            entry[field] = text
            entry[f"{field}_parsed"] = feedparser.datetimes._parse_date(text)
        elif field == "content":
            entry["content"] = [{**self.detail, "value": text}]
            entry.setdefault("summary", text)  # feedparser copies it when there is no summary
        else:
            kind = self.detail["type"]
            if field == "title" and not self.atom and _FEEDPARSER_HTMLISH(text):
                kind = "text/html"
            entry[field] = text
            entry[f"{field}_detail"] = {"type": kind}


def _first_scan_encoding_ok(body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether expat and feedparser surely decode ``body`` alike, without a warning.

    The media type must be one feedparser calls XML (else it warns); the
    encoding ASCII-compatible (as for :func:`prescan`); and a body with any
    non-ASCII byte must be UTF-8 by every account (no other charset or XML
    encoding, and not a ``text/*`` type without a charset, which RFC 3023
    makes US-ASCII), so no fallback decoding can happen.
    """
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:4]:
        return False
    content_type = _response_headers(headers, "")["content-type"]
    media_type = content_type.partition(";")[0].strip().lower()
    plus_xml = media_type.endswith("+xml")
    if media_type.startswith("text/"):
        if not (media_type in ("text/xml", "text/xml-external-parsed-entity") or plus_xml):
            return False
    elif not (
        media_type in _XML_MEDIA_TYPES or (media_type.startswith("application/") and plus_xml)
    ):
        return False
    charset_match = _CHARSET.search(content_type)
    charset = charset_match.group(1) if charset_match else None
    declaration = _XML_DECLARATION.match(body, 3 if body.startswith(b"\xef\xbb\xbf") else 0)
    declared = declaration.group(1).decode("ascii", "replace") if declaration else None
    for name in (charset, declared):
        if name is not None and not _ascii_safe(name):
            return False
    if body.isascii():
        return True
    if media_type.startswith("text/") and charset is None:
        return False
    return all(_codec_name(n) in (None, "utf-8") for n in (charset, declared) if n is not None)


def _scanned(
    body: bytes,
    headers: Mapping[str, str],
    max_bytes: int,
    read: Callable[[bytes], _FirstScanner | None],
) -> _FirstScanner | None:
    """The entries ``read(body)`` gives (the stream's or the tree's reading, see
    :func:`first_scan` and :func:`key_scan`), each with exactly one guid and none
    shared; None when unsure, or when the body is too large, JSON, or in an
    encoding feedparser may read otherwise."""
    if len(body) > max_bytes or jsonfeed.looks_like_json(body):
        return None
    if not _first_scan_encoding_ok(body, headers):
        return None
    scanner = read(body)
    if scanner is None:
        return None
    ids = [e["id"] for e in scanner.entries]
    if not ids or len(set(ids)) != len(ids):
        return None
    return scanner


def first_scan(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    feed: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedFeed | None:
    """Read ``body`` for a first poll that records its entries silently, or None when unsure.

    About 5x cheaper than :func:`parse` (expat from the standard library, no
    feedparser parse), for the same entries: each entry's key, title,
    summary, content (and their HTML), link and dates are exactly what
    :func:`parse` gives, or the answer is None and the caller parses. Left
    out: the entries' ``categories`` and ``author`` (empty; they only
    matter to matching, and a silent first poll matches nothing) and the
    feed's own title and link (``""`` and None).

    It answers only when the :func:`prescan` conditions hold (well-formed XML,
    RSS 2.0 or Atom 1.0, one plain guid per entry, no guid shared), and also:
    the media type is one feedparser calls XML, and a body with non-ASCII bytes
    is UTF-8 by every account; each entry holds only elements whose meaning is
    modelled here (RSS ``title``, ``link``, ``description``, ``pubDate``,
    ``content:encoded``, and ``author``, ``category``, ``comments``,
    ``dc:creator``, which are skipped; Atom ``title``, ``link``, ``summary``,
    ``content``, ``published``, ``updated``, ``author``, ``contributor``,
    ``category``), each text field at most once, plain text or HTML, without
    markup inside; links are absolute (they read the same against any base);
    text that feedparser's "UTF-8 read as Latin-1" repair would change is
    refused. Never raises.
    """
    scanner = _scanned(body, headers, max_bytes, lambda b: _stream(b, _FirstScanner))
    if scanner is None:
        return None
    base = _response_headers(headers, url)["content-location"]
    try:
        drafts = [_draft(raw, feed, base) for raw in scanner.entries]
    except Exception:  # noqa: BLE001 - unsure: the full parse will say what is wrong
        return None
    if any(d is None for d in drafts):
        return None
    kept = [d for d in drafts if d is not None]
    keys = assign_keys([d.key_item() for d in kept])
    if scanner.atom:
        version = "atom10"
    else:
        given = scanner.root.get("version", "")
        version = _RSS_VERSIONS.get(given) or ("rss20" if given.startswith("2.") else "rss")
    return ParsedFeed(
        title="",
        link=None,
        version=version,
        entries=tuple(
            Entry(key=k.key, legacy_key=k.legacy, **d.fields)
            for d, k in zip(kept, keys, strict=True)
        ),
    )


class _NoParser:
    """What :meth:`_FirstScanner._end_field` resets when no expat parser is streaming."""

    CharacterDataHandler: Any = None


def _tree_tag(scanner: _FirstScanner, name: str) -> tuple[str, str]:
    """:meth:`_FirstScanner.tag` of an ElementTree name (``{ns}local``), cached as is."""
    tag = scanner.tags.get(name)
    if tag is None:
        tag = scanner.tags[name] = scanner.tag(_expat_name(name))
    return tag


def _expat_name(name: str) -> str:
    """An ElementTree name (``{ns}local``) as expat names it with ``namespace_separator=" "``."""
    return name[1:].replace("}", " ", 1) if name[:1] == "{" else name


def _expat_attrs(attrs: Mapping[str, str]) -> dict[str, str]:
    return {_expat_name(k): v for k, v in attrs.items()}


def _tree_entries(root: ET.Element) -> _FirstScanner:
    """Read the entries of a parsed document as :class:`_FirstScanner` reads a stream,
    refusing (``_Unsure``) exactly what it refuses, but without reading the fields in
    :data:`_UNREAD_BY_KEY_SCAN`. Element by element in C, entry by entry in Python:
    several times cheaper than expat's handlers called for every element."""
    scanner = _FirstScanner(_NoParser())
    tag = _tree_tag(scanner, root.tag)
    if tag not in (("", "rss"), (_ATOM_NS, "feed")):
        raise _Unsure("not an RSS 2.0 or Atom 1.0 root")
    scanner.root = _expat_attrs(root.attrib)
    scanner.atom = tag[0] == _ATOM_NS
    scanner.children = _ATOM_CHILDREN if scanner.atom else _RSS_CHILDREN
    wanted = "entry" if scanner.atom else "item"
    items = list(root) if scanner.atom else [e for child in root for e in child]
    items = [e for e in items if _tree_tag(scanner, e.tag)[1] in _ENTRY_NAMES]
    named = sum(1 for e in root.iter() if _tree_tag(scanner, e.tag)[1] in _ENTRY_NAMES)
    if named != len(items):
        raise _Unsure("an item out of place")  # or nested in another
    for item in items:
        namespace, local = _tree_tag(scanner, item.tag)
        if namespace not in _CORE_NS or local != wanted:
            raise _Unsure("an item of another format")
        if any(k != f"{{{_XML_NS}}}lang" for k in item.attrib):
            raise _Unsure("attributes on an item")
        scanner.entry, scanner.filled = {}, set()
        for child in item:
            child_tag = _tree_tag(scanner, child.tag)
            if child_tag not in scanner.children:
                raise _Unsure(f"an element feedparser may read: {child_tag[1]}")
            field = scanner.children[child_tag]
            if field is None:
                person = scanner.atom and child_tag[1] in ("author", "contributor")
                for part in child:
                    if (
                        not person
                        or len(part)
                        or _tree_tag(scanner, part.tag) not in (_PERSON_CHILDREN)
                    ):
                        raise _Unsure("markup inside an author")
                continue
            if len(child):
                raise _Unsure("markup inside a field")
            if not scanner.open_field(field, _expat_attrs(child.attrib)):
                continue
            if field in _UNREAD_BY_KEY_SCAN:
                continue
            scanner.field, scanner.chars = field, [child.text or ""]
            scanner._end_field()
        if "id" not in scanner.filled:
            raise _Unsure("an item without a guid")
        scanner.entries.append(scanner.entry)
    scanner.entry = None
    return scanner


def key_scan(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[tuple[str, str | None]] | None:
    """Each entry's key and content fingerprint, for a first poll that records only
    those, or None when unsure.

    The cheapest read of a first poll: the document is parsed into a tree in C
    (the standard library's ElementTree, on the same expat), then read entry by
    entry; no summary, content or date is read, let alone converted. Each pair
    is exactly the key :func:`parse` gives the entry and
    :func:`~notifier.sources.keys.content_fingerprint` of its link and title as
    :func:`parse` reads them. It answers under the conditions of
    :func:`first_scan` (which include :func:`prescan`'s), checked the same way
    (by :class:`_FirstScanner`'s own methods), and refuses any DOCTYPE before
    parsing. Never raises.
    """
    scanner = _scanned(body, headers, max_bytes, _tree)
    if scanner is None:
        return None
    base = _response_headers(headers, url)["content-location"]
    out = []
    try:
        for raw in scanner.entries:
            title = _plain(raw.get("title", ""), _is_html(raw.get("title_detail")))
            link = http_link(_canonical(raw.get("link"), base))
            # Every entry has its own plain guid: the key is the guid's (as prescan's).
            out.append((entry_key(raw["id"], None, "", None), content_fingerprint(link, title)))
    except Exception:  # noqa: BLE001 - unsure: the full parse will say what is wrong
        return None
    return out


def _tree(body: bytes) -> _FirstScanner | None:
    """:func:`_tree_entries` of ``body`` parsed by ElementTree; None when unsure. Any
    DOCTYPE is refused before parsing (so no entity is ever declared, let alone expanded)."""
    if b"<!DOCTYPE" in body:
        return None
    collecting = gc.isenabled()
    # The tree is thousands of objects without a cycle (freed by reference counts as
    # soon as it is read): collecting during its build only cost time (40% of the scan).
    gc.disable()
    try:
        return _tree_entries(ET.fromstring(body))  # noqa: S314 - no DOCTYPE: no entities
    except Exception:  # noqa: BLE001 - _Unsure, ParseError, or a bug: the parse will tell
        return None
    finally:
        if collecting:
            gc.enable()
