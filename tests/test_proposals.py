"""Proposals from found deadlines: the pure rules (notifier.deadlines.proposals), the
store (real SQLite files) and the discovery stage's record step."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from notifier.config.loader import loads
from notifier.deadlines import proposals as P
from notifier.deadlines.discover import extract
from notifier.delivery.stages import route_proposals
from notifier.model import Deadline, Entry, Hit, Match, ProposalSource
from notifier.pipeline.proposals import Discovery, record, tracked
from notifier.storage.sqlite import Store
from tests.conftest import corpus_dir

NY = ZoneInfo("America/New_York")
SH = ZoneInfo("Asia/Shanghai")
PUBLISHED = datetime(2025, 6, 11, 14, tzinfo=UTC)  # the London talks, June 2025

#: An article like the June 2025 London-talks report (the issue's seed).
LONDON = (
    "U.S. and Chinese officials agreed on a framework in London on Tuesday. "
    "The 90-day pause on reciprocal tariffs is set to expire in early July, and the "
    "administration has signalled it could be extended. Tariffs on steel and aluminum "
    "were doubled to 50%, which took effect on June 4. Separately, the SEC decision "
    "deadline for the spot ether ETF is expected in early November."
)


def source(key: str = "k1", feed: str = "wire", title: str = "London talks") -> ProposalSource:
    return ProposalSource(feed, key, title, f"https://news.example.com/{key}", PUBLISHED)


def found_in(text: str, published: datetime = PUBLISHED, zone: ZoneInfo = NY) -> list[P.Candidate]:
    return P.candidates(
        extract(text, published, zone), source=source(), watches=["trade"], zone=zone, now=published
    )


# ---------------------------------------------------------------- candidates


def test_the_seed_article_proposes_the_window_and_keeps_the_past_date_as_a_fact() -> None:
    found = found_in(LONDON)
    pause = [c for c in found if c.kind == "expiry"]
    assert len(pause) == 1
    assert pause[0].due == datetime(2025, 7, 1, tzinfo=NY)
    assert pause[0].all_day
    assert pause[0].window_end == date(2025, 7, 10)
    assert pause[0].title == "90-day pause on reciprocal tariffs expires"
    assert pause[0].name.endswith("2025-07-01")
    # "took effect on June 4" is a fact: recorded as one, never a proposal.
    (fact,) = [c for c in found if c.due.date() == date(2025, 6, 4)]
    assert fact.fact
    assert fact.kind == "effective"
    assert not any(c.fact for c in found if c is not fact)


def test_a_date_already_over_is_not_proposed() -> None:
    later = datetime(2025, 7, 20, tzinfo=UTC)
    stale = found_in("The pause on reciprocal tariffs is set to expire on July 9.", later)
    assert [c.fact for c in stale] == [True]  # a date before publication: a fact at most
    # A window still open is: its end is ahead.
    text = "The pause on reciprocal tariffs is set to expire in late July."
    assert [c.window_end for c in found_in(text, later)] == [date(2025, 7, 31)]


def test_a_time_of_day_is_kept_in_the_stated_zone() -> None:
    (c,) = found_in("Comments are due by 5 p.m. ET on August 1.")
    assert not c.all_day
    assert c.due == datetime(2025, 8, 1, 17, tzinfo=NY)
    assert c.kind == "deadline"


def test_chinese_statements_get_chinese_titles() -> None:
    (c,) = found_in("商务部表示，对稀土出口管制措施将于7月9日到期。", zone=SH)
    assert c.title == "稀土出口管制措施到期"
    assert c.due == datetime(2025, 7, 9, tzinfo=SH)
    assert c.timezone == "Asia/Shanghai"


def test_a_date_a_tracked_deadline_has_is_not_proposed_again() -> None:
    pause = P.Tracked(
        "pause", "Reciprocal tariff pause expires", datetime(2025, 7, 9, tzinfo=NY), NY
    )
    text = "The reciprocal tariff pause is set to expire on July 9."
    found = extract(text, PUBLISHED, NY)
    assert P.candidates(found, source=source(), watches=["w"], zone=NY, now=PUBLISHED) != []
    kept = P.candidates(
        found, source=source(), watches=["w"], zone=NY, now=PUBLISHED, tracked=[pause]
    )
    assert kept == []


@pytest.mark.parametrize(
    ("phrase", "other", "same"),
    [
        (
            "The 90-day pause on reciprocal tariffs expires in early July.",
            "Trump's reciprocal tariff pause is set to end in early July.",
            True,
        ),
        ("稀土出口管制措施将于7月9日到期。", "对稀土出口管制的暂停措施7月9日到期", True),
        (
            "The 90-day pause on reciprocal tariffs expires on July 9.",
            "Comments on the solar panel rule are due on July 9.",
            False,
        ),
    ],
)
def test_similar_phrases(phrase: str, other: str, same: bool) -> None:
    assert P.similar(P.key_terms(phrase), P.key_terms(other)) is same


# ---------------------------------------------------------------- tracked deadlines


def pause_deadline(**more: object) -> P.Tracked:
    deadline = Deadline(
        name="pause",
        title="90-day reciprocal tariff pause expires",
        due=datetime(2025, 7, 9, 0, 1, tzinfo=NY),
        timezone=NY,
        remind=(),
        channels=("chat",),
        severity="high",
        link=None,
        notes=None,
        **more,  # type: ignore[arg-type]
    )
    return tracked(deadline)


def moves(t: P.Tracked, text: str, now: datetime) -> list[P.Candidate]:
    found = extract(text, now, t.zone)
    return P.tracked_candidates(t, text, found, source=source(), watches=[], now=now)


JULY_8 = datetime(2025, 7, 8, 12, tzinfo=UTC)


def test_default_terms_are_the_titles_words_at_least_half() -> None:
    t = pause_deadline()
    assert set(t.any) == {"pause", "reciprocal", "tariff"}
    assert t.least == 2
    assert P.names(t, "The reciprocal tariff pause was extended.")
    assert not P.names(t, "A pause in the talks.")  # one word of three is not enough


@pytest.mark.parametrize(
    ("text", "new"),
    [
        (
            "The reciprocal tariff pause was extended to August 12, officials said.",
            date(2025, 8, 12),
        ),
        (
            "Trump postponed the tariff pause deadline until Aug. 1 instead of July 9.",
            date(2025, 8, 1),
        ),
    ],
)
def test_another_date_for_a_tracked_deadline_is_a_possible_move(text: str, new: date) -> None:
    (c,) = moves(pause_deadline(), text, JULY_8)
    assert c.change == "move"
    assert c.deadline == "pause"
    assert c.due.date() == new
    assert c.old_due == datetime(2025, 7, 9, 0, 1, tzinfo=NY)


def test_chinese_terms_find_a_chinese_move() -> None:
    t = pause_deadline(match_any=("对等关税", "暂停"))
    (c,) = moves(t, "对等关税暂停期延长至8月12日。", JULY_8)
    assert (c.change, c.due.date()) == ("move", date(2025, 8, 12))


def test_the_date_it_already_has_is_no_move() -> None:
    assert moves(pause_deadline(), "The reciprocal tariff pause expires on July 9.", JULY_8) == []


def test_cancelled_or_early_is_a_possible_change_never_a_move() -> None:
    (c,) = moves(pause_deadline(), "The White House cancelled the reciprocal tariff pause.", JULY_8)
    assert c.change == "change"
    assert c.deadline == "pause"
    (c,) = moves(
        pause_deadline(kind="expiry"),
        "The reciprocal tariff pause expired early, on July 7, after talks broke down.",
        JULY_8,
    )
    assert c.change == "change"


def test_an_entry_that_does_not_name_it_is_ignored() -> None:
    t = pause_deadline()
    text = "Comments on the solar rule were extended to August 12."
    assert not P.names(t, text)


def test_explicit_terms_all_and_any() -> None:
    t = pause_deadline(match_all=("section 301",), match_any=("cranes", "ships"))
    assert P.names(t, "New Section 301 duties on cranes")
    assert not P.names(t, "New Section 301 duties on steel")
    assert not P.names(t, "Duties on cranes")


# ---------------------------------------------------------------- the store and record


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "state.db")


def test_one_proposal_many_sources_and_a_dismissal_holds(store: Store) -> None:
    first = found_in(LONDON)
    with store.transaction():
        new = record(store.proposals, first, PUBLISHED)
    assert {p.kind for p in new} == {"expiry", "event"}  # announced: not the fact
    (fact,) = store.proposals.proposals("fact")
    assert (fact.kind, fact.due.date()) == ("effective", date(2025, 6, 4))
    with store.transaction():  # the same fact from the same entry is known
        assert record(store.proposals, first, PUBLISHED) == []
    assert len(store.proposals.proposals("fact")) == 1
    pause = next(p for p in new if p.kind == "expiry")

    other = P.candidates(
        extract("Trump's reciprocal tariff pause is set to end in early July.", PUBLISHED, NY),
        source=source("k2", "mirror", "Tariff pause to end"),
        watches=["tariffs"],
        zone=NY,
        now=PUBLISHED,
    )
    with store.transaction():
        assert record(store.proposals, other, PUBLISHED) == []  # a further source
    (stored,) = store.proposals.get(pause.id)
    assert [s.feed for s in stored.sources] == ["wire", "mirror"]
    assert set(stored.watches) == {"trade", "tariffs"}
    with store.transaction():  # the same entry again adds nothing
        assert record(store.proposals, other, PUBLISHED) == []
    assert len(store.proposals.get(pause.id)[0].sources) == 2

    with store.transaction():
        store.proposals.set_status(pause.id, "dismissed", PUBLISHED)
    third = P.candidates(
        extract("The reciprocal tariff pause expires in early July.", PUBLISHED, NY),
        source=source("k3", "zh"),
        watches=["trade"],
        zone=NY,
        now=PUBLISHED,
    )
    with store.transaction():
        assert record(store.proposals, third, PUBLISHED) == []
    assert [p.id for p in store.proposals.proposals()] == [p.id for p in new if p.kind == "event"]


def test_ids_are_unique_and_a_prefix_finds_one(store: Store) -> None:
    with store.transaction():
        new = record(store.proposals, found_in(LONDON), PUBLISHED)
    for p in new:
        assert store.proposals.get(p.id[:6]) == [p] or len(store.proposals.get(p.id[:6])) > 1
        assert store.proposals.get(p.id)[0].phrase == p.phrase
    assert store.proposals.get("zzzz") == []


def test_proposals_survive_a_reopen_and_old_ones_are_pruned(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store, store.transaction():
        record(store.proposals, found_in(LONDON), PUBLISHED)
    with Store(tmp_path / "s.db") as store:
        assert len(store.proposals.proposals()) == 2
        assert len(store.proposals.proposals("fact")) == 1
        with store.transaction():  # the window is over; the fact is kept (history.keep)
            july = datetime(2025, 7, 11, tzinfo=UTC)
            assert store.proposals.prune(july, facts_before=PUBLISHED) == 1
        assert [p.kind for p in store.proposals.proposals()] == ["event"]
        with store.transaction():
            assert store.proposals.prune(july, facts_before=july) == 1  # now the fact
        assert store.proposals.proposals("fact") == []


# ---------------------------------------------------------------- the discovery stage


def entry(key: str, title: str, summary: str, feed: str = "wire") -> Entry:
    return Entry(feed=feed, key=key, title=title, summary=summary, published=PUBLISHED)


def test_a_deadline_is_proposed_only_for_the_watches_that_matched_the_entry() -> None:
    """The seed's SEC decision is proposed for the crypto watch that matched its entry,
    never for the trade watches that did not."""
    config = loads(
        """
