"""Write a deadline into the watch config, keeping the file as the user wrote it.

``notifier accept`` adds a deadline found in the news, or moves the ``due`` of a
tracked one. The file is the user's: its comments, key order, quoting, blank
lines and indentation must survive, and so must every ``${VAR}`` as written.

The flow::

    bytes ──UTF-8, ≤ 1 MB──▶ text ──ruamel compose (YAML 1.2, the loader's settings)──▶
    nodes with their start and end in the text ──locate──▶ where the new lines go,
    which spans change ──render (ruamel dump, the file's indentation)──▶ new text
    ──verify: the diff only adds lines (or changes the edited keys' lines), and the
    reloaded data is the old data plus exactly the change──▶ check(new text)
    ──▶ <name>.bak (the old bytes) ──▶ temp file, fsync, os.replace

Why a textual edit located by ruamel, not a ruamel round-trip dump: dumping
``config/watch.yaml`` after a round-trip load changes five lines the edit never
touched (the two flow lists written over two lines are joined; every unquoted
``due:`` gets quoted, because the loader reads timestamps as text), so a dump
would fail the "only added lines" check on the project's own example and on
every config with a date in it. Editing the text at the positions ruamel's
parser reports changes nothing else by construction; ruamel still renders the
new lines (quoting, escapes, indentation) and re-reads the result. Both checks
run on every edit; when one fails nothing is written
(:class:`~notifier.errors.ConfigEditError`, ``invalid``).

New string values are quoted whenever a YAML reader could take them for
something else (dates, numbers, ``yes``/``no`` of YAML 1.1, ``: ``, ``#``, a
leading ``*``, ``&``, ``!``...), and a ``${`` in them is written ``$${``: the
loader substitutes environment variables in values, and a headline from a feed
must never pull a secret into a reminder.
"""

from __future__ import annotations

import bisect
import contextlib
import difflib
import io
import os
import re
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from notifier.config.loader import MAX_BYTES, _plain, _TooBig, _yaml
from notifier.errors import ConfigEditError

__all__ = ["EditResult", "add_deadline", "deadline_snippet", "set_deadline"]

_KEY = "deadlines"
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
#: No line of the new text is ever folded: a long title stays on its line.
_WIDTH = 1 << 30
#: YAML 1.1 readers (and many editors' highlighters) take ``yes``, ``on``,
#: ``1:20`` or ``010`` for booleans and numbers: such strings are quoted too,
#: although the loader (YAML 1.2) would read them back as written.
_RESOLVER_11 = VersionedResolver(version=(1, 1))
#: What stays unquoted in a flow list: words of letters, digits and ``.@/+-``.
_FLOW_PLAIN = re.compile(r"[^\W_][\w.@/+-]*(?: [\w.@/+-]+)*")
_ALIAS_AFTER_KEY = re.compile(r"\s*:\s*\*[^\s,\[\]{}]+")


@dataclass(frozen=True, slots=True)
class EditResult:
    """What an edit wrote: the file (a symlink's target), its backup, the new text."""

    path: Path
    backup: Path
    text: str


def deadline_snippet(fields: Mapping[str, Any]) -> str:
    """The YAML of one item of ``deadlines:``, as a user would paste it.

    ``- name: x\\n  title: ...\\n``: at column 0, lists of plain values in flow
    style (``remind: [7d, 1d]``), strings quoted where needed. For the command
    to print when the file cannot be written (or to show what it wrote).
    """
    return _dump(CommentedSeq([_node(fields)]), _Indent(mapping=2, sequence=2, offset=0))


