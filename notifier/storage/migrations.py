"""Numbered migrations of the SQLite state: the only way the schema changes.

A store records its version in ``schema_version``. Opening it applies, in one
transaction, every step above that version, in order — a new store runs them
all from the start, so the path an old store takes is the path every new store
takes too. A store newer than :data:`LATEST` is refused, never downgraded.

Versions before this module: notifier 0.1 wrote its version (3) in
``meta(key='schema')`` and created its tables with ``IF NOT EXISTS``; step 3
below is exactly those tables, so a 0.1 store (and a new one) continue from
there. ``tests/fixtures/state-0.1/`` holds a store written by 0.1, and a test
upgrades it.

Add a step: append ``N: (statements…)`` below, bump nothing else, and add a
test that opens a store of version N-1.
"""

from __future__ import annotations

import sqlite3

#: The tables of notifier 0.1 (schema 3), exactly as it created them.
_NOTIFIER_0_1 = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feeds (
    name          TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    body_hash     TEXT,
    last_polled   TEXT,
    last_ok       TEXT,
    last_parsed   TEXT,
    failures      INTEGER NOT NULL DEFAULT 0,
    unhealthy     INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    next_poll     TEXT
);
CREATE TABLE IF NOT EXISTS seen (
    feed       TEXT NOT NULL,
    key        TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    PRIMARY KEY (feed, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    channel    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    severity   TEXT NOT NULL,
    context    TEXT NOT NULL,
    grp        TEXT,
    created    TEXT NOT NULL,
    not_before TEXT NOT NULL,
    held       TEXT,
    message_id INTEGER
);
CREATE INDEX IF NOT EXISTS alerts_queued ON alerts(channel, message_id);
CREATE TABLE IF NOT EXISTS messages (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    format       TEXT NOT NULL,
    alerts       INTEGER NOT NULL,
    composed     TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    last_error   TEXT,
    finished     TEXT,
    reported     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_status ON messages(status, channel);
CREATE TABLE IF NOT EXISTS deadlines (
    name       TEXT PRIMARY KEY,
    due        TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reminders (
    key      TEXT PRIMARY KEY,
    deadline TEXT NOT NULL,
    at       TEXT NOT NULL,
    status   TEXT NOT NULL,
    done     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reminders_deadline ON reminders(deadline);
CREATE TABLE IF NOT EXISTS deliveries (
    message_id INTEGER NOT NULL,
    url_hash   TEXT NOT NULL,
    status     TEXT NOT NULL,
    sent       TEXT,
    PRIMARY KEY (message_id, url_hash)
) WITHOUT ROWID;
"""

#: Step → the statements that take a store from the previous version to this one.
STEPS: dict[int, tuple[str, ...]] = {
    # notifier 0.1: feeds, seen entries, the outbox (alerts, messages, deliveries)
    # and the deadline book (deadlines, reminders).
    3: tuple(s.strip() for s in _NOTIFIER_0_1.split(";") if s.strip()),
    # Content fingerprints of seen entries (re-keyed feeds); a message's digest
    # reason and highest severity (rendering at send time, notify types).
    4: (
        "ALTER TABLE seen ADD COLUMN fp TEXT",
        "CREATE INDEX IF NOT EXISTS seen_fp ON seen(feed, fp) WHERE fp IS NOT NULL",
        "ALTER TABLE messages ADD COLUMN reason TEXT",
        "ALTER TABLE messages ADD COLUMN severity TEXT",
    ),
    # The version in a table of its own (it lived in meta).
    5: (
        "CREATE TABLE schema_version (version INTEGER NOT NULL)",
        "INSERT INTO schema_version(version) VALUES (4)",
        "DELETE FROM meta WHERE key='schema'",
    ),
    # History (issue 13): every polled entry with its story, the watches that matched
    # it, its edits, and a contentless full-text index of its title and summary
    # (rowid = entries.id; see storage/history.py and storage/search.py).
    6: (
        """CREATE TABLE entries (
            id        INTEGER PRIMARY KEY AUTOINCREMENT,
            feed      TEXT NOT NULL,
            key       TEXT NOT NULL,
            title     TEXT NOT NULL,
            summary   TEXT NOT NULL,
            link      TEXT,
            canonical TEXT,
            published TEXT,
            seen      TEXT NOT NULL,
            changed   TEXT,
            text_hash TEXT NOT NULL,
            story     INTEGER NOT NULL,
            indexed   INTEGER NOT NULL DEFAULT 0,
            UNIQUE (feed, key)
        )""",
        "CREATE INDEX entries_unindexed ON entries(id) WHERE indexed = 0",
        "CREATE INDEX entries_seen ON entries(seen)",
        "CREATE INDEX entries_story ON entries(story)",
        "CREATE INDEX entries_canonical ON entries(canonical) WHERE canonical IS NOT NULL",
        """CREATE TABLE matches (
            entry INTEGER NOT NULL,
            story INTEGER NOT NULL,
            watch TEXT NOT NULL,
            why   TEXT NOT NULL,
            terms TEXT NOT NULL,
            at    TEXT NOT NULL,
            kind  TEXT NOT NULL
        )""",
        "CREATE INDEX matches_entry ON matches(entry)",
        "CREATE INDEX matches_story ON matches(story, watch)",
        "CREATE INDEX matches_at ON matches(at)",
        """CREATE TABLE edits (
            entry       INTEGER NOT NULL,
            at          TEXT NOT NULL,
            old_title   TEXT NOT NULL,
            old_summary TEXT NOT NULL,
            diff        TEXT NOT NULL,
            alerted     INTEGER NOT NULL
        )""",
        "CREATE INDEX edits_entry ON edits(entry)",
        "CREATE INDEX edits_at ON edits(at)",
        "CREATE VIRTUAL TABLE entries_fts USING fts5(text, content='', "
        "tokenize='unicode61 remove_diacritics 2', detail=full)",
    ),
    # Deadline discovery (issue 14): proposals found in the news, open, accepted or
    # dismissed; ``day`` is the due day in the proposal's zone (what de-duplication
    # compares), ``terms`` its phrase's significant words (JSON).
    7: (
        """CREATE TABLE proposals (
            id         TEXT PRIMARY KEY,
            change     TEXT NOT NULL,
            kind       TEXT NOT NULL,
            name       TEXT NOT NULL,
            title      TEXT NOT NULL,
            due        TEXT NOT NULL,
            day        TEXT NOT NULL,
            all_day    INTEGER NOT NULL,
            window_end TEXT,
            timezone   TEXT NOT NULL,
            phrase     TEXT NOT NULL,
            confidence REAL NOT NULL,
            watches    TEXT NOT NULL,
            sources    TEXT NOT NULL,
            terms      TEXT NOT NULL,
            status     TEXT NOT NULL,
            deadline   TEXT,
            old_due    TEXT,
            created    TEXT NOT NULL,
            updated    TEXT NOT NULL
        )""",
        "CREATE INDEX proposals_day ON proposals(day, change, kind)",
        "CREATE INDEX proposals_status ON proposals(status, day)",
    ),
    # Each move of a tracked deadline's due time, for the web UI's deadline history.
    8: (
        """CREATE TABLE deadline_moves (
            deadline TEXT NOT NULL,
            old_due  TEXT NOT NULL,
            new_due  TEXT NOT NULL,
            at       TEXT NOT NULL
        )""",
        "CREATE INDEX deadline_moves_deadline ON deadline_moves(deadline, at)",
    ),
    # Mutes (`notifier mute`): a watch, feed or channel held until ``until``; ``ended``
    # is set by `notifier unmute` (or a newer mute of the same target). The active
    # ones are read every sender pass: a partial index keeps that one small lookup.
    9: (
        """CREATE TABLE mutes (
            id      INTEGER PRIMARY KEY,
            kind    TEXT NOT NULL,
            name    TEXT NOT NULL,
            until   TEXT NOT NULL,
            reason  TEXT,
            who     TEXT NOT NULL,
            created TEXT NOT NULL,
            ended   TEXT
        )""",
        "CREATE INDEX mutes_active ON mutes(until) WHERE ended IS NULL",
    ),
    # The morning briefs sent, by local day.
    10: (
        """CREATE TABLE briefs (
            day     TEXT PRIMARY KEY,
            sent_at TEXT NOT NULL
        ) WITHOUT ROWID""",
    ),
    # When a channel last delivered a message (``failing_since``, for fallback channels):
    # one index lookup instead of a scan of the channel's whole history.
    11: ("CREATE INDEX IF NOT EXISTS messages_finished ON messages(channel, status, finished)",),
    # Acknowledgement (`notifier ack`, a signed ack link, POST /api/ack): each alert that
    # can be acknowledged is one ``ackable`` row (its key without channel, its short id,
    # from its context, queued with it); an ack is one row per alert key, who, how and
    # when. Escalation (issue 16 section 2) reads ``acks`` to stop a ladder.
    12: (
        """CREATE TABLE IF NOT EXISTS ackable (
            alert_key TEXT PRIMARY KEY,
            ack_id    TEXT NOT NULL,
            kind      TEXT NOT NULL,
            severity  TEXT NOT NULL,
            title     TEXT NOT NULL,
            deadline  TEXT,
            story     INTEGER,
            created   TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS ackable_id ON ackable(ack_id)",
        "CREATE INDEX IF NOT EXISTS ackable_created ON ackable(created)",
        """CREATE TABLE IF NOT EXISTS acks (
            alert_key TEXT PRIMARY KEY,
            ack_id    TEXT NOT NULL,
            deadline  TEXT,
            story     INTEGER,
            who       TEXT NOT NULL,
            how       TEXT NOT NULL,
            at        TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS acks_id ON acks(ack_id)",
    ),
    # 13: escalation ladders (issue 16 section 2): the steps done per alert key, so a
    # restart neither loses nor repeats one (notifier.storage.escalations).
    13: (
        """CREATE TABLE IF NOT EXISTS escalations (
            alert_key TEXT NOT NULL,
            step      INTEGER NOT NULL,
            n         INTEGER NOT NULL,
            at        TEXT NOT NULL,
            folded    INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (alert_key, step, n)
        ) WITHOUT ROWID""",
    ),
}
#: The version this notifier writes.
LATEST = max(STEPS)


class NewerStore(Exception):
    """The store was written by a newer notifier (its version is above :data:`LATEST`)."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def version(db: sqlite3.Connection) -> int:
    """The store's schema version: 0 for an empty database."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "schema_version" in tables:
        row = db.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0
    if "meta" in tables:
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        return int(row[0]) if row else 0
    return 0


def check(db: sqlite3.Connection) -> int:
    """The store's version; raises :class:`NewerStore` if this notifier cannot read it."""
    found = version(db)
    if found > LATEST:
        raise NewerStore(found)
    return found


def migrate(db: sqlite3.Connection) -> list[int]:
    """Apply every step above the store's version, in one transaction; the steps run."""
    found = check(db)
    applied = []
    with db:
        for step in sorted(s for s in STEPS if s > found):
            for statement in STEPS[step]:
                db.execute(statement)
            applied.append(step)
        if applied:
            db.execute("UPDATE schema_version SET version=?", (applied[-1],))
    return applied
