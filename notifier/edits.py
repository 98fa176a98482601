"""Edits that change the facts: whether a changed entry alerts again, and why. Pure.

An entry that already matched a watch can come back under the same key with
different text. This module decides, for one watch, what that edit is::

    old title, summary ─┐                        equal ──▶ no change (not an edit)
                        ├─ text_hash ─▶ differ ──▶ facts(), watch terms, word_diff
    new title, summary ─┘                              │
                                                       ▼
                       decide_edit ──▶ EditDecision(alert, changed, reason, diff, …)

* :func:`text_hash` — the identity of an entry's words: NFKC, case-folded,
  with whitespace and punctuation dropped (except the ``.``, ``:``, ``-`` or
  ``/`` inside a number, and a break between two numbers), thousands
  separators ignored; symbols such as ``$`` and ``%`` count. So a whitespace,
  punctuation or case edit hashes equal and is not an edit at all. The inputs
  are plain text (:class:`~notifier.model.Entry`'s ``title`` and ``summary``),
  so a change of the HTML only is not one either. The hash is versioned
  (``v1:…``): a hash of another version means "recompute", not "edited".
* :func:`facts` — the dates, numbers and percentages a text states, in one
  spelling each: ``Aug. 12``/``12 August`` → ``August 12``; ``25 percent``/
  ``25 per cent``/``百分之二十五`` → ``25%``; ``1,000`` → ``1000``;
  ``$350bn``/``US$350 billion`` → ``$350 billion``; ``2025年8月12日`` →
  ``8月12日`` and ``2025``; ``5 p.m.`` → ``5pm``; ``third quarter`` → ``Q3``.
  A year is a fact of its own. Only the first :data:`FACTS_CHARS` characters
  of a text are read, with one precompiled expression whose every repetition
  is bounded (no backtracking blow-up).
* :func:`word_diff` — ``the pause was extended to [-July 9-]{+August 12+}``:
  changed words with a few words of context, ``…`` for what is left out;
  Chinese, Japanese and Korean text is diffed per character. Words are
  compared as :func:`text_hash` sees them, so case and punctuation changes do
  not show on their own. Bounded: :data:`DIFF_CHARS` characters and
  :data:`DIFF_TOKENS` words a side, and at most ``limit`` characters out.
* :func:`decide_edit` — the decision with a one-line reason, under the
  watch's :data:`~notifier.model.EditPolicy`: ``facts`` (the default) alerts
  when the facts changed or a watch term was added or removed; ``all`` on any
  change; ``none`` never (the edit is still reported as ``changed``, to be
  recorded).

What it does not do: numbers written as words ("five", "二十五" outside
``百分之``), the direction of a change ("up 5%" → "down 5%" is wording), a
fact repeated or moved within the text (facts are a set), and dates past the
first :data:`FACTS_CHARS` characters of a field.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from notifier.model import EditPolicy

__all__ = [
    "DIFF_CHARS",
    "DIFF_LIMIT",
    "DIFF_TOKENS",
    "FACTS_CHARS",
    "TEXT_HASH_VERSION",
    "EditDecision",
    "EditPolicy",
    "decide_edit",
    "facts",
    "text_hash",
    "word_diff",
]

#: The version of :func:`text_hash`'s normalisation, its prefix (``v1:``).
TEXT_HASH_VERSION = 1
#: Characters of each text that :func:`facts` reads.
FACTS_CHARS = 5_000
#: Characters of each text that :func:`word_diff` reads, and words a side it compares.
DIFF_CHARS = 20_000
DIFF_TOKENS = 2_000
#: The longest :attr:`EditDecision.diff` (title and summary together).
DIFF_LIMIT = 600
#: Words of context kept on each side of a change.
CONTEXT = 5
#: Facts named in a reason, each side (then "…").
REASON_FACTS = 4

# --------------------------------------------------------------------------- normalising

#: Characters of scripts written without spaces (and their punctuation): one token each.
_CJK = (
    "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_CONTROLS = re.compile(r"[\x00-\x04]+")
_DIGIT_GAP = re.compile(r"(?<=\d)[\W_]+(?=\d)")
_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w\x00-\x04]+")
#: A separator between two digits that is part of the number (2.5, 17:30, 2025-08-12,
#: 8/12), as a control character while the other separators go; any other is a break.
_IN_NUMBER = {".": "\x01", ":": "\x02", "-": "\x03", "/": "\x04"}
_BREAK = "\x00"
_RESTORE = str.maketrans({"\x00": " ", "\x01": ".", "\x02": ":", "\x03": "-", "\x04": "/"})
#: Punctuation that says something: ``25`` and ``25%`` are different facts.
_KEPT = frozenset("%‰‱#&")


def _digit_gap(m: re.Match[str]) -> str:
    return _IN_NUMBER.get(m.group(), _BREAK)


def _symbols(m: re.Match[str]) -> str:
    """What remains of a run of punctuation: its symbols ($, €, +) and :data:`_KEPT`."""
    return "".join(c for c in m.group() if c in _KEPT or unicodedata.category(c)[0] == "S")


def _normalise(text: str) -> str:
    """``text`` as edits compare it: NFKC, case-folded, without whitespace and punctuation.

    Whitespace goes in C (``re.sub`` with a constant); only the runs of
    punctuation and the gaps between two digits take a Python call."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _THOUSANDS.sub("", _CONTROLS.sub("", folded))
    folded = _SPACES.sub("", _DIGIT_GAP.sub(_digit_gap, folded))
    return _PUNCTUATION.sub(_symbols, folded).translate(_RESTORE)


