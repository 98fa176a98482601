"""Benchmark notifier's polling cycles and matcher against simple baselines.

Usage: ``python -m bench [--feeds N] [--entries M] [--repeats R] [--peers all|none|A,B]
[--peer-repeats N] [--out DIR] [--smoke]``. Writes ``latest.json`` and ``latest.md`` into
``--out`` (default ``bench/results``); progress goes to stderr. The feeds are generated
and served by a local server process (:mod:`bench.server`); the peers (:mod:`bench.peers`)
are installed from the package registry into ``bench/.peers`` on first use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import gc
import json
import os
import platform
import re
import resource
import shutil
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

from bench import corpus, peers
from notifier.logs import configure_logging
from notifier.matching import Matcher
from notifier.model import Channel, Config, Entry, Feed, FetchPolicy, Watch
from notifier.pipeline.poll import Poller
from notifier.pipeline.stories import StoryBook
from notifier.runtime.app import parse_pool, router_for
from notifier.runtime.pool import IdlePool
from notifier.sources.http import HttpFetcher
from notifier.storage.sqlite import Store

ROOT = Path(__file__).resolve().parent.parent
CYCLES = ("cold", "unchanged_200", "not_modified_304", "churn")
#: Each cycle and the control action that prepares the server for it (churn also churns).
STEPS: tuple[tuple[str, str | None], ...] = (
    ("cold", None),
    ("unchanged_200", "mode/ignore"),
    ("not_modified_304", "mode/304"),
    ("churn", "reset"),
)
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
    """The parse pool's worker pids (notifier's IdlePool says; a plain pool is read)."""
    if isinstance(pool, IdlePool):
        return pool.pids()
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

    def write_urls(self, path: Path) -> Path:
        """Every feed's URL, one a line, in ``path`` (what a peer's driver reads)."""
        path.write_text("".join(self.url(i) + "\n" for i in range(self.feeds)))
        return path

    @property
    def peer_timeout(self) -> float:
        """Seconds a peer's cycle may take before it counts as failed."""
        return 300 + 1.0 * self.feeds

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
        fetch=FetchPolicy(concurrency=CONCURRENCY, per_host=64),
        channels={"console": Channel("console", ("console://",), "text", None, None)},
        feeds=feeds,
        watches=make_watches(vocab, tuple(f.name for f in feeds)),
    )


