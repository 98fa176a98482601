"""Runtime settings: environment variables, flags that override them, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.settings import SettingsError, load_settings


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
    with pytest.raises(SettingsError, match=r"^NOTIFIER_LOG_FORMAT: .*'auto', 'json' or 'console'"):
        load_settings()


def test_bad_flag_value_names_the_flag() -> None:
    """A wrong value given as a flag is reported with the flag's name."""
    with pytest.raises(SettingsError, match=r"^--log-level: "):
        load_settings(log_level="loud")
