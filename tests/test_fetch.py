"""HttpFetcher against a real local HTTP server (tests/feedserver.py): no mocks, real sockets."""

from __future__ import annotations

import asyncio
import base64
import gzip
import http.client
import socket
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier import __version__
from notifier.errors import FetchError
from notifier.model import Feed, FeedState, FetchPolicy
from notifier.sources.health import HealthEventKind, on_failure
from notifier.sources.http import (
    RETRY_AFTER_LIMIT,
    USER_AGENT,
    Fetched,
    Fetcher,
    FetchRequest,
    HttpFetcher,
    parse_retry_after,
    safe_url,
)
from tests.feedserver import FeedServer, ThreadedFeedServer

MiB = 1024 * 1024
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
RSS2 = RSS.replace(b"<title>t</title>", b"<title>t2</title>")
LAST_MODIFIED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def opts(
    *,
    timeout: float = 5.0,
    concurrency: int = 16,
    per_host: int = 16,
    max_bytes: int = MiB,
    max_redirects: int = 5,
) -> FetchPolicy:
    """Fetch options for tests: short timeouts, a 1 MiB cap, generous limits."""
    return FetchPolicy(
        concurrency=concurrency,
        per_host=per_host,
        timeout=timedelta(seconds=timeout),
        connect_timeout=timedelta(seconds=2),
        max_bytes=max_bytes,
        max_redirects=max_redirects,
    )


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    """A running local feed server, stopped after the test."""
    async with FeedServer() as s:
        yield s


@pytest.fixture
async def fetcher() -> AsyncIterator[HttpFetcher]:
    """An open HttpFetcher with the test options."""
    async with HttpFetcher(opts()) as f:
        yield f


async def fetch_error(fetcher: Fetcher, url: str) -> FetchError:
    """Fetch ``url`` expecting a FetchError, and return it."""
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(FetchRequest(url))
    return info.value


async def error_with(options: FetchPolicy, url: str) -> FetchError:
    """Like :func:`fetch_error`, with a fetcher opened on ``options``."""
    async with HttpFetcher(options) as f:
        return await fetch_error(f, url)


async def wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Poll ``condition`` until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --------------------------------------------------------------------------- conditional GET


async def test_etag_then_304_sends_if_none_match(server: FeedServer, fetcher: HttpFetcher) -> None:
    """A 200 carries the ETag; fetching again with it sends If-None-Match and gets a
    304 with no body, keeping the validator."""
    doc = server.feed("/feed.xml", RSS)
    url = server.url("/feed.xml")

    first = await fetcher.fetch(FetchRequest(url))
    assert (first.status, first.body, first.etag) == (200, RSS, doc.etag)
    assert "if-none-match" not in server.requests_to("/feed.xml")[0].headers

    second = await fetcher.fetch(FetchRequest(url, etag=first.etag))
    assert (second.status, second.body, second.etag) == (304, None, doc.etag)
    assert server.requests_to("/feed.xml")[1].headers["if-none-match"] == doc.etag
    assert (doc.served, doc.not_modified) == (1, 1)


async def test_changed_content_is_fetched_again(server: FeedServer, fetcher: HttpFetcher) -> None:
    """After the content changes, the old ETag no longer matches: a 200 with the new
    body and the new ETag."""
    doc = server.feed("/feed.xml", RSS)
    url = server.url("/feed.xml")
    first = await fetcher.fetch(FetchRequest(url))
    doc.update(RSS2)

    again = await fetcher.fetch(FetchRequest(url, etag=first.etag))
    assert (again.status, again.body, again.etag) == (200, RSS2, doc.etag)
    assert again.etag != first.etag


async def test_last_modified_then_304(server: FeedServer, fetcher: HttpFetcher) -> None:
    """Without an ETag, Last-Modified is remembered and sent back as If-Modified-Since."""
    server.feed("/feed.xml", RSS, etag=False, last_modified=LAST_MODIFIED)
    url = server.url("/feed.xml")

    first = await fetcher.fetch(FetchRequest(url))
    assert (first.status, first.etag) == (200, None)
    assert first.last_modified == "Wed, 01 May 2024 12:00:00 GMT"

    second = await fetcher.fetch(FetchRequest(url, last_modified=first.last_modified))
    assert (second.status, second.body) == (304, None)
    assert second.last_modified == first.last_modified
    sent = server.requests_to("/feed.xml")[1].headers
    assert sent["if-modified-since"] == first.last_modified
    assert "if-none-match" not in sent


