"""Giving freed memory back while idle (:mod:`notifier.runtime.memory`) and what drives it."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from notifier.matching import Matcher
from notifier.model import Feed, FetchPolicy
from notifier.pipeline.poll import Poller
from notifier.runtime import memory
from notifier.sources.http import HttpFetcher
from notifier.storage.sqlite import Store
from tests.feedserver import FeedServer

OPTIONS = FetchPolicy(timeout=timedelta(seconds=2), connect_timeout=timedelta(seconds=2))
RSS = (
    "<rss version='2.0'><channel><title>T</title><item><guid>urn:a</guid>"
    "<title>A</title></item></channel></rss>"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_give_back_trims_the_c_heap_on_glibc() -> None:
    """On glibc, malloc_trim is found and give_back() runs it (a bool, never an error)."""
    if not memory.trim_available():
        pytest.skip("this C library has no malloc_trim (musl?)")
    garbage = [bytearray(200_000) for _ in range(50)]  # freed below: pages to hand back
    del garbage
    assert isinstance(memory.give_back(), bool)


def test_store_shrinks_its_page_cache_and_keeps_working(tmp_path: Path) -> None:
    """PRAGMA shrink_memory drops the cache only: the store reads and writes after it."""
    with Store.open(tmp_path / "state") as store:
        store.shrink_memory()
        assert store.feed_states() == []


async def test_poller_tells_whether_polls_ran_and_whether_one_is_in_flight(
    tmp_path: Path,
) -> None:
    """``polls`` counts finished polls, ``busy`` is True only while one runs: the daemon
    gives memory back only after polls, when none is in flight."""
    async with FeedServer() as server, HttpFetcher(OPTIONS) as fetcher:
        server.slow("/slow.xml", 0.3, RSS)
        with Store.open(tmp_path / "state") as store:
            poller = Poller(store, fetcher, Matcher.compile([]), max_bytes=10**7)
            assert (poller.busy, poller.polls) == (False, 0)
            feed = Feed(name="f", url=server.url("/slow.xml"), title=None, interval=timedelta(1))
            task = asyncio.create_task(poller.poll(feed))
            await asyncio.sleep(0.1)
            assert (poller.busy, poller.polls) == (True, 0)
            await task
            assert (poller.busy, poller.polls) == (False, 1)
