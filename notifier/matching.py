"""Compiled keyword watches: which watches accept an entry, and why. Pure logic.

:meth:`Matcher.compile` turns the config's watches into one matcher (once per
config); :meth:`Matcher.match` returns the :class:`~notifier.model.Match` of
every watch that accepts an entry, in config order; :meth:`Matcher.explain`
says for one watch whether it accepts an entry and why (``notifier match``).

What a watch matches (also in the README):

* A watch accepts an entry when the entry's feed is one of the watch's
  ``feeds``, at least one ``any`` term is found (when ``any`` is not empty),
  every ``all`` term is found, and no ``none`` term is found. A term counts as
  found when it occurs in any of the watch's ``fields`` (by default title,
  summary and content); other fields are not searched.
* Case and width do not matter: the text and the terms are both normalised
  with Unicode NFKC and then case-folded, so ``ＴＡＲＩＦＦ`` finds "tariff" and
  ``STRASSE`` finds "Straße". Runs of whitespace count as one space, so a
  phrase such as ``rare earth`` also matches across a line break.
* A term matches whole words: the character before an occurrence and the one
  after it must not be word characters (letters, digits, ``_`` and combining
  marks). "rare earth" does not match "rare earthenware", "tariff" does not
  match "tariffed". The check applies only on a side where the term itself
  begins or ends with a word character: ``$100`` matches in "US$100" and
  ``C++`` in "C++20".
* Scripts written without spaces between words (Chinese, Japanese kana, Korean
  Hangul, Thai, Lao, Khmer, Myanmar, Tibetan, Yi...) need no boundary: "稀土"
  matches inside "稀土出口管制". Their characters also count as word breaks for
  other terms, so "china" matches in "China稀土".
* Plurals: unless the watch sets ``plurals: false``, a term ending in a Latin
  letter also matches when followed by ``s`` or ``es`` ("tariff" finds
  "tariffs", "tax" finds "taxes", "rare earth" finds "rare earths"), still as a
  whole word. A possessive ("tariff's", "tariff’s") always matches, plurals or
  not: the apostrophe is not a word character.
* A term written between slashes, ``/export (ban|control)s?/``, is a Python
  regular expression, searched case-insensitively in the normalised text
  (NFKC, case-folded, whitespace collapsed) with no implicit word boundaries;
  write ``\\b`` where one is wanted. Because the text is case-folded, "ß" in
  the text reads as "ss".
* Regular expressions run on the ``regex`` module (the syntax of Python's
  ``re``), with a time budget, because one pattern with nested repetition can
  backtrack for hours on one crafted entry: every search gets at most
  :data:`SEARCH_BUDGET`, and no more than what is left of its entry's budget
  (:data:`ENTRY_BUDGET`) and of the whole batch's (:meth:`Matcher.match_all`).
  A watch whose regex runs out of time does not match that entry, and the
  overrun is reported (:class:`Overrun`) so the caller can say so; the other
  watches are judged as usual, and the entry is not tried again. The search releases the
  GIL, so matching in a thread never stalls the event loop.
* Each hit names the term as written in the config, the first of the watch's
  fields (in the watch's order) where the term occurs, and a snippet of about
  120 characters of that field's original text around the first occurrence,
  with whitespace collapsed and "…" where the text was cut.
* Categories are searched one by one: a phrase never spans two categories,
  and a regex's ``^`` and ``$`` match at the start and end of each category.

How it stays fast: each field of an entry is normalised once. The literal
terms of all watches, with their plural forms, go into one Aho–Corasick
automaton, run once over each normalised field; every occurrence (overlapping
ones included: "rare earth" and "earth") is checked for word boundaries. Which
watches can still match is then decided from the hits alone, so the work per
entry grows with the hits, not with the number of terms. Regular expressions
run only for watches still in the running, at most once per field and entry,
and not at all when the text lacks a piece of text every match must contain
(``"export "`` for ``/export (ban|control)s?/``, see :func:`required_literal`).
Snippets are cut only for the hits a match or a verdict reports; when NFKC and
case folding moved no character (the usual case), normalised offsets index the
original text directly, else they are mapped back by a binary search.
"""

from __future__ import annotations

import bisect
import enum
import functools
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import ahocorasick
import regex as regex_engine

