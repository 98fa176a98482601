"""No unit of work blocks another: regex bombs, stalling webhooks, and the health endpoint.

The daemon runs in-process with the real Apprise sink, a real feed server and
real webhook receivers (each on its own thread), so every stall here is a real
socket that stops answering, not a fake.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from notifier.config.settings import Settings
from notifier.matching import Matcher
from notifier.model import Entry, Watch
from notifier.pipeline.sender import AppriseSink
from notifier.runtime.daemon import Daemon
from notifier.storage.sqlite import Store
from tests.feedserver import ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver
from tests.test_poll import rss

EVIL = "/(a|aa)+$/"  # backtracks exponentially on "aaaa…ab", even in the regex module
BOMB = "a" * 40 + "b"


def watch(name: str, *terms: str, feeds: tuple[str, ...] = ("news",)) -> Watch:
    return Watch(
        name=name,
        any=terms,
        all=(),
        none=(),
        feeds=feeds,
        fields=("title", "summary"),
        severity="normal",
        channels=("c",),
        digest=None,
    )


def test_a_regex_bomb_is_cut_off_and_reported_while_other_watches_match() -> None:
    """An entry that makes a watch's regex backtrack for ever costs at most the entry's
    budget: that watch does not match it (an overrun naming watch and term), and the
    other watches still judge it."""
    matcher = Matcher.compile(
        [watch("evil", EVIL), watch("issue", "/(\\w+\\s?)+:/", "/(a+)+$/"), watch("plain", "rare")]
    )
    entry = Entry(feed="news", key="k", title=f"rare {BOMB}: a bomb", summary=BOMB)
    started = time.monotonic()
    run = matcher.match_all([entry])
    assert time.monotonic() - started < 3
    assert [m.watch for m in run.matches] == ["issue", "plain"]
    assert [(o.watch, o.term, o.feed) for o in run.overruns] == [("evil", EVIL, "news")]


def test_the_batch_budget_bounds_a_feed_full_of_bombs() -> None:
    """Fifty bomb entries with a 1 s entry budget do not take 50 s: once the batch budget
    is spent, every later regex overruns at once (and is reported)."""
    matcher = Matcher.compile([watch("evil", EVIL)])
    entries = [Entry(feed="news", key=f"k{i}", title=BOMB) for i in range(50)]
    started = time.monotonic()
    run = matcher.match_all(entries, budget=1.0, entry_budget=0.5)
    assert time.monotonic() - started < 5
    assert len(run.overruns) == 50
    assert run.matches == ()


CONFIG = """\
delivery: {{min_retry: 1s, max_retry: 2s}}
defaults: {{channels: [fast]}}
channels:
{channels}
feeds:
  - name: news
    url: {news}
    interval: 1s
  - name: evil
    url: {evil}
    interval: 1s
watches:
  - name: rare
    any: ["rare earth"]
    feeds: [news]
    channels: [{routes}]
  - name: bomb
    any: ["{bomb}"]
    feeds: [evil]
