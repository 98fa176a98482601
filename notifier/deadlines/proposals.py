"""From dated statements to proposals: what to propose, and whether it is one already. Pure.

::

    entry ──matched by watches (or a watch with ``deadlines: discover``)──▶ extract()
          ──▶ [Found] ──candidates()──▶ new deadlines ("Possible deadline")
    entry ──names a tracked deadline (its ``match:`` terms)──▶ extract() + sentences
          ──▶ tracked_candidates() ──▶ a different date ("Possible move"),
                                       early or cancelled ("Possible change")
    candidate + the proposals stored for its day ──decide()──▶ new | source of | known | dismissed

Rules (pinned by ``tests/test_proposals.py``):

* A date already before the poll (``now``) is never proposed: news too late to
  act on. A statement of a date before its publication (``Found.past``: "took
  effect on June 4") is a **fact**: recorded (status ``fact``, listed by
  ``notifier proposals --facts``), never announced or proposed.
* A found date that a tracked deadline already has (same day, the entry names
  it) is not proposed again.
* **One proposal per deadline, many sources.** A candidate is the same proposal
  as a stored one when the change, the kind, the day (and the window's end) and
  the tracked deadline agree and their phrases share enough significant words
  (:func:`similar`): it is then a further source. A dismissed one absorbs it
  silently: the same deadline is not proposed again.
* **Moves.** An entry names a tracked deadline when its ``all`` terms all occur
  and, if any, one of its ``any`` terms (whole words, any case; Chinese terms as
  substrings); by default the deadline's title's significant words, at least
  half of them. A statement in such an entry whose sentence names the deadline
  too, of the deadline's kind (its ``kind:``, else read from its title), with a
  day other than the deadline's, is a possible move — unless it is a past fact.
  The sentence must name it as the entry must (the steel exemption's date in an
  article that also mentions the tariff pause is not the pause's).
  A sentence naming the deadline that says it was cancelled, revoked, lifted or
  happened early, or a past statement of its kind on an earlier day, is a
  possible change: reported, never applied.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from notifier.deadlines.discover import Found, sentences
from notifier.model import DeadlineKind, Proposal, ProposalChange, ProposalSource

__all__ = [
    "Candidate",
    "Decision",
    "Tracked",
    "candidates",
    "decide",
    "infer_kind",
    "key_terms",
    "names",
    "proposal_id",
    "similar",
    "suggest",
    "tracked_candidates",
    "tracked_terms",
]

#: Found statements below this confidence are not proposed.
MIN_CONFIDENCE = 0.5
#: Two phrases tell of the same deadline when they share this share of the smaller
#: one's significant words, or at least :data:`SHARED_WORDS` of them.
SIMILAR_SHARE = 0.3
SHARED_WORDS = 3
#: A suggested title is at most this many words (or Chinese characters ×4).
TITLE_WORDS = 9

_STOP_WORDS = """a an the and or of on in at to for by from with as is are was were be been being
    will would shall should may might can could has have had do does did not no its it
    this that these those their there they them he she his her we our you your i
    which who whom whose what when where why how than then also after before about
    into over under up down out more most less least very new said says say set
    expected scheduled due date deadline deadlines expire expires expired expiry
    expiring effect effective take takes took taken taking force come comes came
    into kick kicks kicked begin begins began start starts started end ends ended
    until till through within days day weeks week months month year years early
    mid late last next this today tomorrow yesterday monday tuesday wednesday
    thursday friday saturday sunday january february march april may june july
    august september october november december jan feb mar apr jun jul aug sep
    sept oct nov dec per cent percent would could government officials official
    reuters according report reported"""
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]{2,}")
_HAN = re.compile(r"[\u4e00-\u9fff]+")
#: Han characters that only say when (dates, "before", "until") are not significant.
_HAN_DATE = frozenset("年月日号號時时分前后後起至到期内內底初中旬上下本今明去周週星期")
#: Where a statement's subject ends: its verb ("The pause *is set to* expire").
_VERB = re.compile(
    r"\b(?:is|are|was|were|will|would|could|should|must|has|have|had|may|might|"
    r"expected|set to|scheduled|slated|due|expir(?:e[sd]?|ing)|lapse[sd]?|"
    r"takes? effect|took effect|go(?:es)? into effect|went into effect|"
    r"comes? into force|came into force|enter(?:s|ed)? into force|kick(?:s|ed)? in|"
    r"begin[s]?|began|start(?:s|ed)?|end(?:s|ed)?)\b",
    re.IGNORECASE,
)
#: Where a Chinese statement's subject ends: its time word ("将于", "自", "于7月").
_ZH_TIME = re.compile(r"将于|将在|预计|计划|拟于|定于|自|从|于|在|至|到|截至|\d")
_ZH_TAIL = re.compile(r"(?:截止|到期|生效|实施|届满)?(?:时间|日期|期限)?[为是]?$")
_ZH_LEAD = re.compile(r"^(?:据|另外|此外|同时|对|就|关于)")
_LEAD = re.compile(
    r"^(?:(?:but|and|so|meanwhile|however|separately|also)\s*,?\s+)?(?:the|a|an|its|their|this)\s+",
    re.IGNORECASE,
)
_CANCEL = re.compile(
    r"\b(?:cancel(?:l?ed|s|ling)?|scrap(?:ped|s)?|revok(?:ed|es)|rescind(?:ed|s)?|"
    r"called off|call off|withdr[ae]wn?|terminat(?:ed|es)|lift(?:ed|s)? early|"
    r"(?:ended|expired|took effect|came into force|kicked in) early|ahead of schedule|"
    r"no longer (?:apply|applies|take effect))\b"
    r"|取消|撤销|撤銷|废止|廢止|终止|終止|提前(?:生效|到期|结束|結束|实施|實施)",
    re.IGNORECASE,
)
_KIND_WORDS: tuple[tuple[DeadlineKind, re.Pattern[str]], ...] = (
    ("expiry", re.compile(r"expir|lapse|pause|truce|sunset|到期|届满|屆滿|暂停|暫停", re.I)),
    ("effective", re.compile(r"effect|force|kick|implement|生效|实施|實施|施行|起征|加征", re.I)),
    ("deadline", re.compile(r"deadline|comment|due|filing|submi|截止|提交|意见|意見", re.I)),
)
_KIND_LABEL: dict[DeadlineKind, str] = {
    "expiry": "expires",
    "effective": "takes effect",
    "deadline": "deadline",
    "event": "",
}
_KIND_LABEL_ZH: dict[DeadlineKind, str] = {
    "expiry": "到期",
    "effective": "生效",
    "deadline": "截止",
    "event": "",
}


@dataclass(frozen=True, slots=True)
class Tracked:
    """A deadline of the config as the move finder sees it."""

    name: str
    title: str
    due: datetime
    zone: ZoneInfo
    kind: DeadlineKind | None = None
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    #: Without ``any``/``all`` of its own: at least this many of ``any`` must occur.
    least: int = 1


@dataclass(frozen=True, slots=True)
class Candidate:
    """A proposal not yet compared with the stored ones (see :func:`decide`)."""

    change: ProposalChange
    kind: DeadlineKind
    name: str
    title: str
    due: datetime
    all_day: bool
    window_end: date | None
    timezone: str
    phrase: str
    confidence: float
    watches: tuple[str, ...]
    source: ProposalSource
    terms: frozenset[str]
    deadline: str | None = None
    old_due: datetime | None = None
    #: A past date (a reported fact): recorded with status ``fact``, never announced.
    fact: bool = False

    @property
    def day(self) -> date:
        """The due day in the proposal's zone: what de-duplication compares."""
        return self.due.astimezone(ZoneInfo(self.timezone)).date()

    def proposal(self, pid: str, now: datetime) -> Proposal:
        return Proposal(
            id=pid,
            change=self.change,
            kind=self.kind,
            name=self.name,
            title=self.title,
            due=self.due,
            all_day=self.all_day,
            window_end=self.window_end,
            timezone=self.timezone,
            phrase=self.phrase,
            confidence=self.confidence,
            watches=self.watches,
            sources=(self.source,),
            status="fact" if self.fact else "open",
            deadline=self.deadline,
            old_due=self.old_due,
            created=now,
            updated=now,
        )


