"""The watch config: what the file may say (pydantic models) and what it means.

Two layers, so that the rest of the daemon never deals with "unset":

* ``WatchFile`` and its parts mirror ``watch.yaml`` exactly. Every model
  forbids unknown keys; optional fields are ``None`` when they inherit from
  ``defaults``. ``notifier schema`` prints the JSON Schema of ``WatchFile``.
* ``Config`` and the frozen ``Channel``/``Feed``/``Watch``/``Deadline``
  dataclasses are the resolved meaning: defaults applied, deadlines turned into
  aware datetimes, references known to exist. ``resolve()`` builds them.

Reading YAML, substituting ``${VAR}`` and locating errors in the file live in
:mod:`notifier.config.loader`; this module is pure.

Meanings worth knowing (also in the README):

* A deadline ``due`` written as a date alone (``2025-07-09``) means the start
  of that day (00:00) in the deadline's time zone, or its first time that
  exists where a daylight-saving change skips midnight (01:00 in
  America/Sao_Paulo on 2018-11-04). A date-time without an
  offset is local time in that zone; one with an offset (``-04:00``, ``Z``) is
  that instant. A local time that does not exist (skipped by a DST change) is
  an error; an ambiguous one (repeated by a DST change) means the first.
* A deadline's zone is its own ``timezone``, else the config's ``timezone``,
  else UTC. Quiet hours are read in the config's ``timezone``.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import UnionType
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex as regex_engine
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from notifier import sources
from notifier.delivery import apprise as apprise_channels
from notifier.durations import PATTERN as DURATION_PATTERN
from notifier.durations import format_duration, parse_duration
from notifier.matching import compile_regex
from notifier.model import (
    WEEKDAYS,
    AckPolicy,
    BriefPolicy,
    Channel,
    ChannelFormat,
    Config,
    DailyDigest,
    Deadline,
    DeadlineKind,
    DeliveryPolicy,
    DiscoveryMode,
    EditPolicy,
    EscalationStep,
    Feed,
    FetchPolicy,
    HistoryPolicy,
    Mentions,
    RateLimit,
    SearchField,
    Severity,
    StoryPolicy,
    Template,
    TemplateKind,
    TimeWindow,
    UpdatesPolicy,
    Watch,
    WebPolicy,
)

_FETCH = FetchPolicy()
_DELIVERY = DeliveryPolicy()
_HISTORY = HistoryPolicy()
_STORIES = StoryPolicy()


#: Fields a watch searches when neither it nor ``defaults.watch`` names any.
DEFAULT_FIELDS: tuple[SearchField, ...] = ("title", "summary", "content")
#: Reminder offsets when neither a deadline nor ``defaults.deadline`` names any.
DEFAULT_REMIND: tuple[timedelta, ...] = (
    timedelta(days=30),
    timedelta(days=7),
    timedelta(days=1),
    timedelta(hours=2),
)
DEFAULT_INTERVAL = timedelta(minutes=15)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


# --------------------------------------------------------------------------- value types


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected a duration such as 90s, 15m, 2h or 7d")
    if not isinstance(value, str):
        raise ValueError(f"{value!r} has no unit; write e.g. {value}s, {value}m or {value}h")
    return parse_duration(value)


def _positive(delta: timedelta) -> timedelta:
    if delta <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return delta


Duration = Annotated[
    timedelta,
    PlainValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration: a number and a unit (s, m, h, d, w), e.g. 90s, 15m, 1h30m.",
        }
    ),
]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as UTC, "
            "America/New_York or Asia/Shanghai"
        ) from None
    return value


ZoneName = Annotated[str, AfterValidator(_zone_name)]


_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _time_window(value: object) -> TimeWindow:
    if isinstance(value, TimeWindow):
        return value
    m = _WINDOW.match(value) if isinstance(value, str) else None
    if m is None:
        raise ValueError("expected a daily window HH:MM-HH:MM, e.g. 22:00-07:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError("hours run 00-23 and minutes 00-59")
    window = TimeWindow(time(h1, m1), time(h2, m2))
    if window.start == window.end:
        raise ValueError("start and end are equal: the window would be empty")
    return window


Window = Annotated[
    TimeWindow,
    PlainValidator(_time_window),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$"}),
]


_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


def _time_of_day(value: object) -> time:
    if isinstance(value, time):
        return value
    m = _TIME_OF_DAY.match(value) if isinstance(value, str) else None
    if m is None:
        raise ValueError('expected a local time HH:MM (or HH:MM:SS), e.g. "08:00"')
    hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError("hours run 00-23, minutes and seconds 00-59")
    return time(hour, minute, second)


TimeOfDay = Annotated[
    time,
    PlainValidator(_time_of_day),
    PlainSerializer(lambda t: f"{t:%H:%M:%S}" if t.second else f"{t:%H:%M}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d{1,2}:\d{2}(:\d{2})?\s*$"}),
]

_DAILY = re.compile(r"^\s*daily\s*@(.*)$")
_DAILY_PATTERN = r"^\s*daily\s*@\s*\d{1,2}:\d{2}(:\d{2})?(\s*,\s*\d{1,2}:\d{2}(:\d{2})?)*\s*$"


def _digest(value: object) -> timedelta | DailyDigest:
    """A watch's ``digest``: a window (``1h``) or fixed local times (``daily@08:00``,
    ``daily@08:00,17:00``)."""
    if isinstance(value, DailyDigest):
        return value
    m = _DAILY.match(value) if isinstance(value, str) else None
    if m is None:
        try:
            delta = _duration(value)
        except ValueError as error:
            raise ValueError(f"{error}; or daily@HH:MM for a digest at fixed times") from None
        return _positive(delta)
    parts = [part.strip() for part in m[1].split(",")]
    times: list[time] = []
    for part in parts:
        try:
            times.append(_time_of_day(part))
        except ValueError:
            if len(parts) == 1:
                raise ValueError(
                    f"{f'daily@{part}'!r} is not a time of day; write daily@HH:MM, e.g. daily@08:00"
                ) from None
            raise ValueError(
                f"{part!r} in {str(value).strip()!r} is not a time of day; "
                "write daily@HH:MM,HH:MM, e.g. daily@08:00,17:00"
            ) from None
    twice = sorted(
        {t.isoformat("seconds" if t.second else "minutes") for t in times if times.count(t) > 1}
    )
    if twice:
        raise ValueError(f"{', '.join(twice)} is given twice in {str(value).strip()!r}")
    return DailyDigest(tuple(sorted(times)))


def _digest_text(policy: timedelta | DailyDigest) -> str:
    return str(policy) if isinstance(policy, DailyDigest) else format_duration(policy)


DigestPolicy = Annotated[
    timedelta | DailyDigest,
    PlainValidator(_digest),
    PlainSerializer(_digest_text, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "anyOf": [{"pattern": DURATION_PATTERN}, {"pattern": _DAILY_PATTERN}],
            "description": "A digest window (a duration such as 1h or 1d: matches wait for "
            "the window's end) or fixed local times (daily@08:00, daily@08:00,17:00).",
        }
    ),
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhdw])\s*$")


def _rate_limit(value: object) -> RateLimit:
    if isinstance(value, RateLimit):
        return value
    m = _RATE.match(value) if isinstance(value, str) else None
    if m is None:
        raise ValueError("expected COUNT/PERIOD, e.g. 30/h, 100/d or 5/10m")
    count, amount, unit = int(m[1]), m[2] or "1", m[3]
    if count < 1:
        raise ValueError("the count must be at least 1")
    per = parse_duration(amount + unit)
    if per <= timedelta(0):
        raise ValueError("the period must be longer than 0s")
    return RateLimit(count, per)


Rate = Annotated[
    RateLimit,
    PlainValidator(_rate_limit),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d+\s*/\s*\d*\s*[smhdw]\s*$"}),
]


def _apprise_url(value: str) -> str:
    problem = apprise_channels.check_url(value)
    if problem:
        raise ValueError(problem)
    return value


AppriseURL = Annotated[str, AfterValidator(_apprise_url)]


def _feed_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError("a feed URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("a feed URL needs a host name")
    return value.strip()


FeedURL = Annotated[str, AfterValidator(_feed_url)]


def _source_type(value: str) -> str:
    if value not in sources.SOURCES:
        raise ValueError(f"unknown feed type {value!r} (known: {sources.describe_types()})")
    return value


SourceType = Annotated[
    str,
    AfterValidator(_source_type),
    WithJsonSchema(
        {
            "type": "string",
            "enum": list(sources.SOURCES),
            "default": sources.DEFAULT_TYPE,
            "description": "What the URL serves: " + sources.describe_types() + ".",
        }
    ),
]


def _regex_term(term: str) -> str:
    stripped = term.strip()
    if not stripped:
        raise ValueError("a term cannot be empty")
    if len(stripped) >= 2 and stripped.startswith("/") and stripped.endswith("/"):
        try:
            compile_regex(stripped[1:-1])
        except regex_engine.error as e:
            raise ValueError(f"invalid regular expression: {e}") from None
    return stripped


def _int_as_text(value: object) -> object:
    # `any: [301]` means the word "301"; YAML 1.2 reads it as a number.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Term = Annotated[str, BeforeValidator(_int_as_text), AfterValidator(_regex_term)]

_DUE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$")


def _due(value: object) -> str:
    if isinstance(value, datetime | date):  # from Python callers, not from YAML
        return value.isoformat()
    if not isinstance(value, str) or not _DUE.match(value.strip()):
        raise ValueError(
            "expected a date (2025-07-09), a local date-time (2025-07-09 00:01) "
            "or one with an offset (2025-07-09T00:01:00-04:00)"
        )
    text = value.strip()
    try:
        if len(text) == 10:
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"not a real date or time: {e}") from None
    return text


Due = Annotated[
    str,
    BeforeValidator(_due),
    WithJsonSchema(
        {
            "type": "string",
            "description": "2025-07-09 (start of day), 2025-07-09 00:01 (local time in the "
            "deadline's zone) or 2025-07-09T00:01:00-04:00",
        }
    ),
]


# --------------------------------------------------------------------------- the file


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ChannelSpec(Strict):
    """A named set of Apprise URLs. ``name: [url, ...]`` is short for ``name: {urls: [...]}``."""

    urls: list[AppriseURL] = Field(min_length=1, description="Apprise URLs, e.g. mailto://...")
    format: ChannelFormat = Field(
        "auto",
        description="Body format: auto (each URL in the format its service renders), or "
        "text, markdown or html where the service renders it.",
    )
    quiet_hours: Window | None = Field(
        None, description="Daily window (config time zone) in which non-critical alerts wait."
    )
    rate_limit: Rate | None = Field(
        None, description="At most COUNT alerts per PERIOD, e.g. 30/h; the rest are deferred."
    )
    timeout: PositiveDuration = Field(
        timedelta(seconds=30),
        description="Hard deadline of one send to one URL; past it the attempt counts as "
        "failed and is retried with backoff.",
    )
    mentions: Mentions = Field(
        "escape",
        description="escape: @here, @everyone, @channel, @all, @room, <!here>… in text from "
        "feeds cannot ping the whole chat; allow: feed text is sent as it is.",
    )
    min_severity: Severity = Field(
        "low",
        description="Only alerts of this severity or higher go to this channel (low, normal, "
        "high, critical); a watch's or deadline's channels still apply. Default: every alert.",
    )
    fallback: list[Name] = Field(
        default_factory=list,
        description="Channels that also get this channel's pending and new alerts while "
        "every URL of it has been failing for 'fallback_after' (marked 'via fallback'); "
        "it stops when a send to this channel succeeds.",
    )
    fallback_after: PositiveDuration = Field(
        timedelta(minutes=10),
        description="How long every URL of this channel must have been failing before its "
        "alerts also go to its 'fallback' channels.",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"urls": [data]}
        if isinstance(data, list):
            return {"urls": data}
        return data


class FeedDefaults(Strict):
    interval: PositiveDuration = Field(DEFAULT_INTERVAL, description="How often to poll.")
    unhealthy_after: int = Field(
        5, ge=1, description="Failures in a row after which a feed is reported unhealthy."
    )
    max_backoff: PositiveDuration = Field(
        timedelta(hours=6), description="Longest wait between polls of a failing feed."
    )
    retention: PositiveDuration = Field(
        timedelta(days=90),
        description="How long to remember entries that have left the feed.",
    )
    max_alerts: int = Field(
        20,
        ge=1,
        description="New matching entries of one poll that alert one by one; the rest "
        "are folded into one digest (counted and listed, never dropped).",
    )


class WatchDefaults(Strict):
    fields: list[SearchField] = Field(default_factory=lambda: list(DEFAULT_FIELDS), min_length=1)
    severity: Severity = "normal"
    digest: DigestPolicy | None = Field(
        None, description="Batch matches into one message per window, or at fixed times."
    )
    plurals: bool = Field(
        True, description="Let a word also match its plural: tariff → tariffs, tax → taxes."
    )
    updates: UpdatesPolicy = Field(
        "first",
        description="A story seen again in another feed: 'first' alerts only its first "
        "entry (later ones join it silently, unless their feed is official); 'all' alerts "
        "every source as a story update.",
    )
    deadlines: DiscoveryMode = Field(
        "matched",
        description="Where to look for deadlines to propose: in the entries the watch "
        "'matched', in every entry of its feeds ('discover'), or nowhere ('off').",
    )
    edits: EditPolicy = Field(
        "facts",
        description="A matched entry edited later: 'facts' alerts when its dates, numbers "
        "or percentages, or the watch's terms found, changed; 'all' on any change of "
        "wording; 'none' records edits silently.",
    )


class FetchOptions(Strict):
    """How feeds are fetched (for all feeds)."""

    concurrency: int = Field(
        _FETCH.concurrency, ge=1, le=512, description="Feeds fetched at once, at most."
    )
    per_host: int = Field(
        _FETCH.per_host, ge=1, le=64, description="Connections to one host, at most."
    )
    timeout: PositiveDuration = Field(_FETCH.timeout, description="Whole request, body included.")
    connect_timeout: PositiveDuration = Field(_FETCH.connect_timeout)
    max_bytes: int = Field(
        _FETCH.max_bytes, ge=1024, description="Largest body accepted (decompressed)."
    )
    max_redirects: int = Field(_FETCH.max_redirects, ge=0, le=20)

    def policy(self) -> FetchPolicy:
        """The resolved value the fetcher uses."""
        return FetchPolicy(
            self.concurrency,
            self.per_host,
            self.timeout,
            self.connect_timeout,
            self.max_bytes,
            self.max_redirects,
        )


class DeadlineDefaults(Strict):
    remind: list[PositiveDuration] = Field(default_factory=lambda: list(DEFAULT_REMIND))
    after: list[PositiveDuration] = Field(
        default_factory=list, description="Follow-ups after the due time, e.g. [1d]."
    )
    at_due: bool = Field(True, description="Also alert at the due time itself.")
    severity: Severity = "high"


class Defaults(Strict):
    channels: list[Name] = Field(
        default_factory=list,
        description="Channels for watches and deadlines that name none, and for notices "
        "about the daemon itself (a feed failing, a config rejected).",
    )
    feed: FeedDefaults = Field(default_factory=FeedDefaults)
    watch: WatchDefaults = Field(default_factory=WatchDefaults)
    deadline: DeadlineDefaults = Field(default_factory=DeadlineDefaults)


class FeedSpec(Strict):
    name: Name
    url: FeedURL
    type: SourceType = sources.DEFAULT_TYPE
    title: str | None = Field(None, description="Display name; defaults to the feed's own.")
    interval: PositiveDuration | None = None
    enabled: bool = True
    backfill: int = Field(
        0,
        ge=0,
        description="On the first poll, alert on this many newest entries "
        "(default 0: the entries already there are recorded as seen, silently).",
    )
    official: bool = Field(
        False,
        description="An official source (USTR, the Federal Register, MOFCOM…): when it "
        "carries a story already alerted from another feed, that is news, and it alerts "
        "again as a story update.",
    )
    timezone: ZoneName | None = Field(
        None,
        description="The zone its dates without one are in ('comments due July 9'); "
        "default: the config's.",
    )


def _template(value: str) -> str:
    from jinja2 import TemplateSyntaxError  # noqa: PLC0415 - only when templates are used

    from notifier.delivery.messages import check_template  # noqa: PLC0415

    try:
        check_template(value)
    except TemplateSyntaxError as e:  # an unknown filter or test too
        raise ValueError(f"template error on its line {e.lineno}: {e.message}") from None
    return value


TemplateText = Annotated[str, AfterValidator(_template)]


class TemplateSpec(Strict):
    """A Jinja2 template (sandboxed) for one kind of alert; see the README for variables."""

    title: TemplateText | None = None
    body: TemplateText | None = None


class _Templates(Strict):
    def resolved(self) -> dict[TemplateKind, Template]:
        """The templates set, by kind, as the model holds them."""
        return {
            cast(TemplateKind, kind): Template(spec.title, spec.body)
            for kind, spec in self
            if spec is not None
        }


class KindTemplates(_Templates):
    """``templates``: the config's own title and/or body per kind of alert."""

    match: TemplateSpec | None = Field(None, description="A watch's match.")
    digest: TemplateSpec | None = Field(None, description="Several alerts in one message.")
    reminder: TemplateSpec | None = Field(None, description="A deadline's reminder.")
    moved: TemplateSpec | None = Field(None, description="A deadline's due time changed.")
    proposal: TemplateSpec | None = Field(
        None, description="A possible deadline, move or change found in the news."
    )
    health: TemplateSpec | None = Field(None, description="A feed unhealthy or recovered.")
    config: TemplateSpec | None = Field(None, description="An edited config was rejected.")
    test: TemplateSpec | None = Field(None, description="notifier test-channel.")
    dead_letter: TemplateSpec | None = Field(None, description="An alert not delivered.")
    brief: TemplateSpec | None = Field(None, description="The morning brief.")


