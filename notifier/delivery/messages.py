"""The text of every alert: contexts rendered into titles and bodies, built-in or the user's.

An alert waits in the outbox as a *context* (see :mod:`notifier.delivery.kinds`,
the registry of alert kinds, which builds them). It is rendered only when it
is sent, alone or folded with others into a digest::

    context ─▶ Renderer.render(ctx, fmt)          ──▶ Rendered(title, body, format,
    [ctx, …] ─▶ Renderer.render_digest(…, reason)  ──▶          template_error)

    as of now (kind.as_of) ─▶ mentions escaped (kind.untrusted) ─▶ variables
        ─▶ built-in templates (templates/<kind>.title.j2, <kind>.<format>.j2)
        ─▶ the user's templates, if any: per watch or deadline, else per kind

Every kind has built-in Jinja templates, shipped in the package
(``notifier/delivery/templates``): a title (plain text), a body in each of the
three body formats (``text``, ``markdown``, ``html``) and a digest line (plain
text: what the kind shows under its title in a digest). A user's
``title``/``body`` replaces the built-in one, part by part, first found:

1. the watch's own ``templates.match`` (``templates.digest`` for a digest
   whose items all come from that watch), or the deadline's own
   ``templates.reminder``/``templates.moved`` — the context names its watch or
   deadline (:attr:`Kind.owner`);
2. ``templates.<kind>`` of the config;
3. the built-in template.

Feed text is untrusted, and so are links, snippets and error messages
(:mod:`notifier.delivery.safety` has the caps and escapes):

* Context builders cap every feed field; the message title is at most
  :data:`TITLE_MAX` characters, one clean line of plain text.
* Every value a template sees — built-in or the user's — is cleaned by
  :func:`clean_text` (control characters and bidi overrides removed, lines
  kept). Unless the channel says ``mentions: allow``, the values that came
  from a feed (or a server's error message: :attr:`Kind.untrusted`) have
  their mentions escaped (:func:`escape_mentions`); the user's own words —
  template text, deadline titles and notes — never are.
* Built-in and user templates run in one Jinja2 immutable sandbox per body
  format, and values printed by ``{{ … }}`` are escaped for it: HTML-escaped
  (autoescape) in html, markdown-escaped (:func:`markdown_escape`) in
  markdown, untouched in text; ``None`` prints as nothing; ``|safe`` opts out.
  Titles and digest lines are plain text. A link is clickable only when it is
  http(s) with a host (``safe_link``); ``summary_html`` reaches a user
  template only sanitised (:func:`notifier.sources.html.sanitize`).
* A markdown value is escaped as if it began a line (``- x`` becomes
  ``\\- x``): the built-in texts print each line that holds a value as one
  expression (``{{ "Last error: " ~ error|clip(300) }}``), so only a real
  line start is escaped so.
* A safe **link** is written out as text in every format (its own line,
  after the summary), besides making the headline clickable in markdown and
  html: the plain-text part Apprise derives from an html e-mail keeps it.

Times are rendered as of the moment the message is built (``now``, its send
time; see :meth:`Renderer.render`). A reminder rendered within :data:`ON_TIME`
(30 s) of its planned time reads its planned offset ("in 7 days", not "in 6
days 23 hours"); later than that it reads the time actually left, computed
from its due time and ``now``, and says how late it was sent. The title and
the body use the same value. Relative times are worded by
:func:`notifier.text.relative` ("in 7 days", "2 hours ago"; "now" within
3 s).

A missing variable renders empty. A user template that fails (a sandbox
violation, a type error…) or renders blank falls back to the built-in text,
and the error is returned in :attr:`Rendered.template_error` for the caller
to log; so does a built-in template that cannot read a context (a kind's
texts then fall back to its ``title`` and ``body``, as a ``config`` notice).
A template sees:

* the context's keys, cleaned, and ``<key>_local`` for each time key
  (``published_local``, ``updated_local``, ``at_local``, ``queued_at_local``,
  ``due_local``, ``old_due_local``, ``planned_local``: "Tue 10 Jun 2025 09:00
  EDT" in the zone). An entry with no published time but an updated one (an
  Atom ``<updated>`` alone) has ``published_local`` "updated Tue 10 Jun 2025
  09:00 EDT"; ``published`` itself stays None;
* ``safe_link`` (the link if http(s), else None), ``format`` (the body
  format); a user template also ``summary_html`` sanitised, and
  ``default_title`` and ``default_body`` (the built-in texts, already escaped
  for the format);
* in a digest: ``items`` (each item's variables plus its ``headline``, the
  title it would have alone, and its digest ``line``), ``count`` and
  ``reason``;
* the filters ``line`` (one clean line; '' for None), ``clip(n)`` (one clean
  line cut to n characters on a word, "…" included), ``plural(word)``
  (``3|plural("failure")``: "3 failures"), ``local`` (an ISO time in the
  zone; ``local(zone)`` in another zone), ``when`` (a proposal's date as
  stated: ``due|when(all_day, window_end, timezone)``, "Tue 1 Jul 2025",
  "1–10 Jul 2025", "Fri 1 Aug 2025 17:00 EDT"), ``linkable`` (a link if it
  is http(s) with a host, else None: what ``safe_link`` is, for the links of
  a list such as a proposal's ``sources``), ``until`` (seconds from now: "in 7
  days", "2 hours ago", "now"), ``duration`` (seconds in words: "1 minute 27
  seconds"), ``seconds`` (a number, 0 if it is none) and ``markdown_url`` (a
  URL percent-encoded for a markdown link).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from jinja2 import ChainableUndefined, FunctionLoader, Template, Undefined
from jinja2.exceptions import SecurityError, TemplateNotFound
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from notifier.delivery.kinds import (
    KINDS,
    ON_TIME,
    Kind,
    as_moment,
    dead_letter_context,
    entry_context,
    health_context,
    kind_of,
    match_context,
    story_context,
    test_context,
)
from notifier.delivery.safety import (
    AUTHOR_MAX,
    DETAIL_MAX,
    HEADLINE_MAX,
    LINK_MAX,
    SNIPPET_MAX,
    SUMMARY_HTML_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    clean_text,
    clean_title,
    clip,
    escape_mentions,
    linkable,
    markdown_escape,
    markdown_url,
    one_line,
    trim,
)
from notifier.sources.html import sanitize
from notifier.text import JUST_NOW, relative, span, when

if TYPE_CHECKING:
    from notifier.model import BodyFormat, Config, Deadline, Mentions, TemplateKind, Watch
    from notifier.model import Template as UserTemplate

__all__ = [
    "AUTHOR_MAX",
    "DETAIL_MAX",
    "HEADLINE_MAX",
    "LINK_MAX",
    "ON_TIME",
    "SNIPPET_MAX",
    "SUMMARY_HTML_MAX",
    "SUMMARY_MAX",
    "TEMPLATES",
    "TITLE_MAX",
    "Rendered",
    "Renderer",
    "builtin_template",
    "check_template",
    "clean_text",
    "clean_title",
    "clip",
    "dead_letter_context",
    "entry_context",
    "escape_mentions",
    "health_context",
    "markdown_escape",
    "markdown_url",
    "match_context",
    "story_context",
    "test_context",
]

#: Context keys holding ISO 8601 times; templates also get ``<key>_local``.
TIME_KEYS: Final = ("published", "updated", "at", "queued_at", "due", "old_due", "planned")
#: Where the built-in templates are (package data): ``<kind>.<part>.j2``.
TEMPLATES: Final = "notifier.delivery", "templates"

_FORMATS: Final = ("text", "markdown", "html")
_UNTITLED = "(no title)"
_TEMPLATE_NAME = re.compile(r"[a-z_]+\.[a-z]+\.j2")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message ready for Apprise.

    ``title`` is plain text (one line, at most :data:`TITLE_MAX` characters);
    ``body`` is written in ``format``, which is passed to Apprise as
    ``body_format``. ``template_error`` says why a template was not used (the
    built-in text, or the plain title and body, was sent instead); None when
    all went well.
    """

    title: str
    body: str
    format: BodyFormat
    template_error: str | None = None


