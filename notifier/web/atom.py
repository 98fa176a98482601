"""The latest stories as an Atom 1.0 feed (RFC 4287), written by hand. Pure.

Written rather than built with a library so the escaping is in view: every text
goes through :func:`xml_text` — the characters XML 1.0 forbids and the bidi
overrides removed (:func:`notifier.delivery.safety.clean_text`), then ``&``,
``<``, ``>`` and quotes escaped — so a feed's title ``<script>…`` is text in a
reader, never markup. Only http(s) links are written as links
(:func:`notifier.delivery.safety.linkable`); a story without one links to its
page in the web UI. Times are RFC 3339 in UTC. The time (``updated`` of the
feed) is a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from notifier.delivery.safety import clean_text

# What XML 1.0 does not allow at all (clean_text leaves tabs and newlines only with
# lines=True; the surrogates and U+FFFE/U+FFFF are left to this).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class AtomEntry:
    """One story in the feed. ``link``: where it leads (http(s) or the story's page)."""

    id: str
    title: str
    updated: datetime
    link: str
    summary: str
    author: str


def xml_text(text: str, *, lines: bool = False) -> str:
    """``text`` cleaned and escaped for an XML element's content."""
    return escape(_NOT_XML.sub("", clean_text(text, lines=lines)), {'"': "&quot;"})


def _attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("", clean_text(value)))


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_feed(
    *,
    feed_id: str,
    title: str,
    self_url: str,
    alternate_url: str,
    updated: datetime,
    entries: Sequence[AtomEntry],
    author: str = "notifier",
) -> bytes:
    """The feed as UTF-8 bytes. ``updated``: the newest entry's time, or ``now`` when
    there is none (Atom requires one)."""
    newest = max((e.updated for e in entries), default=updated)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<id>{xml_text(feed_id)}</id>",
        f"<title>{xml_text(title)}</title>",
        f"<updated>{_time(newest)}</updated>",
        f'<link rel="self" type="application/atom+xml" href={_attr(self_url)}/>',
        f'<link rel="alternate" type="text/html" href={_attr(alternate_url)}/>',
        f"<author><name>{xml_text(author)}</name></author>",
        "<generator>notifier</generator>",
    ]
    for e in entries:
        out += [
            "<entry>",
            f"<id>{xml_text(e.id)}</id>",
            f'<title type="text">{xml_text(e.title) or "(no title)"}</title>',
            f"<updated>{_time(e.updated)}</updated>",
            f'<link rel="alternate" href={_attr(e.link)}/>',
            f"<author><name>{xml_text(e.author) or 'unknown'}</name></author>",
            f'<summary type="text">{xml_text(e.summary, lines=True)}</summary>',
            "</entry>",
        ]
    out.append("</feed>")
    return ("\n".join(out) + "\n").encode("utf-8")
