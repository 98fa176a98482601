"""Deadline discovery: dated statements found in English and Chinese news text."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.deadlines.discover import MAX_SENTENCES, Found, extract, sentences

NY = ZoneInfo("America/New_York")
SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
#: Tuesday 1 July 2025, noon in Washington.
PUB = datetime(2025, 7, 1, 12, 0, tzinfo=NY)
#: Tuesday 1 July 2025, 10:00 in Beijing.
PUB_ZH = datetime(2025, 7, 1, 10, 0, tzinfo=SH)


def one(text: str, published: datetime = PUB, zone: ZoneInfo = NY) -> Found:
    """The single statement found in ``text``."""
    found = extract(text, published, zone)
    assert len(found) == 1, found
    return found[0]


def zh(text: str, published: datetime = PUB_ZH) -> Found:
    """The single statement found in a Chinese ``text`` published in Beijing."""
    return one(text, published, SH)


# ---------------------------------------------------------------- full dates


def test_month_day_year() -> None:
    """ "August 1, 2025" is that day, and "take effect" makes it an effective date."""
    found = one("The tariffs take effect on August 1, 2025.")
    assert (found.kind, found.due, found.past) == ("effective", date(2025, 8, 1), False)


def test_day_month_year() -> None:
    """ "9 July 2025" (day first) is read as well."""
    assert one("Duties will apply from 9 July 2025.").due == date(2025, 7, 9)


def test_iso_date() -> None:
    """An ISO date at the end of a sentence (before its period) is a date."""
    assert one("The order takes effect 2025-07-09.").due == date(2025, 7, 9)


def test_abbreviated_month() -> None:
    """ "Aug. 1" with an abbreviation's period does not end the sentence."""
    found = one("The deadline is Aug. 1 for all filers.")
    assert (found.kind, found.due) == ("deadline", date(2025, 8, 1))


def test_chinese_full_date() -> None:
    """ "2025年8月1日起生效" is an effective date."""
    found = zh("关税将于2025年8月1日起生效。")
    assert (found.kind, found.due) == ("effective", date(2025, 8, 1))


def test_full_date_before_publication_is_past() -> None:
    """A stated date before publication is a fact: past is True."""
    assert one("The tariffs took effect on June 4, 2025.").past is True


def test_fullwidth_digits() -> None:
    """Full-width digits in Chinese text are read as digits."""
    assert zh("关税将于２０２５年８月１日起生效。").due == date(2025, 8, 1)


# ---------------------------------------------------------------- no year


def test_no_year_is_next_occurrence() -> None:
    """ "July 9" published on 1 July 2025 is 9 July 2025."""
    assert one("The pause expires July 9.").due == date(2025, 7, 9)


def test_no_year_long_passed_is_next_year() -> None:
    """ "March 30" published on 1 July (more than 60 days after it) is next year's."""
    assert one("Comments are due March 30.").due == date(2026, 3, 30)


def test_no_year_recently_passed_is_that_date() -> None:
    """ "June 30" published on 1 July is the day before: a reported fact, past."""
    found = one("Comments are due June 30.")
    assert (found.due, found.past) == (date(2025, 6, 30), True)


def test_no_year_past_tense_is_previous_occurrence() -> None:
    """ "took effect on June 4" is the June 4 before publication, and past."""
    found = one("The new duties took effect on June 4.")
    assert (found.kind, found.due, found.past) == ("effective", date(2025, 6, 4), True)


def test_chinese_no_year() -> None:
    """ "7月9日到期" is an expiry on the next 9 July."""
    found = zh("暂停期将于7月9日到期。")
    assert (found.kind, found.due) == ("expiry", date(2025, 7, 9))


def test_chinese_past_marker() -> None:
    """ "已于6月4日起施行" is the previous 4 June, and past."""
    found = zh("该措施已于6月4日起施行。")
    assert (found.due, found.past) == (date(2025, 6, 4), True)


# ---------------------------------------------------------------- weekdays


def test_weekday_on_publication_day() -> None:
    """ "on Tuesday" published on a Tuesday is that day."""
    assert one("The talks resume on Tuesday.").due == date(2025, 7, 1)


def test_weekday_with_its_date() -> None:
    """ "Monday, July 21, 2025" is one date, with the time beside it."""
    found = one("Submissions are due by 5:00 p.m. Eastern Time on Monday, July 21, 2025.")
    assert found.due == datetime(2025, 7, 21, 17, 0, tzinfo=NY)


def test_coordinated_weekdays_share_the_tense() -> None:
    """ "met on Monday and Tuesday": both before publication."""
    found = extract("Officials met in London on Monday and Tuesday.", PUB + timedelta(days=1), NY)
    assert [(f.due, f.past) for f in found] == [
        (date(2025, 6, 30), True),
        (date(2025, 7, 1), True),
    ]


