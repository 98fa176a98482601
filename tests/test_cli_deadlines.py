"""``notifier deadlines`` and ``notifier ics``, run in this process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar

from tests.conftest import CLI

SOON = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:00Z")
LATER = (datetime.now(UTC) + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:00Z")

CONFIG = f"""\
timezone: Europe/London
channels:
  desk: ["console://"]
deadlines:
  - name: later
    title: Comment period closes; file by then
    due: {LATER}
    remind: [7d, 1d]
    link: https://example.com/later
  - name: soon
    title: Tariff rate takes effect
    due: {SOON}
    remind: [30d, 7d, 2h]
    after: [1d]
  - name: past
    title: Pause expired
    due: 2025-07-09T00:01:00-04:00
"""


def write(tmp_path: Path) -> Path:
    path = tmp_path / "watch.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_deadlines_lists_upcoming_soonest_first(cli: CLI, tmp_path: Path) -> None:
    """Upcoming deadlines, soonest first, with next reminder and ladder; past ones hidden."""
    r = cli("deadlines", "--config", str(write(tmp_path)))
    assert r.code == 0, r.err
    names = [
        line.split()[0]
        for line in r.out.splitlines()
        if line.startswith("  ") and not line.startswith("    ")
    ]
    assert names == ["soon", "later"]
    assert "reminders: 30d before, 7d before, 2h before, at due time, 1d after" in r.out
    assert "past" not in names


def test_deadlines_all_includes_past(cli: CLI, tmp_path: Path) -> None:
    """``--all`` also lists deadlines whose reminders are all behind."""
    r = cli("deadlines", "--all", "--config", str(write(tmp_path)))
    assert r.code == 0
    assert "  past  due Wed 9 Jul 2025 05:01 BST" in r.out
    assert "next reminder: none (the deadline has passed)" in r.out


def test_ics_file_parses_with_events_and_alarms(cli: CLI, tmp_path: Path) -> None:
    """The iCalendar output parses and has each deadline with one alarm per reminder."""
    out = tmp_path / "deadlines.ics"
    r = cli("ics", "--output", str(out), "--config", str(write(tmp_path)))
    assert r.code == 0, r.err
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        "Comment period closes; file by then",
        "Tariff rate takes effect",
        "Pause expired",
    }
    soon = events["Tariff rate takes effect"]
    triggers = sorted(a.decoded("TRIGGER") for a in soon.walk("VALARM"))
    assert triggers == [
        -timedelta(days=30),
        -timedelta(days=7),
        -timedelta(hours=2),
        timedelta(0),
        timedelta(days=1),
    ]
    assert str(events["Comment period closes; file by then"]["URL"]) == "https://example.com/later"
