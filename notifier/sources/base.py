"""What every source type provides (:class:`Source`) and what a parse yields (:class:`ParsedFeed`).

Light on purpose: no feedparser, no aiohttp, no pydantic. The config schema
reads the registry (:mod:`notifier.sources`) without loading a parser, and
each parser module imports only what it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from notifier.model import Entry

__all__ = ["DEFAULT_MAX_BYTES", "ParseFn", "ParsedFeed", "PrescanFn", "Source", "too_large"]

#: The largest body a parser accepts by default (10 MiB, as ``fetch.max_bytes``).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What one body holds: the feed's own title and link, its version and its entries.

    ``version`` names the format as read: feedparser's for XML (``rss20``,
    ``atom10``, ``rss10``...), ``json1`` / ``json11`` for JSON Feed 1.0 / 1.1.
    ``warning`` is None for a clean document; otherwise one line, its parts
    joined by ``"; "``, to be logged at WARNING (the feed stays usable):

    1. an encoding problem, first: ``invalid UTF-8: 1 bad byte sequence
       replaced with U+FFFD`` (the document's own encoding was kept and only
       the bad bytes replaced), or feedparser's fallback when the bytes are
       not in that encoding at all, ``CharacterEncodingOverride: document
       declared as utf-8, but parsed as windows-1252``;
    2. then why the document is ill-formed while it still yields entries
       (``SAXParseException: <unknown>:3:0: XML or text declaration not at
       start of entity``; ``2 items are not JSON objects (left out)``), or
       that it was served with a media type that is not XML
       (``NonXMLContentType: text/html is not an XML media type``).
    """

    title: str
    link: str | None
    version: str
    entries: tuple[Entry, ...]
    warning: str | None = None


class ParseFn(Protocol):
    """Parses one fetched body of feed ``feed`` (fetched from ``url``) into a :class:`ParsedFeed`.

    Runs in a worker process, so an implementation is a top-level function:
    it and its arguments and result pickle. ``headers`` are the HTTP response
    headers (any case; ``{}`` for a file). Entries carry keys from
    :func:`~notifier.sources.keys.assign_keys` over the whole document.

    Raises :class:`~notifier.errors.FeedParseError` when the body is over
    ``max_bytes`` (checked before parsing) or broken beyond use, and
    :class:`~notifier.errors.NotAFeed` (a subclass) when it is no feed of
    this type at all. Nothing else, whatever the bytes.
    """

    def __call__(
        self, body: bytes, headers: Mapping[str, str], url: str, feed: str, *, max_bytes: int
    ) -> ParsedFeed: ...


class PrescanFn(Protocol):
    """The keys :class:`ParseFn` would give the entries of ``body``, in order, or None.

    Cheap, and called on the event loop: it must be much faster than a parse,
    and answer only when it is sure. A wrong answer hides new entries (the
    poller skips the parse when every key is known), so "unsure" is None.
    Never raises.
    """

    def __call__(
        self, body: bytes, headers: Mapping[str, str] | None = None, *, max_bytes: int
    ) -> list[str] | None: ...


class FirstScanFn(Protocol):
    """The :class:`ParsedFeed` :class:`ParseFn` would give, read much more cheaply, or None.

    Optional (a source module may define ``first_scan``): the poller calls it, in
    the parse pool, only for a first poll that records its entries silently (no
    ``backfill``). Each entry's key, title, summary, content, link and dates must
    be exactly the parse's; what a silent first poll does not read (categories,
    author, the feed's own title and link) may be left empty. None means
    "unsure: parse". Never raises.
    """

    def __call__(
        self, body: bytes, headers: Mapping[str, str], url: str, feed: str, *, max_bytes: int
    ) -> ParsedFeed | None: ...


class KeyScanFn(Protocol):
    """Each entry's key and content fingerprint, as :class:`ParseFn` would give them, or None.

    Optional (a source module may define ``key_scan``): the cheapest read of a
    feed's silent first poll, which records only those (the entries' history
    rows follow at the feed's next parse, see :mod:`notifier.pipeline.poll`).
    Called in the parse pool. Each key must be the parse's, and each
    fingerprint :func:`~notifier.sources.keys.content_fingerprint` of the
    parse's link and title. None means "unsure: read more". Never raises.
    """

    def __call__(
        self, body: bytes, headers: Mapping[str, str], url: str, *, max_bytes: int
    ) -> list[tuple[str, str | None]] | None: ...


@runtime_checkable
class Source(Protocol):
    """One ``type:`` of feed: how a fetched body becomes entries.

    A source type is a *module* (``notifier.sources.rss``,
    ``notifier.sources.jsonfeed``) with these three top-level names, listed
    in :data:`notifier.sources.SOURCES`; being top-level, ``parse`` pickles
    by name into the parse workers.

    - ``parse``: see :class:`ParseFn`;
    - ``prescan``: see :class:`PrescanFn` (a type without a cheap way to read
      its keys returns None, and every changed body is parsed);
    - ``ACCEPT``: the HTTP ``Accept`` header to send for feeds of this type,
      or None for the fetcher's default (the XML feed types).

    And optionally ``key_scan`` (see :class:`KeyScanFn`) and ``first_scan`` (see
    :class:`FirstScanFn`), cheap reads for a feed's silent first poll
    (``notifier.sources.rss`` has both).
    """

    ACCEPT: str | None

    def parse(
        self, body: bytes, headers: Mapping[str, str], url: str, feed: str, *, max_bytes: int
    ) -> ParsedFeed: ...

    def prescan(
        self, body: bytes, headers: Mapping[str, str] | None = None, *, max_bytes: int
    ) -> list[str] | None: ...


def too_large(size: int, max_bytes: int) -> str:
    """The message of the :class:`~notifier.errors.FeedParseError` for a body over the cap."""
    return f"feed body is {size:,} bytes, over the {max_bytes:,}-byte limit"