def text_hash(title: str, summary: str) -> str:
    """Identify the words of a title and a summary: equal hashes mean no edit.

    Case, width (NFKC), whitespace and punctuation do not count; the digits of
    a number, its decimal point and the symbols do (see the module docstring).
    The result is ``v1:`` and 32 hex digits."""
    material = f"{_normalise(title)}\x00{_normalise(summary)}".encode()
    digest = hashlib.blake2b(material, digest_size=16).hexdigest()
    return f"v{TEXT_HASH_VERSION}:{digest}"


# --------------------------------------------------------------------------- facts

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_BY_PREFIX = {m[:3].lower(): m for m in _MONTHS}
_MONTH = (  # "may" in lower case is the verb ("article 5 may apply")
    r"(?!(?-i:may)(?![a-z]))(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Every repetition below is bounded, so no match attempt can backtrack for long.
_NUM = r"(?:\d{1,3}(?:,\d{3}){1,6}(?!\d)|\d{1,15})(?:\.\d{1,6})?"
_DAY = r"[0-3]?\d(?:st|nd|rd|th)?(?![\d])"
_YEAR = r"(?:19|20)\d\d(?!\d)"
_SCALE = r"trillion|billion|million|thousand|tn|bn|mln|mn"
_CURRENCY = r"us\$|\$|€|£|¥|(?:usd|eur|gbp|cny|rmb)\s?"
_CURRENCY_WORD = r"(?:us\s)?dollars|euros|pounds|yuan|usd|eur"
_CN_DIGITS = "零〇一二两三四五六七八九十百点"
_START = r"(?<![a-z\d_])"  # a number or a word does not begin inside another

_FACT = re.compile(
    "|".join(
        (
            rf"{_START}(?P<iso>{_YEAR})-(?P<iso_m>[01]\d)-(?P<iso_d>[0-3]\d)(?!\d)",
            rf"{_START}(?P<slash>\d{{1,2}}/\d{{1,2}}/(?:\d{{4}}|\d\d))(?![\d/])",
            rf"{_START}(?:(?P<cn_y>\d{{4}})\s?年\s?)?(?P<cn_m>[01]?\d)\s?月"
            rf"(?:\s?(?P<cn_d>[0-3]?\d)\s?[日号])?",
            rf"{_START}(?P<dm_d>{_DAY})\s{{1,3}}(?:of\s{{1,3}})?(?P<dm_m>{_MONTH})\.?(?![a-z])"
            rf"(?:,?\s{{1,3}}(?P<dm_y>{_YEAR}))?",
            rf"(?<![a-z])(?P<my_m>{_MONTH})\.?,?\s{{1,3}}(?P<my_y>{_YEAR})",
            rf"(?<![a-z])(?P<md_m>{_MONTH})\.?\s{{1,3}}(?P<md_d>{_DAY})"
            rf"(?:,?\s{{1,3}}(?P<md_y>{_YEAR}))?",
            r"(?<![a-z])(?-i:(?P<month>January|February|March|April|June|July|August"
            r"|September|October|November|December))(?![a-z])",
            r"(?<![a-z])(?P<q_word>first|second|third|fourth|1st|2nd|3rd|4th)[\s-]quarter",
            r"(?<![a-z\d])q(?P<q>[1-4])(?![a-z\d])",
            rf"{_START}(?P<t_h>[01]?\d)(?::(?P<t_m>[0-5]\d))?\s?(?P<t_ap>a\.m\.|p\.m\.|am|pm)"
            r"(?![a-z])",
            rf"{_START}(?P<hm_h>[01]?\d|2[0-3]):(?P<hm_m>[0-5]\d)(?!\d)",
            rf"{_START}(?P<pp>{_NUM})\s{{0,2}}(?:percentage\s{{1,2}}points?|pp|个百分点)(?![a-z])",
            rf"{_START}(?P<pct>{_NUM})\s{{0,2}}(?:%|percent|per\s?cent|pct)(?![a-z])",
            rf"百分之\s?(?:(?P<pct_cn>{_NUM})|(?P<pct_cn_words>[{_CN_DIGITS}]{{1,8}}))",
            rf"(?<![a-z])(?P<cur>{_CURRENCY})(?P<cur_n>{_NUM})"
            rf"(?:\s{{0,2}}(?P<cur_sc>{_SCALE}|m|b|k)(?![a-z]))?",
            rf"{_START}(?P<sc_n>{_NUM})\s{{0,2}}(?P<sc>{_SCALE})(?![a-z])"
            rf"(?:\s{{1,2}}(?P<sc_cur>{_CURRENCY_WORD})(?![a-z]))?",
            rf"{_START}(?P<cw_n>{_NUM})\s{{1,2}}(?P<cw>{_CURRENCY_WORD})(?![a-z])",
            rf"{_START}(?P<cn_n>{_NUM})\s?(?P<cn_sc>万亿|亿|万)?(?P<cn_cur>美元|欧元|英镑|日元|元)",
            rf"{_START}(?P<num>{_NUM})",
        )
    ),
    re.IGNORECASE,
)

_SCALES = {
    "tn": "trillion",
    "bn": "billion",
    "b": "billion",
    "mn": "million",
    "mln": "million",
    "m": "million",
    "k": "thousand",
}
_CURRENCIES = {"us$": "$", "usd": "$", "eur": "€", "gbp": "£", "rmb": "CNY", "cny": "CNY"}
_CURRENCY_WORDS = {"dollars": "$", "usd": "$", "euros": "€", "eur": "€", "pounds": "£"}
_QUARTERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3}
_CN_VALUES = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}


