"""What the daemon remembers, behind small protocols: the one place with SQL is this package.

::

    State ─┬─ feed states   FeedStateStore   caching headers, health, next poll
           ├─ seen entries  SeenStore        keys and content fingerprints per feed
           ├─ .outbox       OutboxStore      alerts → messages → deliveries
           ├─ .reminders    ReminderStore    deadlines tracked, reminders recorded
           ├─ .history      HistoryStore     entries, stories, matches, edits, search
           ├─ .proposals    ProposalStore    deadlines found in the news
           ├─ .mutes        MuteStore        watches, feeds, channels muted until a time
           ├─ .acks         AckStore         alerts acknowledged: who, how, when
           └─ .escalations  EscalationStore  escalation steps done per alert

Two implementations share one SQL text (:mod:`~notifier.storage.dbapi`): SQLite,
:class:`notifier.storage.sqlite.Store` (with :mod:`~notifier.storage.outbox`,
:mod:`~notifier.storage.reminders`, :mod:`~notifier.storage.history` and the
numbered :mod:`~notifier.storage.migrations`), and PostgreSQL,
:class:`notifier.storage.postgres.PgStore` (psycopg 3, the optional extra
``notifier[postgres]``; its own :mod:`~notifier.storage.pg_migrations`; several
daemons may share it, :meth:`State.lock_feed` serialising polls of one feed).
:func:`notifier.storage.open.open_store` opens the one the settings name, and
``tests/test_storage.py`` runs against both.

**Blocking.** The store is called from the event loop, so every call is bounded:
a handful of indexed statements on a local file, never a scan that grows with
history except :meth:`OutboxStore.status` (one pass over the messages table)
and the pruning of one feed's old keys. Measured with SQLite here (2 cores,
2026-12-02): :meth:`SeenStore.known_keys` of 50 keys in a 1,000,000-key table
0.12 ms; :meth:`OutboxStore.due_messages` of 50 messages 0.4 ms,
:meth:`OutboxStore.next_due` 3.6 ms and :meth:`OutboxStore.status` 13 ms with
16,000 messages. A write transaction groups one unit of work (one poll, one
deadline check, one send); none spans an ``await``.

Errors: every method may raise :class:`notifier.errors.StateError` (the store
cannot be read or written: a full disk, a damaged file); nothing else, except
:meth:`HistoryStore.stories` with a ``search``, which raises
:class:`notifier.errors.InvalidSearch` for a search it cannot run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, Self

from notifier.model import (
    AckableAlert,
    AckHow,
    BodyFormat,
    Channel,
    ChannelStatus,
    DeadMessage,
    EntryRecord,
    FeedState,
    Held,
    MatchRecord,
    Mute,
    MuteKind,
    NewAlert,
    PendingMessage,
    Proposal,
    ProposalSource,
    ProposalStatus,
    QueuedAlert,
    Story,
)

if TYPE_CHECKING:
    from notifier.deadlines.planning import Reminder


class FeedStateStore(Protocol):
    """What is remembered of each feed between polls."""

    def feed_state(self, name: str) -> FeedState | None:
        """Feed ``name``'s state, or None for a feed never polled."""
        ...

    def feed_states(self) -> list[FeedState]:
        """Every stored feed, by name."""
        ...

    def save_feed_state(self, state: FeedState) -> None:
        """Insert or replace one feed's state (inside :meth:`State.transaction`)."""
        ...

    def touch_feeds(self, states: Iterable[FeedState]) -> None:
        """Write only the poll times of feeds whose other state did not change."""
        ...


