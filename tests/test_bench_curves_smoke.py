"""``python -m bench.curves --smoke`` runs end to end (no timing assertions: only that every
size has every cycle, the state and query figures and the memory, and that the plots are
written — and redrawn by ``--plot-only`` from the JSON)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import curves
from bench.run import CYCLES

ROOT = Path(__file__).resolve().parent.parent
PNGS = ("curves-time.png", "curves-cpu.png", "curves-memory.png")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(name="bench")]


def positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def run_curves(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.curves", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_bench_curves_smoke(tmp_path: Path) -> None:
    run_curves("--smoke", "--out", str(tmp_path))
    result = json.loads((tmp_path / "curves.json").read_text())
    assert result["parameters"]["smoke"] is True
    assert result["parameters"]["sizes"] == [5, 10]
    entries = result["parameters"]["entries_per_feed"]
    assert [s["feeds"] for s in result["sizes"]] == [5, 10]
    for size in result["sizes"]:
        feeds = size["feeds"]
        assert size["entries_per_feed"] == entries
        assert set(size["cycles"]) == set(CYCLES)
        for cycle in CYCLES:
            sides = size["cycles"][cycle]
            for side in ("notifier", "baseline"):
                assert positive(sides[side]["wall_s"]["median"]), (feeds, cycle, side)
        assert positive(size["cycles"]["not_modified_304"]["bare_client"]["wall_s"]["median"])
        assert size["cycles"]["cold"]["notifier"]["detail"]["statuses"] == {"first_poll": feeds}
        storage = size["storage"]
        assert storage["seen"]["rows"] >= feeds * entries
        assert positive(storage["seen"]["bytes_per_million"])
        assert storage["history"]["rows"] >= feeds * entries
        assert positive(storage["history"]["bytes_per_million"])
        for name in ("status", "history"):
            assert positive(size["queries"][name]["median_s"]), name
        memory = size["memory"]
        assert memory["exit_code"] == 0
        assert memory["first_polls"] == {"first_poll": feeds}
        assert positive(memory["main_idle_rss_mib"])
        assert memory["main_idle_rss_mib"] <= memory["main_peak_rss_mib"]
    md = (tmp_path / "curves.md").read_text()
    assert "# How the cost grows" in md
    assert f"{entries} entries per feed" in md
    for png in PNGS:
        data = (tmp_path / png).read_bytes()
        assert data.startswith(PNG_MAGIC), png
        assert len(data) > 10_000, png
        (tmp_path / png).unlink()

    assert curves.main(["--plot-only", "--out", str(tmp_path)]) == 0  # in-process: quicker
    for png in PNGS:
        assert (tmp_path / png).read_bytes().startswith(PNG_MAGIC), png