def _number(text: str) -> str:
    """A number in one spelling: no thousands separators, no leading or trailing zeros."""
    whole, _, fraction = text.replace(",", "").partition(".")
    fraction = fraction.rstrip("0")
    return f"{int(whole)}.{fraction}" if fraction else str(int(whole))


def _month(name: str) -> str:
    return _MONTH_BY_PREFIX[name[:3].lower()]


def _day(text: str) -> int:
    return int(text.rstrip("stndrhSTNDRH"))


def _cn_number(words: str) -> str | None:
    """``二十五`` → ``25``, ``二点五`` → ``2.5`` (up to 999); None when not a number."""
    whole, _, fraction = words.partition("点")
    total = current = 0
    for char in whole:
        if char == "十":
            total, current = total + (current or 1) * 10, 0
        elif char == "百":
            total, current = total + (current or 1) * 100, 0
        elif char in _CN_VALUES:
            current = _CN_VALUES[char]
        else:
            return None
    digits = [_CN_VALUES.get(c) for c in fraction]
    if not whole or any(d is None for d in digits):
        return None
    tail = "".join(str(d) for d in digits).rstrip("0")
    return f"{total + current}.{tail}" if tail else str(total + current)


def _money(amount: str, word: str | None) -> str:
    """``300 billion`` and ``dollars`` → ``$300 billion``; ``yuan`` → ``300 billion yuan``."""
    if not word:
        return amount
    name = word.lower().split()[-1]
    symbol = _CURRENCY_WORDS.get(name)
    return f"{symbol}{amount}" if symbol else f"{amount} {name}"


