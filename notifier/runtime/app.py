"""Wiring: builds the store, fetcher, parser pool and matcher for a config.

The CLI calls these; tests call them too, with their own servers and folders.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from notifier import clock as clocks
from notifier.clock import Clock
from notifier.delivery.apprise import mask_url
from notifier.delivery.messages import Renderer, test_context
from notifier.delivery.stages import (
    filtered_entries,
    route_health,
    route_matches,
    route_proposals,
)
from notifier.errors import FeedError, FetchError
from notifier.logs import get_logger
from notifier.matching import Matcher, Verdict
from notifier.model import (
    Channel,
    ChannelStatus,
    Config,
    Entry,
    EntryRecord,
    FeedState,
    Match,
    MatchRecord,
    Mute,
    NewAlert,
    Proposal,
    StoryNote,
    Watch,
)
from notifier.pipeline.brief import check_brief
from notifier.pipeline.poll import Announcer, Poller, PollResult, Router
from notifier.pipeline.proposals import Discovery
from notifier.pipeline.reminders import check_deadlines
from notifier.pipeline.sender import (
    Sender,
    SendOutcome,
    Sink,
    TickReport,
    body_formats,
    choose_format,
)
from notifier.pipeline.stories import StoryBook
from notifier.runtime.pool import IDLE_AFTER, IdlePool
from notifier.sources import DEFAULT_TYPE, ParsedFeed, source_for
from notifier.sources.health import HealthEvent
from notifier.sources.http import Fetcher, FetchRequest, HttpFetcher
from notifier.storage import State
from notifier.storage.open import open_store
from notifier.storage.sqlite import FILENAME, Store

log = get_logger("notifier.runtime.app")


def new_parse_pool(workers: int | None = None, idle_after: float = IDLE_AFTER) -> IdlePool:
    """A small process pool for feedparser (see :mod:`notifier.runtime.pool`): parsing uses
    every core and never stalls the event loop; idle workers are stopped."""
    return IdlePool(workers or min(2, os.cpu_count() or 1), idle_after=idle_after)


@contextmanager
def parse_pool(workers: int | None = None, idle_after: float = IDLE_AFTER) -> Iterator[IdlePool]:
    """:func:`new_parse_pool`, shut down on exit."""
    pool = new_parse_pool(workers, idle_after)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def router_for(config: Config) -> Router:
    """Route a poll's matches to their watches' channels, health events to the defaults.

    Entries that no channel of their watches admits (``channels.X.min_severity``) are
    logged once per poll at INFO as filtered. They are not sent to the default channels
    instead: the user chose those watches' channels and that threshold, and the match is
    still recorded in history (and shown by the web UI and the brief)."""

    def route(
        matches: Sequence[Match],
        event: HealthEvent | None,
        now: datetime,
        notes: Mapping[tuple[str, str], StoryNote] | None = None,
    ) -> list[NewAlert]:
        alerts = route_matches(matches, config, now, notes)
        filtered = filtered_entries(matches, config)
        if filtered:
            log.info(
                "alerts filtered by severity",
                feed=filtered[0][0],
                entries=len(filtered),
                keys=[key for _, key in filtered[:10]],
            )
        if event is not None:
            alerts += route_health(event, config)
        return alerts

    return route


#: Where ``notifier`` looks when given no ``--config`` or ``--state-dir``.
DEFAULT_CONFIG = Path("config/watch.yaml")
DEFAULT_STATE_DIR = Path("state")


def poller_for(
    config: Config,
    store: State,
    fetcher: Fetcher,
    matcher: Matcher,
    *,
    executor: Executor | None,
    clock: Clock,
    match_executor: Executor | None,
    stories: StoryBook,
    command: str,
    shared: bool = False,
    refresh_stories: Callable[[], None] | None = None,
) -> Poller:
    """The poller of a long-running process (``run``, ``worker``) for ``config``."""
    return Poller(
        store,
        fetcher,
        matcher,
        max_bytes=config.fetch.max_bytes,
        executor=executor,
        clock=clock,
        router=router_for(config),
        match_executor=match_executor,
        stories=stories,
        watches={w.name: w for w in config.watches},
        discovery=Discovery.of(config),
        announce=announcer_for(config, command),
        shared=shared,
        refresh_stories=refresh_stories,
        history_keep=config.history.keep,
    )


async def fetcher_for(fetcher: HttpFetcher | None, old: Config | None, new: Config) -> HttpFetcher:
    """The fetcher of a long-running process for ``new``: ``fetcher`` itself unless the
    fetch settings changed (then it is closed and a new one opened)."""
    if fetcher is not None and old is not None and old.fetch == new.fetch:
        return fetcher
    if fetcher is not None:
        await fetcher.close()
    fresh = HttpFetcher(new.fetch)
    await fresh.__aenter__()
    return fresh


def story_book_for(book: StoryBook | None, config: Config) -> StoryBook:
    """The story index: ``book`` kept across reloads, a new one when ``stories.window``
    changed."""
    if book is None or book.window != config.stories.window:
        return StoryBook(config.stories.window)
    return book


def outbox_counts(store: State) -> Counter[str]:
    """The outbox's counts over every channel (for ``/healthz``)."""
    counts: Counter[str] = Counter()
    for c in store.outbox.status():
        for key in ("queued", "held", "pending", "retrying", "dead", "sent", "rerouted"):
            counts[key] += getattr(c, key)
    return counts


