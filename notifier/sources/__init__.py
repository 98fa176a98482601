"""Sources: where entries come from, by each feed's ``type:``.

A feed is polled in stages (:mod:`notifier.pipeline.poll`)::

    fetch (HTTP, conditional GET)  ──▶  skip an identical body (hash)  ──▶  prescan keys
       shared by every type                  shared by every type           ── per type ──
                                     ──▶  parse, in a worker process  ──▶  dedup, match, record
                                            ──────── per type ───────       shared by every type

Only two steps depend on the format, so a source type (:class:`Source`) is
just those two, plus the ``Accept`` header it asks for:

- ``parse(body, headers, url, feed, *, max_bytes) -> ParsedFeed``: bytes to
  keyed entries. A top-level function, because the poller runs it in the
  process pool (parsing is CPU-bound); it never sees the store or the clock.
- ``prescan(body, headers, *, max_bytes) -> keys | None``: the entry keys,
  when they can be read much faster than a parse (the poller then skips the
  parse when all of them are known). None means "unsure: parse".

Why not "a source turns (feed, previous state) into (entries, new state)",
as the issue words it? Because for every HTTP-based type the state *is* the
HTTP state — ETag, Last-Modified, the hash of the last body — plus the seen
keys, and those are the same whatever the format: keeping them in the poller
keeps the measured optimisations (304s, identical bodies, the pre-scan, the
pool) for every type at no cost to the next one, and leaves a source type
nothing to get wrong about state. Keys are derived from each entry's content
(:mod:`notifier.sources.keys`), so a parse needs no previous state. A source
that is not fetched over HTTP (IMAP, an API with a cursor) would add a
retrieval step beside the fetcher, as reader's ``mount_retriever`` does, and
reuse ``parse``; it is not needed yet, so it is not built.

**The registry** (:data:`SOURCES`) maps each ``type:`` to the module that
implements it and a one-line description (shown in config errors and the
JSON Schema). Modules are imported only when a feed of that type is polled,
so loading a config (and ``notifier check``) imports no parser. Adding a
type is one new module with ``parse``, ``prescan`` and ``ACCEPT``, and one
line here.
"""

from __future__ import annotations

import functools
import importlib
from types import MappingProxyType
from typing import NamedTuple, cast

from notifier.sources.base import DEFAULT_MAX_BYTES, ParsedFeed, ParseFn, PrescanFn, Source

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TYPE",
    "SOURCES",
    "ParseFn",
    "ParsedFeed",
    "PrescanFn",
    "Registered",
    "Source",
    "describe_types",
    "source_for",
]


class Registered(NamedTuple):
    """One source type: the module implementing :class:`Source` and what it reads."""

    module: str
    reads: str


#: ``type:`` → its implementation. The first one is the default.
SOURCES = MappingProxyType(
    {
        "feed": Registered("notifier.sources.rss", "RSS, Atom or RDF; JSON Feed too, by content"),
        "jsonfeed": Registered("notifier.sources.jsonfeed", "JSON Feed 1.0 or 1.1"),
    }
)
#: The type of a feed whose config names none.
DEFAULT_TYPE = "feed"


def describe_types() -> str:
    """``feed (RSS, Atom…), jsonfeed (JSON Feed 1.0 or 1.1)``: for messages and the schema."""
    return ", ".join(f"{name} ({entry.reads})" for name, entry in SOURCES.items())


@functools.cache
def source_for(kind: str) -> Source:
    """The implementation of source type ``kind`` (imported on first use).

    Raises :class:`ValueError` for a type not in :data:`SOURCES` (the config
    refuses those when it loads, so only code that builds a
    :class:`~notifier.model.Feed` itself can meet it).
    """
    entry = SOURCES.get(kind)
    if entry is None:
        raise ValueError(f"unknown feed type {kind!r} (known: {describe_types()})")
    return cast(Source, importlib.import_module(entry.module))
