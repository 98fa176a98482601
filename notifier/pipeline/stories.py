"""The story stage of a poll: the story each new entry joins, which matches alert, and
which edits of matched entries alert again.

::

    new entries ──▶ prepare (worker thread: canonical link, signature, text hash)
                ──▶ join a story (StoryBook: the same canonical link, or a near-duplicate
                    title and summary, within ``stories.window``), else start one
    their matches ─▶ per watch:
                    the story's first alert for that watch .................. match
                    a story already alerted for it, from an official feed,
                    or the watch says ``updates: all`` ........................ update
                    else: attached to the story, shown in history ........... source
    entries matched before whose text changed ─▶ per watch, decide_edit():
                    dates / numbers / terms changed (``edits: facts``) ...... edit
                    else recorded silently

Everything here runs inside the poll's one transaction (:meth:`Poller._save`), so
the history rows, the seen keys and the alerts are written together, and no other
poll interleaves with the story decisions (no ``await`` in between).

The pure decisions are :mod:`notifier.stories` (grouping) and :mod:`notifier.edits`
(edits); this module wires them to the history store.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from notifier.edits import decide_edit, text_hash
from notifier.logs import get_logger
from notifier.model import (
    Entry,
    EntryRecord,
    Feed,
    Match,
    MatchKind,
    MatchRecord,
    StoryNote,
    Watch,
)
from notifier.storage import HistoryStore
from notifier.stories import Signature, StoryIndex, canonical_link, signature

log = get_logger("notifier.pipeline.stories")

#: What history keeps of an entry's text (the store caps it too).
TITLE_KEPT = 500
SUMMARY_KEPT = 2000
#: The story index forgets old entries at most this often.
EXPIRE_EVERY = timedelta(minutes=1)
#: The entries of a story remembered for that check (the first ones).
MEMBERS_KEPT = 20
#: New entries of one poll placed in stories by the index (matched ones first, all of
#: them); the rest start their own (about 0.4 ms each on the event loop otherwise).
PLACED_PER_POLL = 200


@dataclass(frozen=True, slots=True)
class Joined:
    """The story a new entry joins, why, and a story found apart that it shows to be
    the same (``absorbs``: merged into ``story``)."""

    story: int
    reason: str
    absorbs: int | None = None


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the story stage needs of an entry, computed once in a worker thread."""

    canonical: str | None
    signature: Signature
    text_hash: str
    headline: str = ""  # the title, case-folded, spaces collapsed


def headline(title: str) -> str:
    return " ".join(title.casefold().split())[:TITLE_KEPT]


def _summary(entry: Entry) -> str:
    return (entry.summary or entry.content)[:SUMMARY_KEPT]


def raw_hash(title: str, summary: str) -> str:
    """A cheap fingerprint of the text as served (history's ``text_hash``): equal means
    unchanged; unequal is checked with :func:`notifier.edits.text_hash`, which sets
    whitespace, case and punctuation aside (and costs a hundred times more)."""
    material = f"{title}\x00{summary}".encode()
    return "raw:" + hashlib.blake2b(material, digest_size=16).hexdigest()


def edited(entry: Entry, stored: EntryRecord) -> bool:
    """Whether ``entry``'s words changed since ``stored`` (whitespace, case and
    punctuation aside)."""
    title, summary = entry.title[:TITLE_KEPT], _summary(entry)
    if raw_hash(title, summary) == stored.text_hash:
        return False
    return text_hash(title, summary) != text_hash(stored.title, stored.summary)


def prepare(entry: Entry) -> Prepared:
    """The canonical link, signature and text hash of ``entry`` (bounded work)."""
    title, summary = entry.title[:TITLE_KEPT], _summary(entry)
    return Prepared(
        canonical_link(entry.link),
        signature(title, summary),
        raw_hash(title, summary),
        headline(title),
    )


