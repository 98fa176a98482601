"""Peer ``rss2email``: ``r2e run --no-send`` over every feed.

Setup, on first use (not timed): ``r2e -c CONFIG -d DATA new bench@example.invalid``, then
``r2e opmlimport feeds.opml`` with every feed (as ``r2e add`` would, in one go).
One cycle (timed) = ``r2e -c CONFIG -d DATA run --no-send``, called through rss2email's
own entry point (``rss2email.main.run``) in this process, so interpreter start-up and
imports are not timed. ``--no-send`` still fetches, parses and builds every new entry's
message; it only skips handing it to sendmail/SMTP. rss2email fetches one feed after the
other (it has no concurrency option); ``same-server-fetch-interval`` is left at its
default, 0 s.
"""

from __future__ import annotations

import configparser
import json
import xml.sax.saxutils
from collections import Counter
from pathlib import Path
from typing import Any

import rss2email.feed
import rss2email.main

from bench.drivers._common import Clock, emit, needs_setup, parse_args, setup_done, versions


def stored(data: Path) -> int:
    if not data.exists():
        return 0
    return sum(len(feed.get("seen", {})) for feed in json.loads(data.read_text())["feeds"])


def setup(urls: list[str], work: Path, config: Path, data: Path) -> None:
    opml = work / "feeds.opml"
    outlines = "\n".join(
        f'<outline type="rss" text="feed-{i}" xmlUrl={xml.sax.saxutils.quoteattr(url)}/>'
        for i, url in enumerate(urls)
    )
    opml.write_text(
        f'<?xml version="1.0"?>\n<opml version="1.0"><body>\n{outlines}\n</body></opml>\n'
    )
    r2e = ["-c", str(config), "-d", str(data)]
    rss2email.main.run([*r2e, "new", "bench@example.invalid"])
    # Log warnings only (the default, info, writes 4 lines a feed to stderr every run).
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(config)
    cfg["DEFAULT"]["verbose"] = "warning"
    with config.open("w") as f:
        cfg.write(f)
    rss2email.main.run([*r2e, "opmlimport", str(opml)])


def main() -> None:
    args = parse_args(__doc__)
    config, data = args.work / "rss2email.cfg", args.work / "rss2email.json"
    if needs_setup(args.work):
        setup(args.urls, args.work, config, data)
        setup_done(args.work)
    before = stored(data)

    # Count what each fetch returned (a pass-through wrapper, negligible next to a fetch).
    statuses: Counter[str] = Counter()
    parsed_entries = 0
    fetch = rss2email.feed.Feed._fetch

    def counting_fetch(feed: Any) -> Any:
        nonlocal parsed_entries
        parsed = fetch(feed)
        statuses[str(parsed.get("status", "no status"))] += 1
        parsed_entries += len(parsed.entries)
        return parsed

    rss2email.feed.Feed._fetch = counting_fetch

    with Clock() as clock:
        rss2email.main.run(["-c", str(config), "-d", str(data), "run", "--no-send"])
    after = stored(data)
    emit(
        clock,
        statuses=dict(statuses),
        entries_parsed=parsed_entries,
        new_entries=after - before,
        stored_entries=after,
        settings={
            "command": "r2e -c CONFIG -d DATA run --no-send (rss2email.main.run in-process)",
            "concurrency": 1,
            "same-server-fetch-interval": 0,
            "config": "defaults but verbose = warning (html-mail false: text via html2text)",
        },
        versions=versions("rss2email", "feedparser", "html2text"),
    )


if __name__ == "__main__":
    main()
