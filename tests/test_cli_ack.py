"""``notifier ack`` and ``notifier acks`` (in this process) against real SQLite state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.ack import short_id
from notifier.model import NewAlert
from notifier.storage.sqlite import Store
from tests.conftest import CLI


def _alert(key: str, channel: str = "chat", **context: object) -> NewAlert:
    return NewAlert(
        key=key,
        channel=channel,
        kind=str(context.get("kind", "match")),
        severity="high",
        context={"kind": "match", "title": f"About {key}", "ack_id": short_id(key), **context},
    )


@pytest.fixture
def state(tmp_path: Path) -> tuple[str, ...]:
    now = datetime.now(UTC)
    with Store.open(tmp_path / "state") as store, store.transaction():
        store.outbox.enqueue(
            [
                _alert("match:wire:a", story={"id": 4, "sources": 2}),
                _alert("match:wire:a", "mail", story={"id": 4, "sources": 2}),
                _alert("reminder:tax:7d", kind="reminder", deadline="tax"),
                _alert("reminder:tax:1d", kind="reminder", deadline="tax"),
            ],
            now,
        )
        store.outbox.enqueue([_alert("match:wire:old")], now - timedelta(days=8))
    return ("--state-dir", str(tmp_path / "state"))


def _acks(cli: CLI, state: tuple[str, ...], *more: str) -> list[dict[str, object]]:
    done = cli("acks", "--json", *state, *more)
    assert done.code == 0, done.err
    rows: list[dict[str, object]] = json.loads(done.out)
    return rows


def test_ack_by_id_prefix_records_who_and_how(
    cli: CLI, state: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unique prefix acks the alert once (all its channels); a second ack keeps the
    first; acks lists it acknowledged by $USER via cli, the others open, and nothing
    older than 7 days."""
    monkeypatch.setenv("USER", "ana")
    ident = short_id("match:wire:a")
    done = cli("ack", ident[:6], *state)
    assert (done.code, done.err) == (0, "")
    assert f"Acknowledged {ident}: About match:wire:a" in done.out
    again = cli("ack", ident, *state)
    assert again.code == 0
    assert "already acknowledged by ana (cli)" in again.out
    rows = {r["key"]: r for r in _acks(cli, state)}
    assert set(rows) == {"match:wire:a", "reminder:tax:7d", "reminder:tax:1d"}
    assert (rows["match:wire:a"]["acknowledged"], rows["match:wire:a"]["who"]) == (True, "ana")
    assert rows["match:wire:a"]["how"] == "cli"
    assert rows["match:wire:a"]["story"] == 4
    assert {r["key"] for r in _acks(cli, state, "--open")} == {"reminder:tax:7d", "reminder:tax:1d"}
    text = cli("acks", *state)
    assert "3 alerts, 2 open (last 7 days)" in text.out
    assert "OPEN" in text.out


def test_ack_by_deadline_and_story(cli: CLI, state: tuple[str, ...]) -> None:
    """--deadline acks all of its pending reminders; --story all alerts of the story."""
    done = cli("ack", "--deadline", "tax", *state)
    assert done.code == 0, done.err
    assert done.out.count("Acknowledged") == 2
    assert cli("ack", "--story", "4", *state).code == 0
    assert _acks(cli, state, "--open") == []


def test_ack_errors_and_exit_codes(cli: CLI, state: tuple[str, ...], tmp_path: Path) -> None:
    """Unknown id: 1; no target or two: 2; an unknown deadline: 1; no state yet: 1;
    --help for each."""
    unknown = cli("ack", "ffffffff", *state)
    assert unknown.code == 1
    assert "no alert to acknowledge" in unknown.err
    assert cli("ack", *state).code == 2
    assert cli("ack", "ab", "--deadline", "tax", *state).code == 2
    assert cli("ack", "--deadline", "nope", *state).code == 1
    assert cli("ack", "abc", "--state-dir", str(tmp_path / "none")).code == 1
    assert cli("acks", "--json", "--state-dir", str(tmp_path / "none")).out.strip() == "[]"
    for command in ("ack", "acks"):
        shown = cli(command, "--help")
        assert (shown.code == 0 and "Exit" in shown.out) or "Reads the state" in shown.out


def test_an_ambiguous_prefix_is_a_usage_error(cli: CLI, tmp_path: Path) -> None:
    """Two ids sharing the prefix: exit 2, both listed, nothing acknowledged."""
    keys: dict[str, str] = {}
    i = 0
    while True:  # two keys whose ids share a first digit
        key = f"match:wire:{i}"
        first = short_id(key)[0]
        if first in keys:
            break
        keys[first] = key
        i += 1
    pair = [keys[first], key]
    with Store.open(tmp_path / "state") as store, store.transaction():
        store.outbox.enqueue([_alert(k) for k in pair], datetime.now(UTC))
    state = ("--state-dir", str(tmp_path / "state"))
    done = cli("ack", first, *state)
    assert done.code == 2
    assert "matches several alerts" in done.err
    assert all(not r["acknowledged"] for r in _acks(cli, state))
