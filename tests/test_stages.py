"""The delivery stages, pure: route → window → mute → group → limit → after_send."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from notifier.delivery.stages import (
    Origin,
    Outcome,
    admitted,
    after_send,
    decide,
    digest_window_end,
    filtered_entries,
    group,
    limit,
    mute,
    muted_by,
    next_time_of_day,
    origin,
    route_health,
    route_matches,
    route_proposals,
    window,
)
from notifier.model import (
    Channel,
    Config,
    DailyDigest,
    DeliveryPolicy,
    Entry,
    Feed,
    Held,
    Hit,
    Match,
    Mute,
    Proposal,
    QueuedAlert,
    RateLimit,
    Severity,
    TimeWindow,
    Watch,
)
from notifier.sources.health import HealthEvent, HealthEventKind

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
T0 = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York


def channel(quiet: str | None = None, rate: tuple[int, timedelta] | None = None) -> Channel:
    window = None
    if quiet:
        start, end = quiet.split("-")
        window = TimeWindow(time.fromisoformat(start), time.fromisoformat(end))
    return Channel(
        name="chat",
        urls=("json://127.0.0.1:9/x",),
        format="text",
        quiet_hours=window,
        rate_limit=RateLimit(*rate) if rate else None,
    )


def alert(
    i: int,
    *,
    severity: Severity = "normal",
    created: datetime = T0,
    not_before: datetime | None = None,
    group: str | None = None,
    held: str | None = None,
) -> QueuedAlert:
    return QueuedAlert(
        id=i,
        channel="chat",
        kind="match",
        severity=severity,
        context={"kind": "match", "title": f"t{i}"},
        group=group,
        created=created,
        not_before=not_before or created,
        held=held,
    )


def ids(units: tuple[object, ...]) -> list[list[int]]:
    return [[a.id for a in u.alerts] for u in units]  # type: ignore[attr-defined]


class TestDigestWindow:
    def test_hourly_windows_end_on_the_hour(self) -> None:
        """A 1h window opened at 12:20 ends at 13:00."""
        created = datetime(2025, 6, 10, 12, 20, tzinfo=UTC)
        assert digest_window_end(created, timedelta(hours=1), NY) == datetime(
            2025, 6, 10, 13, 0, tzinfo=UTC
        )

    def test_daily_windows_end_at_local_midnight(self) -> None:
        """A 1d window ends at the next midnight in the config's zone, not UTC's."""
        created = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
        end = digest_window_end(created, timedelta(days=1), NY)
        assert end.astimezone(NY).replace(tzinfo=None) == datetime(2025, 6, 11, 0, 0)

    def test_a_window_in_the_repeated_hour_ends_after_it_starts(self) -> None:
        """At 01:00 EST on the day New York falls back (the second 01:00), a 15-minute
        window ends at 01:15 EST — not 01:15 EDT, an hour before it began — and a 1d
        window at the next local midnight (found by Hypothesis)."""
        created = datetime(2024, 11, 3, 6, 0, tzinfo=UTC)
        assert digest_window_end(created, timedelta(minutes=15), NY) == datetime(
            2024, 11, 3, 6, 15, tzinfo=UTC
        )
        assert digest_window_end(created, timedelta(days=1), NY) == datetime(
            2024, 11, 4, 5, 0, tzinfo=UTC
        )

    def test_window_end_is_always_later(self) -> None:
        """Exactly on a boundary, the window is the next one (never zero-length)."""
        on_the_hour = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
        assert digest_window_end(on_the_hour, timedelta(hours=1), LONDON) > on_the_hour

    @given(
        st.datetimes(
            min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
        ),
        st.sampled_from([timedelta(minutes=15), timedelta(hours=1), timedelta(days=1)]),
    )
    def test_window_end_within_one_window(self, created: datetime, window: timedelta) -> None:
        """The end is after ``created`` and at most one window (+1h for DST) later."""
        end = digest_window_end(created, window, NY)
        assert created < end <= created + window + timedelta(hours=1)


def _at(*hhmm: str) -> DailyDigest:
    return DailyDigest(tuple(time.fromisoformat(t) for t in hhmm))


def _local(end: datetime) -> datetime:
    return end.astimezone(NY).replace(tzinfo=None)


class TestDailyDigest:
    """``digest: daily@08:00``: the window ends at the next 08:00 local time."""

    def test_an_alert_before_8_goes_at_8_the_same_day(self) -> None:
        created = datetime(2025, 6, 10, 10, 0, tzinfo=UTC)  # 06:00 EDT
        assert digest_window_end(created, _at("08:00"), NY) == datetime(
            2025, 6, 10, 12, 0, tzinfo=UTC
        )

    def test_an_alert_at_or_after_8_goes_at_8_the_next_day(self) -> None:
        for created in (T0, T0 + timedelta(hours=1)):  # 08:00 and 09:00 EDT
            end = digest_window_end(created, _at("08:00"), NY)
            assert _local(end) == datetime(2025, 6, 11, 8, 0)

    def test_a_time_skipped_by_spring_forward_falls_on_the_first_valid_time_after(self) -> None:
        """New York skips 02:00-03:00 on 9 March 2025: daily@02:30 goes at 03:00 EDT."""
        created = datetime(2025, 3, 9, 4, 0, tzinfo=UTC)  # 23:00 EST on the 8th
        end = digest_window_end(created, _at("02:30"), NY)
        assert end == datetime(2025, 3, 9, 7, 0, tzinfo=UTC)  # 03:00 EDT
        assert next_time_of_day(end, (time(2, 30),), NY) == datetime(
            2025, 3, 10, 6, 30, tzinfo=UTC
        )  # 02:30 EDT the next day
        assert _local(digest_window_end(created, _at("08:00"), NY)) == datetime(2025, 3, 9, 8, 0)

    def test_a_time_repeated_by_fall_back_counts_once_at_its_first_occurrence(self) -> None:
        """New York repeats 01:00-02:00 on 2 November 2025: daily@01:30 goes at 01:30 EDT,
        and an alert between the two 01:30s waits for the next day's, not 01:30 EST."""
        before = datetime(2025, 11, 2, 4, 0, tzinfo=UTC)  # 00:00 EDT
        assert digest_window_end(before, _at("01:30"), NY) == datetime(
            2025, 11, 2, 5, 30, tzinfo=UTC
        )
        between = datetime(2025, 11, 2, 5, 45, tzinfo=UTC)  # 01:45 EDT, first pass
        assert digest_window_end(between, _at("01:30"), NY) == datetime(
            2025, 11, 3, 6, 30, tzinfo=UTC
        )
        evening = datetime(2025, 11, 1, 22, 0, tzinfo=UTC)  # 18:00 EDT on the 1st
        assert _local(digest_window_end(evening, _at("08:00"), NY)) == datetime(2025, 11, 2, 8, 0)

    def test_several_times_a_day_take_the_next_one(self) -> None:
        policy = _at("17:00", "08:00")
        assert _local(digest_window_end(T0 - timedelta(hours=1), policy, NY)) == datetime(
            2025, 6, 10, 8, 0
        )
        assert _local(digest_window_end(T0, policy, NY)) == datetime(2025, 6, 10, 17, 0)
        assert _local(digest_window_end(T0 + timedelta(hours=10), policy, NY)) == datetime(
            2025, 6, 11, 8, 0
        )

    def test_the_policy_reads_naturally(self) -> None:
        assert _at("08:00").describe() == "daily at 08:00"
        assert _at("08:00", "12:30", "17:00").describe() == "daily at 08:00, 12:30 and 17:00"
        assert str(_at("08:00", "17:00")) == "daily@08:00,17:00"

    @given(
        st.datetimes(
            min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
        ),
        st.sampled_from(["00:00", "01:30", "02:30", "08:00", "23:59"]),
    )
    def test_the_end_is_within_a_day_and_on_the_clock(self, created: datetime, at: str) -> None:
        """After ``created``, at most a day (+1h for DST) later, at the time asked for
        (or, on a spring-forward night, at the end of the skipped hour)."""
        end = digest_window_end(created, _at(at), NY)
        assert created < end <= created + timedelta(days=1, hours=1)
        wall = end.astimezone(NY)
        assert f"{wall:%H:%M}" == at or (wall.dst() and f"{wall:%H:%M}" == "03:00")


