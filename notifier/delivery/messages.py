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

* **Sizes.** The context builders cap every free-text field that can come
  from a feed, cutting on a word boundary with "…" (the cap includes it), so
  a hostile 1 MB title costs a few hundred bytes in the outbox and in the
  message: an entry's ``title`` :data:`HEADLINE_MAX` (300) characters, its
  ``summary`` :data:`SUMMARY_MAX` (300), each hit's ``snippet``
  :data:`SNIPPET_MAX` (200), ``author`` :data:`AUTHOR_MAX` (100), error
  messages (health notices, dead letters) :data:`DETAIL_MAX` (300), the raw
  ``summary_html`` :data:`SUMMARY_HTML_MAX` (20,000) and the ``link``
  :data:`LINK_MAX` (2,048; a link cut there is shown as text, never
  clickable). The message title is at most :data:`TITLE_MAX` (200).
* **Hostile characters.** One function, :func:`clean_text`, cleans the
  built-in texts and every value a user template sees: it removes the C0 and
  C1 control characters and the bidi embeddings, overrides and isolates
  (U+202A–U+202E, U+2066–U+2069) that can make text read differently than it
  is. Where a body allows lines (template values, notes), newlines and tabs
  are kept (``\\r\\n``, ``\\r``, U+2028… become ``\\n``); elsewhere every
  whitespace run becomes one space.
