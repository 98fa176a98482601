"""Alert texts: contexts, built-in renderings per kind and format, escaping, user templates."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import apprise
import pytest
from apprise.conversion import convert_between
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.delivery import messages
from notifier.delivery.kinds import proposal_context
from notifier.delivery.messages import (
    HEADLINE_MAX,
    LINK_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    Rendered,
    Renderer,
    dead_letter_context,
    health_context,
    match_context,
)
from notifier.delivery.safety import PHRASE_MAX
from notifier.model import (
    BodyFormat,
    Entry,
    Hit,
    Match,
    Proposal,
    ProposalSource,
    Severity,
    Template,
    TemplateKind,
)
from notifier.sources.health import HealthEvent, HealthEventKind

NY = ZoneInfo("America/New_York")
JUNE = datetime(2025, 6, 10, 13, 0, tzinfo=UTC)  # 09:00 EDT
JANUARY = datetime(2025, 1, 10, 14, 0, tzinfo=UTC)  # 09:00 EST
FORMATS: tuple[BodyFormat, ...] = ("text", "markdown", "html")
LINK = "https://example.com/news/rare-earths?id=1"
SUMMARY = "Beijing announced licensing requirements for seven rare earth elements."

#: What no body may hold: controls (but tab and newline) and bidi embeddings/overrides/isolates.
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE_TITLE = '[click](http://evil) <script>alert(1)</script> "><img src=x onerror=alert(1)>'
HOSTILE_BITS = [
    "<script>",
    "<ScRiPt src=//evil>",
    "</script>",
    '"><img src=x onerror=alert(1)>',
    "[click](http://evil)",
    "![x](http://evil/p.png)",
    "<http://evil>",
    "javascript:alert(1)",
    "# heading",
    "1. item",
    "> quote",
    "- item",
    "**bold**",
    "`code`",
    "\\",
    "&lt;script&gt;",
    "\n",
    "\r",
    "\x00",
    "\u202e",
    "\u2028",
    " ",
]


def entry(**changes: Any) -> Entry:
    """A realistic entry; keyword arguments replace fields."""
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


def a_match(
    watch: str = "rare-earths",
    hits: tuple[Hit, ...] = (Hit("rare earth", "title", "…tightens rare earth export…"),),
    **changes: Any,
) -> Match:
    """A match of ``entry(**changes)`` by ``watch``."""
    return Match(watch, entry(**changes), hits)


def match_ctx(
    severity: Severity = "normal", feed_title: str | None = "Ministry of Commerce", **changes: Any
) -> dict[str, Any]:
    """The context of ``a_match(**changes)``."""
    return match_context(a_match(**changes), severity, feed_title)


def health_ctx(kind: HealthEventKind = HealthEventKind.UNHEALTHY) -> dict[str, Any]:
    """A health notice for the feed ``ustr`` at 09:00 EST."""
    error = "HTTP 503 Service Unavailable" if kind is HealthEventKind.UNHEALTHY else None
    return health_context(HealthEvent(kind, "ustr", 5, error, JANUARY))


def probe_ctx() -> dict[str, Any]:
    """A test alert for the channel ``phone``."""
    return messages.test_context("phone", JUNE)


def dead_ctx(last_error: str | None = "timed out after 30s") -> dict[str, Any]:
    """A dead letter for a high-severity match."""
    return dead_letter_context("phone", "[HIGH] Tariffs up", JUNE, 12, last_error)


def renderer(templates: Mapping[TemplateKind, Template] | None = None) -> Renderer:
    """A renderer in New York time with ``templates``."""
    return Renderer(templates or {}, NY)


def lines(rendered: Rendered) -> list[str]:
    """The body's lines (html: split at ``<br>``)."""
    if rendered.format == "html":
        return rendered.body.split("<br>")
    return rendered.body.split("\n")


def unescaped(text: str, chars: str) -> list[str]:
    """The characters of ``chars`` that occur in markdown ``text`` without a backslash."""
    found, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in chars:
            found.append(text[i])
        i += 1
    return found


# --------------------------------------------------------------------------- contexts


def test_match_context_holds_plain_json_values() -> None:
    """A match context has every documented key, with UTC ISO times and hits as plain dicts."""
    ctx = match_ctx("high", summary_html="<p>Beijing <b>announced</b></p>")
    assert ctx == {
        "kind": "match",
        "watch": "rare-earths",
        "severity": "high",
        "feed": "mofcom",
        "feed_title": "Ministry of Commerce",
        "title": "China tightens rare earth export controls",
        "link": LINK,
        "published": "2025-06-10T13:00:00+00:00",
        "updated": None,
        "author": None,
        "summary": SUMMARY,
        "summary_html": "<p>Beijing <b>announced</b></p>",
        "hits": [
            {"term": "rare earth", "field": "title", "snippet": "…tightens rare earth export…"}
        ],
        "why": '"rare earth" in title',
    }


def test_match_context_trims_summary_on_a_word_boundary() -> None:
    """A long summary is cut at a space, ends with "…" and stays within SUMMARY_MAX."""
    words = " ".join(f"word{i}" for i in range(200))
    summary = match_ctx(summary=words + "\n\t tail")["summary"]
    assert len(summary) <= SUMMARY_MAX
    assert summary.endswith("…")
    assert words.startswith(summary[:-1])
    assert summary[:-1].split()[-1] in words.split()  # no word cut in half


def test_match_context_uses_content_when_there_is_no_summary() -> None:
    """An entry with only content gets its content as the summary, whitespace collapsed."""
    assert match_ctx(summary="", content="Full\n text  here")["summary"] == "Full text here"


def test_match_context_converts_published_to_utc_and_allows_none() -> None:
    """Published times are stored in UTC whatever their zone; a missing one is None."""
    local = datetime(2025, 6, 10, 9, 0, tzinfo=NY)
    assert match_ctx(published=local)["published"] == "2025-06-10T13:00:00+00:00"
    assert match_ctx(published=None)["published"] is None


def test_contexts_survive_a_json_round_trip() -> None:
    """Every context is plain JSON: what the outbox stores is what it gets back."""
    contexts = [
        match_ctx("critical", summary_html="<b>x</b>"),
        match_ctx(feed_title=None, link=None, published=None),
        health_ctx(),
        health_ctx(HealthEventKind.RECOVERED),
        probe_ctx(),
        dead_ctx(),
        dead_ctx(None),
    ]
    for ctx in contexts:
        assert json.loads(json.dumps(ctx)) == ctx