async def test_304_keeps_the_request_validators(server: FeedServer, fetcher: HttpFetcher) -> None:
    """A bare 304 (no ETag, no Last-Modified) keeps the validators the request had."""
    server.respond("/bare", 304)
    request = FetchRequest(
        server.url("/bare"), etag='"abc"', last_modified="Wed, 01 May 2024 12:00:00 GMT"
    )
    got = await fetcher.fetch(request)
    assert (got.status, got.body) == (304, None)
    assert (got.etag, got.last_modified) == (request.etag, request.last_modified)


# --------------------------------------------------------------------------- bodies and size


async def test_gzip_body_is_decoded(server: FeedServer, fetcher: HttpFetcher) -> None:
    """The fetcher asks for gzip/deflate and returns the decompressed body."""
    doc = server.feed("/feed.xml", RSS * 50, gzip=True)
    got = await fetcher.fetch(FetchRequest(server.url("/feed.xml")))
    assert got.body == RSS * 50
    assert doc.gzipped == 1
    assert got.headers["content-encoding"] == "gzip"
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_headers_are_lower_cased(server: FeedServer, fetcher: HttpFetcher) -> None:
    """Fetched.headers has lower-case keys (what feedparser expects), and the final
    URL is the request's URL when there was no redirect."""
    server.feed("/feed.xml", RSS)
    url = server.url("/feed.xml")
    got = await fetcher.fetch(FetchRequest(url))
    assert got.headers["content-type"].startswith("application/rss+xml")
    assert all(key == key.lower() for key in got.headers)
    assert (got.url, got.permanent_redirect) == (url, None)
    assert got.elapsed >= 0


async def test_gzip_bomb_is_capped_on_decompressed_size(server: FeedServer) -> None:
    """The size cap counts decompressed bytes: 20 KiB of gzip that inflates to 20 MiB
    is too large for a 1 MiB cap."""
    bomb = gzip.compress(bytes(20 * MiB), compresslevel=9)
    assert len(bomb) < 100 * 1024
    server.respond("/bomb", 200, body=bomb, headers={"Content-Encoding": "gzip"})
    err = await error_with(opts(max_bytes=MiB), server.url("/bomb"))
    assert (err.kind, err.retryable) == ("too_large", False)


async def test_50_mb_stream_is_cut_off_while_streaming(server: FeedServer) -> None:
    """A 50 MB chunked body is abandoned as soon as it passes max_bytes: the error comes
    quickly, Python memory stays small, and the server never gets to send it all."""
    route = server.stream("/huge", 50 * 1000 * 1000)
    tracemalloc.start()
    try:
        started = time.monotonic()
        err = await error_with(opts(max_bytes=MiB), server.url("/huge"))
        took = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (err.kind, err.retryable) == ("too_large", False)
    assert took < 5
    assert peak < 8 * MiB
    await wait_until(lambda: route.done)
    assert not route.finished
    assert route.sent < 25 * 1000 * 1000


async def test_declared_length_is_rejected_before_the_body(server: FeedServer) -> None:
    """A Content-Length above max_bytes is refused before reading the body."""
    route = server.stream("/huge", 50 * 1000 * 1000, declare_length=True)
    err = await error_with(opts(max_bytes=MiB), server.url("/huge"))
    assert err.kind == "too_large"
    assert "50000000 bytes" in str(err)
    await wait_until(lambda: route.done)
    assert not route.finished


@pytest.mark.parametrize("declare_length", [True, False])
async def test_size_cap_boundary(server: FeedServer, declare_length: bool) -> None:
    """Exactly max_bytes is accepted; one byte more is too large (declared or streamed)."""
    server.stream("/exact", 4096, declare_length=declare_length, chunk_size=1000)
    server.stream("/over", 4097, declare_length=declare_length, chunk_size=1000)
    async with HttpFetcher(opts(max_bytes=4096)) as fetcher:
        got = await fetcher.fetch(FetchRequest(server.url("/exact")))
        assert got.body is not None
        assert len(got.body) == 4096
        err = await fetch_error(fetcher, server.url("/over"))
        assert err.kind == "too_large"


# --------------------------------------------------------------------------- timeouts and errors


