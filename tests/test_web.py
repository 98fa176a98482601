"""The read-only web UI (notifier.web) on a real SQLite state, written through the real
store API and served by a real WebServer on 127.0.0.1; only the clock is fixed."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import icalendar
import pytest

from notifier.deadlines.planning import Reminder, shift
from notifier.model import (
    Channel,
    Config,
    Deadline,
    EntryRecord,
    Feed,
    FeedState,
    MatchRecord,
    NewAlert,
    Proposal,
    ProposalSource,
    Watch,
)
from notifier.storage.sqlite import Store
from notifier.web.app import SECURITY_HEADERS, BadRequest, WebApp, story_query
from notifier.web.atom import AtomEntry, atom_feed
from notifier.web.server import WebServer
from notifier.web.svg import sparkline

NOW = datetime(2025, 6, 12, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
CHANNEL_PASSWORD = "hunter2pass"
FEED_PASSWORD = "feedpass77"
TOKEN = "s3cret-t0ken"
HOSTILE = "<script>window.__pwned=1</script> {{ 7*7 }} \u202eevil\u202c"
PAGES = ["/", "/deadlines", "/stories", "/feeds", "/proposals"]
APIS = ["/api/overview", "/api/deadlines", "/api/stories", "/api/feeds", "/api/proposals"]


def deadline(name: str, title: str, due: datetime, **kw: Any) -> Deadline:
    values: dict[str, Any] = {
        "timezone": NEW_YORK,
        "remind": (timedelta(days=7), timedelta(days=1)),
        "channels": ("chat",),
        "severity": "high",
        "link": None,
        "notes": None,
    }
    values.update(kw)
    return Deadline(name, title, due, **values)


def watch(name: str, *terms: str) -> Watch:
    return Watch(name, terms, (), (), (), ("title",), "normal", ("chat",), None)


CONFIG = Config(
    timezone=BERLIN,
    default_channels=("chat",),
    channels={
        "chat": Channel(
            "chat",
            (f"json://editor:{CHANNEL_PASSWORD}@hooks.example.com/notify",),
            "text",
            None,
            None,
        )
    },
    feeds=(
        Feed("reuters", "https://reuters.example.com/rss", "Reuters", timedelta(minutes=5)),
        Feed(
            "mofcom",
            f"https://bot:{FEED_PASSWORD}@mofcom.example.com/rss",
            "MOFCOM",
            timedelta(minutes=5),
        ),
        Feed("broken", "https://broken.example.com/rss", "Broken", timedelta(minutes=5)),
    ),
    watches=(watch("tariffs", "tariff"), watch("rare-earths", "稀土"), watch("hostile", "x")),
    deadlines=(
        deadline("later", "Section 301 comments close", NOW + timedelta(days=40)),
        deadline(
            "pause",
            "Tariff pause ends",
            NOW + timedelta(days=3),
            link="javascript:alert(1)",
        ),
        deadline(
            "monthly",
            "Monthly trade data",
            datetime(2025, 5, 14, 13, 0, tzinfo=UTC),
            recur="FREQ=MONTHLY",
            remind=(timedelta(days=1),),
        ),
    ),
)


def entry(key: str, feed: str, title: str, seen: datetime, **kw: Any) -> EntryRecord:
    values: dict[str, Any] = {
        "summary": f"About {title}.",
        "link": f"https://{feed}.example.com/{key}",
        "canonical": f"https://{feed}.example.com/{key}",
        "published": None,
    }
    values.update(kw)
    return EntryRecord(feed=feed, key=key, title=title, seen=seen, text_hash=f"h-{key}", **values)


def matched(entry_id: int, story: int, name: str, why: str) -> MatchRecord:
    return MatchRecord(entry_id, story, name, why, (name,), NOW - timedelta(hours=1))


@dataclass
class Ids:
    truce: int
    rare: int
    hostile: int


def fill(state_dir: Path) -> Ids:
    """A state with three stories (one with two sources and an edit), a failing feed,
    a proposal, a retrying message and a reminder sent."""
    with Store.open(state_dir) as store, store.transaction():
        h = store.history
        (truce,) = h.add_entries(
            [entry("k1", "reuters", "Tariff truce extended", NOW - timedelta(hours=5))]
        )
        h.add_entries(
            [
                entry(
                    "m1",
                    "mofcom",
                    "MOFCOM on the tariff truce",
                    NOW - timedelta(hours=4),
                    story=truce,
                )
            ]
        )
        (rare,) = h.add_entries(
            [entry("k2", "mofcom", "中国限制稀土出口", NOW - timedelta(hours=3))]
        )
        (hostile,) = h.add_entries(
            [
                entry(
                    "k3",
                    "reuters",
                    HOSTILE,
                    NOW - timedelta(hours=2),
                    summary="Click <a href='javascript:alert(1)'>here</a> {{ 7*7 }}",
                    link="javascript:alert(1)",
                )
            ]
        )
        h.record_matches(
            [
                matched(truce, truce, "tariffs", '"tariff" in title'),
                matched(rare, rare, "rare-earths", '"稀土" in title'),
                matched(hostile, hostile, "hostile", HOSTILE),
            ]
        )
        h.record_edit(
            truce,
            title="Tariff truce extended by 90 days",
            summary="About it.",
            text_hash="h2",
            at=NOW - timedelta(hours=1),
            diff="Tariff truce extended {+by 90 days+}",
            alerted=False,
        )
        h.index_pending()
        for name, failures, error in (("reuters", 0, None), ("mofcom", 0, None)):
            store.save_feed_state(
                FeedState(
                    name,
                    "https://x.example.com",
                    last_polled=NOW - timedelta(minutes=2),
                    last_ok=NOW - timedelta(minutes=2),
                    failures=failures,
                    last_error=error,
                    next_poll=NOW + timedelta(minutes=3),
                )
            )
        store.save_feed_state(
            FeedState(
                "broken",
                "https://broken.example.com/rss",
                last_polled=NOW - timedelta(minutes=10),
                failures=6,
                unhealthy=True,
                last_error="HTTP 503 Service Unavailable",
                next_poll=NOW + timedelta(hours=1),
            )
        )
        store.proposals.add(
            Proposal(
                id="truce-end",
                change="deadline",
                kind="expiry",
                name="truce-end",
                title="Tariff truce ends",
                due=datetime(2025, 9, 10, tzinfo=BERLIN),
                all_day=True,
                window_end=None,
                timezone="Europe/Berlin",
                phrase="The truce ends on September 10.",
                confidence=0.9,
                watches=("tariffs",),
                sources=(ProposalSource("reuters", "k1", "Tariff truce extended"),),
                created=NOW,
                updated=NOW,
            ),
            date(2025, 9, 10),
            frozenset({"truce"}),
        )
        outbox = store.outbox
        outbox.enqueue(
            [NewAlert("match:reuters:k1:tariffs", "chat", "match", "normal", {"title": "t"})],
            NOW,
        )
        (queued,) = outbox.queued("chat")
        message = outbox.compose(
            "chat",
            kind="match",
            title="t",
            body="b",
            fmt="text",
            alert_ids=[queued.id],
            url_hashes=["u"],
            now=NOW,
        )
        outbox.failed(message, "HTTP 502 from hooks.example.com", NOW + timedelta(minutes=1))
        pause = CONFIG.deadlines[1]
        due = pause.due.astimezone(UTC)
        week = timedelta(days=7)
        store.reminders.track("pause", due.isoformat(), NOW - timedelta(days=30))
        store.reminders.record_move("pause", due - timedelta(days=20), due, NOW - timedelta(days=3))
        store.reminders.record(
            Reminder("pause", due, shift(due, week, pause.timezone), week), "sent", NOW
        )
        store.mutes.mute(
            "feed", "mofcom", NOW + timedelta(hours=2), NOW, reason="<b>briefing</b>", who="ana"
        )
    return Ids(truce, rare, hostile)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(
    base: str, path: str, *, method: str = "GET", headers: dict[str, str] | None = None
) -> Reply:
    request = urllib.request.Request(base + path, method=method, headers=headers or {})  # noqa: S310 - http://127.0.0.1 only
    data = b"ignored body" if method == "POST" else None
    try:
        with urllib.request.urlopen(request, data=data, timeout=10) as response:  # noqa: S310
            return Reply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers.items()), e.read())


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Ids]:
    folder = tmp_path_factory.mktemp("state")
    return folder, fill(folder)


def serve(app: WebApp) -> Iterator[str]:
    server = WebServer(app, "127.0.0.1", 0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def base(state_dir: tuple[Path, Ids]) -> Iterator[str]:
    yield from serve(WebApp(lambda: CONFIG, state_dir[0], None, lambda: NOW))


@pytest.fixture(scope="module")
def ids(state_dir: tuple[Path, Ids]) -> Ids:
    return state_dir[1]


def visible(html: str) -> str:
    """The page's text, roughly as a reader sees it (tags dropped, spaces folded)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --------------------------------------------------------------------------- pages


