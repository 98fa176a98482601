"""How long the web UI takes to render each page, server-side, on a large state.

Usage: ``python -m bench.web [--feeds 1000] [--deadlines 50] [--stories 10000]
[--repeats 15]``. A fresh state folder is filled through the store's own API
(:class:`notifier.storage.sqlite.Store`): ``--feeds`` feed states (one in twenty
failing), ``--stories`` entries over the last 7 days (each its own story, one in
three matched by one of 5 watches, one in ten in Chinese; two sources for one in
ten), 20 proposals and a few outbox messages; the config has ``--deadlines``
deadlines (one in five recurring monthly). Each page is then asked of
:meth:`notifier.web.app.WebApp.handle` ``--repeats`` times (after one warm-up
call) — the whole request: the read-only store opened and closed, the queries,
the template or JSON, the headers — and the median is printed, in milliseconds,
beside the first call's (cold: the template compiled, the calendar and the feeds'
counts a day not cached yet).
The target (issue 15): at most 50 ms a page. No HTTP socket is involved.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from notifier.model import (
    Channel,
    Config,
    Deadline,
    EntryRecord,
    Feed,
    FeedState,
    MatchRecord,
    NewAlert,
    Proposal,
    ProposalSource,
    Watch,
)
from notifier.storage.sqlite import Store
from notifier.web.app import WebApp

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
TARGET_MS = 50.0
WATCHES = ("tariffs", "rare-earths", "export-controls", "sanctions", "steel")
WORDS = (
    *("tariff", "truce", "trade", "talks", "export", "controls", "chips", "steel"),
    *("duties", "sanctions", "ministry", "commerce", "agreement", "deadline"),
    *("extension", "review", "section", "solar", "panels", "lithium"),
)


def config(feeds: int, deadlines: int) -> Config:
    """A config with ``feeds`` feeds, 5 watches, one channel and ``deadlines`` deadlines."""
    zone = ZoneInfo("America/New_York")
    return Config(
        timezone=ZoneInfo("Europe/Berlin"),
        default_channels=("chat",),
        channels={"chat": Channel("chat", ("json://u:p@hooks.example.com/x",), "text", None, None)},
        feeds=tuple(
            Feed(f"feed-{i:04d}", f"https://f{i}.example.com/rss", None, timedelta(minutes=5))
            for i in range(feeds)
        ),
        watches=tuple(
            Watch(w, (w,), (), (), (), ("title",), "normal", ("chat",), None) for w in WATCHES
        ),
        deadlines=tuple(
            Deadline(
                f"deadline-{i:02d}",
                f"Deadline number {i}",
                NOW + timedelta(days=3 * i - 20, hours=i),
                zone,
                (timedelta(days=7), timedelta(days=1)),
                ("chat",),
                "normal",
                None,
                None,
                recur="FREQ=MONTHLY" if i % 5 == 0 else None,
            )
            for i in range(deadlines)
        ),
    )


def fill(state_dir: Path, cfg: Config, stories: int, seed: int = 7) -> None:
    """Write the state through the store API (see the module docstring)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    feeds = [f.name for f in cfg.feeds]
    with Store.open(state_dir) as store:
        with store.transaction():
            for i, name in enumerate(feeds):
                failing = i % 20 == 0
                store.save_feed_state(
                    FeedState(
                        name,
                        f"https://f{i}.example.com/rss",
                        last_polled=NOW - timedelta(minutes=rng.randint(0, 5)),
                        last_ok=None if failing else NOW - timedelta(minutes=3),
                        failures=rng.randint(1, 9) if failing else 0,
                        unhealthy=failing,
                        last_error="HTTP 503 Service Unavailable" if failing else None,
                        next_poll=NOW + timedelta(minutes=rng.randint(1, 60)),
                    )
                )
        for start in range(0, stories, 500):
            with store.transaction():
                records = []
                for n in range(start, min(start + 500, stories)):
                    words = " ".join(rng.choices(WORDS, k=8))
                    title = f"中国商务部 稀土 出口 管制 {n}" if n % 10 == 0 else f"{words} {n}"
                    records.append(
                        EntryRecord(
                            feed=rng.choice(feeds),
                            key=f"k{n}",
                            title=title.capitalize(),
                            summary=f"{words}. " * 10,
                            link=f"https://news.example.com/{n}",
                            canonical=f"https://news.example.com/{n}",
                            published=None,
                            seen=NOW - timedelta(seconds=rng.randint(0, 7 * 86400)),
                            text_hash=f"h{n}",
                        )
                    )
                ids = store.history.add_entries(records)
                extra = [
                    EntryRecord(
                        feed=rng.choice(feeds),
                        key=f"x{entry}",
                        title=f"Another source {entry}",
                        summary="",
                        link=None,
                        canonical=None,
                        published=None,
                        seen=NOW - timedelta(minutes=rng.randint(0, 600)),
                        story=entry,
                    )
                    for entry in ids[::10]
                ]
                store.history.add_entries(extra)
                store.history.record_matches(
                    [
                        MatchRecord(
                            entry,
                            entry,
                            rng.choice(WATCHES),
                            '"tariff" in title',
                            ("tariff",),
                            NOW - timedelta(minutes=rng.randint(0, 7 * 1440)),
                        )
                        for entry in ids[::3]
                    ]
                )
                while store.history.index_pending():
                    pass
        with store.transaction():
            for i in range(20):
                store.proposals.add(
                    Proposal(
                        id=f"p{i}",
                        change="deadline",
                        kind="expiry",
                        name=f"proposal-{i}",
                        title=f"Proposed deadline {i}",
                        due=NOW + timedelta(days=10 + i),
                        all_day=True,
                        window_end=None,
                        timezone="Europe/Berlin",
                        phrase="The pause ends on July 9.",
                        confidence=0.8,
                        watches=("tariffs",),
                        sources=(ProposalSource(feeds[i], f"k{i}", f"Story {i}"),),
                        created=NOW,
                        updated=NOW,
                    ),
                    (NOW + timedelta(days=10 + i)).date(),
                    frozenset({"pause"}),
                )
            store.outbox.enqueue(
                [
                    NewAlert(f"match:{i}", "chat", "match", "normal", {"title": f"t{i}"})
                    for i in range(50)
                ],
                NOW,
            )


