"""Peer ``httpx_feedparser``: a plain httpx.AsyncClient + feedparser.parse loop.

One cycle = load the saved validators and seen entry ids, GET every feed (at most
``--concurrency`` at a time) with ``If-None-Match`` / ``If-Modified-Since`` from the
last 200, ``feedparser.parse`` every 200 body in-process, count the entries not seen
before, save the state. Interpreter start-up and imports are not timed.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import feedparser
import httpx

from bench.drivers._common import Clock, emit, parse_args, versions


def load(path: Path) -> tuple[dict[str, dict[str, str]], dict[str, set[str]]]:
    if not path.exists():
        return {}, {}
    data = json.loads(path.read_text())
    return data["validators"], {url: set(ids) for url, ids in data["seen"].items()}


def save(path: Path, validators: dict[str, dict[str, str]], seen: dict[str, set[str]]) -> None:
    data = {"validators": validators, "seen": {url: sorted(ids) for url, ids in seen.items()}}
    path.write_text(json.dumps(data))


async def cycle(
    urls: list[str],
    validators: dict[str, dict[str, str]],
    seen: dict[str, set[str]],
    concurrency: int,
) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    parsed_entries = 0
    new_entries = 0
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one(url: str) -> None:
            nonlocal parsed_entries, new_entries
            headers = {}
            saved = validators.get(url, {})
            if "etag" in saved:
                headers["If-None-Match"] = saved["etag"]
            if "last_modified" in saved:
                headers["If-Modified-Since"] = saved["last_modified"]
            try:
                async with sem:
                    resp = await client.get(url, headers=headers)
            except httpx.HTTPError as e:
                statuses[type(e).__name__] += 1
                return
            statuses[str(resp.status_code)] += 1
            if resp.status_code != 200:
                return
            fresh = {}
            if "ETag" in resp.headers:
                fresh["etag"] = resp.headers["ETag"]
            if "Last-Modified" in resp.headers:
                fresh["last_modified"] = resp.headers["Last-Modified"]
            validators[url] = fresh
            parsed = feedparser.parse(resp.content)
            parsed_entries += len(parsed.entries)
            known = seen.setdefault(url, set())
            for entry in parsed.entries:
                key = entry.get("id") or entry.get("link") or entry.get("title", "")
                if key not in known:
                    known.add(key)
                    new_entries += 1

        await asyncio.gather(*(one(url) for url in urls))
    return {
        "statuses": dict(statuses),
        "entries_parsed": parsed_entries,
        "new_entries": new_entries,
    }


def main() -> None:
    args = parse_args(__doc__)
    state = args.work / "state.json"
    with Clock() as clock:
        validators, seen = load(state)
        detail = asyncio.run(cycle(args.urls, validators, seen, args.concurrency))
        save(state, validators, seen)
    emit(
        clock,
        **detail,
        stored_entries=sum(len(ids) for ids in seen.values()),
        settings={
            "concurrency": args.concurrency,
            "client": "httpx.AsyncClient, HTTP/1.1, one client per cycle",
            "conditional": "If-None-Match + If-Modified-Since from the last 200",
            "parse": "feedparser.parse in-process on every 200 body",
        },
        versions=versions("httpx", "feedparser"),
    )


if __name__ == "__main__":
    main()