timezone: America/New_York
channels: {trade-chat: ["json://127.0.0.1:9/t"], crypto-chat: ["json://127.0.0.1:9/c"]}
defaults: {channels: [trade-chat]}
feeds:
  - {name: wire, url: "http://127.0.0.1:9/wire.xml"}
  - {name: coins, url: "http://127.0.0.1:9/coins.xml"}
watches:
  - {name: tariffs, any: [tariffs]}
  - {name: crypto, any: [ETF], channels: [crypto-chat]}
  - {name: quiet, any: [London], deadlines: "off"}
""",
        "watch.yaml",
        {},
    )
    discovery = Discovery.of(config)
    london = entry("l1", "Talks in London", LONDON)
    sec = entry(
        "s1",
        "SEC delays ether ETF",
        "The SEC decision deadline for the spot ether ETF is expected in early November.",
        "coins",
    )
    tariffs = Match("tariffs", london, (Hit("tariffs", "summary", "reciprocal tariffs"),))
    quiet = Match("quiet", london, (Hit("London", "title", "Talks in London"),))
    # The crypto watch matched the London article too (its SEC sentence), and the SEC one.
    crypto_l = Match("crypto", london, (Hit("ETF", "summary", "spot ether ETF"),))
    crypto_s = Match("crypto", sec, (Hit("ETF", "title", "ether ETF"),))
    found = discovery.find([london, sec], [tariffs, quiet, crypto_l, crypto_s], PUBLISHED)
    by = {(c.kind, c.source.key): c.watches for c in found}
    assert by == {
        ("expiry", "l1"): ("tariffs",),  # the pause: only the trade watch's
        ("effective", "l1"): ("tariffs",),  # "took effect on June 4": a fact, recorded
        ("event", "l1"): ("crypto",),  # the SEC decision: only the crypto watch's
        ("event", "s1"): ("crypto",),
    }
    # Without the crypto watch's match, the London article proposes no SEC date at all.
    alone = discovery.find([london], [tariffs, quiet], PUBLISHED)
    assert [(c.kind, c.watches, c.fact) for c in alone] == [
        ("expiry", ("tariffs",), False),
        ("effective", ("tariffs",), True),
    ]
    # An entry no watch matched is not read.
    assert discovery.find([entry("x", "Other", LONDON)], [], PUBLISHED) == []

    with Store(":memory:") as store, store.transaction():
        new = record(store.proposals, found, PUBLISHED)
    # The two SEC statements are one proposal with two sources.
    assert sorted(p.kind for p in new) == ["event", "expiry"]
    alerts = route_proposals(new, config, "notifier")
    channels = {a.context["deadline_kind"]: a.channel for a in alerts}
    assert channels == {"expiry": "trade-chat", "event": "crypto-chat"}
    assert all(a.context["accept"] == f"notifier accept {a.context['id']}" for a in alerts)
    assert len(alerts) == 2


def test_a_move_of_a_tracked_deadline_is_not_also_a_new_deadline() -> None:
    config = loads(
        """
