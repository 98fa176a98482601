"""Polling one feed: fetch → skip what is unchanged → parse → dedup → match → record.

::

    fetch (conditional GET)
      ├─ error ──────────────▶ backoff, maybe "unhealthy" event        FAILED
      ├─ 304 ────────────────▶                                         NOT_MODIFIED
      └─ 200 body
          ├─ same hash as last body ─────────────────────────────────▶ UNCHANGED
          ├─ pre-scan: every entry key already seen ─────────────────▶ ALL_KNOWN
          ├─ silent first poll (no ``backfill``): the source's ``key_scan``
          │   gives each entry's key and fingerprint, recorded without
          │   history rows (they follow, see below) ───────────────────▶ FIRST
          └─ parse (off the event loop, in a process pool; on a silent first
             poll whose key scan was unsure, the source's ``first_scan``
             first, when it is sure)
              ├─ parse error ─▶ backoff, maybe "unhealthy" event        FAILED
              ├─ first poll of this feed: entries recorded silently
              │   (except the ``backfill`` newest)                      FIRST
              ├─ every key new, but the entries' links and titles known:
              │   the feed re-keyed its entries; those are not alerted  PARSED
              └─ entries not seen before → matched against the watches  PARSED
                 (in a worker thread, regex time bounded: see
                 :meth:`~notifier.matching.Matcher.match_all`)

**A silent first poll** (no ``backfill``) alerts on nothing, so it needs each
entry's key and its fingerprint (link and title: how a feed that later gives
every entry a new id is recognised), not a parse. The source's ``key_scan``
(:func:`notifier.sources.rss.key_scan`: the document as a tree built in C, about
10x cheaper than feedparser, in the parse pool) reads exactly those or says it
is unsure; then ``first_scan`` (every field history keeps, 2.5-3x cheaper) and
then the parse are tried, and their entries get history rows at once.

After a key-only first poll the entries' history rows (title, summary, link:
what ``history``, its search and ``replay`` read) are written at the feed's
next parse, for the entries still in the feed, with the time they were first
seen. So a first poll of many feeds stays cheap, and the rows cost no parse of
their own. An entry first seen longer than ``history.keep`` ago is not written
then (history would have pruned it). Seen keys and fingerprints are written by
the first poll, as always.

The pre-scan, the parse and the ``Accept`` header are the feed's source type's
(``type:``, see :mod:`notifier.sources`); every other step is the same for all types.

Nothing here raises for a broken feed: every outcome is a :class:`PollResult`
and one canonical log line ("feed polled": at INFO when the feed had news or
failed, at DEBUG for the routine NOT_MODIFIED / UNCHANGED / ALL_KNOWN).

State is written in one transaction per poll, and not at all in a dry run.
One exception keeps a 304 cycle cheap: a poll that changed nothing but the
feed's poll times is *touched*, and touches are written together, in one
transaction, as soon as no poll is in flight (or with the next poll that
writes). So when :meth:`Poller.poll` returns and no other poll is running,
everything is on disk; a crash in between loses only poll times.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import operator
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from notifier import clock as clocks
from notifier.deadlines.proposals import Candidate
from notifier.errors import FeedError, FetchError, StateError
from notifier.logs import get_logger
from notifier.matching import Matcher, MatchRun, Overrun
from notifier.model import (
    Entry,
    EntryRecord,
    Feed,
    FeedState,
    HistoryPolicy,
    Match,
    NewAlert,
    Proposal,
    StoryNote,
    Watch,
)
from notifier.pipeline.proposals import Discovery
from notifier.pipeline.proposals import record as record_proposals
from notifier.pipeline.stories import (
    PollStories,
    Prepared,
    StoryBook,
    StoryOutcome,
    prepare_all,
)
from notifier.pipeline.stories import edited as entry_edited
from notifier.pipeline.stories import record as record_stories
from notifier.sources import ParsedFeed, ParseFn, source_for
from notifier.sources.health import HealthEvent, on_failure, on_success
from notifier.sources.http import Fetched, Fetcher, FetchRequest, safe_url
from notifier.sources.keys import content_fingerprint
from notifier.storage import State
from notifier.text import mask_feed_url

log = get_logger("notifier.pipeline.poll")
_level = logging.getLogger("notifier.pipeline.poll")  # to skip building a line DEBUG would drop
#: ``history.keep`` when the poller is not told (see :attr:`Poller.history_keep`).
_DEFAULT_KEEP = HistoryPolicy().keep


class PollStatus(StrEnum):
    NOT_MODIFIED = "not_modified"
    UNCHANGED = "unchanged"
    ALL_KNOWN = "all_known"
    FIRST = "first_poll"
    PARSED = "parsed"
    FAILED = "failed"


#: Outcomes with nothing new: logged at DEBUG (1,000 feeds would log 96,000 such
#: lines a day at INFO); counted by status in ``/metrics``.
_ROUTINE = frozenset({PollStatus.NOT_MODIFIED, PollStatus.UNCHANGED, PollStatus.ALL_KNOWN})
#: A parse in which every key is new is a re-keyed feed when at least this share of
#: its entries have a link and title seen before (and there are at least 2 entries).
REKEYED_SHARE = 0.5
#: At most this many new proposals of one poll are announced (a feed that suddenly
#: serves a thousand dated entries must not send a thousand alerts); the rest are
#: stored and listed by ``notifier proposals``.
MAX_ANNOUNCED = 10


@dataclass(frozen=True, slots=True)
class PollResult:
    """The outcome of polling one feed once."""

    feed: str
    status: PollStatus
    new: tuple[Entry, ...] = ()
    matches: tuple[Match, ...] = ()
    entries: int = 0
    event: HealthEvent | None = None
    error: str | None = None
    moved_to: str | None = None
    duration: float = 0.0
    warning: str | None = None  # the feed is usable but ill-formed (a bad byte, say)
    overruns: tuple[Overrun, ...] = ()  # regex searches that ran out of time
    rekeyed: int = 0  # entries not alerted again because only their keys changed
    alerted: tuple[Match, ...] = ()  # the matches that alert (the others: a story's sources)
    notes: Mapping[tuple[str, str], StoryNote] = field(default_factory=dict)
    sources: int = 0  # matches attached to a story already alerted, silently
    edits: int = 0  # edits of matched entries recorded (alerting: ``edit_alerts``)
    edit_alerts: int = 0
    story_of: Mapping[str, int] = field(default_factory=dict)  # new entry key -> story
    proposals: tuple[Proposal, ...] = ()  # deadlines found and proposed for the first time

    @property
    def ok(self) -> bool:
        return self.status is not PollStatus.FAILED


#: Turns new proposals into "Possible deadline / move / change" alerts.
Announcer = Callable[[Sequence[Proposal], datetime], list[NewAlert]]


class Router(Protocol):
    """Turns a poll's matches and health event into alerts for the outbox; ``notes``
    (by feed and entry key) are what the story stage found about them."""

    def __call__(
        self,
        matches: Sequence[Match],
        event: HealthEvent | None,
        now: datetime,
        notes: Mapping[tuple[str, str], StoryNote] | None = None,
    ) -> list[NewAlert]: ...


def body_hash(body: bytes) -> str:
    """A fingerprint of a body, to skip parsing one identical to the last."""
    return hashlib.sha256(body).hexdigest()[:40]


def fingerprint(entry: Entry) -> str | None:
    """What identifies an entry besides its key: its canonical link and its title
    (:func:`~notifier.sources.keys.content_fingerprint`).

    Used only to recognise a feed that gave every entry a new id at once."""
    return content_fingerprint(entry.link, entry.title)


#: A feed state's fields other than its poll times (read as one tuple, in C).
_BEYOND_TIMES = operator.attrgetter(
    *(f.name for f in fields(FeedState) if f.name not in {"last_polled", "last_ok", "next_poll"})
)


def _only_times(state: FeedState, stored: FeedState) -> bool:
    """Whether ``state`` differs from ``stored`` in its poll times at most."""
    return bool(_BEYOND_TIMES(state) == _BEYOND_TIMES(stored))


def pick_backfill(entries: tuple[Entry, ...], count: int) -> tuple[Entry, ...]:
    """The ``count`` newest entries: by date when every entry has one, else feed order."""
    if count <= 0:
        return ()
    dates = [e.published or e.updated for e in entries]
    if all(d is not None for d in dates):
        ordered = sorted(
            range(len(entries)),
            key=lambda i: dates[i],  # type: ignore[arg-type,return-value]
            reverse=True,
        )
        return tuple(entries[i] for i in ordered[:count])
    return entries[:count]


class Poller:
    """Polls feeds against one config's matcher; safe to run many polls concurrently."""

    def __init__(
        self,
        store: State,
        fetcher: Fetcher,
        matcher: Matcher,
        *,
        max_bytes: int,
        executor: Executor | None = None,
        clock: clocks.Clock = clocks.utcnow,
        rand: Callable[[], float] = random.random,
        dry_run: bool = False,
        parse_fn: ParseFn | None = None,  # None: each feed's source type parses
        router: Router | None = None,
        match_executor: Executor | None = None,
        stories: StoryBook | None = None,
        watches: Mapping[str, Watch] | None = None,
        discovery: Discovery | None = None,
        announce: Announcer | None = None,
        shared: bool = False,
        refresh_stories: Callable[[], None] | None = None,
        history_keep: timedelta = _DEFAULT_KEEP,
    ) -> None:
        #: Other processes poll the same store (``notifier worker``): feed state is
        #: read from the store at each poll, and a poll's writes are never deferred.
        self.shared = shared
        #: Called (shared only) in the poll's transaction, under the stories' lock,
        #: before new entries are placed: the worker indexes the others' entries.
        self.refresh_stories = refresh_stories
        self.store = store
        self.fetcher = fetcher
        self.matcher = matcher
        self.max_bytes = max_bytes
        self.executor = executor
        self.clock = clock
        self.rand = rand
        self.dry_run = dry_run
        self.parse_fn = parse_fn
        self.router = router
        self.match_executor = match_executor
        #: With a story book (and not a dry run), entries are recorded in history,
        #: grouped into stories, and edits of matched entries noticed.
        self.stories = stories if not dry_run else None
        self.watches = watches or {}
        #: How long history keeps an entry (``history.keep``): a known entry first seen
        #: within it but without a history row (its first poll recorded only keys) gets
        #: its row at the feed's next parse; an older one's row was pruned, not missed.
        self.history_keep = history_keep
        #: With a discovery setup (and not a dry run), new entries' deadlines are proposed.
        self.discovery = discovery if discovery is not None and discovery.active else None
        self.announce = announce
        self.stopping = threading.Event()  # set: matching in threads gives up
        self._moved_logged: set[tuple[str, str]] = set()
        self._warned: dict[str, str] = {}  # feed -> the warning last logged
        self._inflight = 0
        self._finished = 0
        self._touched: dict[str, FeedState] = {}
        self._states: dict[str, FeedState] | None = None  # see state()
        self._proposed: dict[str, tuple[Proposal, ...]] = {}  # feed -> its poll's new proposals

    async def poll(self, feed: Feed) -> PollResult:
        """Poll ``feed`` once. Never raises for a feed problem; see :class:`PollResult`."""
        started = time.perf_counter()
        self._inflight += 1
        try:
            result = await self._poll(feed)
        except StateError:
            raise  # the store itself is broken: not one feed's problem
        except Exception as e:  # one feed's bug must not stop the others
            log.exception("feed poll crashed", feed=feed.name)
            result = PollResult(feed.name, PollStatus.FAILED, error=f"internal error: {e!r}")
        finally:
            self._inflight -= 1
            self._finished += 1
            if not self._inflight or self.shared:
                self.flush()
        # The result is this call's own until it is returned: set its duration in
        # place (``dataclasses.replace`` of 21 fields is a 304 poll's largest cost).
        object.__setattr__(result, "duration", time.perf_counter() - started)
        self._log(feed, result)
        return result

    @property
    def busy(self) -> bool:
        """Whether a poll is in flight."""
        return self._inflight > 0

    @property
    def polls(self) -> int:
        """How many polls this poller has finished (to tell whether any ran since)."""
        return self._finished

    def state(self, name: str) -> FeedState | None:
        """Feed ``name``'s state as this poller last wrote it (None: never polled).

        Read from the store once, all feeds in one query, then kept in step with
        every write this poller makes: the poller is the writer of feed state, so
        a poll costs no SELECT. (Another process polling the same state folder at
        the same time only makes this copy stale: the next poll then refetches or
        re-checks entries against the seen table, which stays authoritative.)

        A ``shared`` poller (a worker of a cluster) reads it from the store every
        time: another worker may have polled the feed since."""
        if self.shared:
            return self.store.feed_state(name)
        if self._states is None:
            self._states = {s.name: s for s in self.store.feed_states()}
        return self._states.get(name)

    def _remember(self, state: FeedState) -> None:
        if self._states is not None:
            self._states[state.name] = state

    def flush(self) -> None:
        """Write the pending touches (see the module docstring) in one transaction."""
        if not self._touched or self.dry_run:
            return
        touched, self._touched = self._touched, {}
        with self.store.transaction():
            self.store.touch_feeds(touched.values())

    async def _poll(self, feed: Feed) -> PollResult:
        stored = self.state(feed.name)
        shown = mask_feed_url(feed.url)  # the store never holds a feed's credentials
        state = (stored or FeedState(feed.name, shown)).with_url(shown)
        first = state.last_parsed is None
        source = source_for(feed.type)
        request = FetchRequest(feed.url, state.etag, state.last_modified, accept=source.ACCEPT)
        try:
            fetched = await self.fetcher.fetch(request)
        except FetchError as e:
            return self._fail(feed, state, str(e), e.retry_after)
        now = self.clock()
        moved = fetched.permanent_redirect

        if fetched.status == 304 or fetched.body is None:
            new_state, event = on_success(state, feed, now)
            self._save(new_state, now=now, event=event, stored=stored)
            return PollResult(feed.name, PollStatus.NOT_MODIFIED, event=event, moved_to=moved)

        hashed = body_hash(fetched.body)
        cached = replace(state, etag=fetched.etag, last_modified=fetched.last_modified)
        if not first and hashed == state.body_hash:
            new_state, event = on_success(cached, feed, now)
            self._save(new_state, now=now, event=event, stored=stored)
            return PollResult(feed.name, PollStatus.UNCHANGED, event=event, moved_to=moved)

        if not first:
            keys = source.prescan(fetched.body, fetched.headers, max_bytes=self.max_bytes)
            if (
                keys
                and len(self.store.known_keys(feed.name, keys)) == len(set(keys))
                and not (self.stories and self.store.history.matched_keys(feed.name, keys))
            ):
                new_state, event = on_success(cached, feed, now)
                new_state = replace(new_state, body_hash=hashed, last_parsed=now)
                self._save(new_state, seen=keys, now=now, prune=feed, event=event)
                return PollResult(
                    feed.name,
                    PollStatus.ALL_KNOWN,
                    entries=len(keys),
                    event=event,
                    moved_to=moved,
                )

        if first:
            keyed = await self._key_scan(fetched, feed)
            if keyed is not None:
                now = self.clock()
                new_state, event = on_success(cached, feed, now)
                new_state = replace(new_state, body_hash=hashed, last_parsed=now)
                keys = [k for k, _ in keyed]
                prints = [p for _, p in keyed]
                self._save(
                    new_state, seen=keys, fingerprints=prints, now=now, prune=feed, event=event
                )
                return PollResult(
                    feed.name, PollStatus.FIRST, entries=len(keys), event=event, moved_to=moved
                )

        try:
            parsed = await self._first_scan(fetched, feed) if first else None
            # A first scan answers only when none of its keys is known (checked with no
            # await since, so nothing can have been recorded in between).
            scanned = parsed is not None
            if parsed is None:
                parsed = await self._parse(fetched, feed)
        except FeedError as e:
            # Keep the old caching headers: a 304 next time must not hide the broken body.
            return self._fail(feed, state, str(e), None)
        now = self.clock()
        entries = parsed.entries
        keys = [e.key for e in entries]
        # An entry whose key changed with the key scheme is known by its old key.
        legacy = [e.legacy_key for e in entries if e.legacy_key]
        known = set() if scanned else self.store.known_keys(feed.name, keys + legacy)
        unseen = tuple(
            {
                e.key: e
                for e in entries
                if e.key not in known and (e.legacy_key is None or e.legacy_key not in known)
            }.values()
        )
        # Fingerprints are stored with an entry when it is first recorded (kept after).
        new_keys = {e.key for e in unseen}
        prints = [fingerprint(e) if e.key in new_keys else None for e in entries]
        rekeyed: tuple[Entry, ...] = ()
        if not first and unseen and len(unseen) == len(set(keys)) >= 2:
            unseen, rekeyed = self._split_rekeyed(feed, unseen)
        if first and not self.dry_run:
            alertable = pick_backfill(unseen, feed.backfill)
            status = PollStatus.FIRST
        else:
            alertable = unseen
            status = PollStatus.PARSED
        work = None
        edited: tuple[tuple[Entry, EntryRecord], ...] = ()
        light: tuple[Entry, ...] = ()
        placed: tuple[Entry, ...] = ()
        if self.stories is not None:
            edited = self._edited(feed, entries, known)
            placed = alertable if first else unseen
            keys_placed = {e.key for e in placed}
            light = tuple(e for e in unseen if e.key not in keys_placed) if first else ()
            # Entries a key-only first poll recorded get their history rows now.
            since = now - self.history_keep
            archive = (
                self.store.unrecorded(feed.name, [e.key for e in entries if e.key in known], since)
                if known and not first
                else {}
            )
            if archive:
                light = tuple({e.key: e for e in entries if e.key in archive}.values())
            work = PollStories(feed, new=placed, silent=light, edited=edited, seen_at=archive)
        run, prepared, found = await self._match(
            alertable + tuple(e for e, _ in edited),
            prepare=placed + tuple(e for e, _ in edited),
            light=light,
            discover=alertable,
        )
        matches = run.matches
        if work is not None:
            edited_keys = {e.key for e, _ in edited}
            work.matches = [m for m in matches if m.entry.key not in edited_keys]
            work.edit_matches = [m for m in matches if m.entry.key in edited_keys]
            work.prepared = prepared
            matches = tuple(work.matches)
            if self.stories is not None:
                await self.stories.ready()  # the daemon's start-up load, if still running
        now = self.clock()
        new_state, event = on_success(cached, feed, now)
        new_state = replace(new_state, body_hash=hashed, last_parsed=now)
        outcome = self._save(
            new_state,
            seen=keys,
            fingerprints=prints,
            now=now,
            prune=feed,
            matches=matches,
            event=event,
            stories=work,
            found=found,
        )
        return PollResult(
            feed.name,
            status,
            new=alertable,
            matches=run.matches,
            entries=len(entries),
            event=event,
            moved_to=moved,
            warning=parsed.warning,
            overruns=run.overruns,
            rekeyed=len(rekeyed),
            alerted=outcome.alerting if outcome else matches,
            notes=outcome.notes if outcome else {},
            sources=outcome.sources if outcome else 0,
            edits=outcome.edits if outcome else 0,
            edit_alerts=outcome.edit_alerts if outcome else 0,
            story_of=outcome.placed if outcome else {},
            proposals=self._proposed.pop(feed.name, ()),
        )

    def _split_rekeyed(
        self, feed: Feed, unseen: tuple[Entry, ...]
    ) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
        """Every key of the document is new: is it the same entries under new ids?

        When at least :data:`REKEYED_SHARE` of them have a link and title seen
        before in this feed, those are the old entries re-keyed (not alerted
        again); the rest are new. Otherwise all of them are new."""
        prints = {e.key: fingerprint(e) for e in unseen}
        known = self.store.known_fingerprints(feed.name, [p for p in prints.values() if p])
        old = tuple(e for e in unseen if prints[e.key] in known)
        if len(old) < REKEYED_SHARE * len(unseen):
            return unseen, ()
        return tuple(e for e in unseen if prints[e.key] not in known), old

    def _edited(
        self, feed: Feed, entries: tuple[Entry, ...], known: set[str]
    ) -> tuple[tuple[Entry, EntryRecord], ...]:
        """Entries seen before, matched before, whose title or summary changed since."""
        present = [e for e in entries if e.key in known]
        if not present:
            return ()
        matched = self.store.history.matched_keys(feed.name, [e.key for e in present])
        if not matched:
            return ()
        stored = self.store.history.entries_by_key(feed.name, matched)
        out = []
        for e in present:
            record = stored.get(e.key)
            if record is not None and entry_edited(e, record):
                out.append((e, record))
        return tuple(out)

    async def _match(
        self,
        entries: tuple[Entry, ...],
        prepare: tuple[Entry, ...] = (),
        light: tuple[Entry, ...] = (),
        discover: tuple[Entry, ...] = (),
    ) -> tuple[MatchRun, dict[str, Prepared], list[Candidate]]:
        """Match ``entries`` (and prepare the story stage's view of ``prepare``, and the
        lighter one of ``light``, and find the deadlines stated in ``discover``) in a
        worker thread: the event loop never waits on a regex, a signature or a date."""
        if not entries and not prepare and not light:
            return MatchRun(()), {}, []
        stop = self.stopping.is_set
        discovery = self.discovery if not self.dry_run else None
        now = self.clock()

        def work() -> tuple[MatchRun, dict[str, Prepared], list[Candidate]]:
            run = self.matcher.match_all(entries, stop=stop) if entries else MatchRun(())
            found = discovery.find(discover, run.matches, now) if discovery and discover else []
            return run, prepare_all(prepare, light), found

        return await asyncio.get_running_loop().run_in_executor(self.match_executor, work)

    async def _key_scan(self, fetched: Fetched, feed: Feed) -> list[tuple[str, str | None]] | None:
        """The source's cheapest read of a first poll that records every entry silently:
        each entry's key and fingerprint (:class:`~notifier.sources.base.KeyScanFn`).

        None (then :meth:`_first_scan`, then the full parse) under the same conditions
        as :meth:`_first_scan`."""
        keyed: list[tuple[str, str | None]] | None = await self._silent_read(
            "key_scan", fetched, feed
        )
        if not keyed or self._any_known(feed, [k for k, _ in keyed]):
            return None
        return keyed

    async def _first_scan(self, fetched: Fetched, feed: Feed) -> ParsedFeed | None:
        """The source's cheap read of a first poll that records every entry silently.

        None (then the poll parses in full) unless this poll records its entries
        without alerting (no ``backfill``, not a dry run, no test parser), the source
        answers (:func:`notifier.sources.rss.first_scan`: only when it reads exactly
        what a parse would), and none of its keys is known yet (a feed whose state
        was lost may have matched entries whose edits a parse must look at)."""
        scanned: ParsedFeed | None = await self._silent_read("first_scan", fetched, feed, feed.name)
        if scanned is None:
            return None
        keys = [e.key for e in scanned.entries]
        legacy = [e.legacy_key for e in scanned.entries if e.legacy_key]
        if self._any_known(feed, keys + legacy):
            return None
        return scanned

    async def _silent_read(self, name: str, fetched: Fetched, feed: Feed, *args: str) -> Any:
        """Call the source's optional cheap reader ``name`` (``key_scan``, ``first_scan``:
        see :mod:`notifier.sources.base`) in the parse pool, for a poll that records its entries
        without alerting (no ``backfill``, not a dry run, no test parser); None when
        there is no such poll or reader, or when it failed (logged: the poll reads more)."""
        scan = getattr(source_for(feed.type), name, None)
        if feed.backfill or self.dry_run or self.parse_fn is not None or scan is None:
            return None
        assert fetched.body is not None  # noqa: S101 - checked by the caller
        call = functools.partial(
            scan, fetched.body, fetched.headers, feed.url, *args, max_bytes=self.max_bytes
        )
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, call)
        except Exception:  # a bug in a fast path must not fail the feed: read more
            log.exception(f"{name.replace('_', ' ')} failed; parsing", feed=feed.name)
            return None

    def _any_known(self, feed: Feed, keys: list[str]) -> bool:
        """Whether any of ``keys`` is stored for ``feed`` (a feed without a stored key,
        the usual first poll, needs no lookup per key)."""
        return bool(self.store.seen_count(feed.name) and self.store.known_keys(feed.name, keys))

    async def _parse(self, fetched: Fetched, feed: Feed) -> ParsedFeed:
        assert fetched.body is not None  # noqa: S101 - checked by the caller
        # The configured URL, not the final one: feedparser resolves relative guids
        # against it, and a temporary redirect must not change every entry's key.
        call = functools.partial(
            self.parse_fn or source_for(feed.type).parse,
            fetched.body,
            fetched.headers,
            feed.url,
            feed.name,
            max_bytes=self.max_bytes,
        )
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    def _fail(
        self, feed: Feed, state: FeedState, error: str, retry_after: float | None
    ) -> PollResult:
        now = self.clock()
        new_state, event = on_failure(state, feed, error, now, self.rand(), retry_after=retry_after)
        self._save(new_state, now=now, event=event)
        return PollResult(feed.name, PollStatus.FAILED, event=event, error=error)

    def _save(
        self,
        state: FeedState,
        *,
        seen: list[str] | None = None,
        fingerprints: Sequence[str | None] | None = None,
        now: datetime | None = None,
        prune: Feed | None = None,
        matches: Sequence[Match] = (),
        event: HealthEvent | None = None,
        stored: FeedState | None = None,
        stories: PollStories | None = None,
        found: Sequence[Candidate] = (),
    ) -> StoryOutcome | None:
        """Write the poll's outcome in one transaction: feed state, seen keys and the
        alerts for its matches, so an entry is never marked seen without its alert.

        With ``stored`` (the state before the poll), a poll that changed nothing
        but the poll times is only touched: written by :meth:`flush`."""
        if self.dry_run:
            return None
        if stored is not None and seen is None and event is None and _only_times(state, stored):
            self._touched[state.name] = state
            self._remember(state)
            return None
        self._touched.pop(state.name, None)
        outcome = None
        touched, self._touched = self._touched, {}
        with self.store.transaction():
            self.store.lock_feed(state.name)
            if touched:
                self.store.touch_feeds(touched.values())
            self.store.save_feed_state(state)
            if seen is not None and now is not None:
                self.store.mark_seen(state.name, seen, now, fingerprints)
                if prune is not None:
                    self.store.prune(state.name, prune.retention, now)
            notes: Mapping[tuple[str, str], StoryNote] = {}
            if stories is not None and self.stories is not None and now is not None:
                try:
                    if not self.stories.loaded:
                        self.stories.load(self.store.history, now)
                    if self.shared:
                        # Another worker may have placed entries since: wait for the
                        # others' story step, then read what they recorded.
                        self.store.lock_stories()
                        if self.refresh_stories is not None:
                            self.refresh_stories()
                    outcome = record_stories(
                        self.store.history, self.stories, stories, self.watches, now
                    )
                except StateError:
                    raise
                except Exception:  # a bug in the story stage must not stop alerting
                    log.exception("story stage failed; alerting without stories", feed=state.name)
                    self.stories.reset()  # rebuilt from history at the next poll
                else:
                    matches, notes = outcome.alerting, outcome.notes
            if self.router is not None and now is not None and (matches or event):
                self.store.outbox.enqueue(self.router(matches, event, now, notes), now)
            if found and now is not None:
                self._propose(state.name, found, now)
        self._remember(state)  # committed
        return outcome

    def _propose(self, feed: str, found: Sequence[Candidate], now: datetime) -> None:
        """Record the poll's found deadlines and announce the new ones (in its transaction)."""
        try:
            new = record_proposals(self.store.proposals, found, now)
        except StateError:
            raise
        except Exception:  # a bug in discovery must not stop alerting
            log.exception("deadline proposals failed; the poll goes on", feed=feed)
            return
        if new:
            self._proposed[feed] = tuple(new)
            if len(new) > MAX_ANNOUNCED:
                log.warning(
                    "more deadlines found in one poll than are announced; the rest are "
                    "listed by notifier proposals",
                    feed=feed,
                    found=len(new),
                    announced=MAX_ANNOUNCED,
                )
            if self.announce is not None:
                self.store.outbox.enqueue(self.announce(new[:MAX_ANNOUNCED], now), now)

    def _log(self, feed: Feed, result: PollResult) -> None:
        if (
            result.status in _ROUTINE
            and not result.error
            and not result.moved_to
            and not result.warning
            and result.event is None
            and not _level.isEnabledFor(logging.DEBUG)
        ):
            return  # the routine line is dropped, and there is nothing else to say
        line = {
            "feed": feed.name,
            "status": str(result.status),
            "entries": result.entries,
            "new": len(result.new),
            "matched": len(result.matches),
            "duration_ms": round(result.duration * 1000, 1),
        }
        if result.error:
            log.warning("feed polled", **line, error=result.error)
        elif result.status in _ROUTINE:
            if _level.isEnabledFor(logging.DEBUG):
                log.debug("feed polled", **line)
        else:
            log.info("feed polled", **line)
        if result.moved_to and (feed.name, result.moved_to) not in self._moved_logged:
            self._moved_logged.add((feed.name, result.moved_to))
            log.warning(
                "feed moved permanently; update its url in the watch config",
                feed=feed.name,
                to=safe_url(result.moved_to),
            )
        if result.warning and self._warned.get(feed.name) != result.warning:
            # Once per distinct warning: a feed that is always slightly broken says so
            # once, not at every change of its body.
            self._warned[feed.name] = result.warning
            log.warning("feed is ill-formed but usable", feed=feed.name, warning=result.warning)
        elif result.status is PollStatus.PARSED and not result.warning:
            self._warned.pop(feed.name, None)
        if result.rekeyed:
            log.warning(
                "feed gave its entries new ids; those with a known link and title were "
                "not alerted again",
                feed=feed.name,
                entries=result.rekeyed,
            )
        for overrun in result.overruns:
            log.warning(
                "regex ran out of time; the entry is recorded as seen without this watch",
                feed=feed.name,
                watch=overrun.watch,
                term=overrun.term,
                entry=overrun.title[:120],
            )
        if result.event is not None:
            log.warning(
                f"feed {result.event.kind}",
                feed=feed.name,
                failures=result.event.failures,
                error=result.event.error,
            )
