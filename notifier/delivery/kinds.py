"""Every kind of alert in one registry: its context, its trust, its texts. Pure.

An alert waits in the outbox as a *context* — a plain JSON-able dict whose
``kind`` names its entry in :data:`KINDS` — and is rendered only when it is
sent (:mod:`notifier.delivery.messages`)::

    Match, HealthEvent, Deadline… ─▶ KINDS[kind].context(…) ─▶ dict (JSON in the outbox)
                                                                   │
    at send time:   KINDS[kind].as_of(ctx, now)   (the time left, for deadlines)
                    KINDS[kind].untrusted          (feed text: mentions escaped)
                    templates/<kind>.title.j2      the title (plain text)
                    templates/<kind>.<format>.j2   the body: text, markdown, html
                    templates/<kind>.line.j2       its line under its title in a digest

The kinds: ``match`` (a watch matched an entry), ``digest`` (several alerts
folded into one message: its contexts are the items'), ``reminder`` and
``moved`` (a deadline's reminder; its due time changed), ``proposal`` (a
possible deadline, move or change found in the news, announced once, to be
accepted or dismissed with a command), ``health`` (a feed
became unhealthy or recovered), ``config`` (an edited config was rejected),
``test`` (``notifier test-channel``), ``dead_letter`` (an alert that could
not be delivered in time) and ``brief`` (the morning brief: stories by watch,
deadlines ahead, open proposals, unhealthy feeds; each list capped). A context
whose kind is not in the registry (one queued by a newer version) is rendered
like a ``config`` notice: its ``title`` and its ``body``, with mentions escaped
in both.

``owner`` names the context key that says whose alert it is — ``watch`` for a
match, ``deadline`` for a reminder or a move — so that the watch's or the
deadline's own templates can replace the kind's (see
:class:`notifier.delivery.messages.Renderer`).

To add a kind: write its context builder here and its entry in
:data:`KINDS`; add its templates (title, the three bodies, its digest line)
under ``templates/``; add it to :data:`notifier.model.AlertKind` and to
``KindTemplates`` in :mod:`notifier.config.schema` (then regenerate
``config/watch.schema.json``); add a golden case to ``tests/message_cases.py``
(``NOTIFIER_UPDATE_GOLDEN=1``). ``tests/test_kinds.py`` checks that nothing
is missing.

Every context builder caps the free text that can come from a feed
(:mod:`notifier.delivery.safety`); times are UTC ISO 8601 strings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from notifier.delivery.safety import (
    AUTHOR_MAX,
    DETAIL_MAX,
    HEADLINE_MAX,
    PHRASE_MAX,
    SNIPPET_MAX,
    SUMMARY_HTML_MAX,
    SUMMARY_MAX,
    cap_link,
    clip,
)
from notifier.model import highest_severity

#: An edit's word diff in a context (the diff itself is built capped at 600).
DIFF_MAX: Final = 700
#: The sources listed in a proposal's context; the rest are counted (``source_count``).
PROPOSAL_SOURCES_SHOWN: Final = 5
#: A suggested deadline name in a proposal's context (a config name's longest).
_NAME_MAX: Final = 64

#: The stories a brief lists (all watches together); the rest are counted per watch.
BRIEF_STORIES: Final = 50
#: The deadlines, proposals, feeds and unacknowledged alerts a brief lists; the rest counted.
BRIEF_ITEMS: Final = 20

if TYPE_CHECKING:
    from notifier.deadlines.planning import Reminder, ToSend
    from notifier.model import (
        AlertKind,
        Deadline,
        FeedState,
        Match,
        Proposal,
        Severity,
        Story,
        StoryNote,
        Watch,
    )
    from notifier.sources.health import HealthEvent

__all__ = [
    "BRIEF_ITEMS",
    "BRIEF_STORIES",
    "CONFIG_PROBLEMS_SHOWN",
    "KINDS",
    "ON_TIME",
    "PARTS",
    "PROPOSAL_SOURCES_SHOWN",
    "Kind",
    "as_moment",
    "brief_context",
    "config_context",
    "dead_letter_context",
    "entry_context",
    "health_context",
    "kind_of",
    "match_context",
    "moved_context",
    "proposal_context",
    "reminder_context",
    "story_context",
    "test_context",
]

#: A reminder rendered within this of its planned time reads its planned offset.
ON_TIME: Final = timedelta(seconds=30)
#: Problems listed in a "config rejected" notice; the rest are counted.
CONFIG_PROBLEMS_SHOWN: Final = 20

Context = dict[str, Any]


# --------------------------------------------------------------------------- times


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass an aware one")
    return moment.astimezone(UTC).isoformat()


def as_moment(value: object) -> datetime | None:
    """An ISO 8601 time (or datetime) from a context, aware (naive ones are UTC); else None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- contexts