class WatchTemplates(_Templates):
    """A watch's own templates: they come before ``templates.match``/``.digest``."""

    match: TemplateSpec | None = Field(None, description="This watch's matches.")
    digest: TemplateSpec | None = Field(None, description="A digest of this watch's matches only.")


class DeadlineTemplates(_Templates):
    """A deadline's own templates: they come before ``templates.reminder``/``.moved``."""

    reminder: TemplateSpec | None = Field(None, description="This deadline's reminders.")
    moved: TemplateSpec | None = Field(None, description="This deadline's due time changed.")


class EscalationStepSpec(Strict):
    """One step of an escalation ladder."""

    after: PositiveDuration = Field(
        description="Since the alert was first queued, still unacknowledged (30m)."
    )
    to: list[Name] = Field(min_length=1, description="The channels this step goes to.")
    repeat: PositiveDuration | None = Field(
        None, description="Send this step again every interval (the last step only)."
    )


def _ladder(steps: list[EscalationStepSpec]) -> list[EscalationStepSpec]:
    for before, step in itertools.pairwise(steps):
        if step.after <= before.after:
            raise ValueError("each step's 'after' must be later than the step before")
    if any(step.repeat is not None for step in steps[:-1]):
        raise ValueError("only the last step can 'repeat'")
    return steps


