"""How the cost grows with the number of feeds (issue 18, item 3).

Usage: ``python -m bench.curves [--sizes 100,1000,10000] [--entries 10]
[--peer-sizes 100,1000] [--peers all|none|A,B] [--repeats 1] [--out bench/results]
[--smoke] [--plot-only]``.

At each size (number of feeds, every feed with the same ``--entries`` entries, so the
curves compare), with a fresh feed server (:mod:`bench.server`) and a fresh state folder:

* the four cycles of :mod:`bench.run` (``cold``, ``unchanged_200``, ``not_modified_304``,
  ``churn``) by notifier, ``baseline`` and ``bare_client`` — the same code as ``python -m
  bench`` (:func:`bench.run.feed_cycles`, :func:`bench.run.cycle_report`) — and by the
  peers (:mod:`bench.peers`) at the ``--peer-sizes`` only;
* the state those cycles left, after one more notifier cycle giving every feed a new
  entry (:func:`fill_history`): the SQLite file's seen-store (``seen``) and history
  (``entries``, ``matches``, ``edits``, the ``entries_fts`` index; each with its indexes)
  bytes, from SQLite's ``dbstat`` after a WAL checkpoint as in
  :mod:`bench.history_size`, per row and extrapolated linearly to 1,000,000 entries (the
  row counts they were measured on are recorded);
* the wall time of the real CLI on that state folder: ``notifier status`` and ``notifier
  history --since 7d --limit 50`` (a fresh process each, 1 warm-up, then the median of
  ``--query-runs``);
* the memory of the real ``notifier run`` with that many feeds
  (:func:`bench.daemon.memory_bench`: the main process's idle and peak RSS, the process
  tree's idle RSS and PSS, interval 15m, 10 s of quiet after the first cycle).

Writes ``curves.json``, ``curves.md`` and the plots ``curves-time.png`` (wall time per cycle
against feeds, one panel per cycle, log-log), ``curves-cpu.png`` (the same for CPU time) and
``curves-memory.png`` (memory against feeds) into ``--out``; ``--plot-only`` redraws the
plots and ``curves.md`` from ``curves.json``. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

if __package__ in (None, ""):  # run as ``python bench/curves.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus, daemon, peers
from bench.run import (
    CONCURRENCY,
    CYCLES,
    Server,
    _workers,
    cycle_report,
    feed_cycles,
    machine,
    make_config,
    notifier_cycle,
    progress,
    quiet_logging,
    running_server,
    warm_up,
)
from notifier.pipeline.stories import StoryBook
from notifier.runtime.app import parse_pool
from notifier.storage.sqlite import FILENAME

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100, 1_000, 10_000)
PEER_SIZES = (100, 1_000)
#: Entries per feed at every size: 10 keeps 10,000 feeds (100,000 entries a cold cycle)
#: tractable on 2 cores.
ENTRIES = 10
PER = 1_000_000
SEEN_TABLES = ("seen",)
HISTORY_TABLES = ("entries", "matches", "edits", "entries_fts")
#: The CLI queries timed on the state folder each size's cycles left.
QUERIES: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "history": ("history", "--since", "7d", "--limit", "50"),
}
SIDE_ORDER = ("notifier", "baseline", "bare_client", *peers.PEER_NAMES)


# --------------------------------------------------------------------------- measuring


def storage_size(state_dir: Path) -> dict[str, Any]:
    """Bytes and rows of the seen-store and the history in ``state_dir``'s SQLite file,
    per row and extrapolated to :data:`PER` entries (``dbstat``, after a checkpoint)."""
    path = state_dir / FILENAME
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = int(db.execute("PRAGMA page_size").fetchone()[0])
        pages = int(db.execute("PRAGMA page_count").fetchone()[0])
        owner = {
            str(name): str(table)
            for name, table in db.execute("SELECT name, tbl_name FROM sqlite_master")
        }
        by_table: dict[str, int] = {}
        for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            if table.startswith("entries_fts"):  # the FTS5 index's shadow tables
                table = "entries_fts"
            by_table[table] = by_table.get(table, 0) + int(size)
        seen_rows = int(db.execute("SELECT COUNT(*) FROM seen").fetchone()[0])
        entry_rows = int(db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
        match_rows = int(db.execute("SELECT COUNT(*) FROM matches").fetchone()[0])
    finally:
        db.close()
    seen_bytes = sum(by_table.get(t, 0) for t in SEEN_TABLES)
    history_bytes = sum(by_table.get(t, 0) for t in HISTORY_TABLES)

    def per(total: int, rows: int) -> float | None:
        return round(total / rows * PER) if rows else None

    return {
        "file_bytes": path.stat().st_size,
        "db_bytes": page * pages,
        "by_table": dict(sorted(by_table.items(), key=lambda kv: -kv[1])),
        "seen": {
            "rows": seen_rows,
            "bytes": seen_bytes,
            "bytes_per_row": round(seen_bytes / seen_rows, 1) if seen_rows else None,
            "bytes_per_million": per(seen_bytes, seen_rows),
        },
        "history": {
            "rows": entry_rows,
            "matches": match_rows,
            "bytes": history_bytes,
            "bytes_per_row": round(history_bytes / entry_rows, 1) if entry_rows else None,
            "bytes_per_million": per(history_bytes, entry_rows),
        },
    }


def cli_times(config: Path, state_dir: Path, runs: int, warmup: int = 1) -> dict[str, Any]:
    """Wall time of each :data:`QUERIES` command, a fresh ``notifier`` process each time:
    ``warmup`` runs (page cache), then the median (and min, max) of ``runs``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    out: dict[str, Any] = {}
    for name, args in QUERIES.items():
        cmd = [
            *daemon.notifier_command(),
            *args,
            "--config",
            str(config),
            "--state-dir",
            str(state_dir),
            "--log-level",
            "warning",
        ]
        times: list[float] = []
        output = 0
        for i in range(warmup + runs):
            started = time.perf_counter()
            proc = subprocess.run(  # noqa: S603 - our own command, fixed arguments
                cmd, cwd=ROOT, env=env, capture_output=True, check=False, timeout=600
            )
            elapsed = time.perf_counter() - started
            if proc.returncode != 0:
                raise RuntimeError(
                    f"`notifier {' '.join(args)}` exited {proc.returncode}: "
                    f"{peers.tail(proc.stderr.decode(errors='replace'))}"
                )
            if i >= warmup:
                times.append(elapsed)
            output = len(proc.stdout)
        out[name] = {
            "command": "notifier " + " ".join(args),
            "runs": runs,
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
            "stdout_bytes": output,
        }
    return out


