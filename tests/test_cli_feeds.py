"""``notifier once`` and ``notifier match`` against a real local server: in this process
(``cli``), and exit 3 through the real executable (``cli_process``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CLI
from tests.feedserver import ThreadedFeedServer
from tests.test_poll import ITEMS, rss

CONFIG = """\
channels:
  console: ["console://"]
feeds:
  - name: news
    url: {news}
  - name: zh
    url: {zh}
watches:
  - name: rare-earths
    any: ["rare earth", "稀土"]
    severity: high
  - name: tariffs
    any: [tariff]
    none: [crypto]
    feeds: [news]
"""

ZH = rss(("z1", "商务部：对部分稀土物项实施出口管制", "稀土出口管制措施即日起施行。"))


@pytest.fixture
def server() -> Iterator[ThreadedFeedServer]:
    with ThreadedFeedServer() as s:
        yield s


@pytest.fixture
def config(tmp_path: Path, server: ThreadedFeedServer) -> Path:
    server.feed("/news.xml", rss(*ITEMS, ("t1", "Tariff on crypto miners", "crypto")))
    server.feed("/zh.xml", ZH)
    path = tmp_path / "watch.yaml"
    path.write_text(
        CONFIG.format(news=server.url("/news.xml"), zh=server.url("/zh.xml")), encoding="utf-8"
    )
    return path


def test_once_dry_run_prints_expected_matches(cli: CLI, config: Path, tmp_path: Path) -> None:
    """A dry run shows each match with its watch, title, link and why; writes no state."""
    r = cli("once", "--dry-run", "--config", str(config), "--state-dir", str(tmp_path / "st"))
    assert r.code == 0, r.err
    assert "MATCH rare-earths [high]  news" in r.out
    assert "China tightens 稀土 export rules" in r.out
    assert 'why: "稀土" in title' in r.out
    assert "MATCH rare-earths [high]  zh" in r.out
    assert "商务部：对部分稀土物项实施出口管制" in r.out
    assert "tariffs" not in r.out  # excluded by the none-term "crypto"
    assert "2 feeds polled: 2 ok, 0 failed; 5 new entries; 2 matches" in r.err
    assert not (tmp_path / "st").exists()


def test_once_json_lines(cli: CLI, config: Path, tmp_path: Path) -> None:
    """``--json`` prints one JSON object per match, with hits and snippets."""
    r = cli("once", "--dry-run", "--json", "--config", str(config), "--state-dir", str(tmp_path))
    assert r.code == 0, r.err
    lines = [json.loads(line) for line in r.out.splitlines()]
    assert {(x["watch"], x["feed"]) for x in lines} == {
        ("rare-earths", "news"),
        ("rare-earths", "zh"),
    }
    zh = next(x for x in lines if x["feed"] == "zh")
    assert zh["hits"][0]["term"] == "稀土"
    assert "稀土" in zh["hits"][0]["snippet"]
    assert zh["link"] == "https://news.example.com/z1"


def test_once_remembers_and_reports_only_new_entries(
    cli: CLI, config: Path, tmp_path: Path, server: ThreadedFeedServer
) -> None:
    """First real run records silently; an entry added later is printed once."""
    state = str(tmp_path / "state")
    first = cli("once", "--config", str(config), "--state-dir", state)
    assert first.code == 0, first.err
    assert "MATCH" not in first.out
    assert "first poll" in first.err
    server.feed("/zh.xml", rss(("z2", "稀土 talks resume", "x"), ("z1", "old", "y")))
    second = cli("once", "--config", str(config), "--state-dir", state)
    assert second.code == 0, second.err
    assert second.out.count("MATCH") == 1
    assert "稀土 talks resume" in second.out
    third = cli("once", "--config", str(config), "--state-dir", state)
    assert "MATCH" not in third.out


def test_once_exits_3_when_a_feed_fails(
    cli_process: CLI, tmp_path: Path, server: ThreadedFeedServer
) -> None:
    """A failing feed is reported and gives exit 3 (the real executable); the other feed
    still ran."""
    server.feed("/zh.xml", ZH)
    server.respond("/gone.xml", 410)
    path = tmp_path / "watch.yaml"
    path.write_text(
        CONFIG.format(news=server.url("/gone.xml"), zh=server.url("/zh.xml")), encoding="utf-8"
    )
    r = cli_process("once", "--dry-run", "--config", str(path), "--state-dir", str(tmp_path))
    assert r.code == 3
    assert "news: FAILED:" in r.err
    assert "HTTP 410" in r.err
    assert "MATCH rare-earths [high]  zh" in r.out


def test_match_explains_every_entry_of_a_file(cli: CLI, config: Path, tmp_path: Path) -> None:
    """``match WATCH FILE`` shows ✓/✗ per entry with the reason."""
    source = tmp_path / "feed.xml"
    source.write_bytes(rss(*ITEMS, ("t1", "Tariff on crypto miners", "crypto")))
    r = cli("match", "tariffs", str(source), "--config", str(config))
    assert r.code == 0, r.err
    assert '✗ Tariff on crypto miners — excluded by none-term "crypto"' in r.out
    assert "✗ Weather — no 'any' term found" in r.out
    assert "tariffs: 0 of 4 entries matched" in r.err
    r = cli("match", "rare-earths", str(source), "--config", str(config))
    assert "✓ China tightens 稀土 export rules — matched" in r.out


def test_match_from_url_and_json(cli: CLI, config: Path, server: ThreadedFeedServer) -> None:
    """A URL source is fetched; ``--json`` gives one verdict per line."""
    r = cli("match", "rare-earths", server.url("/zh.xml"), "--json", "--config", str(config))
    assert r.code == 0, r.err
    (verdict,) = [json.loads(line) for line in r.out.splitlines()]
    assert verdict["matched"] is True
    assert verdict["hits"][0]["field"] == "title"


def test_match_errors(cli: CLI, config: Path, tmp_path: Path) -> None:
    """Unknown watch: exit 2 naming the known ones; unreadable or non-feed source: exit 1."""
    r = cli("match", "nope", "x.xml", "--config", str(config))
    assert r.code == 2
    assert "unknown watch 'nope' (known: rare-earths, tariffs)" in r.err
    r = cli("match", "tariffs", str(tmp_path / "missing.xml"), "--config", str(config))
    assert r.code == 1
    assert "No such file" in r.err
    page = tmp_path / "page.html"
    page.write_text("<html><body>hi</body></html>", encoding="utf-8")
    r = cli("match", "tariffs", str(page), "--config", str(config))
    assert r.code == 1
    assert "not a feed" in r.err