"""


def items(*titles: str) -> bytes:
    return rss(*((t.replace(" ", "")[:30], t, "rare earth news") for t in titles))


def get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class Ticker:
    """Measures the longest gap between ticks of a task on the event loop (every 10 ms)
    while the ``async with`` block runs: how long the loop was kept from running."""

    def __init__(self) -> None:
        self.gaps: list[float] = [0.0]
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def longest(self) -> float:
        return max(self.gaps)

    async def _tick(self) -> None:
        last = time.monotonic()
        while not self._done.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.gaps.append(now - last)
            last = now

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._done.set()
        if self._task is not None:
            await self._task


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@asynccontextmanager
async def running(
    tmp_path: Path, feeds: ThreadedFeedServer, channels: dict[str, str], grace: float = 2
) -> AsyncIterator[Daemon]:
    """A started in-process daemon with the given channels, watching /news and /evil."""
    lines = "".join(
        f"  {name}: {{urls: ['{url}'], timeout: 2s}}\n" for name, url in channels.items()
    )
    path = tmp_path / "watch.yaml"
    path.write_text(
        CONFIG.format(
            channels=lines,
            news=feeds.url("/news"),
            evil=feeds.url("/evil"),
            routes=", ".join(channels),
            bomb=EVIL.replace("\\", "\\\\"),
        ),
        "utf-8",
    )
    settings = Settings(config=path, state_dir=tmp_path / "state", grace=grace, health_port=0)
    daemon = Daemon(settings, AppriseSink())
    await daemon.start()
    try:
        yield daemon
    finally:
        await daemon.stop()


async def test_a_regex_bomb_never_blocks_polling_delivery_or_health(tmp_path: Path) -> None:
    """An entry that sets off a catastrophic regex: the event loop keeps beating (so
    /healthz answers ok), the other feed's match is delivered, the bomb entry is
    recorded as seen and is not matched again on the next polls."""
    with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as hook:
        feeds.feed("/news", items("Old story"))
        feeds.feed("/evil", rss(("e0", "calm", "calm")))
        async with running(tmp_path, feeds, {"fast": hook.json_url("/fast")}) as daemon:
            polls = daemon.metrics.polls
            await until(lambda: daemon.metrics.count(polls, ("first_poll",)) == 2, 15, "polls")
            feeds.feed("/evil", rss(("e0", "calm", "calm"), ("e1", BOMB, BOMB)))
            feeds.feed("/news", items("Old story", "New rare earth deal"))
            await until(lambda: len(hook.messages()) >= 1, 20, "the news alert")
            await until(
                lambda: daemon.metrics.count(daemon.metrics.regex_overruns) >= 1, 20, "overrun"
            )
            assert daemon.health_port is not None
            status, body = await asyncio.to_thread(get, daemon.health_port, "/healthz")
            assert status == 200, body
            assert body["event_loop_lag_seconds"] < 2
            overruns = daemon.metrics.count(daemon.metrics.regex_overruns)
            await asyncio.sleep(3)  # more polls of the evil feed: nothing tried again
            assert daemon.metrics.count(daemon.metrics.regex_overruns) == overruns
    with Store.open(tmp_path / "state") as store:
        assert store.seen_count("evil") == 2
    assert [n.title for n in hook.messages()] == ["New rare earth deal"]


async def test_a_stalling_webhook_holds_up_no_other_channel_nor_polling(tmp_path: Path) -> None:
    """One receiver drips its answer, one never answers, one answers after 3 s, one
    answers 500: the healthy channel still gets each alert within a couple of seconds,
    feeds are still polled, /healthz names the dripping channel once its send passes
    the 2 s deadline, and stop() returns within the grace period."""
    with (
        ThreadedFeedServer() as feeds,
        ThreadedWebhookReceiver() as fast,
        ThreadedWebhookReceiver() as drip,
        ThreadedWebhookReceiver() as hang,
        ThreadedWebhookReceiver() as late,
        ThreadedWebhookReceiver() as broken,
    ):
        drip.drip(every=1.0, size=600)
        hang.hang()
        late.delay(3)
        broken.fail_with(500)
        feeds.feed("/news", items("Old story"))
        feeds.feed("/evil", rss(("e0", "calm", "calm")))
        channels = {
            "fast": fast.json_url("/f"),
            "drip": drip.json_url("/d"),
            "hang": hang.json_url("/h"),
            "late": late.json_url("/l"),
            "broken": broken.json_url("/b"),
        }
        daemon_cm = running(tmp_path, feeds, channels, grace=2)
        daemon = await daemon_cm.__aenter__()
        try:
            polls = daemon.metrics.polls
            await until(lambda: daemon.metrics.count(polls, ("first_poll",)) == 2, 15, "polls")
            latencies = []
            titles = ["Story one rare earth", "Story two rare earth", "Story three rare earth"]
            for n in range(1, len(titles) + 1):
                feeds.feed("/news", items("Old story", *titles[:n]))
                queued = time.monotonic()
                await until(lambda n=n: len(fast.messages()) >= n, 15, f"alert {n}")  # type: ignore[misc]
                latencies.append(time.monotonic() - queued)
                await asyncio.sleep(1)
            # The poll interval is 1 s: each alert arrives within about that, plus a send.
            assert max(latencies) < 5, latencies
            assert daemon.health_port is not None
            status, body = await asyncio.to_thread(get, daemon.health_port, "/healthz")
            assert status == 503, body
            assert "drip" in body["stuck_channels"], body
            assert any("channel drip" in p for p in body["problems"]), body
            before = daemon.metrics.count(polls, ("parsed",)) + daemon.metrics.count(
                polls, ("not_modified",)
            )
            await asyncio.sleep(2.5)
            after = daemon.metrics.count(polls, ("parsed",)) + daemon.metrics.count(
                polls, ("not_modified",)
            )
            assert after > before  # polling goes on
        finally:
            started = time.monotonic()
            await daemon_cm.__aexit__(None, None, None)
            assert time.monotonic() - started < 2 + 3  # grace, plus shutting down
        assert len(late.messages()) >= 1  # 3 s is slow, not failed


async def test_healthz_says_so_while_the_event_loop_is_blocked(tmp_path: Path) -> None:
    """/healthz is served from its own thread: while something blocks the event loop it
    still answers, 503, naming the blocked loop; health.json says the same."""
    with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as hook:
        feeds.feed("/news", items("Old story"))
        feeds.feed("/evil", rss(("e0", "calm", "calm")))
        async with running(tmp_path, feeds, {"fast": hook.json_url("/fast")}) as daemon:
            port = daemon.health_port
            assert port is not None
            seen: dict[str, Any] = {}

            def probe() -> None:
                time.sleep(6.5)  # past LOOP_BLOCKED_AFTER (5 s) of blocking
                seen["healthz"] = get(port, "/healthz")
                seen["file"] = json.loads(
                    (tmp_path / "state" / "health.json").read_text(encoding="utf-8")
                )

            prober = threading.Thread(target=probe)
            prober.start()
            time.sleep(8)  # blocks the event loop, as a runaway computation would
            prober.join()
            status, body = seen["healthz"]
            assert status == 503
            assert any("event loop blocked" in p for p in body["problems"]), body
            assert seen["file"]["status"] == "unhealthy"
            assert any("event loop blocked" in p for p in seen["file"]["problems"])
            await asyncio.sleep(1.5)
            status, body = await asyncio.to_thread(get, port, "/healthz")
            assert status == 200, body


async def test_a_reload_of_a_large_config_does_not_stall_the_event_loop(tmp_path: Path) -> None:
    """A valid config of about 1 MB (thousands of watches) takes seconds to read, check
    and compile: that happens in a worker thread, so the event loop keeps running
    (a ticker task never waits a second) while the daemon reloads."""
    with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as hook:
        feeds.feed("/news", items("Old story"))
        feeds.feed("/evil", rss(("e0", "calm", "calm")))
        async with running(tmp_path, feeds, {"fast": hook.json_url("/fast")}) as daemon:
            path = daemon.settings.config
            text = path.read_text("utf-8")
            extra = "".join(
                f"  - name: extra-{i}\n    any: [tariff{i}, quota{i}, levy{i}, duty{i}]\n"
                f"    feeds: [news]\n"
                for i in range(9000)
            )
            path.write_text(text + extra, "utf-8")
            assert 500_000 < path.stat().st_size < 1_000_000
            async with Ticker() as ticker:
                started = time.monotonic()
                assert await daemon.reload()
                took = time.monotonic() - started
            assert daemon.config is not None
            assert len(daemon.config.watches) == 9002
            assert took > 0.5  # the work was real
            assert ticker.longest < 1.0, (ticker.longest, took)


async def test_a_large_backlog_keeps_health_and_the_loop_responsive(tmp_path: Path) -> None:
    """16,000 alerts wait for a channel that answers 500 (a long outage): composing and
    retrying them goes in bounded batches, so the event loop never stalls for a second,
    /healthz answers at once, and status reads the outbox cheaply."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from notifier.model import NewAlert  # noqa: PLC0415

    state = tmp_path / "state"
    with Store.open(state) as store, store.transaction():
        store.outbox.enqueue(
            [
                NewAlert(
                    key=f"match:news:k{i}:rare",
                    channel="fast",
                    kind="match",
                    severity="normal",
                    context={"kind": "match", "title": f"Story {i}", "feed": "news", "hits": []},
                )
                for i in range(16_000)
            ],
            datetime.now(UTC),
        )
    with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as hook:
        hook.fail_with(500)
        feeds.feed("/news", items("Old story"))
        feeds.feed("/evil", rss(("e0", "calm", "calm")))
        async with running(tmp_path, feeds, {"fast": hook.json_url("/fast")}) as daemon:
            async with Ticker() as ticker:
                await asyncio.sleep(6)
            assert ticker.longest < 1.0, ticker.longest
            assert daemon.health_port is not None
            started = time.monotonic()
            status, body = await asyncio.to_thread(get, daemon.health_port, "/healthz")
            assert time.monotonic() - started < 1.0
            assert status == 200, body
            assert len(hook.requests) > 0  # it is working through the backlog
            assert daemon.store is not None
            started = time.monotonic()
            (fast,) = daemon.store.outbox.status()
            assert time.monotonic() - started < 1.0
            assert fast.queued + fast.pending + fast.retrying == 16_000


