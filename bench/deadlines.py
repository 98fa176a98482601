"""Deadline discovery: how well an extractor finds the labelled deadlines (issue 14).

Usage: ``python -m bench.deadlines [--split dev|test2|test3|test4|all] [--extractor MODULE:FUNC]
[--out DIR [--append]] [--show N]``.

The extractor is imported by name, never bundled here. Its interface (the default
``--extractor notifier.deadlines.discover:extract``)::

    extract(text: str, published: datetime, zone: ZoneInfo, lang: str | None = None)
        -> list[Found]

where each ``Found`` has at least ``kind`` (``expiry`` | ``effective`` | ``deadline`` |
``event``), ``due`` (a date, or a datetime in local wall time when a time is stated),
``window_end`` (date or None), ``moved_from`` (date or None), ``past`` (bool: a fact
before publication, not a proposal), ``phrase`` (str) and ``confidence`` (float). If the
import fails the scorer says so and exits with status 2.

Each sentence of ``tests/data/deadlines/<split>.jsonl`` is given to the extractor, and
what it found is paired with what is labelled (:func:`pair`): greedily, one to one, a found
item pairing an expected one when their due dates are the same day (and the same hour and
minute when the label states a time). Each pair and each leftover is then counted
(:func:`score_sentence`):

======================  ======================  =========================================
expected                found                   counts as
======================  ======================  =========================================
not past                not past                detection true positive
not past                past=True               false negative (a deadline told as a fact)
not past                (none)                  false negative
past                    past=True               past fact correct
past                    not past                false positive (a fact proposed)
(none)                  not past                false positive
(none)                  past=True               a stray fact (counted, not scored)
======================  ======================  =========================================

The metrics, overall, per sentence type and per language, are defined in
``tests/data/deadlines/README.md``. Progress and the tables go to stdout; ``--out DIR``
also writes ``DIR/deadlines.md`` and ``DIR/deadlines.json``; with ``--append`` the tables are
added to ``DIR/deadlines.md`` as a section and the JSON goes to ``DIR/deadlines-<split>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as ``python bench/deadlines.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "deadlines"
SPLITS = ("dev", "test2", "test3", "test4")
# the heading of a split's section in an appended deadlines.md
SECTIONS = {
    "test3": "test3: real feed sentences, labelled blind",
    "test4": "test4: trade-news sentences, written and labelled blind",
}
TYPES = (
    "explicit",
    "no_year",
    "weekday",
    "relative",
    "anchored",
    "window",
    "moved",
    "past",
    "negative",
)
KINDS = ("expiry", "effective", "deadline", "event")
LANGS = ("en", "zh")
DEFAULT_EXTRACTOR = "notifier.deadlines.discover:extract"
EXIT_NO_EXTRACTOR = 2


def split_of(row_id: str) -> str:
    """The round-1 split of a row (its ``round1`` field now that both round-1 splits are
    ``dev``), fixed before any extractor existed: ``dev`` when the first byte of
    sha256(id) is even, else ``test``. Round 2's held-out rows are in ``test2.jsonl``
    by file, not by hash."""
    return "dev" if hashlib.sha256(row_id.encode("utf-8")).digest()[0] % 2 == 0 else "test"


# --------------------------------------------------------------------------- the interface


class Found(Protocol):
    """What the extractor reports for one deadline it found in a sentence."""

    @property
    def kind(self) -> str: ...
    @property
    def due(self) -> dt.date: ...  # a datetime is a date too
    @property
    def window_end(self) -> dt.date | None: ...
    @property
    def moved_from(self) -> dt.date | None: ...
    @property
    def past(self) -> bool: ...
    @property
    def phrase(self) -> str: ...
    @property
    def confidence(self) -> float: ...


class Extractor(Protocol):
    """``notifier.deadlines.discover.extract``, or anything called the same way."""

    def __call__(
        self, text: str, published: dt.datetime, zone: ZoneInfo, lang: str | None = None
    ) -> Sequence[Found]: ...


class ExtractorMissing(ImportError):
    """The extractor named on the command line cannot be imported."""


def load_extractor(spec: str = DEFAULT_EXTRACTOR) -> Extractor:
    """Import ``module:function``; :class:`ExtractorMissing` when it is not there."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        function = getattr(module, attr or "extract")
    except (ImportError, AttributeError) as e:
        raise ExtractorMissing(f"cannot import the extractor {spec!r}: {e}") from e
    return cast(Extractor, function)


