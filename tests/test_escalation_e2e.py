"""Escalation with the real ``notifier run``: a high alert escalates to a second channel
after ``after``; a restart halfway up the ladder neither loses nor repeats a step; and
``notifier ack ID`` stops the next one."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import NOTIFIER
from tests.feedserver import ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver
from tests.test_daemon_e2e import Daemon, stopped_afterwards
from tests.test_poll import rss

pytestmark = pytest.mark.slow

CONFIG = """\
timezone: UTC
defaults: {{channels: [chat]}}
channels:
  chat: ["{chat}"]
  desk: ["{desk}"]
feeds:
  - name: news
    url: {feed}
    interval: 1s
watches:
  - name: rare-earths
    any: ["rare earth"]
    severity: high
    escalate:
      - {{after: 2s, to: [desk]}}
      - {{after: 6s, to: [desk]}}
      - {{after: 14s, to: [desk]}}
"""


def test_an_alert_escalates_survives_a_restart_and_an_ack_stops_it(
    tmp_path: Path, feeds: ThreadedFeedServer, chat: ThreadedWebhookReceiver
) -> None:
    feeds.feed("/news.xml", rss(("a1", "Old story", "x")))
    config = tmp_path / "watch.yaml"
    state = tmp_path / "state"
    with ThreadedWebhookReceiver() as desk, stopped_afterwards() as daemons:
        config.write_text(
            CONFIG.format(
                chat=chat.json_url("/hook"),
                desk=desk.json_url("/desk"),
                feed=feeds.url("/news.xml"),
            ),
            encoding="utf-8",
        )
        daemon = Daemon(config, state, tmp_path / "daemon.log")
        daemons.append(daemon)
        daemon.wait_for_log("feed polled", feed="news", status="first_poll")
        feeds.feed("/news.xml", rss(("a2", "New rare earth rules", "y"), ("a1", "Old story", "x")))
        chat.wait_for(1, timeout=20)
        queued_at = time.monotonic()
        (notice,) = chat.messages()
        found = re.search(r"notifier ack ([0-9a-f]{8})", notice.body)
        assert found, notice.body
        ack_id = found.group(1)

        # step 1, to the second channel, marked
        desk.wait_for(1, timeout=20)
        (first,) = desk.messages()
        assert "Escalated (not acknowledged after 2s)" in first.body
        assert "rare earth" in (first.title + first.body).lower()
        assert chat.messages() == [notice]  # the original channel is not sent it again

        # stop halfway up the ladder, past step 2's time: caught up once at restart
        assert daemon.stop() == 0
        time.sleep(max(0.0, 7 - (time.monotonic() - queued_at)))
        daemon = Daemon(config, state, tmp_path / "daemon2.log")
        daemons.append(daemon)
        desk.wait_for(2, timeout=20)
        second = desk.messages()[1]
        assert "Escalated (not acknowledged after 6s)" in second.body

        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        env["USER"] = "ana"
        done = subprocess.run(
            [str(NOTIFIER), "ack", ack_id, "--state-dir", str(state)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr

        # step 3 (at 14s) never comes; nothing was repeated
        time.sleep(max(0.0, 17 - (time.monotonic() - queued_at)))
        assert len(desk.messages()) == 2
        assert len(chat.messages()) == 1
        assert daemon.stop() == 0