def _memory(memory: dict[str, Any]) -> dict[str, Any]:
    """The part of :func:`bench.daemon.memory_bench`'s result the curves keep."""
    return {
        "main_idle_rss_mib": memory["main"]["idle_rss_mib"],
        "main_peak_rss_mib": memory["main"]["peak_rss_mib"],
        "tree_idle_rss_mib": memory["tree"]["idle_rss_mib"],
        "tree_idle_pss_mib": memory["tree"]["idle_pss_mib"],
        "tree_peak_rss_sampled_mib": memory["tree"]["peak_rss_sampled_mib"],
        "tree_processes": memory["tree"]["processes"],
        "startup_s": memory["startup_s"],
        "first_cycle_s": memory["first_cycle_s"],
        "first_polls": memory["first_polls"]["statuses"],
        "interval": memory["interval"],
        "quiet_s": memory["quiet_s"],
        "exit_code": memory["exit_code"],
    }


async def fill_history(server: Server, vocab: corpus.Vocabulary, state: Path, pool: Any) -> None:
    """Give every feed one new entry and poll them once more on ``state``.

    A key-only first poll leaves its entries' history rows to the feed's next parse:
    after this one, history holds every entry of every feed, as a daemon's does once
    its feeds have moved on, and that is the history whose size is measured."""
    async with aiohttp.ClientSession() as control:
        await server.control(control, "churn?fraction=1&new=1")
    config = make_config(server, vocab)
    await notifier_cycle(config, state, pool, StoryBook(config.stories.window))


