"""Stories: which entries, from one feed or several, tell the same news. Pure logic.

An entry joins the story of an earlier one (seen within a window, 48 hours by
default) when

1. their **canonical links** are equal (:func:`canonical_link`: the link without
   what varies between copies of one article — scheme, ``www.``, tracking
   parameters, AMP suffixes, fragment...), or
2. their **titles and summaries are near-duplicates** (:func:`same_story`).

How texts are compared (:func:`signature`, :func:`similarity`)::

    title + first 600 chars of summary ──NFKC, casefold──▶ tokens
        Latin/other scripts: words, stopwords dropped, a light plural/-ed/-ing stem
        Chinese/Japanese/Korean: character bigrams (a lone character: itself)
    ──▶ Signature: the set of shingles of the whole text, and of the title alone
    similarity = max(Jaccard(whole texts), mean(Jaccard(titles), Jaccard(whole texts)))
    same story = similarity ≥ THRESHOLD and no changed fact (:func:`differ`: facts
                 that differ both ways, or one title template with other words in its slots)

The threshold (:data:`THRESHOLD`) was tuned on the dev split of the labelled
pairs in ``tests/cases/stories/`` (precision first: a wrong join hides news,
a missed join only costs one more alert); the measured alternatives are in
``docs/architecture.md`` ("Stories") and ``bench/results/stories.md``.

:class:`StoryIndex` keeps recent entries in memory and answers "which story
does this new entry join?" without scanning them all: an inverted index over
shingles, each posting list capped (:data:`POSTINGS_CAP`, newest kept), and a
query looks only at its rarest shingles (:data:`QUERY_SHINGLES`) and verifies
at most :data:`MAX_CANDIDATES` candidates; expired entries are forgotten lazily. Time is a
parameter: nothing here reads a clock.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = [
    "MAX_LINK",
    "THRESHOLD",
    "Signature",
    "StoryIndex",
    "canonical_link",
    "differ",
    "same_entry_link",
    "same_story",
    "signature",
    "similarity",
]

# --------------------------------------------------------------------------- links

#: Links longer than this are cut before they are parsed.
MAX_LINK = 2048

#: Query parameters that say how a reader came to an article, not which article it is.
#: Analytics campaign tags (Google, Matomo/Piwik, HubSpot, Mailchimp, Adobe, AT Internet,
#: comScore, Marketo), ad click ids (Facebook, Google, DoubleClick, Microsoft, Yandex,
#: Instagram), referrer tags (``ref``, ``ref_src``: Twitter), Microsoft's ``ocid``,
#: Alibaba's ``spm``, the Guardian's ``CMP``, the NYT's ``smid``; and share-button
#: parameters: ``share`` (WordPress's ``?share=twitter``), ``from`` and
#: ``isappinstalled`` (WeChat/Weibo copies: ``?from=timeline``), ``feature``
#: (YouTube's ``feature=share``). None of them ever selects the article itself.
_TRACKING = frozenset(
    {
        *("fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid"),
        *("mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok"),
        *("ref", "ref_src", "ref_url", "referrer", "cmpid", "cmp", "ocid", "spm", "smid"),
        *("share", "from", "isappinstalled", "feature", "ncid", "sr_share", "at_medium"),
        *("at_campaign", "xtor", "guccounter", "soc_src", "soc_trk", "rss", "rssfeed"),
        *("__twitter_impression", "oly_enc_id", "oly_anon_id", "vero_id", "wt.mc_id"),
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "piwik_", "ns_", "wt.", "hsa_")
#: Parameters that only ask for the AMP rendering of the same article.
_AMP_PARAMS = frozenset({"amp", "outputtype", "output", "amp_js_v", "usqp"})
_HOST_PREFIXES = ("www.", "m.", "amp.", "mobile.")
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Characters left as they are in a path (RFC 3986 pchar and "/"); the rest percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/:@!$'()*+,;-._~?"
#: Redirectors whose query carries the real link (Google Alerts and Google News links).
_REDIRECTS = {("google.com", "/url"): ("url", "q")}


def canonical_link(url: str | None) -> str | None:
    """The link without what varies between copies of one article; None if it has none.

    The scheme (http or https) is folded away, the host lower-cased, a leading
    ``www.``, ``m.``, ``amp.`` or ``mobile.`` dropped, a default port dropped,
    the fragment dropped, tracking parameters dropped (see ``_TRACKING``), the
    remaining query parameters sorted, a trailing slash and AMP suffixes
    (``/amp``, ``/amp/`` as first path segment, ``.amp``, ``?outputType=amp``,
    ``?amp=1``) dropped, percent-encoding normalised (what need not be encoded
    is decoded, the rest encoded in upper case). A Google redirect
    (``google.com/url?url=…``) becomes the link it carries.

    The result is a key to compare links with — ``example.com/a/b?x=1`` — not a
    link to open. None, a link that is not http(s), has no host or does not
    parse gives None. Links over :data:`MAX_LINK` characters are cut first.
    """
    return _canonical(url, unwrap=True)


def _canonical(url: str | None, *, unwrap: bool) -> str | None:
    if not url:
        return None
    raw = url[:MAX_LINK].strip()
    try:
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return None
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if not host or any(c.isspace() for c in host):
        return None
    host = _host(host)
    path = _path(parts.path)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if unwrap and (host, path) in _REDIRECTS:
        for name in _REDIRECTS[host, path]:
            target = next((v for k, v in pairs if k == name), None)
            if target:
                return _canonical(target, unwrap=False)
    kept = sorted(
        (_quote(k, _QUERY_SAFE.replace("?", "")), _quote(v, _QUERY_SAFE))
        for k, v in pairs
        if not _tracking(k, v)
    )
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = "&".join(f"{k}={v}" if v else k for k, v in kept)
    return f"{netloc}{path}?{query}" if query else f"{netloc}{path}"


def _host(host: str) -> str:
    host = host.lower()
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _quote(text: str, safe: str) -> str:
    """``text`` with percent-encoding normalised: decoded once, encoded where it must be."""
    return quote(unquote(text), safe=safe)


def _path(path: str) -> str:
    path = _quote(path, _PATH_SAFE)
    while "//" in path:
        path = path.replace("//", "/")
    path = path.rstrip("/")
    if path.endswith("/amp"):
        path = path[: -len("/amp")]
    elif path.endswith(".amp"):
        path = path[: -len(".amp")]
    elif ".amp." in path.rsplit("/", 1)[-1]:  # story.amp.html
        head, _, last = path.rpartition("/")
        path = f"{head}/{last.replace('.amp.', '.', 1)}"
    if path.startswith("/amp/"):
        path = path[len("/amp") :]
    return path.rstrip("/")


def _tracking(key: str, value: str) -> bool:
    name = key.lower()
    if name in _TRACKING or name.startswith(_TRACKING_PREFIXES):
        return True
    return name in _AMP_PARAMS and value.lower() in ("", "1", "true", "amp", "yes")


# --------------------------------------------------------------------------- texts

#: How much of a summary is compared (after the title); the rest of a text is ignored.
SUMMARY_CHARS = 600
#: How much of a title is compared.
TITLE_CHARS = 300
#: Two texts tell the same story when their similarity is at least this (tuned on dev).
THRESHOLD = 0.48  # the middle of the band (0.44–0.53) with the best F1 on dev
#: Titles that differ in this many shingles each (and share more) are one template, another slot.
SLOT_WORDS = 1
#: Fewer shingles than this in either text: too little to judge by text alone.
MIN_SHINGLES = 3
#: Fewer shingles than this in a title: the titles alone say nothing.
MIN_TITLE = 2
#: Texts sharing fewer shingles than this are not judged the same story by text, however
#: similar: too little evidence (a two-word title beside a stock summary). Chosen on
#: principle; on the dev pairs no same-story pair shares fewer.
MIN_SHARED = 4
#: Two entries with one link join unless their texts are less similar than this: a
#: broken feed can give every entry the same link (seen in the corpus).
LINK_FLOOR = 0.1

_CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
)
#: A number: its thousands separators dropped, an ordinal suffix read as the number.
_NUMBER = re.compile(r"(\d+(?:[.,]\d+)*)(?:st|nd|rd|th)?(?![^\W\d_])")
#: Month names (English; "may" is left out, it is mostly the verb): a date is a fact.
_MONTH_TEXT = """
    january february march april june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
