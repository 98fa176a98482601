"""The sender over a real SQLite outbox, with a fake sink and a hand-moved clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from notifier.delivery.stages import route_matches
from notifier.model import (
    BodyFormat,
    Channel,
    Config,
    DeliveryPolicy,
    Entry,
    Feed,
    Hit,
    Match,
    NewAlert,
    RateLimit,
    TimeWindow,
    Watch,
)
from notifier.pipeline.sender import Sender, SendOutcome, TickReport
from notifier.storage.sqlite import Store

NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 6, 10, 16, 0, tzinfo=UTC)  # 12:00 in New York
MAIL = "mailto://127.0.0.1:1025?from=a@example.com&to=b@example.com"
HOOK = "json://127.0.0.1:9/hook"
CHAT = "json://127.0.0.1:9/chat"


@dataclass
class FakeSink:
    """Records sends; URLs in ``failing`` fail with a reason."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    types: list[str] = field(default_factory=list)
    formats: list[tuple[str, str]] = field(default_factory=list)

    async def send(
        self, url: str, title: str, body: str, fmt: BodyFormat, *, notify_type: str = "info"
    ) -> SendOutcome:
        if url in self.failing:
            return SendOutcome(False, "failure: HTTP 503")
        self.sent.append((url, title, body))
        self.types.append(notify_type)
        self.formats.append((url, fmt))
        return SendOutcome(True)

    def titles(self, url: str) -> list[str]:
        return [t for u, t, _ in self.sent if u == url]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_config(**channels: Channel) -> Config:
    return Config(
        timezone=NY,
        default_channels=("email",),
        delivery=DeliveryPolicy(
            max_age=timedelta(hours=1),
            min_retry=timedelta(seconds=10),
            max_retry=timedelta(minutes=5),
        ),
        channels=channels
        or {
            "email": Channel("email", (MAIL,), "text", None, None),
            "chat": Channel("chat", (HOOK, CHAT), "markdown", None, None),
        },
    )


def new(i: int, channel: str, **kw: object) -> NewAlert:
    return NewAlert(
        key=f"match:news:k{i}:w",
        channel=channel,
        kind="match",
        severity=kw.pop("severity", "normal"),  # type: ignore[arg-type]
        context={
            "kind": "match",
            "title": f"Story {i}",
            "feed": "news",
            "watch": "w",
            "severity": "normal",
            "link": f"https://news.example.com/{i}",
            "hits": [],
        },
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path) as s:
        yield s


def enqueue(store: Store, alerts: list[NewAlert], now: datetime = T0) -> int:
    with store.transaction():
        return store.outbox.enqueue(alerts, now)


async def test_queueing_the_same_alert_twice_keeps_one(store: Store) -> None:
    """The idempotency key (alert + channel) makes a second enqueue a no-op."""
    assert enqueue(store, [new(1, "email"), new(1, "chat")]) == 2
    assert enqueue(store, [new(1, "email")]) == 0


async def test_every_url_gets_each_message_once(store: Store) -> None:
    """A message goes to each URL of its channel; a second tick sends nothing more."""
    sink = FakeSink()
    enqueue(store, [new(1, "email"), new(1, "chat")])
    sender = Sender(store, make_config(), sink, clock=Clock(T0), rand=lambda: 0.5)
    report = await sender.tick()
    assert report.sent == 2
    assert sorted(u for u, _, _ in sink.sent) == sorted([MAIL, HOOK, CHAT])
    await sender.tick()
    assert len(sink.sent) == 3


async def test_failed_url_is_retried_alone_and_delivered_once(store: Store) -> None:
    """One URL of a channel fails: only it is retried (after the backoff), then succeeds."""
    sink = FakeSink(failing={CHAT})
    clock = Clock(T0)
    enqueue(store, [new(1, "chat")])
    sender = Sender(store, make_config(), sink, clock=clock, rand=lambda: 0.0)
    first = await sender.tick()
    assert (first.sent, first.failed) == (0, 1)
    assert sink.titles(HOOK) == ["Story 1"]
    await sender.tick()  # not due yet: nothing tried
    assert len(sink.sent) == 1
    sink.failing.clear()
    clock.now += timedelta(seconds=10)
    second = await sender.tick()
    assert second.sent == 1
    assert sink.titles(HOOK) == ["Story 1"]
    assert sink.titles(CHAT) == ["Story 1"]