Verdict = Literal["new", "source", "known", "dismissed"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a candidate: ``new`` (store and announce), ``source`` (a further
    source of the open proposal ``of``), ``known`` (of an accepted one, or a source
    already recorded: nothing to announce) or ``dismissed`` (dropped)."""

    verdict: Verdict
    of: str | None = None
    reason: str = ""


# ---------------------------------------------------------------- words


def key_terms(text: str) -> frozenset[str]:
    """The significant words of a phrase: lower case, plural ``s`` dropped, no stop words,
    dates or numbers; Chinese as character pairs (date characters aside)."""
    out: set[str] = set()
    for m in _WORD.finditer(text):
        word = m.group().lower().strip("'-")
        if word.endswith("'s"):
            word = word[:-2]
        if word in _STOP or len(word) < 3:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.add(word)
    for m in _HAN.finditer(text):
        run = "".join(c if c not in _HAN_DATE else " " for c in m.group())
        for piece in run.split():
            if len(piece) == 1:
                continue
            out.update(piece[i : i + 2] for i in range(len(piece) - 1))
    return frozenset(out)


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two phrases' significant words (:func:`key_terms`) tell of one thing."""
    if not a or not b:
        return not a and not b
    shared = len(a & b)
    return shared >= SHARED_WORDS or shared >= SIMILAR_SHARE * min(len(a), len(b))


def infer_kind(title: str) -> DeadlineKind | None:
    """A deadline's kind read from its title ("… pause expires" → expiry), else None."""
    for kind, words in _KIND_WORDS:
        if words.search(title):
            return kind
    return None


# ---------------------------------------------------------------- suggestions


def suggest(found: Found, fallback: str) -> tuple[str, str]:
    """A suggested (name, title) for a found deadline: the words before its trigger
    ("The 90-day pause on reciprocal tariffs is set to expire" → "90-day pause on
    reciprocal tariffs expires"), else the entry's title; the name a slug of it
    and the month."""
    base = " ".join(fallback.split())[:80].rstrip(" ,;:-—")
    title = _subject_title(found, base)
    if not title:
        label = _label(found.kind, base)
        title = f"{base} — {label}" if base and label else base or label or "Deadline"
    day = found.due.date() if isinstance(found.due, datetime) else found.due
    return _slug(title, day), title


def _label(kind: DeadlineKind, text: str) -> str:
    return (_KIND_LABEL_ZH if _HAN.search(text) else _KIND_LABEL)[kind]


def _subject_title(found: Found, fallback: str) -> str:
    phrase = " ".join(found.phrase.split())
    if _HAN.search(phrase) and not _WORD.search(phrase[:12]):
        return _zh_subject(phrase, found.kind)
    m = _VERB.search(phrase)
    if m is None or m.start() == 0:
        return ""
    subject = phrase[: m.start()]
    if "," in subject:  # "On Monday, the pause …": the clause next to the verb
        subject = subject.rsplit(",", 1)[1]
    subject = _LEAD.sub("", subject.strip(" \"'“”‘’-—:;"))
    words = subject.split()
    if not words or re.search(r"\b(?:said|says|told)\b", subject):
        return ""
    if len(words) == 1:
        return f"{fallback} — {words[0].lower()} {_KIND_LABEL[found.kind]}".strip()
    text = " ".join(words[-TITLE_WORDS:])
    label = _KIND_LABEL[found.kind]
    if label and label.split()[0].rstrip("s") in text.lower():  # "… deadline" once
        label = ""
    return f"{text[0].upper()}{text[1:]} {label}".strip()


def _zh_subject(phrase: str, kind: DeadlineKind) -> str:
    """ "商务部表示，对稀土出口管制措施将于7月9日到期" → "稀土出口管制措施到期": the
    clause with the date, what comes before its time word, and the kind."""
    clauses = [c for c in re.split(r"[，,；;：:。]", phrase) if _HAN.search(c)]
    dated = [c for c in clauses if re.search(r"\d|[月日]", c)] or clauses
    if not dated:
        return ""
    at = clauses.index(dated[0])
    subject = _ZH_LEAD.sub("", _ZH_TIME.split(dated[0], maxsplit=1)[0].strip())
    if len(subject) < 2 and at + 1 < len(clauses):  # "自8月1日起，对…加征关税"
        subject = _ZH_LEAD.sub("", re.sub(r"[\d.%％]+", "", clauses[at + 1]).strip())
    subject = _ZH_TAIL.sub("", subject)
    if len(subject) < 2:
        return ""
    return subject[: TITLE_WORDS * 3] + _KIND_LABEL_ZH[kind]


def _slug(title: str, day: date) -> str:
    words = [w.lower() for w in re.findall(r"[A-Za-z0-9]+", title)]
    words = [w for w in words if w not in _STOP][:5]
    stem = "-".join(words) or "deadline"
    return f"{stem}-{day.isoformat()}"


def proposal_id(candidate: Candidate) -> str:
    """A short id, stable for a candidate: 8 hex digits of what it says and where."""
    src = candidate.source
    material = "|".join(
        (
            candidate.change,
            candidate.kind,
            candidate.due.isoformat(),
            str(candidate.window_end),
            candidate.deadline or "",
            src.feed,
            src.key,
        )
    )
    return hashlib.blake2b(material.encode(), digest_size=4).hexdigest()


# ---------------------------------------------------------------- candidates


def _due(found: Found, zone: ZoneInfo) -> tuple[datetime, bool]:
    if isinstance(found.due, datetime):
        return found.due.astimezone(zone), False
    return datetime.combine(found.due, time(), zone), True


def _ended(due: datetime, window_end: date | None, zone: ZoneInfo, now: datetime) -> bool:
    """Already over at ``now``: a day (or window) before today, a time before now."""
    today = now.astimezone(zone).date()
    if window_end is not None:
        return window_end < today
    if due.time() == time() and due.tzinfo is not None:
        return due.date() < today
    return due < now


def candidates(
    found: Iterable[Found],
    *,
    source: ProposalSource,
    watches: Sequence[str],
    zone: ZoneInfo,
    now: datetime,
    tracked: Sequence[Tracked] = (),
) -> list[Candidate]:
    """New deadlines among ``found`` (one entry's, for the watches that matched it), and
    its past dates as facts (``Candidate.fact``)."""
    out = []
    for f in found:
        if f.confidence < MIN_CONFIDENCE:
            continue
        due, all_day = _due(f, zone)
        if not f.past and _ended(due, f.window_end, zone, now):
            continue
        day = due.date()
        terms = key_terms(f.phrase)
        if any(_is_tracked(t, day, f.window_end, terms) for t in tracked):
            continue
        name, title = suggest(f, source.title)
        out.append(
            Candidate(
                change="deadline",
                kind=f.kind,
                name=name,
                title=title,
                due=due,
                all_day=all_day,
                window_end=f.window_end,
                timezone=zone.key,
                phrase=f.phrase,
                confidence=f.confidence,
                watches=tuple(watches),
                source=source,
                terms=terms,
                fact=f.past,
            )
        )
    return out


def _is_tracked(t: Tracked, day: date, window_end: date | None, terms: frozenset[str]) -> bool:
    tracked_day = t.due.astimezone(t.zone).date()
    if not (day == tracked_day or (window_end is not None and day <= tracked_day <= window_end)):
        return False
    return similar(terms, key_terms(t.title)) or bool(terms & _term_keys(t))


def _term_keys(t: Tracked) -> frozenset[str]:
    return key_terms(" ".join((*t.any, *t.all)))


# ---------------------------------------------------------------- tracked deadlines


def tracked_terms(title: str) -> tuple[tuple[str, ...], int]:
    """The default terms of a tracked deadline: its title's significant words, and how
    many of them an entry must contain (half, at least two when there are two)."""
    words = tuple(sorted(key_terms(title)))
    if not words:
        return (), 1
    return tuple(words), max(min(2, len(words)), (len(words) + 1) // 2)


def _folded_words(text: str) -> frozenset[str]:
    return key_terms(text) | frozenset(w.lower() for w in _WORD.findall(text))


def _has(term: str, words: frozenset[str], folded: str) -> bool:
    term = term.casefold()
    if _HAN.search(term):
        return term in folded
    parts = term.split()
    if len(parts) > 1:
        return re.search(r"\b" + r"\s+".join(map(re.escape, parts)) + r"\b", folded) is not None
    stem = term[:-1] if len(term) > 4 and term.endswith("s") and not term.endswith("ss") else term
    return term in words or stem in words


def names(t: Tracked, text: str) -> bool:
    """Whether ``text`` names the tracked deadline ``t`` (see the module docstring)."""
    folded = text.casefold()
    words = _folded_words(text)
    if t.all and not all(_has(term, words, folded) for term in t.all):
        return False
    if not t.any:
        return bool(t.all)
    hits = sum(1 for term in t.any if _has(term, words, folded))
    return hits >= t.least


def tracked_candidates(
    t: Tracked,
    text: str,
    found: Iterable[Found],
    *,
    source: ProposalSource,
    watches: Sequence[str],
    now: datetime,
) -> list[Candidate]:
    """Possible moves and changes of ``t`` stated in an entry that names it (the caller
    checked :func:`names` on the whole entry)."""
    kind = t.kind or infer_kind(t.title)
    zone = t.zone
    tracked_day = t.due.astimezone(zone).date()
    out: list[Candidate] = []

    def add(
        *,
        change: ProposalChange,
        f_kind: DeadlineKind,
        due: datetime,
        all_day: bool,
        window_end: date | None,
        phrase: str,
        confidence: float,
    ) -> None:
        out.append(
            Candidate(
                change=change,
                kind=f_kind,
                name=t.name,
                title=t.title,
                due=due,
                all_day=all_day,
                window_end=window_end,
                timezone=zone.key,
                phrase=phrase,
                confidence=confidence,
                watches=tuple(watches),
                source=source,
                terms=key_terms(phrase),
                deadline=t.name,
                old_due=t.due,
            )
        )

    for f in found:
        if f.confidence < MIN_CONFIDENCE or not names(t, f.phrase):
            continue
        if kind is not None and f.kind != kind and not f.moved:
            continue
        if _CANCEL.search(f.phrase):
            continue  # a change, found below from the sentences
        due, all_day = _due(f, zone)
        day = due.date()
        if day == tracked_day or (f.window_end and day <= tracked_day <= f.window_end):
            continue  # the date it already has
        if f.past:  # happened early: a change; any other past date: nothing
            if f.kind != kind or day >= tracked_day or f.moved:
                continue
            change: ProposalChange = "change"
        elif _ended(due, f.window_end, zone, now):
            continue
        else:
            change = "move"
        add(
            change=change,
            f_kind=f.kind,
            due=due,
            all_day=all_day,
            window_end=f.window_end,
            phrase=f.phrase,
            confidence=f.confidence,
        )
    if not any(c.change == "change" for c in out):
        for sentence in sentences(text):
            if _CANCEL.search(sentence) and names(t, sentence):
                add(
                    change="change",
                    f_kind=kind or "event",
                    due=t.due,
                    all_day=False,
                    window_end=None,
                    phrase=sentence[:300],
                    confidence=0.6,
                )
                break
    return out


# ---------------------------------------------------------------- de-duplication


def decide(candidate: Candidate, stored: Sequence[tuple[Proposal, frozenset[str]]]) -> Decision:
    """Whether ``candidate`` is new, or one of ``stored`` (the proposals of its change,
    kind, day and deadline, with their phrases' terms): see the module docstring."""
    for proposal, terms in stored:
        if (
            proposal.change != candidate.change
            or proposal.kind != candidate.kind
            or proposal.deadline != candidate.deadline
            or proposal.window_end != candidate.window_end
            or proposal.due.astimezone(ZoneInfo(proposal.timezone)).date() != candidate.day
        ):
            continue
        if (proposal.status == "fact") != candidate.fact:
            continue  # a fact and a proposal of one day are two things
        if candidate.change == "deadline" and not similar(terms, candidate.terms):
            continue
        if proposal.status == "dismissed":
            return Decision("dismissed", proposal.id, "dismissed before")
        known = any(
            s.feed == candidate.source.feed and s.key == candidate.source.key
            for s in proposal.sources
        )
        if proposal.status in ("accepted", "fact") or known:
            return Decision("known", proposal.id, "already accepted" if not known else "")
        return Decision("source", proposal.id, "a further source")
    return Decision("new")


# ---------------------------------------------------------------- accepting


def local_due(proposal: Proposal) -> str:
    """The due time as the watch config writes it, in the proposal's zone:
    ``2025-07-01`` for a whole day, ``2025-08-01T17:00`` with a time of day."""
    local = proposal.due.astimezone(ZoneInfo(proposal.timezone))
    if proposal.all_day:
        return local.date().isoformat()
    return local.strftime("%Y-%m-%dT%H:%M")


def as_deadline(
    proposal: Proposal,
    *,
    zone: str,
    name: str | None = None,
    remind: Sequence[str] | None = None,
    severity: str | None = None,
) -> dict[str, object]:
    """The fields of the ``deadlines:`` item that accepting a new-deadline proposal writes
    (``zone``: the config's, so a proposal in it writes no ``timezone:``)."""
    fields: dict[str, object] = {
        "name": name or proposal.name,
        "title": proposal.title,
        "due": local_due(proposal),
    }
    if proposal.timezone != zone:
        fields["timezone"] = proposal.timezone
    fields["kind"] = proposal.kind
    if remind:
        fields["remind"] = list(remind)
    if severity:
        fields["severity"] = severity
    link = next((s.link for s in proposal.sources if s.link and _http(s.link)), None)
    if link:
        fields["link"] = link
    notes = []
    if proposal.window_end is not None:
        notes.append(f"Window: {local_due(proposal)} to {proposal.window_end.isoformat()}.")
    quote = " ".join(proposal.phrase.split())[:200]
    notes.append(f"Found in the news ({proposal.id}): “{quote}”")
    fields["notes"] = " ".join(notes)
    return fields


def _http(link: str) -> bool:
    return link.startswith(("http://", "https://")) and len(link) <= 2000
