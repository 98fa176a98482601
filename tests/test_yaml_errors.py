"""YAML syntax errors in plain words, at the mistake rather than where the parser gave up.

The exact texts are pinned by the golden files (``tests/cases/yaml-*``); these
tests pin the properties: the position, no source text quoted, never a crash.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.config.loader import loads
from notifier.errors import ConfigError

TOKEN = "s3cr3t-T0KEN-abcdef"


def problem_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        loads(text, "watch.yaml", {})
    (problem,) = caught.value.problems
    return str(problem)


def test_unclosed_bracket_points_at_the_bracket_not_the_next_line() -> None:
    """A missing ']' is reported at its '[' (line 7 here), saying where the parser noticed."""
    text = (
        "channels:\n  console: [console://]\nfeeds: []\nwatches:\n  - name: a\n    any: [x]\n"
        '    all: ["a", "b"\n    none: [c]\n'
    )
    assert problem_of(text) == (
        "watch.yaml:7:10: yaml: this '[' is never closed: add the ']' "
        "(the parser noticed at line 8)"
    )


def test_unclosed_brace_at_the_end_of_the_file() -> None:
    """A '{' left open on the last line is reported at the '{'."""
    assert problem_of("channels:\n  console: {urls: [console://]\n") == (
        "watch.yaml:2:12: yaml: this '{' is never closed: add the '}' "
        "(the parser noticed at the end of the file)"
    )


@pytest.mark.parametrize("quote", ['"', "'"])
def test_unclosed_quote_points_at_the_quote_and_does_not_show_the_value(quote: str) -> None:
    """An unclosed quote is reported at the quote; the value (maybe a token) is not shown."""
    text = f"channels:\n  desk: {quote}json://h/{TOKEN}\nfeeds: []\n"
    problem = problem_of(text)
    assert problem.startswith(f"watch.yaml:2:9: yaml: this {quote!r} quote is never closed")
    assert TOKEN not in problem


def test_a_multi_line_list_missing_a_comma_is_not_called_unclosed() -> None:
    """Inside a list written over several lines, the missing ',' is the mistake."""
    text = 'watches:\n  - name: w\n    any: [\n      "a",\n      "b"\n      "c",\n    ]\n'
    assert problem_of(text) == (
        "watch.yaml:6:7: yaml: expected ',' between two items, or ']' to end the list "
        "opened with '[' at line 3, column 10; found a value"
    )


YAMLISH = st.text(alphabet=list("ab: -[]{},'\"#\n\t\\&*!|>%@`"), max_size=60)


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_any_broken_yaml_gives_located_problems_never_a_crash(text: str) -> None:
    """Whatever the text, loading gives a config or ConfigError, never another exception."""
    try:
        loads(text, "watch.yaml", {})
    except ConfigError as e:
        for p in e.problems:
            assert p.line >= 1
            assert p.column >= 1
