"""``notifier mute``, ``mutes`` and ``unmute`` (in this process) against real SQLite
state, a local feed server and a webhook receiver: what a mute holds, and the one
digest that follows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import CLI
from tests.feedserver import ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver
from tests.test_poll import rss as poll_rss

CONFIG = """\
timezone: America/New_York
channels:
  chat: ["{chat}"]
feeds:
  - {{name: wire, url: "{url}", backfill: 10}}
watches:
  - name: tariffs
    any: [tariff]
    channels: [chat]
  - name: ports
    any: [port]
    channels: [chat]
  - name: wire
    any: [strike]
    channels: [chat]
"""


def rss(*items: tuple[str, str, str]) -> bytes:
    return poll_rss(*items, published=datetime.now(UTC))


@pytest.fixture
def setup(
    tmp_path: Path, feeds: ThreadedFeedServer, chat: ThreadedWebhookReceiver
) -> tuple[Path, tuple[str, ...]]:
    config = tmp_path / "watch.yaml"
    text = CONFIG.format(url=feeds.url("/wire.xml"), chat=chat.json_url("/hook"))
    config.write_text(text, encoding="utf-8")
    return config, ("--config", str(config), "--state-dir", str(tmp_path / "state"))


def mutes(cli: CLI, flags: tuple[str, ...]) -> list[dict[str, object]]:
    r = cli("mutes", "--json", *flags)
    assert r.code == 0, r.err
    found: list[dict[str, object]] = json.loads(r.out)
    return found


def test_mute_lists_shows_in_status_and_unmute_ends_it(
    cli: CLI, setup: tuple[Path, tuple[str, ...]]
) -> None:
    """A mute is listed by ``mutes`` (text and JSON: target, until, reason, who) and by
    ``status``; ``unmute`` ends it; unmuting again says it was not muted (exit 0)."""
    _, flags = setup
    assert mutes(cli, flags) == []  # no state yet
    r = cli(
        "mute", "tariffs", "--for", "2h", "--reason", "in a meeting", *flags, env={"USER": "ana"}
    )
    assert r.code == 0, r.err
    assert r.out.startswith("Muted watch:tariffs until ")
    (listed,) = mutes(cli, flags)
    assert (listed["target"], listed["reason"], listed["who"]) == (
        "watch:tariffs",
        "in a meeting",
        "ana",
    )
    until = datetime.fromisoformat(str(listed["until"]))
    assert 7100 < (until - datetime.now(UTC)).total_seconds() <= 7200
    text = cli("mutes", *flags).out
    assert "watch:tariffs until" in text
    assert "by ana: in a meeting" in text
    assert "1 active mute" in text
    status = cli("status", *flags)
    assert "muted (1;" in status.out
    assert "watch:tariffs" in status.out
    assert json.loads(cli("status", "--json", *flags).out)["mutes"][0]["target"] == "watch:tariffs"

    r = cli("unmute", "watch:tariffs", *flags)
    assert (r.code, r.out.startswith("Unmuted watch:tariffs")) == (0, True)
    assert mutes(cli, flags) == []
    r = cli("unmute", "tariffs", *flags)
    assert (r.code, r.out.strip()) == (0, "watch:tariffs was not muted.")


def test_unknown_or_ambiguous_targets_are_usage_errors(
    cli: CLI, setup: tuple[Path, tuple[str, ...]]
) -> None:
    """An unknown target, an ambiguous bare name (a watch and a feed both called
    ``wire``) and a bad duration exit 2 with one line; the kind prefix resolves it."""
    _, flags = setup
    r = cli("mute", "nothing", "--for", "1h", *flags)
    assert r.code == 2
    assert r.err.strip().splitlines() == [
        "notifier: no watch, feed or channel named 'nothing' in the config"
    ]
    r = cli("mute", "wire", "--for", "1h", *flags)
    assert r.code == 2
    assert "say feed:wire or watch:wire" in r.err
    assert len(r.err.strip().splitlines()) == 1
    r = cli("mute", "channel:nope", "--for", "1h", *flags)
    assert (r.code, r.err.strip()) == (2, "notifier: no channel named 'nope' in the config")
    assert cli("mute", "feed:wire", "--for", "soon", *flags).code == 2
    assert cli("mute", "feed:wire", "--reason", " ", *flags).code == 2
    assert mutes(cli, flags) == []
    assert cli("mute", "feed:wire", "--for", "1h", *flags).code == 0
    assert cli("mute", "chat", "--for", "1h", *flags).code == 0
    assert [m["target"] for m in mutes(cli, flags)] == ["feed:wire", "channel:chat"]


def test_the_commands_have_help(cli: CLI) -> None:
    """``--help`` of each command exits 0 and shows its usage."""
    for command in ("mute", "mutes", "unmute"):
        r = cli(command, "--help")
        assert (r.code, "usage: notifier" in r.out) == (0, True)


def test_a_muted_watch_holds_its_alerts_and_unmute_sends_one_digest(
    cli: CLI,
    setup: tuple[Path, tuple[str, ...]],
    feeds: ThreadedFeedServer,
    chat: ThreadedWebhookReceiver,
) -> None:
    """While a watch is muted its matches are kept, not sent; an entry another unmuted
    watch also matched goes at once. After ``unmute`` the next ``deliver`` sends the held
    ones as one digest, "while muted: 2 stories", and nothing twice."""
    _, flags = setup
    feeds.feed("/wire.xml", rss(("a0", "Quiet day", "nothing")))
    assert cli("once", *flags).code == 0  # the first poll: silent
    assert cli("mute", "tariffs", "--for", "1h", *flags).code == 0
    feeds.feed(
        "/wire.xml",
        rss(
            ("a1", "Steel tariff raised", "x"),
            ("a2", "Tariff on chips", "y"),
            ("a3", "Port tariff dispute", "z"),  # tariffs and ports: ports is not muted
            ("a0", "Quiet day", "nothing"),
        ),
    )
    r = cli("once", *flags)
    assert r.code == 0, r.err
    assert [n.title for n in chat.messages()] == ["Port tariff dispute"]
    status = json.loads(cli("status", "--json", *flags).out)
    assert status["channels"][0]["held"] == 2

    assert cli("deliver", *flags).code == 0  # still muted: nothing more
    assert len(chat.messages()) == 1
    assert cli("unmute", "tariffs", *flags).code == 0
    r = cli("deliver", *flags)
    assert r.code == 0, r.err
    titles = [n.title for n in chat.messages()]
    assert len(titles) == 2
    digest = chat.messages()[1]
    assert "While muted: 2 stories" in digest.body
    assert "Steel tariff raised" in digest.body
    assert "Tariff on chips" in digest.body
    assert cli("deliver", *flags).code == 0
    assert len(chat.messages()) == 2
