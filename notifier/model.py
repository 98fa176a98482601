"""Frozen domain values shared by the feed, match and delivery stages.

An :class:`Entry` is one item of a feed, normalised: plain text for matching,
the HTML as served (untrusted) for HTML channels, aware UTC datetimes, an
absolute canonical link, and a stable versioned ``key``. A :class:`Match` is an
entry that a watch accepted, with the :class:`Hit` values that explain why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keeps parse workers from importing config (and Apprise) at start
    from notifier.config.schema import SearchField


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a feed.

    ``key`` identifies the entry within its feed across polls, restarts and
    upgrades (see :mod:`notifier.sources.keys`). ``legacy_key`` is the key an
    earlier key scheme gave the same entry, when it differs (else None): the
    entry was seen before if either key is known; record ``key``. ``title``,
    ``summary`` and ``content`` are plain text (tags stripped, entities decoded);
    ``summary_html``/``content_html`` are as served and must be sanitised
    before they are shown anywhere.
    """

    feed: str
    key: str
    title: str
    summary: str = ""
    content: str = ""
    link: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    categories: tuple[str, ...] = ()
    author: str | None = None
    summary_html: str | None = None
    content_html: str | None = None
    legacy_key: str | None = None

    def text(self, field: SearchField) -> str:
        """Return the searchable text of ``field`` ('' when absent)."""
        if field == "categories":
            return "\n".join(self.categories)
        if field in ("author", "link"):
            return getattr(self, field) or ""
        value: str = getattr(self, field)
        return value


@dataclass(frozen=True, slots=True)
class Hit:
    """One reason a watch matched: ``term`` (as written in the config) found in ``field``.

    ``snippet`` is a short excerpt of the field around the first occurrence,
    taken from the original text (not the case-folded one).
    """

    term: str
    field: SearchField
    snippet: str


@dataclass(frozen=True, slots=True)
class Match:
    """An entry that ``watch`` accepted, and why (one hit per matched term)."""

    watch: str
    entry: Entry
    hits: tuple[Hit, ...]

    def explain(self) -> str:
        """One line: ``"rare earth" in title; "稀土" in summary``."""
        return "; ".join(f'"{h.term}" in {h.field}' for h in self.hits)
