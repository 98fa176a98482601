"""The benchmark's smoke mode runs end to end and reports every cycle (no timing assertions).

The smoke run includes the peers (rss2email, feed2exec, reader, httpx+feedparser): the first
run installs them with pip into bench/.peers (tens of seconds), later runs reuse them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from bench import peers
from bench.run import targets

ROOT = Path(__file__).resolve().parent.parent
CYCLES = ("cold", "unchanged_200", "not_modified_304", "churn")

#: What each peer's driver reports per cycle, for F feeds: cold, unchanged_200, 304.
PEER_STATUSES = {
    "httpx_feedparser": ("200", "200", "304"),
    "rss2email": ("200", "200", "304"),
    "feed2exec": ("200", "200", "304 (from cache)"),
    "reader": ("updated", "unchanged", "not_modified"),
}

#: One worker runs the shared smoke benchmark (see the ``smoke`` fixture).
pytestmark = pytest.mark.xdist_group(name="bench")


@pytest.mark.slow
def test_bench_smoke_writes_every_cycle(smoke: tuple[dict[str, Any], str]) -> None:
    result, md = smoke
    assert md.startswith("# notifier benchmark")

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
    assert result["parameters"]["pool_workers"] >= 1

    statuses = {c: result["cycles"][c]["notifier"]["detail"]["statuses"] for c in CYCLES}
    assert statuses["cold"] == {"first_poll": feeds}
    assert statuses["unchanged_200"] == {"unchanged": feeds}
    assert statuses["not_modified_304"] == {"not_modified": feeds}
    assert statuses["churn"].get("parsed", 0) >= 1
    assert sum(statuses["churn"].values()) == feeds

    busy = result["busy_cold"]  # the cold cycle again, every core kept busy
    assert busy["spinners"] >= 1
    assert busy["notifier"]["statuses"] == {"first_poll": feeds}
    assert busy["notifier"]["cpu_s"] > 0
    assert busy["peer_result"]["statuses"] == {"200": feeds}
    assert busy["speedup_wall"] > 0
    assert "## Cold cycle on a busy machine" in md

    matching = result["matching"]
    assert matching["results_equal"] is True
    assert matching["only_matcher"] == matching["only_naive"] == 0
    assert matching["matched_pairs"] > 0
    assert matching["terms"] == {"total": 200, "words": 150, "phrases": 40, "regexes": 10}
    assert matching["matcher_entries_per_s"]["median"] > 0
    assert matching["naive_entries_per_s"]["median"] > 0


@pytest.mark.slow
def test_bench_smoke_measures_every_peer(smoke: tuple[dict[str, Any], str]) -> None:
    result, md = smoke
    feeds, entries = result["parameters"]["feeds"], result["parameters"]["entries"]
    churned = math.ceil(feeds / 10)  # every 10th feed gains 2 entries
    assert result["parameters"]["peers"] == list(peers.PEER_NAMES)
    assert set(result["peers"]) == set(peers.PEER_NAMES)

    for name, (cold, unchanged, not_modified) in PEER_STATUSES.items():
        info = result["peers"][name]
        assert info["available"] is True, info.get("reason")
        assert info["versions"], name
        assert info["settings"], name
        details = {}
        for cycle in CYCLES:
            entry = result["cycles"][cycle]
            side = entry[name]
            assert side["samples"] == 1
            assert side["wall_s"]["median"] > 0, (name, cycle)
            assert side["cpu_s"]["median"] > 0, (name, cycle)
            ratio = entry["ratio_notifier_over"][name]
            assert ratio["wall"] > 0, (name, cycle)
            assert ratio["cpu"] > 0, (name, cycle)
            details[cycle] = side["detail"]
        assert details["cold"]["statuses"] == {cold: feeds}, name
        assert details["cold"]["new_entries"] == feeds * entries, name
        assert details["cold"]["stored_entries"] == feeds * entries, name
        assert details["unchanged_200"]["statuses"] == {unchanged: feeds}, name
        assert details["unchanged_200"]["new_entries"] == 0, name
        assert details["not_modified_304"]["statuses"] == {not_modified: feeds}, name
        assert details["not_modified_304"]["new_entries"] == 0, name
        assert sum(details["churn"]["statuses"].values()) == feeds, name
        assert details["churn"]["new_entries"] == 2 * churned, name
        assert details["churn"]["stored_entries"] == feeds * entries + 2 * churned, name

    for cycle in CYCLES:
        fastest = result["cycles"][cycle]["fastest_peer"]
        assert fastest["name"] in peers.PEER_NAMES
        assert fastest["notifier_speedup"] > 0

    cycle_targets = [t for t in result["targets"] if "cycle" in t]
    assert [t["cycle"] for t in cycle_targets] == ["cold", "unchanged_200", "not_modified_304"]
    assert len(result["targets"]) == len(cycle_targets) + 3  # memory, latency, reminders
    for t in cycle_targets:
        assert t["met"] in (True, False), t
        assert t["measured"] > 0
        assert t["against"] in (*peers.PEER_NAMES, "bare_client")
        assert t["verdict"].startswith(("met", "missed"))
    assert "## Targets" in md
    assert "## Peers" in md
    for name in peers.PEER_NAMES:
        assert f"| {name} |" in md


def test_peer_names() -> None:
    assert peers.parse_names("all") == peers.PEER_NAMES
    assert peers.parse_names("none") == ()
    assert peers.parse_names("reader, rss2email,reader") == ("reader", "rss2email")
    with pytest.raises(ValueError, match="unknown peer"):
        peers.parse_names("reader,nope")


def test_stderr_tail_drops_pip_index_notices() -> None:
    noise = "WARNING: Location 'file:///x/' is ignored: it is neither a file nor a directory."
    assert peers.tail(f"{noise}\nERROR: No matching distribution\n{noise}\n") == (
        "ERROR: No matching distribution"
    )
    assert peers.tail("") == "(no output)"


def _side(wall: float, cpu: float) -> dict[str, Any]:
    return {"wall_s": {"median": wall}, "cpu_s": {"median": cpu}}


def test_targets_met_missed_and_unmeasured() -> None:
    def cycle(notifier: float, peer: float | None, cpu: float | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"notifier": _side(notifier, notifier)}
        if peer is not None:
            cpu_ratio = notifier / (cpu if cpu is not None else peer)
            entry["fastest_peer"] = {
                "name": "reader",
                "ratio_notifier_over_peer": {"wall": notifier / peer, "cpu": cpu_ratio},
                "notifier_speedup": peer / notifier,
            }
        return entry

    cycles = {
        "cold": cycle(1.0, 7.0, 5.0),  # 7× faster, 5× in CPU: met (≥ 6×, ≥ 4× in CPU)
        "unchanged_200": cycle(1.0, 5.0),  # 5× faster: missed (≥ 10×)
        "not_modified_304": {"ratio_notifier_over_bare_client": {"wall": 3.0, "cpu": 2.5}},
    }
    cold, unchanged, not_modified = targets(cycles)
    assert cold["met"] is True
    assert cold["measured"] == pytest.approx(7.0)
    assert cold["measured_cpu"] == pytest.approx(5.0)
    assert "≥ 4× in CPU" in cold["required"]
    assert unchanged["met"] is False
    assert unchanged["verdict"] == "missed against reader: wall 5.00× (needs ≥ 10×)"
    assert not_modified["met"] is False
    assert not_modified["verdict"].startswith("missed by 2.00×")  # 3.0 against ≤ 1.5×

    cycles["cold"] = cycle(1.0, 7.0, 3.0)  # fast enough in wall time, not in CPU
    cold = targets(cycles)[0]
    assert cold["met"] is False
    assert cold["verdict"] == "missed against reader: CPU 3.00× (needs ≥ 4×)"
    cycles["cold"] = cycle(1.0, 5.0, 3.0)
    assert targets(cycles)[0]["verdict"] == (
        "missed against reader: wall 5.00× (needs ≥ 6×), CPU 3.00× (needs ≥ 4×)"
    )

    cycles["cold"] = cycle(1.0, None)
    assert targets(cycles)[0]["met"] is None


def test_discard_removes_a_half_built_venv_and_leaves_nothing_aside(tmp_path: Path) -> None:
    venv = tmp_path / "reader"
    (venv / "include" / "python3.11").mkdir(parents=True)
    (venv / "lib" / "site-packages").mkdir(parents=True)
    (venv / "lib64").symlink_to("lib")
    (venv / "pyvenv.cfg").write_text("home = /nowhere\n")
    old = tmp_path / ".reader.stale-1-2"  # left by an earlier, interrupted run
    (old / "bin").mkdir(parents=True)
    peers.discard(venv)
    peers.discard(tmp_path / "absent")  # nothing there: no error
    assert sorted(p.name for p in tmp_path.iterdir()) == []
