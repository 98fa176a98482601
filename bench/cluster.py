"""Scale-out benchmark (issue 17): polls per second of 1, 2 and 3 ``notifier worker``
processes sharing a throwaway PostgreSQL, next to the SQLite mode, on the same feeds.

Usage: ``python -m bench.cluster [--feeds 1000] [--workers 1,2,3]
[--demand-per-worker 60 | --interval S] [--window 15] [--settle 5] [--concurrency 10]
[--work DIR] [--out bench/results] [--smoke]``. Writes ``cluster.json`` and
``cluster.md`` into ``--out`` and prints the Markdown on stdout; progress goes to
stderr. Without PostgreSQL (``initdb``/``pg_ctl``) or the ``postgres`` extra it prints
a ``skipped`` line and exits 0.

What runs, all on 127.0.0.1:

* the feed server of :mod:`bench.server` (the same generated feeds as ``python -m
  bench``), which counts the feed requests it answers, by status;
* a throwaway PostgreSQL (``initdb`` in a temporary folder, as user ``postgres`` when
  run as root; ``fsync=off``), a fresh database for each measurement;
* per measurement, ``N`` real ``notifier worker`` processes (or one ``notifier run``
  for the SQLite daemon row), started as ``python -m notifier`` with this checkout
  on ``PYTHONPATH``, JSON logs at ``info``, one config: the feeds at the row's
  interval, the 20 benchmark watches, a ``console://`` channel into /dev/null.

**Polls per second** is the throughput sustained while polls are always due: the
interval is short enough that ``feeds / interval`` is more than the processes can poll
(``N`` workers: ``feeds / (N × --demand-per-worker)`` s, whole seconds; ``notifier
run``: 1 s), so the queue of poll jobs never empties (checked: the ``todo`` poll jobs
are counted every second of the window; their minimum is shown as *backlog*). It is
the feed server's count of answered feed requests over a steady window, after the cold
cycle (every feed's first poll: a 200, parsed), the workers' own first polls (each
worker reads the feed states once, so its first poll of a feed another worker polled
is unconditional: the 200s after the cold cycle, waited out and shown as *extra
200s*) and ``--settle`` seconds.

* **304 cycle**: the server answers 304 to every conditional request (``mode/304``),
  as in ``python -m bench``'s ``not_modified_304``.
* **churn cycle**: the server is reset (``normal``: 304 while the ETag matches) and,
  every ``--interval`` seconds, every 10th feed gains 2 entries (``churn?fraction=0.1
  &new=2``, ``python -m bench``'s churn): about 10% of polls get a 200 with 2 new
  entries, parsed and matched, the rest 304.

**CPU per poll**: the workers' CPU seconds (``/proc/<pid>/stat`` utime+stime of each
worker and its descendants — the parse pool's forkserver and workers —, plus the
children they reaped) over the window, divided by its polls. **PG CPU per poll**:
the same for the postmaster and all its backends. The feed server's CPU is shown
apart, and the whole machine's busy cores (``/proc/stat``: other processes included).
The SQLite rows are ``notifier run`` measured the same way (its parse pool included;
PostgreSQL not used) and, for reference, ``python -m bench``'s in-process
cycle (``bench.run.notifier_cycle``: one ``asyncio.gather`` over every feed,
concurrency 50), its polls/s being feeds / wall time of one cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/cluster.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench import corpus
from bench.daemon import _config, _stat, descendants
from bench.run import CLK_TCK, Server, machine, progress

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "apt-get install -y postgresql"
PG_USER = "notifier"
#: Every 10th feed gains 2 entries per churn (as ``python -m bench``'s churn cycle).
CHURN = "churn?fraction=0.1&new=2"


# --------------------------------------------------------------------------- CPU from /proc


def _times(pid: int) -> tuple[float, float] | None:
    """(utime+stime, cutime+cstime) of a process in seconds, or None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = text[text.rindex(")") + 2 :].split()
    return (int(f[11]) + int(f[12])) / CLK_TCK, (int(f[13]) + int(f[14])) / CLK_TCK


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy (every process, ours or not) so far."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and its live descendants, plus the children each reaped
    (a backend or pool worker that exits is added to its parent's ``cutime``)."""
    total = 0.0
    for pid in (root, *descendants(root)):
        t = _times(pid)
        if t is not None:
            total += t[0] + t[1]
    return total


# --------------------------------------------------------------------------- PostgreSQL


def _find_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    for folder in sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    ):
        if (Path(folder) / "pg_ctl").exists() and (Path(folder) / "initdb").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    """A throwaway server (the same set-up as ``tests/pg.py``): superuser
    :data:`PG_USER`, trust authentication, ``fsync=off``."""

    bin: Path
    folder: Path
    port: int = 0
    prefix: list[str] = field(default_factory=list)
    databases: int = 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new empty database; its URL."""
        import psycopg  # noqa: PLC0415 - the optional postgres extra

        self.databases += 1
        name = f"bench{self.databases}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
        return self.url(name)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - PostgreSQL's own programs, fixed arguments
            [*self.prefix, str(self.bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def postmaster(self) -> int:
        """The postmaster's pid (first line of ``postmaster.pid``)."""
        return int((self.folder / "data" / "postmaster.pid").read_text().split()[0])

    def cpu(self) -> float:
        """CPU seconds of the postmaster and every backend, reaped ones included."""
        return tree_cpu(self.postmaster())

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def _owner() -> tuple[list[str], int | None, int | None]:
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"], entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root, and there is no user postgres or nobody")