def test_health_and_other_contexts() -> None:
    """Health, test and dead-letter contexts carry their kind, names, counts and UTC times."""
    assert health_ctx() == {
        "kind": "health",
        "event": "unhealthy",
        "feed": "ustr",
        "failures": 5,
        "error": "HTTP 503 Service Unavailable",
        "at": "2025-01-10T14:00:00+00:00",
    }
    assert probe_ctx() == {"kind": "test", "channel": "phone", "at": "2025-06-10T13:00:00+00:00"}
    assert dead_ctx() == {
        "kind": "dead_letter",
        "channel": "phone",
        "title": "[HIGH] Tariffs up",
        "queued_at": "2025-06-10T13:00:00+00:00",
        "attempts": 12,
        "last_error": "timed out after 30s",
    }


def test_naive_times_are_refused() -> None:
    """A naive datetime is a bug upstream: contexts refuse it rather than guess its zone."""
    with pytest.raises(ValueError, match="naive"):
        messages.test_context("phone", datetime(2025, 6, 10, 9, 0))


# --------------------------------------------------------------------------- match renderings


def test_match_in_text() -> None:
    """Plain text: headline, source · local time, summary, bare link, why, watch."""
    r = renderer().render(match_ctx(), "text")
    assert r == Rendered(
        "China tightens rare earth export controls",
        "China tightens rare earth export controls\n"
        "Ministry of Commerce · Tue 10 Jun 2025 09:00 EDT\n"
        f"{SUMMARY}\n"
        f"{LINK}\n"
        'Why: "rare earth" in title — …tightens rare earth export…\n'
        "Watch: rare-earths",
        "text",
    )


def test_match_in_markdown() -> None:
    """Markdown: the headline is a bold link, the link is also written out (an autolink);
    the rest is escaped text on its own lines."""
    r = renderer().render(match_ctx(), "markdown")
    assert r.format == "markdown"
    assert lines(r) == [
        f"**[China tightens rare earth export controls]({LINK})**",
        "Ministry of Commerce · Tue 10 Jun 2025 09:00 EDT",
        SUMMARY,
        f"<{LINK}>",
        'Why: "rare earth" in title — …tightens rare earth export…',
        "Watch: rare-earths",
    ]


def test_match_in_html() -> None:
    """HTML: a bold link as headline, the link written out as its own text, lines joined by
    <br>, quotes escaped."""
    r = renderer().render(match_ctx(), "html")
    assert r.format == "html"
    assert lines(r) == [
        f'<b><a href="{LINK}">China tightens rare earth export controls</a></b>',
        "Ministry of Commerce · Tue 10 Jun 2025 09:00 EDT",
        SUMMARY,
        f'<a href="{LINK}">{LINK}</a>',
        "Why: &#34;rare earth&#34; in title — …tightens rare earth export…",
        "Watch: rare-earths",
    ]


@pytest.mark.parametrize(
    ("severity", "title"),
    [
        ("low", "Tariffs up"),
        ("normal", "Tariffs up"),
        ("high", "[HIGH] Tariffs up"),
        ("critical", "[CRITICAL] Tariffs up"),
    ],
)
def test_match_title_shows_high_severities(severity: Severity, title: str) -> None:
    """Only high and critical matches carry their severity in the title."""
    assert renderer().render(match_ctx(severity, title="Tariffs up"), "text").title == title


def test_match_source_falls_back_to_the_feed_name() -> None:
    """Without a feed title the feed's name is the source; without a date no time is shown."""
    r = renderer().render(match_ctx(feed_title=None, published=None, summary=""), "text")
    assert lines(r)[1:3] == ["mofcom", LINK]


def test_match_without_title_or_hits() -> None:
    """An untitled entry reads "(no title)"; without hits the why line uses explain()."""
    ctx = match_ctx(title="", hits=())
    ctx["why"] = '"tariff" in summary'
    r = renderer().render(ctx, "text")
    assert r.title == "(no title)"
    assert 'Why: "tariff" in summary' in lines(r)


def test_why_line_shows_three_hits_and_counts_the_rest() -> None:
    """At most three hits are spelled out with snippets; the others are counted."""
    hits = tuple(Hit(f"t{i}", "summary", f"…s{i}…") for i in range(5))
    r = renderer().render(match_ctx(hits=hits), "text")
    assert (
        'Why: "t0" in summary — …s0…; "t1" in summary — …s1…; "t2" in summary — …s2…; +2 more'
        in (lines(r))
    )


@pytest.mark.parametrize(
    ("when", "zone", "shown"),
    [
        (JUNE, NY, "Tue 10 Jun 2025 09:00 EDT"),
        (JANUARY, NY, "Fri 10 Jan 2025 09:00 EST"),
        (JUNE, ZoneInfo("Europe/London"), "Tue 10 Jun 2025 14:00 BST"),
        (JUNE, ZoneInfo("Asia/Shanghai"), "Tue 10 Jun 2025 21:00 CST"),
    ],
)
def test_times_are_shown_in_the_configured_zone(when: datetime, zone: ZoneInfo, shown: str) -> None:
    """Published times are shown in the renderer's zone, with the DST-aware abbreviation."""
    r = Renderer({}, zone).render(match_ctx(published=when), "text")
    assert lines(r)[1] == f"Ministry of Commerce · {shown}"


# --------------------------------------------------------------------------- other kinds


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            "text",
            [
                "Feed unhealthy: ustr",
                "5 failures in a row; still polling, less often.",
                "Last error: HTTP 503 Service Unavailable",
                "At: Fri 10 Jan 2025 09:00 EST",
            ],
        ),
        (
            "markdown",
            [
                "**Feed unhealthy: ustr**",
                "5 failures in a row; still polling, less often.",
                "Last error: HTTP 503 Service Unavailable",
                "At: Fri 10 Jan 2025 09:00 EST",
            ],
        ),
        (
            "html",
            [
                "<b>Feed unhealthy: ustr</b>",
                "5 failures in a row; still polling, less often.",
                "Last error: HTTP 503 Service Unavailable",
                "At: Fri 10 Jan 2025 09:00 EST",
            ],
        ),
    ],
)
def test_unhealthy_feed(fmt: BodyFormat, expected: list[str]) -> None:
    """An unhealthy notice names the feed, the failures, the last error and the time."""
    r = renderer().render(health_ctx(), fmt)
    assert r.title == "Feed unhealthy: ustr"
    assert lines(r) == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_recovered_feed(fmt: BodyFormat) -> None:
    """A recovered notice names the feed and how many failures it came back from."""
    r = renderer().render(health_ctx(HealthEventKind.RECOVERED), fmt)
    assert r.title == "Feed recovered: ustr"
    assert lines(r)[1:] == [
        "Polled successfully again after 5 failures in a row.",
        "At: Fri 10 Jan 2025 09:00 EST",
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_test_alert(fmt: BodyFormat) -> None:
    """A test alert names the channel and the time it was sent."""
    r = renderer().render(probe_ctx(), fmt)
    assert r.title == "notifier test alert"
    assert lines(r)[1:] == [
        "Channel: phone",
        "Sent: Tue 10 Jun 2025 09:00 EDT",
        "If you can read this, alerts reach this channel.",
    ]


@pytest.mark.parametrize(
    ("fmt", "headline"),
    [
        ("text", "Alert not delivered: [HIGH] Tariffs up"),
        ("markdown", "**Alert not delivered: \\[HIGH\\] Tariffs up**"),
        ("html", "<b>Alert not delivered: [HIGH] Tariffs up</b>"),
    ],
)
def test_dead_letter(fmt: BodyFormat, headline: str) -> None:
    """A dead letter names the lost alert, the channel, attempts, queue time and last error."""
    r = renderer().render(dead_ctx(), fmt)
    assert r.title == "Alert not delivered: [HIGH] Tariffs up"
    assert lines(r) == [
        headline,
        "Channel: phone",
        "Attempts: 12",
        "Queued: Tue 10 Jun 2025 09:00 EDT",
        "Last error: timed out after 30s",
        "Not delivered within the maximum age: the alert was dropped.",
    ]


@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("text", "Due in 2d\n# not a heading <b>"),
        ("markdown", "Due in 2d\n\\# not a heading &lt;b>"),
        ("html", "Due in 2d<br># not a heading &lt;b&gt;"),
    ],
)
def test_kinds_without_a_default_render_title_and_body(fmt: BodyFormat, body: str) -> None:
    """A kind with no built-in text (one added later) shows its title and body, escaped."""
    ctx = {
        "kind": "announcement",
        "title": "USTR comments\nclose",
        "body": "Due in 2d\n# not a heading <b>",
    }
    r = renderer().render(ctx, fmt)
    assert r == Rendered("USTR comments close", body, fmt)


