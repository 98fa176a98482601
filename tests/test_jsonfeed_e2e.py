"""JSON Feed end to end: the real ``notifier once`` and ``notifier match`` executables, and the
daemon in-process, against JSON Feeds served by a real local server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from notifier.config.settings import Settings
from notifier.runtime.daemon import Daemon
from tests.conftest import CLI
from tests.feedserver import FeedServer, ThreadedFeedServer
from tests.test_jsonfeed import V1, jf
from tests.test_sender import FakeSink

JSON_TYPE = "application/feed+json"

CONFIG = """\
channels:
  console: ["console://"]
feeds:
  - name: blog
    url: {blog}
    type: jsonfeed
  - name: wire
    url: {wire}
watches:
  - name: rare-earths
    any: ["rare earth", "稀土"]
    severity: high
"""

BLOG = [
    {
        "id": "b2",
        "url": "/posts/b2",
        "title": "US and China agree on rare earths",
        "content_html": "<p>A <b>deal</b>.</p>",
        "authors": [{"name": "Ann"}],
    },
    {"id": "b1", "url": "/posts/b1", "title": "Weather", "content_text": "Sunny."},
]
#: JSON Feed 1.0 served to a ``type: feed`` (default) feed: read by content.
WIRE = [{"id": 7, "content_text": "商务部：对部分稀土物项实施出口管制", "author": {"name": "Wire"}}]


@pytest.fixture
def server() -> Iterator[ThreadedFeedServer]:
    with ThreadedFeedServer() as s:
        yield s


@pytest.fixture
def config(tmp_path: Path, server: ThreadedFeedServer) -> Path:
    server.feed("/blog.json", jf(*BLOG), content_type=JSON_TYPE)
    server.feed("/wire", jf(*WIRE, version=V1), content_type="application/json")
    path = tmp_path / "watch.yaml"
    path.write_text(
        CONFIG.format(blog=server.url("/blog.json"), wire=server.url("/wire")), encoding="utf-8"
    )
    return path


def test_once_dry_run_matches_json_feed_entries(cli: CLI, config: Path, tmp_path: Path) -> None:
    """``notifier once --dry-run`` reads a ``type: jsonfeed`` feed and a JSON Feed 1.0 under
    the default type, and prints each match with its resolved link and reason."""
    r = cli("once", "--dry-run", "--json", "--config", str(config), "--state-dir", str(tmp_path))
    assert r.code == 0, r.err
    matches = {m["feed"]: m for m in map(json.loads, r.out.splitlines())}
    assert set(matches) == {"blog", "wire"}
    assert matches["blog"]["title"] == "US and China agree on rare earths"
    assert matches["blog"]["link"].endswith("/posts/b2")
    assert matches["blog"]["hits"][0]["field"] == "title"
    assert matches["wire"]["hits"][0]["term"] == "稀土"


def test_once_alerts_a_new_json_feed_item_once(
    cli: CLI, config: Path, tmp_path: Path, server: ThreadedFeedServer
) -> None:
    """The first real run records silently; an item added later is printed once; the next
    run (the same ids in another order) prints nothing."""
    state = str(tmp_path / "state")
    first = cli("once", "--config", str(config), "--state-dir", state)
    assert first.code == 0, first.err
    assert "MATCH" not in first.out
    new = {"id": "b3", "title": "稀土 talks resume", "content_text": "x"}
    server.feed("/blog.json", jf(new, *BLOG), content_type=JSON_TYPE)
    second = cli("once", "--config", str(config), "--state-dir", state)
    assert second.code == 0, second.err
    assert second.out.count("MATCH") == 1
    assert "MATCH rare-earths [high]  blog" in second.out
    assert "稀土 talks resume" in second.out
    server.feed("/blog.json", jf(*BLOG, new), content_type=JSON_TYPE)
    third = cli("once", "--config", str(config), "--state-dir", state)
    assert third.code == 0, third.err
    assert "MATCH" not in third.out


def test_match_reads_a_json_file_and_a_json_url(
    cli: CLI, config: Path, tmp_path: Path, server: ThreadedFeedServer
) -> None:
    """``notifier match WATCH SOURCE`` tells JSON Feed by content, from a ``.json`` file or
    a URL; JSON that is no feed is refused in plain words (exit 1)."""
    source = tmp_path / "blog.json"
    source.write_bytes(jf(*BLOG))
    r = cli("match", "rare-earths", str(source), "--config", str(config))
    assert r.code == 0, r.err
    assert "✓ US and China agree on rare earths — matched" in r.out
    assert "✗ Weather — no 'any' term found" in r.out
    assert "rare-earths: 1 of 2 entries matched" in r.err
    r = cli("match", "rare-earths", server.url("/wire"), "--json", "--config", str(config))
    assert r.code == 0, r.err
    (verdict,) = [json.loads(line) for line in r.out.splitlines()]
    assert verdict["matched"] is True
    error = tmp_path / "error.json"
    error.write_text('{"error": "rate limited"}', encoding="utf-8")
    r = cli("match", "rare-earths", str(error), "--config", str(config))
    assert r.code == 1
    assert "not a feed: a JSON document without a JSON Feed version" in r.err


async def test_the_daemon_alerts_json_feed_items(tmp_path: Path) -> None:
    """``notifier run`` in-process (real scheduler, real parse workers, a fake sink): a
    ``type: jsonfeed`` feed's backfilled item is sent, then an item added later."""
    async with FeedServer() as server:
        doc = server.feed("/blog.json", jf(*BLOG), content_type=JSON_TYPE)
        path = tmp_path / "watch.yaml"
        path.write_text(
            "channels:\n  chat: ['json://127.0.0.1:9/hook']\n"
            f"feeds:\n  - name: blog\n    url: {server.url('/blog.json')}\n"
            "    type: jsonfeed\n    interval: 1s\n    backfill: 1\n"
            "watches:\n  - name: rare\n    any: ['rare earth', '稀土']\n",
            "utf-8",
        )
        sink = FakeSink()
        daemon = Daemon(Settings(config=path, state_dir=tmp_path / "state", grace=1), sink)
        await daemon.start()
        try:
            await _until(lambda: len(sink.sent) >= 1)
            doc.update(jf({"id": "b3", "title": "稀土 talks resume"}, *BLOG))
            await _until(lambda: len(sink.sent) >= 2)
        finally:
            await daemon.stop()
    bodies = [f"{title}\n{body}" for _, title, body in sink.sent]
    assert len(bodies) == 2, bodies
    assert "US and China agree on rare earths" in bodies[0]
    assert "/posts/b2" in bodies[0]
    assert "稀土 talks resume" in bodies[1]
    assert daemon.metrics.count(daemon.metrics.polls, ("failed",)) == 0


async def _until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    """Wait until ``condition()`` is true (failing after ``seconds``)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")
