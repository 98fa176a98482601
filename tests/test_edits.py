"""Edits of matched entries: which change the facts, the word diff, and the decision."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier import edits
from notifier.edits import (
    DIFF_LIMIT,
    DIFF_TOKENS,
    FACTS_CHARS,
    EditDecision,
    decide_edit,
    facts,
    text_hash,
    word_diff,
)
from notifier.model import EditPolicy
from notifier.sources.html import to_text

POLICIES: tuple[EditPolicy, ...] = ("facts", "all", "none")


def decide(
    old: str,
    new: str,
    *,
    title: str = "Tariff pause",
    new_title: str | None = None,
    old_terms: tuple[str, ...] = ("tariff",),
    new_terms: tuple[str, ...] = ("tariff",),
    policy: EditPolicy = "facts",
) -> EditDecision:
    """An edit of the summary (and of the title when ``new_title`` is given)."""
    return decide_edit(
        title,
        old,
        title if new_title is None else new_title,
        new,
        old_terms=old_terms,
        new_terms=new_terms,
        policy=policy,
    )


# --------------------------------------------------------------------------- the decision


def test_a_new_date_alerts_with_the_dates_in_the_reason_and_the_diff() -> None:
    """A new date ("July 9" → "August 12") alerts, saying so, with the word diff."""
    d = decide(
        "The pause was extended to July 9 after talks.",
        "The pause was extended to August 12 after talks.",
    )
    assert d.alert
    assert d.changed
    assert d.reason == "dates/numbers changed: July 9 → August 12"
    assert d.diff == "summary: The pause was extended to [-July 9-]{+August 12+} after talks."
    assert d.facts_removed == ("July 9",)
    assert d.facts_added == ("August 12",)


@pytest.mark.parametrize(
    ("old", "new", "removed", "added"),
    [
        ("Tariffs rise to 25%.", "Tariffs rise to 50%.", ("25%",), ("50%",)),
        (
            "A $300 billion package.",
            "A $350 billion package.",
            ("$300 billion",),
            ("$350 billion",),
        ),
        ("Duties on 1,000 items.", "Duties on 1,200 items.", ("1000",), ("1200",)),
        ("Talks end at 5 p.m.", "Talks end at 6 p.m.", ("5pm",), ("6pm",)),
        ("Due in the third quarter.", "Due in the fourth quarter.", ("Q3",), ("Q4",)),
        ("Starts 2025-07-09.", "Starts 2025-08-12.", ("July 9",), ("August 12",)),
        ("Tariffs rise.", "Tariffs rise to 25% on July 9.", (), ("25%", "July 9")),
        ("Tariffs rise by 2.5%.", "Tariffs rise.", ("2.5%",), ()),
    ],
)
def test_changed_numbers_alert(
    old: str, new: str, removed: tuple[str, ...], added: tuple[str, ...]
) -> None:
    """Percentages, amounts, counts, times, quarters and dates are facts; changing one alerts."""
    d = decide(old, new)
    assert d.alert
    assert (d.facts_removed, d.facts_added) == (removed, added)
    assert d.reason.startswith("dates/numbers")


def test_the_reason_names_an_addition_or_a_removal() -> None:
    """A fact only added, or only removed, is said so."""
    assert decide("Tariffs rise.", "Tariffs rise 25%.").reason == "dates/numbers added: 25%"
    assert decide("Tariffs rise 25%.", "Tariffs rise.").reason == "dates/numbers removed: 25%"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Tariffs of 25 percent.", "Tariffs of 25%."),
        ("Tariffs of 25 per cent.", "Tariffs of 25 %."),
        ("A $350bn package.", "A US$350 billion package."),
        ("Due Aug. 12.", "Due 12 August."),
    ],
)
def test_another_spelling_of_the_same_facts_is_only_wording(old: str, new: str) -> None:
    """Another spelling ("25 percent" → "25%") changes words, not facts: recorded, not alerted."""
    d = decide(old, new)
    assert d.changed
    assert not d.alert
    assert d.reason == "only wording changed"
    assert (d.facts_removed, d.facts_added) == ((), ())


def test_a_chinese_date_change_alerts() -> None:
    """A new Chinese date ("7月9日" → "8月12日") alerts, and the diff is per character."""
    d = decide_edit(
        "关税暂停期将于7月9日到期",
        "",
        "关税暂停期将于8月12日到期",
        "",
        old_terms=["关税"],
        new_terms=["关税"],
    )
    assert d.alert
    assert d.reason == "dates/numbers changed: 7月9日 → 8月12日"
    assert d.diff == "title: 关税暂停期将于[-7月9-]{+8月12+}日到期"


def test_chinese_rewording_alerts_only_under_edits_all() -> None:
    """Rewording without numbers: no alert by default (facts), an alert with ``edits: all``."""
    old, new = "关税暂停期延长", "关税暂停期再次延长"
    quiet = decide_edit(old, "", new, "", old_terms=[], new_terms=[])
    assert (quiet.alert, quiet.changed, quiet.reason) == (False, True, "only wording changed")
    assert quiet.diff == "title: 关税暂停期{+再次+}延长"
    loud = decide_edit(old, "", new, "", old_terms=[], new_terms=[], policy="all")
    assert (loud.alert, loud.changed) == (True, True)
    assert loud.reason == "wording changed (edits: all)"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("The pause  was extended\nto July 9.", "The pause was extended to July 9. "),
        ("The pause was extended to July 9.", "THE PAUSE WAS EXTENDED TO JULY 9."),
        ("The pause was extended to July 9.", "The pause was extended, to July 9!"),
        ("U.S. tariffs — paused.", "US tariffs: paused"),
        ("Ｔａｒｉｆｆｓ　ｏｆ　２５％", "Tariffs of 25%"),
        ("On 1,000 items.", "On 1000 items."),
    ],
)
def test_whitespace_case_punctuation_and_width_are_not_edits(old: str, new: str) -> None:
    """Whitespace, case, punctuation or full-width changes alone are no edit at all."""
    for policy in POLICIES:
        d = decide(old, new, policy=policy)
        assert d == EditDecision(alert=False, changed=False, reason="no change", diff="")


def test_an_html_only_change_is_not_an_edit() -> None:
    """Entries carry plain text (``html.to_text``): new markup around the same words is no edit."""
    old = to_text("<p>The pause was extended to <b>July 9</b>.</p>")
    new = to_text('<div><p class="x">The pause was <em>extended</em> to July&nbsp;9.</p></div>')
    assert not decide(old, new).changed


def test_a_decimal_point_and_a_percent_sign_are_not_punctuation() -> None:
    """A decimal point ("2.5%" → "25%") or a percent sign ("25" → "25%") makes an edit."""
    assert decide("Up 2.5%.", "Up 25%.").alert
    assert decide("Up 25.", "Up 25%.").alert
    assert decide("On July 9, 2025.", "On July 92025.").changed


def test_edits_none_never_alerts_but_reports_the_change() -> None:
    """``edits: none``: no alert, even for new facts; the edit is still reported, with its diff."""
    d = decide("Tariffs of 25%.", "Tariffs of 50%.", policy="none")
    assert not d.alert
    assert d.changed
    assert d.reason == "edits: none; dates/numbers changed: 25% → 50%"
    assert d.diff == "summary: Tariffs of [-25%.-]{+50%.+}"


def test_a_watch_term_added_or_removed_alerts_with_the_term() -> None:
    """A term of the watch newly found, or no longer found, alerts (edits: facts), naming it."""
    added = decide(
        "New rules announced.",
        "New export controls announced.",
        old_terms=("tariff",),
        new_terms=("tariff", "export controls"),
    )
    assert added.alert
    assert added.reason == 'watch term added: "export controls"'
    assert added.terms_added == ("export controls",)
    removed = decide(
        "New export controls and rare earths rules.",
        "New rules.",
        old_terms=("tariff", "export controls", "rare earth"),
        new_terms=("tariff",),
    )
    assert removed.alert
    assert removed.reason == 'watch terms removed: "export controls", "rare earth"'
    assert removed.terms_removed == ("export controls", "rare earth")


def test_facts_and_terms_together_are_one_line() -> None:
    """Both kinds of change are named, facts first, on one line."""
    d = decide(
        "Tariffs of 25%.",
        "Tariffs of 50% on steel.",
        old_terms=("tariff",),
        new_terms=("tariff", "steel"),
    )
    assert d.reason == 'dates/numbers changed: 25% → 50%; watch term added: "steel"'


def test_many_facts_are_listed_up_to_a_few() -> None:
    """A rewrite full of numbers keeps the reason short: four facts a side, then "…"."""
    d = decide("Figures: 1, 2, 3, 4, 5, 6.", "Figures: 7, 8, 9, 10, 11, 12.")
    assert d.reason == "dates/numbers changed: 1, 2, 3, 4, … → 7, 8, 9, 10, …"
    assert len(d.facts_removed) == 6


def test_the_diff_has_a_line_for_each_part_that_changed() -> None:
    """The diff reads ``title: …`` then ``summary: …``, only for the parts that changed."""
    d = decide(
        "Tariffs of 25% on steel.",
        "Tariffs of 50% on steel.",
        title="Tariffs to rise",
        new_title="Tariffs to rise again",
    )
    assert (
        d.diff == "title: Tariffs to rise {+again+}\nsummary: Tariffs of [-25%-]{+50%+} on steel."
    )
    assert decide("Tariffs of 25%.", "Tariffs of 25%.", title="A", new_title="B").diff == (
        "title: [-A-]{+B+}"
    )


def test_an_unknown_policy_is_a_programming_error() -> None:
    """The config accepts only the three policies; anything else fails loudly."""
    with pytest.raises(ValueError, match="unknown edit policy"):
        decide("a", "b", policy="some")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- facts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Due July 9", {"July 9"}),
        ("Due Aug. 12", {"August 12"}),
        ("Due 12 August", {"August 12"}),
        ("Due the 12th of August", {"August 12"}),
        ("Due AUGUST 12TH", {"August 12"}),
        ("Due July 9, 2025", {"July 9", "2025"}),
        ("Due 2025-07-09", {"July 9", "2025"}),
        ("Due in August 2025", {"August 2025"}),
        ("Due in mid-August", {"August"}),
        ("Article 5 may apply", {"5"}),
        ("25%", {"25%"}),
        ("25 percent", {"25%"}),
        ("25 per cent", {"25%"}),
        ("25 pct", {"25%"}),
        ("25.0%", {"25%"}),
        ("up 2 percentage points", {"2 pp"}),
        ("1,000 and 1000", {"1000"}),
        ("$350 billion", {"$350 billion"}),
        ("$350bn", {"$350 billion"}),
        ("US$350 billion", {"$350 billion"}),
        ("350 billion dollars", {"$350 billion"}),
        ("USD 350bn", {"$350 billion"}),
        ("€5m", {"€5 million"}),
        ("300 million yuan", {"300 million yuan"}),
        ("8月12日", {"8月12日"}),
        ("2025年8月12日起", {"8月12日", "2025"}),
        ("８月１２日", {"8月12日"}),
        ("征收25%关税", {"25%"}),
        ("百分之25", {"25%"}),
        ("百分之二十五", {"25%"}),
        ("百分之二点五", {"2.5%"}),
        ("提高2个百分点", {"2 pp"}),
        ("3000亿美元", {"3000亿美元"}),
        ("at 5 p.m.", {"5pm"}),
        ("at 5:30pm", {"5:30pm"}),
        ("at 17:00", {"17:00"}),
        ("in Q3", {"Q3"}),
        ("in the third quarter", {"Q3"}),
        ("Section 301 and the A320", {"301"}),
        ("no numbers here", set()),
    ],
)
def test_facts_in_one_spelling(text: str, expected: set[str]) -> None:
    """Each date, number or percentage is read in one spelling, whatever way it is written."""
    assert facts(text) == expected


def test_facts_reads_only_the_first_characters() -> None:
    """Only the first FACTS_CHARS characters are read: the cost does not grow with the text."""
    assert facts("x" * FACTS_CHARS + " July 9") == frozenset()
    assert facts("x" * (FACTS_CHARS - 10) + " July 9") == {"July 9"}


def test_every_repetition_in_the_facts_expression_is_bounded() -> None:
    """No ``*`` or ``+`` outside a character class: each match attempt does bounded work."""
    pattern = re.sub(r"\\.|\[[^\]]*\]", "", edits._FACT.pattern)
    assert "*" not in pattern
    assert "+" not in pattern


@pytest.mark.parametrize(
    "unit",
    [
        "1,",
        "1",
        "9 ",
        "1.1.",
        "1:",
        "$1,",
        "July ",
        "12 of ",
        "百分之",
        "7月",
        "2025年",
        "5 p.",
        "Q",
        "25 per ",
        "1 billion ",
        "\u3000",
    ],
)
def test_pathological_input_finishes(unit: str) -> None:
    """Long repetitions of each expression's prefixes finish: the input is capped and the
    expression bounded (speed is measured by the benchmarks, not asserted here)."""
    text = unit * (200_000 // len(unit))
    facts(text)
    d = decide_edit(text, text, text + "1", "2" + text, old_terms=(), new_terms=())
    assert d.changed
    assert len(d.diff) <= DIFF_LIMIT


def test_a_hostile_megabyte_summary_is_bounded() -> None:
    """A 1 MB summary is hashed whole but diffed and read for facts only in part."""
    summary = "tariff 25% July 9 关税 " * 50_000
    edited = summary.replace("July 9", "August 12")
    d = decide(summary, edited)
    assert d.alert
    assert d.facts_added == ("August 12",)
    assert len(d.diff) <= DIFF_LIMIT
    late = summary + " and one more word"
    tail = decide(summary, late)
    assert tail.changed
    assert "changed after the first" in tail.diff


# --------------------------------------------------------------------------- word diff


def test_the_diff_keeps_a_few_words_of_context() -> None:
    """Long unchanged runs are cut to a few words on each side of a change, with "…"."""
    words = [f"w{i}" for i in range(40)]
    new = [*words[:20], "NEW", *words[21:]]
    diff = word_diff(" ".join(words), " ".join(new))
    assert diff == "… w15 w16 w17 w18 w19 [-w20-]{+NEW+} w21 w22 w23 w24 w25 …"


def test_two_changes_far_apart_are_two_hunks() -> None:
    """Between two changes, more than twice the context becomes "…"."""
    words = [f"w{i}" for i in range(40)]
    new = ["A", *words[1:39], "B"]
    diff = word_diff(" ".join(words), " ".join(new))
    assert diff == "[-w0-]{+A+} w1 w2 w3 w4 w5 … w34 w35 w36 w37 w38 [-w39-]{+B+}"


def test_the_diff_is_capped() -> None:
    """However much changed, the diff is at most ``limit`` characters and ends in "…"."""
    old = " ".join(f"old{i}" for i in range(1000))
    new = " ".join(f"new{i}" for i in range(1000))
    for limit in (1, 10, 50, 600):
        diff = word_diff(old, new, limit=limit)
        assert len(diff) <= limit
        assert "…" in diff
    assert len(decide(old, new).diff) <= DIFF_LIMIT


def test_a_short_limit_shows_the_change_before_its_context() -> None:
    """When the context before the first change does not fit, the change is shown instead."""
    old = " ".join(f"w{i}" for i in range(10)) + " x"
    assert word_diff(old, old[:-1] + "yyyyyyyyyy", limit=30) == "… [-x-]{+yyyyyyyyyy+}"


def test_the_diff_compares_a_bounded_number_of_words() -> None:
    """Past DIFF_TOKENS words a side, a change is noted, not diffed."""
    old = " ".join(["w"] * (DIFF_TOKENS + 10))
    assert word_diff(old, old + " x") == f"(changed after the first {DIFF_TOKENS:,} words)"


# --------------------------------------------------------------------------- properties

words = st.text(alphabet=string.ascii_letters + string.digits + "%$.,", min_size=1, max_size=8)
spaces = st.text(alphabet=" \t\n\u00a0\u3000", min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(st.lists(words, min_size=1, max_size=20), st.data())
def test_text_hash_ignores_whitespace_and_ascii_case(parts: list[str], data: st.DataObject) -> None:
    """Any other whitespace between the same words, or another case, hashes the same."""
    gaps = data.draw(st.lists(spaces, min_size=len(parts), max_size=len(parts)))
    plain = " ".join(parts)
    spaced = "".join(g + p for g, p in zip(gaps, parts, strict=True))
    assert text_hash(plain, plain) == text_hash(spaced.upper(), spaced.lower())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_text_hash_tells_title_from_summary(a: str, b: str) -> None:
    """The hash is versioned and the same text is the same hash."""
    h = text_hash(a, b)
    assert h == text_hash(a, b)
    assert re.fullmatch(r"v1:[0-9a-f]{32}", h)


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=300),
    st.text(max_size=300),
    st.text(max_size=300),
    st.text(max_size=300),
    st.lists(st.text(max_size=10), max_size=3),
    st.lists(st.text(max_size=10), max_size=3),
    st.sampled_from(POLICIES),
)
def test_decide_edit_never_raises_and_its_diff_is_bounded(
    ot: str,
    os_: str,
    nt: str,
    ns: str,
    old_terms: list[str],
    new_terms: list[str],
    policy: EditPolicy,
) -> None:
    """For any texts: a decision, a one-line reason, a bounded diff, no alert without a change."""
    d = decide_edit(ot, os_, nt, ns, old_terms=old_terms, new_terms=new_terms, policy=policy)
    assert len(d.diff) <= DIFF_LIMIT
    assert "\n" not in d.reason
    assert d.changed or (not d.alert and d.diff == "")
    assert not (policy == "none" and d.alert)
    assert d.changed == (text_hash(ot, os_) != text_hash(nt, ns))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.data())
def test_word_diff_of_the_same_words_has_no_markers(text: str, data: st.DataObject) -> None:
    """The same words, re-spaced or in another ASCII case, give an empty diff."""
    assert word_diff(text, text) == ""
    ascii_text = data.draw(st.text(alphabet=string.printable, max_size=200))
    respaced = " ".join(ascii_text.split()).swapcase()
    assert word_diff(ascii_text, respaced) == ""


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.text(max_size=400), st.integers(0, 700))
def test_word_diff_is_bounded_and_marks_every_change(old: str, new: str, limit: int) -> None:
    """Never longer than ``limit``; a difference in words always shows as something."""
    diff = word_diff(old, new, limit=limit)
    assert len(diff) <= limit
    if limit >= 20 and edits._normalise(old) != edits._normalise(new):
        assert diff


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_facts_never_raise(text: str) -> None:
    """Any text gives a set of non-empty strings."""
    assert all(facts(text))