from notifier.model import Entry, Hit, Match, SearchField, Watch

#: Flags every regex term is compiled with, by the matcher and when the config is checked.
REGEX_FLAGS = regex_engine.IGNORECASE | regex_engine.UNICODE | regex_engine.VERSION0


def compile_regex(pattern: str) -> Any:
    """Compile a regex term as the matcher runs it (``regex`` module, the syntax of
    ``re``). Raises ``regex.error``."""
    return regex_engine.compile(pattern, REGEX_FLAGS)


#: Every searchable field, in a fixed order (the index is used internally).
FIELDS: tuple[SearchField, ...] = get_args(SearchField)
#: About how many characters a snippet shows, "…" not counted.
SNIPPET_WIDTH = 120
#: Seconds one regex search may take (one term in one field of one entry).
SEARCH_BUDGET = 0.25
#: Seconds of regular-expression searching one entry may take, all watches together.
ENTRY_BUDGET = 1.0
#: Seconds of regular-expression searching one batch (one poll's new entries) may take.
BATCH_BUDGET = 60.0

_ANY, _ALL, _NONE = 0, 1, 2
_WHITESPACE = re.compile(r"\s{2,}|[^\S ]")  # every whitespace run that is not one plain space
_ODD_SPACE = re.compile(r"[^\S ]")  # whitespace other than a plain space (cheaper to look for)
_RUNS = re.compile(r"\s{2,}")
_SEPARATOR = "\0"  # between categories

# Code point ranges of scripts written without spaces between words (inclusive).
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x1780, 0x17FF),  # Khmer
    (0x1950, 0x19FF),  # Tai Le, New Tai Lue, Khmer symbols
    (0x1A20, 0x1AAF),  # Tai Tham
    (0x1B00, 0x1B7F),  # Balinese
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x3038, 0x303C),
    (0x3040, 0x31FF),  # Hiragana, Katakana, Bopomofo, Hangul compatibility jamo, ...
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA000, 0xA4CF),  # Yi
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xA980, 0xA9FF),  # Javanese, Myanmar extended B
    (0xAA60, 0xAADF),  # Myanmar extended A, Tai Viet
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFFDC),  # half-width Katakana and Hangul
    (0x16FE0, 0x16FFF),  # ideographic symbols
    (0x17000, 0x18CFF),  # Tangut, Khitan
    (0x1B000, 0x1B2FF),  # Kana supplement and extensions, Nushu
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
_NO_SPACE_STARTS = tuple(lo for lo, _ in _NO_SPACE_RANGES)


def normalise(text: str) -> str:
    """Return ``text`` as terms are matched against it: NFKC, case-folded, whitespace collapsed."""
    return _collapse(unicodedata.normalize("NFKC", text).casefold())


def _collapse(text: str) -> str:
    """Replace every run of whitespace with one space."""
    if "  " in text or _ODD_SPACE.search(text):
        return _WHITESPACE.sub(" ", text)
    return text


def no_space_script(char: str) -> bool:
    """Tell whether ``char`` belongs to a script written without spaces between words."""
    cp = ord(char)
    i = bisect.bisect_right(_NO_SPACE_STARTS, cp) - 1
    return i >= 0 and cp <= _NO_SPACE_RANGES[i][1]


@functools.lru_cache(maxsize=8192)
def is_word_char(char: str) -> bool:
    """Tell whether ``char`` continues a word: a letter, digit, ``_`` or combining mark.

    Characters of scripts written without spaces are not word characters here:
    they need no boundary, and they are a boundary for other words.
    """
    if char.isascii():
        return char.isalnum() or char == "_"
    if no_space_script(char):
        return False
    return char.isalnum() or unicodedata.category(char).startswith("M")


def original(entry: Entry, name: SearchField) -> str:
    """The text of field ``name`` as searched: categories are joined by NUL, not a line break.

    A NUL is neither a word character nor whitespace, so no term spans two
    categories (a line break would collapse to a space, and "trade policy"
    would match the categories "Trade" and "Policy").
    """
    if name == "categories":
        return _SEPARATOR.join(entry.categories)
    return entry.text(name)


@dataclass(frozen=True, slots=True)
class _Regex:
    pattern: Any  # a compiled ``regex`` pattern
    literal: str | None  # every match contains it: when the text does not, skip the search


