"""``notifier.config.edit``: a deadline written into the user's watch config, every
other line kept as written; the write is checked, backed up, atomic."""

from __future__ import annotations

import difflib
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from notifier.config import loader
from notifier.config.edit import add_deadline, deadline_snippet, set_deadline
from notifier.errors import ConfigEditError, ConfigError, Problem
from tests.conftest import EXAMPLE

PAUSE: dict[str, Any] = {
    "name": "pause-expiry",
    "title": "90-day pause expires",
    "due": "2025-07-01",
    "remind": ["7d", "1d"],
    "severity": "high",
    "notes": "Window: 1–10 July 2025. Found in: ...",
}

PAUSE_ITEM = """\
  - name: pause-expiry
    title: 90-day pause expires
    due: "2025-07-01"
    remind: [7d, 1d]
    severity: high
    notes: "Window: 1–10 July 2025. Found in: ..."
"""

#: Mapping indent 2, sequence 4, dash offset 2 (the example's style), with comments
#: everywhere one can be: top of file, after values, between items, after the last
#: item, and a top-level key after the list.
INDENTED = """\
# The trade desk's deadlines.
timezone: Europe/London  # the desk's zone

channels:
  desk: ["console://"]

deadlines:
  # The first one.
  - name: first
    title: First deadline  # from the Federal Register
    due: 2025-07-01   # the pause ends
    remind: [7d, 1d]

  # Between items.
  - name: second
    title: 'Second: quoted'
    due: "2025-08-01T17:00"
    notes: >-
      Folded text
      over two lines.
    # about the notes above

  # After the last item: a commented-out one.
  # - name: third

# The texts.
templates:
  reminder:
    title: "{{ title }}"
"""

#: The same file in the zero-offset style (``- name`` under the key's first column).
FLUSH = """\
# The trade desk's deadlines.
timezone: Europe/London  # the desk's zone

channels:
  desk: ["console://"]

deadlines:
# The first one.
- name: first
  title: First deadline  # from the Federal Register
  due: 2025-07-01   # the pause ends
  remind: [7d, 1d]

# Between items.
- name: second
  title: 'Second: quoted'
  due: "2025-08-01T17:00"
  notes: >-
    Folded text
    over two lines.
  # about the notes above

# After the last item: a commented-out one.
# - name: third

# The texts.
templates:
  reminder:
    title: "{{ title }}"
"""

STYLES = {"indented": (INDENTED, "  "), "flush": (FLUSH, "")}

THIRD: dict[str, Any] = {"name": "third", "title": "Third", "due": "2025-09-01T09:30"}


def _write(tmp_path: Path, text: str, name: str = "watch.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _opcodes(old: str, new: str) -> list[tuple[str, list[str], list[str]]]:
    """The non-equal blocks of a line diff: (tag, old lines, new lines)."""
    a, b = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(t, a[i1:i2], b[j1:j2]) for t, i1, i2, j1, j2 in matcher.get_opcodes() if t != "equal"]


def _only_added(old: str, new: str) -> list[str]:
    """The lines ``new`` adds to ``old``; fails if any line of ``old`` changed or went."""
    blocks = _opcodes(old, new)
    assert all(tag == "insert" for tag, _, _ in blocks), blocks
    return [line for _, _, added in blocks for line in added]


def _rt_load(text: str) -> Any:
    return YAML(typ="rt", pure=True).load(text)


def _load_config(path: Path) -> Any:
    return loader.load(path, environ={})


# --------------------------------------------------------------------------- the example


def test_add_to_the_example_only_adds_lines_and_still_loads(tmp_path: Path) -> None:
    """Adding to ``config/watch.yaml`` leaves every line as written and in order; the
    item comes after the last deadline, after a blank line like the others, and the
    project's loader reads the new deadline."""
    path = tmp_path / "watch.yaml"
    shutil.copy(EXAMPLE, path)
    old = path.read_bytes()

    result = add_deadline(path, PAUSE)

    text = path.read_text(encoding="utf-8")
    assert result.text == text
    added_lines = _only_added(old.decode(), text)
    assert [line for line in added_lines if line] == PAUSE_ITEM.splitlines()
    assert added_lines.count("") == 1  # the one blank line that separates items
    # right after the last deadline (the example's commented `brief:` block follows it)
    last = "A date alone means 00:00 that day.\n"
    assert text.replace(last + "\n" + PAUSE_ITEM, last, 1) == old.decode()
    assert result.backup == tmp_path / "watch.yaml.bak"
    assert result.backup.read_bytes() == old
    config = _load_config(path)
    added = config.deadlines[-1]
    assert (added.name, added.title, added.severity) == ("pause-expiry", PAUSE["title"], "high")
    assert added.notes == PAUSE["notes"]
    assert added.due.date().isoformat() == "2025-07-01"