timezone: America/New_York
channels: {chat: ["json://127.0.0.1:9/t"]}
feeds: [{name: wire, url: "http://127.0.0.1:9/wire.xml"}]
watches: [{name: tariffs, any: [tariff]}]
deadlines:
  - {name: pause, title: 90-day reciprocal tariff pause expires, due: "2025-07-09"}
""",
        "watch.yaml",
        {},
    )
    news = entry("e1", "Pause extended", "The reciprocal tariff pause was extended to August 12.")
    hit = Match("tariffs", news, (Hit("tariff", "summary", "reciprocal tariff pause"),))
    found = Discovery.of(config).find([news], [hit], JULY_8)
    assert [(c.change, c.deadline, c.due.date()) for c in found] == [
        ("move", "pause", date(2025, 8, 12))
    ]
    assert found[0].watches == ("tariffs",)


def test_suggested_titles_say_the_kind_once() -> None:
    (c,) = found_in("The comment deadline for the solar rule is July 30.")
    assert c.title.count("deadline") == 1


def test_every_corpus_entry_can_be_read_for_deadlines() -> None:
    """The 50 real feeds: discovery reads every entry (as if matched) without an error,
    and what it proposes is well-formed."""
    folder = corpus_dir()
    if folder is None:
        pytest.skip("the shared feed corpus is not here (../shared or NOTIFIER_CORPUS)")
    from notifier.sources.rss import parse  # noqa: PLC0415

    entries: list[Entry] = []
    for path in sorted(folder.glob("*.xml")):
        try:
            entries += parse(
                path.read_bytes(), {}, "https://x.example/", "f", max_bytes=10**7
            ).entries
        except Exception:  # noqa: BLE001, S112 - the corpus has broken feeds on purpose
            continue
    assert len(entries) > 500
    config = loads(
        """
timezone: America/New_York
channels: {chat: ["json://127.0.0.1:9/t"]}
feeds: [{name: f, url: "http://127.0.0.1:9/f.xml"}]
watches: [{name: all, any: ["/./"]}]
""",
        "watch.yaml",
        {},
    )
    matches = [Match("all", e, (Hit("/./", "title", ""),)) for e in entries]
    found = Discovery.of(config).find(entries, matches, datetime(2000, 1, 1, tzinfo=UTC))
    assert found  # the corpus states some dates
    for c in found:
        assert c.kind in ("expiry", "effective", "deadline", "event")
        assert 0 < c.confidence <= 1
        assert c.title
        assert len(c.phrase) <= 300
