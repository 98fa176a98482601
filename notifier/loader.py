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

from notifier.config import Config, InvalidConfig, Issue, Loc, build
from notifier.errors import ConfigError, ConfigFileError, Problem

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
        raise ConfigError([_yaml_problem(filename, e)]) from None
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
    return config, frozenset(secrets)


# --------------------------------------------------------------------------- YAML errors


def _yaml_problem(filename: str, e: MarkedYAMLError, path: str = "yaml") -> Problem:
    mark = e.problem_mark or e.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    # Only ruamel's own words: its snippet of the source line could show a secret.
    words = [w for w in (e.context, e.problem) if w]
    message = "; ".join(str(w).strip() for w in words) or "invalid YAML"
    if isinstance(e, DuplicateKeyError):
        # ruamel quotes both values, which may hold secrets: name the key only.
        found = re.search(r'found duplicate key "(.*?)" with value', str(e.problem))
        key = found.group(1) if found else "?"
        message = f"key {key!r} appears more than once in this mapping"
    return Problem(filename, line, col, path, message)


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