def _dated(found: dict[str, None], month: str, day: str, year: str | None) -> None:
    """Record a day of a month (and its year, a fact of its own)."""
    number = _day(day)
    if 1 <= number <= 31:
        found[f"{_month(month)} {number}"] = None
    else:
        found[_month(month)] = None
        found[str(number)] = None
    if year:
        found[year] = None


def _ordered_facts(text: str) -> dict[str, None]:
    """The facts of ``text``, in the order they are first stated."""
    found: dict[str, None] = {}
    sample = unicodedata.normalize("NFKC", text[:FACTS_CHARS])[:FACTS_CHARS]
    if len(text) > FACTS_CHARS:  # end at a space, not inside "August 12"
        sample = sample[: max(sample.rfind(" "), sample.rfind("\n"), 0) or None]
    for m in _FACT.finditer(sample):
        g = m.groupdict()
        if g["iso"]:
            month = int(g["iso_m"])
            if 1 <= month <= 12:
                _dated(found, _MONTHS[month - 1], g["iso_d"], g["iso"])
            else:
                found[m.group()] = None
        elif g["slash"]:
            found[g["slash"]] = None
        elif g["cn_m"]:
            month = int(g["cn_m"])
            day = f"{int(g['cn_d'])}日" if g["cn_d"] else ""
            found[f"{month}月{day}"] = None
            if g["cn_y"]:
                found[str(int(g["cn_y"]))] = None
        elif g["dm_d"]:
            _dated(found, g["dm_m"], g["dm_d"], g["dm_y"])
        elif g["my_m"]:
            found[f"{_month(g['my_m'])} {g['my_y']}"] = None
        elif g["md_m"]:
            _dated(found, g["md_m"], g["md_d"], g["md_y"])
        elif g["month"]:
            found[g["month"]] = None
        elif g["q_word"]:
            found[f"Q{_QUARTERS[g['q_word'].lower()]}"] = None
        elif g["q"]:
            found[f"Q{g['q']}"] = None
        elif g["t_h"]:
            minutes = f":{g['t_m']}" if g["t_m"] else ""
            half = "am" if g["t_ap"].lower().startswith("a") else "pm"
            found[f"{int(g['t_h'])}{minutes}{half}"] = None
        elif g["hm_h"]:
            found[f"{int(g['hm_h'])}:{g['hm_m']}"] = None
        elif g["pp"]:
            found[f"{_number(g['pp'])} pp"] = None
        elif g["pct"]:
            found[f"{_number(g['pct'])}%"] = None
        elif g["pct_cn"]:
            found[f"{_number(g['pct_cn'])}%"] = None
        elif g["pct_cn_words"]:
            value = _cn_number(g["pct_cn_words"])
            if value is not None:
                found[f"{value}%"] = None
        elif g["cur"]:
            code = g["cur"].strip().lower()
            symbol = _CURRENCIES.get(code, code)
            scale = g["cur_sc"]
            words = f" {_SCALES.get(scale.lower(), scale.lower())}" if scale else ""
            found[f"{symbol}{_number(g['cur_n'])}{words}"] = None
        elif g["sc"]:
            scale = _SCALES.get(g["sc"].lower(), g["sc"].lower())
            found[_money(f"{_number(g['sc_n'])} {scale}", g["sc_cur"])] = None
        elif g["cw"]:
            found[_money(_number(g["cw_n"]), g["cw"])] = None
        elif g["cn_cur"]:
            found[f"{_number(g['cn_n'])}{g['cn_sc'] or ''}{g['cn_cur']}"] = None
        elif g["num"]:
            found[_number(g["num"])] = None
    return found