# --------------------------------------------------------------------------- filters


def _seconds(value: object) -> float:
    """A number of seconds from a context; 0 when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)


def _clip(value: object, limit: int) -> str:
    return trim(one_line(value), limit)


def _plural(count: object, word: str) -> str:
    count = None if isinstance(count, Undefined) else count
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _until(seconds: object) -> str:
    """``in 7 days``, ``2 hours ago``, or ``now`` (within :data:`JUST_NOW`)."""
    delta = timedelta(seconds=_seconds(seconds))
    return "now" if abs(delta) < JUST_NOW else relative(delta, words=True)


def _duration(seconds: object) -> str:
    return span(timedelta(seconds=_seconds(seconds)), words=True)


def _markdown_url_filter(url: object) -> Markup:
    # Percent-encoding leaves nothing markdown-active in a link destination.
    return Markup(markdown_url(str(url)))  # noqa: S704 - only in markdown bodies, never html


def _markdown_url_text(url: object) -> str:
    return markdown_url(str(url))


@dataclass(frozen=True, slots=True)
class _Local:
    """The ``local`` filter: an ISO 8601 time shown in ``zone`` ('' when absent or unreadable).

    ``local(name)`` shows it in the zone ``name`` instead ('' for an unknown zone).
    """

    zone: ZoneInfo

    def __call__(self, value: object, zone: str | None = None) -> str:
        moment = as_moment(value)
        if moment is None:
            return ""
        try:
            return when(moment, self.zone if zone is None else ZoneInfo(zone))
        except (OverflowError, ValueError, KeyError):  # KeyError: ZoneInfoNotFoundError
            return ""


@dataclass(frozen=True, slots=True)
class _When:
    """The ``when`` filter: a date as it was stated, in the zone it was stated in.

    ``due|when(all_day, window_end, zone)`` reads ``Tue 1 Jul 2025`` when
    ``all_day``; ``1–10 Jul 2025``, ``28 Jun – 3 Jul 2025`` or ``29 Dec 2025 –
    2 Jan 2026`` with a ``window_end`` (an ISO date after the day of ``due``: a
    window is whole days); else ``Fri 1 Aug 2025 17:00 EDT``. ``zone`` is an
    IANA name; without one, or with one that is unknown, the config's zone.
    '' when ``due`` is absent or unreadable.
    """

    zone: ZoneInfo

    def __call__(
        self,
        value: object,
        all_day: object = False,
        window_end: object = None,
        zone: object = None,
    ) -> str:
        moment = as_moment(value)
        if moment is None:
            return ""
        where = self._zone(zone)
        try:
            local = moment.astimezone(where)
        except (OverflowError, ValueError):
            return ""
        first, last = local.date(), _day(window_end)
        if last is not None and last > first:
            if first.year != last.year:
                return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
            if first.month != last.month:
                return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
            return f"{first.day}–{last.day} {last:%b %Y}"
        if all_day:
            return f"{local:%a} {local.day} {local:%b %Y}"
        return when(moment, where)

    def _zone(self, name: object) -> ZoneInfo:
        if not isinstance(name, str) or not name:
            return self.zone
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError):  # KeyError: ZoneInfoNotFoundError
            return self.zone


def _day(value: object) -> date | None:
    """An ISO date (``2025-07-10``) from a context, else None."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# --------------------------------------------------------------------------- environments


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, where touching an unsafe attribute raises.

    Jinja's sandbox turns ``''.__class__`` into an undefined value; with
    forgiving undefined values that would print nothing and hide the attempt.
    """

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )


def builtin_template(name: str) -> str:
    """The source of the built-in template ``name`` (``match.html.j2``).

    Raises :class:`jinja2.TemplateNotFound` for a name that is not one.
    """
    if not _TEMPLATE_NAME.fullmatch(name):
        raise TemplateNotFound(name)
    package, folder = TEMPLATES
    try:
        return resources.files(package).joinpath(folder, name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateNotFound(name) from None


def _load(name: str) -> tuple[str, None, Callable[[], bool]]:
    return builtin_template(name), None, lambda: True


def _finalize_plain(value: object) -> object:
    return "" if value is None else value


def _finalize_markdown(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, Markup | Undefined | int | float):
        return value
    return markdown_escape(str(value))


def _environment(fmt: BodyFormat, zone: ZoneInfo) -> _Sandbox:
    env = _Sandbox(
        autoescape=fmt == "html",
        undefined=ChainableUndefined,
        finalize=_finalize_markdown if fmt == "markdown" else _finalize_plain,
        loader=FunctionLoader(_load),
    )
    env.filters.update(
        line=one_line,
        clip=_clip,
        plural=_plural,
        local=_Local(zone),
        when=_When(zone),
        linkable=linkable,
        until=_until,
        duration=_duration,
        seconds=_seconds,
        markdown_url=_markdown_url_filter if fmt == "markdown" else _markdown_url_text,
    )
    return env


@functools.lru_cache(maxsize=16)
def _environments(zone: ZoneInfo) -> Mapping[str, _Sandbox]:
    """The sandbox of each body format (titles and digest lines: ``text``), for ``zone``.

    Shared by every renderer of the zone, so that each built-in template is
    compiled once (Jinja caches the templates it loads).
    """
    return {fmt: _environment(fmt, zone) for fmt in _FORMATS}


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A user template compiled, or why it could not be."""

    template: Template | None
    error: str | None