def test_set_due_in_the_example_changes_only_that_line(tmp_path: Path) -> None:
    """Moving a tracked deadline's ``due`` changes its ``due:`` line and nothing else."""
    path = tmp_path / "watch.yaml"
    shutil.copy(EXAMPLE, path)
    old = path.read_text(encoding="utf-8")

    set_deadline(path, "us-china-geneva-truce", {"due": "2025-11-10"})

    new = path.read_text(encoding="utf-8")
    assert _opcodes(old, new) == [("replace", ["    due: 2025-08-12"], ['    due: "2025-11-10"'])]
    truce = next(d for d in _load_config(path).deadlines if d.name == "us-china-geneva-truce")
    assert truce.due.date().isoformat() == "2025-11-10"


def test_snippet_is_an_item_to_paste() -> None:
    """The snippet is one list item at column 0, lists in flow style, dates quoted."""
    assert (
        deadline_snippet(PAUSE)
        == "\n".join(line.removeprefix("  ") for line in PAUSE_ITEM.splitlines()) + "\n"
    )
    assert _rt_load(deadline_snippet(PAUSE)) == [PAUSE]


# --------------------------------------------------------------------------- adding


@pytest.mark.parametrize("style", STYLES)
def test_add_goes_after_the_last_item_in_the_files_style(tmp_path: Path, style: str) -> None:
    """In both indent styles the new item is indented like the others, after the last
    item and the comment indented into it, before the comments that follow the list
    and the next key; items separated by a blank line get one too."""
    text, pad = STYLES[style]
    path = _write(tmp_path, text)

    add_deadline(path, THIRD)

    anchor = f"{pad}  # about the notes above\n"
    item = f"\n{pad}- name: third\n{pad}  title: Third\n{pad}  due: 2025-09-01T09:30\n"
    assert path.read_text(encoding="utf-8") == text.replace(anchor, anchor + item)
    assert [d.name for d in _load_config(path).deadlines] == ["first", "second", "third"]


@pytest.mark.parametrize("style", STYLES)
def test_add_keeps_comments_quotes_and_order(tmp_path: Path, style: str) -> None:
    """Every comment, quote and key of the file is still there, unchanged, in order."""
    text, _ = STYLES[style]
    path = _write(tmp_path, text)
    add_deadline(path, THIRD)
    added = _only_added(text, path.read_text(encoding="utf-8"))
    assert len(added) == 4


def test_items_without_blank_lines_get_none(tmp_path: Path) -> None:
    """Items written one after the other stay so: no blank line is added."""
    text = (
        "deadlines:\n"
        "  - name: a\n    title: A\n    due: 2025-01-01\n"
        "  - name: b\n    title: B\n    due: 2025-01-02\n"
    )
    path = _write(tmp_path, text)
    add_deadline(path, THIRD)
    assert _only_added(text, path.read_text(encoding="utf-8"))[0] == "  - name: third"


@pytest.mark.parametrize(
    ("line", "becomes", "changed"),
    [
        ("deadlines: []", "deadlines:", True),
        ("deadlines: []   # none yet", "deadlines:   # none yet", True),
        ("deadlines: ~", "deadlines:", True),
        ("deadlines: null  # later", "deadlines:  # later", True),
        ("deadlines:", "deadlines:", False),
    ],
)
def test_add_to_an_empty_list(tmp_path: Path, line: str, becomes: str, changed: bool) -> None:
    """``deadlines: []`` or an empty ``deadlines:`` becomes a block list; only that line
    changes (its comment kept), and not at all when it has no value."""
    text = f'# top\nchannels:\n  desk: ["console://"]\n{line}\n# the end\n'
    path = _write(tmp_path, text)

    add_deadline(path, THIRD)

    new = path.read_text(encoding="utf-8")
    item = ["  - name: third", "    title: Third", "    due: 2025-09-01T09:30"]
    if changed:
        assert _opcodes(text, new) == [("replace", [line], [becomes, *item])]
    else:
        assert _only_added(text, new) == item
    assert [d.name for d in _load_config(path).deadlines] == ["third"]