class SeenStore(Protocol):
    """The keys (and content fingerprints) of the entries seen in each feed."""

    def known_keys(self, feed: str, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` were seen before in ``feed``."""
        ...

    def known_fingerprints(self, feed: str, fingerprints: Iterable[str]) -> set[str]:
        """Which of ``fingerprints`` belong to entries seen before in ``feed``."""
        ...

    def mark_seen(
        self,
        feed: str,
        keys: Sequence[str],
        now: datetime,
        fingerprints: Sequence[str | None] | None = None,
    ) -> None:
        """Record ``keys`` as present in ``feed`` at ``now`` (new ones first seen now)."""
        ...

    def unrecorded(self, feed: str, keys: Iterable[str], since: datetime) -> dict[str, datetime]:
        """Which of ``keys``, first seen in ``feed`` at ``since`` or later, history holds
        no entry of (their feed's first poll recorded only keys), with when first seen."""
        ...

    def prune(self, feed: str, retention: timedelta, last_parsed: datetime) -> int:
        """Forget keys absent from ``feed`` for longer than ``retention``; how many."""
        ...

    def seen_count(self, feed: str | None = None) -> int:
        """How many keys are stored (for one feed, or all)."""
        ...


class OutboxStore(Protocol):
    """The durable outbox (see :mod:`notifier.delivery.stages` for the flow).

    Writes go inside :meth:`State.transaction`, except :meth:`delivered` and
    :meth:`retarget`, which commit themselves (the repeat window is that call).
    """

    def enqueue(self, alerts: Iterable[NewAlert], now: datetime) -> int:
        """Queue alerts (an alert already queued for a channel is ignored); how many new."""
        ...

    def queued(self, channel: str, *, with_context: bool = True) -> list[QueuedAlert]:
        """Alerts of ``channel`` not yet composed, oldest first."""
        ...

    def alert_contexts(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The contexts of the alerts ``ids``, by id."""
        ...

    def channels_with_work(self) -> list[str]:
        """Channels with queued alerts or pending messages."""
        ...

    def hold(self, held: dict[int, Held], current: dict[int, str | None] | None = None) -> None:
        """Record why alerts wait (only changes, given their ``current`` reasons)."""
        ...

    def recent_messages(self, channel: str, since: datetime) -> int:
        """Messages composed for ``channel`` since ``since`` (for rate limits)."""
        ...

    def compose(
        self,
        channel: str,
        *,
        kind: str,
        title: str,
        body: str,
        fmt: BodyFormat,
        alert_ids: Sequence[int],
        url_hashes: Sequence[str],
        now: datetime,
        reason: str | None = None,
        severity: str = "normal",
    ) -> int:
        """Store one message carrying ``alert_ids``, pending for each URL; its id."""
        ...

    def due_messages(self, channel: str, now: datetime, limit: int = 100) -> list[PendingMessage]:
        """Pending messages of ``channel`` due at ``now``, oldest first."""
        ...

    def contexts(self, message_id: int) -> list[dict[str, Any]]:
        """The contexts of the alerts one message carries, in queue order."""
        ...

    def retarget(self, message: PendingMessage, current: Sequence[str]) -> tuple[str, ...]:
        """Make a message's deliveries follow the channel's current URL hashes."""
        ...

    def orphan_channels(self, known: Iterable[str]) -> list[str]:
        """Channels with work that ``known`` lacks."""
        ...

    def reroute(self, channel: str, to: Sequence[str], now: datetime) -> int:
        """Queue the waiting alerts of ``channel`` again for ``to``; how many."""
        ...

    def failing_since(self, channel: str) -> datetime | None:
        """Since when every URL of ``channel`` has been failing: the earliest composing
        time of its retrying messages composed after its last successful delivery (to
        any URL); None when it is not failing. Durable (a restart keeps it); a few
        indexed lookups plus the channel's pending messages."""
        ...

    def fallback_copy(
        self,
        channel: str,
        to: Sequence[Channel],
        note: dict[str, str],
        now: datetime,
        after: int = 0,
    ) -> tuple[int, int]:
        """Queue the pending alerts of ``channel`` (queued, or in a pending message) with
        an id above ``after`` also for each channel of ``to`` that admits their severity
        (``min_severity``), under the same alert key (so one already queued there is not
        queued twice), their context marked ``via_fallback`` = ``note``. The originals
        stay. Returns (copies queued, the highest alert id read, or ``after``)."""
        ...

    def next_attempt(self) -> datetime | None:
        """When the earliest pending message is due."""
        ...

    def next_release(self, channel: str | None = None) -> datetime | None:
        """The earliest time a queued alert (of ``channel``) waits for, or None."""
        ...

    def next_due(self, channel: str, now: datetime) -> datetime | None:
        """When ``channel`` next has a retry due or a digest window ending."""
        ...

    def delivered(self, message_id: int, url: str, now: datetime) -> bool:
        """Record one URL's success (commits); False if it was no longer pending."""
        ...

    def finish_if_complete(self, message_id: int, now: datetime) -> bool:
        """Mark a message sent if none of its deliveries is pending."""
        ...

    def finish(self, message_id: int, now: datetime) -> None:
        """Mark a message sent."""
        ...

    def failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        """Record a failed attempt and when to retry."""
        ...

    def dead(self, message_id: int, error: str | None, now: datetime) -> None:
        """Give up on a message (dead letter)."""
        ...

    def unreported_dead(self) -> list[DeadMessage]:
        """Dead messages not yet reported."""
        ...

    def reported(self, message_id: int) -> None:
        """Mark a dead message as reported."""
        ...

    def status(self) -> list[ChannelStatus]:
        """Per channel: queued, held, pending, retrying, dead, sent, rerouted."""
        ...


class ReminderStore(Protocol):
    """Which deadlines are tracked and which of their reminders were recorded."""

    def tracked(self, name: str) -> tuple[str, datetime] | None:
        """A tracked deadline's identity and when it was first seen, or None."""
        ...

    def track(self, name: str, identity: str, first_seen: datetime) -> None:
        """Start tracking a deadline, or record its new identity."""
        ...

    def forget_others(self, names: set[str]) -> None:
        """Stop tracking every deadline not in ``names`` (and forget its reminders)."""
        ...

    def done(self, name: str) -> set[str]:
        """The keys of the reminders recorded for deadline ``name``."""
        ...

    def record(self, reminder: Reminder, status: str, now: datetime) -> None:
        """Record a reminder once: sent, late, folded, skipped or expired."""
        ...

    def record_move(self, name: str, old_due: datetime, new_due: datetime, now: datetime) -> None:
        """Remember that deadline ``name``'s due time moved from ``old_due`` to ``new_due``."""
        ...

    def moves(self, name: str, limit: int = 50) -> list[tuple[datetime, datetime, datetime]]:
        """The moves of deadline ``name``, newest first: (from, to, noticed at)."""
        ...

    def last_brief(self) -> tuple[date, datetime] | None:
        """The latest morning brief recorded: its local day and when it was queued."""
        ...

    def record_brief(self, day: date, now: datetime) -> bool:
        """Record the brief of local ``day`` as queued at ``now``; False (and nothing
        changed) if one is already recorded for that day. Call in the transaction that
        queues it."""
        ...


class HistoryStore(Protocol):
    """Every polled entry, grouped into stories, with the matches and edits recorded.

    Entries are kept for ``history.keep`` (:meth:`prune_history`); a story's id is
    the id of its first entry. Writes go inside :meth:`State.transaction`.
    """

    def add_entries(self, records: Sequence[EntryRecord]) -> list[int]:
        """Store entries; return their ids in order.

        A record with ``story=None`` starts its own story (story = its own id).
        An entry already stored (same feed and key) is not changed; its existing
        id is returned. Titles are cut at 500 characters, summaries at 2,000."""
        ...

    def add_silent(self, feed: str, records: Sequence[EntryRecord]) -> None:
        """Store entries of ``feed`` as :meth:`add_entries` stores records with
        ``story=None``, without returning their ids (cheaper for many)."""
        ...

    def entries_by_key(self, feed: str, keys: Iterable[str]) -> dict[str, EntryRecord]:
        """The stored entries of ``feed`` among ``keys``, by key."""
        ...

    def recent_entries(self, since: datetime) -> list[EntryRecord]:
        """Entries first seen at or after ``since``, oldest first (to rebuild the
        in-memory story index at start-up)."""
        ...

    def entries_after(self, after: int, limit: int = 1000) -> list[EntryRecord]:
        """Up to ``limit`` entries with an id above ``after``, by id (a worker reads
        those the others placed in stories since its last look)."""
        ...

    def last_entry_id(self) -> int:
        """The highest entry id (0: none)."""
        ...

    def story_of_link(self, canonical: str, since: datetime) -> int | None:
        """The story of the latest entry with this canonical link first seen at or
        after ``since``; None if there is none (one indexed query)."""
        ...

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
        """The entry's text changed: keep the old title and summary in an edit,
        store (and re-index) the new text, set ``changed=at``. An entry no longer
        stored is ignored."""
        ...

    def record_matches(self, records: Sequence[MatchRecord]) -> None:
        """Record which watches matched which stored entries, and what came of it."""
        ...

    def matches_for(self, feed: str, keys: Iterable[str]) -> dict[str, list[MatchRecord]]:
        """The recorded matches of these entries of ``feed``, by key, oldest first
        (for edit detection: which watches matched, with which terms)."""
        ...

    def matched_keys(self, feed: str, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` have at least one recorded match (one indexed query a
        500 keys: called on the poll's hot path)."""
        ...

    def story_watches(self, story: int) -> set[str]:
        """Watches already recorded with kind match, update, edit or replay for this
        story (a later source does not alert again for them)."""
        ...

    def merge_stories(self, into: int, other: int) -> int:
        """Make story ``other`` part of story ``into`` (its entries and matches); how many
        entries moved. For an entry that links two stories found apart."""
        ...

    def story_sources(self, story: int) -> int:
        """How many entries (sources) the story has."""
        ...

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
        """Stories with an entry first seen in [since, until), newest ``last_seen``
        first, each with all its entries, matches and edits.

        ``watch``: only stories that watch matched; ``feed``: only stories with an
        entry of that feed in the period; ``search``: only stories with an entry in
        the period whose title or summary has every word of ``search`` (Chinese
        included; see :mod:`notifier.storage.search`); ``matched_only``: only
        stories with at least one match. Raises
        :class:`~notifier.errors.InvalidSearch` for a search with no letter or
        digit, or longer than 200 characters."""
        ...

    def story(self, story_id: int) -> Story | None:
        """One story, or None if none of its entries is stored."""
        ...

    def entries_between(self, since: datetime, until: datetime) -> Iterator[EntryRecord]:
        """Every stored entry first seen in [since, until), oldest first, read a page
        at a time (for ``notifier replay``)."""
        ...

    def prune_history(
        self, *, keep: timedelta, retention: timedelta, now: datetime, batch: int = 5000
    ) -> int:
        """Forget entries first seen before ``now - keep`` (with their index rows and
        edits), except those with a match younger than ``retention``; forget matches
        older than ``retention``. At most ``batch`` entries and ``batch`` matches a
        call; returns how many were deleted (``batch`` or more: call again)."""
        ...

    def index_pending(self, limit: int = 2000) -> int:
        """Make up to ``limit`` recorded entries searchable (oldest first); how many.
        Polls record entries without indexing them; the daemon calls this every few
        seconds, ``once`` before it ends."""
        ...

    def feed_activity(self, bounds: Sequence[datetime]) -> dict[str, list[tuple[int, int]]]:
        """Per feed, per period ``[bounds[i], bounds[i+1])`` (at most 31 periods):
        ``(entries first seen, matches recorded)``; feeds with none are left out (two
        grouped scans of the periods' index range: for the web page's sparklines)."""
        ...

    def history_counts(self, since: datetime) -> dict[str, int]:
        """For ``status``: ``entries``, ``stories``, ``matched_stories``,
        ``matches`` and ``edits`` since ``since``, and ``total_entries`` stored."""
        ...


class ProposalStore(Protocol):
    """Deadlines found in the news: open, accepted or dismissed
    (:mod:`notifier.deadlines.proposals` decides; this remembers)."""

    def for_day(self, day: date) -> list[tuple[Proposal, frozenset[str]]]:
        """Every proposal due on ``day`` (in its zone), any status, with its phrase's terms."""
        ...

    def add(self, proposal: Proposal, day: date, terms: frozenset[str]) -> str:
        """Store a new proposal; returns its id (made unique if taken)."""
        ...

    def add_source(
        self, pid: str, source: ProposalSource, watches: Sequence[str], now: datetime
    ) -> bool:
        """Record a further source; False when the proposal is gone or has it already."""
        ...

    def proposals(self, status: ProposalStatus | None = "open") -> list[Proposal]:
        """The proposals with ``status`` (None: all), soonest due first."""
        ...

    def get(self, pid: str) -> list[Proposal]:
        """The proposal ``pid``, or those whose id starts with it (up to 10)."""
        ...

    def set_status(self, pid: str, status: ProposalStatus, now: datetime) -> None:
        """Mark a proposal accepted or dismissed (or open again)."""
        ...

    def prune(self, before: datetime, facts_before: datetime | None = None) -> int:
        """Forget proposals whose day (or window) ended before ``before``, and facts
        recorded before ``facts_before`` (default: ``before``)."""
        ...


class MuteStore(Protocol):
    """Mutes (``notifier mute``): what is held, until when, by whom
    (:func:`notifier.delivery.stages.silence` decides what a mute holds)."""

    def mute(
        self,
        kind: MuteKind,
        name: str,
        until: datetime,
        now: datetime,
        *,
        reason: str | None = None,
        who: str = "cli",
    ) -> Mute:
        """Mute a target until ``until``; an active mute of the same target ends at
        ``now`` and this one replaces it. Returns the new mute."""
        ...

    def active(self, now: datetime) -> list[Mute]:
        """The mutes in force at ``now`` (not ended, ``until`` later), soonest end
        first: one indexed lookup, read by the sender every pass."""
        ...

    def end(self, kind: MuteKind, name: str, now: datetime) -> int:
        """End the target's active mute at ``now`` (``notifier unmute``); how many ended
        (0 when it was not muted)."""
        ...


class AckStore(Protocol):
    """Acknowledgement (``notifier ack``, a signed ack link, ``POST /api/ack``): the
    alerts that carry an ack id (:mod:`notifier.ack`) and the acks recorded.

    **The hook for escalation** (issue 16 section 2): an escalation ladder checks
    :meth:`acked_keys` (or :meth:`is_acked`) for its alerts before each step, in the
    same transaction that queues the step, so an ack stops a ladder at once: an ack
    is committed before the next step is decided.
    """

    def alerts(
        self,
        since: datetime,
        *,
        prefix: str | None = None,
        deadline: str | None = None,
        story: int | None = None,
        limit: int = 1000,
    ) -> list[AckableAlert]:
        """The alerts with an ack id queued since ``since``, newest first, one per alert
        key, each with its ack if any; only those whose id starts with ``prefix``, of
        ``deadline``, or of ``story`` when given. At most ``limit`` (an index range)."""
        ...

    def ack(self, alert: AckableAlert, who: str, how: AckHow, now: datetime) -> bool:
        """Record the ack of ``alert``; False when it was acknowledged already (the
        first ack stays)."""
        ...

    def is_acked(self, alert_key: str) -> bool:
        """Whether the alert (its key, without channel) was acknowledged."""
        ...

    def acked_keys(self, keys: Iterable[str]) -> set[str]:
        """The ones of ``keys`` acknowledged (one indexed lookup per 500)."""
        ...


class EscalationStore(Protocol):
    """Escalation ladders (:mod:`notifier.escalation`): the steps done per alert key,
    and the original alert an escalation copies. Writes inside :meth:`State.transaction`,
    in the same one that queues the step (never doubled, never lost)."""

    def done(self, alert_keys: Iterable[str]) -> dict[str, set[tuple[int, int]]]:
        """The (step, n) recorded for each of ``alert_keys`` (absent: none)."""
        ...

    def record(self, alert_key: str, step: int, n: int, at: datetime, folded: int = 0) -> bool:
        """Record a step done; False when it was recorded already."""
        ...

    def original(self, alert_key: str) -> tuple[str, str, dict[str, Any]] | None:
        """The (kind, severity, context) of the alert queued under ``alert_key`` (its
        first channel's), or None when it is no longer in the outbox."""
        ...


class State(FeedStateStore, SeenStore, Protocol):
    """Everything the daemon remembers, in one store with transactions."""

    @property
    def outbox(self) -> OutboxStore:
        """The outbox tables."""
        ...

    @property
    def reminders(self) -> ReminderStore:
        """The deadline tables."""
        ...

    @property
    def history(self) -> HistoryStore:
        """The history tables."""
        ...

    @property
    def proposals(self) -> ProposalStore:
        """The proposals table."""
        ...

    @property
    def mutes(self) -> MuteStore:
        """The mutes table."""
        ...

    @property
    def acks(self) -> AckStore:
        """The acks table."""
        ...

    @property
    def escalations(self) -> EscalationStore:
        """The escalation steps done."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes into one commit; roll back on error (raises StateError)."""
        ...

    def lock_feed(self, name: str) -> None:
        """Called first inside the poll's transaction: serialises two polls of one
        feed (by two workers sharing one store) until that transaction ends. A no-op
        where there is one writer (SQLite)."""
        ...

    def lock_stories(self) -> None:
        """Called inside a poll's transaction before it places new entries in stories:
        serialises that step across processes sharing one store (so each sees the
        entries the others placed). A no-op where there is one writer (SQLite)."""
        ...

    def probe(self, now: datetime) -> None:
        """Prove the store can be written (a real write); raises StateError if not."""
        ...

    def close(self) -> None:
        """Close (idempotent)."""
        ...

    def __enter__(self) -> Self:
        """The store itself (``with open_store(...) as store``)."""
        ...

    def __exit__(self, *exc: object) -> None:
        """Close it."""
        ...
