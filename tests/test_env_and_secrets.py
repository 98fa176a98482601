"""``${VAR}`` substitution, and secrets kept out of every message."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.config.loader import load, loads, loads_with_secrets, substitute
from notifier.errors import ConfigError, ConfigFileError

SECRET = "s3cr3t-Tok3n-Zx9"


class TestSubstitute:
    def test_set_variable_is_replaced(self) -> None:
        """``${NAME}`` takes the variable's value."""
        assert substitute("a ${X} b", {"X": "1"}) == ("a 1 b", [], ["1"])

    def test_default_applies_when_unset(self) -> None:
        """``${NAME:-default}`` falls back when the variable is missing."""
        assert substitute("${X:-ntfy.sh}/t", {}) == ("ntfy.sh/t", [], [])

    def test_set_variable_wins_over_default(self) -> None:
        """A set variable is used even when a default is given (also when empty)."""
        assert substitute("${X:-d}", {"X": "v"})[0] == "v"
        assert substitute("${X:-d}", {"X": ""})[0] == ""

    def test_missing_variable_is_named(self) -> None:
        """A missing variable without default is reported by name and left as written."""
        assert substitute("${A}${B:-b}${C}", {}) == ("${A}b${C}", ["A", "C"], [])

    def test_dollar_dollar_escapes(self) -> None:
        """``$${`` writes a literal ``${`` and is not substituted."""
        assert substitute("cost $${HOME} $5", {"HOME": "/root"})[0] == "cost ${HOME} $5"

    def test_malformed_reference(self) -> None:
        """An unclosed ``${`` is reported, not silently kept."""
        assert substitute("x ${oops", {})[1] == ["${"]

    @given(st.text(alphabet=st.characters(blacklist_characters="$"), max_size=40))
    def test_text_without_dollar_is_untouched(self, text: str) -> None:
        """Text with no ``$`` comes back unchanged, with nothing missing."""
        assert substitute(text, {"X": "y"}) == (text, [], [])


def test_substitution_cannot_inject_yaml_structure() -> None:
    """A value with YAML syntax stays one string: substitution happens after parsing."""
    config = loads(
        "channels: {c: console://}\nwatches:\n  - {name: w, any: ['${TERM_X}']}\n",
        "watch.yaml",
        {"TERM_X": "x]\nfeeds: [{name: evil"},
    )
    assert config.watches[0].any == ("x]\nfeeds: [{name: evil",)
    assert config.feeds == ()


def test_keys_are_not_substituted() -> None:
    """Only values are substituted; a key with ``${`` is just an (invalid) name."""
    with pytest.raises(ConfigError, match="not a valid name"):
        loads("channels: {'${X}': console://}\n", "watch.yaml", {"X": "c"})


def test_substituted_values_are_returned_as_secrets() -> None:
    """The loader reports what it substituted, so logs can redact it."""
    _, secrets = loads_with_secrets(
        "channels:\n  j: ['json://127.0.0.1:9/${PW}']\n", "watch.yaml", {"PW": "pw"}
    )
    assert "pw" in secrets  # however short, and whatever it looks like
    _, secrets = loads_with_secrets(
        "channels:\n  j: ['json://u:${PW}@127.0.0.1:9/x']\n", "watch.yaml", {"PW": SECRET}
    )
    assert SECRET in secrets


def test_secret_in_invalid_url_never_reaches_the_message() -> None:
    """An Apprise URL that fails to parse is described without its content."""
    with pytest.raises(ConfigError) as info:
        loads(
            "channels:\n  s: ['slack://${TOKEN}']\n  t: ['nosuch://${TOKEN}@host']\n",
            "watch.yaml",
            {"TOKEN": SECRET},
        )
    text = str(info.value)
    assert "channels.s.urls[0]" in text
    assert "channels.t.urls[0]" in text
    assert SECRET not in text


def test_secret_in_duplicate_key_values_never_reaches_the_message() -> None:
    """ruamel quotes both values of a duplicate key; our message names the key only."""
    with pytest.raises(ConfigError) as info:
        loads(
            f"channels:\n  a: ['json://u:{SECRET}@h/x']\n  a: ['json://u:{SECRET}@h/y']\n",
            "watch.yaml",
            {},
        )
    assert "'a' appears more than once" in str(info.value)
    assert SECRET not in str(info.value)


def test_secret_in_a_yaml_syntax_error_line_is_not_quoted() -> None:
    """A syntax error reports ruamel's words and position, not the offending line."""
    with pytest.raises(ConfigError) as info:
        loads(f"channels:\n  a: [json://u:{SECRET}@h/x\n", "watch.yaml", {})
    assert info.value.problems[0].path == "yaml"
    assert SECRET not in str(info.value)


def test_missing_file_is_a_file_error(tmp_path: Path) -> None:
    """A config that does not exist is reported as unreadable, with its path."""
    with pytest.raises(ConfigFileError) as info:
        load(tmp_path / "nope.yaml", {})
    assert (
        str(info.value)
        == f"{tmp_path / 'nope.yaml'}:1:1: file: cannot read: No such file or directory"
    )


def test_non_utf8_file_is_reported_with_its_line(tmp_path: Path) -> None:
    """A Latin-1 file is refused with the line of the first bad byte."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes("channels: {c: console://}\n# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigFileError, match=r":2:1: file: not UTF-8"):
        load(path, {})


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """Editors on Windows add a byte-order mark; it is not an error."""
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfchannels: {c: console://}\n")
    assert list(load(path, {}).channels) == ["c"]
