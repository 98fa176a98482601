"""The command line starts at once: heavy libraries are loaded only by the commands that
use them (like reader's ``test_lazy_imports``), each checked in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench import startup
from notifier.delivery import apprise as channels
from tests.conftest import EXAMPLE

#: What the command line alone must never load.
HEAVY = (
    "apprise",
    "aiohttp",
    "apscheduler",
    "feedparser",
    "pydantic",
    "pydantic_settings",
    "jinja2",
    "ruamel",
    "structlog",
)
#: What ``check`` on a config with only the console channel must not load: the poller,
#: the scheduler and the sender.
NOT_FOR_CHECK = ("apprise", "aiohttp", "apscheduler", "feedparser", "prometheus_client")


def loaded_after(code: str, cwd: Path) -> set[str]:
    """The top-level packages in ``sys.modules`` after running ``code`` in a fresh
    interpreter, its output discarded (with no ``NOTIFIER_*`` variable set)."""
    script = (
        "import contextlib, io, json, sys\n"
        "out, err = io.StringIO(), io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
        + textwrap.indent(textwrap.dedent(code).strip(), "    ")
        + "\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def run_main(argv: list[str], expect: int | None = 0) -> str:
    """Code that runs ``main(argv)`` (argparse's exit for ``--help`` included)."""
    check = f"assert code == {expect}, code" if expect is not None else ""
    return f"""
        from notifier.cli.commands import main
        try:
            code = main({argv!r})
        except SystemExit as e:
            code = e.code
        {check}
    """


@pytest.mark.parametrize("module", ["notifier.cli", "notifier.cli.commands", "notifier.entry"])
def test_importing_the_cli_loads_nothing_heavy(module: str, tmp_path: Path) -> None:
    """Importing the command line loads none of the heavy libraries."""
    assert loaded_after(f"import {module}", tmp_path) & set(HEAVY) == set()


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--version"], 0),
        (["--help"], 0),
        (["check", "--help"], 0),
        (["run", "--help"], 0),
        ([], 2),
    ],
)
def test_version_and_help_load_nothing_heavy(argv: list[str], code: int, tmp_path: Path) -> None:
    """``--version``, ``--help``, ``COMMAND --help`` and a usage error answer from argparse
    alone: no pydantic, Apprise, aiohttp, APScheduler, feedparser, Jinja, ruamel or
    structlog."""
    assert loaded_after(run_main(argv, code), tmp_path) & set(HEAVY) == set()


def test_check_on_the_example_loads_no_poller_scheduler_or_apprise(tmp_path: Path) -> None:
    """``check`` validates with the config schema (pydantic), but a config whose only
    channel is the built-in ``console://`` needs no Apprise, and ``check`` never needs
    aiohttp, APScheduler, feedparser or the metrics."""
    loaded = loaded_after(run_main(["check", "--config", str(EXAMPLE)]), tmp_path)
    assert loaded & set(NOT_FOR_CHECK) == set()
    assert {"pydantic", "pydantic_settings", "ruamel"} <= loaded  # it did validate


def test_check_loads_apprise_for_any_other_url(tmp_path: Path) -> None:
    """A channel URL other than the plain ``console://`` is checked by Apprise itself."""
    config = tmp_path / "watch.yaml"
    config.write_text("channels:\n  chat: ['json://127.0.0.1:9/hook']\n", encoding="utf-8")
    assert "apprise" in loaded_after(run_main(["check", "--config", str(config)]), tmp_path)


@pytest.mark.parametrize("url", ["console://", "console:///", "CONSOLE://", "Console://"])
def test_the_plain_console_url_is_answered_as_apprise_would(url: str) -> None:
    """Without Apprise, the plain built-in URL gets Apprise's own answers: usable, shown
    as ``console://``, nothing in it secret."""
    assert channels.is_builtin_console(url)
    plugin = channels.load_apprise().Apprise.instantiate(url)
    assert plugin is not None
    assert plugin.url(privacy=True) == plugin.url(privacy=False) == "console://"
    assert channels.check_url(url) is None
    assert channels.mask_url(url) == "console://"
    assert channels.url_secrets(url) == set()


@pytest.mark.parametrize("url", ["console://?tz=Nowhere/Else", "console://[", "consoles://"])
def test_any_other_console_url_is_still_checked_by_apprise(url: str) -> None:
    """``console://`` with anything more goes to Apprise, which refuses these."""
    assert not channels.is_builtin_console(url)
    assert channels.check_url(url) is not None


@pytest.mark.slow
def test_the_startup_benchmark_runs(tmp_path: Path) -> None:
    """``python -m bench.startup`` (one timed run each) times every command, all of which
    exit 0, and writes its table and JSON."""
    assert startup.main(["--runs", "1", "--warmup", "0", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "startup.json").read_text(encoding="utf-8"))
    assert [r["command"] for r in result["commands"]] == [c.shown for c in startup.COMMANDS]
    assert all(r["ok"] and r["best_s"] > 0 for r in result["commands"])
    assert "| `notifier --version` |" in (tmp_path / "startup.md").read_text(encoding="utf-8")
