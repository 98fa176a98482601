"""The benchmark's smoke mode runs end to end and reports every cycle (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CYCLES = ("cold", "unchanged_200", "not_modified_304", "churn")


def test_bench_smoke_writes_every_cycle(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    result = json.loads((tmp_path / "latest.json").read_text())
    assert (tmp_path / "latest.md").read_text().startswith("# notifier benchmark")

    assert result["parameters"]["smoke"] is True
    feeds = result["parameters"]["feeds"]
    assert set(result["cycles"]) == set(CYCLES)
    for cycle in CYCLES:
        entry = result["cycles"][cycle]
        for side in ("notifier", "baseline"):
            for metric in ("wall_s", "cpu_s"):
                stats = entry[side][metric]
                assert 0 < stats["min"] <= stats["median"] <= stats["max"], (cycle, side, metric)
        assert entry["notifier"]["detail"]["errors"] == []
    bare = result["cycles"]["not_modified_304"]["bare_client"]
    assert bare["wall_s"]["median"] > 0
    assert bare["detail"]["statuses"] == {"304": feeds}

    statuses = {c: result["cycles"][c]["notifier"]["detail"]["statuses"] for c in CYCLES}
    assert statuses["cold"] == {"first_poll": feeds}
    assert statuses["unchanged_200"] == {"unchanged": feeds}
    assert statuses["not_modified_304"] == {"not_modified": feeds}
    assert statuses["churn"].get("parsed", 0) >= 1
    assert sum(statuses["churn"].values()) == feeds

    matching = result["matching"]
    assert matching["results_equal"] is True
    assert matching["only_matcher"] == matching["only_naive"] == 0
    assert matching["matched_pairs"] > 0
    assert matching["terms"] == {"total": 200, "words": 150, "phrases": 40, "regexes": 10}
    assert matching["matcher_entries_per_s"]["median"] > 0
    assert matching["naive_entries_per_s"]["median"] > 0
