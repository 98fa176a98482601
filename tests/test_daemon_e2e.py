"""The real ``notifier run`` process: schedule, delivery, reload, health, clean stop.

Each test starts the daemon as a subprocess against a local feed server, a real
SMTP server and a webhook receiver, with poll intervals of a second.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import NOTIFIER, ROOT
from tests.feedserver import ThreadedFeedServer
from tests.receivers import SmtpReceiver, ThreadedWebhookReceiver
from tests.test_poll import rss

pytestmark = pytest.mark.slow

CONFIG = """\
timezone: America/New_York
delivery: {{min_retry: 1s, max_retry: 2s}}
defaults: {{channels: [email]}}
channels:
  email: ["{email}"]
  chat: ["{chat}"]
feeds:
  - name: news
    url: {feed}
    interval: 1s
watches:
  - name: rare-earths
    any: ["rare earth"]
    channels: [email, chat]
{extra}"""


def free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Daemon:
    """A running ``notifier run`` subprocess with its log captured to a file."""

    def __init__(
        self,
        config: Path,
        state: Path,
        log: Path,
        port: int | None = None,
        extra: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
        command: str = "run",
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        env.update(environ or {})  # the test's own NOTIFIER_* (e.g. NOTIFIER_SECRET)
        args = [str(NOTIFIER), command, "--config", str(config), "--state-dir", str(state), *extra]
        # DEBUG: the tests wait for routine lines ("feed polled" with nothing new).
        args += ["--log-format", "json", "--log-level", "debug", "--grace", "5"]
        if port is not None:
            args += ["--health-port", str(port)]
        self.log_path = log
        self.port = port
        self._log = log.open("ab")
        self.proc = subprocess.Popen(args, env=env, stdout=self._log, stderr=self._log)

    def log(self) -> list[dict[str, object]]:
        lines = []
        for raw in self.log_path.read_text(encoding="utf-8").splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines

    def wait_for_log(self, event: str, timeout: float = 20, **fields: object) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log():
                if line.get("event") == event and all(line.get(k) == v for k, v in fields.items()):
                    return line
            assert self.proc.poll() is None, f"daemon exited: {self.log_path.read_text()[-2000:]}"
            time.sleep(0.1)
        raise AssertionError(f"no log line {event!r} {fields} within {timeout} s")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.close()
        return code

    def close(self) -> None:
        if not self._log.closed:
            self._log.close()


@pytest.fixture
def setup(
    tmp_path: Path, feeds: ThreadedFeedServer, smtp: SmtpReceiver, chat: ThreadedWebhookReceiver
) -> Iterator[tuple[Path, list[Daemon]]]:
    """The config path, and a list the test puts its daemons in (stopped afterwards)."""
    feeds.feed("/news.xml", rss(("a1", "Old story", "x")))
    with stopped_afterwards() as daemons:
        yield tmp_path / "watch.yaml", daemons


@contextlib.contextmanager
def stopped_afterwards() -> Iterator[list[Daemon]]:
    """A list to put daemons in; any still running at the end is killed."""
    daemons: list[Daemon] = []
    try:
        yield daemons
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait(timeout=10)
            d.close()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """The test's daemons, killed afterwards if still running."""
    with stopped_afterwards() as started:
        yield started


def write_config(
    path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
    extra: str = "",
) -> None:
    text = CONFIG.format(
        email=smtp.url(), chat=chat.json_url("/hook"), feed=feeds.url("/news.xml"), extra=extra
    )
    path.write_text(text, encoding="utf-8")


def start(path: Path, tmp: Path, daemons: list[Daemon], port: int | None = None) -> Daemon:
    daemon = Daemon(path, tmp / "state", tmp / f"daemon-{len(daemons)}.log", port)
    daemons.append(daemon)
    daemon.wait_for_log("daemon started")
    return daemon


