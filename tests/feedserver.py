"""A real HTTP server on 127.0.0.1 for tests: feeds, failures, redirects, slow and huge bodies.

The server listens on a random free port and dispatches every request by its
path to a :class:`Route`. Routes are plain objects that tests keep, inspect
(counters, what was sent) and change between polls; they can be added,
replaced or changed at any time, even while the server is serving.

Async tests use :class:`FeedServer` as an async context manager::

    async with FeedServer() as server:
        doc = server.feed("/feed.xml", RSS)          # ETag + conditional GET
        ... fetch server.url("/feed.xml") ...
        doc.update(NEWER_RSS)                         # the next poll sees new content
        assert server.requests_to("/feed.xml")[-1].headers["if-none-match"] == doc.etag

Sync tests, and tests that start a subprocess (the daemon), use
:class:`ThreadedFeedServer`, the same server running its own event loop in a
background thread::

    with ThreadedFeedServer() as server:
        server.feed("/feed.xml", RSS)
        subprocess.run(["notifier", ...])            # config points at server.url("/feed.xml")

Route builders (each returns the route so the test can keep it):

==========================  =====================================================
``feed(path, body)``        bytes with ETag / Last-Modified, 304 on a conditional
                            request that matches; optional gzip (``gzip=True``)
``respond(path, status)``   a fixed response: any status, headers and body
                            (429/503 with ``Retry-After``, 404, 410, a gzip bomb…)
``redirect(path, to)``      a 301/302/303/307/308 to ``to`` (absolute or relative)
``flaky(path, n, then)``    ``status`` (500) ``n`` times, then ``then``
``slow(path, s, then)``     waits ``s`` seconds (or until the server stops), then
                            ``then``; a long ``s`` is a stall
``stream(path, total)``     ``total`` bytes generated chunk by chunk, never held in
                            memory; ``sent`` / ``finished`` tell how far it got
``directory(prefix, root)`` files under ``root`` as ``feed`` documents
==========================  =====================================================

Every request is recorded (:attr:`FeedServer.requests`, with lower-cased
headers), and :attr:`FeedServer.max_in_flight` counts concurrent requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip as gziplib
import hashlib
import mimetypes
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from aiohttp import web

from tests.loopthread import InThread

RSS_TYPE = "application/rss+xml; charset=utf-8"
R = TypeVar("R", bound="Route")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server received. ``headers`` keys are lower-case."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]

    @classmethod
    def of(cls, request: web.BaseRequest) -> RecordedRequest:
        """Record ``request`` (repeated headers are joined with ``, ``)."""
        headers: dict[str, str] = {}
        for key, value in request.headers.items():
            k = key.lower()
            headers[k] = f"{headers[k]}, {value}" if k in headers else value
        return cls(request.method, request.path, request.query_string, headers)


class Route(ABC):
    """What one path does. Subclasses implement :meth:`handle`."""

    @abstractmethod
    async def handle(self, request: web.Request, server: FeedServer) -> web.StreamResponse:
        """Answer ``request``."""


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


@dataclass(eq=False)
class Document(Route):
    """Bytes served with validators; answers 304 when a conditional request matches.

    ``use_etag`` serves a strong ETag derived from the body. ``last_modified``
    (aware) serves ``Last-Modified``; ``If-Modified-Since`` is honoured only
    when the request has no ``If-None-Match`` (RFC 9110). With ``gzip`` the
    body is gzip-compressed for clients whose ``Accept-Encoding`` allows it.
    The counters say how many 200s, 304s and gzipped 200s were served.
    """

    body: bytes
    content_type: str = RSS_TYPE
    use_etag: bool = True
    last_modified: datetime | None = None
    gzip: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    served: int = 0
    not_modified: int = 0
    gzipped: int = 0

    @property
    def etag(self) -> str | None:
        """The ETag the current body is served with (quoted), or None."""
        if not self.use_etag:
            return None
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def update(self, body: bytes | str, *, last_modified: datetime | None = None) -> None:
        """Change the content; the ETag follows the body.

        ``Last-Modified`` becomes ``last_modified`` if given; otherwise, if the
        document had one, it moves to now, and at least one second forward
        (HTTP dates have a resolution of one second).
        """
        self.body = _as_bytes(body)
        if last_modified is not None:
            self.last_modified = last_modified
        elif self.last_modified is not None:
            now = datetime.now(UTC).replace(microsecond=0)
            self.last_modified = max(now, self.last_modified + timedelta(seconds=1))

    def matches(self, request: web.BaseRequest) -> bool:
        """True if ``request`` is conditional and the client's copy is current."""
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None:
            tag = self.etag
            if tag is None:
                return False
            if if_none_match.strip() == "*":
                return True
            return _opaque(tag) in {_opaque(t) for t in if_none_match.split(",")}
        if_modified_since = request.headers.get("If-Modified-Since")
        if if_modified_since and self.last_modified is not None:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return self.last_modified.replace(microsecond=0) <= since
        return False

    async def handle(self, request: web.Request, server: FeedServer) -> web.StreamResponse:
        """Serve the body, or 304 if the client's copy is current."""
        headers = dict(self.headers)
        if self.etag is not None:
            headers["ETag"] = self.etag
        if self.last_modified is not None:
            headers["Last-Modified"] = _http_date(self.last_modified)
        if self.matches(request):
            self.not_modified += 1
            return web.Response(status=304, headers=headers)
        body = self.body
        if self.gzip:
            headers["Vary"] = "Accept-Encoding"
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                body = gziplib.compress(body)
                headers["Content-Encoding"] = "gzip"
                self.gzipped += 1
        self.served += 1
        headers["Content-Type"] = self.content_type
        return web.Response(body=body, headers=headers)


