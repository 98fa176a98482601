"""The text of every alert: contexts (what is queued) and renderings (what is sent).

An alert waits in the outbox as a *context*: a plain JSON-able dict built here
from a match, a health event, a test request or an undeliverable alert. It is
rendered only when it is sent, alone or folded with others into a digest::

    Match / HealthEvent ─▶ *_context() ─▶ dict (JSON in the outbox)
                                            │
               Renderer.render(ctx, fmt) ◀──┤──▶ Renderer.render_digest([ctx, …], fmt, reason)
                            │                               │
                            └──────▶ Rendered(title, body, format, template_error)

Every kind has a built-in text in three body formats (``text``, ``markdown``,
``html``); a user template (``templates.<kind>.title``/``.body`` in the config)
replaces it. A kind without a built-in text is rendered generically from ``context["title"]`` and
``context.get("body")``.

Feed text is untrusted, and so are links, snippets and error messages:

* The **title** (Apprise's title) is always plain text: control characters and
  newlines become spaces, and it is cut to :data:`TITLE_MAX` characters.
* In **html** bodies every value is escaped; a link is clickable only when it
  is http(s) with a host (else it is shown as escaped text); ``summary_html``
  reaches a template only through :func:`notifier.feeds.html.sanitize`.
* In **markdown** bodies untrusted text has its markdown-active characters
  escaped (``\\ ` * _ [ ] ( )`` always, ``# > + - 1.`` at the start of a line,
  ``<`` as ``&lt;`` so no raw HTML or autolink gets through), and link URLs are
  percent-encoded so a ``)`` or a space cannot end them early.

User templates run in Jinja2's immutable sandbox, compiled once per
:class:`Renderer`. A missing variable renders empty; a template that fails
(a sandbox violation, a type error…) falls back to the built-in text and the
error is returned in :attr:`Rendered.template_error` for the caller to log.
Values printed by ``{{ … }}`` are escaped for the body format: HTML-escaped
(Jinja's autoescape) in html, markdown-escaped in markdown (``|safe`` opts
out), untouched in text; ``None`` prints as nothing. A template sees:

* the context's keys, and ``<key>_local`` for each time key (``published_local``,
  ``at_local``, ``queued_at_local``, ``due_local``, ``old_due_local``,
  ``planned_local``: "Tue 10 Jun 2025 09:00 EDT" in the zone);
* ``safe_link`` (the link if http(s), else None), ``summary_html`` sanitised,
  ``format`` (the body format), ``default_title`` and ``default_body`` (the
  built-in texts, already escaped for the format);
* in a digest: ``items`` (each item's variables plus its ``headline``),
  ``count`` and ``reason``;
* filters ``local`` (an ISO time shown in the zone) and ``markdown_url``
  (a URL percent-encoded for a markdown link).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import ChainableUndefined, Template, Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from notifier.feeds.html import sanitize
from notifier.summary import when

if TYPE_CHECKING:
    from notifier.config import BodyFormat, Severity, TemplateKind, TemplateSpec
    from notifier.health import HealthEvent
    from notifier.model import Match

__all__ = [
    "SUMMARY_MAX",
    "TITLE_MAX",
    "Rendered",
    "Renderer",
    "clean_title",
    "dead_letter_context",
    "health_context",
    "markdown_escape",
    "markdown_url",
    "match_context",
    "test_context",
]

#: Longest title sent, "…" included.
TITLE_MAX: Final = 200
#: Longest plain-text summary kept in a match context, "…" included.
SUMMARY_MAX: Final = 300
#: Longest raw ``summary_html`` kept in a match context (it is stored in the outbox).
SUMMARY_HTML_MAX: Final = 20_000
#: Longest error message or snippet shown in a body.
DETAIL_MAX: Final = 300
#: Hits shown with their snippet on a match's "Why:" line; the rest are counted.
WHY_HITS: Final = 3
#: Context keys holding ISO 8601 times; templates also get ``<key>_local``.
TIME_KEYS: Final = ("published", "at", "queued_at", "due", "old_due", "planned")

_FORMATS: Final = ("text", "markdown", "html")
_UNTITLED = "(no title)"

# C0 and C1 controls (newlines and tabs included), and the bidi embeddings,
# overrides and isolates that can make a title read differently than it is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MD_INLINE = re.compile(r"([\\`*_\[\]()])")
# After inline escaping: what would start a heading, quote, list item or ordered list.
_MD_BLOCK = re.compile(r"[#>+-]|\d{1,9}\.")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message ready for Apprise.

    ``title`` is plain text (one line, at most :data:`TITLE_MAX` characters);
    ``body`` is written in ``format``, which is passed to Apprise as
    ``body_format``. ``template_error`` says why a user template was not used
    (the built-in text was sent instead); None when all went well.
    """

    title: str
    body: str
    format: BodyFormat
    template_error: str | None = None