PATHS = (
    "/",
    "/deadlines",
    "/stories",
    "/stories?q=tariff",
    "/stories?q=稀土",
    "/stories/1",
    "/feeds",
    "/proposals",
    "/calendar.ics",
    "/feed.atom",
    "/api/overview",
    "/api/deadlines",
    "/api/stories",
    "/api/feeds",
    "/api/proposals",
)


def measure(app: WebApp, path: str, repeats: int) -> tuple[float, float, int, int]:
    """The milliseconds of the first call (cold: templates compiled, caches empty) and
    the median of ``repeats`` more, the status and the body's size."""
    start = time.perf_counter()
    response = app.handle("GET", path, {"Host": "127.0.0.1:8080"})
    first = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        app.handle("GET", path, {"Host": "127.0.0.1:8080"})
        times.append((time.perf_counter() - start) * 1000)
    return first, statistics.median(times), response.status, len(response.body)


def say(text: str = "", *, err: bool = False) -> None:
    """One line of the report (stdout) or of progress (stderr)."""
    (sys.stderr if err else sys.stdout).write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    """Fill a state, time each page, print a Markdown table; 1 if a page is over target."""
    parser = argparse.ArgumentParser(prog="python -m bench.web")
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--deadlines", type=int, default=50)
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    cfg = config(args.feeds, args.deadlines)
    with tempfile.TemporaryDirectory(prefix="bench-web-") as folder:
        state_dir = Path(folder)
        start = time.perf_counter()
        fill(state_dir, cfg, args.stories)
        filled = time.perf_counter() - start
        say(
            f"state: {args.feeds} feeds, {args.deadlines} deadlines, {args.stories} stories "
            f"(filled in {filled:.1f} s)",
            err=True,
        )
        app = WebApp(lambda: cfg, state_dir, None, lambda: NOW)
        say("| page | median ms | first call ms | status | bytes |")
        say("| --- | ---: | ---: | ---: | ---: |")
        over = []
        for path in PATHS:
            first, ms, status, size = measure(app, path, args.repeats)
            say(f"| `{path}` | {ms:.1f} | {first:.1f} | {status} | {size:,} |")
            if ms > TARGET_MS:
                over.append(path)
        say()
        say(
            f"target ≤ {TARGET_MS:.0f} ms a page: "
            + (f"over: {', '.join(over)}" if over else "met")
        )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
