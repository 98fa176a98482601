"""The read-only web UI as one function of a request: :meth:`WebApp.handle`.

::

    (method, target, headers) ──▶ GET/HEAD? ──▶ token? ──▶ route ──▶ view (web.views)
          405 ◀──────────────────────┘            │           │     ──▶ template | JSON
          401 ◀───────────────────────────────────┘     404 ◀─┘         | ics | atom
                                        security headers on every Response ◀─┘

No socket here (:mod:`notifier.web.server` has it), and no clock: the app is handed
``config`` (a callable: the daemon's config changes on reload), the state folder, the
token and ``clock``, so a test calls :meth:`WebApp.handle` directly or through a real
server. Each request opens the state store **read-only** (SQLite WAL: reads run beside
the daemon's writes and never block a poll or a send) and closes it; a state folder
that does not exist yet reads as an empty state.

Security, for every response: ``Content-Security-Policy: default-src 'self'`` (the
templates have no inline script or style), ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY``, ``Cache-Control:
no-store`` (but the calendar and the Atom feed, which subscribers poll: ``private``
with an ``ETag``). With a token, every route wants it, as ``Authorization: Bearer``
or ``?token=`` (compared in constant time), and the links of a page keep the
``?token=`` the request came with. Inputs are bounded: the target's length, the
number of query fields and each value's length, ``limit``, ``since``; a story id is
an integer. Feed text is never a template: it is a value, escaped by autoescape.

Two routes write, before everything above (:meth:`WebApp._acks`): the signed ack link
``GET /ack/<id>?exp=&sig=`` (its HMAC is its authority, no token; see :mod:`notifier.ack`
for why a GET may change state here) and ``POST /api/ack/<id>`` (``web.token`` as a
Bearer header). Each opens the store for one short write transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

import jinja2
from markupsafe import Markup, escape

from notifier import __version__
from notifier.ack import verify
from notifier.deadlines.ics import to_ics
from notifier.delivery.stages import mute_target
from notifier.durations import parse_duration
from notifier.errors import InvalidSearch, StateError
from notifier.logs import get_logger
from notifier.model import AckHow, Config
from notifier.pipeline.acks import acknowledge
from notifier.storage.sqlite import Store
from notifier.text import relative, when
from notifier.web import views
from notifier.web.atom import AtomEntry, atom_feed
from notifier.web.svg import sparkline

log = get_logger("notifier.web")

#: The headers every response carries.
SECURITY_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
#: Longest request target read; longest query value kept; most query fields.
TARGET_MAX: Final = 4096
VALUE_MAX: Final = 200
FIELDS_MAX: Final = 32
#: ``limit`` of the stories page and API: default and cap.
LIMIT_DEFAULT: Final = 50
LIMIT_MAX: Final = 200
#: ``since`` of the stories page: default and the longest period asked for.
SINCE_DEFAULT: Final = timedelta(days=7)
SINCE_MAX: Final = timedelta(days=366)
#: Stories in the Atom feed.
ATOM_ENTRIES: Final = 50
#: How long a subscriber may keep the calendar or the feed before asking again.
SUBSCRIPTION_MAX_AGE: Final = 300
#: Feeds on one page of /feeds (the API has them all).
FEEDS_PAGE: Final = 200
#: How long the feeds' counts a day (the sparklines) are reused.
ACTIVITY_TTL: Final = timedelta(seconds=60)
#: A page refreshes itself this often when scripts run (``/static/refresh.js``).
REFRESH_SECONDS: Final = 60

_HTML = "text/html; charset=utf-8"
_JSON = "application/json; charset=utf-8"
_STATIC: Final[Mapping[str, str]] = {
    "style.css": "text/css; charset=utf-8",
    "refresh.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_STORY = re.compile(r"/(api/)?stories/(\d{1,18})")
_ACK_LINK = re.compile(r"/ack/([0-9a-f]{8})")
_ACK_API = re.compile(r"/api/ack/([0-9a-f]{1,64})")
_MUTE_API = re.compile(r"/api/(mute|unmute)")
#: The longest mute the web UI sets.
MUTE_MAX: Final = timedelta(days=30)
_HOST = re.compile(r"[A-Za-z0-9.\-]{1,253}(:\d{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?")
_NAV: Final = (
    ("/", "Overview"),
    ("/deadlines", "Deadlines"),
    ("/stories", "Stories"),
    ("/feeds", "Feeds"),
    ("/proposals", "Proposals"),
)


@dataclass(frozen=True, slots=True)
class Response:
    """What to send: the status, the headers (``Content-Length`` included), the body
    (empty for ``HEAD``)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class BadRequest(ValueError):
    """A query the page cannot answer (a bad ``since``, ``limit``, search): a 400 page
    that says why. The same request fails again."""


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    token: str | None  # the ?token= to keep in links (only when the request used it)

    def link(self, path: str, **params: object) -> str:
        """``path`` with ``params`` (None dropped) and the request's ``?token=``."""
        pairs = [(k, str(v)) for k, v in params.items() if v is not None and v != ""]
        if self.token is not None:
            pairs.append(("token", self.token))
        return f"{path}?{urlencode(pairs)}" if pairs else path

    def base(self) -> str:
        """``http://host[:port]`` from the Host header (checked), for absolute links."""
        host = self.headers.get("host", "")
        return f"http://{host if _HOST.fullmatch(host) else '127.0.0.1'}"


