"""The keyword matcher: whole words, plurals, scripts without spaces, regexes, snippets."""

from __future__ import annotations

import dataclasses
import re
import string
import unicodedata
from collections.abc import Sequence

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from notifier.matching import (
    FIELDS,
    Matcher,
    Outcome,
    Verdict,
    normalise,
    original_span,
    required_literal,
    snippet,
)
from notifier.model import Entry, Match, SearchField, Watch

DEFAULT_FIELDS: tuple[SearchField, ...] = ("title", "summary", "content")


def watch(
    name: str = "w",
    *,
    any: Sequence[str] = (),
    all: Sequence[str] = (),
    none: Sequence[str] = (),
    feeds: Sequence[str] = ("news",),
    fields: Sequence[SearchField] = DEFAULT_FIELDS,
    plurals: bool = True,
) -> Watch:
    return Watch(
        name=name,
        any=tuple(any),
        all=tuple(all),
        none=tuple(none),
        feeds=tuple(feeds),
        fields=tuple(fields),
        severity="normal",
        channels=("console",),
        digest=None,
        plurals=plurals,
    )


def entry(
    title: str = "",
    summary: str = "",
    *,
    feed: str = "news",
    content: str = "",
    link: str | None = None,
    author: str | None = None,
    categories: Sequence[str] = (),
) -> Entry:
    return Entry(
        feed=feed,
        key="k1",
        title=title,
        summary=summary,
        content=content,
        link=link,
        author=author,
        categories=tuple(categories),
    )


def names(watches: Sequence[Watch], e: Entry) -> list[str]:
    return [m.watch for m in Matcher.compile(watches).match(e)]


def finds(term: str, text: str, *, plurals: bool = True) -> bool:
    """Whether a watch with the one ``any`` term accepts an entry titled ``text``."""
    return bool(names([watch(any=[term], plurals=plurals)], entry(text)))


def summary_of(matches: Sequence[Match]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(m.watch, [(h.term, h.field) for h in m.hits]) for m in matches]


# --------------------------------------------------------------------------- words and phrases


def test_phrase_matches_across_whitespace_and_line_breaks() -> None:
    """A phrase matches whatever whitespace separates its words in the text."""
    assert finds("rare earth", "New rare earth quotas")
    assert finds("rare earth", "New rare\n   earth quotas")
    assert finds("rare  earth", "rare\tearth")
    assert not finds("rare earth", "rare-earth")


def test_whole_words_only() -> None:
    """A term does not match inside a longer word, on either side."""
    assert not finds("rare earth", "rare earthenware pots")
    assert not finds("tariff", "goods were tariffed")
    assert not finds("tariff", "antitariff lobby")
    assert not finds("tariff", "tariff_2025")
    assert finds("tariff", "(tariff)")
    assert finds("tariff", "tariff.")


def test_digits_are_word_characters() -> None:
    """Numbers are whole words too: 301 does not match 3011 or 1301."""
    assert finds("301", "Section 301 probe")
    assert not finds("301", "Section 3011")
    assert not finds("301", "HS 1301")


def test_boundary_needed_only_where_the_term_has_a_word_character() -> None:
    """A term edge that is punctuation needs no boundary on that side: US$100, U.S.-China."""
    assert finds("$100", "a US$100 fee")
    assert not finds("$100", "a $1000 fee")
    assert finds("U.S.", "U.S.-China talks")
    assert not finds("U.S.", "AU.S. talks")


def test_combining_marks_are_part_of_words() -> None:
    """A Devanagari vowel sign continues a word: भारत does not match inside भारतीय."""
    assert finds("भारत", "भारत सरकार")
    assert not finds("भारत", "भारतीय रेल")


# --------------------------------------------------------------------------- plurals


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("tariff", "new tariffs"),
        ("tax", "digital taxes"),
        ("rare earth", "rare earths exports"),
        ("Tariff", "TARIFFS"),
        ("tariff", "the tariff's scope"),
        ("tariff", "the tariff’s scope"),
    ],
)
def test_plurals_on_by_default(term: str, text: str) -> None:
    """With plurals on, a term ending in a Latin letter also matches +s, +es, 's, ’s."""
    assert finds(term, text)