async def test_a_failing_channel_does_not_block_another(store: Store) -> None:
    """The chat receiver is down; e-mail keeps delivering meanwhile."""
    sink = FakeSink(failing={HOOK, CHAT})
    clock = Clock(T0)
    sender = Sender(store, make_config(), sink, clock=clock, rand=lambda: 0.0)
    for i in range(3):
        enqueue(store, [new(i, "email"), new(i, "chat")], clock.now)
        await sender.tick()
        clock.now += timedelta(seconds=30)
    assert sink.titles(MAIL) == ["Story 0", "Story 1", "Story 2"]
    sink.failing.clear()
    clock.now += timedelta(minutes=10)
    await sender.tick()
    assert sorted(sink.titles(HOOK)) == ["Story 0", "Story 1", "Story 2"]
    assert sink.titles(MAIL) == ["Story 0", "Story 1", "Story 2"]


async def test_too_old_message_is_dead_lettered_and_reported_once(store: Store) -> None:
    """Past max_age a message is dead; one notice goes to the default channel."""
    sink = FakeSink(failing={HOOK})
    clock = Clock(T0)
    config = make_config(
        email=Channel("email", (MAIL,), "text", None, None),
        chat=Channel("chat", (HOOK,), "text", None, None),
    )
    enqueue(store, [new(1, "chat")])
    sender = Sender(store, config, sink, clock=clock, rand=lambda: 0.0)
    await sender.tick()
    clock.now += timedelta(hours=1, seconds=1)
    report = await sender.tick()
    assert report.dead == 1
    await sender.tick()
    await sender.tick()
    notices = sink.titles(MAIL)
    assert len(notices) == 1
    assert "Story 1" in notices[0]
    (chat,) = [c for c in store.outbox.status() if c.channel == "chat"]
    assert chat.dead == 1


async def test_restart_resumes_pending_and_never_resends(store: Store, tmp_path: Path) -> None:
    """A new sender on the same file (a restart) sends what is pending, nothing twice."""
    sink = FakeSink(failing={HOOK})
    clock = Clock(T0)
    config = make_config()
    enqueue(store, [new(1, "email"), new(1, "chat"), new(2, "email")])
    await Sender(store, config, sink, clock=clock, rand=lambda: 0.0).tick()
    store.close()
    sink.failing.clear()
    clock.now += timedelta(minutes=1)
    with Store.open(tmp_path) as again:
        await Sender(again, config, sink, clock=clock, rand=lambda: 0.0).tick()
    assert sorted(sink.titles(MAIL)) == ["Story 1", "Story 2"]
    assert sink.titles(HOOK) == ["Story 1"]
    assert sink.titles(CHAT) == ["Story 1"]


async def test_quiet_hours_defer_into_one_digest_at_the_end(store: Store) -> None:
    """Alerts at night wait; at 07:00 they arrive as one digest. A critical one goes at once."""
    quiet = TimeWindow(time(22), time(7))
    config = make_config(email=Channel("email", (MAIL,), "text", quiet, None))
    sink = FakeSink()
    night = datetime(2025, 6, 11, 3, 0, tzinfo=UTC)  # 23:00 EDT
    clock = Clock(night)
    sender = Sender(store, config, sink, clock=clock, rand=lambda: 0.5)
    enqueue(store, [new(1, "email"), new(2, "email"), new(3, "email", severity="critical")], night)
    await sender.tick()
    assert sink.titles(MAIL) == ["[critical] Story 3"] or [
        t for t in sink.titles(MAIL) if "Story 3" in t
    ] == sink.titles(MAIL)
    assert len(sink.sent) == 1
    clock.now = datetime(2025, 6, 11, 10, 59, tzinfo=UTC)  # 06:59 EDT
    await sender.tick()
    assert len(sink.sent) == 1
    clock.now = datetime(2025, 6, 11, 11, 0, tzinfo=UTC)  # 07:00 EDT
    await sender.tick()
    assert len(sink.sent) == 2
    _, title, body = sink.sent[1]
    assert "Story 1" in body
    assert "Story 2" in body
    assert "2" in title