async def test_stall_times_out(server: FeedServer) -> None:
    """A server that never answers gives kind=timeout, retryable, soon after the
    1 s timeout (well within 5 s)."""
    server.slow("/stall", 60)
    started = time.monotonic()
    err = await error_with(opts(timeout=1), server.url("/stall"))
    assert (err.kind, err.retryable, err.status) == ("timeout", True, None)
    assert time.monotonic() - started < 5
    assert "within 1 s" in str(err)


async def test_errors_each_time_then_success(server: FeedServer, fetcher: HttpFetcher) -> None:
    """Three 500s are three retryable http_status errors, then the 200 succeeds: the
    fetcher never retries by itself (the poller owns the retry policy)."""
    route = server.flaky("/flaky", 3, RSS)
    url = server.url("/flaky")
    for _ in range(3):
        err = await fetch_error(fetcher, url)
        assert (err.kind, err.status, err.retryable) == ("http_status", 500, True)
    got = await fetcher.fetch(FetchRequest(url))
    assert (got.status, got.body) == (200, RSS)
    assert route.failed == 3
    assert len(server.requests_to("/flaky")) == 4


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (401, False),
        (403, False),
        (404, False),
        (410, False),
        (408, True),
        (425, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
    ],
)
async def test_http_status_errors(
    server: FeedServer, fetcher: HttpFetcher, status: int, retryable: bool
) -> None:
    """4xx/5xx become kind=http_status with the status; only 5xx, 408, 425 and 429 are
    retryable (410 Gone and 404 will not fix themselves)."""
    server.respond("/x", status)
    err = await fetch_error(fetcher, server.url("/x"))
    assert (err.kind, err.status, err.retryable, err.retry_after) == (
        "http_status",
        status,
        retryable,
        None,
    )
    assert str(err).startswith(f"127.0.0.1:{server.port}/x: HTTP {status} ")


async def test_429_retry_after_seconds(server: FeedServer, fetcher: HttpFetcher) -> None:
    """429 with Retry-After: 120 reports retry_after=120 seconds."""
    server.respond("/busy", 429, headers={"Retry-After": "120"})
    err = await fetch_error(fetcher, server.url("/busy"))
    assert (err.status, err.retry_after, err.retryable) == (429, 120.0, True)
    assert "retry after 120 s" in str(err)


async def test_503_retry_after_date_counts_from_server_date(
    server: FeedServer, fetcher: HttpFetcher
) -> None:
    """An HTTP-date Retry-After is measured from the response's Date header, so the
    local clock (and its skew) does not matter."""
    server.respond(
        "/down",
        503,
        headers={
            "Date": "Wed, 01 Jan 2020 00:00:00 GMT",
            "Retry-After": "Wed, 01 Jan 2020 00:02:00 GMT",
        },
    )
    err = await fetch_error(fetcher, server.url("/down"))
    assert (err.status, err.retry_after) == (503, 120.0)


async def test_retry_after_date_falls_back_to_the_clock(server: FeedServer) -> None:
    """Without a usable Date header, the injected clock is "now" for a Retry-After date."""
    server.respond(
        "/down",
        503,
        headers={"Date": "not a date", "Retry-After": "Wed, 01 Jan 2020 00:01:00 GMT"},
    )

    def clock() -> datetime:
        return datetime(2020, 1, 1, tzinfo=UTC)

    async with HttpFetcher(opts(), clock=clock) as fetcher:
        err = await fetch_error(fetcher, server.url("/down"))
    assert err.retry_after == 60.0


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "99999999999999999999"},
        {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"},
        {"Date": "Mon, 01 Jan 0001 00:00:00 GMT", "Retry-After": "120"},
        {"Date": "Fri, 31 Dec 9999 23:59:59 GMT", "Retry-After": "Wed, 01 Jan 2020 00:01:00 GMT"},
        {"Retry-After": "-120"},
    ],
    ids=["20-digits", "year-9999", "server-date-year-1", "server-date-year-9999", "negative"],
)
async def test_absurd_retry_after_is_safe_end_to_end(
    server: FeedServer, fetcher: HttpFetcher, headers: dict[str, str]
) -> None:
    """A 429 whose Retry-After (or Date) is absurd is an ordinary failure: the wait is
    clamped (here to the feed's 6 h max_backoff), the failure is counted, and the third
    one in a row marks the feed unhealthy. Before, Retry-After: 99999999999999999999
    raised OverflowError on every poll, so the feed was never marked unhealthy."""
    server.respond("/busy", 429, headers=headers)
    feed = Feed(
        name="busy",
        url=server.url("/busy"),
        title=None,
        interval=timedelta(minutes=15),
        unhealthy_after=3,
        max_backoff=timedelta(hours=6),
    )
    state, now, events = FeedState(feed.name, feed.url), datetime(2025, 6, 1, tzinfo=UTC), []
    for _ in range(3):
        err = await fetch_error(fetcher, feed.url)
        assert (err.kind, err.status) == ("http_status", 429)
        assert err.retry_after is None or 0 <= err.retry_after <= LIMIT
        state, event = on_failure(state, feed, str(err), now, 0.5, retry_after=err.retry_after)
        assert state.next_poll is not None
        assert feed.interval <= state.next_poll - now <= feed.max_backoff
        events.append(event.kind if event else None)
        now = state.next_poll
    assert events == [None, None, HealthEventKind.UNHEALTHY]
    assert (state.failures, state.unhealthy) == (3, True)
    assert len(server.requests_to("/busy")) == 3


