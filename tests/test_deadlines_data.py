"""The labelled deadline sentences (tests/data/deadlines) and the scorer's matching rules.

No floor on any extractor's scores here: those come with the extractor. The scorer is
exercised with a hand-written fake extractor that answers from a table.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import jsonschema
import pytest

from bench import deadlines
from bench.deadlines import Expected, Found, Row, load, pair, score_sentence, split_of

DATA = Path(__file__).parent / "data" / "deadlines"
MANIFEST = Path("/work/shared/fixtures/feeds/MANIFEST.tsv")
DATE = r"^\d{4}-\d{2}-\d{2}$"
DUE = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "lang", "published", "zone", "text", "type", "expect", "source", "note"],
    "properties": {
        "id": {"type": "string", "pattern": r"^dl-[a-z]+-[a-z]+-\d{3}$"},
        "lang": {"enum": ["en", "zh"]},
        "published": {"type": "string"},
        "zone": {"type": "string"},
        "text": {"type": "string", "minLength": 5},
        "type": {"enum": list(deadlines.TYPES)},
        "source": {"type": "string", "pattern": r"^(written|corpus:[\w.+-]+\.xml)$"},
        "note": {"type": "string"},
        "round1": {"enum": ["dev", "test"]},
        "round": {"enum": ["round3-feeds", "round3-written"]},
        "entry": {"type": "integer", "minimum": 0},
        "expect": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "due", "window_end", "moved_from", "past"],
                "properties": {
                    "kind": {"enum": list(deadlines.KINDS)},
                    "due": {"type": "string", "pattern": DUE},
                    "window_end": {
                        "anyOf": [{"type": "null"}, {"type": "string", "pattern": DATE}]
                    },
                    "moved_from": {
                        "anyOf": [{"type": "null"}, {"type": "string", "pattern": DATE}]
                    },
                    "past": {"type": "boolean"},
                },
            },
        },
    },
}


def raw(split: str) -> list[dict[str, Any]]:
    lines = (DATA / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


FILES = deadlines.SPLITS
ALL = [(split, row) for split in FILES for row in raw(split)]


# --------------------------------------------------------------------------- the data


def test_every_row_fits_the_schema() -> None:
    """Each row has exactly the documented fields, with the documented values."""
    for _, row in ALL:
        jsonschema.validate(row, SCHEMA)


def test_ids_are_unique_and_the_round1_split_is_recorded() -> None:
    """No id twice. Every dev row either says which round-1 split it came from, and that
    is the split sha256(id) assigned it, or says it was added in round 3 (``round``);
    test2 rows carry neither. The round-1 test file is gone (absent or empty): its rows
    are dev now, as the README says."""
    ids = [row["id"] for _, row in ALL]
    assert len(ids) == len(set(ids))
    for split, row in ALL:
        if split == "dev" and "round" in row:
            assert "round1" not in row, row["id"]
        elif split == "dev":
            assert row["round1"] == split_of(row["id"]), row["id"]
        else:
            assert "round1" not in row, row["id"]
            assert "round" not in row, row["id"]
    old_test = DATA / "test.jsonl"
    assert not old_test.exists() or not old_test.read_text(encoding="utf-8").strip()
    assert Counter(row["round1"] for row in raw("dev") if "round1" in row) == Counter(
        dev=174, test=159
    )


def test_no_text_is_in_both_splits() -> None:
    """A sentence is never both studied (dev) and held out (test2, test3, test4)."""
    texts = {split: {row["text"] for row in raw(split)} for split in deadlines.SPLITS}
    assert not texts["dev"] & texts["test2"]
    assert not texts["dev"] & texts["test3"]
    assert not texts["dev"] & texts["test4"]
    assert len({row["text"] for _, row in ALL}) == len(ALL)


def test_sizes_types_and_languages() -> None:
    """Dev keeps all 333 round-1 rows (the round-3 rows come after them); test2 has at
    least 120, with 10 of every type and 30 % or more Chinese; 25 of every type over all
    files; a quarter or more Chinese among the rows not taken from the feeds in round 3;
    every type and language present in dev, test2 and test4 (test3 has its own test);
    test4 has at least 120, with 8 of every type and 35 % or more Chinese."""
    dev = raw("dev")
    test2 = raw("test2")
    assert sum("round1" in row for row in dev) == 333
    assert [("round1" in row) for row in dev[:333]] == [True] * 333
    assert len(test2) >= 120
    types = Counter(row["type"] for _, row in ALL)
    assert all(types[t] >= 25 for t in deadlines.TYPES), types
    types2 = Counter(row["type"] for row in test2)
    assert all(types2[t] >= 10 for t in deadlines.TYPES), types2
    # the shared feeds hold few Chinese entries: the quarter is over the other rows
    langs = Counter(row["lang"] for _, row in ALL if row.get("round") != "round3-feeds")
    assert langs["zh"] / sum(langs.values()) >= 0.25
    assert sum(row["lang"] == "zh" for row in test2) / len(test2) >= 0.30
    test4 = raw("test4")
    assert len(test4) >= 120
    types4 = Counter(row["type"] for row in test4)
    assert all(types4[t] >= 8 for t in deadlines.TYPES), types4
    assert sum(row["lang"] == "zh" for row in test4) / len(test4) >= 0.35
    cells = Counter((split, row["type"], row["lang"]) for split, row in ALL)
    for split in ("dev", "test2", "test4"):
        for t in deadlines.TYPES:
            for lang in deadlines.LANGS:
                assert cells[(split, t, lang)] > 0, (split, t, lang)


def test_dates_parse_and_agree_with_the_publication() -> None:
    """Published is an aware timestamp, the zone exists, every date parses; a past item is
    on or before the publication's local day, any other on or after it; a window ends
    after it starts; negatives expect nothing and every other row expects something."""
    for _, row in ALL:
        published = dt.datetime.fromisoformat(row["published"])
        assert published.utcoffset() is not None, row["id"]
        local = published.astimezone(ZoneInfo(row["zone"])).date()
        assert bool(row["expect"]) == (row["type"] != "negative"), row["id"]
        for item in row["expect"]:
            exp = Expected.from_json(item)
            assert (exp.due <= local) if exp.past else (exp.due >= local), row["id"]
            if exp.window_end is not None:
                assert exp.window_end > exp.due, row["id"]
            if exp.moved_from is not None:
                assert exp.moved_from != exp.due, row["id"]
        if row["type"] == "past":
            assert any(item["past"] for item in row["expect"]), row["id"]
        if row["type"] == "moved":
            assert all(not item["past"] for item in row["expect"]), row["id"]


def test_chinese_rows_are_written_in_chinese() -> None:
    """A zh row contains CJK characters; an en row does not."""
    for _, row in ALL:
        has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in row["text"])
        assert has_cjk == (row["lang"] == "zh"), row["id"]


def test_corpus_rows_name_a_feed_of_the_shared_fixtures() -> None:
    """A ``corpus:`` source names a file listed in the shared feeds' MANIFEST."""
    if not MANIFEST.exists():
        pytest.skip("the shared feed fixtures are not on this machine")
    files = {line.split("\t", 1)[0] for line in MANIFEST.read_text(encoding="utf-8").splitlines()}
    corpus = [row for _, row in ALL if row["source"].startswith("corpus:")]
    assert corpus
    for row in corpus:
        assert row["source"].removeprefix("corpus:") in files, row["id"]


