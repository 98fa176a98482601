"""A real browser for the web UI's tests: Debian's headless Chromium driven by Selenium
through Debian's chromedriver (no browser can be downloaded here, so both come from apt).

Outside CI, where no Chromium is installed, the tests that use :func:`browser` skip and
say the install command; with ``CI=true`` a missing browser fails them (``.ci/run``
installs it). Screenshots go to ``test-artifacts/screenshots/`` (ignored by git); with
``NOTIFIER_UPDATE_SCREENSHOTS=1`` the README's two are rewritten too (``docs/screenshots``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
INSTALL = "apt-get install -y chromium chromium-driver"
#: The pages the README shows.
README_SHOTS = frozenset({"overview", "deadlines"})


def _found() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (one per test module), its console log kept for the tests."""
    found = _found()
    if found is None:
        message = f"no Chromium and chromedriver here; install them with: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver  # noqa: PLC0415 - only where a browser is
    from selenium.webdriver.chrome.options import Options  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    chromium, chromedriver = found
    options = Options()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in CI's container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--window-size=1280,900",
        "--force-color-profile=srgb",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[str]:
    """The console's errors since the last call (the log is drained as it is read)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver: Any, name: str) -> Path:
    """Save the page as ``test-artifacts/screenshots/NAME.png`` (and, with
    ``NOTIFIER_UPDATE_SCREENSHOTS=1``, as the README's ``docs/screenshots/NAME.png``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    if os.environ.get("NOTIFIER_UPDATE_SCREENSHOTS") == "1" and name in README_SHOTS:
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / f"{name}.png")
    return path