def test_chinese_last_week() -> None:
    """ "上周五" is the Friday of the week before publication's."""
    found = zh("双方上周五在伦敦举行了会谈。")
    assert (found.due, found.past) == (date(2025, 6, 27), True)


def test_next_weekday() -> None:
    """ "next Tuesday" published on a Tuesday is the Tuesday a week later."""
    found = one("A vote is set for next Tuesday.")
    assert (found.kind, found.due) == ("event", date(2025, 7, 8))


def test_on_weekday() -> None:
    """ "on Friday" is the first Friday after publication."""
    assert one("The new tariffs kick in on Friday.").due == date(2025, 7, 4)


def test_weekday_in_past_tense() -> None:
    """ "said on Monday" is the Monday before publication, and past."""
    found = one("Officials said on Monday that the talks would resume.")
    assert (found.due, found.past) == (date(2025, 6, 30), True)


def test_chinese_next_week() -> None:
    """ "下周三" is the Wednesday of the week after publication's."""
    assert zh("双方将于下周三举行会谈。").due == date(2025, 7, 9)


# ---------------------------------------------------------------- relative to publication


def test_within_days_of_publication() -> None:
    """ "within 30 days of publication" is publication + 30 days, a deadline."""
    found = one("Comments must be submitted within 30 days of publication.")
    assert (found.kind, found.due) == ("deadline", date(2025, 7, 31))


def test_days_after_published() -> None:
    """ "60 days after it is published" counts from publication."""
    found = one("The rule takes effect 60 days after it is published in the Federal Register.")
    assert (found.kind, found.due) == ("effective", date(2025, 8, 30))


def test_days_from_today() -> None:
    """ "30 days from today" counts from publication."""
    assert one("Companies must file requests 30 days from today.").due == date(2025, 7, 31)


def test_number_words() -> None:
    """ "within sixty days of publication" reads the number word."""
    assert one("Submit comments within sixty days of publication.").due == date(2025, 8, 30)


def test_chinese_within_days_of_publication() -> None:
    """ "自公布之日起30日内提交" is publication + 30 days, a deadline."""
    found = zh("请自公布之日起30日内提交意见。")
    assert (found.kind, found.due) == ("deadline", date(2025, 7, 31))


def test_chinese_effective_on_publication() -> None:
    """ "自发布之日起施行" takes effect on the day of publication."""
    found = zh("本公告自发布之日起施行。")
    assert (found.kind, found.due, found.past) == ("effective", date(2025, 7, 1), False)


def test_tomorrow() -> None:
    """ "tomorrow" is the day after publication."""
    assert one("Negotiators meet again tomorrow in Geneva.").due == date(2025, 7, 2)


def test_midnight_tonight() -> None:
    """ "midnight tonight" is the end of publication's day."""
    assert one("The pause ends at midnight tonight.").due == datetime(2025, 7, 2, 0, 0, tzinfo=NY)


def test_chinese_days_later() -> None:
    """ "三天后" is publication + 3 days."""
    found = zh("听证会将于三天后举行。")
    assert (found.kind, found.due) == ("event", date(2025, 7, 4))


def test_chinese_within_a_week() -> None:
    """ "一周内提交" is publication + 7 days, a deadline."""
    found = zh("企业应在一周内提交补充材料。")
    assert (found.kind, found.due) == ("deadline", date(2025, 7, 8))


def test_effective_immediately() -> None:
    """ "effective immediately" is the day of publication."""
    assert one("The suspension is effective immediately.").due == date(2025, 7, 1)


# ---------------------------------------------------------------- anchored durations


def test_days_from_a_date() -> None:
    """ "90 days from May 14" is May 14 + 90 days."""
    found = one("Tariffs will be imposed 90 days from May 14, 2025.")
    assert found.due == date(2025, 8, 12)


def test_for_days_starting() -> None:
    """ "for 90 days starting April 9" gives the start and its end, April 9 + 90 days."""
    found = extract("The pause applies for 90 days starting April 9, 2025.", PUB, NY)
    assert [(f.kind, f.due) for f in found] == [
        ("effective", date(2025, 4, 9)),
        ("expiry", date(2025, 7, 8)),
    ]


def test_days_after_a_named_event() -> None:
    """ "14 days after the hearing on July 21": the hearing, and the deadline after it."""
    found = extract("Rebuttals are due 14 days after the hearing on July 21.", PUB, NY)
    assert sorted((f.kind, f.due) for f in found) == [
        ("deadline", date(2025, 8, 4)),
        ("event", date(2025, 7, 21)),
    ]


def test_duration_beginning_on() -> None:
    """ "a 30-day grace period beginning on Sept. 29" ends on Sept. 29 + 30 days."""
    found = extract("Firms get a 30-day grace period beginning on Sept. 29.", PUB, NY)
    assert ("expiry", date(2025, 10, 29)) in [(f.kind, f.due) for f in found]


