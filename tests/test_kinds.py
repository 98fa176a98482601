"""The registry of alert kinds and its built-in templates: complete, shipped, safe, copyable."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast, get_args

import pytest

from notifier.delivery import kinds
from notifier.delivery.kinds import (
    CONFIG_PROBLEMS_SHOWN,
    KINDS,
    PARTS,
    config_context,
    dead_letter_context,
    kind_of,
    moved_context,
)
from notifier.delivery.messages import TITLE_MAX, Rendered, Renderer, builtin_template
from notifier.model import AlertKind, BodyFormat, Hit, Template, TemplateKind, Watch
from notifier.sources.health import HealthEventKind
from tests.conftest import ROOT
from tests.message_cases import (
    DUE,
    JUNE,
    ZONE,
    config_notice,
    deadline,
    health,
    match,
    proposal,
    reminder,
    source,
)
from tests.test_message_golden import CASES, FORMATS, render

TEMPLATES = ROOT / "notifier" / "delivery" / "templates"

#: Everything a feed (or a user) might slip into a message.
HOSTILE = (
    "**x** __y__ [a](javascript:alert(1)) ![i](http://evil/p.png) <http://evil> "
    '<script>alert(1)</script> "><img src=x onerror=alert(1)> <iframe src=//evil> '
    "\u202etxt.exe\u202c\u2066 \x1b[31m @everyone @here <!channel> <@U123> \r\n# h\n- l\n1. o"
)
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
PINGS = ("@everyone", "@here", "<!channel>", "<@U123>")


# --------------------------------------------------------------------------- the registry


def test_every_alert_kind_has_exactly_one_entry() -> None:
    """The registry names each kind of the model once, under its own name."""
    assert sorted(KINDS) == sorted(get_args(AlertKind))
    assert all(name == kind.name for name, kind in KINDS.items())


def test_every_kind_but_digest_has_a_context_builder() -> None:
    """A kind's context comes from its registry entry; a digest's are its items'."""
    assert [name for name, kind in KINDS.items() if kind.context is None] == ["digest"]


def test_the_template_folder_holds_exactly_the_kinds_templates() -> None:
    """Each kind has its title, three bodies and digest line (a digest has no line), and
    there is no template no kind uses."""
    expected = {name for kind in KINDS.values() for name in kind.templates}
    assert {p.name for p in TEMPLATES.iterdir()} == expected
    assert len(expected) == len(KINDS) * len(PARTS) - 1


def test_an_unknown_kind_is_rendered_as_a_config_notice() -> None:
    """A context of a kind this version does not know gets the config notice's texts."""
    assert kind_of({"kind": "from-the-future"}) is KINDS["config"]
    assert kind_of({}) is KINDS["config"]
    assert kind_of({"kind": "match"}) is KINDS["match"]


def test_built_in_templates_are_read_by_name_only() -> None:
    """Only ``<kind>.<part>.j2`` names of the package are templates; no path escapes it."""
    assert "{{" in builtin_template("match.text.j2")
    for name in ("../kinds.py", "match.text", "/etc/passwd", "nothing.text.j2"):
        with pytest.raises(Exception, match=re.escape(name)):
            builtin_template(name)


def test_config_context_lists_twenty_problems_and_counts_the_rest() -> None:
    """A rejected config's notice lists the first 20 problems, one a line, then a count."""
    problems = [f"watch.yaml:{n}:1: bad" for n in range(1, 24)]
    ctx = config_context("watch.yaml", problems)
    assert ctx["title"] == "Config rejected: watch.yaml (still running the old one)"
    assert ctx["body"].split("\n") == [*problems[:CONFIG_PROBLEMS_SHOWN], "… and 3 more"]
    assert config_context("w.yaml", problems[:2])["body"] == "\n".join(problems[:2])


# --------------------------------------------------------------------------- shipped