"""
_MONTHS = frozenset(_MONTH_TEXT.split())
_CJK_START = re.compile(rf"[{_CJK}]")

#: Words too common to say anything about which story a text tells (English, plus the
#: feed boilerplate words a second outlet adds).
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers him his how i if in into
    is it its itself just me more most my no nor not now of off on once only or other
    our ours out over own same she should so some such than that the their theirs them
    then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours said says
    say told according new news read post appeared first via more continue reading
    click here full story update updated breaking live
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True, slots=True)
class Signature:
    """What a text is compared by, computed once.

    ``shingles`` holds the words (Latin and other spaced scripts) and character
    bigrams (Chinese, Japanese, Korean) of the title and the first
    :data:`SUMMARY_CHARS` characters of the summary; ``title`` those of the
    title alone; ``numbers`` the facts of the whole text: numbers (``125%`` is
    ``125``, ``4.14`` stays one number, ``1,500`` is ``1500``, ``5th`` is ``5``)
    and month names; ``words`` the title's words in order, stopwords kept (the
    template detector of :func:`differ` compares them).
    """

    shingles: frozenset[str]
    title: frozenset[str]
    numbers: frozenset[str]
    words: tuple[str, ...] = ()


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """A light English stem: enough to make "tariffs"/"tariff", "extends"/"extend" equal."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    for suffix, keep in _STEMS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + keep
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_STEMS = (
    *(("ies", "y"), ("ied", "y"), ("eed", "ee"), ("sses", "ss"), ("ing", ""), ("ed", "")),
    ("es", ""),
)
#: A text's runs: a number, a CJK run (read as bigrams), a word; each in its own group.
_RUNS = re.compile(rf"(\d+(?:[.,]\d+)*)|([{_CJK}]+)|([^\W_{_CJK}]+)")