class TestDecide:
    def test_plain_alerts_go_one_by_one_in_order(self) -> None:
        """With no holds every alert is its own message, oldest first."""
        result = decide([alert(2), alert(1)], channel(), T0, NY, 0)
        assert ids(result.units) == [[1], [2]]
        assert result.hold == {}

    def test_digest_group_waits_for_its_window(self) -> None:
        """Alerts of a digest watch wait until the window ends, then go as one digest."""
        later = T0 + timedelta(minutes=40)
        queued = [alert(i, group="watch tariffs", not_before=later) for i in (1, 2, 3)]
        waiting = decide(queued, channel(), T0, NY, 0)
        assert waiting.units == ()
        assert set(waiting.hold.values()) == {Held.DIGEST}
        released = decide(queued, channel(), later, NY, 0)
        assert ids(released.units) == [[1, 2, 3]]
        assert released.units[0].reason == "digest of watch tariffs"

    def test_quiet_hours_hold_all_but_critical(self) -> None:
        """At 23:00 in New York a normal alert waits; a critical one goes."""
        night = datetime(2025, 6, 11, 3, 0, tzinfo=UTC)  # 23:00 EDT
        result = decide(
            [alert(1, created=night), alert(2, severity="critical", created=night)],
            channel(quiet="22:00-07:00"),
            night,
            NY,
            0,
        )
        assert ids(result.units) == [[2]]
        assert result.hold == {1: Held.QUIET}

    def test_held_alerts_go_as_one_digest_when_quiet_hours_end(self) -> None:
        """At 07:00 the alerts held overnight go as one message, with the reason."""
        morning = datetime(2025, 6, 11, 11, 0, tzinfo=UTC)  # 07:00 EDT
        held = [alert(i, held=str(Held.QUIET)) for i in (1, 2, 3)]
        result = decide(
            [*held, alert(4, created=morning)], channel(quiet="22:00-07:00"), morning, NY, 0
        )
        assert ids(result.units) == [[1, 2, 3], [4]]
        assert result.units[0].reason == "held: quiet hours"

    def test_rate_limit_folds_the_overflow_into_the_last_slot(self) -> None:
        """3 per hour with 1 already sent: one alert alone, the rest in one digest."""
        queued = [alert(i) for i in range(1, 6)]
        result = decide(queued, channel(rate=(3, timedelta(hours=1))), T0, NY, 1)
        assert ids(result.units) == [[1], [2, 3, 4, 5]]
        assert result.units[1].reason == "held: rate limit 3/1h"

    def test_rate_limit_exhausted_holds_everything(self) -> None:
        """No slot left: every alert is held until the window moves on."""
        result = decide([alert(1), alert(2)], channel(rate=(2, timedelta(hours=1))), T0, NY, 2)
        assert result.units == ()
        assert result.hold == {1: Held.RATE, 2: Held.RATE}

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["low", "normal", "critical"]),
                st.integers(min_value=0, max_value=120),
                st.sampled_from([None, "g1", "g2"]),
                st.booleans(),
            ),
            max_size=20,
        ),
        st.integers(min_value=0, max_value=23),
        st.integers(min_value=1, max_value=5),
        st.integers(min_value=0, max_value=6),
    )
    def test_nothing_is_ever_dropped(
        self,
        specs: list[tuple[Severity, int, str | None, bool]],
        hour: int,
        limit: int,
        recent: int,
    ) -> None:
        """Every alert is either in exactly one unit or held; never both, never neither."""
        now = datetime(2025, 6, 10, hour, 30, tzinfo=UTC)
        queued = [
            alert(
                i,
                severity=sev,
                created=now - timedelta(minutes=60),
                not_before=now + timedelta(minutes=offset - 60),
                group=group,
                held=str(Held.QUIET) if was_held else None,
            )
            for i, (sev, offset, group, was_held) in enumerate(specs)
        ]
        result = decide(
            queued, channel(quiet="22:00-07:00", rate=(limit, timedelta(hours=1))), now, NY, recent
        )
        sent = [a.id for u in result.units for a in u.alerts]
        assert len(sent) == len(set(sent))
        assert set(sent).isdisjoint(result.hold)
        assert set(sent) | set(result.hold) == {a.id for a in queued}
        assert len(result.units) <= max(limit - recent, 0)