def pg_unavailable() -> str | None:
    """Why this benchmark cannot run here, or None."""
    try:
        import procrastinate  # noqa: F401, PLC0415 - the optional postgres extra
        import psycopg  # noqa: F401, PLC0415
    except ImportError:
        return "psycopg/procrastinate are not installed: pip install 'notifier[postgres]'"
    if _find_bin() is None:
        return f"PostgreSQL is not installed: {INSTALL}"
    return None


def start_postgres(max_connections: int = 200) -> Postgres:
    """Create and start a server; RuntimeError saying why it could not."""
    folder_bin = _find_bin()
    if folder_bin is None:
        raise RuntimeError(f"PostgreSQL is not installed ({INSTALL})")
    prefix, uid, gid = _owner()
    folder = Path(tempfile.mkdtemp(prefix="notifier-bench-pg-"))
    if uid is not None and gid is not None:
        os.chown(folder, uid, gid)
    pg = Postgres(folder_bin, folder, 0, prefix)
    done = pg.run(
        "initdb", "-D", str(folder / "data"), "-A", "trust", "-U", PG_USER, "-E", "UTF8",
        "--locale=C", "--no-sync",
    )  # fmt: skip
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr.strip()}")
    error = ""
    for _ in range(5):  # a port found free may be taken before the server binds it
        pg.port = _free_port()
        options = (
            f"-k {folder} -c listen_addresses=127.0.0.1 -p {pg.port} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c shared_buffers=64MB "
            f"-c max_connections={max_connections}"
        )
        done = pg.run(
            "pg_ctl", "-D", str(folder / "data"), "-l", str(folder / "log"), "-w", "-t", "30",
            "-o", options, "start",
        )  # fmt: skip
        if done.returncode == 0:
            return pg
        error = done.stderr.strip() or done.stdout.strip()
    pg.stop()
    raise RuntimeError(f"pg_ctl start failed: {error}")


# --------------------------------------------------------------------------- processes


