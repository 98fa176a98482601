"""What deadline discovery adds to a poll: every entry of the shared corpus read as if a
watch had matched it (the worst case: a watch that matched with a regular expression
counts as relevant to every sentence), then the candidates recorded in a real SQLite
store.

Usage: ``python -m bench.discovery_cost [--repeat 5]`` (needs ``../shared/fixtures/feeds``
or ``NOTIFIER_CORPUS``). Prints entries/s and milliseconds per entry for ``find`` (the
matching thread's share) and for ``record`` (the poll transaction's share). Not a test:
times depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from notifier.model import Config, Entry, Feed, Hit, Match, Watch
from notifier.pipeline.proposals import Discovery, record
from notifier.sources.rss import parse
from notifier.storage.sqlite import Store

ROOT = Path(__file__).resolve().parent.parent


def corpus() -> Path:
    found = os.environ.get("NOTIFIER_CORPUS")
    path = Path(found) if found else ROOT.parent / "shared" / "fixtures" / "feeds"
    if not path.is_dir():
        sys.exit(f"no corpus at {path}: set NOTIFIER_CORPUS")
    return path


def entries(folder: Path) -> list[Entry]:
    out: list[Entry] = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".xml", ".rss", ".atom", ".rdf", ".html"):
            continue
        try:
            out += parse(
                path.read_bytes(), {}, f"https://{path.stem}.example/", path.stem, max_bytes=10**7
            ).entries
        except Exception:  # noqa: BLE001, S112 - broken fixtures are part of the corpus
            continue
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    found = entries(corpus())
    watch = Watch("all", ("/./",), (), (), (), ("title", "summary"), "normal", ("c",), None)
    feeds = tuple({e.feed for e in found})
    config = Config(
        timezone=ZoneInfo("America/New_York"),
        default_channels=("c",),
        feeds=tuple(Feed(f, f"https://{f}.example/", None, timedelta(hours=1)) for f in feeds),
        watches=(watch,),
    )
    discovery = Discovery.of(config)
    matches = [Match("all", e, (Hit("/./", "title", ""),)) for e in found]
    now = datetime(2000, 1, 1, tzinfo=UTC)  # before the corpus: its dates count as ahead
    chars = sum(len(e.title) + len(e.summary) + len(e.content) for e in found)
    best = float("inf")
    candidates = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        candidates = discovery.find(found, matches, now)
        best = min(best, time.perf_counter() - start)
    sys.stdout.write(
        f"find: {len(found)} entries ({chars / len(found):,.0f} characters each on average), "
        f"{len(candidates)} candidates: {len(found) / best:,.0f} entries/s, "
        f"{best / len(found) * 1000:.2f} ms/entry (best of {args.repeat})\n"
    )
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "s.db") as store:
        start = time.perf_counter()
        with store.transaction():
            new = record(store.proposals, candidates, now)
        elapsed = time.perf_counter() - start
        facts = len(store.proposals.proposals("fact"))
        start = time.perf_counter()
        with store.transaction():
            again = record(store.proposals, candidates, now)
        second = time.perf_counter() - start
    sys.stdout.write(
        f"record: {len(candidates)} candidates -> {len(new)} proposals and {facts} facts in "
        f"{elapsed * 1000:.0f} ms "
        f"({elapsed / max(len(candidates), 1) * 1000:.2f} ms each); the same again "
        f"(all known: {len(again)} new) {second * 1000:.0f} ms\n"
    )


if __name__ == "__main__":
    main()
