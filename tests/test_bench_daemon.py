"""The daemon benchmark's smoke mode runs the real ``notifier run`` end to end (no timing
assertions: only that every measurement ran and its numbers are sane)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def finite_positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_bench_daemon_smoke(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.daemon", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.startswith("## Daemon"), proc.stdout
    result = json.loads((tmp_path / "daemon.json").read_text())
    assert result["parameters"]["smoke"] is True
    assert set(result) >= {"date", "machine", "parameters", "memory", "latency", "reminders"}

    memory = result["memory"]
    feeds = memory["feeds"]
    assert memory["exit_code"] == 0
    assert memory["first_polls"]["statuses"] == {"first_poll": feeds}
    assert finite_positive(memory["first_cycle_s"])
    for key in ("idle_rss_mib", "peak_rss_mib", "peak_rss_sampled_mib"):
        assert finite_positive(memory["main"][key]), key
    for key in ("idle_rss_mib", "idle_pss_mib", "peak_rss_sampled_mib", "peak_hwm_sum_mib"):
        assert finite_positive(memory["tree"][key]), key
    assert memory["main"]["idle_rss_mib"] <= memory["main"]["peak_rss_mib"]
    assert memory["main"]["idle_rss_mib"] < memory["tree"]["idle_rss_mib"]
    roles = [p["role"] for p in memory["processes"]]
    assert roles.count("main") == 1
    assert "parse_worker" in roles
    assert memory["tree"]["processes"] == len(roles)
    assert memory["samples"] > 5
    assert memory["imports"][0]["step"] == "python"
    assert memory["imports"][-1]["step"] == "notifier.cli"
    assert isinstance(memory["target"]["met"], bool)

    latency = result["latency"]
    assert latency["exit_code"] == 0
    assert latency["items"] == latency["received"] == 2
    assert latency["missing"] == []
    assert latency["duplicates"] == 0
    for row in latency["detail"]:
        assert finite_positive(row["latency_s"]), row
        assert finite_positive(row["pipeline_s"]), row
    assert latency["latency_s"]["min"] <= latency["latency_s"]["median"]
    assert latency["latency_s"]["median"] <= latency["latency_s"]["max"]
    assert isinstance(latency["met"], bool)

    reminders = result["reminders"]
    assert reminders["exit_code"] == 0
    assert reminders["before_start"] == []
    assert reminders["expected"] == reminders["received"] == 2
    assert reminders["missing"] == []
    assert reminders["duplicates"] == []
    assert reminders["unexpected"] == []
    assert [row["count"] for row in reminders["detail"]] == [1, 1]
    for row in reminders["detail"]:
        assert math.isfinite(row["lateness_s"]), row
    assert reminders["daemon_metrics"]["notifier_reminders_total"] == 2
    assert isinstance(reminders["met"], bool)
