"""The proposals table in SQLite: deadlines found in the news (:mod:`notifier.deadlines.proposals`).

One row per proposal, with its sources and its phrase's terms as JSON; ``day``
(the due day in the proposal's zone) is what de-duplication looks up. Call the
writers inside ``store.transaction()``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from notifier.model import Proposal, ProposalSource, ProposalStatus
from notifier.storage.dbapi import Connection

#: At most this many sources are kept per proposal (the count goes on).
MAX_SOURCES = 50

_COLUMNS = (
    "id, change, kind, name, title, due, all_day, window_end, timezone, phrase, confidence, "
    "watches, sources, status, deadline, old_due, created, updated, terms"
)


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _source(raw: dict[str, Any]) -> ProposalSource:
    return ProposalSource(
        feed=str(raw.get("feed", "")),
        key=str(raw.get("key", "")),
        title=str(raw.get("title", "")),
        link=raw.get("link"),
        published=_dt(raw.get("published")),
    )


def _sources_json(sources: Sequence[ProposalSource]) -> str:
    return json.dumps(
        [{**asdict(s), "published": _ts(s.published)} for s in sources], ensure_ascii=False
    )


def _row(row: tuple[Any, ...]) -> tuple[Proposal, frozenset[str]]:
    (pid, change, kind, name, title, due, all_day, window_end, zone, phrase, confidence,
     watches, sources, status, deadline, old_due, created, updated, terms) = row  # fmt: skip
    due_at = datetime.fromisoformat(due)
    proposal = Proposal(
        id=pid,
        change=change,
        kind=kind,
        name=name,
        title=title,
        due=due_at,
        all_day=bool(all_day),
        window_end=date.fromisoformat(window_end) if window_end else None,
        timezone=zone,
        phrase=phrase,
        confidence=float(confidence),
        watches=tuple(json.loads(watches)),
        sources=tuple(_source(s) for s in json.loads(sources)),
        status=status,
        deadline=deadline,
        old_due=_dt(old_due),
        created=_dt(created),
        updated=_dt(updated),
    )
    return proposal, frozenset(json.loads(terms))


class SqliteProposals:
    """The ``proposals`` table (see the module docstring)."""

    def __init__(self, db: Connection) -> None:
        self.db = db

    def for_day(self, day: date) -> list[tuple[Proposal, frozenset[str]]]:
        """Every proposal (any status) due on ``day``, with its phrase's terms."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM proposals WHERE day=? ORDER BY created",  # noqa: S608
            (day.isoformat(),),
        )
        return [_row(r) for r in rows]

    def add(self, proposal: Proposal, day: date, terms: frozenset[str]) -> str:
        """Store a new proposal; its id, made unique if another proposal has it."""
        pid = proposal.id
        taken = {
            r[0] for r in self.db.execute("SELECT id FROM proposals WHERE id LIKE ?", (pid + "%",))
        }
        n = 1
        while pid in taken:
            n += 1
            pid = f"{proposal.id}{n}"
        self.db.execute(
            f"INSERT INTO proposals({_COLUMNS}, day) VALUES "  # noqa: S608 - fixed columns
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pid,
                proposal.change,
                proposal.kind,
                proposal.name,
                proposal.title,
                proposal.due.isoformat(),
                int(proposal.all_day),
                proposal.window_end.isoformat() if proposal.window_end else None,
                proposal.timezone,
                proposal.phrase,
                proposal.confidence,
                json.dumps(list(proposal.watches), ensure_ascii=False),
                _sources_json(proposal.sources),
                proposal.status,
                proposal.deadline,
                _ts(proposal.old_due),
                _ts(proposal.created),
                _ts(proposal.updated),
                json.dumps(sorted(terms), ensure_ascii=False),
                day.isoformat(),
            ),
        )
        return pid

    def add_source(
        self, pid: str, source: ProposalSource, watches: Sequence[str], now: datetime
    ) -> bool:
        """Record a further source of ``pid`` (and the watches that found it); False when
        the proposal is gone or already has that entry."""
        row = self.db.execute(
            "SELECT sources, watches FROM proposals WHERE id=?", (pid,)
        ).fetchone()
        if row is None:
            return False
        sources = [_source(s) for s in json.loads(row[0])]
        if any(s.feed == source.feed and s.key == source.key for s in sources):
            return False
        sources.append(source)
        merged = list(dict.fromkeys([*json.loads(row[1]), *watches]))
        self.db.execute(
            "UPDATE proposals SET sources=?, watches=?, updated=? WHERE id=?",
            (
                _sources_json(sources[:MAX_SOURCES]),
                json.dumps(merged, ensure_ascii=False),
                _ts(now),
                pid,
            ),
        )
        return True

    def proposals(self, status: ProposalStatus | None = "open") -> list[Proposal]:
        """The proposals with ``status`` (None: all), soonest due first."""
        where, args = ("WHERE status=?", (status,)) if status else ("", ())
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM proposals {where} ORDER BY due, created",  # noqa: S608
            args,
        )
        return [_row(r)[0] for r in rows]

    def get(self, pid: str) -> list[Proposal]:
        """The proposal ``pid``; or the ones whose id starts with it (a unique prefix is
        enough to name one)."""
        query = f"SELECT {_COLUMNS} FROM proposals WHERE id=?"  # noqa: S608 - fixed columns
        row = self.db.execute(query, (pid,)).fetchone()
        if row is not None:
            return [_row(row)[0]]
        escaped = pid.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM proposals WHERE id LIKE ? ESCAPE '\\' LIMIT 10",  # noqa: S608
            (escaped + "%",),
        )
        return [_row(r)[0] for r in rows]

    def set_status(self, pid: str, status: ProposalStatus, now: datetime) -> None:
        self.db.execute(
            "UPDATE proposals SET status=?, updated=? WHERE id=?", (status, _ts(now), pid)
        )

    def prune(self, before: datetime, facts_before: datetime | None = None) -> int:
        """Forget proposals whose day (or window) ended before ``before`` (a day kept
        for dismissals: a dismissed deadline long past cannot come back), and facts
        recorded before ``facts_before`` (default: ``before``)."""
        day = before.date().isoformat()
        facts = _ts(facts_before or before)
        cur = self.db.execute(
            "DELETE FROM proposals WHERE (status != 'fact' AND coalesce(window_end, day) < ?) "
            "OR (status = 'fact' AND created < ?)",
            (day, facts),
        )
        return cur.rowcount