def test_every_page_answers_with_its_text(base: str, ids: Ids) -> None:
    """Each page is 200 HTML with the text it exists to show."""
    expected = {
        "/": [
            "Tariff pause ends",
            "Tariff truce extended",
            "broken",
            "HTTP 502 from hooks",
            "feed:mofcom until",
            "by ana: &lt;b&gt;briefing&lt;/b&gt;",  # the reason is text, escaped
        ],
        "/deadlines": ["Section 301 comments close", "Monthly trade data", "Next occurrences"],
        "/stories": ["Tariff truce extended", "中国限制稀土出口"],
        "/feeds": ["reuters", "mofcom", "broken", "unhealthy"],
        "/proposals": ["Tariff truce ends", "notifier accept truce-end"],
        f"/stories/{ids.truce}": [
            "MOFCOM on the tariff truce",
            "{+by 90 days+}",
            "Tariff truce ends",
        ],
    }
    for path, texts in expected.items():
        reply = fetch(base, path)
        assert reply.status == 200, path
        assert reply.headers["Content-Type"].startswith("text/html"), path
        page = visible(reply.text)
        for text in texts:
            assert text in page, (path, text)


def test_the_layout_has_landmarks_a_skip_link_and_a_labelled_search(base: str) -> None:
    """Every page: lang, viewport, header/nav/main/footer, a skip link to main, the
    search field labelled, and no inline script or style (CSP)."""
    for path in PAGES:
        html = fetch(base, path).text
        assert '<html lang="en">' in html
        assert 'name="viewport"' in html
        for landmark in ("<header>", "<nav ", "<main ", "<footer>"):
            assert landmark in html, (path, landmark)
        assert 'href="#main"' in html
        assert 'id="main"' in html
        assert '<label for="site-search">' in html
        assert 'id="site-search"' in html
        assert " style=" not in html
        assert "<style" not in html
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, path