async def test_huge_retry_after_is_reported_as_the_limit(
    server: FeedServer, fetcher: HttpFetcher
) -> None:
    """The error message states the clamped wait in plain seconds, not an overflow."""
    server.respond("/busy", 503, headers={"Retry-After": "99999999999999999999"})
    err = await fetch_error(fetcher, server.url("/busy"))
    assert err.retry_after == LIMIT
    assert f"(retry after {int(LIMIT)} s)" in str(err)


async def test_retry_after_ignored_on_other_statuses(
    server: FeedServer, fetcher: HttpFetcher
) -> None:
    """Retry-After is honoured for 429 and 503 only."""
    server.respond("/err", 500, headers={"Retry-After": "120"})
    err = await fetch_error(fetcher, server.url("/err"))
    assert err.retry_after is None


async def test_connection_refused(fetcher: HttpFetcher) -> None:
    """A closed port is kind=connection, retryable."""
    err = await fetch_error(fetcher, f"http://127.0.0.1:{closed_port()}/feed.xml")
    assert (err.kind, err.retryable, err.status) == ("connection", True, None)
    assert "connection refused" in str(err)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/feed.xml",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http:///no-host",
        "not a url",
        "http://[::1",
    ],
)
async def test_bad_urls(fetcher: HttpFetcher, url: str) -> None:
    """Anything but an http(s) URL with a host is kind=bad_url, not retryable."""
    err = await fetch_error(fetcher, url)
    assert (err.kind, err.retryable) == ("bad_url", False)


# --------------------------------------------------------------------------- redirects


async def test_redirect_loop(server: FeedServer, fetcher: HttpFetcher) -> None:
    """A redirect back to a URL already visited is kind=redirect_loop, not retryable."""
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")
    err = await fetch_error(fetcher, server.url("/a"))
    assert (err.kind, err.retryable) == ("redirect_loop", False)
    assert len(server.requests) == 2


@pytest.mark.parametrize(("max_redirects", "ok"), [(3, True), (2, False), (0, False)])
async def test_too_many_redirects(server: FeedServer, max_redirects: int, ok: bool) -> None:
    """A chain of 3 redirects is followed with max_redirects=3 and refused with fewer
    (kind=too_many_redirects)."""
    server.redirect("/r0", "/r1")
    server.redirect("/r1", "/r2")
    server.redirect("/r2", "/feed.xml")
    server.feed("/feed.xml", RSS)
    async with HttpFetcher(opts(max_redirects=max_redirects)) as fetcher:
        if ok:
            got = await fetcher.fetch(FetchRequest(server.url("/r0")))
            assert got.body == RSS
        else:
            err = await fetch_error(fetcher, server.url("/r0"))
            assert (err.kind, err.retryable) == ("too_many_redirects", False)


async def test_permanent_redirect_chain(server: FeedServer, fetcher: HttpFetcher) -> None:
    """A chain of only 301/308 is followed, the body fetched, and the final URL reported
    as permanent_redirect."""
    server.redirect("/old", "/older", 301)
    server.redirect("/older", "/feed.xml", 308)
    server.feed("/feed.xml", RSS)
    got = await fetcher.fetch(FetchRequest(server.url("/old")))
    assert (got.status, got.body) == (200, RSS)
    assert got.url == got.permanent_redirect == server.url("/feed.xml")