def command_for(config_path: Path | None = None, state_dir: Path | None = None) -> str:
    """The command line a proposal's alert shows (``notifier accept ID`` with it): the
    ``--config`` and ``--state-dir`` this process runs on, when not the defaults."""
    parts = ["notifier"]
    if config_path is not None and config_path != DEFAULT_CONFIG:
        parts += ["--config", str(config_path.absolute())]
    if state_dir is not None and state_dir != DEFAULT_STATE_DIR:
        parts += ["--state-dir", str(state_dir.absolute())]
    return shlex.join(parts)


def announcer_for(config: Config, command: str = "notifier") -> Announcer:
    """Announce new proposals to their watches' (or tracked deadline's) channels."""

    def announce(proposals: Sequence[Proposal], now: datetime) -> list[NewAlert]:
        del now
        return route_proposals(proposals, config, command)

    return announce


async def poll_once(
    config: Config,
    state_dir: Path,
    *,
    dry_run: bool = False,
    executor: Executor | None = None,
    clock: clocks.Clock = clocks.utcnow,
    command: str = "notifier",
) -> list[PollResult]:
    """Poll every enabled feed of ``config`` once, concurrently.

    Matches and health events are queued in the outbox with the poll's state
    (one transaction per feed); :func:`cycle` then sends them.
    With ``dry_run`` the state store is opened read-only (and not created),
    nothing is queued, and every entry not seen before is matched — also on a
    feed's first poll, which otherwise records its entries silently.
    """
    matcher = Matcher.compile(config.watches)
    feeds = [f for f in config.feeds if f.enabled]
    with Store.open(state_dir, read_only=dry_run) as store:
        async with HttpFetcher(config.fetch) as fetcher:
            poller = Poller(
                store,
                fetcher,
                matcher,
                max_bytes=config.fetch.max_bytes,
                executor=executor,
                clock=clock,
                dry_run=dry_run,
                router=router_for(config),
                stories=StoryBook(config.stories.window),
                watches={w.name: w for w in config.watches},
                discovery=Discovery.of(config),
                announce=announcer_for(config, command),
                history_keep=config.history.keep,
            )
            return list(await asyncio.gather(*(poller.poll(feed) for feed in feeds)))


@dataclass(frozen=True, slots=True)
class Cycle:
    """What one ``notifier once`` did: the feed polls and the reminders (and brief) queued."""

    polls: list[PollResult]
    reminders: list[NewAlert] = field(default_factory=list)


async def cycle(
    config: Config,
    state_dir: Path,
    *,
    dry_run: bool = False,
    executor: Executor | None = None,
    clock: clocks.Clock = clocks.utcnow,
    sink: Sink | None = None,
    command: str = "notifier",
) -> Cycle:
    """One full cycle: poll every feed, queue the deadline reminders and the morning
    brief now due, send.

    In a dry run nothing is queued or sent and no state is written.
    """
    polls = await poll_once(
        config, state_dir, dry_run=dry_run, executor=executor, clock=clock, command=command
    )
    if dry_run:
        return Cycle(polls)
    with Store.open(state_dir) as store:
        reminders = check_deadlines(store, config, clock())
        reminders += check_brief(store, config, clock())
        prune_history(store, config, clock())
        index_history(store)
        if sink is not None:
            sender = Sender(store, config, sink, clock=clock)
            sender.reroute_removed()
            await sender.tick()
    return Cycle(polls, reminders)


def prune_history(store: State, config: Config, now: datetime, batches: int = 20) -> int:
    """Forget history older than ``history.keep`` (and matches older than the longest
    feed retention), in at most ``batches`` bounded transactions; rows deleted."""
    keep = config.history.keep
    retention = max((f.retention for f in config.feeds), default=keep)
    with store.transaction():  # found deadlines whose day has passed (a day's grace)
        removed = store.proposals.prune(now - timedelta(days=1), facts_before=now - keep)
    for _ in range(batches):
        with store.transaction():
            batch = store.history.prune_history(keep=keep, retention=max(keep, retention), now=now)
        removed += batch
        if not batch:
            break
    return removed


