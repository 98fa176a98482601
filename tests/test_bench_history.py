"""``python -m bench.history_size`` at a tiny scale: it runs and writes its results."""

from __future__ import annotations

import json
from pathlib import Path

from bench import history_size


def test_the_history_benchmark_runs_small(tmp_path: Path) -> None:
    """A few hundred entries and 32 days of churn: both parts run, the files are written,
    the Chinese search finds stories and pruning starts after day 30."""
    code = history_size.main(
        ["--entries", "400", "--feeds", "2", "--days", "32", "--out", str(tmp_path)]
    )
    assert code == 0
    result = json.loads((tmp_path / "history.json").read_text(encoding="utf-8"))
    size = result["size"]
    assert size["entries"] == 400
    assert size["query_rows"]["stories(search='稀土', since=30d)"] > 0
    assert 0 < size["fts_share"] < 1
    days = {row["day"]: row for row in result["churn"]["samples"]}
    assert days[30]["pruned_today"] == 0
    assert days[32]["pruned_today"] > 0
    assert "## Churn" in (tmp_path / "history.md").read_text(encoding="utf-8")
