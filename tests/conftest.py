"""Shared helpers: writing configs, running ``notifier`` commands (in this process, or the
real executable), local servers."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog

from notifier import logs
from notifier.cli.commands import main
from tests.feedserver import ThreadedFeedServer
from tests.pg import pg_server, pg_url  # noqa: F401 - fixtures for every test module
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
    """What a finished ``notifier`` command returned and printed."""

    code: int
    out: str
    err: str


#: ``cli(*args, env=None, cwd=None) -> Result``: both fixtures below.
CLI = Callable[..., Result]


@contextlib.contextmanager
def process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Give back, on exit, what running a command in this process changes for the whole
    process, as a fresh ``notifier`` process would never notice:

    * the root logger's handlers and level, the ``apprise`` and ``apscheduler`` levels,
      and where warnings go (:func:`notifier.logs.configure_logging` sets them all);
    * structlog's configuration (the same);
    * the secrets registered for redaction (:func:`notifier.logs.add_secrets`), so one
      command's ``${VAR}`` values are not redacted from the next one's output.

    Apprise's ``console://`` registration stays: registering it again changes nothing.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("apprise", "apscheduler")}
    config = structlog.get_config()
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    monkeypatch.setattr(logging, "_warnings_showwarning", logging._warnings_showwarning)  # type: ignore[attr-defined]
    monkeypatch.setattr(logs, "_secrets", set(logs._secrets))
    monkeypatch.setattr(logs, "_ordered", logs._ordered)
    try:
        yield
    finally:
        structlog.configure(**config)
        for name, was in levels.items():
            logging.getLogger(name).setLevel(was)
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """Run ``notifier ARGS`` in this process: :func:`notifier.cli.commands.main` as the
    console script runs it, in ``tmp_path`` (or ``cwd``) with no ``NOTIFIER_*`` variable
    but those in ``env``, its standard output and error captured, and the process-wide
    state it changes given back (:func:`process_state`). ``main`` runs ``asyncio.run``:
    call this from a sync test. For what needs a real process (the console script, a
    signal), use :func:`cli_process`."""

    def run(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with monkeypatch.context() as m, process_state(m):
            for name in os.environ:
                if name.startswith("NOTIFIER_"):
                    m.delenv(name)
            for name, value in (env or {}).items():
                m.setenv(name, value)
            m.chdir(cwd or tmp_path)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(list(args))
                except SystemExit as e:  # argparse: --help, --version, usage errors
                    code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
        return Result(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def cli_process(tmp_path: Path) -> CLI:
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
