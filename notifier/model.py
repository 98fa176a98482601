"""The domain model: frozen values with no I/O, shared by every stage.

Pure modules (matching, deadline planning, feed health, delivery planning,
message rendering) import only this module, the standard library and their own
pure dependencies; the YAML schema (:mod:`notifier.config.schema`) resolves a
watch file into these values, and storage keeps some of them.

* what the user configured: :class:`Config` with its :class:`Feed`,
  :class:`Watch`, :class:`Deadline` and :class:`Channel` values and the
  :class:`FetchPolicy`, :class:`DeliveryPolicy`, :class:`HistoryPolicy`,
  :class:`StoryPolicy` and :class:`Template` parts;
* what a feed yields: :class:`Entry`; what a watch found: :class:`Match` and
  :class:`Hit`; what is remembered of a feed: :class:`FeedState`;
* what is sent: :class:`NewAlert`, with its :data:`Severity` and
  :data:`AlertKind`;
* what deadline discovery proposes: :class:`Proposal`, with its :class:`ProposalSource` values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from notifier.durations import format_duration

Severity = Literal["low", "normal", "high", "critical"]
BodyFormat = Literal["text", "markdown", "html"]
#: A channel's body format: ``auto`` renders each URL in the format its service shows.
ChannelFormat = Literal["auto", "text", "markdown", "html"]
Mentions = Literal["escape", "allow"]
SearchField = Literal["title", "summary", "content", "categories", "author", "link"]
#: When an edit of an already matched entry alerts again (:mod:`notifier.edits`):
#: ``facts`` when its dates, numbers or percentages or the watch's terms found
#: changed, ``all`` on any real change of its words, ``none`` never.
EditPolicy = Literal["facts", "all", "none"]
#: Every kind of alert, and so every kind a template can be written for.
AlertKind = Literal[
    "match",
    "digest",
    "reminder",
    "moved",
    "proposal",
    "health",
    "config",
    "test",
    "dead_letter",
    "brief",
]
#: Days of the week as the config names them, Monday first (``date.weekday()`` order).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: What a dated statement is about (:mod:`notifier.deadlines.discover`).
DeadlineKind = Literal["expiry", "effective", "deadline", "event"]
#: What a proposal proposes: a new deadline, a new due time for a tracked one, or a
#: change to a tracked one (it happened early, it was cancelled), never applied.
ProposalChange = Literal["deadline", "move", "change"]
#: ``fact``: a past date found (a statement's date before its publication: "took effect
#: on June 4"), recorded for the record and never proposed.
ProposalStatus = Literal["open", "accepted", "dismissed", "fact"]
#: Which entries a watch finds deadlines in: those it ``matched`` (the default), every
#: entry of its feeds (``discover``), or none (``off``).
DiscoveryMode = Literal["matched", "discover", "off"]
#: Which sources of a story alert: its first entry only, or every one (as updates).
UpdatesPolicy = Literal["first", "all"]
#: The kinds a user template can replace: every kind.
TemplateKind = AlertKind


#: Severities from lowest to highest.
SEVERITIES: tuple[Severity, ...] = ("low", "normal", "high", "critical")


def highest_severity(severities: Iterable[str]) -> Severity:
    """The highest of ``severities`` (``normal`` for none; an unknown one counts as normal)."""
    rank: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
    best = max(severities, key=lambda s: rank.get(s, 1), default="normal")
    return SEVERITIES[rank.get(best, 1)]


# --------------------------------------------------------------------------- configured


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A daily window of local time such as ``22:00-07:00`` (may wrap midnight)."""

    start: time
    end: time

    def contains(self, t: time) -> bool:
        """Tell whether the local time of day ``t`` falls in the window."""
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class DailyDigest:
    """A digest sent at fixed local times of day (``daily@08:00`` or
    ``daily@08:00,17:00``): a watch's matches wait for the next of them."""

    at: tuple[time, ...]

    def __str__(self) -> str:
        return "daily@" + ",".join(_clock(t) for t in self.at)

    def describe(self) -> str:
        """The policy in words: "daily at 08:00", "daily at 08:00 and 17:00"."""
        times = [_clock(t) for t in self.at]
        spoken = times[0] if len(times) == 1 else ", ".join(times[:-1]) + " and " + times[-1]
        return f"daily at {spoken}"