def _shingles(text: str, months: set[str]) -> set[str]:
    """The shingles of ``text``; its month names are added to ``months``."""
    runs = _RUNS.findall(text)
    if not runs:
        return set()
    numbers, cjks, words = zip(*runs, strict=True)
    out = set(numbers)
    unique = set(words)
    months.update(unique & _MONTHS)
    out.update(map(_word, unique))
    out.discard("")
    for cjk in set(cjks):
        if len(cjk) == 1:
            out.add(cjk)
        elif cjk:
            out.update(map(str.__add__, cjk[:-1], cjk[1:]))
    return out


@lru_cache(maxsize=1 << 16)
def _word(word: str) -> str:
    """A word's shingle: its stem; "" for a stopword or a lone letter."""
    if word in _STOPWORDS or (len(word) < 2 and not word.isdigit()):
        return ""
    return _stem(word)


#: Names trade news uses for one party: a capital for its country ("Washington and
#: Beijing" for "the US and China"), the adjective for the noun.
_ALIASES = (
    (re.compile(r"\b(?:united states|u\.s\.a?\.?|america|americans?|washington)(?!\w)"), "us"),
    (re.compile(r"\b(?:chinese|beijing|prc)\b"), "china"),
    (re.compile(r"\b(?:european union|brussels)\b"), "eu"),
)


def _normal(text: str, limit: int) -> str:
    # Cut before normalising (bounded work), and again after (NFKC may lengthen it).
    out = unicodedata.normalize("NFKC", text[: limit * 2]).casefold()[: limit * 2]
    for pattern, name in _ALIASES:
        out = pattern.sub(name, out)
    return out


def signature(title: str, summary: str) -> Signature:
    """The signature of an entry's title and summary (plain text).

    Bounded work: only the first :data:`TITLE_CHARS` characters of the title
    and :data:`SUMMARY_CHARS` of the summary are read, whatever their length.
    """
    head_text = _normal(title, TITLE_CHARS)[:TITLE_CHARS]
    body_text = _normal(summary, SUMMARY_CHARS)[:SUMMARY_CHARS]
    months: set[str] = set()
    head = frozenset(_shingles(head_text, months))
    whole = head.union(_shingles(body_text, months))
    numbers = set(_NUMBER.findall(head_text))
    numbers.update(_NUMBER.findall(body_text))
    if "," in head_text or "," in body_text:
        numbers = {_number(n) for n in numbers}
    return Signature(
        shingles=whole,
        title=head,
        numbers=frozenset(numbers | months),
        words=_words(_untagged(head_text)),
    )


