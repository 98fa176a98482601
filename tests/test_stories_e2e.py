"""Stories end to end: ``notifier once``/``history``/``replay`` (in this process) against a
local feed server and a real webhook receiver playing the chat service."""

from __future__ import annotations

import json
import time
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.conftest import CLI
from tests.feedserver import ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver
from tests.test_daemon_e2e import Daemon, start

pytestmark = pytest.mark.slow

CONFIG = """\
timezone: America/New_York
delivery: {{min_retry: 1s, max_retry: 2s, max_age: 1h}}
defaults: {{channels: [chat]}}
channels:
  chat: ["{chat}"]
feeds:
  - {{name: wire, url: "{base}/wire.xml", backfill: 10}}
  - {{name: mirror, url: "{base}/mirror.xml", backfill: 10}}
  - {{name: digest, url: "{base}/digest.xml", backfill: 10}}
  - {{name: zh, url: "{base}/zh.xml", backfill: 10}}
  - {{name: ustr, url: "{base}/ustr.xml", backfill: 10, official: true}}
watches:
  - name: rare-earths
    any: ["rare earth", "稀土"]
  - name: export-controls
    any: ["export controls"]
    severity: high
  - name: china
    any: ["China"]
    severity: low
  - name: truce
    any: ["tariff truce", "tariff pause", "关税"]
{extra}"""

SUMMARY = (
    "Washington and Beijing agreed on Monday to extend their tariff truce by 90 days, "
    "keeping the 30% rate on Chinese goods and 10% on American goods until November 10, "
    "officials said after talks in Stockholm."
)


def item(guid: str, title: str, summary: str, link: str, hour: int = 0) -> str:
    return (
        f"<item><guid isPermaLink='false'>{escape(guid)}</guid><title>{escape(title)}</title>"
        f"<link>{escape(link)}</link><description>{escape(summary)}</description>"
        f"<pubDate>Tue, 10 Jun 2025 0{hour}:00:00 GMT</pubDate></item>"
    )


def rss(*items: str) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Trade news</title><link>https://news.example.com/</link>{''.join(items)}"
        "</channel></rss>"
    ).encode()


@pytest.fixture
def write_config(
    tmp_path: Path, feeds: ThreadedFeedServer, chat: ThreadedWebhookReceiver
) -> WriteConfig:
    return WriteConfig(tmp_path, feeds, chat)


class WriteConfig:
    def __init__(self, tmp_path: Path, feeds: ThreadedFeedServer, chat: ThreadedWebhookReceiver):
        self.path = tmp_path / "watch.yaml"
        self.base = feeds.url("/").rstrip("/")
        self.chat = chat.json_url("/hook")
        for name in ("wire", "mirror", "digest", "zh", "ustr"):
            feeds.feed(f"/{name}.xml", rss())
        self.write()

    def write(self, extra: str = "") -> Path:
        self.path.write_text(
            CONFIG.format(chat=self.chat, base=self.base, extra=extra), encoding="utf-8"
        )
        return self.path


def cli_args(config: Path, tmp_path: Path) -> tuple[str, ...]:
    return ("--config", str(config), "--state-dir", str(tmp_path / "state"))


def once(cli: CLI, config: Path, tmp_path: Path, *more: str) -> str:
    r = cli("once", *more, *cli_args(config, tmp_path))
    assert r.code == 0, r.err
    return r.out


def titles(chat: ThreadedWebhookReceiver) -> list[str]:
    return [n.title for n in chat.messages()]


