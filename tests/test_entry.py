"""The console script's module stays light: parse workers re-import it (see notifier.entry)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

HEAVY = ("notifier.cli.commands", "aiohttp", "apprise", "pydantic", "feedparser", "apscheduler")


def test_console_script_points_at_the_light_entry() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "notifier"]
    assert script.value == "notifier.entry:main"


def test_importing_the_entry_loads_nothing_heavy() -> None:
    code = f"import sys, notifier.entry\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