#: A number with thousands separators: "1,500" (and "1,500.25").
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _number(token: str) -> str:
    # "1,500" and "1500" are one number; "4.14" and "35,3" keep their decimals.
    if "," in token and _THOUSANDS.fullmatch(token):
        return token.replace(",", "")
    return token


_WORD = re.compile(rf"\d+(?:[.,]\d+)*|[{_CJK}]|[^\W_{_CJK}]+")


#: A title's last segment after " - ", " | ", " – " or " — ": an outlet's name when short.
_TAG = re.compile(r"\s+[-|–—]\s+(?=[^-|–—]*$)")


def _untagged(title: str) -> str:
    """The title without an outlet's tag ("… - Reuters"): a short last segment (at
    most 4 words) after a separator, behind a headline of 4 words or more."""
    parts = _TAG.split(title, maxsplit=1)
    if len(parts) == 2 and len(parts[1].split()) <= 4 and len(parts[0].split()) >= 4:
        return parts[0]
    return title


def _words(text: str) -> tuple[str, ...]:
    """The title's words in order (CJK: characters), stemmed, stopwords kept."""
    return tuple(_stem(w) for w in _WORD.findall(text))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def similarity(a: Signature, b: Signature) -> float:
    """How alike two texts are, from 0 (nothing shared) to 1 (the same shingles).

    The Jaccard similarity of the whole texts' shingles, or — when higher — the
    mean of it and the titles' (a rewritten summary under one title). Texts
    with fewer than :data:`MIN_SHINGLES` shingles are only similar when identical.
    """
    if len(a.shingles) < MIN_SHINGLES or len(b.shingles) < MIN_SHINGLES:
        return 1.0 if a.shingles and a.shingles == b.shingles else 0.0
    whole = _jaccard(a.shingles, b.shingles)
    titles = _jaccard(a.title, b.title)
    if len(a.title) < MIN_TITLE or len(b.title) < MIN_TITLE:
        titles = 0.0
    return max(whole, (titles + whole) / 2)


def _show(words: frozenset[str]) -> str:
    return ", ".join(sorted(words)[:3])


def differ(a: Signature, b: Signature) -> str | None:
    """Why two alike texts still tell different stories, if they do: a changed fact.

    * Their facts disagree: each text, title or summary, has a number or a month
      the other lacks ("tariffs to 125%" / "tariffs to 84%", "Tails 4.14" /
      "Tails 4.10", "sold on July 5th" / "sold on June 28th"). A copy cut short
      loses facts but adds none, so only a difference both ways counts.
    * Their titles are one template with other words in its slots
      (:func:`_slots`): "talks in London" / "talks in Stockholm", "probe into
      semiconductor imports" / "probe into critical mineral imports", "Support
      System - Down" / "Support System - Warning". A copy's title adds words at
      its ends (an outlet, "Update:") or drops one; a second outlet's title
      rewrites more than slots.
    """
    only_a, only_b = a.numbers - b.numbers, b.numbers - a.numbers
    if only_a and only_b:
        return f"facts differ ({_show(only_a)} / {_show(only_b)})"
    slots = _slots(a.words, b.words)
    if slots is not None:
        return f"titles are one template with other words in it ({slots})"
    return None


#: Words that carry no slot: a template's filler, dropped or swapped by paraphrase.
_FUNCTION_TEXT = """
    a an the of in on at to for by with and or from as into via is are was were be
    its it their his her this that these those over after before than
"""
_FUNCTION = frozenset(_FUNCTION_TEXT.split())


