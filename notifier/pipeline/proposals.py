"""The discovery stage of a poll: deadlines found in new entries become proposals.

::

    new entries + their matches ──Discovery.find (the matching thread: pure, bounded)──▶ candidates
    candidates ──record (the poll's transaction)──▶ new proposals ──announce──▶ "Possible …" alerts

Which entries are read (:class:`Discovery`): an entry a watch matched, for that
watch (unless its ``deadlines: off``); every new entry of a ``deadlines:
discover`` watch's feeds; and, for the possible moves of tracked deadlines,
every new entry that names one (its ``match:`` terms). A first poll's silent
entries are never read: nothing there is news.

The text read is the entry's title, summary and content (each once), the
first :data:`~notifier.deadlines.discover.MAX_TEXT` characters;
``extract`` is bounded in sentences and dates, so an entry costs at most a
few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from notifier.deadlines.discover import extract
from notifier.deadlines.proposals import (
    Candidate,
    Tracked,
    candidates,
    decide,
    names,
    proposal_id,
    tracked_candidates,
    tracked_terms,
)
from notifier.logs import get_logger
from notifier.model import Config, Deadline, Entry, Match, Proposal, ProposalSource
from notifier.storage import ProposalStore

log = get_logger("notifier.pipeline.proposals")

#: At most this many candidates are taken from one poll (each is a few statements
#: against the store in the poll's transaction).
MAX_CANDIDATES = 200

__all__ = ["Discovery", "entry_text", "record", "relevant", "tracked"]


def tracked(deadline: Deadline) -> Tracked:
    """A config deadline as the move finder sees it: its ``match:`` terms, else its
    title's significant words (at least half of them)."""
    if deadline.match_any or deadline.match_all:
        any_terms, all_terms, least = deadline.match_any, deadline.match_all, 1
    else:
        (any_terms, least), all_terms = tracked_terms(deadline.title), ()
    return Tracked(
        deadline.name,
        deadline.title,
        deadline.due,
        deadline.timezone,
        deadline.kind,
        any_terms,
        all_terms,
        least,
    )


def entry_text(entry: Entry) -> str:
    """What deadlines are looked for in: title, summary and content, each once."""
    parts = [entry.title, entry.summary]
    if entry.content and entry.content.strip() != entry.summary.strip():
        parts.append(entry.content)
    return "\n".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class Discovery:
    """What one config asks of discovery (see the module docstring)."""

    zone: ZoneInfo
    #: Watch name → its mode, for the watches that look at all.
    modes: Mapping[str, str] = field(default_factory=dict)
    #: Feed → the ``discover`` watches that read all its entries.
    readers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    zones: Mapping[str, ZoneInfo] = field(default_factory=dict)
    tracked: tuple[Tracked, ...] = ()

    @classmethod
    def of(cls, config: Config) -> Discovery:
        modes = {w.name: w.deadlines for w in config.watches if w.deadlines != "off"}
        readers: dict[str, list[str]] = {}
        for w in config.watches:
            if w.deadlines == "discover":
                for feed in w.feeds:
                    readers.setdefault(feed, []).append(w.name)
        return cls(
            zone=config.timezone,
            modes=modes,
            readers={k: tuple(v) for k, v in readers.items()},
            zones={f.name: f.timezone for f in config.feeds if f.timezone is not None},
            tracked=tuple(tracked(d) for d in config.deadlines if d.recur is None),
        )

    @property
    def active(self) -> bool:
        return bool(self.modes or self.tracked)

    def find(
        self, entries: Sequence[Entry], matches: Sequence[Match], now: datetime
    ) -> list[Candidate]:
        """The candidates in ``entries`` (a poll's new ones) given their ``matches``. Pure;
        one entry's failure is logged and skipped."""
        if not self.active:
            return []
        by_entry: dict[str, list[Match]] = {}
        for m in matches:
            if m.watch in self.modes:
                by_entry.setdefault(m.entry.key, []).append(m)
        out: list[Candidate] = []
        for entry in entries:
            if len(out) >= MAX_CANDIDATES:
                log.warning(
                    "deadline discovery stopped for this poll", feed=entry.feed, candidates=len(out)
                )
                break
            try:
                out += self._entry(entry, by_entry.get(entry.key, []), now)
            except Exception:  # one entry's bug must not stop the poll
                log.exception("deadline discovery failed for one entry", feed=entry.feed)
        return out

    def _entry(self, entry: Entry, matched: list[Match], now: datetime) -> list[Candidate]:
        text = entry_text(entry)
        watched = {m.watch for m in matched}
        readers = [w for w in self.readers.get(entry.feed, ()) if w not in watched]
        naming = [t for t in self.tracked if names(t, text)] if self.tracked else []
        if not matched and not readers and not naming:
            return []
        zone = self.zones.get(entry.feed, self.zone)
        published = entry.published or entry.updated or now
        found = extract(text, published, zone)
        if not found and not naming:  # (a cancellation of a tracked one needs no date)
            return []
        source = ProposalSource(entry.feed, entry.key, entry.title, entry.link, entry.published)
        out: list[Candidate] = []
        everyone = [m.watch for m in matched] + readers
        for t in naming:
            out += tracked_candidates(t, text, found, source=source, watches=everyone, now=now)
        # A statement that moves a tracked deadline is that move, not a new deadline too.
        moved = {c.phrase for c in out}
        for f in found:
            if f.phrase in moved:
                continue
            # A statement is a watch's when the watch's own terms are in its sentence: the
            # SEC's date in a trade article is not the trade watch's.
            watches = [m.watch for m in matched if relevant(m, f.phrase)] + readers
            if watches:
                out += candidates(
                    [f], source=source, watches=watches, zone=zone, now=now, tracked=self.tracked
                )
        return out


def relevant(match: Match, phrase: str) -> bool:
    """Whether a term the watch matched the entry with occurs in ``phrase`` (a word's
    start for Latin script, so "tariff" finds "tariffs"; anywhere for Chinese). A watch
    that matched by regular expressions only counts as relevant everywhere."""
    folded = phrase.casefold()
    plain = [h.term for h in match.hits if not (h.term.startswith("/") and h.term.endswith("/"))]
    if not plain:
        return True
    for term in plain:
        t = " ".join(term.strip("\"'").casefold().split())
        if not t:
            continue
        if not t.isascii():
            if t in folded:
                return True
        elif re.search(r"(?<![a-z0-9])" + r"\s+".join(map(re.escape, t.split())), folded):
            return True
    return False


def record(store: ProposalStore, found: Sequence[Candidate], now: datetime) -> list[Proposal]:
    """Store ``found`` (inside the poll's transaction): new proposals are added, further
    sources attached, dismissed ones dropped. Returns the new ones, to announce."""
    new: list[Proposal] = []
    for candidate in found:
        stored = store.for_day(candidate.day)
        decision = decide(candidate, stored)
        if decision.verdict == "new":
            proposal = candidate.proposal(proposal_id(candidate), now)
            pid = store.add(proposal, candidate.day, candidate.terms)
            if not candidate.fact:  # a fact is recorded, never announced
                new.append(replace(proposal, id=pid))
        elif decision.verdict in ("source", "known") and decision.of is not None:
            store.add_source(decision.of, candidate.source, candidate.watches, now)
    return new