async def test_rate_limit_defers_into_a_digest_when_a_slot_frees(store: Store) -> None:
    """1 per hour: the first alert goes; the next ones wait and go as one digest an hour later."""
    config = make_config(
        email=Channel("email", (MAIL,), "text", None, RateLimit(1, timedelta(hours=1)))
    )
    sink = FakeSink()
    clock = Clock(T0)
    sender = Sender(store, config, sink, clock=clock, rand=lambda: 0.5)
    enqueue(store, [new(1, "email")])
    await sender.tick()
    enqueue(store, [new(2, "email"), new(3, "email")], T0 + timedelta(minutes=5))
    clock.now = T0 + timedelta(minutes=5)
    await sender.tick()
    assert sink.titles(MAIL) == ["Story 1"]
    clock.now = T0 + timedelta(hours=1, seconds=1)
    await sender.tick()
    assert len(sink.sent) == 2
    _, _, body = sink.sent[1]
    assert "Story 2" in body
    assert "Story 3" in body


async def test_digest_watch_sends_one_message_per_window(store: Store) -> None:
    """Matches of a watch with ``digest: 1h`` wait for the end of the hour, then go as one."""
    watch = Watch(
        "tariffs",
        ("tariff",),
        (),
        (),
        ("news",),
        ("title",),
        "normal",
        ("email",),
        timedelta(hours=1),
    )
    config = make_config(email=Channel("email", (MAIL,), "text", None, None))
    config = Config(
        timezone=config.timezone,
        default_channels=config.default_channels,
        delivery=config.delivery,
        channels=config.channels,
        feeds=(Feed("news", "https://news.example.com/rss", None, timedelta(minutes=5)),),
        watches=(watch,),
    )
    sink = FakeSink()
    clock = Clock(T0 + timedelta(minutes=10))
    sender = Sender(store, config, sink, clock=clock, rand=lambda: 0.5)
    for i in range(3):
        entry = Entry(feed="news", key=f"k{i}", title=f"Tariff story {i}")
        match = Match("tariffs", entry, (Hit("tariff", "title", entry.title),))
        enqueue(store, route_matches([match], config, clock.now), clock.now)
        await sender.tick()
        clock.now += timedelta(minutes=10)
    assert sink.sent == []
    clock.now = T0 + timedelta(hours=1)
    await sender.tick()
    (only,) = sink.sent
    assert "3 new matches" in only[1]
    assert all(f"Tariff story {i}" in only[2] for i in range(3))


def with_channels(config: Config, **channels: Channel) -> Config:
    return Config(
        timezone=config.timezone,
        default_channels=config.default_channels,
        delivery=config.delivery,
        channels=channels,
        feeds=config.feeds,
        watches=config.watches,
    )


async def test_rotated_url_gets_the_pending_messages_and_the_old_one_is_not_sent(
    store: Store,
) -> None:
    """Five messages are pending for a URL that fails; the channel's URL is rotated: the
    new URL receives all five, and the old URL's deliveries are superseded, never
    counted as sent."""
    old, rotated = "json://127.0.0.1:9/old-token", "json://127.0.0.1:9/new-token"
    sink = FakeSink(failing={old})
    clock = Clock(T0)
    config = make_config(
        email=Channel("email", (MAIL,), "text", None, None),
        chat=Channel("chat", (old,), "text", None, None),
    )
    sender = Sender(store, config, sink, clock=clock, rand=lambda: 0.0)
    enqueue(store, [new(i, "chat") for i in range(5)])
    report = await sender.tick()
    assert report.failed == 5
    (chat,) = [c for c in store.outbox.status() if c.channel == "chat"]
    assert (chat.retrying, chat.sent) == (5, 0)

    sender.update(
        with_channels(config, **{**config.channels, "chat": replace_urls(config, rotated)})
    )
    clock.now += timedelta(minutes=1)
    report = await sender.tick()
    assert report.sent == 5
    assert sorted(sink.titles(rotated)) == [f"Story {i}" for i in range(5)]
    assert sink.titles(old) == []
    (chat,) = [c for c in store.outbox.status() if c.channel == "chat"]
    assert (chat.pending, chat.retrying, chat.sent) == (0, 0, 5)
    statuses = {
        (url, status) for url, status in store.db.execute("SELECT url_hash, status FROM deliveries")
    }
    assert {s for _, s in statuses} == {"sent", "superseded"}