def index_history(store: State, batches: int | None = None, limit: int = 2000) -> int:
    """Make the entries recorded since the last call searchable, ``limit`` entries per
    transaction (all of them, or at most ``batches`` batches); how many."""
    done = 0
    while batches is None or batches > 0:
        with store.transaction():
            added = store.history.index_pending(limit)
        done += added
        if not added:
            break
        if batches is not None:
            batches -= 1
    return done


async def deliver(
    config: Config,
    state_dir: Path,
    sink: Sink,
    *,
    wait: float = 0.0,
    clock: clocks.Clock = clocks.utcnow,
) -> tuple[TickReport, list[ChannelStatus]]:
    """Send what the outbox holds; keep retrying for up to ``wait`` seconds."""
    with Store.open(state_dir) as store:
        sender = Sender(store, config, sink, clock=clock)
        sender.reroute_removed()
        report = await sender.drain(wait) if wait > 0 else await sender.tick()
        return report, store.outbox.status()


def _reader(state_dir: Path, state_url: str | None) -> State | None:
    """The state opened read-only: SQLite in ``state_dir`` (None when no file exists
    yet), or the PostgreSQL state at ``state_url``."""
    if state_url is None and not (state_dir / FILENAME).exists():
        return None
    return open_store(state_dir, state_url, read_only=True)


def outbox_status(state_dir: Path, state_url: str | None = None) -> list[ChannelStatus] | None:
    """The outbox per channel, or None when no state exists yet."""
    if state_url is None:
        with Store.open(state_dir, read_only=True) as local:
            return local.outbox.status()
    with open_store(state_dir, state_url, read_only=True) as store:
        return store.outbox.status()


def history_counts(
    state_dir: Path, since: datetime, state_url: str | None = None
) -> dict[str, int] | None:
    """History's counts since ``since`` (see ``HistoryStore.history_counts``), or None
    when no state exists yet."""
    store = _reader(state_dir, state_url)
    if store is None:
        return None
    with store:
        return store.history.history_counts(since)


def open_proposals(state_dir: Path, state_url: str | None = None) -> int | None:
    """How many proposals wait for ``accept`` or ``dismiss`` (None: no state yet)."""
    store = _reader(state_dir, state_url)
    if store is None:
        return None
    with store:
        return len(store.proposals.proposals("open"))


def active_mutes(state_dir: Path, now: datetime, state_url: str | None = None) -> list[Mute]:
    """The mutes in force at ``now``, soonest end first (empty when no state exists yet)."""
    store = _reader(state_dir, state_url)
    if store is None:
        return []
    with store:
        return store.mutes.active(now)


def feed_states(state_dir: Path, state_url: str | None = None) -> list[FeedState]:
    """Every feed's stored state (empty when no state exists yet)."""
    if state_url is None:
        with Store.open(state_dir, read_only=True) as local:
            return local.feed_states()
    with open_store(state_dir, state_url, read_only=True) as store:
        return store.feed_states()


async def send_test_alert(
    config: Config, channel: Channel, sink: Sink, clock: clocks.Clock = clocks.utcnow
) -> list[tuple[str, SendOutcome]]:
    """Send a test alert to every URL of ``channel`` now (bypassing the outbox and
    quiet hours), each in the format its service renders and within the channel's
    send deadline; return (masked URL, outcome) per URL."""
    renderer = Renderer.for_config(config)
    context = test_context(channel.name, clock())
    timeout = channel.timeout.total_seconds()

    async def one(url: str) -> SendOutcome:
        rendered = renderer.render(
            context, choose_format(channel.format, body_formats(url)), now=clock()
        )
        try:
            return await asyncio.wait_for(
                sink.send(url, rendered.title, rendered.body, rendered.format), timeout
            )
        except TimeoutError:
            return SendOutcome(False, f"no answer within {timeout:g} s", timed_out=True)

    outcomes = await asyncio.gather(*(one(url) for url in channel.urls))
    return [(mask_url(url), outcome) for url, outcome in zip(channel.urls, outcomes, strict=True)]


async def load_source(source: str, config: Config, name: str) -> ParsedFeed:
    """Read a feed from a file path or an http(s) URL and parse it (for ``notifier match``).

    The format is told by content, as the default ``feed`` type tells it:
    RSS, Atom, RDF, or JSON Feed (a ``.json`` file or URL) — see
    :mod:`notifier.sources.rss`.

    Raises :class:`FeedError` (or :class:`OSError` for an unreadable file).
    """
    parse = source_for(DEFAULT_TYPE).parse
    if source.startswith(("http://", "https://")):
        async with HttpFetcher(config.fetch) as fetcher:
            fetched = await fetcher.fetch(FetchRequest(source))
        if fetched.body is None:
            raise FetchError(f"{source}: no body (HTTP {fetched.status})", kind="http_status")
        return parse(
            fetched.body, fetched.headers, fetched.url, name, max_bytes=config.fetch.max_bytes
        )
    path = Path(source)
    body = path.read_bytes()
    if len(body) > config.fetch.max_bytes:
        raise FeedError(f"{source}: larger than fetch.max_bytes ({config.fetch.max_bytes})")
    return parse(body, {}, path.resolve().as_uri(), name, max_bytes=config.fetch.max_bytes)


