"""Golden error output: every class of config mistake, one file each.

Each ``cases/NAME.yaml`` is loaded with the environment ``{"PRESENT": "yes"}``;
the problems printed must equal ``cases/NAME.txt`` line for line. To accept new
output after a deliberate change: ``NOTIFIER_UPDATE_GOLDEN=1 make test``, then
review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from notifier.config.loader import load
from notifier.errors import ConfigError

CASES = Path(__file__).parent / "cases"
ENV = {"PRESENT": "yes"}


def problems_of(name: str) -> str:
    try:
        load(Path(name), ENV)
    except ConfigError as e:
        return "".join(f"{p}\n" for p in e.problems)
    return "(valid)\n"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("*.yaml")))
def test_golden(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The problems reported for each broken config match the golden file exactly."""
    monkeypatch.chdir(CASES)
    actual = problems_of(case)
    golden = CASES / case.replace(".yaml", ".txt")
    if os.environ.get("NOTIFIER_UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


def test_every_case_has_a_golden_file() -> None:
    """No case is silently skipped for want of its expected output."""
    for case in CASES.glob("*.yaml"):
        assert case.with_suffix(".txt").exists(), case.name


def test_every_case_is_invalid() -> None:
    """Each case really is broken; a valid one would not test an error class."""
    for case in CASES.glob("*.yaml"):
        assert case.with_suffix(".txt").read_text(encoding="utf-8") != "(valid)\n", case.name
