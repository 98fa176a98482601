"""A fallback channel with the real ``notifier run``: it starts and stops with the
primary channel's outage (issue 16 §3)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import NOTIFIER
from tests.feedserver import ThreadedFeedServer
from tests.receivers import SmtpReceiver, ThreadedWebhookReceiver
from tests.test_daemon_e2e import Daemon, setup, start
from tests.test_poll import rss

pytestmark = pytest.mark.slow

__all__ = ["setup"]  # the fixture, used by name

CONFIG = """\
timezone: UTC
delivery: {{min_retry: 1s, max_retry: 2s}}
defaults: {{channels: [email]}}
channels:
  email: ["{email}"]
  chat:
    urls: ["{chat}"]
    fallback: [backup]
    fallback_after: 2s
  backup: ["{backup}"]
feeds:
  - name: news
    url: {feed}
    interval: 1s
watches:
  - name: rare-earths
    any: ["rare earth"]
    channels: [chat]
"""


def test_a_fallback_starts_and_stops_with_the_primarys_outage(
    setup: tuple[Path, list[Daemon]],
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
) -> None:
    """chat answers 503: after 2 s its alert reaches backup, marked via fallback; chat
    recovers and gets its own copy; a later alert goes to chat only."""
    path, daemons = setup
    with ThreadedWebhookReceiver() as backup:
        path.write_text(
            CONFIG.format(
                email=smtp.url(),
                chat=chat.json_url("/hook"),
                backup=backup.json_url("/hook"),
                feed=feeds.url("/news.xml"),
            ),
            encoding="utf-8",
        )
        chat.fail_with(503)
        daemon = start(path, tmp_path, daemons)
        daemon.wait_for_log("feed polled", feed="news", status="first_poll")
        feeds.feed("/news.xml", rss(("a2", "Rare earth quotas", "y"), ("a1", "Old story", "x")))
        backup.wait_for(1, timeout=20, accepted=True)
        [notice] = backup.messages()
        assert notice.title == "Rare earth quotas"
        assert "Via fallback: channel chat failing since" in notice.body
        assert chat.messages() == []
        daemon.wait_for_log("channel failing; its alerts also go to its fallback channels")
        status = subprocess.run(
            [
                str(NOTIFIER),
                "status",
                "--config",
                str(path),
                "--state-dir",
                str(tmp_path / "state"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert "chat: falling back to backup since" in status.stdout, status.stdout

        chat.recover()
        chat.wait_for(1, timeout=15, accepted=True)
        assert [n.title for n in chat.messages()] == ["Rare earth quotas"]
        daemon.wait_for_log("fallback ended", channel="chat")

        feeds.feed(
            "/news.xml",
            rss(
                ("a3", "Rare earth exports", "z"),
                ("a2", "Rare earth quotas", "y"),
                ("a1", "Old story", "x"),
            ),
        )
        chat.wait_for(2, timeout=15, accepted=True)
        time.sleep(3)  # several passes: nothing more goes to backup
        assert [n.title for n in chat.messages()] == ["Rare earth quotas", "Rare earth exports"]
        assert [n.title for n in backup.messages()] == ["Rare earth quotas"]
        assert daemon.stop() == 0