def test_the_templates_are_package_data() -> None:
    """pyproject.toml's package data covers every template, so a wheel ships them."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["notifier.delivery"]
    for path in TEMPLATES.iterdir():
        relative = path.relative_to(ROOT / "notifier" / "delivery").as_posix()
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative


@pytest.mark.slow
def test_the_wheel_ships_the_templates(tmp_path: Path) -> None:
    """The wheel the Dockerfile builds holds every built-in template."""
    source = tmp_path / "source"  # a copy: building writes build/ beside the sources
    shutil.copytree(ROOT / "notifier", source / "notifier", ignore=shutil.ignore_patterns("__py*"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode and "No matching distribution" in proc.stderr:
        pytest.skip("no package index to build the wheel with")
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("notifier-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in TEMPLATES.iterdir():
        assert f"notifier/delivery/templates/{path.name}" in names


# --------------------------------------------------------------------------- hostile text


def hostile_contexts() -> dict[str, dict[str, Any]]:
    """A context of every kind, with hostile text in every field that holds text (but the
    names and terms of the config, which are checked when it loads)."""
    return {
        "match": match(
            "critical",
            feed_title="# Ministry [of] *Commerce*",
            title=HOSTILE,
            summary=HOSTILE,
            author=HOSTILE,
            link="javascript:alert(1)",
            hits=(Hit("[a](x)", "title", HOSTILE), Hit("x", "summary", HOSTILE)),
        ),
        "match-linked": match(title=HOSTILE, summary=HOSTILE, link="https://x.test/a?<q>=\"'"),
        "health": health(error=HOSTILE),
        "recovered": health(HealthEventKind.RECOVERED, None),
        "test": kinds.test_context(HOSTILE, JUNE),
        "dead_letter": dead_letter_context("phone", HOSTILE, JUNE, 3, HOSTILE),
        "reminder": reminder(
            timedelta(days=7), title=HOSTILE, notes=HOSTILE, link="https://x.test/<b>"
        ),
        "moved": moved_context(deadline(title=HOSTILE), DUE - timedelta(days=9), DUE),
        "proposal": proposal(
            "critical",
            title=HOSTILE,
            phrase=HOSTILE,
            sources=(
                source(1, title=HOSTILE, link="javascript:alert(1)"),
                source(2, title=HOSTILE, link="https://x.test/<b>?a=\"'"),
                *(source(n, title=HOSTILE) for n in range(3, 9)),
            ),
        ),
        "proposal-move": proposal(
            change="move",
            title=HOSTILE,
            phrase=HOSTILE,
            deadline="pause",
            old_due=DUE,
            all_day=False,
            timezone="Asia/Shanghai",
            sources=(source(title=HOSTILE, link=None),),
        ),
        "config": config_notice(HOSTILE + "\n" + HOSTILE),
        "unknown": {"kind": "from-the-future", "title": HOSTILE, "body": HOSTILE},
    }


#: Kinds whose hostile text above is the user's own words (deadline titles and notes, a
#: channel name): mentions in them are left alone. Everything else came from a feed or a
#: server, or is of a kind not known to be safe.
OWN_WORDS = ("test", "reminder", "moved")


class _Tags(HTMLParser):
    """The tags and attributes of an HTML body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_safe(r: Rendered, fmt: BodyFormat, own_words: bool) -> None:
    """No control or bidi character anywhere; a one-line title; no markup of the feed's
    making in the body's format; pings broken unless they are the user's own words."""
    assert not CONTROLS.search(r.title)
    assert "\n" not in r.title
    assert len(r.title) <= TITLE_MAX
    assert not CONTROLS.search(r.body)
    if own_words:
        assert "@everyone" in r.title + r.body
    else:
        for ping in PINGS:
            assert ping not in r.title
            assert ping not in r.body.replace("&lt;", "<").replace("&gt;", ">")
    if fmt == "html":
        parser = _Tags()
        parser.feed(r.body)
        for tag, attrs in parser.tags:
            assert tag in ("b", "a", "br", "ul", "li"), tag
            assert all(name == "href" for name, _ in attrs), attrs
            for _, href in attrs:
                assert href is not None
                assert href.startswith(("http://", "https://")), href
    if fmt == "markdown":
        markdown = pytest.importorskip("markdown")  # Apprise's converter

        html = markdown.markdown(r.body, extensions=["nl2br"])
        parser = _Tags()
        parser.feed(html)
        for tag, attrs in parser.tags:
            assert tag in ("p", "strong", "a", "br", "ul", "li"), (tag, r.body)
            for name, value in attrs:
                assert name == "href"
                assert value is not None
                assert value.startswith("https://"), value
        assert "<strong>x</strong>" not in html
        assert "<em>y</em>" not in html
        for line in r.body.split("\n"):
            assert not re.match(r"\s*([#>+]|\d+\.)", line), line


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(hostile_contexts()))
def test_hostile_text_is_safe_in_every_kind_and_format(name: str, fmt: BodyFormat) -> None:
    """Markup, script, javascript: links, bidi overrides, control characters and pings in
    every field of every kind come out harmless in every format — alone and in a digest —
    and the built-in texts never fail on them."""
    ctx = hostile_contexts()[name]
    r = Renderer({}, ZONE).render(ctx, fmt, now=DUE - timedelta(days=7))
    assert r.template_error is None
    assert_safe(r, fmt, own_words=name in OWN_WORDS)
    digest = Renderer({}, ZONE).render_digest([ctx, ctx], fmt, "# held during quiet hours")
    assert digest.template_error is None
    assert_safe(digest, fmt, own_words=name in OWN_WORDS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_mentions_allow_leaves_feed_pings_but_not_markup(fmt: BodyFormat) -> None:
    """A channel with ``mentions: allow`` gets the feed's pings as they are, still escaped."""
    r = Renderer({}, ZONE).render(hostile_contexts()["match"], fmt, mentions="allow")
    assert "@everyone" in r.body
    assert_safe(r, fmt, own_words=True)  # pings left alone, the rest as safe as ever


# --------------------------------------------------------------------------- copyable


def golden_document(name: str) -> dict[str, Any]:
    """The stored contexts of a golden case."""
    document: dict[str, Any] = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize("name", sorted(p.stem for p in CASES.glob("*.json")))
def test_a_built_in_template_copied_into_the_config_renders_the_same(name: str) -> None:
    """Copying a built-in title and body into ``templates.<kind>`` changes nothing: the
    files are written for the same sandbox, variables and escaping as user templates."""
    document = golden_document(name)
    contexts = document["contexts"]
    single = len(contexts) == 1 and document["reason"] is None
    kind: TemplateKind = kind_of(contexts[0]).name if single else "digest"
    if single and contexts[0]["kind"] != kind:
        pytest.skip("a kind this version does not know has no user templates")
    for fmt in FORMATS:
        built_in = render(document, fmt)
        if not built_in.body.strip() or built_in.body != built_in.body.strip("\n"):
            continue  # a user body is stripped of blank lines around it, or falls back
        copied = Template(
            title=builtin_template(f"{kind}.title.j2"), body=builtin_template(f"{kind}.{fmt}.j2")
        )
        renderer = Renderer({kind: copied}, ZONE)
        now = datetime.fromisoformat(document["now"]) if document["now"] else None
        if single:
            r = renderer.render(contexts[0], fmt, now=now, mentions=document["mentions"])
        else:
            r = renderer.render_digest(
                contexts, fmt, document["reason"], now=now, mentions=document["mentions"]
            )
        assert r == built_in


# --------------------------------------------------------------------------- whose templates


def watch(name: str, **templates: Template) -> Watch:
    """A watch named ``name`` with its own ``templates`` by kind."""
    own = {cast(TemplateKind, kind): t for kind, t in templates.items()}
    return Watch(name, ("x",), (), (), (), ("title",), "normal", ("desk",), None, templates=own)


def test_a_watch_template_comes_before_the_kind_template_part_by_part() -> None:
    """A watch's own ``match`` title replaces the kind's for its matches only; its body,
    unset, is the kind's; the kind's body, unset, would be the built-in one."""
    renderer = Renderer(
        {"match": Template(title="kind: {{ title }}", body="kind body")},
        ZONE,
        watches=[watch("rare-earths", match=Template(title="watch: {{ watch }}"))],
    )
    own = renderer.render(match(), "text")
    assert (own.title, own.body) == ("watch: rare-earths", "kind body")
    other = renderer.render(match(watch="tariffs"), "text")
    assert other.title == "kind: China tightens rare earth export controls"


def test_a_watch_template_alone_keeps_the_built_in_texts_it_does_not_replace() -> None:
    """With no kind template, a watch's body replaces the built-in body; the title stays."""
    renderer = Renderer({}, ZONE, watches=[watch("rare-earths", match=Template(body="B"))])
    r = renderer.render(match("high"), "markdown")
    assert (r.title, r.body) == ("[HIGH] China tightens rare earth export controls", "B")


def test_the_watches_given_at_render_time_are_the_ones_used() -> None:
    """The sender passes the config's current watches; they replace the renderer's own."""
    renderer = Renderer({}, ZONE, watches=[watch("rare-earths", match=Template(title="old"))])
    new = [watch("rare-earths", match=Template(title="new"))]
    assert renderer.render(match(), "text", watches=new).title == "new"
    assert renderer.render(match(), "text", watches=[]).title.startswith("China")


def test_a_digest_of_one_watch_uses_its_digest_template_else_the_kinds() -> None:
    """A digest whose matches all come from one watch gets that watch's ``digest`` template;
    one that carries several watches gets ``templates.digest``."""
    renderer = Renderer(
        {"digest": Template(title="{{ count }} alerts")},
        ZONE,
        watches=[watch("rare-earths", digest=Template(title="{{ count }} rare earth news"))],
    )
    one = renderer.render_digest([match(), match(title="b")], "text", "digest")
    assert one.title == "2 rare earth news"
    several = renderer.render_digest([match(), match(watch="tariffs")], "text", "digest")
    assert several.title == "2 alerts"
    mixed = renderer.render_digest([match(), health()], "text", "digest")
    assert mixed.title == "2 alerts"


def test_a_deadline_template_comes_before_the_kind_template() -> None:
    """A deadline's own ``reminder`` and ``moved`` templates replace the kind's for it."""
    own = deadline(
        templates={
            "reminder": Template(title="{{ title }}: {{ remaining_seconds|until }}"),
            "moved": Template(body="moved to {{ due_local }}"),
        }
    )
    renderer = Renderer({"reminder": Template(title="kind")}, ZONE, deadlines=[own])
    ctx = reminder(timedelta(days=7))
    now = DUE - timedelta(days=7)
    assert renderer.render(ctx, "text", now=now).title == "90-day pause expires: in 7 days"
    other = {**ctx, "deadline": "other"}
    assert renderer.render(other, "text", now=now).title == "kind"
    moved = moved_context(own, DUE - timedelta(days=9), now)
    assert renderer.render(moved, "html").body == "moved to Wed 9 Jul 2025 00:01 EDT"


def test_a_failing_watch_template_is_reported_by_its_watch() -> None:
    """A watch's template that fails falls back to the built-in text, and the error says
    which watch's template it was."""
    renderer = Renderer({}, ZONE, watches=[watch("rare-earths", match=Template(body="{{ 1/0 }}"))])
    r = renderer.render(match(), "text")
    assert r.body.startswith("China tightens rare earth export controls\n")
    assert r.template_error == (
        "watches.rare-earths.templates.match.body: ZeroDivisionError: division by zero"
    )


def test_a_built_in_template_that_cannot_read_a_context_falls_back_to_its_title() -> None:
    """A context the built-in texts cannot read (a malformed one) still makes a message —
    its own title, escaped — and the error says which built-in template failed."""
    ctx = {**match(), "hits": 5}
    r = Renderer({}, ZONE).render(ctx, "markdown")
    assert r.title == "China tightens rare earth export controls"
    assert r.body == "China tightens rare earth export controls"
    assert r.template_error is not None
    assert r.template_error.startswith("built-in match template: TypeError")
    odd = {**reminder(timedelta(days=7)), "title": "[Pause]", "remaining_seconds": 1e30}
    digest = Renderer({}, ZONE).render_digest([odd, health()], "markdown", "digest")
    assert digest.title == "2 alerts: [Pause], Feed unhealthy: ustr"
    assert "- **\\[Pause\\]**\n- **Feed unhealthy: ustr**" in digest.body
    assert digest.template_error is not None
    assert digest.template_error.startswith("built-in reminder template: OverflowError")
