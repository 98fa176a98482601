"""The golden message cases: contexts of every kind, built by the context builders.

Each case is a list of contexts (one: rendered alone; several, or a ``reason``:
rendered as a digest) with the ``now`` and ``mentions`` it is rendered with.
``tests/test_message_golden.py`` stores each case's contexts in
``cases/messages/NAME.json`` and its rendering in the three body formats in
``cases/messages/NAME.txt``; the contexts stored are what the outbox holds,
so a change of the builders shows up too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notifier.deadlines.planning import Reminder, ToSend
from notifier.delivery.kinds import brief_context, proposal_context
from notifier.delivery.messages import (
    LINK_MAX,
    dead_letter_context,
    entry_context,
    health_context,
    match_context,
    story_context,
    test_context,
)
from notifier.model import (
    Deadline,
    Entry,
    EntryRecord,
    FeedState,
    Hit,
    Match,
    MatchRecord,
    Mentions,
    Proposal,
    ProposalSource,
    Severity,
    Story,
    StoryNote,
    Watch,
)
from notifier.pipeline.reminders import moved_context, reminder_context
from notifier.sources.health import HealthEvent, HealthEventKind

#: The zone every case is rendered in.
ZONE = ZoneInfo("America/New_York")
JUNE = datetime(2025, 6, 10, 13, 0, tzinfo=UTC)  # 09:00 EDT
JANUARY = datetime(2025, 1, 10, 14, 0, tzinfo=UTC)  # 09:00 EST
DUE = datetime(2025, 7, 9, 4, 1, tzinfo=UTC)  # 00:01 EDT
LINK = "https://example.com/news/rare-earths?id=1"
SUMMARY = "Beijing announced licensing requirements for seven rare earth elements."
#: Feed text that tries every trick: markup, links, scripts, pings, bidi overrides.
HOSTILE = (
    '**x** [a](javascript:alert(1)) <script>alert(1)</script> "><img src=x onerror=alert(1)> '
    "@everyone <!here> <@U123> \u202etxt.exe\u202c `code` _u_ \\ &amp;"
)


@dataclass(frozen=True, slots=True)
class Case:
    """Contexts rendered together (alone when one and ``reason`` is None)."""

    contexts: list[dict[str, Any]]
    reason: str | None = None
    now: datetime | None = None
    mentions: Mentions = "escape"


def entry(**changes: Any) -> Entry:
    """A realistic entry of the feed ``mofcom``; keyword arguments replace fields."""
    fields: dict[str, Any] = {
        "feed": "mofcom",
        "key": "v1:abc",
        "title": "China tightens rare earth export controls",
        "summary": SUMMARY,
        "link": LINK,
        "published": JUNE,
    }
    fields.update(changes)
    return Entry(**fields)


def match(
    severity: Severity = "normal",
    feed_title: str | None = "Ministry of Commerce",
    watch: str = "rare-earths",
    hits: tuple[Hit, ...] = (Hit("rare earth", "title", "…tightens rare earth export…"),),
    **changes: Any,
) -> dict[str, Any]:
    """The context of a match of ``entry(**changes)`` by ``watch``."""
    return match_context(Match(watch, entry(**changes), hits), severity, feed_title)


def entry_match(
    watches: tuple[tuple[str, Severity, tuple[Hit, ...]], ...],
    feed_title: str | None = "Ministry of Commerce",
    **changes: Any,
) -> dict[str, Any]:
    """The context of one entry matched by several watches (name, severity, hits)."""
    e = entry(**changes)
    found = [Match(name, e, hits) for name, _, hits in watches]
    rules = [
        Watch(name, ("x",), (), (), (), ("title",), severity, ("desk",), None)
        for name, severity, _ in watches
    ]
    return entry_context(found, rules, feed_title)


def deadline(**changes: Any) -> Deadline:
    """The deadline ``pause``: due 00:01 EDT on 9 July 2025, high severity."""
    fields: dict[str, Any] = {
        "name": "pause",
        "title": "90-day pause expires",
        "due": DUE,
        "timezone": ZONE,
        "remind": (timedelta(days=7), timedelta(days=1), timedelta(hours=2)),
        "channels": ("desk",),
        "severity": "high",
        "link": "https://example.com/pause",
        "notes": "Watch for an extension.",
    }
    fields.update(changes)
    return Deadline(**fields)


def reminder(
    offset: timedelta,
    *,
    late: bool = False,
    folded: int = 0,
    queued: datetime | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """The context of the ``offset``-before reminder of ``deadline(**changes)``."""
    d = deadline(**changes)
    r = Reminder(d.name, d.due, d.due - offset, offset)
    older = tuple(replace(r, offset=offset + timedelta(days=n + 1)) for n in range(folded))
    return reminder_context(d, ToSend(r, late, older), queued or r.at)


def source(n: int = 1, **changes: Any) -> ProposalSource:
    """The ``n``-th entry that stated a proposal; keyword arguments replace fields."""
    fields: dict[str, Any] = {
        "feed": "reuters",
        "key": f"v1:src{n}",
        "title": "US extends tariff pause on Chinese goods to August 12",
        "link": f"https://example.com/news/pause-{n}",
        "published": JUNE,
    }
    fields.update(changes)
    return ProposalSource(**fields)


def proposal(severity: Severity = "normal", **changes: Any) -> dict[str, Any]:
    """The context of a proposal of a new deadline (an expiry on Tue 1 July 2025, all
    day in New York, stated by one source); keyword arguments replace fields."""
    fields: dict[str, Any] = {
        "id": "3f9a1c2b",
        "change": "deadline",
        "kind": "expiry",
        "name": "export-licence-waiver-expires",
        "title": "Export licence waiver expires",
        "due": datetime(2025, 7, 1, tzinfo=ZONE),
        "all_day": True,
        "window_end": None,
        "timezone": "America/New_York",
        "phrase": "The export licence waiver expires on July 1, the ministry said.",
        "confidence": 0.85,
        "watches": ("rare-earths",),
        "sources": (source(title="Ministry: rare earth licence waiver ends July 1"),),
    }
    fields.update(changes)
    p = Proposal(**fields)
    return proposal_context(
        p, severity, accept=f"notifier accept {p.id}", dismiss=f"notifier dismiss {p.id}"
    )


def health(
    kind: HealthEventKind = HealthEventKind.UNHEALTHY, error: str | None = "HTTP 503"
) -> dict[str, Any]:
    """A health notice for the feed ``ustr`` at 09:00 EST, after 5 failures."""
    return health_context(HealthEvent(kind, "ustr", 5, error, JANUARY))


def story(n: int, watch: str, title: str | None = None, feeds: int = 1) -> Story:
    """Story ``n`` matched by ``watch``, told by ``feeds`` feeds."""
    entries = tuple(
        EntryRecord(
            feed=("reuters", "ustr", "ap")[i % 3],
            key=f"v1:s{n}-{i}",
            title=title or f"Story {n}",
            summary="",
            link=f"https://example.com/news/{n}",
            canonical=None,
            published=JUNE,
            seen=JUNE,
            id=n * 10 + i,
            story=n * 10,
        )
        for i in range(feeds)
    )
    return Story(
        n * 10,
        title or f"Story {n}",
        JUNE,
        JUNE,
        entries,
        (MatchRecord(n * 10, n * 10, watch, "title", (), JUNE),),
    )


def brief(
    stories: int = 3, deadlines: int = 1, proposals: int = 1, feeds: int = 1, **kw: Any
) -> dict[str, Any]:
    """A morning brief on Tue 10 June 2025 at 08:00 EDT: ``stories`` stories over two
    watches, the ``pause`` deadline, a proposal and an unhealthy feed (each ``n`` times)."""
    now = JUNE - timedelta(hours=1)
    found = [
        story(n, "tariffs" if n % 3 else "rare-earths", feeds=1 + n % 2) for n in range(stories)
    ]
    p = Proposal(
        id="3f9a1c2b",
        change="deadline",
        kind="expiry",
        name="waiver",
        title="Export licence waiver expires",
        due=datetime(2025, 7, 1, tzinfo=ZONE),
        all_day=True,
        window_end=None,
        timezone="America/New_York",
        phrase="expires on July 1",
        confidence=0.85,
        watches=("rare-earths",),
        sources=(),
    )
    sick = FeedState(
        "ustr", "https://ustr.gov/rss.xml", failures=7, unhealthy=True, last_error="HTTP 503"
    )
    return brief_context(
        now.astimezone(ZONE).date(),
        now,
        since=now - timedelta(days=1),
        stories=found,
        deadlines=[(deadline(), DUE)] * deadlines,
        proposals=[p] * proposals,
        unhealthy=[sick] * feeds,
        **kw,
    )


def config_notice(body: str = "") -> dict[str, Any]:
    """A "config rejected" notice as the daemon queues it."""
    return {
        "kind": "config",
        "title": "Config rejected: watch.yaml (still running the old one)",
        "body": body,
    }


def cases() -> dict[str, Case]:
    """Every golden case, by name."""
    seven = timedelta(days=7)
    many_hits = tuple(
        Hit(term, "summary", f"…{term} in a long summary…")
        for term in ("gallium", "germanium", "antimony", "graphite", "稀土")
    )
    several_watches = [
        match(watch=w, title=f"News for {w}") for w in ("tariffs", "talks", "chips", "steel")
    ]
    every_kind = [
        match("high"),
        health(),
        health(HealthEventKind.RECOVERED),
        test_context("phone", JUNE),
        dead_letter_context("phone", "[HIGH] Tariffs up", JUNE, 12, "timed out after 30s"),
        reminder(seven),
        moved_context(deadline(), DUE - timedelta(days=30), DUE - seven),
        proposal(),
        config_notice("watch.yaml:7:10: feeds[0].url: bad"),
        {"kind": "custom", "title": "Custom notice", "body": "first line\nsecond line"},
    ]
    return {
        # ------------------------------------------------------------------ match
        "match": Case([match()]),
        "match-high-updated-author": Case(
            [match("high", feed_title=None, published=None, updated=JUNE, author="Li Wei")]
        ),
        "match-critical-bare": Case(
            [match("critical", title="", summary="", link=None, published=None, hits=())]
        ),
        "match-many-hits": Case([match(hits=many_hits)]),
        "match-winter": Case([match(published=JANUARY)]),
        "match-link-not-http": Case([match(link="javascript:alert(1)")]),
        "match-link-cut": Case([match(link="https://example.com/" + "a" * LINK_MAX)]),
        "match-link-with-parens": Case([match(link="https://example.com/a_(b) c")]),
        "match-hostile": Case(
            [
                match(
                    title=HOSTILE,
                    summary="# heading\n- item " + HOSTILE,
                    author="@here",
                    hits=(Hit("x", "summary", "- item 1. two " + HOSTILE),),
                    link="https://example.com/?q=<script>&a=\"'",
                )
            ]
        ),
        "match-hostile-allowed": Case(
            [match(title=HOSTILE, summary=HOSTILE, author="@here")], mentions="allow"
        ),
        "match-line-starts": Case(
            [match(title="1. first", summary="> quoted", feed_title="# Feed", hits=())]
        ),
        "match-untidy-feed-title": Case(
            [match(feed_title="Ministry\n of  Commerce\t", title="  spaced   out  ")]
        ),
        "match-queued-before-caps": Case([{**match(), "title": "word " * 400}]),
        "match-three-watches": Case(
            [
                entry_match(
                    (
                        ("rare-earths", "normal", (Hit("rare earth", "title", "…rare earth…"),)),
                        ("export-controls", "high", (Hit("export controls", "title", ""),)),
                        ("china", "low", (Hit("Beijing", "summary", "Beijing announced…"),)),
                    )
                )
            ]
        ),
        "match-story-update": Case(
            [
                {
                    **match("high"),
                    **story_context(
                        StoryNote(
                            7, "update", 3, JUNE - timedelta(hours=5), "official source: ustr"
                        )
                    ),
                }
            ]
        ),
        "match-edited": Case(
            [
                {
                    **match(),
                    **story_context(
                        StoryNote(
                            7,
                            "edit",
                            1,
                            JUNE,
                            "dates/numbers changed: July 9 → August 12",
                            "title: pause extended to [-July 9-]{+August 12+}\n"
                            "summary: … @everyone [-25%-]{+50%+} …",
                            "abc",
                        )
                    ),
                }
            ]
        ),
        "match-two-watches-hostile": Case(
            [
                entry_match(
                    (
                        ("a_*b*", "normal", (Hit("x", "summary", "- item " + HOSTILE),)),
                        ("@everyone", "critical", ()),
                    ),
                    title=HOSTILE,
                )
            ]
        ),
        # ------------------------------------------------------------------ health
        "health-unhealthy": Case([health()]),
        "health-unhealthy-no-error": Case([health(error=None)]),
        "health-unhealthy-hostile-error": Case([health(error="- " + HOSTILE)]),
        "health-recovered": Case([health(HealthEventKind.RECOVERED, None)]),
        # ------------------------------------------------------------------ test
        "test": Case([test_context("phone", JUNE)]),
        # ------------------------------------------------------------------ dead letter
        "dead-letter": Case(
            [dead_letter_context("phone", "[HIGH] Tariffs up", JUNE, 12, "timed out after 30s")]
        ),
        "dead-letter-no-error": Case([dead_letter_context("phone", "Tariffs up", JUNE, 1, None)]),
        "dead-letter-hostile": Case(
            [dead_letter_context("phone", HOSTILE, JUNE, 3, "> " + HOSTILE)]
        ),
        # ------------------------------------------------------------------ brief
        "brief": Case([brief()], now=JUNE - timedelta(hours=1)),
        "brief-empty": Case(
            [brief(stories=0, deadlines=0, proposals=0, feeds=0)], now=JUNE - timedelta(hours=1)
        ),
        "brief-capped": Case(
            [brief(stories=60, deadlines=25, proposals=22, feeds=21)],
            now=JUNE - timedelta(hours=1),
        ),
        "brief-hostile": Case(
            [
                brief_context(
                    JUNE.date(),
                    JUNE,
                    since=None,
                    stories=[story(1, "tariffs", title=HOSTILE)],
                    deadlines=[],
                    proposals=[],
                    unhealthy=[
                        FeedState("x", "https://x", failures=5, unhealthy=True, last_error=HOSTILE)
                    ],
                )
            ]
        ),
        # ------------------------------------------------------------------ reminders
        "reminder-on-time": Case([reminder(seven)], now=DUE - seven + timedelta(seconds=5)),
        "reminder-as-queued": Case([reminder(seven)]),
        # Acknowledgement: the ack line every kind gets (the id from route_* / reminders,
        # the signed link from the sender at send time).
        "reminder-with-ack": Case(
            [
                {
                    **reminder(seven),
                    "ack_id": "0a1b2c3d",
                    "ack_link": "http://127.0.0.1:8080/ack/0a1b2c3d?exp=1752033660&sig="
                    + "ab" * 32,
                }
            ]
        ),
        "match-with-ack-id": Case([{**match("high"), "ack_id": "9f8e7d6c"}]),
        "reminder-33s-late": Case(
            [reminder(timedelta(minutes=2))], now=DUE - timedelta(minutes=2, seconds=-33)
        ),
        "reminder-caught-up": Case(
            [reminder(timedelta(days=1), late=True, folded=2, queued=DUE - timedelta(hours=20))],
            now=DUE - timedelta(hours=20),
        ),
        "reminder-due-now": Case([reminder(timedelta(0))], now=DUE + timedelta(seconds=2)),
        "reminder-passed": Case(
            [reminder(-timedelta(days=1), severity="critical")], now=DUE + timedelta(days=1)
        ),
        "reminder-other-zone": Case(
            [reminder(seven, timezone=ZoneInfo("Asia/Shanghai"), severity="normal")],
            now=DUE - seven,
        ),
        "reminder-notes-and-no-link": Case(
            [
                reminder(
                    seven,
                    link=None,
                    notes="First line.\n\n  - a list item\n# not a heading\r\nlast\u202e line",
                    severity="low",
                )
            ],
            now=DUE - seven,
        ),
        "reminder-own-words": Case(
            [reminder(seven, title="@everyone  90-day\n pause", notes="@here **read** <this>")],
            now=DUE - seven,
        ),
        # ------------------------------------------------------------------ moved
        "moved": Case([moved_context(deadline(), DUE - timedelta(days=30), DUE - seven)]),
        "moved-later": Case(
            [moved_context(deadline(link=None), DUE + seven, DUE - seven)], now=DUE - seven * 2
        ),
        # ------------------------------------------------------------------ proposals
        "proposal-deadline": Case([proposal()]),
        "proposal-deadline-window": Case(
            [
                proposal(
                    kind="effective",
                    name="crane-tariffs-take-effect",
                    title="Section 301 tariffs on Chinese cranes take effect",
                    due=datetime(2025, 7, 1, tzinfo=ZONE),
                    window_end=date(2025, 7, 10),
                    phrase="The 25% tariffs on ship-to-shore cranes take effect in early July.",
                    confidence=0.6,
                    watches=("tariffs", "shipping"),
                    sources=(source(title="USTR: crane tariffs from early July", link=None),),
                )
            ]
        ),
        "proposal-deadline-window-across-months": Case(
            [
                proposal(
                    kind="event",
                    due=datetime(2025, 6, 28, tzinfo=ZONE),
                    window_end=date(2025, 7, 3),
                    phrase="Talks are expected around the turn of the month.",
                )
            ]
        ),
        "proposal-deadline-time-other-zone": Case(
            [
                proposal(
                    "high",
                    kind="deadline",
                    name="eu-consultation-closes",
                    title="EU consultation on rare earth stockpiles closes",
                    due=datetime(2025, 8, 1, 17, tzinfo=ZoneInfo("Europe/Brussels")),
                    all_day=False,
                    timezone="Europe/Brussels",
                    phrase="Comments are due by 17:00 CEST on 1 August.",
                    confidence=0.92,
                    sources=(
                        source(1, feed="eu-trade", title="Consultation opens"),
                        source(2, title="EU seeks views on stockpiles", link="ftp://x.test/a"),
                        *(source(n) for n in range(3, 8)),
                    ),
                )
            ]
        ),
        "proposal-move": Case(
            [
                proposal(
                    "high",
                    change="move",
                    name="pause",
                    title="90-day pause expires",
                    deadline="pause",
                    due=datetime(2025, 8, 12, tzinfo=ZONE),
                    old_due=DUE,
                    phrase="The pause, originally set to expire on July 9, now ends August 12.",
                    watches=("tariffs", "china"),
                    sources=(source(1), source(2, feed="ap")),
                )
            ]
        ),
        "proposal-change": Case(
            [
                proposal(
                    change="change",
                    name="pause",
                    title="90-day pause expires",
                    deadline="pause",
                    due=datetime(2025, 7, 1, tzinfo=ZONE),
                    phrase="The pause was cancelled and ended early, on July 1.",
                    confidence=0.5,
                    sources=(source(link=None),),
                )
            ]
        ),
        "proposal-hostile": Case(
            [
                proposal(
                    "critical",
                    title="# " + HOSTILE,
                    phrase="- " + HOSTILE,
                    sources=(
                        source(title="> " + HOSTILE, link="https://example.com/?q=<script>&a=\"'"),
                        source(2, title=HOSTILE, link="javascript:alert(1)"),
                    ),
                )
            ]
        ),
        "proposal-in-digest": Case(
            [
                proposal(),
                proposal(
                    change="move",
                    title="90-day pause expires",
                    deadline="pause",
                    due=datetime(2025, 8, 12, tzinfo=ZONE),
                    old_due=DUE,
                ),
                proposal(change="change", title="90-day pause expires", deadline="pause"),
            ],
            reason="held during quiet hours",
        ),
        # ------------------------------------------------------------------ config, unknown
        "config": Case(
            [
                config_notice(
                    "watch.yaml:7:10: feeds[0].url: a feed URL must start with http://\n"
                    "watch.yaml:11:16: watches[0].channels[0]: unknown channel 'slack'  \n"
                    "\n"
                    "- @everyone *see* [docs](javascript:x)\n"
                    "… and 3 more"
                )
            ]
        ),
        "config-empty": Case([config_notice()]),
        "unknown-kind": Case([{"kind": "custom", "title": "Custom <b>", "body": "one\n\ntwo"}]),
        # ------------------------------------------------------------------ digests
        "digest-one-watch": Case(
            [match(), match(title="Gallium quotas", link=None, hits=many_hits)],
            reason="digest of the last hour",
        ),
        "digest-several-watches": Case(several_watches, reason="rate limit 30/1h"),
        "digest-single": Case([match("high")], reason="held during quiet hours 22:00-07:00"),
        "digest-with-ack-ids": Case(
            [
                {**match("high"), "ack_id": "9f8e7d6c"},
                match(),
                {**reminder(seven), "ack_id": "0a1b2c3d"},
            ],
            reason="digest of the last hour",
            now=DUE - seven,
        ),
        "digest-every-kind": Case(every_kind, reason="held during quiet hours", now=DUE - seven),
        "digest-ten-items": Case([match(title=f"Item {n}") for n in range(11)], reason="digest"),
        "digest-no-reason": Case([health(), test_context("phone", JUNE)], reason=""),
        "digest-hostile": Case(
            [
                match(title=HOSTILE, hits=(Hit("x", "title", HOSTILE),)),
                health(error=HOSTILE),
                dead_letter_context("phone", HOSTILE, JUNE, 3, HOSTILE),
            ],
            reason="- " + HOSTILE,
        ),
        "digest-hostile-allowed": Case(
            [match(title=HOSTILE), health(error=HOSTILE)], reason="digest", mentions="allow"
        ),
    }
