"""Full-text search of the history: what is indexed, and what a user's search becomes.

Pure text functions, no SQL: :mod:`notifier.storage.history` puts their output
into and against an FTS5 table (``unicode61`` tokenizer, ``remove_diacritics 2``).

::

    title + summary ──NFKC──▶ CJK runs as overlapping bigrams ──▶ indexed text
                              (+ the run's last character alone)
    search text ──NFKC──▶ words and CJK runs ──▶ quoted terms, ANDed ──▶ MATCH

**Why bigrams.** ``unicode61`` keeps a run of Chinese characters as one token
(there are no spaces between words), so ``稀土`` would never match inside
``中国加强稀土出口管制``; the ``trigram`` tokenizer cannot match a 2-character
query at all, and most Chinese words are two characters. Writing every CJK run
as its overlapping bigrams (``中国 国加 加强 强稀 稀土 土出 出口 口管 管制``) is
what Lucene's ``CJKBigramFilter`` (the ``cjk`` analyzer of Elasticsearch and
Solr) does: a query of *n* ≥ 2 characters becomes its *n*−1 bigrams, all of
which must occur. A one-character query is a prefix search on the bigrams
(``稀``* finds ``稀土``); the run's last character is also indexed alone so that
a one-character query finds it at the end of a run too. Han, kana and Hangul
count as CJK. Latin (and every other script with spaces) is left to
``unicode61``: case and diacritics folded, so ``Zolle`` finds ``Zölle``.

**Queries are user input.** Nothing the user types reaches FTS5 syntax: the
text is cut into tokens the same way as the index (letters and digits), each
token is quoted, and the terms are ANDed. ``OR``, ``NEAR(``, ``"``, ``*`` and
``-`` are just text (or nothing). A word of three or more letters matches as a
prefix (``tariff`` finds ``tariffs``); shorter words match whole. A search
longer than :data:`MAX_SEARCH` characters, or with no letter or digit in it, is
refused with :class:`~notifier.errors.InvalidSearch`.

**Stability.** The FTS table is contentless (it stores no text, only the index;
see :mod:`notifier.storage.history`): a row is removed by giving FTS5 the same
text again, which :func:`index_text` recomputes from the stored title and
summary. Changing :func:`index_text` therefore needs a migration that rebuilds
the index (bump :data:`INDEX_VERSION`).
"""

from __future__ import annotations

import re
import unicodedata

from notifier.errors import InvalidSearch

#: The version of :func:`index_text`'s output; a change needs the index rebuilt.
INDEX_VERSION = 1
#: The longest search accepted, in characters.
MAX_SEARCH = 200
#: A word at least this long matches as a prefix.
PREFIX_MIN = 3

_CJK = (
    "\u3005\u3007"  # 々 〇
    "\u3040-\u30ff"  # hiragana, katakana (with ー)
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
_CJK_RUN = re.compile(f"[{_CJK}]+")
#: A query's terms: a CJK run, or a run of other letters and digits (what unicode61
#: keeps as one token: categories L* and N*; ``_`` is punctuation to it).
_TERM = re.compile(f"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])[^\\W_])+)")


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _spread(match: re.Match[str]) -> str:
    run = match.group()
    return f" {' '.join([*_bigrams(run), run[-1]])} "


def index_text(title: str, summary: str) -> str:
    """The text indexed for an entry: its title and summary, NFKC-normalised, with
    every CJK run written as its bigrams and its last character (see above)."""
    text = unicodedata.normalize("NFKC", f"{title}\n{summary}")
    return _CJK_RUN.sub(_spread, text)


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def fts_query(text: str) -> str:
    """The FTS5 query for a user's search ``text``: every term quoted, ANDed.

    Raises :class:`InvalidSearch` for a text longer than :data:`MAX_SEARCH`
    characters or with nothing to search for (no letter or digit)."""
    if len(text) > MAX_SEARCH:
        raise InvalidSearch(
            f"the search is {len(text)} characters long; search for at most {MAX_SEARCH}"
        )
    terms: dict[str, None] = {}
    for m in _TERM.finditer(unicodedata.normalize("NFKC", text)):
        if m.group("cjk"):
            run = m.group("cjk")
            if len(run) == 1:
                terms[_quote(run) + "*"] = None
            for bigram in _bigrams(run):
                terms[_quote(bigram)] = None
        else:
            word = m.group("word")
            terms[_quote(word) + ("*" if len(word) >= PREFIX_MIN else "")] = None
    if not terms:
        raise InvalidSearch(
            f"nothing to search for in {text[:40]!r}: give a word (letters or digits)"
        )
    return " ".join(terms)