def test_extended_for_days_from() -> None:
    """ "extended for another 90 days from Aug. 12" is the end, moved from Aug. 12."""
    found = one("The truce was extended for another 90 days from Aug. 12.")
    assert (found.kind, found.due, found.moved_from) == (
        "expiry",
        date(2025, 11, 10),
        date(2025, 8, 12),
    )


def test_chinese_pause_for_days() -> None:
    """ "自5月14日起，…暂停90天": the start (effective) and its end, 90 days later (expiry)."""
    text = "自5月14日起，美方对中方商品加征的24%关税暂停90天。"
    found = extract(text, datetime(2025, 5, 12, tzinfo=SH), SH)
    assert [(f.kind, f.due) for f in found] == [
        ("effective", date(2025, 5, 14)),
        ("expiry", date(2025, 8, 12)),
    ]


def test_chinese_plan_before_is_not_a_deadline() -> None:
    """ "拟于今年年底前出台" is a planned event, not a deadline."""
    found = zh("新规拟于今年年底前出台。")
    assert (found.kind, found.due) == ("event", date(2025, 12, 31))


def test_chinese_effective_for_a_year() -> None:
    """ "自11月10日起实施，为期一年": the start and its end."""
    found = extract("暂停措施自11月10日起实施，为期一年。", datetime(2025, 11, 5, tzinfo=SH), SH)
    assert [(f.kind, f.due) for f in found] == [
        ("effective", date(2025, 11, 10)),
        ("expiry", date(2026, 11, 10)),
    ]


def test_chinese_days_after_a_notice() -> None:
    """ "10月10日公告发布后45日内申请": the notice (past) and a deadline after it."""
    found = extract(
        "企业可在10月10日公告发布后45日内申请豁免。", datetime(2025, 10, 12, tzinfo=SH), SH
    )
    assert [(f.kind, f.due, f.past) for f in found] == [
        ("event", date(2025, 10, 10), True),
        ("deadline", date(2025, 11, 24), False),
    ]


# ---------------------------------------------------------------- fuzzy windows


def test_early_month() -> None:
    """ "early July" is 1–10 July."""
    found = one("A decision is expected in early July.")
    assert (found.kind, found.due, found.window_end) == (
        "event",
        date(2025, 7, 1),
        date(2025, 7, 10),
    )


def test_mid_month() -> None:
    """ "mid-July" is 11–20 July."""
    found = one("The hearing is scheduled for mid-July.")
    assert (found.due, found.window_end) == (date(2025, 7, 11), date(2025, 7, 20))


def test_late_month() -> None:
    """ "late September" is 21 to the last day."""
    found = one("The exemption ends in late September.")
    assert (found.due, found.window_end) == (date(2025, 9, 21), date(2025, 9, 30))


def test_end_of_month_name() -> None:
    """ "around the end of June" is June 30, a single day: the README's convention makes
    "the end of <month>" the month's last day, never a 7-day window."""
    found = one("A decision is expected around the end of June.", datetime(2025, 5, 1, tzinfo=NY))
    assert (found.due, found.window_end) == (date(2025, 6, 30), None)


def test_by_end_of_month_is_its_last_day() -> None:
    """ "until the end of June" is a point: 30 June, no window."""
    found = one("The pause runs until the end of June.", datetime(2025, 5, 1, tzinfo=NY))
    assert (found.due, found.window_end) == (date(2025, 6, 30), None)


def test_in_month() -> None:
    """ "in September" is the whole month."""
    found = one("A ruling is expected in September.")
    assert (found.due, found.window_end) == (date(2025, 9, 1), date(2025, 9, 30))


def test_end_of_quarter() -> None:
    """ "by the end of the quarter" is the last day of publication's quarter."""
    found = one("The agency must decide by the end of the quarter.")
    assert (found.kind, found.due, found.window_end) == ("event", date(2025, 9, 30), None)


def test_end_of_named_quarter() -> None:
    """ "by the end of the fourth quarter" is 31 December."""
    assert one("USTR aims to publish it by the end of the fourth quarter.").due == date(
        2025, 12, 31
    )


def test_end_of_year() -> None:
    """ "at the end of the year" is 31 December."""
    found = one("The exemptions expire at the end of the year.")
    assert (found.due, found.window_end) == (date(2025, 12, 31), None)


def test_end_of_year_window() -> None:
    """ "year-end" alone is 31 December, a single day, as "the end of the year" is."""
    found = one("A ruling is expected around year-end.")
    assert (found.due, found.window_end) == (date(2025, 12, 31), None)


def test_late_this_month() -> None:
    """ "late this month" is 21 to the end of publication's month."""
    found = one("Talks may resume late this month.")
    assert (found.kind, found.due, found.window_end) == (
        "event",
        date(2025, 7, 21),
        date(2025, 7, 31),
    )


def test_date_range() -> None:
    """ "August 3-6, 2025" is a window."""
    found = one("The meeting is scheduled for August 3-6, 2025.")
    assert (found.due, found.window_end) == (date(2025, 8, 3), date(2025, 8, 6))


