"""Start-up time of the ``notifier`` command: the real executable, run again and again.

Usage: ``python -m bench.startup [--runs 20] [--warmup 2] [--out bench/results]
[--notifier PATH]``. Like hyperfine, each command runs ``--warmup`` times untimed
(the page cache and the bytecode are then warm, as for a user's second command),
then ``--runs`` times timed: the wall time from starting the process to its exit,
standard output and error sent to ``/dev/null``. The table gives the best, the
median and the worst run of each command, against its target; it goes to
standard output and, with the machine and the date, to ``startup.md`` and
``startup.json`` in ``--out``. A command that exits with a code other than the
one expected fails the run (exit 1).

Python's bytecode caches are used as a user's Python uses them: written by the first
run, read by the next ones (``PYTHONDONTWRITEBYTECODE`` is cleared for the runs; with
it set and no cache yet, every run compiles notifier's own modules again: 0.03–0.1 s
more on the 2-core machine of the README's figures).

The commands, each in a fresh temporary folder, with no ``NOTIFIER_*`` variable set:

* ``notifier --version``, ``notifier --help`` and ``notifier check --help``: the
  command line alone, which loads no pydantic, Apprise, aiohttp, APScheduler or
  feedparser (target 0.3 s);
* ``notifier check --config config/watch.yaml``: the example config, loaded,
  validated and summarised (target 0.8 s);
* ``notifier status``: on an empty state folder (no target: it loads the whole
  runtime, see the README).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "watch.yaml"


@dataclass(frozen=True, slots=True)
class Command:
    """One command line to time, as shown and as run, and the most its median may take
    (None: no target)."""

    shown: str
    args: tuple[str, ...]
    target_s: float | None


COMMANDS = (
    Command("notifier --version", ("--version",), 0.3),
    Command("notifier --help", ("--help",), 0.3),
    Command("notifier check --help", ("check", "--help"), 0.3),
    Command("notifier check (config/watch.yaml)", ("check", "--config", str(EXAMPLE)), 0.8),
    Command("notifier status (no state yet)", ("status", "--state-dir", "state"), None),
)


def default_notifier() -> str:
    """The console script beside this interpreter (the project's virtualenv), else on PATH."""
    beside = Path(sys.executable).with_name("notifier")
    if beside.is_file():
        return str(beside)
    return shutil.which("notifier") or str(beside)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load: list[float] | None = None
    with contextlib.suppress(OSError):
        load = [round(x, 2) for x in os.getloadavg()]
    return {
        "platform": platform.platform(),
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": load,
    }


def time_once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds from starting ``argv`` to its exit, and its exit code."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own executable, fixed arguments
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    return time.perf_counter() - started, done.returncode


def measure(command: Command, notifier: str, runs: int, warmup: int) -> dict[str, Any]:
    """Run ``command`` ``warmup`` + ``runs`` times; the timed runs' best, median, worst."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NOTIFIER_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    argv = [notifier, *command.args]
    times: list[float] = []
    codes: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="notifier-startup-") as folder:
        for i in range(warmup + runs):
            seconds, code = time_once(argv, Path(folder), env)
            codes.add(code)
            if i >= warmup:
                times.append(seconds)
    best, median = min(times), statistics.median(times)
    return {
        "command": command.shown,
        "argv": ["notifier", *command.args],
        "runs": runs,
        "warmup": warmup,
        "best_s": best,
        "median_s": median,
        "worst_s": max(times),
        "times_s": times,
        "exit_codes": sorted(codes),
        "ok": codes == {0},
        "target_s": command.target_s,
        "met": None if command.target_s is None else median <= command.target_s,
    }


def markdown(result: dict[str, Any]) -> str:
    """The results as a Markdown table, with the machine and the date."""
    m = result["machine"]
    lines = [
        "# notifier start-up",
        "",
        f"Measured on {result['date']} on {m['cpu_model']} ({m['cpu_count']} cores), "
        f"{m['platform']}, Python {m['python']}; load average at start "
        f"{m['load_average_at_start']}. Each command: {result['warmup']} untimed run(s), "
        f"then {result['runs']} timed runs of the real executable (wall seconds, "
        "process start to exit).",
        "",
        "| command | best | median | worst | target (median) | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["commands"]:
        target = f"≤ {r['target_s']:g} s" if r["target_s"] is not None else "—"
        verdict = {True: "met", False: "**missed**", None: ""}[r["met"]]
        if not r["ok"]:
            verdict = f"**exit {', '.join(map(str, r['exit_codes']))}**"
        lines.append(
            f"| `{r['command']}` | {r['best_s']:.3f} | {r['median_s']:.3f} | "
            f"{r['worst_s']:.3f} | {target} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure every command, write ``startup.json`` and ``startup.md``; the result."""
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "notifier": args.notifier,
        "runs": args.runs,
        "warmup": args.warmup,
        "commands": [measure(c, args.notifier, args.runs, args.warmup) for c in COMMANDS],
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "startup.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out / "startup.md").write_text(markdown(result), encoding="utf-8")
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per command")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--notifier", default=default_notifier(), help="the executable")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be 1 or more, --warmup 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    result = run(parse_args(argv))
    sys.stdout.write(markdown(result))
    return 0 if all(r["ok"] for r in result["commands"]) else 1


if __name__ == "__main__":
    sys.exit(main())
