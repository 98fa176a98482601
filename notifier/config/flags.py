"""Each runtime setting's name, flag, environment variable and parser: no pydantic.

The command line builds its options from these (``notifier --help`` and
``notifier --version`` must answer without loading pydantic), and the settings
model (:mod:`notifier.config.settings`, pydantic-settings, the one reader of the
environment) runs the same parsers over the environment's text, so a flag and
its variable accept and refuse the same values with the same words.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]
MAX_GRACE = 600.0
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")


# --------------------------------------------------------------------------- one value each
# Each parser turns the text of a flag or variable into the setting's value, or
# raises ValueError saying what is wrong and what would be right. The command
# line uses them as argparse types (a bad flag is a one-line usage error); the
# settings model (notifier.config.settings) uses them for the environment.


def _words(options: tuple[str, ...]) -> str:
    return ", ".join(options[:-1]) + " or " + options[-1]


def parse_log_format(text: str) -> LogFormat:
    """``auto``, ``json`` or ``console`` (any case)."""
    value = text.strip().lower()
    for option in get_args(LogFormat):
        if value == option:
            return option  # type: ignore[no-any-return]
    raise ValueError(f"{text!r} is not a log format; use {_words(get_args(LogFormat))}")


def parse_log_level(text: str) -> LogLevel:
    """``debug``, ``info``, ``warning`` or ``error`` (any case)."""
    value = text.strip().lower()
    for option in get_args(LogLevel):
        if value == option:
            return option  # type: ignore[no-any-return]
    raise ValueError(f"{text!r} is not a log level; use {_words(get_args(LogLevel))}")


def parse_port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free port)."""
    try:
        port = int(text.strip())
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ValueError(f"{text!r} is not a port number; use a whole number from 0 to 65535")
    return port


def parse_grace(text: str) -> float:
    """Seconds, a number from 0 to 600 (``10``, ``2.5``)."""
    try:
        seconds = float(text.strip())
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_GRACE:  # also refuses nan and inf
        raise ValueError(
            f"{text!r} is not a number of seconds from 0 to {MAX_GRACE:g}; write e.g. 10 or 2.5"
        )
    return seconds


def parse_host(text: str) -> str:
    """An IP address (``127.0.0.1``, ``0.0.0.0``, ``::1``) or a host name (``localhost``)."""
    value = text.strip()
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOSTNAME.match(value) or value.replace(".", "").isdigit():
            raise ValueError(
                f"{text!r} is not an IP address or host name; write e.g. 127.0.0.1, "
                "0.0.0.0, ::1 or localhost"
            ) from None
    return value


def parse_path(text: str) -> Path:
    """A path: anything but empty (whether it exists is checked where it is used)."""
    if not text.strip():
        raise ValueError("an empty value names no file or folder")
    return Path(text)


def parse_state_url(text: str) -> str:
    """A PostgreSQL URL (``postgresql://user:pass@host:5432/db``): the shared state of
    ``notifier worker``. The text is never repeated in an error (it may hold a password)."""
    value = text.strip()
    scheme, sep, rest = value.partition("://")
    if scheme.lower() not in ("postgresql", "postgres") or not sep or not rest:
        raise ValueError(
            "is not a PostgreSQL URL; write postgresql://USER:PASSWORD@HOST:5432/DATABASE"
        )
    return value


#: Setting name → the parser of its flag's and variable's text.
PARSERS: dict[str, Callable[[str], Any]] = {
    "config": parse_path,
    "state_dir": parse_path,
    "log_format": parse_log_format,
    "log_level": parse_log_level,
    "health_port": parse_port,
    "health_host": parse_host,
    "web_port": parse_port,
    "web_host": parse_host,
    "grace": parse_grace,
    "state_url": parse_state_url,
}


#: Setting name → its environment variable, and its flag (help texts and messages).
ENV = {name: f"NOTIFIER_{name.upper()}" for name in PARSERS}
FLAGS = {name: "--" + name.replace("_", "-") for name in PARSERS}
