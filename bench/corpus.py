"""Deterministic synthetic data for the benchmark: words, watches, entries and feed documents.

Everything is ASCII and derived from a seed, so the server process and the
runner build the same feeds without exchanging them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

_ONSETS = ("b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou")
_CODAS = ("", "", "n", "r", "l", "s", "t", "x")

WORDS_PER_WATCH_TERMS = 150
PHRASES = 40
REGEXES = 10
WATCHES = 20
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def rng(seed: int | str) -> random.Random:
    """A seeded, non-cryptographic generator (benchmark data only)."""
    return random.Random(seed)  # noqa: S311 - synthetic data, not security


def _pseudo_word(r: random.Random) -> str:
    return "".join(
        r.choice(_ONSETS) + r.choice(_VOWELS) + r.choice(_CODAS) for _ in range(r.randint(2, 3))
    )


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Filler words, and the watch terms (disjoint from the filler)."""

    filler: tuple[str, ...]
    words: tuple[str, ...]
    phrases: tuple[str, ...]
    regexes: tuple[str, ...]  # as written in a watch: ``/.../``
    regex_examples: tuple[str, ...]  # text each regex finds

    @property
    def snippets(self) -> tuple[str, ...]:
        """Pieces of text that trigger terms, to sprinkle into generated text."""
        return self.words + self.phrases + self.regex_examples


def vocabulary(seed: int = 7) -> Vocabulary:
    r = rng(f"vocab-{seed}")
    seen: set[str] = set()

    def fresh() -> str:
        while True:
            w = _pseudo_word(r)
            if w not in seen and len(w) >= 4:
                seen.add(w)
                return w

    filler = tuple(fresh() for _ in range(600))
    words = tuple(fresh() for _ in range(WORDS_PER_WATCH_TERMS))
    phrases = tuple(f"{fresh()} {r.choice(filler)}" for _ in range(PHRASES))
    regexes: list[str] = []
    examples: list[str] = []
    for i in range(REGEXES):
        a, b, c = fresh(), fresh(), fresh()
        if i % 2 == 0:
            regexes.append(f"/{a} ({b}|{c})s?/")
            examples.append(f"{a} {c}s")
        else:
            regexes.append(f"/{a} \\d{{2,3}} {b}/")
            examples.append(f"{a} {r.randint(10, 999)} {b}")
    return Vocabulary(filler, words, phrases, tuple(regexes), tuple(examples))


@dataclass(frozen=True, slots=True)
class WatchSpec:
    """A watch as plain data (the runner turns it into :class:`notifier.config.schema.Watch`)."""

    name: str
    any: tuple[str, ...]
    all: tuple[str, ...]
    none: tuple[str, ...]


def watch_specs(vocab: Vocabulary) -> list[WatchSpec]:
    """20 watches over 200 terms: 150 words, 40 phrases, 10 regexes.

    Words and phrases are dealt round-robin; the first 10 watches get a regex.
    Every 4th watch (from 1) moves its last word to ``all``, every 4th (from 2)
    to ``none``.
    """
    buckets: list[list[str]] = [[] for _ in range(WATCHES)]
    for i, w in enumerate(vocab.words):
        buckets[i % WATCHES].append(w)
    extras: list[list[str]] = [[] for _ in range(WATCHES)]
    for i, p in enumerate(vocab.phrases):
        extras[i % WATCHES].append(p)
    for i, x in enumerate(vocab.regexes):
        extras[i % WATCHES].append(x)
    specs = []
    for i in range(WATCHES):
        words = buckets[i]
        all_: tuple[str, ...] = ()
        none: tuple[str, ...] = ()
        if i % 4 == 1:
            words, all_ = words[:-1], (words[-1],)
        elif i % 4 == 2:
            words, none = words[:-1], (words[-1],)
        specs.append(WatchSpec(f"watch-{i:02d}", (*words, *extras[i]), all_, none))
    return specs


def sentence(r: random.Random, vocab: Vocabulary, n: int, hit_rate: float) -> str:
    """``n`` filler words, each replaced by a term snippet with probability ``hit_rate``."""
    out = []
    for _ in range(n):
        if r.random() < hit_rate:
            out.append(r.choice(vocab.snippets))
        else:
            out.append(r.choice(vocab.filler))
    return " ".join(out)


@dataclass(frozen=True, slots=True)
class TextEntry:
    """A generated entry: plain title, HTML description and its plain-text form."""

    guid: str
    title: str
    html: str
    text: str
    published: datetime


def make_entry(r: random.Random, vocab: Vocabulary, guid: str, published: datetime) -> TextEntry:
    """One entry with a ~2-3 KB HTML description (a few paragraphs, a link, bold)."""
    title = sentence(r, vocab, r.randint(6, 12), 0.03).capitalize()
    paragraphs = [sentence(r, vocab, r.randint(60, 90), 0.004) for _ in range(r.randint(3, 4))]
    link_word = r.choice(vocab.filler)
    html_parts = [f"<p>{escape(p)}.</p>" for p in paragraphs]
    html_parts.insert(
        1, f'<p>See <a href="https://example.org/{link_word}">{link_word}</a> <b>now</b>.</p>'
    )
    text = " ".join([*paragraphs, f"See {link_word} now."])
    return TextEntry(guid, title, "\n".join(html_parts), text, published)


def feed_entries(vocab: Vocabulary, seed: int, feed: int, count: int) -> list[TextEntry]:
    """The ``count`` initial entries of feed number ``feed``, newest first."""
    r = rng(f"feed-{seed}-{feed}")
    return [
        make_entry(
            r,
            vocab,
            f"https://feeds.example/{feed}/entry/{i}",
            BASE_TIME - timedelta(hours=i),
        )
        for i in range(count)
    ]


def rss_item(e: TextEntry) -> str:
    return (
        "<item>"
        f"<title>{escape(e.title)}</title>"
        f"<link>{escape(e.guid)}</link>"
        f'<guid isPermaLink="false">{escape(e.guid)}</guid>'
        f"<pubDate>{format_datetime(e.published, usegmt=True)}</pubDate>"
        f"<description>{escape(e.html)}</description>"
        "</item>\n"
    )


def atom_entry(e: TextEntry) -> str:
    stamp = e.published.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        "<entry>"
        f"<title>{escape(e.title)}</title>"
        f'<link href="{escape(e.guid)}"/>'
        f"<id>{escape(e.guid)}</id>"
        f"<published>{stamp}</published><updated>{stamp}</updated>"
        f'<summary type="html">{escape(e.html)}</summary>'
        "</entry>\n"
    )


def is_atom(feed: int) -> bool:
    return feed % 2 == 1


def render(feed: int, items: list[str]) -> bytes:
    """The whole document of feed ``feed`` from its rendered items."""
    if is_atom(feed):
        head = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Bench feed {feed}</title><id>urn:bench:{feed}</id>"
            f"<updated>{BASE_TIME:%Y-%m-%dT%H:%M:%SZ}</updated>\n"
        )
        return (head + "".join(items) + "</feed>\n").encode()
    head = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Bench feed {feed}</title><link>https://feeds.example/{feed}</link>"
        f"<description>Synthetic feed {feed}</description>\n"
    )
    return (head + "".join(items) + "</channel></rss>\n").encode()


def item_for(feed: int, e: TextEntry) -> str:
    return atom_entry(e) if is_atom(feed) else rss_item(e)
