"""Benchmark notifier's polling cycles and matcher against simple baselines.

Usage: ``python -m bench [--feeds N] [--entries M] [--repeats R] [--out DIR] [--smoke]``.
Writes ``latest.json`` and ``latest.md`` into ``--out`` (default ``bench/results``);
progress goes to stderr. Nothing outside the machine is needed: the feeds are
generated and served by a local server process (:mod:`bench.server`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as ``python bench/run.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import feedparser

from bench import corpus
from notifier.app import USER_AGENT, parse_pool, router_for
from notifier.config import Channel, Config, Feed, FetchOptions, Watch
from notifier.feeds.fetch import HttpFetcher
from notifier.logs import configure_logging
from notifier.match import Matcher
from notifier.model import Entry
from notifier.poll import Poller
from notifier.store import Store

ROOT = Path(__file__).resolve().parent.parent
CYCLES = ("cold", "unchanged_200", "not_modified_304", "churn")
CONCURRENCY = 50
CLK_TCK = os.sysconf("SC_CLK_TCK")


def progress(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------- measuring


def _proc_cpu(pid: int) -> float:
    """User+system CPU seconds of a live process (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def _workers(pool: Executor | None) -> list[int]:
    processes: dict[int, Any] = getattr(pool, "_processes", None) or {}
    return list(processes)


class CpuClock:
    """CPU of this process, its reaped children, and the parse pool's workers.

    The pool's workers are started by the ``forkserver`` process, so they are not
    children of this process and ``RUSAGE_CHILDREN`` never sees them: their time
    is read from ``/proc/<pid>/stat`` before and after.
    """

    def __init__(self, pool: Executor | None) -> None:
        self.pool = pool
        self.start_self = self._rusage()
        self.start_workers = {pid: _proc_cpu(pid) for pid in _workers(pool)}

    @staticmethod
    def _rusage() -> float:
        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            ru = resource.getrusage(who)
            total += ru.ru_utime + ru.ru_stime
        return total

    def elapsed(self) -> float:
        workers = sum(
            _proc_cpu(pid) - self.start_workers.get(pid, 0.0) for pid in _workers(self.pool)
        )
        return self._rusage() - self.start_self + workers


@dataclass(slots=True)
class Sample:
    wall: float
    cpu: float
    detail: dict[str, Any]


async def measure(
    fn: Callable[[], Awaitable[dict[str, Any]]], pool: Executor | None = None
) -> Sample:
    cpu = CpuClock(pool)
    started = time.perf_counter()
    detail = await fn()
    wall = time.perf_counter() - started
    return Sample(wall, cpu.elapsed(), detail)


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


# --------------------------------------------------------------------------- server


class Server:
    """The feed server process (see :mod:`bench.server`)."""

    def __init__(self, feeds: int, entries: int, seed: int) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [
                sys.executable,
                "-m",
                "bench.server",
                "--feeds",
                str(feeds),
                "--entries",
                str(entries),
                "--seed",
                str(seed),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None  # noqa: S101 - stdout=PIPE
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.close()
            raise RuntimeError(f"the feed server did not start: {line!r}")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"
        self.feeds = feeds

    def url(self, i: int) -> str:
        return f"{self.base}/feed/{i}"

    async def control(self, session: aiohttp.ClientSession, action: str) -> None:
        async with session.post(f"{self.base}/_control/{action}") as resp:
            resp.raise_for_status()
            await resp.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def running_server(feeds: int, entries: int, seed: int) -> Iterator[Server]:
    server = Server(feeds, entries, seed)
    try:
        yield server
    finally:
        server.close()


# --------------------------------------------------------------------------- notifier side


def make_watches(vocab: corpus.Vocabulary, feeds: tuple[str, ...]) -> tuple[Watch, ...]:
    return tuple(
        Watch(
            name=s.name,
            any=s.any,
            all=s.all,
            none=s.none,
            feeds=feeds,
            fields=("title", "summary", "content"),
            severity="normal",
            channels=("console",),
            digest=None,
            plurals=False,
        )
        for s in corpus.watch_specs(vocab)
    )


def make_config(server: Server, vocab: corpus.Vocabulary) -> Config:
    feeds = tuple(
        Feed(name=f"feed-{i}", url=server.url(i), title=None, interval=timedelta(minutes=15))
        for i in range(server.feeds)
    )
    return Config(
        timezone=ZoneInfo("UTC"),
        default_channels=("console",),
        fetch=FetchOptions(concurrency=CONCURRENCY, per_host=64),
        channels={"console": Channel("console", ("console://",), "text", None, None)},
        feeds=feeds,
        watches=make_watches(vocab, tuple(f.name for f in feeds)),
    )


async def notifier_cycle(config: Config, state_dir: Path, pool: Executor) -> dict[str, Any]:
    """One cycle the way :func:`notifier.app.poll_once` wires it (matcher compiled too)."""
    matcher = Matcher.compile(config.watches)
    with Store.open(state_dir) as store:
        async with HttpFetcher(config.fetch, user_agent=USER_AGENT) as fetcher:
            poller = Poller(
                store,
                fetcher,
                matcher,
                max_bytes=config.fetch.max_bytes,
                executor=pool,
                router=router_for(config),
            )
            results = await asyncio.gather(*(poller.poll(feed) for feed in config.feeds))
    statuses = Counter(str(r.status) for r in results)
    return {
        "statuses": dict(statuses),
        "new_entries": sum(len(r.new) for r in results),
        "matches": sum(len(r.matches) for r in results),
        "errors": sorted({r.error for r in results if r.error})[:5],
    }


# --------------------------------------------------------------------------- baselines


async def baseline_cycle(server: Server, etags: dict[int, str] | None = None) -> dict[str, Any]:
    """Plain aiohttp + feedparser.parse in-process, no skipping (no conditional GET).

    With ``etags``, records each response's ETag into it.
    """
    sem = asyncio.Semaphore(CONCURRENCY)
    entries = 0
    statuses: Counter[int] = Counter()
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            nonlocal entries
            async with sem:
                async with session.get(server.url(i)) as resp:
                    body = await resp.read()
                    statuses[resp.status] += 1
                    if etags is not None and "ETag" in resp.headers:
                        etags[i] = resp.headers["ETag"]
                entries += len(feedparser.parse(body).entries)

        await asyncio.gather(*(one(i) for i in range(server.feeds)))
    return {"statuses": {str(k): v for k, v in statuses.items()}, "entries_parsed": entries}


async def bare_conditional_cycle(server: Server, etags: dict[int, str]) -> dict[str, Any]:
    """The fastest bare client: aiohttp GET with If-None-Match, nothing else."""
    sem = asyncio.Semaphore(CONCURRENCY)
    statuses: Counter[int] = Counter()
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            headers = {"If-None-Match": etags[i]} if i in etags else {}
            async with sem, session.get(server.url(i), headers=headers) as resp:
                await resp.read()
                statuses[resp.status] += 1

        await asyncio.gather(*(one(i) for i in range(server.feeds)))
    return {"statuses": {str(k): v for k, v in statuses.items()}}


# --------------------------------------------------------------------------- feed cycles


async def feed_cycles(
    server: Server, vocab: corpus.Vocabulary, repeats: int, pool: Executor, work: Path
) -> dict[str, dict[str, list[Sample]]]:
    config = make_config(server, vocab)
    runs: dict[str, dict[str, list[Sample]]] = {
        "notifier": {c: [] for c in CYCLES},
        "baseline": {c: [] for c in CYCLES},
        "bare_client": {"not_modified_304": []},
    }
    async with aiohttp.ClientSession() as control:
        for rep in range(repeats):
            state_dir = work / f"state-{rep}"
            await server.control(control, "reset")
            steps: list[tuple[str, str | None]] = [
                ("cold", None),
                ("unchanged_200", "mode/ignore"),
                ("not_modified_304", "mode/304"),
                ("churn", "reset"),
            ]
            for cycle, action in steps:
                if action:
                    await server.control(control, action)
                if cycle == "churn":
                    await server.control(control, "churn?fraction=0.1&new=2")
                sample = await measure(
                    functools.partial(notifier_cycle, config, state_dir, pool), pool
                )
                runs["notifier"][cycle].append(sample)
                progress(
                    f"repeat {rep + 1}/{repeats} notifier {cycle}: "
                    f"wall {sample.wall:.2f}s cpu {sample.cpu:.2f}s {sample.detail['statuses']}"
                )

            await server.control(control, "reset")
            etags: dict[int, str] = {}
            for cycle, action in steps:
                if action:
                    await server.control(control, action)
                if cycle == "churn":
                    await server.control(control, "churn?fraction=0.1&new=2")
                record = etags if cycle == "cold" else None
                sample = await measure(functools.partial(baseline_cycle, server, record))
                runs["baseline"][cycle].append(sample)
                progress(
                    f"repeat {rep + 1}/{repeats} baseline {cycle}: "
                    f"wall {sample.wall:.2f}s cpu {sample.cpu:.2f}s {sample.detail['statuses']}"
                )
                if cycle == "not_modified_304":
                    sample = await measure(functools.partial(bare_conditional_cycle, server, etags))
                    runs["bare_client"][cycle].append(sample)
                    progress(
                        f"repeat {rep + 1}/{repeats} bare client 304: "
                        f"wall {sample.wall:.3f}s cpu {sample.cpu:.3f}s "
                        f"{sample.detail['statuses']}"
                    )
    return runs


# --------------------------------------------------------------------------- matching


def matching_entries(vocab: corpus.Vocabulary, count: int, seed: int) -> list[Entry]:
    r = corpus.rng(f"match-{seed}")
    entries = []
    for i in range(count):
        entries.append(
            Entry(
                feed="bench",
                key=f"k{i}",
                title=corpus.sentence(r, vocab, r.randint(6, 12), 0.05).capitalize(),
                summary=corpus.sentence(r, vocab, r.randint(30, 50), 0.01),
                content=corpus.sentence(r, vocab, r.randint(150, 250), 0.004),
            )
        )
    return entries


def naive_match(entries: list[Entry], watches: tuple[Watch, ...]) -> set[tuple[str, str]]:
    """Per-term ``re.search`` with ``\\b`` (or the regex as written), field by field."""
    found: set[tuple[str, str]] = set()

    def hit(term: str, texts: tuple[str, str, str]) -> bool:
        if len(term) > 1 and term.startswith("/") and term.endswith("/"):
            pattern = term[1:-1]
        else:
            pattern = r"\b" + re.escape(term) + r"\b"
        return any(re.search(pattern, t, re.IGNORECASE) for t in texts)

    for e in entries:
        texts = (e.title, e.summary, e.content)
        for w in watches:
            if (
                (not w.any or any(hit(t, texts) for t in w.any))
                and all(hit(t, texts) for t in w.all)
                and not any(hit(t, texts) for t in w.none)
            ):
                found.add((e.key, w.name))
    return found


def matching_bench(count: int, repeats: int, seed: int) -> dict[str, Any]:
    vocab = corpus.vocabulary(seed)
    watches = make_watches(vocab, ("bench",))
    terms = [t for w in watches for t in (*w.any, *w.all, *w.none)]
    entries = matching_entries(vocab, count, seed)
    assert all(e.title.isascii() and e.content.isascii() for e in entries)  # noqa: S101
    compile_times, fast, slow = [], [], []
    ours: set[tuple[str, str]] = set()
    theirs: set[tuple[str, str]] = set()
    for rep in range(repeats):
        started = time.perf_counter()
        matcher = Matcher.compile(watches)
        compile_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        ours = {(e.key, m.watch) for e in entries for m in matcher.match(e)}
        fast.append(time.perf_counter() - started)
        started = time.perf_counter()
        theirs = naive_match(entries, watches)
        slow.append(time.perf_counter() - started)
        progress(
            f"repeat {rep + 1}/{repeats} matching: Matcher {count / fast[-1]:,.0f} entries/s, "
            f"naive {count / slow[-1]:,.0f} entries/s"
        )
    return {
        "entries": count,
        "watches": len(watches),
        "terms": {
            "total": len(terms),
            "words": sum(1 for t in terms if " " not in t and not t.startswith("/")),
            "phrases": sum(1 for t in terms if " " in t and not t.startswith("/")),
            "regexes": sum(1 for t in terms if t.startswith("/")),
        },
        "matched_pairs": len(ours),
        "entries_with_a_match": len({k for k, _ in ours}),
        "results_equal": ours == theirs,
        "only_matcher": len(ours - theirs),
        "only_naive": len(theirs - ours),
        "compile_seconds": summary(compile_times),
        "matcher_entries_per_s": summary([count / s for s in fast]),
        "naive_entries_per_s": summary([count / s for s in slow]),
        "speedup": statistics.median(slow) / statistics.median(fast),
    }


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "platform": platform.platform(),
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "feedparser": feedparser.__version__,
    }


def cycle_report(runs: dict[str, dict[str, list[Sample]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cycle in CYCLES:
        entry: dict[str, Any] = {}
        for side, cycles in runs.items():
            samples = cycles.get(cycle)
            if not samples:
                continue
            entry[side] = {
                "wall_s": summary([s.wall for s in samples]),
                "cpu_s": summary([s.cpu for s in samples]),
                "detail": samples[-1].detail,
            }
        n, b = entry["notifier"], entry["baseline"]
        entry["ratio_notifier_over_baseline"] = {
            "wall": n["wall_s"]["median"] / b["wall_s"]["median"],
            "cpu": n["cpu_s"]["median"] / max(b["cpu_s"]["median"], 1e-9),
        }
        if "bare_client" in entry:
            bare = entry["bare_client"]
            entry["ratio_notifier_over_bare_client"] = {
                "wall": n["wall_s"]["median"] / bare["wall_s"]["median"],
                "cpu": n["cpu_s"]["median"] / max(bare["cpu_s"]["median"], 1e-9),
            }
        out[cycle] = entry
    return out


def _t(s: dict[str, float], fmt: str = ".3f") -> str:
    return f"{s['median']:{fmt}} ({s['min']:{fmt}}–{s['max']:{fmt}})"


def markdown(result: dict[str, Any]) -> str:
    p, m = result["parameters"], result["machine"]
    lines = [
        f"# notifier benchmark — {result['date']}",
        "",
        f"Machine: {m['cpu_model']}, {m['cpu_count']} cores, {m['platform']}, "
        f"Python {m['python']} (aiohttp {m['aiohttp']}, feedparser {m['feedparser']}).",
        "",
        f"Feeds: {p['feeds']} × {p['entries']} entries (RSS 2.0 and Atom, ~2–3 KB HTML each), "
        f"served from 127.0.0.1 by a separate process; {p['repeats']} repeats; "
        f"concurrency {CONCURRENCY}; parse pool of {p['pool_workers']} workers. "
        "Times are seconds: median (min–max). CPU = this process + reaped children "
        "+ parse-pool workers.",
        "",
        "| cycle | side | wall s | CPU s | notifier / this (wall, CPU) |",
        "|---|---|---|---|---|",
    ]
    for cycle, entry in result["cycles"].items():
        for side in ("notifier", "baseline", "bare_client"):
            if side not in entry:
                continue
            s = entry[side]
            if side == "notifier":
                ratio = "—"
            else:
                r = entry[
                    "ratio_notifier_over_baseline"
                    if side == "baseline"
                    else "ratio_notifier_over_bare_client"
                ]
                ratio = f"{r['wall']:.2f}×, {r['cpu']:.2f}×"
            lines.append(f"| {cycle} | {side} | {_t(s['wall_s'])} | {_t(s['cpu_s'])} | {ratio} |")
    mt = result["matching"]
    lines += [
        "",
        "baseline = plain aiohttp + feedparser.parse in-process, no conditional GET, no skipping; "
        "bare_client = aiohttp GET with If-None-Match only.",
        "",
        f"## Matching: {mt['entries']:,} ASCII entries × {mt['terms']['total']} terms "
        f"({mt['terms']['words']} words, {mt['terms']['phrases']} phrases, "
        f"{mt['terms']['regexes']} regexes) in {mt['watches']} watches",
        "",
        "| matcher | entries/s |",
        "|---|---|",
        f"| notifier.match.Matcher | {_t(mt['matcher_entries_per_s'], ',.0f')} |",
        f"| naive per-term re.search | {_t(mt['naive_entries_per_s'], ',.0f')} |",
        "",
        f"Speed-up (median): {mt['speedup']:.1f}×. Same (entry, watch) results: "
        f"{'yes' if mt['results_equal'] else 'NO'} ({mt['matched_pairs']:,} pairs). "
        f"Matcher.compile: {_t(mt['compile_seconds'])} s.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def warm_up(pool: Executor, server: Server) -> None:
    """Start the pool's workers (and their imports) before anything is timed."""
    body = corpus.render(0, [])
    futures = [pool.submit(feedparser.parse, body) for _ in range(8)]
    for f in futures:
        f.result()
    del server


@contextlib.contextmanager
def quiet_logging() -> Iterator[TextIO]:
    """Log the way the daemon does (JSON, info), into /dev/null."""
    with open(os.devnull, "w") as sink:
        configure_logging("json", "info", sink)
        yield sink


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    progress(f"starting the feed server ({args.feeds} feeds × {args.entries} entries)")
    with (
        quiet_logging(),
        running_server(args.feeds, args.entries, args.seed) as server,
        parse_pool() as pool,
        tempfile.TemporaryDirectory(prefix="notifier-bench-") as tmp,
    ):
        progress(f"server ready at {server.base}")
        warm_up(pool, server)
        workers = len(_workers(pool))
        runs = asyncio.run(
            feed_cycles(server, corpus.vocabulary(args.seed), args.repeats, pool, Path(tmp))
        )
    progress("matching benchmark")
    matching = matching_bench(args.match_entries, args.repeats, args.seed)
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {
            "feeds": args.feeds,
            "entries": args.entries,
            "repeats": args.repeats,
            "smoke": args.smoke,
            "seed": args.seed,
            "concurrency": CONCURRENCY,
            "pool_workers": workers,
            "match_entries": args.match_entries,
        },
        "cycles": cycle_report(runs),
        "matching": matching,
        "total_seconds": time.perf_counter() - started,
    }
    (out / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "latest.md").write_text(markdown(result))
    progress(f"wrote {out / 'latest.json'} and {out / 'latest.md'}")
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--match-entries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument(
        "--smoke", action="store_true", help="5 feeds × 10 entries, 1 repeat, 200 match entries"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.feeds, args.entries, args.repeats, args.match_entries = 5, 10, 1, 200
    return args


def main(argv: list[str] | None = None) -> int:
    result = run(parse_args(argv))
    sys.stdout.write(markdown(result))
    return 0 if result["matching"]["results_equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