class Processes:
    """``count`` ``notifier worker`` processes (or one ``notifier run``) on one config."""

    def __init__(
        self,
        work: Path,
        name: str,
        config: dict[str, Any],
        *,
        count: int,
        state_url: str | None,
        concurrency: int,
    ) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.config_path = work / f"{name}.yaml"
        # JSON is YAML 1.2: the loader reads it as written.
        self.config_path.write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        if state_url is not None:
            env["NOTIFIER_STATE_URL"] = state_url
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.known: dict[int, int] = {}  # pid -> start time, for a clean stop
        for i in range(count):
            log = work / f"{name}-{i}.log"
            args = [
                sys.executable, "-m", "notifier",
                *(["worker", "--concurrency", str(concurrency)] if state_url else ["run"]),
                "--config", str(self.config_path),
                "--state-dir", str(work / f"{name}-state-{i}"),
                "--log-format", "json", "--log-level", "info", "--grace", "3",
            ]  # fmt: skip
            with log.open("wb") as err:
                self.procs.append(
                    subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
                        args, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=err
                    )
                )
            self.logs.append(log)

    def tail(self, chars: int = 2000) -> str:
        out = []
        for log in self.logs:
            with contextlib.suppress(OSError):
                out.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-chars:])
        return "\n".join(out)

    def logged_statuses(self) -> dict[str, int]:
        """The statuses of the ``feed polled`` lines logged at info (first polls, parsed
        bodies, errors: 304s and unchanged bodies are logged at debug only)."""
        counts: dict[str, int] = {}
        for log in self.logs:
            with contextlib.suppress(OSError):
                for raw in log.read_bytes().splitlines():
                    if b'"feed polled"' not in raw:
                        continue
                    with contextlib.suppress(ValueError):
                        status = str(json.loads(raw).get("status"))
                        counts[status] = counts.get(status, 0) + 1
        return counts

    def check_alive(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a notifier process exited with {proc.returncode}:\n"
                                   + self.tail())  # fmt: skip

    def track(self) -> None:
        for proc in self.procs:
            for pid in descendants(proc.pid):
                st = _stat(pid)
                if st is not None:
                    self.known.setdefault(pid, st[1])

    def cpu(self) -> float:
        self.track()
        return sum(tree_cpu(p.pid) for p in self.procs)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM; a second SIGTERM after 3 s (the CLI exits at once on it); SIGKILL
        after ``timeout``; then any descendant left over."""
        self.track()
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        again = time.monotonic() + 3.0
        for proc in self.procs:
            while proc.poll() is None and time.monotonic() < deadline:
                if time.monotonic() > again:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGTERM)
                    again = deadline
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        time.sleep(0.2)
        for pid, start in self.known.items():
            st = _stat(pid)
            if st is not None and st[1] == start:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------- one measurement


@dataclass(frozen=True, slots=True)
class Plan:
    feeds: int
    interval_s: float
    settle_s: float
    window_s: float
    concurrency: int
    cold_timeout_s: float
    #: Seconds without a 200 that end the cold cycle and the workers' warm-up.
    quiet_s: float = 2.0


async def _stats(server: Server, session: aiohttp.ClientSession) -> dict[str, int]:
    async with session.get(f"{server.base}/_control/stats") as resp:
        resp.raise_for_status()
        data = await resp.json()
    return {"requests": int(data["requests"]), **{k: int(v) for k, v in data["statuses"].items()}}


def _backlog(url: str) -> int | None:
    """``todo`` poll jobs whose time came (None before Procrastinate's schema exists)."""
    import psycopg  # noqa: PLC0415 - the optional postgres extra

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' "
                "AND task_name = 'notifier.poll'"
            ).fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


