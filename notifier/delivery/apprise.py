"""Apprise channels: the built-in ``console://`` schema, URL checks and masking.

Apprise logs the URLs it cannot parse, secrets included, so every call here
that hands a URL to Apprise runs with the ``apprise`` logger silenced and
reports problems in its own words.

Apprise takes most of a second to import (it loads every plugin), so it is
loaded on first use (:func:`load_apprise`, which also registers ``console://``),
not when this module is. The plain built-in URL, ``console://``, is our own
schema: checking, masking and finding its secrets need no Apprise, so
``notifier check`` on a config with only the console channel never loads it.
Any other URL, ``console://`` with options included, is handed to Apprise.

**Only the plugins in use.** Apprise imports all of its ~190 plugin modules
(about 17 MiB resident) the first time its plugin registry is touched.
:func:`load_apprise` marks the registry as loaded but empty instead, and every
hand-off of URLs to Apprise (:func:`quiet_apprise` with those URLs) first
imports the plugin modules of their schemes, found in
:mod:`notifier.delivery.apprise_index` (a table generated from the installed
Apprise). A scheme not in that table, or another Apprise version than the
table's, loads every plugin as Apprise would, so an unknown scheme is refused
with the same message and nothing Apprise supports is ever missing. A URL
rotated to a new scheme at a reload loads its plugin at its first check.
"""

from __future__ import annotations

import difflib
import importlib
import ipaddress
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

#: The schema of the built-in channel that prints alerts to standard output.
CONSOLE_SCHEMA = "console"

#: Query parameters Apprise adds to every URL it renders, at their defaults.
_NOISE = {"overflow": "upstream", "retry": "0", "wait": "0.5", "optional": "no"}

_apprise: Any = None  # the apprise module, once loaded and console:// registered
_loading = threading.Lock()


def _console(body: str, title: str, notify_type: str, *args: Any, **kwargs: Any) -> bool:
    """Print an alert to standard output; needs no account."""
    out = sys.stdout
    if title:
        out.write(f"[{notify_type}] {title}\n")
    out.write(body.rstrip("\n") + "\n\n")
    out.flush()
    return True


def load_apprise() -> Any:
    """The ``apprise`` module, imported on the first call with ``console://`` registered.

    Its plugin registry starts empty (see the module docstring): use
    :func:`quiet_apprise` with the URLs to hand over, which loads their plugins.
    Safe from any thread (sends run in threads of their own); later calls cost
    nothing.
    """
    global _apprise  # noqa: PLW0603 - one Apprise for the process, loaded once
    if _apprise is None:
        with _loading:
            if _apprise is None:
                import apprise  # noqa: PLC0415 - see the module docstring
                from apprise.decorators import notify  # noqa: PLC0415

                _start_empty(apprise.NotificationManager())
                notify(on=CONSOLE_SCHEMA, name="notifier console")(_console)
                _apprise = apprise
    return _apprise


#: Marks Apprise's plugin registry as loaded (so that touching it imports nothing);
#: Apprise's own full load (``load_modules()``) still runs when asked, see _load_schemes.
_ONE_BY_ONE = "notifier: plugins loaded one by one"


def _start_empty(manager: Any) -> None:
    """Make Apprise's plugin registry count as loaded, with no plugin in it yet."""
    with manager._lock:
        if not manager:  # never loaded: Apprise would import every plugin on first use
            manager._module_map = {}
            manager._schema_map = {}
            manager._custom_module_map = {}
            manager._loaded.add(_ONE_BY_ONE)


def _load_plugin(manager: Any, name: str) -> None:
    """Import ``apprise.plugins.<name>`` and register it as Apprise's ``load_modules`` does."""
    with manager._lock:
        if name in manager._module_map:
            return
        path = f"{manager.module_name_prefix}.{name}"
        module = importlib.import_module(path)
        for attribute in dir(module):
            if not manager.module_filter_re.match(attribute):
                continue
            plugin = getattr(module, attribute)
            if not hasattr(plugin, "app_id"):
                continue
            manager._module_map[name] = {
                "plugin": {plugin},
                "module": module,
                "path": path,
                "native": True,
            }
            schemas = getattr(plugin, "schemas", None)
            for schema in schemas(plugin) if callable(schemas) else ():
                manager._schema_map.setdefault(schema, plugin)
            break
        manager._build_dep_counter()