def facts(text: str) -> frozenset[str]:
    """The dates, numbers and percentages stated in the first :data:`FACTS_CHARS` of ``text``.

    Each in one spelling, so that two spellings of a fact compare equal:
    ``Aug. 12``, ``12 August`` → ``August 12``; ``25 per cent`` → ``25%``;
    ``1,000`` → ``1000``; ``$350bn`` → ``$350 billion``; ``８月１２日`` →
    ``8月12日``. A year is a fact of its own (``July 9, 2025`` → ``July 9``
    and ``2025``)."""
    return frozenset(_ordered_facts(text))


# --------------------------------------------------------------------------- diffs

_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")
_CJK_TOKEN = re.compile(rf"[{_CJK}]")


class _Token(NamedTuple):
    text: str  # as written
    key: str  # as compared (_normalise)
    spaced: bool  # whitespace before it


def _tokens(text: str) -> tuple[list[_Token], bool]:
    """The first :data:`DIFF_TOKENS` tokens of ``text``, and whether there were more."""
    tokens: list[_Token] = []
    end = 0
    for m in itertools.islice(_TOKEN.finditer(text, 0, DIFF_CHARS), DIFF_TOKENS + 1):
        tokens.append(_Token(m.group(), _normalise(m.group()), m.start() > end))
        end = m.end()
    cut = len(tokens) > DIFF_TOKENS or (len(text) > DIFF_CHARS and bool(text[DIFF_CHARS:].strip()))
    return tokens[:DIFF_TOKENS], cut


def _join(tokens: Sequence[_Token]) -> str:
    """Tokens as written, a space where the text had whitespace."""
    return "".join((" " if t.spaced and i else "") + t.text for i, t in enumerate(tokens))


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: max(size - 1, 0)] + "…"


def _context(run: Sequence[_Token]) -> int:
    """How many tokens from the start of ``run`` make :data:`CONTEXT` words of context.

    A character of Chinese, Japanese or Korean is a token of its own: three count as a word."""
    weight = 0
    for n, token in enumerate(run):
        weight += 1 if _CJK_TOKEN.fullmatch(token.text) else 3
        if weight > 3 * CONTEXT:
            return n
    return len(run)