def match_context(match: Match, severity: Severity, feed_title: str | None) -> Context:
    """The context of a match alert (JSON-able), every feed field capped.

    ``title``, ``summary``, ``author`` and each hit's ``snippet`` are one clean
    line, cut on a word boundary; ``summary`` is the entry's plain-text summary
    (its content when it has none); ``summary_html`` is the summary as served
    (untrusted, capped at :data:`~notifier.delivery.safety.SUMMARY_HTML_MAX`),
    or None; ``published`` and ``updated`` are UTC ISO times, or None.
    """
    entry = match.entry
    raw_html = entry.summary_html
    return {
        "kind": "match",
        "watch": match.watch,
        "severity": severity,
        "feed": entry.feed,
        "feed_title": feed_title,
        "title": clip(entry.title, HEADLINE_MAX),
        "link": cap_link(entry.link),
        "published": _iso(entry.published) if entry.published else None,
        "updated": _iso(entry.updated) if entry.updated else None,
        "author": clip(entry.author, AUTHOR_MAX) or None,
        "summary": clip(entry.summary or entry.content, SUMMARY_MAX),
        "summary_html": raw_html[:SUMMARY_HTML_MAX] if raw_html is not None else None,
        "hits": [
            {"term": h.term, "field": h.field, "snippet": clip(h.snippet, SNIPPET_MAX)}
            for h in match.hits
        ],
        "why": match.explain(),
    }


def entry_context(
    matches: Sequence[Match], watches: Sequence[Watch], feed_title: str | None
) -> Context:
    """The context of one entry's alert, for the ``matches`` of one entry by ``watches``
    (the same order): :func:`match_context` of the first, plus ``watches``, a list of
    ``{watch, severity, why, hits}``, one per watch. With several watches, ``why``
    joins each watch's why (``watch: why``), so a template written for one watch
    still says everything; ``watch`` stays the first watch (its templates apply);
    ``severity`` is the highest of the watches'."""
    context = match_context(matches[0], highest_severity(w.severity for w in watches), feed_title)
    context["watches"] = [
        {
            "watch": m.watch,
            "severity": w.severity,
            "why": m.explain(),
            "hits": [
                {"term": h.term, "field": h.field, "snippet": clip(h.snippet, SNIPPET_MAX)}
                for h in m.hits
            ],
        }
        for m, w in zip(matches, watches, strict=True)
    ]
    if len(matches) > 1:
        context["why"] = "; ".join(f"{m.watch}: {m.explain()}" for m in matches)
    return context


def story_context(note: StoryNote) -> Context:
    """What a match's context gets from the story stage (see :class:`~notifier.model.StoryNote`):
    ``change`` (match, update, edit, replay), ``story`` ({id, sources, first_seen}),
    ``change_reason`` and ``diff`` (an edit's word diff, capped). ``story.updates``
    counts the updates and edits the story alerted before this one."""
    return {
        "change": note.change,
        "story": {
            "id": note.story,
            "sources": note.sources,
            "first_seen": _iso(note.first_seen) if note.first_seen else None,
            "updates": note.updates,
        },
        "change_reason": clip(note.reason, DETAIL_MAX) or None,
        "diff": note.diff[:DIFF_MAX] or None,
    }


def health_context(event: HealthEvent) -> Context:
    """The context of a feed health notice: ``event`` is "unhealthy" or "recovered".

    ``error`` (a server's or parser's message: untrusted) is capped at
    :data:`~notifier.delivery.safety.DETAIL_MAX`.
    """
    return {
        "kind": "health",
        "event": event.kind.value,
        "feed": event.feed,
        "failures": event.failures,
        "error": clip(event.error, DETAIL_MAX) if event.error is not None else None,
        "at": _iso(event.at),
    }


def test_context(channel: str, now: datetime) -> Context:
    """The context of a test alert sent to ``channel`` at ``now``."""
    return {"kind": "test", "channel": channel, "at": _iso(now)}


def dead_letter_context(
    channel: str, title: str, queued_at: datetime, attempts: int, last_error: str | None
) -> Context:
    """The context of a notice that the alert ``title`` never reached ``channel`` in time.

    ``title`` is capped at :data:`~notifier.delivery.safety.HEADLINE_MAX`,
    ``last_error`` at :data:`~notifier.delivery.safety.DETAIL_MAX`.
    """
    return {
        "kind": "dead_letter",
        "channel": channel,
        "title": clip(title, HEADLINE_MAX),
        "queued_at": _iso(queued_at),
        "attempts": attempts,
        "last_error": clip(last_error, DETAIL_MAX) if last_error is not None else None,
    }