Ladder = Annotated[
    list[EscalationStepSpec],
    AfterValidator(_ladder),
    Field(
        min_length=1,
        description="An escalation ladder: unacknowledged, the alert goes again to each "
        "step's channels 'after' its first sending, until acknowledged.",
    ),
]


class WatchSpec(Strict):
    name: Name
    any: list[Term] = Field(default_factory=list, description="At least one must match.")
    all: list[Term] = Field(default_factory=list, description="Every one must match.")
    none: list[Term] = Field(default_factory=list, description="None may match.")
    feeds: list[Name] | None = Field(None, description="Feeds to watch; default: all.")
    fields: list[SearchField] | None = Field(None, min_length=1)
    severity: Severity | None = None
    channels: list[Name] | None = Field(None, min_length=1)
    digest: DigestPolicy | None = Field(
        None,
        description="Batch matches into one message per window (1h), or at fixed local "
        "times (daily@08:00; several: daily@08:00,17:00).",
    )
    plurals: bool | None = Field(
        None, description="Let a word also match its plural (default: defaults.watch.plurals)."
    )
    updates: UpdatesPolicy | None = Field(
        None, description="'first' or 'all' sources of a story alert (default: defaults.watch)."
    )
    edits: EditPolicy | None = Field(
        None, description="Which edits of a matched entry alert (default: defaults.watch)."
    )
    deadlines: DiscoveryMode | None = Field(
        None,
        description="Where to look for deadlines to propose: 'matched', 'discover' or "
        "'off' (default: defaults.watch).",
    )
    templates: WatchTemplates = Field(
        default_factory=WatchTemplates,
        description="This watch's own message texts; they come before 'templates'.",
    )
    escalate: Ladder | None = None

    @model_validator(mode="after")
    def _has_terms(self) -> WatchSpec:
        if not self.any and not self.all:
            raise ValueError("a watch needs at least one term in 'any' or 'all'")
        return self


