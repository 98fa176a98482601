"""Logging: JSON off a terminal, stdlib loggers through structlog, no secrets, no locals."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from notifier import logs

TOKEN = "tok-9Q7fLr2XcM"


class TTY(io.StringIO):
    """A stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_auto_is_json_off_a_terminal_and_console_on_one() -> None:
    """``auto`` renders JSON for a pipe or file and pretty lines on a terminal."""
    assert logs.resolve_format("auto", io.StringIO()) == "json"
    assert logs.resolve_format("auto", TTY()) == "console"
    assert logs.resolve_format("json", TTY()) == "json"


def test_json_lines_carry_event_level_logger_and_time() -> None:
    """Each JSON line is one object with the event and its fields."""
    out = io.StringIO()
    logs.configure_logging("json", "info", out)
    logs.get_logger("notifier.test").info("feed polled", feed="ustr", new=3)
    (line,) = lines(out)
    assert line["event"] == "feed polled"
    assert line["feed"] == "ustr"
    assert line["new"] == 3
    assert line["level"] == "info"
    assert line["logger"] == "notifier.test"
    assert str(line["timestamp"]).endswith("Z")


def test_stdlib_loggers_share_the_renderer() -> None:
    """APScheduler's and Apprise's stdlib records come out as the same JSON lines."""
    out = io.StringIO()
    logs.configure_logging("json", "info", out)
    logging.getLogger("apscheduler.scheduler").warning("job %s missed", "poll")
    (line,) = lines(out)
    assert line["event"] == "job poll missed"
    assert line["logger"] == "apscheduler.scheduler"


def test_apprise_never_logs_below_info_even_at_debug() -> None:
    """At ``debug`` our own loggers go to DEBUG, Apprise stays at INFO (it leaks at DEBUG)."""
    out = io.StringIO()
    logs.configure_logging("json", "debug", out)
    logging.getLogger("apprise").debug("token=%s", TOKEN)
    logs.get_logger("notifier.x").debug("ours")
    assert [line["event"] for line in lines(out)] == ["ours"]
    assert logging.getLogger("apprise").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING


def test_registered_secrets_are_redacted_everywhere() -> None:
    """A secret registered by the loader never appears, whoever logs it and however."""
    out = io.StringIO()
    logs.configure_logging("json", "info", out)
    logs.add_secrets([TOKEN])
    logs.get_logger("x").info("sending", url=f"json://u:{TOKEN}@127.0.0.1/x")
    logging.getLogger("apprise").warning("failed for %s", TOKEN)
    logs.get_logger("x").info(f"inline {TOKEN}")
    text = out.getvalue()
    assert TOKEN not in text
    assert text.count(logs.REDACTED) == 3


def test_short_values_are_not_treated_as_secrets() -> None:
    """A one-letter value would redact every word containing it; it is ignored."""
    logs.add_secrets(["a"])
    assert logs.redact("a cat") == "a cat"


def test_tracebacks_have_no_local_variables() -> None:
    """JSON exceptions list frames but never the values of local variables."""
    out = io.StringIO()
    logs.configure_logging("json", "info", out)
    password = "hunter2-local-value"
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logs.get_logger("x").exception("failed", hint=len(password))
    (line,) = lines(out)
    assert "hunter2-local-value" not in out.getvalue()
    exc = line["exception"]
    assert isinstance(exc, list)
    assert exc[0]["exc_type"] == "RuntimeError"
    assert all("locals" not in frame for frame in exc[0]["frames"])


def test_console_has_no_colour_codes_off_a_terminal() -> None:
    """The console renderer only colours a real terminal."""
    out = io.StringIO()
    logs.configure_logging("console", "info", out)
    logs.get_logger("x").warning("plain", a=1)
    assert "\x1b[" not in out.getvalue()
    assert "plain" in out.getvalue()
    assert "a=1" in out.getvalue()


def test_console_colours_a_terminal() -> None:
    """On a terminal the console renderer uses colour."""
    out = TTY()
    logs.configure_logging("console", "info", out)
    logs.get_logger("x").warning("coloured")
    assert "\x1b[" in out.getvalue()