async def notifier_cycle(
    config: Config, state_dir: Path, pool: Executor, stories: StoryBook
) -> dict[str, Any]:
    """One cycle the way the daemon wires it (matcher compiled too; the story index
    ``stories`` lives as long as the repeat, as a daemon's does)."""
    matcher = Matcher.compile(config.watches)
    with Store.open(state_dir) as store:
        async with HttpFetcher(config.fetch) as fetcher:
            poller = Poller(
                store,
                fetcher,
                matcher,
                max_bytes=config.fetch.max_bytes,
                executor=pool,
                router=router_for(config),
                stories=stories,
                watches={w.name: w for w in config.watches},
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


async def prepare(server: Server, control: aiohttp.ClientSession, cycle: str) -> None:
    action = dict(STEPS)[cycle]
    if action:
        await server.control(control, action)
    if cycle == "churn":
        await server.control(control, "churn?fraction=0.1&new=2")


def _said(detail: dict[str, Any]) -> str:
    extra = f" new {detail['new_entries']}" if "new_entries" in detail else ""
    return f"{detail.get('statuses')}{extra}"


async def peer_cycles(
    server: Server,
    control: aiohttp.ClientSession,
    *,
    env: peers.PeerEnv,
    urls: Path,
    work: Path,
    label: str,
) -> dict[str, Sample] | None:
    """The four cycles by one peer with a fresh state folder; None (and ``env.fail``) on error."""
    timeout = server.peer_timeout
    samples: dict[str, Sample] = {}
    cycle = STEPS[0][0]
    await server.control(control, "reset")
    try:
        for cycle, _action in STEPS:
            await prepare(server, control, cycle)
            wall, cpu, detail = await asyncio.to_thread(
                functools.partial(
                    peers.run_cycle,
                    env,
                    urls=urls,
                    work=work,
                    cycle=cycle,
                    concurrency=CONCURRENCY,
                    timeout=timeout,
                )
            )
            samples[cycle] = Sample(wall, cpu, detail)
            progress(f"{label} {env.name} {cycle}: wall {wall:.2f}s cpu {cpu:.2f}s {_said(detail)}")
    except peers.PeerError as e:
        env.fail(f"{label} {cycle}: {e}")
        progress(f"{label} {env.name} FAILED, dropped from the results: {env.reason}")
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return samples


async def feed_cycles(
    server: Server,
    vocab: corpus.Vocabulary,
    *,
    repeats: int,
    pool: Executor,
    work: Path,
    peer_envs: list[peers.PeerEnv],
    peer_repeats: int,
) -> dict[str, dict[str, list[Sample]]]:
    config = make_config(server, vocab)
    runs: dict[str, dict[str, list[Sample]]] = {
        "notifier": {c: [] for c in CYCLES},
        "baseline": {c: [] for c in CYCLES},
        "bare_client": {"not_modified_304": []},
    }
    for env in peer_envs:
        if env.available:
            runs[env.name] = {c: [] for c in CYCLES}
    urls = server.write_urls(work / "feeds.txt")
    total = max(repeats, peer_repeats)
    async with aiohttp.ClientSession() as control:
        for rep in range(total):
            label = f"repeat {rep + 1}/{total}"
            if rep < repeats:
                await notifier_and_baselines(
                    server,
                    control,
                    config=config,
                    pool=pool,
                    work=work,
                    rep=rep,
                    label=label,
                    runs=runs,
                )
            if rep >= peer_repeats:
                continue
            for env in peer_envs:
                if not env.available:
                    continue
                samples = await peer_cycles(
                    server,
                    control,
                    env=env,
                    urls=urls,
                    work=work / f"peer-{env.name}-{rep}",
                    label=label,
                )
                if samples is None:
                    runs.pop(env.name, None)
                    continue
                for cycle, sample in samples.items():
                    runs[env.name][cycle].append(sample)
    return runs


#: The peer the busy-machine repeat runs beside notifier (the fastest cold peer so far).
BUSY_PEER = "httpx_feedparser"


@contextlib.contextmanager
def busy_machine(spinners: int) -> Iterator[None]:
    """``spinners`` processes each spinning one core, at normal priority, while inside."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "while True: pass"],
            stdin=subprocess.DEVNULL,
        )
        for _ in range(spinners)
    ]
    try:
        time.sleep(0.5)  # running before anything is timed
        yield
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


async def busy_cold(
    server: Server,
    vocab: corpus.Vocabulary,
    *,
    pool: Executor,
    work: Path,
    peer_envs: list[peers.PeerEnv],
) -> dict[str, Any]:
    """The cold cycle once more, notifier then :data:`BUSY_PEER`, while every core is
    also kept busy by another process (one spinner per core): the cold cycle's lead
    when notifier cannot count on idle cores for its parse pool."""
    config = make_config(server, vocab)
    spinners = os.cpu_count() or 1
    out: dict[str, Any] = {"spinners": spinners, "peer": BUSY_PEER}
    env = next((e for e in peer_envs if e.name == BUSY_PEER and e.available), None)
    urls = server.write_urls(work / "busy-feeds.txt")
    async with aiohttp.ClientSession() as control:
        with busy_machine(spinners):
            await server.control(control, "reset")
            stories = StoryBook(config.stories.window)
            sample = await measure(
                functools.partial(notifier_cycle, config, work / "busy-state", pool, stories),
                pool,
            )
            out["notifier"] = {"wall_s": sample.wall, "cpu_s": sample.cpu, **sample.detail}
            progress(f"busy machine: notifier cold wall {sample.wall:.2f}s cpu {sample.cpu:.2f}s")
            if env is not None:
                await server.control(control, "reset")
                try:
                    wall, cpu, detail = await asyncio.to_thread(
                        functools.partial(
                            peers.run_cycle,
                            env,
                            urls=urls,
                            work=work / "busy-peer",
                            cycle="cold",
                            concurrency=CONCURRENCY,
                            timeout=server.peer_timeout,
                        )
                    )
                except peers.PeerError as e:
                    out["peer_error"] = str(e)
                else:
                    out["peer_result"] = {"wall_s": wall, "cpu_s": cpu, **detail}
                    out["speedup_wall"] = wall / max(sample.wall, 1e-9)
                    out["speedup_cpu"] = cpu / max(sample.cpu, 1e-9)
                    progress(f"busy machine: {BUSY_PEER} cold wall {wall:.2f}s cpu {cpu:.2f}s")
                finally:
                    shutil.rmtree(work / "busy-peer", ignore_errors=True)
    return out


def busy_markdown(busy: dict[str, Any] | None) -> list[str]:
    if busy is None:
        return []
    n = busy["notifier"]
    lines = [
        f"## Cold cycle on a busy machine ({busy['spinners']} other processes each spinning "
        "a core)",
        "",
        "| side | wall s | CPU s |",
        "|---|---|---|",
        f"| notifier (this project) | {n['wall_s']:.3f} | {n['cpu_s']:.3f} |",
    ]
    peer = busy.get("peer_result")
    if peer is not None:
        lines += [
            f"| {busy['peer']} | {peer['wall_s']:.3f} | {peer['cpu_s']:.3f} |",
            "",
            f"notifier {busy['speedup_wall']:.2f}× faster than {busy['peer']} in wall time, "
            f"{busy['speedup_cpu']:.2f}× in CPU, on a busy machine (one run each).",
        ]
    else:
        reason = busy.get("peer_error", "the peer is not installed")
        lines += ["", f"{busy['peer']}: not measured ({_cell(reason)})."]
    return [*lines, ""]


async def notifier_and_baselines(
    server: Server,
    control: aiohttp.ClientSession,
    *,
    config: Config,
    pool: Executor,
    work: Path,
    rep: int,
    label: str,
    runs: dict[str, dict[str, list[Sample]]],
) -> None:
    state_dir = work / f"state-{rep}"
    stories = StoryBook(config.stories.window)
    await server.control(control, "reset")
    for cycle, _action in STEPS:
        await prepare(server, control, cycle)
        sample = await measure(
            functools.partial(notifier_cycle, config, state_dir, pool, stories), pool
        )
        runs["notifier"][cycle].append(sample)
        progress(
            f"{label} notifier {cycle}: "
            f"wall {sample.wall:.2f}s cpu {sample.cpu:.2f}s {sample.detail['statuses']}"
        )

    await server.control(control, "reset")
    etags: dict[int, str] = {}
    for cycle, _action in STEPS:
        await prepare(server, control, cycle)
        record = etags if cycle == "cold" else None
        sample = await measure(functools.partial(baseline_cycle, server, record))
        runs["baseline"][cycle].append(sample)
        progress(
            f"{label} baseline {cycle}: "
            f"wall {sample.wall:.2f}s cpu {sample.cpu:.2f}s {sample.detail['statuses']}"
        )
        if cycle == "not_modified_304":
            sample = await measure(functools.partial(bare_conditional_cycle, server, etags))
            runs["bare_client"][cycle].append(sample)
            progress(
                f"{label} bare client 304: "
                f"wall {sample.wall:.3f}s cpu {sample.cpu:.3f}s {sample.detail['statuses']}"
            )


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


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """``a / b`` of the median wall and CPU times (below 1: ``a`` took less)."""
    return {
        "wall": a["wall_s"]["median"] / b["wall_s"]["median"],
        "cpu": a["cpu_s"]["median"] / max(b["cpu_s"]["median"], 1e-9),
    }


def cycle_report(
    runs: dict[str, dict[str, list[Sample]]], peer_names: tuple[str, ...] = ()
) -> dict[str, Any]:
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
                "samples": len(samples),
                "detail": samples[-1].detail,
            }
        n = entry["notifier"]
        others = [side for side in entry if side != "notifier"]
        ratios = {side: _ratio(n, entry[side]) for side in others}
        entry["ratio_notifier_over"] = ratios
        entry["ratio_notifier_over_baseline"] = ratios["baseline"]
        if "bare_client" in ratios:
            entry["ratio_notifier_over_bare_client"] = ratios["bare_client"]
        measured = [name for name in peer_names if name in entry]
        if measured:
            fastest = min(measured, key=lambda name: entry[name]["wall_s"]["median"])
            entry["fastest_peer"] = {
                "name": fastest,
                "median_wall_s": entry[fastest]["wall_s"]["median"],
                "ratio_notifier_over_peer": ratios[fastest],
                "notifier_speedup": 1 / ratios[fastest]["wall"],
            }
        out[cycle] = entry
    return out


#: (cycle, against, factor, CPU factor, description): against "fastest_peer" needs
#: notifier at least ``factor`` times faster in wall time (and ``CPU factor`` times in CPU,
#: when given); against "bare_client" at most ``factor`` times slower.
TARGETS: tuple[tuple[str, str, float, float | None, str], ...] = (
    ("cold", "fastest_peer", 6.0, 4.0, "cold cycle ≥6× faster than the fastest peer, ≥4× in CPU"),
    (
        "unchanged_200",
        "fastest_peer",
        10.0,
        None,
        "unchanged-200 cycle ≥10× faster than the fastest peer",
    ),
    (
        "not_modified_304",
        "bare_client",
        1.5,
        None,
        "304 cycle within 1.5× of the bare aiohttp client",
    ),
)


def targets(cycles: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, on median wall time, each met or missed (and by how much)."""
    out: list[dict[str, Any]] = []
    for cycle, against, factor, cpu_factor, text in TARGETS:
        entry = cycles[cycle]
        target: dict[str, Any] = {"target": text, "cycle": cycle, "metric": "median wall time"}
        if against == "fastest_peer":
            target["required"] = f"notifier ≥ {factor:g}× faster"
            fastest = entry.get("fastest_peer")
            if fastest is None:
                target |= {"against": None, "met": None, "verdict": "not measured: no peer ran"}
                out.append(target)
                continue
            speedup = fastest["notifier_speedup"]
            cpu_speedup = 1 / max(fastest["ratio_notifier_over_peer"]["cpu"], 1e-9)
            wall_met = speedup >= factor
            cpu_met = cpu_factor is None or cpu_speedup >= cpu_factor
            misses = []
            if not wall_met:
                misses.append(f"wall {speedup:.2f}× (needs ≥ {factor:g}×)")
            if not cpu_met:
                misses.append(f"CPU {cpu_speedup:.2f}× (needs ≥ {cpu_factor:g}×)")
            cpu_text = f", {cpu_speedup:.2f}× in CPU" if cpu_factor is not None else ""
            target |= {
                "against": fastest["name"],
                "measured": speedup,
                "measured_cpu": cpu_speedup,
                "met": wall_met and cpu_met,
                "verdict": (
                    f"met: {speedup:.2f}× faster than {fastest['name']}{cpu_text}"
                    if wall_met and cpu_met
                    else f"missed against {fastest['name']}: " + ", ".join(misses)
                ),
            }
            if cpu_factor is not None:
                target["required"] += f", ≥ {cpu_factor:g}× in CPU"
        else:
            ratio = entry["ratio_notifier_over_bare_client"]
            met = ratio["wall"] <= factor
            target |= {
                "against": "bare_client",
                "required": f"notifier ≤ {factor:g}× the bare client's time",
                "measured": ratio["wall"],
                "measured_cpu": ratio["cpu"],
                "met": met,
                "verdict": (
                    f"met: {ratio['wall']:.2f}× the bare client's time"
                    if met
                    else f"missed by {ratio['wall'] / factor:.2f}×: {ratio['wall']:.2f}× the "
                    f"bare client's time, needs ≤ {factor:g}×"
                ),
            }
        out.append(target)
    return out


def daemon_targets(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The issue's daemon targets (memory, latency, reminders) from :mod:`bench.daemon`."""
    if result is None:
        return []
    mem, lat, rem = result["memory"], result["latency"], result["reminders"]
    return [
        {
            "target": f"idle RSS ≤ {mem['target']['idle_rss_mib']:g} MB with "
            f"{mem['feeds']:,} feeds configured",
            "against": "main process",
            "measured_text": f"{mem['main']['idle_rss_mib']:.1f} MiB "
            f"(tree {mem['tree']['idle_rss_mib']:.1f} RSS, {mem['tree']['idle_pss_mib']:.1f} PSS)",
            "met": mem["target"]["met"],
            "verdict": f"margin {mem['target']['margin_mib']:+.1f} MiB",
        },
        {
            "target": f"alert latency ≤ poll interval + 1 s ({lat['target_s']:g} s)",
            "against": f"{lat['received']}/{lat['items']} items",
            "measured_text": f"max {lat['latency_s']['max']:.2f} s, "
            f"p95 {lat['latency_s']['p95']:.2f} s, p50 {lat['latency_s']['p50']:.2f} s",
            "met": lat["met"],
            "verdict": f"margin {lat['margin_s']:+.2f} s" if lat["margin_s"] is not None else "",
        },
        {
            "target": f"reminders within {rem['target_s']:g} s of plan, each once",
            "against": f"{rem['received']}/{rem['expected']} notices",
            "measured_text": f"max {rem['lateness_s']['max']:.3f} s late",
            "met": rem["met"],
            "verdict": f"margin {rem['margin_s']:+.3f} s" if rem["margin_s"] is not None else "",
        },
    ]


def _t(s: dict[str, float], fmt: str = ".3f") -> str:
    return f"{s['median']:{fmt}} ({s['min']:{fmt}}–{s['max']:{fmt}})"


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    return " / ".join(line.strip() for line in text.splitlines() if line.strip()).replace("|", "/")


def _outcome(detail: dict[str, Any]) -> str:
    parts = [f"{k}: {v}" for k, v in (detail.get("statuses") or {}).items()]
    for key, name in (("new_entries", "new"), ("stored_entries", "stored")):
        if key in detail:
            parts.append(f"{name} {detail[key]}")
    return ", ".join(parts).replace("|", "/")


SIDE_NOTES = {
    "notifier": "notifier (this project)",
    "baseline": "baseline (aiohttp + feedparser, in-process)",
    "bare_client": "bare_client (aiohttp, If-None-Match only)",
}


def markdown(result: dict[str, Any]) -> str:
    p, m = result["parameters"], result["machine"]
    lines = [
        f"# notifier benchmark — {result['date']}",
        "",
        f"Machine: {m['cpu_model']}, {m['cpu_count']} cores, {m['platform']}, "
        f"Python {m['python']} (aiohttp {m['aiohttp']}, feedparser {m['feedparser']}).",
        "",
        f"Feeds: {p['feeds']} × {p['entries']} entries (RSS 2.0 and Atom, ~2–3 KB HTML each), "
        f"served from 127.0.0.1 by a separate process; {p['repeats']} repeats "
        f"({p['peer_repeats']} for the peers); concurrency {CONCURRENCY}; parse pool of "
        f"{p['pool_workers']} workers. Times are seconds: median (min–max). CPU = the "
        "measured process + its reaped children (+ notifier's parse-pool workers). "
        "Ratios are notifier / that side on the medians: below 1 means notifier took less.",
        "",
    ]
    for cycle, entry in result["cycles"].items():
        lines += [
            f"## Cycle `{cycle}`",
            "",
            "| side | wall s | CPU s | notifier / side: wall | CPU | outcome (last repeat) |",
            "|---|---|---|---|---|---|",
        ]
        for side, s in entry.items():
            if side not in entry["ratio_notifier_over"] and side != "notifier":
                continue
            if side == "notifier":
                wall_ratio = cpu_ratio = "—"
            else:
                r = entry["ratio_notifier_over"][side]
                wall_ratio, cpu_ratio = f"{r['wall']:.3f}×", f"{r['cpu']:.3f}×"
            lines.append(
                f"| {SIDE_NOTES.get(side, side)} | {_t(s['wall_s'])} | {_t(s['cpu_s'])} | "
                f"{wall_ratio} | {cpu_ratio} | {_outcome(s['detail'])} |"
            )
        for name, info in result["peers"].items():
            if not info["available"]:
                lines.append(f"| {name} | — | — | — | — | not measured: {_cell(info['reason'])} |")
        fastest = entry.get("fastest_peer")
        if fastest:
            name, ratio = fastest["name"], fastest["ratio_notifier_over_peer"]
            lines += [
                "",
                f"Fastest peer: **{name}** ({fastest['median_wall_s']:.3f} s); notifier / "
                f"{name} = {ratio['wall']:.3f}× wall, {ratio['cpu']:.3f}× CPU "
                f"(notifier {fastest['notifier_speedup']:.2f}× faster).",
            ]
        lines.append("")
    lines += [
        "## Targets (from the issue; cycles on median wall time)",
        "",
        "| target | against | measured | CPU | verdict |",
        "|---|---|---|---|---|",
    ]
    for t in result["targets"]:
        measured = f"{t['measured']:.2f}×" if "measured" in t else t.get("measured_text", "—")
        cpu = f"{t['measured_cpu']:.2f}×" if "measured_cpu" in t else "—"
        mark = {True: "✅", False: "❌", None: "—"}[t["met"]]
        against = t["against"] or "—"
        lines.append(f"| {t['target']} | {against} | {measured} | {cpu} | {mark} {t['verdict']} |")
    lines += [
        "",
        "For the peer targets, measured = peer time / notifier time (how many times faster "
        "notifier is); for the 304 target, measured = notifier time / bare client time.",
        "",
        *busy_markdown(result.get("busy_cold")),
    ]
    if result["peers"]:
        lines += [
            "## Peers",
            "",
            "| peer | versions | how it is run | settings |",
            "|---|---|---|---|",
        ]
        for name, info in result["peers"].items():
            versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items()) or "—"
            settings = ", ".join(f"{k}: {v}" for k, v in info["settings"].items()) or "—"
            status = "" if info["available"] else f" **Not measured: {_cell(info['reason'])}**"
            lines.append(f"| {name} | {versions} | {info['about']}{status} | {_cell(settings)} |")
        notes = [
            f"- {name}: {info['note']}" for name, info in result["peers"].items() if "note" in info
        ]
        if notes:
            lines += ["", *notes]
        lines += [
            "",
            "Each peer runs in its own virtualenv (bench/.peers/<name>) through its driver "
            "(bench/drivers/<name>.py), one process per cycle, with a fresh state folder per "
            "repeat. Interpreter start-up, imports and the first-use feed registration are "
            "not timed; opening and saving the peer's state is.",
            "",
        ]
    mt = result["matching"]
    lines += [
        "baseline = plain aiohttp + feedparser.parse in-process, no conditional GET, no skipping; "
        "bare_client = aiohttp GET with If-None-Match only.",
        "",
        f"## Matching: {mt['entries']:,} ASCII entries × {mt['terms']['total']} terms "
        f"({mt['terms']['words']} words, {mt['terms']['phrases']} phrases, "
        f"{mt['terms']['regexes']} regexes) in {mt['watches']} watches",
        "",
        "| matcher | entries/s |",
        "|---|---|",
        f"| notifier.matching.Matcher | {_t(mt['matcher_entries_per_s'], ',.0f')} |",
        f"| naive per-term re.search | {_t(mt['naive_entries_per_s'], ',.0f')} |",
        "",
        f"Speed-up (median): {mt['speedup']:.1f}×. Same (entry, watch) results: "
        f"{'yes' if mt['results_equal'] else 'NO'} ({mt['matched_pairs']:,} pairs). "
        f"Matcher.compile: {_t(mt['compile_seconds'])} s.",
        "",
    ]
    if result.get("daemon") is not None:
        from bench import daemon  # noqa: PLC0415 - bench.daemon imports this module

        lines += [*daemon.markdown(result["daemon"]), ""]
    lines += startup_markdown(result.get("startup"))
    return "\n".join(lines)


def startup_markdown(startup: dict[str, Any] | None) -> list[str]:
    """The CLI start-up figures of ``bench.startup`` (``startup.json`` beside the results,
    written by the step of ``make bench`` before this one), beside the daemon's."""
    if not startup:
        return []
    lines = [
        f"### Command start-up (`python -m bench.startup`, {startup['date']})",
        "",
        "| command | median s | best s | target (median) |",
        "|---|---|---|---|",
    ]
    for c in startup["commands"]:
        target = "—" if c.get("target_s") is None else f"≤ {c['target_s']:g} s"
        if c.get("met") is not None:
            target += ": met" if c["met"] else ": **missed**"
        lines.append(f"| `{c['command']}` | {c['median_s']:.3f} | {c['best_s']:.3f} | {target} |")
    return [*lines, ""]


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
    gc.freeze()  # as ``notifier run`` does once its modules are imported (Daemon.start)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    peer_envs = peers.prepare(args.peers, progress)
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
            feed_cycles(
                server,
                corpus.vocabulary(args.seed),
                repeats=args.repeats,
                pool=pool,
                work=Path(tmp),
                peer_envs=peer_envs,
                peer_repeats=args.peer_repeats,
            )
        )
        busy = None
        if args.busy:
            progress("the cold cycle again, on a busy machine")
            busy = asyncio.run(
                busy_cold(
                    server,
                    corpus.vocabulary(args.seed),
                    pool=pool,
                    work=Path(tmp),
                    peer_envs=peer_envs,
                )
            )
    progress("matching benchmark")
    matching = matching_bench(args.match_entries, args.repeats, args.seed)
    cycles = cycle_report(runs, tuple(env.name for env in peer_envs if env.available))
    daemon_result: dict[str, Any] | None = None
    if args.daemon:
        progress("daemon measurements (memory, alert latency, reminders)")
        from bench import daemon  # noqa: PLC0415 - bench.daemon imports this module

        daemon_result = daemon.run_daemon_benchmarks(
            feeds=args.feeds,
            smoke=args.smoke,
            entries=args.entries,
            seed=args.seed,
            # The latency goal is stated with 1,000 feeds polling: as many as --feeds.
            latency_feeds=None if args.smoke else args.feeds,
        )
    startup_file = out / "startup.json"  # bench.startup's, when make bench ran it first
    startup = json.loads(startup_file.read_text()) if startup_file.is_file() else None
    result: dict[str, Any] = {
        "startup": startup,
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
            "peers": list(args.peers),
            "peer_repeats": args.peer_repeats,
        },
        "cycles": cycles,
        "busy_cold": busy,
        "targets": targets(cycles) + daemon_targets(daemon_result),
        "peers": {env.name: env.report() for env in peer_envs},
        "matching": matching,
        "daemon": daemon_result,
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
        "--peers",
        default="all",
        help=f"peers to run side by side: all (default), none, or a comma-separated "
        f"list of {', '.join(peers.PEER_NAMES)}",
    )
    parser.add_argument(
        "--peer-repeats",
        type=int,
        default=None,
        help="repeats for the peers (default: --repeats)",
    )
    parser.add_argument(
        "--daemon",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the real `notifier run`: memory, alert latency, reminders "
        "(bench.daemon; default on)",
    )
    parser.add_argument(
        "--busy",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also repeat the cold cycle (notifier and httpx_feedparser) with every core "
        "kept busy by another process (default on)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="5 feeds × 10 entries, 1 repeat, 200 match entries (peers included)",
    )
    args = parser.parse_args(argv)
    try:
        args.peers = peers.parse_names(args.peers)
    except ValueError as e:
        parser.error(str(e))
    if args.smoke:
        args.feeds, args.entries, args.repeats, args.match_entries = 5, 10, 1, 200
        args.peer_repeats = None
    if args.peer_repeats is None:
        args.peer_repeats = args.repeats
    if args.peer_repeats < 0:
        parser.error("--peer-repeats must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    result = run(parse_args(argv))
    sys.stdout.write(markdown(result))
    return 0 if result["matching"]["results_equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