def test_new_item_arrives_by_email_and_webhook_once(
    setup: tuple[Path, list[Daemon]],
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
) -> None:
    """An item added to a feed arrives by e-mail and webhook within a few intervals, once;
    SIGTERM exits 0 and a restart resends nothing."""
    path, daemons = setup
    write_config(path, feeds, smtp, chat)
    daemon = start(path, tmp_path, daemons)
    daemon.wait_for_log("feed polled", feed="news", status="first_poll")
    feeds.feed("/news.xml", rss(("a2", "New rare earth rules", "y"), ("a1", "Old story", "x")))
    smtp.wait_for(1, timeout=15)
    chat.wait_for(1, timeout=15)
    time.sleep(3)  # several more polls: nothing more arrives
    assert smtp.subjects() == ["New rare earth rules"]
    assert [n.title for n in chat.messages()] == ["New rare earth rules"]
    started = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - started < 10
    assert any(line.get("event") == "daemon stopped" for line in daemon.log())

    again = start(path, tmp_path, daemons)
    again.wait_for_log("feed polled", feed="news", status="not_modified")
    time.sleep(2)
    assert again.stop() == 0
    assert len(smtp.messages) == 1
    assert len(chat.messages()) == 1


def test_deadline_reminders_arrive_in_order_near_their_time(
    setup: tuple[Path, list[Daemon]],
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
) -> None:
    """A deadline a few seconds ahead: its reminders reach the webhook in order, none early
    and each soon after its planned time."""
    path, daemons = setup
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=12)
    extra = (
        "deadlines:\n"
        "  - name: soon\n"
        "    title: Tariff pause ends\n"
        f"    due: {due.isoformat().replace('+00:00', 'Z')}\n"
        "    remind: [6s, 3s]\n"
        "    channels: [chat]\n"
    )
    write_config(path, feeds, smtp, chat, extra)
    daemon = start(path, tmp_path, daemons)
    chat.wait_for(3, timeout=30)
    titles = [n.title for n in chat.messages()]
    assert titles == [
        "[HIGH] Tariff pause ends — in 6 seconds",
        "[HIGH] Tariff pause ends — in 3 seconds",
        "[HIGH] Due now: Tariff pause ends",
    ]
    deadline = time.monotonic() + 10
    while True:  # the receiver can have the message a moment before the log line is written
        sent = [
            datetime.fromisoformat(str(line["timestamp"]))
            for line in daemon.log()
            if line.get("event") == "alert sent" and line.get("channel") == "chat"
        ]
        if len(sent) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    planned = [due - timedelta(seconds=6), due - timedelta(seconds=3), due]
    assert len(sent) == 3
    for actual, plan in zip(sent, planned, strict=True):
        # Generous on a loaded CI machine; the benchmark measures the real accuracy.
        assert timedelta(0) <= actual - plan < timedelta(seconds=5), (actual, plan)
    assert daemon.stop() == 0


def test_broken_edit_keeps_the_old_config_and_a_fix_applies(
    setup: tuple[Path, list[Daemon]],
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
) -> None:
    """Broken YAML written over the config: the daemon keeps running and alerting on the old
    config, logs the error with line and column, alerts once; the fix applies without restart."""
    path, daemons = setup
    write_config(path, feeds, smtp, chat)
    daemon = start(path, tmp_path, daemons)
    daemon.wait_for_log("feed polled", feed="news", status="first_poll")

    path.write_text(path.read_text(encoding="utf-8") + "  - name: broken\n    any: [\n", "utf-8")
    rejected = daemon.wait_for_log("config rejected")
    assert re.search(r"watch\.yaml:\d+:\d+: ", str(rejected["problem"]))
    smtp.wait_for(1, timeout=15)  # the one "config rejected" notice to the default channel
    assert "Config rejected" in smtp.subjects()[0]

    feeds.feed("/news.xml", rss(("a3", "Rare earth magnets", "z"), ("a1", "Old story", "x")))
    chat.wait_for(1, timeout=15)  # still alerting on the old config
    assert daemon.proc.poll() is None

    write_config(
        path,
        feeds,
        smtp,
        chat,
        extra="  - name: tariffs\n    any: [tariff]\n    channels: [chat]\n",
    )
    daemon.wait_for_log("config reloaded")
    feeds.feed(
        "/news.xml",
        rss(("a4", "Tariff on steel", "t"), ("a3", "Rare earth magnets", "z")),
    )
    chat.wait_for(2, timeout=15)
    assert [n.title for n in chat.messages()] == ["Rare earth magnets", "Tariff on steel"]
    assert len([s for s in smtp.subjects() if "Config rejected" in s]) == 1
    assert daemon.stop() == 0