def test_add_to_an_empty_list_in_the_zero_offset_style(tmp_path: Path) -> None:
    """With no item to copy, the indentation comes from the file's other lists."""
    text = "channels:\n  desk:\n  - console://\ndeadlines: []\n"
    path = _write(tmp_path, text)
    add_deadline(path, THIRD)
    assert path.read_text(encoding="utf-8").endswith(
        "deadlines:\n- name: third\n  title: Third\n  due: 2025-09-01T09:30\n"
    )


@pytest.mark.parametrize("end", ["\n", "", "\n\n"])
def test_add_without_a_deadlines_key(tmp_path: Path, end: str) -> None:
    """Without ``deadlines``, the key is added at the end of the file, after a blank
    line, whether or not the file ended with a line break."""
    text = '# top\nchannels:\n  desk: ["console://"]  # the console' + end
    path = _write(tmp_path, text)

    add_deadline(path, THIRD)

    new = path.read_text(encoding="utf-8")
    assert new == text.rstrip("\n") + "\n\n" + (
        "deadlines:\n  - name: third\n    title: Third\n    due: 2025-09-01T09:30\n"
    )
    assert _only_added(text, new)[-4] == "deadlines:"


def test_add_to_an_empty_file(tmp_path: Path) -> None:
    """An empty file gets the ``deadlines`` key and nothing before it."""
    path = _write(tmp_path, "")
    result = add_deadline(path, THIRD)
    assert (
        result.text == "deadlines:\n  - name: third\n    title: Third\n    due: 2025-09-01T09:30\n"
    )


def test_a_name_already_there_is_refused(tmp_path: Path) -> None:
    """A deadline of that name: ``exists``, and nothing written, no backup."""
    path = _write(tmp_path, INDENTED)
    with pytest.raises(ConfigEditError) as caught:
        add_deadline(path, {**THIRD, "name": "second"})
    assert caught.value.reason == "exists"
    assert path.read_text(encoding="utf-8") == INDENTED
    assert not (tmp_path / "watch.yaml.bak").exists()


def test_crlf_files_keep_their_line_ends(tmp_path: Path) -> None:
    """A file with CRLF line ends gets CRLF in the new lines too."""
    text = INDENTED.replace("\n", "\r\n")
    path = _write(tmp_path, text)
    add_deadline(path, THIRD)
    new = path.read_bytes().decode()
    assert new.count("\n") == new.count("\r\n")
    _only_added(text, new)


def test_a_byte_order_mark_is_kept(tmp_path: Path) -> None:
    """A file saved with a UTF-8 BOM keeps it."""
    path = tmp_path / "watch.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + INDENTED.encode())
    add_deadline(path, THIRD)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf# The trade desk")
    assert [d.name for d in _load_config(path).deadlines][-1] == "third"


def test_chinese_titles_and_comments(tmp_path: Path) -> None:
    """Chinese comments stay, and a Chinese title is written as text, not escapes."""
    text = (
        "# 中美贸易的截止日期\n"
        "deadlines:\n  - name: a  # 第一个\n    title: 稀土出口管制\n    due: 2025-01-01\n"
    )
    path = _write(tmp_path, text)
    fields = {"name": "b", "title": "中美日内瓦关税休战结束：90 天", "due": "2025-08-12"}

    add_deadline(path, fields)

    new = path.read_text(encoding="utf-8")
    assert _only_added(text, new) == [
        "  - name: b",
        f"    title: {fields['title']}",
        '    due: "2025-08-12"',
    ]
    assert _rt_load(new)["deadlines"][-1] == fields


def test_env_references_stay_and_new_text_never_reads_the_environment(tmp_path: Path) -> None:
    """``${VAR}`` in the file is kept as written; a ``${`` in a new value is written
    ``$${`` so that the loader reads the text back, never an environment variable
    (a headline must not pull a secret into a reminder)."""
    text = 'channels:\n  desk: ["json://${HOOK_HOST:-localhost}/x"]\ndeadlines: []\n'
    path = _write(tmp_path, text)

    add_deadline(path, {**THIRD, "title": "Costs ${SECRET} and $${X}"})

    new = path.read_text(encoding="utf-8")
    assert 'desk: ["json://${HOOK_HOST:-localhost}/x"]' in new
    config = loader.load(path, environ={"SECRET": "hunter2"})
    assert config.deadlines[0].title == "Costs ${SECRET} and $${X}"


