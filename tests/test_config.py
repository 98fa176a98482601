"""What a valid watch config means once loaded: defaults, shorthands, time zones."""

from __future__ import annotations

import time as time_module
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.config.loader import MAX_BYTES, load, loads
from notifier.config.schema import DEFAULT_REMIND, parse_due
from notifier.errors import ConfigError
from notifier.model import DailyDigest, RateLimit, TimeWindow

NY = ZoneInfo("America/New_York")


def load_text(text: str, **env: str) -> object:
    return loads(text, "watch.yaml", env)


def test_minimal_config_gets_documented_defaults() -> None:
    """One channel, one feed, one watch: everything else comes from the defaults."""
    config = loads(
        """
channels:
  console: ["console://"]
feeds:
  - name: ustr
    url: https://example.com/feed.xml
watches:
  - name: tariffs
    any: [tariff]
""",
        "watch.yaml",
        {},
    )
    assert config.timezone.key == "UTC"
    assert config.default_channels == ("console",)
    (feed,) = config.feeds
    assert feed.interval == timedelta(minutes=15)
    assert feed.enabled
    (watch,) = config.watches
    assert watch.channels == ("console",)
    assert watch.feeds == ("ustr",)
    assert watch.fields == ("title", "summary", "content")
    assert watch.severity == "normal"
    assert watch.digest is None
    assert config.history.keep == timedelta(days=30)
    assert config.stories.window == timedelta(hours=48)


def test_defaults_section_overrides_built_in_defaults() -> None:
    """Values under ``defaults`` apply to every item that does not set its own."""
    config = loads(
        """
defaults:
  channels: [chat]
  feed: {interval: 2h}
  watch: {fields: [title], severity: low, digest: 30m}
  deadline: {remind: [1d], severity: critical}
channels:
  console: console://
  chat: ["json://127.0.0.1:9/hook"]
feeds:
  - {name: a, url: "https://example.com/a"}
  - {name: b, url: "https://example.com/b", interval: 90s}
watches:
  - {name: w, any: [x]}
  - {name: v, any: [y], channels: [console], severity: critical, fields: [link]}
deadlines:
  - {name: d, title: D, due: 2030-01-01}
""",
        "watch.yaml",
        {},
    )
    assert [f.interval for f in config.feeds] == [timedelta(hours=2), timedelta(seconds=90)]
    w, v = config.watches
    assert (w.channels, w.fields, w.severity, w.digest) == (
        ("chat",),
        ("title",),
        "low",
        timedelta(minutes=30),
    )
    assert (v.channels, v.fields, v.severity) == (("console",), ("link",), "critical")
    (d,) = config.deadlines
    assert d.remind == (timedelta(days=1),)
    assert d.severity == "critical"
    assert d.channels == ("chat",)


def test_channel_shorthands() -> None:
    """A channel may be one URL, a list of URLs, or a mapping with options."""
    config = loads(
        """
defaults: {channels: [a]}
channels:
  a: console://
  b: ["console://", "json://127.0.0.1:9/x"]
  c:
    urls: ["console://"]
    format: html
    quiet_hours: "22:00-07:00"
    rate_limit: 5/10m
""",
        "watch.yaml",
        {},
    )
    assert config.channels["a"].urls == ("console://",)
    assert len(config.channels["b"].urls) == 2
    c = config.channels["c"]
    assert c.format == "html"
    assert c.quiet_hours == TimeWindow(time(22, 0), time(7, 0))
    assert c.rate_limit == RateLimit(5, timedelta(minutes=10))


def test_yaml_1_2_keeps_norway_and_off_as_strings() -> None:
    """``no``, ``NO``, ``off`` and ``yes`` are terms, not booleans (YAML 1.1 would say False)."""
    config = loads(
        "channels: {c: console://}\nwatches:\n  - {name: w, any: [no, NO, off, yes, 301]}\n",
        "watch.yaml",
        {},
    )
    assert config.watches[0].any == ("no", "NO", "off", "yes", "301")