def _load_schemes(apprise: Any, urls: Iterable[str]) -> None:
    """Load the plugins serving ``urls``' schemes; every plugin when one is not indexed."""
    from notifier.delivery.apprise_index import (  # noqa: PLC0415 - with Apprise only
        APPRISE_VERSION,
        MODULE_OF,
    )

    manager = apprise.NotificationManager()
    missing = {s for s in map(scheme_of, urls) if s and s not in manager._schema_map}
    if not missing:
        return
    if apprise.__version__ != APPRISE_VERSION or not missing <= MODULE_OF.keys():
        manager.load_modules()  # as Apprise itself would: a truly unknown scheme stays unknown
        return
    for name in sorted({MODULE_OF[s] for s in missing}):
        _load_plugin(manager, name)


@contextmanager
def quiet_apprise(*urls: str) -> Iterator[Any]:
    """Silence the ``apprise`` logger (it logs unparseable URLs verbatim).

    Every hand-off of a URL to Apprise happens inside this, with the URLs
    handed over: it loads Apprise (see :func:`load_apprise`) and the plugins of
    those URLs' schemes, and yields the module.
    """
    apprise = load_apprise()
    log = logging.getLogger("apprise")
    was = log.disabled
    log.disabled = True
    try:
        _load_schemes(apprise, urls)
        yield apprise
    finally:
        log.disabled = was


def is_builtin_console(url: str) -> bool:
    """Whether ``url`` is the plain built-in ``console://`` (any case, an optional ``/``).

    Apprise accepts it, shows it as ``console://`` and finds no secret in it, so
    the functions below answer for it without loading Apprise. ``console://``
    with anything more (options, a host) goes to Apprise, which refuses some.
    """
    head, sep, rest = url.partition("://")
    return bool(sep) and head.lower() == CONSOLE_SCHEMA and rest in {"", "/"}


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
    if is_builtin_console(url):
        return None
    with quiet_apprise(url) as apprise:
        if scheme not in apprise.NotificationManager():
            return f"unknown Apprise scheme {scheme + '://'!r}"
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
    if is_builtin_console(url):
        return f"{CONSOLE_SCHEMA}://"
    with quiet_apprise(url) as apprise:
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return f"{scheme_of(url) or '?'}://<hidden>"
    masked: str = plugin.url(privacy=True)
    base, _, query = masked.partition("?")
    # Apprise leaves some paths as they are (json://, form://): hide token-like
    # segments too, in Apprise's own style (first and last character).
    scheme, sep, rest = base.partition("://")
    head, slash, path = rest.partition("/")
    if slash:
        segments = [_hide(s) if looks_like_token(unquote(s)) else s for s in path.split("/")]
        base = f"{scheme}{sep}{head}/{'/'.join(segments)}"
    kept = [(k, v) for k, v in parse_qsl(query) if _NOISE.get(k) != v]
    return f"{base}?{urlencode(kept, safe='*')}" if kept else base


def _hide(token: str) -> str:
    return f"{token[0]}...{token[-1]}"


# --------------------------------------------------------------------------- secrets in URLs
#
# Chat services put their tokens in the URL itself (Mattermost /hooks/TOKEN,
# Slack /services/T/B/X, Discord /api/webhooks/ID/TOKEN, Telegram /botTOKEN/),
# and HTTP libraries log the URLs they request at DEBUG (urllib3:
# ``"POST /hooks/TOKEN HTTP/1.1" 200``). So the secret parts of every channel URL
# are registered with the log pipeline (``notifier.logs.add_secrets``), which
# replaces them in every line whatever logged it.
#
# Which parts are secret:
# * the password, and the user name if it looks like a token (below);
# * the value of a query parameter whose name says it is secret (token, key,
#   secret, password…), and any other query value that looks like a token;
# * each label of the host and each segment of the path that looks like a token;
# * what Apprise itself masks in its privacy form of the URL;
# * the whole URL, its path and query, when any part of them is secret.
#
# "Looks like a token": at least TOKEN_MIN_LENGTH (8) characters, not a
# well-known word of API paths (hooks, webhooks, services, api, notify…), and
# with a digit, or both upper- and lower-case letters, or 20 characters or more.
# So ``/hooks/`` and ``/alerts`` stay readable, and so does a name such as
# ``rare-earths``, while ``k9x3mz7qwe5rty1u`` or ``T0AB12CD`` are redacted. A short,
# all-lower-case word used as a secret (an ntfy topic ``mytopic``) is not
# detected: put such a value in ``${VAR}``, whose values are always redacted.