def test_chinese_date_range() -> None:
    """ "7月28日至29日" is a window."""
    found = zh("第二轮磋商拟于2025年7月28日至29日举行。")
    assert (found.kind, found.due, found.window_end) == (
        "event",
        date(2025, 7, 28),
        date(2025, 7, 29),
    )


def test_chinese_quarter_end() -> None:
    """ "第三季度末前" is 30 September."""
    found = zh("第三季度末前完成清单调整。")
    assert (found.kind, found.due) == ("deadline", date(2025, 9, 30))


def test_chinese_month_end_before() -> None:
    """ "本月底前提交" is the last day of the month, a deadline."""
    found = zh("企业须于本月底前提交申请。")
    assert (found.kind, found.due, found.window_end) == ("deadline", date(2025, 7, 31), None)


def test_chinese_first_third() -> None:
    """ "8月上旬" is 1–10 August."""
    found = zh("措施将于8月上旬实施。")
    assert (found.kind, found.due, found.window_end) == (
        "effective",
        date(2025, 8, 1),
        date(2025, 8, 10),
    )


def test_chinese_middle_third() -> None:
    """ "7月中旬" is 11–20 July."""
    assert zh("听证会将于7月中旬举行。").window_end == date(2025, 7, 20)


def test_chinese_last_third() -> None:
    """ "7月下旬" is 21–31 July."""
    found = zh("听证会将于7月下旬举行。")
    assert (found.kind, found.due, found.window_end) == (
        "event",
        date(2025, 7, 21),
        date(2025, 7, 31),
    )


def test_chinese_month_end() -> None:
    """ "月底" alone is the last day of publication's month, a single day."""
    found = zh("新规定月底生效。")
    assert (found.due, found.window_end) == (date(2025, 7, 31), None)


def test_chinese_month_end_of_a_named_month() -> None:
    """ "明年2月底" is the last day of February next year, no window."""
    found = zh("该豁免将于明年2月底到期。")
    assert (found.due, found.window_end) == (date(2026, 2, 28), None)


def test_today_in_chinese_is_jiri() -> None:
    """ "自即日起实施" takes effect on the publication's own day."""
    found = zh("相关措施自即日起实施。")
    assert found.kind == "effective"
    assert found.window_end is None


def test_originally_set_to_lapse_is_a_move() -> None:
    """ "originally set to lapse on May 31, now runs through August 31": one expiry on
    August 31 moved from May 31; the old date is not a separate item."""
    found = extract(
        "The exemption, originally set to lapse on May 31, now runs through August 31.",
        datetime(2025, 5, 20, 12, tzinfo=NY),
        NY,
    )
    assert [(f.due, f.moved_from) for f in found] == [(date(2025, 8, 31), date(2025, 5, 31))]


def test_chinese_next_month_first() -> None:
    """ "下月1日" is the first of the month after publication."""
    assert zh("新规定下月1日起施行。").due == date(2025, 8, 1)


# ---------------------------------------------------------------- times


def test_time_with_eastern_zone() -> None:
    """ "5 p.m. ET on August 1" is an aware datetime in New York."""
    found = one("Comments are due by 5 p.m. ET on August 1.")
    assert found.due == datetime(2025, 8, 1, 17, 0, tzinfo=NY)


def test_time_edt_before_date() -> None:
    """ "11:59 p.m. EDT" attaches to the date after it."""
    found = one("Submissions must be filed no later than 11:59 p.m. EDT on July 15.")
    assert found.due == datetime(2025, 7, 15, 23, 59, tzinfo=NY)


def test_time_in_other_zone_is_converted() -> None:
    """A time stated in ET read for a Shanghai reader is the same instant, in Shanghai."""
    found = one("The tariffs take effect at 12:01 a.m. EDT on August 1.", PUB, SH)
    assert isinstance(found.due, datetime)
    assert found.due == datetime(2025, 8, 1, 0, 1, tzinfo=NY)
    assert found.due.tzinfo == SH


def test_time_without_zone_uses_zone() -> None:
    """A time with no zone is in the reader's zone."""
    assert one("The hearing begins at 10:00 on July 15.").due == datetime(
        2025, 7, 15, 10, 0, tzinfo=NY
    )


def test_chinese_beijing_time() -> None:
    """ "北京时间2025年8月1日12时01分" is an aware datetime in Shanghai."""
    found = zh("北京时间2025年8月1日12时01分起加征关税。")
    assert (found.kind, found.due) == ("effective", datetime(2025, 8, 1, 12, 1, tzinfo=SH))