def test_one_story_in_three_feeds_is_one_alert_then_one_update_from_the_official_feed(
    cli: CLI,
    write_config: WriteConfig,
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    chat: ThreadedWebhookReceiver,
) -> None:
    config = write_config.path
    link = "https://news.example.com/2025/06/truce-extended"
    feeds.feed(
        "/wire.xml",
        rss(item("w1", "US and China extend tariff truce by 90 days", SUMMARY, link)),
    )
    # The first source is polled first: the copies arrive in the next cycle, in any
    # order. (Copies polled in one cycle with the first are grouped as they complete;
    # a translation that only shares the link can then start a story of its own, if
    # it is recorded before the entry that carries that link. See the README.)
    first = [json.loads(line) for line in once(cli, config, tmp_path, "--json").splitlines()]
    assert [line["change"] for line in first] == ["match"]
    # The same link with tracking parameters, and a title rewritten by a second outlet.
    feeds.feed(
        "/mirror.xml",
        rss(
            item(
                "m1",
                "Washington, Beijing prolong tariff truce for another 90 days",
                SUMMARY,
                link + "?utm_source=rss&utm_medium=feed&utm_campaign=trade",
            )
        ),
    )
    # A near-duplicate under its own link: the same text, lightly edited.
    feeds.feed(
        "/digest.xml",
        rss(
            item(
                "d1",
                "US, China agree to extend tariff truce by 90 days",
                SUMMARY.replace("officials said", "according to officials,"),
                "https://digest.example.org/p/48213",
            )
        ),
    )
    # A Chinese copy of the article, at the same link (an AMP variant).
    feeds.feed(
        "/zh.xml",
        rss(item("z1", "中美同意将关税休战延长90天", "双方同意延长关税休战。", link + "/amp")),
    )
    out = once(cli, config, tmp_path, "--json")
    chat.wait_for(1)
    assert titles(chat) == ["US and China extend tariff truce by 90 days"]  # one message
    lines = [json.loads(line) for line in out.splitlines()]
    assert sorted(line["feed"] for line in lines) == ["digest", "mirror", "zh"]
    assert {line["change"] for line in lines} == {"source"}, lines
    assert {line["alerted"] for line in lines} == {False}
    assert len({line["story"]["id"] for line in lines}) == 1  # one story: the first's
    assert first[0]["story"]["id"] == lines[0]["story"]["id"]

    # The official feed carries it: that is news, and alerts once more as an update.
    feeds.feed(
        "/ustr.xml",
        rss(
            item(
                "u1",
                "USTR: United States and China extend tariff truce",
                SUMMARY,
                "https://ustr.example.gov/about/press/2025/june/truce",
            )
        ),
    )
    once(cli, config, tmp_path)
    chat.wait_for(2)
    second = titles(chat)[1]
    assert second.startswith("Update: "), second
    body = chat.messages()[1].body
    assert "official source ustr" in body
    assert "Story: +4 more sources" in body

    # Polling again changes nothing.
    once(cli, config, tmp_path)
    assert len(chat.messages()) == 2

    # history lists the story with its sources, and finds it by a Chinese word.
    r = cli("history", "--since", "7d", "--json", *cli_args(config, tmp_path))
    assert r.code == 0, r.err
    (story,) = json.loads(r.out)
    assert len(story["sources"]) == 5
    r = cli("history", "--search", "关税", *cli_args(config, tmp_path))
    assert r.code == 0, r.err
    assert "+4 sources" in r.out

    # status counts the stories: 5 entries, 1 story, matched.
    r = cli("status", "--json", *cli_args(config, tmp_path))
    counts = json.loads(r.out)["stories_24h"]
    assert (counts["entries"], counts["stories"], counts["matched_stories"]) == (5, 1, 1)
    r = cli("status", *cli_args(config, tmp_path))
    assert "stories (last 24 h): 1 story from 5 new entries; 1 matched" in r.out


def test_an_entry_matched_by_three_watches_is_one_message_naming_them(
    cli: CLI,
    write_config: WriteConfig,
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    chat: ThreadedWebhookReceiver,
) -> None:
    feeds.feed(
        "/wire.xml",
        rss(
            item(
                "g1",
                "China widens rare earth export controls",
                "New licences for 稀土 exports.",
                "https://news.example.com/g1",
            )
        ),
    )
    once(cli, write_config.path, tmp_path)
    chat.wait_for(1)
    (notice,) = chat.messages()
    assert notice.title == "[HIGH] China widens rare earth export controls"
    assert "Watches: rare-earths, export-controls, china" in notice.body
    assert 'Why (export-controls): "export controls" in title' in notice.body
    once(cli, write_config.path, tmp_path)  # nothing new: nothing more
    assert len(chat.messages()) == 1


def test_an_edit_of_the_facts_alerts_with_a_diff_and_a_whitespace_edit_does_not(
    cli: CLI,
    write_config: WriteConfig,
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    chat: ThreadedWebhookReceiver,
) -> None:
    config = write_config.path
    link = "https://news.example.com/pause"

    def publish(summary: str) -> None:
        feeds.feed("/wire.xml", rss(item("p1", "Tariff pause ends soon", summary, link)))

    publish("The 90-day tariff pause is set to expire on July 9, officials said.")
    once(cli, config, tmp_path)
    chat.wait_for(1)
    publish("The 90-day   tariff pause is set to expire on July 9,\n officials said.")
    once(cli, config, tmp_path)
    assert len(chat.messages()) == 1  # whitespace only: nothing
    publish("The 90-day tariff pause was extended to August 12, officials said.")
    once(cli, config, tmp_path)
    chat.wait_for(2)
    notice = chat.messages()[1]
    assert notice.title == "Updated: Tariff pause ends soon"
    assert "July 9" in notice.body
    assert "August 12" in notice.body
    assert "[-" in notice.body
    assert "{+" in notice.body
    once(cli, config, tmp_path)  # the same revision again: nothing
    assert len(chat.messages()) == 2