def test_plural_forms_are_still_whole_words() -> None:
    """tariff finds tariffs but not tariffsomething; a digit-final term gets no plural."""
    assert not finds("tariff", "tariffsx")
    assert not finds("tax", "taxesy")
    assert not finds("301", "the 301s")


def test_plurals_off_means_exact_words() -> None:
    """With plurals off, only the word itself (and a possessive, which ends at ') matches."""
    assert not finds("tariff", "new tariffs", plurals=False)
    assert not finds("tax", "digital taxes", plurals=False)
    assert finds("tariff", "one tariff", plurals=False)
    assert finds("tariff", "the tariff's scope", plurals=False)


def test_plurals_are_per_watch() -> None:
    """Two watches with the same term but different plural settings each keep theirs."""
    watches = [watch("loose", any=["tariff"]), watch("strict", any=["tariff"], plurals=False)]
    assert names(watches, entry("tariffs rise")) == ["loose"]
    assert names(watches, entry("a tariff rises")) == ["loose", "strict"]


# --------------------------------------------------------------------------- scripts and case


def test_cjk_terms_match_inside_words() -> None:
    """Chinese has no spaces between words: 稀土 matches inside 稀土出口管制."""
    assert finds("稀土", "稀土出口管制")
    assert finds("稀土", "中国加强稀土出口管制")
    assert finds("出口管制", "稀土出口管制措施")


def test_cjk_terms_in_mixed_text() -> None:
    """A CJK term matches in mixed-script text, and a Latin word next to CJK is a whole word."""
    assert finds("稀土", "China's 稀土 rules")
    assert finds("china", "China稀土出口")
    assert finds("china", "Chinas稀土")  # the plural, next to CJK


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("レアアース", "レアアース輸出規制"),  # Katakana
        ("ภาษี", "ภาษีนำเข้า"),  # Thai
        ("관세", "관세를 부과"),  # Korean particle attached
    ],
)
def test_other_scripts_without_spaces_match_inside_words(term: str, text: str) -> None:
    """Japanese kana, Thai and Hangul terms also need no word boundary."""
    assert finds(term, text)


def test_case_insensitive_with_nfkc_and_casefold() -> None:
    """Full-width, ligatures and ß/SS all fold to the same text, in terms and in text alike."""
    assert finds("tariff", "ＴＡＲＩＦＦ hike")
    assert finds("ＴＡＲＩＦＦ", "a tariff hike")
    assert finds("Straße", "STRASSE gesperrt")
    assert finds("STRASSE", "die Straße")
    assert finds("finance", "ﬁnance ministers")
    assert finds("café", "CAFE\u0301 closed")


# --------------------------------------------------------------------------- any / all / none


def test_none_terms_exclude() -> None:
    """A none-term found in any searched field rejects the entry."""
    w = watch(any=["tariff"], none=["crypto"])
    assert names([w], entry("tariff news")) == ["w"]
    assert names([w], entry("tariff news", "and crypto too")) == []


def test_all_terms_are_required() -> None:
    """Every all-term must be found, in any of the watch's fields."""
    w = watch(any=["tariff"], all=["China", "steel"])
    assert names([w], entry("tariff on steel", "from China")) == ["w"]
    assert names([w], entry("tariff on steel")) == []


def test_all_terms_alone() -> None:
    """A watch with only all-terms matches when every one is found."""
    w = watch(all=["export", "ban"])
    assert names([w], entry("export ban")) == ["w"]
    assert names([w], entry("export rules")) == []


def test_regex_terms() -> None:
    """/.../ terms are case-insensitive regexes on the normalised text, without implicit \\b."""
    w = watch(any=["/export (ban|control)s?/"])
    assert names([w], entry("New EXPORT CONTROLS")) == ["w"]
    assert names([w], entry("export\n  bans")) == ["w"]  # whitespace collapsed first
    assert names([w], entry("export rules")) == []
    assert finds("/tariff/", "goods were tariffed")
    assert not finds(r"/\btariff\b/", "goods were tariffed")