def _slots(x: tuple[str, ...], y: tuple[str, ...]) -> str | None:
    """The slots two titles fill differently, when they are one template; else None.

    One template: once the words one title adds at its start or end are set
    aside (an outlet, "Update:"), and function words (:data:`_FUNCTION`) one
    adds inside, the titles differ only where each has other words in the same
    place — any number of such slots, of any length — at least one slot holds
    more than function words on both sides, and the shared words that are not
    function words are at least twice the words of the slots (a template
    dominates; a second outlet's rewrite changes more). Titles in Chinese,
    Japanese or Korean are not compared this way (their words are characters:
    a rewrite swaps a few of them as a slot fill does).
    """
    if not x or not y or _CJK_START.match(x[0]) or _CJK_START.match(y[0]):
        return None
    ops = SequenceMatcher(None, x, y, autojunk=False).get_opcodes()
    while ops and ops[0][0] in ("insert", "delete"):
        ops.pop(0)
    while ops and ops[-1][0] in ("insert", "delete"):
        ops.pop()
    shared = 0
    slots: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for op, i1, i2, j1, j2 in ops:
        p, q = x[i1:i2], y[j1:j2]
        if op == "equal":
            shared += sum(w not in _FUNCTION for w in p)
        elif op == "replace":
            slots.append((p, q))
        elif _content(p) or _content(q):  # words inserted inside: a rewrite, not a slot
            return None
    if not any(_content(p) and _content(q) for p, q in slots):
        return None
    changed = max(sum(len(p) for p, _ in slots), sum(len(q) for _, q in slots))
    if shared < 2 or shared < 2 * changed:
        return None
    return "; ".join(f"{' '.join(p)} / {' '.join(q)}" for p, q in slots[:3])


def _content(words: tuple[str, ...]) -> bool:
    return any(w not in _FUNCTION for w in words)


def same_entry_link(a: Signature, b: Signature) -> bool:
    """Whether two entries with one canonical link are one story.

    A link is evidence only for texts that do not contradict it: two entries
    with one link join when either text is too short to judge, when their
    titles are the same (one post, its body updated), or when their texts are
    the same story anyway (:func:`same_story`). A broken feed can give every
    entry the same link; its entries with other titles are then judged by
    their texts alone.
    """
    if len(a.shingles) < MIN_SHINGLES or len(b.shingles) < MIN_SHINGLES:
        return True
    if a.title and a.title == b.title:
        return True
    return same_story(a, b)[0]


def same_story(a: Signature, b: Signature) -> tuple[bool, str]:
    """Whether two texts tell the same story, and why, in one line."""
    score = similarity(a, b)
    if score < THRESHOLD:
        return False, f"titles and summaries {score:.2f} similar (< {THRESHOLD:g})"
    shared = len(a.shingles & b.shingles)
    if shared < MIN_SHARED and a.shingles != b.shingles:
        return False, f"only {shared} words in common: too little to tell"
    differ_ = differ(a, b)
    if differ_ is not None:
        return False, f"titles and summaries {score:.2f} similar, but {differ_}"
    return True, f"titles and summaries {score:.2f} similar (≥ {THRESHOLD:g})"


# --------------------------------------------------------------------------- the index

#: Entries kept in one shingle's posting list (the newest); a query reads no more.
POSTINGS_CAP = 64
#: A query looks up only its rarest shingles (shortest posting lists), at most this many.
QUERY_SHINGLES = 16
#: Candidates whose similarity is computed, at most (those sharing most shingles).
MAX_CANDIDATES = 16
#: ``expire`` sweeps forgotten entries out of the posting lists once this many are
#: forgotten and they outnumber the entries kept (amortised: a few µs an entry).
COMPACT_AFTER = 1024


@dataclass(slots=True)
class _Indexed:
    story: int
    canonical: str | None
    sig: Signature
    at: datetime