def check_template(source: str) -> None:
    """Compile a user template as it will run: raises :class:`jinja2.TemplateSyntaxError`
    (with its ``lineno``) on a syntax error, an unknown filter or an unknown test."""
    _environments(ZoneInfo("UTC"))["text"].from_string(source)


# --------------------------------------------------------------------------- as sent


def _escaped(value: object) -> object:
    return escape_mentions(clean_text(value, lines=True)) if isinstance(value, str) else value


def _without_mentions(context: Mapping[str, Any], kind: Kind) -> dict[str, Any]:
    """``context`` with :func:`escape_mentions` applied to its untrusted keys.

    ``hits.snippet`` means the ``snippet`` of each item of the list ``hits``
    (and ``watches.hits.snippet`` one level deeper).
    """
    out = dict(context)
    for key in kind.untrusted:
        out = _escape_path(out, key)
    return out


def _escape_path(mapping: Mapping[str, Any], path: str) -> dict[str, Any]:
    out = dict(mapping)
    name, _, inner = path.partition(".")
    value = out.get(name)
    if not inner:
        if name in out:
            out[name] = _escaped(value)
    elif isinstance(value, list):
        out[name] = [_escape_path(v, inner) if isinstance(v, Mapping) else v for v in value]
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


def _escape(fmt: BodyFormat, text: str) -> str:
    """``text`` escaped for a body in ``fmt``."""
    if fmt == "html":
        return str(escape(text))
    return markdown_escape(text) if fmt == "markdown" else text