@pytest.mark.parametrize("statuses", [(302,), (307,), (303,), (301, 302), (308, 307)])
async def test_temporary_redirects_are_not_permanent(
    server: FeedServer, fetcher: HttpFetcher, statuses: tuple[int, ...]
) -> None:
    """Any temporary hop (302/303/307) in the chain leaves permanent_redirect None; the
    final URL is still reported."""
    for i, status in enumerate(statuses):
        nxt = f"/hop{i + 1}" if i + 1 < len(statuses) else "/feed.xml"
        server.redirect(f"/hop{i}", nxt, status)
    server.feed("/feed.xml", RSS)
    got = await fetcher.fetch(FetchRequest(server.url("/hop0")))
    assert (got.body, got.permanent_redirect) == (RSS, None)
    assert got.url == server.url("/feed.xml")


@pytest.mark.parametrize(
    ("start", "location"),
    [
        ("/dir/old", "feed.xml"),
        ("/dir/sub/old", "../feed.xml"),
        ("/elsewhere", "/dir/feed.xml"),
        ("/elsewhere", "{base}/dir/feed.xml"),
        ("/elsewhere", "//127.0.0.1:{port}/dir/feed.xml"),
    ],
)
async def test_relative_locations_are_resolved(
    server: FeedServer, fetcher: HttpFetcher, start: str, location: str
) -> None:
    """Relative, absolute-path, absolute and scheme-relative Locations all resolve
    against the URL that answered."""
    base = server.url("")
    server.redirect(start, location.format(base=base, port=server.port), 301)
    server.feed("/dir/feed.xml", RSS)
    got = await fetcher.fetch(FetchRequest(server.url(start)))
    assert got.body == RSS
    assert got.permanent_redirect == server.url("/dir/feed.xml")


async def test_redirect_to_another_scheme_is_bad_url(
    server: FeedServer, fetcher: HttpFetcher
) -> None:
    """A redirect to a non-http(s) URL is not followed: kind=bad_url."""
    server.redirect("/r", "file:///etc/passwd")
    err = await fetch_error(fetcher, server.url("/r"))
    assert err.kind == "bad_url"


async def test_conditional_headers_follow_redirects(
    server: FeedServer, fetcher: HttpFetcher
) -> None:
    """The validators are sent to the redirect target, so a moved feed can still 304."""
    doc = server.feed("/feed.xml", RSS)
    server.redirect("/old", "/feed.xml", 301)
    got = await fetcher.fetch(FetchRequest(server.url("/old"), etag=doc.etag))
    assert (got.status, got.etag, got.permanent_redirect) == (
        304,
        doc.etag,
        server.url("/feed.xml"),
    )


# --------------------------------------------------------------------------- identity and secrets


async def test_user_agent_names_the_version(server: FeedServer, fetcher: HttpFetcher) -> None:
    """The default User-Agent is descriptive: name/version, project URL, purpose."""
    server.feed("/feed.xml", RSS)
    await fetcher.fetch(FetchRequest(server.url("/feed.xml")))
    agent = server.requests[0].headers["user-agent"]
    assert agent == USER_AGENT
    assert agent.startswith(f"notifier/{__version__} (+https://")


async def test_user_agent_can_be_overridden(server: FeedServer) -> None:
    """user_agent= replaces the default."""
    server.feed("/feed.xml", RSS)
    async with HttpFetcher(opts(), user_agent="probe/1.0") as fetcher:
        await fetcher.fetch(FetchRequest(server.url("/feed.xml")))
    assert server.requests[0].headers["user-agent"] == "probe/1.0"


async def test_url_credentials_become_basic_auth_on_that_origin_only(
    server: FeedServer, fetcher: HttpFetcher
) -> None:
    """user:password in the feed URL is sent as Basic auth to the feed's origin, and
    dropped when a redirect leaves it (localhost is another origin than 127.0.0.1)."""
    server.redirect("/private", f"http://localhost:{server.port}/public")
    server.feed("/public", RSS)
    url = f"http://alice:s3cr3t@127.0.0.1:{server.port}/private"
    got = await fetcher.fetch(FetchRequest(url))
    assert got.body == RSS
    expected = "Basic " + base64.b64encode(b"alice:s3cr3t").decode()
    assert server.requests_to("/private")[0].headers["authorization"] == expected
    assert "authorization" not in server.requests_to("/public")[0].headers