class TestEachStageAlone:
    """Route → window → mute → group → limit → after_send, each a pure function."""

    def test_window_holds_what_waits_for_its_digest_window(self) -> None:
        """Alerts whose window has not ended wait; the rest go, oldest first."""
        later = T0 + timedelta(minutes=5)
        earlier = T0 - timedelta(minutes=5)
        ready, waiting = window(
            [alert(1), alert(2, created=earlier), alert(3, not_before=later)], T0
        )
        assert [a.id for a in ready] == [2, 1]
        assert waiting == [3]
        ready, waiting = window([alert(3, not_before=later)], later)
        assert ([a.id for a in ready], waiting) == ([3], [])

    def test_mute_lets_only_critical_alerts_through_quiet_hours(self) -> None:
        """Inside the window only critical alerts go; outside it, everything does."""
        night = datetime(2025, 6, 11, 3, 0, tzinfo=UTC)  # 23:00 in New York
        alerts = [alert(1), alert(2, severity="critical")]
        going, muted = mute(alerts, channel(quiet="22:00-07:00"), night, NY)
        assert ([a.id for a in going], muted) == ([2], [1])
        going, muted = mute(alerts, channel(quiet="22:00-07:00"), T0, NY)
        assert ([a.id for a in going], muted) == ([1, 2], [])

    def test_group_folds_digest_groups_and_what_was_held(self) -> None:
        """One message per plain alert, one per digest group, one for alerts held before."""
        units = group(
            [
                alert(1),
                alert(2, group="watch w"),
                alert(3, group="watch w"),
                alert(4, held="quiet hours"),
                alert(5, held="rate limit"),
            ]
        )
        assert ids(tuple(units)) == [[1], [2, 3], [4, 5]]
        assert [u.reason for u in units] == [
            None,
            "digest of watch w",
            "held: quiet hours and rate limit",
        ]

    def test_limit_folds_past_the_capacity_and_holds_when_none_is_left(self) -> None:
        """3 per hour with 1 sent: two slots, the last a digest of the rest; none left: held."""
        units = group([alert(i) for i in range(1, 5)])
        limited = channel(rate=(3, timedelta(hours=1)))
        going, held = limit(units, limited, recent=1)
        assert ids(tuple(going)) == [[1], [2, 3, 4]]
        assert held == []
        assert going[-1].reason == "held: rate limit 3/1h"
        going, held = limit(units, limited, recent=3)
        assert (going, held) == ([], [1, 2, 3, 4])
        going, held = limit(units, channel(), recent=99)
        assert (ids(tuple(going)), held) == ([[1], [2], [3], [4]], [])

    def test_after_send_decides_sent_retrying_or_dead(self) -> None:
        """No error: sent. An error: a retry after the backoff. Past max_age: dead."""
        policy = DeliveryPolicy(
            max_age=timedelta(hours=1),
            min_retry=timedelta(seconds=30),
            max_retry=timedelta(minutes=5),
        )
        assert after_send([], 1, T0, T0, policy=policy, rand=0.5).status == "sent"
        retry = after_send(["503"], 3, T0, T0, policy=policy, rand=0.0)
        assert retry == Outcome("retrying", T0 + timedelta(minutes=1))
        dead = after_send(["503"], 9, T0, T0 + timedelta(hours=1), policy=policy, rand=0.5)
        assert dead.status == "dead"