def _check_format(fmt: str) -> None:
    if fmt not in _FORMATS:
        raise ValueError(f"unknown body format {fmt!r} (expected text, markdown or html)")


#: Per watch (or deadline) name, its own templates by kind.
Owners = Mapping[str, Mapping[str, "UserTemplate"]]
#: The watch or deadline whose templates apply: where they are in the config, and them.
Owner = tuple[str, Mapping[str, "UserTemplate"]]
_SECTIONS: Final = {"watch": "watches", "deadline": "deadlines"}


def _by_kind(templates: Mapping[TemplateKind, UserTemplate]) -> dict[str, UserTemplate]:
    return {str(kind): spec for kind, spec in templates.items()}


def _owners(values: Iterable[Watch] | Iterable[Deadline]) -> Owners:
    return {v.name: _by_kind(v.templates) for v in values if v.templates}


# --------------------------------------------------------------------------- the renderer


_ACK_ID = re.compile(r"[0-9a-f]{8}")
_ACK_LINK = re.compile(
    r"https?://[A-Za-z0-9.:\[\]_-]+/ack/[0-9a-f]{8}\?exp=[0-9]+&sig=[0-9a-f]{64}"
)


def with_ack(rendered: Rendered, context: Mapping[str, Any]) -> Rendered:
    """``rendered`` with the lines that acknowledge it, shared by every kind and every
    template (the user's too): "Ack: notifier ack ID" when the context has an
    ``ack_id`` (:mod:`notifier.ack`), and the signed link when it has an ``ack_link``
    (added by the sender when the web port and ``NOTIFIER_SECRET`` are set)."""
    ack_id = context.get("ack_id")
    if not isinstance(ack_id, str) or not _ACK_ID.fullmatch(ack_id):
        return rendered
    link = context.get("ack_link")
    link = link if isinstance(link, str) and _ACK_LINK.fullmatch(link) else None
    if rendered.format == "html":
        line = f"Ack: <code>notifier ack {ack_id}</code>"
        if link:
            line += f' or <a href="{escape(link)}">acknowledge</a>'
    elif rendered.format == "markdown":
        line = f"Ack: `notifier ack {ack_id}`" + (f" or <{link}>" if link else "")
    else:
        line = f"Ack: notifier ack {ack_id}" + (f" or {link}" if link else "")
    sep = "<br>" if rendered.format == "html" else "\n"
    return dataclasses.replace(rendered, body=f"{rendered.body.rstrip()}{sep}{line}")