def test_test3_is_real_feed_sentences() -> None:
    """test3 (README, "test3"): at least 100 sentences, each from a feed entry it names
    (source and entry), at most 5 from one entry, both languages and positives and
    negatives present; every sentence is in its entry's text (HTML stripped)."""
    test3 = raw("test3")
    assert len(test3) >= 100
    assert {row["lang"] for row in test3} == {"en", "zh"}
    assert {"negative", "past"} < {row["type"] for row in test3}
    assert all(row["source"].startswith("corpus:") and "entry" in row for row in test3)
    per_entry = Counter((row["source"], row["entry"]) for row in test3)
    assert max(per_entry.values()) <= 5
    assert all("entry" not in row for split in ("test2", "test4") for row in raw(split))
    assert all(("entry" in row) == (row.get("round") == "round3-feeds") for row in raw("dev"))
    if not MANIFEST.exists():
        pytest.skip("the shared feed fixtures are not on this machine")
    texts: dict[tuple[str, int], str] = {}
    for name in sorted({row["source"].removeprefix("corpus:") for row in test3}):
        for n, entry in enumerate(feedparser.parse(str(MANIFEST.parent / name)).entries):
            parts = [entry.get("title", ""), entry.get("summary", "")]
            parts += [c.get("value", "") for c in entry.get("content", []) or []]
            once = [_strip(p) for p in parts]
            texts[(name, n)] = " ".join(once + [_strip(p) for p in once])
    for row in test3:
        key = (row["source"].removeprefix("corpus:"), row["entry"])
        assert row["text"] in texts.get(key, ""), row["id"]


