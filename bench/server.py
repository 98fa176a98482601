"""The benchmark's feed server: a separate process serving generated feeds on 127.0.0.1.

Run as ``python -m bench.server --feeds N --entries M --seed S``; it prints
``READY <port>`` on stdout once the feeds are generated, and stops on SIGTERM
or SIGINT. It runs in its own process so its CPU time is not counted as the
client's.

``GET /feed/<i>`` serves feed ``i`` (even: RSS 2.0, odd: Atom) with a strong
ETag. How conditional requests are answered depends on the mode, switched by
``POST /_control/mode/<mode>``:

* ``normal``: 304 when ``If-None-Match`` equals the current ETag, else 200;
* ``ignore``: always 200 with the full body (conditional headers ignored);
* ``304``: 304 to every conditional request (``If-None-Match`` or
  ``If-Modified-Since``), 200 to an unconditional one.

``POST /_control/churn?fraction=0.1&new=2`` gives every ``1/fraction``-th feed
``new`` new entries at the top (dropping as many of the oldest);
``POST /_control/reset`` restores the initial feeds and the ``normal`` mode.

``GET /_control/stats`` answers JSON ``{"requests", "statuses": {"200": n, "304": n}}``:
the feed requests answered since the server started (used by :mod:`bench.cluster` to
count polls).

``POST /_control/add/<i>?title=...[&guid=...]`` puts one new entry at the top of
feed ``i`` (dropping its oldest): the given title, a unique guid (made up if
not given), the current time as its date, and a description of filler words
only (so nothing but the title can match a watch). It answers JSON
``{"feed", "guid", "time"}``, ``time`` being this server's ``time.time()`` once
the new document is being served (used by :mod:`bench.daemon` to time alerts).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from aiohttp import web

from bench import corpus

MODES = ("normal", "ignore", "304")
LAST_MODIFIED = "Thu, 01 Jan 2026 00:00:00 GMT"


@dataclass(slots=True)
class ServedFeed:
    items: list[str]
    body: bytes
    etag: str


def _served(feed: int, items: list[str]) -> ServedFeed:
    body = corpus.render(feed, items)
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    return ServedFeed(items, body, etag)


class FeedSite:
    def __init__(self, feeds: int, entries: int, seed: int) -> None:
        self.vocab = corpus.vocabulary(seed)
        self.seed = seed
        self.initial: list[ServedFeed] = []
        started = time.perf_counter()
        for i in range(feeds):
            items = [
                corpus.item_for(i, e) for e in corpus.feed_entries(self.vocab, seed, i, entries)
            ]
            self.initial.append(_served(i, items))
            if (i + 1) % 200 == 0:
                sys.stderr.write(
                    f"[bench server] generated {i + 1}/{feeds} feeds "
                    f"({time.perf_counter() - started:.1f}s)\n"
                )
        self.feeds = list(self.initial)
        self.mode = "normal"
        self.churns = 0
        self.added = 0
        self.answered: dict[str, int] = {"200": 0, "304": 0}

    async def feed(self, request: web.Request) -> web.Response:
        try:
            feed = self.feeds[int(request.match_info["i"])]
        except (ValueError, IndexError):
            raise web.HTTPNotFound from None
        inm = request.headers.get("If-None-Match")
        conditional = inm is not None or "If-Modified-Since" in request.headers
        if (self.mode == "304" and conditional) or (self.mode == "normal" and inm == feed.etag):
            self.answered["304"] += 1
            return web.Response(status=304, headers={"ETag": feed.etag})
        self.answered["200"] += 1
        kind = "atom" if corpus.is_atom(int(request.match_info["i"])) else "rss"
        return web.Response(
            body=feed.body,
            headers={
                "Content-Type": f"application/{kind}+xml; charset=utf-8",
                "ETag": feed.etag,
                "Last-Modified": LAST_MODIFIED,
            },
        )

    async def stats(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {"requests": sum(self.answered.values()), "statuses": dict(self.answered)}
        )

    async def set_mode(self, request: web.Request) -> web.Response:
        mode = request.match_info["mode"]
        if mode not in MODES:
            raise web.HTTPBadRequest(text=f"mode must be one of {MODES}")
        self.mode = mode
        return web.Response(text=mode)

    async def reset(self, _request: web.Request) -> web.Response:
        self.feeds = list(self.initial)
        self.mode = "normal"
        return web.Response(text="reset")

    async def churn(self, request: web.Request) -> web.Response:
        fraction = float(request.query.get("fraction", "0.1"))
        new = int(request.query.get("new", "2"))
        step = max(1, round(1 / fraction))
        self.churns += 1
        r = corpus.rng(f"churn-{self.seed}-{self.churns}")
        changed = 0
        for i in range(0, len(self.feeds), step):
            fresh = [
                corpus.item_for(
                    i,
                    corpus.make_entry(
                        r,
                        self.vocab,
                        f"https://feeds.example/{i}/churn/{self.churns}/{k}",
                        corpus.BASE_TIME + timedelta(minutes=self.churns * 10 + k),
                    ),
                )
                for k in range(new)
            ]
            old = self.feeds[i].items
            self.feeds[i] = _served(i, fresh + old[: max(0, len(old) - new)])
            changed += 1
        return web.Response(text=str(changed))

    async def add(self, request: web.Request) -> web.Response:
        try:
            i = int(request.match_info["i"])
            old = self.feeds[i].items
        except (ValueError, IndexError):
            raise web.HTTPNotFound from None
        self.added += 1
        title = request.query.get("title") or f"Added entry {self.added}"
        guid = request.query.get("guid") or f"https://feeds.example/{i}/added/{self.added}"
        r = corpus.rng(f"add-{self.seed}-{self.added}")
        paragraphs = [corpus.sentence(r, self.vocab, r.randint(60, 90), 0.0) for _ in range(3)]
        entry = corpus.TextEntry(
            guid,
            title,
            "\n".join(f"<p>{escape(p)}.</p>" for p in paragraphs),
            " ".join(paragraphs),
            datetime.now(UTC).replace(microsecond=0),
        )
        self.feeds[i] = _served(i, [corpus.item_for(i, entry), *old[: max(0, len(old) - 1)]])
        return web.json_response({"feed": i, "guid": guid, "time": time.time()})


async def serve(feeds: int, entries: int, seed: int) -> None:
    site_data = FeedSite(feeds, entries, seed)
    app = web.Application()
    app.router.add_get("/feed/{i}", site_data.feed)
    app.router.add_post("/_control/mode/{mode}", site_data.set_mode)
    app.router.add_post("/_control/reset", site_data.reset)
    app.router.add_post("/_control/churn", site_data.churn)
    app.router.add_post("/_control/add/{i}", site_data.add)
    app.router.add_get("/_control/stats", site_data.stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        sys.stdout.write(f"READY {port}\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, required=True)
    parser.add_argument("--entries", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.feeds, args.entries, args.seed))


if __name__ == "__main__":
    main()