class DeadlineMatch(Strict):
    """The words that name a tracked deadline in the news (for possible moves)."""

    any: list[str] = Field(default_factory=list, description="At least one must occur.")
    all: list[str] = Field(default_factory=list, description="Every one must occur.")

    @model_validator(mode="after")
    def _has_terms(self) -> DeadlineMatch:
        if not [t for t in (*self.any, *self.all) if t.strip()]:
            raise ValueError("'match' needs at least one term in 'any' or 'all'")
        return self


class DeadlineSpec(Strict):
    name: Name
    title: str = Field(min_length=1)
    timezone: ZoneName | None = Field(None, description="Zone of 'due'; default: the config's.")
    due: Due
    remind: list[PositiveDuration] | None = Field(
        None, description="How long before the due time to remind, e.g. [30d, 7d, 1d, 2h]."
    )
    after: list[PositiveDuration] | None = Field(
        None, description="Follow-ups after the due time, e.g. [1d] ('passed yesterday')."
    )
    at_due: bool | None = Field(None, description="Also alert at the due time itself.")
    escalate: Ladder | None = None
    recur: str | None = Field(
        None,
        description="Repeat: an RFC 5545 RRULE such as FREQ=MONTHLY;BYMONTHDAY=15, "
        "counted from 'due' in the deadline's zone.",
    )
    channels: list[Name] | None = Field(None, min_length=1)
    severity: Severity | None = None
    link: str | None = None
    notes: str | None = None
    kind: DeadlineKind | None = Field(
        None,
        description="expiry, effective, deadline or event: news of another date of this "
        "kind is a possible move (default: read from the title).",
    )
    match: DeadlineMatch | None = Field(
        None,
        description="The words that name this deadline in the news; default: the "
        "significant words of its title (at least half of them).",
    )
    templates: DeadlineTemplates = Field(
        default_factory=DeadlineTemplates,
        description="This deadline's own message texts; they come before 'templates'.",
    )

    @field_validator("recur")
    @classmethod
    def _recur(cls, value: str | None) -> str | None:
        if value is not None:
            from dateutil.rrule import rrulestr  # noqa: PLC0415 - only for recurring deadlines

            text = value.strip().removeprefix("RRULE:")
            try:
                rrulestr(text, dtstart=datetime(2000, 1, 1))
            except (ValueError, TypeError) as e:
                raise ValueError(f"not a valid RRULE: {e}") from None
            if re.search(r"FREQ=(SECONDLY|MINUTELY)", text, re.IGNORECASE):
                raise ValueError("a deadline cannot repeat more often than hourly")
            return text
        return value

    @field_validator("due")
    @classmethod
    def _due_exists(cls, value: str, info: ValidationInfo) -> str:
        zone = info.data.get("timezone") or (info.context or {}).get("timezone") or "UTC"
        parse_due(value, ZoneInfo(zone))
        return value

    @field_validator("link")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("a link must be an http:// or https:// URL")
        return value