def test_regex_terms_in_all_and_none() -> None:
    """Regexes work as all-terms and none-terms too."""
    w = watch(any=["tariff"], all=[r"/\d+%/"], none=["/rumou?r/"])
    assert names([w], entry("tariff of 25%")) == ["w"]
    assert names([w], entry("tariff of a quarter")) == []
    assert names([w], entry("tariff of 25%", "a rumor says")) == []


def test_only_the_watch_fields_are_searched() -> None:
    """A term that only occurs in the link matches only when the watch searches 'link'."""
    e = entry("Daily news", link="https://example.com/tariff/update")
    assert names([watch(any=["tariff"])], e) == []
    found = Matcher.compile([watch(any=["tariff"], fields=["link"])]).match(e)
    assert summary_of(found) == [("w", [("tariff", "link")])]


def test_fields_are_per_watch_when_watches_share_a_feed() -> None:
    """Another watch searching a field does not make this watch search it."""
    watches = [
        watch("title-only", any=["tariff"], fields=["title"]),
        watch("summary-only", any=["steel"], fields=["summary"]),
    ]
    assert names(watches, entry("steel", "tariff")) == []
    assert names(watches, entry("tariff", "steel")) == ["title-only", "summary-only"]


def test_none_terms_are_searched_only_in_the_watch_fields() -> None:
    """A none-term outside the watch's fields does not exclude."""
    w = watch(any=["tariff"], none=["crypto"], fields=["title"])
    assert names([w], entry("tariff news", "crypto crypto")) == ["w"]


def test_categories_are_searched_one_by_one() -> None:
    """A phrase never spans two categories; a regex's ^ and $ apply to each category."""
    w = watch(any=["trade policy", "/^steel$/"], fields=["categories", "author"])
    matcher = Matcher.compile([w])
    (m,) = matcher.match(entry(categories=["Economy", "Trade Policy"]))
    assert [(h.term, h.field, h.snippet) for h in m.hits] == [
        ("trade policy", "categories", "Economy; Trade Policy")
    ]
    assert matcher.match(entry(categories=["Trade", "Policy"])) == []
    assert names([w], entry(categories=["Tariffs", "Steel"])) == ["w"]
    assert names([w], entry(categories=["Steel tariffs"])) == []
    assert names([w], entry(author=None)) == []


def test_feed_selection() -> None:
    """A watch only sees entries of its feeds; entries of other feeds match nothing."""
    w = watch(any=["tariff"], feeds=["ustr"])
    assert names([w], entry("tariff", feed="ustr")) == ["w"]
    assert names([w], entry("tariff", feed="mofcom")) == []


def test_matches_come_in_config_order() -> None:
    """Every accepting watch is returned, in the order of the config."""
    watches = [
        watch("c", any=["steel"]),
        watch("a", any=["tariff"]),
        watch("b", any=["nothing here"]),
        watch("d", any=["/stee/"]),
    ]
    assert names(watches, entry("steel tariff")) == ["c", "a", "d"]


def test_overlapping_terms_are_all_reported() -> None:
    """Terms that overlap in the text are each found: rare earth, rare, earth."""
    watches = [watch("a", any=["rare earth", "earth", "rare"]), watch("b", any=["earth"])]
    found = Matcher.compile(watches).match(entry("rare earth"))
    assert summary_of(found) == [
        ("a", [("rare earth", "title"), ("earth", "title"), ("rare", "title")]),
        ("b", [("earth", "title")]),
    ]


def test_a_term_shared_by_watches_and_roles() -> None:
    """A term one watch wants and another excludes is decided per watch."""
    watches = [watch("want", any=["crypto"]), watch("avoid", any=["tariff"], none=["crypto"])]
    assert names(watches, entry("tariff and crypto")) == ["want"]


def test_hits_keep_the_term_as_written_once_each() -> None:
    """A hit names the term as in the config; a term in both any and all is one hit."""
    w = watch(any=["Rare Earth", "ＴＡＲＩＦＦ"], all=["Rare Earth"])
    (m,) = Matcher.compile([w]).match(entry("rare earths and tariffs"))
    assert [h.term for h in m.hits] == ["Rare Earth", "ＴＡＲＩＦＦ"]
    assert m.explain() == '"Rare Earth" in title; "ＴＡＲＩＦＦ" in title'


