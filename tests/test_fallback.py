"""Fallback channels (issue 16 §3): the config, the pure decision, the outbox's
``failing_since`` and ``fallback_copy``, and the sender with a fake sink."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.cli.report import status_lines
from notifier.config.loader import loads
from notifier.delivery.stages import FallbackReason, fallback, fallback_note
from notifier.errors import ConfigError
from notifier.model import Channel, ChannelStatus, Config, DeliveryPolicy
from notifier.pipeline.sender import Sender, TickReport
from notifier.storage.sqlite import Store
from tests.test_sender import NY, Clock, FakeSink, enqueue, new

T0 = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)
PRIMARY = "json://127.0.0.1:9/primary"
BACKUP = "json://127.0.0.1:9/backup"


def chan(name: str, url: str, **kw: object) -> Channel:
    return Channel(name, (url,), "text", None, None, **kw)  # type: ignore[arg-type]


def make_config(after: timedelta = timedelta(minutes=10)) -> Config:
    return Config(
        timezone=NY,
        default_channels=("chat",),
        delivery=DeliveryPolicy(
            max_age=timedelta(hours=2),
            min_retry=timedelta(seconds=10),
            max_retry=timedelta(minutes=1),
        ),
        channels={
            "chat": chan("chat", PRIMARY, fallback=("email",), fallback_after=after),
            "email": chan("email", BACKUP),
        },
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path) as s:
        yield s


# --------------------------------------------------------------------------- config

CONFIG = """
channels:
  chat:
    urls: [json://127.0.0.1:9/a]
    fallback: {fallback}
  email: [json://127.0.0.1:9/b]
  pager:
    urls: [json://127.0.0.1:9/c]
    fallback: {pager}
"""


def test_fallback_is_read_with_its_default_wait() -> None:
    """``fallback`` names channels; ``fallback_after`` defaults to 10 minutes."""
    config = loads(CONFIG.format(fallback="[email]", pager="[]"), "watch.yaml", {})
    assert config.channels["chat"].fallback == ("email",)
    assert config.channels["chat"].fallback_after == timedelta(minutes=10)
    assert config.channels["email"].fallback == ()


@pytest.mark.parametrize(
    ("chat", "pager", "message"),
    [
        ("[nope]", "[]", "watch.yaml:5:16: channels.chat.fallback[0]: unknown channel 'nope'"),
        ("[chat]", "[]", "watch.yaml:5:16: channels.chat.fallback[0]: channel 'chat' cannot"),
        (
            "[pager]",
            "[chat]",
            "watch.yaml:5:16: channels.chat.fallback[0]: fallback cycle: chat → pager → chat",
        ),
    ],
)
def test_a_bad_fallback_is_an_error_at_its_place(chat: str, pager: str, message: str) -> None:
    """A fallback naming a missing channel, the channel itself, or leading back to it
    is a config error with its file:line:col."""
    with pytest.raises(ConfigError) as caught:
        loads(CONFIG.format(fallback=chat, pager=pager), "watch.yaml", {})
    assert message in str(caught.value)


# --------------------------------------------------------------------------- decision


def test_the_decision_waits_fallback_after_then_falls_back() -> None:
    """Failing for less than ``fallback_after``: waiting (with the time it starts);
    from then on: falling back, with a note naming the channel and since when."""
    channel = chan("chat", PRIMARY, fallback=("email",), fallback_after=timedelta(minutes=10))
    since = T0 - timedelta(minutes=9)
    waiting = fallback(channel, since, T0)
    assert waiting.reason is FallbackReason.WAITING
    assert not waiting.active
    assert waiting.starts == T0 + timedelta(minutes=1)
    active = fallback(channel, since, T0 + timedelta(minutes=1))
    assert active.active
    assert active.to == ("email",)
    assert active.note("chat") == {"channel": "chat", "since": since.isoformat()}
    assert fallback(channel, None, T0).reason is FallbackReason.HEALTHY
    assert fallback(chan("x", PRIMARY), since, T0).reason is FallbackReason.NONE


def test_the_note_names_the_channel_and_local_time() -> None:
    """The line a copy carries names the failing channel and since when, local time."""
    note = fallback_note({"via_fallback": {"channel": "chat", "since": T0.isoformat()}}, NY)
    assert note == "Via fallback: channel chat failing since 2025-06-10 12:00 EDT."
    assert fallback_note({"title": "x"}, NY) is None


# --------------------------------------------------------------------------- storage


def _compose(store: Store, channel: str, now: datetime) -> int:
    ids = [a.id for a in store.outbox.queued(channel)]
    with store.transaction():
        return store.outbox.compose(
            channel, kind="match", title="t", body="b", fmt="text", alert_ids=ids,
            url_hashes=["u1"], now=now,
        )  # fmt: skip


def test_failing_since_is_the_first_failure_after_the_last_success(store: Store) -> None:
    """A channel is failing since its oldest retrying message composed after its last
    delivery; a success (even of an older message) ends it."""
    outbox = store.outbox
    assert outbox.failing_since("chat") is None
    enqueue(store, [new(1, "chat")], T0)
    m1 = _compose(store, "chat", T0)
    assert outbox.failing_since("chat") is None  # not tried yet
    with store.transaction():
        outbox.failed(m1, "HTTP 503", T0 + timedelta(minutes=1))
    assert outbox.failing_since("chat") == T0
    enqueue(store, [new(2, "chat")], T0 + timedelta(minutes=5))
    m2 = _compose(store, "chat", T0 + timedelta(minutes=5))
    with store.transaction():
        outbox.failed(m2, "HTTP 503", T0 + timedelta(minutes=6))
    assert outbox.failing_since("chat") == T0  # still the first failure
    assert outbox.delivered(m1, "u1", T0 + timedelta(minutes=7))  # one URL got through
    assert outbox.failing_since("chat") is None
    with store.transaction():
        outbox.finish(m1, T0 + timedelta(minutes=7))
    assert outbox.failing_since("chat") is None  # m2 was composed before that success
    assert outbox.failing_since("email") is None


def test_fallback_copy_keeps_one_alert_per_channel(store: Store) -> None:
    """Pending alerts are copied under their own key, marked; an alert queued for the
    fallback channel directly is not queued again, and a second copy does nothing."""
    enqueue(store, [new(1, "chat"), new(2, "chat"), new(2, "email")], T0)
    note = {"channel": "chat", "since": T0.isoformat()}
    email = chan("email", BACKUP)
    with store.transaction():
        copied, mark = store.outbox.fallback_copy("chat", [email], note, T0)
    assert copied == 1  # k2 is queued for email already
    with store.transaction():
        again, mark2 = store.outbox.fallback_copy("chat", [email], note, T0)
    assert (again, mark2) == (0, mark)
    queued = store.outbox.queued("email")
    assert [a.context.get("via_fallback") for a in queued] == [None, note]
    assert len(store.outbox.queued("chat")) == 2  # the originals stay


def test_fallback_copy_respects_the_fallback_channels_min_severity(store: Store) -> None:
    """A fallback channel with ``min_severity: high`` gets only the high alerts."""
    enqueue(store, [new(1, "chat"), new(2, "chat", severity="high")], T0)
    pager = chan("pager", BACKUP, min_severity="high")
    note = {"channel": "chat", "since": T0.isoformat()}
    with store.transaction():
        copied, _ = store.outbox.fallback_copy("chat", [pager], note, T0)
    assert copied == 1
    assert [a.severity for a in store.outbox.queued("pager")] == ["high"]


# --------------------------------------------------------------------------- sender


async def test_the_sender_falls_back_after_the_wait_and_stops_on_recovery(store: Store) -> None:
    """chat failing for 10 minutes: its pending alert goes to email too, marked, and
    email is woken; a new alert also follows. Once chat recovers it gets its own
    copies, and the next new alert goes to chat alone."""
    clock = Clock(T0)
    sink = FakeSink(failing={PRIMARY})
    sender = Sender(store, make_config(), sink, clock=clock, rand=lambda: 0.0)
    enqueue(store, [new(1, "chat")], T0)
    report = TickReport()
    await sender.run_channel("chat", report)
    assert not report.wake
    assert sender.next_wake("chat") is not None
    clock.now = T0 + timedelta(minutes=5)
    await sender.run_channel("chat", report)
    assert sink.sent == []
    assert not report.wake  # failing, not for long enough yet

    clock.now = T0 + timedelta(minutes=10)
    await sender.run_channel("chat", report)
    assert report.wake == {"email"}
    assert sender.falling_back() == {"chat": ("email",)}
    await sender.run_channel("email", TickReport())
    assert sink.titles(BACKUP) == ["Story 1"]
    assert "Via fallback: channel chat failing since 2025-06-10 12:00 EDT." in sink.sent[0][2]

    enqueue(store, [new(2, "chat")], clock.now)
    await sender.run_channel("chat", TickReport())
    await sender.run_channel("email", TickReport())
    assert sink.titles(BACKUP) == ["Story 1", "Story 2"]

    sink.failing.clear()
    clock.now = T0 + timedelta(hours=1)
    await sender.run_channel("chat", TickReport())
    assert sorted(sink.titles(PRIMARY)) == ["Story 1", "Story 2"]
    assert sender.falling_back() == {}
    enqueue(store, [new(3, "chat")], clock.now)
    report = TickReport()
    await sender.run_channel("chat", report)
    await sender.run_channel("email", TickReport())
    assert not report.wake
    assert sink.titles(PRIMARY)[-1] == "Story 3"
    assert sink.titles(BACKUP) == ["Story 1", "Story 2"]


async def test_a_restart_keeps_the_time_the_failures_began(store: Store) -> None:
    """A new sender (a restart) reads "failing since" from the outbox: the wait is
    not reset."""
    clock = Clock(T0)
    sink = FakeSink(failing={PRIMARY})
    enqueue(store, [new(1, "chat")], T0)
    await Sender(store, make_config(), sink, clock=clock).run_channel("chat", TickReport())
    clock.now = T0 + timedelta(minutes=10)
    report = TickReport()
    await Sender(store, make_config(), sink, clock=clock).run_channel("chat", report)
    assert report.wake == {"email"}


def test_status_says_which_channel_falls_back_and_since_when() -> None:
    """``notifier status``: a failing channel shows since when, and once its fallback
    started, "falling back to …"; a channel without one shows only the failure."""
    channel = chan("chat", PRIMARY, fallback=("email",), fallback_after=timedelta(minutes=10))
    since = T0 - timedelta(minutes=30)
    rows = [ChannelStatus("chat", retrying=1, failing_since=since)]
    lines = status_lines([], rows, T0, fallbacks={"chat": fallback(channel, since, T0)})
    assert "  chat: falling back to email since 20m ago (every URL failing since 30m ago)" in lines
    plain = status_lines([], rows, T0)
    assert "  chat: every URL failing since 30m ago" in plain


async def test_the_outbox_status_carries_failing_since(store: Store) -> None:
    """The outbox's status gives a retrying channel's ``failing_since``."""
    sink = FakeSink(failing={PRIMARY})
    enqueue(store, [new(1, "chat")], T0)
    await Sender(store, make_config(), sink, clock=Clock(T0)).run_channel("chat", TickReport())
    [chat] = store.outbox.status()
    assert chat.failing_since == T0


async def test_the_web_overview_shows_the_fallback(store: Store) -> None:
    """The web outbox gives a failing channel's ``failing_since`` and, once its fallback
    started, the channels it falls back to."""
    from notifier.web.views import outbox  # noqa: PLC0415 - only this test needs the web

    sink = FakeSink(failing={PRIMARY})
    enqueue(store, [new(1, "chat")], T0)
    config = make_config()
    await Sender(store, config, sink, clock=Clock(T0)).run_channel("chat", TickReport())
    rows = {c["name"]: c for c in outbox(config, store, T0 + timedelta(minutes=1))["channels"]}
    assert (rows["chat"]["failing_since"], rows["chat"]["falling_back_to"]) == (T0, [])
    rows = {c["name"]: c for c in outbox(config, store, T0 + timedelta(minutes=10))["channels"]}
    assert rows["chat"]["falling_back_to"] == ["email"]
    assert rows["email"]["falling_back_to"] == []