# ---------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("The pause expires on July 9.", "expiry"),
        ("The exemption will lapse on July 9.", "expiry"),
        ("The waiver sunsets on July 9.", "expiry"),
        ("The rule comes into force on July 9.", "effective"),
        ("Higher duties go into effect on July 9.", "effective"),
        ("The new rates apply from July 9.", "effective"),
        ("Written comments must be received no later than July 9.", "deadline"),
        ("Companies must submit requests by July 9.", "deadline"),
        ("The USTR will hold a public hearing on July 9.", "event"),
        ("Ministers meet on July 9 for talks.", "event"),
        ("The committee will vote on July 9.", "event"),
        ("暂停期将于7月9日届满。", "expiry"),
        ("暂停加征关税的截止日期为7月9日。", "expiry"),
        ("征求意见截止日期为7月9日。", "deadline"),
        ("请于7月9日之前提交材料。", "deadline"),
        ("自7月9日起加征关税。", "effective"),
        ("商务部将于7月9日召开听证会。", "event"),
        ("双方将于7月9日举行会谈。", "event"),
    ],
)
def test_kind_from_trigger(text: str, kind: str) -> None:
    """The trigger word nearest the date decides the kind."""
    published = PUB_ZH if "月" in text else PUB
    assert one(text, published, SH if "月" in text else NY).kind == kind


def test_two_dates_two_kinds() -> None:
    """Each date takes the trigger nearest to it."""
    found = extract("Tariffs take effect August 1 and comments are due September 2.", PUB, NY)
    assert [(f.kind, f.due) for f in found] == [
        ("effective", date(2025, 8, 1)),
        ("deadline", date(2025, 9, 2)),
    ]


def test_no_trigger_no_finding() -> None:
    """A date with no trigger word is not reported (precision first)."""
    assert extract("The weather on July 9 was fine.", PUB, NY) == []


# ---------------------------------------------------------------- moves


def test_extended_from_to() -> None:
    """ "extended from July 9 to August 12" is August 12, moved from July 9."""
    found = one("The pause was extended from July 9 to August 12.")
    assert (found.due, found.moved_from, found.moved) == (
        date(2025, 8, 12),
        date(2025, 7, 9),
        True,
    )


def test_pushed_back() -> None:
    """ "pushed back from July 9 to August 12" is a move too."""
    found = one("The deadline was pushed back from July 9 to August 12.")
    assert (found.kind, found.due, found.moved_from) == (
        "deadline",
        date(2025, 8, 12),
        date(2025, 7, 9),
    )


def test_postponed_until() -> None:
    """ "postponed until" is a move with no stated origin."""
    found = one("The hearing was postponed until August 12.")
    assert (found.kind, found.due, found.moved, found.moved_from) == (
        "event",
        date(2025, 8, 12),
        True,
        None,
    )


def test_instead_of() -> None:
    """ "August 1 instead of July 9": August 1, moved from July 9."""
    found = one("The tariffs will take effect August 1 instead of July 9.")
    assert (found.due, found.moved_from, found.moved) == (date(2025, 8, 1), date(2025, 7, 9), True)


def test_move_origin_named_before() -> None:
    """ "extended the July 9 deadline to August 1": moved from July 9."""
    found = one("Trump extended the July 9 deadline to August 1.")
    assert (found.due, found.moved_from) == (date(2025, 8, 1), date(2025, 7, 9))


def test_move_origin_before_the_verb() -> None:
    """ "due to expire Aug. 12, was extended … to Nov. 10": moved from Aug. 12."""
    found = one("The truce, due to expire Aug. 12, was extended by 90 days to Nov. 10.")
    assert (found.kind, found.due, found.moved_from) == (
        "expiry",
        date(2025, 11, 10),
        date(2025, 8, 12),
    )


def test_move_from_after_to() -> None:
    """ "deferred the controls to Dec. 1, 2026, from Dec. 1, 2025"."""
    found = one("Beijing deferred the controls to Dec. 1, 2026, from Dec. 1, 2025.")
    assert (found.due, found.moved_from) == (date(2026, 12, 1), date(2025, 12, 1))


def test_chinese_original_date() -> None:
    """ "延长至2025年8月31日，原截止日期为5月31日": moved from May 31."""
    found = zh("豁免期延长至2025年8月31日，原截止日期为5月31日。")
    assert (found.kind, found.due, found.moved_from) == (
        "expiry",
        date(2025, 8, 31),
        date(2025, 5, 31),
    )


def test_news_date_before_a_move_is_not_reported() -> None:
    """ "On June 30, he extended the pause to August 12": only the new date."""
    found = one("On June 30, the president extended the pause to August 12.")
    assert (found.kind, found.due, found.moved) == ("expiry", date(2025, 8, 12), True)


def test_chinese_extended_to() -> None:
    """ "延长至8月12日" is a move."""
    found = zh("暂停期延长至8月12日。")
    assert (found.kind, found.due, found.moved) == ("expiry", date(2025, 8, 12), True)


def test_chinese_postponed_from_to() -> None:
    """ "由7月9日推迟到8月12日" is a move with its origin."""
    found = zh("会谈由7月9日推迟到8月12日举行。")
    assert (found.kind, found.due, found.moved_from) == (
        "event",
        date(2025, 8, 12),
        date(2025, 7, 9),
    )


