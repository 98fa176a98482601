"""Deadline discovery end to end, with the real ``notifier run`` process, a local feed
server and a webhook receiver playing the chat service:

an article states a deadline → a "Possible deadline" alert arrives with the command to
accept it → ``notifier accept`` (a real process) writes it into the YAML, comments kept →
the daemon reloads and the reminder arrives on time → a later article says the deadline
was extended → a "Possible move" arrives → ``accept`` moves it → "Deadline moved" follows.
"""

from __future__ import annotations

import re
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import NOTIFIER
from tests.feedserver import ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver
from tests.test_daemon_e2e import Daemon, daemons, start
from tests.test_poll import rss as poll_rss

__all__ = ["daemons"]  # the fixture, used by name

pytestmark = pytest.mark.slow

NY = ZoneInfo("America/New_York")

CONFIG = """\
# The trade desk's watch config. `notifier accept` must keep these comments.
timezone: America/New_York
delivery: {{min_retry: 1s, max_retry: 2s}}

defaults:
  channels: [chat]   # every alert goes to the desk's chat

channels:
  chat: ["{chat}"]

feeds:
  - name: news       # a local feed server
    url: {feed}
    interval: 1s

watches:
  - name: rare-earths
    any: ["rare earth"]

deadlines:
  # Already past: tracked for the record.
  - name: geneva-truce
    title: Geneva tariff truce ends
    due: 2025-08-12
"""


def rss(*items: tuple[str, str, str]) -> bytes:
    """A feed whose items were all published just now."""
    return poll_rss(*items, published=datetime.now(UTC))


def spoken(moment: datetime) -> str:
    """ "5:07 p.m. ET on December 2, 2026" (the moment in New York)."""
    local = moment.astimezone(NY)
    hour = local.hour % 12 or 12
    half = "a.m." if local.hour < 12 else "p.m."
    return f"{hour}:{local.minute:02d} {half} ET on {local:%B} {local.day}, {local.year}"


def notifier(config: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NOTIFIER), "--config", str(config), "--state-dir", str(state), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def wait_title(chat: ThreadedWebhookReceiver, prefix: str, timeout: float = 30) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for n in chat.messages():
            if prefix in n.title:
                return n.title, n.body
        time.sleep(0.1)
    raise AssertionError(
        f"no {prefix!r} alert within {timeout} s: {[n.title for n in chat.messages()]}"
    )


def test_found_deadline_accepted_reminded_then_moved(
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    chat: ThreadedWebhookReceiver,
    daemons: list[Daemon],
) -> None:
    config = tmp_path / "watch.yaml"
    state = tmp_path / "state"
    feeds.feed("/news.xml", rss(("old", "An old story", "Nothing to see.")))
    original = CONFIG.format(chat=chat.json_url("/hook"), feed=feeds.url("/news.xml"))
    config.write_text(original, encoding="utf-8")
    daemon = start(config, tmp_path, daemons)
    daemon.wait_for_log("feed polled", feed="news", status="first_poll")

    # Due 60–120 s from now (whole minutes): a reminder 30 s before it comes in the test.
    now = datetime.now(UTC)
    due = (now + timedelta(seconds=120)).replace(second=0, microsecond=0)
    feeds.feed(
        "/news.xml",
        rss(
            (
                "rule",
                "Rare earth export rule opens for comment",
                f"Comments on the rare earth export rule are due by {spoken(due)}.",
            ),
            ("old", "An old story", "Nothing to see."),
        ),
    )
    title, body = wait_title(chat, "Possible deadline")
    assert "Comments on the rare earth export rule" in title
    assert "Comments on the rare earth export rule are due by" in body
    command = re.search(r"Accept: (notifier .*? accept (\w+))", body)
    assert command is not None, body
    pid = command.group(2)
    assert f"--state-dir {state.absolute()}" in command.group(1)

    listed = notifier(config, state, "proposals", "--json")
    assert listed.returncode == 0, listed.stderr
    assert pid in listed.stdout

    done = notifier(config, state, "accept", pid, "--remind", "30s")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "watch.yaml.bak").read_text(encoding="utf-8") == original
    written = config.read_text(encoding="utf-8")
    for line in original.splitlines():  # every line of the user's file is still there
        assert line in written.splitlines(), line
    assert re.search(rf"due: \"?{due.astimezone(NY):%Y-%m-%dT%H:%M}\"?\n", written)
    daemon.wait_for_log("config reloaded", timeout=20)

    # The reminder 30 s before the due time, on time.
    planned = due - timedelta(seconds=30)
    reminder_title, _ = wait_title(chat, "— in 30 seconds", timeout=200)
    arrived = datetime.now(UTC)
    assert "Comments on the rare earth export rule" in reminder_title
    assert planned - timedelta(seconds=1) <= arrived <= planned + timedelta(seconds=15)

    # Later: the deadline is extended. A possible move, accepted, moves it.
    later = due + timedelta(days=7)
    feeds.feed(
        "/news.xml",
        rss(
            (
                "extended",
                "Rare earth rule: more time for comments",
                "The comment deadline for the rare earth export rule was extended to "
                f"{later.astimezone(NY):%B} {later.astimezone(NY).day}, {later.year}.",
            ),
            ("rule", "Rare earth export rule opens for comment", "…"),
        ),
    )
    _, move_body = wait_title(chat, "Possible move")
    move = re.search(r"accept (\w+)", move_body)
    assert move is not None, move_body
    done = notifier(config, state, "accept", move.group(1))
    assert done.returncode == 0, done.stderr
    assert re.search(
        rf"due: \"?{later.astimezone(NY):%Y-%m-%d}\"?\n", config.read_text(encoding="utf-8")
    )
    moved_title, _ = wait_title(chat, "Deadline moved", timeout=30)
    assert "Comments on the rare earth export rule" in moved_title
    assert daemon.stop() == 0

    # Nothing is open any more; both were accepted.
    listed = notifier(config, state, "proposals")
    assert listed.returncode == 0
    assert listed.stdout.strip().endswith("0 open proposals")