SECRET_SCENARIOS = ["http_status", "timeout", "too_large", "redirect_loop", "connection", "bad_url"]


@pytest.mark.parametrize("scenario", SECRET_SCENARIOS)
async def test_messages_never_contain_url_secrets(server: FeedServer, scenario: str) -> None:
    """Whatever the failure, the message names host and path but never the password,
    the user name or a query-string token, even when a redirect adds them."""
    options = opts(timeout=0.5, max_bytes=1024)
    server.respond("/busy", 503, headers={"Retry-After": "5"})
    server.slow("/stall", 60)
    server.stream("/big", 100_000)
    server.redirect("/loop", "/loop2?token=TOPSECRET")
    server.redirect("/loop2", "/loop")
    paths = {
        "http_status": "/busy",
        "timeout": "/stall",
        "too_large": "/big",
        "redirect_loop": "/loop",
    }
    if scenario == "connection":
        url = f"http://alice:s3cr3t@127.0.0.1:{closed_port()}/feed?token=TOPSECRET"
    elif scenario == "bad_url":
        url = "ftp://alice:s3cr3t@example.com/feed?token=TOPSECRET"
    else:
        url = f"http://alice:s3cr3t@127.0.0.1:{server.port}{paths[scenario]}?token=TOPSECRET"
    err = await error_with(options, url)
    assert err.kind == scenario
    message = str(err)
    for secret in ("s3cr3t", "alice", "TOPSECRET", "token"):
        assert secret not in message, message
    assert "/" in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@example.com/feed.xml?token=x#frag", "example.com/feed.xml"),
        ("http://example.com:8080/a/b", "example.com:8080/a/b"),
        ("https://example.com:443/a", "example.com/a"),
        ("http://[::1]:8080/feed", "[::1]:8080/feed"),
        ("http://[::1", "<invalid URL>"),
    ],
)
def test_safe_url(url: str, expected: str) -> None:
    """safe_url keeps host, non-default port and path; drops userinfo, query, fragment."""
    assert safe_url(url) == expected


# --------------------------------------------------------------------------- concurrency


async def test_global_concurrency_limit(server: FeedServer) -> None:
    """With concurrency=2, the server never sees more than 2 requests at once."""
    server.slow("/slow", 0.2)
    async with HttpFetcher(opts(concurrency=2, per_host=16)) as fetcher:
        results = await asyncio.gather(
            *(fetcher.fetch(FetchRequest(server.url(f"/slow?n={i}"))) for i in range(6))
        )
    assert [r.status for r in results] == [200] * 6
    assert server.max_in_flight == 2


async def test_per_host_limit(server: FeedServer) -> None:
    """With per_host=1, requests to one host go one at a time whatever the global limit."""
    server.slow("/slow", 0.15)
    async with HttpFetcher(opts(concurrency=16, per_host=1)) as fetcher:
        await asyncio.gather(
            *(fetcher.fetch(FetchRequest(server.url(f"/slow?n={i}"))) for i in range(3))
        )
    assert server.max_in_flight == 1


async def test_others_succeed_while_one_stalls(server: FeedServer) -> None:
    """One stalled feed does not hold up the others: they all complete while it is
    still waiting, and it then fails alone with a timeout."""
    server.slow("/stall", 60)
    for i in range(5):
        server.feed(f"/feed{i}.xml", RSS)
    async with HttpFetcher(opts(timeout=1, concurrency=4, per_host=4)) as fetcher:
        stalled = asyncio.ensure_future(fetcher.fetch(FetchRequest(server.url("/stall"))))
        others: asyncio.Future[list[Fetched]] = asyncio.gather(
            *(fetcher.fetch(FetchRequest(server.url(f"/feed{i}.xml"))) for i in range(5))
        )
        racers: set[asyncio.Future[Any]] = {stalled, others}
        done, _ = await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
        assert others in done
        assert stalled not in done
        assert [r.body for r in others.result()] == [RSS] * 5
        with pytest.raises(FetchError) as info:
            await stalled
    assert info.value.kind == "timeout"


# --------------------------------------------------------------------------- lifecycle


