"""Acknowledgement with the real ``notifier run``: a high-severity match arrives with its
ack id and signed link; ``notifier ack ID`` records it; a tampered link is refused."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import NOTIFIER
from tests.feedserver import ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver
from tests.test_daemon_e2e import Daemon, stopped_afterwards
from tests.test_poll import rss

pytestmark = pytest.mark.slow

SECRET = "e2e-secret-for-signed-ack-links-42"

CONFIG = """\
timezone: UTC
defaults: {{channels: [chat]}}
channels:
  chat: ["{chat}"]
feeds:
  - name: news
    url: {feed}
    interval: 1s
watches:
  - name: rare-earths
    any: ["rare earth"]
    severity: high
"""


def _fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - a local test URL
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_an_alert_is_acknowledged_by_cli_and_a_tampered_link_is_refused(
    tmp_path: Path, feeds: ThreadedFeedServer, chat: ThreadedWebhookReceiver
) -> None:
    feeds.feed("/news.xml", rss(("a1", "Old story", "x")))
    config = tmp_path / "watch.yaml"
    config.write_text(
        CONFIG.format(chat=chat.json_url("/hook"), feed=feeds.url("/news.xml")), encoding="utf-8"
    )
    state = tmp_path / "state"
    with stopped_afterwards() as daemons:
        daemon = Daemon(
            config,
            state,
            tmp_path / "daemon.log",
            extra=("--web-port", "0"),
            environ={"NOTIFIER_SECRET": SECRET},
        )
        daemons.append(daemon)
        daemon.wait_for_log("web UI listening", ack_links=True)
        daemon.wait_for_log("feed polled", feed="news", status="first_poll")
        feeds.feed("/news.xml", rss(("a2", "New rare earth rules", "y"), ("a1", "Old story", "x")))
        chat.wait_for(1, timeout=20)
        (notice,) = chat.messages()
        found = re.search(r"Ack: notifier ack ([0-9a-f]{8}) or (http://\S+)", notice.body)
        assert found, notice.body
        ack_id, url = found.groups()
        assert f"/ack/{ack_id}?exp=" in url

        tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
        assert _fetch(tampered) == 403
        refused = daemon.wait_for_log("ack link refused", ack_id=ack_id)
        assert refused["reason"] == "bad signature"

        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        env["USER"] = "ana"
        flags = ["--state-dir", str(state)]
        listed = subprocess.run(
            [str(NOTIFIER), "acks", "--json", *flags], env=env, capture_output=True, check=True
        )
        (row,) = json.loads(listed.stdout)
        assert (row["id"], row["acknowledged"]) == (ack_id, False)  # the tampered link: nothing

        done = subprocess.run(
            [str(NOTIFIER), "ack", ack_id, *flags],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        listed = subprocess.run(
            [str(NOTIFIER), "acks", "--json", *flags], env=env, capture_output=True, check=True
        )
        (row,) = json.loads(listed.stdout)
        assert (row["acknowledged"], row["who"], row["how"]) == (True, "ana", "cli")

        assert _fetch(url) == 200  # the real link still works: idempotent, the first ack stays
        assert daemon.stop() == 0
        assert SECRET not in daemon.log_path.read_text(encoding="utf-8")
