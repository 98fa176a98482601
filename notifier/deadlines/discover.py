"""Deadlines found in news text, English and Chinese: a pure function of text and ``published``.

No I/O and no clock: every date is resolved against ``published`` (converted
to ``zone``). Rules of our own — trigger words, a date grammar and duration
arithmetic — rather than a general date parser, which picked wrong years and
could not read Chinese.

::

    text ──sentences()──▶ sentences ──dates + times + triggers──▶ mentions ──resolve──▶ [Found]

Conventions (pinned by ``tests/test_discover.py``):

* **Missing year.** The next occurrence on or after publication — unless the
  last one is at most :data:`RECENT_DAYS` before it (news reports recent facts:
  "took effect June 4" read on June 10) or the sentence is in the past tense
  ("took effect on June 4", "said on Monday", "On Friday, the agency published";
  an attribution after the date, "…, officials said", does not count), then the
  previous one. ``past`` says whether the date is before publication's day (in
  ``zone``), or is that day told in the past tense by a verb within 40 characters
  ("announced the rules today", "took effect at 12:01 a.m. on Wednesday").
* **Weekdays.** "on/by Monday" and a bare "Monday" are the first such day on
  or after publication's day; in a past-tense sentence the one on or before it;
  "next Monday"/"last Monday" the Monday of the following/previous calendar
  week. Chinese "下周一"/"上周五" likewise (weeks start on Monday); "周一"/"星期一"
  as in English. "Monday, July 21" is the date only.
* **Fuzzy windows.** "early July" 1–10, "mid-July" 11–20, "late July" 21–end,
  "end of June" / "year-end" the last 7 days, "in July" the whole month, "July
  28-29" / "7月28日至29日" those days; Chinese 上旬/中旬/下旬 the same thirds,
  月底/月末 the last 7 days, 月初 1–10; "late this month", "early next month"
  from publication's month; "年内" (within the year) is December 31 like "年底";
  "the end of next month/year" the last day of the next
  month / December 31 of next year. ``due`` is the first day and ``window_end`` the
  last. **An end after "by/at/until/to" or before "前" is a point**: "by the end
  of June" is June 30, "by the end of the quarter" the last day of
  publication's quarter, "本月底前" the month's last day (no window).
* **Durations.** "within 30 days of publication", "30 days from today",
  "自公布之日起30日内", "三天后" count from publication; "90 days from May 14" is
  May 14 + 90 days; "14 days after the hearing on July 21" also reports the
  hearing (an event); "for 90 days starting April 9" and "a 30-day period
  beginning on X" give the start (effective) and its end (expiry) — in a move
  ("extended for 90 days from Aug. 12") only the end, moved from the start;
  "自5月14日起…暂停90天" the start (effective, by its "起") and the end (up to six
  characters may stand between "起/暂停" and the number: "起暂停加征关税90天"); a start
  without "起" is reported only with a trigger of its own ("公告发布后45日内": the
  notice, an event).
  Business days skip Saturdays and Sundays; months keep the day (clamped).
* **Times.** A time of day next to a date makes ``due`` an aware datetime: in
  the stated zone ("5 p.m. ET", "北京时间") converted to ``zone``, else in
  ``zone``; "midnight tonight" and "24时" are the end of that day (00:00 the next).
  "this morning/afternoon/evening" are publication's day ("7 p.m. this evening").
* **Kinds.** The trigger word nearest the date decides (in Chinese a trigger
  after the date is as near as one before); a preposition before the date
  ("by", "until", "starting") counts :data:`PREPOSITION_PENALTY` characters
  away, a particle after it ("起", "前") right beside it — but "前" in a plan
  ("拟于年底前出台") only as a preposition.
* **Moves.** "extended/postponed/pushed back … to", "instead of", "延长至",
  "推迟至" set ``moved``; the old date, when stated ("from July 9 to August 12",
  "the July 9 deadline to August 1", "due to expire Aug. 12, was extended to",
  "原截止日期为5月31日"), is ``moved_from`` and is not reported on its own; a
  sentence-opening "On June 30, …" before the move is the news date, dropped.
* **Dates.** "July 9, 2025", "9 July 2025", "17 Sep 09" (a two-digit year after a
  day and month: 20yy), "Aug. 1", "2025-07-09",
  "2025年7月9日", "7月9日"; "7/9/2025" (a four-digit year only) is month first in
  an ``America/`` zone and day first elsewhere.
* **News conventions.** A dateline ("WASHINGTON, July 7 (Reuters) -") is not
  reported; a date a statement was made on ("said … on Wednesday", "7月10日表示")
  is an ``event``; a past-tense verb is undone by a later modal ("began
  notifying partners that tariffs would be reimposed on Aug. 1") or a modal
  before it ("will be held").
* **Precision first.** A date with no trigger word in its sentence is not
  reported; numbers that merely look like dates (section numbers, percentages,
  years alone, quarters, versions, phone numbers) never are.

Bounded: the first 20 000 characters, 400 sentences of at most 1 000
characters, 40 dates a sentence; every regex is precompiled and has no nested unbounded
quantifier.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["MAX_SENTENCES", "MAX_TEXT", "Found", "Kind", "extract", "sentences"]

Kind = Literal["expiry", "effective", "deadline", "event"]

#: Only this much of a text is read.
MAX_TEXT = 20_000
#: At most this many sentences are read.
MAX_SENTENCES = 400
#: A longer "sentence" (no punctuation) is cut into pieces of this length.
MAX_SENTENCE = 1_000
#: At most this many dates are read in one sentence.
MAX_MENTIONS = 40
#: ``Found.phrase`` is capped at this length.
MAX_PHRASE = 300
#: A preposition before a date ("by", "until", "starting") counts as a trigger this many
#: characters away: a trigger word nearer than that decides.
PREPOSITION_PENALTY = 25
#: How sure a date is that only a future verb ("will") makes a statement.
FUTURE_CONFIDENCE = 0.6
#: A date without a year at most this many days before publication is that recent
#: date (a reported fact), not next year's.
RECENT_DAYS = 60


@dataclass(frozen=True, slots=True)
class Found:
    """One dated statement found in a text."""

    kind: Kind
    #: An aware datetime in ``zone`` when a time of day is stated, else a date.
    due: date | datetime
    #: The last day of a fuzzy window ("early July": the 10th), else None.
    window_end: date | None
    #: The date it was moved from, when the sentence says so.
    moved_from: date | None
    #: The date is before publication: a reported fact, not a plan.
    past: bool
    #: The sentence (or its first 300 characters) that states it.
    phrase: str
    #: 0..1: how sure the rules are of the kind and the date.
    confidence: float
    #: The sentence says the date was moved ("extended to", "推迟至", "instead of").
    moved: bool = False


# ---------------------------------------------------------------- sentences

_FULLWIDTH = str.maketrans("０１２３４５６７８９：", "0123456789:")
_ABBREVIATIONS = frozenset(
    [
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "no",
        "nos",
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "sec",
        "secs",
        "art",
        "arts",
        "inc",
        "corp",
        "co",
        "ltd",
        "jr",
        "sr",
        "vs",
        "e.g",
        "i.e",
        "p.m",
        "a.m",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "gov",
        "rep",
        "sen",
        "dept",
        "fig",
        "approx",
        "est",
        "etc",
    ]
)
_BOUNDARY = re.compile(r"[.!?][\"”’)\]]*\s+|[。！？][\"”’」』)）]*|[\r\n]+")
_LAST_WORD = re.compile(r"([A-Za-z.]{1,12})$")


def sentences(text: str) -> list[str]:
    """Split English and Chinese ``text`` into sentences, bounded.

    Reads the first :data:`MAX_TEXT` characters and returns at most
    :data:`MAX_SENTENCES` sentences of at most :data:`MAX_SENTENCE` characters.
    A period after an abbreviation ("Aug.", "p.m.", "U.S.") or before a
    lower-case word or a digit does not end a sentence.
    """
    text = text[:MAX_TEXT]
    out: list[str] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        mark = boundary.group()
        if mark[0] == ".":
            word = _LAST_WORD.search(text, max(0, boundary.start() - 12), boundary.start())
            if word and word.group(1).lower().lstrip(".") in _ABBREVIATIONS:
                continue
            following = text[boundary.end() : boundary.end() + 1]
            if following and (following.islower() or following.isdigit()):
                continue
        _append(out, text[start : boundary.end()])
        start = boundary.end()
        if len(out) >= MAX_SENTENCES:
            return out[:MAX_SENTENCES]
    _append(out, text[start:])
    return out[:MAX_SENTENCES]


def _append(out: list[str], piece: str) -> None:
    piece = piece.strip()
    while piece:
        out.append(piece[:MAX_SENTENCE].strip())
        piece = piece[MAX_SENTENCE:].strip()


# ---------------------------------------------------------------- the grammar

_MONTH_NUMBERS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# Capitalised only: "may" and "march" are verbs.
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_YEAR = r"(?:19[89]\d|20\d\d|21\d\d)"
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty-five": 45,
    "forty": 40,
    "sixty": 60,
    "ninety": 90,
    "hundred": 100,
}
_NUM = r"(?:\d{1,3}|forty-five|" + "|".join(k for k in _NUMBER_WORDS if "-" not in k) + ")"
_UNIT = r"(?:(?:calendar|business|working)\s+)?(?:days?|weeks?|months?|years?)"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}

_ISO = re.compile(r"(?<![\d.\-/])(" + _YEAR + r")[-/](\d{1,2})[-/](\d{1,2})(?![\d\-/]|\.\d)")
# "7/9/2025": month first in American zones, day first elsewhere; a four-digit year only.
_SLASHED = re.compile(r"(?<![\d./-])(\d{1,2})/(\d{1,2})/(" + _YEAR + r")(?![\d/-]|\.\d)")
_MDY = re.compile(
    r"\b(" + _MONTH + r")\s+(\d{1,2})(?:st|nd|rd|th)?(?:\s*[-–]\s*(\d{1,2})(?:st|nd|rd|th)?)?"
    r"\b(?![.:]\d|%)(?:,?\s+(" + _YEAR + r")\b)?"
)
_DMY = re.compile(
    r"(?<![\d.])\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?("
    + _MONTH
    + r")(?:,?\s+("
    + _YEAR
    + r")\b)?"
)
# "17 Sep 09", "1 Aug 25": day, month, two-digit year (20yy); not before a time or a number.
_DMY_SHORT = re.compile(
    r"(?<![\d.])\b(\d{1,2})\s+(" + _MONTH + r")\s+(\d{2})\b(?![\d:%]|[.,]\d|\s*[ap]\.?m\b)"
)
_FUZZY = re.compile(
    r"\b(early|mid|late|(?:the\s+)?end\s+of|end|(?:the\s+)?(?:beginning|start|middle)\s+of"
    r"|(?:the\s+)?(?:first|second)\s+half\s+of)[\s-]+(?:(?:this|next)\s+)?("
    + _MONTH
    + r")(?:,?\s+("
    + _YEAR
    + r"))?(?!\s*\d)",
    re.IGNORECASE,
)
_MONTH_ONLY = re.compile(
    r"\b(?:in|by|until|through|during|before)\s+("
    + _MONTH
    + r")(?:,?\s+("
    + _YEAR
    + r"))?\b(?!\s*\d)"
)
_END_OF = re.compile(
    r"\b(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|(next)\s+)?(month|year|quarter|"
    + _YEAR
    + r")\b|\byear[-\s]end\b",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(
    r"\b(?:(next|this|last|on|by|before|until|from|coming)\s+)?(" + "|".join(_WEEKDAYS) + r")\b",
    re.IGNORECASE,
)
_REL = re.compile(
    r"\b(?:(within|in|after)\s+)?(?:the\s+)?(" + _NUM + r")[\s-]+(" + _UNIT + r")"
    r"(?:\s+(of|after|from|following)\s+)?",
    re.IGNORECASE,
)
_PUBLICATION = re.compile(
    r"(?:the\s+)?(?:date\s+of\s+)?(?:its\s+|their\s+|this\s+|the\s+)?(?:publication|publishing"
    r"|today|now|issuance|announcement|(?:it|this\s+\w+|they|the\s+\w+)\s+(?:is|are|was|were)"
    r"\s+published|being\s+published|the\s+date\s+hereof|enactment|signing|entry\s+into\s+force)",
    re.IGNORECASE,
)
_UPON_PUBLICATION = re.compile(
    r"\b(?:effective|take\s+effect|takes\s+effect)\s+(?:immediately|upon\s+(?:its\s+)?publication"
    r"|on\s+(?:the\s+date\s+of\s+)?(?:its\s+)?publication)",
    re.IGNORECASE,
)
_FILLER = r"((?:the\s+)?(?:its\s+|[\w-]{1,20}'s\s+|[\w-]{1,20}\s+on\s+)?)"
_ANCHOR_BEFORE = re.compile(
    r"("
    + _NUM
    + r")[\s-]+("
    + _UNIT
    + r")\s+(?:from|after|following)\s+(?:on\s+)?"
    + _FILLER
    + r"$",
    re.IGNORECASE,
)
_FOR_BEFORE = re.compile(
    r"\bfor\s+(?:a\s+(?:further\s+|period\s+of\s+|another\s+)?|another\s+|an\s+additional\s+)?("
    + _NUM
    + r")[\s-]+("
    + _UNIT
    + r")\s*,?\s+(?:starting|beginning|from|effective|as\s+of|commencing)\s+(?:on\s+)?"
    + _FILLER
    + r"$"
    # "a 30-day grace period beginning on", "the 120-day review that began on"
    r"|\b(" + _NUM + r")-(day|week|month|year)\s+(?:[\w-]{1,20}\s+){0,3}?(?:that\s+|which\s+)?"
    r"(?:starting|beginning|began|begins|started|from|commencing)\s+(?:on\s+)?" + _FILLER + r"$",
    re.IGNORECASE,
)
# A duration after a Chinese date: "自5月14日起…暂停90天", "起有效期为6个月", "公告发布后45日内".
_MODAL_BEFORE = re.compile(
    r"\b(?:will|would|shall|to|is|are|be|being|must|can|may|might|should|could)\s+(?:be\s+)?$",
    re.IGNORECASE,
)
_FUTURE = re.compile(
    r"\b(?:will|would|shall|is\s+to|are\s+to|set\s+to|due\s+to|expected|plans?\s+to"
    r"|going\s+to|scheduled)\b|将|拟",
    re.IGNORECASE,
)
_DATELINE_BEFORE = re.compile(r"^[A-Z][A-Z .'-]{1,30}(?:,\s*[A-Z][A-Za-z .]{1,20})?,?\s*$")
_DATELINE_AFTER = re.compile(r",?\s*(?:" + _YEAR + r"\s*)?(?:\([^)]{1,30}\)\s*)?[-–—]")
_REPORTED_BEFORE = re.compile(
    r"\b(?:said|announced|told\s+\w+|stated|wrote|reported|confirmed)\b[^,.;]{0,30}?\bon\s*$",
    re.IGNORECASE,
)
_REPORTED_AFTER = re.compile(r"\s*(?:表示|宣布|称|说|指出|透露|发表|发布了)")
_PLANNED = re.compile(r"拟|计划|预计|有望|打算")
_COORDINATED = re.compile(r"^\s*(?:,|and|or|to|至|到|和|及|、)\s*$", re.IGNORECASE)
_NAMED_AFTER = re.compile(r"\s+[a-z]")
_DEADLINE_NEAR = re.compile(r"[^。；;，,]{0,12}?(?:申请|提交|申报|报名|登记|提出)")
_ZH_EVENT_AFTER = re.compile(r"[^。；;，,]{0,4}?(?:发布|公布|印发|签署|举行|结束)")
_ZH_SPAN_AFTER = re.compile(
    r"[^。；;]{0,24}?(?:起|后|为期|暂停|有效期为?|设)[^。；;，,\d至到年月日]{0,6}?([\d一二三四五六七八九十两]{1,4})\s*"
    r"(个工作日|个月|天|日|周|个星期|年)"
)

_TODAY = re.compile(
    r"\b(today|tonight|tomorrow|yesterday|the\s+day\s+after\s+tomorrow"
    r"|this\s+(?:morning|afternoon|evening))\b",
    re.IGNORECASE,
)
_ZH_TODAY = re.compile(r"今天|今日|今晚|明天|明日|后天|当天|当日|即日|昨天|昨日|前天")
_TODAY_SHIFT = {
    "tomorrow": 1,
    "yesterday": -1,
    "明天": 1,
    "明日": 1,
    "后天": 2,
    "昨天": -1,
    "昨日": -1,
    "前天": -2,
}
# "next week", "next month", "下周", "下个月": the whole week (Monday to Sunday) or month.
_NEXT_PERIOD = re.compile(
    r"\b(?:(?:early|later|late|mid)[\s-]+)?(next|this)\s+(week|month)\b"
    r"|(下周|下个?星期|本周|下个?月|本月)(?![一二三四五六日天\d上中下初底末]|\s*\d)",
    re.IGNORECASE,
)
_ZH_NUM = r"[\d一二三四五六七八九十两]{1,4}"
_ZH_IN = re.compile(
    r"(" + _ZH_NUM + r")\s*(个工作日|个月|天|日|周|个星期|年)\s*(?:后|内|之内|以内)"
)
_THIS_MONTH = re.compile(
    r"\b(early|mid|late|(?:the\s+)?end\s+of|(?:the\s+)?(?:beginning|start|middle)\s+of)"
    r"[\s-]+(this|next)\s+month\b",
    re.IGNORECASE,
)
_QUARTER_END = re.compile(
    r"\bend\s+of\s+(?:the\s+)?(?:(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter"
    r"|Q([1-4]))\b|第([一二三四1-4])季度(?:末|底)",
    re.IGNORECASE,
)
_QUARTERS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
}
_QUARTERS.update({"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4})
_POINT_BEFORE = re.compile(
    r"(?:\b(?:by|at|before|until|till|through|to|no\s+later\s+than)(?:\s+the)?|至|到)\s*$",
    re.IGNORECASE,
)
_POINT_AFTER = re.compile(r"^\s*(?:前|之前|以前)")
_ENDISH = re.compile(r"end|底|末", re.IGNORECASE)
_ZH_DATE = re.compile(
    r"(?:(" + _YEAR + r")\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]"
    r"(?:\s*(?:至|到|-|–|—)\s*(\d{1,2})\s*[日号])?"
)
_ZH_FUZZY = re.compile(
    r"(?:(" + _YEAR + r")\s*年\s*)?(\d{1,2})\s*月\s*(上旬|中旬|下旬|初|中|底|末|份|内)"
)
_ZH_RELATIVE_MONTH = re.compile(
    r"(本月|当月|下月|下个月|次月)\s*(?:(\d{1,2})\s*[日号]|(上旬|中旬|下旬|初|底|末))"
)
_ZH_MONTH_END = re.compile(r"(?<![\d本当下个次])月(?:底|末)")
_ZH_YEAR_END = re.compile(
    r"(?:(" + _YEAR + r")\s*年|今年|本年|年)(?:底|末)|(?<![\d一二三四五六七八九十两个半])年内"
)
_ZH_WEEKDAY = re.compile(
    r"(下周|下个?星期|上周|上个?星期|本周|这周|周|星期|礼拜)([一二三四五六日天])"
)
_ZH_REL = re.compile(
    r"(?:公布|发布|印发|公告|签署|施行|通知|本公告|本决定)之日起\s*(\d{1,3})\s*(个工作日|个月|日|天|周)"
)
_ZH_UPON = re.compile(r"自(?:本\w{0,4})?(?:公布|发布|印发)之日起(?:施行|生效|实施|执行)")

_TIME = re.compile(
    r"\b(?:(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s?m\b\.?|(\d{1,2}):(\d{2})\b|(noon|midnight))"
    r"(?:\s*\(?(ET|EDT|EST|CT|CDT|CST|PT|PDT|PST|MT|MDT|MST|GMT|UTC|BST|CET|CEST|JST"
    r"|Eastern(?:\s+(?:Daylight|Standard))?(?:\s+Time)?|Central(?:\s+Time)?|Pacific(?:\s+Time)?"
    r"|Beijing\s+time|Brussels\s+time|Geneva\s+time|Washington\s+time)\)?)?",
    re.IGNORECASE,
)
_ZH_TIME = re.compile(
    r"(上午|下午|晚上|晚|凌晨|中午)?\s*(\d{1,2}|零)\s*(?:时|点|:)\s*(?:(\d{1,2})\s*分?|整|半)?"
)
_ZONES = {
    "et": "America/New_York",
    "edt": "America/New_York",
    "est": "America/New_York",
    "eastern": "America/New_York",
    "washington": "America/New_York",
    "ct": "America/Chicago",
    "cdt": "America/Chicago",
    "cst": "America/Chicago",
    "central": "America/Chicago",
    "pt": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "mt": "America/Denver",
    "mdt": "America/Denver",
    "mst": "America/Denver",
    "gmt": "UTC",
    "utc": "UTC",
    "bst": "Europe/London",
    "cet": "Europe/Brussels",
    "cest": "Europe/Brussels",
    "brussels": "Europe/Brussels",
    "geneva": "Europe/Zurich",
    "jst": "Asia/Tokyo",
    "beijing": "Asia/Shanghai",
}
_ZH_ZONES = (
    ("北京时间", "Asia/Shanghai"),
    ("美国东部时间", "America/New_York"),
    ("华盛顿时间", "America/New_York"),
    ("美东时间", "America/New_York"),
    ("布鲁塞尔时间", "Europe/Brussels"),
)

# Trigger words. Strong ones name the thing; prepositions right before a date are weaker.
_TRIGGERS: dict[Kind, str] = {
    "expiry": (
        r"\bexpir\w*|\bend(?:s|ed)?\b(?!\s+of)|\blapse[sd]?\b|\bsunsets?\b|\brun(?:s)?\s+out"
        r"|\bterminat\w+|\bremains?\s+in\s+(?:effect|force|place)|\bpause[sd]?\b|\bsuspen\w+"
        r"|\btruce\b|\bexemptions?\b|\bwaivers?\b|\breprieve\b"
        r"|\bvalid\s+(?:until|through|till)|\bremains?\s+valid"
        r"|到期|届满|期满|失效|终止|暂停|暂缓|豁免|排除期|有效期"
    ),
    "effective": (
        r"\btak(?:e|es|en|ing)\s+effect|\btook\s+effect|\bcom(?:e|es|ing)\s+into\s+(?:force|effect)"
        r"|\bcame\s+into\s+(?:force|effect)|\bent(?:er|ers|ered|ering)\s+into\s+force"
        r"|\bkick(?:s|ed|ing)?\s+in|\b(?:go|goes|going|went|gone)\s+into\s+effect"
        r"|\bappl(?:y|ies|ied)\b(?!\s+for)|\bin\s+place\b|\bbecomes?\s+effective|\beffective\b|\bimpos\w+|\bimplement\w*|\blevied\b"
        r"|\bbegins?\b|\bbegan\b|\bstart(?:s|ed)?\b|\bcommence\w*|\breset\w*"
        r"|生效|施行|实施|实行|执行|加征|征收|开始|起适用"
    ),
    "deadline": (
        r"\bcomments?\b|\bdue\b|\bno\s+later\s+than|\bnot\s+later\s+than|\bdeadlines?\b|\bsubmi\w+"
        r"|\bfil(?:e|es|ed|ing)\b|\bregist\w+|\bapplications?\b|\brequests?\b|\brespon(?:d|ses?)\b"
        r"|截至|截止|之前提交|前提交|提交|征求意见|书面意见|提出|反馈|申请|报名|登记|期限|申报"
    ),
    "event": (
        r"\bdecisions?\b|\bdecide\w*|\bhearings?\b|\bmeet(?:s|ing|ings)?\b|\bvot(?:e|es|ing)\b"
        r"|\btalks\b|\bsummit\b|\bnegotiat\w+|\brulings?\b|\bdetermination\b|\bconsultations?\b"
        r"|\bconference\b|\bvisit\b|\bannounce\w*|\bround\b|\bsession\b|\bmet\b|\bheld\b"
        r"|\blaunch\w*|\bintroduc\w+|\b(?:go|goes|went|going)\s+live\b"
        r"|\bpublish(?:es|ed|ing)?\b|\badopt\w*|\bconclu\w+|\bfinish\w*|\bcomplet\w+"
        r"|\bresum\w+|\bexpected\b|\bexpects?\s+to|\bscheduled\b|\bslated\b|\bplann?(?:ed|s)?\s+(?:to|for)"
        r"|\baims?\s+to|\bset\s+for|\bsen[dt]\b|\breleases?\b|\bsign(?:s|ed|ing)?\b"
        r"|听证会|会谈|会议|作出决定|作出裁决|裁决|磋商|谈判|投票|表决|举行|召开|会晤|会面"
        r"|发表|出台|完成|拟于|公布"
    ),
}
_TRIGGER = re.compile(
    "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _TRIGGERS.items()), re.IGNORECASE
)
_PAUSE_ZH = re.compile(r"暂停|暂缓|豁免|排除|休战")
#: The weakest trigger, used only when a sentence has no other: a future verb makes its
#: date an event ("will brief reporters next Thursday", "will issue its rule in August").
_FUTURE_VERB = re.compile(
    r"\b(?:will|shall)\s+(?!not\b|be\b|have\b)[a-z]+|\b(?:is|are)\s+to\s+(?!be\b)[a-z]+",
    re.IGNORECASE,
)
# A preposition right before (or a particle right after) a date.
_PREP_BEFORE = re.compile(
    r"(?P<deadline>\b(?:by|before|no\s+later\s+than|not\s+later\s+than|within|prior\s+to)"
    r"(?:\s+the)?|截至)\s*$"
    r"|(?P<expiry>\b(?:until|till|through|thru|to)|至|到)\s*$"
    r"|(?P<effective>\b(?:starting|beginning|from|as\s+of|effective|commencing|on\s+and\s+after)"
    r"(?:\s+on)?|自|从)\s*$",
    re.IGNORECASE,
)
_PAST_AFTER = re.compile(
    r"[^;；。]{0,30}?(?:\b(?:took|went|came|entered|kicked|expired|ended|lapsed|began|started"
    r"|were|was|announced|agreed|signed|held|published|issued|approved|voted|released"
    r"|launched|unveiled|reached|imposed|raised|decided|ruled|returned"
    r"|sold|died)\b|已经)",
    re.IGNORECASE,
)
_ON_DATE_COMMA = re.compile(r"^\s*(?:On|Since|As\s+of|Last)\s*$")
_PREP_AFTER = re.compile(r"^\s*(?:(?P<effective>起|开始)|(?P<deadline>前|之前|以前))")
_PAST = re.compile(
    r"\b(?:took|went|came|entered|kicked|expired|ended|lapsed|began|started|said|announced"
    r"|signed|held|published|issued|imposed|agreed|met|reached|released|unveiled|raised|launched"
    r"|voted|decided|ruled|updated|approved|revealed|occurred|last|ago|earlier|was|were)\b(?!\s+(?:set|scheduled|expected|due"
    r"|supposed|going|extended|postponed|delayed|pushed|moved|to\b))|已于|已经|此前|曾于|日前",
    re.IGNORECASE,
)
_MOVE = re.compile(
    r"\b(?:extend\w*|postpon\w+|push(?:ed|es|ing)?\s+back|delay\w*|defer\w*|reschedul\w+"
    r"|mov(?:e|ed|es|ing)\s+(?:up|back|forward)?|push(?:ed|es|ing)?\s+(?:to|until)|instead\s+of|rather\s+than|pushed\s+out"
    r"|prolong\w*|brought\s+forward"
    r"|(?:originally|initially|first|previously)\s+(?:scheduled|set|due|planned|slated))"
    r"|延长|延期|推迟|延至|顺延|延后|改为|调整为|提前至",
    re.IGNORECASE,
)
_EXTEND = re.compile(r"extend|prolong|延长|延期|延至|顺延", re.IGNORECASE)
_FROM_BEFORE = re.compile(r"(?:\bfrom|由|从|原定于?|原定的|原先的?)\s*$", re.IGNORECASE)
_TO_BEFORE = re.compile(r"(?:\b(?:to|until|till|through)|至|到)\s*(?:the\s+)?$", re.IGNORECASE)
_INSTEAD_BEFORE = re.compile(
    r"(?:原[^，。；,]{0,6}?为|\binstead\s+of|\brather\s+than"
    r"|\b(?:originally|initially|first|previously)\s+(?:scheduled|set|due|planned|slated)\s+"
    r"(?:for|on|to\s+\w+(?:\s+on)?)|原定于?|原计划)"
    r"\s*(?:the\s+)?$",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[;；]")
_INTERESTING = re.compile(
    r"\d|day|week|month|year|quarter|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
    r"|[Mm]onday|[Tt]uesday|[Ww]ednesday|[Tt]hursday|[Ff]riday|[Ss]aturday|[Ss]unday"
    r"|immediately|publication|today|tomorrow|tonight|yesterday|morning|evening|afternoon|week|月|周|星期|礼拜|年底|年末|年内"
    r"|公布|发布|昨|明|今|前天|后天"
    r"|季度|天|日|今晚"
)


@dataclass(slots=True)
class _Mention:
    """A date-like span of a sentence, and how to turn it into dates."""

    start: int
    end: int
    #: (past?) -> (first day, window end or None), or None if invalid.
    resolve: Callable[[bool], tuple[date, date | None] | None]
    confidence: float = 0.9
    hint: Kind | None = None
    fixed: bool = False  # the year (or the whole date) is stated: past comes from the date
    #: The time of day, the zone it was stated in, and whether it is the end of the day
    #: ("24时": 00:00 the next day).
    time_of_day: tuple[time, str | None, bool] | None = None
    weekday: bool = False  # "Monday" (dropped before "Monday, July 21")
    relative: bool = False  # counted from publication ("within 30 days")
    tonight: bool = False  # "midnight tonight" is the end of publication's day
    anchor: bool = False  # the start of a stated duration: reported only with its own trigger
    start_of: _Mention | None = None  # for the end of a duration: the mention it counts from
    kind: Kind | None = None  # decided by the grammar itself (the end of a stated duration)


@dataclass(frozen=True, slots=True)
class _Context:
    today: date
    zone: ZoneInfo


# ---------------------------------------------------------------- date helpers


def _month(name: str) -> int:
    return _MONTH_NUMBERS[name[:3].lower()]


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _safe(year: int, month: int, day: int) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1 <= year <= 9998):
        return None
    if day > _last_day(year, month):
        return None
    return date(year, month, day)


def _yearless(
    today: date, month: int, first: int, last: int | None, past: bool
) -> tuple[date, date | None] | None:
    """The window (first..last day of ``month``) next on or after today, or last before it."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        start = _safe(year, month, first)
        if start is None:
            continue
        end = _safe(year, month, min(last, _last_day(year, month))) if last else None
        candidates.append((start, end))
    if not candidates:
        return None
    if past:
        before = [c for c in candidates if c[0] <= today]
        return before[-1] if before else candidates[0]
    recent = [c for c in candidates if (c[1] or c[0]) < today]
    if recent and (today - (recent[-1][1] or recent[-1][0])).days <= RECENT_DAYS:
        return recent[-1]
    after = [c for c in candidates if (c[1] or c[0]) >= today]
    return after[0] if after else candidates[-1]


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _last_day(year, month)))