# --------------------------------------------------------------------------- the labels


@dataclass(frozen=True)
class Expected:
    """One labelled deadline. ``at`` is the stated local time, None when only a day is."""

    kind: str
    due: dt.date
    at: dt.time | None
    window_end: dt.date | None
    moved_from: dt.date | None
    past: bool

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Expected:
        due_text: str = item["due"]
        at: dt.time | None = None
        if "T" in due_text:
            moment = dt.datetime.fromisoformat(due_text)
            due, at = moment.date(), moment.time()
        else:
            due = dt.date.fromisoformat(due_text)
        return cls(
            kind=item["kind"],
            due=due,
            at=at,
            window_end=_date(item.get("window_end")),
            moved_from=_date(item.get("moved_from")),
            past=bool(item.get("past", False)),
        )


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


@dataclass(frozen=True)
class Row:
    """One labelled sentence."""

    id: str
    lang: str
    published: dt.datetime
    zone: ZoneInfo
    text: str
    type: str
    expect: tuple[Expected, ...]

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Row:
        return cls(
            id=row["id"],
            lang=row["lang"],
            published=dt.datetime.fromisoformat(row["published"]),
            zone=ZoneInfo(row["zone"]),
            text=row["text"],
            type=row["type"],
            expect=tuple(Expected.from_json(item) for item in row["expect"]),
        )