def measure_size(
    feeds: int,
    *,
    entries: int,
    repeats: int,
    seed: int,
    pool: Any,
    peer_envs: list[peers.PeerEnv],
    query_runs: int,
    smoke: bool,
) -> dict[str, Any]:
    """Everything measured at one size (see the module doc)."""
    started = time.perf_counter()
    vocab = corpus.vocabulary(seed)
    names = [env.name for env in peer_envs]
    progress(f"size {feeds:,} feeds × {entries} entries: cycles (peers: {names or 'none'})")
    with (
        tempfile.TemporaryDirectory(prefix="notifier-curves-") as tmp,
        running_server(feeds, entries, seed) as server,
    ):
        work = Path(tmp)
        runs = asyncio.run(
            feed_cycles(
                server,
                vocab,
                repeats=repeats,
                pool=pool,
                work=work,
                peer_envs=peer_envs,
                peer_repeats=repeats if peer_envs else 0,
            )
        )
        cycles_s = time.perf_counter() - started
        available = tuple(env.name for env in peer_envs if env.available)
        cycles = cycle_report(runs, available)
        config = work / "config.yaml"  # JSON is YAML 1.2
        config.write_text(json.dumps(_cli_config(server, feeds, vocab), indent=1) + "\n")
        state = work / f"state-{repeats - 1}"
        asyncio.run(fill_history(server, vocab, state, pool))
        storage = storage_size(state)
        progress(
            f"size {feeds:,}: seen {storage['seen']['rows']:,} rows, history "
            f"{storage['history']['rows']:,} entries; timing status and history"
        )
        queries = cli_times(config, state, query_runs, warmup=0 if smoke else 1)
    progress(f"size {feeds:,}: memory of `notifier run`")
    with tempfile.TemporaryDirectory(prefix="notifier-curves-mem-") as tmp:
        memory = asyncio.run(
            daemon.memory_bench(
                Path(tmp),
                feeds=feeds,
                entries=entries,
                seed=seed,
                interval="10s" if smoke else "15m",  # first polls spread over interval/10
                quiet=1.0 if smoke else 10.0,
                imports=False,
            )
        )
    return {
        "feeds": feeds,
        "entries_per_feed": entries,
        "peers": {env.name: env.report() for env in peer_envs},
        "cycles": cycles,
        "storage": storage,
        "queries": queries,
        "memory": _memory(memory),
        "seconds": {"cycles": round(cycles_s, 1), "total": round(time.perf_counter() - started, 1)},
    }


def _cli_config(server: Server, feeds: int, vocab: corpus.Vocabulary) -> dict[str, Any]:
    return daemon._config(  # the daemon benchmark's config, shared
        server,
        feeds=feeds,
        interval="15m",
        channels={"console": ["console://"]},
        default="console",
        vocab=vocab,
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    gc.freeze()  # as bench.run does
    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = [n for n in args.peers if any(s in args.peer_sizes for s in args.sizes)]
    peer_envs = peers.prepare(tuple(wanted), progress) if wanted else []
    sizes: list[dict[str, Any]] = []
    with quiet_logging(), parse_pool() as pool:
        with running_server(1, 1, args.seed) as server:
            warm_up(pool, server)
        workers = len(_workers(pool))
        for feeds in args.sizes:
            envs = peer_envs if feeds in args.peer_sizes else []
            sizes.append(
                measure_size(
                    feeds,
                    entries=args.entries,
                    repeats=args.repeats,
                    seed=args.seed,
                    pool=pool,
                    peer_envs=[e for e in envs if e.available],
                    query_runs=args.query_runs,
                    smoke=args.smoke,
                )
            )
            progress(f"size {feeds:,} done in {sizes[-1]['seconds']['total']:.0f} s")
        # Still inside quiet_logging: matplotlib logs through the logging it configured.
        result: dict[str, Any] = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "parameters": {
                "sizes": list(args.sizes),
                "peer_sizes": [s for s in args.peer_sizes if s in args.sizes],
                "peers": list(args.peers),
                "entries_per_feed": args.entries,
                "repeats": args.repeats,
                "query_runs": args.query_runs,
                "query_warmup": 0 if args.smoke else 1,
                "seed": args.seed,
                "smoke": args.smoke,
                "concurrency": CONCURRENCY,
                "pool_workers": workers,
            },
            "peers": {env.name: env.report() for env in peer_envs},
            "sizes": sizes,
            "total_seconds": round(time.perf_counter() - started, 1),
        }
        (out / "curves.json").write_text(json.dumps(result, indent=2) + "\n")
        write_outputs(result, out)
    return result