# --------------------------------------------------------------------------- quoting

TRICKY = [
    "2025-07-01",
    "2025-07-01T17:00",
    "2025-07-01 17:00",
    "a: b",
    "# not a comment",
    "x #y",
    "*alias",
    "&anchor",
    "!tag",
    "%directive",
    "@at",
    "`tick",
    "|",
    ">",
    "- dash",
    "? question",
    "[x]",
    "{y}",
    "a, b",
    "YES",
    "NO",
    "no",
    "on",
    "Off",
    "y",
    "null",
    "~",
    "",
    " leading",
    "trailing ",
    "1e3",
    "0x1F",
    "0o17",
    "1:20",
    "010",
    ".5",
    "12",
    "true",
    "it's",
    'say "hi"',
    "back\\slash",
    "tab\there",
    "two\nlines",
    "ends with a break\n",
    "\nstarts with one",
    "three\n\n\nbreaks",
    "kept\n\n",
    "line  \ntrailing spaces",
    "bell\a and nul\x00",
    "\u2028separator",
    "bom\ufeffin the middle",
    "emoji 🎉 and 中文",
    "---",
    "...",
    "a" * 300,
]


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_strings_read_back_as_given(tmp_path: Path, value: str) -> None:
    """Strings a reader could take for a date, number, boolean, comment, alias, tag
    or flow syntax are quoted: the written file reads back exactly the fields, in a
    value, in a list (flow style) and in a nested mapping."""
    path = _write(tmp_path, INDENTED)
    fields = {
        "name": "tricky",
        "title": value,
        "due": "2025-09-01",
        "remind": [value, "1d"],
        "templates": {"reminder": {"title": value}},
    }

    add_deadline(path, fields)

    new = path.read_text(encoding="utf-8")
    _only_added(INDENTED, new)
    assert _rt_load(new)["deadlines"][-1] == fields
    assert _rt_load(deadline_snippet(fields)) == [fields]


def test_values_of_every_type_read_back(tmp_path: Path) -> None:
    """Booleans, numbers, lists and mappings are written as such."""
    path = _write(tmp_path, INDENTED)
    fields = {
        **THIRD,
        "at_due": False,
        "count": 3,
        "ratio": 0.5,
        "after": [],
        "channels": ["desk"],
        "nested": {"a": [1, 2], "b": {"c": True}},
    }
    add_deadline(path, fields)
    assert _rt_load(path.read_text(encoding="utf-8"))["deadlines"][-1] == fields


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=st.text(st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1))
def test_any_printable_title_round_trips(title: str) -> None:
    """Any printable title is read back by the project's loader exactly as given."""
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), 'channels:\n  desk: ["console://"]\ndeadlines: []\n')
        add_deadline(path, {**THIRD, "title": title})
        raw = _rt_load(path.read_text(encoding="utf-8"))["deadlines"][0]["title"]
        assert loader.substitute(raw, {})[0] == title


@settings(max_examples=60, deadline=None)
@given(title=st.text(st.characters(exclude_categories=["Cs"])))
def test_any_text_round_trips_or_nothing_is_written(title: str) -> None:
    """Any text at all, control characters included, is either written so that it
    reads back as given, or refused (``invalid``) with the file untouched."""
    text = "deadlines:\n  - name: a\n    title: A\n    due: 2025-01-01\n"
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), text)
        try:
            add_deadline(path, {**THIRD, "title": title})
        except ConfigEditError as e:
            refused: ConfigEditError | None = e
        else:
            refused = None
        if refused is not None:
            assert refused.reason == "invalid"
            assert path.read_text(encoding="utf-8") == text
            return
        new = path.read_text(encoding="utf-8")
        _only_added(text, new)
        raw = _rt_load(new)["deadlines"][-1]["title"]
        assert loader.substitute(raw, {})[0] == title


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=12), max_size=4),
    nested=st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
)
def test_lists_and_mappings_of_any_text_read_back(items: list[str], nested: str) -> None:
    """Text in a flow list or a nested mapping reads back as given (or is refused
    with the file untouched, never written wrong); ``$${`` aside, exactly."""
    text = "deadlines: []\n"
    fields = {**THIRD, "remind": items, "templates": {"reminder": {"title": nested}}}
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), text)
        try:
            add_deadline(path, fields)
        except ConfigEditError as e:
            refused: ConfigEditError | None = e
        else:
            refused = None
        if refused is not None:
            assert refused.reason == "invalid"
            assert path.read_text(encoding="utf-8") == text
            return
        item = _rt_load(path.read_text(encoding="utf-8"))["deadlines"][0]
        assert [loader.substitute(v, {})[0] for v in item["remind"]] == items
        assert loader.substitute(item["templates"]["reminder"]["title"], {})[0] == nested