def test_unknown_format_is_an_error() -> None:
    """A body format other than text, markdown or html is a programming error."""
    with pytest.raises(ValueError, match="unknown body format"):
        renderer().render(probe_ctx(), "rtf")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- untrusted input


def test_html_escapes_every_feed_value() -> None:
    """Titles, summaries, snippets and feed titles cannot add tags or attributes to HTML."""
    ctx = match_ctx(
        title=HOSTILE_TITLE,
        summary="<script>steal()</script>",
        feed_title='"><img src=x onerror=alert(2)>',
        hits=(Hit("<b>", "summary", "<iframe src=//evil>"),),
    )
    body = renderer().render(ctx, "html").body
    assert "<script" not in body.lower()
    assert "<img" not in body
    assert "<iframe" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in body
    assert not re.sub(r'</?(b|br|a)( href="[^"<>]*")?>', "", body).count("<")


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,<script>", "//evil/x"])
def test_links_that_are_not_http_are_not_clickable(link: str) -> None:
    """A javascript:, data: or scheme-less link is shown as text, never as a link target."""
    ctx = match_ctx(link=link)
    html = renderer().render(ctx, "html").body
    assert "href" not in html
    assert html.split("<br>")[0] == "<b>China tightens rare earth export controls</b>"
    markdown = renderer().render(ctx, "markdown").body
    assert "](" not in markdown
    assert "Link \\(not opened\\): " in markdown
    text = renderer().render(ctx, "text").body
    assert f"Link (not opened): {link}" in text.split("\n")


def test_html_link_attribute_is_escaped() -> None:
    """A quote in an http link cannot close the href attribute."""
    body = renderer().render(match_ctx(link='https://x.test/"onmouseover="alert(1)'), "html").body
    assert body.startswith('<b><a href="https://x.test/&#34;onmouseover=&#34;alert(1)">')


def test_markdown_link_injection_is_escaped() -> None:
    """A feed title written as a markdown link stays text: its brackets are escaped."""
    body = renderer().render(match_ctx(title=HOSTILE_TITLE, link=None), "markdown").body
    assert lines(Rendered("", body, "markdown"))[0] == (
        "**\\[click\\]\\(http://evil\\) &lt;script>alert\\(1\\)&lt;/script> "
        '">&lt;img src=x onerror=alert\\(1\\)>**'
    )


def test_markdown_from_feeds_yields_no_link_or_tag_once_converted() -> None:
    """Python-Markdown (Apprise's converter) turns the escaped body into text, not links or tags."""
    markdown = pytest.importorskip("markdown")
    ctx = match_ctx(
        title="[click](http://evil) <script>x</script>",
        summary="<http://evil> ![i](http://evil/p.png) <img src=x onerror=y>",
        hits=(Hit("t", "summary", "[a](javascript:alert(1))"),),
    )
    body = renderer().render(ctx, "markdown").body
    html = markdown.markdown(body, extensions=["nl2br"])
    assert re.findall(r"<a [^>]*>", html) == [f'<a href="{LINK}">'] * 2  # headline, link line
    assert "<script" not in html
    assert "<img" not in html


def test_markdown_link_urls_are_percent_encoded() -> None:
    """A link with a space or ")" cannot end the markdown link early."""
    body = renderer().render(match_ctx(link="https://x.test/a b)(c"), "markdown").body
    assert body.split("\n")[0] == (
        "**[China tightens rare earth export controls](https://x.test/a%20b%29%28c)**"
    )