async def test_fetch_needs_an_open_fetcher(server: FeedServer) -> None:
    """fetch() outside ``async with`` is a programming error; close() can be repeated."""
    fetcher: Fetcher = HttpFetcher(opts())
    with pytest.raises(RuntimeError):
        await fetcher.fetch(FetchRequest(server.url("/")))
    real = HttpFetcher(opts())
    async with real:
        pass
    await real.close()


# --------------------------------------------------------------------------- parse_retry_after

NOW = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 30 ", 30.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:28:00 -0000", 60.0),
        ("Wed, 21 Oct 2015 09:28:00 +0200", 60.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("", None),
        ("٣", None),
        ("1e20", None),
        ("-99999999999999999999", None),
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),
        ("Fri, 31 Dec 9999 23:59:59 +9999", None),
    ],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    """Delta-seconds and HTTP-dates (measured from the given now; past → 0); anything
    else is None."""
    assert parse_retry_after(value, NOW) == expected


LIMIT = RETRY_AFTER_LIMIT.total_seconds()


@pytest.mark.parametrize(
    ("value", "now"),
    [
        ("99999999999999999999", NOW),
        ("9" * 10_000, NOW),  # int() would refuse it (Python's 4300-digit limit)
        (str(int(LIMIT) + 1), NOW),
        ("Fri, 31 Dec 9999 23:59:59 GMT", NOW),
        ("Fri, 31 Dec 9999 23:59:59 -2359", NOW),
        ("Wed, 21 Oct 2015 07:28:00 GMT", datetime(1, 1, 1, tzinfo=UTC)),
    ],
    ids=["20-digits", "10000-digits", "limit+1", "year-9999", "year-9999-west", "now-year-1"],
)
def test_parse_retry_after_clamps_huge_waits(value: str, now: datetime) -> None:
    """A wait longer than RETRY_AFTER_LIMIT (digits or a date centuries ahead, or a server
    Date in year 1) is read as the limit: never a value that overflows timedelta."""
    wait = parse_retry_after(value, now)
    assert wait == LIMIT
    assert NOW + timedelta(seconds=wait) > NOW


@given(st.integers(min_value=0, max_value=10**30))
def test_parse_retry_after_delta_roundtrip(seconds: int) -> None:
    """A non-negative delta-seconds value is read back exactly up to the limit, and as
    the limit beyond it."""
    assert parse_retry_after(str(seconds), NOW) == min(seconds, LIMIT)


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=0, max_value=10**10),
)
def test_parse_retry_after_date_roundtrip(now: datetime, seconds: int) -> None:
    """An HTTP-date ``seconds`` after ``now`` (whole seconds) gives back ``seconds``, up to
    the limit."""
    now = now.replace(microsecond=0)
    when = format_datetime(now + timedelta(seconds=seconds), usegmt=True)
    assert parse_retry_after(when, now) == min(seconds, LIMIT)


# --------------------------------------------------------------------------- the test server itself


def test_threaded_server_serves_sync_clients() -> None:
    """ThreadedFeedServer runs in its own thread for sync code and subprocesses, with
    the same routes, conditional GET and request records."""
    with ThreadedFeedServer() as server:
        doc = server.feed("/feed.xml", RSS)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            conn.request("GET", "/feed.xml")
            first = conn.getresponse()
            assert (first.status, first.read()) == (200, RSS)
            assert doc.etag is not None
            conn.request("GET", "/feed.xml", headers={"If-None-Match": doc.etag})
            second = conn.getresponse()
            second.read()
            assert second.status == 304
        finally:
            conn.close()
        assert server.url("/feed.xml") == f"http://127.0.0.1:{server.port}/feed.xml"
        assert server.requests_to("/feed.xml")[1].headers["if-none-match"] == doc.etag


async def test_server_serves_a_directory(
    server: FeedServer, fetcher: HttpFetcher, tmp_path: Path
) -> None:
    """directory() serves files with validators (304 on a repeat) and 404s the rest."""
    (tmp_path / "a.xml").write_bytes(RSS)
    server.directory("/files", tmp_path)
    first = await fetcher.fetch(FetchRequest(server.url("/files/a.xml")))
    assert (first.status, first.body) == (200, RSS)
    again = await fetcher.fetch(FetchRequest(server.url("/files/a.xml"), etag=first.etag))
    assert again.status == 304
    err = await fetch_error(fetcher, server.url("/files/missing.xml"))
    assert err.status == 404
