"""Fetch one feed over HTTP: conditional GET, size cap, manual redirects, explicit timeouts.

:class:`HttpFetcher` (the real :class:`Fetcher`) owns one aiohttp session and
turns every failure into a :class:`~notifier.errors.FetchError`, translated at
this boundary with ``raise ... from e``. It only fetches: retry policy,
backoff and what to do with a permanent redirect are the caller's decisions.

Failures, by ``kind`` (``retryable`` is advisory: the poller backs off and
keeps polling either way; it says whether the same request can succeed later
without anyone changing the config or the server)::

    kind                 retryable  when
    bad_url              no         not http(s), no host, unparsable; also a redirect to one
    connection           yes        refused, DNS, TLS, reset, truncated or badly encoded body
    timeout              yes        no connection within connect_timeout, or the fetch
                                    (redirects and body included) took longer than timeout
    http_status          5xx, 408,  4xx/5xx (``status`` set; ``retry_after`` for 429/503);
                         425, 429   other 4xx (401, 403, 404, 410...) are not retryable: the
                                    request itself is refused; also a 3xx that cannot be
                                    followed (no Location, 300)
    too_large            no         the decompressed body is larger than max_bytes: the
                                    same request fetches the same body until the limit grows
    redirect_loop        no         a redirect leads back to a URL already visited
    too_many_redirects   no         more than max_redirects redirects

Concurrency: at most ``concurrency`` fetches run at once (an
``asyncio.Semaphore``) and at most ``per_host`` of them for one host name (a
semaphore per host, taken *before* the global one so that a queue for one busy
host does not hold global slots). The timeout clock starts once both slots are
held, so queueing never counts as slowness. The connector's ``limit`` and
``limit_per_host`` carry the same numbers as a connection-level backstop
(a redirect to another host is counted under the feed's own host).

Messages name the host and path only (:func:`safe_url`): never the userinfo
(password) or the query string. Credentials in a URL are sent as HTTP Basic
auth to that URL's origin only, so they never reach aiohttp inside a URL.
Cookies are not kept (each poll stands alone; conditional GET is the only memory).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import http
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from notifier import __version__
from notifier.clock import Clock, utcnow
from notifier.errors import FetchError
from notifier.model import FetchPolicy

USER_AGENT = f"notifier/{__version__} (+https://github.com/notifier/notifier; feed alerting daemon)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
ACCEPT_ENCODING = "gzip, deflate"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_RETRYABLE_4XX = frozenset({408, 425, 429})
_HONOURS_RETRY_AFTER = frozenset({429, 503})
_CHUNK = 64 * 1024
#: Parsed feed URLs kept between polls (cleared when full).
_KEPT_TARGETS = 10_000

#: The longest wait :func:`parse_retry_after` reports; a longer ``Retry-After`` is
#: read as this. Far below what ``timedelta`` and ``datetime`` arithmetic can
#: hold; the poller then honours at most the feed's ``max_backoff``.
RETRY_AFTER_LIMIT = timedelta(days=365)
_LIMIT_SECONDS = RETRY_AFTER_LIMIT.total_seconds()


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """What to fetch, with the validators remembered from the last 200.

    ``accept`` replaces the fetcher's ``Accept`` header (:data:`ACCEPT`, the
    XML feed types) for this request: each source type asks for its own."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    accept: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful fetch.

    ``status`` is a 2xx (almost always 200; ``body`` set) or 304 (not modified;
    ``body`` None, and ``etag`` / ``last_modified`` fall back to the request's
    when the 304 omits them). ``url`` is the final URL after redirects;
    ``permanent_redirect`` is that URL when every redirect of the chain was a
    301 or 308 (the caller logs it and may update the feed), else None.
    ``elapsed`` is the seconds the fetch took, not counting queueing for a slot.
    """

    status: int
    body: bytes | None
    headers: dict[str, str]
    url: str
    etag: str | None
    last_modified: str | None
    permanent_redirect: str | None
    elapsed: float


class Fetcher(Protocol):
    """Fetches one feed.

    ``fetch`` returns a :class:`Fetched` (2xx with a body, or 304 without one)
    and raises :class:`~notifier.errors.FetchError` for every failure — HTTP
    errors, timeouts, oversized bodies, bad redirects, bad URLs — and nothing
    else. It never retries: that is the caller's policy.
    """

    async def fetch(self, request: FetchRequest) -> Fetched:
        """Fetch ``request.url`` (conditionally, if validators are given)."""
        ...


def safe_url(url: str | URL) -> str:
    """Describe ``url`` for messages: host[:port] and path, no userinfo, query or fragment.

    ``https://user:pw@example.com/feed.xml?token=x`` → ``example.com/feed.xml``.
    """
    try:
        parsed = url if isinstance(url, URL) else URL(url)
    except (TypeError, ValueError):
        return "<invalid URL>"
    if not parsed.host:
        return parsed.raw_path or "<invalid URL>"
    return f"{parsed.host_port_subcomponent}{parsed.raw_path}"


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait according to a ``Retry-After`` value, or None if unparsable.

    The value is delta-seconds (``120``) or an HTTP-date, which is measured
    from ``now`` (aware; a naive one is taken as UTC); a date in the past
    gives 0. The result is always in ``[0, RETRY_AFTER_LIMIT]``: a huge
    delta (``99999999999999999999``, any number of digits) or a date
    centuries ahead is read as :data:`RETRY_AFTER_LIMIT`, so no caller's
    ``timedelta`` or ``now + wait`` can overflow. Negative or fractional
    numbers and unknown forms are None (the caller's own backoff applies).
    """
    text = value.strip()
    if text.isascii() and text.isdigit():
        digits = text.lstrip("0")
        if len(digits) > len(str(int(_LIMIT_SECONDS))):  # never int() a 10,000-digit string
            return _LIMIT_SECONDS
        return min(float(int(digits or "0")), _LIMIT_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        wait = (when - now).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(0.0, wait), _LIMIT_SECONDS)


