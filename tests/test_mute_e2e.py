"""A mute with the real ``notifier run`` process: the alerts of a muted watch are held
while it lasts and arrive as one digest when it ends, none lost and none doubled."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import NOTIFIER
from tests.feedserver import ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver
from tests.test_daemon_e2e import Daemon, daemons, start
from tests.test_poll import rss

__all__ = ["daemons"]  # the fixture, used by name

pytestmark = pytest.mark.slow

CONFIG = """\
timezone: America/New_York
delivery: {{min_retry: 1s, max_retry: 2s}}
channels:
  chat: ["{chat}"]
feeds:
  - name: news
    url: {feed}
    interval: 1s
watches:
  - name: rare-earths
    any: ["rare earth"]
    channels: [chat]
"""


def test_a_muted_watch_sends_one_digest_when_the_mute_ends(
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    chat: ThreadedWebhookReceiver,
    daemons: list[Daemon],
) -> None:
    """``notifier mute watch:rare-earths --for 4s`` beside the running daemon: two
    matching items arrive while muted and nothing is delivered; when the mute ends,
    exactly one digest arrives, "while muted: 2 stories", listing both, and nothing
    more follows."""
    path = tmp_path / "watch.yaml"
    path.write_text(
        CONFIG.format(chat=chat.json_url("/hook"), feed=feeds.url("/news.xml")), encoding="utf-8"
    )
    feeds.feed("/news.xml", rss(("a1", "Old story", "x")))
    daemon = start(path, tmp_path, daemons)
    daemon.wait_for_log("feed polled", feed="news", status="first_poll")

    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    flags = ["--config", str(path), "--state-dir", str(tmp_path / "state")]
    done = subprocess.run(
        [str(NOTIFIER), "mute", "watch:rare-earths", "--for", "4s", "--reason", "test", *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    muted_at = time.monotonic()
    assert done.returncode == 0, done.stderr
    now = datetime.now(UTC)
    feeds.feed(
        "/news.xml",
        rss(
            ("a2", "New rare earth rules", "y"),
            ("a3", "Rare earth exports fall", "z"),
            ("a1", "Old story", "x"),
            published=now,
        ),
    )
    daemon.wait_for_log("feed polled", feed="news", status="parsed", timeout=10)
    time.sleep(max(0.0, 3.5 - (time.monotonic() - muted_at)))
    assert chat.messages() == []  # held while muted

    chat.wait_for(1, timeout=15)
    time.sleep(3)  # several more polls and passes: nothing more
    (digest,) = chat.messages()
    assert "While muted: 2 stories" in digest.body
    assert "New rare earth rules" in digest.body
    assert "Rare earth exports fall" in digest.body
    assert daemon.stop() == 0