def test_deadlines_are_in_due_order_with_the_sent_reminder(base: str) -> None:
    """Deadlines are listed soonest first (the monthly one by its next occurrence, 14 June),
    the reminder recorded as sent is marked done."""
    page = visible(fetch(base, "/deadlines").text)
    order = [page.index(t) for t in ("Monthly trade data", "Tariff pause ends", "Section 301")]
    assert order == sorted(order)
    overview = fetch(base, "/").text
    assert '<li class="done">7d before' in overview
    data = json.loads(fetch(base, "/api/deadlines").body)
    pause = next(d for d in data["deadlines"] if d["name"] == "pause")
    assert [r["done"] for r in pause["reminders"]] == [True, False, False]
    assert pause["previous_due"] is None  # tracked at its current due time
    (move,) = pause["moves"]  # and it moved once before
    assert datetime.fromisoformat(move["to"]) - datetime.fromisoformat(move["from"]) == timedelta(
        days=20
    )
    assert "moved from" in visible(fetch(base, "/deadlines").text)
    monthly = next(d for d in data["deadlines"] if d["name"] == "monthly")
    assert monthly["due"] == "2025-06-14T15:00:00+02:00"  # the next, in the config's zone
    assert len(monthly["occurrences"]) == 5


def test_a_story_shows_its_sources_and_the_proposals_from_it(base: str, ids: Ids) -> None:
    """A story's page lists every source with its feed, and the deadline proposed from
    one of its entries; its list item says "+1 source"."""
    page = visible(fetch(base, f"/stories/{ids.truce}").text)
    assert "reuters" in page
    assert "mofcom" in page
    assert "Tariff truce ends" in page
    assert "notifier accept truce-end" in page
    assert "+1 source" in visible(fetch(base, "/").text)
    assert fetch(base, "/stories/999999").status == 404
    assert fetch(base, "/stories/abc").status == 404


