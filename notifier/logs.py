"""Logging: structlog for our lines, the stdlib's loggers routed through it.

* ``json`` renders one JSON object per line (for files, journald, Docker);
  ``console`` renders aligned, human lines, coloured only on a terminal;
  ``auto`` picks ``console`` on a terminal and ``json`` elsewhere.
* APScheduler's and Apprise's stdlib loggers go through the same renderer.
  ``apprise`` is never below INFO (it prints tokens and passwords at DEBUG);
  ``apscheduler`` is kept at WARNING (it logs every run at INFO).
* Tracebacks never include local variables (they may hold secrets).
* Values registered with :func:`add_secrets` (those substituted from the
  environment into the watch config, and the secret parts of its channel and
  feed URLs: tokens in paths, passwords, ``token=`` values) are replaced by
  ``<secret>`` in every line, whatever logged them (our loggers and the
  stdlib's: urllib3 logs ``POST /hooks/TOKEN`` at DEBUG), at every level.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable
from typing import Any, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer

REDACTED = "<secret>"
_secrets: set[str] = set()
#: The secrets, longest first (a token inside a registered URL goes with the URL).
_ordered: tuple[str, ...] = ()
_lock = threading.Lock()
#: Shorter values are too likely to occur by chance to redact usefully.
MIN_SECRET_LENGTH = 4


def add_secrets(values: Iterable[str]) -> None:
    """Register values that must never appear in a log line."""
    global _ordered  # noqa: PLW0603 - one registry for the process, like the loggers
    with _lock:
        for value in values:
            if len(value) >= MIN_SECRET_LENGTH:
                _secrets.add(value)
                _secrets.add(json.dumps(value)[1:-1])  # as it appears inside JSON
                _secrets.add(json.dumps(value, ensure_ascii=False)[1:-1])
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` with ``<secret>``."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact_rendered(_logger: Any, _name: str, line: Any) -> Any:
    """Last processor: runs on the rendered line (a string)."""
    if isinstance(line, str):
        return redact(line)
    return line


def resolve_format(fmt: str, stream: TextIO) -> str:
    """Turn ``auto`` into ``console`` on a terminal and ``json`` elsewhere."""
    if fmt != "auto":
        return fmt
    isatty = getattr(stream, "isatty", None)
    return "console" if isatty is not None and isatty() else "json"


def configure_logging(fmt: str, level: str, stream: TextIO | None = None) -> None:
    """Set up structlog and the stdlib root logger to write to ``stream`` (stderr)."""
    stream = stream or sys.stderr
    chosen = resolve_format(fmt, stream)
    numeric = logging.getLevelName(level.upper())

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any
    if chosen == "json":
        shared.append(
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
        )
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        isatty = getattr(stream, "isatty", None)
        renderer = structlog.dev.ConsoleRenderer(
            colors=bool(isatty and isatty()),
            exception_formatter=structlog.dev.plain_traceback,
        )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
            _redact_rendered,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    logging.getLogger("apprise").setLevel(max(numeric, logging.INFO))
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))
    logging.captureWarnings(True)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger named ``name`` (usually the module's ``__name__``)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