class DeliveryOptions(Strict):
    """How alerts are delivered (for all channels)."""

    max_age: PositiveDuration = Field(
        _DELIVERY.max_age,
        description="An alert not delivered this long after it was queued is dead-lettered.",
    )
    min_retry: PositiveDuration = Field(
        _DELIVERY.min_retry, description="First wait after a failed send."
    )
    max_retry: PositiveDuration = Field(
        _DELIVERY.max_retry, description="Longest wait between retries of a send."
    )

    def policy(self) -> DeliveryPolicy:
        """The resolved value the sender uses."""
        return DeliveryPolicy(self.max_age, self.min_retry, self.max_retry)


def _at_least(least: timedelta, most: timedelta | None = None) -> Any:
    """A validator: the duration is at least ``least`` (and at most ``most``)."""

    def check(delta: timedelta) -> timedelta:
        if delta < least or (most is not None and delta > most):
            bounds = f"at least {format_duration(least)}"
            if most is not None:
                bounds = f"between {format_duration(least)} and {format_duration(most)}"
            raise ValueError(f"must be {bounds} (got {format_duration(delta)})")
        return delta

    return AfterValidator(check)


class HistoryOptions(Strict):
    """What ``notifier history`` can show: every polled entry, kept this long."""

    keep: Annotated[Duration, _at_least(timedelta(days=1))] = Field(
        _HISTORY.keep,
        description="Keep every polled entry this long (at least 1d); an entry with a "
        "match is kept as long as its match.",
    )

    def policy(self) -> HistoryPolicy:
        """The resolved value the history uses."""
        return HistoryPolicy(self.keep)


class StoryOptions(Strict):
    """How entries of several feeds that tell the same news become one story."""

    window: Annotated[Duration, _at_least(timedelta(hours=1), timedelta(days=30))] = Field(
        _STORIES.window,
        description="An entry joins a story first seen at most this long before it (1h to 30d).",
    )

    def policy(self) -> StoryPolicy:
        """The resolved value story grouping uses."""
        return StoryPolicy(self.window)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    import ipaddress  # noqa: PLC0415 - only for the web section

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip()).is_loopback
    except ValueError:
        return False


class WebOptions(Strict):
    """The read-only web UI: deadlines, stories, feeds and the outbox in a browser."""

    port: int | None = Field(
        None, ge=0, le=65535, description="Serve the web UI on this port (off if unset)."
    )
    host: str = Field(
        "127.0.0.1",
        description="Address to bind; any but a loopback address needs 'token'.",
    )
    token: str | None = Field(
        None,
        min_length=16,
        description="Required to open any page: 'Authorization: Bearer TOKEN' or ?token=TOKEN. "
        "Put it in the environment: ${NOTIFIER_WEB_TOKEN}.",
    )

    @model_validator(mode="after")
    def _token_off_loopback(self) -> WebOptions:
        if not is_loopback(self.host) and not self.token:
            raise ValueError(
                f"web.host {self.host} is reachable from other machines: set web.token "
                "(16 characters or more, e.g. ${NOTIFIER_WEB_TOKEN})"
            )
        return self

    def policy(self) -> WebPolicy:
        return WebPolicy(self.port, self.host, self.token)


class AckOptions(Strict):
    """``ack``: which alerts carry an id to acknowledge them by (see the README)."""

    min_severity: Severity = Field(
        "high",
        description="Alerts of this severity or above carry an ack id (deadline reminders "
        "always do).",
    )

    def policy(self) -> AckPolicy:
        return AckPolicy(self.min_severity)


class BriefOptions(Strict):
    """``brief``: the morning brief, one message a day (see the README)."""

    at: TimeOfDay = Field(description='Local time (config time zone), e.g. "08:00".')
    days: list[Weekday] = Field(
        default_factory=lambda: list(get_args(Weekday)),
        min_length=1,
        description="The days it is sent (default: every day).",
    )
    channels: list[Name] | None = Field(
        None, description="Where it goes (default: defaults.channels)."
    )