def test_a_failing_feed_is_shown_failing(base: str) -> None:
    """The broken feed is unhealthy, with its failures, its error and its backoff."""
    html = fetch(base, "/feeds").text
    row = html[html.index('<th scope="row">broken') :]
    row = row[: row.index("</tr>")]
    assert "unhealthy" in row
    assert "6 failures" in row
    assert "HTTP 503" in row
    assert "backing off" in row
    assert '<tr class="failing">' in html
    overview = visible(fetch(base, "/").text)
    assert "broken : unhealthy" in overview or "broken: unhealthy" in overview
    feeds = json.loads(fetch(base, "/api/feeds").body)["feeds"]
    assert {f["name"]: f["health"] for f in feeds} == {
        "reuters": "ok",
        "mofcom": "ok",
        "broken": "unhealthy",
    }


def test_the_sparkline_counts_entries_per_day(base: str) -> None:
    """The feeds page draws each feed's last 7 days inline, with the counts as its label."""
    html = fetch(base, "/feeds").text
    assert html.count('<svg class="spark"') == 3
    assert 'aria-label="entries a day: 0, 0, 0, 0, 0, 0, 2"' in html  # reuters
    reuters = next(
        f for f in json.loads(fetch(base, "/api/feeds").body)["feeds"] if f["name"] == "reuters"
    )
    assert reuters["entries_per_day"][-1] == 2
    assert reuters["matches_7d"] == 2


@pytest.mark.parametrize(
    ("q", "title"), [("truce", "Tariff truce extended by 90 days"), ("稀土", "中国限制稀土出口")]
)
def test_search_finds_english_and_chinese(base: str, q: str, title: str) -> None:
    """The stories search runs the history's full-text search, in English and Chinese
    (a story's title is its first entry's, as edited)."""
    from urllib.parse import quote  # noqa: PLC0415

    reply = fetch(base, f"/stories?q={quote(q)}")
    assert reply.status == 200
    page = visible(reply.text)
    assert title in page
    assert "1 story" in page
    stories = json.loads(fetch(base, f"/api/stories?q={quote(q)}").body)["stories"]
    assert [s["title"] for s in stories] == [title]


def test_filters_by_watch_and_feed(base: str) -> None:
    """The watch and feed filters narrow the list."""
    by_watch = json.loads(fetch(base, "/api/stories?watch=rare-earths").body)["stories"]
    assert [s["title"] for s in by_watch] == ["中国限制稀土出口"]
    by_feed = json.loads(fetch(base, "/api/stories?feed=mofcom").body)["stories"]
    assert {s["title"] for s in by_feed} == {"中国限制稀土出口", "Tariff truce extended by 90 days"}


@pytest.mark.parametrize("path", ["/stories?q=%22%22%22", "/stories?q=" + "a" * 300])
def test_a_bad_search_is_a_400_page_with_a_message(base: str, path: str) -> None:
    """A search with nothing to search for (or cut to 200 characters, still bad) is a
    400 page that says why, never a 500."""
    reply = fetch(base, path)
    assert reply.status in (200, 400)
    if "%22" in path:
        assert reply.status == 400
        assert "nothing to search for" in reply.text
    assert fetch(base, "/api/stories?q=%22").status == 400
    assert fetch(base, "/stories?since=forever").status == 400
    assert fetch(base, "/stories?limit=lots").status == 400


# --------------------------------------------------------------------------- hostile text


def test_hostile_feed_text_is_shown_as_text(base: str, ids: Ids) -> None:
    """A title with a script, a template expression and a right-to-left override, and a
    javascript: link: no page or API has an executable script from feed text, a
    javascript: href, an evaluated template, or the override character."""
    paths = [*PAGES, f"/stories/{ids.hostile}", "/feed.atom", *APIS]
    for path in paths:
        body = fetch(base, path).text
        assert "<script>window.__pwned" not in body, path
        assert 'href="javascript:' not in body.lower(), path
        assert "\u202e" not in body, path
    story = fetch(base, f"/stories/{ids.hostile}").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in story
    assert "{{ 7*7 }}" in story
    api = json.loads(fetch(base, f"/api/stories/{ids.hostile}").body)
    assert api["link"] is None
    assert api["entries"][0]["link"] is None
    assert "{{ 7*7 }}" in api["title"]
    assert "\u202e" not in api["title"]


def test_no_secret_is_rendered(base: str, ids: Ids) -> None:
    """Neither the channel's password nor the feed's appears in any page or API; the
    channel URL is shown masked."""
    paths = [*PAGES, f"/stories/{ids.truce}", "/feed.atom", "/calendar.ics", *APIS]
    for path in paths:
        body = fetch(base, path).text
        assert CHANNEL_PASSWORD not in body, path
        assert FEED_PASSWORD not in body, path
    overview = fetch(base, "/").text
    assert "json://editor:" in overview
    assert "hooks.example.com" in overview