class TestDue:
    """A deadline's ``due`` in its three documented forms."""

    def test_date_alone_is_start_of_day_in_deadline_zone(self) -> None:
        """``2025-07-09`` with zone New York means 00:00 EDT that day."""
        assert parse_due("2025-07-09", NY) == datetime(2025, 7, 9, 4, 0, tzinfo=UTC)

    def test_local_datetime_uses_the_zone(self) -> None:
        """A date-time without an offset is local time in the deadline's zone."""
        assert parse_due("2025-07-09 00:01", NY) == datetime(2025, 7, 9, 4, 1, tzinfo=UTC)
        assert parse_due("2025-01-09T00:01", NY) == datetime(2025, 1, 9, 5, 1, tzinfo=UTC)

    def test_offset_wins_over_the_zone(self) -> None:
        """An explicit offset (or Z) is that instant, whatever the zone."""
        due = parse_due("2025-07-09T00:01:00-04:00", ZoneInfo("Asia/Shanghai"))
        assert due == datetime(2025, 7, 9, 4, 1, tzinfo=UTC)
        assert parse_due("2025-07-09T04:01:00Z", NY) == datetime(2025, 7, 9, 4, 1, tzinfo=UTC)

    def test_ambiguous_local_time_means_the_first(self) -> None:
        """01:30 on the November fall-back day happens twice: the first (EDT) is meant."""
        due = parse_due("2025-11-02 01:30", NY)
        assert due.utcoffset() == timedelta(hours=-4)

    def test_skipped_local_time_is_an_error(self) -> None:
        """02:30 on the March spring-forward day never happens in New York."""
        with pytest.raises(ValueError, match="does not exist in America/New_York"):
            parse_due("2025-03-09 02:30", NY)

    @pytest.mark.parametrize(
        ("zone", "day", "first", "offset"),
        [
            ("America/Sao_Paulo", "2018-11-04", "01:00", -2),
            ("America/Havana", "2019-03-10", "01:00", -4),
            ("Asia/Beirut", "2019-03-31", "01:00", 3),
            ("America/Santiago", "2019-09-08", "01:00", -3),
            ("America/Asuncion", "2019-10-06", "01:00", -3),
            ("Asia/Tehran", "2020-03-21", "01:00", 4.5),
        ],
    )
    def test_date_alone_whose_midnight_is_skipped_is_the_first_valid_time(
        self, zone: str, day: str, first: str, offset: float
    ) -> None:
        """Where DST skips midnight, a date alone means the first time that exists that
        day (the start of the day the README promises), not an error."""
        due = parse_due(day, ZoneInfo(zone))
        assert f"{due:%Y-%m-%d %H:%M}" == f"{day} {first}"
        assert due.utcoffset() == timedelta(hours=offset)
        # It is the very first instant of that day: one second earlier is the day before.
        before = due.astimezone(UTC) - timedelta(seconds=1)
        assert f"{before.astimezone(ZoneInfo(zone)):%H:%M:%S}" == "23:59:59"

    def test_explicit_midnight_skipped_by_dst_is_still_an_error(self) -> None:
        """Only the date alone moves to the first valid time; a written 00:00 or 00:30
        that never happens stays an error, as any skipped local time."""
        for text in ("2018-11-04 00:00", "2018-11-04T00:30"):
            with pytest.raises(ValueError, match="does not exist in America/Sao_Paulo"):
                parse_due(text, ZoneInfo("America/Sao_Paulo"))

    def test_a_day_skipped_whole_is_an_error(self) -> None:
        """Samoa skipped 30 December 2011 entirely: that date alone names no instant."""
        with pytest.raises(ValueError, match="the clocks skip the whole day"):
            parse_due("2011-12-30", ZoneInfo("Pacific/Apia"))

    def test_config_with_a_skipped_midnight_due_loads(self) -> None:
        """The case of the issue, end to end: the config loads and the due is 01:00."""
        config = loads(
            "channels: {c: console://}\n"
            "deadlines:\n  - {name: d, title: D, due: 2018-11-04, timezone: America/Sao_Paulo}\n",
            "watch.yaml",
            {},
        )
        (d,) = config.deadlines
        assert d.due == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)

    def test_deadline_zone_falls_back_to_config_zone(self) -> None:
        """A deadline without ``timezone`` is read in the config's zone."""
        config = loads(
            "timezone: Asia/Shanghai\nchannels: {c: console://}\n"
            "deadlines:\n  - {name: d, title: D, due: 2025-07-09}\n",
            "watch.yaml",
            {},
        )
        (d,) = config.deadlines
        assert d.timezone.key == "Asia/Shanghai"
        assert d.due == datetime(2025, 7, 8, 16, 0, tzinfo=UTC)
        assert d.remind == DEFAULT_REMIND


