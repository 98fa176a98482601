"""Runtime settings: environment variables, flags that override them, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.config.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONFIG", "STATE_DIR", "LOG_FORMAT", "LOG_LEVEL"):
        monkeypatch.delenv(f"NOTIFIER_{name}", raising=False)


def test_defaults() -> None:
    """With nothing set: config/watch.yaml, ./state, auto format, info level."""
    s = load_settings()
    assert (s.config, s.state_dir, s.log_format, s.log_level) == (
        Path("config/watch.yaml"),
        Path("state"),
        "auto",
        "info",
    )


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each setting comes from its NOTIFIER_ variable; values are case-insensitive."""
    monkeypatch.setenv("NOTIFIER_CONFIG", "/etc/notifier/watch.yaml")
    monkeypatch.setenv("NOTIFIER_STATE_DIR", "/data")
    monkeypatch.setenv("NOTIFIER_LOG_FORMAT", "JSON")
    monkeypatch.setenv("NOTIFIER_LOG_LEVEL", "Warning")
    s = load_settings()
    assert s.config == Path("/etc/notifier/watch.yaml")
    assert s.state_dir == Path("/data")
    assert (s.log_format, s.log_level) == ("json", "warning")


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flag's value wins over the variable; an absent flag (None) does not."""
    monkeypatch.setenv("NOTIFIER_STATE_DIR", "/data")
    monkeypatch.setenv("NOTIFIER_LOG_LEVEL", "debug")
    s = load_settings(state_dir="/tmp/x", log_level=None)
    assert s.state_dir == Path("/tmp/x")
    assert s.log_level == "debug"


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong value in the environment is reported with the variable's name."""
    monkeypatch.setenv("NOTIFIER_LOG_FORMAT", "xml")
    expected = r"^NOTIFIER_LOG_FORMAT: 'xml' is not a log format; use auto, json or console$"
    with pytest.raises(SettingsError, match=expected):
        load_settings()


def test_bad_flag_value_names_the_flag() -> None:
    """A wrong value given as a flag is reported with the flag's name."""
    with pytest.raises(SettingsError, match=r"^--log-level: "):
        load_settings(log_level="loud")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("NOTIFIER_HEALTH_PORT", "http", "'http' is not a port number"),
        ("NOTIFIER_HEALTH_PORT", "70000", "'70000' is not a port number"),
        ("NOTIFIER_GRACE", "nan", "'nan' is not a number of seconds from 0 to 600"),
        ("NOTIFIER_GRACE", "-1", "'-1' is not a number of seconds"),
        ("NOTIFIER_HEALTH_HOST", "local host", "'local host' is not an IP address or host name"),
        ("NOTIFIER_STATE_DIR", " ", "an empty value names no file or folder"),
    ],
)
def test_environment_values_get_the_flags_checks(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    """A variable is checked as its flag is, with the same plain message."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"{variable}: {message}")


@pytest.mark.parametrize(
    ("name", "good", "expected"),
    [
        ("health_port", "0", 0),
        ("health_port", "9100", 9100),
        ("grace", "2.5", 2.5),
        ("health_host", "192.0.2.1", "192.0.2.1"),
        ("health_host", "::1", "::1"),
        ("health_host", "notifier.internal", "notifier.internal"),
        ("log_level", "DEBUG", "debug"),
    ],
)
def test_good_values_pass_the_checks(name: str, good: str, expected: object) -> None:
    """The checks refuse what is wrong, not what is merely unusual."""
    assert getattr(load_settings(**{name: good}), name) == expected