def reminder_context(deadline: Deadline, item: ToSend, now: datetime) -> Context:
    """The context of a reminder queued at ``now``.

    ``remaining_seconds`` and ``late_seconds`` hold as of ``now``; rendering
    with its send time recomputes both from ``due``, ``planned`` and
    ``offset_seconds`` (:func:`_reminder_as_of`). ``late`` means caught up
    after downtime (:attr:`ToSend.late`); ``folded`` counts the older missed
    reminders folded into this one.
    """
    r: Reminder = item.reminder
    return {
        "kind": "reminder",
        "deadline": deadline.name,
        "title": deadline.title,
        "due": _iso(r.due),
        "timezone": deadline.timezone.key,
        "offset_seconds": int(r.offset.total_seconds()),
        "reminder": r.kind,
        "planned": _iso(r.at),
        # On time: the planned offset ("in 7 days", not "in 6 days 23 hours"); late: the truth.
        "remaining_seconds": round(((r.due - now) if item.late else r.offset).total_seconds()),
        "late": item.late,
        "late_seconds": max(round((now - r.at).total_seconds()), 0) if item.late else 0,
        "folded": len(item.folded),
        "severity": deadline.severity,
        "link": deadline.link,
        "notes": deadline.notes,
    }


def moved_context(deadline: Deadline, old_due: datetime, now: datetime) -> Context:
    """The context of a "deadline moved" notice queued at ``now``."""
    return {
        "kind": "moved",
        "deadline": deadline.name,
        "title": deadline.title,
        "old_due": _iso(old_due),
        "due": _iso(deadline.due),
        "timezone": deadline.timezone.key,
        "remaining_seconds": round((deadline.due - now).total_seconds()),
        "severity": deadline.severity,
        "link": deadline.link,
        "notes": deadline.notes,
    }


def _fraction(value: float) -> float:
    """``value`` within 0..1 (NaN is 0: a context is JSON)."""
    return 0.0 if math.isnan(value) else min(max(float(value), 0.0), 1.0)


def proposal_context(
    proposal: Proposal, severity: Severity, *, accept: str, dismiss: str
) -> Context:
    """The context of a proposal's announcement: a deadline found in the news (``change``
    ``deadline``), a new due time for a tracked one (``move``) or a change to one
    (``change``: never applied).

    ``deadline_kind`` is what the date is about (expiry, effective, deadline,
    event). ``name`` and ``title`` are the suggested deadline's (the tracked
    one's for a move or a change, whose name is also ``deadline``). ``due``
    and ``old_due`` are UTC ISO times; ``all_day`` says ``due`` has no time of
    day (it is midnight in ``timezone``, the zone it was stated in);
    ``window_end`` is the ISO date of a fuzzy window's last day, or None.
    ``phrase`` is the sentence that states it (capped at
    :data:`~notifier.delivery.safety.PHRASE_MAX`); ``sources`` the first
    :data:`PROPOSAL_SOURCES_SHOWN` entries that stated it (``feed``, ``title``
    capped at :data:`~notifier.delivery.safety.HEADLINE_MAX`, ``link``),
    ``source_count`` all of them, ``link`` the first one's. ``accept`` and
    ``dismiss`` are the commands that settle it (``notifier accept 3f9a1c2b``).
    """
    sources = [
        {"feed": s.feed, "title": clip(s.title, HEADLINE_MAX), "link": cap_link(s.link)}
        for s in proposal.sources[:PROPOSAL_SOURCES_SHOWN]
    ]
    return {
        "kind": "proposal",
        "id": proposal.id,
        "change": proposal.change,
        "deadline_kind": proposal.kind,
        "name": clip(proposal.name, _NAME_MAX),
        "title": clip(proposal.title, HEADLINE_MAX),
        "deadline": proposal.deadline,
        "due": _iso(proposal.due),
        "all_day": proposal.all_day,
        "window_end": proposal.window_end.isoformat() if proposal.window_end else None,
        "timezone": proposal.timezone,
        "old_due": _iso(proposal.old_due) if proposal.old_due else None,
        "phrase": clip(proposal.phrase, PHRASE_MAX),
        "confidence": _fraction(proposal.confidence),
        "sources": sources,
        "source_count": len(proposal.sources),
        "link": sources[0]["link"] if sources else None,
        "watches": list(proposal.watches),
        "severity": severity,
        "accept": accept,
        "dismiss": dismiss,
    }


