"""Shared helpers: writing configs, running the real ``notifier`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.feedserver import ThreadedFeedServer
from tests.receivers import SmtpReceiver, ThreadedWebhookReceiver

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "watch.yaml"
#: The installed console script, next to the interpreter running the tests.
NOTIFIER = Path(sys.executable).with_name("notifier")

MINIMAL = """\
channels:
  console: ["console://"]
"""


def corpus_dir() -> Path | None:
    """The shared feed corpus (``NOTIFIER_FIXTURES`` or ``../shared/fixtures/feeds``), if here."""
    configured = os.environ.get("NOTIFIER_FIXTURES")
    path = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2] / "shared/fixtures/feeds"
    )
    return path if (path / "MANIFEST.tsv").is_file() else None


@dataclass(frozen=True)
class Result:
    """What a finished ``notifier`` process returned and printed."""

    code: int
    out: str
    err: str


CLI = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path) -> CLI:
    """Run the real ``notifier`` executable in ``tmp_path`` with a clean environment."""

    def run(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Result:
        base = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        base.update(env or {})
        proc = subprocess.run(
            [str(NOTIFIER), *args],
            capture_output=True,
            text=True,
            env=base,
            cwd=cwd or tmp_path,
            timeout=60,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a file under ``tmp_path`` and return its path."""

    def _write(text: str, name: str = "watch.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def feeds() -> Iterator[ThreadedFeedServer]:
    """A local feed server in a thread (for subprocess tests)."""
    with ThreadedFeedServer() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def chat() -> Iterator[ThreadedWebhookReceiver]:
    """A webhook receiver in a thread that can be switched to answer 503."""
    with ThreadedWebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """One ``python -m bench --smoke`` run (cycles, peers, matching, the daemon's
    measurements), shared by the benchmark's tests: its JSON result and Markdown."""
    out = tmp_path_factory.mktemp("bench-smoke")
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # the first run installs the four peers
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    result: dict[str, Any] = json.loads((out / "latest.json").read_text())
    return result, (out / "latest.md").read_text()
