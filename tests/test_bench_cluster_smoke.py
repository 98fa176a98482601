"""The scale-out benchmark's smoke mode (``python -m bench.cluster --smoke``: 20 feeds,
the SQLite rows, 1 and 2 real ``notifier worker`` processes on a throwaway PostgreSQL,
about 30 s) runs end to end and reports positive polls per second (no timing targets)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.cluster import pg_unavailable

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(name="bench")]


def test_bench_cluster_smoke(tmp_path: Path) -> None:
    why = pg_unavailable()
    if why is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(why)
        pytest.skip(why)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.cluster", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    result: dict[str, Any] = json.loads((tmp_path / "cluster.json").read_text())
    md = (tmp_path / "cluster.md").read_text()
    assert md == proc.stdout
    assert "| mode | processes | interval s (demand/s) | 304 polls/s | churn polls/s |" in md

    rows = result["rows"]
    assert [(r["mode"], r["processes"]) for r in rows] == [
        ("sqlite", 1),
        ("sqlite", 1),
        ("cluster", 1),
        ("cluster", 2),
    ]
    for row in rows:
        for cycle in ("not_modified_304", "churn"):
            c = row[cycle]
            assert c["polls_per_s"] > 0, (row["mode"], row["processes"], cycle)
            assert c["cpu_ms_per_poll"] > 0, (row["mode"], row["processes"], cycle)
            if row["mode"] == "cluster":
                assert c["pg_cpu_ms_per_poll"] > 0, (row["processes"], cycle)
    # SQLite: 304s only, then some 200s in churn. (A worker may still make its first,
    # unconditional poll of a feed in the 304 window: not asserted for the cluster.)
    assert rows[1]["not_modified_304"]["statuses"]["200"] == 0
    for row in rows[1:]:
        assert row["churn"]["statuses"]["200"] > 0, row["processes"]
    assert rows[2]["scaling"] == {"not_modified_304": 1.0, "churn": 1.0}
    assert result["limits"].startswith("Measured")