class _OutOfTime(Exception):
    """A regex search ran out of its budget."""


def _search(regex: _Regex, text: str, timeout: float) -> tuple[int, int] | None:
    """The span of the first match of ``regex`` in ``text``, per category (NUL-separated).

    Raises :class:`_OutOfTime` when the search takes longer than ``timeout`` seconds."""
    if regex.literal is not None and regex.literal not in text:
        return None
    try:
        return _search_parts(regex.pattern, text, timeout)
    except TimeoutError:
        raise _OutOfTime from None


def _search_parts(pattern: Any, text: str, timeout: float) -> tuple[int, int] | None:
    if _SEPARATOR not in text:
        m = pattern.search(text, timeout=timeout, concurrent=True)
        return None if m is None else m.span()
    offset = 0
    for part in text.split(_SEPARATOR):
        m = pattern.search(part, timeout=timeout, concurrent=True)
        if m is not None:
            return offset + m.start(), offset + m.end()
        offset += len(part) + 1
    return None


_COUNT = re.compile(r"\{(\d*)(,?)(\d*)\}")
_ZERO_WIDTH_OR_CLASS = frozenset("AbBdDsSwWZ")  # escapes that match no fixed text


def required_literal(pattern: str) -> str | None:
    """A piece of normalised text that every match of ``pattern`` contains, or None.

    The pattern is searched with IGNORECASE in normalised text, so the piece is
    lower-cased and only made of characters whose every case-insensitive match
    is that same character in normalised text: ASCII except ``i`` (which also
    matches the dotless ``ı``), and characters of scripts without case such as
    Chinese. Only the top level of the pattern is read; groups and classes end
    a piece. Anything not fully understood (top-level ``|``, inline flags,
    numeric escapes, a stray brace) gives None: no prefilter, the regex always
    runs.
    """
    pieces: list[str] = []
    piece = ""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        literal: str | None = None
        if c == "\\":
            if i + 1 >= n:
                return None
            escaped = pattern[i + 1]
            if escaped.isascii() and escaped.isalnum():
                if escaped not in _ZERO_WIDTH_OR_CLASS:
                    return None  # \x41, \u0041, \N{...}, \1, \n...: not read here
            else:
                literal = escaped
            i += 2
        elif c == "[":
            i = _class_end(pattern, i)
        elif c == "(":
            if pattern.startswith("(?", i) and pattern[i + 2 : i + 3] in tuple("aiLmsux-"):
                return None  # inline flags, e.g. (?x) would change what spaces mean
            i = _group_end(pattern, i)
        elif c in "|)?*+{}":
            return None
        elif c in ".^$":
            i += 1
        else:
            literal = c
            i += 1
        if i < 0:
            return None
        at_least_once = True
        if i < n and pattern[i] in "?*+{":
            if pattern[i] == "{":
                count = _COUNT.match(pattern, i)
                if count is None or not (count[1] or count[3]):
                    return None
                at_least_once = int(count[1] or 0) >= 1
                i = count.end()
            else:
                at_least_once = pattern[i] == "+"
                i += 1
            if i < n and pattern[i] in "?+":  # lazy or possessive
                i += 1
            if literal is not None and at_least_once and _caseless_in_text(literal):
                piece += literal.lower()
            literal = None  # a repeated character ends the piece
        if literal is not None and _caseless_in_text(literal):
            piece += literal.lower()
        else:
            pieces.append(piece)
            piece = ""
    pieces.append(piece)
    return max(pieces, key=len) or None


def _caseless_in_text(char: str) -> bool:
    """True when IGNORECASE matches ``char`` in normalised text only as ``char.lower()``."""
    return (char.isascii() and char not in "iI") or no_space_script(char)


def _class_end(pattern: str, i: int) -> int:
    """Index after the character class opening at ``i``, or -1."""
    j = i + 1
    if pattern[j : j + 1] == "^":
        j += 1
    if pattern[j : j + 1] == "]":
        j += 1
    while j < len(pattern):
        if pattern[j] == "\\":
            j += 2
        elif pattern[j] == "]":
            return j + 1
        else:
            j += 1
    return -1


