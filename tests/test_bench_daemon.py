"""The daemon benchmark's smoke mode runs the real ``notifier run`` end to end (no timing
assertions: only that every measurement ran and its numbers are sane)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(name="bench")]


def finite_positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_bench_daemon_smoke(smoke: tuple[dict[str, Any], str]) -> None:
    """The smoke run of ``python -m bench`` (see conftest) includes the daemon's part."""
    whole, md = smoke
    assert "## Daemon (`notifier run`)" in md
    result = whole["daemon"]
    assert result["parameters"]["smoke"] is True
    assert set(result) >= {"date", "machine", "parameters", "memory", "latency", "reminders"}
    verdicts = [t for t in whole["targets"] if t["against"] in ("main process",)]
    assert len(verdicts) == 1
    assert isinstance(verdicts[0]["met"], bool)

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
    assert memory["imports"][-1]["step"] == "notifier.cli.commands"
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
    # The issue asks for p50, p95 and max.
    assert latency["latency_s"]["p50"] == latency["latency_s"]["median"]
    assert latency["latency_s"]["p50"] <= latency["latency_s"]["p95"] <= latency["latency_s"]["max"]
    assert "| received | p50 s | p95 s | max s |" in md
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
