"""A state folder written by notifier 0.1 upgrades in place: nothing lost, nothing re-alerted.

``tests/fixtures/state-0.1/`` holds a store written by the real 0.1 (see its
``make.py``): the feed's four entries seen, a match alert and a deadline
reminder pending for a chat webhook that was failing, and that reminder
recorded as sent.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from notifier.model import EntryRecord
from tests.conftest import CLI
from tests.feedserver import ThreadedFeedServer
from tests.receivers import ThreadedWebhookReceiver

FIXTURE = Path(__file__).parent / "fixtures" / "state-0.1"

CONFIG = """\
channels:
  chat: ["{chat}"]
feeds:
  - name: news
    url: {feed}
watches:
  - name: rare-earths
    any: ["rare earth"]
deadlines:
  - name: soon
    title: Comment period closes
    due: {due}
    remind: []
  - name: later
    title: Tariff pause ends
    due: 2031-07-09T00:01:00-04:00
    remind: [30d, 7d]
"""


def test_a_0_1_state_folder_upgrades_and_delivers_its_pending_alerts_once(
    cli: CLI, tmp_path: Path, feeds: ThreadedFeedServer
) -> None:
    """The 0.1 store opens (migrated step by step), its two pending alerts reach the
    chat webhook — now at another URL — once each; the entries it had seen and the
    reminder it had sent do not alert again, on this run or the next; a new entry
    still does."""
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(FIXTURE / "notifier.sqlite3", state / "notifier.sqlite3")
    due = (FIXTURE / "due.txt").read_text(encoding="utf-8").strip()
    feeds.feed("/news.xml", (FIXTURE / "feed-2.xml").read_bytes())
    with ThreadedWebhookReceiver() as chat:
        config = tmp_path / "watch.yaml"
        config.write_text(
            CONFIG.format(chat=chat.json_url("/new-hook"), feed=feeds.url("/news.xml"), due=due),
            encoding="utf-8",
        )
        flags = ("--config", str(config), "--state-dir", str(state))
        first = cli("once", *flags)
        assert first.code == 0, first.err
        chat.wait_for(2, accepted=True)
        match, reminder = sorted(n.title for n in chat.messages())
        assert match == "Rare earth magnets need licences"
        # Rendered when sent: the due time has passed since 0.1 queued it ("Passed … ago").
        assert reminder.startswith("[HIGH] ")
        assert reminder.endswith("Comment period closes")

        again = cli("once", *flags)
        assert again.code == 0, again.err
        assert len(chat.messages()) == 2

        status = cli("status", "--json", *flags)
        (channel,) = json.loads(status.out)["channels"]
        assert (channel["sent"], channel["pending"], channel["retrying"]) == (2, 0, 0)

        newer = (
            (FIXTURE / "feed-2.xml")
            .read_text(encoding="utf-8")
            .replace(
                "<item>",
                "<item><guid isPermaLink='false'>a5</guid><title>Rare earth quota deal</title>"
                "<link>https://news.example.com/a5</link></item><item>",
                1,
            )
        )
        feeds.feed("/news.xml", newer.encode())
        assert cli("once", *flags).code == 0
        chat.wait_for(3, accepted=True)
        assert chat.messages()[-1].title == "Rare earth quota deal"


def test_the_0_1_example_config_loads_unchanged() -> None:
    """The example watch config notifier 0.1 shipped loads as it is, meaning the same
    feeds, watches, deadlines and channels."""
    from notifier.config.loader import load  # noqa: PLC0415

    config = load(Path(__file__).parent / "fixtures" / "config-0.1" / "watch.yaml", {})
    assert [f.name for f in config.feeds] == [
        "ustr-press",
        "fedreg-ustr",
        "fedreg-bis",
        "gnews-us-china-trade",
        "gnews-zh-rare-earths",
    ]
    assert {w.name for w in config.watches} == {
        "us-china-talks",
        "rare-earths",
        "export-controls",
        "tariffs",
    }
    assert len(config.deadlines) == 4
    assert list(config.channels) == ["console"]
    assert all(f.type == "feed" for f in config.feeds)


def test_a_0_1_store_gains_empty_history_tables(tmp_path: Path) -> None:
    """Opening a 0.1 store adds the history (schema 6): entries, matches, edits and the
    search index exist, empty, and take writes; the 0.1 data is untouched."""
    from notifier.storage import migrations  # noqa: PLC0415
    from notifier.storage.sqlite import Store  # noqa: PLC0415

    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(FIXTURE / "notifier.sqlite3", state / "notifier.sqlite3")
    with Store.open(state) as store:
        assert migrations.version(store.db) == migrations.LATEST >= 6
        tables = {
            row[0] for row in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert {"entries", "matches", "edits", "entries_fts"} <= tables
        for table in ("entries", "matches", "edits"):
            assert store.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,)  # noqa: S608
        assert store.history.history_counts(datetime(2000, 1, 1, tzinfo=UTC))["total_entries"] == 0
        assert store.seen_count() == 4
        with store.transaction():
            (entry,) = store.history.add_entries(
                [
                    EntryRecord(
                        feed="news",
                        key="k",
                        title="中国加强稀土出口管制",
                        summary="",
                        link=None,
                        canonical=None,
                        published=None,
                        seen=datetime(2026, 1, 1, tzinfo=UTC),
                    )
                ]
            )
            assert store.history.index_pending() == 1
        found = store.history.stories(
            since=datetime(2026, 1, 1, tzinfo=UTC), search="稀土", matched_only=False
        )
        assert [s.id for s in found] == [entry]
