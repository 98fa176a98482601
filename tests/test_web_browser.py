"""The web UI in a real browser: the real ``notifier run`` with ``--web-port``, fed by a
local feed server, looked at by headless Chromium (see :mod:`tests.browser`).

It asserts what a desk lead sees — deadlines in order, a story with its sources, a
failing feed shown as failing — that every link of the navigation works, that the
console stays free of errors, that a feed's ``<script>`` title never runs, and that the
keyboard reaches everything; and it saves a screenshot of each page.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import icalendar
import pytest

from tests.browser import browser, console_errors, screenshot
from tests.feedserver import ThreadedFeedServer
from tests.test_daemon_e2e import Daemon
from tests.test_poll import rss

__all__ = ["browser"]  # the fixture, used by name

pytestmark = pytest.mark.slow

CONFIG = """\
timezone: America/New_York
defaults: {{channels: [console]}}
channels:
  console: ["console://"]
feeds:
  - {{name: wire, url: "{wire}", backfill: 10, interval: 1h}}
  - {{name: mirror, url: "{mirror}", backfill: 10, interval: 1h}}
  - {{name: broken, url: "{broken}", interval: 1h}}
watches:
  - name: rare-earths
    any: ["rare earth", "稀土"]
deadlines:
  - name: pause-expiry
    title: Reciprocal tariff pause expires
    due: "{in_40_days}T00:01"
  - name: comments-due
    title: Comments on the export rule are due
    due: "{in_10_days}"
  - name: monthly-review
    title: Monthly review of tariff actions
    due: "{days_ago_25} 09:00"
    recur: FREQ=MONTHLY
"""

HOSTILE = "<script>window.__pwned=1</script> Rare earth rules {{ 7*7 }}"
STORY = "China tightens rare earth export rules"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A daemon that polled once, with its web UI; the UI's base URL."""
    tmp = tmp_path_factory.mktemp("web")
    today = datetime.now(ZoneInfo("America/New_York")).date()
    with ThreadedFeedServer() as feeds:
        items = [
            ("a1", STORY, "Licences for rare earth magnets from December."),
            ("a2", HOSTILE, "A hostile title."),
        ]
        feeds.feed("/wire.xml", rss(*items))
        feeds.feed(
            "/mirror.xml", rss(("m1", STORY, "Licences for rare earth magnets from December."))
        )
        feeds.respond("/broken.xml", 500)
        config = tmp / "watch.yaml"
        config.write_text(
            CONFIG.format(
                wire=feeds.url("/wire.xml"),
                mirror=feeds.url("/mirror.xml"),
                broken=feeds.url("/broken.xml"),
                in_10_days=(today + timedelta(days=10)).isoformat(),
                in_40_days=(today + timedelta(days=40)).isoformat(),
                days_ago_25=(today - timedelta(days=25)).isoformat(),
            ),
            encoding="utf-8",
        )
        daemon = Daemon(config, tmp / "state", tmp / "daemon.log", extra=("--web-port", "0"))
        try:
            listening = daemon.wait_for_log("web UI listening")
            for name in ("wire", "mirror"):
                daemon.wait_for_log("feed polled", feed=name)
            daemon.wait_for_log("feed polled", feed="broken")
            time.sleep(0.5)
            yield f"http://127.0.0.1:{listening['port']}"
        finally:
            daemon.stop()


def visit(driver: Any, url: str) -> None:
    driver.get(url)
    assert driver.execute_script("return document.readyState") == "complete"


def text(driver: Any) -> str:
    return str(driver.find_element("tag name", "body").text)


def test_the_overview_shows_deadlines_stories_and_the_failing_feed(browser: Any, site: str) -> None:
    visit(browser, site + "/")
    body = text(browser)
    ordered = [body.find(t) for t in ("Comments on the export rule", "Reciprocal tariff pause")]
    assert -1 not in ordered
    assert ordered == sorted(ordered)  # soonest first
    assert STORY in body
    assert "broken" in body
    assert console_errors(browser) == []
    screenshot(browser, "overview")


def test_a_hostile_title_is_shown_as_text_and_never_runs(browser: Any, site: str) -> None:
    visit(browser, site + "/stories?all=1")
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert "<script>window.__pwned=1</script>" in text(browser)
    assert "{{ 7*7 }}" in text(browser)
    assert console_errors(browser) == []