def config_context(file: str, problems: Sequence[str]) -> Context:
    """The context of a notice that the edited config ``file`` was rejected.

    The body lists the first :data:`CONFIG_PROBLEMS_SHOWN` problems, one a
    line, and counts the rest.
    """
    body = "\n".join(problems[:CONFIG_PROBLEMS_SHOWN])
    if len(problems) > CONFIG_PROBLEMS_SHOWN:
        body += f"\n… and {len(problems) - CONFIG_PROBLEMS_SHOWN} more"
    return {
        "kind": "config",
        "title": f"Config rejected: {file} (still running the old one)",
        "body": body,
    }


# --------------------------------------------------------------------------- as sent


def brief_context(
    day: date,
    now: datetime,
    *,
    since: datetime | None,
    stories: Sequence[Story],
    deadlines: Sequence[tuple[Deadline, datetime]],
    proposals: Sequence[Proposal],
    unhealthy: Sequence[FeedState],
    unacknowledged: Sequence[Mapping[str, Any]] = (),
) -> Context:
    """The context of the morning brief of local ``day``, queued at ``now``.

    ``stories`` (newest first) are grouped under their first watch, in order of each
    group's newest story; at most :data:`BRIEF_STORIES` are listed in all, each group
    counting the rest (``more``). ``deadlines`` are (deadline, occurrence due) pairs,
    listed soonest first with the time left as of ``now`` (recomputed at send time);
    ``proposals``, ``unhealthy`` feeds and ``unacknowledged`` alerts are listed up to
    :data:`BRIEF_ITEMS` each, the rest counted (``*_more``). ``unacknowledged`` holds the
    open ack-eligible alerts of the last 7 days (``{id, title, kind, severity}``).
    """
    groups: dict[str, list[Story]] = {}
    for story in stories:
        groups.setdefault(story.watches[0] if story.watches else "", []).append(story)
    shown = 0
    watches = []
    for watch, found in groups.items():
        listed = found[: max(BRIEF_STORIES - shown, 0)]
        shown += len(listed)
        watches.append(
            {
                "watch": watch,
                "count": len(found),
                "more": len(found) - len(listed),
                "stories": [
                    {
                        "id": st.id,
                        "title": clip(st.title, HEADLINE_MAX),
                        "link": cap_link(st.entries[0].link) if st.entries else None,
                        "feeds": list(st.feeds),
                        "sources": len(st.entries),
                    }
                    for st in listed
                ],
            }
        )
    ahead = sorted(deadlines, key=lambda pair: pair[1])
    return {
        "kind": "brief",
        "day": day.isoformat(),
        "day_label": f"{day:%a} {day.day} {day:%b %Y}",
        "at": _iso(now),
        "since": _iso(since) if since is not None else None,
        "story_count": len(stories),
        "watches": watches,
        "deadlines": [
            {
                "deadline": d.name,
                "title": d.title,
                "due": _iso(due),
                "timezone": d.timezone.key,
                "remaining_seconds": round((due - now).total_seconds()),
                "severity": d.severity,
                "link": d.link,
            }
            for d, due in ahead[:BRIEF_ITEMS]
        ],
        "deadlines_more": max(len(ahead) - BRIEF_ITEMS, 0),
        "proposals": [
            {
                "id": p.id,
                "change": p.change,
                "title": clip(p.title, HEADLINE_MAX),
                "due": _iso(p.due),
                "all_day": p.all_day,
                "window_end": p.window_end.isoformat() if p.window_end else None,
                "timezone": p.timezone,
            }
            for p in proposals[:BRIEF_ITEMS]
        ],
        "proposals_more": max(len(proposals) - BRIEF_ITEMS, 0),
        "unhealthy": [
            {
                "feed": f.name,
                "failures": f.failures,
                "error": clip(f.last_error, DETAIL_MAX) if f.last_error is not None else None,
                "last_ok": _iso(f.last_ok) if f.last_ok is not None else None,
            }
            for f in unhealthy[:BRIEF_ITEMS]
        ],
        "unhealthy_more": max(len(unhealthy) - BRIEF_ITEMS, 0),
        # Open ack-eligible alerts ({id, title, kind, severity}; pipeline/brief.py).
        "unacknowledged": [dict(a) for a in unacknowledged[:BRIEF_ITEMS]],
        "unacknowledged_more": max(len(unacknowledged) - BRIEF_ITEMS, 0),
    }


