"""The history tables in SQLite: entries, their stories, matches, edits and search.

::

    add_entries ────▶ entries       one row per (feed, key), first write wins; ``story``
                                    is the id of the story's first entry (a new story's
                                    own id); ids are AUTOINCREMENT, never reused
                      entries_fts   a contentless FTS5 index of title + summary
                                    (rowid = entries.id; text from storage/search.py)
    record_edit ────▶ edits         the old title and summary, the word diff; the entry
                                    gets the new text, re-indexed, and ``changed``
    record_matches ─▶ matches       one row per (entry, watch, what came of it)
    prune_history ──▶ entries older than ``keep`` go, with their edits and index rows,
                      unless a match younger than ``retention`` holds them; matches
                      older than ``retention`` go. In batches: a call is bounded,
                      and ends with a bounded merge of the index (FTS_MERGE_PAGES).

**Why contentless.** The index needs no copy of the text (the entries table has
it), and the indexed text is derived (CJK bigrams), so an external-content
table could not ``rebuild`` from ``entries`` anyway. SQLite before 3.43 cannot
delete a contentless row by rowid, so a row is deleted by handing FTS5 the text
it indexed again (:func:`~notifier.storage.search.index_text` of the stored
title and summary). Should that ever differ, the leftover terms point at an id
that no longer exists (or at the same entry, for an edit): searches join the
index with ``entries``, so a stale term finds nothing that is gone. Measured
sizes: ``bench/results/history.md``.

**Time.** Timestamps are stored as UTC ISO 8601 text with microseconds, one
fixed width, so text order is time order.

Writes go inside ``store.transaction()``; every read is one or a few indexed
statements, bounded by the ``limit`` or the period asked for.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from notifier.errors import InvalidSearch
from notifier.model import EditRecord, EntryRecord, MatchKind, MatchRecord, Story
from notifier.storage.dbapi import Connection
from notifier.storage.search import fts_query, index_text

#: Longest title and summary stored (the caller caps them too).
TITLE_MAX: Final = 500
SUMMARY_MAX: Final = 2000
#: Rows deleted per table by one :meth:`SqliteHistory.prune_history` call.
PRUNE_BATCH: Final = 5000
#: Entries added to the search index per call of :meth:`SqliteHistory.index_pending`.
INDEX_BATCH: Final = 2000
#: Index pages one prune merges at most: a contentless FTS5 table keeps a deleted row's
#: terms (as delete markers) until its segments are merged, so without this the index
#: grew to 2.5 times its live size under daily pruning (bench/history_size.py).
FTS_MERGE_PAGES: Final = 500
#: The kinds of match that alerted (a later source does not alert again for them).
ALERTED_KINDS: Final = ("match", "update", "edit", "replay")
#: Most periods one :meth:`SqliteHistory.feed_activity` call counts over.
ACTIVITY_PERIODS: Final = 31
_CHUNK: Final = 500
_PAGE: Final = 1000
_ENTRY_COLUMNS: Final = (
    "id, feed, key, title, summary, link, canonical, published, seen, changed, text_hash, story"
)


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _opt_ts(value: datetime | None) -> str | None:
    return None if value is None else _ts(value)


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _opt_dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _entry(row: Sequence[Any]) -> EntryRecord:
    return EntryRecord(
        id=row[0],
        feed=row[1],
        key=row[2],
        title=row[3],
        summary=row[4],
        link=row[5],
        canonical=row[6],
        published=_opt_dt(row[7]),
        seen=_dt(row[8]),
        changed=_opt_dt(row[9]),
        text_hash=row[10],
        story=row[11],
    )


def _match(row: Sequence[Any]) -> MatchRecord:
    kind: MatchKind = row[6]
    return MatchRecord(
        entry=row[0],
        story=row[1],
        watch=row[2],
        why=row[3],
        terms=tuple(json.loads(row[4])),
        at=_dt(row[5]),
        kind=kind,
    )


def _edit(row: Sequence[Any]) -> EditRecord:
    return EditRecord(
        entry=row[0],
        at=_dt(row[1]),
        old_title=row[2],
        old_summary=row[3],
        diff=row[4],
        alerted=bool(row[5]),
    )


def _chunks(values: Sequence[Any]) -> Iterator[tuple[Sequence[Any], str]]:
    """``values`` in slices SQLite takes as host parameters, with their ``?`` marks."""
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        yield chunk, ",".join("?" * len(chunk))


class SqliteHistory:
    """The history tables of the state store (see the module docstring)."""

    def __init__(self, db: Connection) -> None:
        self.db = db

    # ------------------------------------------------------------------ the index

    # The four methods below are the only ones that know the index is FTS5; the
    # PostgreSQL history (notifier.storage.postgres) overrides them.

    def _index(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Add (id, title, summary) rows to the index."""
        self.db.executemany(
            "INSERT INTO entries_fts(rowid, text) VALUES (?, ?)",
            [(entry, index_text(title, summary)) for entry, title, summary in rows],
        )

    def _unindex(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Remove (id, title, summary) rows from the contentless index."""
        self.db.executemany(
            "INSERT INTO entries_fts(entries_fts, rowid, text) VALUES ('delete', ?, ?)",
            [(entry, index_text(title, summary)) for entry, title, summary in rows],
        )

    def _merge_index(self) -> None:
        """A bounded step of an incremental "optimize": drops the delete markers."""
        self.db.execute(
            "INSERT INTO entries_fts(entries_fts, rank) VALUES ('merge', ?)",
            (-FTS_MERGE_PAGES,),
        )

    def _search(self, search: str) -> tuple[str, Any]:
        """The condition on ``e.id`` for a user's search, and its one parameter."""
        return (
            "e.id IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?)",
            fts_query(search),
        )

    def index_pending(self, limit: int = INDEX_BATCH) -> int:
        """Add up to ``limit`` entries not yet searchable to the search index, oldest
        first; how many (``limit``: call again). Entries are indexed after they are
        recorded, in batches, so a poll never pays for the index."""
        rows = self.db.execute(
            "SELECT id, title, summary FROM entries WHERE indexed = 0 ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
        if not rows:
            return 0
        self._index(rows)
        for chunk, marks in _chunks([row[0] for row in rows]):
            self.db.execute(f"UPDATE entries SET indexed = 1 WHERE id IN ({marks})", chunk)  # noqa: S608
        return len(rows)

    # ------------------------------------------------------------------ entries

    def add_entries(self, records: Sequence[EntryRecord]) -> list[int]:
        """Store entries; their ids in order (an entry already stored keeps its row)."""
        ids: list[int] = []
        for r in records:
            title, summary = r.title[:TITLE_MAX], r.summary[:SUMMARY_MAX]
            cursor = self.db.execute(
                "INSERT INTO entries(feed, key, title, summary, link, canonical, "
                "published, seen, changed, text_hash, story) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (
                    r.feed,
                    r.key,
                    title,
                    summary,
                    r.link,
                    r.canonical,
                    _opt_ts(r.published),
                    _ts(r.seen),
                    _opt_ts(r.changed),
                    r.text_hash,
                    r.story if r.story is not None else 0,
                ),
            )
            added = cursor.fetchall()
            if not added:
                row = self.db.execute(
                    "SELECT id FROM entries WHERE feed=? AND key=?", (r.feed, r.key)
                ).fetchone()
                ids.append(int(row[0]))
                continue
            entry = int(added[0][0])  # an INSERT that added a row: its id
            if r.story is None:
                self.db.execute("UPDATE entries SET story=id WHERE id=?", (entry,))
            ids.append(entry)  # indexed for search later: index_pending()
        return ids

    def add_silent(self, feed: str, records: Sequence[EntryRecord]) -> None:
        """Store entries of ``feed`` each as its own story, in two statements (a first
        poll records thousands; their ids are not needed). Same rows as :meth:`add_entries`
        with ``story=None``; an entry already stored keeps its row."""
        self.db.executemany(
            "INSERT INTO entries(feed, key, title, summary, link, canonical, "
            "published, seen, changed, text_hash, story) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
            [
                (
                    feed,
                    r.key,
                    r.title[:TITLE_MAX],
                    r.summary[:SUMMARY_MAX],
                    r.link,
                    r.canonical,
                    _opt_ts(r.published),
                    _ts(r.seen),
                    _opt_ts(r.changed),
                    r.text_hash,
                )
                for r in records
            ],
        )
        # Only rows just inserted have story 0 (add_entries sets it at once too).
        self.db.execute("UPDATE entries SET story=id WHERE feed=? AND story=0", (feed,))

    def entries_by_key(self, feed: str, keys: Iterable[str]) -> dict[str, EntryRecord]:
        """The stored entries of ``feed`` among ``keys``, by key."""
        found: dict[str, EntryRecord] = {}
        for chunk, marks in _chunks(list(dict.fromkeys(keys))):
            for row in self.db.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE feed=? AND key IN ({marks})",  # noqa: S608
                (feed, *chunk),
            ):
                found[row[2]] = _entry(row)
        return found

    def recent_entries(self, since: datetime) -> list[EntryRecord]:
        """Entries first seen at or after ``since``, oldest first."""
        return list(self._entries_from(since, None))

    def entries_after(self, after: int, limit: int = 1000) -> list[EntryRecord]:
        """Up to ``limit`` entries with an id above ``after``, by id."""
        rows = self.db.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE id > ? ORDER BY id LIMIT ?",  # noqa: S608
            (after, limit),
        ).fetchall()
        return [_entry(row) for row in rows]

    def last_entry_id(self) -> int:
        """The highest entry id (0: none)."""
        row = self.db.execute("SELECT MAX(id) FROM entries").fetchone()
        return int(row[0] or 0) if row else 0

    def entries_between(self, since: datetime, until: datetime) -> Iterator[EntryRecord]:
        """Entries first seen in [since, until), oldest first, read a page at a time."""
        return self._entries_from(since, until)

    def _entries_from(self, since: datetime, until: datetime | None) -> Iterator[EntryRecord]:
        # Keyset pages: no cursor stays open across the caller's own statements.
        after: tuple[str, int] = (_ts(since), 0)
        end = _ts(until) if until is not None else "9999"
        while True:
            rows = self.db.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM entries "  # noqa: S608 - constant columns
                "WHERE seen >= ? AND seen < ? AND (seen > ? OR id > ?) "
                "ORDER BY seen, id LIMIT ?",
                (after[0], end, after[0], after[1], _PAGE),
            ).fetchall()
            for row in rows:
                yield _entry(row)
            if len(rows) < _PAGE:
                return
            after = (rows[-1][8], rows[-1][0])

    def story_of_link(self, canonical: str, since: datetime) -> int | None:
        """The story of the latest entry with this canonical link first seen at or after
        ``since`` (None if there is none)."""
        row = self.db.execute(
            "SELECT story FROM entries WHERE canonical=? AND seen >= ? "
            "ORDER BY seen DESC, id DESC LIMIT 1",
            (canonical, _ts(since)),
        ).fetchone()
        return None if row is None else int(row[0])

    def record_edit(
        self,
        entry: int,
        *,
        title: str,
        summary: str,
        text_hash: str,
        at: datetime,
        diff: str,
        alerted: bool,
    ) -> None:
        """Keep the old text in ``edits``; store (and re-index) the new; ``changed=at``."""
        row = self.db.execute(
            "SELECT title, summary, indexed FROM entries WHERE id=?", (entry,)
        ).fetchone()
        if row is None:
            return  # pruned meanwhile: nothing to change
        old_title, old_summary, indexed = row
        title, summary = title[:TITLE_MAX], summary[:SUMMARY_MAX]
        self.db.execute(
            "INSERT INTO edits(entry, at, old_title, old_summary, diff, alerted) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (entry, _ts(at), old_title, old_summary, diff, int(alerted)),
        )
        self.db.execute(
            "UPDATE entries SET title=?, summary=?, text_hash=?, changed=? WHERE id=?",
            (title, summary, text_hash, _ts(at), entry),
        )
        if indexed:
            self._unindex([(entry, old_title, old_summary)])
            self._index([(entry, title, summary)])

    # ------------------------------------------------------------------ matches

    def record_matches(self, records: Sequence[MatchRecord]) -> None:
        """Record which watches matched which stored entries, and what came of it."""
        self.db.executemany(
            "INSERT INTO matches(entry, story, watch, why, terms, at, kind) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    m.entry,
                    m.story,
                    m.watch,
                    m.why,
                    json.dumps(list(m.terms), ensure_ascii=False),
                    _ts(m.at),
                    m.kind,
                )
                for m in records
            ],
        )

    def matches_for(self, feed: str, keys: Iterable[str]) -> dict[str, list[MatchRecord]]:
        """The recorded matches of these entries of ``feed``, by key, oldest first."""
        found: dict[str, list[MatchRecord]] = {}
        for chunk, marks in _chunks(list(dict.fromkeys(keys))):
            for row in self.db.execute(
                "SELECT m.entry, m.story, m.watch, m.why, m.terms, m.at, m.kind, e.key "  # noqa: S608
                "FROM entries e JOIN matches m ON m.entry = e.id "
                f"WHERE e.feed=? AND e.key IN ({marks}) ORDER BY m.at, m.rowid",
                (feed, *chunk),
            ):
                found.setdefault(row[7], []).append(_match(row))
        return found

    def matched_keys(self, feed: str, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` (of ``feed``) have at least one recorded match."""
        found: set[str] = set()
        for chunk, marks in _chunks(list(dict.fromkeys(keys))):
            found.update(
                row[0]
                for row in self.db.execute(
                    f"SELECT e.key FROM entries e WHERE e.feed=? AND e.key IN ({marks}) "  # noqa: S608
                    "AND EXISTS (SELECT 1 FROM matches m WHERE m.entry = e.id)",
                    (feed, *chunk),
                )
            )
        return found

    def story_watches(self, story: int) -> set[str]:
        """Watches recorded as alerted (match, update, edit, replay) for ``story``."""
        marks = ",".join("?" * len(ALERTED_KINDS))
        return {
            row[0]
            for row in self.db.execute(
                f"SELECT DISTINCT watch FROM matches WHERE story=? AND kind IN ({marks})",  # noqa: S608
                (story, *ALERTED_KINDS),
            )
        }

    def merge_stories(self, into: int, other: int) -> int:
        """Make story ``other`` part of story ``into``; how many entries moved."""
        if into == other:
            return 0
        moved = self.db.execute("UPDATE entries SET story=? WHERE story=?", (into, other)).rowcount
        self.db.execute("UPDATE matches SET story=? WHERE story=?", (into, other))
        return int(moved)

    def story_sources(self, story: int) -> int:
        """How many entries the story has."""
        row = self.db.execute("SELECT COUNT(*) FROM entries WHERE story=?", (story,)).fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ stories

    def stories(
        self,
        *,
        since: datetime,
        until: datetime | None = None,
        watch: str | None = None,
        feed: str | None = None,
        search: str | None = None,
        matched_only: bool = True,
        limit: int = 100,
    ) -> list[Story]:
        """Stories with an entry first seen in [since, until), newest ``last_seen`` first.

        Raises :class:`~notifier.errors.InvalidSearch` for a ``search`` with nothing
        to search for, or too long (:func:`~notifier.storage.search.fts_query`)."""
        where = ["e.seen >= ?"]
        params: list[Any] = [_ts(since)]
        if until is not None:
            where.append("e.seen < ?")
            params.append(_ts(until))
        if feed is not None:
            where.append("e.feed = ?")
            params.append(feed)
        if search is not None:
            clause, param = self._search(search)
            where.append(clause)
            params.append(param)
        if watch is not None:
            where.append("EXISTS (SELECT 1 FROM matches m WHERE m.story = e.story AND m.watch = ?)")
            params.append(watch)
        elif matched_only:
            where.append("EXISTS (SELECT 1 FROM matches m WHERE m.story = e.story)")
        sql = (
            "SELECT e.story, (SELECT MAX(x.seen) FROM entries x WHERE x.story = e.story) AS last "  # noqa: S608 - clauses are constants, values are parameters
            f"FROM entries e WHERE {' AND '.join(where)} "
            "GROUP BY e.story ORDER BY last DESC, e.story DESC LIMIT ?"
        )
        try:
            ids = [row[0] for row in self.db.execute(sql, (*params, max(0, limit)))]
        except sqlite3.OperationalError as e:
            if search is not None and "fts5" in str(e):
                raise InvalidSearch(f"cannot search for {search[:40]!r}: {e}") from e
            raise
        return self._load(ids)

    def story(self, story_id: int) -> Story | None:
        """One story with its entries, matches and edits (None if none of it is stored)."""
        found = self._load([story_id])
        return found[0] if found else None

    def _load(self, ids: Sequence[int]) -> list[Story]:
        """The stories ``ids``, in that order (those with no entry left are skipped)."""
        entries: dict[int, list[EntryRecord]] = {}
        matches: dict[int, list[MatchRecord]] = {}
        edits: dict[int, list[EditRecord]] = {}
        for chunk, marks in _chunks(list(ids)):
            for row in self.db.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE story IN ({marks}) "  # noqa: S608
                "ORDER BY seen, id",
                chunk,
            ):
                entries.setdefault(row[11], []).append(_entry(row))
            for row in self.db.execute(
                "SELECT entry, story, watch, why, terms, at, kind FROM matches "  # noqa: S608
                f"WHERE story IN ({marks}) ORDER BY at, rowid",
                chunk,
            ):
                matches.setdefault(row[1], []).append(_match(row))
            for row in self.db.execute(
                "SELECT d.entry, d.at, d.old_title, d.old_summary, d.diff, d.alerted, e.story "  # noqa: S608
                "FROM edits d JOIN entries e ON e.id = d.entry "
                f"WHERE e.story IN ({marks}) ORDER BY d.at, d.rowid",
                chunk,
            ):
                edits.setdefault(row[6], []).append(_edit(row))
        stories = []
        for story_id in ids:
            members = entries.get(story_id)
            if not members:
                continue
            stories.append(
                Story(
                    id=story_id,
                    title=members[0].title,
                    first_seen=members[0].seen,
                    last_seen=max(e.seen for e in members),
                    entries=tuple(members),
                    matches=tuple(matches.get(story_id, ())),
                    edits=tuple(edits.get(story_id, ())),
                )
            )
        return stories

    # ------------------------------------------------------------------ upkeep

    def prune_history(
        self,
        *,
        keep: timedelta,
        retention: timedelta,
        now: datetime,
        batch: int = PRUNE_BATCH,
    ) -> int:
        """Forget old history, at most ``batch`` matches and ``batch`` entries a call.

        Matches older than ``retention`` go; entries first seen before
        ``now - keep`` go with their edits and index rows, unless a match younger
        than ``retention`` holds them. Returns the entries and matches deleted
        (``batch`` or more: call again)."""
        cursor = self.db.execute(
            "DELETE FROM matches WHERE rowid IN "
            "(SELECT rowid FROM matches WHERE at < ? ORDER BY at LIMIT ?)",
            (_ts(now - retention), batch),
        )
        deleted = cursor.rowcount
        doomed = self.db.execute(
            "SELECT e.id, e.title, e.summary, e.indexed FROM entries e WHERE e.seen < ? "
            "AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.entry = e.id) "
            "ORDER BY e.seen LIMIT ?",
            (_ts(now - keep), batch),
        ).fetchall()
        if doomed:
            self._unindex([(i, title, summary) for i, title, summary, indexed in doomed if indexed])
            for chunk, marks in _chunks([row[0] for row in doomed]):
                self.db.execute(f"DELETE FROM edits WHERE entry IN ({marks})", chunk)  # noqa: S608
                deleted += self.db.execute(
                    f"DELETE FROM entries WHERE id IN ({marks})",  # noqa: S608
                    chunk,
                ).rowcount
            self._merge_index()
        return deleted

    def feed_activity(self, bounds: Sequence[datetime]) -> dict[str, list[tuple[int, int]]]:
        """Per feed, per period ``[bounds[i], bounds[i+1])``: the entries first seen and
        the matches recorded, as ``(entries, matches)``; feeds with none are left out.

        Two grouped range scans, on ``entries_seen`` and ``matches_at``, bounded by the
        periods asked for (the web page's sparklines: 7 days), not by the whole
        history. A row's period is found by comparing its fixed-width UTC text with
        the bounds' (a ``CASE`` of at most :data:`ACTIVITY_PERIODS` steps: cheaper than
        SQLite's date functions, and exact across a DST change, since the bounds are
        the caller's midnights)."""
        if len(bounds) < 2:
            return {}
        if len(bounds) > ACTIVITY_PERIODS + 1:
            raise ValueError(f"at most {ACTIVITY_PERIODS} periods, not {len(bounds) - 1}")
        stamps = [_ts(b) for b in bounds]
        periods = len(stamps) - 1
        counts: dict[str, list[tuple[int, int]]] = {}

        def bucket(column: str) -> str:
            steps = " ".join(f"WHEN {column} < ? THEN {i}" for i in range(periods - 1))
            return f"CASE {steps} ELSE {periods - 1} END" if steps else "0"

        middle = stamps[1:-1]
        for kind, sql in enumerate(
            (
                f"SELECT feed, {bucket('seen')}, COUNT(*) FROM entries "  # noqa: S608 - built from constants
                "WHERE seen >= ? AND seen < ? GROUP BY 1, 2",
                f"SELECT e.feed, {bucket('m.at')}, COUNT(*) FROM matches m "  # noqa: S608
                "JOIN entries e ON e.id = m.entry WHERE m.at >= ? AND m.at < ? GROUP BY 1, 2",
            )
        ):
            for feed, period, count in self.db.execute(sql, (*middle, stamps[0], stamps[-1])):
                row = counts.setdefault(feed, [(0, 0)] * periods)
                entries, matches = row[period]
                row[period] = (int(count), matches) if kind == 0 else (entries, int(count))
        return counts

    def history_counts(self, since: datetime) -> dict[str, int]:
        """Entries, stories, matched stories, matches and edits since ``since``; all entries."""
        stamp = _ts(since)
        entries, stories = self.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT story) FROM entries WHERE seen >= ?", (stamp,)
        ).fetchone()
        matches, matched = self.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT story) FROM matches WHERE at >= ?", (stamp,)
        ).fetchone()
        (edits,) = self.db.execute("SELECT COUNT(*) FROM edits WHERE at >= ?", (stamp,)).fetchone()
        (total,) = self.db.execute("SELECT COUNT(*) FROM entries").fetchone()
        return {
            "entries": int(entries),
            "stories": int(stories),
            "matched_stories": int(matched),
            "matches": int(matches),
            "edits": int(edits),
            "total_entries": int(total),
        }
