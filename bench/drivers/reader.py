"""Peer ``reader`` (lemon24/reader): ``update_feeds_iter(scheduled=False, workers=N)``.

Setup, on first use (not timed): ``make_reader(DB)`` and ``add_feed(url)`` for every feed.
One cycle (timed) = ``make_reader(DB)``, then the update the way ``python -m reader update
--no-scheduled --workers N`` runs it (``update_feeds_iter``, which ``update_feeds`` wraps;
iterating lets the driver count the outcomes), then ``close()``. ``scheduled=False``
because reader otherwise skips feeds updated less than an hour ago (its update schedule),
which would make every cycle after the first a no-op. ``workers`` is reader's documented
concurrency option (threads that retrieve and parse feeds). Interpreter start-up and
imports are not timed.
"""

from __future__ import annotations

from collections import Counter

from reader import UpdatedFeed, make_reader

from bench.drivers._common import Clock, emit, needs_setup, parse_args, setup_done, versions


def main() -> None:
    args = parse_args(__doc__)
    db = args.work / "reader.sqlite"
    if needs_setup(args.work):
        setup = make_reader(str(db))
        for url in args.urls:
            setup.add_feed(url)
        setup.close()
        setup_done(args.work)

    outcomes: Counter[str] = Counter()
    new = modified = 0
    with Clock() as clock:
        reader = make_reader(str(db))
        for result in reader.update_feeds_iter(scheduled=False, workers=args.concurrency):
            value = result.value
            if value is None:
                outcomes["not_modified"] += 1
            elif isinstance(value, UpdatedFeed):
                new += value.new
                modified += value.modified
                outcomes["updated" if value.new or value.modified else "unchanged"] += 1
            else:
                outcomes[f"error: {type(value).__name__}"] += 1
        reader.close()

    check = make_reader(str(db))
    stored = check.get_entry_counts().total
    check.close()
    emit(
        clock,
        statuses=dict(outcomes),
        new_entries=new,
        modified_entries=modified,
        stored_entries=stored,
        settings={
            "call": "make_reader(db).update_feeds_iter(scheduled=False, workers=N)",
            "workers": args.concurrency,
            "plugins": "make_reader defaults",
        },
        versions=versions("reader", "feedparser", "requests"),
    )


if __name__ == "__main__":
    main()