def test_health_and_metrics_reflect_the_run(
    setup: tuple[Path, list[Daemon]],
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
) -> None:
    """``/healthz`` answers ok; ``/metrics`` counts polls, matches and alerts sent."""
    path, daemons = setup
    write_config(path, feeds, smtp, chat)
    daemon = start(path, tmp_path, daemons, port=free_port())
    daemon.wait_for_log("feed polled", feed="news", status="first_poll")
    feeds.feed("/news.xml", rss(("a5", "Rare earth deal", "d"), ("a1", "Old story", "x")))
    chat.wait_for(1, timeout=15)
    status, body = daemon.get("/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
    smtp.wait_for(1, timeout=15)
    deadline = time.monotonic() + 10
    while True:  # the sender's pass ends a moment after the last receiver got its copy
        status, text = daemon.get("/metrics")
        assert status == 200
        values = dict(re.findall(r"^(notifier_\S+) (\S+)$", text, re.MULTILINE))
        if float(values['notifier_alerts_total{outcome="sent"}']) >= 2:
            break
        assert time.monotonic() < deadline, text
        time.sleep(0.2)
    assert float(values['notifier_polls_total{status="parsed"}']) >= 1
    assert float(values["notifier_matches_total"]) >= 1
    assert float(values['notifier_alerts_total{outcome="sent"}']) >= 2
    assert daemon.stop() == 0


def test_container_entrypoint_outside_docker(tmp_path: Path) -> None:
    """The Dockerfile's ENTRYPOINT + CMD and ENV run the daemon (paths moved into tmp), and its
    HEALTHCHECK command reports healthy once the heartbeat is written."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    entrypoint = json.loads(re.findall(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.MULTILINE)[-1])
    cmd = json.loads(re.findall(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)[-1])
    health = re.search(r"HEALTHCHECK .*CMD (\[.*\])", dockerfile)
    assert entrypoint == ["notifier"]
    assert health is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env.update(
        NOTIFIER_CONFIG=str(ROOT / "config" / "watch.yaml"),
        NOTIFIER_STATE_DIR=str(tmp_path / "data"),
        NOTIFIER_LOG_FORMAT="json",
    )
    binary = [str(NOTIFIER), *entrypoint[1:]]
    proc = subprocess.Popen(
        [*binary, *cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        check = [str(NOTIFIER), *json.loads(health.group(1))[1:]]
        while time.monotonic() < deadline:
            if subprocess.run(check, env=env, capture_output=True, check=False).returncode == 0:
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the health check never passed")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err.decode()[-2000:]


def test_the_morning_brief_arrives_at_its_time_once_even_across_a_restart(
    setup: tuple[Path, list[Daemon]],
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
) -> None:
    """``brief.at`` a few seconds ahead (local time, every day): exactly one brief
    reaches the webhook, not before its time; a restarted daemon sends no second one."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    path, daemons = setup
    zone = ZoneInfo("America/New_York")
    at = datetime.now(zone).replace(microsecond=0) + timedelta(seconds=6)
    if at.date() != (at + timedelta(seconds=30)).date():
        pytest.skip("too close to local midnight")
    extra = f'brief:\n  at: "{at:%H:%M:%S}"\n  channels: [chat]\n'
    write_config(path, feeds, smtp, chat, extra)
    daemon = start(path, tmp_path, daemons)
    assert chat.messages() == []
    chat.wait_for(1, timeout=20)
    arrived = datetime.now(zone)
    (brief,) = chat.messages()
    assert brief.title.startswith(f"Morning brief — {at:%a} {at.day} {at:%b %Y}")
    assert arrived >= at
    assert arrived - at < timedelta(seconds=5)
    daemon.wait_for_log("brief queued", day=at.date().isoformat())
    assert daemon.stop() == 0

    again = start(path, tmp_path, daemons)
    again.wait_for_log("feed polled", feed="news")
    time.sleep(3)
    assert again.stop() == 0
    assert len(chat.messages()) == 1
    assert sum(line.get("event") == "brief queued" for line in again.log()) == 0
