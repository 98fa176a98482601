"""Peer ``feed2exec``: ``feed2exec fetch --parallel`` with the ``null`` output plugin.

Setup, on first use (not timed): every feed written into the config file the way
``feed2exec --config CONFIG add NAME URL --output null`` writes it (in one go rather than
one rewrite of the file per feed). ``null`` is feed2exec's do-nothing output plugin ("useful
to catchup with imported feeds"); with it, new items are still recorded in the item cache.
One cycle (timed) = ``feed2exec --config CONFIG --database DB fetch --parallel`` through
feed2exec's click entry point in this process (interpreter start-up and imports not timed).
feed2exec fetches feeds one after the other through a requests session with its
CacheControl HTTP cache (conditional requests), and ``--parallel`` parses the bodies in a
``multiprocessing.Pool`` of ``os.cpu_count()`` processes; their CPU is in RUSAGE_CHILDREN
(the pool is joined before the command returns).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import feed2exec.__main__
import feed2exec.controller
import feed2exec.model

from bench.drivers._common import Clock, emit, needs_setup, parse_args, setup_done, versions


def stored(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        try:
            (count,) = con.execute("SELECT count(*) FROM feedcache").fetchone()
        except sqlite3.OperationalError:
            return 0
    return int(count)


def setup(urls: list[str], config: Path) -> None:
    # FeedConfStorage.commit logs at info: without a handler on the root logger that would
    # install logging.basicConfig's, which then prints feed2exec's debug records too.
    logging.getLogger().addHandler(logging.NullHandler())
    conf = feed2exec.model.FeedConfStorage(str(config))
    for i, url in enumerate(urls):
        conf[f"feed-{i}"] = {"url": url, "output": "feed2exec.plugins.null"}
    conf.commit()


def main() -> None:
    args = parse_args(__doc__)
    config, db = args.work / "feed2exec.ini", args.work / "feed2exec.db"
    if needs_setup(args.work):
        setup(args.urls, config)
        setup_done(args.work)
    before = stored(db)

    # Count responses with a requests response hook (served-from-cache after a 304 is
    # how CacheControl reports a not-modified feed).
    statuses: Counter[str] = Counter()

    def count(resp: Any, *_args: Any, **_kwargs: Any) -> None:
        statuses[
            "304 (from cache)" if getattr(resp, "from_cache", False) else str(resp.status_code)
        ] += 1

    init = feed2exec.controller.FeedManager.__init__

    def init_with_hook(self: Any, *a: Any, **kw: Any) -> None:
        init(self, *a, **kw)
        self.session.hooks["response"].append(count)

    feed2exec.controller.FeedManager.__init__ = init_with_hook

    command = ["--config", str(config), "--database", str(db), "fetch", "--parallel"]
    with Clock() as clock:
        feed2exec.__main__.main(command, standalone_mode=False, obj={})
    after = stored(db)
    emit(
        clock,
        statuses=dict(statuses),
        new_entries=after - before,
        stored_entries=after,
        settings={
            "command": "feed2exec --config CONFIG --database DB fetch --parallel "
            "(feed2exec.__main__.main in-process)",
            "output": "null",
            "parse_processes": os.cpu_count(),
            "fetch_concurrency": 1,
            "http_cache": "CacheControl (feed2exec's default)",
        },
        versions=versions("feed2exec", "feedparser", "requests", "CacheControl", "dateparser"),
    )


if __name__ == "__main__":
    main()