@pytest.mark.parametrize(
    ("summary", "shown"),
    [
        ("# Breaking", "\\# Breaking"),
        ("1. First", "1\\. First"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("> quoted", "\\> quoted"),
        ("2025 - a year", "2025 - a year"),
        ("a_b*c`d", "a\\_b\\*c\\`d"),
    ],
)
def test_markdown_line_starts_cannot_make_blocks(summary: str, shown: str) -> None:
    """Text starting a line cannot become a heading, list or quote; inline marks are escaped."""
    r = renderer().render(match_ctx(summary=summary), "markdown")
    assert lines(r)[2] == shown


def test_titles_are_one_clean_line_of_limited_length() -> None:
    """Titles lose newlines, control and bidi-override characters, and are capped at TITLE_MAX."""
    ctx = match_ctx(title="Tariffs\r\nup\t\x00now \u202eevil\u202c")
    assert renderer().render(ctx, "text").title == "Tariffs up now evil"
    long = renderer().render(match_ctx("critical", title="word " * 100), "html").title
    assert len(long) <= TITLE_MAX
    assert long.startswith("[CRITICAL] word word")
    assert long.endswith("word…")


# --------------------------------------------------------------------------- digests


def test_digest_of_matches_keeps_order_and_leads_with_the_reason() -> None:
    """Folded matches: count and watches in the title, reason line first, items in order."""
    items = [
        match_ctx("high"),
        match_ctx(title="US raises tariffs (again)", link="https://x.test/t", watch="tariffs"),
        match_ctx(title="Another rare earth item", link=None),
    ]
    r = renderer().render_digest(items, "text", "digest of the last hour")
    assert r.title == "3 new matches — rare-earths, tariffs"
    assert r.body == (
        "Digest of the last hour — 3 alerts\n"
        "1. [HIGH] China tightens rare earth export controls\n"
        f"   {LINK}\n"
        '   Why: "rare earth" in title\n'
        "2. US raises tariffs (again)\n"
        "   https://x.test/t\n"
        '   Why: "rare earth" in title\n'
        "3. Another rare earth item\n"
        '   Why: "rare earth" in title'
    )


def test_digest_in_markdown_and_html() -> None:
    """Markdown digests are a list of bold links after a blank line; HTML ones a <ul>."""
    items = [match_ctx(), health_ctx()]
    reason = "held during quiet hours 22:00-07:00"
    md = renderer().render_digest(items, "markdown", reason)
    assert md.title == "2 alerts: China tightens rare earth export controls, Feed unhealthy: ustr"
    assert md.body == (
        "Held during quiet hours 22:00-07:00 — 2 alerts\n"
        "\n"
        f"- **[China tightens rare earth export controls]({LINK})**\n"
        f"  <{LINK}>\n"
        '  Why: "rare earth" in title\n'
        "- **Feed unhealthy: ustr**\n"
        "  Last error: HTTP 503 Service Unavailable"
    )
    html = renderer().render_digest(items, "html", reason)
    assert html.body == (
        "Held during quiet hours 22:00-07:00 — 2 alerts<ul>"
        f'<li><b><a href="{LINK}">China tightens rare earth export controls</a></b>'
        f'<br><a href="{LINK}">{LINK}</a>'
        "<br>Why: &#34;rare earth&#34; in title</li>"
        "<li><b>Feed unhealthy: ustr</b><br>Last error: HTTP 503 Service Unavailable</li></ul>"
    )


def test_digest_of_every_kind() -> None:
    """Each kind has a compact digest entry; a single match reads "1 new match"."""
    items = [
        probe_ctx(),
        dead_ctx(),
        {"kind": "announcement", "title": "Comments due", "body": "\nIn 2d"},
    ]
    r = renderer().render_digest(items, "text", "rate limit 30/1h")
    assert r.body.split("\n") == [
        "Rate limit 30/1h — 3 alerts",
        "1. notifier test alert",
        "   Channel: phone",
        "2. Alert not delivered: [HIGH] Tariffs up",
        "   Channel phone, 12 attempts; last error: timed out after 30s",
        "3. Comments due",
        "   In 2d",
    ]
    one = renderer().render_digest([match_ctx()], "text", "digest of the last hour")
    assert one.title == "1 new match — rare-earths"


def test_digest_escapes_items() -> None:
    """Digest items are escaped like single alerts, and their unsafe links stay text."""
    ctx = match_ctx(title=HOSTILE_TITLE, link="javascript:alert(1)")
    html = renderer().render_digest([ctx], "html", "<b>reason</b>").body
    assert "<script" not in html
    assert "href" not in html
    assert html.startswith("&lt;b&gt;reason&lt;/b&gt; — 1 alert<ul>")
    md = renderer().render_digest([ctx], "markdown", "r").body
    assert "](" not in md


def test_empty_digest_is_an_error() -> None:
    """A digest of nothing is a caller's bug, not an empty message."""
    with pytest.raises(ValueError, match="at least one"):
        renderer().render_digest([], "text", "digest of the last hour")


# --------------------------------------------------------------------------- user templates


def test_user_template_overrides_title_and_body() -> None:
    """A kind's templates replace its title and body; times and format are variables."""
    spec = Template(
        title="{{ watch }}: {{ title }}",
        body="{{ title }} ({{ published_local }}, {{ format }}) {{ safe_link }}",
    )
    r = renderer({"match": spec}).render(match_ctx(), "text")
    assert r == Rendered(
        "rare-earths: China tightens rare earth export controls",
        f"China tightens rare earth export controls (Tue 10 Jun 2025 09:00 EDT, text) {LINK}",
        "text",
    )


def test_template_for_one_part_keeps_the_other_default() -> None:
    """A title-only template leaves the built-in body, and the other kinds are untouched."""
    rend = renderer({"match": Template(title="ALERT {{ title }}")})
    r = rend.render(match_ctx(), "text")
    assert r.title == "ALERT China tightens rare earth export controls"
    assert r.body == renderer().render(match_ctx(), "text").body
    assert rend.render(probe_ctx(), "text") == renderer().render(probe_ctx(), "text")


def test_template_html_autoescapes_values() -> None:
    """In HTML bodies every template value is escaped; sanitised summary_html is kept as markup."""
    spec = Template(body="<p>{{ title }}</p>{{ summary_html }}<a href='{{ link }}'>x</a>")
    ctx = match_ctx(
        title=HOSTILE_TITLE,
        link="https://x.test/'><script>",
        summary_html=(
            '<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:y">l</a></p>'
        ),
    )
    body = renderer({"match": spec}).render(ctx, "html").body
    assert "<script" not in body
    assert body.startswith("<p>[click](http://evil) &lt;script&gt;")
    assert "<p>Hi <a" in body
    assert "onclick" not in body
    assert "javascript" not in body
    assert "href='https://x.test/&#39;&gt;&lt;script&gt;'" in body


def test_template_markdown_escapes_values_unless_marked_safe() -> None:
    """In markdown bodies values are markdown-escaped; |safe and default_body opt out."""
    spec = Template(
        body="{{ title }} [open]({{ safe_link|markdown_url }}) {{ '*raw*'|safe }}\n"
        "{{ default_body }}"
    )
    ctx = match_ctx(title="[click](http://evil)", link="https://x.test/a b")
    body = renderer({"match": spec}).render(ctx, "markdown").body
    first, *rest = body.split("\n")
    assert first == "\\[click\\]\\(http://evil\\) [open](https://x.test/a%20b) *raw*"
    assert "\n".join(rest) == renderer().render(ctx, "markdown").body


def test_template_title_is_cleaned() -> None:
    """A title rendered from a template is still one plain line, capped at TITLE_MAX."""
    spec = Template(title="{{ title }}\n{{ 'x' * 500 }}")
    title = renderer({"match": spec}).render(match_ctx(title="<b>A</b>\tB"), "html").title
    assert title.startswith("<b>A</b> B x")
    assert len(title) <= TITLE_MAX


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ hits.append(1) }}",
        "{{ title.__class__.__base__.__subclasses__() }}",
    ],
)
def test_sandbox_violation_falls_back_and_is_reported(source: str) -> None:
    """Unsafe attribute access or mutation in a template sends the default and says why."""
    r = renderer({"match": Template(body=source)}).render(match_ctx(), "text")
    assert r.body == renderer().render(match_ctx(), "text").body
    assert r.template_error is not None
    assert r.template_error.startswith("templates.match.body: SecurityError: ")


