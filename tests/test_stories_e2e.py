"""Stories end to end: ``notifier once`` (in this process) against a local feed server
and a real webhook receiver playing the chat service."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CLI
from tests.feedserver import ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver
from tests.test_poll import rss

pytestmark = pytest.mark.slow

CONFIG = """\
timezone: America/New_York
delivery: {{min_retry: 1s, max_retry: 2s, max_age: 1h}}
defaults: {{channels: [chat]}}
channels:
  chat: ["{chat}"]
feeds:
  - name: wire
    url: {feed}
    backfill: 10
watches:
  - name: rare-earths
    any: ["rare earth", "稀土"]
  - name: export-controls
    any: ["export controls"]
    severity: high
  - name: china
    any: ["China"]
    severity: low
"""


@pytest.fixture
def config(tmp_path: Path, feeds: ThreadedFeedServer, chat: ThreadedWebhookReceiver) -> Path:
    path = tmp_path / "watch.yaml"
    path.write_text(
        CONFIG.format(chat=chat.json_url("/hook"), feed=feeds.url("/wire.xml")),
        encoding="utf-8",
    )
    return path


def once(cli: CLI, config: Path, tmp_path: Path) -> None:
    r = cli("once", "--config", str(config), "--state-dir", str(tmp_path / "state"))
    assert r.code == 0, r.err


def test_an_entry_matched_by_three_watches_is_one_message_naming_them(
    cli: CLI,
    config: Path,
    tmp_path: Path,
    feeds: ThreadedFeedServer,
    chat: ThreadedWebhookReceiver,
) -> None:
    feeds.feed(
        "/wire.xml",
        rss(("g1", "China widens rare earth export controls", "New licences for 稀土 exports")),
    )
    once(cli, config, tmp_path)
    chat.wait_for(1)
    (notice,) = chat.messages()
    assert notice.title == "[HIGH] China widens rare earth export controls"
    assert "Watches: rare-earths, export-controls, china" in notice.body
    assert 'Why (export-controls): "export controls" in title' in notice.body
    once(cli, config, tmp_path)  # nothing new: nothing more
    assert len(chat.messages()) == 1
