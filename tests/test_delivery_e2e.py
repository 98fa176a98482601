"""Delivery end to end: ``notifier`` commands (run in this process, but for the sender
killed with SIGKILL, a real process), a local feed server, a real SMTP server (aiosmtpd)
and a real webhook receiver that can be switched to answer 503."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import CLI, NOTIFIER
from tests.feedserver import ThreadedFeedServer
from tests.receivers import SmtpReceiver, ThreadedWebhookReceiver
from tests.test_poll import rss

pytestmark = pytest.mark.slow

TOKEN = "tok-Zq81xLmWv3"

CONFIG = """\
timezone: America/New_York
delivery: {{min_retry: 1s, max_retry: 2s, max_age: 1h}}
defaults: {{channels: [email]}}
channels:
  email: ["{email}"]
  chat:
    urls: ["{chat}"]
    format: markdown
feeds:
  - name: news
    url: {feed}
    backfill: 10
watches:
  - name: rare-earths
    any: ["rare earth", "稀土"]
    severity: high
    channels: [email, chat]
"""


@pytest.fixture
def config(
    tmp_path: Path, feeds: ThreadedFeedServer, smtp: SmtpReceiver, chat: ThreadedWebhookReceiver
) -> Path:
    path = tmp_path / "watch.yaml"
    path.write_text(
        CONFIG.format(
            email=smtp.url(),
            chat=chat.json_url("/hook").replace("json://", "json://bot:${CHAT_TOKEN}@", 1),
            feed=feeds.url("/news.xml"),
        ),
        encoding="utf-8",
    )
    return path


def items(*titles: str) -> bytes:
    """Entries whose guid (and link path) is the title's first letters, without spaces."""
    return rss(
        *(("".join(t.split())[:24], t, f"{t} — details about 稀土 and rare earths") for t in titles)
    )