def prepare_light(entry: Entry) -> Prepared:
    """What recording ``entry`` without placing it in a story needs (no signature)."""
    title, summary = entry.title[:TITLE_KEPT], _summary(entry)
    return Prepared(canonical_link(entry.link), _NO_SIGNATURE, raw_hash(title, summary))


_NO_SIGNATURE = signature("", "")


def prepare_all(entries: Sequence[Entry], light: Sequence[Entry] = ()) -> dict[str, Prepared]:
    """:func:`prepare` each of ``entries`` and :func:`prepare_light` each of ``light``."""
    out = {e.key: prepare_light(e) for e in light}
    out.update((e.key, prepare(e)) for e in entries)
    return out


def specific(canonical: str | None) -> bool:
    """Whether a canonical link names one page (not a site's home page)."""
    if not canonical:
        return False
    _, _, rest = canonical.partition("/")
    return bool(rest.strip("/"))


class StoryBook:
    """The in-memory index of the recent entries' stories, kept in step with history.

    One per daemon (it outlives config reloads); filled from the history store
    on first use (:meth:`load`), then by every entry the polls record.

    Links: an entry joins the story of an entry of *another* feed with the same
    canonical link, whatever the texts say (a translation, a rewritten
    headline). Within one feed, a link already given to another entry is no
    evidence (some feeds give every entry one link), nor is a site's home
    page; those entries join by their text alone (:class:`StoryIndex`).

    Text: an entry joins a story by its text (:func:`~notifier.stories.same_story`)
    only if the story has an entry of another feed, or one of this feed with
    the same title (case and spaces aside): a feed does not tell one story twice
    in other words, one feed's entries often share a stock summary that would
    make them look alike, and two items a feed gives their own ids and links
    ("Rare earth late A", "… late B") are two alerts rather than one missed."""

    def __init__(self, window: timedelta = timedelta(hours=48)) -> None:
        self.window = window
        self.index = StoryIndex(window)
        self.loaded = False
        self._expired: datetime | None = None
        self._links: dict[str, tuple[int, str, datetime]] = {}  # canonical -> story, feed, at
        self._order: deque[tuple[datetime, str]] = deque()
        self._latest: datetime | None = None
        # story -> the feeds of its first entries; when it was last added to
        self._members: dict[int, list[str]] = {}
        self._headlines: dict[tuple[str, str], tuple[int, datetime]] = {}
        self._titled: deque[tuple[datetime, tuple[str, str]]] = deque()
        self._last: dict[int, datetime] = {}
        self._stories: deque[tuple[datetime, int]] = deque()
        self._merged: dict[int, int] = {}  # story -> the story it became part of
        self._loading: asyncio.Future[int] | None = None

    def load_in_background(self, records: Sequence[EntryRecord]) -> None:
        """Index ``records`` in a worker thread; polls that record entries wait for it
        (:meth:`ready`), everything else (fetching, parsing, reminders) goes on."""
        self._loading = asyncio.ensure_future(asyncio.to_thread(self.fill, records))

    async def ready(self) -> None:
        """Return once a background load (if any) has finished."""
        if self._loading is None:
            return
        try:
            await asyncio.shield(self._loading)
        except Exception:  # the poll goes on; the index is rebuilt at its save
            log.exception("story index could not be loaded from history; retrying")
            self.reset()

    def reset(self) -> None:
        """Forget everything: the book is loaded from history again at the next save."""
        self.__init__(self.window)  # type: ignore[misc]  # one place lists the state

    def load(self, history: HistoryStore, now: datetime) -> int:
        """Index the entries of the last window from ``history``; how many."""
        return self.fill(history.recent_entries(now - self.window))

    def fill(self, records: Sequence[EntryRecord]) -> int:
        """Index ``records`` (oldest first); how many. Pure CPU work: the daemon runs it
        in a thread before any poll starts."""
        count = 0
        for record in records:
            if record.story is None:
                continue
            prepared = Prepared(
                record.canonical,
                signature(record.title, record.summary),
                record.text_hash,
                headline(record.title),
            )
            self._add(record.story, record.feed, prepared, record.seen)
            count += 1
        self.loaded = True
        return count

    def find(self, feed: str, prepared: Prepared, at: datetime) -> Joined | None:
        """The story an entry of ``feed`` seen at ``at`` joins, and why; None: a new one.

        When the entry joins one story by its link and its text is that of another
        (found apart: a translation and a rewrite of one article, each recorded
        before the entry that carries both), the answer says so (``absorbs``): the
        two are one story from now on."""
        # Polls run concurrently: one that read its clock earlier may record after
        # another; entries recorded "later" than ``at`` by that much still count.
        at = max(at, self._latest) if self._latest is not None else at
        if self._expired is None or at - self._expired >= EXPIRE_EVERY:
            self._expire(at - self.window)
            self._expired = at
        canonical = prepared.canonical
        by_link: Joined | None = None
        if specific(canonical):
            assert canonical is not None  # noqa: S101 - specific() said so
            known = self._links.get(canonical)
            if known is not None and known[1] != feed and at - known[2] <= self.window:
                by_link = Joined(self.resolve(known[0]), "same link")
        if by_link is None and prepared.headline:
            again = self._headlines.get((feed, prepared.headline))
            if again is not None and at - again[1] <= self.window:
                return Joined(self.resolve(again[0]), "the same title again in this feed")
        found = self.index.find(None, prepared.signature, at)
        by_text = None
        if found is not None:
            story = self.resolve(found[0])
            if any(other != feed for other in self._members.get(story, ())):
                by_text = Joined(story, found[1])
        if by_link is None:
            return by_text
        if by_text is not None and by_text.story != by_link.story:
            return Joined(by_link.story, by_link.reason, absorbs=by_text.story)
        return by_link

    def resolve(self, story: int) -> int:
        """The story ``story`` became part of (itself when never merged)."""
        while story in self._merged:
            story = self._merged[story]
        return story

    def merge(self, into: int, other: int) -> None:
        """Story ``other`` is part of ``into`` from now on."""
        if into != other:
            self._merged[other] = into
            self._members.setdefault(into, []).extend(self._members.pop(other, ()))

    def add(self, story: int, feed: str, prepared: Prepared, at: datetime) -> None:
        self._add(story, feed, prepared, at)

    def _add(self, story: int, feed: str, prepared: Prepared, at: datetime) -> None:
        canonical, sig, title = prepared.canonical, prepared.signature, prepared.headline
        self.index.add(story, None, sig, at)
        members = self._members.setdefault(story, [])
        if len(members) < MEMBERS_KEPT:
            members.append(feed)
        if title:
            self._headlines.setdefault((feed, title), (story, at))
            self._titled.append((at, (feed, title)))
        self._last[story] = at
        self._stories.append((at, story))
        if self._latest is None or at > self._latest:
            self._latest = at
        if specific(canonical):
            assert canonical is not None  # noqa: S101
            self._links.setdefault(canonical, (story, feed, at))
            self._order.append((at, canonical))

    def _expire(self, before: datetime) -> None:
        self.index.expire(before)
        while self._order and self._order[0][0] < before:
            _, canonical = self._order.popleft()
            known = self._links.get(canonical)
            if known is not None and known[2] < before:
                del self._links[canonical]
        while self._titled and self._titled[0][0] < before:
            _, titled = self._titled.popleft()
            seen = self._headlines.get(titled)
            if seen is not None and seen[1] < before:
                del self._headlines[titled]
        while self._stories and self._stories[0][0] < before:
            _, story = self._stories.popleft()
            last = self._last.get(story)
            if last is not None and last < before:
                del self._last[story]
                self._members.pop(story, None)
                self._merged.pop(story, None)


