"""Feed text is untrusted: the caps, cleaning and escaping every alert text goes through. Pure.

Links, snippets and servers' error messages are untrusted too. This module is
what keeps them harmless; :mod:`notifier.delivery.kinds` caps the contexts with
it and :mod:`notifier.delivery.messages` cleans and escapes what is rendered:

* **Sizes.** Every free-text field that can come from a feed is capped when
  its context is built, cut on a word boundary with "…" (the cap includes it),
  so a hostile 1 MB title costs a few hundred bytes in the outbox and in the
  message: an entry's ``title`` :data:`HEADLINE_MAX` (300) characters, its
  ``summary`` :data:`SUMMARY_MAX` (300), each hit's ``snippet``
  :data:`SNIPPET_MAX` (200), ``author`` :data:`AUTHOR_MAX` (100), error
  messages (health notices, dead letters) :data:`DETAIL_MAX` (300), a
  proposal's ``phrase`` :data:`PHRASE_MAX` (300), the raw
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
* **Mentions.** :func:`escape_mentions` puts a zero-width space after the
  ``@`` of ``@here``, ``@everyone``, ``@channel``, ``@all`` and ``@room``
  (Slack, Discord, Mattermost, Matrix), and after the ``<``/``!``/``@`` of
  Slack's and Discord's ``<!here>``, ``<@U123>``, ``<@&role>`` tokens.
* **Links.** :func:`linkable` says whether a link may be made clickable
  (http(s) with a host, not cut at its cap).
* **Markdown.** :func:`markdown_escape` escapes the markdown-active
  characters (``\\ ` * _ [ ] ( )`` always, ``# > + - 1.`` at the start of a
  line, ``<`` as ``&lt;`` so no raw HTML or autolink gets through);
  :func:`markdown_url` percent-encodes a link destination so a ``)`` or a
  space cannot end it early. HTML is escaped by ``markupsafe``.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote, urlsplit

__all__ = [
    "AUTHOR_MAX",
    "DETAIL_MAX",
    "HEADLINE_MAX",
    "LINK_MAX",
    "PHRASE_MAX",
    "SNIPPET_MAX",
    "SUMMARY_HTML_MAX",
    "SUMMARY_MAX",
    "TITLE_MAX",
    "cap_link",
    "clean_text",
    "clean_title",
    "clip",
    "escape_mentions",
    "linkable",
    "markdown_escape",
    "markdown_url",
    "one_line",
    "trim",
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
#: Longest sentence kept in a proposal context (the phrase that states a date).
PHRASE_MAX: Final = 300
#: Longest link kept in a match context; a longer one is cut (and never clickable).
LINK_MAX: Final = 2048

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


def one_line(value: object) -> str:
    """A value as one clean line: '' for None, else its text cleaned (:func:`clean_text`).

    Jinja's undefined values print as '', so they are '' here too.
    """
    if value is None:
        return ""
    return clean_text(value if isinstance(value, str) else str(value))


def trim(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters ("…" included), on a word boundary if one is near."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-—") + "…"


def clip(text: str | None, limit: int) -> str:
    """``text`` as one clean line of at most ``limit`` characters ("…" included); None is ''.

    Only a prefix is cleaned when it is enough (cleaning removes characters, so
    a long text's first characters come from its start): the cost does not grow
    with a megabyte of feed text."""
    if not text:
        return ""
    prefix = max(4 * limit, 1024)
    if len(text) > prefix:
        head = clean_text(text[:prefix])
        if len(head) > limit:
            return trim(head, limit)
    return trim(clean_text(text), limit)


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


def cap_link(link: str | None) -> str | None:
    """``link`` without control characters, cut to :data:`LINK_MAX` with "…" if longer."""
    if link is None:
        return None
    link = _CONTROL.sub("", link).strip()
    return link if len(link) <= LINK_MAX else link[: LINK_MAX - 1] + "…"


def linkable(url: object) -> str | None:
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