def run(cli: CLI, config: Path, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    r = cli(
        *args,
        "--config",
        str(config),
        "--state-dir",
        str(tmp_path / "state"),
        "--log-format",
        "json",
        "--log-level",
        "debug",
        env={"CHAT_TOKEN": TOKEN},
    )
    return r.code, r.out, r.err


def chat_titles(chat: ThreadedWebhookReceiver) -> list[str]:
    return sorted(n.title for n in chat.messages())


def test_match_arrives_by_email_and_webhook(
    cli: CLI,
    config: Path,
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
) -> None:
    """``once`` queues the match and sends it: the e-mail has the subject, UTF-8 body and link."""
    feeds.feed("/news.xml", items("China curbs 稀土 exports"))
    code, _, err = run(cli, config, tmp_path, "once")
    assert code == 0, err
    (mail,) = smtp.wait_for(1)
    assert mail["Subject"] == "[HIGH] China curbs 稀土 exports"
    (body,) = smtp.bodies()
    assert "稀土" in body
    assert "https://news.example.com/Chinacurbs稀土exports" in body
    assert "news · Mon 9 Jun 2025 20:00 EDT" in body  # published, in the config's zone
    chat.wait_for(1)
    (notice,) = chat.messages()
    assert notice.title == "[HIGH] China curbs 稀土 exports"
    assert chat.requests[0].basic_auth == ("bot", TOKEN)


def test_outage_retries_and_everything_arrives_once(
    cli: CLI,
    config: Path,
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
) -> None:
    """The webhook answers 503 for a while: e-mail keeps delivering; after recovery every
    alert reaches the webhook exactly once."""
    chat.fail_with(503)
    feeds.feed("/news.xml", items("Rare earth story one", "Rare earth story two"))
    code, _, _ = run(cli, config, tmp_path, "once")
    assert code == 0
    smtp.wait_for(2)
    assert chat.messages() == []
    assert len(chat.requests) == 2  # both tried, both refused

    code, out, _ = run(cli, config, tmp_path, "status")
    assert code == 0
    assert "chat: 0 queued, 0 held, 0 pending, 2 retrying, 0 dead, 0 sent" in out

    code, _, _ = run(cli, config, tmp_path, "deliver")  # still down: exit 3, still pending
    assert code == 3

    chat.recover()
    code, _, err = run(cli, config, tmp_path, "deliver", "--wait", "20s")
    assert code == 0, err
    assert chat_titles(chat) == ["[HIGH] Rare earth story one", "[HIGH] Rare earth story two"]
    assert sorted(smtp.subjects()) == ["[HIGH] Rare earth story one", "[HIGH] Rare earth story two"]
    code, _, _ = run(cli, config, tmp_path, "deliver", "--wait", "2s")
    assert len(chat.messages()) == 2
    assert len(smtp.messages) == 2


def test_sigkill_while_pending_loses_nothing_and_repeats_nothing(
    cli: CLI,
    config: Path,
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
) -> None:
    """A sender killed with SIGKILL while alerts are pending: after a restart every alert
    arrives, and none that had been delivered before the crash is sent again."""
    feeds.feed("/news.xml", items("Rare earth early"))
    assert run(cli, config, tmp_path, "once")[0] == 0
    chat.wait_for(1)

    chat.fail_with(503)
    feeds.feed("/news.xml", items("Rare earth late A", "Rare earth late B", "Rare earth early"))
    assert run(cli, config, tmp_path, "once")[0] == 0
    smtp.wait_for(3)

    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env["CHAT_TOKEN"] = TOKEN
    sender = subprocess.Popen(
        [
            str(NOTIFIER),
            "deliver",
            "--wait",
            "60s",
            "--config",
            str(config),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        refused_before = len(chat.requests)
        deadline = time.monotonic() + 20
        while len(chat.requests) < refused_before + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(chat.requests) >= refused_before + 2, "the sender never retried"
    finally:
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=10)
    assert sender.returncode == -signal.SIGKILL

    chat.recover()
    code, _, err = run(cli, config, tmp_path, "deliver", "--wait", "20s")
    assert code == 0, err
    assert chat_titles(chat) == [
        "[HIGH] Rare earth early",
        "[HIGH] Rare earth late A",
        "[HIGH] Rare earth late B",
    ]
    assert sorted(smtp.subjects()) == [
        "[HIGH] Rare earth early",
        "[HIGH] Rare earth late A",
        "[HIGH] Rare earth late B",
    ]


def test_test_channel_reports_each_url(
    cli: CLI, config: Path, tmp_path: Path, smtp: SmtpReceiver, chat: ThreadedWebhookReceiver
) -> None:
    """``test-channel`` sends right away and says per URL whether it worked, and why not."""
    code, out, _ = run(cli, config, tmp_path, "test-channel", "email")
    assert code == 0
    assert out.startswith("✓ mailto://")
    smtp.wait_for(1)
    chat.fail_with(503)
    code, out, _ = run(cli, config, tmp_path, "test-channel", "chat")
    assert code == 1
    assert "✗ json://bot:****@127.0.0.1" in out
    assert "503" in out
    code, _, err = run(cli, config, tmp_path, "test-channel", "nope")
    assert code == 2
    assert "unknown channel 'nope' (known: email, chat)" in err


def test_the_token_never_appears_in_any_output(
    cli: CLI,
    config: Path,
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    smtp: SmtpReceiver,
    chat: ThreadedWebhookReceiver,
) -> None:
    """A run at debug level whose chat URL carries a token, with failures logged: the token
    appears in no log line and no output of once, deliver, status or test-channel."""
    feeds.feed("/news.xml", items("Rare earth token test"))
    chat.fail_with(503)
    outputs = []
    for args in (
        ("check",),
        ("once",),
        ("deliver",),
        ("status",),
        ("status", "--json"),
        ("test-channel", "chat"),
    ):
        _, out, err = run(cli, config, tmp_path, *args)
        outputs.append(out + err)
    text = "\n".join(outputs)
    assert "alert not sent" in text  # the failures were logged
    assert TOKEN not in text
    assert chat.requests[0].basic_auth == ("bot", TOKEN)  # it was really used


def test_status_json(cli: CLI, config: Path, tmp_path: Path, feeds: ThreadedFeedServer) -> None:
    """``status --json`` reports feeds and channels for scripts."""
    feeds.feed("/news.xml", items("Rare earth json"))
    run(cli, config, tmp_path, "once")
    code, out, _ = run(cli, config, tmp_path, "status", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["feeds"][0]["name"] == "news"
    assert data["feeds"][0]["healthy"] is True
    assert {c["name"] for c in data["channels"]} == {"email", "chat"}


def test_chat_style_ntfy_channel_delivers_and_retries(
    cli: CLI, tmp_path: Path, feeds: ThreadedFeedServer, chat: ThreadedWebhookReceiver
) -> None:
    """A chat-style ``ntfy://`` channel at 127.0.0.1: a 503 outage is retried, and the
    alert arrives once after recovery, with its title and UTF-8 text."""
    path = tmp_path / "ntfy.yaml"
    path.write_text(
        "delivery: {min_retry: 1s, max_retry: 2s}\n"
        f"channels:\n  phone: ['{chat.ntfy_url('alerts')}']\n"
        f"feeds:\n  - name: news\n    url: {feeds.url('/news.xml')}\n    backfill: 5\n"
        "watches:\n  - name: rare\n    any: ['稀土']\n",
        encoding="utf-8",
    )
    feeds.feed("/news.xml", items("稀土 quota cut"))
    chat.fail_with(503)
    state = str(tmp_path / "state")
    assert cli("once", "--config", str(path), "--state-dir", state).code == 0
    assert chat.messages() == []
    chat.recover()
    r = cli("deliver", "--wait", "20s", "--config", str(path), "--state-dir", state)
    assert r.code == 0, r.err
    (notice,) = chat.messages()
    assert notice.title == "稀土 quota cut"
    assert "稀土 quota cut — details about 稀土" in notice.body