class WatchFile(Strict):
    """The whole watch config file."""

    timezone: ZoneName = Field(
        "UTC", description="IANA zone for deadlines, quiet hours and digests."
    )
    defaults: Defaults = Field(default_factory=Defaults)
    fetch: FetchOptions = Field(default_factory=FetchOptions)
    delivery: DeliveryOptions = Field(default_factory=DeliveryOptions)
    history: HistoryOptions = Field(default_factory=HistoryOptions)
    stories: StoryOptions = Field(default_factory=StoryOptions)
    web: WebOptions = Field(default_factory=WebOptions)
    ack: AckOptions = Field(default_factory=AckOptions)
    templates: KindTemplates = Field(
        default_factory=KindTemplates,
        description="Replace the built-in message texts per kind (Jinja2, sandboxed).",
    )
    channels: dict[Name, ChannelSpec] = Field(default_factory=dict)
    feeds: list[FeedSpec] = Field(default_factory=list)
    watches: list[WatchSpec] = Field(default_factory=list)
    deadlines: list[DeadlineSpec] = Field(default_factory=list)
    brief: BriefOptions | None = Field(
        None,
        description="A morning brief: stories since the last one, deadlines ahead, open "
        "proposals, unhealthy feeds.",
    )
    escalate: dict[Severity, Ladder] = Field(
        default_factory=dict,
        description="Escalation ladders per severity, for alerts whose watch or deadline "
        "has none of its own.",
    )


# --------------------------------------------------------------------------- resolved meaning

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem at a location in the document (``("feeds", 1, "url")``).

    ``at_key`` says the problem is the key itself (an unknown key), not its value.
    """

    loc: Loc
    message: str
    at_key: bool = False


class InvalidConfig(ValueError):
    """The document is not a valid watch config; ``issues`` lists every problem."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("; ".join(i.message for i in issues))


def parse_due(text: str, zone: ZoneInfo) -> datetime:
    """Turn a validated ``due`` string into an aware datetime (see module docstring)."""
    if len(text) == 10:
        return start_of_day(date.fromisoformat(text), zone)
    parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    if parsed.tzinfo is not None:
        return parsed
    naive = parsed
    aware = naive.replace(tzinfo=zone, fold=0)
    if not _exists(aware):
        raise ValueError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key}: "
            "the clocks skip it (daylight saving time); pick another time or add an offset"
        )
    return aware