def load(split: str, folder: Path = DATA) -> list[Row]:
    """The rows of one split, or ``all`` of them (in :data:`SPLITS` order)."""
    names = SPLITS if split == "all" else (split,)
    rows: list[Row] = []
    for name in names:
        for line in (folder / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(Row.from_json(json.loads(line)))
    return rows


# --------------------------------------------------------------------------- matching


def _day_and_time(due: dt.date) -> tuple[dt.date, dt.time | None]:
    if isinstance(due, dt.datetime):
        return due.date(), due.time().replace(second=0, microsecond=0)
    return due, None


def same_due(expected: Expected, found: Found) -> bool:
    """The same day; and the same hour and minute when the label states a time. A found
    datetime matches a label without a time by its day alone; a found date never matches a
    label with a time."""
    day, at = _day_and_time(found.due)
    if day != expected.due:
        return False
    return expected.at is None or at == expected.at


def pair(expected: Sequence[Expected], found: Sequence[Found]) -> list[tuple[int, int]]:
    """Greedy one-to-one pairs ``(expected index, found index)``: each expected item, in
    order, takes the first unused found item with the same due, preferring one with the
    same ``past`` flag, then the same kind."""
    used: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for i, exp in enumerate(expected):
        candidates = [j for j, f in enumerate(found) if j not in used and same_due(exp, f)]
        if not candidates:
            continue
        best = min(
            candidates,
            key=lambda j: (found[j].past != exp.past, found[j].kind != exp.kind, j),
        )
        used.add(best)
        pairs.append((i, best))
    return pairs


@dataclass
class Tally:
    """Counts summed over sentences; the metrics are ratios of these."""

    sentences: int = 0
    expected: int = 0  # not-past labels
    found: int = 0  # not-past reports (proposals)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    date_hits: int = 0  # not-past labels paired with any report, past flag ignored
    kind_ok: int = 0
    windows: int = 0  # true positives whose label has a window_end
    window_ok: int = 0
    spurious_windows: int = 0  # true positives with a window_end the label does not have
    moves: int = 0  # true positives whose label has a moved_from
    moved_ok: int = 0
    spurious_moves: int = 0
    past_expected: int = 0
    past_ok: int = 0
    past_proposed: int = 0  # past labels reported as not past
    stray_facts: int = 0  # past=True reports paired with nothing
    negatives: int = 0
    negatives_flagged: int = 0  # negative sentences with at least one proposal
    errors: int = 0  # sentences on which the extractor raised

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def metrics(self) -> dict[str, float | None]:
        def ratio(a: int, b: int) -> float | None:
            return None if b == 0 else a / b

        precision = ratio(self.tp, self.tp + self.fp)
        recall = ratio(self.tp, self.tp + self.fn)
        f1 = (
            None
            if precision is None or recall is None or precision + recall == 0
            else 2 * precision * recall / (precision + recall)
        )
        return {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "date_accuracy": ratio(self.date_hits, self.expected),
            "kind_accuracy": ratio(self.kind_ok, self.tp),
            "window_accuracy": ratio(self.window_ok, self.windows),
            "moved_from_accuracy": ratio(self.moved_ok, self.moves),
            "past_accuracy": ratio(self.past_ok, self.past_expected),
            "negative_fp_rate": ratio(self.negatives_flagged, self.negatives),
        }


def score_sentence(row: Row, found: Sequence[Found]) -> Tally:
    """The counts for one sentence (see the module docstring's table)."""
    t = Tally(sentences=1)
    expected = row.expect
    t.expected = sum(not e.past for e in expected)
    t.past_expected = sum(e.past for e in expected)
    t.found = sum(not f.past for f in found)
    pairs = pair(expected, found)
    paired_found = {j for _, j in pairs}
    for i, j in pairs:
        exp, got = expected[i], found[j]
        if exp.past:
            if got.past:
                t.past_ok += 1
            else:
                t.past_proposed += 1
                t.fp += 1
            continue
        t.date_hits += 1
        if got.past:
            continue  # a deadline told as a fact: a false negative, counted below
        t.tp += 1
        t.kind_ok += got.kind == exp.kind
        if exp.window_end is not None:
            t.windows += 1
            t.window_ok += got.window_end == exp.window_end
        elif got.window_end is not None:
            t.spurious_windows += 1
        if exp.moved_from is not None:
            t.moves += 1
            t.moved_ok += got.moved_from == exp.moved_from
        elif got.moved_from is not None:
            t.spurious_moves += 1
    t.fn = t.expected - t.tp
    for j, got in enumerate(found):
        if j in paired_found:
            continue
        if got.past:
            t.stray_facts += 1
        else:
            t.fp += 1
    if row.type == "negative":
        t.negatives = 1
        t.negatives_flagged = int(t.found > 0)
    return t


# --------------------------------------------------------------------------- running


@dataclass
class Report:
    """The tallies of one run, the wrong sentences, and the time the extractor took."""

    split: str
    total: Tally = field(default_factory=Tally)
    by_type: dict[str, Tally] = field(default_factory=dict)
    by_lang: dict[str, Tally] = field(default_factory=dict)
    wrong: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        def block(t: Tally) -> dict[str, Any]:
            return {"counts": vars(t).copy(), "metrics": t.metrics()}

        return {
            "split": self.split,
            "sentences": self.total.sentences,
            "seconds": self.seconds,
            "sentences_per_second": (
                self.total.sentences / self.seconds if self.seconds > 0 else None
            ),
            "total": block(self.total),
            "by_type": {k: block(v) for k, v in self.by_type.items()},
            "by_lang": {k: block(v) for k, v in self.by_lang.items()},
            "wrong": self.wrong,
        }


def _describe(found: Iterable[Found]) -> list[dict[str, Any]]:
    return [
        {
            "kind": f.kind,
            "due": f.due.isoformat(),
            "window_end": None if f.window_end is None else f.window_end.isoformat(),
            "moved_from": None if f.moved_from is None else f.moved_from.isoformat(),
            "past": f.past,
            "phrase": f.phrase,
        }
        for f in found
    ]


def evaluate(rows: Sequence[Row], extract: Extractor, split: str = "dev") -> Report:
    """Run the extractor on every row and tally. An extractor that raises on one sentence
    is counted as having found nothing there (and as an error); the others go on."""
    report = Report(split=split)
    for row in rows:
        start = time.perf_counter()
        try:
            found = list(extract(row.text, row.published, row.zone, lang=row.lang))
        except Exception as e:  # noqa: BLE001 - one sentence's failure is scored, not fatal
            found = []
            error: str | None = f"{type(e).__name__}: {e}"
        else:
            error = None
        report.seconds += time.perf_counter() - start
        t = score_sentence(row, found)
        t.errors = int(error is not None)
        report.total.add(t)
        report.by_type.setdefault(row.type, Tally()).add(t)
        report.by_lang.setdefault(row.lang, Tally()).add(t)
        if t.fp or t.fn or t.past_proposed or t.past_ok < t.past_expected or error:
            report.wrong.append(
                {
                    "id": row.id,
                    "type": row.type,
                    "text": row.text,
                    "found": _describe(found),
                    "error": error,
                }
            )
    report.by_type = {k: report.by_type[k] for k in TYPES if k in report.by_type}
    report.by_lang = {k: report.by_lang[k] for k in LANGS if k in report.by_lang}
    return report


COLUMNS = (
    ("P", "precision"),
    ("R", "recall"),
    ("F1", "f1"),
    ("date", "date_accuracy"),
    ("kind", "kind_accuracy"),
    ("window", "window_accuracy"),
    ("moved", "moved_from_accuracy"),
    ("past", "past_accuracy"),
    ("neg FP", "negative_fp_rate"),
)


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def markdown(report: Report) -> str:
    """The tables: overall, per type, per language."""
    head = "| group | n | TP | FP | FN | " + " | ".join(c for c, _ in COLUMNS) + " |"
    rule = "|" + "---|" * (5 + len(COLUMNS))
    lines = [
        f"# Deadline discovery — split `{report.split}`",
        "",
        f"{report.total.sentences} sentences in {report.seconds:.3f} s "
        f"({_cell(report.as_json()['sentences_per_second'])} sentences/s); "
        f"extractor errors: {report.total.errors}; stray past facts: "
        f"{report.total.stray_facts}; spurious windows: {report.total.spurious_windows}; "
        f"spurious moved_from: {report.total.spurious_moves}.",
        "",
        head,
        rule,
    ]
    groups = [("all", report.total)]
    groups += [(f"type {k}", v) for k, v in report.by_type.items()]
    groups += [(f"lang {k}", v) for k, v in report.by_lang.items()]
    for name, t in groups:
        m = t.metrics()
        cells = " | ".join(_cell(m[key]) for _, key in COLUMNS)
        lines.append(f"| {name} | {t.sentences} | {t.tp} | {t.fp} | {t.fn} | {cells} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.deadlines",
        description="Score a deadline extractor on the labelled sentences (issue 14).",
    )
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="dev")
    parser.add_argument("--extractor", default=DEFAULT_EXTRACTOR, help="MODULE:FUNCTION")
    parser.add_argument("--data", default=str(DATA), help="the folder of <split>.jsonl")
    parser.add_argument("--out", default=None, help="write deadlines.md and .json here")
    parser.add_argument(
        "--append",
        action="store_true",
        help="with --out: add a section to deadlines.md, write deadlines-<split>.json",
    )
    parser.add_argument("--show", type=int, default=0, help="print N wrong sentences")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        extract = load_extractor(args.extractor)
    except ExtractorMissing as e:
        print(f"bench.deadlines: {e}; nothing to score.", file=sys.stderr)  # noqa: T201
        return EXIT_NO_EXTRACTOR
    rows = load(args.split, Path(args.data))
    report = evaluate(rows, extract, args.split)
    text = markdown(report)
    print(text)  # noqa: T201
    for wrong in report.wrong[: args.show]:
        print(json.dumps(wrong, ensure_ascii=False))  # noqa: T201
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        json_name = "deadlines.json"
        if args.append:
            title = SECTIONS.get(args.split, f"Deadline discovery — split `{args.split}`")
            section = f"\n## {title}\n" + text.split("\n", 1)[1]
            with (out / "deadlines.md").open("a", encoding="utf-8") as f:
                f.write(section)
            json_name = f"deadlines-{args.split}.json"
        else:
            (out / "deadlines.md").write_text(text, encoding="utf-8")
        (out / json_name).write_text(
            json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