# --------------------------------------------------------------------------- contexts


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass an aware one")
    return moment.astimezone(UTC).isoformat()


def match_context(match: Match, severity: Severity, feed_title: str | None) -> dict[str, Any]:
    """The context of a match alert (JSON-able).

    ``summary`` is the entry's plain-text summary (its content when it has
    none), trimmed to about :data:`SUMMARY_MAX` characters on a word boundary;
    ``summary_html`` is the summary as served (untrusted, capped at
    :data:`SUMMARY_HTML_MAX`), or None.
    """
    entry = match.entry
    raw_html = entry.summary_html
    return {
        "kind": "match",
        "watch": match.watch,
        "severity": severity,
        "feed": entry.feed,
        "feed_title": feed_title,
        "title": entry.title,
        "link": entry.link,
        "published": _iso(entry.published) if entry.published else None,
        "summary": _trim(_one_line(entry.summary or entry.content), SUMMARY_MAX),
        "summary_html": raw_html[:SUMMARY_HTML_MAX] if raw_html is not None else None,
        "hits": [{"term": h.term, "field": h.field, "snippet": h.snippet} for h in match.hits],
        "why": match.explain(),
    }


def health_context(event: HealthEvent) -> dict[str, Any]:
    """The context of a feed health notice: ``event`` is "unhealthy" or "recovered"."""
    return {
        "kind": "health",
        "event": event.kind.value,
        "feed": event.feed,
        "failures": event.failures,
        "error": event.error,
        "at": _iso(event.at),
    }


def test_context(channel: str, now: datetime) -> dict[str, Any]:
    """The context of a test alert sent to ``channel`` at ``now``."""
    return {"kind": "test", "channel": channel, "at": _iso(now)}


def dead_letter_context(
    channel: str, title: str, queued_at: datetime, attempts: int, last_error: str | None
) -> dict[str, Any]:
    """The context of a notice that the alert ``title`` never reached ``channel`` in time."""
    return {
        "kind": "dead_letter",
        "channel": channel,
        "title": title,
        "queued_at": _iso(queued_at),
        "attempts": attempts,
        "last_error": last_error,
    }


# --------------------------------------------------------------------------- plain text helpers


def _one_line(text: str) -> str:
    """``text`` without control characters, every whitespace run one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _trim(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters ("…" included), on a word boundary if one is near."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-—") + "…"


def clean_title(text: str) -> str:
    """A title as Apprise gets it: plain text, one line, at most :data:`TITLE_MAX` characters."""
    return _trim(_one_line(text), TITLE_MAX)


def _text(value: object) -> str:
    """A context value as one clean line ('' for None)."""
    if value is None or isinstance(value, Undefined):
        return ""
    return _one_line(value if isinstance(value, str) else str(value))


def _linkable(url: object) -> str | None:
    """``url`` (without control characters) when it is http(s) with a host, else None."""
    if not isinstance(url, str):
        return None
    candidate = _CONTROL.sub("", url).strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate


def _plural(count: object, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --------------------------------------------------------------------------- writers


def markdown_escape(text: str) -> str:
    """``text`` with every markdown-active character escaped (see the module docstring)."""
    lines = []
    for line in text.split("\n"):
        content = line.lstrip(" \t")
        indent = line[: len(line) - len(content)]
        escaped = _MD_INLINE.sub(r"\\\1", content).replace("<", "&lt;")
        block = _MD_BLOCK.match(escaped)
        if block:
            at = block.end() - 1
            escaped = f"{escaped[:at]}\\{escaped[at:]}"
        lines.append(indent + escaped)
    return "\n".join(lines)


def markdown_url(url: str) -> str:
    """``url`` percent-encoded for a markdown link destination (no space, ``(``, ``)`` or ``<``)."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~")


