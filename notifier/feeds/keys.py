"""Stable, versioned identities for entries, and canonical links.

An entry's ``key`` decides whether it was seen before, so it must not change
across polls, restarts or upgrades of the daemon::

    key = "v1:" + blake2b(json(["v1", tag, *material]), digest_size=16).hexdigest()

    guid present        tag "guid",  material [guid.strip()]
    else a link         tag "link",  material [canonical_link(link)]
    else                tag "title", material [title (whitespace collapsed), date or ""]

The ``v1:`` prefix names the scheme: a later scheme can live beside this one
(keys of different versions never compare equal) while stores migrate.

**Duplicate identities in one document** (:func:`assign_keys`). Some feeds
repeat a guid on different items (all four items of the MOE feed carry one
guid and one link; Scripting News reuses a guid for two posts on the same
link, one of them untitled). Keyed by guid alone they would collapse into one
entry and every item after the first would never alert. So, within one
document, when the same primary identity (the guid, else the canonical link)
is carried by items that differ in link, title or date, *each* of those items
gets a qualified key::

    tag "dup",  material [tag, identity, canonical link or "", title, date or ""]

Items that repeat exactly (same identity, link, title and date) still share a
key: they are the same entry listed twice. The cost of the rule: when a
second, different item starts reusing a guid, the first item's key changes
once (it may alert again once); this only happens in feeds that are already
broken, and it is better than losing items for good.

``date`` is whatever the caller passes (the parser passes the published date,
else the updated one, in ISO 8601 UTC when it parses, as written otherwise).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Sequence

__all__ = ["KEY_VERSION", "TRACKING_PARAMS", "assign_keys", "canonical_link", "entry_key"]

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
_HOST_PORT = re.compile(r"(?P<host>\[[^\]]*\]|[^:]*)(?::(?P<port>.*))?", re.DOTALL)

Item = tuple[str | None, str | None, str, str | None]
"""What :func:`assign_keys` reads of one entry: ``(guid, link, title, date)``."""


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


def _digest(*material: str) -> str:
    payload = json.dumps([KEY_VERSION, *material], ensure_ascii=True, separators=(",", ":"))
    return f"{KEY_VERSION}:" + hashlib.blake2b(payload.encode("ascii"), digest_size=16).hexdigest()


def _title(title: str) -> str:
    return " ".join(title.split())


def _date(date: str | None) -> str:
    return (date or "").strip()


def _identity(guid: str | None, link: str | None, title: str, date: str | None) -> list[str]:
    """The tagged material of an entry's plain key (see the module docstring)."""
    stripped = (guid or "").strip()
    if stripped:
        return ["guid", stripped]
    canonical = canonical_link(link) if link and link.strip() else ""
    if canonical:
        return ["link", canonical]
    return ["title", _title(title), _date(date)]


def entry_key(guid: str | None, link: str | None, title: str, date: str | None) -> str:
    """Return the stable key of one entry: by guid, else canonical link, else title + date.

    ``"v1:"`` followed by 32 hex digits. Surrounding whitespace of the guid,
    the form of the link (:func:`canonical_link`) and the whitespace of the
    title do not change the key.
    """
    return _digest(*_identity(guid, link, title, date))


def assign_keys(items: Sequence[Item]) -> list[str]:
    """Return one key per ``(guid, link, title, date)`` item of one document, in order.

    An item whose identity (guid, else canonical link) is unique in the
    document gets :func:`entry_key`. When several items share an identity but
    differ in canonical link, title or date, each gets a key qualified by its
    link, title and date, so distinct items never collapse; exact repeats
    share a key. Items with neither guid nor link are keyed by title + date
    (identical ones share a key).
    """
    identities = [_identity(*item) for item in items]
    variants: defaultdict[tuple[str, ...], set[tuple[str, str, str]]] = defaultdict(set)
    details: list[tuple[str, str, str]] = []
    for (_guid, link, title, date), identity in zip(items, identities, strict=True):
        detail = (canonical_link(link) if link and link.strip() else "", _title(title), _date(date))
        details.append(detail)
        variants[tuple(identity)].add(detail)
    keys = []
    for identity, detail in zip(identities, details, strict=True):
        if len(variants[tuple(identity)]) > 1:
            keys.append(_digest("dup", *identity, *detail))
        else:
            keys.append(_digest(*identity))
    return keys