# --------------------------------------------------------------------------- setting


@pytest.mark.parametrize("style", STYLES)
def test_set_keeps_the_lines_comment_and_quotes(tmp_path: Path, style: str) -> None:
    """A changed value keeps the comment after it on its line, and a quoted value
    keeps its quotes; no other line changes."""
    text, pad = STYLES[style]
    path = _write(tmp_path, text)

    set_deadline(path, "first", {"due": "2025-07-15"})
    set_deadline(path, "second", {"title": "Second: moved", "due": "2025-08-02"})

    assert _opcodes(text, path.read_text(encoding="utf-8")) == [
        (
            "replace",
            [f"{pad}  due: 2025-07-01   # the pause ends"],
            [f'{pad}  due: "2025-07-15"   # the pause ends'],
        ),
        (
            "replace",
            [f"{pad}  title: 'Second: quoted'", f'{pad}  due: "2025-08-01T17:00"'],
            [f"{pad}  title: 'Second: moved'", f'{pad}  due: "2025-08-02"'],
        ),
    ]


@pytest.mark.parametrize("style", STYLES)
def test_set_adds_new_keys_at_the_end_of_the_deadline(tmp_path: Path, style: str) -> None:
    """A key the deadline does not have goes after its last one (and the comment
    indented into it); a multi-line value replaces only that key's lines."""
    text, pad = STYLES[style]
    path = _write(tmp_path, text)

    set_deadline(
        path, "second", {"notes": "First line\nsecond line", "remind": ["2d"], "at_due": False}
    )

    new = path.read_text(encoding="utf-8")
    assert _opcodes(text, new) == [
        (
            "replace",
            [f"{pad}  notes: >-", f"{pad}    Folded text", f"{pad}    over two lines."],
            [f"{pad}  notes: |-", f"{pad}    First line", f"{pad}    second line"],
        ),
        ("insert", [], [f"{pad}  remind: [2d]", f"{pad}  at_due: false"]),
    ]
    second = _load_config(path).deadlines[1]
    assert (second.notes, second.at_due) == ("First line\nsecond line", False)
    assert [line for line in new.splitlines() if "about the notes" in line] == [
        f"{pad}  # about the notes above"
    ]
    assert new.index("# about the notes above") < new.index("remind: [2d]")


def test_set_an_empty_value_and_a_list(tmp_path: Path) -> None:
    """An empty value (``notes:``) and a flow list are replaced in place."""
    text = (
        "deadlines:\n  - name: a\n    title: A\n"
        "    notes:\n    remind: [1d]  # soon\n    due: 2025-01-01\n"
    )
    path = _write(tmp_path, text)
    set_deadline(path, "a", {"notes": "now set", "remind": ["7d", "1d"]})
    assert _opcodes(text, path.read_text(encoding="utf-8")) == [
        (
            "replace",
            ["    notes:", "    remind: [1d]  # soon"],
            ["    notes: now set", "    remind: [7d, 1d]  # soon"],
        )
    ]


def test_rename_to_a_name_that_exists_is_refused(tmp_path: Path) -> None:
    """A rename onto another deadline's name: ``exists``."""
    path = _write(tmp_path, INDENTED)
    with pytest.raises(ConfigEditError) as caught:
        set_deadline(path, "first", {"name": "second"})
    assert caught.value.reason == "exists"


def test_rename_keeps_the_dash(tmp_path: Path) -> None:
    """The first key of an item shares its line with the dash: a rename keeps it."""
    path = _write(tmp_path, INDENTED)
    set_deadline(path, "first", {"name": "premier"})
    assert _opcodes(INDENTED, path.read_text(encoding="utf-8")) == [
        ("replace", ["  - name: first"], ["  - name: premier"])
    ]


