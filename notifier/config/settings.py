"""Runtime settings: where things are and how to log, from the environment or flags.

Each setting is read from ``NOTIFIER_<NAME>`` (e.g. ``NOTIFIER_STATE_DIR``) and
can be overridden by the matching command-line flag (``--state-dir``). What to
watch lives in the YAML watch config (:mod:`notifier.config.schema`), not here.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifier.errors import NotifierError
from notifier.logs import LogFormat, LogLevel

MAX_GRACE = 600.0
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")


# --------------------------------------------------------------------------- one value each
# Each parser turns the text of a flag or variable into the setting's value, or
# raises ValueError saying what is wrong and what would be right. The command
# line uses them as argparse types (a bad flag is a one-line usage error); the
# model below uses them for the environment.


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


#: Setting name → the parser of its flag's and variable's text.
PARSERS: dict[str, Callable[[str], Any]] = {
    "config": parse_path,
    "state_dir": parse_path,
    "log_format": parse_log_format,
    "log_level": parse_log_level,
    "health_port": parse_port,
    "health_host": parse_host,
    "grace": parse_grace,
}


class SettingsError(NotifierError, ValueError):
    """An environment variable or flag has a value notifier cannot use."""


class Settings(BaseSettings):
    """Runtime settings; see ``notifier --help`` for each one."""

    model_config = SettingsConfigDict(
        env_prefix="NOTIFIER_", extra="forbid", frozen=True, case_sensitive=False
    )

    config: Path = Field(Path("config/watch.yaml"), description="Path of the YAML watch config.")
    state_dir: Path = Field(
        Path("state"), description="Folder for the SQLite state (created if missing)."
    )
    log_format: LogFormat = Field(
        "auto", description="auto: pretty on a terminal, JSON otherwise; or json, console."
    )
    log_level: LogLevel = Field("info", description="Least severe level logged.")
    health_port: int | None = Field(
        None, ge=0, le=65535, description="Serve /healthz and /metrics on this port (off if unset)."
    )
    health_host: str = Field("127.0.0.1", description="Address the health endpoint binds to.")
    grace: float = Field(
        10.0, ge=0, le=MAX_GRACE, description="Seconds to let in-flight work finish on SIGTERM."
    )

    @field_validator("*", mode="before")
    @classmethod
    def _parse(cls, value: Any, info: ValidationInfo) -> Any:
        """Text (from the environment, or a caller) goes through the flag's parser."""
        parser = PARSERS.get(info.field_name or "")
        if isinstance(value, str) and parser is not None:
            return parser(value)
        return value


#: Setting name → (environment variable, flag), for help texts and messages.
ENV = {name: f"NOTIFIER_{name.upper()}" for name in Settings.model_fields}
FLAGS = {name: "--" + name.replace("_", "-") for name in Settings.model_fields}


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; ``overrides`` (from flags) win.

    Raises :class:`SettingsError` naming the variable or flag that is wrong.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as e:
        lines = []
        for err in e.errors(include_url=False, include_input=False):
            name = str(err["loc"][0]) if err["loc"] else ""
            source = FLAGS.get(name, name) if name in given else ENV.get(name, name)
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{source}: {message}")
        raise SettingsError("\n".join(lines)) from None