async def test_healthz_says_so_when_the_scheduler_stops_running_jobs(tmp_path: Path) -> None:
    """The scheduler runs some job every 2 s (the config check); paused, it runs none,
    and health says so once the threshold passes; resumed, health is ok again."""
    with ThreadedFeedServer() as feeds, ThreadedWebhookReceiver() as hook:
        feeds.feed("/news", items("Old story"))
        feeds.feed("/evil", rss(("e0", "calm", "calm")))
        async with running(tmp_path, feeds, {"fast": hook.json_url("/fast")}) as daemon:
            daemon.health.scheduler_stale_after = 3.5
            await asyncio.sleep(4.5)
            assert daemon.healthy()[0], daemon.healthy()
            daemon.scheduler.pause()
            await asyncio.sleep(4.5)
            ok, body = daemon.healthy()
            assert not ok
            assert any("scheduler has run no job" in p for p in body["problems"]), body
            daemon.scheduler.resume()
            await asyncio.sleep(3)
            assert daemon.healthy()[0], daemon.healthy()


async def test_a_thousand_regex_watches_over_a_thousand_entries_never_block_the_loop(
    tmp_path: Path,
) -> None:
    """1,000 regex watches × 1,000 new entries is seconds of matching: it runs in a worker
    thread (each regex search releases the GIL), so a ticker on the event loop never
    waits a second meanwhile, and every match is still found."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415
    from datetime import timedelta  # noqa: PLC0415

    from notifier.model import Feed, FetchPolicy  # noqa: PLC0415
    from notifier.pipeline.poll import Poller, PollStatus  # noqa: PLC0415
    from notifier.sources.http import HttpFetcher  # noqa: PLC0415

    watches = [
        watch(f"w{i}", f"/tariffs? (on|for) \\w+ {i}\\b/", feeds=("news",)) for i in range(1000)
    ]
    first = rss(("old", "Old story", "x"))
    entries = [(f"e{i}", f"Tariffs on steel {i}", "details " * 40) for i in range(1000)]
    options = FetchPolicy(timeout=timedelta(seconds=10))
    with ThreadedFeedServer() as server, Store.open(tmp_path) as store:
        server.feed("/news", first)
        feed = Feed("news", server.url("/news"), None, timedelta(minutes=5))
        threads = ThreadPoolExecutor(2)
        async with HttpFetcher(options) as fetcher:
            poller = Poller(
                store, fetcher, Matcher.compile(watches), max_bytes=10**8, match_executor=threads
            )
            assert (await poller.poll(feed)).status is PollStatus.FIRST
            server.feed("/news", rss(*entries, ("old", "Old story", "x")))
            async with Ticker() as ticker:
                started = time.monotonic()
                result = await poller.poll(feed)
                took = time.monotonic() - started
        threads.shutdown()
    assert result.status is PollStatus.PARSED
    assert len(result.matches) == 1000  # entry i matched by watch i alone
    assert {m.watch for m in result.matches} == {f"w{i}" for i in range(1000)}
    assert result.overruns == ()
    assert took > 1.0  # the matching really was heavy
    assert ticker.longest < 1.0, (ticker.longest, took)