class WebApp:
    """The web UI's routes over the state in ``state_dir`` and the config ``config()``."""

    def __init__(
        self,
        config: Callable[[], Config],
        state_dir: Path,
        token: str | None,
        clock: Callable[[], datetime],
        *,
        command: str = "notifier",
        secret: str | None = None,
    ) -> None:
        """``command``: the command line proposals show (``notifier accept ID``);
        ``secret``: ``NOTIFIER_SECRET``, the key of the signed ack links (None: the
        links are refused)."""
        self._secret = secret or None
        self._config = config
        self._state_dir = state_dir
        self._token = token or None
        self._clock = clock
        self._command = command
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("notifier.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._static = {
            name: resources.files("notifier.web").joinpath("static", name).read_bytes()
            for name in _STATIC
        }
        self._lock = threading.Lock()
        self._ics: tuple[object, bytes] | None = None  # (what it was made of, the body)
        self._first_served: dict[str, datetime] = {}  # ETag → when first served
        self._activity_cache: (
            tuple[tuple[datetime, ...], datetime, Mapping[str, Sequence[tuple[int, int]]]] | None
        ) = None

    # ------------------------------------------------------------------ the request

    def handle(self, method: str, target: str, headers: Mapping[str, str]) -> Response:
        """Answer one request. Never raises: a failure is a 500 page (and a log line)."""
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            response = self._handle(method.upper(), target, lower)
        except Exception:  # one page's failure is one 500; the daemon goes on
            log.exception("web_error", path=target[:200])
            response = self._plain(500, "internal error: see the daemon's log\n")
        merged = {**response.headers, **SECURITY_HEADERS}
        merged.setdefault("Cache-Control", "no-store")
        merged["Content-Length"] = str(len(response.body))
        body = b"" if method.upper() == "HEAD" else response.body
        return Response(response.status, merged, body)

    def _handle(self, method: str, target: str, headers: Mapping[str, str]) -> Response:
        if len(target) <= TARGET_MAX:
            acked = self._acks(method, target, headers)
            if acked is not None:
                return acked
        if method not in ("GET", "HEAD"):
            return Response(
                405,
                {"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8"},
                b"method not allowed: this page is read-only\n",
            )
        if len(target) > TARGET_MAX:
            return self._plain(414, "request target too long\n")
        parts = urlsplit(target)
        try:
            pairs = parse_qsl(parts.query, keep_blank_values=True, max_num_fields=FIELDS_MAX)
        except ValueError:
            return self._plain(400, "too many query fields\n")
        query = {k[:VALUE_MAX]: v[:VALUE_MAX] for k, v in pairs}
        given = query.pop("token", None)
        if self._token is not None and not self._authorised(given, headers):
            return Response(
                401,
                {"WWW-Authenticate": 'Bearer realm="notifier"', "Content-Type": _HTML},
                b"<!doctype html><title>401</title><p>A token is needed: "
                b"<code>Authorization: Bearer TOKEN</code> or <code>?token=TOKEN</code>.</p>\n",
            )
        keep = given if self._token is not None and given is not None else None
        request = _Request(method, parts.path or "/", query, headers, keep)
        return self._route(request)

    def _authorised(self, given: str | None, headers: Mapping[str, str]) -> bool:
        assert self._token is not None  # noqa: S101 - the caller checked
        expected = self._token.encode()
        scheme, _, value = headers.get("authorization", "").partition(" ")
        ok = False
        if scheme.lower() == "bearer":
            ok |= hmac.compare_digest(value.strip().encode(), expected)
        if given is not None:
            ok |= hmac.compare_digest(given.encode(), expected)
        return ok

    def _route(self, request: _Request) -> Response:
        path = request.path.rstrip("/") or "/"
        pages: dict[str, Callable[[_Request], Response]] = {
            "/": self._overview,
            "/deadlines": self._deadlines,
            "/stories": self._stories,
            "/feeds": self._feeds,
            "/proposals": self._proposals,
            "/calendar.ics": self._calendar,
            "/feed.atom": self._atom,
            "/api/overview": self._overview,
            "/api/deadlines": self._deadlines,
            "/api/stories": self._stories,
            "/api/feeds": self._feeds,
            "/api/proposals": self._proposals,
        }
        try:
            if path in pages:
                return pages[path](request)
            if path == "/favicon.ico":  # browsers ask for it whatever the page says
                path = "/static/favicon.svg"
            if path.startswith("/static/") and path[len("/static/") :] in self._static:
                name = path[len("/static/") :]
                return Response(200, {"Content-Type": _STATIC[name]}, self._static[name])
            story = _STORY.fullmatch(path)
            if story is not None:
                return self._story(request, int(story.group(2)))
            return self._not_found(request)
        except BadRequest as e:
            return self._problem(request, 400, "Bad request", str(e))
        except StateError as e:
            log.warning("web_state_error", error=str(e))
            return self._problem(request, 503, "The state cannot be read", str(e))

    # ------------------------------------------------------------------ acknowledgement

    def _acks(self, method: str, target: str, headers: Mapping[str, str]) -> Response | None:
        """The two routes that change state (see :mod:`notifier.ack`), or None.

        ``GET /ack/<id>?exp=&sig=``, the signed link of a message: its signature is
        its authority (no token: it is opened from a mail or a chat). A GET that
        changes state is acceptable here because it is signed, single-purpose (it can
        acknowledge that one alert, nothing else) and idempotent (a second visit, or
        a link preview, records nothing new); a HEAD checks it and records nothing.
        ``POST /api/ack/<id>`` needs ``web.token`` set and sent as a Bearer header."""
        parts = urlsplit(target)
        link = _ACK_LINK.fullmatch(parts.path)
        api = _ACK_API.fullmatch(parts.path.rstrip("/"))
        if link is not None and method in ("GET", "HEAD"):
            query = dict(parse_qsl(parts.query, max_num_fields=FIELDS_MAX))
            ack_id = link.group(1)
            now = self._clock()
            reason = (
                verify(ack_id, query.get("exp"), query.get("sig"), self._secret, now)
                if self._secret is not None
                else "no secret"
            )
            if reason is not None:
                log.warning("ack link refused", ack_id=ack_id, reason=reason)
                return self._plain(403, "this ack link is not valid (tampered or expired)\n")
            if method == "HEAD":
                return Response(200, {"Content-Type": _HTML})
            return self._record(ack_id, "link", now, html=True)
        mute = _MUTE_API.fullmatch(parts.path.rstrip("/"))
        if mute is not None and method == "POST":
            refused = self._refuse_without_token(headers)
            if refused is not None:
                return refused
            query = dict(parse_qsl(parts.query, max_num_fields=FIELDS_MAX))
            return self._mute(mute.group(1), query)
        if api is not None and method == "POST":
            refused = self._refuse_without_token(headers)
            if refused is not None:
                return refused
            return self._record(api.group(1), "web", self._clock(), html=False)
        return None

    def _refuse_without_token(self, headers: Mapping[str, str]) -> Response | None:
        """403 when no ``web.token`` is set, 401 without it as a Bearer header; else None."""
        if self._token is None:
            return Response(
                403,
                {"Content-Type": _JSON},
                b'{"error": "changing state needs web.token to be set"}\n',
            )
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), self._token.encode()
        ):
            return Response(
                401,
                {"WWW-Authenticate": 'Bearer realm="notifier"', "Content-Type": _JSON},
                b'{"error": "a token is needed: Authorization: Bearer TOKEN"}\n',
            )
        return None

    def _mute(self, action: str, query: Mapping[str, str]) -> Response:
        """``POST /api/mute?target=watch:NAME&for=2h&reason=…`` and ``POST
        /api/unmute?target=…``: what ``notifier mute``/``unmute`` do (one short write)."""
        config, now = self._config(), self._clock()

        def error(status: int, message: str) -> Response:
            body = json.dumps({"error": message}, ensure_ascii=False).encode()
            return Response(status, {"Content-Type": _JSON}, body + b"\n")

        text = (query.get("target") or "")[:200]
        try:
            with Store.open(self._state_dir) as store:
                active = store.mutes.active(now)
                target = mute_target(text, config, [(m.kind, m.name) for m in active])
                if isinstance(target, str):
                    return error(400, target)
                kind, name = target
                if action == "unmute":
                    with store.transaction():
                        store.mutes.end(kind, name, now)  # type: ignore[arg-type]
                    log.info("unmuted from the web UI", target=f"{kind}:{name}")
                    return _json({"unmuted": f"{kind}:{name}"}, config)
                try:
                    length = parse_duration(query.get("for") or "1h")
                except ValueError as e:
                    return error(400, f"for: {e}")
                if not timedelta(0) < length <= MUTE_MAX:
                    return error(400, "for: between a second and 30 days")
                reason = " ".join((query.get("reason") or "").split())[:200] or None
                with store.transaction():
                    muted = store.mutes.mute(
                        kind,  # type: ignore[arg-type]
                        name,
                        now + length,
                        now,
                        reason=reason,
                        who="web",
                    )
        except StateError as e:
            log.warning("web_state_error", error=str(e))
            return error(503, "the state cannot be written")
        log.info("muted from the web UI", target=muted.target, until=muted.until.isoformat())
        return _json({"muted": muted.target, "until": muted.until, "reason": reason}, config)

    def _record(self, ack_id: str, how: AckHow, now: datetime, *, html: bool) -> Response:
        """Acknowledge ``ack_id`` (a short write to the state, beside the daemon's)."""
        try:
            with Store.open(self._state_dir) as store:
                result = acknowledge(store, now, who=how, how=how, ack_id=ack_id)
        except StateError as e:
            log.warning("web_state_error", error=str(e))
            return self._plain(503, "the state cannot be written\n")
        if result.error is not None:
            if html:
                return self._plain(404, "no alert with this ack id\n")
            body = json.dumps({"error": result.error, "candidates": result.candidates})
            return Response(404, {"Content-Type": _JSON}, body.encode() + b"\n")
        done = result.acked + result.already
        log.info("acknowledged", ack_id=ack_id, how=how, new=bool(result.acked))
        if not html:
            rows = [
                {"id": a.ack_id, "key": a.alert_key, "title": a.title, "new": a in result.acked}
                for a in done
            ]
            return Response(200, {"Content-Type": _JSON}, json.dumps({"acked": rows}).encode())
        items = "".join(f"<li>{escape(a.title)}</li>" for a in done)
        page = (
            "<!doctype html><meta charset=utf-8><title>Acknowledged</title>"
            f"<h1>Acknowledged</h1><p>Alert <code>{escape(ack_id)}</code> is acknowledged."
            f"</p><ul>{items}</ul>\n"
        )
        return Response(200, {"Content-Type": _HTML}, page.encode("utf-8"))

    # ------------------------------------------------------------------ the pages

    def _now_config(self) -> tuple[datetime, Config]:
        return self._clock(), self._config()

    def _store(self) -> Store:
        return Store.open(self._state_dir, read_only=True)

    def _overview(self, request: _Request) -> Response:
        now, config = self._now_config()
        with self._store() as store:
            data = views.overview(config, store, now)
        if _api(request):
            return _json(data, config)
        return self._page(request, "overview.html", "Overview", config, now, **data)

    def _deadlines(self, request: _Request) -> Response:
        now, config = self._now_config()
        with self._store() as store:
            rows = views.deadline_plans(config, store, now)
        if _api(request):
            return _json({"deadlines": rows}, config)
        return self._page(request, "deadlines.html", "Deadlines", config, now, deadlines=rows)

    def _stories(self, request: _Request) -> Response:
        now, config = self._now_config()
        query = story_query(request.query)
        try:
            with self._store() as store:
                found = [views.story_row(s) for s in views.stories(store, query, now)]
            error = None
        except InvalidSearch as e:
            found, error = [], str(e)
        if _api(request):
            if error is not None:
                return _json({"error": error}, config, status=400)
            return _json({"stories": found, "limit": query.limit}, config)
        return self._page(
            request,
            "stories.html",
            "Stories",
            config,
            now,
            status=400 if error else 200,
            stories=found,
            query=query,
            since_text=request.query.get("since") or "7d",
            error=error,
            watches=[w.name for w in config.watches],
            feeds=[f.name for f in config.feeds],
        )

    def _story(self, request: _Request, story_id: int) -> Response:
        now, config = self._now_config()
        with self._store() as store:
            story = store.history.story(story_id)
            proposals = store.proposals.proposals(None) if story is not None else []
        if story is None:
            return self._not_found(request)
        data = views.story_detail(story, proposals, self._command)
        if _api(request):
            return _json(data, config)
        return self._page(request, "story.html", data["title"], config, now, story=data)

    def _feeds(self, request: _Request) -> Response:
        """Every feed in the API; on the page, :data:`FEEDS_PAGE` at a time, failing ones
        first (a 1,000-row table took 60 ms to render and weighed 900 KB on a phone)."""
        now, config = self._now_config()
        with self._store() as store:
            rows = views.feed_rows(config, store, now, activity=self._activity(store, now))
        if _api(request):
            return _json({"feeds": rows}, config)
        page = _page_number(request.query.get("page"))
        ordered = sorted(rows, key=lambda row: not row["failing"])  # stable: config order
        pages = max(1, -(-len(ordered) // FEEDS_PAGE))
        page = min(page, pages)
        shown = ordered[(page - 1) * FEEDS_PAGE : page * FEEDS_PAGE]
        return self._page(
            request,
            "feeds.html",
            "Feeds",
            config,
            now,
            feeds=shown,
            total=len(rows),
            failing=sum(1 for row in rows if row["failing"]),
            page=page,
            pages=pages,
            first=(page - 1) * FEEDS_PAGE + 1,
        )

    def _proposals(self, request: _Request) -> Response:
        now, config = self._now_config()
        with self._store() as store:
            rows = [views.proposal_row(p, self._command) for p in store.proposals.proposals()]
        if _api(request):
            return _json({"proposals": rows}, config)
        return self._page(request, "proposals.html", "Proposals", config, now, proposals=rows)

    def _activity(self, store: Store, now: datetime) -> views.Activity:
        """The feeds' counts a day, kept :data:`ACTIVITY_TTL`: the only query of the feeds
        page that grows with the week's entries (30 ms with 11,000), and a sparkline a
        minute late says the same."""

        def read(bounds: Sequence[datetime]) -> Mapping[str, Sequence[tuple[int, int]]]:
            key = tuple(bounds)
            with self._lock:
                cached = self._activity_cache
            if cached is not None and cached[0] == key and now - cached[1] < ACTIVITY_TTL:
                return cached[2]
            counts = store.history.feed_activity(bounds)
            with self._lock:
                self._activity_cache = (key, now, counts)
            return counts

        return read

    # ------------------------------------------------------------------ subscriptions

    def _calendar(self, request: _Request) -> Response:
        """``notifier ics``'s calendar, stamped with the start of the day (UTC): the body,
        so the ETag, changes when the deadlines do (or once a day), not every request."""
        now, config = self._now_config()
        day = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
        made_of = (config.deadlines, day)
        with self._lock:
            cached = self._ics
        if cached is not None and cached[0] == made_of:
            body = cached[1]
        else:
            body = to_ics(config.deadlines, now=day).encode("utf-8")
            with self._lock:
                self._ics = (made_of, body)
        return self._subscription(request, body, "text/calendar; charset=utf-8", now)

    def _atom(self, request: _Request) -> Response:
        now, config = self._now_config()
        watch = request.query.get("watch") or None
        with self._store() as store:
            latest = store.history.stories(
                since=now - config.history.keep, watch=watch, limit=ATOM_ENTRIES
            )
        base = request.base()
        entries = [
            AtomEntry(
                id=f"tag:notifier,2025:story:{s['id']}",
                title=s["title"],
                updated=s["last_seen"],
                link=s["link"] or base + request.link(f"/stories/{s['id']}"),
                summary=_atom_summary(s),
                author=", ".join(s["feeds"]),
            )
            for s in (views.story_row(story) for story in latest)
        ]
        title = f"notifier: {watch}" if watch else "notifier: latest stories"
        body = atom_feed(
            feed_id=f"tag:notifier,2025:feed:{watch or '*'}",
            title=title,
            self_url=base + request.link("/feed.atom", watch=watch),
            alternate_url=base + request.link("/stories", watch=watch),
            updated=now,
            entries=entries,
        )
        return self._subscription(request, body, "application/atom+xml; charset=utf-8", now)

    def _subscription(self, request: _Request, body: bytes, kind: str, now: datetime) -> Response:
        """A body subscribers poll: ``ETag`` (a hash of the body), ``Last-Modified``
        (when this process first served that body), and 304 to a matching
        ``If-None-Match`` or, without one, a late enough ``If-Modified-Since``."""
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        with self._lock:
            if etag not in self._first_served and len(self._first_served) >= 64:
                self._first_served.clear()
            first = self._first_served.setdefault(etag, now.replace(microsecond=0))
        headers = {
            "Content-Type": kind,
            "ETag": etag,
            "Last-Modified": format_datetime(first.astimezone(UTC), usegmt=True),
            "Cache-Control": f"private, max-age={SUBSCRIPTION_MAX_AGE}",
        }
        if _not_modified(request.headers, etag, first):
            return Response(304, headers)
        return Response(200, headers, body)

    # ------------------------------------------------------------------ rendering

    def _page(
        self,
        request: _Request,
        template: str,
        title: str,
        config: Config,
        now: datetime,
        *,
        status: int = 200,
        **data: Any,
    ) -> Response:
        zone = config.timezone

        def at(moment: datetime | None) -> str:
            return when(moment, zone) if moment is not None else "—"

        def ago(moment: datetime | None) -> str:
            return relative(moment - now) if moment is not None else ""

        def iso(moment: datetime | date | None) -> str:
            return moment.isoformat() if moment is not None else ""

        def stamp(moment: datetime | None) -> Markup:
            """``<time>`` with the time in the config's zone, and the relative time."""
            if moment is None:
                return Markup("—")
            # An f-string of escaped parts: Markup.format cost a tenth of a 1,000-feed page.
            return Markup(  # noqa: S704 - every part is escaped
                f'<time datetime="{escape(moment.isoformat())}">{escape(when(moment, zone))}'
                f'</time> <span class="rel">({escape(relative(moment - now))})</span>'
            )

        html = self._env.get_template(template).render(
            title=title,
            nav=[(request.link(path), label, path) for path, label in _NAV],
            current=request.path.rstrip("/") or "/",
            link=request.link,
            token=request.token,
            at=at,
            ago=ago,
            iso=iso,
            time=stamp,
            spark=_spark,
            zone=zone.key,
            now=now,
            version=__version__,
            refresh=REFRESH_SECONDS if request.path in ("/", "") else None,
            **data,
        )
        return Response(status, {"Content-Type": _HTML}, html.encode("utf-8"))

    def _problem(self, request: _Request, status: int, title: str, message: str) -> Response:
        now, config = self._clock(), self._config()
        return self._page(request, "error.html", title, config, now, status=status, message=message)

    def _not_found(self, request: _Request) -> Response:
        if _api(request):
            return Response(404, {"Content-Type": _JSON}, b'{"error": "not found"}\n')
        return self._problem(request, 404, "Not found", f"Nothing here: {request.path[:200]}")

    @staticmethod
    def _plain(status: int, text: str) -> Response:
        return Response(status, {"Content-Type": "text/plain; charset=utf-8"}, text.encode())


# --------------------------------------------------------------------------- helpers


def story_query(query: Mapping[str, str]) -> views.StoryQuery:
    """The stories page's filters from its query string, bounded; raises
    :class:`BadRequest` for a ``since`` or ``limit`` it cannot read."""
    since = SINCE_DEFAULT
    if query.get("since"):
        try:
            since = parse_duration(query["since"])
        except ValueError as e:
            raise BadRequest(f"since: {e} (for example 7d, 12h, 30d)") from e
        since = min(max(since, timedelta(minutes=1)), SINCE_MAX)
    limit = LIMIT_DEFAULT
    if query.get("limit"):
        try:
            limit = int(query["limit"])
        except ValueError as e:
            raise BadRequest(f"limit: {query['limit'][:20]!r} is not a number") from e
        limit = min(max(limit, 1), LIMIT_MAX)
    return views.StoryQuery(
        search=query.get("q", "").strip() or None,
        watch=query.get("watch") or None,
        feed=query.get("feed") or None,
        since=since,
        limit=limit,
        matched_only=query.get("all", "") not in ("1", "true", "yes"),
    )


def _page_number(value: str | None) -> int:
    """``?page=`` as a page number from 1 (anything else: 1)."""
    try:
        return max(1, int(value or "1"))
    except ValueError:
        return 1


def _api(request: _Request) -> bool:
    return request.path.startswith("/api/")


def _json(data: Any, config: Config, *, status: int = 200) -> Response:
    zone = config.timezone

    def encode(value: object) -> object:
        if isinstance(value, datetime):
            return value.astimezone(zone).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"not JSON: {type(value).__name__}")

    body = json.dumps(data, default=encode, ensure_ascii=False, separators=(",", ":"))
    # Inside JSON strings only: the same value, and no markup even if a client mislabels it.
    body = body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Response(status, {"Content-Type": _JSON}, body.encode("utf-8") + b"\n")


def _spark(values: list[int], label: str) -> Markup:
    return sparkline(values, label=label)


def _atom_summary(story: Mapping[str, Any]) -> str:
    whys = "; ".join(f"{w['watch']}: {w['why']}" for w in story["watches"])
    more = f" (+{story['more_sources']} sources)" if story["more_sources"] else ""
    return f"{story['summary']}\n\n{whys}{more}".strip()


def _not_modified(headers: Mapping[str, str], etag: str, modified: datetime) -> bool:
    match = headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return etag in tags or "*" in tags
    since = headers.get("if-modified-since")
    if not since:
        return False
    try:
        stamp = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return modified.replace(microsecond=0) <= stamp