async def _window(
    server: Server,
    session: aiohttp.ClientSession,
    procs: Processes,
    *,
    pg: Postgres | None,
    state_url: str | None,
    plan: Plan,
    churn: bool,
) -> dict[str, Any]:
    """Settle, then measure polls, CPU and backlog over ``plan.window_s``."""
    churner: asyncio.Task[None] | None = None
    if churn:

        async def keep_churning() -> None:
            while True:
                await server.control(session, CHURN)
                await asyncio.sleep(plan.interval_s)

        churner = asyncio.create_task(keep_churning())
    try:
        await asyncio.sleep(plan.settle_s)
        procs.check_alive()
        backlog: list[int] = []
        before = await _stats(server, session)
        cpu0 = procs.cpu()
        pg0 = pg.cpu() if pg is not None else 0.0
        srv0 = tree_cpu(server.proc.pid)
        all0 = machine_busy()
        t0 = time.monotonic()
        while time.monotonic() - t0 < plan.window_s:
            if state_url is not None:
                b = await asyncio.to_thread(_backlog, state_url)
                if b is not None:
                    backlog.append(b)
            await asyncio.sleep(min(1.0, max(0.0, plan.window_s - (time.monotonic() - t0))))
        after = await _stats(server, session)
        wall = time.monotonic() - t0
        cpu = procs.cpu() - cpu0
        pg_cpu = (pg.cpu() - pg0) if pg is not None else None
        srv = tree_cpu(server.proc.pid) - srv0
        everything = machine_busy() - all0
        procs.check_alive()
    finally:
        if churner is not None:
            churner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await churner
    polls = after["requests"] - before["requests"]
    statuses = {k: after.get(k, 0) - before.get(k, 0) for k in ("200", "304")}
    per = polls or None  # no poll in the window: no cost per poll
    return {
        "window_s": round(wall, 2),
        "polls": polls,
        "statuses": statuses,
        "polls_per_s": round(polls / wall, 1),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_poll": round(1000 * cpu / per, 3) if per else None,
        "pg_cpu_s": round(pg_cpu, 2) if pg_cpu is not None else None,
        "pg_cpu_ms_per_poll": round(1000 * pg_cpu / per, 3) if pg_cpu is not None and per else None,
        "server_cpu_s": round(srv, 2),
        "machine_cpu_share": round((cpu + (pg_cpu or 0.0) + srv) / wall, 2),
        "machine_busy_cores": round(everything / wall, 2),
        "backlog": {"min": min(backlog), "median": statistics.median(backlog)} if backlog else None,
        "saturated": (min(backlog) > 0) if backlog else None,
    }


async def steady(
    server: Server,
    pg: Postgres | None,
    work: Path,
    plan: Plan,
    *,
    workers: int,
    seed: int,
) -> dict[str, Any]:
    """One measurement: ``workers`` ``notifier worker`` processes on a fresh database
    (``workers == 0``: one ``notifier run`` on a fresh SQLite state)."""
    vocab = corpus.vocabulary(seed)
    config = _config(
        server,
        feeds=plan.feeds,
        interval=f"{round(plan.interval_s)}s",
        channels={"console": ["console://"]},
        default="console",
        vocab=vocab,
    )
    state_url = pg.database() if pg is not None and workers else None
    name = f"workers-{workers}" if workers else "sqlite-run"
    async with aiohttp.ClientSession() as session:
        await server.control(session, "reset")
        start = await _stats(server, session)
        started = time.monotonic()
        procs = Processes(
            work,
            name,
            config,
            count=max(workers, 1),
            state_url=state_url,
            concurrency=plan.concurrency,
        )
        try:
            # The cold cycle: every feed's first poll is a 200 (the server's feeds are
            # as reset, and nothing has an ETag yet).
            # Done when every feed had its 200 and none came for quiet_s (with several
            # workers a feed gets one 200 per worker: see below; wait those out).
            last_200, quiet_since, polls_then = -1, time.monotonic(), 0
            while True:
                now = await _stats(server, session)
                got = now.get("200", 0) - start.get("200", 0)
                if got != last_200:
                    last_200, quiet_since, polls_then = got, time.monotonic(), now["requests"]
                if got >= plan.feeds and _quiet(plan, quiet_since, now["requests"] - polls_then):
                    break
                procs.check_alive()
                if time.monotonic() - started > plan.cold_timeout_s:
                    raise TimeoutError(
                        f"{name}: the cold cycle did not end in {plan.cold_timeout_s:.0f} s "
                        f"({now})\n{procs.tail()}"
                    )
                await asyncio.sleep(0.2)
            cold_s = quiet_since - started
            cold_200 = last_200
            progress(f"{name}: cold cycle done {cold_s:.1f} s after start")
            # Each worker keeps its own copy of the feed states (Poller.state, read once):
            # its first poll of a feed another worker polled goes without validators (and
            # is logged as a first poll). In mode/304 such a poll is the only 200: wait
            # until quiet_s pass without one.
            await server.control(session, "mode/304")
            warm_start = await _stats(server, session)
            last_200, quiet_since = warm_start.get("200", 0), time.monotonic()
            polls_then = warm_start["requests"]
            warm_started = time.monotonic()
            while True:
                now = await _stats(server, session)
                if now.get("200", 0) != last_200:
                    last_200, quiet_since = now.get("200", 0), time.monotonic()
                    polls_then = now["requests"]
                if _quiet(plan, quiet_since, now["requests"] - polls_then):
                    break
                procs.check_alive()
                if time.monotonic() - warm_started > plan.cold_timeout_s:
                    raise TimeoutError(f"{name}: unconditional polls went on ({now})")
                await asyncio.sleep(0.2)
            warm_200 = last_200 - warm_start.get("200", 0)
            warm_s = quiet_since - warm_started
            if warm_200:
                progress(
                    f"{name}: {warm_200} more unconditional polls (200) over {warm_s:.1f} s "
                    "after the cold cycle"
                )
            c304 = await _window(
                server, session, procs, pg=pg, state_url=state_url, plan=plan, churn=False
            )
            progress(f"{name}: 304 {_said(c304)}")
            await server.control(session, "reset")
            churn = await _window(
                server, session, procs, pg=pg, state_url=state_url, plan=plan, churn=True
            )
            progress(f"{name}: churn {_said(churn)}")
        finally:
            await asyncio.to_thread(procs.stop)
    return {
        "interval_s": plan.interval_s,
        "demand_per_s": round(plan.feeds / plan.interval_s, 1),
        "warm_200": warm_200,
        "warm_s": round(warm_s, 1),
        "logged_statuses": procs.logged_statuses(),
        "mode": "cluster" if workers else "sqlite",
        "command": "notifier worker" if workers else "notifier run",
        "processes": max(workers, 1),
        "cold_s": round(cold_s, 1),
        "cold_200": cold_200,
        "not_modified_304": c304,
        "churn": churn,
    }


