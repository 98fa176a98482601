"""The real ``notifier run`` process against hostile parts: a webhook that drips its answer.

SIGTERM must stop the daemon within its grace period whatever a channel is doing, and
``notifier healthcheck`` must say which channel is stuck while it is. A rotated webhook
URL gets the pending alerts (``once``, ``deliver`` and ``status`` run in this process).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import CLI, NOTIFIER, Result
from tests.feedserver import ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver
from tests.test_daemon_e2e import Daemon, free_port
from tests.test_poll import rss

pytestmark = pytest.mark.slow

CONFIG = """\
delivery: {{min_retry: 1s, max_retry: 2s}}
defaults: {{channels: [fast]}}
channels:
  fast: ["{fast}"]
  drip: {{urls: ["{drip}"], timeout: 2s}}
feeds:
  - name: news
    url: {feed}
    interval: 1s
watches:
  - name: rare
    any: ["rare earth"]
    channels: [fast, drip]
"""


def healthcheck(state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NOTIFIER), "healthcheck", "--state-dir", str(state), "--max-age", "30s"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def test_sigterm_stops_in_time_while_a_webhook_drips_and_healthcheck_names_it(
    cli: CLI, tmp_path: Path, feeds: ThreadedFeedServer
) -> None:
    """A receiver answers 200 and then one byte a second: the fast channel still gets the
    alert; once the drip passes the 2 s deadline, /healthz and ``notifier healthcheck``
    (exit 1) name the channel; SIGTERM exits 0 within the 5 s grace; after a restart the
    dripping channel's alert is still pending (not lost, not counted as sent)."""
    with ThreadedWebhookReceiver() as fast, ThreadedWebhookReceiver() as drip:
        drip.drip(every=1.0, size=3600)
        feeds.feed("/news.xml", rss(("a1", "Old story", "x")))
        config = tmp_path / "watch.yaml"
        config.write_text(
            CONFIG.format(
                fast=fast.json_url("/f"), drip=drip.json_url("/d"), feed=feeds.url("/news.xml")
            ),
            "utf-8",
        )
        state = tmp_path / "state"
        daemon = Daemon(config, state, tmp_path / "daemon.log", port=free_port())
        try:
            daemon.wait_for_log("feed polled", feed="news", status="first_poll")
            assert healthcheck(state).returncode == 0
            feeds.feed("/news.xml", rss(("a2", "Rare earth deal", "y"), ("a1", "Old story", "x")))
            fast.wait_for(1, timeout=15)
            daemon.wait_for_log("send passed its deadline; the channel waits for it")
            deadline = time.monotonic() + 15
            while True:
                status, body = daemon.get("/healthz")
                if status == 503 and "drip" in json.loads(body)["stuck_channels"]:
                    break
                assert time.monotonic() < deadline, body
                time.sleep(0.3)
            time.sleep(2.5)  # the watchdog writes health.json every 2 s
            check = healthcheck(state)
            assert check.returncode == 1, check
            assert "channel drip" in check.stderr
            started = time.monotonic()
            assert daemon.stop(signal.SIGTERM, timeout=30) == 0
            assert time.monotonic() - started < 5 + 3
        finally:
            if daemon.proc.poll() is None:
                daemon.proc.kill()
            daemon.close()
        shown = cli("status", "--json", "--state-dir", str(state), "--config", str(config))
        assert shown.code == 0, shown.err
        channels = {c["name"]: c for c in json.loads(shown.out)["channels"]}
        assert channels["drip"]["sent"] == 0
        assert channels["drip"]["retrying"] + channels["drip"]["pending"] == 1
        assert channels["fast"]["sent"] == 1


ROTATION = """\
delivery: {{min_retry: 1s, max_retry: 2s}}
channels:
  chat: ["{chat}"]
  spare: ["{spare}"]
defaults: {{channels: [spare]}}
feeds:
  - name: news
    url: {feed}
    backfill: 5
watches:
  - name: rare
    any: ["rare earth"]
    channels: [chat]
"""


def test_a_rotated_url_gets_the_pending_alerts_and_status_tells_the_truth(
    cli: CLI, tmp_path: Path, feeds: ThreadedFeedServer
) -> None:
    """Five alerts are pending for a webhook URL that answers 503; the URL is rotated in
    the YAML: ``deliver`` sends all five to the new URL, the old one is not counted as
    a success, and ``status`` says 5 sent only once they were. Then the channel is
    removed while new alerts wait: they go to the default channel, marked."""
    with ThreadedWebhookReceiver() as old, ThreadedWebhookReceiver() as new:
        old.fail_with(503)
        feeds.feed("/news.xml", rss(*((f"a{i}", f"Rare earth story {i}", "x") for i in range(5))))
        config = tmp_path / "watch.yaml"
        state = tmp_path / "state"

        def write(chat: str, *, drop_chat: bool = False) -> None:
            text = ROTATION.format(
                chat=chat, spare=new.json_url("/spare"), feed=feeds.url("/news.xml")
            )
            if drop_chat:
                text = text.replace(f'  chat: ["{chat}"]\n', "").replace(
                    "    channels: [chat]\n", "    channels: [spare]\n"
                )
            config.write_text(text, "utf-8")

        def run(*args: str) -> Result:
            return cli(*args, "--config", str(config), "--state-dir", str(state))

        def chat_status() -> dict[str, int]:
            shown = run("status", "--json")
            assert shown.code == 0, shown.err
            channels = {c["name"]: c for c in json.loads(shown.out)["channels"]}
            chat: dict[str, int] = channels["chat"]
            return chat

        write(old.json_url("/token-1"))
        assert run("once").code == 0
        assert len(old.requests) == 5
        before = chat_status()
        assert (before["sent"], before["retrying"]) == (0, 5)

        write(new.json_url("/token-2"))
        time.sleep(1.1)  # past the retry backoff
        done = run("deliver")
        assert done.code == 0, done.err
        assert sorted(n.title for n in new.messages()) == [
            f"Rare earth story {i}" for i in range(5)
        ]
        assert len(old.requests) == 5  # the old URL got nothing more
        after = chat_status()
        assert (after["sent"], after["retrying"], after["pending"]) == (5, 0, 0)

        old.reset()
        write(old.json_url("/token-1"))
        feeds.feed(
            "/news.xml",
            rss(
                ("b1", "Rare earth quota", "y"),
                *((f"a{i}", f"Rare earth story {i}", "x") for i in range(5)),
            ),
        )
        assert run("once").code == 0  # the feed was polled; the chat URL fails again
        assert chat_status()["retrying"] == 1
        write(old.json_url("/token-1"), drop_chat=True)
        new.reset()
        done = run("deliver")
        assert done.code == 0, done.err
        (notice,) = new.messages()
        assert notice.title == "Rare earth quota"
        assert "meant for channel chat" in notice.body
        assert chat_status()["rerouted"] == 1
