"""The built-in console channel, URL checks and masking — through real Apprise."""

from __future__ import annotations

import logging

import pytest

from notifier.delivery import apprise as channels

SECRET = "Pa55w0rdXYZ"


def test_console_channel_prints_title_and_body(capsys: pytest.CaptureFixture[str]) -> None:
    """``console://`` is a real Apprise schema that writes the alert to stdout, once
    :func:`~notifier.delivery.apprise.load_apprise` has loaded Apprise."""
    sender = channels.load_apprise().Apprise()
    assert sender.add("console://")
    assert sender.notify(title="Rare earths", body="稀土出口管制 — new rule")
    out = capsys.readouterr().out
    assert "Rare earths" in out
    assert "稀土出口管制 — new rule" in out


@pytest.mark.parametrize(
    "url",
    [
        f"mailtos://user:{SECRET}@smtp.example.com?to=desk@example.com",
        f"json://user:{SECRET}@127.0.0.1:8080/hook",
        f"ntfy://user:{SECRET}@127.0.0.1:8080/topic",
    ],
)
def test_mask_hides_passwords(url: str) -> None:
    """Masked URLs keep the scheme and host but never the password."""
    masked = channels.mask_url(url)
    assert SECRET not in masked
    assert masked.startswith(url.split("://", maxsplit=1)[0] + "://")


def test_mask_hides_tokens_apprise_leaves_in_the_path() -> None:
    """json:// and form:// paths are kept by Apprise's privacy form; tokens in them are
    hidden like Apprise hides its own, and plain path words stay."""
    masked = channels.mask_url("json://127.0.0.1:8080/hooks/Zr4ePq8WvT2nYb6c")
    assert masked == "json://127.0.0.1:8080/hooks/Z...c?method=POST"


def test_mask_of_unparseable_url_hides_everything() -> None:
    """A URL Apprise cannot parse is not echoed at all."""
    assert channels.mask_url(f"slack://{SECRET}") == "slack://<hidden>"


def test_check_url_accepts_known_and_rejects_unknown() -> None:
    """Known schemes with sound URLs pass; unknown schemes and junk are explained."""
    assert channels.check_url("console://") is None
    assert channels.check_url("json://127.0.0.1:9/hook") is None
    assert channels.check_url("slak://x") == "unknown Apprise scheme 'slak://'"
    assert "not an Apprise URL" in (channels.check_url("hello") or "")


def test_check_url_never_lets_apprise_log_the_url(caplog: pytest.LogCaptureFixture) -> None:
    """Apprise logs the URLs it rejects (masked only in recent releases); checks stay silent."""
    caplog.set_level(logging.DEBUG)
    assert channels.check_url(f"slack://{SECRET}") is not None
    assert channels.check_url(f"slack://T1JJ3T3L2/{SECRET}") is not None
    assert channels.mask_url(f"nosuch://{SECRET}@host") == "nosuch://<hidden>"
    assert [r for r in caplog.records if r.name.startswith("apprise")] == []
    assert not logging.getLogger("apprise").disabled  # restored afterwards
