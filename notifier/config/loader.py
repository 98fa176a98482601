"""Read ``watch.yaml``: YAML 1.2, ``${VAR}`` substitution, errors located by line.

The flow::

    bytes ──ruamel (round-trip, YAML 1.2)──▶ node tree with line info
          ──substitute ${VAR}──▶ same tree, strings replaced in place
          ──to plain data──▶ dict/list/str/int/float/bool/None
          ──config.build──▶ Config, or Issues (loc, message)
          ──locate──▶ Problems "file:LINE:COL: feeds[1].url: message"

Why ruamel's round-trip loader: it follows YAML 1.2 (``no``, ``off`` and
``NO`` stay strings; PyYAML's 1.1 turns them into ``False``) and keeps the line
and column of every key and item, which pydantic's error locations are mapped
onto. Timestamps are kept as the text written, so the config decides what a
date alone means.

The secrets returned with a config (for the log redaction, see
:mod:`notifier.logs`) are the values substituted from the environment and the
secret parts of every channel and feed URL (:func:`url_secrets`), so every
caller that loads a config — each command, each reload of the daemon — gets
them.

``${NAME}`` and ``${NAME:-default}`` are replaced in string values (never in
keys) from the environment; ``$${`` writes a literal ``${``. Substitution
happens after parsing, so a value can never inject YAML structure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode

from notifier.config.schema import InvalidConfig, Issue, Loc, build
from notifier.delivery.apprise import secrets_of
from notifier.errors import ConfigError, ConfigFileError, Problem
from notifier.model import Config

#: Alias expansion beyond this many nodes is refused (a "billion laughs" document).
MAX_NODES = 200_000
#: A larger file is refused before it is parsed: ruamel's pure-Python parser
#: takes seconds per megabyte (a 4.9 MB file took minutes and 651 MB), and a
#: real watch config is a few kilobytes (1,000 feeds fit in 100 KB).
MAX_BYTES = 1024 * 1024
_MB = 1024 * 1024

_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that keeps timestamps as the text written."""

    def construct_yaml_str_timestamp(self, node: ScalarNode) -> str:
        return str(self.construct_scalar(node))


_Constructor.add_constructor(
    "tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_str_timestamp
)


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _Constructor
    yaml.allow_duplicate_keys = False
    return yaml


