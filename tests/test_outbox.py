"""The outbox's pure decisions: digest windows, quiet hours, rate limits — nothing dropped."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from notifier.delivery.stages import digest_window_end, plan
from notifier.model import Channel, Held, QueuedAlert, RateLimit, Severity, TimeWindow

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


class TestPlan:
    def test_plain_alerts_go_one_by_one_in_order(self) -> None:
        """With no holds every alert is its own message, oldest first."""
        result = plan([alert(2), alert(1)], channel(), T0, NY, 0)
        assert ids(result.units) == [[1], [2]]
        assert result.hold == {}

    def test_digest_group_waits_for_its_window(self) -> None:
        """Alerts of a digest watch wait until the window ends, then go as one digest."""
        later = T0 + timedelta(minutes=40)
        queued = [alert(i, group="watch tariffs", not_before=later) for i in (1, 2, 3)]
        waiting = plan(queued, channel(), T0, NY, 0)
        assert waiting.units == ()
        assert set(waiting.hold.values()) == {Held.DIGEST}
        released = plan(queued, channel(), later, NY, 0)
        assert ids(released.units) == [[1, 2, 3]]
        assert released.units[0].reason == "digest of watch tariffs"

    def test_quiet_hours_hold_all_but_critical(self) -> None:
        """At 23:00 in New York a normal alert waits; a critical one goes."""
        night = datetime(2025, 6, 11, 3, 0, tzinfo=UTC)  # 23:00 EDT
        result = plan(
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
        result = plan(
            [*held, alert(4, created=morning)], channel(quiet="22:00-07:00"), morning, NY, 0
        )
        assert ids(result.units) == [[1, 2, 3], [4]]
        assert result.units[0].reason == "held: quiet hours"

    def test_rate_limit_folds_the_overflow_into_the_last_slot(self) -> None:
        """3 per hour with 1 already sent: one alert alone, the rest in one digest."""
        queued = [alert(i) for i in range(1, 6)]
        result = plan(queued, channel(rate=(3, timedelta(hours=1))), T0, NY, 1)
        assert ids(result.units) == [[1], [2, 3, 4, 5]]
        assert result.units[1].reason == "held: rate limit 3/1h"

    def test_rate_limit_exhausted_holds_everything(self) -> None:
        """No slot left: every alert is held until the window moves on."""
        result = plan([alert(1), alert(2)], channel(rate=(2, timedelta(hours=1))), T0, NY, 2)
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
        result = plan(
            queued, channel(quiet="22:00-07:00", rate=(limit, timedelta(hours=1))), now, NY, recent
        )
        sent = [a.id for u in result.units for a in u.alerts]
        assert len(sent) == len(set(sent))
        assert set(sent).isdisjoint(result.hold)
        assert set(sent) | set(result.hold) == {a.id for a in queued}
        assert len(result.units) <= max(limit - recent, 0)