def _add(day: date, amount: int, unit: str) -> date:
    unit = unit.lower()
    if "year" in unit or unit == "年":
        return _add_months(day, 12 * amount)
    if "month" in unit or "月" in unit:
        return _add_months(day, amount)
    if "week" in unit:
        return day + timedelta(weeks=amount)
    if "business" in unit or "working" in unit or "工作日" in unit:
        moved = day
        left = amount
        while left > 0:
            moved += timedelta(days=1)
            if moved.weekday() < 5:
                left -= 1
        return moved
    return day + timedelta(days=amount)


def _number(text: str) -> int:
    text = text.lower()
    return int(text) if text.isdigit() else _NUMBER_WORDS.get(text, 0)


def _window(kind: str, year: int, month: int) -> tuple[int, int]:
    last = _last_day(year, month)
    kind = kind.lower()
    if kind in ("early", "初", "上旬") or "beginning" in kind or "start" in kind:
        return 1, 10
    if kind in ("mid", "中", "中旬") or "middle" in kind:
        return 11, 20
    if kind in ("late", "下旬"):
        return 21, last
    if "first half" in kind:
        return 1, 15
    if "second half" in kind:
        return 16, last
    if kind in ("份", "内"):
        return 1, last
    return last, last  # end of, 底, 末: the last day, a point (the README's convention)