def _quiet(plan: Plan, since: float, polls: int) -> bool:
    """No 200 for ``plan.quiet_s`` s and for ``min(feeds, 50)`` polls (a slow cluster
    takes long to come round to a feed)."""
    return time.monotonic() - since >= plan.quiet_s and polls >= min(plan.feeds, 50)


def _said(c: dict[str, Any]) -> str:
    pg = (
        f", PG {_cell(c, 'pg_cpu_ms_per_poll', '.2f')} ms/poll" if c["pg_cpu_s"] is not None else ""
    )
    backlog = f", backlog min {c['backlog']['min']}" if c["backlog"] else ""
    return (
        f"{c['polls_per_s']:.1f} polls/s ({c['statuses']}), "
        f"CPU {_cell(c, 'cpu_ms_per_poll', '.2f')} ms/poll{pg}{backlog}, "
        f"ours {c['machine_cpu_share']:.2f} of {c['machine_busy_cores']:.2f} cores busy"
    )


# --------------------------------------------------------------------------- SQLite cycles


def sqlite_cycles(server: Server, seed: int, work: Path) -> dict[str, Any]:
    """``python -m bench``'s in-process notifier cycle (cold untimed, then 304, churn)."""
    from bench.run import (  # noqa: PLC0415 - heavy; only for this row
        make_config,
        measure,
        notifier_cycle,
        prepare,
        quiet_logging,
        warm_up,
    )
    from notifier.pipeline.stories import StoryBook  # noqa: PLC0415
    from notifier.runtime.app import parse_pool  # noqa: PLC0415

    config = make_config(server, corpus.vocabulary(seed))
    out: dict[str, Any] = {
        "mode": "sqlite",
        "command": "bench.run notifier_cycle (in-process, gather over every feed)",
        "processes": 1,
    }

    async def cycles(pool: Any) -> None:
        stories = StoryBook(config.stories.window)
        cycle = functools.partial(notifier_cycle, config, work / "sqlite-cycle", pool, stories)
        async with aiohttp.ClientSession() as control:
            await server.control(control, "reset")
            await cycle()  # cold, untimed
            for name in ("not_modified_304", "churn"):
                await prepare(server, control, name)
                sample = await measure(cycle, pool)
                n = server.feeds
                out[name] = {
                    "wall_s": round(sample.wall, 3),
                    "polls": n,
                    "statuses": sample.detail["statuses"],
                    "polls_per_s": round(n / sample.wall, 1),
                    "cpu_s": round(sample.cpu, 3),
                    "cpu_ms_per_poll": round(1000 * sample.cpu / n, 3),
                    "pg_cpu_ms_per_poll": None,
                }
                progress(f"sqlite cycle {name}: {out[name]['polls_per_s']:.1f} polls/s")
            await server.control(control, "reset")

    with quiet_logging(), parse_pool() as pool:
        warm_up(pool, server)
        asyncio.run(cycles(pool))
    return out