def write_outputs(result: dict[str, Any], out: Path) -> list[Path]:
    """``curves.md`` and the plots from a result (what ``--plot-only`` redoes)."""
    (out / "curves.md").write_text(markdown(result))
    written = [out / "curves.md", *plot(result, out)]
    progress("wrote " + ", ".join(str(p) for p in [out / "curves.json", *written]))
    return written


# --------------------------------------------------------------------------- report


def sides(result: dict[str, Any], cycle: str) -> list[str]:
    """The sides measured in ``cycle`` at any size, in a fixed order."""
    seen = {side for s in result["sizes"] for side in s["cycles"][cycle] if _d(s, cycle, side)}
    return [side for side in SIDE_ORDER if side in seen]


def _d(size: dict[str, Any], cycle: str, side: str) -> dict[str, Any]:
    """One side's summary in one cycle at one size; {} when it was not measured (the
    cycle's other keys, ``ratio_notifier_over`` and the like, are not sides)."""
    value = size["cycles"][cycle].get(side)
    return value if isinstance(value, dict) and "wall_s" in value else {}


def series(
    result: dict[str, Any], cycle: str, side: str, key: str
) -> tuple[list[int], list[float]]:
    """(feeds, median ``key``) of one side in one cycle, at the sizes it was measured."""
    xs, ys = [], []
    for s in result["sizes"]:
        d = _d(s, cycle, side)
        if key in d:
            xs.append(s["feeds"])
            ys.append(d[key]["median"])
    return xs, ys


def _mib(n: float | None) -> str:
    return "—" if n is None else f"{n / 1024 / 1024:,.1f}"