def test_template_error_falls_back_per_part() -> None:
    """A failing body template falls back alone: the title template still applies."""
    spec = Template(title="T: {{ title }}", body="{{ 1 // 0 }}")
    r = renderer({"match": spec}).render(match_ctx(), "text")
    assert r.title == "T: China tightens rare earth export controls"
    assert r.body == renderer().render(match_ctx(), "text").body
    assert (
        r.template_error
        == "templates.match.body: ZeroDivisionError: integer division or modulo by zero"
    )


def test_missing_variable_renders_empty() -> None:
    """An unknown variable (or attribute of one) renders as nothing, not an error."""
    spec = Template(title="[{{ nope }}]", body="a{{ nope.deeper }}b{{ feed_title }}c")
    r = renderer({"match": spec}).render(match_ctx(feed_title=None), "text")
    assert (r.title, r.body, r.template_error) == ("[]", "abc", None)


def test_template_rendering_blank_body_falls_back() -> None:
    """A body template that renders blank would be refused by Apprise: the default is sent."""
    r = renderer({"test": Template(body="{{ nope }}\n")}).render(probe_ctx(), "text")
    assert r.body == renderer().render(probe_ctx(), "text").body
    assert r.template_error == "templates.test.body: rendered empty; the built-in text was sent"


def test_template_that_does_not_compile_is_reported_at_render() -> None:
    """A template that bypassed config validation and fails to compile never raises."""
    spec = Template(title=None, body="{% if %}")
    r = renderer({"health": spec}).render(health_ctx(), "markdown")
    assert r.body == renderer().render(health_ctx(), "markdown").body
    assert r.template_error is not None
    assert r.template_error.startswith("templates.health.body: TemplateSyntaxError")


def test_templates_for_other_kinds() -> None:
    """Each kind's template sees its own context and local times (|local, queued_at_local)."""
    rend = renderer(
        {
            "health": Template(body="{{ event }} {{ feed }} {{ at|local }}"),
            "dead_letter": Template(body="{{ title }} {{ queued_at_local }} {{ attempts }}"),
            "reminder": Template(title="Due: {{ title }}"),
        }
    )
    assert rend.render(health_ctx(), "text").body == "unhealthy ustr Fri 10 Jan 2025 09:00 EST"
    assert rend.render(dead_ctx(), "text").body == "[HIGH] Tariffs up Tue 10 Jun 2025 09:00 EDT 12"
    reminder = rend.render(
        {"kind": "reminder", "title": "Comments", "due": JANUARY.isoformat()}, "text"
    )
    assert reminder.title == "Due: Comments"
    assert reminder.body.startswith("Comments\n")


def test_digest_template_sees_items_count_and_reason() -> None:
    """A digest template gets items (with headline and local times), count and reason."""
    spec = Template(
        title="{{ count }} for you",
        body="{{ reason }}:{% for i in items %} {{ i.headline }} @ {{ i.published_local }};"
        "{% endfor %}",
    )
    items = [match_ctx("high"), match_ctx(published=JANUARY, title="B")]
    r = renderer({"digest": spec}).render_digest(items, "text", "digest of the last hour")
    assert r.title == "2 for you"
    assert r.body == (
        "digest of the last hour: [HIGH] China tightens rare earth export controls"
        " @ Tue 10 Jun 2025 09:00 EDT; B @ Fri 10 Jan 2025 09:00 EST;"
    )


# --------------------------------------------------------------------------- properties

hostile_text = st.lists(st.sampled_from(HOSTILE_BITS) | st.text(max_size=20), max_size=8).map(
    "".join
)


@settings(max_examples=150, deadline=None)
@given(
    title=hostile_text,
    summary=hostile_text,
    feed_title=hostile_text,
    term=hostile_text,
    snippet=hostile_text,
    summary_html=hostile_text,
    published=st.none() | st.datetimes(timezones=st.just(UTC)),
    severity=st.sampled_from(["low", "normal", "high", "critical"]),
)
def test_rendering_arbitrary_feed_text_is_safe(
    *,
    title: str,
    summary: str,
    feed_title: str,
    term: str,
    snippet: str,
    summary_html: str,
    published: datetime | None,
    severity: Severity,
) -> None:
    """Any feed text renders in every format without error, as one clean title and a body free
    of control and bidi-override characters (templated or not), and safely: no tag of its own
    in HTML (summary_html only sanitised), no link/tag/block in markdown."""
    ctx = match_ctx(
        severity,
        feed_title=feed_title,
        title=title,
        summary=summary,
        summary_html=summary_html,
        link=None,
        published=published,
        hits=(Hit(term, "title", snippet),),
    )
    assert json.loads(json.dumps(ctx)) == ctx
    plain = renderer()
    templated = renderer({"match": Template(body="T{{ title }}{{ summary_html }}")})
    for fmt in FORMATS:
        for rend in (plain, templated):
            r = rend.render(ctx, fmt)
            assert r.template_error is None
            assert len(r.title) <= TITLE_MAX
            assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", r.title)
            assert not CONTROLS.search(r.body)  # built-in and templated bodies alike
            if fmt == "html":
                assert "<script" not in r.body.lower()
        digest = plain.render_digest([ctx, ctx], fmt, "digest")
        if fmt == "html":
            assert "<script" not in digest.body.lower()
            own_tags = r"</?(b|br|ul|li)>"
            assert "<" not in re.sub(own_tags, "", plain.render(ctx, fmt).body)
            assert "<" not in re.sub(own_tags, "", digest.body)
        if fmt == "markdown":
            for body in (plain.render(ctx, fmt).body, digest.body):
                assert unescaped(body, "[]()<`") == []
                for line in body.split("\n"):
                    assert not re.match(r"\s*([#>+]|\d+\.)", line)


# --------------------------------------------------------------------------- field sizes

MEGABYTE = "word " * 200_000


def test_match_context_caps_every_feed_field() -> None:
    """A 1 MB title, summary, snippet, author and link make a context of a few KB: each is cut
    at its documented cap with "…", so the outbox never stores a huge context."""
    ctx = match_ctx(
        title=MEGABYTE,
        summary=MEGABYTE,
        author=MEGABYTE,
        link="https://x.test/" + "a" * 1_000_000,
        summary_html="<p>" + MEGABYTE + "</p>",
        hits=(Hit("word", "title", MEGABYTE),),
    )
    caps = {
        "title": messages.HEADLINE_MAX,
        "summary": SUMMARY_MAX,
        "author": messages.AUTHOR_MAX,
        "link": messages.LINK_MAX,
        "summary_html": messages.SUMMARY_HTML_MAX,
    }
    for key, cap in caps.items():
        assert len(ctx[key]) <= cap, key
    assert ctx["title"].endswith("word…")
    assert ctx["link"].endswith("…")
    assert len(ctx["hits"][0]["snippet"]) <= messages.SNIPPET_MAX
    assert ctx["hits"][0]["snippet"].endswith("…")
    assert len(json.dumps(ctx)) < messages.SUMMARY_HTML_MAX + 5_000