@pytest.mark.parametrize(
    "text", [INDENTED, 'channels:\n  desk: ["console://"]\n', "deadlines: []\n"]
)
def test_set_an_unknown_name(tmp_path: Path, text: str) -> None:
    """No deadline of that name (or none at all): ``not_found``, nothing written."""
    path = _write(tmp_path, text)
    with pytest.raises(ConfigEditError) as caught:
        set_deadline(path, "nope", {"due": "2025-01-01"})
    assert caught.value.reason == "not_found"
    assert "'nope'" in str(caught.value)
    assert path.read_text(encoding="utf-8") == text


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("deadlines: [{name: a, title: A, due: 2025-01-01}]\n", "invalid"),
        ("deadlines: {name: a}\n", "invalid"),
        ("- a\n- b\n", "invalid"),
        ("{deadlines: []}\n", "invalid"),
        ("deadlines:\n  - name: a\n  title: broken\n", "invalid"),
        ("a: 1\na: 2\n", "invalid"),
    ],
)
def test_files_that_cannot_be_edited(tmp_path: Path, text: str, reason: str) -> None:
    """A file that is not valid YAML, not a block mapping, or whose deadlines are in
    flow style is refused and left as it is."""
    path = _write(tmp_path, text)
    with pytest.raises(ConfigEditError) as caught:
        add_deadline(path, THIRD)
    assert caught.value.reason == reason
    assert path.read_text(encoding="utf-8") == text


def test_unreadable_files(tmp_path: Path) -> None:
    """Missing, not UTF-8, or over the loader's 1 MB: ``unreadable``, with the file named."""
    cases = {
        tmp_path / "missing.yaml": None,
        tmp_path / "latin1.yaml": "title: café\n".encode("latin-1"),
        tmp_path / "big.yaml": b"# " + b"x" * loader.MAX_BYTES + b"\n",
    }
    for path, data in cases.items():
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(ConfigEditError) as caught:
            add_deadline(path, THIRD)
        assert caught.value.reason == "unreadable"
        assert path.name in str(caught.value)


def test_fields_that_cannot_be_written(tmp_path: Path) -> None:
    """A missing name, a value of another type, a lone surrogate: ``invalid``."""
    path = _write(tmp_path, INDENTED)
    for fields in (
        {"title": "no name"},
        {**THIRD, "due": object()},
        {**THIRD, "title": "bad \udc80"},
        {**THIRD, "templates": {1: "x"}},
    ):
        with pytest.raises(ConfigEditError) as caught:
            add_deadline(path, fields)
        assert caught.value.reason == "invalid"
    assert path.read_text(encoding="utf-8") == INDENTED


# --------------------------------------------------------------------------- the write


def test_a_failing_check_writes_nothing(tmp_path: Path) -> None:
    """``check`` sees the new text; the ConfigError it raises propagates unchanged,
    and neither the file nor an old backup is touched."""
    path = _write(tmp_path, INDENTED)
    backup = _write(tmp_path, "the old backup\n", "watch.yaml.bak")
    seen: list[str] = []
    error = ConfigError([Problem("watch.yaml", 1, 1, "deadlines[2]", "no")])

    def check(text: str) -> None:
        seen.append(text)
        raise error

    with pytest.raises(ConfigError) as caught:
        add_deadline(path, THIRD, check=check)

    assert caught.value is error
    assert "- name: third" in seen[0]
    assert path.read_text(encoding="utf-8") == INDENTED
    assert backup.read_text(encoding="utf-8") == "the old backup\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watch.yaml", "watch.yaml.bak"]


def test_a_failing_check_leaves_no_backup(tmp_path: Path) -> None:
    """Without an earlier backup, a refused edit creates none."""
    path = _write(tmp_path, INDENTED)

    def check(text: str) -> None:
        loader.loads(text.replace("title: Third", "title: ''"), "watch.yaml", {})

    with pytest.raises(ConfigError):
        add_deadline(path, THIRD, check=check)
    assert [p.name for p in tmp_path.iterdir()] == ["watch.yaml"]