def test_hit_field_is_the_first_in_the_watch_order() -> None:
    """When a term occurs in several fields, the hit names the first in the watch's order."""
    e = entry("tariff in title", "tariff in summary")
    (m,) = Matcher.compile([watch(any=["tariff"], fields=["summary", "title"])]).match(e)
    assert m.hits[0].field == "summary"


def test_empty_fields_and_missing_values() -> None:
    """Empty text, no link and no author never break matching."""
    e = entry()
    literal = watch("literal", any=["tariff"], fields=list(FIELDS))
    empty = watch("empty", any=["/^$/"], fields=["link"])
    found = Matcher.compile([literal, empty]).match(e)
    assert summary_of(found) == [("empty", [("/^$/", "link")])]
    assert found[0].hits[0].snippet == ""
    assert Matcher.compile([]).match(e) == []


# --------------------------------------------------------------------------- snippets


def test_snippet_is_taken_from_the_original_text() -> None:
    """The snippet shows the text as written (full-width, ß, line breaks collapsed)."""
    e = entry("", "  Die  ＲＡＲＥ\n EARTH Straße  ")
    (m,) = Matcher.compile([watch(any=["rare earth"])]).match(e)
    assert m.hits[0].snippet == "Die ＲＡＲＥ EARTH Straße"


def test_snippet_is_cut_around_the_first_occurrence() -> None:
    """A long text gives about 120 characters around the hit, with … where it was cut."""
    text = "word " * 100 + "Straße ß ﬁnal tariff here " + "tail " * 100 + "tariff"
    (m,) = Matcher.compile([watch(any=["tariff"])]).match(entry("", text))
    hit = m.hits[0].snippet
    assert hit.startswith("…")
    assert hit.endswith("…")
    assert "Straße ß ﬁnal tariff here" in hit
    assert 100 <= len(hit) <= 122


def test_snippet_without_cuts_has_no_ellipsis() -> None:
    """A short field is shown whole, without "…"."""
    (m,) = Matcher.compile([watch(any=["tariff"])]).match(entry("A tariff."))
    assert m.hits[0].snippet == "A tariff."


@pytest.mark.parametrize(
    ("original", "term", "expected"),
    [
        ("Die Straße, tariff!", "tariff", "tariff"),
        ("ßßß  \n tariff", "tariff", "tariff"),
        ("ﬁnance and tariff", "finance", "ﬁnance"),
        ("cafe\u0301 tariff", "tariff", "tariff"),
        ("ＴＡＲＩＦＦ", "tariff", "ＴＡＲＩＦＦ"),
        ("a   b\t\tc tariff", "tariff", "tariff"),
        ("ǅ x tariff", "tariff", "tariff"),
    ],
)
def test_original_span_maps_normalised_offsets_back(
    original: str, term: str, expected: str
) -> None:
    """A normalised offset maps back to the original characters it came from."""
    norm = normalise(original)
    start = norm.index(term)
    s, e = original_span(original, start, start + len(term))
    assert original[s:e] == expected


def test_snippet_of_a_long_regex_hit_is_cut() -> None:
    """A hit longer than the snippet width is cut to it, with "…"."""
    text = "x" * 300
    assert snippet(text, 0, 300) == "x" * 120 + "…"


# --------------------------------------------------------------------------- regex prefilter


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        ("export (ban|control)s?", "export "),
        ("(anti)?dumping", "dump"),  # i is never part of the literal: it also matches ı
        (r"section \d{3}", "sect"),
        (r"U\.S\.", "u.s."),
        ("ab{2}c", "ab"),
        ("ab{0,2}cd", "cd"),
        ("xa+y", "xa"),
        ("稀土出口", "稀土出口"),
        ("a|b", None),
        (r"\x41bc", None),
        ("(?x) a b", None),
        ("a{", None),
        ("", None),
    ],
)
def test_required_literal(pattern: str, literal: str | None) -> None:
    """A regex term runs only when the text contains a piece every match must contain."""
    assert required_literal(pattern) == literal