def add_deadline(
    path: Path,
    fields: Mapping[str, Any],
    *,
    check: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> EditResult:
    """Append the deadline ``fields`` to the top-level ``deadlines:`` list of ``path``.

    The new item goes after the last one (after comments indented into it, before
    the comments and keys that follow the list), indented like the file's lists,
    after a blank line when the items are separated by one. Without a
    ``deadlines`` key, one is added at the end of the file; ``deadlines: []`` and
    an empty ``deadlines:`` become a list. ``check`` receives the new text before
    anything is written: the config error it raises propagates, and nothing is
    written. ``now`` is accepted like every domain call's, nothing written
    depends on it yet.

    Raises :class:`ConfigEditError`: ``exists`` (a deadline of that name is
    there), ``invalid``, ``unreadable``, ``not_writable``.
    """
    del now
    name = fields.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigEditError("a deadline needs a name (a non-empty string)", reason="invalid")
    source = _Source.read(path)
    doc = _Document.parse(source)
    new_item = _node(fields)
    deadlines = doc.data.get(_KEY)
    if isinstance(deadlines, list) and any(
        isinstance(d, dict) and d.get("name") == name for d in deadlines
    ):
        raise ConfigEditError(
            f"{source.target}: a deadline named {name!r} is already there", reason="exists"
        )

    edits, allowed = doc.add(new_item)
    expected = dict(doc.data)
    expected[_KEY] = [*(deadlines if isinstance(deadlines, list) else []), _plain_of(new_item)]
    new_text = doc.apply(edits)
    _verify(source, doc.text, new_text, expected, allowed)
    return _commit(source, new_text, check)


def set_deadline(
    path: Path,
    name: str,
    changes: Mapping[str, Any],
    *,
    check: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> EditResult:
    """Set keys of the deadline ``name`` in ``path``, e.g. ``{"due": "2025-08-12"}``.

    A key already there keeps its place, its comment and its quotes (a quoted
    value stays quoted the same way); only its value's text changes. A new key
    goes after the deadline's last one. ``check`` and ``now`` are as for
    :func:`add_deadline`.

    Raises :class:`ConfigEditError`: ``not_found`` (no deadline of that name),
    ``exists`` (a rename to a name another deadline has), ``invalid``,
    ``unreadable``, ``not_writable``.
    """
    del now
    source = _Source.read(path)
    doc = _Document.parse(source)
    listed = doc.data.get(_KEY)
    deadlines: list[Any] = listed if isinstance(listed, list) else []
    found = [i for i, d in enumerate(deadlines) if isinstance(d, dict) and d.get("name") == name]
    if not found:
        raise ConfigEditError(f"{source.target}: no deadline named {name!r}", reason="not_found")
    if len(found) > 1:
        raise ConfigEditError(
            f"{source.target}: {len(found)} deadlines are named {name!r}; "
            "make the names unique first",
            reason="invalid",
        )
    new_name = changes.get("name", name)
    if new_name != name and any(
        isinstance(d, dict) and d.get("name") == new_name for d in deadlines
    ):
        raise ConfigEditError(
            f"{source.target}: a deadline named {new_name!r} is already there", reason="exists"
        )
    index = found[0]
    edits, allowed = doc.set(index, changes)
    expected = dict(doc.data)
    changed = dict(deadlines[index])
    changed.update(_plain_of(_node(changes)))
    expected[_KEY] = [*deadlines[:index], changed, *deadlines[index + 1 :]]
    new_text = doc.apply(edits)
    _verify(source, doc.text, new_text, expected, allowed)
    return _commit(source, new_text, check)


# --------------------------------------------------------------------------- the file


@dataclass(frozen=True, slots=True)
class _Source:
    """The file as read: its real path, its bytes, and its text without a BOM."""

    target: Path
    data: bytes
    text: str
    bom: bool

    @classmethod
    def read(cls, path: Path) -> _Source:
        # The target of a symlink is edited (the link stays a link); the temp
        # file and the backup go beside the target, so os.replace stays atomic.
        target = Path(os.path.realpath(path))
        try:
            with target.open("rb") as f:
                data = f.read(MAX_BYTES + 1)
        except OSError as e:
            why = e.strerror or type(e).__name__
            raise ConfigEditError(f"cannot read {path}: {why}", reason="unreadable") from e
        if len(data) > MAX_BYTES:
            raise ConfigEditError(
                f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB, the limit of a config",
                reason="unreadable",
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigEditError(
                f"{path} is not UTF-8 text; save it as UTF-8", reason="unreadable"
            ) from e
        bom = text.startswith("\ufeff")
        return cls(target, data, text.removeprefix("\ufeff"), bom)


def _commit(source: _Source, new_text: str, check: Callable[[str], None] | None) -> EditResult:
    """Check, keep the old bytes as ``<name>.bak``, then replace the file atomically."""
    if check is not None:
        check(new_text)
    target = source.target
    new_bytes = (("\ufeff" if source.bom else "") + new_text).encode("utf-8")
    if len(new_bytes) > MAX_BYTES:
        raise ConfigEditError(
            f"{target} would grow over the limit of a config ({MAX_BYTES:,} bytes)",
            reason="invalid",
        )
    backup = target.with_name(target.name + ".bak")
    if not os.access(target, os.W_OK) or not os.access(target.parent, os.W_OK | os.X_OK):
        raise ConfigEditError(
            f"cannot write {target}: the file or its folder is not writable", reason="not_writable"
        )
    try:
        st = os.stat(target)
        _replace(backup, source.data, st)
        _replace(target, new_bytes, st)
    except OSError as e:
        why = e.strerror or type(e).__name__
        raise ConfigEditError(f"cannot write {target}: {why}", reason="not_writable") from e
    return EditResult(target, backup, new_text)


def _replace(dest: Path, data: bytes, like: os.stat_result) -> None:
    """Write ``data`` to ``dest`` atomically, with the permissions (and owner) of ``like``.

    A crash leaves either the old file or the new one, never half of one; the
    permissions are copied because a config often holds secrets.
    """
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if (like.st_uid, like.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(OSError):  # only root may give a file away
                    os.fchown(f.fileno(), like.st_uid, like.st_gid)
            os.fchmod(f.fileno(), stat.S_IMODE(like.st_mode))
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself, durable (not on every system)
        folder = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _verify(
    source: _Source, old: str, new: str, expected: dict[str, Any], allowed: set[int]
) -> None:
    """Refuse an edit that changed an untouched line or does not read back as intended.

    ``allowed`` holds the (0-based) old lines the edit meant to change; every
    other old line must be in the new text, unchanged and in order.
    """
    old_lines, new_lines = old.split("\n"), new.split("\n")
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag in {"replace", "delete"} and not set(range(i1, i2)) <= allowed:
            raise ConfigEditError(
                f"cannot edit {source.target} safely: line {i1 + 1} would change; "
                "nothing was written; edit the file by hand",
                reason="invalid",
            )
    try:
        data = _plain(_yaml().load(new), [0], ())
    except (YAMLError, _TooBig) as e:
        raise ConfigEditError(
            f"cannot edit {source.target} safely: the result would not read back; "
            "nothing was written; edit the file by hand",
            reason="invalid",
        ) from e
    if data != expected:
        raise ConfigEditError(
            f"cannot edit {source.target} safely: the result would read back differently; "
            "nothing was written; edit the file by hand",
            reason="invalid",
        )


# --------------------------------------------------------------------------- locating


@dataclass(frozen=True, slots=True)
class _Indent:
    """ruamel's indentation: ``mapping`` per nested key, a list's items at
    ``sequence`` from their key, the dash at ``offset``."""

    mapping: int = 2
    sequence: int = 4
    offset: int = 2


#: (start, end, replacement) in the text.
_Edit = tuple[int, int, str]


class _Document:
    """The text with its ruamel nodes; works out the edits, applies them."""

    def __init__(self, source: _Source, root: MappingNode | None, data: dict[str, Any]) -> None:
        self.source = source
        self.text = source.text
        self.root = root
        self.data = data
        self.starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        self.newline = "\r\n" if "\r\n" in self.text else "\n"

    @classmethod
    def parse(cls, source: _Source) -> _Document:
        try:
            root = _yaml().compose(source.text)
            data = _plain(_yaml().load(source.text), [0], ())
        except (YAMLError, _TooBig) as e:
            raise ConfigEditError(
                f"{source.target} is not valid YAML; fix it first (notifier check)",
                reason="invalid",
            ) from e
        if root is None:
            return cls(source, None, {})
        if not isinstance(root, MappingNode) or root.flow_style or not isinstance(data, dict):
            raise ConfigEditError(
                f"{source.target}: the top level is not a block mapping (key: value lines)",
                reason="invalid",
            )
        return cls(source, root, data)

    # ---- positions

    def line(self, index: int) -> int:
        """The 0-based line holding the character at ``index``."""
        return bisect.bisect_right(self.starts, index) - 1

    def after_line(self, line: int) -> int:
        """The index where the line after ``line`` starts (the end of the text if none)."""
        return self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)

    def _line_text(self, line: int) -> str:
        return self.text[self.starts[line] : self.after_line(line)].rstrip("\r\n")

    def end(self, node: Node) -> int:
        """The index just past the last character of ``node``'s own text.

        A block collection ends where its last value ends (its end mark is the
        next token, past any comments); a block scalar without ``+`` ends at its
        last non-blank line.
        """
        while isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
            if isinstance(node, MappingNode):
                key, value = node.value[-1]
                if _empty(value) or value.start_mark.index < key.end_mark.index:
                    return self.value_end(key, value)
                node = value
            else:
                node = node.value[-1]
                if _empty(node):
                    raise ConfigEditError(
                        f"{self.source.target}: an empty list item; fill it in first",
                        reason="invalid",
                    )
        end: int = node.end_mark.index
        start: int = node.start_mark.index
        if isinstance(node, ScalarNode) and node.style in {"|", ">"}:
            header = re.match(r"[|>][0-9+-]*", self.text[start:])
            if header and "+" in header.group():
                return end  # "keep": its trailing blank lines are part of the value
        while end > start and self.text[end - 1] in " \t\r\n":
            end -= 1
        return end

    def value_end(self, key: Node, value: Node) -> int:
        """The end of ``value`` written after ``key`` (an empty value or an alias: on
        the key's line; the node's own marks are elsewhere)."""
        if _empty(value):
            colon = self.text.find(":", key.end_mark.index)
            return colon + 1
        if value.start_mark.index < key.end_mark.index:  # an alias: the anchor is earlier
            alias = _ALIAS_AFTER_KEY.match(self.text, key.end_mark.index)
            if alias is None:
                raise ConfigEditError(
                    f"{self.source.target}: cannot find the end of {key.value!r}",
                    reason="invalid",
                )
            return alias.end()
        return self.end(value)

    def insertion_point(self, item: Node, dash_column: int) -> int:
        """Where text after ``item`` goes: past its last line and the comment lines
        right below indented into it (about it), before anything else."""
        line = self.line(self.end(item) - 1)
        while line + 1 < len(self.starts):
            below = self._line_text(line + 1)
            if not below.lstrip().startswith("#") or _indent_of(below) <= dash_column:
                break
            line += 1
        return self.after_line(line)

    def indent(self, deadlines: SequenceNode | None) -> _Indent:
        """The file's indentation: ``deadlines``' own if it has items, else the first
        block list's and the first nested block mapping's; else 2, 4, 2 (the example's)."""
        mapping: int | None = None
        seq: tuple[int, int] | None = None
        queue: list[Node] = [self.root] if self.root is not None else []
        while queue and (mapping is None or seq is None):
            node = queue.pop(0)
            if isinstance(node, SequenceNode):
                queue.extend(node.value)
            if not isinstance(node, MappingNode) or node.flow_style:
                continue
            for key, value in node.value:
                column = key.start_mark.column
                if _is_block(value, MappingNode) and mapping is None:
                    step = value.start_mark.column - column
                    mapping = step if step > 0 else None
                if _is_block(value, SequenceNode) and seq is None:
                    seq = _seq_indent(key, value)
                queue.append(value)
        if deadlines is not None and _is_block(deadlines, SequenceNode):
            key = next(k for k, v in self.root.value if v is deadlines) if self.root else None
            if key is not None:
                seq = _seq_indent(key, deadlines) or seq
        offset, sequence = seq or (2, 4)
        return _Indent(mapping=mapping or 2, sequence=sequence, offset=offset)

    def deadlines(self) -> tuple[ScalarNode, Node] | None:
        """The top-level ``deadlines`` key and its value."""
        if self.root is None:
            return None
        for key, value in self.root.value:
            if isinstance(key, ScalarNode) and key.value == _KEY:
                return key, value
        return None

    # ---- edits

    def add(self, item: CommentedMap) -> tuple[list[_Edit], set[int]]:
        """The edits appending ``item`` to ``deadlines`` and the old lines they change."""
        found = self.deadlines()
        target = self.source.target
        if found is None:
            indent = self.indent(None)
            column = self.root.start_mark.column if self.root is not None else 0
            text = _dump(CommentedMap({_KEY: [item]}), indent)
            block = _shift(text, column, self.newline)
            before = self._line_break_at_end()
            lines = self.text.split("\n")
            last = lines[-2] if self.text.endswith("\n") and len(lines) > 1 else lines[-1]
            if last.strip():
                before += self.newline  # a blank line before the new section
            return [(len(self.text), len(self.text), before + block)], set()

        key, value = found
        indent = self.indent(value if isinstance(value, SequenceNode) else None)
        column = key.start_mark.column
        rendered = _dump(CommentedMap({_KEY: [item]}), indent).split("\n", 1)[1]
        block = _shift(rendered, column, self.newline)
        if isinstance(value, SequenceNode) and _is_block(value, SequenceNode):
            items = value.value
            dash = value.start_mark.column
            at = self.insertion_point(items[-1], dash)
            before = self._line_break_at_end() if at == len(self.text) else ""
            if len(items) >= 2 and self._blank_between(self.end(items[-2]), items[-1]):
                before += self.newline
            return [(at, at, before + block)], set()
        empty_flow = isinstance(value, SequenceNode) and value.flow_style and not value.value
        null = isinstance(value, ScalarNode) and value.tag == _NULL
        if not (empty_flow or null):
            raise ConfigEditError(
                f"{target}: 'deadlines' is not written as a block list (one '- name: ...' "
                "item a line); rewrite it so, or add the deadline by hand",
                reason="invalid",
            )
        key_line = self.line(key.start_mark.index)
        edits: list[_Edit] = []
        allowed: set[int] = set()
        if not _empty(value):  # `deadlines: []` or `deadlines: ~`: the value goes
            start, end = value.start_mark.index, value.end_mark.index
            if self.line(start) != key_line or self.line(end - 1) != key_line:
                raise ConfigEditError(
                    f"{target}: 'deadlines' spans several lines; add the deadline by hand",
                    reason="invalid",
                )
            while start > 0 and self.text[start - 1] in " \t":
                start -= 1  # `deadlines:   # comment` keeps the comment's own spacing
            edits.append((start, end, ""))
            allowed.add(key_line)
        at = self.after_line(key_line)
        before = self._line_break_at_end() if at == len(self.text) else ""
        edits.append((at, at, before + block))
        return edits, allowed

    def set(self, index: int, changes: Mapping[str, Any]) -> tuple[list[_Edit], set[int]]:
        """The edits setting ``changes`` in deadline ``index``, and the old lines they change."""
        found = self.deadlines()
        target = self.source.target
        seq = found[1] if found is not None else None
        item = seq.value[index] if isinstance(seq, SequenceNode) else None
        if (
            not isinstance(seq, SequenceNode)
            or not isinstance(item, MappingNode)
            or item.flow_style
            or not item.value
        ):
            raise ConfigEditError(
                f"{target}: the deadline is not written as a block mapping "
                "(one 'key: value' a line); change it by hand",
                reason="invalid",
            )
        indent = self.indent(seq)
        column = item.start_mark.column
        keys = {k.value: (k, v) for k, v in item.value if isinstance(k, ScalarNode)}
        edits: list[_Edit] = []
        allowed: set[int] = set()
        new: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in keys:
                new[name] = value
                continue
            key, old = keys[name]
            node = _node(value, like=old if isinstance(old, ScalarNode) else None)
            pair = _dump(CommentedMap({name: node}), indent)
            end = self.value_end(key, old)
            prefix = f"{name}: "
            single = pair.count("\n") == 1 and pair.startswith(prefix)
            in_place = (
                single
                and not _empty(old)
                and key.end_mark.index <= old.start_mark.index
                and self.line(old.start_mark.index) == self.line(end - 1)
                and not (isinstance(old, ScalarNode) and old.style in {"|", ">"})
            )
            if in_place:
                start, text = old.start_mark.index, pair[len(prefix) :].rstrip("\n")
            else:
                start = key.start_mark.index
                text = _shift(pair, column, self.newline)[column:].rstrip("\r\n")
            edits.append((start, end, text))
            allowed.update(range(self.line(start), self.line(max(start, end - 1)) + 1))
        if new:
            at = self.insertion_point(item, seq.start_mark.column)
            block = _shift(
                _dump(CommentedMap({k: _node(v) for k, v in new.items()}), indent),
                column,
                self.newline,
            )
            before = self._line_break_at_end() if at == len(self.text) else ""
            edits.append((at, at, before + block))
        return edits, allowed

    def apply(self, edits: list[_Edit]) -> str:
        """The text with ``edits`` made (they never overlap)."""
        text = self.text
        for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
            text = text[:start] + replacement + text[end:]
        return text

    def _line_break_at_end(self) -> str:
        """What ends the last line before text is added after it."""
        return self.newline if self.text and not self.text.endswith("\n") else ""

    def _blank_between(self, end: int, item: Node) -> bool:
        first, last = self.line(end - 1) + 1, self.line(item.start_mark.index)
        return any(not self._line_text(n).strip() for n in range(first, last))


def _empty(node: Node) -> bool:
    """An empty value (``key:`` and nothing): its marks point at the next token."""
    return (
        isinstance(node, ScalarNode) and node.value == "" and not node.style and node.tag == _NULL
    )


def _is_block(node: Node, kind: type[MappingNode | SequenceNode]) -> bool:
    """A non-empty block (not ``[...]``/``{...}``) collection of ``kind``."""
    return isinstance(node, kind) and not node.flow_style and bool(node.value)


def _seq_indent(key: Node, seq: Node) -> tuple[int, int] | None:
    """``(offset, sequence)`` of a block list under ``key``, if ruamel can write it so."""
    column = key.start_mark.column
    offset = seq.start_mark.column - column
    sequence = seq.value[0].start_mark.column - column
    if offset < 0 or sequence < offset + 2:
        return None
    return offset, sequence


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _shift(text: str, column: int, newline: str) -> str:
    """``text`` (ruamel's output, ``\\n`` line ends) moved right by ``column`` spaces."""
    pad = " " * column
    lines = text.split("\n")
    body = [pad + line if line else line for line in lines[:-1]]
    return newline.join(body) + newline if body else ""


# --------------------------------------------------------------------------- rendering


class _Emitter(RoundTripEmitter):
    """Quotes with ``"`` where ruamel would pick ``'`` on its own (as the example
    config does); a value that was single-quoted in the file stays so."""

    def choose_scalar_style(self) -> Any:
        style = super().choose_scalar_style()
        if style == "'" and self.event.style != "'":
            return '"'
        return style


def _dump(data: Any, indent: _Indent) -> str:
    yaml = YAML(typ="rt", pure=True)
    yaml.Emitter = _Emitter
    yaml.width = _WIDTH
    yaml.allow_unicode = True
    yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _node(value: Any, like: ScalarNode | None = None, *, flow: bool = False) -> Any:
    """``value`` as ruamel data that dumps the way a user would write it."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _string(value, like, flow=flow)
    if isinstance(value, Mapping):
        out = CommentedMap()
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigEditError(f"a key must be a string, not {key!r}", reason="invalid")
            out[key] = _node(item)
        return out
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_node(item, flow=True) for item in value)
        if all(not isinstance(item, Mapping | list | tuple) for item in value):
            seq.fa.set_flow_style()
        return seq
    raise ConfigEditError(
        f"cannot write a {type(value).__name__} into the config: {value!r}", reason="invalid"
    )


def _string(value: str, like: ScalarNode | None, *, flow: bool = False) -> Any:
    """A string that reads back as ``value``: quoted if a reader could take it for
    anything else, ``${`` written ``$${``, several lines as a ``|`` block.

    In a flow list only plain words stay unquoted (``[7d, 1d]``): ruamel writes
    ``? x`` plain there, which reads back as a mapping.
    """
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ConfigEditError(f"not valid Unicode text: {value!r}", reason="invalid")
    text = value.replace("${", "$${")
    if like is not None and like.style == "'" and "\n" not in text and text.isprintable():
        return SingleQuotedScalarString(text)
    if like is not None and like.style == '"':
        return DoubleQuotedScalarString(text)
    if "\n" in text and _literal_fits(text):
        return LiteralScalarString(text)
    if _RESOLVER_11.resolve(ScalarNode, text, (True, False)) != _STR or (
        flow and not _FLOW_PLAIN.fullmatch(text)
    ):
        return DoubleQuotedScalarString(text)
    return text


def _literal_fits(text: str) -> bool:
    """Whether a ``|`` block reads back exactly ``text`` (else it is double-quoted)."""
    lines = text.split("\n")
    return (
        bool(lines[0])
        and not text[0].isspace()
        and not text.endswith("\n\n")
        and all(line.isprintable() and line == line.rstrip() for line in lines)
    )


def _plain_of(node: Any) -> Any:
    """The data the loader reads back from ``node`` once written."""
    return _plain(node, [0], ())