def test_every_page_of_the_navigation_loads_and_a_story_shows_its_sources(
    browser: Any, site: str
) -> None:
    visit(browser, site + "/")
    links = [
        (a.text, a.get_attribute("href")) for a in browser.find_elements("css selector", "nav a")
    ]
    assert len(links) >= 5
    for label, href in links:
        visit(browser, href)
        assert browser.find_element("tag name", "h1").text, label
        assert console_errors(browser) == [], label
        screenshot(browser, label.lower())
    visit(browser, site + "/deadlines")
    body = text(browser)
    assert (
        body.find("Monthly review")
        < body.find("Comments on the export rule")
        < body.find("Reciprocal tariff pause")
    )
    visit(browser, site + "/feeds")
    row = next(r for r in browser.find_elements("css selector", "tr") if "broken" in r.text)
    assert "fail" in row.text.lower() or "unhealthy" in row.text.lower()
    visit(browser, site + "/stories")
    story = next(a for a in browser.find_elements("css selector", "main a") if a.text == STORY)
    story.click()
    body = text(browser)
    assert "wire" in body
    assert "mirror" in body  # the story's two sources
    assert console_errors(browser) == []
    screenshot(browser, "story")


def test_the_keyboard_reaches_the_skip_link_the_navigation_and_the_search(
    browser: Any, site: str
) -> None:
    from selenium.webdriver.common.keys import Keys  # noqa: PLC0415

    visit(browser, site + "/")
    page = browser.find_element("tag name", "body")
    page.send_keys(Keys.TAB)
    active = browser.switch_to.active_element
    assert active.text == "Skip to content"
    active.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"
    visit(browser, site + "/")
    seen = []
    for _ in range(15):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        el = browser.switch_to.active_element
        seen.append((el.tag_name, el.get_attribute("id") or el.text))
    assert ("input", "site-search") in seen
    assert sum(1 for tag, _ in seen if tag == "a") >= 5
    box = browser.find_element("id", "site-search")
    box.send_keys("稀土", Keys.ENTER)
    assert "/stories" in browser.current_url
    assert console_errors(browser) == []


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - our own local server
        body: bytes = r.read()
    return body


def test_the_subscriptions_are_valid(site: str) -> None:
    calendar = icalendar.Calendar.from_ical(get(site + "/calendar.ics"))
    titles = {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    assert "Reciprocal tariff pause expires" in titles
    parsed = feedparser.parse(get(site + "/feed.atom"))
    assert not parsed.bozo
    assert parsed.version == "atom10"
    assert STORY in [e.title for e in parsed.entries]
    assert json.loads(get(site + "/api/overview"))


def _rgb(css: str) -> tuple[float, float, float]:
    parts = css[css.index("(") + 1 : css.index(")")].split(",")
    return (float(parts[0]), float(parts[1]), float(parts[2]))


def contrast(fg: str, bg: str) -> float:
    """The WCAG contrast ratio of two CSS rgb() colours."""

    def luminance(rgb: tuple[float, float, float]) -> float:
        channels = []
        for value in rgb:
            c = value / 255
            channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    a, b = sorted((luminance(_rgb(fg)), luminance(_rgb(bg))), reverse=True)
    return (a + 0.05) / (b + 0.05)


def page_colours(driver: Any) -> dict[str, tuple[str, str]]:
    """(colour, background) of the body text, a link and the navigation's current link."""
    script = """
    const bg = getComputedStyle(document.body).backgroundColor;
    const pick = (sel) => { const el = document.querySelector(sel);
        return [getComputedStyle(el).color, bg]; };
    return {body: pick('main p, main li, main dd'), link: pick('main a, footer a'),
            nav: pick('nav a')};
    """
    colours: dict[str, tuple[str, str]] = driver.execute_script(script)
    return colours


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_has_aa_contrast_in_light_and_dark_mode(browser: Any, site: str, scheme: str) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    try:
        visit(browser, site + "/")
        background = _rgb(
            browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        )
        assert (sum(background) / 3 < 100) is (scheme == "dark")  # it follows the system
        for what, (fg, bg) in page_colours(browser).items():
            assert contrast(fg, bg) >= 4.5, (scheme, what, fg, bg)
        screenshot(browser, f"overview-{scheme}")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_pages_fit_a_phone(browser: Any, site: str) -> None:
    browser.set_window_size(390, 844)
    try:
        for path in ("/", "/deadlines", "/stories", "/feeds", "/proposals"):
            visit(browser, site + path)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, (path, overflow)
        screenshot(browser, "overview-phone")
    finally:
        browser.set_window_size(1280, 900)
