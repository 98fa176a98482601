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

**PostgreSQL.** :mod:`notifier.storage.postgres` keeps a ``tsvector`` per entry
instead. Its text parser and dictionaries depend on the server's locale (a ``C``
server drops Chinese), so they are not used at all: :func:`lexemes` cuts the same
:func:`index_text` into the tokens ``unicode61`` would make (letters and digits;
case and diacritics folded by :func:`_fold`), stored with ``array_to_tsvector``;
:func:`tsquery` makes the same quoted, ANDed terms as :func:`fts_query`, each
one a quoted lexeme of a ``tsquery`` literal (``'tariff':* & '稀土'``), so a search
finds the same entries on both.
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
    return " ".join(_quote(term) + ("*" if prefix else "") for term, prefix in _terms(text))


#: A token of the indexed text, as ``unicode61`` cuts it: letters and digits.
_TOKEN = re.compile(r"[^\W_]+")
_HAS_CJK = re.compile(f"[{_CJK}]")
#: PostgreSQL refuses a lexeme of 2 KiB or more; no word is that long.
_LEXEME_MAX = 200


def _fold(word: str) -> str:
    """Case and diacritics folded, as ``unicode61`` with ``remove_diacritics 2`` does
    (CJK is left alone: its marks, like the kana voicing marks, are not accents)."""
    if _HAS_CJK.search(word):
        return word
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)
    )
    return unicodedata.normalize("NFC", stripped).lower()


def lexemes(title: str, summary: str) -> list[str]:
    """The distinct search tokens of an entry (PostgreSQL's index of it): the tokens
    of :func:`index_text`, folded."""
    found = {_fold(t): None for t in _TOKEN.findall(index_text(title, summary))}
    return [t for t in found if 0 < len(t) <= _LEXEME_MAX]


def _lexeme(term: str) -> str:
    """One quoted lexeme of a ``tsquery`` literal (terms are letters and digits only;
    quoting anyway keeps any other character a literal)."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery(text: str) -> str:
    """The PostgreSQL ``tsquery`` literal for a user's search ``text``: the terms of
    :func:`fts_query`, folded, each quoted, prefixes marked ``:*``, ANDed. Cast it
    (``?::tsquery``), never parse it with ``to_tsquery``. Raises
    :class:`InvalidSearch` as :func:`fts_query` does."""
    return " & ".join(
        _lexeme(_fold(term)[:_LEXEME_MAX]) + (":*" if prefix else "")
        for term, prefix in _terms(text)
    )


def _terms(text: str) -> list[tuple[str, bool]]:
    """A search's terms, each with whether it matches as a prefix; see the module doc."""
    if len(text) > MAX_SEARCH:
        raise InvalidSearch(
            f"the search is {len(text)} characters long; search for at most {MAX_SEARCH}"
        )
    terms: dict[tuple[str, bool], None] = {}
    for m in _TERM.finditer(unicodedata.normalize("NFKC", text)):
        if m.group("cjk"):
            run = m.group("cjk")
            if len(run) == 1:
                terms[(run, True)] = None
            for bigram in _bigrams(run):
                terms[(bigram, False)] = None
        else:
            word = m.group("word")
            terms[(word, len(word) >= PREFIX_MIN)] = None
    if not terms:
        raise InvalidSearch(
            f"nothing to search for in {text[:40]!r}: give a word (letters or digits)"
        )
    return list(terms)