# ---------------------------------------------------------------- negatives


@pytest.mark.parametrize(
    "text",
    [
        "The Section 232 tariffs on steel take effect.",
        "Under No. 301 the duties apply.",
        "根据301条款加征关税。",
        "A 50% tariff will take effect.",
        "The 2025 tariffs take effect soon.",
        "Q3 revenue is due for a rebound.",
        "Prices rose on a 90-day average basis after the tariffs took effect.",
        "Version 4.14 takes effect.",
        "Call 202-395-3230 to submit comments.",
        "2025年第一季度关税生效。",
        "In 2025 the tariffs take effect.",
        "Importers may submit 12 forms.",
        "Protesters march 5 miles before the hearing.",
    ],
)
def test_not_a_date(text: str) -> None:
    """Numbers that look like dates are not dates."""
    published = PUB_ZH if any("\u4e00" <= c <= "\u9fff" for c in text) else PUB
    assert extract(text, published, published.tzinfo or NY) == []  # type: ignore[arg-type]


# ---------------------------------------------------------------- sentences


def test_sentences_english_and_chinese() -> None:
    """Periods after abbreviations do not split; Chinese full stops do."""
    assert sentences(
        "The U.S. said on Aug. 1 at 5 p.m. ET that it will. Next! 第一句。第二句？"
    ) == [
        "The U.S. said on Aug. 1 at 5 p.m. ET that it will.",
        "Next!",
        "第一句。",
        "第二句？",
    ]


def test_sentences_bounded() -> None:
    """Many short sentences are capped."""
    assert len(sentences("Go. " * 5000)) == MAX_SENTENCES


def test_phrase_is_capped() -> None:
    """The phrase is the sentence, at most 300 characters."""
    found = one("The pause expires July 9 " + "and so on " * 100 + ".")
    assert len(found.phrase) == 300


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "text",
    [
        "a" * 1_000_000,
        "1" * 1_000_000,
        "May 1 " * 200_000,
        "within 30 days of " * 60_000,
        "7月" * 300_000,
        "early " * 100_000 + "July",
        "from July 9 to " * 50_000,
        ". " * 500_000,
        "\x00\ud800\uffff" * 1000,
        "February 30, 2025 takes effect; 2025-13-45 expires; 2月30日生效",
    ],
)
def test_hostile_text(text: str) -> None:
    """Huge or pathological text is read without an exception, and bounded."""
    found = extract(text, PUB, NY)
    assert len(found) <= 10_000


def test_naive_published_is_in_zone() -> None:
    """A naive ``published`` is taken as already in ``zone``."""
    assert one("The pause expires July 9.", datetime(2025, 7, 1)).due == date(2025, 7, 9)


# ---------------------------------------------------------------- properties

_WORDS = st.sampled_from(
    [
        "July 9",
        "9 July 2025",
        "2025-07-09",
        "by",
        "until",
        "expires",
        "takes effect",
        "comments due",
        "hearing",
        "early",
        "mid-",
        "late",
        "end of",
        "June",
        "December 31, 2199",
        "5 p.m. ET",
        "12:01 a.m.",
        "within 30 days of publication",
        "90 days from",
        "for 90 days starting",
        "extended from",
        "to",
        "instead of",
        "next Monday",
        "2025年7月9日",
        "7月下旬",
        "月底",
        "下月31日",
        "生效",
        "延长至",
        "自公布之日起30日内",
        "北京时间",
        "12时",
        ".",
        "。",
        ";",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.one_of(_WORDS, st.text(max_size=8)), max_size=30),
    published=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from([NY, SH, UTC, ZoneInfo("Pacific/Kiritimati")]),
)
def test_properties(words: list[str], published: datetime, zone: ZoneInfo) -> None:
    """Never raises; due is a date or an aware datetime; window_end is not before due."""
    for found in extract(" ".join(words), published, zone):
        if isinstance(found.due, datetime):
            assert found.due.tzinfo is not None
            day = found.due.date()
        else:
            assert isinstance(found.due, date)
            day = found.due
        if found.window_end is not None:
            assert found.window_end >= day
        if found.moved_from is not None:
            assert found.moved
        assert 0.0 <= found.confidence <= 1.0
        assert len(found.phrase) <= 300


# ------------------------------------------------ periods and days around publication


def test_next_month() -> None:
    """ "next month" is the whole month after publication's."""
    found = one("The tariffs take effect next month.")
    assert (found.due, found.window_end) == (date(2025, 8, 1), date(2025, 8, 31))


def test_next_week() -> None:
    """ "next week" is Monday to Sunday of the week after publication's."""
    found = one("A decision is expected next week.")
    assert (found.kind, found.due, found.window_end) == (
        "event",
        date(2025, 7, 7),
        date(2025, 7, 13),
    )


def test_yesterday() -> None:
    """ "yesterday" is the day before publication, and past."""
    found = one("Talks were held yesterday.")
    assert (found.due, found.past) == (date(2025, 6, 30), True)