def _strip(html_text: str) -> str:
    """Tags out, entities decoded, white space collapsed (as test3 was made)."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", html_text or ""))
    return re.sub(r"\s+", " ", text).strip()


def test_the_loader_reads_every_row() -> None:
    """``bench.deadlines.load`` turns every row into a Row; ``all`` is dev, test2, then
    test3 and test4."""
    rows = load("all", DATA)
    scored = [row["id"] for split, row in ALL if split in deadlines.SPLITS]
    assert [r.id for r in rows] == scored


# --------------------------------------------------------------------------- the scorer


@dataclass(frozen=True)
class FakeFound:
    """A found deadline, as the extractor will report it."""

    kind: str
    due: dt.date
    window_end: dt.date | None = None
    moved_from: dt.date | None = None
    past: bool = False
    phrase: str = ""
    confidence: float = 1.0


class FakeExtractor:
    """Answers from a table of text → found items; raises for texts it is told to."""

    def __init__(self) -> None:
        self.answers: dict[str, list[FakeFound]] = {}
        self.broken: set[str] = set()
        self.calls: list[tuple[str, str | None]] = []

    def answer(self, text: str, *found: FakeFound) -> FakeExtractor:
        self.answers[text] = list(found)
        return self

    def breaks_on(self, text: str) -> FakeExtractor:
        self.broken.add(text)
        return self

    def __call__(
        self, text: str, published: dt.datetime, zone: ZoneInfo, lang: str | None = None
    ) -> Sequence[Found]:
        self.calls.append((text, lang))
        if text in self.broken:
            raise ValueError("cannot read this one")
        return self.answers.get(text, [])


NY = ZoneInfo("America/New_York")
PUB = dt.datetime(2025, 6, 10, 12, tzinfo=dt.UTC)


def row(text: str, *expect: dict[str, Any], type_: str = "explicit", lang: str = "en") -> Row:
    items = [
        {"window_end": None, "moved_from": None, "past": False} | dict(item) for item in expect
    ]
    return Row.from_json(
        {
            "id": "dl-en-x-001",
            "lang": lang,
            "published": PUB.isoformat(),
            "zone": "America/New_York",
            "text": text,
            "type": type_,
            "expect": items,
        }
    )


def D(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def test_a_same_day_report_is_a_true_positive_and_its_kind_is_checked() -> None:
    """Due day equal: a TP whatever the kind; kind accuracy counts the kind apart."""
    r = row("a", {"kind": "expiry", "due": "2025-07-09"})
    t = score_sentence(r, [FakeFound("deadline", D("2025-07-09"))])
    assert (t.tp, t.fp, t.fn, t.kind_ok) == (1, 0, 0, 0)
    t = score_sentence(r, [FakeFound("expiry", D("2025-07-09"))])
    assert (t.tp, t.kind_ok) == (1, 1)


def test_a_wrong_day_is_one_false_positive_and_one_false_negative() -> None:
    """A report on another day pairs with nothing: FP, and the label is missed: FN."""
    r = row("a", {"kind": "expiry", "due": "2025-07-09"})
    t = score_sentence(r, [FakeFound("expiry", D("2025-07-08"))])
    assert (t.tp, t.fp, t.fn, t.date_hits) == (0, 1, 1, 0)


def test_times_compare_only_when_the_label_has_one() -> None:
    """A found datetime matches a day-only label by its day; a label with a time needs
    the same hour and minute, and a day-only report does not match it."""
    day_only = row("a", {"kind": "deadline", "due": "2025-08-01"})
    at_five = row("b", {"kind": "deadline", "due": "2025-08-01T17:00"})
    five = FakeFound("deadline", dt.datetime(2025, 8, 1, 17, 0))
    noon = FakeFound("deadline", dt.datetime(2025, 8, 1, 12, 0))
    assert score_sentence(day_only, [five]).tp == 1
    assert score_sentence(at_five, [five]).tp == 1
    assert score_sentence(at_five, [noon]).tp == 0
    assert score_sentence(at_five, [FakeFound("deadline", D("2025-08-01"))]).tp == 0


def test_pairing_is_one_to_one_and_prefers_the_same_kind() -> None:
    """Two reports of one labelled date: one TP, one FP. With two labels on the same day,
    each report goes to the label of its kind."""
    r = row("a", {"kind": "expiry", "due": "2025-07-09"})
    twice = [FakeFound("expiry", D("2025-07-09")), FakeFound("expiry", D("2025-07-09"))]
    t = score_sentence(r, twice)
    assert (t.tp, t.fp, t.fn) == (1, 1, 0)
    expected = (
        Expected("effective", D("2025-12-01"), None, None, None, past=False),
        Expected("expiry", D("2025-12-01"), None, None, None, past=False),
    )
    found = [FakeFound("expiry", D("2025-12-01")), FakeFound("effective", D("2025-12-01"))]
    assert pair(expected, found) == [(0, 1), (1, 0)]


def test_past_labels_are_scored_apart_from_detection() -> None:
    """A past label reported as past is a correct fact and no TP; reported as not past it
    is a false positive (a fact proposed as a deadline); not reported, it lowers only the
    past-fact accuracy. A stray past report is counted but is no false positive."""
    r = row("a", {"kind": "effective", "due": "2025-04-05", "past": True}, type_="past")
    ok = score_sentence(r, [FakeFound("effective", D("2025-04-05"), past=True)])
    assert (ok.tp, ok.fp, ok.fn, ok.past_ok, ok.past_expected) == (0, 0, 0, 1, 1)
    proposed = score_sentence(r, [FakeFound("effective", D("2025-04-05"))])
    assert (proposed.fp, proposed.past_ok, proposed.past_proposed) == (1, 0, 1)
    missed = score_sentence(r, [])
    assert (missed.fp, missed.fn, missed.past_ok) == (0, 0, 0)
    stray = score_sentence(r, [FakeFound("event", D("2025-03-01"), past=True)])
    assert (stray.fp, stray.stray_facts) == (0, 1)


def test_a_deadline_reported_as_past_is_missed_but_its_date_was_read() -> None:
    """A future label reported with past=True: a false negative, yet a date hit."""
    r = row("a", {"kind": "expiry", "due": "2025-07-09"})
    t = score_sentence(r, [FakeFound("expiry", D("2025-07-09"), past=True)])
    assert (t.tp, t.fn, t.fp, t.date_hits) == (0, 1, 0, 1)


def test_windows_and_moves_are_checked_on_true_positives() -> None:
    """window_end and moved_from must equal the label's when it has one; one the label
    lacks is counted as spurious."""
    r = row(
        "a",
        {"kind": "expiry", "due": "2025-07-01", "window_end": "2025-07-10"},
        {"kind": "expiry", "due": "2025-08-01", "moved_from": "2025-07-09"},
    )
    found = [
        FakeFound("expiry", D("2025-07-01"), window_end=D("2025-07-10")),
        FakeFound("expiry", D("2025-08-01"), moved_from=D("2025-07-08")),
    ]
    t = score_sentence(r, found)
    assert (t.windows, t.window_ok, t.moves, t.moved_ok) == (1, 1, 1, 0)
    plain = row("b", {"kind": "event", "due": "2025-07-01"})
    t = score_sentence(plain, [FakeFound("event", D("2025-07-01"), window_end=D("2025-07-05"))])
    assert t.spurious_windows == 1


def test_a_proposal_in_a_negative_sentence_flags_it() -> None:
    """Negatives: any not-past report makes the sentence a false positive; past reports
    do not."""
    r = row("Section 232 covers copper.", type_="negative")
    assert score_sentence(r, [FakeFound("event", D("2025-07-01"))]).negatives_flagged == 1
    t = score_sentence(r, [FakeFound("event", D("2025-01-01"), past=True)])
    assert (t.negatives, t.negatives_flagged) == (1, 0)


def test_evaluate_groups_by_type_and_language_and_survives_a_raising_extractor() -> None:
    """The tallies add up per type and language, the extractor gets the row's language,
    and a sentence it raises on is an error with nothing found while the rest go on."""
    rows = [
        row("expires July 9", {"kind": "expiry", "due": "2025-07-09"}),
        row("7月9日到期", {"kind": "expiry", "due": "2025-07-09"}, type_="no_year", lang="zh"),
        row("Section 232", type_="negative"),
    ]
    fake = (
        FakeExtractor()
        .answer("expires July 9", FakeFound("expiry", D("2025-07-09")))
        .breaks_on("7月9日到期")
    )
    report = deadlines.evaluate(rows, fake, "dev")
    assert fake.calls == [("expires July 9", "en"), ("7月9日到期", "zh"), ("Section 232", "en")]
    assert (report.total.tp, report.total.fn, report.total.errors) == (1, 1, 1)
    assert report.by_lang["zh"].metrics()["recall"] == 0.0
    assert report.by_type["explicit"].metrics()["f1"] == 1.0
    assert report.by_type["negative"].metrics()["negative_fp_rate"] == 0.0
    assert [w["id"] for w in report.wrong] == ["dl-en-x-001"]  # only the zh row is wrong
    assert report.wrong[0]["error"] == "ValueError: cannot read this one"


def test_main_exits_2_when_the_extractor_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    """A name that cannot be imported: a message on stderr and exit status 2."""
    code = deadlines.main(["--extractor", "notifier.no_such_module:extract"])
    assert code == deadlines.EXIT_NO_EXTRACTOR
    assert "cannot import the extractor" in capsys.readouterr().err


def test_main_scores_a_split_and_writes_results_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With an extractor that finds nothing: recall 0 on the dev split, every negative
    clean; the tables are printed, and the files appear only with --out."""
    code = deadlines.main(["--extractor", "tests.test_deadlines_data:find_nothing"])
    assert code == 0
    assert "| all |" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())
    code = deadlines.main(
        ["--extractor", "tests.test_deadlines_data:find_nothing", "--out", str(tmp_path)]
    )
    assert code == 0
    result = json.loads((tmp_path / "deadlines.json").read_text(encoding="utf-8"))
    assert result["split"] == "dev"
    assert result["total"]["metrics"]["recall"] == 0.0
    assert result["by_type"]["negative"]["metrics"]["negative_fp_rate"] == 0.0
    assert (tmp_path / "deadlines.md").read_text(encoding="utf-8").startswith("# Deadline")