def test_remind_offsets_are_sorted_and_unique() -> None:
    """Offsets come out longest first without repeats, however they were written."""
    config = loads(
        "channels: {c: console://}\n"
        "deadlines:\n  - {name: d, title: D, due: 2030-01-01, remind: [2h, 7d, 2h, 1d, 120m]}\n",
        "watch.yaml",
        {},
    )
    assert config.deadlines[0].remind == (
        timedelta(days=7),
        timedelta(days=1),
        timedelta(hours=2),
    )


class TestTimeWindow:
    def test_window_across_midnight(self) -> None:
        """22:00-07:00 holds 23:00 and 06:59 but not 07:00 or 21:59."""
        w = TimeWindow(time(22), time(7))
        assert w.contains(time(23))
        assert w.contains(time(6, 59))
        assert w.contains(time(22))
        assert not w.contains(time(7))
        assert not w.contains(time(21, 59))

    @given(st.times(), st.times(), st.times())
    def test_a_window_and_its_complement_partition_the_day(
        self, start: time, end: time, t: time
    ) -> None:
        """Every time of day is in exactly one of start-end and end-start."""
        if start == end:
            return
        inside = TimeWindow(start, end).contains(t)
        outside = TimeWindow(end, start).contains(t)
        assert inside != outside


def test_empty_file_is_a_valid_empty_config() -> None:
    """An empty file watches nothing; it is not an error."""
    config = loads("", "watch.yaml", {})
    assert config.feeds == ()
    assert config.channels == {}