def load(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Load and validate the watch config at ``path``.

    Raises :class:`ConfigFileError` if the file cannot be read, and
    :class:`ConfigError` listing every problem (with file, line and column)
    if it is not a valid config. Never raises anything else for bad input.
    ``environ`` (default: ``os.environ``) supplies ``${VAR}`` values.
    """
    return load_with_secrets(path, environ)[0]


def load_with_secrets(
    path: Path, environ: Mapping[str, str] | None = None
) -> tuple[Config, frozenset[str]]:
    """Like :func:`load`, and also return the values substituted from the environment."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # never more than the limit, however big the file
            size = os.fstat(f.fileno()).st_size if len(data) > MAX_BYTES else len(data)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise ConfigFileError([Problem(str(path), 1, 1, "file", f"cannot read: {reason}")]) from e
    if len(data) > MAX_BYTES:
        raise ConfigError([_too_large(str(path), max(size, len(data)))])
    return loads_with_secrets(data, str(path), os.environ if environ is None else environ)


def _megabytes(size: int) -> str:
    """``4.9 MB``; in bytes when rounding would make it look like the limit."""
    shown = f"{size / _MB:.1f}".removesuffix(".0")
    if shown == f"{MAX_BYTES / _MB:.1f}".removesuffix(".0"):
        return f"{size:,} bytes"
    return f"{shown} MB"


def _too_large(filename: str, size: int) -> Problem:
    limit = f"{MAX_BYTES / _MB:g} MB"
    if _megabytes(size).endswith("bytes"):
        limit = f"{limit} ({MAX_BYTES:,} bytes)"
    return Problem(filename, 1, 1, "file", f"the file is {_megabytes(size)}; the limit is {limit}")


def loads(data: bytes | str, filename: str, environ: Mapping[str, str]) -> Config:
    """Like :func:`load`, from the file's content; ``filename`` is used in messages."""
    config, _ = loads_with_secrets(data, filename, environ)
    return config


def loads_with_secrets(
    data: bytes | str, filename: str, environ: Mapping[str, str]
) -> tuple[Config, frozenset[str]]:
    """Load a config and also return the values substituted from the environment.

    Those values are treated as secrets: the log pipeline redacts them.
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "replace"))
    if size > MAX_BYTES:
        raise ConfigError([_too_large(filename, size)])
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise ConfigFileError(
                [Problem(filename, line, 1, "file", "not UTF-8 text; save the file as UTF-8")]
            ) from None
    else:
        text = data
    try:
        tree = _yaml().load(text)
    except DuplicateKeyError as e:
        raise ConfigError([_yaml_problem(filename, e, "duplicate key")]) from None
    except MarkedYAMLError as e:
        raise ConfigError([_yaml_problem(filename, e, text=text)]) from None
    except YAMLError as e:  # pragma: no cover - ruamel marks nearly every error
        raise ConfigError([Problem(filename, 1, 1, "yaml", str(e))]) from None

    if tree is None:
        tree = CommentedMap()
    issues: list[Issue] = []
    secrets: set[str] = set()
    _substitute(tree, (), environ, issues, secrets, set())
    broken = {issue.loc for issue in issues}
    try:
        plain = _plain(tree, [0], ())
    except _TooBig:
        raise ConfigError(
            [
                Problem(
                    filename,
                    1,
                    1,
                    "yaml",
                    f"the document holds more than {MAX_NODES:,} values (the limit) once "
                    "its aliases are expanded; each alias (*name) repeats the whole "
                    "content of its anchor (&name), so a few aliases can multiply a document",
                )
            ]
        ) from None
    if not isinstance(plain, dict):
        issues.append(Issue((), "the file must be a mapping with keys such as feeds and watches"))
        raise ConfigError(_locate(tree, filename, issues))
    try:
        config = build(plain)
    except InvalidConfig as e:
        # A value whose ${VAR} could not be substituted was already reported.
        issues += [i for i in e.issues if i.loc not in broken]
    if issues:
        raise ConfigError(_locate(tree, filename, issues))
    return config, frozenset(secrets | url_secrets(config))


def url_secrets(config: Config) -> set[str]:
    """The secret parts of the config's channel and feed URLs, for the log redaction.

    Tokens are often written in the URLs themselves rather than in ``${VAR}``
    (see :mod:`notifier.delivery.apprise` for what counts as secret). A part equal to a
    name in the config (a feed, watch, channel or deadline) is kept readable.
    """
    found = secrets_of(
        (url for channel in config.channels.values() for url in channel.urls),
        (feed.url for feed in config.feeds),
    )
    names = {
        *config.channels,
        *(f.name for f in config.feeds),
        *(w.name for w in config.watches),
        *(d.name for d in config.deadlines),
    }
    return found - names


# --------------------------------------------------------------------------- YAML errors


def _yaml_problem(filename: str, e: MarkedYAMLError, path: str = "yaml", text: str = "") -> Problem:
    mark = e.problem_mark or e.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    if isinstance(e, DuplicateKeyError):
        # ruamel quotes both values, which may hold secrets: name the key only.
        found = re.search(r'found duplicate key "(.*?)" with value', str(e.problem))
        key = found.group(1) if found else "?"
        message = f"key {key!r} appears more than once in this mapping"
        return Problem(filename, line, col, path, message)
    plain = _plain_yaml_error(e, text.splitlines())
    if plain is not None:
        (line, col), message = plain
        return Problem(filename, line, col, path, message)
    # Only ruamel's own words: its snippet of the source line could show a secret.
    words = [w for w in (e.context, e.problem) if w]
    message = "; ".join(str(w).strip() for w in words) or "invalid YAML"
    return Problem(filename, line, col, path, message)


#: ruamel's names for the tokens it found, in words.
_TOKENS = {
    "<scalar>": "a value",
    "<stream end>": "the end of the file",
    "<block mapping start>": "a new key",
    "<block sequence start>": "a new list item",
    "<block end>": "the end of an indented block",
}
_CLOSERS = {"flow sequence": ("[", "]", "list"), "flow mapping": ("{", "}", "mapping")}


def _plain_yaml_error(e: MarkedYAMLError, lines: list[str]) -> tuple[tuple[int, int], str] | None:
    """Say in plain words what the common YAML mistakes are, and where they start.

    The parser reports where it gave up, which for an unclosed bracket or quote
    is a line or more past the mistake. Those errors point at the opening
    bracket or quote instead (ruamel's ``context_mark``) and say where the
    parser noticed. Returns ``((line, column), message)``, 1-based, or ``None``
    to keep ruamel's words. Never quotes the source (it may hold secrets).
    """
    context = str(e.context or "").strip()
    problem = str(e.problem or "").strip()
    start, end = e.context_mark, e.problem_mark
    if end is None:
        return None
    at = (end.line + 1, end.column + 1)
    noticed = (
        "the parser noticed at the end of the file"
        if end.line >= len(lines)
        else f"the parser noticed at line {end.line + 1}"
    )

    flow = re.fullmatch(r"while parsing a (flow sequence|flow mapping)", context)
    got = re.fullmatch(r"expected ',' or '[\]}]', but got '(.*)'", problem)
    if flow and got and start is not None:
        opener, closer, kind = _CLOSERS[flow.group(1)]
        found = got.group(1)
        found_words = _TOKENS.get(found, repr(found))
        if end.line > start.line and (
            end.line >= len(lines) or _indent(lines[end.line]) <= _indent(lines[start.line])
        ):
            # A line indented like the opener's (the next key or item), or the end of
            # the file, came before the closing bracket: it was never written. A line
            # indented deeper is the list going on over several lines: a ',' is missing.
            return (
                (start.line + 1, start.column + 1),
                f"this {opener!r} is never closed: add the {closer!r} ({noticed})",
            )
        return (
            at,
            f"expected ',' between two items, or {closer!r} to end the {kind} opened "
            f"with {opener!r} at line {start.line + 1}, column {start.column + 1}; "
            f"found {found_words}",
        )

    if context.startswith("while scanning a") and "quoted scalar" in context and start:
        quote = _char_at(lines, start.line, start.column) or '"'
        if problem == "found unexpected end of stream":
            return (
                (start.line + 1, start.column + 1),
                f"this {quote!r} quote is never closed: add the closing {quote!r} ({noticed})",
            )
        escape = re.fullmatch(r"found unknown escape character '(.*)'", problem)
        if escape:
            return (
                at,
                f"'\\{escape.group(1)}' is not an escape YAML knows in a double-quoted "
                "string: write '\\\\' for a backslash, or use single quotes",
            )

    if (
        context == "while scanning a simple key"
        and problem == "could not find expected ':'"
        and start is not None
    ):
        return (
            (start.line + 1, start.column + 1),
            f"this key has no ':' after it ({noticed}); write 'key: value'",
        )

    if problem == "mapping values are not allowed here":
        return (
            at,
            "a ':' cannot start a key here: indent this line exactly like the keys it "
            "belongs with, or quote a value that contains ': '",
        )

    if problem.startswith("found character '\\t' that cannot start any token"):
        return (at, "a tab cannot indent YAML: indent with spaces")

    block = re.fullmatch(r"expected <block end>, but found '(.*)'", problem)
    if context.startswith("while parsing a block") and block:
        quote_line = _unclosed_quote_line(lines, start.line if start else 0, end.line)
        if quote_line is not None:
            row, column, quote = quote_line
            return (
                (row + 1, column + 1),
                f"this {quote!r} quote is not closed on its line ({noticed}); "
                f"add the closing {quote!r}",
            )
        if block.group(1) in {"<block mapping start>", "<block sequence start>", "<scalar>"}:
            where = (
                f" (the block started at line {start.line + 1}, column {start.column + 1})"
                if start is not None
                else ""
            )
            return (
                at,
                "this line is indented differently from the lines above it: indent it "
                f"exactly like the keys or items it belongs with{where}",
            )
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _char_at(lines: list[str], row: int, column: int) -> str:
    if row < len(lines) and column < len(lines[row]):
        return lines[row][column]
    return ""


def _unclosed_quote_line(lines: list[str], first: int, last: int) -> tuple[int, int, str] | None:
    """The first line in ``first..last`` (0-based) where a quote opens and does not close.

    A rough YAML tokenizer: ``#`` after a space starts a comment; inside
    ``'...'`` a quote is doubled, inside ``"..."`` backslash escapes. Only
    quotes that open a value (after ``: ``, ``- ``, ``[``, ``{``, ``,`` or at the
    start) count, so apostrophes in plain text do not.
    """
    for row in range(first, min(last, len(lines))):
        line = lines[row]
        i = 0
        while i < len(line):
            ch = line[i]
            before = line[:i].rstrip(" ")
            if ch == "#" and (i == 0 or line[i - 1] in " \t"):
                break
            opens = not before or before[-1] in ":-[{,?"
            if ch in "'\"" and opens:
                j = i + 1
                while j < len(line):
                    if ch == '"' and line[j] == "\\":
                        j += 2
                        continue
                    if line[j] == ch:
                        if ch == "'" and line[j + 1 : j + 2] == "'":
                            j += 2
                            continue
                        break
                    j += 1
                if j >= len(line):
                    return row, i, ch
                i = j + 1
                continue
            i += 1
    return None


# --------------------------------------------------------------------------- ${VAR}


def substitute(text: str, environ: Mapping[str, str]) -> tuple[str, list[str], list[str]]:
    """Replace ``${VAR}`` references in ``text``.

    Returns the new text, the names of missing variables, and the values used.
    A malformed reference (``${`` not closed, or a bad name) is reported as
    missing under the name ``${``.
    """
    missing: list[str] = []
    used: list[str] = []

    def repl(m: re.Match[str]) -> str:
        whole = m.group(0)
        if whole == "$${":
            return "${"
        name, default = m.group(1), m.group(2)
        if name is None:
            missing.append("${")
            return whole
        if name in environ:
            used.append(environ[name])
            return environ[name]
        if default is not None:
            return default
        missing.append(name)
        return whole

    return _VAR.sub(repl, text), missing, used


def _substitute(  # noqa: PLR0917 - a private recursive walker
    node: Any,
    loc: Loc,
    environ: Mapping[str, str],
    issues: list[Issue],
    secrets: set[str],
    visited: set[int],
) -> None:
    """Substitute in place; each container once, however many aliases point at it."""
    if id(node) in visited:
        return
    visited.add(id(node))
    children: list[tuple[str | int, Any]]
    if isinstance(node, CommentedMap):
        children = [(k, v) for k, v in node.items()]
    elif isinstance(node, CommentedSeq):
        children = list(enumerate(node))
    else:
        return
    for key, value in children:
        here = (*loc, key)
        if isinstance(value, str) and "$" in value:
            new, missing, used = substitute(value, environ)
            for name in missing:
                if name == "${":
                    message = "malformed ${...}: write ${NAME}, ${NAME:-default}, or $${ for '${'"
                else:
                    message = f"environment variable {name} is not set (and no :-default given)"
                issues.append(Issue(here, message))
            secrets.update(v for v in used if v)
            node[key] = new
        else:
            _substitute(value, here, environ, issues, secrets, visited)


# --------------------------------------------------------------------------- plain data


class _TooBig(Exception):
    pass


def _plain(node: Any, count: list[int], stack: tuple[int, ...]) -> Any:
    count[0] += 1
    if count[0] > MAX_NODES or id(node) in stack:
        raise _TooBig
    if isinstance(node, dict):
        inner = (*stack, id(node))
        return {_scalar(k): _plain(v, count, inner) for k, v in node.items()}
    if isinstance(node, list):
        inner = (*stack, id(node))
        return [_plain(v, count, inner) for v in node]
    return _scalar(node)


def _scalar(value: Any) -> Any:
    """Drop ruamel's scalar subclasses (ScalarFloat, ScalarBoolean...)."""
    if value is None or isinstance(value, str):
        return None if value is None else str(value)
    if isinstance(value, bool) or type(value).__name__ == "ScalarBoolean":
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


# --------------------------------------------------------------------------- locating


def format_loc(loc: Loc) -> str:
    """``("feeds", 1, "url")`` → ``feeds[1].url``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top)"


def _position(tree: Any, loc: Loc, at_key: bool) -> tuple[int, int]:
    """Return the 0-based (line, column) in ``tree`` that best matches ``loc``."""
    node = tree
    line, col = _start(tree)
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            line, col = node.lc.key(part) if (last and at_key) else node.lc.value(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        else:
            break  # pydantic-internal step, or a missing key: keep the parent's position
    return line, col


def _start(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        return lc.line, lc.col
    return 0, 0


def _locate(tree: Any, filename: str, issues: list[Issue]) -> list[Problem]:
    problems = []
    for issue in issues:
        line, col = _position(tree, issue.loc, issue.at_key)
        problems.append(Problem(filename, line + 1, col + 1, format_loc(issue.loc), issue.message))
    problems.sort(key=lambda p: (p.line, p.column))
    return problems