class _Writer:
    """How one body format writes escaped text, emphasis, links, lines and lists."""

    format: BodyFormat = "text"
    #: Whether a headline carries its link (markdown, html) or the link gets its own line.
    inline_links = False

    def esc(self, text: str) -> str:
        return text

    def strong(self, escaped: str) -> str:
        return escaped

    def anchor(self, escaped: str, url: str) -> str:
        return escaped

    def join(self, lines: Sequence[str]) -> str:
        return "\n".join(lines)

    def listing(self, items: Sequence[Sequence[str]]) -> str:
        width = len(str(len(items))) + 2
        out = []
        for n, lines in enumerate(items, 1):
            out.append(f"{n}.".ljust(width) + lines[0])
            out += [" " * width + line for line in lines[1:]]
        return "\n".join(out)


class _Markdown(_Writer):
    format: BodyFormat = "markdown"
    inline_links = True

    def esc(self, text: str) -> str:
        return markdown_escape(text)

    def strong(self, escaped: str) -> str:
        return f"**{escaped}**"

    def anchor(self, escaped: str, url: str) -> str:
        return f"[{escaped}]({markdown_url(url)})"

    def listing(self, items: Sequence[Sequence[str]]) -> str:
        return "\n".join(
            "\n".join(["- " + lines[0], *("  " + x for x in lines[1:])]) for lines in items
        )


class _Html(_Writer):
    format: BodyFormat = "html"
    inline_links = True

    def esc(self, text: str) -> str:
        return str(escape(text))

    def strong(self, escaped: str) -> str:
        return f"<b>{escaped}</b>"

    def anchor(self, escaped: str, url: str) -> str:
        return f'<a href="{escape(url)}">{escaped}</a>'

    def join(self, lines: Sequence[str]) -> str:
        return "<br>".join(lines)

    def listing(self, items: Sequence[Sequence[str]]) -> str:
        return "<ul>" + "".join(f"<li>{'<br>'.join(lines)}</li>" for lines in items) + "</ul>"


_WRITERS: Final[Mapping[str, _Writer]] = {
    "text": _Writer(),
    "markdown": _Markdown(),
    "html": _Html(),
}


def _headline(w: _Writer, title: str, link: object) -> list[str]:
    """The bold title (carrying its link in markdown/html), then a link line if needed.

    A link that is not http(s) is never made clickable: it is shown as text.
    """
    safe = _linkable(link)
    label = w.esc(title)
    if safe and w.inline_links:
        return [w.strong(w.anchor(label, safe))]
    lines = [w.strong(label)]
    if safe:
        lines.append(w.esc(safe))
    elif _text(link):
        lines.append(w.esc("Link (not opened): " + _trim(_text(link), DETAIL_MAX)))
    return lines


# --------------------------------------------------------------------------- built-in texts

Local = Callable[[object], str]


def _match_title(ctx: Mapping[str, Any]) -> str:
    title = _text(ctx.get("title")) or _UNTITLED
    severity = _text(ctx.get("severity"))
    return f"[{severity.upper()}] {title}" if severity in ("high", "critical") else title


def _why(ctx: Mapping[str, Any], *, snippets: bool) -> str:
    hits = [h for h in ctx.get("hits") or () if isinstance(h, Mapping)]
    if not snippets or not hits:
        return _text(ctx.get("why"))
    parts = []
    for hit in hits[:WHY_HITS]:
        part = f'"{_text(hit.get("term"))}" in {_text(hit.get("field"))}'
        snippet = _trim(_text(hit.get("snippet")), DETAIL_MAX)
        parts.append(f"{part} — {snippet}" if snippet else part)
    if len(hits) > WHY_HITS:
        parts.append(f"+{len(hits) - WHY_HITS} more")
    return "; ".join(parts)