def test_alias_bomb_is_refused() -> None:
    """A YAML 'billion laughs' of aliases is rejected, not expanded."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 10)}]" for i in range(1, 9)]
    with pytest.raises(ConfigError) as caught:
        loads("\n".join(lines) + "\n", "bomb.yaml", {})
    assert [str(p) for p in caught.value.problems] == [
        "bomb.yaml:1:1: yaml: the document holds more than 200,000 values (the limit) once "
        "its aliases are expanded; each alias (*name) repeats the whole content of its "
        "anchor (&name), so a few aliases can multiply a document"
    ]


def test_a_config_over_1_mb_is_refused_before_parsing(tmp_path: Path) -> None:
    """A 4.9 MB file is refused at once, with its size and the limit, not parsed for minutes."""
    path = tmp_path / "watch.yaml"
    entry = "  - name: feed-{i}\n    url: https://example.com/{i}.xml\n"
    text = "feeds:\n" + "".join(entry.format(i=i) for i in range(120_000))
    path.write_text(text[: int(4.9 * 1024 * 1024)], encoding="utf-8")
    started = time_module.monotonic()
    with pytest.raises(ConfigError) as caught:
        load(path, {})
    assert time_module.monotonic() - started < 1
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1:1: file: the file is 4.9 MB; the limit is 1 MB"
    ]


def test_a_huge_config_file_is_not_read_whole(tmp_path: Path) -> None:
    """Only the limit plus one byte is read: a 5 GB (sparse) file is refused at once."""
    path = tmp_path / "watch.yaml"
    with path.open("wb") as f:
        f.truncate(5 * 1024**3)
    with pytest.raises(ConfigError, match=r"file: the file is 5120 MB; the limit is 1 MB$"):
        load(path, {})


def test_just_over_the_limit_gives_bytes_not_a_rounded_size() -> None:
    """A file one byte too big does not read "the file is 1 MB; the limit is 1 MB"."""
    with pytest.raises(ConfigError) as caught:
        loads(b"#" * (MAX_BYTES + 1), "watch.yaml", {})
    assert str(caught.value.problems[0]) == (
        "watch.yaml:1:1: file: the file is 1,048,577 bytes; the limit is 1 MB (1,048,576 bytes)"
    )


def test_a_config_just_under_the_limit_loads(tmp_path: Path) -> None:
    """The limit refuses only what is over it: a valid file of 1 MB less one byte loads."""
    head = "channels:\n  console: ['console://']\n"
    filler = ("# " + "x" * 77 + "\n") * ((MAX_BYTES - len(head)) // 80)
    text = head + filler
    text += "#" * (MAX_BYTES - 2 - len(text)) + "\n"
    path = tmp_path / "watch.yaml"
    path.write_bytes(text.encode())
    assert path.stat().st_size == MAX_BYTES - 1
    assert list(load(path, {}).channels) == ["console"]


def test_history_keep_and_story_window_are_read_and_bounded() -> None:
    """``history.keep`` (at least 1d) and ``stories.window`` (1h to 30d) resolve into
    the model; values outside their bounds are errors at their line, saying the bounds."""
    config = loads(
        "channels: {c: console://}\nhistory: {keep: 90d}\nstories: {window: 6h}\n",
        "watch.yaml",
        {},
    )
    assert config.history.keep == timedelta(days=90)
    assert config.stories.window == timedelta(hours=6)
    with pytest.raises(ConfigError) as caught:
        loads(
            "channels: {c: console://}\nhistory:\n  keep: 12h\nstories:\n  window: 31d\n",
            "watch.yaml",
            {},
        )
    assert [str(p) for p in caught.value.problems] == [
        "watch.yaml:3:9: history.keep: must be at least 1d (got 12h)",
        "watch.yaml:5:11: stories.window: must be between 1h and 30d (got 31d)",
    ]
    with pytest.raises(ConfigError, match="unknown key 'kept' \\(did you mean 'keep'"):
        loads("channels: {c: console://}\nhistory: {kept: 1d}\n", "watch.yaml", {})


def test_the_web_section_is_off_by_default_and_needs_a_token_off_loopback() -> None:
    base = 'channels: {console: ["console://"]}\n'
    config = loads(base, "watch.yaml", {})
    assert config.web.port is None
    assert config.web.host == "127.0.0.1"
    on = loads(base + "web: {port: 8080}\n", "watch.yaml", {})
    assert (on.web.port, on.web.token) == (8080, None)
    with pytest.raises(ConfigError) as caught:
        loads(base + "web: {port: 8080, host: 0.0.0.0}\n", "watch.yaml", {})
    (problem,) = caught.value.problems
    assert problem.line == 2
    assert "set web.token" in problem.message
    shared = loads(
        base + 'web: {port: 8080, host: 0.0.0.0, token: "${T}"}\n',
        "watch.yaml",
        {"T": "a-long-enough-secret"},
    )
    assert shared.web.token == "a-long-enough-secret"
    with pytest.raises(ConfigError, match="at least 16"):
        loads(base + "web: {port: 8080, token: short}\n", "watch.yaml", {})


_DIGEST_WATCH = """channels: {c: console://}
feeds:
  - {name: f, url: https://example.com/f}
watches:
  - name: w
    any: [x]
    digest: %s
"""


def test_a_digest_is_a_window_or_fixed_times_of_day() -> None:
    """``digest: 1h`` is a window; ``daily@08:00`` (or several times, in any order) is
    fixed local times; ``defaults.watch.digest`` takes both forms too."""
    (watch,) = loads(_DIGEST_WATCH % "1h", "watch.yaml", {}).watches
    assert watch.digest == timedelta(hours=1)
    (watch,) = loads(_DIGEST_WATCH % "daily@08:00", "watch.yaml", {}).watches
    assert watch.digest == DailyDigest((time(8, 0),))
    (watch,) = loads(_DIGEST_WATCH % '"daily@17:00, 8:30"', "watch.yaml", {}).watches
    assert watch.digest == DailyDigest((time(8, 30), time(17, 0)))
    defaults = "defaults: {watch: {digest: daily@07:30}}\n"
    (watch,) = loads(defaults + _DIGEST_WATCH.replace("    digest: %s\n", ""), "w.yaml", {}).watches
    assert watch.digest == DailyDigest((time(7, 30),))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("daily@25:00", "'daily@25:00' is not a time of day; write daily@HH:MM, e.g. daily@08:00"),
        ("daily@", "'daily@' is not a time of day; write daily@HH:MM, e.g. daily@08:00"),
        (
            '"daily@08:00,8pm"',
            "'8pm' in 'daily@08:00,8pm' is not a time of day; "
            "write daily@HH:MM,HH:MM, e.g. daily@08:00,17:00",
        ),
        ('"daily@08:00,8:00"', "08:00 is given twice in 'daily@08:00,8:00'"),
        (
            "daily",
            "'daily' is not a duration; write a number and a unit, e.g. 90s, 15m, 2h, 7d, "
            "1w or 1h30m; or daily@HH:MM for a digest at fixed times",
        ),
        ("0s", "must be longer than 0s"),
    ],
)
def test_a_bad_digest_is_an_error_at_its_position(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        loads(_DIGEST_WATCH % value, "watch.yaml", {})
    assert [str(p) for p in caught.value.problems] == [
        f"watch.yaml:7:13: watches[0].digest: {message}"
    ]