def test_chinese_next_month() -> None:
    """ "下个月生效" is the whole next month."""
    assert zh("新规定下个月生效。").window_end == date(2025, 7, 31) + timedelta(days=31)


def test_chinese_zero_hour() -> None:
    """ "8月1日零时起" is midnight at the start of 1 August, in Beijing."""
    assert zh("关税自8月1日零时起加征。").due == datetime(2025, 8, 1, 0, 0, tzinfo=SH)


def test_pushed_to() -> None:
    """ "pushed to July 20" is a move."""
    found = one("The vote was pushed to July 20.")
    assert (found.kind, found.due, found.moved) == ("event", date(2025, 7, 20), True)


@pytest.mark.parametrize(
    "published",
    [
        datetime(9999, 12, 30, 12, 0, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59),
    ],
)
def test_publication_at_the_edge_of_the_calendar(published: datetime) -> None:
    """Date arithmetic past year 9999 or before year 1 drops that sentence, never raises."""
    text = (
        "Comments are due within 30 days of publication; 下个月生效; tomorrow; next week; July 9."
    )
    assert isinstance(extract(text, published, SH), list)


# ---------------------------------------------------------------- news conventions


def test_dateline_is_not_a_deadline() -> None:
    """ "WASHINGTON, July 7 (Reuters) -" is the news date, not a finding."""
    text = "BRUSSELS, July 7, 2025 — The EU will respond to the tariffs."
    assert extract(text, datetime(2025, 7, 7, 18, tzinfo=NY), NY) == []


def test_reported_date_is_an_event() -> None:
    """ "Trump said … on Wednesday": when it was said, an event before publication."""
    found = extract("Tariffs take effect August 1, Trump said in a post on Wednesday.", PUB, NY)
    assert [(f.kind, f.due, f.past) for f in found] == [
        ("effective", date(2025, 8, 1), False),
        ("event", date(2025, 6, 25), True),
    ]


def test_chinese_reported_date_is_an_event() -> None:
    """ "7月1日表示" is when it was said."""
    found = extract("发言人7月1日表示，自2025年8月1日起实施出口管制。", PUB_ZH, SH)
    assert [(f.kind, f.due) for f in found] == [
        ("event", date(2025, 7, 1)),
        ("effective", date(2025, 8, 1)),
    ]


def test_future_clause_after_a_past_verb() -> None:
    """ "began notifying … that tariffs would be reimposed on Aug. 1" is a future date."""
    text = "The White House began notifying partners that tariffs would be reimposed on Aug. 1."
    found = one(text, datetime(2025, 7, 7, tzinfo=NY))
    assert (found.due, found.past) == (date(2025, 8, 1), False)


def test_passive_future_is_not_past() -> None:
    """ "a hearing will be held on August 5" read on 1 July is this August."""
    assert one("A hearing will be held on August 5.").due == date(2025, 8, 5)


def test_slashed_date_in_an_american_zone() -> None:
    """ "7/9/2025" read in New York is 9 July (month first)."""
    assert one("The tariffs take effect 7/9/2025.").due == date(2025, 7, 9)


def test_slashed_date_elsewhere() -> None:
    """ "9/7/2025" read in Brussels is 9 July (day first)."""
    brussels = ZoneInfo("Europe/Brussels")
    assert one("The countermeasures apply from 9/7/2025.", PUB, brussels).due == date(2025, 7, 9)


def test_chinese_weekday_after_its_date() -> None:
    """ "7月9日（星期三）" is one date."""
    assert zh("听证会将于7月9日（星期三）举行。").due == date(2025, 7, 9)


def test_chinese_validity_period() -> None:
    """ "自…起施行，有效期至…": the start is effective, the end an expiry."""
    found = extract("《公告》自2025年7月14日起施行，有效期至2025年8月13日。", PUB_ZH, SH)
    assert [(f.kind, f.due) for f in found] == [
        ("effective", date(2025, 7, 14)),
        ("expiry", date(2025, 8, 13)),
    ]


def test_valid_until() -> None:
    """ "valid until" is an expiry."""
    assert one("The licences remain valid until September 30.").kind == "expiry"


def test_chinese_hour_24() -> None:
    """ "7月9日24时" is the end of 9 July: 00:00 on 10 July, in Beijing."""
    found = zh("暂停措施将于7月9日24时到期。")
    assert (found.kind, found.due) == ("expiry", datetime(2025, 7, 10, 0, 0, tzinfo=SH))


# ---------------------------------------------------------------- round 3 rules


def _days(found: list[Found]) -> list[tuple[str, date, bool]]:
    return [
        (f.kind, f.due if not isinstance(f.due, datetime) else f.due.date(), f.past) for f in found
    ]