def markdown(result: dict[str, Any]) -> str:
    p, m = result["parameters"], result["machine"]
    sizes = result["sizes"]
    header = "| side | " + " | ".join(f"{s['feeds']:,} feeds" for s in sizes) + " |"
    rule = "|---" * (len(sizes) + 1) + "|"
    lines = [
        f"# How the cost grows — {result['date']}",
        "",
        f"Machine: {m['cpu_model']}, {m['cpu_count']} cores, {m['platform']}, Python "
        f"{m['python']} (aiohttp {m['aiohttp']}, feedparser {m['feedparser']}).",
        "",
        f"Sizes: {', '.join(f'{n:,}' for n in p['sizes'])} feeds × **{p['entries_per_feed']} "
        f"entries per feed** at every size; peers ({', '.join(p['peers']) or 'none'}) at "
        f"{', '.join(f'{n:,}' for n in p['peer_sizes']) or 'no size'}. {p['repeats']} "
        f"repeat(s) per size; concurrency {p['concurrency']}; parse pool of "
        f"{p['pool_workers']} workers. The cycles are `python -m bench`'s (bench/README.md); "
        "times are the median wall (CPU) seconds of the repeats. "
        f"Whole run: {result['total_seconds'] / 60:.1f} min."
        + (" **Smoke run: sizes too small to read anything into.**" if p["smoke"] else ""),
        "",
        "![time per cycle](curves-time.png)",
        "",
        "![memory](curves-memory.png)",
        "",
    ]
    for cycle in CYCLES:
        lines += [f"## Cycle `{cycle}`: wall s (CPU s)", "", header, rule]
        for side in sides(result, cycle):
            cells = []
            for s in sizes:
                d = _d(s, cycle, side)
                cells.append(
                    f"{d['wall_s']['median']:.3f} ({d['cpu_s']['median']:.3f})" if d else "—"
                )
            lines.append(f"| {side} | " + " | ".join(cells) + " |")
        per_feed = [
            f"{_d(s, cycle, 'notifier')['wall_s']['median'] / s['feeds'] * 1000:.2f}" for s in sizes
        ]
        lines += ["", f"notifier, ms of wall time per feed: {' / '.join(per_feed)}.", ""]
    lines += [
        "## Memory of `notifier run` (MiB)",
        "",
        'The daemon benchmark\'s memory measurement (bench/README.md, "Daemon measurements") '
        "at each size: interval 15m, the 20 benchmark watches, idle = median of the last 5 s "
        "of 10 s of quiet after the first cycle; the tree is the main process, the resource "
        "tracker, the forkserver and the parse workers.",
        "",
        "| | " + " | ".join(f"{s['feeds']:,} feeds" for s in sizes) + " |",
        rule,
    ]
    rows = (
        ("main idle RSS", "main_idle_rss_mib"),
        ("main peak RSS (VmHWM)", "main_peak_rss_mib"),
        ("tree idle RSS", "tree_idle_rss_mib"),
        ("tree idle PSS", "tree_idle_pss_mib"),
        ("tree peak RSS (sampled)", "tree_peak_rss_sampled_mib"),
        ("first cycle, s", "first_cycle_s"),
    )
    for label, key in rows:
        lines.append(f"| {label} | " + " | ".join(f"{s['memory'][key]:,.1f}" for s in sizes) + " |")
    lines += [
        "",
        f"## State size, extrapolated to {PER:,} entries (MiB)",
        "",
        "Measured with SQLite's `dbstat` on the state the cycles left, after one more "
        "notifier cycle that gave every feed a new entry (a key-only first poll's history "
        "rows are written at the feed's next parse) and a WAL checkpoint, each part "
        "with its indexes, divided by its rows and multiplied by "
        f"{PER:,}: linear, and on these entries (~2.5 KB HTML descriptions, "
        f"{p['entries_per_feed']} per feed). Seen-store = `seen`; history = `entries`, "
        "`matches`, `edits` and the `entries_fts` full-text index.",
        "",
        "| | " + " | ".join(f"{s['feeds']:,} feeds" for s in sizes) + " |",
        rule,
        "| seen rows measured | "
        + " | ".join(f"{s['storage']['seen']['rows']:,}" for s in sizes)
        + " |",
        "| seen-store per 1M entries | "
        + " | ".join(_mib(s["storage"]["seen"]["bytes_per_million"]) for s in sizes)
        + " |",
        "| history entries measured | "
        + " | ".join(f"{s['storage']['history']['rows']:,}" for s in sizes)
        + " |",
        "| history per 1M entries | "
        + " | ".join(_mib(s["storage"]["history"]["bytes_per_million"]) for s in sizes)
        + " |",
        "| whole file measured | "
        + " | ".join(_mib(s["storage"]["file_bytes"]) for s in sizes)
        + " |",
        "",
        f"## Queries on that state (s, median of {p['query_runs']} fresh processes)",
        "",
        "| command | " + " | ".join(f"{s['feeds']:,} feeds" for s in sizes) + " |",
        rule,
    ]
    for name in QUERIES:
        command = sizes[0]["queries"][name]["command"] if sizes else name
        lines.append(
            f"| `{command}` | "
            + " | ".join(f"{s['queries'][name]['median_s']:.3f}" for s in sizes)
            + " |"
        )
    lines += [
        "",
        "Each is the real CLI (interpreter start-up and imports included; see "
        "bench/results/startup.md for the floor).",
        "",
        "Seconds per size (cycles / all): "
        + ", ".join(
            f"{s['feeds']:,}: {s['seconds']['cycles']:.0f} / {s['seconds']['total']:.0f}"
            for s in sizes
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- plots


def plot(result: dict[str, Any], out: Path) -> list[Path]:
    """Draw ``curves-time.png``, ``curves-cpu.png`` and ``curves-memory.png`` from a
    result (the JSON of :func:`run`) into ``out``; returns their paths."""
    import matplotlib  # noqa: PLC0415 - only the plots need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.axes import Axes  # noqa: PLC0415
    from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: PLC0415

    sizes = [s["feeds"] for s in result["sizes"]]

    def feeds_axis(ax: Axes, log_y: bool) -> None:
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("feeds")
        if log_y:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.grid(True, which="both", alpha=0.3)

    p = result["parameters"]
    subtitle = (
        f"{p['entries_per_feed']} entries per feed, median of {p['repeats']} repeat(s); "
        f"{result['machine']['cpu_count']} cores, {result['date'][:10]}"
    )
    # One colour per side in every panel.
    colours = dict(zip(SIDE_ORDER, ("black", *(f"C{i}" for i in range(10))), strict=False))
    styles = {"notifier": {"linewidth": 2.5, "marker": "o"}}
    written = []
    for key, name, label in (
        ("wall_s", "curves-time.png", "wall time per cycle, s"),
        ("cpu_s", "curves-cpu.png", "CPU time per cycle, s"),
    ):
        fig, axes = plt.subplots(2, 2, figsize=(11, 8.5), sharex=True)
        for ax, cycle in zip(axes.flat, CYCLES, strict=True):
            for side in sides(result, cycle):
                xs, ys = series(result, cycle, side, key)
                if xs:
                    style = styles.get(side, {"marker": "."})
                    ax.plot(xs, ys, label=side, color=colours[side], **style)
            feeds_axis(ax, log_y=True)
            ax.set_title(cycle)
            ax.set_ylabel(label)
            ax.legend(fontsize="small")
        fig.suptitle(f"{label.split(',')[0].capitalize()} against feeds — {subtitle}")
        fig.tight_layout()
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        written.append(out / name)

    fig, ax = plt.subplots(figsize=(7.5, 5))
    for key, label in (
        ("main_idle_rss_mib", "main process, idle RSS"),
        ("main_peak_rss_mib", "main process, peak RSS"),
        ("tree_idle_pss_mib", "process tree, idle PSS"),
        ("tree_peak_rss_sampled_mib", "process tree, peak RSS"),
    ):
        ax.plot(sizes, [s["memory"][key] for s in result["sizes"]], marker="o", label=label)
    ax.axhline(daemon.IDLE_TARGET_MIB, color="grey", linestyle="--", label="idle target (main)")
    feeds_axis(ax, log_y=False)
    ax.set_ylabel("MiB")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    ax.set_title(f"`notifier run` memory against feeds\n{subtitle}", fontsize="medium")
    fig.tight_layout()
    fig.savefig(out / "curves-memory.png", dpi=100)
    plt.close(fig)
    written.append(out / "curves-memory.png")
    return written


# --------------------------------------------------------------------------- main


def _sizes(text: str) -> tuple[int, ...]:
    values = tuple(int(v.replace("_", "")) for v in text.split(",") if v.strip())
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("sizes are positive numbers of feeds")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.curves", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--sizes", type=_sizes, default=SIZES, help="feeds (100,1000,10000)")
    parser.add_argument("--entries", type=int, default=ENTRIES, help="entries per feed (10)")
    parser.add_argument(
        "--peer-sizes", type=_sizes, default=PEER_SIZES, help="sizes the peers run at (100,1000)"
    )
    parser.add_argument("--peers", default="all", help="all (default), none, or A,B")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--query-runs", type=int, default=5, help="runs of each CLI query (5)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="sizes 5,10 × 3 entries, no peers, 1 query run, a short memory measurement",
    )
    parser.add_argument(
        "--plot-only", action="store_true", help="redraw the plots and curves.md from curves.json"
    )
    args = parser.parse_args(argv)
    try:
        args.peers = peers.parse_names(args.peers)
    except ValueError as e:
        parser.error(str(e))
    if args.smoke:
        args.sizes, args.entries, args.peers, args.peer_sizes = (5, 10), 3, (), ()
        args.repeats, args.query_runs = 1, 1
    if args.repeats < 1 or args.query_runs < 1 or args.entries < 1:
        parser.error("--repeats, --query-runs and --entries must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    if args.plot_only:
        write_outputs(json.loads((out / "curves.json").read_text()), out)
        return 0
    result = run(args)
    sys.stdout.write(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