def _seconds(value: float) -> str:
    return f"{int(value)} s" if float(value).is_integer() else f"{value:g} s"


def _lower(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in headers.items():
        k = key.lower()
        out[k] = f"{out[k]}, {value}" if k in out else value
    return out


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    return (url.scheme, url.host, url.port)


def _without_credentials(url: URL) -> URL:
    return url.with_user(None).with_fragment(None)


def _authorization(url: URL, first: URL) -> str | None:
    """Basic auth from the credentials of ``url``, or of the feed URL on the feed's origin."""
    source = url if url.user is not None else first
    if source.user is None or _origin(url) != _origin(source):
        return None
    credentials = f"{source.user}:{source.password or ''}".encode()
    return "Basic " + base64.b64encode(credentials).decode("ascii")


def _check_url(url: URL) -> str:
    """Return the host of a fetchable URL, or raise ``bad_url``."""
    if url.scheme not in ("http", "https"):
        raise FetchError(
            f"{safe_url(url)}: only http and https URLs can be fetched",
            kind="bad_url",
            retryable=False,
        )
    if not url.host:
        raise FetchError(f"{safe_url(url)}: the URL has no host", kind="bad_url", retryable=False)
    return url.host


def _describe(error: aiohttp.ClientError) -> str:
    """Say what went wrong in words that cannot contain the URL."""
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return "TLS certificate rejected"
    if isinstance(error, aiohttp.ClientSSLError):
        return "TLS handshake failed"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return "DNS lookup failed"
    if isinstance(error, aiohttp.ClientConnectorError):
        if isinstance(error.os_error, ConnectionRefusedError):
            return "connection refused"
        return f"cannot connect ({error.os_error.strerror or type(error.os_error).__name__})"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(error, aiohttp.ClientPayloadError):
        return "the response body is broken (truncated or badly encoded)"
    if isinstance(error, aiohttp.ClientResponseError):
        return f"malformed response ({error.message})"
    if isinstance(error, aiohttp.ClientOSError):
        return f"connection error ({type(error).__name__})"
    return type(error).__name__


class HttpFetcher:
    """The real :class:`Fetcher`: one aiohttp session, opened with ``async with``.

    The session is created in ``__aenter__``, inside the running loop, and
    closed by ``__aexit__`` / :meth:`close`. ``clock`` gives "now" for a
    ``Retry-After`` date when the response has no ``Date`` header.
    """

    def __init__(
        self,
        options: FetchPolicy,
        *,
        user_agent: str | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._options = options
        self._user_agent = user_agent or USER_AGENT
        self._clock = clock
        self._timeout = options.timeout.total_seconds()
        self._connect_timeout = options.connect_timeout.total_seconds()
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._targets: dict[str, tuple[URL, URL, str]] = {}  # see _target

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("HttpFetcher is already open")
        connector = aiohttp.TCPConnector(
            limit=self._options.concurrency, limit_per_host=self._options.per_host
        )
        # ``connect`` (which includes waiting for a pooled connection) is left
        # unset on purpose: ``sock_connect`` bounds the real TCP + TLS connect.
        # The whole fetch (redirects and body included) is bounded by ``fetch``'s
        # asyncio.timeout; per-request total/sock_read timers would only repeat it.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers={
                "User-Agent": self._user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=True,
        )
        self._slots = asyncio.Semaphore(self._options.concurrency)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session and its connections. Safe to call twice."""
        session, self._session = self._session, None
        self._slots = None
        self._host_slots.clear()
        if session is not None:
            await session.close()

    async def fetch(self, request: FetchRequest) -> Fetched:
        """Fetch one feed; see :class:`Fetcher` and the module docstring for errors."""
        session, slots = self._session, self._slots
        if session is None or slots is None:
            raise RuntimeError("HttpFetcher is not open: use 'async with HttpFetcher(...)'")
        target = self._targets.get(request.url)
        if target is None:
            target = self._target(request.url)
        url, plain, host = target
        if self._options.per_host >= self._options.concurrency:
            # The global slots alone keep a host within per_host: skip its semaphore.
            async with slots:
                return await self._timed(session, request, url, plain)
        async with self._host_slot(host), slots:
            return await self._timed(session, request, url, plain)

    def _target(self, raw: str) -> tuple[URL, URL, str]:
        """A feed URL parsed, without its credentials, and its host (lower case);
        kept for the next poll."""
        try:
            url = URL(raw)
        except (TypeError, ValueError) as e:
            raise FetchError("<invalid URL>: not a URL", kind="bad_url", retryable=False) from e
        host = _check_url(url).lower()
        target = (url, _without_credentials(url), host)
        if len(self._targets) >= _KEPT_TARGETS:  # feeds come and go with config reloads
            self._targets.clear()
        self._targets[raw] = target
        return target

    async def _timed(
        self, session: aiohttp.ClientSession, request: FetchRequest, url: URL, plain: URL
    ) -> Fetched:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._timeout):
                return await self._follow(session, request, url, plain, started)
        except TimeoutError as e:
            raise FetchError(
                f"{safe_url(url)}: no complete response within {_seconds(self._timeout)}",
                kind="timeout",
            ) from e

    def _host_slot(self, host: str) -> asyncio.Semaphore:
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self._options.per_host)
        return slot

    async def _follow(
        self,
        session: aiohttp.ClientSession,
        request: FetchRequest,
        first: URL,
        plain: URL,
        started: float,
    ) -> Fetched:
        headers: dict[str, str] = {}
        if request.accept:
            headers["Accept"] = request.accept
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        url = first  # ``plain`` is what is requested: credentials go in a header
        visited = {str(plain)}
        hops = 0
        all_permanent = True
        while True:
            try:
                hop_headers = headers
                if url.user is not None or first.user is not None:
                    authorization = _authorization(url, first)
                    if authorization is not None:
                        hop_headers = {**headers, "Authorization": authorization}
                async with session.get(
                    plain, headers=hop_headers, allow_redirects=False
                ) as response:
                    status = response.status
                    if status in _REDIRECTS and "Location" in response.headers:
                        target = self._redirect_target(url, response.headers["Location"], first)
                        plain = _without_credentials(target)
                        key = str(plain)
                        if key in visited:
                            raise FetchError(
                                f"{safe_url(url)}: redirect loop back to {safe_url(target)}",
                                kind="redirect_loop",
                                status=status,
                                retryable=False,
                            )
                        if hops >= self._options.max_redirects:
                            raise FetchError(
                                f"{safe_url(first)}: more than "
                                f"{self._options.max_redirects} redirects",
                                kind="too_many_redirects",
                                status=status,
                                retryable=False,
                            )
                        visited.add(key)
                        hops += 1
                        all_permanent = all_permanent and status in _PERMANENT
                        url = target
                        continue
                    if status == 304:
                        return Fetched(
                            status=304,
                            body=None,
                            headers=_lower(response.headers),
                            url=request.url if hops == 0 else str(url),
                            etag=response.headers.get("ETag") or request.etag,
                            last_modified=response.headers.get("Last-Modified")
                            or request.last_modified,
                            permanent_redirect=str(url) if hops and all_permanent else None,
                            elapsed=time.monotonic() - started,
                        )
                    if not 200 <= status < 300:
                        raise self._status_error(url, response)
                    body = await self._read_body(url, response)
                    return Fetched(
                        status=status,
                        body=body,
                        headers=_lower(response.headers),
                        url=request.url if hops == 0 else str(url),
                        etag=response.headers.get("ETag"),
                        last_modified=response.headers.get("Last-Modified"),
                        permanent_redirect=str(url) if hops and all_permanent else None,
                        elapsed=time.monotonic() - started,
                    )
            except FetchError:
                raise
            except aiohttp.ConnectionTimeoutError as e:
                raise FetchError(
                    f"{safe_url(url)}: could not connect within {_seconds(self._connect_timeout)}",
                    kind="timeout",
                ) from e
            except TimeoutError:
                raise  # the whole-fetch timeout; ``fetch`` words it
            except aiohttp.InvalidURL as e:
                raise FetchError(
                    f"{safe_url(url)}: not a usable URL", kind="bad_url", retryable=False
                ) from e
            except aiohttp.ClientError as e:
                raise FetchError(f"{safe_url(url)}: {_describe(e)}", kind="connection") from e

    @staticmethod
    def _redirect_target(url: URL, location: str, first: URL) -> URL:
        try:
            target = url.join(URL(location)).with_fragment(None)
        except (TypeError, ValueError) as e:
            raise FetchError(
                f"{safe_url(url)}: redirect to an invalid URL", kind="bad_url", retryable=False
            ) from e
        if target.scheme not in ("http", "https") or not target.host:
            raise FetchError(
                f"{safe_url(url)}: redirect to a non-http(s) URL", kind="bad_url", retryable=False
            )
        # Report the URL as the caller would request it: with the feed's
        # credentials while on the feed's origin.
        if target.user is None and first.user is not None and _origin(target) == _origin(first):
            target = target.with_user(first.user).with_password(first.password)
        return target

    def _status_error(self, url: URL, response: aiohttp.ClientResponse) -> FetchError:
        status = response.status
        try:
            phrase = " " + http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        message = f"{safe_url(url)}: HTTP {status}{phrase}"
        retry_after = None
        if status in _HONOURS_RETRY_AFTER and "Retry-After" in response.headers:
            retry_after = parse_retry_after(response.headers["Retry-After"], self._now(response))
            if retry_after is not None:
                message += f" (retry after {_seconds(retry_after)})"
        if 300 <= status < 400:
            message += " (a redirect that cannot be followed)"
        return FetchError(
            message,
            kind="http_status",
            status=status,
            retry_after=retry_after,
            retryable=status >= 500 or status in _RETRYABLE_4XX,
        )

    def _now(self, response: aiohttp.ClientResponse) -> datetime:
        """The server's idea of now (its ``Date`` header), so clock skew does not matter."""
        date = response.headers.get("Date")
        if date:
            with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
                server_now = email.utils.parsedate_to_datetime(date)
                return server_now if server_now.tzinfo else server_now.replace(tzinfo=UTC)
        return self._clock()  # no usable Date header

    async def _read_body(self, url: URL, response: aiohttp.ClientResponse) -> bytes:
        """Read the (decompressed) body, stopping as soon as it exceeds max_bytes."""
        limit = self._options.max_bytes
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        declared = response.content_length
        if declared is not None and declared > limit and encoding in ("", "identity"):
            response.close()
            raise FetchError(
                f"{safe_url(url)}: the body is {declared} bytes, more than "
                f"fetch.max_bytes ({limit} bytes)",
                kind="too_large",
                status=response.status,
                retryable=False,
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > limit:
                response.close()
                raise FetchError(
                    f"{safe_url(url)}: the body is more than fetch.max_bytes ({limit} bytes)",
                    kind="too_large",
                    status=response.status,
                    retryable=False,
                )
            chunks.append(chunk)
        return b"".join(chunks)
