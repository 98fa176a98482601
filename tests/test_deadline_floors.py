"""The issue's floors for deadline discovery, asserted on the round-2 held-out split.

test2.jsonl was written and committed before the round-2 rules and scored once
(tests/data/deadlines/README.md, "Round 2"). This test can fail: a change to the
extractor that drops any figure below its floor breaks the build.
"""

from __future__ import annotations

from pathlib import Path

from bench import deadlines
from notifier.deadlines.discover import extract

DATA = Path(__file__).parent / "data" / "deadlines"


def test_test2_meets_the_floors() -> None:
    """On test2: precision ≥ 0.95, recall ≥ 0.85, date accuracy ≥ 0.85, date accuracy on
    explicit dates ≥ 0.97, and recall on Chinese sentences ≥ 0.85."""
    report = deadlines.evaluate(deadlines.load("test2", DATA), extract, "test2")
    total = report.total.metrics()
    assert (total["precision"] or 0.0) >= 0.95
    assert (total["recall"] or 0.0) >= 0.85
    assert (total["date_accuracy"] or 0.0) >= 0.85
    assert (report.by_type["explicit"].metrics()["date_accuracy"] or 0.0) >= 0.97
    assert (report.by_lang["zh"].metrics()["recall"] or 0.0) >= 0.85
