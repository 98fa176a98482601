"""The ``notifier`` command line (see :mod:`notifier.cli.commands`).

Importing this package loads nothing else: ``notifier.cli.main`` and the other
names are looked up in :mod:`notifier.cli.commands` on first use.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(importlib.import_module("notifier.cli.commands"), name)