TOKEN_MIN_LENGTH = 8
_LONG_TOKEN = 20
_SECRET_KEYS = re.compile(
    r"(token|key|secret|pass|password|passwd|pwd|auth|sig|signature|apikey|api_key|"
    r"access_token|webhook|hook|credential|session)",
    re.IGNORECASE,
)
#: Path segments and host labels common in service URLs: never secrets.
WELL_KNOWN = frozenset(
    {
        "api", "apis", "hook", "hooks", "webhook", "webhooks", "services", "service",
        "notify", "notification", "notifications", "message", "messages", "send",
        "sendmessage", "chat", "channels", "channel", "rooms", "room", "topic", "topics",
        "alerts", "alert", "events", "event", "incoming", "integrations", "v1", "v2",
        "v3", "v4", "json", "form", "xml", "rest", "push", "post", "bot", "bots",
        "localhost", "default", "general", "public", "private", "method",
    }
)  # fmt: skip


def looks_like_token(text: str) -> bool:
    """Whether a URL part is token-like (see the comment above for the rule)."""
    if len(text) < TOKEN_MIN_LENGTH or text.lower() in WELL_KNOWN:
        return False
    mixed_case = any(c.islower() for c in text) and any(c.isupper() for c in text)
    return any(c.isdigit() for c in text) or mixed_case or len(text) >= _LONG_TOKEN


def _forms(value: str) -> set[str]:
    """A value as written, percent-decoded and percent-encoded."""
    return {value, unquote(value), quote(unquote(value), safe=""), quote(unquote(value))}


def _apprise_masked_parts(url: str) -> set[str]:
    """The parts of ``url`` that Apprise itself hides in its privacy form."""
    if is_builtin_console(url):
        return set()
    with quiet_apprise(url) as apprise:
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return set()
    plain: str = plugin.url(privacy=False)
    masked: str = plugin.url(privacy=True)
    split = re.compile(r"([/:@?&=])")
    a, b = split.split(plain), split.split(masked)
    found: set[str] = set()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in {"replace", "delete"}:
            part = "".join(a[i1:i2]).strip("/:@?&=")
            if part:
                found.add(part)
    return found


def url_secrets(url: str) -> set[str]:
    """The secret parts of an Apprise URL, in the forms they may be logged in."""
    try:
        parts = urlsplit(url)
        user, password, host = parts.username, parts.password, parts.hostname
    except ValueError:  # a netloc urlsplit cannot read (a token with ':' as the host)
        return {url} if looks_like_token(url) else set()
    secret: set[str] = set()
    if password:
        secret.add(password)
    if user and looks_like_token(user):
        secret.add(user)
    if host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            secret.update(label for label in host.split(".") if looks_like_token(label))
    in_path = {seg for seg in parts.path.split("/") if looks_like_token(unquote(seg))}
    in_query = {
        value
        for key, value in parse_qsl(parts.query, keep_blank_values=False)
        if _SECRET_KEYS.search(key) or looks_like_token(value)
    }
    secret |= in_path | in_query | _apprise_masked_parts(url)
    if not secret:
        return set()
    secret.add(url)
    if in_path:
        secret.add(parts.path)
    if in_query:
        secret.add(parts.query)
    return {form for value in secret for form in _forms(value) if form}


def feed_url_secrets(url: str) -> set[str]:
    """The secret parts of a feed URL: its password and secret-named query values."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return set()
    secret = {password} if password else set()
    secret.update(v for k, v in parse_qsl(parts.query) if _SECRET_KEYS.search(k))
    return {form for value in secret for form in _forms(value) if form}


def secrets_of(channel_urls: Iterable[str], feed_urls: Iterable[str] = ()) -> set[str]:
    """Every secret part of these channel and feed URLs (see :func:`url_secrets`)."""
    found: set[str] = set()
    for url in channel_urls:
        found |= url_secrets(url)
    for url in feed_urls:
        found |= feed_url_secrets(url)
    return found
