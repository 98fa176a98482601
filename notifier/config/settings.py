"""Runtime settings: where things are and how to log, from the environment or flags.

Each setting is read from ``NOTIFIER_<NAME>`` (e.g. ``NOTIFIER_STATE_DIR``) and
can be overridden by the matching command-line flag (``--state-dir``). What to
watch lives in the YAML watch config (:mod:`notifier.config.schema`), not here.

Each setting's name, flag, variable and parser of its text are in
:mod:`notifier.config.flags`, which loads no pydantic: the command line builds its
options from it, so ``notifier --help`` answers at once. This module (pydantic-settings)
is the one reader of the environment, loaded only when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifier.config.flags import ENV, FLAGS, MAX_GRACE, PARSERS, LogFormat, LogLevel
from notifier.errors import NotifierError

__all__ = ["LogFormat", "LogLevel", "Settings", "SettingsError", "load_settings"]


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
    web_port: int | None = Field(
        None, ge=0, le=65535, description="Serve the web UI on this port (default: web.port)."
    )
    web_host: str | None = Field(
        None, description="Address the web UI binds to (default: web.host, 127.0.0.1)."
    )
    grace: float = Field(
        10.0, ge=0, le=MAX_GRACE, description="Seconds to let in-flight work finish on SIGTERM."
    )
    state_url: str | None = Field(
        None,
        description="PostgreSQL URL of the shared state (notifier worker); SQLite if unset.",
        repr=False,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _parse(cls, value: Any, info: ValidationInfo) -> Any:
        """Text (from the environment, or a caller) goes through the flag's parser."""
        parser = PARSERS.get(info.field_name or "")
        if isinstance(value, str) and parser is not None:
            return parser(value)
        return value


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