def replace_urls(config: Config, *urls: str) -> Channel:
    chat = config.channels["chat"]
    return Channel(chat.name, urls, chat.format, chat.quiet_hours, chat.rate_limit)


async def test_a_removed_channel_s_alerts_go_to_the_default_channel_marked(store: Store) -> None:
    """Alerts pending for a channel that left the config go to the default channel, with a
    note saying where they were meant to go; status counts them as rerouted, not sent."""
    sink = FakeSink(failing={HOOK, CHAT})
    clock = Clock(T0)
    config = make_config()
    sender = Sender(store, config, sink, clock=clock, rand=lambda: 0.0)
    enqueue(store, [new(1, "chat"), new(2, "chat")])
    await sender.tick()  # composed, failing
    enqueue(store, [new(3, "chat")])  # queued, not composed yet
    sender.update(with_channels(config, email=config.channels["email"]))
    assert sender.reroute_removed() == 3
    clock.now += timedelta(seconds=1)
    await sender.tick()
    titles = sink.titles(MAIL)
    assert sorted(titles) == ["Story 1", "Story 2", "Story 3"]
    bodies = [b for u, _, b in sink.sent if u == MAIL]
    assert all("chat" in b for b in bodies), bodies
    by_channel = {c.channel: c for c in store.outbox.status()}
    assert by_channel["chat"].rerouted == 3
    assert by_channel["chat"].sent == 0
    assert by_channel["email"].sent == 3
    assert sender.reroute_removed() == 0  # nothing is moved twice


