"""What every driver shares: arguments, the clock, the result line (standard library only)."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import resource
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class Args:
    urls: list[str]
    work: Path
    cycle: str
    concurrency: int


def parse_args(description: str | None) -> Args:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--urls", required=True, help="file with one feed URL a line")
    parser.add_argument("--work", required=True, help="this peer's state folder (kept)")
    parser.add_argument("--cycle", required=True, help="cycle name (only reported)")
    parser.add_argument(
        "--concurrency", type=int, default=50, help="for peers with a concurrency option"
    )
    ns = parser.parse_args()
    urls = [u.strip() for u in Path(ns.urls).read_text().splitlines() if u.strip()]
    work = Path(ns.work)
    work.mkdir(parents=True, exist_ok=True)
    return Args(urls, work, ns.cycle, ns.concurrency)


def _cpu() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        ru = resource.getrusage(who)
        total += ru.ru_utime + ru.ru_stime
    return total


@dataclass(slots=True)
class Clock:
    """Wall (``perf_counter``) and CPU (this process + reaped children) of one block."""

    wall: float = 0.0
    cpu: float = 0.0
    _wall0: float = field(default=0.0, repr=False)
    _cpu0: float = field(default=0.0, repr=False)

    def __enter__(self) -> Clock:
        self._cpu0 = _cpu()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = _cpu() - self._cpu0


def versions(*dists: str) -> dict[str, str]:
    out = {}
    for name in dists:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


SETUP_DONE = ".setup-done"


def needs_setup(work: Path) -> bool:
    """True on first use (or after a setup that did not finish: its leftovers are removed)."""
    if (work / SETUP_DONE).exists():
        return False
    for path in work.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return True


def setup_done(work: Path) -> None:
    (work / SETUP_DONE).write_text("")


def emit(clock: Clock, **detail: Any) -> None:
    """The result: one JSON line, the last line on stdout."""
    sys.stdout.flush()
    sys.stdout.write(json.dumps({"wall": clock.wall, "cpu": clock.cpu, **detail}) + "\n")
    sys.stdout.flush()