def _clock(t: time) -> str:
    return f"{t:%H:%M:%S}" if t.second else f"{t:%H:%M}"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` alerts per ``per`` on one channel; the rest are deferred."""

    count: int
    per: timedelta

    def __str__(self) -> str:
        return f"{self.count}/{format_duration(self.per)}"


@dataclass(frozen=True, slots=True)
class Channel:
    """A named set of Apprise URLs and how alerts go to them."""

    name: str
    urls: tuple[str, ...]
    format: ChannelFormat
    quiet_hours: TimeWindow | None
    rate_limit: RateLimit | None
    timeout: timedelta = timedelta(seconds=30)
    mentions: Mentions = "escape"
    #: Alerts below this severity do not go to this channel (``low``: every alert).
    min_severity: Severity = "low"
    #: Channels that also get this channel's alerts while it has been failing for
    #: ``fallback_after`` (see :func:`notifier.delivery.stages.fallback`).
    fallback: tuple[str, ...] = ()
    fallback_after: timedelta = timedelta(minutes=10)

    def admits(self, severity: str) -> bool:
        """Whether an alert of ``severity`` goes to this channel (an unknown one: normal)."""
        rank: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
        return rank.get(severity, 1) >= rank[self.min_severity]


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed URL and how it is polled.

    ``type`` names its source type: how a fetched body becomes entries
    (``feed``: RSS, Atom, RDF or JSON Feed by content; ``jsonfeed``: JSON Feed;
    the registry is :data:`notifier.sources.SOURCES`).
    """

    name: str
    url: str
    title: str | None
    interval: timedelta
    enabled: bool = True
    backfill: int = 0
    unhealthy_after: int = 5
    max_backoff: timedelta = timedelta(hours=6)
    retention: timedelta = timedelta(days=90)
    max_alerts: int = 20
    type: str = "feed"
    official: bool = False  # its copy of a story already alerted alerts again (an update)
    timezone: ZoneInfo | None = None  # dates in its text without a zone; None: the config's


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """One rung of an escalation ladder (``escalate:``): ``after`` the alert was first
    queued, still unacknowledged, it goes again to ``to``; ``repeat`` (the last step
    only) sends that step again every interval until it is acknowledged."""

    after: timedelta
    to: tuple[str, ...]
    repeat: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Watch:
    """A keyword rule: ``any`` / ``all`` / ``none`` terms over some fields of some feeds."""

    name: str
    any: tuple[str, ...]
    all: tuple[str, ...]
    none: tuple[str, ...]
    feeds: tuple[str, ...]
    fields: tuple[SearchField, ...]
    severity: Severity
    channels: tuple[str, ...]
    #: A digest window (``1h``: matches wait for the window's end) or fixed local
    #: times of day (:class:`DailyDigest`); None sends each match at once.
    digest: timedelta | DailyDigest | None
    plurals: bool = True
    updates: UpdatesPolicy = "first"
    edits: EditPolicy = "facts"
    deadlines: DiscoveryMode = "matched"
    #: The watch's own templates (``match``, ``digest``), before ``Config.templates``.
    templates: dict[TemplateKind, Template] = field(default_factory=dict, hash=False)
    #: The escalation ladder of its unacknowledged alerts (empty: the severity's).
    escalate: tuple[EscalationStep, ...] = ()


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline, resolved. ``due`` is the first (or only) occurrence; ``recur`` an RRULE."""

    name: str
    title: str
    due: datetime
    timezone: ZoneInfo
    remind: tuple[timedelta, ...]
    channels: tuple[str, ...]
    severity: Severity
    link: str | None
    notes: str | None
    after: tuple[timedelta, ...] = ()
    at_due: bool = True
    recur: str | None = None
    #: What it is (``expiry``…): a possible move must be of this kind; None: read from the title.
    kind: DeadlineKind | None = None
    #: The terms that name it in the news (``match:``); both empty: its title's words.
    match_any: tuple[str, ...] = ()
    match_all: tuple[str, ...] = ()
    #: The deadline's own templates (``reminder``, ``moved``), before ``Config.templates``.
    templates: dict[TemplateKind, Template] = field(default_factory=dict, hash=False)
    #: The escalation ladder of its unacknowledged reminders (empty: the severity's).
    escalate: tuple[EscalationStep, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """How feeds are fetched (for all feeds)."""

    concurrency: int = 16
    per_host: int = 2
    timeout: timedelta = timedelta(seconds=30)
    connect_timeout: timedelta = timedelta(seconds=10)
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How alerts are delivered (for all channels)."""

    max_age: timedelta = timedelta(hours=24)
    min_retry: timedelta = timedelta(seconds=30)
    max_retry: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class HistoryPolicy:
    """How long the history of polled entries is kept (``notifier history``)."""

    keep: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class StoryPolicy:
    """How entries of several feeds are grouped into one story."""

    #: An entry joins a story whose first entry was seen at most this long before it.
    window: timedelta = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class WebPolicy:
    """The read-only web UI (``web:``): off unless a port is set (here or ``--web-port``).
    ``token`` is required when ``host`` is not a loopback address."""

    port: int | None = None
    host: str = "127.0.0.1"
    token: str | None = None


@dataclass(frozen=True, slots=True)
class AckPolicy:
    """Acknowledgement (``ack:``): alerts of ``min_severity`` or above, and every
    deadline reminder, carry a short id to acknowledge them by (``notifier ack ID``)."""

    min_severity: Severity = "high"

    def eligible(self, severity: str) -> bool:
        """Whether an alert of ``severity`` carries an ack id (an unknown one: normal)."""
        rank: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
        return rank.get(severity, 1) >= rank[self.min_severity]


@dataclass(frozen=True, slots=True)
class BriefPolicy:
    """The morning brief (``brief:``): one message at local time ``at`` in ``timezone``
    on ``days`` (``date.weekday()`` numbers, Monday 0) to ``channels``."""

    at: time
    days: frozenset[int]
    channels: tuple[str, ...]
    timezone: ZoneInfo


@dataclass(frozen=True, slots=True)
class Template:
    """A user's Jinja2 title and/or body for one kind of alert (None: the built-in one)."""

    title: str | None = None
    body: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    """A whole watch config, resolved: defaults applied, references known to exist."""

    timezone: ZoneInfo
    default_channels: tuple[str, ...]
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    history: HistoryPolicy = field(default_factory=HistoryPolicy)
    stories: StoryPolicy = field(default_factory=StoryPolicy)
    web: WebPolicy = field(default_factory=WebPolicy)
    ack: AckPolicy = field(default_factory=AckPolicy)
    templates: dict[TemplateKind, Template] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    feeds: tuple[Feed, ...] = ()
    watches: tuple[Watch, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    brief: BriefPolicy | None = None
    #: Escalation ladders by severity (``escalate: {high: [...]}``), for alerts whose
    #: watch or deadline has none of its own.
    escalate: dict[str, tuple[EscalationStep, ...]] = field(default_factory=dict)


# --------------------------------------------------------------------------- observed


@dataclass(frozen=True, slots=True)
class FeedState:
    """What is remembered of one feed. ``last_parsed`` is None until a first parse."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_polled: datetime | None = None
    last_ok: datetime | None = None
    last_parsed: datetime | None = None
    failures: int = 0
    unhealthy: bool = False
    last_error: str | None = None
    next_poll: datetime | None = None

    def with_url(self, url: str) -> FeedState:
        """The state for a feed whose configured URL changed: caching headers dropped."""
        if url == self.url:
            return self
        return replace(self, url=url, etag=None, last_modified=None, body_hash=None)


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a feed.

    ``key`` identifies the entry within its feed across polls, restarts and
    upgrades (see :mod:`notifier.sources.keys`). ``legacy_key`` is the key an
    earlier key scheme gave the same entry, when it differs (else None): the
    entry was seen before if either key is known; record ``key``. ``title``,
    ``summary`` and ``content`` are plain text (tags stripped, entities decoded);
    ``summary_html``/``content_html`` are as served and must be sanitised
    before they are shown anywhere.
    """

    feed: str
    key: str
    title: str
    summary: str = ""
    content: str = ""
    link: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    categories: tuple[str, ...] = ()
    author: str | None = None
    summary_html: str | None = None
    content_html: str | None = None
    legacy_key: str | None = None

    def text(self, field: SearchField) -> str:
        """Return the searchable text of ``field`` ('' when absent)."""
        if field == "categories":
            return "\n".join(self.categories)
        if field in ("author", "link"):
            return getattr(self, field) or ""
        value: str = getattr(self, field)
        return value


@dataclass(frozen=True, slots=True)
class Hit:
    """One reason a watch matched: ``term`` (as written in the config) found in ``field``.

    ``snippet`` is a short excerpt of the field around the first occurrence,
    taken from the original text (not the case-folded one).
    """

    term: str
    field: SearchField
    snippet: str


@dataclass(frozen=True, slots=True)
class Match:
    """An entry that ``watch`` accepted, and why (one hit per matched term)."""

    watch: str
    entry: Entry
    hits: tuple[Hit, ...]

    def explain(self) -> str:
        """One line: ``"rare earth" in title; "稀土" in summary``."""
        return "; ".join(f'"{h.term}" in {h.field}' for h in self.hits)


# --------------------------------------------------------------------------- history

#: What a recorded match did: ``match`` (the story's first alert for that watch),
#: ``source`` (a later source of a story already alerted: attached, not alerted),
#: ``update`` (a later source that alerted again: an official feed, or
#: ``updates: all``), ``edit`` (an entry's text changed), ``replay`` (found by
#: ``notifier replay``).
MatchKind = Literal["match", "source", "update", "edit", "replay"]


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """A polled entry as history keeps it (for ``history.keep``).

    ``story`` is the id of the story it belongs to: the id of that story's
    first entry (so a new story's id is its own ``id``). ``canonical`` is the
    link without tracking parameters (:func:`notifier.stories.canonical_link`);
    ``text_hash`` identifies the title and summary, to notice edits;
    ``changed`` is when an edit was last recorded (None: never edited)."""

    feed: str
    key: str
    title: str
    summary: str
    link: str | None
    canonical: str | None
    published: datetime | None
    seen: datetime
    text_hash: str = ""
    story: int | None = None  # None when adding: the entry starts its own story
    id: int | None = None  # None until stored
    changed: datetime | None = None


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """One watch that matched one stored entry, and what came of it."""

    entry: int  # EntryRecord.id
    story: int
    watch: str
    why: str
    terms: tuple[str, ...]  # the watch's terms found, as written in the config
    at: datetime
    kind: MatchKind = "match"


@dataclass(frozen=True, slots=True)
class EditRecord:
    """A recorded change of a stored entry's text."""

    entry: int
    at: datetime
    old_title: str
    old_summary: str
    diff: str  # a word diff, ``[-old-]{+new+}``
    alerted: bool


@dataclass(frozen=True, slots=True)
class Story:
    """Entries of one or more feeds that tell the same news, as ``history`` shows it."""

    id: int
    title: str  # its first entry's
    first_seen: datetime
    last_seen: datetime
    entries: tuple[EntryRecord, ...]  # its sources, first seen first
    matches: tuple[MatchRecord, ...] = ()
    edits: tuple[EditRecord, ...] = ()

    @property
    def watches(self) -> tuple[str, ...]:
        """The watches that matched any of its entries, in the order they first did."""
        return tuple(dict.fromkeys(m.watch for m in self.matches))

    @property
    def feeds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.feed for e in self.entries))


@dataclass(frozen=True, slots=True)
class StoryNote:
    """What the story stage found out about an entry that alerts, for its message.

    ``change``: ``match`` (the story's first alert for these watches), ``update``
    (a later source alerting again: ``reason`` says why), ``edit`` (the entry's
    text changed: ``diff``) or ``replay``. ``sources`` counts the story's
    entries, this one included; ``first_seen`` is when its first entry was."""

    story: int | None = None
    change: MatchKind = "match"
    sources: int = 1
    first_seen: datetime | None = None
    reason: str = ""
    diff: str = ""
    revision: str = ""  # an edit's new text hash: one "updated" alert per revision
    updates: int = 0  # updates and edits the story alerted before this one


# --------------------------------------------------------------------------- sent


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert to queue for one channel. ``key`` identifies the alert (not the channel)."""

    key: str
    channel: str
    kind: str
    severity: Severity
    context: dict[str, Any]
    group: str | None = None
    not_before: datetime | None = None


# --------------------------------------------------------------------------- the outbox


class Held(StrEnum):
    """Why a queued alert is not sent yet."""

    DIGEST = "digest window"
    QUIET = "quiet hours"
    RATE = "rate limit"
    MUTED = "muted"


MuteKind = Literal["watch", "feed", "channel"]
MUTE_KINDS: tuple[MuteKind, ...] = ("watch", "feed", "channel")


@dataclass(frozen=True, slots=True)
class Mute:
    """A mute (``notifier mute``): the alerts of a watch, a feed or a channel are held
    from ``created`` until ``until`` (or until ``notifier unmute``), then go out as one
    digest per channel. ``who``: ``$USER`` of whoever muted it (or ``cli``)."""

    kind: MuteKind
    name: str
    until: datetime
    created: datetime
    reason: str | None = None
    who: str = "cli"
    id: int = 0

    @property
    def target(self) -> str:
        """``kind:name``, as the commands name it."""
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class QueuedAlert:
    """An alert in the outbox, not yet composed into a message."""

    id: int
    channel: str
    kind: str
    severity: Severity
    context: dict[str, Any]
    group: str | None
    created: datetime
    not_before: datetime
    held: str | None = None


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """A composed message with deliveries still to make."""

    id: int
    channel: str
    kind: str
    title: str
    body: str
    format: BodyFormat
    composed: datetime
    attempts: int
    pending: tuple[str, ...]  # url hashes not delivered yet
    sent: tuple[str, ...] = ()  # url hashes already delivered
    reason: str | None = None  # a digest's reason
    severity: str = "normal"  # the highest of its alerts


@dataclass(frozen=True, slots=True)
class DeadMessage:
    """A message given up on, to report once."""

    id: int
    channel: str
    kind: str
    title: str
    composed: datetime
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """What ``notifier status`` shows for one channel."""

    channel: str
    queued: int = 0
    held: int = 0
    pending: int = 0
    retrying: int = 0
    dead: int = 0
    sent: int = 0
    rerouted: int = 0
    last_sent: datetime | None = None
    last_sent_title: str | None = None
    last_error: str | None = None
    #: Since when every URL of the channel has been failing (``OutboxStore.failing_since``).
    failing_since: datetime | None = None


# --------------------------------------------------------------------------- proposals


@dataclass(frozen=True, slots=True)
class ProposalSource:
    """An entry that stated a proposal's date."""

    feed: str
    key: str
    title: str
    link: str | None = None
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class Proposal:
    """A deadline found in the news, waiting for ``notifier accept`` or ``dismiss``.

    ``change``: ``deadline`` (a new one: ``name``/``title`` are suggestions), ``move``
    (tracked deadline ``deadline`` is now due at ``due``, was ``old_due``) or
    ``change`` (it happened early or was cancelled: ``phrase`` says which; never
    applied). ``due`` is aware, in ``timezone``: midnight there when ``all_day``.
    ``window_end`` is the last day of a fuzzy window ("early July": the 10th).
    ``sources`` are the entries that stated it, the first one first."""

    id: str
    change: ProposalChange
    kind: DeadlineKind
    name: str
    title: str
    due: datetime
    all_day: bool
    window_end: date | None
    timezone: str
    phrase: str
    confidence: float
    watches: tuple[str, ...]
    sources: tuple[ProposalSource, ...]
    status: ProposalStatus = "open"
    deadline: str | None = None
    old_due: datetime | None = None
    created: datetime | None = None
    updated: datetime | None = None


AckHow = Literal["cli", "link", "web"]


@dataclass(frozen=True, slots=True)
class Ack:
    """An acknowledged alert: its key (without channel), short id, the deadline or
    story it belongs to (if any), who acknowledged it, how and when."""

    alert_key: str
    ack_id: str
    who: str
    how: AckHow
    at: datetime
    deadline: str | None = None
    story: int | None = None


@dataclass(frozen=True, slots=True)
class AckableAlert:
    """An alert that carries an ack id (one per alert key, whatever its channels):
    ``ack`` is None while it is open (unacknowledged)."""

    alert_key: str
    ack_id: str
    kind: str
    severity: str
    title: str
    created: datetime
    deadline: str | None = None
    story: int | None = None
    ack: Ack | None = None