#: A digest lists at most this many ack ids (the rest: ``notifier acks --open``).
DIGEST_ACKS = 10


def digest_with_acks(rendered: Rendered, contexts: Sequence[Mapping[str, Any]]) -> Rendered:
    """A digest with one line naming the ack ids of its alerts that have one (no links:
    one per alert would drown the digest)."""
    ids = [
        c["ack_id"]
        for c in contexts
        if isinstance(c.get("ack_id"), str) and _ACK_ID.fullmatch(c["ack_id"])
    ]
    if not ids:
        return rendered
    shown = ", ".join(ids[:DIGEST_ACKS]) + (
        f" (+{len(ids) - DIGEST_ACKS} more: notifier acks --open)" if len(ids) > DIGEST_ACKS else ""
    )
    line = f"Ack: notifier ack ID — {shown}"
    if rendered.format == "html":
        line = f"Ack: <code>notifier ack ID</code> — {shown}"
    elif rendered.format == "markdown":
        line = f"Ack: `notifier ack ID` — {shown}"
    sep = "<br>" if rendered.format == "html" else "\n"
    return dataclasses.replace(rendered, body=f"{rendered.body.rstrip()}{sep}{line}")


class Renderer:
    """Renders contexts into :class:`Rendered` messages, in the user's zone and templates.

    ``templates`` maps a kind (``match``, ``digest``, ``health``…) to the
    user's title and/or body template; ``watches`` and ``deadlines`` carry
    their own (:attr:`notifier.model.Watch.templates`), which come first for
    their alerts. ``zone`` is where times are shown. Each template is compiled
    once, when first used.
    """

    def __init__(
        self,
        templates: Mapping[TemplateKind, UserTemplate],
        zone: ZoneInfo,
        *,
        watches: Iterable[Watch] = (),
        deadlines: Iterable[Deadline] = (),
    ) -> None:
        self._zone = zone
        self._local = _Local(zone)
        self._envs = _environments(zone)
        self._templates = _by_kind(templates)
        self._watches: Owners = _owners(watches)
        self._deadlines: Owners = _owners(deadlines)
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._builtins: dict[str, Template] = {}

    @classmethod
    def for_config(cls, config: Config) -> Renderer:
        """A renderer with every template of ``config``: per kind, per watch, per deadline."""
        return cls(
            config.templates, config.timezone, watches=config.watches, deadlines=config.deadlines
        )

    # ------------------------------------------------------------------ public

    def render(
        self,
        context: Mapping[str, Any],
        fmt: BodyFormat,
        *,
        now: datetime | None = None,
        mentions: Mentions = "escape",
        watches: Iterable[Watch] | None = None,
        deadlines: Iterable[Deadline] | None = None,
    ) -> Rendered:
        """Render one alert; its kind is ``context["kind"]``.

        ``now`` is the moment the message is built for sending: a reminder's
        time left (title and body alike) and its "sent late" note are computed
        from it (:attr:`Kind.as_of`); None keeps the times the context was
        built with. ``mentions`` is the channel's setting: ``escape`` (the
        default) makes feed text unable to ping a whole chat, ``allow`` leaves
        it as it is. ``watches`` and ``deadlines``, when given, are the ones
        whose own templates apply (instead of the renderer's).
        """
        _check_format(fmt)
        ctx = self._prepare(context, now, mentions)
        kind = kind_of(ctx)
        variables = self._variables(ctx, fmt)
        title, body, error = self._builtin(kind, fmt, variables)
        name = one_line(ctx.get("kind"))
        owner = self._owner(kind, [ctx], watches, deadlines)
        return with_ack(
            self._finish(
                name,
                fmt,
                clean_title(title),
                body,
                owner=owner,
                variables=lambda: self._user_variables(variables, ctx, mentions),
                error=error,
            ),
            context,
        )

    def render_digest(
        self,
        contexts: Sequence[Mapping[str, Any]],
        fmt: BodyFormat,
        reason: str,
        *,
        now: datetime | None = None,
        mentions: Mentions = "escape",
        watches: Iterable[Watch] | None = None,
        deadlines: Iterable[Deadline] | None = None,
    ) -> Rendered:
        """Fold several alerts, in their order, into one message; ``reason`` heads the body.

        ``reason`` says why they were folded: "digest of the last hour",
        "held during quiet hours 22:00-07:00", "rate limit 30/1h". The
        templates of a watch (``templates.digest``) apply when every alert is
        one of its matches. ``now``, ``mentions``, ``watches`` and
        ``deadlines`` as for :meth:`render`. Raises ValueError when
        ``contexts`` is empty.
        """
        if not contexts:
            raise ValueError("a digest needs at least one alert")
        _check_format(fmt)
        prepared = [self._prepare(c, now, mentions) for c in contexts]
        errors: list[str] = []
        items = [self._item(c, fmt, errors) for c in prepared]
        variables = {
            "items": items,
            "count": len(items),
            "reason": clean_text(reason, lines=True),
            "format": fmt,
        }
        title, body, error = self._builtin(KINDS["digest"], fmt, variables)
        if error:
            errors.append(error)

        def user_variables() -> dict[str, Any]:
            return {
                **variables,
                "items": [
                    {**self._user_variables(v, c, mentions), "headline": v["headline"]}
                    for v, c in zip(items, prepared, strict=True)
                ],
            }

        owner = self._owner(KINDS["digest"], prepared, watches, deadlines)
        return digest_with_acks(
            self._finish(
                "digest",
                fmt,
                clean_title(title),
                body,
                owner=owner,
                variables=user_variables,
                error="; ".join(errors) or None,
            ),
            contexts,
        )

    # ------------------------------------------------------------------ contexts

    @staticmethod
    def _prepare(
        context: Mapping[str, Any], now: datetime | None, mentions: Mentions
    ) -> Mapping[str, Any]:
        """The context as sent: times as of ``now``, feed text's mentions escaped."""
        kind = kind_of(context)
        ctx = context
        if now is not None and kind.as_of is not None and as_moment(context.get("due")):
            if now.tzinfo is None:
                raise ValueError(f"naive datetime {now.isoformat()}: pass an aware one")
            ctx = kind.as_of(context, now)
        return ctx if mentions == "allow" else _without_mentions(ctx, kind)

    def _variables(self, context: Mapping[str, Any], fmt: BodyFormat) -> dict[str, Any]:
        """What every template sees: the context, local times, the safe link, the format.

        Every value is cleaned (:func:`clean_text`, lines kept). The feed's
        ``summary_html`` is left out: only user templates get it, sanitised
        (:meth:`_user_variables`).
        """
        variables = {k: v for k, v in context.items() if k != "summary_html"}
        for key in TIME_KEYS:
            if key in context:
                variables[f"{key}_local"] = self._local(context[key])
        if "published" in context:
            variables["published_local"] = self._published(context)
        variables["safe_link"] = linkable(context.get("link"))
        variables["format"] = fmt
        return {key: _cleaned(value) for key, value in variables.items()}

    def _published(self, context: Mapping[str, Any]) -> str:
        """The published time in the zone, else ``updated <time>``, else ''."""
        published = self._local(context.get("published"))
        if published:
            return published
        updated = self._local(context.get("updated"))
        return f"updated {updated}" if updated else ""

    @staticmethod
    def _user_variables(
        variables: Mapping[str, Any], context: Mapping[str, Any], mentions: Mentions
    ) -> dict[str, Any]:
        """``variables`` plus ``summary_html``, sanitised, for a user template."""
        if "summary_html" not in context:
            return dict(variables)
        raw_html = context["summary_html"]
        clean = (
            sanitize(raw_html, base=variables["safe_link"]) if isinstance(raw_html, str) else None
        )
        if clean is not None:
            clean = clean_text(clean, lines=True)
            if mentions != "allow":
                clean = escape_mentions(clean)
        # Sanitised by nh3 (allowlisted tags, safe links): fit to print as is.
        return {**variables, "summary_html": Markup(clean) if clean is not None else None}  # noqa: S704

    # ------------------------------------------------------------------ built-in texts

    def _builtin(
        self, kind: Kind, fmt: BodyFormat, variables: Mapping[str, Any]
    ) -> tuple[str, str, str | None]:
        """The built-in title and body of ``kind``, and None — or, should its templates
        fail on this context, the context's own ``title`` and ``body`` (as a ``config``
        notice has them; the title again when there is no body) and why."""
        try:
            return (
                self._run_builtin(kind, "title", variables),
                self._run_builtin(kind, fmt, variables),
                None,
            )
        except Exception as e:  # an odd context must not stop the alert
            if kind.name == "config":
                raise
            error = f"built-in {kind.name} template: {type(e).__name__}: {e}"
            config = KINDS["config"]
            title = self._run_builtin(config, "title", variables) or kind.name
            body = self._run_builtin(config, fmt, variables)
            if not body.strip():
                body = _escape(fmt, title)
            return title, body, error

    def _run_builtin(self, kind: Kind, part: str, variables: Mapping[str, Any]) -> str:
        name = kind.template(part)
        template = self._builtins.get(name)
        if template is None:
            env = self._envs[part if part in _FORMATS else "text"]
            template = self._builtins[name] = env.get_template(name)
        return template.render(variables)

    def _item(self, ctx: Mapping[str, Any], fmt: BodyFormat, errors: list[str]) -> dict[str, Any]:
        """One alert's variables in a digest, with its ``headline`` and digest ``line``."""
        kind = kind_of(ctx)
        variables = self._variables(ctx, fmt)
        try:
            headline = self._run_builtin(kind, "title", variables)
            line = self._run_builtin(kind, "line", variables)
        except Exception as e:  # an odd context must not stop the digest
            if kind.name == "config":
                raise
            errors.append(f"built-in {kind.name} template: {type(e).__name__}: {e}")
            config = KINDS["config"]
            headline = self._run_builtin(config, "title", variables)
            line = self._run_builtin(config, "line", variables)
        return {**variables, "headline": headline or _UNTITLED, "line": line}

    # ------------------------------------------------------------------ user templates

    def _owner(
        self,
        kind: Kind,
        contexts: Sequence[Mapping[str, Any]],
        watches: Iterable[Watch] | None,
        deadlines: Iterable[Deadline] | None,
    ) -> Owner | None:
        """The watch or deadline whose own templates apply, as (its config path, them).

        A single alert: the one its context names (:attr:`Kind.owner`). A
        digest: the one every item names, if they all name the same one.
        """
        owners: set[tuple[str, str]] = set()
        for ctx in contexts:
            own = kind_of(ctx) if kind.name == "digest" else kind
            name = ctx.get(own.owner) if own.owner else None
            if own.owner is None or not isinstance(name, str):
                return None
            owners.add((own.owner, name))
        if len(owners) != 1:
            return None
        ((section, name),) = owners
        given = watches if section == "watch" else deadlines
        if given is None:
            templates = (self._watches if section == "watch" else self._deadlines).get(name)
        else:
            templates = next((_by_kind(v.templates) for v in given if v.name == name), None)
        return (f"{_SECTIONS[section]}.{name}.templates", templates) if templates else None

    def _compile(self, source: str, part: str) -> _Compiled:
        key = (source, part)
        compiled = self._compiled.get(key)
        if compiled is None:
            env = self._envs[part if part in _FORMATS else "text"]
            try:
                compiled = _Compiled(env.from_string(source), None)
            except Exception as e:  # noqa: BLE001 - a bad template falls back to the built-in text
                compiled = _Compiled(None, f"{type(e).__name__}: {e}")
            self._compiled[key] = compiled
        return compiled

    def _choose(
        self,
        kind: str,
        owner: Owner | None,
        part: str,
    ) -> tuple[str, str] | None:
        """The user's source for ``part`` (``title`` or ``body``) of ``kind`` and where it
        is in the config, the watch's or deadline's first; None: the built-in one."""
        candidates: list[tuple[UserTemplate | None, str]] = []
        if owner is not None:
            path, templates = owner
            candidates.append((templates.get(kind), f"{path}.{kind}"))
        candidates.append((self._templates.get(kind), f"templates.{kind}"))
        for spec, path in candidates:
            source = getattr(spec, part, None) if spec is not None else None
            if source is not None:
                return source, f"{path}.{part}"
        return None

    def _finish(
        self,
        kind: str,
        fmt: BodyFormat,
        title: str,
        body: str,
        *,
        owner: Owner | None,
        variables: Callable[[], dict[str, Any]],
        error: str | None,
    ) -> Rendered:
        """Apply the user's templates of ``kind`` over the built-in ``title`` and ``body``.

        ``variables`` is called only when there is a template to run.
        """
        custom_title = self._choose(kind, owner, "title")
        custom_body = self._choose(kind, owner, "body")
        if custom_title is None and custom_body is None:
            return Rendered(title, body, fmt, error)
        errors = [error] if error else []
        # The built-in body is already escaped for ``fmt``.
        context = {**variables(), "default_title": title, "default_body": Markup(body)}  # noqa: S704
        if custom_title is not None:
            source, where = custom_title
            text = self._run(self._compile(source, "title"), context, errors, where)
            if text is not None:
                title = clean_title(text)
        if custom_body is not None:
            source, where = custom_body
            text = self._run(self._compile(source, fmt), context, errors, where)
            if text is not None:
                if text.strip():
                    body = text.strip("\n")
                else:
                    errors.append(f"{where}: rendered empty; the built-in text was sent")
        return Rendered(title, body, fmt, "; ".join(errors) or None)

    @staticmethod
    def _run(
        compiled: _Compiled, variables: Mapping[str, Any], errors: list[str], where: str
    ) -> str | None:
        """The template's output, or None (with the error noted) when it fails."""
        if compiled.template is None:
            errors.append(f"{where}: {compiled.error}")
            return None
        try:
            return compiled.template.render(variables)
        except Exception as e:  # noqa: BLE001 - a failing user template must not stop the alert
            errors.append(f"{where}: {type(e).__name__}: {e}")
            return None