def test_a_huge_title_makes_a_small_message() -> None:
    """The 1 MB title that made a 2.1 MB e-mail now makes a body of a few KB in every format."""
    ctx = match_ctx("high", title=MEGABYTE, summary=MEGABYTE, hits=(Hit("w", "title", MEGABYTE),))
    for fmt in FORMATS:
        r = renderer().render(ctx, fmt)
        assert len(r.title) <= TITLE_MAX
        assert len(r.body) < 3_000


def test_error_messages_are_capped_in_health_and_dead_letter_contexts() -> None:
    """A server's 1 MB error message is cut at DETAIL_MAX in health notices and dead letters."""
    event = HealthEvent(HealthEventKind.UNHEALTHY, "ustr", 5, "HTTP 500: " + MEGABYTE, JANUARY)
    assert len(health_context(event)["error"]) <= messages.DETAIL_MAX
    dead = dead_letter_context("phone", MEGABYTE, JUNE, 3, MEGABYTE)
    assert len(dead["title"]) <= messages.HEADLINE_MAX
    assert len(dead["last_error"]) <= messages.DETAIL_MAX


def test_a_link_cut_at_its_cap_is_not_clickable() -> None:
    """A link longer than LINK_MAX is kept cut, shown as text, never as a link that leads
    somewhere else."""
    ctx = match_ctx(link="https://x.test/" + "a" * 5_000)
    html = renderer().render(ctx, "html").body
    assert "href" not in html
    assert "Link (not opened): https://x.test/aaa" in html


# --------------------------------------------------------------------------- hostile characters


@pytest.mark.parametrize(
    ("text", "one_line", "with_lines"),
    [
        ("Tariffs\r\nup\t\x00now", "Tariffs up now", "Tariffs\nup\tnow"),
        ("a\u202eb\u2066c\u2069d\u202a", "abcd", "abcd"),
        ("x\x1b[2Jy\x85z\u2028w", "x[2Jy z w", "x[2Jy\nz\nw"),
        ("  spaced   out  \n", "spaced out", "  spaced   out  \n"),
        # RLM and LRM are marks, not overrides: right-to-left text needs them.
        ("稀土 \u200fעברית\u200e", "稀土 \u200fעברית\u200e", "稀土 \u200fעברית\u200e"),
    ],
)
def test_clean_text_removes_controls_and_bidi_overrides(
    text: str, one_line: str, with_lines: str
) -> None:
    """C0/C1 controls and bidi embeddings/overrides/isolates go; a body keeps its newlines and
    tabs (other line breaks become newlines), a line collapses whitespace."""
    assert messages.clean_text(text) == one_line
    assert messages.clean_text(text, lines=True) == with_lines


def test_template_values_are_cleaned_like_built_in_texts() -> None:
    """Every value a template sees has its control and bidi-override characters removed, as the
    built-in texts do; a value's newlines are kept for the body."""
    spec = Template(
        title="{{ title }}",
        body="{{ title }}|{{ summary }}|{{ hits[0].snippet }}|{{ feed_title }}|{{ notes }}",
    )
    ctx = {
        **match_ctx(
            feed_title="Mof\u202ecom",
            hits=(Hit("t", "title", "snip\x07pet\u2067"),),
        ),
        # As an old outbox row could hold it: not cleaned when it was built.
        "title": "Tariffs\u202e up\x00",
        "summary": "line1\r\nline2\x1b[31m",
        "notes": "a\tb",
    }
    r = renderer({"match": spec}).render(ctx, "text")
    assert r.title == "Tariffs up"
    assert r.body == "Tariffs up|line1\nline2[31m|snippet|Mofcom|a\tb"
    assert renderer().render(ctx, "text").title == r.title


def test_reminder_notes_keep_their_lines() -> None:
    """A deadline's multi-line notes stay lines in the body, each cleaned."""
    ctx = {"kind": "reminder", "title": "Pause", "notes": "First\x00 line\r\nsecond\u202e line"}
    assert lines(renderer().render(ctx, "text"))[2:4] == ["First line", "second line"]


# --------------------------------------------------------------------------- mentions

ZWSP = "\u200b"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("@here", f"@{ZWSP}here"),
        (
            "Ping @everyone, @Channel and @ALL!",
            f"Ping @{ZWSP}everyone, @{ZWSP}Channel and @{ZWSP}ALL!",
        ),
        ("@room: news", f"@{ZWSP}room: news"),
        ("<!here>", f"<{ZWSP}!{ZWSP}here>"),
        (
            "<!channel|channel> and < !everyone>",
            f"<{ZWSP}!{ZWSP}channel|channel> and <{ZWSP} !{ZWSP}everyone>",
        ),
        ("<@U6TTX1F9R> <@&1234>", f"<{ZWSP}@{ZWSP}U6TTX1F9R> <{ZWSP}@{ZWSP}&1234>"),
        ("!here> and !subteam^S1|team>", f"!{ZWSP}here> and !{ZWSP}subteam^S1|team>"),
        ("&lt;!here&gt;", f"&lt;{ZWSP}!{ZWSP}here&gt;"),
        ("@allianz and @roomba, user@example.com", "@allianz and @roomba, user@example.com"),
        ("Wow! Great > all", "Wow! Great > all"),
    ],
)
def test_escape_mentions(text: str, escaped: str) -> None:
    """Whole-chat pings and Slack/Discord tokens get a zero-width space; other text (words that
    merely start like a ping, e-mail addresses, "!" in prose) is untouched."""
    assert messages.escape_mentions(text) == escaped
    assert messages.escape_mentions(escaped) == escaped  # once is enough


def test_feed_mentions_cannot_ping_the_chat_by_default() -> None:
    """A feed's @everyone/@here/<!channel> reach the title, body and template values escaped;
    the user's own words — template text, a deadline's title and notes — ping as written."""
    ctx = match_ctx(
        title="@everyone rare earth <!channel>",
        summary="Alert @here",
        author="@room",
        hits=(Hit("rare earth", "title", "@all rare earth"),),
    )
    for fmt in FORMATS:
        r = renderer().render(ctx, fmt)
        for text in (r.title, r.body):
            assert not re.search(r"@(everyone|here|all|room)\b|<!channel|&lt;!channel", text), fmt
        assert f"@{ZWSP}everyone rare earth" in r.title
    spec = Template(body="@here {{ title }} {{ author }} {{ hits[0].snippet }}")
    body = renderer({"match": spec}).render(ctx, "text").body
    assert body == (
        f"@here @{ZWSP}everyone rare earth <{ZWSP}!{ZWSP}channel> @{ZWSP}room @{ZWSP}all rare earth"
    )
    own = {"kind": "reminder", "title": "@here pause ends", "notes": "@channel read this"}
    assert renderer().render(own, "text").body.split("\n")[::2] == [
        "@here pause ends",
        "@channel read this",
    ]