def test_replay_finds_what_a_new_watch_would_have_caught(
    cli: CLI,
    write_config: WriteConfig,
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    chat: ThreadedWebhookReceiver,
) -> None:
    feeds.feed(
        "/wire.xml",
        rss(
            item(
                "s1",
                "Chip makers face new licensing rules",
                "Semiconductor exports.",
                "https://n.example.com/s1",
            ),
            item("s2", "Weather is fine", "Sunny.", "https://n.example.com/s2"),
        ),
    )
    once(cli, write_config.path, tmp_path)
    assert chat.messages() == []
    config = write_config.write("  - name: chips\n    any: [semiconductor]\n")
    r = cli("replay", "--since", "7d", *cli_args(config, tmp_path))
    assert r.code == 0, r.err
    assert "Chip makers face new licensing rules" in r.out
    assert "Weather" not in r.out
    assert chat.messages() == []  # only printed
    r = cli("replay", "--since", "7d", "--watch", "chips", "--send", *cli_args(config, tmp_path))
    assert r.code == 0, r.err
    chat.wait_for(1)
    assert titles(chat) == ["Replay: Chip makers face new licensing rules"]
    r = cli("replay", "--since", "7d", "--send", *cli_args(config, tmp_path))
    assert r.code == 0, r.err
    assert len(chat.messages()) == 1  # replayed once


def test_the_daemon_keeps_its_stories_across_a_restart_and_alerts_an_edit(
    tmp_path: Path, feeds: ThreadedFeedServer, chat: ThreadedWebhookReceiver
) -> None:
    """The real ``notifier run``: a story alerts once; after a restart, a copy in another
    feed joins it (the story index is rebuilt from history) and sends nothing; an edit
    of the facts sends one "Updated:" alert with the diff."""
    config = tmp_path / "watch.yaml"
    config.write_text(
        f"""\
timezone: UTC
delivery: {{min_retry: 1s, max_retry: 2s}}
defaults: {{channels: [chat]}}
channels:
  chat: ["{chat.json_url("/hook")}"]
feeds:
  - {{name: wire, url: "{feeds.url("/wire.xml")}", interval: 1s}}
  - {{name: mirror, url: "{feeds.url("/mirror.xml")}", interval: 1s}}
watches:
  - name: truce
    any: ["tariff truce"]
""",
        encoding="utf-8",
    )
    link = "https://news.example.com/2025/06/truce"
    feeds.feed("/wire.xml", rss())
    feeds.feed("/mirror.xml", rss())
    daemons: list[Daemon] = []
    try:
        first = start(config, tmp_path, daemons)
        first.wait_for_log("feed polled", feed="mirror", status="first_poll")
        first.wait_for_log("feed polled", feed="wire", status="first_poll")
        feeds.feed("/wire.xml", rss(item("w1", "Tariff truce extended", SUMMARY, link)))
        chat.wait_for(1, timeout=15)
        assert first.stop() == 0

        feeds.feed(
            "/mirror.xml",
            rss(
                item(
                    "m1",
                    "Washington and Beijing prolong tariff truce",
                    "Other words.",
                    link + "?utm_source=x",
                )
            ),
        )
        second = start(config, tmp_path, daemons)
        second.wait_for_log("feed polled", feed="mirror", status="parsed")
        time.sleep(2)
        assert [n.title for n in chat.messages()] == ["Tariff truce extended"]

        feeds.feed(
            "/wire.xml",
            rss(
                item(
                    "w1",
                    "Tariff truce extended",
                    SUMMARY.replace("November 10", "December 10"),
                    link,
                )
            ),
        )
        chat.wait_for(2, timeout=15)
        updated = chat.messages()[1]
        assert updated.title == "Updated: Tariff truce extended"
        assert "[-November-]{+December+} 10" in updated.body, updated.body
        assert "November 10 → December 10" in updated.body
        time.sleep(2)
        assert len(chat.messages()) == 2
        assert second.stop() == 0
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait(timeout=10)
            d.close()