def _match(ctx: Mapping[str, Any], w: _Writer, local: Local) -> tuple[str, list[str]]:
    headline, *link_lines = _headline(w, _text(ctx.get("title")) or _UNTITLED, ctx.get("link"))
    source = _text(ctx.get("feed_title")) or _text(ctx.get("feed"))
    published = local(ctx.get("published"))
    lines = [headline, w.esc(" · ".join(x for x in (source, published) if x))]
    summary = _trim(_text(ctx.get("summary")), SUMMARY_MAX)
    if summary:
        lines.append(w.esc(summary))
    lines += link_lines
    why = _why(ctx, snippets=True)
    if why:
        lines.append(w.esc(f"Why: {why}"))
    lines.append(w.esc(f"Watch: {_text(ctx.get('watch'))}"))
    return _match_title(ctx), lines


def _health_title(ctx: Mapping[str, Any]) -> str:
    state = "recovered" if ctx.get("event") == "recovered" else "unhealthy"
    return f"Feed {state}: {_text(ctx.get('feed'))}"


def _health_detail(ctx: Mapping[str, Any]) -> list[str]:
    failures = _plural(ctx.get("failures"), "failure")
    if ctx.get("event") == "recovered":
        return [f"Polled successfully again after {failures} in a row."]
    lines = [f"{failures} in a row; still polling, less often."]
    error = _trim(_text(ctx.get("error")), DETAIL_MAX)
    if error:
        lines.append(f"Last error: {error}")
    return lines


def _health(ctx: Mapping[str, Any], w: _Writer, local: Local) -> tuple[str, list[str]]:
    title = _health_title(ctx)
    lines = [w.strong(w.esc(title)), *(w.esc(x) for x in _health_detail(ctx))]
    at = local(ctx.get("at"))
    if at:
        lines.append(w.esc(f"At: {at}"))
    return title, lines


def _test(ctx: Mapping[str, Any], w: _Writer, local: Local) -> tuple[str, list[str]]:
    title = "notifier test alert"
    lines = [w.strong(w.esc(title)), w.esc(f"Channel: {_text(ctx.get('channel'))}")]
    at = local(ctx.get("at"))
    if at:
        lines.append(w.esc(f"Sent: {at}"))
    lines.append(w.esc("If you can read this, alerts reach this channel."))
    return title, lines


def _dead_letter_detail(ctx: Mapping[str, Any]) -> str:
    return (
        f"Channel {_text(ctx.get('channel'))}, {_plural(ctx.get('attempts'), 'attempt')}; "
        f"last error: {_trim(_text(ctx.get('last_error')), DETAIL_MAX) or 'none recorded'}"
    )


def _dead_letter(ctx: Mapping[str, Any], w: _Writer, local: Local) -> tuple[str, list[str]]:
    title = f"Alert not delivered: {_text(ctx.get('title')) or _UNTITLED}"
    lines = [
        w.strong(w.esc(title)),
        w.esc(f"Channel: {_text(ctx.get('channel'))}"),
        w.esc(f"Attempts: {_text(ctx.get('attempts'))}"),
    ]
    queued = local(ctx.get("queued_at"))
    if queued:
        lines.append(w.esc(f"Queued: {queued}"))
    lines.append(w.esc(f"Last error: {_trim(_text(ctx.get('last_error')), DETAIL_MAX) or '-'}"))
    lines.append(w.esc("Not delivered within the maximum age: the alert was dropped."))
    return title, lines


