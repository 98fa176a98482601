"""The 50 real-world feeds of ``shared/fixtures/feeds``: every one handled, text decoded right.

The corpus lives beside the repository (``../shared/fixtures/feeds``) or wherever
``NOTIFIER_FIXTURES`` points; without it these tests skip, so a fresh clone
elsewhere still passes. Each file is parsed once per session, as if fetched
from ``https://feeds.example/<file name>`` with no response headers.
"""

from __future__ import annotations

import csv
import json
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from notifier.errors import FeedParseError, NotAFeed
from notifier.model import Entry
from notifier.sources.rss import HTML_PAGE_MESSAGE, ParsedFeed, parse, prescan
from tests.conftest import corpus_dir


@dataclass(frozen=True)
class Row:
    """One MANIFEST.tsv row (the columns these tests use)."""

    file: str
    format: str
    bozo: bool
    entries: int


@dataclass(frozen=True)
class Outcome:
    """What parse() and prescan() made of one corpus file."""

    row: Row
    body: bytes
    parsed: ParsedFeed | None
    error: FeedParseError | None
    prescanned: list[str] | None


#: Where parse() deliberately returns fewer entries than feedparser's raw count.
FEWER_ENTRIES = {
    # 10 of the 20 raw entries are empty dicts feedparser makes for <item>s nested in <item>s.
    "nodefeedparser-pcmag-dvorak-rss2-illegally-nested-items.xml": 10,
    # One <item> has an empty title, link and description (only a pubDate): nothing to alert on.
    "miniflux-cercle-psy-rss2-undeclared-latin1.xml": 9,
}
#: Files that parse() refuses, and why.
REFUSED = {
    "rssparser-html-object-moved-not-a-feed.xml": NotAFeed,
    # Truncated by a server error before its first <item>.
    "feedrs-reuters-rss2-truncated-server-error.xml": FeedParseError,
    # Cut inside the first <title> ('<![CD'): feedparser's one entry is empty.
    "feedparser-synthetic-rss2-incomplete-cdata.xml": FeedParseError,
}


@pytest.fixture(scope="module")
def corpus() -> dict[str, Outcome]:
    """Every corpus file parsed and pre-scanned once (skips when the corpus is absent)."""
    directory = corpus_dir()
    if directory is None:
        pytest.skip(
            "feed corpus not found: set NOTIFIER_FIXTURES, "
            "or put shared/fixtures/feeds beside the repository"
        )
    with (directory / "MANIFEST.tsv").open(encoding="utf-8", newline="") as manifest:
        rows = [
            Row(r["file"], r["format"], r["bozo"] == "1", int(r["entries"]))
            for r in csv.DictReader(manifest, delimiter="\t")
        ]
    outcomes = {}
    for row in rows:
        body = (directory / row.file).read_bytes()
        url = f"https://feeds.example/{row.file}"
        parsed, error = None, None
        try:
            parsed = parse(body, {}, url, row.file)
        except FeedParseError as e:  # NotAFeed included; anything else fails the fixture
            error = e
        outcomes[row.file] = Outcome(row, body, parsed, error, prescan(body))
    return outcomes


def ok(corpus: dict[str, Outcome], name: str) -> ParsedFeed:
    """The ParsedFeed of corpus file ``name`` (failing the test when it was refused)."""
    parsed = corpus[name].parsed
    assert parsed is not None, corpus[name].error
    return parsed


def test_all_fifty_files_are_handled(corpus: dict[str, Outcome]) -> None:
    """All 50 files parse or fail with FeedParseError/NotAFeed only; exactly the known 3 fail."""
    assert len(corpus) == 50
    refused = {name: type(o.error) for name, o in corpus.items() if o.error is not None}
    assert refused == REFUSED


def test_html_page_is_not_a_feed(corpus: dict[str, Outcome]) -> None:
    """The 'Object Moved' HTML page served at a feed URL is NotAFeed, said in plain words."""
    error = corpus["rssparser-html-object-moved-not-a-feed.xml"].error
    assert isinstance(error, NotAFeed)
    assert str(error) == HTML_PAGE_MESSAGE


def test_truncated_reuters_is_never_silently_empty(corpus: dict[str, Outcome]) -> None:
    """The Reuters capture cut by a server error is an error, not 'all entries removed'."""
    outcome = corpus["feedrs-reuters-rss2-truncated-server-error.xml"]
    if outcome.parsed is not None:
        assert outcome.parsed.entries, "a truncated feed must never parse as 0 entries"
    else:
        assert isinstance(outcome.error, FeedParseError)
        assert "0 entries recovered" in str(outcome.error)
        assert "no element found" in str(outcome.error)


def test_entry_counts_match_the_manifest(corpus: dict[str, Outcome]) -> None:
    """Entry counts are feedparser's, except the documented empty entries that are left out."""
    for name, outcome in corpus.items():
        if outcome.parsed is None:
            continue
        expected = FEWER_ENTRIES.get(name, outcome.row.entries)
        assert len(outcome.parsed.entries) == expected, name