def _exists(aware: datetime) -> bool:
    """Whether this wall-clock time occurs in its zone (is not skipped by a DST change)."""
    roundtrip = aware.astimezone(UTC).astimezone(aware.tzinfo)
    return roundtrip.replace(tzinfo=None) == aware.replace(tzinfo=None)


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``: midnight, or where a daylight-saving
    change skips midnight (America/Sao_Paulo on 2018-11-04, Asia/Beirut, America/Havana),
    the first time that exists that day (01:00 there).

    Raises :class:`ValueError` for a day the zone skips entirely (Pacific/Apia on
    2011-12-30).
    """
    midnight = datetime.combine(day, time(0, 0))
    if _exists(midnight.replace(tzinfo=zone, fold=0)):
        return midnight.replace(tzinfo=zone, fold=0)
    # Midnight falls in a gap. Read with the offset in force after the change (fold=1)
    # it is an instant before the change, with the one before (fold=0) an instant
    # after it: the day starts at the change. Find it to the second.
    bounds = sorted(int(midnight.replace(tzinfo=zone, fold=fold).timestamp()) for fold in (0, 1))
    low, high = bounds  # local(low) is before midnight, local(high) after it
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= midnight:
            high = middle
        else:
            low = middle
    first = datetime.fromtimestamp(high, zone)
    if first.date() != day:
        raise ValueError(
            f"{day.isoformat()} does not exist in {zone.key}: the clocks skip the whole "
            "day; pick another day or add a time and an offset"
        )
    return first


def resolve(spec: WatchFile) -> Config:
    """Apply defaults and turn a valid ``WatchFile`` into a ``Config``.

    Raises :class:`InvalidConfig` for what the models alone cannot see: a
    watch or deadline with no channel at all, a local time that does not exist.
    References between sections are checked by :func:`check_references`.
    """
    problems: list[Issue] = []
    zone = ZoneInfo(spec.timezone)
    d = spec.defaults

    default_channels = tuple(d.channels) or (
        tuple(spec.channels) if len(spec.channels) == 1 else ()
    )

    def channels_for(section: str, i: int, own: list[str] | None) -> tuple[str, ...]:
        chosen = tuple(own) if own else default_channels
        if not chosen:
            problems.append(
                Issue(
                    (section, i),
                    "names no channels, and there is no default: "
                    "add 'channels: [...]' here or set defaults.channels",
                )
            )
        return chosen

    def ladder(loc: Loc, steps: list[EscalationStepSpec] | None) -> tuple[EscalationStep, ...]:
        for j, step in enumerate(steps or ()):
            for k, name in enumerate(step.to):
                if name not in spec.channels:
                    listing = ", ".join(sorted(spec.channels)) or "none"
                    problems.append(
                        Issue((*loc, j, "to", k), f"unknown channel {name!r} (known: {listing})")
                    )
        return tuple(EscalationStep(s.after, tuple(s.to), s.repeat) for s in steps or ())

    channels = {
        name: Channel(
            name,
            tuple(c.urls),
            c.format,
            c.quiet_hours,
            c.rate_limit,
            c.timeout,
            c.mentions,
            c.min_severity,
            tuple(c.fallback),
            c.fallback_after,
        )
        for name, c in spec.channels.items()
    }
    feeds = tuple(
        Feed(
            name=f.name,
            url=f.url,
            title=f.title,
            interval=f.interval or d.feed.interval,
            enabled=f.enabled,
            backfill=f.backfill,
            unhealthy_after=d.feed.unhealthy_after,
            max_backoff=d.feed.max_backoff,
            retention=d.feed.retention,
            max_alerts=d.feed.max_alerts,
            type=f.type,
            official=f.official,
            timezone=ZoneInfo(f.timezone) if f.timezone else None,
        )
        for f in spec.feeds
    )
    all_feeds = tuple(f.name for f in spec.feeds)
    watches = tuple(
        Watch(
            name=w.name,
            any=tuple(w.any),
            all=tuple(w.all),
            none=tuple(w.none),
            feeds=tuple(w.feeds) if w.feeds is not None else all_feeds,
            fields=tuple(w.fields or d.watch.fields),
            severity=w.severity or d.watch.severity,
            channels=channels_for("watches", i, w.channels),
            digest=w.digest if w.digest is not None else d.watch.digest,
            plurals=w.plurals if w.plurals is not None else d.watch.plurals,
            updates=w.updates or d.watch.updates,
            edits=w.edits or d.watch.edits,
            deadlines=w.deadlines or d.watch.deadlines,
            templates=w.templates.resolved(),
            escalate=ladder(("watches", i, "escalate"), w.escalate),
        )
        for i, w in enumerate(spec.watches)
    )
    deadlines = []
    for i, dl in enumerate(spec.deadlines):
        dzone = ZoneInfo(dl.timezone) if dl.timezone else zone
        due = parse_due(dl.due, dzone)  # checked by DeadlineSpec
        remind = dl.remind if dl.remind is not None else d.deadline.remind
        deadlines.append(
            Deadline(
                name=dl.name,
                title=dl.title,
                due=due,
                timezone=dzone,
                remind=tuple(sorted(set(remind), reverse=True)),
                channels=channels_for("deadlines", i, dl.channels),
                severity=dl.severity or d.deadline.severity,
                link=dl.link,
                notes=dl.notes,
                after=tuple(sorted(set(dl.after if dl.after is not None else d.deadline.after))),
                at_due=dl.at_due if dl.at_due is not None else d.deadline.at_due,
                recur=dl.recur,
                kind=dl.kind,
                match_any=tuple(t for t in dl.match.any if t.strip()) if dl.match else (),
                match_all=tuple(t for t in dl.match.all if t.strip()) if dl.match else (),
                templates=dl.templates.resolved(),
                escalate=ladder(("deadlines", i, "escalate"), dl.escalate),
            )
        )
    escalate: dict[str, tuple[EscalationStep, ...]] = {
        sev: steps
        for sev, spec_steps in spec.escalate.items()
        if (steps := ladder(("escalate", sev), spec_steps))
    }
    brief = None
    if spec.brief is not None:
        chosen = tuple(spec.brief.channels) if spec.brief.channels else default_channels
        if not chosen:
            problems.append(
                Issue(
                    ("brief",),
                    "names no channels, and there is no default: "
                    "add 'channels: [...]' here or set defaults.channels",
                )
            )
        brief = BriefPolicy(
            at=spec.brief.at,
            days=frozenset(WEEKDAYS.index(d) for d in spec.brief.days),
            channels=chosen,
            timezone=zone,
        )
    if problems:
        raise InvalidConfig(problems)
    return Config(
        timezone=zone,
        default_channels=default_channels,
        fetch=spec.fetch.policy(),
        delivery=spec.delivery.policy(),
        history=spec.history.policy(),
        stories=spec.stories.policy(),
        web=spec.web.policy(),
        ack=spec.ack.policy(),
        templates=spec.templates.resolved(),
        channels=channels,
        feeds=feeds,
        watches=watches,
        deadlines=tuple(deadlines),
        brief=brief,
        escalate=escalate,
    )


def check_references(raw: object) -> list[Issue]:
    """Cross-check names in a raw (unvalidated) document.

    Works on plain data so that it can run even when the models reject the
    file, and every problem is reported in one run. Values of the wrong shape
    are skipped here; the models report them.
    """
    if not isinstance(raw, dict):
        return []
    problems: list[Issue] = []

    def items(section: str) -> list[tuple[int, dict[str, Any]]]:
        value = raw.get(section)
        if not isinstance(value, list):
            return []
        return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]

    for section in ("feeds", "watches", "deadlines"):
        seen: dict[str, int] = {}
        for i, item in items(section):
            name = item.get("name")
            if not isinstance(name, str):
                continue
            if name in seen:
                problems.append(
                    Issue(
                        (section, i, "name"),
                        f"duplicate name {name!r} (also {section}[{seen[name]}])",
                    )
                )
            else:
                seen[name] = i

    raw_channels = raw.get("channels")
    channel_names = set(raw_channels) if isinstance(raw_channels, dict) else set()
    feed_names = {item["name"] for _, item in items("feeds") if isinstance(item.get("name"), str)}

    def check(loc: Loc, refs: object, known: set[str], kind: str) -> None:
        if not isinstance(refs, list):
            return
        for j, ref in enumerate(refs):
            if isinstance(ref, str) and ref not in known:
                listing = ", ".join(sorted(known)) or "none defined"
                problems.append(Issue((*loc, j), f"unknown {kind} {ref!r} (known: {listing})"))

    defaults = raw.get("defaults")
    if isinstance(defaults, dict):
        check(("defaults", "channels"), defaults.get("channels"), channel_names, "channel")
    for section in ("watches", "deadlines"):
        for i, item in items(section):
            check((section, i, "channels"), item.get("channels"), channel_names, "channel")
    for i, item in items("watches"):
        check(("watches", i, "feeds"), item.get("feeds"), feed_names, "feed")
    brief = raw.get("brief")
    if isinstance(brief, dict):
        check(("brief", "channels"), brief.get("channels"), channel_names, "channel")
    problems.extend(_check_fallbacks(raw_channels, channel_names))
    return problems


def _check_fallbacks(raw_channels: object, known: set[str]) -> list[Issue]:
    """``channels.X.fallback``: each names another channel that exists, and no chain of
    fallbacks leads back to the channel it started from."""
    if not isinstance(raw_channels, dict):
        return []
    problems: list[Issue] = []
    edges: dict[str, list[str]] = {}
    for name, spec in raw_channels.items():
        refs = spec.get("fallback") if isinstance(spec, dict) else None
        if not isinstance(refs, list):
            continue
        for j, ref in enumerate(refs):
            if not isinstance(ref, str):
                continue
            loc: Loc = ("channels", name, "fallback", j)
            if ref == name:
                problems.append(Issue(loc, f"channel {name!r} cannot be its own fallback"))
            elif ref not in known:
                listing = ", ".join(sorted(known)) or "none defined"
                problems.append(Issue(loc, f"unknown channel {ref!r} (known: {listing})"))
            else:
                edges.setdefault(name, []).append(ref)
    for name, targets in edges.items():
        for j, ref in enumerate(raw_channels[name]["fallback"]):
            if ref not in targets:
                continue
            path = _fallback_path(edges, ref, name)
            if path is not None:
                cycle = " → ".join([name, *path])
                problems.append(
                    Issue(
                        ("channels", name, "fallback", j),
                        f"fallback cycle: {cycle} (a channel's fallback cannot lead back to it)",
                    )
                )
    return problems


def _fallback_path(edges: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    """The channels from ``start`` to ``goal`` following fallbacks, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*path, nxt]) for nxt in edges.get(node, ()))
    return None