@dataclass(slots=True)
class PollStories:
    """What one poll hands the story stage (see the module docstring)."""

    feed: Feed
    new: Sequence[Entry] = ()  # entries new to the feed, to record (in feed order)
    #: Entries of a feed's first poll that do not alert: recorded in history, each its
    #: own story, not indexed (they never alerted, so no later entry is kept silent by
    #: joining them; and a first poll of many feeds stays cheap).
    silent: Sequence[Entry] = ()
    matches: Sequence[Match] = ()  # the matches of new entries
    edited: Sequence[tuple[Entry, EntryRecord]] = ()  # (the entry now, as history has it)
    edit_matches: Sequence[Match] = ()  # the edited entries' matches, on their new text
    prepared: Mapping[str, Prepared] = field(default_factory=dict)  # by entry key
    #: When a ``silent`` entry was first seen, when not at this poll (by key): the
    #: entries of a key-only first poll, recorded at a later parse of their feed.
    seen_at: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoryOutcome:
    """The matches that alert, with the notes for their messages (by feed and key)."""

    alerting: tuple[Match, ...] = ()
    notes: dict[tuple[str, str], StoryNote] = field(default_factory=dict)
    sources: int = 0  # matches attached to a story already alerted, silently
    edits: int = 0  # edits recorded
    edit_alerts: int = 0  # of which alerting
    placed: dict[str, int] = field(default_factory=dict)  # new entry key -> its story