REGEX_PARTS = [
    "a", "b", "i", "I", "k", "K", "s", "S", "ß", "稀", " ", r"\.", ".", "a?", "b*", "a+", "b+?",
    "(ab|ba)", "[ab]", "[^a]", r"\b", r"\d", r"\s", "x{2}", "a{0,2}", "b{1,}", "(?:ab)?", r"\x61",
    "|", "^", "$", "%", "1", "(?i)",
]  # fmt: skip
REGEX_TEXT = [
    "a",
    "b",
    "ab",
    "ba",
    "i",
    "ı",
    "İ",
    "K",
    "ſ",
    "k",
    "s",
    "ß",
    "ss",
    "稀",
    " ",
    ".",
    "1",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(REGEX_PARTS), min_size=1, max_size=6).map("".join),
    st.lists(st.sampled_from(REGEX_TEXT), max_size=12).map("".join),
)
def test_required_literal_is_in_every_match(pattern: str, text: str) -> None:
    """Whenever a regex term matches normalised text, the text contains its literal."""
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error:
        reject()  # not a valid regex; the config loader rejects such terms
    norm = normalise(text)
    literal = required_literal(pattern)
    if compiled.search(norm) and literal is not None:
        assert literal in norm


# --------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize(
    ("e", "outcome", "reason", "missing"),
    [
        (entry("tariff on China", "rare earths"), Outcome.MATCHED, "matched", ()),
        (entry("China steel"), Outcome.NO_ANY_TERM, "no 'any' term found", ("tariff", "稀土")),
        (
            entry("tariff news"),
            Outcome.MISSING_ALL_TERM,
            "missing 'all' term \"China\"",
            ("China",),
        ),
        (
            entry("tariff on China crypto", "and crypto"),
            Outcome.EXCLUDED,
            'excluded by none-term "crypto" in title',
            (),
        ),
        (entry("tariff on China", feed="other"), Outcome.FEED_NOT_WATCHED, "feed not watched", ()),
    ],
)
def test_verdict_reasons(e: Entry, outcome: Outcome, reason: str, missing: tuple[str, ...]) -> None:
    """explain() says why: matched, no any-term, a missing all-term, excluded, feed not watched."""
    w = watch("trade", any=["tariff", "稀土"], all=["China"], none=["crypto"])
    verdict = Matcher.compile([w]).explain(e, "trade")
    assert verdict.watch == "trade"
    assert verdict.outcome is outcome
    assert verdict.reason == reason
    assert verdict.matched == (outcome is Outcome.MATCHED)
    assert verdict.missing == missing


def test_verdict_lists_several_missing_all_terms() -> None:
    """Several missing all-terms are all named in the reason."""
    w = watch(all=["China", "ban"])
    verdict = Matcher.compile([w]).explain(entry("nothing"), "w")
    assert verdict.reason == 'missing \'all\' terms "China", "ban"'


def test_verdict_hits_carry_field_and_snippet() -> None:
    """A verdict lists every term found, none-terms included, with field and snippet."""
    w = watch(any=["tariff"], none=["crypto"])
    verdict = Matcher.compile([w]).explain(entry("Tariff news", "Also crypto."), "w")
    assert [(h.term, h.field, h.snippet) for h in verdict.hits] == [
        ("tariff", "title", "Tariff news"),
        ("crypto", "summary", "Also crypto."),
    ]


def test_verdict_of_a_match_has_the_match_hits() -> None:
    """When the watch matches, the verdict's hits are the match's hits."""
    w = watch(any=["tariff", "/ste+l/"], all=["China"])
    e = entry("Tariff on steel", "from China")
    matcher = Matcher.compile([w])
    (m,) = matcher.match(e)
    assert matcher.explain(e, "w") == Verdict("w", Outcome.MATCHED, "matched", m.hits)


def test_explain_unknown_watch() -> None:
    """Explaining a watch that is not in the config is a KeyError naming the known ones."""
    with pytest.raises(KeyError, match="known: w"):
        Matcher.compile([watch()]).explain(entry(), "nope")


# --------------------------------------------------------------------------- reference, properties

NO_SPACE_SCRIPTS = {"CJK", "HIRAGANA", "KATAKANA", "THAI", "HANGUL", "LAO", "KHMER", "MYANMAR"}


def ref_normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def ref_word(char: str) -> bool:
    if re.split("[ -]", unicodedata.name(char, "?"))[0] in NO_SPACE_SCRIPTS:
        return False
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