@given(
    failures=st.integers(min_value=0, max_value=10_000),
    low=st.integers(min_value=1, max_value=10**6),
    high=st.integers(min_value=0, max_value=10**7),
    rand=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_one_backoff_for_feeds_and_sends_stays_within_its_bounds(
    failures: int, low: int, high: int, rand: float
) -> None:
    """The shared backoff never waits less than ``low`` nor more than ``max(high, low)``,
    and for feeds it is exactly what feed health uses."""
    from notifier.backoff import backoff  # noqa: PLC0415
    from notifier.model import Feed  # noqa: PLC0415
    from notifier.sources.health import backoff as feed_backoff  # noqa: PLC0415

    lo, hi = timedelta(seconds=low), timedelta(seconds=high)
    delay = backoff(failures, lo, hi, rand)
    assert lo <= delay <= max(lo, hi)
    feed = Feed("f", "https://x.example/f", None, lo, max_backoff=hi)
    assert feed_backoff(failures, feed.interval, feed.max_backoff, rand) == delay


# --------------------------------------------------------------------------- route


def _watch(
    name: str,
    severity: Severity = "normal",
    channels: tuple[str, ...] = ("chat",),
    digest: timedelta | DailyDigest | None = None,
) -> Watch:
    return Watch(name, ("x",), (), (), (), ("title",), severity, channels, digest)


def _config(*watches: Watch, max_alerts: int = 20) -> Config:
    feed = Feed(
        "wire", "https://example.com/feed", "Wire", timedelta(minutes=5), max_alerts=max_alerts
    )
    return Config(
        timezone=NY,
        default_channels=("chat",),
        channels={c: channel() for w in watches for c in w.channels},
        feeds=(feed,),
        watches=watches,
    )


def _entry(key: str = "k1") -> Entry:
    return Entry(feed="wire", key=key, title=f"Tariff news {key}", link="https://example.com/a")


def _hit(term: str) -> tuple[Hit, ...]:
    return (Hit(term, "title", f"…{term}…"),)


def test_an_entry_matched_by_three_watches_is_one_alert_naming_all_three() -> None:
    config = _config(_watch("a", "low"), _watch("b", "high"), _watch("c"))
    e = _entry()
    alerts = route_matches([Match(w, e, _hit(w)) for w in ("c", "a", "b")], config, T0)
    assert len(alerts) == 1
    (only,) = alerts
    assert only.key == "match:wire:k1"
    assert only.severity == "high" == only.context["severity"]
    # In config order, each with its own why.
    assert [w["watch"] for w in only.context["watches"]] == ["a", "b", "c"]
    assert [w["why"] for w in only.context["watches"]] == [
        '"a" in title',
        '"b" in title',
        '"c" in title',
    ]
    assert only.context["watch"] == "a"
    assert only.context["why"] == 'a: "a" in title; b: "b" in title; c: "c" in title'


def test_each_channel_lists_only_the_watches_routed_to_it() -> None:
    config = _config(
        _watch("a", channels=("chat",)),
        _watch("b", "critical", channels=("chat", "mail")),
        _watch("c", channels=("mail",)),
    )
    e = _entry()
    alerts = {
        a.channel: a for a in route_matches([Match(w, e, _hit(w)) for w in "abc"], config, T0)
    }
    assert sorted(alerts) == ["chat", "mail"]
    assert [w["watch"] for w in alerts["chat"].context["watches"]] == ["a", "b"]
    assert [w["watch"] for w in alerts["mail"].context["watches"]] == ["b", "c"]
    # The highest of the matched watches, on every channel.
    assert {a.severity for a in alerts.values()} == {"critical"}


def test_a_single_watch_keeps_the_one_watch_context() -> None:
    config = _config(_watch("a"))
    (only,) = route_matches([Match("a", _entry(), _hit("tariff"))], config, T0)
    assert only.context["why"] == '"tariff" in title'
    assert [w["watch"] for w in only.context["watches"]] == ["a"]


def test_an_immediate_watch_wins_over_a_digest_watch_on_the_same_channel() -> None:
    config = _config(_watch("a", digest=timedelta(hours=1)), _watch("b"))
    e = _entry()
    (both,) = route_matches([Match("a", e, _hit("a")), Match("b", e, _hit("b"))], config, T0)
    assert both.group is None
    assert both.not_before is None
    config = _config(_watch("a", digest=timedelta(hours=6)), _watch("b", digest=timedelta(hours=1)))
    (folded,) = route_matches([Match("a", e, _hit("a")), Match("b", e, _hit("b"))], config, T0)
    assert folded.group == "watch b"  # the window that ends first
    assert folded.not_before == digest_window_end(T0, timedelta(hours=1), NY)


def test_a_daily_digest_watch_holds_its_matches_until_the_next_8am() -> None:
    """T0 is 08:00 in New York: a ``daily@08:00`` match waits for tomorrow's 08:00."""
    config = _config(_watch("a", digest=_at("08:00")))
    (held,) = route_matches([Match("a", _entry(), _hit("a"))], config, T0 + timedelta(minutes=5))
    assert held.group == "watch a, daily at 08:00"
    assert held.not_before == datetime(2025, 6, 11, 12, 0, tzinfo=UTC)  # 08:00 EDT


def test_a_daily_digest_and_a_window_the_one_that_ends_first_wins() -> None:
    e = _entry()
    matches = [Match("a", e, _hit("a")), Match("b", e, _hit("b"))]
    config = _config(_watch("a", digest=timedelta(hours=6)), _watch("b", digest=_at("09:00")))
    (alert,) = route_matches(matches, config, T0)
    assert (alert.group, alert.not_before) == (
        "watch b, daily at 09:00",
        datetime(2025, 6, 10, 13, 0, tzinfo=UTC),
    )
    config = _config(_watch("a", digest=timedelta(hours=1)), _watch("b", digest=_at("09:00")))
    (alert,) = route_matches(matches, config, T0)
    assert (alert.group, alert.not_before) == ("watch a", datetime(2025, 6, 10, 13, 0, tzinfo=UTC))


def test_max_alerts_counts_entries_not_watch_matches() -> None:
    config = _config(_watch("a"), _watch("b"), max_alerts=2)
    matches = [Match(w, _entry(f"k{i}"), _hit(w)) for i in range(3) for w in "ab"]
    alerts = route_matches(matches, config, T0)
    assert [a.group for a in alerts] == [
        None,
        None,
        "feed wire: more than 2 new matches in one poll",
    ]


def test_matches_of_a_watch_no_longer_configured_are_dropped_not_crashing() -> None:
    config = _config(_watch("a"))
    assert route_matches([Match("gone", _entry(), _hit("x"))], config, T0) == []


# --------------------------------------------------------------------------- mutes


def _mute(target: str, minutes: int = 60) -> Mute:
    kind, name = target.split(":")
    return Mute(kind, name, T0 + timedelta(minutes=minutes), T0)  # type: ignore[arg-type]


def test_a_watch_mute_holds_an_alert_only_when_every_watch_of_it_is_muted() -> None:
    """One alert per entry per channel: an entry matched by a muted and an unmuted watch
    still goes; one matched only by muted watches is held."""
    mutes = [_mute("watch:tariffs"), _mute("watch:ports")]
    assert muted_by(Origin("wire", ("tariffs",)), "chat", mutes) == mutes[0]
    assert muted_by(Origin("wire", ("tariffs", "ports")), "chat", mutes) == mutes[0]
    assert muted_by(Origin("wire", ("tariffs", "rates")), "chat", mutes) is None
    assert muted_by(Origin(None, ()), "chat", mutes) is None  # a reminder: no watch


def test_feed_and_channel_mutes_hold_everything_of_their_target() -> None:
    """A feed mute holds the feed's alerts whatever their watches; a channel mute holds
    every alert of that channel (reminders too) and no other channel's."""
    mutes = [_mute("feed:wire"), _mute("channel:pager")]
    assert muted_by(Origin("wire", ("rates",)), "chat", mutes) == mutes[0]
    assert muted_by(Origin("other", ("rates",)), "chat", mutes) is None
    assert muted_by(None, "pager", mutes) == mutes[1]
    assert muted_by(Origin(None, ()), "pager", mutes) == mutes[1]


def test_origin_reads_the_feed_and_every_watch_of_a_context() -> None:
    """The origin of a stored context: its feed and the watches it lists (or its one
    ``watch``); a context with neither has an empty origin."""
    context = {"feed": "wire", "watch": "a", "watches": [{"watch": "a"}, {"watch": "b"}]}
    assert origin(context) == Origin("wire", ("a", "b"))
    assert origin({"feed": "wire", "watch": "a"}) == Origin("wire", ("a",))
    assert origin({"kind": "reminder", "deadline": "x"}) == Origin(None, ())


def test_muted_alerts_are_held_critical_too_then_go_as_one_digest() -> None:
    """While a mute lasts its alerts are held as MUTED, critical ones included (the user
    asked for silence); once it ends they go as one digest "while muted: N stories",
    apart from the alerts that were never muted."""
    mutes = [_mute("watch:w")]
    origins = {1: Origin("f", ("w",)), 2: Origin("f", ("w",)), 3: Origin("f", ("other",))}
    queued = [alert(1), alert(2, severity="critical"), alert(3)]
    during = decide(queued, channel(), T0, NY, 0, mutes=mutes, origins=origins)
    assert during.hold == {1: Held.MUTED, 2: Held.MUTED}
    assert ids(during.units) == [[3]]
    held = [alert(1, held=Held.MUTED), alert(2, severity="critical", held=Held.MUTED)]
    after = decide(held, channel(), T0 + timedelta(hours=2), NY, 0)
    assert after.hold == {}
    assert ids(after.units) == [[1, 2]]
    assert after.units[0].reason == "while muted: 2 stories"


def test_one_muted_alert_still_says_it_was_muted_and_digest_groups_fold_in() -> None:
    """A single alert held by a mute is still sent as "while muted: 1 story"; a muted
    alert of a digest watch joins the mute's digest, not its watch's."""
    held = [alert(1, held=Held.MUTED, group="watch w"), alert(2, group="watch w")]
    decided = decide(held, channel(), T0, NY, 0)
    assert [(ids((u,)), u.reason) for u in decided.units] == [
        ([[1]], "while muted: 1 story"),
        ([[2]], None),
    ]


def test_a_mute_holds_alerts_still_in_their_digest_window_as_digest_first() -> None:
    """An alert whose digest window has not ended waits for it (DIGEST); the mute is
    looked at once the window ends."""
    mutes = [_mute("channel:chat")]
    queued = [alert(1, not_before=T0 + timedelta(minutes=5))]
    decided = decide(queued, channel(), T0, NY, 0, mutes=mutes)
    assert decided.hold == {1: Held.DIGEST}
    later = decide(queued, channel(), T0 + timedelta(minutes=6), NY, 0, mutes=mutes)
    assert later.hold == {1: Held.MUTED}


# --------------------------------------------------------------------------- min_severity


def _graded(**minimum: Severity) -> dict[str, Channel]:
    return {
        name: Channel(name, ("json://127.0.0.1:9/x",), "text", None, None, min_severity=level)
        for name, level in minimum.items()
    }


def test_min_severity_keeps_only_the_channels_that_admit_the_alert() -> None:
    """``admitted`` is the one filter: a channel takes alerts at or above its
    ``min_severity``, in order, each name once; an unknown name is kept."""
    config = Config(
        timezone=NY,
        default_channels=("chat",),
        channels=_graded(chat="low", pager="high", crit="critical"),
    )
    assert admitted(["chat", "pager", "crit", "chat"], "normal", config) == ("chat",)
    assert admitted(["chat", "pager", "crit"], "high", config) == ("chat", "pager")
    assert admitted(["pager", "crit"], "critical", config) == ("pager", "crit")
    assert admitted(["gone"], "low", config) == ("gone",)


def test_a_match_goes_to_its_watch_channels_that_admit_its_severity() -> None:
    """The intersection: the watches' channels, less those wanting a higher severity;
    the severity compared is the entry's (the highest of its matched watches)."""
    watches = (_watch("a", "normal", ("chat", "pager")), _watch("b", "high", ("pager",)))
    config = Config(
        timezone=NY,
        default_channels=("chat",),
        channels=_graded(chat="low", pager="high"),
        feeds=_config().feeds,
        watches=watches,
    )
    only_a = route_matches([Match("a", _entry("k1"), _hit("a"))], config, T0)
    assert [a.channel for a in only_a] == ["chat"]
    both = route_matches(
        [Match("a", _entry("k2"), _hit("a")), Match("b", _entry("k2"), _hit("b"))], config, T0
    )
    assert sorted(a.channel for a in both) == ["chat", "pager"]
    assert filtered_entries([Match("a", _entry("k1"), _hit("a"))], config) == []


def test_a_match_no_channel_admits_is_reported_as_filtered() -> None:
    """An entry whose every channel wants more is not sent and is named by
    ``filtered_entries`` (the router logs it), not silently lost."""
    config = Config(
        timezone=NY,
        default_channels=("chat",),
        channels=_graded(pager="high"),
        feeds=_config().feeds,
        watches=(_watch("a", "normal", ("pager",)),),
    )
    matches = [Match("a", _entry("k1"), _hit("a"))]
    assert route_matches(matches, config, T0) == []
    assert filtered_entries(matches, config) == [("wire", "k1")]


def test_health_and_proposals_are_filtered_by_min_severity_too() -> None:
    """A recovered feed (normal) skips a high-only default channel; unhealthy (high)
    reaches it. A proposal goes only where its severity is admitted."""
    config = Config(
        timezone=NY,
        default_channels=("chat", "pager"),
        channels=_graded(chat="low", pager="high"),
        watches=(_watch("a", "normal", ("chat", "pager")),),
    )
    down = HealthEvent(HealthEventKind.UNHEALTHY, "wire", 5, "boom", T0)
    up = HealthEvent(HealthEventKind.RECOVERED, "wire", 0, None, T0)
    assert [a.channel for a in route_health(down, config)] == ["chat", "pager"]
    assert [a.channel for a in route_health(up, config)] == ["chat"]
    proposal = Proposal(
        id="p1",
        change="deadline",
        kind="deadline",
        name="comments",
        title="Comments due",
        due=T0,
        all_day=False,
        window_end=None,
        timezone="UTC",
        phrase="due",
        confidence=0.9,
        watches=("a",),
        sources=(),
    )
    assert [a.channel for a in route_proposals([proposal], config)] == ["chat"]