def test_the_project_check_passes_a_good_edit(tmp_path: Path) -> None:
    """The loader as ``check`` accepts a valid edit, which is then written."""
    path = _write(tmp_path, INDENTED)

    def check(text: str) -> None:
        loader.loads(text, "watch.yaml", {})

    add_deadline(path, THIRD, check=check)
    assert "- name: third" in path.read_text(encoding="utf-8")


def test_backup_and_permissions(tmp_path: Path) -> None:
    """The backup holds the old bytes exactly, is overwritten by the next edit, and
    both files keep the original's permission bits; no temp file is left."""
    path = _write(tmp_path, INDENTED)
    path.chmod(0o640)

    first = add_deadline(path, THIRD)
    second = set_deadline(path, "third", {"due": "2025-10-01"})

    assert first.backup == second.backup == tmp_path / "watch.yaml.bak"
    assert second.backup.read_text(encoding="utf-8") == first.text
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(second.backup.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watch.yaml", "watch.yaml.bak"]


def test_a_symlink_stays_a_link(tmp_path: Path) -> None:
    """Through a symlink the target is edited (and backed up beside it); the link stays."""
    real = tmp_path / "real"
    real.mkdir()
    target = _write(real, INDENTED)
    link = tmp_path / "watch.yaml"
    link.symlink_to(target)

    result = add_deadline(link, THIRD)

    assert link.is_symlink()
    assert result.path == target
    assert result.backup == real / "watch.yaml.bak"
    assert "- name: third" in target.read_text(encoding="utf-8")
    assert not (tmp_path / "watch.yaml.bak").exists()


def _chattr(flag: str, path: Path) -> bool:
    chattr = shutil.which("chattr")
    if chattr is None:
        return False
    return (
        subprocess.run([chattr, flag, str(path)], capture_output=True, check=False).returncode == 0
    )


def test_an_immutable_folder_is_not_writable(tmp_path: Path) -> None:
    """A folder nobody may write to, root included (``chattr +i``; the tests run as
    root, which ignores permission bits): ``not_writable``, naming the file, with
    the file and its folder untouched."""
    folder = tmp_path / "locked"
    folder.mkdir()
    path = _write(folder, INDENTED)
    if not _chattr("+i", folder):
        pytest.skip("chattr +i is not available here (needs root and a file system with it)")
    try:
        with pytest.raises(ConfigEditError) as caught:
            add_deadline(path, THIRD)
    finally:
        _chattr("-i", folder)
    assert caught.value.reason == "not_writable"
    assert str(path) in str(caught.value)
    assert path.read_text(encoding="utf-8") == INDENTED
    assert [p.name for p in folder.iterdir()] == ["watch.yaml"]


def test_an_immutable_file_is_not_writable(tmp_path: Path) -> None:
    """The file itself locked (the folder writable): ``not_writable`` too."""
    path = _write(tmp_path, INDENTED)
    if not _chattr("+i", path):
        pytest.skip("chattr +i is not available here (needs root and a file system with it)")
    try:
        with pytest.raises(ConfigEditError) as caught:
            add_deadline(path, THIRD)
    finally:
        _chattr("-i", path)
    assert caught.value.reason == "not_writable"
    assert path.read_text(encoding="utf-8") == INDENTED


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permission bits")
def test_a_read_only_folder_is_not_writable(tmp_path: Path) -> None:
    """A folder without write permission (``chmod 0o500``): ``not_writable``."""
    folder = tmp_path / "ro"
    folder.mkdir()
    path = _write(folder, INDENTED)
    folder.chmod(0o500)
    try:
        with pytest.raises(ConfigEditError) as caught:
            add_deadline(path, THIRD)
    finally:
        folder.chmod(0o700)
    assert caught.value.reason == "not_writable"
    assert path.read_text(encoding="utf-8") == INDENTED


def test_a_failed_write_is_not_writable(tmp_path: Path) -> None:
    """A write the system refuses although access() allowed it (here: a name so long
    that the temp file beside it cannot be created) is ``not_writable`` as well, and
    leaves the file as it was."""
    path = _write(tmp_path, INDENTED, "w" * 245 + ".yaml")
    with pytest.raises(ConfigEditError) as caught:
        add_deadline(path, THIRD)
    assert caught.value.reason == "not_writable"
    assert path.name in str(caught.value)
    assert path.read_text(encoding="utf-8") == INDENTED
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
