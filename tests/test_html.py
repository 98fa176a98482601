"""Feed HTML: plain text for matching (to_text) and a safe subset for HTML alerts (sanitize)."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.sources.html import sanitize, to_text


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Rare <b>earth</b> export&nbsp;ban</p>", "Rare earth export ban"),
        ("Tom &amp; Jerry &#8217;s &#x2014; &eacute;t&eacute;", "Tom & Jerry ’s — été"),
        (
            "one<br>two<br/>three<p>four</p><div>five</div><li>six</li>",
            "one two three four five six",
        ),
        ("<table><tr><td>cell</td><td>next</td></tr></table>", "cell next"),
        ('<p title="a>b">quoted &gt; in an attribute</p>', "quoted > in an attribute"),
        ("keep<script>alert('x')</script> <style>p { color: red }</style>this", "keep this"),
        ("before<!-- a comment -->after", "beforeafter"),
        ("<![CDATA[5 < 6 & <b>not a tag</b>]]> done", "5 < 6 & <b>not a tag</b> done"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("Tom &amp;amp; Jerry", "Tom &amp; Jerry"),
        ("  lots \n\t of   space  ", "lots of space"),
        ("<p>unclosed <b>bold <i>italic", "unclosed bold italic"),
        ("a < b and c > d", "a < b and c > d"),
        ("plain text", "plain text"),
        ("", ""),
        ("<img src=x onerror=alert(1)>caption", "caption"),
    ],
)
def test_to_text(markup: str, text: str) -> None:
    """Tags go, entities are decoded, blocks separate words, script/style/comments vanish."""
    assert to_text(markup) == text


@pytest.mark.parametrize(
    "hostile",
    ["<p " * 50_000, "<p '" * 50_000, "<![CDATA[" * 20_000, "<a href='" * 20_000, "<!--" * 50_000],
    ids=["unclosed-tags", "unclosed-quotes", "nested-cdata", "unclosed-attributes", "comments"],
)
def test_hostile_markup_is_handled_in_linear_time(hostile: str) -> None:
    """Unclosed tags, quotes, CDATA and comments by the thousand finish (no regex backtracking)."""
    assert isinstance(to_text(hostile), str)
    assert isinstance(sanitize(hostile), str)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=80))
def test_to_text_of_escaped_text_is_the_text(text: str) -> None:
    """Any text escaped as HTML comes back as the same words (whitespace collapsed)."""
    assert to_text(html.escape(text)) == " ".join(text.split())


def test_sanitize_keeps_the_allowlist_only() -> None:
    """Formatting tags stay, everything else is stripped to its text; attributes go."""
    dirty = (
        '<p onclick="x()" style="color:red">Hello <strong>bold</strong> <em>em</em></p>'
        '<img src="x" onerror="alert(1)"><iframe src="https://evil.example/"></iframe>'
        "<script>steal()</script><style>*{}</style>"
        "<ul><li>one</li></ul><blockquote>q</blockquote><pre><code>c</code></pre>"
        "<h1>heading</h1><span class='x'>span</span>"
    )
    assert sanitize(dirty) == (
        "<p>Hello <strong>bold</strong> <em>em</em></p>"
        "<ul><li>one</li></ul><blockquote>q</blockquote><pre><code>c</code></pre>"
        "headingspan"
    )


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("http://example.com/a", "http://example.com/a"),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("  javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("vbscript:msgbox(1)", None),
        ("ftp://example.com/file", None),
        ("/relative/path", None),
    ],
)
def test_sanitize_links(href: str, kept: str | None) -> None:
    """Only http, https and mailto hrefs survive; every link gets rel="noopener noreferrer"."""
    out = sanitize(f'<a href="{html.escape(href)}" target="_blank" rel="opener">x</a>')
    if kept is None:
        assert out == '<a rel="noopener noreferrer">x</a>'
    else:
        assert out == f'<a href="{html.escape(kept)}" rel="noopener noreferrer">x</a>'


def test_sanitize_resolves_relative_links_against_base() -> None:
    """With a base (the entry's link), relative hrefs become absolute instead of being dropped."""
    out = sanitize('<a href="/blog/post?id=1">x</a>', base="https://feeds.example/dir/feed.xml")
    assert out == '<a href="https://feeds.example/blog/post?id=1" rel="noopener noreferrer">x</a>'


_fragments = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<img src=x onerror="alert(1)">',
        "<svg onload=alert(1)>",
        '<a href="https://ok.example/" onmouseover="alert(1)">ok</a>',
        "<iframe src=//evil.example></iframe>",
        "<p>text</p>",
        "<![CDATA[<script>alert(1)</script>]]>",
        "<!--<script>alert(1)</script>-->",
        "&lt;script&gt;",
        "<",
        ">",
        '"',
        "<style>@import 'x'</style>",
        "<a href='  jav&#x09;ascript:alert(1)'>y</a>",
        "<form action=x><input></form>",
    ]
)


@given(st.lists(_fragments, max_size=8).map("".join))
def test_sanitize_output_is_inert(markup: str) -> None:
    """No mix of hostile fragments yields a script, an event handler or a javascript: URL."""
    out = sanitize(markup).lower()
    assert "<script" not in out
    assert "javascript:" not in out
    assert "onerror" not in out
    assert "onload" not in out
    assert "onmouseover" not in out
    assert "<iframe" not in out
    assert "<img" not in out