# --------------------------------------------------------------------------- HTTP


def test_security_headers_on_every_route(base: str, ids: Ids) -> None:
    """CSP, nosniff, no-referrer and DENY on every answer, errors included; no-store
    except the subscriptions."""
    paths = [
        *PAGES,
        *APIS,
        f"/stories/{ids.truce}",
        f"/api/stories/{ids.truce}",
        "/calendar.ics",
        "/feed.atom",
        "/static/style.css",
        "/static/refresh.js",
        "/nope",
    ]
    for path in paths:
        reply = fetch(base, path)
        for name, value in SECURITY_HEADERS.items():
            assert reply.headers.get(name) == value, (path, name)
        cache = reply.headers["Cache-Control"]
        if path in ("/calendar.ics", "/feed.atom"):
            assert cache.startswith("private")
        else:
            assert cache == "no-store", path
    assert (
        fetch(base, "/", method="POST").headers["Content-Security-Policy"] == "default-src 'self'"
    )


def test_head_post_and_unknown_paths(base: str) -> None:
    """HEAD answers the headers of GET without a body; POST is 405 (with Allow); an
    unknown path is a 404 page."""
    head = fetch(base, "/feeds", method="HEAD")
    get = fetch(base, "/feeds")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    post = fetch(base, "/", method="POST")
    assert post.status == 405
    assert post.headers["Allow"] == "GET, HEAD"
    missing = fetch(base, "/no/such/page")
    assert missing.status == 404
    assert "Not found" in missing.text
    assert fetch(base, "/api/nothing").status == 404


def test_a_missing_state_folder_is_an_empty_state(tmp_path: Path) -> None:
    """Before the first poll there is no state: every page is 200, and empty."""
    app = WebApp(lambda: CONFIG, tmp_path / "never", None, lambda: NOW)
    for path in [*PAGES, *APIS, "/calendar.ics", "/feed.atom"]:
        assert app.handle("GET", path, {}).status == 200, path
    assert not (tmp_path / "never").exists()