@dataclass(eq=False)
class Respond(Route):
    """A fixed response: ``status``, ``headers`` and ``body``, as given (nothing added)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    async def handle(self, request: web.Request, server: FeedServer) -> web.StreamResponse:
        """Send the fixed response."""
        self.hits += 1
        body = None if self.status in (204, 304) else self.body
        return web.Response(status=self.status, body=body, headers=self.headers)


@dataclass(eq=False)
class Redirect(Route):
    """A redirect to ``location`` (sent verbatim, so it may be relative)."""

    location: str
    status: int = 302
    hits: int = 0

    async def handle(self, request: web.Request, server: FeedServer) -> web.StreamResponse:
        """Send the redirect."""
        self.hits += 1
        return web.Response(status=self.status, headers={"Location": self.location})


@dataclass(eq=False)
class Flaky(Route):
    """Answers ``status`` (500 by default) ``remaining`` times, then delegates to ``then``."""

    remaining: int
    then: Route
    status: int = 500
    failed: int = 0

    async def handle(self, request: web.Request, server: FeedServer) -> web.StreamResponse:
        """Fail while failures remain, then answer like ``then``."""
        if self.remaining > 0:
            self.remaining -= 1
            self.failed += 1
            return web.Response(status=self.status, text="failing on purpose")
        return await self.then.handle(request, server)


@dataclass(eq=False)
class Slow(Route):
    """Waits ``seconds`` before answering like ``then``; the server's shutdown cuts it short."""

    seconds: float
    then: Route

    async def handle(self, request: web.Request, server: FeedServer) -> web.StreamResponse:
        """Wait, then answer like ``then``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.closing.wait(), self.seconds)
        return await self.then.handle(request, server)


@dataclass(eq=False)
class Stream(Route):
    """Sends ``total`` bytes in ``chunk_size`` pieces, generated on the fly.

    Without ``declare_length`` the response is chunked (no Content-Length).
    ``sent`` counts bytes handed to the socket during the latest request;
    ``finished`` is True if it sent them all, ``done`` once its handler ended
    (finished, or the client went away).
    """

    total: int
    chunk_size: int = 64 * 1024
    declare_length: bool = False
    content_type: str = RSS_TYPE
    sent: int = 0
    finished: bool = False
    done: bool = False

    async def handle(self, request: web.Request, server: FeedServer) -> web.StreamResponse:
        """Stream the bytes until all are sent or the client disconnects."""
        self.sent, self.finished, self.done = 0, False, False
        response = web.StreamResponse(headers={"Content-Type": self.content_type})
        if self.declare_length:
            response.content_length = self.total
        chunk = b"x" * self.chunk_size
        try:
            await response.prepare(request)
            while self.sent < self.total:
                size = min(self.chunk_size, self.total - self.sent)
                await response.write(chunk if size == self.chunk_size else chunk[:size])
                self.sent += size
            await response.write_eof()
            self.finished = True
        except ConnectionError:
            pass  # the client hung up: that is what the tests want to see
        finally:
            self.done = True
        return response


@dataclass(eq=False)
class Directory(Route):
    """Files under ``root`` served as :class:`Document` s (ETag from content, mtime as
    Last-Modified). Registered for a path prefix; ``..`` cannot escape ``root``."""

    root: Path
    prefix: str

    async def handle(self, request: web.Request, server: FeedServer) -> web.StreamResponse:
        """Serve the file the path names, or 404."""
        relative = request.path[len(self.prefix) :].lstrip("/")
        root = self.root.resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return web.Response(status=404, text="no such file")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix in (".xml", ".rss", ".atom"):
            content_type = "application/xml"
        mtime = datetime.fromtimestamp(target.stat().st_mtime, UTC).replace(microsecond=0)
        document = Document(target.read_bytes(), content_type, last_modified=mtime)
        return await document.handle(request, server)


class FeedServer:
    """The server; an async context manager (see the module docstring).

    ``requests`` lists every request received, ``in_flight`` and
    ``max_in_flight`` count concurrent ones (reset with :meth:`reset`).
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.prefixes: dict[str, Route] = {}
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1, on a free port (:attr:`port`)."""
        if self._runner is not None:
            raise RuntimeError("the server is already running")
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening; slow routes stop waiting. Safe to call twice."""
        if self._closing is not None:
            self._closing.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def closing(self) -> asyncio.Event:
        """Set when the server stops (slow routes wait on it)."""
        if self._closing is None:
            raise RuntimeError("the server is not running")
        return self._closing

    # ------------------------------------------------------------------ addresses and records

    def url(self, path: str = "/") -> str:
        """The absolute URL of ``path`` (which starts with ``/``) on this server."""
        if not self.port:
            raise RuntimeError("the server is not running")
        return f"http://127.0.0.1:{self.port}{path}"

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The recorded requests for ``path`` (without query), oldest first."""
        return [r for r in self.requests if r.path == path]

    def reset(self) -> None:
        """Forget recorded requests and the concurrency high-water mark."""
        self.requests.clear()
        self.max_in_flight = self.in_flight

    # ------------------------------------------------------------------ routes

    def route(self, path: str, route: R) -> R:
        """Serve ``path`` with ``route`` (replacing any previous one) and return it."""
        self.routes[path] = route
        return route

    def feed(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = RSS_TYPE,
        etag: bool = True,
        last_modified: datetime | None = None,
        gzip: bool = False,
    ) -> Document:
        """Serve ``body`` with validators and conditional GET (see :class:`Document`)."""
        document = Document(
            _as_bytes(body), content_type, use_etag=etag, last_modified=last_modified, gzip=gzip
        )
        return self.route(path, document)

    def respond(
        self,
        path: str,
        status: int = 200,
        *,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
    ) -> Respond:
        """Always answer with this status, body and headers."""
        return self.route(path, Respond(status, _as_bytes(body), dict(headers or {})))

    def redirect(self, path: str, to: str, status: int = 302) -> Redirect:
        """Redirect ``path`` to ``to`` (an absolute URL, an absolute or relative path)."""
        return self.route(path, Redirect(to, status))

    def flaky(
        self, path: str, failures: int, then: bytes | str | Route, *, status: int = 500
    ) -> Flaky:
        """Answer ``status`` ``failures`` times, then ``then`` (bytes become a feed)."""
        return self.route(path, Flaky(failures, self._as_route(then), status))

    def slow(self, path: str, seconds: float, then: bytes | str | Route = b"<rss/>") -> Slow:
        """Wait ``seconds`` (or until the server stops) before answering ``then``."""
        return self.route(path, Slow(seconds, self._as_route(then)))

    def stream(
        self, path: str, total: int, *, chunk_size: int = 64 * 1024, declare_length: bool = False
    ) -> Stream:
        """Stream ``total`` generated bytes (see :class:`Stream`)."""
        return self.route(path, Stream(total, chunk_size, declare_length))

    def directory(self, prefix: str, root: Path) -> Directory:
        """Serve the files under ``root`` at ``prefix`` + their relative path."""
        prefix = "/" + prefix.strip("/")
        directory = Directory(root, prefix)
        self.prefixes[prefix] = directory
        return directory

    @staticmethod
    def _as_route(then: bytes | str | Route) -> Route:
        return then if isinstance(then, Route) else Document(_as_bytes(then))

    def _find(self, path: str) -> Route | None:
        route = self.routes.get(path)
        if route is not None:
            return route
        for prefix in sorted(self.prefixes, key=len, reverse=True):
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return self.prefixes[prefix]
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(RecordedRequest.of(request))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            route = self._find(request.path)
            if route is None:
                return web.Response(status=404, text=f"no route for {request.path}")
            return await route.handle(request, self)
        finally:
            self.in_flight -= 1


class ThreadedFeedServer(InThread, FeedServer):
    """A :class:`FeedServer` running in a background thread with its own event loop.

    For sync tests and tests of subprocesses: ``with ThreadedFeedServer() as s:``.
    Route builders and records work the same; handlers run in the server's thread.
    """

    _thread_name = "feedserver"