_PYDANTIC_WORDING = {
    "missing": "required field is missing",
    "list_type": "expected a list",
    "dict_type": "expected a mapping of keys to values",
    "model_type": "expected a mapping of keys to values",
    "model_attributes_type": "expected a mapping of keys to values",
    "string_type": "expected a string",
    "bool_type": "expected true or false",
}


_BAD_NAME = (
    "not a valid name: start with a letter or digit, then use letters, digits, '-' and '_' "
    "(64 characters at most)"
)


def _all_keys() -> set[str]:
    keys: set[str] = set()
    models: list[type[BaseModel]] = [WatchFile]
    while models:
        model = models.pop()
        keys.update(model.model_fields)
        for info in model.model_fields.values():
            for arg in (*getattr(info.annotation, "__args__", ()), info.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel) and arg is not model:
                    models.append(arg)
    return keys


def _bare(annotation: Any) -> Any:
    """``annotation`` without ``Annotated[…]`` and ``| None``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if get_origin(annotation) in (Union, UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _keys_at(loc: Loc) -> list[str] | None:
    """The keys allowed in the mapping at ``loc`` (``("watches", 0, "templates")``), or
    None when it is not a model's."""
    current: Any = WatchFile
    for part in loc:
        current = _bare(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
        elif get_origin(current) in (list, dict):
            current = get_args(current)[-1]
        else:
            return None
    current = _bare(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return None


def issues_from(error: ValidationError) -> list[Issue]:
    """Translate pydantic's errors into :class:`Issue` values, in plain words.

    The input value is never quoted: it may hold a secret substituted from the
    environment.
    """
    issues = []
    for err in error.errors(include_url=False, include_input=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            allowed = _keys_at(loc[:-1])
            hint = difflib.get_close_matches(key, allowed or sorted(_all_keys()), n=1)
            suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
            if not hint and allowed is not None and len(allowed) <= 8:
                suffix = f" (expected {', '.join(allowed)})"
            issues.append(Issue(loc, f"unknown key {key!r}{suffix}", at_key=True))
            continue
        if loc and loc[-1] == "[key]":
            issues.append(Issue(loc[:-1], _BAD_NAME, at_key=True))
            continue
        message = _PYDANTIC_WORDING.get(kind) or err["msg"]
        if kind == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") == NAME_PATTERN:
            message = _BAD_NAME
        if kind == "too_short" and "ctx" in err:
            least = err["ctx"].get("min_length", 1)
            message = f"needs at least {least} item{'s' if least != 1 else ''}"
        message = message.removeprefix("Value error, ").replace("Input should be", "must be")
        issues.append(Issue(loc, message))
    return issues


def build(raw: object) -> Config:
    """Validate a plain document (dicts, lists, scalars) and resolve it.

    Every problem found is raised at once in :class:`InvalidConfig`: the models'
    errors and the cross-references are checked independently, so one kind of
    mistake does not hide another.
    """
    problems = check_references(raw)
    zone = raw.get("timezone") if isinstance(raw, dict) else None
    try:
        _zone_name(zone)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        zone = None  # the model reports it; deadlines fall back to UTC meanwhile
    try:
        spec = WatchFile.model_validate(raw, context={"timezone": zone})
    except ValidationError as e:
        raise InvalidConfig(issues_from(e) + problems) from None
    if problems:
        raise InvalidConfig(problems)
    return resolve(spec)


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of the watch config (``notifier schema``)."""
    schema = WatchFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "notifier watch config"
    # ``name: [url, ...]`` and ``name: url`` are shorthands the model accepts.
    channel = schema["$defs"]["ChannelSpec"]
    schema["$defs"]["ChannelSpec"] = {
        "anyOf": [
            channel,
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
            {"type": "string"},
        ],
        "description": channel.get("description", ""),
    }
    return schema