# --------------------------------------------------------------------------- report


def _cell(c: dict[str, Any] | None, key: str, fmt: str) -> str:
    if not c or c.get(key) is None:
        return "—"
    return format(c[key], fmt)


def markdown(result: dict[str, Any]) -> list[str]:
    p = result["parameters"]
    m = result["machine"]
    load = " / ".join(
        f"{x:.1f}" for x in m.get("load_before", ())[:1] + m.get("load_after", ())[:1]
    )
    lines = [
        "# notifier scale-out benchmark (`notifier worker` + PostgreSQL)",
        "",
        f"{result['date']} · {m['cpu_model']} · {m['cpu_count']} cores · {m['platform']} · "
        f"Python {m['python']} · PostgreSQL {result.get('postgres', '?')} · load average "
        f"before / after {load}",
        "",
        f"{p['feeds']:,} feeds × {p['entries']} entries; each row's interval makes more "
        "polls due than it can run (demand = feeds / interval), worker concurrency "
        f"{p['concurrency']}; each cycle settles {p['settle_s']:g} s, then is measured over "
        f"{p['window_s']:g} s. CPU in ms per poll (workers or daemon with their parse pools; "
        "PG: postmaster and backends). *Extra 200s*: unconditional polls after the cold "
        "cycle (a worker's first poll of a feed another worker polled).",
        "",
        "| mode | processes | interval s (demand/s) | 304 polls/s | churn polls/s "
        "| scaling (304 / churn) | CPU per poll (304 / churn) | PG CPU per poll (304 / churn) "
        "| backlog min (304 / churn) | cores busy: ours, machine (304 / churn) | extra 200s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        a, b = row.get("not_modified_304"), row.get("churn")
        cycle = "wall_s" in (a or {})
        label = row["mode"] + (" (in-process cycle)" if cycle else f" (`{row['command']}`)")
        scaling = row.get("scaling")
        lines.append(
            f"| {label} | {row['processes']} | "
            + (
                f"{row['interval_s']:g} ({row['demand_per_s']:.0f})"
                if "interval_s" in row
                else "— (one cycle)"
            )
            + f" | {_cell(a, 'polls_per_s', '.1f')} | {_cell(b, 'polls_per_s', '.1f')} | "
            + (
                " / ".join(
                    "—" if scaling[c] is None else f"{scaling[c]:.2f}"
                    for c in ("not_modified_304", "churn")
                )
                if scaling
                else "—"
            )
            + f" | {_cell(a, 'cpu_ms_per_poll', '.2f')} / {_cell(b, 'cpu_ms_per_poll', '.2f')} | "
            f"{_cell(a, 'pg_cpu_ms_per_poll', '.2f')} / {_cell(b, 'pg_cpu_ms_per_poll', '.2f')} | "
            + (
                f"{a['backlog']['min']} / {b['backlog']['min']}"
                if a and b and a.get("backlog") and b.get("backlog")
                else "—"
            )
            + f" | {_cell(a, 'machine_cpu_share', '.2f')}, {_cell(a, 'machine_busy_cores', '.2f')}"
            f" / {_cell(b, 'machine_cpu_share', '.2f')}, {_cell(b, 'machine_busy_cores', '.2f')}"
            f" | {row.get('warm_200', '—')} |"
        )
    lines += ["", "## What limits it on this machine", "", result["limits"], ""]
    return lines


def verdict(c: dict[str, Any], demand: float, cores: int) -> str:
    """What bounded one measurement, from its figures."""
    backlog = (c.get("backlog") or {}).get("min")
    if backlog is None:
        return "no queue (SQLite daemon)"
    if backlog == 0:
        if c["polls_per_s"] < 0.95 * demand:
            return (
                "the queue of due polls ran dry below the demand: the tick did not defer "
                "polls as fast as the workers took them"
            )
        return "not saturated (the polls kept up with the demand: lower the interval)"
    if c["machine_busy_cores"] >= 0.85 * cores:
        theirs = c["machine_busy_cores"] - c["machine_cpu_share"]
        return "the machine's CPU (every core busy" + (
            f"; {theirs:.2f} of them by processes not part of this benchmark)"
            if theirs >= 0.1
            else ")"
        )
    return (
        "neither CPU nor the queue: polls were waiting, cores were idle — the workers' "
        "jobs wait on PostgreSQL round trips one after another"
    )


def limits(result: dict[str, Any]) -> str:
    """A paragraph from the figures: how busy the machine was, where the CPU went."""
    cores = result["machine"]["cpu_count"] or 1
    cluster = [r for r in result["rows"] if r["mode"] == "cluster"]
    if not cluster:
        return "No cluster measurement."
    parts = []
    for r in cluster:
        for cycle in ("not_modified_304", "churn"):
            c = r[cycle]
            window = c["window_s"]
            demand = r["demand_per_s"]
            parts.append(
                f"{r['processes']} worker(s), {cycle}: {c['polls_per_s']:.0f} polls/s "
                f"(demand {demand:.0f}); "
                f"workers {c['cpu_s'] / window:.2f} + PostgreSQL "
                f"{(c['pg_cpu_s'] or 0.0) / window:.2f} + feed server "
                f"{c['server_cpu_s'] / window:.2f} = {c['machine_cpu_share']:.2f} cores "
                f"(the whole machine: {c['machine_busy_cores']:.2f} of {cores}); "
                f"limit: {verdict(c, demand, cores)}"
            )
    last = cluster[-1]["not_modified_304"]
    pg_ms = last["pg_cpu_ms_per_poll"] or 0.0
    share = pg_ms / max(pg_ms + (last["cpu_ms_per_poll"] or 0.0), 1e-9)
    return (
        "Measured: "
        + ". ".join(parts)
        + f". With {cluster[-1]['processes']} workers PostgreSQL takes {100 * share:.0f}% "
        "of the CPU spent per 304 poll. Everything — workers, PostgreSQL, the feed server "
        f"and whatever else runs on the machine — shares the same {cores} cores, so past "
        "the point where they are all busy a further worker only adds contention; "
        "a figure is the design's limit only where the verdict is not the machine's CPU."
    )


# --------------------------------------------------------------------------- main


def _pg_version(pg: Postgres) -> str:
    done = pg.run("postgres", "--version")
    words = done.stdout.split()
    return words[2] if done.returncode == 0 and len(words) > 2 else "?"


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    gc.freeze()
    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    load_before = os.getloadavg()

    def interval(workers: int) -> float:
        """--interval (1 s by default: every feed due every second, far more than the
        cluster polls, so a poll always waits), else feeds / (workers ×
        --demand-per-worker), in whole seconds (the config's durations are). A longer
        interval comes in bursts: a feed's phase spreads its slot over a tenth of the
        interval only, and a window between two bursts measures the demand, not the
        capacity."""
        if args.interval:
            return float(args.interval)
        return float(max(1, round(args.feeds / (workers * args.demand_per_worker))))

    plan = Plan(
        feeds=args.feeds,
        # The SQLite daemon polls in one process, without a queue: the shortest interval
        # (every feed due every second) is what saturates it.
        interval_s=float(args.interval or 1),
        settle_s=args.settle,
        window_s=args.window,
        concurrency=args.concurrency,
        cold_timeout_s=120 + args.feeds * 0.5,
        quiet_s=1.0 if args.smoke else 2.0,
    )
    rows: list[dict[str, Any]] = []
    progress("starting PostgreSQL")
    pg = start_postgres(max_connections=50 + 20 * max(counts, default=1))
    with contextlib.ExitStack() as stack:
        stack.callback(pg.stop)
        if args.work:
            work = Path(args.work)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cluster-")))
        progress(f"starting the feed server ({args.feeds} feeds × {args.entries} entries)")
        server = Server(args.feeds, args.entries, args.seed)
        stack.callback(server.close)
        if not args.no_cycle:
            rows.append(sqlite_cycles(server, args.seed, work))
        if not args.no_sqlite:
            rows.append(asyncio.run(steady(server, None, work, plan, workers=0, seed=args.seed)))
        base: dict[str, Any] | None = None
        for n in counts:
            row_plan = dataclasses.replace(plan, interval_s=interval(n))
            row = asyncio.run(steady(server, pg, work, row_plan, workers=n, seed=args.seed))
            base = base or row
            # vs 1 worker (None when that one polled nothing in its window)
            row["scaling"] = {
                c: round(row[c]["polls_per_s"] / base[c]["polls_per_s"], 2)
                if base[c]["polls_per_s"] > 0
                else None
                for c in ("not_modified_304", "churn")
            }
            rows.append(row)
        version = _pg_version(pg)
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {**machine(), "load_before": load_before, "load_after": os.getloadavg()},
        "postgres": version,
        "parameters": {
            "feeds": args.feeds,
            "entries": args.entries,
            "interval_s": args.interval,
            "demand_per_worker": args.demand_per_worker,
            "settle_s": args.settle,
            "window_s": args.window,
            "concurrency": args.concurrency,
            "workers": counts,
            "seed": args.seed,
            "smoke": args.smoke,
        },
        "rows": rows,
    }
    result["limits"] = limits(result)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    return result


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cluster", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--feeds", type=int, default=None, help="feeds (1000; smoke 20)")
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--workers", default=None, help="worker counts (1,2,3; smoke 1,2)")
    parser.add_argument(
        "--interval",
        type=int,
        default=None,
        help="feed interval, s, every row (default 1; with --demand-per-worker or --smoke: "
        "per row, from the demand)",
    )
    parser.add_argument(
        "--demand-per-worker",
        type=float,
        default=None,
        help="due polls/s per worker, above what one sustains (60; smoke 20); the SQLite "
        "row polls every feed every second",
    )
    parser.add_argument("--work", default=None, help="keep configs and logs here")
    parser.add_argument("--window", type=float, default=None, help="measured s (15; smoke 1.5)")
    parser.add_argument("--settle", type=float, default=None, help="s before (5; smoke 0.5)")
    parser.add_argument("--concurrency", type=int, default=10, help="jobs per worker (10)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the notifier run row")
    parser.add_argument("--no-cycle", action="store_true", help="skip the in-process row")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--smoke", action="store_true", help="tiny and quick (< 40 s)")
    args = parser.parse_args(argv)
    args.feeds = args.feeds or (20 if args.smoke else 1000)
    args.workers = args.workers or ("1,2" if args.smoke else "1,2,3")
    if args.interval is None and args.demand_per_worker is None and not args.smoke:
        args.interval = 1  # every feed due every second: see run()'s interval()
    args.demand_per_worker = args.demand_per_worker or (20.0 if args.smoke else 60.0)
    args.window = args.window or (1.5 if args.smoke else 15.0)
    args.settle = args.settle if args.settle is not None else (0.5 if args.smoke else 5.0)
    if args.smoke:
        args.entries = min(args.entries, 10)
    why = pg_unavailable()
    if why is not None:
        sys.stdout.write(f"bench.cluster skipped: {why}\n")
        return 0
    # SIGTERM (a `timeout`, a CI runner) ends the run like Ctrl-C: the cleanup in its
    # `finally` blocks stops the workers, the feed server and the throwaway PostgreSQL.
    signal.signal(signal.SIGTERM, _interrupt)
    result = run(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = "\n".join(markdown(result)) + "\n"
    (out / "cluster.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "cluster.md").write_text(md)
    progress(f"wrote {out / 'cluster.json'} and cluster.md in {result['total_seconds']:.0f} s")
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