def explain_all(watch: Watch, feed: ParsedFeed) -> list[Verdict]:
    """Run one watch over every entry of ``feed``, whatever feeds the watch selects."""
    scoped = replace(watch, feeds=(feed.entries[0].feed,) if feed.entries else watch.feeds)
    matcher = Matcher.compile([scoped])
    return [matcher.explain(entry, watch.name) for entry in feed.entries]


def find_watch(config: Config, name: str) -> Watch | None:
    """The watch called ``name``, or None."""
    return next((w for w in config.watches if w.name == name), None)


def watch_names(watches: Sequence[Watch]) -> str:
    """``a, b, c`` or ``none defined``."""
    return ", ".join(w.name for w in watches) or "none defined"


# --------------------------------------------------------------------------- replay


@dataclass(frozen=True, slots=True)
class Replayed:
    """An entry of history that the current watches match where no match was recorded."""

    entry: Entry
    matches: tuple[Match, ...]  # only the watches that did not match it at the time
    story: int | None
    seen: datetime


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What ``notifier replay`` found: the entries read and the new matches."""

    entries: int
    found: list[Replayed]
    queued: int = 0


def _replay_entry(record: EntryRecord) -> Entry:
    return Entry(
        feed=record.feed,
        key=record.key,
        title=record.title,
        summary=record.summary,
        link=record.link,
        published=record.published,
    )


REPLAY_BATCH = 500


def replay(
    config: Config,
    state_dir: Path,
    since: datetime,
    until: datetime,
    *,
    watch: str | None = None,
    send: bool = False,
    clock: clocks.Clock = clocks.utcnow,
) -> ReplayReport:
    """Run the current watches (or one) over the entries history holds from ``since``
    to ``until``; report what they match that no watch of that name matched then.

    History keeps each entry's title, summary (or content) and link: watches on
    other fields (categories, author) see them empty here. Without ``send`` the
    state is opened read-only and nothing changes; with it, each entry found is
    queued as one alert marked "replay" (once: replaying again queues nothing
    new) and its matches are recorded in history as ``replay``.
    """
    watches = tuple(w for w in config.watches if watch is None or w.name == watch)
    matcher = Matcher.compile(watches)
    found: list[Replayed] = []
    read = 0
    with Store.open(state_dir, read_only=not send) as store:
        batch: list[EntryRecord] = []

        def flush() -> None:
            by_feed: dict[str, list[EntryRecord]] = {}
            for r in batch:
                by_feed.setdefault(r.feed, []).append(r)
            for feed, records in by_feed.items():
                before = store.history.matches_for(feed, [r.key for r in records])
                entries = [_replay_entry(r) for r in records]
                run = matcher.match_all(entries)
                fresh: dict[str, list[Match]] = {}
                for m in run.matches:
                    had = {x.watch for x in before.get(m.entry.key, [])}
                    if m.watch not in had:
                        fresh.setdefault(m.entry.key, []).append(m)
                for r in records:
                    if r.key in fresh:
                        found.append(
                            Replayed(_replay_entry(r), tuple(fresh[r.key]), r.story, r.seen)
                        )
            batch.clear()

        for record in store.history.entries_between(since, until):
            read += 1
            batch.append(record)
            if len(batch) >= REPLAY_BATCH:
                flush()
        flush()
        queued = 0
        if send and found:
            now = clock()
            notes = {
                (r.entry.feed, r.entry.key): StoryNote(
                    story=r.story, change="replay", first_seen=r.seen, reason="replay"
                )
                for r in found
            }
            matches = [m for r in found for m in r.matches]
            stored = {
                (r.feed, r.key): r
                for feed in {r.entry.feed for r in found}
                for r in store.history.entries_by_key(
                    feed, [x.entry.key for x in found if x.entry.feed == feed]
                ).values()
            }
            records = [
                MatchRecord(
                    entry=stored[(m.entry.feed, m.entry.key)].id or 0,
                    story=stored[(m.entry.feed, m.entry.key)].story or 0,
                    watch=m.watch,
                    why=m.explain(),
                    terms=tuple(dict.fromkeys(h.term for h in m.hits)),
                    at=now,
                    kind="replay",
                )
                for m in matches
                if (m.entry.feed, m.entry.key) in stored
            ]
            with store.transaction():
                queued = store.outbox.enqueue(route_matches(matches, config, now, notes), now)
                store.history.record_matches(records)
    return ReplayReport(read, found, queued)