def _opcodes(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    """SequenceMatcher's opcodes, after taking off the common head and tail (cheap, linear)."""
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle = difflib.SequenceMatcher(None, a[head : len(a) - tail], b[head : len(b) - tail])
    codes: list[tuple[str, int, int, int, int]] = []
    if head:
        codes.append(("equal", 0, head, 0, head))
    for tag, i1, i2, j1, j2 in middle.get_opcodes():
        codes.append((tag, i1 + head, i2 + head, j1 + head, j2 + head))
    if tail:
        codes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return codes


def _merged(
    codes: list[tuple[str, int, int, int, int]], b: Sequence[_Token]
) -> list[tuple[str, int, int, int, int]]:
    """Join two changes separated by one character (``7月9日`` → ``8月12日`` is one change)."""
    out: list[tuple[str, int, int, int, int]] = []
    for code in codes:
        if (
            len(out) >= 2
            and code[0] != "equal"
            and out[-1][0] == "equal"
            and out[-2][0] != "equal"
            and out[-1][4] - out[-1][3] == 1
            and len(b[out[-1][3]].text) == 1
        ):
            del out[-1]  # the one character between them
            first = out.pop()
            out.append(("replace", first[1], code[2], first[3], code[4]))
        else:
            out.append(code)
    return out


def word_diff(old: str, new: str, *, limit: int = DIFF_LIMIT) -> str:
    """The words that changed from ``old`` to ``new``: ``extended to [-July 9-]{+August 12+}``.

    ``[-…-]`` is what was removed, ``{+…+}`` what was added; up to
    :data:`CONTEXT` unchanged words are kept on each side of a change and
    longer unchanged runs become ``…``. Characters of Chinese, Japanese and
    Korean count as words. Words are compared normalised (case, width and
    punctuation ignored), so ``""`` means no change of words. Reads the first
    :data:`DIFF_CHARS` characters and :data:`DIFF_TOKENS` words of each text;
    a change past those is shown only as a note. At most ``limit`` characters.
    """
    if limit <= 0 or old == new:
        return ""
    a, a_cut = _tokens(old)
    b, b_cut = _tokens(new)
    a_keys = [t.key for t in a]
    b_keys = [t.key for t in b]
    if a_keys == b_keys:
        if a_cut or b_cut:
            return _clip(f"(changed after the first {len(b):,} words)", limit)
        return ""
    codes = _merged(_opcodes(a_keys, b_keys), b)
    side = max(limit // 3, 12)
    pieces: list[tuple[bool, str]] = []  # (whitespace before, text)
    changes: set[int] = set()  # which pieces are changes
    for n, (tag, i1, i2, j1, j2) in enumerate(codes):
        if tag == "equal":
            run = b[j1:j2]
            first, last = n == 0, n == len(codes) - 1
            head, tail = _context(run), _context(run[::-1])
            if first and tail < len(run):
                kept = run[-tail:]
                pieces += [(False, "…"), (kept[0].spaced, _join(kept))]
            elif last and head < len(run):
                pieces += [(run[0].spaced, _join(run[:head])), (True, "…")]
            elif not first and not last and head + tail < len(run):
                kept = run[-tail:]
                pieces += [(run[0].spaced, _join(run[:head])), (True, "…")]
                pieces.append((kept[0].spaced, _join(kept)))
            else:
                pieces.append((run[0].spaced, _join(run)))
            continue
        removed, added = a[i1:i2], b[j1:j2]
        text = f"[-{_clip(_join(removed), side)}-]" if removed else ""
        text += f"{{+{_clip(_join(added), side)}+}}" if added else ""
        spaced = (removed or added)[0].spaced
        pieces.append((spaced, text))
        changes.add(len(pieces) - 1)
    if a_cut or b_cut:
        pieces.append((True, f"(compared the first {len(b):,} words)"))
    out = ""
    for n, (spaced, text) in enumerate(pieces):
        piece = (" " if spaced and out else "") + text
        room = limit if n == len(pieces) - 1 else limit - 2  # room for " …" after it
        if len(out) + len(piece) > room and n == min(changes, default=-1) and out:
            out = "…"  # no room for the context before the first change: the change first
            piece = f" {text}"
        if len(out) + len(piece) > room:
            return _clip(f"{out} …" if out else "…", limit)
        out += piece
    return out


# --------------------------------------------------------------------------- deciding


@dataclass(frozen=True, slots=True)
class EditDecision:
    """What to do about an edit of an entry that a watch matched, and why.

    ``changed``: the words changed (record the edit); ``alert``: send an
    "updated" alert for this watch. ``diff`` is ``title: <word diff>`` and
    ``summary: <word diff>``, one line each, only for a part that changed (at
    most :data:`DIFF_LIMIT` characters; ``""`` when nothing changed). The
    facts and terms are in the order the texts state them."""

    alert: bool
    changed: bool
    reason: str
    diff: str
    facts_removed: tuple[str, ...] = ()
    facts_added: tuple[str, ...] = ()
    terms_added: tuple[str, ...] = ()
    terms_removed: tuple[str, ...] = ()


NO_CHANGE = EditDecision(alert=False, changed=False, reason="no change", diff="")


def _field_facts(title: str, summary: str) -> dict[str, None]:
    return _ordered_facts(title) | _ordered_facts(summary)


def _listed(items: Sequence[str], quote: bool = False) -> str:
    shown = [" ".join(f'"{i}"'.split()) if quote else i for i in items[:REASON_FACTS]]
    more = ", …" if len(items) > REASON_FACTS else ""
    return ", ".join(shown) + more


def _facts_reason(removed: Sequence[str], added: Sequence[str]) -> str:
    if removed and added:
        return f"dates/numbers changed: {_listed(removed)} → {_listed(added)}"
    if added:
        return f"dates/numbers added: {_listed(added)}"
    return f"dates/numbers removed: {_listed(removed)}"


def _terms_reason(verb: str, terms: Sequence[str]) -> str:
    noun = "watch term" if len(terms) == 1 else "watch terms"
    return f"{noun} {verb}: {_listed(terms, quote=True)}"


def _diff(old_title: str, old_summary: str, new_title: str, new_summary: str) -> str:
    """``title: …`` and ``summary: …`` lines for the parts that changed, within DIFF_LIMIT."""
    lines = []
    title = word_diff(old_title, new_title, limit=DIFF_LIMIT // 2)
    if title:
        lines.append(f"title: {title}")
    room = DIFF_LIMIT - sum(len(line) + 1 for line in lines) - len("summary: ")
    summary = word_diff(old_summary, new_summary, limit=room)
    if summary:
        lines.append(f"summary: {summary}")
    return _clip("\n".join(lines), DIFF_LIMIT)


def decide_edit(
    old_title: str,
    old_summary: str,
    new_title: str,
    new_summary: str,
    *,
    old_terms: Iterable[str],
    new_terms: Iterable[str],
    policy: EditPolicy = "facts",
) -> EditDecision:
    """Decide whether an edit of a matched entry alerts the watch again.

    ``old_terms`` and ``new_terms`` are the watch's terms found (as written in
    the config) in the old and the new text. Not an edit at all (``changed``
    False, reason ``no change``) when :func:`text_hash` is equal. Otherwise,
    by ``policy``: ``facts`` alerts when :func:`facts` of title and summary
    changed or a term was added or removed (reason ``only wording changed``
    when not); ``all`` alerts on any change; ``none`` never alerts (reason
    ``edits: none; …``). Never raises for any text; bounded in time by the
    caps of :func:`facts` and :func:`word_diff`."""
    if policy not in ("facts", "all", "none"):
        raise ValueError(f"unknown edit policy: {policy!r}")
    if text_hash(old_title, old_summary) == text_hash(new_title, new_summary):
        return NO_CHANGE
    before = _field_facts(old_title, old_summary)
    after = _field_facts(new_title, new_summary)
    facts_removed = tuple(f for f in before if f not in after)
    facts_added = tuple(f for f in after if f not in before)
    old = tuple(dict.fromkeys(old_terms))
    new = tuple(dict.fromkeys(new_terms))
    terms_added = tuple(t for t in new if t not in old)
    terms_removed = tuple(t for t in old if t not in new)
    parts = []
    if facts_removed or facts_added:
        parts.append(_facts_reason(facts_removed, facts_added))
    if terms_added:
        parts.append(_terms_reason("added", terms_added))
    if terms_removed:
        parts.append(_terms_reason("removed", terms_removed))
    what = "; ".join(parts) or "only wording changed"
    if policy == "none":
        alert, reason = False, f"edits: none; {what}"
    elif policy == "all":
        alert, reason = True, what if parts else "wording changed (edits: all)"
    else:
        alert, reason = bool(parts), what
    return EditDecision(
        alert=alert,
        changed=True,
        reason=reason,
        diff=_diff(old_title, old_summary, new_title, new_summary),
        facts_removed=facts_removed,
        facts_added=facts_added,
        terms_added=terms_added,
        terms_removed=terms_removed,
    )
