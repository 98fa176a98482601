"""Apprise channels: the built-in ``console://`` schema, URL checks and masking.

Apprise logs the URLs it cannot parse, secrets included, so every call here
that hands a URL to Apprise runs with the ``apprise`` logger silenced and
reports problems in its own words.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode

import apprise
from apprise.decorators import notify

#: The schema of the built-in channel that prints alerts to standard output.
CONSOLE_SCHEMA = "console"

#: Query parameters Apprise adds to every URL it renders, at their defaults.
_NOISE = {"overflow": "upstream", "retry": "0", "wait": "0.5", "optional": "no"}


@notify(on=CONSOLE_SCHEMA, name="notifier console")
def _console(body: str, title: str, notify_type: str, *args: Any, **kwargs: Any) -> bool:
    """Print an alert to standard output; needs no account."""
    out = sys.stdout
    if title:
        out.write(f"[{notify_type}] {title}\n")
    out.write(body.rstrip("\n") + "\n\n")
    out.flush()
    return True


@contextmanager
def quiet_apprise() -> Iterator[None]:
    """Silence the ``apprise`` logger (it logs unparseable URLs verbatim)."""
    log = logging.getLogger("apprise")
    was = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = was


def scheme_of(url: str) -> str:
    """Return the lower-cased scheme of ``url`` ('' if it has none)."""
    head, sep, _ = url.partition("://")
    return head.lower() if sep else ""


def check_url(url: str) -> str | None:
    """Return why Apprise cannot use ``url``, or ``None`` if it can.

    The message never contains the URL itself, only its scheme.
    """
    scheme = scheme_of(url)
    if not scheme:
        return "not an Apprise URL: expected scheme://..., e.g. mailto://, slack://, json://"
    if scheme not in apprise.NotificationManager():
        return f"unknown Apprise scheme {scheme + '://'!r}"
    with quiet_apprise():
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return (
            f"Apprise cannot use this {scheme}:// URL: check its host, tokens and "
            "options against the Apprise documentation for that service"
        )
    return None


def mask_url(url: str) -> str:
    """Return ``url`` in Apprise's privacy form (secrets replaced), trimmed of noise.

    A URL Apprise cannot parse is shown as ``scheme://<hidden>``.
    """
    with quiet_apprise():
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return f"{scheme_of(url) or '?'}://<hidden>"
    masked: str = plugin.url(privacy=True)
    base, _, query = masked.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if _NOISE.get(k) != v]
    return f"{base}?{urlencode(kept, safe='*')}" if kept else base