def human_span(seconds: float) -> str:
    """``7 days``, ``1 day 4 hours``, ``2 hours``, ``35 minutes`` (rounded to the minute)."""
    minutes = round(abs(seconds) / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days >= 2 or (days and not hours):
        return (
            _plural(days, "day")
            if hours < 12 or days >= 7
            else (f"{_plural(days, 'day')} {_plural(hours, 'hour')}")
        )
    if days:
        return f"{_plural(days, 'day')} {_plural(hours, 'hour')}"
    if hours:
        return _plural(hours, "hour") + (
            f" {_plural(mins, 'minute')}" if mins and hours < 3 else ""
        )
    return _plural(mins, "minute")


def _relative(seconds: object) -> str:
    value = seconds if isinstance(seconds, int | float) else 0
    if abs(value) < 1:
        return "now"
    if abs(value) < 60:
        n = round(abs(value))
        span = _plural(n, "second")
        return f"in {span}" if value > 0 else f"{span} ago"
    span = human_span(value)
    return f"in {span}" if value > 0 else f"{span} ago"


def _due_line(ctx: Mapping[str, Any], local: Local) -> str:
    """``in 7 days — Wed 9 Jul 2025 00:01 EDT`` (plus the deadline's own zone if different)."""
    due_text = local(ctx.get("due"))
    zone = _text(ctx.get("timezone"))
    try:
        own = when(datetime.fromisoformat(_text(ctx.get("due"))), ZoneInfo(zone)) if zone else ""
    except (ValueError, KeyError):
        own = ""
    if own and own != due_text:
        due_text = f"{due_text} ({own})"
    return f"{_relative(ctx.get('remaining_seconds'))} — {due_text}"


def _reminder_title(ctx: Mapping[str, Any]) -> str:
    title = _text(ctx.get("title")) or _UNTITLED
    which = ctx.get("reminder")
    if which == "at":
        return f"Due now: {title}"
    remaining = ctx.get("remaining_seconds")
    when_text = _relative(remaining)
    if which == "after":
        return f"Passed {when_text}: {title}"
    return f"{title} — {when_text}"


def _reminder(ctx: Mapping[str, Any], w: _Writer, local: Local) -> tuple[str, list[str]]:
    headline, *link_lines = _headline(w, _text(ctx.get("title")) or _UNTITLED, ctx.get("link"))
    lines = [headline, w.esc(_due_line(ctx, local))]
    notes = _text(ctx.get("notes"))
    if notes:
        lines += [w.esc(line) for line in notes.splitlines() if line.strip()]
    lines += link_lines
    if ctx.get("late"):
        planned = local(ctx.get("planned"))
        lines.append(w.esc(f"Sent late: the daemon was down at the planned time ({planned})."))
    folded = ctx.get("folded")
    if isinstance(folded, int) and folded > 0:
        lines.append(
            w.esc(f"{_plural(folded, 'earlier reminder')} missed meanwhile, folded into this one.")
        )
    return _reminder_title(ctx), lines


def _moved(ctx: Mapping[str, Any], w: _Writer, local: Local) -> tuple[str, list[str]]:
    title = f"Deadline moved: {_text(ctx.get('title')) or _UNTITLED}"
    headline, *link_lines = _headline(w, title, ctx.get("link"))
    lines = [
        headline,
        w.esc(f"From {local(ctx.get('old_due'))} to {local(ctx.get('due'))}"),
        w.esc(f"Now due {_due_line(ctx, local)}"),
        *link_lines,
    ]
    return title, lines


def _generic(ctx: Mapping[str, Any], w: _Writer, local: Local) -> tuple[str, list[str]]:
    body = ctx.get("body")
    text = "" if body is None else str(body)
    lines = [_CONTROL.sub(" ", line).rstrip() for line in text.splitlines()]
    return _text(ctx.get("title")), [w.esc(line) for line in lines]


_DEFAULTS: Final[
    Mapping[str, Callable[[Mapping[str, Any], _Writer, Local], tuple[str, list[str]]]]
] = {
    "match": _match,
    "health": _health,
    "test": _test,
    "dead_letter": _dead_letter,
    "reminder": _reminder,
    "moved": _moved,
}


def _item_title(ctx: Mapping[str, Any]) -> str:
    """The title one context has on its own (its line in a digest)."""
    kind = ctx.get("kind")
    if kind == "match":
        return _match_title(ctx)
    if kind == "health":
        return _health_title(ctx)
    if kind == "test":
        return "notifier test alert"
    if kind == "dead_letter":
        return f"Alert not delivered: {_text(ctx.get('title')) or _UNTITLED}"
    if kind == "reminder":
        return _reminder_title(ctx)
    if kind == "moved":
        return f"Deadline moved: {_text(ctx.get('title')) or _UNTITLED}"
    return _text(ctx.get("title")) or _UNTITLED


def _item(ctx: Mapping[str, Any], w: _Writer, local: Local) -> list[str]:
    """One context as a compact digest entry: headline (with link), then one or two lines."""
    kind = ctx.get("kind")
    lines = _headline(w, _item_title(ctx), ctx.get("link") if kind == "match" else None)
    if kind == "match":
        why = _why(ctx, snippets=False)
        details = [f"Why: {why}"] if why else []
    elif kind == "health":
        details = _health_detail(ctx)[-1:]
    elif kind == "test":
        details = [f"Channel: {_text(ctx.get('channel'))}"]
    elif kind == "dead_letter":
        details = [_dead_letter_detail(ctx)]
    elif kind in ("reminder", "moved"):
        details = [f"Due {_due_line(ctx, local)}"]
    else:
        first = next((x for x in str(ctx.get("body") or "").splitlines() if x.strip()), "")
        details = [_trim(_one_line(first), DETAIL_MAX)] if first else []
    return lines + [w.esc(x) for x in details]


def _digest_title(contexts: Sequence[Mapping[str, Any]]) -> str:
    n = len(contexts)
    if all(c.get("kind") == "match" for c in contexts):
        watches = list(dict.fromkeys(_text(c.get("watch")) for c in contexts))
        shown = ", ".join(watches[:3]) + (f" +{len(watches) - 3}" if len(watches) > 3 else "")
        return f"{n} new {'match' if n == 1 else 'matches'} — {shown}"
    return f"{_plural(n, 'alert')}: " + ", ".join(_item_title(c) for c in contexts)


# --------------------------------------------------------------------------- templates


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, where touching an unsafe attribute raises.

    Jinja's sandbox turns ``''.__class__`` into an undefined value; with
    forgiving undefined values that would print nothing and hide the attempt.
    """

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )


def _finalize_plain(value: object) -> object:
    return "" if value is None else value


def _finalize_markdown(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, Markup | Undefined | int | float):
        return value
    return markdown_escape(str(value))


def _markdown_url_filter(url: object) -> Markup:
    # Percent-encoding leaves nothing markdown-active in a link destination.
    return Markup(markdown_url(str(url)))  # noqa: S704 - only in markdown bodies, never html


def _environment(fmt: BodyFormat, local: Local) -> _Sandbox:
    env = _Sandbox(
        autoescape=fmt == "html",
        undefined=ChainableUndefined,
        finalize=_finalize_markdown if fmt == "markdown" else _finalize_plain,
    )
    env.filters["local"] = local
    env.filters["markdown_url"] = _markdown_url_filter if fmt == "markdown" else markdown_url
    return env


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A template compiled, or why it could not be."""

    template: Template | None
    error: str | None


def _compile(env: _Sandbox, source: str | None, where: str) -> _Compiled | None:
    if source is None:
        return None
    try:
        return _Compiled(env.from_string(source), None)
    except Exception as e:  # noqa: BLE001 - a bad template falls back to the built-in text
        return _Compiled(None, f"{where}: {type(e).__name__}: {e}")


# --------------------------------------------------------------------------- the renderer


class Renderer:
    """Renders contexts into :class:`Rendered` messages, in the user's zone and templates.

    ``templates`` maps a kind (``match``, ``digest``, ``health``…) to the
    user's title and/or body template; ``zone`` is where times are shown.
    Templates are compiled here, once.
    """

    def __init__(self, templates: Mapping[TemplateKind, TemplateSpec], zone: ZoneInfo) -> None:
        self._zone = zone
        self._templated = frozenset(templates)
        envs = {fmt: _environment(fmt, self._local) for fmt in _FORMATS}
        self._titles: dict[str, _Compiled | None] = {}
        self._bodies: dict[tuple[str, str], _Compiled | None] = {}
        for kind, spec in templates.items():
            self._titles[kind] = _compile(envs["text"], spec.title, f"templates.{kind}.title")
            for fmt in _FORMATS:
                where = f"templates.{kind}.body"
                self._bodies[kind, fmt] = _compile(envs[fmt], spec.body, where)

    def _local(self, value: object) -> str:
        """An ISO 8601 time from a context, shown in the zone ('' when absent or unreadable)."""
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return ""
        else:
            return ""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            return when(moment, self._zone)
        except (OverflowError, ValueError):
            return ""

    def render(self, context: Mapping[str, Any], fmt: BodyFormat) -> Rendered:
        """Render one alert; its kind is ``context["kind"]``."""
        w = _writer(fmt)
        kind = _text(context.get("kind"))
        default = _DEFAULTS.get(kind, _generic)
        title, lines = default(context, w, self._local)
        return self._finish(
            kind, fmt, clean_title(title), w.join(lines), lambda: self._variables(context, fmt)
        )

    def render_digest(
        self, contexts: Sequence[Mapping[str, Any]], fmt: BodyFormat, reason: str
    ) -> Rendered:
        """Fold several alerts, in their order, into one message; ``reason`` heads the body.

        ``reason`` says why they were folded: "digest of the last hour",
        "held during quiet hours 22:00-07:00", "rate limit 30/1h".
        Raises ValueError when ``contexts`` is empty.
        """
        if not contexts:
            raise ValueError("a digest needs at least one alert")
        w = _writer(fmt)
        n = len(contexts)
        why = _one_line(reason)
        count = _plural(n, "alert")
        head = f"{why[:1].upper()}{why[1:]} — {count}" if why else count
        # Python-Markdown starts a list only after a blank line.
        gap = {"text": "\n", "markdown": "\n\n", "html": ""}[fmt]
        body = w.esc(head) + gap + w.listing([_item(c, w, self._local) for c in contexts])

        def variables() -> dict[str, Any]:
            return {
                "items": [
                    {**self._variables(c, fmt), "headline": _item_title(c)} for c in contexts
                ],
                "count": n,
                "reason": reason,
                "format": fmt,
            }

        return self._finish("digest", fmt, clean_title(_digest_title(contexts)), body, variables)

    def _variables(self, context: Mapping[str, Any], fmt: BodyFormat) -> dict[str, Any]:
        """What a template sees: the context, local times, the safe link, sanitised HTML."""
        variables = dict(context)
        for key in TIME_KEYS:
            if key in context:
                variables[f"{key}_local"] = self._local(context[key])
        safe = _linkable(context.get("link"))
        variables["safe_link"] = safe
        raw_html = context.get("summary_html")
        if "summary_html" in context:
            clean = sanitize(raw_html, base=safe) if isinstance(raw_html, str) else None
            # Sanitised by nh3 (allowlisted tags, safe links): fit to print as is.
            variables["summary_html"] = Markup(clean) if clean is not None else None  # noqa: S704
        variables["format"] = fmt
        return variables

    def _finish(
        self,
        kind: str,
        fmt: BodyFormat,
        title: str,
        body: str,
        variables: Callable[[], dict[str, Any]],
    ) -> Rendered:
        """Apply the user's templates of ``kind`` over the built-in ``title`` and ``body``.

        ``variables`` is called only when there is a template to run.
        """
        if kind not in self._templated:
            return Rendered(title, body, fmt)
        errors: list[str] = []
        # The built-in body is already escaped for ``fmt``.
        context = {**variables(), "default_title": title, "default_body": Markup(body)}  # noqa: S704
        custom = self._run(self._titles.get(kind), context, errors, f"templates.{kind}.title")
        if custom is not None:
            title = clean_title(custom)
        custom = self._run(self._bodies.get((kind, fmt)), context, errors, f"templates.{kind}.body")
        if custom is not None:
            if custom.strip():
                body = custom.strip("\n")
            else:
                errors.append(f"templates.{kind}.body: rendered empty; the built-in text was sent")
        return Rendered(title, body, fmt, "; ".join(errors) or None)

    @staticmethod
    def _run(
        compiled: _Compiled | None, variables: Mapping[str, Any], errors: list[str], where: str
    ) -> str | None:
        """The template's output, or None (with the error noted) when there is none or it fails."""
        if compiled is None:
            return None
        if compiled.template is None:
            errors.append(compiled.error or where)
            return None
        try:
            return compiled.template.render(variables)
        except Exception as e:  # noqa: BLE001 - a failing user template must not stop the alert
            errors.append(f"{where}: {type(e).__name__}: {e}")
            return None


def _writer(fmt: str) -> _Writer:
    try:
        return _WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown body format {fmt!r} (expected text, markdown or html)") from None