def test_bozo_and_version_match_the_manifest(corpus: dict[str, Outcome]) -> None:
    """A warning is recorded exactly for the files feedparser flags; versions are feedparser's."""
    for name, outcome in corpus.items():
        if outcome.parsed is None:
            assert outcome.row.bozo, name
            continue
        assert (outcome.parsed.warning is not None) == outcome.row.bozo, name
        assert outcome.parsed.version == outcome.row.format, name


def _title(parsed: ParsedFeed, index: int = 0) -> str:
    return parsed.entries[index].title


def test_chinese_gb2312(corpus: dict[str, Outcome]) -> None:
    """Declared gb2312 (read as its superset gb18030) and UTF-8 Chinese come out as Chinese."""
    forum = ok(corpus, "rsparser-kc0011-dvbbs-rss2-gb2312.xml")
    assert forum.title == "投资资讯网交易在线--流通纪念币最新20篇论坛主题-全文"
    assert _title(forum) == "建国35周年纪念，华表，和平鸽"
    assert _title(forum, 1) == "出南京泰山5盒，原盒看图"
    bbc = ok(corpus, "rss2email-bbc-chinese-simplified-atom.xml")
    assert _title(bbc) == "白宫提名艾伦为北约最高司令官"


def test_russian_windows_1251(corpus: dict[str, Outcome]) -> None:
    """windows-1251 and UTF-8 Russian come out as Cyrillic."""
    bash = ok(corpus, "miniflux-ibash-ru-rss2-windows-1251.xml")
    assert _title(bash) == "Цитата #17703"
    assert bash.entries[0].summary.startswith("xxx: есть у кого жаба программер xxx: кот немного")
    nokia = ok(corpus, "feedparser-touchnokia-movabletype-atom-russian.xml")
    assert _title(nokia) == "Невидимая броня для Вашего Nokia 5800"


def test_undeclared_latin1_french_and_portuguese(corpus: dict[str, Outcome]) -> None:
    """Latin-1 bytes with no declaration are recovered as windows-1252, accents intact."""
    psy = ok(corpus, "miniflux-cercle-psy-rss2-undeclared-latin1.xml")
    assert _title(psy, 2) == "La criminalité liée surtout à... l'ennui ?"
    assert psy.entries[2].summary.startswith("« L'oisiveté est mère de tous les vices »")
    uol = ok(corpus, "rssparser-uol-noticias-rss-undeclared-latin1-pt-dates.xml")
    assert (
        _title(uol) == "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"
    )


def test_declared_latin1_and_undeclared_utf8(corpus: dict[str, Outcome]) -> None:
    """Declared ISO-8859-1 reads right; UTF-8 with no XML declaration stays UTF-8."""
    golem = ok(corpus, "miniflux-golem-de-rss2-iso-8859-1.xml")
    assert golem.entries[0].summary.startswith("Viele Spieler wünschen sich eine PC-Version")
    dicas = ok(corpus, "feedrs-dicas-l-rss091-iso-8859-1.xml")
    assert dicas.title == "Dicas-L: Dicas técnicas de Linux e Software Livre"
    assert _title(dicas) == "bash - Expansão de Parâmetros"
    rsc = ok(corpus, "rsparser-russcox-atom-noxmldecl.xml")
    tree = next(e for e in rsc.entries if e.title == "An Encoded Tree Traversal")
    assert "It’s not entirely" in tree.content


def test_atom_html_titles_are_plain_text(corpus: dict[str, Outcome]) -> None:
    """Google Alerts' type="html" titles and contents lose their <b> tags in the text fields."""
    alerts = ok(corpus, "feedjira-google-alerts-atom.xml")
    first = alerts.entries[0]
    assert first.title.startswith("Report offers Prediction of Automotive Slack Market")
    assert first.summary.startswith("Automotive Slack Market reports provides")
    assert first.content_html is not None
    assert "<b>Slack</b>" in first.content_html


def test_nodejs_snapshots_share_keys(corpus: dict[str, Outcome]) -> None:
    """The same post in two polls (date and content changed) keeps its key: no re-alert."""
    first = ok(corpus, "rss2email-nodejs-blog-rss2-snapshot1.xml")
    second = ok(corpus, "rss2email-nodejs-blog-rss2-snapshot2.xml")
    by_title_1 = {e.title: e for e in first.entries}
    by_title_2 = {e.title: e for e in second.entries}
    common = by_title_1.keys() & by_title_2.keys()
    assert common == {"February 2020 Security Releases"}
    for title in common:
        assert by_title_1[title].key == by_title_2[title].key
        assert by_title_1[title].published != by_title_2[title].published


GOLDEN_KEYS = Path(__file__).parent / "golden" / "corpus-keys-v1.json"
#: Entries re-keyed when variant keys came (two groups of two posts sharing a guid in
#: Scripting News, the four MOE posts sharing one guid): file → count.
REKEYED = {
    "rome-moe-sg-feedburner-rss2-duplicate-guids.xml": 4,
    "rsparser-scriptingnews-rss2-duplicate-guids.xml": 4,
}