class StallingSink(FakeSink):
    """A fake service that answers only when the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.started = 0

    async def send(
        self, url: str, title: str, body: str, fmt: BodyFormat, *, notify_type: str = "info"
    ) -> SendOutcome:
        self.started += 1
        await self.release.wait()
        return await super().send(url, title, body, fmt, notify_type=notify_type)


async def test_a_send_past_its_deadline_fails_then_its_late_success_is_kept(store: Store) -> None:
    """A send that passes the channel's deadline counts as a failed attempt; the channel
    starts no other send meanwhile; when the late send succeeds it is recorded, so the
    retry never sends the message twice."""
    sink = StallingSink()
    clock = Clock(T0)
    slow = Channel("email", (MAIL,), "text", None, None, timedelta(seconds=0.2))
    sender = Sender(store, make_config(email=slow), sink, clock=clock, rand=lambda: 0.0)
    enqueue(store, [new(1, "email"), new(2, "email")])
    report = await sender.tick()
    assert report.failed == 1
    assert "no answer within 0.2 s" in report.errors["email"]
    assert set(sender.stuck()) == {"email"}
    clock.now += timedelta(minutes=5)
    await sender.tick()
    assert sink.started == 1  # stuck: nothing else started on that channel
    sink.release.set()
    await asyncio.sleep(0.05)
    clock.now += timedelta(minutes=5)
    await sender.tick()
    assert sender.stuck() == {}
    assert sorted(sink.titles(MAIL)) == ["Story 1", "Story 2"]  # each once
    (email,) = store.outbox.status()
    assert (email.sent, email.pending, email.retrying) == (2, 0, 0)


async def test_severity_sets_apprise_notify_type(store: Store) -> None:
    """low/normal → info, high → warning, critical → failure (the colour chat shows)."""
    sink = FakeSink()
    enqueue(
        store,
        [
            new(1, "email", severity="normal"),
            new(2, "email", severity="high"),
            new(3, "email", severity="critical"),
            new(4, "email", severity="low"),
        ],
    )
    await Sender(store, make_config(), sink, clock=Clock(T0), rand=lambda: 0.5).tick()
    assert sink.types == ["info", "warning", "failure", "info"]


async def test_each_url_gets_the_format_its_service_renders(store: Store) -> None:
    """A channel with ``auto`` sends e-mail as HTML and ntfy as plain text; an explicit
    ``markdown`` is kept where the service renders it (json) and not for ntfy."""
    ntfy = "ntfy://127.0.0.1:9/alerts"
    sink = FakeSink()
    config = make_config(
        email=Channel("email", (MAIL, ntfy), "auto", None, None),
        chat=Channel("chat", (HOOK, ntfy), "markdown", None, None),
    )
    enqueue(store, [new(1, "email"), new(1, "chat")])
    await Sender(store, config, sink, clock=Clock(T0), rand=lambda: 0.5).tick()
    assert sorted(sink.formats) == sorted(
        [(MAIL, "html"), (ntfy, "text"), (HOOK, "markdown"), (ntfy, "text")]
    )


async def test_a_flood_from_one_poll_folds_past_the_cap_into_one_digest(store: Store) -> None:
    """30 new matching entries from one poll with ``max_alerts: 20``: 20 messages one by
    one and one digest listing the other 10 — none dropped."""
    watch = Watch("w", ("story",), (), (), ("news",), ("title",), "normal", ("email",), None)
    config = Config(
        timezone=NY,
        default_channels=("email",),
        channels={"email": Channel("email", (MAIL,), "text", None, None)},
        feeds=(Feed("news", "https://news.example.com/rss", None, timedelta(minutes=5)),),
        watches=(watch,),
    )
    matches = []
    for i in range(30):
        entry = Entry(feed="news", key=f"k{i}", title=f"Story {i}")
        matches.append(Match("w", entry, (Hit("story", "title", entry.title),)))
    enqueue(store, route_matches(matches, config, T0))
    sink = FakeSink()
    await Sender(store, config, sink, clock=Clock(T0), rand=lambda: 0.5).tick()
    assert len(sink.sent) == 21
    singles = [t for t in sink.titles(MAIL) if t.startswith("Story")]
    assert singles == [f"Story {i}" for i in range(20)]
    (_, digest_title, digest_body) = sink.sent[-1]
    assert "10" in digest_title
    assert all(f"Story {i}" in digest_body for i in range(20, 30))


async def test_a_backlog_is_composed_in_batches(store: Store) -> None:
    """A backlog of 250 alerts is composed a batch at a time, so one pass never holds the
    event loop for the whole backlog; draining sends every one, once."""
    sink = FakeSink()
    enqueue(store, [new(i, "email") for i in range(250)])
    sender = Sender(store, make_config(), sink, clock=Clock(T0), rand=lambda: 0.5)
    first = TickReport()
    assert await sender.run_channel("email", first)  # more is ready
    assert first.composed == 100
    await sender.tick()
    assert len(sink.sent) == 250
    assert len(set(sink.titles(MAIL))) == 250


async def test_an_alert_held_by_quiet_hours_does_not_keep_the_channel_awake(
    store: Store,
) -> None:
    """A held alert is past its release time but waits for the quiet hours to end: the
    channel's next wake is not "now" (which would spin the channel task), while a
    message waiting for a retry or a digest window still sets it."""
    quiet = TimeWindow(time(22), time(7))
    config = make_config(email=Channel("email", (MAIL,), "text", quiet, None))
    night = datetime(2025, 6, 11, 3, 0, tzinfo=UTC)  # 23:00 EDT
    clock = Clock(night)
    sender = Sender(store, config, FakeSink(), clock=clock, rand=lambda: 0.5)
    enqueue(store, [new(1, "email")], night)
    report = await sender.tick()
    assert report.held == 1
    assert sender.next_wake("email") is None
    window = night + timedelta(minutes=30)
    enqueue(store, [new(2, "email", group="watch w", not_before=window)], night)
    assert sender.next_wake("email") == window