def _group_end(pattern: str, i: int) -> int:
    """Index after the group opening at ``i``, or -1."""
    depth = 0
    j = i
    while j < len(pattern):
        c = pattern[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _class_end(pattern, j)
            if j < 0:
                return -1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def _is_latin_letter(char: str) -> bool:
    return char.isalpha() and "LATIN" in unicodedata.name(char, "")


def is_regex(term: str) -> bool:
    """Tell whether a config term is a regular expression (written ``/like this/``)."""
    return len(term) >= 2 and term.startswith("/") and term.endswith("/")


# --------------------------------------------------------------------------- verdicts


class Outcome(enum.Enum):
    """Why a watch did or did not accept an entry (checked in this order)."""

    FEED_NOT_WATCHED = "feed not watched"
    NO_ANY_TERM = "no 'any' term found"
    MISSING_ALL_TERM = "missing 'all' term"
    EXCLUDED = "excluded by none-term"
    OUT_OF_TIME = "regex out of time"
    MATCHED = "matched"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether ``watch`` accepts an entry, and why.

    ``reason`` is one line for people: ``matched``, ``feed not watched``,
    ``no 'any' term found``, ``missing 'all' term "China"``, ``excluded by
    none-term "crypto" in title``. ``hits`` lists every term of the watch that
    was found (``any``, then ``all``, then ``none`` terms, in config order) with
    its field and snippet; when the watch matched they are the hits of its
    :class:`Match`. ``missing`` lists the terms whose absence kept the watch
    from matching: every ``any`` term when none was found, and each ``all``
    term not found.
    """

    watch: str
    outcome: Outcome
    reason: str
    hits: tuple[Hit, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        """True when the watch accepts the entry."""
        return self.outcome is Outcome.MATCHED


# --------------------------------------------------------------------------- compiled form


@dataclass(frozen=True, slots=True)
class Overrun:
    """A watch whose regular expression ran out of time on one entry (not matched)."""

    watch: str
    term: str
    feed: str
    entry: str  # the entry's key
    title: str


@dataclass(frozen=True, slots=True)
class MatchRun:
    """What :meth:`Matcher.match_all` found in a batch of entries."""

    matches: tuple[Match, ...]
    overruns: tuple[Overrun, ...] = ()


@dataclass(frozen=True, slots=True)
class _Term:
    text: str  # as written in the config
    role: int  # _ANY, _ALL or _NONE (also keeps a term in two roles two distinct keys)
    slot: int = -1  # literal: the global slot of (watch, role, term)
    keys: tuple[tuple[int, int], ...] = ()  # literal: (key id, key length) for the term and plurals
    regex: int = -1  # regex: index into Matcher._regexes


@dataclass(frozen=True, slots=True)
class _Watch:
    name: str
    index: int
    feeds: frozenset[str]
    fields: tuple[int, ...]
    any: tuple[_Term, ...]
    all: tuple[_Term, ...]
    none: tuple[_Term, ...]
    any_regex: tuple[_Term, ...]
    all_regex: tuple[_Term, ...]
    none_regex: tuple[_Term, ...]
    all_literal: int  # how many 'all' terms are literal

    @property
    def literal(self) -> bool:
        """True when the watch has a literal term (its fields go through the automaton)."""
        regex = len(self.any_regex) + len(self.all_regex) + len(self.none_regex)
        return regex < len(self.any) + len(self.all) + len(self.none)


# Where a term was found: field index, start and end in the normalised text.
_Found = tuple[int, int, int]


@dataclass(slots=True)
class _Scan:
    """Per-entry work, done at most once per field: normalised text, literal hits, regex results."""

    entry: Entry
    deadline: float = float("inf")  # monotonic time when regex searching must stop
    monotonic: Callable[[], float] = time.monotonic
    texts: dict[int, str] = field(default_factory=dict)
    found: dict[int, dict[int, int]] = field(default_factory=dict)  # field -> key id -> start
    searches: dict[tuple[int, int], tuple[int, int] | None] = field(default_factory=dict)
    displays: dict[int, tuple[str, bool]] = field(default_factory=dict)
    overruns: dict[str, str] = field(default_factory=dict)  # watch -> regex term out of time

    def text(self, fi: int) -> str:
        text = self.texts.get(fi)
        if text is None:
            text = self.texts[fi] = normalise(original(self.entry, FIELDS[fi]))
        return text

    def snippet(self, fi: int, start: int, end: int) -> str:
        """The snippet of field ``fi`` around ``[start, end)`` of its normalised text."""
        shown = self.displays.get(fi)
        if shown is None:
            raw = original(self.entry, FIELDS[fi])
            shown = self.displays[fi] = (_collapse(raw), _aligned(raw))
        display, aligned = shown
        if not aligned:
            start, end = _display_span(original(self.entry, FIELDS[fi]), start, end)
        excerpt = _excerpt(display, start, end, SNIPPET_WIDTH)
        return excerpt.replace(_SEPARATOR, "; ") if FIELDS[fi] == "categories" else excerpt


class Matcher:
    """The watches of one config, compiled for matching many entries."""

    def __init__(
        self,
        watches: tuple[_Watch, ...],
        automaton: Any,
        owners: list[tuple[tuple[int, ...], ...]],
        counters: list[int],
        regexes: list[_Regex],
    ) -> None:
        """Use :meth:`compile`."""
        self._watches = watches
        self._by_name: dict[str, _Watch] = {}
        for w in watches:
            self._by_name.setdefault(w.name, w)
        self._automaton = automaton
        self._owners = owners  # key id -> field index -> slots whose watch searches that field
        self._counters = counters  # slot -> counter index (3 * watch index + role)
        self._regexes = regexes
        # feed -> (watches reading it, fields to run the automaton over)
        self._plans: dict[str, tuple[tuple[_Watch, ...], tuple[int, ...]]] = {}
        # Watches naming the same feeds (the common case: every watch on every feed)
        # are grouped, and feeds read by the same groups share one plan: a config of
        # W watches on F feeds costs about F steps, not W * F.
        groups: dict[frozenset[str], list[int]] = {}
        for i, w in enumerate(watches):
            groups.setdefault(w.feeds, []).append(i)
        reading_by_feed: dict[str, list[int]] = {}
        for g, (feeds, _) in enumerate(groups.items()):
            for feed in feeds:
                reading_by_feed.setdefault(feed, []).append(g)
        members = list(groups.values())
        shared: dict[tuple[int, ...], tuple[tuple[_Watch, ...], tuple[int, ...]]] = {}
        for feed in sorted(reading_by_feed):
            key = tuple(reading_by_feed[feed])
            plan = shared.get(key)
            if plan is None:
                # In watch order, so each feed's tuple is in watch order too.
                reading = tuple(watches[i] for i in sorted(i for g in key for i in members[g]))
                scanned = {fi for w in reading if w.literal for fi in w.fields}
                plan = shared[key] = (reading, tuple(sorted(scanned)))
            self._plans[feed] = plan

    @classmethod
    def compile(cls, watches: Sequence[Watch]) -> Matcher:
        """Compile ``watches`` (once per config). Regex terms were validated at config load."""
        keys: dict[str, int] = {}
        owners: list[list[list[int]]] = []
        counters: list[int] = []
        regexes: list[_Regex] = []
        regex_ids: dict[str, int] = {}
        automaton = ahocorasick.Automaton()

        def key_id(key: str) -> int:
            kid = keys.get(key)
            if kid is None:
                kid = keys[key] = len(keys)
                owners.append([[] for _ in FIELDS])
                need_left = is_word_char(key[0])
                need_right = is_word_char(key[-1])
                automaton.add_word(key, (kid, len(key), need_left, need_right))
            return kid

        def term(w: Watch, index: int, text: str, role: int) -> _Term:
            if is_regex(text):
                rid = regex_ids.get(text)
                if rid is None:
                    rid = regex_ids[text] = len(regexes)
                    pattern = text[1:-1]
                    regexes.append(_Regex(compile_regex(pattern), required_literal(pattern)))
                return _Term(text, role, regex=rid)
            slot = len(counters)
            counters.append(3 * index + role)
            norm = normalise(text).strip(" ")
            if not norm:  # cannot happen with a validated config; such a term is never found
                return _Term(text, role, slot=slot)
            variants = [norm]
            if w.plurals and _is_latin_letter(norm[-1]):
                variants += [norm + "s", norm + "es"]  # "'s" needs no variant: ' is a boundary
            found_keys = []
            searched = field_sets[index]
            for variant in variants:
                kid = key_id(variant)
                for fi in searched:
                    owners[kid][fi].append(slot)
                found_keys.append((kid, len(variant)))
            return _Term(text, role, slot=slot, keys=tuple(found_keys))

        field_sets = [{FIELDS.index(f) for f in w.fields} for w in watches]
        compiled = []
        for index, w in enumerate(watches):
            terms = [
                tuple(term(w, index, t, role) for t in dict.fromkeys(texts))
                for role, texts in ((_ANY, w.any), (_ALL, w.all), (_NONE, w.none))
            ]
            regex = [tuple(t for t in ts if t.regex >= 0) for ts in terms]
            compiled.append(
                _Watch(
                    name=w.name,
                    index=index,
                    feeds=frozenset(w.feeds),
                    fields=tuple(dict.fromkeys(FIELDS.index(f) for f in w.fields)),
                    any=terms[_ANY],
                    all=terms[_ALL],
                    none=terms[_NONE],
                    any_regex=regex[_ANY],
                    all_regex=regex[_ALL],
                    none_regex=regex[_NONE],
                    all_literal=len(terms[_ALL]) - len(regex[_ALL]),
                )
            )
        if keys:
            automaton.make_automaton()
        frozen_owners = [tuple(tuple(slots) for slots in per_field) for per_field in owners]
        return cls(tuple(compiled), automaton if keys else None, frozen_owners, counters, regexes)

    # ----------------------------------------------------------------------- public

    def match_all(
        self,
        entries: Sequence[Entry],
        *,
        budget: float = BATCH_BUDGET,
        entry_budget: float = ENTRY_BUDGET,
        monotonic: Callable[[], float] = time.monotonic,
        stop: Callable[[], bool] | None = None,
    ) -> MatchRun:
        """Match a batch (one poll's new entries), regex searching bounded in time.

        Each entry gets at most ``entry_budget`` seconds of regex searching and
        the whole batch ``budget``; a watch whose regex runs out of time does
        not match that entry and is reported in :attr:`MatchRun.overruns`
        (once the batch budget is spent, every later regex search overruns at
        once). Meant to run in a worker thread: regex searches release the GIL;
        ``stop`` (checked between entries) ends the batch early, returning what
        was found so far."""
        end = monotonic() + budget
        matches: list[Match] = []
        overruns: list[Overrun] = []
        for entry in entries:
            if stop is not None and stop():
                break
            deadline = min(end, monotonic() + entry_budget)
            found, late = self._match(entry, deadline, monotonic)
            matches += found
            overruns += [
                Overrun(watch, term, entry.feed, entry.key, entry.title)
                for watch, term in late.items()
            ]
        return MatchRun(tuple(matches), tuple(overruns))

    def match(self, entry: Entry) -> list[Match]:
        """Return a match for every watch that accepts ``entry``, in config order
        (regex searching bounded by :data:`ENTRY_BUDGET`; see :meth:`match_all`)."""
        return self._match(entry, time.monotonic() + ENTRY_BUDGET, time.monotonic)[0]

    def _match(
        self, entry: Entry, deadline: float, monotonic: Callable[[], float]
    ) -> tuple[list[Match], dict[str, str]]:
        plan = self._plans.get(entry.feed)
        if plan is None:
            return [], {}
        reading, scanned = plan
        scan = _Scan(entry, deadline, monotonic)
        owners, counters = self._owners, self._counters
        hit: set[int] = set()
        counts: dict[int, int] = {}
        for fi in scanned:
            for kid in self._scan(scan, fi):
                for slot in owners[kid][fi]:
                    if slot not in hit:
                        hit.add(slot)
                        counter = counters[slot]
                        counts[counter] = counts.get(counter, 0) + 1
        matches = []
        for w in reading:
            base = 3 * w.index
            if counts.get(base + _NONE) or counts.get(base + _ALL, 0) != w.all_literal:
                continue
            any_found = counts.get(base + _ANY, 0) > 0
            if w.any and not any_found and not w.any_regex:
                continue
            if any(self._search(scan, w, t) is None for t in w.all_regex):
                continue
            if any(self._search(scan, w, t) is not None for t in w.none_regex):
                continue
            if (
                w.any
                and not any_found
                and all(self._search(scan, w, t) is None for t in w.any_regex)
            ):
                continue
            found = [
                (t, self._find(scan, w, t))
                for t in (*w.any, *w.all)
                if t.regex >= 0 or t.slot in hit
            ]
            if w.name in scan.overruns:
                continue  # a regex ran out of time: the watch could not be judged
            matches.append(Match(w.name, entry, _hits(scan, found)))
        return matches, scan.overruns

    def explain(self, entry: Entry, watch: str) -> Verdict:
        """Say whether the watch named ``watch`` accepts ``entry``, and why.

        Every term is looked for, even when the first check already failed, so
        the verdict lists all that was found. Raises :class:`KeyError` for an
        unknown watch name.
        """
        w = self._by_name.get(watch)
        if w is None:
            known = ", ".join(self._by_name) or "none defined"
            raise KeyError(f"no watch named {watch!r} (known: {known})")
        scan = _Scan(entry, time.monotonic() + ENTRY_BUDGET)
        found = {t: self._find(scan, w, t) for t in (*w.any, *w.all, *w.none)}
        hits = _hits(scan, found.items())
        no_any = bool(w.any) and all(found[t] is None for t in w.any)
        missing_all = [t.text for t in w.all if found[t] is None]
        missing = tuple(dict.fromkeys([*(t.text for t in w.any if no_any), *missing_all]))
        excluded = [(t, f) for t in w.none if (f := found[t]) is not None]
        if entry.feed not in w.feeds:
            outcome, reason = Outcome.FEED_NOT_WATCHED, Outcome.FEED_NOT_WATCHED.value
        elif w.name in scan.overruns:
            outcome = Outcome.OUT_OF_TIME
            reason = f"regex {scan.overruns[w.name]} ran out of time (over {ENTRY_BUDGET:g} s)"
        elif no_any:
            outcome, reason = Outcome.NO_ANY_TERM, Outcome.NO_ANY_TERM.value
        elif missing_all:
            outcome = Outcome.MISSING_ALL_TERM
            terms = ", ".join(f'"{t}"' for t in missing_all)
            plural = "s" if len(missing_all) > 1 else ""
            reason = f"missing 'all' term{plural} {terms}"
        elif excluded:
            outcome = Outcome.EXCLUDED
            term, (fi, _, _) = excluded[0]
            reason = f'excluded by none-term "{term.text}" in {FIELDS[fi]}'
        else:
            outcome, reason = Outcome.MATCHED, Outcome.MATCHED.value
        return Verdict(w.name, outcome, reason, hits, missing)

    # ----------------------------------------------------------------------- internals

    def _scan(self, scan: _Scan, fi: int) -> dict[int, int]:
        """Key ids found as whole words in field ``fi``, with the start of the first occurrence."""
        found = scan.found.get(fi)
        if found is not None:
            return found
        found = scan.found[fi] = {}
        text = scan.text(fi)
        if not text or self._automaton is None:
            return found
        last = len(text) - 1
        is_word = is_word_char
        for end, (kid, length, need_left, need_right) in self._automaton.iter(text):
            if kid in found:
                continue
            start = end - length + 1
            if need_left and start > 0 and is_word(text[start - 1]):
                continue
            if need_right and end < last and is_word(text[end + 1]):
                continue
            found[kid] = start
        return found

    def _search(self, scan: _Scan, w: _Watch, term: _Term) -> _Found | None:
        """Where the regex ``term`` first matches in ``w``'s fields (in the watch's order)."""
        if w.name in scan.overruns:
            return None  # that watch is out of the running for this entry
        for fi in w.fields:
            key = (term.regex, fi)
            if key in scan.searches:
                where = scan.searches[key]
            else:
                left = min(scan.deadline - scan.monotonic(), SEARCH_BUDGET)
                try:
                    if left <= 0:
                        raise _OutOfTime
                    where = _search(self._regexes[term.regex], scan.text(fi), left)
                except _OutOfTime:
                    scan.overruns.setdefault(w.name, term.text)
                    return None  # not cached: another watch may give the term more time
                scan.searches[key] = where
            if where is not None:
                return fi, *where
        return None

    def _find(self, scan: _Scan, w: _Watch, term: _Term) -> _Found | None:
        """Where ``term`` is first found in ``w``'s fields (in the watch's order)."""
        if term.regex >= 0:
            return self._search(scan, w, term)
        for fi in w.fields:
            found = self._scan(scan, fi)
            best: _Found | None = None
            for kid, length in term.keys:
                start = found.get(kid)
                if start is not None and (best is None or start < best[1]):
                    best = (fi, start, start + length)
            if best is not None:
                return best
        return None


def _hits(scan: _Scan, found: Iterable[tuple[_Term, _Found | None]]) -> tuple[Hit, ...]:
    """One hit per distinct term found, in the given order."""
    hits: dict[str, Hit] = {}
    for term, where in found:
        if where is not None and term.text not in hits:
            fi, start, end = where
            hits[term.text] = Hit(term.text, FIELDS[fi], scan.snippet(fi, start, end))
    return tuple(hits.values())


# --------------------------------------------------------------------------- snippets


def _aligned(original: str) -> bool:
    """True when NFKC and case folding leave every character of ``original`` in place.

    Then ``normalise(original)`` and ``original`` with its whitespace collapsed
    line up character for character (the usual case, computed once per field).
    """
    return unicodedata.is_normalized("NFKC", original) and len(original.casefold()) == len(original)


def original_span(original: str, start: int, end: int) -> tuple[int, int]:
    """Map ``[start, end)`` in ``normalise(original)`` to the span of ``original`` it came from."""
    if _aligned(original):  # only whitespace runs move
        s = _uncollapse(original, start)
        return s, (_uncollapse(original, end - 1) + 1 if end > start else s)
    # NFKC or case folding changed lengths: binary search on prefixes.
    n = len(original)

    def length(p: int) -> int:
        return len(normalise(original[:p]))

    lo, hi = 0, n
    while lo < hi:  # the first character whose normalised prefix reaches past `start`
        mid = (lo + hi) // 2
        if length(mid + 1) > start:
            hi = mid
        else:
            lo = mid + 1
    s = lo
    lo, hi = s, n
    while lo < hi:  # the shortest prefix whose normalised form covers `end`
        mid = (lo + hi) // 2
        if length(mid) >= end:
            hi = mid
        else:
            lo = mid + 1
    return s, (max(lo, min(s + 1, n)) if end > start else s)


def _uncollapse(text: str, k: int) -> int:
    """Offset in ``text`` of offset ``k`` of ``text`` with its whitespace runs collapsed."""
    shift = 0
    for run in _RUNS.finditer(text):
        if run.start() - shift >= k:
            break
        shift += run.end() - run.start() - 1
    return k + shift


def _display_span(original: str, start: int, end: int) -> tuple[int, int]:
    """Map normalised offsets to offsets in ``original`` with whitespace collapsed."""
    s, e = original_span(original, start, end)
    return len(_collapse(original[:s])), len(_collapse(original[:e]))


def snippet(original: str, start: int, end: int, width: int = SNIPPET_WIDTH) -> str:
    """About ``width`` characters of ``original`` around normalised offsets ``[start, end)``.

    Whitespace is collapsed, and "…" marks where text was cut; a cut falls
    between words when there is a space near it.
    """
    display = _collapse(original)
    if not _aligned(original):
        start, end = _display_span(original, start, end)
    return _excerpt(display, start, end, width)


def _excerpt(display: str, s: int, e: int, width: int) -> str:
    """Cut about ``width`` characters of ``display`` (whitespace collapsed) around ``[s, e)``."""
    n = len(display)
    hit = display[s:e]
    if len(hit) >= width:
        cut_left = s > 1 or (s == 1 and display[0] != " ")
        return ("…" if cut_left else "") + hit[:width].strip() + "…"
    room = width - len(hit)
    left = min(room // 2, s)
    right = min(room - left, n - e)
    left = min(room - right, s)
    b, a = s - left, e + right
    before, after = display[b:s], display[e:a]
    cut_left = b > 1 or (b == 1 and display[0] != " ")
    if cut_left:
        space = before.find(" ")
        if 0 <= space < 16:
            before = before[space + 1 :]
    cut_right = n - a > 1 or (n - a == 1 and display[-1] != " ")
    if cut_right:
        space = after.rfind(" ")
        if space > 0 and space > len(after) - 16:
            after = after[:space]
    body = (before + hit + after).strip()
    return ("…" if cut_left else "") + body + ("…" if cut_right else "")