@dataclass(slots=True)
class StoryIndex:
    """Recent entries' signatures and canonical links, to find the story a new entry joins.

    ``add`` records an entry of a story; ``find`` names the story a new entry
    seen at ``at`` joins (an entry added within ``window`` before ``at``, same
    canonical link first, else the most similar text above the threshold);
    ``expire`` forgets old entries. Entries added after ``at`` do not count.
    The caller gives every time; nothing here reads a clock.

    Posting lists (per shingle, per canonical link) hold entry numbers, newest
    last, capped at :data:`POSTINGS_CAP`. Forgetting is lazy: ``expire`` only
    drops the entry; its numbers stay in the lists (``find`` skips them) until
    newer entries push them out or a compaction sweeps them
    (:data:`COMPACT_AFTER`).
    """

    window: timedelta = timedelta(hours=48)
    _entries: dict[int, _Indexed] = field(default_factory=dict, init=False, repr=False)
    _postings: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False)
    _links: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False)
    _by_time: list[tuple[datetime, int]] = field(default_factory=list, init=False, repr=False)
    _serial: int = field(default=0, init=False, repr=False)
    _forgotten: int = field(default=0, init=False, repr=False)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, story: int, canonical: str | None, sig: Signature, at: datetime) -> None:
        """Record an entry of ``story`` seen at ``at``."""
        self._serial += 1
        serial = self._serial
        self._entries[serial] = _Indexed(story, canonical, sig, at)
        heapq.heappush(self._by_time, (at, serial))
        postings = self._postings
        for shingle in sig.shingles:
            posting = postings.get(shingle)
            if posting is None:
                postings[shingle] = [serial]
                continue
            posting.append(serial)
            if len(posting) > POSTINGS_CAP:
                del posting[0]
        if canonical is not None:
            same = self._links.setdefault(canonical, [])
            same.append(serial)
            if len(same) > POSTINGS_CAP:
                del same[0]

    def find(self, canonical: str | None, sig: Signature, at: datetime) -> tuple[int, str] | None:
        """The story a new entry seen at ``at`` joins, and why; None for a new story.

        Only entries added within ``window`` before ``at`` count. An equal
        canonical link wins ("same link") when the two texts do not contradict
        it (:func:`same_entry_link`); else the most similar text at or above the
        threshold (the newest on a tie), with :func:`same_story`'s reason.
        """
        oldest = at - self.window
        entries = self._entries
        if canonical is not None:
            for serial in reversed(self._links.get(canonical, ())):
                entry = entries.get(serial)
                if entry is None or not oldest <= entry.at <= at:
                    continue
                if same_entry_link(sig, entry.sig):
                    return entry.story, "same link"
        best: tuple[float, int, int, str] | None = None
        for serial in self._candidates(sig):
            entry = entries[serial]
            if not oldest <= entry.at <= at:
                continue
            score = similarity(sig, entry.sig)
            if score < THRESHOLD or (best is not None and (score, serial) <= best[:2]):
                continue
            same, reason = same_story(sig, entry.sig)
            if same:
                best = (score, serial, entry.story, reason)
        if best is None:
            return None
        return best[2], best[3]

    def _candidates(self, sig: Signature) -> list[int]:
        """The indexed entries sharing most of ``sig``'s rarest shingles, at most a few.

        The :data:`QUERY_SHINGLES` shingles with the shortest posting lists are
        looked up (a full list names a topic, not a story). A candidate must
        share two of them, unless only one was looked up.
        """
        postings = self._postings
        found = [p for s in sig.shingles if (p := postings.get(s))]
        if len(found) > QUERY_SHINGLES:
            found = heapq.nsmallest(QUERY_SHINGLES, found, key=len)
        hits: Counter[int] = Counter()
        for posting in found:
            hits.update(posting)
        least = 2 if len(found) > 1 else 1
        entries = self._entries
        out: list[int] = []
        for serial, count in hits.most_common():
            if count < least or len(out) == MAX_CANDIDATES:
                break
            if serial in entries:
                out.append(serial)
        return out

    def expire(self, before: datetime) -> int:
        """Forget the entries seen before ``before``; how many were forgotten.

        Lazy: the entries go, their numbers stay in the posting lists (``find``
        skips them) until a compaction, once forgotten numbers outnumber the
        entries kept (and :data:`COMPACT_AFTER` were forgotten since the last).
        """
        gone = 0
        by_time, entries = self._by_time, self._entries
        pop = heapq.heappop
        while by_time and by_time[0][0] < before:
            del entries[pop(by_time)[1]]
            gone += 1
        self._forgotten += gone
        if self._forgotten >= COMPACT_AFTER and self._forgotten > len(entries):
            self._compact()
        return gone

    def _compact(self) -> None:
        """Sweep forgotten entries' numbers out of every posting list; drop empty lists."""
        alive = self._entries.__contains__
        for lists in (self._postings, self._links):
            for key in list(lists):
                kept = list(filter(alive, lists[key]))
                if kept:
                    lists[key] = kept
                else:
                    del lists[key]
        self._forgotten = 0