* **Mentions.** Unless the channel says ``mentions: allow``, feed text cannot
  ping a whole chat: :func:`escape_mentions` puts a zero-width space after
  the ``@`` of ``@here``, ``@everyone``, ``@channel``, ``@all`` and ``@room``
  (Slack, Discord, Mattermost, Matrix), and after the ``<``/``!``/``@`` of
  Slack's and Discord's ``<!here>``, ``<@U123>``, ``<@&role>`` tokens. Only
  values that came from a feed (or a server's error message) are escaped,
  never the user's own template text, deadline titles or notes.
* The **title** (Apprise's title) is always plain text: one clean line, cut
  to :data:`TITLE_MAX` characters.
* In **html** bodies every value is escaped; a link is clickable only when it
  is http(s) with a host (else it is shown as escaped text); ``summary_html``
  reaches a template only through :func:`notifier.sources.html.sanitize`.
* In **markdown** bodies untrusted text has its markdown-active characters
  escaped (``\\ ` * _ [ ] ( )`` always, ``# > + - 1.`` at the start of a line,
  ``<`` as ``&lt;`` so no raw HTML or autolink gets through), and link URLs are
  percent-encoded so a ``)`` or a space cannot end them early.
* A safe **link** is written out as text in every format (its own line, after
  the summary), besides making the headline clickable in markdown and html:
  the plain-text part Apprise derives from an html e-mail keeps it.

Times are rendered as of the moment the message is built (``now``, its send
time; see :meth:`Renderer.render`). A reminder rendered within :data:`ON_TIME`
(30 s) of its planned time reads its planned offset ("in 7 days", not "in 6
days 23 hours"); later than that it reads the time actually left, computed
from its due time and ``now``, and says how late it was sent. The title and
the body use the same value. Relative times are worded by
:func:`notifier.text.relative` ("in 7 days", "2 hours ago"; "now" within
3 s).

User templates run in Jinja2's immutable sandbox, compiled once per
:class:`Renderer`. A missing variable renders empty; a template that fails
(a sandbox violation, a type error…) falls back to the built-in text and the
error is returned in :attr:`Rendered.template_error` for the caller to log.
Values printed by ``{{ … }}`` are escaped for the body format: HTML-escaped
(Jinja's autoescape) in html, markdown-escaped in markdown (``|safe`` opts
out), untouched in text; ``None`` prints as nothing. A template sees:

* the context's keys, cleaned, and ``<key>_local`` for each time key
  (``published_local``, ``updated_local``, ``at_local``, ``queued_at_local``,
  ``due_local``, ``old_due_local``, ``planned_local``: "Tue 10 Jun 2025 09:00
  EDT" in the zone). An entry with no published time but an updated one (an
  Atom ``<updated>`` alone) has ``published_local`` "updated Tue 10 Jun 2025
  09:00 EDT"; ``published`` itself stays None;
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
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import ChainableUndefined, Template, Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from notifier.sources.html import sanitize
from notifier.text import JUST_NOW, relative, span, when

if TYPE_CHECKING:
    from notifier.model import BodyFormat, Match, Mentions, Severity, TemplateKind
    from notifier.model import Template as UserTemplate
    from notifier.sources.health import HealthEvent

__all__ = [
    "AUTHOR_MAX",
    "DETAIL_MAX",
    "HEADLINE_MAX",
    "LINK_MAX",
    "ON_TIME",
    "SNIPPET_MAX",
    "SUMMARY_HTML_MAX",
    "SUMMARY_MAX",
    "TITLE_MAX",
    "Rendered",
    "Renderer",
    "clean_text",
    "clean_title",
    "clip",
    "dead_letter_context",
    "escape_mentions",
    "health_context",
    "markdown_escape",
    "markdown_url",
    "match_context",
    "test_context",
]

#: Longest title sent, "…" included.
TITLE_MAX: Final = 200
#: Longest entry title kept in a match context (the body's headline), "…" included.
HEADLINE_MAX: Final = 300
#: Longest plain-text summary kept in a match context, "…" included.
SUMMARY_MAX: Final = 300
#: Longest snippet of a hit kept in a match context, "…" included.
SNIPPET_MAX: Final = 200
#: Longest author kept in a match context, "…" included.
AUTHOR_MAX: Final = 100
#: Longest raw ``summary_html`` kept in a match context (it is stored in the outbox).
SUMMARY_HTML_MAX: Final = 20_000
#: Longest error message kept in a context, or snippet or error shown in a body.
DETAIL_MAX: Final = 300
#: Longest link kept in a match context; a longer one is cut (and never clickable).
LINK_MAX: Final = 2048
#: A reminder rendered within this of its planned time reads its planned offset.
ON_TIME: Final = timedelta(seconds=30)
#: Hits shown with their snippet on a match's "Why:" line; the rest are counted.
WHY_HITS: Final = 3
#: Context keys holding ISO 8601 times; templates also get ``<key>_local``.
TIME_KEYS: Final = ("published", "updated", "at", "queued_at", "due", "old_due", "planned")

_FORMATS: Final = ("text", "markdown", "html")
_UNTITLED = "(no title)"

# C0 and C1 controls (newlines and tabs included), and the bidi embeddings,
# overrides and isolates that can make a title read differently than it is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Line breaks other than "\n", which become "\n".
_BREAKS = re.compile(r"\r\n?|[\v\f\x85\u2028\u2029]")
# What clean_text removes once line breaks are "\n": _CONTROL but tab and newline.
_DROP = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# "@here" and friends: whole-chat pings in Slack, Discord, Mattermost and Matrix.
_AT_ALL = re.compile(r"@(?=(?:here|everyone|channel|all|room)\b)", re.IGNORECASE)
# Slack's <!here>, <!subteam^ID|x>, <@U123> and Discord's <@123>, <@&role>: the "<"
# (also "&lt;", as in sanitised HTML) before "!" or "@", and the "!"/"@" of a short
# token that ends in ">" or goes on with "|" (Slack's markdown passthrough turns
# "!here>" into "<!here>"). Bounded, so a long line costs linear time.
_BRACKET = re.compile(r"(<|&lt;)(?=[ \t]*[!@])", re.IGNORECASE)
_TOKEN = re.compile(r"[!@](?=[^|\s<>\u200b]{1,64}(?:>|&gt;|[ \t]*\|))", re.IGNORECASE)
_ZWSP = "\u200b"
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
    """The context of a match alert (JSON-able), every feed field capped (module docstring).

    ``title``, ``summary``, ``author`` and each hit's ``snippet`` are one clean
    line, cut on a word boundary; ``summary`` is the entry's plain-text summary
    (its content when it has none); ``summary_html`` is the summary as served
    (untrusted, capped at :data:`SUMMARY_HTML_MAX`), or None; ``published`` and
    ``updated`` are UTC ISO times, or None.
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
        "link": _cap_link(entry.link),
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


def health_context(event: HealthEvent) -> dict[str, Any]:
    """The context of a feed health notice: ``event`` is "unhealthy" or "recovered".

    ``error`` (a server's or parser's message: untrusted) is capped at :data:`DETAIL_MAX`.
    """
    return {
        "kind": "health",
        "event": event.kind.value,
        "feed": event.feed,
        "failures": event.failures,
        "error": clip(event.error, DETAIL_MAX) if event.error is not None else None,
        "at": _iso(event.at),
    }


def test_context(channel: str, now: datetime) -> dict[str, Any]:
    """The context of a test alert sent to ``channel`` at ``now``."""
    return {"kind": "test", "channel": channel, "at": _iso(now)}


def dead_letter_context(
    channel: str, title: str, queued_at: datetime, attempts: int, last_error: str | None
) -> dict[str, Any]:
    """The context of a notice that the alert ``title`` never reached ``channel`` in time.

    ``title`` is capped at :data:`HEADLINE_MAX`, ``last_error`` at :data:`DETAIL_MAX`.
    """
    return {
        "kind": "dead_letter",
        "channel": channel,
        "title": clip(title, HEADLINE_MAX),
        "queued_at": _iso(queued_at),
        "attempts": attempts,
        "last_error": clip(last_error, DETAIL_MAX) if last_error is not None else None,
    }


# --------------------------------------------------------------------------- plain text helpers


def clean_text(text: str, *, lines: bool = False) -> str:
    """``text`` without control or bidi-override characters (see the module docstring).

    The one cleaning of the program, for built-in texts and template values
    alike. Line breaks become ``\\n`` first; then C0 and C1 controls (but tab
    and newline) and U+202A–U+202E, U+2066–U+2069 are removed. With ``lines``
    the lines and tabs are kept (for a body); without, every whitespace run
    becomes one space and the ends are stripped (for a title or one line).
    """
    kept = _DROP.sub("", _BREAKS.sub("\n", text))
    return kept if lines else " ".join(kept.split())


def _one_line(text: str) -> str:
    """``text`` cleaned into one line (:func:`clean_text`)."""
    return clean_text(text)


def _trim(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters ("…" included), on a word boundary if one is near."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-—") + "…"


def clip(text: str | None, limit: int) -> str:
    """``text`` as one clean line of at most ``limit`` characters ("…" included); None is ''."""
    return _trim(clean_text(text), limit) if text else ""


def clean_title(text: str) -> str:
    """A title as Apprise gets it: plain text, one line, at most :data:`TITLE_MAX` characters."""
    return clip(text, TITLE_MAX)


def escape_mentions(text: str) -> str:
    """``text`` unable to ping a whole chat (or anyone), however it is shown.

    A zero-width space goes after the ``@`` of ``@here``, ``@everyone``,
    ``@channel``, ``@all`` and ``@room`` (any case), after the ``<`` (or
    ``&lt;``) of Slack's and Discord's ``<!…>``/``<@…>`` tokens, and after the
    ``!``/``@`` of a short token that ends in ``>`` or goes on with ``|``. The
    text reads the same; applying it twice changes nothing more. Clean the
    text first (:func:`clean_text`): a control character removed later could
    otherwise join ``@`` and ``here`` again.
    """
    text = _BRACKET.sub(lambda m: m.group(1) + _ZWSP, text)
    text = _TOKEN.sub(lambda m: m.group(0) + _ZWSP, text)
    return _AT_ALL.sub("@" + _ZWSP, text)


def _cap_link(link: str | None) -> str | None:
    """``link`` without control characters, cut to :data:`LINK_MAX` with "…" if longer."""
    if link is None:
        return None
    link = _CONTROL.sub("", link).strip()
    return link if len(link) <= LINK_MAX else link[: LINK_MAX - 1] + "…"


def _text(value: object) -> str:
    """A context value as one clean line ('' for None)."""
    if value is None or isinstance(value, Undefined):
        return ""
    return _one_line(value if isinstance(value, str) else str(value))


def _linkable(url: object) -> str | None:
    """``url`` (without control characters) when it is http(s) with a host, else None.

    A link cut at :data:`LINK_MAX` (it ends with "…") leads nowhere: never clickable.
    """
    if not isinstance(url, str):
        return None
    candidate = _CONTROL.sub("", url).strip()
    if len(candidate) >= LINK_MAX and candidate.endswith("…"):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate


def _moment(value: object) -> datetime | None:
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


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


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

    def esc(self, text: str) -> str:
        return text

    def strong(self, escaped: str) -> str:
        return escaped

    def anchor(self, escaped: str, url: str) -> str:
        """``escaped`` made a link to ``url`` (plain text has none: the label alone)."""
        return escaped

    def link(self, url: str) -> str:
        """``url`` written out, as a line of its own (clickable where the format allows)."""
        return url

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

    def esc(self, text: str) -> str:
        return markdown_escape(text)

    def strong(self, escaped: str) -> str:
        return f"**{escaped}**"

    def anchor(self, escaped: str, url: str) -> str:
        return f"[{escaped}]({markdown_url(url)})"

    def link(self, url: str) -> str:
        # An autolink: shown as the URL itself, kept by every converter.
        return f"<{markdown_url(url)}>"

    def listing(self, items: Sequence[Sequence[str]]) -> str:
        return "\n".join(
            "\n".join(["- " + lines[0], *("  " + x for x in lines[1:])]) for lines in items
        )


class _Html(_Writer):
    format: BodyFormat = "html"

    def esc(self, text: str) -> str:
        return str(escape(text))

    def strong(self, escaped: str) -> str:
        return f"<b>{escaped}</b>"

    def anchor(self, escaped: str, url: str) -> str:
        return f'<a href="{escape(url)}">{escaped}</a>'

    def link(self, url: str) -> str:
        # The URL as the anchor's text, so the plain-text part of an e-mail keeps it.
        return self.anchor(self.esc(url), url)

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
    """The bold title (carrying its link in markdown/html), then the link's own line.

    The link is written out in every format, so that a converted body (the
    plain-text part Apprise makes of an html e-mail) still has it. A link that
    is not http(s) is never made clickable: it is shown as text.
    """
    safe = _linkable(link)
    label = w.esc(_trim(title, HEADLINE_MAX))  # also for contexts queued before the caps
    if safe:
        return [w.strong(w.anchor(label, safe)), w.link(safe)]
    lines = [w.strong(label)]
    if _text(link):
        lines.append(w.esc("Link (not opened): " + _trim(_text(link), DETAIL_MAX)))
    return lines


# --------------------------------------------------------------------------- built-in texts

Local = Callable[[object], str]


def _tagged(ctx: Mapping[str, Any], title: str) -> str:
    """``title`` led by the severity tag (``[HIGH]``, ``[CRITICAL]``) of a high or critical
    alert; every kind whose context has a ``severity`` gets it the same way."""
    severity = _text(ctx.get("severity"))
    return f"[{severity.upper()}] {title}" if severity in ("high", "critical") else title


def _match_title(ctx: Mapping[str, Any]) -> str:
    return _tagged(ctx, _text(ctx.get("title")) or _UNTITLED)


def _published(ctx: Mapping[str, Any], local: Local) -> str:
    """The published time in the zone, else ``updated <time>``, else ''."""
    published = local(ctx.get("published"))
    if published:
        return published
    updated = local(ctx.get("updated"))
    return f"updated {updated}" if updated else ""


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
    published = _published(ctx, local)
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


def _until(seconds: float) -> str:
    """``in 7 days``, ``2 hours ago``, or ``now`` (within :data:`JUST_NOW`)."""
    delta = timedelta(seconds=seconds)
    return "now" if abs(delta) < JUST_NOW else relative(delta, words=True)


def _left(ctx: Mapping[str, Any]) -> float:
    """The seconds left until the due time, as the context (rendered as of now) says."""
    return _seconds(ctx.get("remaining_seconds")) or 0.0


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
    return f"{_until(_left(ctx))} — {due_text}"


def _reminder_title(ctx: Mapping[str, Any]) -> str:
    """From the time left, as the body's due line: ``Due now: …``, ``… — in 7 days``,
    ``Passed 1 day ago: …``; led by the severity tag."""
    title = _text(ctx.get("title")) or _UNTITLED
    left = _left(ctx)
    if abs(timedelta(seconds=left)) < JUST_NOW:
        return _tagged(ctx, f"Due now: {title}")
    if left > 0:
        return _tagged(ctx, f"{title} — {_until(left)}")
    return _tagged(ctx, f"Passed {_until(left)}: {title}")


def _late_note(ctx: Mapping[str, Any], local: Local) -> str | None:
    """``Sent late: 33 seconds after the planned time (…)`` — or, caught up after downtime,
    ``Sent late: the daemon was down at the planned time (…), 4 hours ago`` — or None."""
    late = _seconds(ctx.get("late_seconds")) or 0.0
    down = bool(ctx.get("late"))
    if late <= 0 and not down:
        return None
    planned = local(ctx.get("planned"))
    at = f" ({planned})" if planned else ""
    how = span(timedelta(seconds=late), words=True) if late > 0 else ""
    if down:
        ago = f", {how} ago" if how else ""
        return f"Sent late: the daemon was down at the planned time{at}{ago}."
    return f"Sent late: {how} after the planned time{at}."


def _reminder(ctx: Mapping[str, Any], w: _Writer, local: Local) -> tuple[str, list[str]]:
    headline, *link_lines = _headline(w, _text(ctx.get("title")) or _UNTITLED, ctx.get("link"))
    lines = [headline, w.esc(_due_line(ctx, local))]
    notes = ctx.get("notes")
    if isinstance(notes, str):
        lines += [w.esc(_one_line(x)) for x in clean_text(notes, lines=True).split("\n")]
        lines = [x for x in lines if x.strip()]
    lines += link_lines
    note = _late_note(ctx, local)
    if note:
        lines.append(w.esc(note))
    folded = ctx.get("folded")
    if isinstance(folded, int) and folded > 0:
        lines.append(
            w.esc(f"{_plural(folded, 'earlier reminder')} missed meanwhile, folded into this one.")
        )
    return _reminder_title(ctx), lines


def _moved_title(ctx: Mapping[str, Any]) -> str:
    return f"Deadline moved: {_text(ctx.get('title')) or _UNTITLED}"


def _moved(ctx: Mapping[str, Any], w: _Writer, local: Local) -> tuple[str, list[str]]:
    headline, *link_lines = _headline(w, _moved_title(ctx), ctx.get("link"))
    lines = [
        headline,
        w.esc(f"From {local(ctx.get('old_due'))} to {local(ctx.get('due'))}"),
        w.esc(f"Now due {_due_line(ctx, local)}"),
        *link_lines,
    ]
    return _tagged(ctx, _moved_title(ctx)), lines


def _generic(ctx: Mapping[str, Any], w: _Writer, local: Local) -> tuple[str, list[str]]:
    body = ctx.get("body")
    text = "" if body is None else clean_text(str(body), lines=True)
    return _text(ctx.get("title")), [w.esc(line.rstrip()) for line in text.splitlines()]


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
        return _tagged(ctx, _moved_title(ctx))
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


# --------------------------------------------------------------------------- as sent


#: Per kind, the context keys that hold feed text (or a server's words): mentions in
#: them are escaped. Kinds not listed here but known (reminders, deadline moves, test
#: alerts) hold only the user's own words; unknown kinds have their title and body escaped.
_UNTRUSTED: Final[Mapping[str, tuple[str, ...]]] = {
    "match": ("title", "summary", "author"),
    "health": ("error",),
    "dead_letter": ("title", "last_error"),
    "reminder": (),
    "moved": (),
    "test": (),
}


def _as_of(context: Mapping[str, Any], now: datetime | None) -> Mapping[str, Any]:
    """A reminder's or deadline move's context with its time left as of ``now``.

    ``remaining_seconds`` becomes the truth at ``now`` (from ``due``), and a
    reminder's ``late_seconds`` how long after ``planned`` it is sent — except
    that a reminder within :data:`ON_TIME` of its planned time keeps its
    planned offset and counts as on time. Other kinds, and ``now=None``, keep
    the context as it was built.
    """
    kind = context.get("kind")
    due = _moment(context.get("due"))
    if now is None or kind not in ("reminder", "moved") or due is None:
        return context
    _iso(now)  # refuses a naive ``now``
    out = dict(context)
    left = round((due - now).total_seconds())
    if kind == "moved":
        out["remaining_seconds"] = left
        return out
    planned = _moment(context.get("planned"))
    late = (now - planned).total_seconds() if planned is not None else 0.0
    offset = context.get("offset_seconds")
    if late <= ON_TIME.total_seconds() and isinstance(offset, int):
        out["remaining_seconds"] = offset
        out["late_seconds"] = 0
    else:
        out["remaining_seconds"] = left
        out["late_seconds"] = max(round(late), 0)
    return out


def _escaped(value: object) -> object:
    return escape_mentions(clean_text(value, lines=True)) if isinstance(value, str) else value


def _without_mentions(context: Mapping[str, Any]) -> Mapping[str, Any]:
    """``context`` with :func:`escape_mentions` applied to the text that came from a feed."""
    keys = _UNTRUSTED.get(_text(context.get("kind")), ("title", "body"))
    out = dict(context)
    for key in keys:
        if key in out:
            out[key] = _escaped(out[key])
    hits = out.get("hits")
    if out.get("kind") == "match" and isinstance(hits, list):
        out["hits"] = [
            {**h, "snippet": _escaped(h.get("snippet"))} if isinstance(h, Mapping) else h
            for h in hits
        ]
    return out


def _cleaned(value: object) -> object:
    """``value`` for a template: every string in it through :func:`clean_text` (lines kept)."""
    if isinstance(value, Markup):
        return Markup(clean_text(str(value), lines=True))  # noqa: S704 - only characters removed
    if isinstance(value, str):
        return clean_text(value, lines=True)
    if isinstance(value, Mapping):
        return {k: _cleaned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cleaned(v) for v in value]
    return value


# --------------------------------------------------------------------------- the renderer


class Renderer:
    """Renders contexts into :class:`Rendered` messages, in the user's zone and templates.

    ``templates`` maps a kind (``match``, ``digest``, ``health``…) to the
    user's title and/or body template; ``zone`` is where times are shown.
    Templates are compiled here, once.
    """

    def __init__(self, templates: Mapping[TemplateKind, UserTemplate], zone: ZoneInfo) -> None:
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
        moment = _moment(value)
        if moment is None:
            return ""
        try:
            return when(moment, self._zone)
        except (OverflowError, ValueError):
            return ""

    def render(
        self,
        context: Mapping[str, Any],
        fmt: BodyFormat,
        *,
        now: datetime | None = None,
        mentions: Mentions = "escape",
    ) -> Rendered:
        """Render one alert; its kind is ``context["kind"]``.

        ``now`` is the moment the message is built for sending: a reminder's
        time left (title and body alike) and its "sent late" note are computed
        from it (see :func:`_as_of`); None keeps the times the context was
        built with. ``mentions`` is the channel's setting: ``escape`` (the
        default) makes feed text unable to ping a whole chat, ``allow`` leaves
        it as it is.
        """
        w = _writer(fmt)
        ctx = self._prepare(context, now, mentions)
        kind = _text(ctx.get("kind"))
        default = _DEFAULTS.get(kind, _generic)
        title, lines = default(ctx, w, self._local)
        return self._finish(
            kind,
            fmt,
            clean_title(title),
            w.join(lines),
            lambda: self._variables(ctx, fmt, mentions),
        )

    def render_digest(
        self,
        contexts: Sequence[Mapping[str, Any]],
        fmt: BodyFormat,
        reason: str,
        *,
        now: datetime | None = None,
        mentions: Mentions = "escape",
    ) -> Rendered:
        """Fold several alerts, in their order, into one message; ``reason`` heads the body.

        ``reason`` says why they were folded: "digest of the last hour",
        "held during quiet hours 22:00-07:00", "rate limit 30/1h".
        ``now`` and ``mentions`` as for :meth:`render`.
        Raises ValueError when ``contexts`` is empty.
        """
        if not contexts:
            raise ValueError("a digest needs at least one alert")
        contexts = [self._prepare(c, now, mentions) for c in contexts]
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
                    {**self._variables(c, fmt, mentions), "headline": _item_title(c)}
                    for c in contexts
                ],
                "count": n,
                "reason": clean_text(reason, lines=True),
                "format": fmt,
            }

        return self._finish("digest", fmt, clean_title(_digest_title(contexts)), body, variables)

    @staticmethod
    def _prepare(
        context: Mapping[str, Any], now: datetime | None, mentions: Mentions
    ) -> Mapping[str, Any]:
        """The context as sent: times as of ``now``, feed text's mentions escaped."""
        ctx = _as_of(context, now)
        return ctx if mentions == "allow" else _without_mentions(ctx)

    def _variables(
        self, context: Mapping[str, Any], fmt: BodyFormat, mentions: Mentions
    ) -> dict[str, Any]:
        """What a template sees: the context, local times, the safe link, sanitised HTML.

        Every value is cleaned (:func:`clean_text`, lines kept), as the built-in
        texts are.
        """
        variables = dict(context)
        for key in TIME_KEYS:
            if key in context:
                variables[f"{key}_local"] = self._local(context[key])
        if "published" in context:
            variables["published_local"] = _published(context, self._local)
        safe = _linkable(context.get("link"))
        variables["safe_link"] = safe
        raw_html = context.get("summary_html")
        if "summary_html" in context:
            clean = sanitize(raw_html, base=safe) if isinstance(raw_html, str) else None
            if clean is not None and mentions != "allow":
                clean = escape_mentions(clean_text(clean, lines=True))
            # Sanitised by nh3 (allowlisted tags, safe links): fit to print as is.
            variables["summary_html"] = Markup(clean) if clean is not None else None  # noqa: S704
        variables["format"] = fmt
        return {key: _cleaned(value) for key, value in variables.items()}

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