def test_mentions_allow_sends_feed_text_as_it_is() -> None:
    """A channel with ``mentions: allow`` gets the feed's @everyone untouched."""
    ctx = match_ctx(title="@everyone rare earth", summary="@here")
    r = renderer().render(ctx, "text", mentions="allow")
    assert r.title == "@everyone rare earth"
    assert "@here" in lines(r)


def test_mentions_in_errors_and_sanitised_html_are_escaped() -> None:
    """A server's error message and a feed's summary_html are feed text too."""
    event = HealthEvent(HealthEventKind.UNHEALTHY, "ustr", 5, "503 @channel", JANUARY)
    assert f"Last error: 503 @{ZWSP}channel" in lines(
        renderer().render(health_context(event), "text")
    )
    spec = Template(body="{{ summary_html }}")
    ctx = match_ctx(summary_html="<p>@everyone &lt;!here&gt;</p>")
    body = renderer({"match": spec}).render(ctx, "html").body
    assert body == f"<p>@{ZWSP}everyone &lt;{ZWSP}!{ZWSP}here&gt;</p>"


def test_mentions_in_a_digest_are_escaped_per_item() -> None:
    """Digest items escape their feed text like single alerts do."""
    r = renderer().render_digest([match_ctx(title="@everyone look")], "text", "digest")
    assert "@everyone" not in r.body
    assert f"@{ZWSP}everyone look" in r.body


# --------------------------------------------------------------------------- links everywhere


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_text_apprise_derives_from_a_match_keeps_the_link(fmt: BodyFormat) -> None:
    """Apprise turns an html (or markdown) body into plain text for an e-mail's text part: the
    link survives the conversion, single alert and digest alike (text bodies have it as is)."""
    source = getattr(apprise.NotifyFormat, fmt.upper())
    for body in (
        renderer().render(match_ctx(), fmt).body,
        renderer().render_digest([match_ctx(), match_ctx()], fmt, "digest").body,
    ):
        # What Apprise's e-mail plugin does: the body as html, then its text part from that.
        html = convert_between(source, apprise.NotifyFormat.HTML, body)  # type: ignore[no-untyped-call]
        text = convert_between(apprise.NotifyFormat.HTML, apprise.NotifyFormat.TEXT, html)  # type: ignore[no-untyped-call]
        assert LINK in text


# --------------------------------------------------------------------------- updated times


def test_an_entry_with_only_an_updated_time_shows_it_labelled() -> None:
    """An Atom entry with <updated> but no <published>: the match shows "updated …", and a
    template's published_local says the same; published itself stays None."""
    ctx = match_ctx(published=None, updated=JANUARY)
    assert ctx["updated"] == "2025-01-10T14:00:00+00:00"
    assert ctx["published"] is None
    assert lines(renderer().render(ctx, "text"))[1] == (
        "Ministry of Commerce · updated Fri 10 Jan 2025 09:00 EST"
    )
    spec = Template(body="{{ published_local }} / {{ updated_local }} / {{ published }}")
    assert renderer({"match": spec}).render(ctx, "text").body == (
        "updated Fri 10 Jan 2025 09:00 EST / Fri 10 Jan 2025 09:00 EST / "
    )
    both = match_ctx(updated=JANUARY)
    assert lines(renderer().render(both, "text"))[1].endswith("· Tue 10 Jun 2025 09:00 EDT")


def test_a_huge_title_queued_before_the_caps_still_makes_a_small_message() -> None:
    """A context already in the outbox from before the caps (uncut 1 MB title) renders a
    headline of at most HEADLINE_MAX characters."""
    ctx = {**match_ctx(), "title": MEGABYTE}
    assert len(renderer().render(ctx, "text").body) < 3_000


# --------------------------------------------------------------------------- proposals


def a_proposal(**changes: Any) -> Proposal:
    """A proposal of a new deadline, an expiry on Tue 1 July 2025 (all day in New York)."""
    fields: dict[str, Any] = {
        "id": "3f9a1c2b",
        "change": "deadline",
        "kind": "expiry",
        "name": "waiver-expires",
        "title": "Export licence waiver expires",
        "due": datetime(2025, 7, 1, tzinfo=NY),
        "all_day": True,
        "window_end": None,
        "timezone": "America/New_York",
        "phrase": "The waiver expires on July 1.",
        "confidence": 0.85,
        "watches": ("rare-earths", "china"),
        "sources": (ProposalSource("reuters", "v1:a", "Waiver ends July 1", LINK),),
    }
    fields.update(changes)
    return Proposal(**fields)


def proposal_ctx(**changes: Any) -> dict[str, Any]:
    """The context of ``a_proposal(**changes)``, of normal severity."""
    return proposal_context(
        a_proposal(**changes),
        "normal",
        accept="notifier accept 3f9a1c2b",
        dismiss="notifier dismiss 3f9a1c2b",
    )


def when_of(**values: Any) -> str:
    """``due|when(all_day, window_end, timezone)`` of a proposal context with ``values``."""
    spec = Template(body="[{{ due|when(all_day, window_end, timezone) }}]")
    return renderer({"proposal": spec}).render({**proposal_ctx(), **values}, "text").body[1:-1]


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ({}, "Tue 1 Jul 2025"),
        ({"window_end": "2025-07-10"}, "1–10 Jul 2025"),
        ({"due": "2025-06-28T04:00:00+00:00", "window_end": "2025-07-03"}, "28 Jun – 3 Jul 2025"),
        (
            {"due": "2025-12-29T05:00:00+00:00", "window_end": "2026-01-02"},
            "29 Dec 2025 – 2 Jan 2026",
        ),
        ({"window_end": "2025-07-01"}, "Tue 1 Jul 2025"),  # a window of one day is that day
        ({"window_end": "not a date"}, "Tue 1 Jul 2025"),
        (
            {"due": "2025-08-01T15:00:00+00:00", "all_day": False, "timezone": "Europe/Brussels"},
            "Fri 1 Aug 2025 17:00 CEST",
        ),
        ({"due": "2025-08-01T21:00:00+00:00", "all_day": False}, "Fri 1 Aug 2025 17:00 EDT"),
        # An unknown zone: the config's; a date with no time of day stays the day it was.
        (
            {"due": "2025-08-01T21:00:00+00:00", "all_day": False, "timezone": "Mars/Base"},
            "Fri 1 Aug 2025 17:00 EDT",
        ),
        ({"timezone": None}, "Tue 1 Jul 2025"),
        ({"due": "2025-07-01T00:00:00+09:00", "timezone": "Asia/Tokyo"}, "Tue 1 Jul 2025"),
        ({"due": None}, ""),
        ({"due": "soon"}, ""),
    ],
)
def test_the_when_filter_reads_a_date_as_it_was_stated(values: dict[str, Any], shown: str) -> None:
    """``when`` shows a day (all day), a window of days, or a time with its zone's
    abbreviation — in the zone it was stated in, the config's when that one is unknown."""
    assert when_of(**values) == shown


