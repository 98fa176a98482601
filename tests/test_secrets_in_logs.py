"""Tokens written in channel URLs never reach a log line, whatever logger wrote it.

Chat services carry their token in the URL path (Mattermost ``/hooks/TOKEN``,
Slack, Discord, Telegram), and urllib3 logs every request line at DEBUG. The
loader returns the secret parts of every channel and feed URL with the config;
the log pipeline redacts them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notifier.config.loader import loads_with_secrets
from notifier.delivery.apprise import looks_like_token, url_secrets
from tests.conftest import CLI
from tests.receivers import ThreadedWebhookReceiver

TOKEN = "k9x3mz7qwe5rty1uio8pas2dfg"  # a Mattermost-like webhook token
PATH_TOKEN = "Zr4ePq8WvT2nYb6c"
QUERY_TOKEN = "Qv7s9LmN2pX4"
PASSWORD = "hunter2-pass"


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("mmost://127.0.0.1:8065/" + TOKEN, {TOKEN}),
        (f"json://desk:{PASSWORD}@127.0.0.1:9/path/{PATH_TOKEN}", {PASSWORD, PATH_TOKEN}),
        (f"json://127.0.0.1:9/hook?token={QUERY_TOKEN}", {QUERY_TOKEN}),
        ("json://127.0.0.1:9/hook?token=short", {"short"}),  # a secret-named parameter
        ("slack://T1234ABCD/B5678EFGH/abcdefghijklmnopqrstuvwx", {"B5678EFGH", "T1234ABCD"}),
        ("discord://123456789012345678/" + "aB3" * 20, {"123456789012345678", "aB3" * 20}),
        (
            "tgram://123456789:AAHabcdefghijklmnopqrstuvwxyz012345/12345",
            {"123456789:AAHabcdefghijklmnopqrstuvwxyz012345"},
        ),
    ],
)
def test_the_secret_parts_of_service_urls_are_found(url: str, secrets: set[str]) -> None:
    """Tokens in the path, the host, the password and token-like query values are secret;
    so is the whole URL."""
    found = url_secrets(url)
    assert secrets <= found
    assert url in found


@pytest.mark.parametrize(
    "url",
    [
        "console://",
        "json://127.0.0.1:9/hooks",
        "ntfy://ntfy.sh/alerts",
        "json://notify.example.com/api/v2/webhooks/rare-earths",
        "mailto://127.0.0.1:1025?from=desk@example.com&to=team@example.com",
    ],
)
def test_urls_without_secrets_stay_readable(url: str) -> None:
    """Well-known path words, host names and plain names are not redacted everywhere."""
    assert url_secrets(url) == set()


def test_the_token_rule_is_documented_and_conservative() -> None:
    """Short words and API words are not tokens; mixed-case, digit-bearing or long ones are."""
    for word in ("hooks", "api", "webhooks", "services", "rare-earths", "desk-team"):
        assert not looks_like_token(word), word
    for token in ("T1234ABCD", "AbCdEfGhIj", "abcdefghijklmnopqrstu", TOKEN):
        assert looks_like_token(token), token


def test_loader_returns_url_secrets_with_the_config_but_never_its_names() -> None:
    """Every caller of the loader (each command, every reload) gets the URL secrets; a
    part that is also a name of the config (here a watch) stays readable."""
    text = f"""\
channels:
  chat: ["mmost://127.0.0.1:8065/{TOKEN}", "json://127.0.0.1:9/alerts/Watch2025x"]
feeds:
  - name: news
    url: https://user:{PASSWORD}@news.example.com/rss?key={QUERY_TOKEN}&page=2
watches:
  - name: Watch2025x
    any: [tariff]
"""
    _, secrets = loads_with_secrets(text, "watch.yaml", {})
    assert {TOKEN, PASSWORD, QUERY_TOKEN} <= secrets
    assert "Watch2025x" not in secrets
    assert "hooks" not in secrets
    assert "2" not in secrets


@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["json", "console"])
def test_no_token_in_any_output_of_test_channel_at_debug(
    cli: CLI, tmp_path: Path, log_format: str
) -> None:
    """The real ``notifier test-channel`` at ``--log-level debug`` sends through real
    Apprise URLs to a local receiver: urllib3 logs each request line, and no line of
    stdout or stderr holds a token, a password or a token query value."""
    with ThreadedWebhookReceiver() as hooks:
        urls = [
            hooks.mmost_url(TOKEN),
            hooks.json_url(f"/path/{PATH_TOKEN}", user="desk", password=PASSWORD),
            hooks.json_url("/hook", token=QUERY_TOKEN),
        ]
        config = tmp_path / "watch.yaml"
        config.write_text(
            "channels:\n  chat:\n" + "".join(f"    - {u}\n" for u in urls), encoding="utf-8"
        )
        r = cli(
            "test-channel",
            "chat",
            "--config",
            str(config),
            "--log-level",
            "debug",
            "--log-format",
            log_format,
        )
        hooks.wait_for(3)
        paths = {req.path for req in hooks.requests}
    assert r.code == 0, r.err
    assert {f"/hooks/{TOKEN}", f"/path/{PATH_TOKEN}", "/hook"} <= paths  # really sent
    output = r.out + r.err
    assert "urllib3.connectionpool" in output  # the DEBUG lines that used to leak
    assert re.search(r"POST /hooks/?<secret>", output), output
    for line in output.splitlines():
        for secret in (TOKEN, PATH_TOKEN, PASSWORD, QUERY_TOKEN):
            assert secret not in line, line