# ---------------------------------------------------------------- mentions


def _mentions(s: str, ctx: _Context) -> list[_Mention]:
    found: list[_Mention] = []
    today = ctx.today

    def fixed(
        y: int, mo: int, d1: int, d2: int | None = None
    ) -> Callable[[bool], tuple[date, date | None] | None]:
        def resolve(past: bool) -> tuple[date, date | None] | None:
            start = _safe(y, mo, d1)
            if start is None:
                return None
            return start, (_safe(y, mo, d2) if d2 else None)

        return resolve

    def loose(
        mo: int, d1: int, d2: int | None = None
    ) -> Callable[[bool], tuple[date, date | None] | None]:
        return lambda past: _yearless(today, mo, d1, d2, past)

    def month_window(
        y: int | None, mo: int, word: str
    ) -> Callable[[bool], tuple[date, date | None] | None]:
        def resolve(past: bool) -> tuple[date, date | None] | None:
            year = y or today.year
            if not 1 <= mo <= 12:
                return None
            first, last = _window(word, year, mo)
            if y:
                return date(y, mo, first), (date(y, mo, last) if last != first else None)
            resolved = _yearless(today, mo, first, last, past)
            if resolved is not None and resolved[0] == resolved[1]:
                return resolved[0], None
            return resolved

        return resolve

    for m in _ISO.finditer(s):
        found.append(
            _Mention(m.start(), m.end(), fixed(int(m[1]), int(m[2]), int(m[3])), fixed=True)
        )
    for m in _SLASHED.finditer(s):
        left, right = int(m[1]), int(m[2])
        month_first = ctx.zone.key.startswith("America/") if ctx.zone.key else False
        mo, d = (left, right) if (month_first and left <= 12) or right > 12 else (right, left)
        found.append(_Mention(m.start(), m.end(), fixed(int(m[3]), mo, d), fixed=True))
    for m in _MDY.finditer(s):
        mo, d = _month(m[1]), int(m[2])
        d2 = int(m[3]) if m[3] and int(m[3]) > d else None
        if m[4]:
            found.append(_Mention(m.start(), m.end(), fixed(int(m[4]), mo, d, d2), fixed=True))
        else:
            found.append(_Mention(m.start(), m.end(), loose(mo, d, d2), confidence=0.85))
    for m in _DMY.finditer(s):
        mo, d = _month(m[2]), int(m[1])
        if m[3]:
            found.append(_Mention(m.start(), m.end(), fixed(int(m[3]), mo, d), fixed=True))
        else:
            found.append(_Mention(m.start(), m.end(), loose(mo, d), confidence=0.85))
    for m in _DMY_SHORT.finditer(s):
        mo, d = _month(m[2]), int(m[1])
        found.append(_Mention(m.start(), m.end(), fixed(2000 + int(m[3]), mo, d), fixed=True))
    for m in _FUZZY.finditer(s):
        if not m[2][:1].isupper():
            continue
        year = int(m[3]) if m[3] else None
        found.append(
            _Mention(
                m.start(), m.end(), month_window(year, _month(m[2]), m[1]), 0.75, fixed=bool(year)
            )
        )
    for m in _MONTH_ONLY.finditer(s):
        year = int(m[2]) if m[2] else None
        found.append(
            _Mention(
                m.start(1), m.end(), month_window(year, _month(m[1]), "份"), 0.6, fixed=bool(year)
            )
        )
    for m in _END_OF.finditer(s):
        what = (m[2] or "year").lower()
        later = 1 if m[1] else 0  # "the end of next month/year"
        if what == "month":
            base = _add_months(today.replace(day=1), later)
            found.append(_Mention(m.start(), m.end(), _month_end_window(base), 0.7, fixed=True))
        elif what == "quarter":
            qmonth = ((today.month - 1) // 3) * 3 + 3
            found.append(
                _Mention(
                    m.start(), m.end(), month_window(today.year, qmonth, "end"), 0.7, fixed=True
                )
            )
        else:
            year = int(what) if what.isdigit() else today.year + later
            found.append(
                _Mention(m.start(), m.end(), month_window(year, 12, "end"), 0.7, fixed=True)
            )
    for m in _WEEKDAY.finditer(s):
        if not m[2][0].isupper():
            continue
        found.append(_weekday(m.start(), m.end(), today, _WEEKDAYS.index(m[2].lower()), m[1]))
    for m in _REL.finditer(s):
        rel = _relative(m, s, today)
        if rel is not None:
            found.append(rel)
    for m in _UPON_PUBLICATION.finditer(s):
        found.append(
            _Mention(m.start(), m.end(), lambda past: (today, None), 0.7, "effective", True)
        )
    # Chinese
    for m in _ZH_DATE.finditer(s):
        mo, d = int(m[2]), int(m[3])
        d2 = int(m[4]) if m[4] and int(m[4]) > d else None
        if m[1]:
            found.append(_Mention(m.start(), m.end(), fixed(int(m[1]), mo, d, d2), fixed=True))
        else:
            found.append(_Mention(m.start(), m.end(), loose(mo, d, d2), confidence=0.85))
    for m in _ZH_FUZZY.finditer(s):
        year = int(m[1]) if m[1] else None
        found.append(
            _Mention(
                m.start(), m.end(), month_window(year, int(m[2]), m[3]), 0.75, fixed=bool(year)
            )
        )
    for m in _ZH_RELATIVE_MONTH.finditer(s):
        base = (
            today.replace(day=1)
            if m[1] in ("本月", "当月")
            else _add_months(today.replace(day=1), 1)
        )
        if m[2]:
            found.append(
                _Mention(m.start(), m.end(), fixed(base.year, base.month, int(m[2])), fixed=True)
            )
        else:
            found.append(
                _Mention(
                    m.start(), m.end(), month_window(base.year, base.month, m[3]), 0.75, fixed=True
                )
            )
    for m in _ZH_MONTH_END.finditer(s):
        found.append(_Mention(m.start(), m.end(), _month_end_window(today), 0.7, fixed=True))
    for m in _ZH_YEAR_END.finditer(s):
        year = int(m[1]) if m[1] else today.year
        found.append(_Mention(m.start(), m.end(), month_window(year, 12, "end"), 0.7, fixed=True))
    for m in _ZH_WEEKDAY.finditer(s):
        weekday = _ZH_WEEKDAYS[m[2]]
        if m[1].startswith(("下", "上")):
            shift = 7 if m[1].startswith("下") else -7
            monday = today - timedelta(days=today.weekday()) + timedelta(days=shift)
            day = monday + timedelta(days=weekday)
            found.append(_Mention(m.start(), m.end(), _const(day), 0.75, fixed=True, weekday=True))
        elif m[1] in ("本周", "这周"):
            day = today - timedelta(days=today.weekday()) + timedelta(days=weekday)
            found.append(_Mention(m.start(), m.end(), _const(day), 0.75, fixed=True))
        else:
            found.append(_weekday(m.start(), m.end(), today, weekday, None))
    for m in _ZH_REL.finditer(s):
        amount, unit = int(m[1]), m[2]
        unit = {"个月": "month", "周": "week", "个工作日": "工作日"}.get(unit, "day")
        found.append(
            _Mention(m.start(), m.end(), _const(_add(today, amount, unit)), 0.8, fixed=True)
        )
    for m in _ZH_UPON.finditer(s):
        found.append(_Mention(m.start(), m.end(), _const(today), 0.75, "effective", True))
    for m in _TODAY.finditer(s):
        word = m[1].lower()
        shift = 2 if word.startswith("the") else _TODAY_SHIFT.get(word, 0)
        found.append(
            _Mention(
                m.start(),
                m.end(),
                _const(today + timedelta(days=shift)),
                0.7,
                fixed=True,
                tonight=word == "tonight",
            )
        )
    for m in _ZH_TODAY.finditer(s):
        shift = _TODAY_SHIFT.get(m[0], 0)
        found.append(
            _Mention(
                m.start(),
                m.end(),
                _const(today + timedelta(days=shift)),
                0.7,
                fixed=True,
                tonight=m[0] == "今晚",
            )
        )
    for m in _ZH_IN.finditer(s):
        amount = _zh_number(m[1])
        if s[max(0, m.start() - 1) : m.start()] == "后":
            continue  # "听证会结束后15日内": counted from an event, not from publication
        if 0 < amount <= 3650:
            unit = _ZH_UNITS.get(m[2], "day")
            found.append(
                _Mention(
                    m.start(),
                    m.end(),
                    _const(_add(today, amount, unit)),
                    0.6,
                    "deadline" if m[0].endswith("内") else None,
                    fixed=True,
                    relative=True,
                )
            )
    for m in _NEXT_PERIOD.finditer(s):
        if m[0][:1].isalpha() and m[0].split()[0].lower() in ("early", "late", "later", "mid"):
            continue  # "late this month" is a fuzzy window (below); "later this week" is vague
        word = (m[1] or m[3][:1]).lower()
        week = (m[2] or "").lower() == "week" or "周" in m[0] or "星期" in m[0]
        upcoming = word in ("next", "下")
        if week:
            monday = today - timedelta(days=today.weekday()) + timedelta(days=7 * upcoming)
            first, last = (monday, monday + timedelta(days=6))
        else:
            first = _add_months(today.replace(day=1), int(upcoming))
            last = first.replace(day=_last_day(first.year, first.month))
        if not upcoming:
            first = today  # "this week": from publication on
        found.append(_Mention(m.start(), m.end(), _const(first, last), 0.6, fixed=True))
    for m in _THIS_MONTH.finditer(s):
        base = today.replace(day=1)
        if m[2].lower() == "next":
            base = _add_months(base, 1)
        found.append(
            _Mention(m.start(), m.end(), month_window(base.year, base.month, m[1]), 0.7, fixed=True)
        )
    for m in _QUARTER_END.finditer(s):
        quarter = _QUARTERS[(m[1] or m[2] or m[3]).lower()]
        found.append(
            _Mention(
                m.start(), m.end(), month_window(today.year, quarter * 3, "end"), 0.7, fixed=True
            )
        )
    kept = _without_overlaps(found)
    out: list[_Mention] = []
    for index, mention in enumerate(kept):
        following = kept[index + 1].start if index + 1 < len(kept) else -1
        preceding = kept[index - 1].end if index > 0 else -100
        if mention.weekday and (
            0 <= following - mention.end <= 3 or 0 <= mention.start - preceding <= 3
        ):
            continue  # "Monday, July 21", "7月9日（星期三）": the date says it
        if _ENDISH.search(s, mention.start, mention.end) and (
            _POINT_BEFORE.search(s, max(0, mention.start - 20), mention.start)
            or _POINT_AFTER.match(s[mention.end : mention.end + 3])
        ):
            mention.resolve = _last_only(mention.resolve)  # "by the end of June": June 30
        out.append(mention)
    return out


def _last_only(
    resolve: Callable[[bool], tuple[date, date | None] | None],
) -> Callable[[bool], tuple[date, date | None] | None]:
    def last(past: bool) -> tuple[date, date | None] | None:
        window = resolve(past)
        return None if window is None else (window[1] or window[0], None)

    return last


_ZH_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNITS = {"个月": "month", "周": "week", "个星期": "week", "个工作日": "工作日", "年": "year"}


def _zh_number(text: str) -> int:
    """ "30", "三", "十五", "二十", "九十" → the number (0 when unreadable)."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return _ZH_DIGITS.get(text, 0) if len(text) == 1 else 0
    tens, _, ones = text.partition("十")
    return (_ZH_DIGITS.get(tens, 0) if tens else 1) * 10 + (_ZH_DIGITS.get(ones, 0) if ones else 0)


def _month_end_window(today: date) -> Callable[[bool], tuple[date, date | None] | None]:
    """The last day of publication's month: "the end of the month" is a point."""
    return _const(date(today.year, today.month, _last_day(today.year, today.month)))


def _const(day: date, end: date | None = None) -> Callable[[bool], tuple[date, date | None] | None]:
    return lambda past: (day, end)


def _weekday(start: int, end: int, today: date, weekday: int, word: str | None) -> _Mention:
    """ "on Friday": on or after publication ("next": strictly after); in the past tense or
    with "last", on or before it ("last": strictly before)."""
    word = (word or "").lower()
    ahead = (weekday - today.weekday()) % 7
    back = (today.weekday() - weekday) % 7
    after = today + timedelta(days=ahead)
    before = today - timedelta(days=back)
    monday = today - timedelta(days=today.weekday())
    if word in ("last", "上"):  # that weekday of the previous calendar week
        day = monday - timedelta(days=7) + timedelta(days=weekday)
        return _Mention(start, end, _const(day), 0.6, fixed=True, weekday=True)
    if word in ("next", "下"):  # that weekday of the following calendar week
        day = monday + timedelta(days=7 + weekday)
        return _Mention(start, end, _const(day), 0.65, fixed=True, weekday=True)
    return _Mention(
        start,
        end,
        lambda past: (before, None) if past else (after, None),
        confidence=0.65,
        weekday=True,
    )


def _relative(m: re.Match[str], s: str, today: date) -> _Mention | None:
    """ "within 30 days of publication", "30 days from today", "within 30 days"."""
    amount = _number(m[2])
    if amount <= 0 or amount > 3650:
        return None
    joiner = (m[4] or "").lower()
    if joiner:
        ref = _PUBLICATION.match(s, m.end())
        if ref is None:
            return None  # "90 days from May 14" is handled at the date; anything else is not ours
        return _Mention(m.start(), ref.end(), _const(_add(today, amount, m[3])), 0.8, fixed=True)
    if m[1] and m[1].lower() in ("within", "in"):
        hint: Kind | None = "deadline" if m[1].lower() == "within" else None
        return _Mention(
            m.start(), m.end(), _const(_add(today, amount, m[3])), 0.6, hint, fixed=True
        )
    return None


def _without_overlaps(found: list[_Mention]) -> list[_Mention]:
    found.sort(key=lambda x: (x.start, -(x.end - x.start)))
    kept: list[_Mention] = []
    for mention in found:
        if kept and mention.start < kept[-1].end:
            if mention.end - mention.start > kept[-1].end - kept[-1].start:
                kept[-1] = mention
            continue
        kept.append(mention)
    return kept


def _times(s: str) -> Iterator[tuple[int, int, time, str | None, bool]]:
    for m in _TIME.finditer(s):
        zone = None
        if m[7]:
            zone = _ZONES.get(m[7].split()[0].lower())
        if m[6]:
            moment = time(12, 0) if m[6].lower() == "noon" else time(0, 0)
        elif m[3]:
            hour, minute = int(m[1]), int(m[2] or 0)
            if not (1 <= hour <= 12 and minute < 60):
                continue
            hour = hour % 12 + (12 if m[3].lower() == "p" else 0)
            moment = time(hour, minute)
        else:
            hour, minute = int(m[4]), int(m[5])
            if not (hour < 24 and minute < 60) or (zone is None and hour < 1):
                continue
            moment = time(hour, minute)
        yield m.start(), m.end(), moment, zone, False
    for m in _ZH_TIME.finditer(s):
        hour = 0 if m[2] == "零" else int(m[2])
        minute = 30 if m[0].endswith("半") else int(m[3] or 0)
        if m[1] in ("下午", "晚上", "晚") and hour < 12:
            hour += 12
        if hour == 24 and minute == 0:
            yield m.start(), m.end(), time(0, 0), None, True  # "24时": the day's end
            continue
        if hour > 23 or minute > 59:
            continue
        yield m.start(), m.end(), time(hour, minute), None, False


# ---------------------------------------------------------------- extraction


def extract(text: str, published: datetime, zone: ZoneInfo, lang: str | None = None) -> list[Found]:
    """Every dated statement in ``text`` with a trigger word, in order of appearance.

    ``published`` (naive means already in ``zone``) anchors dates without a
    year, weekdays and durations; ``lang`` is accepted for callers that know it
    (both grammars are always tried: news mixes them). Never raises on any text.
    """
    del lang
    try:
        local = published.astimezone(zone) if published.tzinfo else published.replace(tzinfo=zone)
    except (ValueError, OverflowError):
        return []  # a publication time at the very edge of the calendar
    ctx = _Context(local.date(), zone)
    out: list[Found] = []
    seen: set[tuple[str, date | datetime, date | None]] = set()
    for sentence in sentences(text[:MAX_TEXT].translate(_FULLWIDTH)):
        if not _INTERESTING.search(sentence):
            continue
        try:
            found_here = _from_sentence(sentence, ctx)
        except (ValueError, OverflowError):
            continue  # date arithmetic past year 9999 (only for a publication date near it)
        for found in found_here:
            key = (found.kind, found.due, found.window_end)
            if key not in seen:
                seen.add(key)
                out.append(found)
    return out


def _from_sentence(s: str, ctx: _Context) -> list[Found]:
    mentions = _mentions(s, ctx)[:MAX_MENTIONS]
    if not mentions:
        return []
    move = _MOVE.search(s)
    old: dict[int, date] = {}  # index of the target mention -> its old date
    skip: set[int] = set()
    _anchored(s, mentions, moving=move is not None)
    _attach_times(s, mentions)
    triggers = [(m.start(), m.end(), m.lastgroup) for m in _TRIGGER.finditer(s)]
    separators = [m.start() for m in _SEPARATORS.finditer(s)]
    if move:
        _pair_moves(s, mentions, move.start(), old, skip)
    out: list[Found] = []
    phrase = s[:MAX_PHRASE]
    past_told = False
    for index, mention in enumerate(mentions):
        if index in skip:
            continue
        is_target = move is not None and mention.start > move.start()
        kind: Kind | None
        confidence: float
        if _is_dateline(s, mention):
            continue  # "WASHINGTON, July 7 (Reuters) -": the news date
        if mention.kind is not None:
            kind, confidence = mention.kind, 0.9
        elif _REPORTED_BEFORE.search(s, max(0, mention.start - 50), _after_on(s, mention)) or (
            _REPORTED_AFTER.match(s, mention.end)
        ):
            kind, confidence = "event", 0.8  # "said on Wednesday", "7月10日表示": when it was said
        else:
            kind, confidence = _kind(s, mention, triggers, separators, moving=is_target)
        if kind is None and move is not None and is_target:
            # "extended to August 12" with nothing named: an extension moves an end,
            # a postponement moves a start.
            kind, confidence = ("expiry" if _EXTEND.search(move[0]) else "effective"), 0.6
        if kind is None:
            continue
        since = max([x.end for x in mentions if x.end <= mention.start], default=0)
        window = s[max(since, mention.start - 80) : mention.start]
        if since and _COORDINATED.match(window):
            told = past_told  # "met on Monday and Tuesday": one verb for both
        else:
            told = _told_past(window) or (
                _PAST_AFTER.match(s, mention.end, mention.end + 40) is not None
            )
        past_told = told and not mention.fixed and not is_target
        # the same day told in the past tense, by a verb next to it, is a fact too
        done_today = (
            not is_target
            and (_told_past(window[-40:]) or _PAST_AFTER.match(s, mention.end, mention.end + 40))
            is not None
            and told
        )
        try:
            resolved = mention.resolve(past_told)
            if resolved is None:
                continue
            day, window_end = resolved
            due: date | datetime = day
            if mention.time_of_day is not None:
                moment, stated, day_end = mention.time_of_day
                where = ZoneInfo(stated) if stated else ctx.zone
                if day_end or (mention.tonight and moment == time(0, 0)):
                    day += timedelta(days=1)  # "24时", "midnight tonight": the day's end
                due = datetime.combine(day, moment, tzinfo=where).astimezone(ctx.zone)
        except (ValueError, OverflowError):
            continue
        on_day = due.date() if isinstance(due, datetime) else due
        out.append(
            Found(
                kind=kind,
                due=due,
                window_end=window_end if window_end and window_end >= on_day else None,
                moved_from=old.get(index),
                past=on_day < ctx.today or (on_day == ctx.today and done_today),
                phrase=phrase,
                confidence=round(confidence * mention.confidence, 2),
                moved=move is not None and (is_target or index in old),
            )
        )
    return out


def _told_past(window: str) -> bool:
    """A past-tense verb before the date, not undone by a later modal ("began notifying
    partners that tariffs would be reimposed on") nor itself a passive future ("will be
    held")."""
    found = list(_PAST.finditer(window))
    if not found:
        return False
    last = found[-1]
    if _MODAL_BEFORE.search(window, max(0, last.start() - 14), last.start()):
        return False
    return _FUTURE.search(window, last.end()) is None


def _after_on(s: str, mention: _Mention) -> int:
    """Where the words before a date end ("on Monday" is one mention: after its "on")."""
    return (
        mention.start + 3
        if s[mention.start : mention.start + 3].lower() == "on "
        else mention.start
    )


def _is_dateline(s: str, mention: _Mention) -> bool:
    return (
        mention.start <= 40
        and _DATELINE_BEFORE.match(s, 0, mention.start) is not None
        and _DATELINE_AFTER.match(s, mention.end) is not None
    )


def _anchored(s: str, mentions: list[_Mention], *, moving: bool) -> None:
    """Durations anchored at a date.

    "90 days from May 14" → May 14 + 90 (the date itself is not reported);
    "for 90 days starting April 9" → April 9 (effective) and April 9 + 90
    (expiry), or in a move ("extended for 90 days from Aug. 12") only the end,
    moved from the start; "自5月14日起…暂停90天" → May 14 + 90, the start reported
    only with a trigger of its own.
    """
    extra: list[_Mention] = []
    for mention in mentions:
        if mention.relative:
            continue
        before = s[max(0, mention.start - 80) : mention.start]
        anchor = None if _FOR_BEFORE.search(before) else _ANCHOR_BEFORE.search(before)
        if anchor:
            amount, unit, resolve = _number(anchor[1]), anchor[2], mention.resolve
            named = anchor[3].strip() not in ("", "the") or _NAMED_AFTER.match(s, mention.end)
            if named:  # "14 days after the hearing on July 21": the hearing is news too
                extra.append(
                    _Mention(mention.start, mention.end, resolve, mention.confidence, kind="event")
                )
            mention.resolve = _shifted(resolve, amount, unit)
            mention.start -= len(before) - anchor.start()
            continue
        spell = _FOR_BEFORE.search(before)
        zh = None if spell else _ZH_SPAN_AFTER.match(s, mention.end)
        if spell:
            amount, unit = _number(spell[1] or spell[4]), spell[2] or spell[5]
            start, end = mention.end, mention.end
        elif zh:
            amount, unit = _zh_number(zh[1]), _ZH_UNITS.get(zh[2], "day")
            start, end = zh.start(1), zh.end()
        else:
            continue
        if not 0 < amount <= 3650:
            continue
        end_mention = _Mention(
            start, end, _shifted(mention.resolve, amount, unit), mention.confidence, "expiry"
        )
        end_mention.fixed = mention.fixed
        end_mention.start_of = mention
        end_mention.kind = "expiry"
        extra.append(end_mention)
        if zh:
            mention.anchor = True
            if _DEADLINE_NEAR.match(s, end):
                end_mention.kind = "deadline"  # "45日内申请": a window to act in
            if s[mention.end : mention.end + 1] == "起":
                mention.kind = "effective"  # "自5月14日起，…暂停90天", "起有效期为6个月"
            elif _ZH_EVENT_AFTER.match(s, mention.end):
                mention.kind = "event"  # "10月10日公告发布后45日内"
        else:
            mention.kind = "effective"
        if moving:
            mention.anchor = True
    if extra:
        covered = [(x.start, x.end) for x in extra]
        mentions[:] = [
            x
            for x in mentions
            if not (
                x.relative and any(a <= x.start < b or x.start <= a < x.end for a, b in covered)
            )
        ]
        mentions.extend(extra)
        mentions.sort(key=lambda x: x.start)


def _shifted(
    resolve: Callable[[bool], tuple[date, date | None] | None], amount: int, unit: str
) -> Callable[[bool], tuple[date, date | None] | None]:
    def shifted(past: bool) -> tuple[date, date | None] | None:
        base = resolve(past)
        return None if base is None else (_add(base[0], amount, unit), None)

    return shifted


def _attach_times(s: str, mentions: list[_Mention]) -> None:
    zh_zone = next((zone for label, zone in _ZH_ZONES if label in s), None)
    for start, end, moment, zone, day_end in _times(s):
        best, gap = None, 41
        for mention in mentions:
            if mention.start <= start < mention.end:
                best = None  # a time inside a date ("2025年7月9日") is not a time
                break
            distance = start - mention.end if start >= mention.end else mention.start - end
            if 0 <= distance < gap:
                best, gap = mention, distance
        if best is not None and best.time_of_day is None:
            best.time_of_day = (moment, zone or zh_zone, day_end)


def _pair_moves(
    s: str, mentions: list[_Mention], at: int, old: dict[int, date], skip: set[int]
) -> None:
    """Which date a move comes from: "from X to Y", "Y instead of X", "the X deadline to Y",
    "due to expire X, was extended to Y", "原截止日期为X"."""

    def day(mention: _Mention) -> date | None:
        try:
            resolved = mention.resolve(False)
        except (ValueError, OverflowError):
            return None
        return None if resolved is None else resolved[0]

    for index, mention in enumerate(mentions):
        if mention.start_of is not None and mention.start_of in mentions:
            origin = mentions.index(mention.start_of)
            found = day(mention.start_of)
            if found is not None:
                old[index] = found
                skip.add(origin)
            continue
        before = s[max(0, mention.start - 40) : mention.start]
        is_from = _FROM_BEFORE.search(before) is not None
        is_instead = _INSTEAD_BEFORE.search(before) is not None
        if not (is_from or is_instead):
            continue
        later = range(index + 1, len(mentions))
        earlier = range(index - 1, -1, -1)
        order = [*later, *earlier] if is_from else [*earlier, *later]
        partner = next((i for i in order if i not in skip), None)
        found = day(mention)
        if partner is None or found is None:
            continue
        old[partner] = found
        skip.add(index)
    targets = [i for i, x in enumerate(mentions) if x.start > at and i not in skip]
    if not targets or any(i in old for i in targets):
        return
    target = targets[-1]
    if len(targets) >= 2 and _TO_BEFORE.search(
        s, max(0, mentions[target].start - 12), mentions[target].start
    ):
        origin = targets[-2]  # "extended the July 9 deadline to August 1"
    else:
        sooner = [i for i, x in enumerate(mentions) if x.start < at and i not in skip]
        if not sooner:
            return
        origin = sooner[-1]
        if _ON_DATE_COMMA.match(s[: mentions[origin].start]):
            skip.add(origin)  # "On June 30, he extended the pause to August 12": the news date
            return
    found = day(mentions[origin])
    if found is not None:
        old[target] = found
        skip.add(origin)


def _kind(
    s: str,
    mention: _Mention,
    triggers: list[tuple[int, int, str | None]],
    separators: list[int],
    *,
    moving: bool = False,
) -> tuple[Kind | None, float]:
    """The kind of the trigger nearest ``mention``, and how sure that is.

    A preposition right before the date ("by", "until", "starting", "起") is a
    weaker trigger; in a move ("extended to") "to"/"until" belong to the move.
    The start of a stated duration ("自5月14日起…暂停90天") needs a trigger of its
    own, right next to it.
    """
    best: Kind | None = None
    best_score = 10_000.0
    for start, end, kind in triggers:
        if kind is None or (start >= mention.start and end <= mention.end):
            continue
        if end <= mention.start:
            distance = mention.start - end
            low, high = end, mention.start
        elif start >= mention.end:
            # In English a trigger before the date is the more usual; in Chinese, after it.
            distance = start - mention.end + (0 if s[start] >= "\u3000" else 5)
            low, high = mention.end, start
        else:
            distance = 0
            low = high = start
        distance += 60 * sum(1 for sep in separators if low <= sep < high)
        if distance < best_score:
            best, best_score = _narrow(s, kind), distance
    if mention.anchor:
        return (best, 1.0) if best is not None and best_score <= 8 else (None, 0.0)
    prep = _PREP_BEFORE.search(s, max(0, mention.start - 25), mention.start)
    after = _PREP_AFTER.match(s[mention.end : mention.end + 4])
    planned = _PLANNED.search(s) is not None  # "拟于年底前出台" is a plan, not a deadline
    for match, strength in ((prep, PREPOSITION_PENALTY), (after, 0)):  # "起", "前": strong
        if match is None or (moving and match.lastgroup == "expiry"):
            continue
        penalty = PREPOSITION_PENALTY if planned and match is after else strength
        if match.lastgroup and best_score > penalty:
            best, best_score = _narrow(s, match.lastgroup), penalty
    if mention.hint is not None and (best is None or best_score > 20):
        best, best_score = mention.hint, min(best_score, 8)
    if (best is None or best_score > 200) and _FUTURE_VERB.search(s):
        return "event", FUTURE_CONFIDENCE  # "Officials will brief reporters next Thursday."
    if best is None or best_score > 200:
        return None, 0.0
    confidence = 1.0 if best_score <= 40 else 0.85 if best_score <= 120 else 0.7
    return best, confidence


def _narrow(s: str, kind: str) -> Kind:
    """截止 about a pause is its expiry; everything else is as triggered."""
    if kind == "deadline" and ("截止" in s or "截至" in s) and _PAUSE_ZH.search(s):
        return "expiry"
    if kind == "expiry":
        return "expiry"
    if kind == "effective":
        return "effective"
    if kind == "deadline":
        return "deadline"
    return "event"