def ref_occurs(term: str, text: str, plurals: bool) -> bool:
    """Per term: every occurrence found with str.find, boundaries checked by hand."""
    if not term:
        return False
    variants = [term]
    if plurals and term[-1].isalpha() and "LATIN" in unicodedata.name(term[-1]):
        variants += [term + suffix for suffix in ("s", "es", "'s", "’s")]
    for v in variants:
        i = text.find(v)
        while i != -1:
            before = text[i - 1] if i > 0 else " "
            after = text[i + len(v)] if i + len(v) < len(text) else " "
            if not (ref_word(v[0]) and ref_word(before)) and not (
                ref_word(v[-1]) and ref_word(after)
            ):
                return True
            i = text.find(v, i + 1)
    return False


def ref_field(term: str, e: Entry, w: Watch) -> str | None:
    for f in w.fields:
        for raw in e.categories if f == "categories" else [e.text(f)]:
            text = ref_normalise(raw)
            if len(term) >= 2 and term[0] == term[-1] == "/":
                if re.search(term[1:-1], text, re.IGNORECASE):
                    return f
            elif ref_occurs(ref_normalise(term), text, w.plurals):
                return f
    return None


def reference(watches: Sequence[Watch], e: Entry) -> list[tuple[str, list[tuple[str, str]]]]:
    """The obviously correct matcher: every term of every watch, one at a time."""
    result = []
    for w in watches:
        if e.feed not in w.feeds:
            continue
        where = {t: ref_field(t, e, w) for t in (*w.any, *w.all, *w.none)}
        if w.any and not [t for t in w.any if where[t]]:
            continue
        if [t for t in w.all if not where[t]] or [t for t in w.none if where[t]]:
            continue
        hits = [(t, f) for t in dict.fromkeys((*w.any, *w.all)) if (f := where[t])]
        result.append((w.name, hits))
    return result


WORDS = [
    "ab", "AB", "abs", "abes", "ab's", "ab’s", "ba", "a", "b", "x_ab", "1ab", "ab1", "ss", "ß",
    "STRASSE", "Straße", "稀土", "土", "出口", "稀土出口", "ｂａ", "éa", "e\u0301", "ー", "レア",
    "ไทย", "한국", "ﬁ", "Ⅻ", "$1", "U.S.", "q\u0301", "भारत", "भारतीय", "a.b", "稀土s",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\n", "", "", "-", "_", "'", ".", "\t", " \u3000 ", "s ", "es\n", "’s "]
SEPARATORS += ["\x85", "\u2028", "\xa0"]
TERMS = [
    "ab", "AB", "a b", "ab ba", "ba", "b", "a", "ss", "ß", "Straße", "稀土", "土", "出口", "abs",
    "ab's", "é", "ไทย", "한국", "ｂ", "ー", "fi", "xii", "$1", "U.S.", "q", "भारत",
    "/a.b/", r"/\bss\b/", "/稀土|ß/", "/ab?s/",
]  # fmt: skip

texts = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=30).map(
    lambda parts: "".join(w + s for w, s in parts)
)
terms = st.one_of(
    st.sampled_from(TERMS),
    st.sampled_from(TERMS),
    st.text(alphabet="abß土 '.", min_size=1, max_size=4)
    .map(str.strip)
    .filter(lambda t: bool(t) and not (len(t) >= 2 and t[0] == t[-1] == "/")),
)
term_lists = st.lists(terms, max_size=3)


@st.composite
def watch_lists(draw: st.DrawFn) -> list[Watch]:
    count = draw(st.integers(min_value=1, max_value=4))
    result = []
    for i in range(count):
        any_terms = draw(term_lists)
        all_terms = draw(st.lists(terms, min_size=0 if any_terms else 1, max_size=1))
        result.append(
            watch(
                f"w{i}",
                any=any_terms,
                all=all_terms,
                none=draw(st.lists(terms, max_size=1)),
                feeds=draw(st.sampled_from([("news",), ("blog",), ("news", "blog")])),
                fields=draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True)),
                plurals=draw(st.booleans()),
            )
        )
    return result


