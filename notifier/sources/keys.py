"""Stable, versioned identities for entries, and canonical links.

An entry's ``key`` decides whether it was seen before, so it must not change
across polls, restarts, upgrades of the daemon, or edits of the entry::

    key = "v1:" + blake2b(json(["v1", tag, *material]), digest_size=16).hexdigest()

    guid present             tag "guid",  material [guid.strip()]
    else a link              tag "link",  material [canonical_link(link)]
    else a title or a date   tag "title", material [title (whitespace collapsed), date or ""]
    else (only text)         tag "text",  material [summary + content as served (spaces collapsed)]

The ``v1:`` prefix names the scheme: a later scheme can live beside this one
(keys of different versions never compare equal) while stores migrate. The
``text`` tag and the ``variant`` keys below were added to v1 without changing
any key it already gave (``tests/golden/corpus-keys-v1.json`` pins the keys of
993 real entries), so the prefix stays.

``date`` is whatever the caller passes (the parser passes the published date,
else the updated one, in ISO 8601 UTC when it parses, as written otherwise).

**Items sharing an identity** (:func:`assign_keys`). Some feeds repeat a guid
on different items (all four items of the MOE feed carry one guid and one
link; Scripting News reuses a guid for two posts on the same link, one of them
untitled), and guid-less items may share a link (a home page). Keyed by
identity alone they would collapse into one entry and every item after the
first would never alert. Within one document, the items with the same
identity (guid, else canonical link) are grouped; items of a group that agree
on canonical link, title and date are one *variant* (the same entry listed
twice) and share a key. When a group has several variants:

- the **oldest** variant keeps the plain key above, so the item that had the
  identity first never re-alerts when another one starts reusing it. Oldest
  means the earliest ``when`` (published, else updated) among the variants
  that have one; when none has, the one listed *last* (feeds list newest
  first); among equal dates, the last listed too;
- each other variant gets a key qualified by the first of these that is
  unique among the group's variants (the oldest included), so that edits of
  anything else do not change it::

      tag "variant", material [*identity, "link", canonical link]
                           or [*identity, "published", published date]
                           or [*identity, "title", title]
                           or [*identity, "fields", json([link, date, title])]

  (``identity`` is the plain key's material, e.g. ``"guid", guid``).

So a title edit changes no key unless the title is what tells two variants
apart (same link, same published date); a new item reusing an old guid gets
a new key and the old item keeps its own.

**Legacy keys.** Until this scheme, every variant of a multi-variant group was
keyed by ``tag "dup", material [*identity, link, title, date]``: the first item
re-keyed (and re-alerted) as soon as a second one reused its guid, and any edit
re-keyed both. Items with nothing but text all had the key of an empty title
and no date. For an item whose key differs from the one the earlier scheme
gave it, :attr:`Keys.legacy` is that earlier key, so a store that only knows
the earlier keys can still tell the item was seen: treat an entry as seen when
its ``key`` *or* its ``legacy`` key is known, and record ``key``. The
exception is the text-only item, whose earlier key was shared by all such
items (the reason they never alerted): its ``legacy`` is None, so those
entries alert once after the upgrade.

**Remaining edge cases** (each a feed that gives too little to tell items apart):

- A group without dates in a feed that lists its items oldest first: the
  newest item is taken for the oldest and keeps the plain key, so it is
  *missed* (never alerts), and the old one gets a qualified key and alerts
  again once. Telling these apart needs the store (which variant was seen
  before), not one document.
- Variants told apart only by their title (same link and published date, or
  none): a title edit changes that item's key (one re-alert); variants told
  apart only by a combination of fields are keyed by all of them.
- A variant whose published date is edited, or an edit that makes another
  variant the oldest, changes that variant's key (one re-alert).
- Items with no guid and no link that share a title and date are one entry
  (keyed by title + date as before), whatever their text; items with only a
  date or only a title the same. Text-only items are keyed by their text, so
  an edit of it is a new entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "KEY_VERSION",
    "PLAIN_URL",
    "TRACKING_PARAMS",
    "KeyItem",
    "Keys",
    "assign_keys",
    "canonical_link",
    "content_fingerprint",
    "entry_key",
    "http_link",
    "text_key",
]

#: The version prefix of every key this module makes.
KEY_VERSION = "v1"

#: Query parameters that only track the reader (campaigns, click ids, mailing
#: lists, social shares): dropped by :func:`canonical_link`, compared
#: case-insensitively. Any parameter whose name starts with ``utm_`` is dropped too.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",  # Facebook
        "gclid",  # Google Ads
        "dclid",  # Google Display
        "gbraid",  # Google Ads (iOS)
        "wbraid",  # Google Ads (iOS)
        "msclkid",  # Microsoft Ads
        "yclid",  # Yandex
        "twclid",  # Twitter/X
        "igshid",  # Instagram
        "mc_cid",  # Mailchimp campaign
        "mc_eid",  # Mailchimp subscriber
        "_hsenc",  # HubSpot
        "_hsmi",  # HubSpot
        "mkt_tok",  # Marketo
        "ref_src",  # Twitter embeds
        "ref_url",  # Twitter embeds
        "oly_enc_id",  # Omeda
        "oly_anon_id",  # Omeda
        "vero_id",  # Vero
        "rb_clickid",  # Rakuten
        "s_cid",  # Adobe
        "_ga",  # Google Analytics cross-domain
        "_gl",  # Google Analytics cross-domain
    }
)

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21"}
#: An absolute http(s) URL already in canonical form, and that any URL parsing leaves as
#: it is: lower-case host, no port, user, query or fragment, a path of plain characters.
#: :func:`canonical_link` returns such a URL as it is, without parsing it (the common case).
PLAIN_URL = re.compile(r"https?://[a-z0-9.-]+(?:/[A-Za-z0-9_~%.-]*)+")
_HOST_PORT = re.compile(r"(?P<host>\[[^\]]*\]|[^:]*)(?::(?P<port>.*))?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class KeyItem:
    """What :func:`assign_keys` reads of one entry.

    ``guid``, ``link`` (absolute, not yet canonical), ``title`` (plain text) and
    ``date`` (published, else updated, as a string) make the plain key.
    ``published`` (the published date alone, as a string) may tell apart items
    sharing a guid; ``when`` (published, else updated, aware) finds the oldest
    of them; ``text`` (summary and content as served) keys an item that has
    nothing else.
    """

    guid: str | None
    link: str | None
    title: str
    date: str | None = None
    published: str | None = None
    when: datetime | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Keys:
    """The key of one item, and the key the earlier scheme gave it when that differs."""

    key: str
    legacy: str | None = None


def _is_tracking(name: str) -> bool:
    lowered = urllib.parse.unquote_plus(name).strip().lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def _canonical_query(query: str) -> str:
    kept = [part for part in query.split("&") if part and not _is_tracking(part.partition("=")[0])]
    return "&".join(kept)


def _canonical_netloc(scheme: str, netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    match = _HOST_PORT.fullmatch(hostport)
    if match is None:  # pragma: no cover - the pattern matches every string
        return netloc
    host = match["host"].lower()
    port = match["port"]
    if port is not None and (
        port == "" or (port.isdigit() and port.lstrip("0") == _DEFAULT_PORTS.get(scheme))
    ):
        port = None
    return f"{userinfo}{at}{host}" + (f":{port}" if port is not None else "")


def _canonical_once(url: str) -> str:
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    netloc = _canonical_netloc(scheme, parts.netloc) if parts.netloc else parts.netloc
    path = parts.path
    if scheme in ("http", "https") and netloc and not path:
        path = "/"
    return urllib.parse.urlunsplit((scheme, netloc, path, _canonical_query(parts.query), ""))


def canonical_link(url: str, base: str | None = None) -> str:
    """Return the canonical form of ``url`` (made absolute against ``base`` first).

    The scheme and host are lower-cased, a default port (``:80`` for http,
    ``:443`` for https) and the fragment are dropped, an empty http(s) path
    becomes ``/``, and tracking parameters (:data:`TRACKING_PARAMS`, ``utm_*``)
    are removed from the query; the other parameters keep their order and
    their exact spelling. Path case and percent-encoding are left alone (they
    may matter to the server). Anything :mod:`urllib.parse` cannot read
    (``http://[bad``) comes back stripped but otherwise as given.

    Pure and idempotent: ``canonical_link(canonical_link(u)) == canonical_link(u)``.
    """
    text = url.strip()
    if PLAIN_URL.fullmatch(text):
        return text  # absolute (urljoin keeps it) and canonical (tests/test_keys.py)
    if base:
        with contextlib.suppress(ValueError):
            text = urllib.parse.urljoin(base.strip(), text)
    # urlsplit/urlunsplit are not a fixed point on odd input ("////A" → "//A", whose
    # host is then lower-cased); a second pass (rarely a third) reaches it.
    # Stripping again each pass: urlsplit drops leading C0 controls, which can leave
    # a space (even a no-break one) that the next call's strip() would remove.
    result = _canonical_once(text).strip()
    for _ in range(4):
        again = _canonical_once(result).strip()
        if again == result:
            break
        result = again
    return result


def http_link(link: str | None) -> str | None:
    """``link`` when it is an http(s) URL with a host (what an alert may link to), else None."""
    if link is None:
        return None
    if PLAIN_URL.fullmatch(link):
        return link
    try:
        parts = urllib.parse.urlsplit(link)
    except ValueError:
        return None
    return link if parts.scheme in ("http", "https") and parts.hostname else None


def _digest(*material: str) -> str:
    payload = json.dumps([KEY_VERSION, *material], ensure_ascii=True, separators=(",", ":"))
    return f"{KEY_VERSION}:" + hashlib.blake2b(payload.encode("ascii"), digest_size=16).hexdigest()


def _title(title: str) -> str:
    return " ".join(title.split())


def _date(date: str | None) -> str:
    return (date or "").strip()


def _canonical_or_empty(link: str | None) -> str:
    return canonical_link(link) if link and link.strip() else ""


def _identity(guid: str | None, canonical: str, title: str, date: str | None) -> list[str]:
    """The tagged material of an entry's plain key by guid, canonical link or title + date."""
    stripped = (guid or "").strip()
    if stripped:
        return ["guid", stripped]
    if canonical:
        return ["link", canonical]
    return ["title", _title(title), _date(date)]


def entry_key(guid: str | None, link: str | None, title: str, date: str | None) -> str:
    """Return the stable key of one entry: by guid, else canonical link, else title + date.

    ``"v1:"`` followed by 32 hex digits. Surrounding whitespace of the guid,
    the form of the link (:func:`canonical_link`) and the whitespace of the
    title do not change the key.
    """
    return _digest(*_identity(guid, _canonical_or_empty(link), title, date))


def content_fingerprint(link: str | None, title: str) -> str | None:
    """What identifies an entry besides its key: its link and its title (whitespace runs
    as one space); None when it has neither.

    Used only to recognise a feed that gave every entry a new id at once."""
    title = " ".join(title.split())
    if not link and not title:
        return None
    material = f"{link or ''}\n{title}".encode()
    return hashlib.blake2b(material, digest_size=12).hexdigest()


def text_key(text: str) -> str:
    """Return the key of an entry with no guid, link, title or date: by its text.

    Whitespace runs count as one space.
    """
    return _digest("text", " ".join(text.split()))


def _plain_identity(item: KeyItem, canonical: str) -> tuple[str, ...]:
    """The tagged material of ``item``'s plain key (the module docstring's table)."""
    identity = _identity(item.guid, canonical, item.title, item.date)
    if identity == ["title", "", ""]:
        return ("text", " ".join(item.text.split()))
    return tuple(identity)


@dataclass(frozen=True, slots=True)
class _Variant:
    """Items of one group that agree on link, title and date: one entry, listed once or more."""

    link: str
    title: str
    date: str
    published: str
    when: datetime | None
    last: int  # index of its last listing in the document


def _oldest(variants: Sequence[_Variant]) -> _Variant:
    """The variant keeping the plain key: earliest ``when``, else (and on ties) the last listed."""
    dated = [(v.when, -v.last, v) for v in variants if v.when is not None]
    if dated:
        return min(dated, key=lambda t: (t[0], t[1]))[2]
    return max(variants, key=lambda v: v.last)


def _qualifier(variant: _Variant, variants: Sequence[_Variant]) -> list[str]:
    """The first of link, published date, title unique among ``variants``; else all fields."""
    for kind, value in (
        ("link", variant.link),
        ("published", variant.published),
        ("title", variant.title),
    ):
        if value and sum(getattr(v, kind) == value for v in variants) == 1:
            return [kind, value]
    fields = json.dumps([variant.link, variant.date, variant.title], ensure_ascii=True)
    return ["fields", fields]


def assign_keys(items: Sequence[KeyItem]) -> list[Keys]:
    """Return the :class:`Keys` of each item of one document, in order.

    An item whose identity (guid, else canonical link) no other variant shares
    gets :func:`entry_key` (text-only items :func:`text_key`). In a group of
    items sharing an identity, the oldest variant keeps that key and each
    other one gets a key qualified by its link, published date or title,
    whichever first tells it apart (the module docstring has the details and
    the edge cases). Exact repeats share a key; distinct items never do.
    """
    identities: list[tuple[str, ...]] = []
    details: list[tuple[str, str, str]] = []
    groups: defaultdict[tuple[str, ...], dict[tuple[str, str, str], _Variant]] = defaultdict(dict)
    for index, item in enumerate(items):
        link = _canonical_or_empty(item.link)
        identity = _plain_identity(item, link)
        detail = (link, _title(item.title), _date(item.date))
        identities.append(identity)
        details.append(detail)
        group = groups[identity]
        seen = group.get(detail)  # an earlier listing of the same variant
        group[detail] = _Variant(
            link=detail[0],
            title=detail[1],
            date=detail[2],
            published=(seen.published if seen else "") or _date(item.published),
            when=(seen.when if seen else None) or item.when,
            last=index,
        )
    keys_of: dict[tuple[tuple[str, ...], tuple[str, str, str]], str] = {}
    for shared, group in groups.items():
        variants = list(group.values())
        oldest = _oldest(variants)
        for detail, variant in group.items():
            if variant is oldest:
                keys_of[shared, detail] = _digest(*shared)
            else:
                keys_of[shared, detail] = _digest(
                    "variant", *shared, *_qualifier(variant, variants)
                )
    result = []
    for identity, detail in zip(identities, details, strict=True):
        legacy = None
        if len(groups[identity]) > 1 and identity[0] != "text":
            # The earlier scheme keyed every variant of such a group so (and no other item).
            legacy = _digest("dup", *identity, *detail)
        result.append(Keys(keys_of[identity, detail], legacy))
    return result