def _terms(match: Match) -> tuple[str, ...]:
    return tuple(dict.fromkeys(h.term for h in match.hits))


def _record(
    feed: Feed, entry: Entry, prepared: Prepared, now: datetime, story: int | None
) -> EntryRecord:
    return EntryRecord(
        feed=feed.name,
        key=entry.key,
        title=entry.title[:TITLE_KEPT],
        summary=_summary(entry),
        link=entry.link,
        canonical=prepared.canonical,
        published=entry.published or entry.updated,
        seen=now,
        text_hash=prepared.text_hash,
        story=story,
    )


def record(
    history: HistoryStore,
    book: StoryBook,
    work: PollStories,
    watches: Mapping[str, Watch],
    now: datetime,
) -> StoryOutcome:
    """Record the poll's new entries, matches and edits in ``history`` and decide which
    matches alert. Call inside the poll's transaction."""
    feed = work.feed
    ids: dict[str, int] = {}
    stories: dict[str, tuple[int, bool]] = {}  # key -> (story, joined an existing one)
    # The matched entries are placed first; past PLACED_PER_POLL, the others are
    # recorded each as its own story (a flood of thousands of new entries must not
    # hold the event loop for seconds looking up stories).
    matched = {m.entry.key for m in work.matches}
    ordered = sorted(work.new, key=lambda e: e.key not in matched)
    for rank, entry in enumerate(ordered):
        prepared = work.prepared.get(entry.key) or prepare(entry)
        if rank >= PLACED_PER_POLL and entry.key not in matched:
            (entry_id,) = history.add_entries([_record(feed, entry, prepared, now, None)])
            ids[entry.key] = entry_id
            stories[entry.key] = (entry_id, False)
            continue
        joined = book.find(feed.name, prepared, now)
        if joined is not None and joined.absorbs is not None:
            history.merge_stories(joined.story, joined.absorbs)
            book.merge(joined.story, joined.absorbs)
        (entry_id,) = history.add_entries(
            [_record(feed, entry, prepared, now, joined.story if joined else None)]
        )
        story = joined.story if joined else entry_id
        book.add(story, feed.name, prepared, now)
        ids[entry.key] = entry_id
        stories[entry.key] = (story, joined is not None)

    if work.silent:
        history.add_silent(
            feed.name,
            [
                _record(
                    feed,
                    e,
                    work.prepared.get(e.key) or prepare_light(e),
                    work.seen_at.get(e.key, now),
                    None,
                )
                for e in work.silent
            ],
        )

    alerting: list[Match] = []
    notes: dict[tuple[str, str], StoryNote] = {}
    records: list[MatchRecord] = []
    silent = 0
    alerted_now: dict[int, set[str]] = {}  # watches alerted per story in this poll
    by_entry: dict[str, list[Match]] = {}
    for m in work.matches:
        if m.entry.key in ids and m.watch in watches:
            by_entry.setdefault(m.entry.key, []).append(m)
    for key, found in by_entry.items():
        story, existing = stories[key]
        before = history.story_watches(story) if existing else set()
        before |= alerted_now.setdefault(story, set())
        kinds: list[MatchKind] = []
        reasons: list[str] = []
        for m in found:
            kind: MatchKind
            if m.watch not in before:
                kind = "match"
            elif feed.official:
                kind = "update"
                reasons.append(f"official source {feed.title or feed.name}")
            elif watches[m.watch].updates == "all":
                kind = "update"
                reasons.append(f"{m.watch} alerts every source (updates: all)")
            else:
                kind = "source"
                silent += 1
            kinds.append(kind)
            records.append(MatchRecord(ids[key], story, m.watch, m.explain(), _terms(m), now, kind))
            if kind != "source":
                alerting.append(m)
                alerted_now[story].add(m.watch)
        if any(k != "source" for k in kinds):
            sources, first_seen, updates = 1, now, 0
            if existing:
                told = history.story(story)
                if told is not None:
                    sources, first_seen = len(told.entries), told.first_seen
                    updates = sum(1 for r in told.matches if r.kind in ("update", "edit"))
            notes[(feed.name, key)] = StoryNote(
                story=story,
                change="match" if "match" in kinds else "update",
                sources=sources,
                first_seen=first_seen,
                reason="; ".join(dict.fromkeys(reasons)),
                updates=updates,
            )

    edits = edit_alerts = 0
    if work.edited:
        old_matches = history.matches_for(feed.name, [e.key for e, _ in work.edited])
        new_matches: dict[str, dict[str, Match]] = {}
        for m in work.edit_matches:
            new_matches.setdefault(m.entry.key, {})[m.watch] = m
        for entry, stored in work.edited:
            assert stored.id is not None  # noqa: S101 - read from the store
            prepared = work.prepared.get(entry.key) or prepare(entry)
            title, summary = entry.title[:TITLE_KEPT], _summary(entry)
            before_terms: dict[str, list[str]] = {}
            for r in old_matches.get(entry.key, []):
                before_terms.setdefault(r.watch, []).extend(r.terms)
            now_found = new_matches.get(entry.key, {})
            diff = ""
            why: list[str] = []
            alerts: list[Match] = []
            for name in dict.fromkeys([*before_terms, *now_found]):
                watch = watches.get(name)
                if watch is None:
                    continue
                hit = now_found.get(name)
                decision = decide_edit(
                    stored.title,
                    stored.summary,
                    title,
                    summary,
                    old_terms=before_terms.get(name, ()),
                    new_terms=_terms(hit) if hit else (),
                    policy=watch.edits,
                )
                if not decision.changed:
                    continue
                diff = diff or decision.diff
                if decision.alert:
                    alerts.append(hit or Match(name, entry, ()))
                    why.append(decision.reason)
            story = stored.story if stored.story is not None else stored.id
            history.record_edit(
                stored.id,
                title=title,
                summary=summary,
                text_hash=prepared.text_hash,
                at=now,
                diff=diff,
                alerted=bool(alerts),
            )
            edits += 1
            for m in alerts:
                records.append(
                    MatchRecord(stored.id, story, m.watch, m.explain(), _terms(m), now, "edit")
                )
            if alerts:
                edit_alerts += 1
                alerting.extend(alerts)
                notes[(feed.name, entry.key)] = StoryNote(
                    story=story,
                    change="edit",
                    sources=history.story_sources(story),
                    first_seen=stored.seen,
                    reason="; ".join(dict.fromkeys(why)),
                    diff=diff,
                    revision=text_hash(title, summary)[3:19],
                )
    history.record_matches(records)
    placed = {key: story for key, (story, _) in stories.items()}
    return StoryOutcome(tuple(alerting), notes, silent, edits, edit_alerts, placed)