def test_keys_stay_those_of_earlier_versions(corpus: dict[str, Outcome]) -> None:
    """Every entry keeps the key earlier versions gave it (tests/golden/corpus-keys-v1.json,
    993 keys computed before variant keys), except the entries of groups that share a guid,
    which carry it as legacy_key: an upgrade re-alerts nothing."""
    golden = json.loads(GOLDEN_KEYS.read_text(encoding="utf-8"))
    parsed = {name: o.parsed for name, o in corpus.items() if o.parsed is not None}
    assert parsed.keys() == golden.keys()
    rekeyed: Counter[str] = Counter()
    for name, feed in parsed.items():
        assert len(feed.entries) == len(golden[name]), name
        for entry, before in zip(feed.entries, golden[name], strict=True):
            if entry.key == before:
                assert entry.legacy_key is None, name
            else:
                assert entry.legacy_key == before, (name, entry.title)
                rekeyed[name] += 1
    assert rekeyed == REKEYED


def _distinct_items(entries: tuple[Entry, ...]) -> int:
    return len({(e.title, e.link, e.published, e.summary, e.content) for e in entries})


@pytest.mark.parametrize(
    ("name", "items"),
    [
        ("rome-moe-sg-feedburner-rss2-duplicate-guids.xml", 4),
        ("rsparser-scriptingnews-rss2-duplicate-guids.xml", 50),
        ("nodefeedparser-braingle-feedburner-rss2-duplicate-guid-elements.xml", 1),
    ],
)
def test_duplicate_guids_do_not_collapse(corpus: dict[str, Outcome], name: str, items: int) -> None:
    """Feeds that reuse a guid keep one key per distinct item."""
    parsed = ok(corpus, name)
    assert _distinct_items(parsed.entries) == items
    assert len({e.key for e in parsed.entries}) == items


def test_every_entry_is_normalised(corpus: dict[str, Outcome]) -> None:
    """Aware UTC datetimes or None; absolute http(s) links or None; v1 keys; plain one-line text."""
    for name, outcome in corpus.items():
        if outcome.parsed is None:
            continue
        for entry in outcome.parsed.entries:
            for moment in (entry.published, entry.updated):
                assert moment is None or moment.utcoffset() == timedelta(0), name
            if entry.link is not None:
                parts = urllib.parse.urlsplit(entry.link)
                assert parts.scheme in ("http", "https"), (name, entry.link)
                assert parts.hostname, (name, entry.link)
                assert not parts.fragment, (name, entry.link)
            assert entry.key.startswith("v1:"), name
            assert entry.feed == name
            for text in (entry.title, entry.summary, entry.content):
                assert "\n" not in text, name
                assert text == text.strip(), name


@pytest.mark.parametrize(
    ("name", "first_link"),
    [
        (
            "nodefeedparser-intertwingly-atom-relative-links.xml",
            "https://feeds.example/blog/2012/07/16/Inhibiting-Suspend",
        ),
        (
            "nodefeedparser-neverwinter-rss2-relative-urls.xml",
            "https://feeds.example/en/games/neverwinter/news/detail/"
            "10743874-neverwinter-%26-jingle-jam-humble-bundle%21",
        ),
        (
            "rssparser-github-releases-gulp-atom.xml",
            "https://feeds.example/gulpjs/gulp/releases/tag/v3.9.0",
        ),
    ],
)
def test_relative_links_become_absolute(
    corpus: dict[str, Outcome], name: str, first_link: str
) -> None:
    """Relative entry links resolve against the feed URL; none is left relative."""
    parsed = ok(corpus, name)
    assert parsed.entries[0].link == first_link
    assert all(e.link and e.link.startswith("https://feeds.example/") for e in parsed.entries)


def test_prescan_agrees_with_parse_on_every_file(corpus: dict[str, Outcome]) -> None:
    """Wherever prescan answers, its keys are parse's keys (same set, same count, same order)."""
    answered = 0
    for name, outcome in corpus.items():
        if outcome.prescanned is None:
            continue
        answered += 1
        assert outcome.parsed is not None, name
        keys = [e.key for e in outcome.parsed.entries]
        assert Counter(outcome.prescanned) == Counter(keys), name
        assert outcome.prescanned == keys, name
    # Not vacuous: most well-formed guid-carrying feeds of the corpus are answered.
    assert answered >= 20


def test_prescan_refuses_the_known_hard_cases(corpus: dict[str, Outcome]) -> None:
    """Duplicate guids, missing guids, RDF, broken or leading-junk files are left to parse."""
    for name in (
        "rome-moe-sg-feedburner-rss2-duplicate-guids.xml",
        "rsparser-scriptingnews-rss2-duplicate-guids.xml",
        "nodefeedparser-braingle-feedburner-rss2-duplicate-guid-elements.xml",
        "feedjira-hackernews-rss2-noguid.xml",
        "rome-slashdot-rss1-rdf.xml",
        "feedrs-reuters-rss2-truncated-server-error.xml",
        "rssparser-swr-podcast-rss2-leading-space.xml",
        "rssparser-html-object-moved-not-a-feed.xml",
    ):
        assert corpus[name].prescanned is None, name