@st.composite
def entries(draw: st.DrawFn, text: st.SearchStrategy[str] = texts) -> Entry:
    return entry(
        draw(text),
        draw(text),
        feed=draw(st.sampled_from(["news", "news", "blog"])),
        content=draw(text),
        link=draw(st.none() | text),
        author=draw(st.none() | text),
        categories=draw(st.lists(text, max_size=2)),
    )


def texts_about(watches: Sequence[Watch]) -> st.SearchStrategy[str]:
    """Texts made of common words and of the watches' own terms (so that many match)."""
    own = sorted({t for w in watches for t in (*w.any, *w.all, *w.none) if not t.startswith("/")})
    words = st.sampled_from(WORDS) | st.sampled_from(own or WORDS)
    return st.lists(st.tuples(words, st.sampled_from(SEPARATORS)), max_size=12).map(
        lambda parts: "".join(w + s for w, s in parts)
    )


@settings(max_examples=400, deadline=None)
@given(watch_lists(), st.data())
def test_matcher_agrees_with_the_reference(watches: list[Watch], data: st.DataObject) -> None:
    """The compiled matcher finds exactly what the term-by-term reference finds, and
    explain() agrees with match() for every watch."""
    e = data.draw(entries(texts_about(watches)))
    matcher = Matcher.compile(watches)
    found = matcher.match(e)
    assert summary_of(found) == reference(watches, e)
    by_name = {m.watch: m for m in found}
    for w in watches:
        verdict = matcher.explain(e, w.name)
        assert verdict.matched == (w.name in by_name)
        if verdict.matched:
            assert verdict.hits == by_name[w.name].hits


ascii_texts = st.text(alphabet=string.ascii_letters + " .'-_\n", max_size=60)
ascii_terms = st.lists(
    st.sampled_from(["ab", "AB", "a b", "ba", "b", "abs", "/a.b/", "/B+A/", "x_y"])
    | st.text(alphabet=string.ascii_letters, min_size=1, max_size=3),
    min_size=1,
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(ascii_terms, st.lists(st.sampled_from(["ab", "BA", "q"]), max_size=1), ascii_texts)
def test_case_of_the_text_does_not_matter(
    any_terms: list[str], none_terms: list[str], text: str
) -> None:
    """Upper- or lower-casing the text changes neither which watches match nor their hits."""
    matcher = Matcher.compile([watch(any=any_terms, none=none_terms, fields=["title", "link"])])
    results = [
        summary_of(matcher.match(entry(t, link=t))) for t in (text, text.upper(), text.lower())
    ]
    assert results[0] == results[1] == results[2]


compat_texts = st.lists(
    st.sampled_from([*WORDS, "ＡＢ", "Å", "①", "ｶ", "㎏", "ﬀ", "ａ ｂ", "\u00a0", "ss\u0301"]),
    max_size=10,
).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(watch_lists(), entries(compat_texts))
def test_nfkc_form_of_the_text_does_not_matter(watches: list[Watch], e: Entry) -> None:
    """An entry and its NFKC-normalised copy match the same watches with the same hits."""

    def nfkc(text: str) -> str:
        return unicodedata.normalize("NFKC", text)

    same = entry(
        nfkc(e.title),
        nfkc(e.summary),
        feed=e.feed,
        content=nfkc(e.content),
        link=None if e.link is None else nfkc(e.link),
        author=None if e.author is None else nfkc(e.author),
        categories=[nfkc(c) for c in e.categories],
    )
    matcher = Matcher.compile(watches)
    assert summary_of(matcher.match(e)) == summary_of(matcher.match(same))


@settings(max_examples=200, deadline=None)
@given(watch_lists(), entries(), st.data())
def test_a_none_term_never_adds_matches(
    watches: list[Watch], e: Entry, data: st.DataObject
) -> None:
    """Adding a none-term to a watch can only remove matches."""
    i = data.draw(st.integers(min_value=0, max_value=len(watches) - 1))
    extra = data.draw(terms)
    w = watches[i]
    stricter = list(watches)
    stricter[i] = dataclasses.replace(w, none=(*w.none, extra))
    before = set(names(watches, e))
    after = set(names(stricter, e))
    assert after <= before