def _brief_as_of(context: Mapping[str, Any], now: datetime) -> Context:
    """A brief's context with each deadline's time left as of ``now``."""
    out = dict(context)
    items = context.get("deadlines")
    if isinstance(items, list):
        fresh = []
        for item in items:
            due = as_moment(item.get("due")) if isinstance(item, Mapping) else None
            fresh.append(
                {**item, "remaining_seconds": round((due - now).total_seconds())}
                if due is not None and isinstance(item, Mapping)
                else item
            )
        out["deadlines"] = fresh
    return out


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _reminder_as_of(context: Mapping[str, Any], now: datetime) -> Context:
    """A reminder's context with its time left as of ``now``.

    ``remaining_seconds`` becomes the truth at ``now`` (from ``due``), and
    ``late_seconds`` how long after ``planned`` it is sent — except that a
    reminder within :data:`ON_TIME` of its planned time keeps its planned
    offset and counts as on time.
    """
    out = dict(context)
    due = as_moment(context.get("due"))
    if due is None:
        return out
    planned = as_moment(context.get("planned"))
    late = (now - planned).total_seconds() if planned is not None else 0.0
    offset = context.get("offset_seconds")
    if late <= ON_TIME.total_seconds() and isinstance(offset, int):
        out["remaining_seconds"] = offset
        out["late_seconds"] = 0
    else:
        out["remaining_seconds"] = round((due - now).total_seconds())
        out["late_seconds"] = max(round(late), 0)
    return out


def _moved_as_of(context: Mapping[str, Any], now: datetime) -> Context:
    """A deadline move's context with ``remaining_seconds`` as of ``now``."""
    out = dict(context)
    due = as_moment(context.get("due"))
    if due is not None:
        out["remaining_seconds"] = round((due - now).total_seconds())
    return out


# --------------------------------------------------------------------------- the registry

#: The built-in templates of a kind: its title, its body per format, its digest line.
PARTS: Final = ("title", "text", "markdown", "html", "line")


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of alert: how its context is built and refreshed, what in it is
    untrusted, whose templates may replace its own, and where its texts are.

    ``context`` builds the context (None for ``digest``, whose contexts are its
    items'). ``untrusted`` names the context keys holding feed text (or a
    server's words): their mentions are escaped unless the channel allows them
    (``hits.snippet``: the ``snippet`` of each item of ``hits``; ``sources.title``
    the ``title`` of each item of ``sources``).
    ``as_of`` recomputes the context at its send time (None: sent as built).
    ``owner`` is the context key naming the watch or deadline whose own
    templates replace the kind's (None: only ``templates.<kind>``).
    """

    name: AlertKind
    context: Callable[..., Context] | None
    untrusted: tuple[str, ...] = ()
    as_of: Callable[[Mapping[str, Any], datetime], Context] | None = None
    owner: Literal["watch", "deadline"] | None = None

    def template(self, part: str) -> str:
        """The file name of a built-in template of the kind: ``part`` is ``title``, a body
        format (``text``, ``markdown``, ``html``) or ``line`` (``match.html.j2``)."""
        return f"{self.name}.{part}.j2"

    @property
    def templates(self) -> tuple[str, ...]:
        """Every built-in template file of the kind (a digest has no digest line)."""
        parts = PARTS[:-1] if self.name == "digest" else PARTS
        return tuple(self.template(p) for p in parts)


KINDS: Final[Mapping[str, Kind]] = {
    kind.name: kind
    for kind in (
        Kind(
            "match",
            match_context,
            ("title", "summary", "author", "hits.snippet", "watches.hits.snippet", "diff"),
            owner="watch",
        ),
        Kind("digest", None),
        Kind("reminder", reminder_context, as_of=_reminder_as_of, owner="deadline"),
        Kind("moved", moved_context, as_of=_moved_as_of, owner="deadline"),
        Kind("proposal", proposal_context, ("title", "phrase", "sources.title")),
        Kind("health", health_context, ("error",)),
        Kind("config", config_context, ("title", "body")),
        Kind("test", test_context),
        Kind("dead_letter", dead_letter_context, ("title", "last_error")),
        Kind(
            "brief",
            brief_context,
            ("watches.stories.title", "proposals.title", "unhealthy.error"),
            as_of=_brief_as_of,
        ),
    )
}


def kind_of(context: Mapping[str, Any]) -> Kind:
    """The registry entry of a context; an unknown kind is rendered as a ``config`` notice."""
    kind = context.get("kind")
    return KINDS.get(kind, KINDS["config"]) if isinstance(kind, str) else KINDS["config"]
