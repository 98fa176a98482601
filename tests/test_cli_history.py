"""``notifier history``, run in this process on a real state folder filled through the
store's own API (no mocks)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.model import EntryRecord, MatchRecord
from notifier.storage.sqlite import Store
from tests.conftest import CLI

NOW = datetime.now(UTC)
CONFIG = """\
timezone: Europe/London
channels:
  desk: ["console://"]
"""


def entry(key: str, ago: timedelta, feed: str = "news", **kw: object) -> EntryRecord:
    return EntryRecord(
        feed=feed,
        key=key,
        title=str(kw.pop("title", f"Story {key}")),
        summary=str(kw.pop("summary", "")),
        link=f"https://example.com/{key}",
        canonical=f"https://example.com/{key}",
        published=None,
        seen=NOW - ago,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def flags(tmp_path: Path) -> tuple[str, ...]:
    """A config and a state folder holding four stories: a tariff story with two sources
    and an edit (2 days old), a Chinese rare-earth story (1 day), an unmatched one
    (3 hours) and a matched one from 20 days ago."""
    config = tmp_path / "watch.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    state = tmp_path / "state"
    with Store.open(state) as store:
        history = store.history
        with store.transaction():
            tariff, zh, _, old = history.add_entries(
                [
                    entry("tariff", timedelta(days=2), title="Tariff pause extended"),
                    entry("zh", timedelta(days=1), feed="xinhua", title="中国加强稀土出口管制"),
                    entry("quiet", timedelta(hours=3), title="Weather report"),
                    entry("old", timedelta(days=20), title="Old tariff news"),
                ]
            )
            (echo,) = history.add_entries(
                [entry("echo", timedelta(days=2) - timedelta(hours=1), feed="wire", story=tariff)]
            )
            history.index_pending()
            history.record_matches(
                [
                    MatchRecord(tariff, tariff, "tariffs", '"tariff" in title', ("tariff",), NOW),
                    MatchRecord(
                        echo, tariff, "tariffs", '"tariff" in title', ("tariff",), NOW, "source"
                    ),
                    MatchRecord(zh, zh, "rare-earths", '"稀土" in title', ("稀土",), NOW),
                    MatchRecord(old, old, "tariffs", '"tariff" in title', ("tariff",), NOW),
                ]
            )
            history.record_edit(
                tariff,
                title="Tariff pause extended to August",
                summary="",
                text_hash="h2",
                at=NOW - timedelta(hours=30),
                diff="Tariff pause extended {+to August+}",
                alerted=False,
            )
    return ("--config", str(config), "--state-dir", str(state))


def test_history_lists_matched_stories_newest_first(cli: CLI, flags: tuple[str, ...]) -> None:
    """The last week's matched stories, newest first: time in the config's zone with the
    relative time, the title, the other sources, feeds, watches with why, edits."""
    r = cli("history", *flags)
    assert r.code == 0, r.err
    heads = [line for line in r.out.splitlines() if not line.startswith(" ")]
    assert len(heads) == 3  # two stories and the summary line
    assert "中国加强稀土出口管制" in heads[0]
    assert "(1d ago)" in heads[0]
    assert "Tariff pause extended to August  +1 source, latest 1d23h ago" in heads[1]
    assert heads[2].startswith("2 stories; only those a watch matched")
    assert "  feeds: news, wire" in r.out
    assert '  tariffs: "tariff" in title' in r.out
    assert "  edited 1 time, last 1d6h ago" in r.out
    assert "Weather report" not in r.out
    assert " BST " in heads[0] or " GMT " in heads[0]


def test_history_filters(cli: CLI, flags: tuple[str, ...]) -> None:
    """``--all`` adds unmatched stories; ``--since``, ``--watch``, ``--feed``,
    ``--search`` (Chinese too) and ``--limit`` narrow the list."""
    assert "Weather report" in cli("history", "--all", *flags).out
    assert "Old tariff news" in cli("history", "--since", "30d", *flags).out
    assert "Old tariff news" not in cli("history", *flags).out
    zh = cli("history", "--search", "稀土", *flags)
    assert zh.code == 0, zh.err
    assert "中国加强稀土出口管制" in zh.out
    assert "Tariff" not in zh.out
    assert "中国" in cli("history", "--watch", "rare-earths", *flags).out
    assert "中国" not in cli("history", "--watch", "tariffs", *flags).out
    wire = cli("history", "--feed", "wire", *flags).out
    assert "Tariff pause" in wire
    assert "中国" not in wire
    assert "the newest 1; --limit shows more" in cli("history", "--limit", "1", *flags).out
    until = (NOW - timedelta(days=1, hours=12)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert "中国" not in cli("history", "--until", until, *flags).out


def test_history_json_is_a_stable_list_of_stories(cli: CLI, flags: tuple[str, ...]) -> None:
    """``--json`` prints a list of stories with ids, times, sources, watches and edits."""
    r = cli("history", "--json", *flags)
    assert r.code == 0, r.err
    stories = json.loads(r.out)
    assert [s["title"] for s in stories] == [
        "中国加强稀土出口管制",
        "Tariff pause extended to August",
    ]
    tariff = stories[1]
    assert set(tariff) == {
        "id",
        "title",
        "first_seen",
        "last_seen",
        "sources",
        "watches",
        "edits",
    }
    assert [(s["feed"], s["link"]) for s in tariff["sources"]] == [
        ("news", "https://example.com/tariff"),
        ("wire", "https://example.com/echo"),
    ]
    assert set(tariff["sources"][0]) == {"feed", "title", "link", "seen"}
    assert [(w["watch"], w["kind"]) for w in tariff["watches"]] == [
        ("tariffs", "match"),
        ("tariffs", "source"),
    ]
    assert tariff["watches"][0]["why"] == '"tariff" in title'
    assert tariff["edits"] == [
        {"at": tariff["edits"][0]["at"], "diff": "Tariff pause extended {+to August+}"}
    ]
    assert datetime.fromisoformat(tariff["first_seen"]) < datetime.fromisoformat(
        tariff["last_seen"]
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--since", "yesterday"], "--since: 'yesterday' is neither a duration ago"),
        (["--limit", "0"], "--limit: '0' is not 1 or more"),
        (["--search", '"*'], "--search: nothing to search for"),
        (["--search", "x" * 300], "--search: the search is 300 characters long"),
    ],
)
def test_bad_options_are_one_line_usage_errors(
    cli: CLI, flags: tuple[str, ...], args: list[str], expected: str
) -> None:
    """An invalid time, count or search exits 2 with one line naming the option."""
    r = cli("history", *args, *flags)
    assert r.code == 2
    assert expected in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_until_before_since_is_a_usage_error(cli: CLI, flags: tuple[str, ...]) -> None:
    """A period that ends before it starts is refused."""
    r = cli("history", "--since", "1d", "--until", "2d", *flags)
    assert r.code == 2
    assert r.err.strip() == "notifier: --until must be later than --since"


def test_a_missing_state_folder_says_so_in_one_line(cli: CLI, tmp_path: Path) -> None:
    """With no state yet, ``history`` says so in one line and creates nothing; ``--json``
    prints an empty list."""
    config = tmp_path / "watch.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    flags = ("--config", str(config), "--state-dir", str(tmp_path / "none"))
    r = cli("history", *flags)
    assert r.code == 0
    assert r.out == ""
    assert "no state in" in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert json.loads(cli("history", "--json", *flags).out) == []
    assert not (tmp_path / "none").exists()


def test_history_reads_beside_a_daemon_holding_the_folder(
    cli: CLI, flags: tuple[str, ...], tmp_path: Path
) -> None:
    """The state folder locked by a running daemon (and its store open for writing) does
    not stop ``history``: it only reads."""
    from notifier.storage.sqlite import lock_state_dir  # noqa: PLC0415

    state = tmp_path / "state"
    with lock_state_dir(state, "run"), Store.open(state) as store:
        store.probe(NOW)
        r = cli("history", *flags)
    assert r.code == 0, r.err
    assert "Tariff pause" in r.out


def test_the_name_flags_accept_exactly_the_config_s_names() -> None:
    """``--watch`` and ``--feed`` check names with the config's own pattern."""
    from notifier.cli import commands  # noqa: PLC0415
    from notifier.config.schema import NAME_PATTERN  # noqa: PLC0415

    assert f"^{commands._NAME.pattern}$" == NAME_PATTERN