def test_the_token_is_required_and_kept_in_links(state_dir: tuple[Path, Ids]) -> None:
    """With a token: 401 without it or with a wrong one; 200 with the bearer header or
    ?token=; the links of a page requested with ?token= carry it."""
    app = WebApp(lambda: CONFIG, state_dir[0], TOKEN, lambda: NOW)
    for url in serve(app):
        for path in [*PAGES, *APIS, "/calendar.ics", "/feed.atom", "/static/style.css"]:
            assert fetch(url, path).status == 401, path
            assert fetch(url, path + "?token=wrong").status == 401, path
            bearer = fetch(url, path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert bearer.status == 200, path
            sep = "&" if "?" in path else "?"
            assert fetch(url, f"{path}{sep}token={TOKEN}").status == 200, path
        html = fetch(url, f"/?token={TOKEN}").text
        hrefs = re.findall(r'href="(/[^"]*)"', html)
        assert hrefs, hrefs
        assert all(f"token={TOKEN}" in h for h in hrefs), hrefs
        assert f'name="token" value="{TOKEN}"' in html  # the search form keeps it
        plain = fetch(url, "/", headers={"Authorization": f"Bearer {TOKEN}"}).text
        assert TOKEN not in plain  # a bearer request's links do not leak it


# --------------------------------------------------------------------------- subscriptions


def test_the_calendar_parses_and_answers_304(base: str) -> None:
    """/calendar.ics is the deadlines as iCalendar, with an ETag and Last-Modified;
    a matching If-None-Match or If-Modified-Since is a 304."""
    reply = fetch(base, "/calendar.ics")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(reply.body)
    summaries = {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    assert summaries == {d.title for d in CONFIG.deadlines}
    etag, modified = reply.headers["ETag"], reply.headers["Last-Modified"]
    assert fetch(base, "/calendar.ics", headers={"If-None-Match": etag}).status == 304
    assert fetch(base, "/calendar.ics", headers={"If-Modified-Since": modified}).status == 304
    assert fetch(base, "/calendar.ics", headers={"If-None-Match": '"other"'}).status == 200
    early = format_datetime(NOW - timedelta(days=1), usegmt=True)
    assert fetch(base, "/calendar.ics", headers={"If-Modified-Since": early}).status == 200


def test_the_atom_feed_is_valid_and_filters_by_watch(base: str) -> None:
    """/feed.atom parses as Atom 1.0 without errors, with the stories; ?watch= keeps one
    watch's; a javascript: link becomes the story's own page."""
    parsed = feedparser.parse(fetch(base, "/feed.atom").body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    titles = [e.title for e in parsed.entries]
    assert "Tariff truce extended by 90 days" in titles
    assert "中国限制稀土出口" in titles
    for e in parsed.entries:
        assert e.link.startswith("http")
        assert e.id
        assert e.updated
        assert e.summary is not None
    one = feedparser.parse(fetch(base, "/feed.atom?watch=rare-earths").body)
    assert not one.bozo
    assert [e.title for e in one.entries] == ["中国限制稀土出口"]
    assert one.feed.title == "notifier: rare-earths"


# --------------------------------------------------------------------------- the API


def test_api_shapes_are_as_documented(base: str, ids: Ids) -> None:
    """The JSON of every API route has the keys docs/web-api.md lists."""
    overview = json.loads(fetch(base, "/api/overview").body)
    assert set(overview) == {
        "timeline", "stories", "failing_feeds", "outbox", "open_proposals", "mutes",
    }  # fmt: skip
    (muted,) = overview["mutes"]
    assert set(muted) == {"target", "kind", "name", "until", "reason", "who", "created"}
    assert (muted["target"], muted["who"]) == ("feed:mofcom", "ana")
    assert set(overview["timeline"][0]) >= {"name", "title", "due", "past", "reminders"}
    assert set(overview["timeline"][0]["reminders"][0]) == {"offset", "at", "done", "come"}
    chat = overview["outbox"]["channels"][0]
    assert chat["retrying"] == 1
    assert chat["last_error"] == "HTTP 502 from hooks.example.com"
    story_keys = {
        "id", "title", "first_seen", "last_seen", "sources", "more_sources", "feeds",
        "watches", "edits", "link", "summary",
    }  # fmt: skip
    stories = json.loads(fetch(base, "/api/stories").body)
    assert set(stories) == {"stories", "limit"}
    assert set(stories["stories"][0]) == story_keys
    story = json.loads(fetch(base, f"/api/stories/{ids.truce}").body)
    assert set(story) == story_keys | {"entries", "matches", "edit_list", "proposals"}
    feeds = json.loads(fetch(base, "/api/feeds").body)["feeds"]
    assert set(feeds[0]) >= {"name", "health", "last_polled", "next_poll", "entries_per_day"}
    proposals = json.loads(fetch(base, "/api/proposals").body)["proposals"]
    assert proposals[0]["accept"] == "notifier accept truce-end"
    docs = (Path(__file__).parent.parent / "docs" / "web-api.md").read_text(encoding="utf-8")
    for key in [*story_keys, "entries_per_day", "open_proposals", "edit_list", "mutes", "who"]:
        assert f"`{key}`" in docs, key


# --------------------------------------------------------------------------- pure parts


def test_sparkline_scales_to_the_largest_value_and_escapes_its_label() -> None:
    """The line spans the box, the highest value at the top; the label is escaped."""
    svg = str(sparkline([0, 5, 10], label="<b>n</b>", width=24, height=12, pad=2))
    assert 'points="2.0,10.0 12.0,6.0 22.0,2.0"' in svg
    assert "&lt;b&gt;n&lt;/b&gt;: 0, 5, 10" in svg
    assert "<b>" not in svg
    assert 'points="2.0,10.0 22.0,10.0"' in str(sparkline([], label="x", width=24, height=12))


def test_atom_escapes_text_and_drops_what_xml_forbids() -> None:
    """Feed text is escaped, control and bidi characters removed; times are UTC."""
    body = atom_feed(
        feed_id="tag:x,2025:f",
        title="a & b",
        self_url="http://h/feed.atom?a=1&b=2",
        alternate_url="http://h/",
        updated=NOW,
        entries=[AtomEntry("tag:x,2025:1", HOSTILE + "\x07", NOW, "http://h/1", "s\x00ok", "feed")],
    ).decode()
    assert "a &amp; b" in body
    assert "a=1&amp;b=2" in body
    assert "&lt;script&gt;" in body
    assert "\x07" not in body
    assert "\x00" not in body
    assert "\u202e" not in body
    assert "<updated>2025-06-12T12:00:00Z</updated>" in body
    assert not feedparser.parse(body.encode()).bozo


def test_story_query_bounds_its_inputs() -> None:
    """limit is capped, since is bounded, a bad value is a BadRequest."""
    q = story_query({"limit": "100000", "since": "9999d", "q": "  x  ", "all": "1"})
    assert (q.limit, q.since, q.search, q.matched_only) == (200, timedelta(days=366), "x", False)
    assert story_query({}).limit == 50
    with pytest.raises(BadRequest):
        story_query({"limit": "x"})
    with pytest.raises(BadRequest):
        story_query({"since": "soon"})


def test_the_feeds_page_shows_two_hundred_feeds_a_page(tmp_path: Path) -> None:
    """1,000 rows are too many for one page: 200 a page, with links to the others; the
    API lists every feed."""
    feeds = tuple(
        Feed(f"feed-{i:03d}", f"https://f{i}.example.com/rss", None, timedelta(minutes=5))
        for i in range(250)
    )
    config = Config(timezone=BERLIN, default_channels=(), feeds=feeds)
    app = WebApp(lambda: config, tmp_path, None, lambda: NOW)
    first = app.handle("GET", "/feeds", {}).body.decode()
    assert first.count('<th scope="row">') == 200
    assert 'href="/feeds?page=2"' in first
    second = app.handle("GET", "/feeds?page=2", {}).body.decode()
    assert second.count('<th scope="row">') == 50
    assert "feed-249" in second
    assert app.handle("GET", "/feeds?page=x", {}).status == 200
    assert len(json.loads(app.handle("GET", "/api/feeds", {}).body)["feeds"]) == 250


def test_a_silent_client_is_dropped_after_the_timeout(state_dir: tuple[Path, Ids]) -> None:
    """A client that sends half a request and waits holds its thread only until the
    socket timeout; the server answers others meanwhile."""
    import socket  # noqa: PLC0415
    import time  # noqa: PLC0415

    app = WebApp(lambda: CONFIG, state_dir[0], None, lambda: NOW)
    server = WebServer(app, "127.0.0.1", 0, timeout=0.3)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finished
            assert fetch(f"http://127.0.0.1:{server.port}", "/proposals").status == 200
            started = time.monotonic()
            assert slow.recv(1024) == b""  # closed by the server
            assert time.monotonic() - started < 3
    finally:
        server.stop()


def test_the_atom_feed_answers_304_to_its_etag(base: str) -> None:
    """The feed has an ETag too; a reader that sends it back gets a 304 without a body."""
    etag = fetch(base, "/feed.atom").headers["ETag"]
    again = fetch(base, "/feed.atom", headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""


def test_the_daemon_refuses_a_web_ui_open_to_other_machines_without_a_token(
    cli_process: Any, tmp_path: Path
) -> None:
    """``--web-host 0.0.0.0`` with no ``web.token``: exit 1 before anything starts, naming
    what to set; the token itself is never printed."""
    config = tmp_path / "watch.yaml"
    config.write_text('channels:\n  console: ["console://"]\n', encoding="utf-8")
    flags = ("--config", str(config), "--state-dir", str(tmp_path / "state"))
    r = cli_process(*flags, "--web-port", "0", "--web-host", "0.0.0.0", "run")  # noqa: S104
    assert r.code == 1
    assert "set web.token" in r.err
    assert "web UI listening" not in r.err


def test_quiet_hours_end_is_when_held_alerts_go() -> None:
    from notifier.model import TimeWindow  # noqa: PLC0415
    from notifier.web.views import quiet_until  # noqa: PLC0415

    zone = ZoneInfo("America/New_York")
    night = TimeWindow(time(22), time(7))
    late = datetime(2025, 6, 10, 23, 30, tzinfo=zone)
    assert quiet_until(night, zone, late) == datetime(2025, 6, 11, 7, tzinfo=zone)
    early = datetime(2025, 6, 11, 6, 0, tzinfo=zone)
    assert quiet_until(night, zone, early) == datetime(2025, 6, 11, 7, tzinfo=zone)
    assert quiet_until(night, zone, datetime(2025, 6, 11, 12, tzinfo=zone)) is None
    assert quiet_until(None, zone, late) is None
