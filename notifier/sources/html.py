"""Feed HTML made fit for matching (:func:`to_text`) or for HTML alerts (:func:`sanitize`).

Feed HTML is untrusted. :func:`to_text` keeps only the words: it is what
watches match against and what plain-text channels show (the result is plain
text, not HTML: escape it before embedding it in markup). :func:`sanitize`
keeps a small allowlist of formatting tags and links with safe schemes.

Both parse with nh3 (html5ever, the HTML5 parsing algorithm) rather than
regular expressions, so malformed markup, comments and entities are handled
the way a browser would. One thing an HTML parser does *not* do is read XML
``<![CDATA[...]]>`` sections as text (it drops them as bogus comments); a feed
that double-wraps its HTML in CDATA would lose words, so CDATA sections are
turned into escaped text first.
"""

from __future__ import annotations

import html as _html
import re
import urllib.parse

import nh3

__all__ = ["ALLOWED_SCHEMES", "ALLOWED_TAGS", "sanitize", "to_text"]

#: Tags :func:`sanitize` keeps; every other tag is removed but its text kept.
ALLOWED_TAGS: frozenset[str] = frozenset(
    {"a", "p", "br", "b", "strong", "i", "em", "ul", "ol", "li", "blockquote", "code", "pre"}
)
#: Link schemes :func:`sanitize` keeps on ``<a href>``; other links lose their href.
ALLOWED_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

#: Elements whose contents are never text (dropped with the element).
_DROP_CONTENT = frozenset({"script", "style"})

#: Elements that separate words visually: kept through nh3 (bare, without attributes)
#: so that they can become spaces, instead of gluing the words on each side together.
_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div"),
        *("dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5"),
        *("h6", "header", "hr", "img", "li", "main", "nav", "ol", "p", "pre", "section"),
        *("summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"),
    }
)
#: After nh3 every "<" of the text is escaped, so each "<" starts one bare tag.
_ANY_TAG = re.compile(r"<[^>]*>")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|\Z)", re.DOTALL)


def _cdata_to_text(markup: str) -> str:
    """Replace each CDATA section by its content, escaped (CDATA content is literal text)."""
    if "<![CDATA[" not in markup:
        return markup
    return _CDATA.sub(lambda m: _html.escape(m.group(1), quote=False), markup)


def to_text(html: str) -> str:
    """Return the words of ``html`` as plain text.

    Tags are stripped (their text kept), ``<script>``/``<style>`` contents and
    comments dropped, entities decoded (``&amp;`` → ``&``, ``&#8217;`` → ``’``,
    ``&nbsp;`` → a space), ``<br>`` and block elements (``<p>``, ``<li>``,
    ``<td>``...) separate words, and every run of whitespace becomes one space.
    """
    if not html:
        return ""
    if "<" not in html:
        return " ".join(_html.unescape(html).split())
    kept = nh3.clean(
        _cdata_to_text(html),
        tags=set(_BLOCKS),
        clean_content_tags=set(_DROP_CONTENT),
        attributes={},
        link_rel=None,
        strip_comments=True,
    )
    # nh3 returns escaped text (``&amp;``, ``&lt;``): drop the bare block tags, unescape once.
    return " ".join(_html.unescape(_ANY_TAG.sub(" ", kept)).split())


def _safe_href(value: str, base: str | None) -> str | None:
    """``value`` made absolute against ``base``; None unless http, https or mailto."""
    href = value.strip()
    try:
        if base:
            href = urllib.parse.urljoin(base, href)
        scheme = urllib.parse.urlsplit(href).scheme.lower()
    except ValueError:
        return None
    return href if scheme in ALLOWED_SCHEMES else None


def sanitize(html: str, *, base: str | None = None) -> str:
    """Return ``html`` reduced to safe markup for HTML alerts.

    Only :data:`ALLOWED_TAGS` survive (others are removed, their text kept;
    ``<script>``/``<style>`` are removed with their contents), with no
    attributes except ``href`` on ``<a>``. A link keeps its ``href`` only when
    it is http, https or mailto — a relative one is first made absolute against
    ``base`` (the entry's link or the feed URL) and dropped when there is no
    base — and every ``<a>`` gets ``rel="noopener noreferrer"``.
    """

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href":
            return _safe_href(value, base)
        return value

    return nh3.clean(
        _cdata_to_text(html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROP_CONTENT),
        attributes={"a": {"href"}},
        attribute_filter=keep,
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