def find_nothing(
    text: str, published: dt.datetime, zone: ZoneInfo, lang: str | None = None
) -> list[Found]:
    """An extractor that never finds anything (named by the test above)."""
    return []


def test_append_adds_a_section_and_its_own_json(tmp_path: Path) -> None:
    """--append keeps what deadlines.md holds and adds the split's tables under its
    heading; the JSON goes to deadlines-<split>.json, leaving deadlines.json alone."""
    fake = "tests.test_deadlines_data:find_nothing"
    assert deadlines.main(["--extractor", fake, "--out", str(tmp_path)]) == 0
    first = (tmp_path / "deadlines.md").read_text(encoding="utf-8")
    dev_json = (tmp_path / "deadlines.json").read_text(encoding="utf-8")
    args = ["--extractor", fake, "--split", "test3", "--out", str(tmp_path), "--append"]
    assert deadlines.main(args) == 0
    both = (tmp_path / "deadlines.md").read_text(encoding="utf-8")
    assert both.startswith(first)
    assert "\n## test3: real feed sentences, labelled blind\n" in both
    assert (tmp_path / "deadlines.json").read_text(encoding="utf-8") == dev_json
    result = json.loads((tmp_path / "deadlines-test3.json").read_text(encoding="utf-8"))
    assert result["split"] == "test3"