def test_two_digit_year_after_day_and_month() -> None:
    """ "5 Nov 25": day, month and a two-digit year (20yy), not November 25."""
    found = extract("Bids are due 5 Nov 25.", PUB, NY)
    assert _days(found) == [("deadline", date(2025, 11, 5), False)]
    found = extract("Quota certificates expire on 30 Sep 26, the ministry said.", PUB, NY)
    assert _days(found) == [("expiry", date(2026, 9, 30), False)]


def test_end_of_next_month_and_next_year() -> None:
    """ "the end of next month" is its last day; "the end of next year" December 31 of it."""
    found = extract("Exporters have until the end of next month to apply.", PUB, NY)
    assert [(f.due, f.window_end) for f in found] == [(date(2025, 8, 31), None)]
    found = extract("The program expires at the end of next year.", PUB, NY)
    assert _days(found) == [("expiry", date(2026, 12, 31), False)]


def test_this_evening_is_publications_day() -> None:
    """ "this evening", "this morning" are the reference day; a time beside it is kept."""
    found = extract("The curfew starts at 9 p.m. this evening.", PUB, NY)
    assert [(f.kind, f.due) for f in found] == [
        ("effective", datetime(2025, 7, 1, 21, 0, tzinfo=NY))
    ]


def test_nian_nei_is_the_end_of_the_year() -> None:
    """ "年内" (within the year) is December 31, like "年底"; "三年内" is not."""
    found = extract("相关实施细则将于年内出台。", PUB_ZH, SH)
    assert _days(found) == [("event", date(2025, 12, 31), False)]
    found = extract("企业须在三年内完成整改。", PUB_ZH, SH)
    assert date(2025, 12, 31) not in [f.due for f in found]


def test_chinese_duration_with_words_after_qi() -> None:
    """ "自7月15日起暂停征收附加费60天": the start and the end, with words between 起 and 60天."""
    found = extract("自7月15日起暂停征收附加费60天。", PUB_ZH, SH)
    assert _days(found) == [
        ("effective", date(2025, 7, 15), False),
        ("expiry", date(2025, 9, 13), False),
    ]


def test_held_launch_and_tichu_are_triggers() -> None:
    """ "will be held", "launches" (events) and "提出" (a deadline) name a dated item."""
    assert _days(extract("The auction will be held on July 9.", PUB, NY)) == [
        ("event", date(2025, 7, 9), False)
    ]
    assert _days(extract("The new customs portal launches on July 14.", PUB, NY)) == [
        ("event", date(2025, 7, 14), False)
    ]
    assert _days(extract("利害关系方可于7月20日前提出异议。", PUB_ZH, SH)) == [
        ("deadline", date(2025, 7, 20), False)
    ]


def test_next_and_last_weekday_are_calendar_weeks() -> None:
    """Published Tuesday July 1: "next Thursday" is July 10 (the following week), "last
    Monday" June 23 (the previous week)."""
    assert _days(extract("Officials will meet next Thursday.", PUB, NY)) == [
        ("event", date(2025, 7, 10), False)
    ]
    found = extract("Last Monday, the panel adopted its report.", PUB, NY)
    assert [(f.due, f.past) for f in found] == [(date(2025, 6, 23), True)]


def test_past_verb_after_a_weekday() -> None:
    """ "On Friday, the agency published the list": the verb after the date makes it past;
    an attribution ("…, officials said") does not."""
    found = extract("On Friday, the agency published the list.", PUB, NY)
    assert [(f.due, f.past) for f in found] == [(date(2025, 6, 27), True)]
    found = extract("A ruling is expected Thursday, officials said.", PUB, NY)
    assert [(f.due, f.past) for f in found] == [(date(2025, 7, 3), False)]


def test_same_day_in_the_past_tense_is_a_fact() -> None:
    """ "announced … today" is a fact of the day; "will vote today" is not past."""
    found = extract("The agency announced the new rules today.", PUB, NY)
    assert [(f.due, f.past) for f in found] == [(date(2025, 7, 1), True)]
    found = extract("The board will vote today on the merger.", PUB, NY)
    assert [(f.due, f.past) for f in found] == [(date(2025, 7, 1), False)]


def test_a_future_verb_is_the_weakest_trigger() -> None:
    """With no trigger word, "will <verb>" makes a dated statement an event (weakly);
    "will be <adjective>" and a sentence with a real trigger are left as they were."""
    f = one("The ministry will unveil its licensing plan next Tuesday.")  # PUB: Tue 1 Jul
    assert (f.kind, f.due) == ("event", date(2025, 7, 8))
    assert f.confidence < 0.75
    g = one("Regulators will publish guidance in September.")
    assert (g.kind, g.due, g.window_end) == ("event", date(2025, 9, 1), date(2025, 9, 30))
    assert extract("Markets will be calm on Friday.", PUB, NY) == []
    assert extract("Prices will not fall on Friday.", PUB, NY) == []
    h = one("The duties will take effect on August 4.")
    assert h.kind == "effective"  # a real trigger wins
    assert h.confidence > 0.75