def test_the_linkable_filter_keeps_only_http_links() -> None:
    """``linkable`` is ``safe_link`` for any link: http(s) with a host, else nothing."""
    sources = [{"link": LINK}, {"link": "javascript:alert(1)"}, {"link": None}, {}]
    spec = Template(body="{% for s in sources %}[{{ s.link|linkable }}]{% endfor %}")
    ctx = {**proposal_ctx(), "sources": sources}
    assert renderer({"proposal": spec}).render(ctx, "text").body == f"[{LINK}][][][]"


def test_proposal_context_holds_plain_json_values() -> None:
    """A proposal's context: every key, UTC times, ISO dates, the commands as given."""
    ctx = proposal_ctx(
        change="move",
        deadline="pause",
        old_due=datetime(2025, 7, 9, 0, 1, tzinfo=NY),
        window_end=date(2025, 7, 10),
    )
    assert json.loads(json.dumps(ctx)) == ctx
    assert ctx == {
        "kind": "proposal",
        "id": "3f9a1c2b",
        "change": "move",
        "deadline_kind": "expiry",
        "name": "waiver-expires",
        "title": "Export licence waiver expires",
        "deadline": "pause",
        "due": "2025-07-01T04:00:00+00:00",
        "all_day": True,
        "window_end": "2025-07-10",
        "timezone": "America/New_York",
        "old_due": "2025-07-09T04:01:00+00:00",
        "phrase": "The waiver expires on July 1.",
        "confidence": 0.85,
        "sources": [{"feed": "reuters", "title": "Waiver ends July 1", "link": LINK}],
        "source_count": 1,
        "link": LINK,
        "watches": ["rare-earths", "china"],
        "severity": "normal",
        "accept": "notifier accept 3f9a1c2b",
        "dismiss": "notifier dismiss 3f9a1c2b",
    }


def test_proposal_context_caps_feed_text_and_lists_five_sources() -> None:
    """The phrase, each source's title and link are capped; five sources are kept and all
    are counted; the link is the first source's; confidence stays within 0..1."""
    many = tuple(
        ProposalSource(f"feed{n}", f"v1:{n}", "word " * 10_000, "https://x.test/" + "a" * 5_000)
        for n in range(7)
    )
    ctx = proposal_ctx(phrase="word " * 10_000, sources=many, confidence=1.7, title="t " * 5_000)
    assert len(ctx["phrase"]) <= PHRASE_MAX
    assert len(ctx["title"]) <= HEADLINE_MAX
    assert [s["feed"] for s in ctx["sources"]] == [f"feed{n}" for n in range(5)]
    assert ctx["source_count"] == 7
    assert all(len(s["title"]) <= HEADLINE_MAX for s in ctx["sources"])
    assert all(len(s["link"]) <= LINK_MAX for s in ctx["sources"])
    assert ctx["link"] == ctx["sources"][0]["link"]
    assert ctx["confidence"] == 1.0
    assert proposal_ctx(confidence=float("nan"))["confidence"] == 0.0
    assert proposal_ctx(sources=())["link"] is None
    text = renderer().render(ctx, "text")
    assert "+2 more sources" in lines(text)
    assert len(text.body) < 4 * LINK_MAX + 3_000


def test_a_proposal_sources_titles_cannot_ping_the_chat() -> None:
    """``sources.title`` is feed text: each source's title has its pings escaped, as its
    phrase and title do, unless the channel allows mentions."""
    ctx = proposal_ctx(
        title="@here deadline",
        phrase="@channel it ends",
        sources=(
            ProposalSource("reuters", "v1:a", "@everyone look", LINK),
            ProposalSource("ap", "v1:b", "<!here> too", None),
        ),
    )
    for fmt in FORMATS:
        r = renderer().render(ctx, fmt)
        for text in (r.title, r.body):
            assert not re.search(r"@(everyone|here|channel)\b|<!here|&lt;!here", text), fmt
    spec = Template(body="{% for s in sources %}{{ s.title }};{% endfor %}")
    assert renderer({"proposal": spec}).render(ctx, "text").body == (
        f"@{ZWSP}everyone look;<{ZWSP}!{ZWSP}here> too;"
    )
    allowed = renderer({"proposal": spec}).render(ctx, "text", mentions="allow")
    assert allowed.body == "@everyone look;<!here> too;"


@pytest.mark.parametrize(
    ("changes", "title", "when_lines", "settle"),
    [
        (
            {},
            "Possible deadline: Export licence waiver expires — Tue 1 Jul 2025",
            ["Expires: Tue 1 Jul 2025"],
            ["Accept: notifier accept 3f9a1c2b", "Dismiss: notifier dismiss 3f9a1c2b"],
        ),
        (
            {"kind": "effective", "window_end": date(2025, 7, 10)},
            "Possible deadline: Export licence waiver expires — 1–10 Jul 2025",
            ["Takes effect: 1–10 Jul 2025"],
            ["Accept: notifier accept 3f9a1c2b", "Dismiss: notifier dismiss 3f9a1c2b"],
        ),
        (
            {
                "change": "move",
                "deadline": "pause",
                "old_due": datetime(2025, 7, 9, 0, 1, tzinfo=NY),
            },
            "Possible move: Export licence waiver expires: "
            "Wed 9 Jul 2025 00:01 EDT → Tue 1 Jul 2025",
            ["Was: Wed 9 Jul 2025 00:01 EDT", "Now: Tue 1 Jul 2025"],
            ["Accept: notifier accept 3f9a1c2b", "Dismiss: notifier dismiss 3f9a1c2b"],
        ),
        (
            {"change": "change", "deadline": "pause", "kind": "event"},
            "Possible change: Export licence waiver expires",
            ["Date: Tue 1 Jul 2025"],
            [
                "Not applied: edit the deadline in the watch config if this is right",
                "Dismiss: notifier dismiss 3f9a1c2b",
            ],
        ),
    ],
)
def test_a_proposal_says_what_when_and_how_to_settle_it(
    changes: dict[str, Any], title: str, when_lines: list[str], settle: list[str]
) -> None:
    """Each change reads its own title and date lines; a change (never applied) says so
    instead of offering ``notifier accept``; the same in every format."""
    ctx = proposal_ctx(**changes)
    for fmt in FORMATS:
        r = renderer().render(ctx, fmt)
        assert r.title == title
        body = [line.replace("\\", "") for line in lines(r)]
        assert body[1 : 1 + len(when_lines)] == when_lines
        assert body[-len(settle) :] == settle
        assert "Watches: rare-earths, china" in body
        assert "Confidence: 85%" in body
