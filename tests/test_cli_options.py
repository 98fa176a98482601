"""Every option of every command refuses a bad value with a one-line usage error (exit 2).

The test walks :func:`notifier.cli.build_parser` itself, so an option added
later is covered: one without a ``type=`` that checks its value, or with a
type this table has no bad example for, fails here until it gets both.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from notifier import cli as notifier_cli
from notifier.config.flags import ENV, FLAGS, PARSERS
from notifier.config.settings import Settings
from tests.conftest import CLI

#: A type's name → (a value it must refuse, a value it must accept).
EXAMPLES: dict[str, tuple[str, str]] = {
    "duration": ("60", "90s"),
    "positive duration": ("0s", "5m"),
    "path": ("", "out.txt"),
    "config": ("", "watch.yaml"),
    "state_dir": ("", "state"),
    "log_format": ("xml", "JSON"),
    "log_level": ("loud", "debug"),
    "health_port": ("http", "9100"),
    "health_host": ("not a host!", "::1"),
    "web_port": ("http", "8080"),
    "web_host": ("not a host!", "::1"),
    "grace": ("ten", "2.5"),
    "time": ("yesterday", "2025-06-01T09:00"),
    "count": ("0", "10"),
    "search": ('"*', "稀土"),
    "name": ("no such!", "rare-earths"),
    "reminder list": ("soon", "7d,1d"),
    "severity": ("urgent", "high"),
    "reason": ("", "in a meeting"),
    "state_url": ("mysql://u:hunter2@db/notifier", "postgresql://u:pw@db:5432/notifier"),
}


def commands() -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    """The top-level parser (with a command after it) and each command's parser."""
    parser = notifier_cli.build_parser()
    yield [], parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield [name], sub


def options() -> Iterator[tuple[list[str], list[str], str, argparse.Action]]:
    """(command words, positional arguments, option string, action) for every option
    that takes a value."""
    for words, parser in commands():
        positionals = [
            "x" for a in parser._actions if not a.option_strings and a.nargs != argparse.PARSER
        ]
        for action in parser._actions:
            if action.option_strings and action.nargs != 0:
                yield words, positionals, action.option_strings[-1], action


CASES = [
    pytest.param(words, positionals, flag, action, id=" ".join([*words, flag]) or flag)
    for words, positionals, flag, action in options()
]


def test_the_walk_finds_the_options() -> None:
    """The walk sees the commands' own options and the shared settings on every command."""
    ids = {" ".join([*w, f]) for w, _, f, _ in options()}
    assert {"healthcheck --max-age", "deliver --wait", "ics --output", "schema --output"} <= ids
    assert {"run --grace", "once --health-port", "--log-level"} <= ids
    assert len(ids) > 70


@pytest.mark.parametrize(("words", "positionals", "flag", "action"), CASES)
def test_a_bad_value_is_a_one_line_usage_error(
    words: list[str],
    positionals: list[str],
    flag: str,
    action: argparse.Action,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each option refuses a bad value: exit 2, one line on stderr naming the option, and
    accepts a good one."""
    type_name = getattr(action.type, "__name__", None)
    assert action.type is not None, f"{flag} takes a value but has no type= to check it"
    assert type_name in EXAMPLES, f"add a bad and a good value for type {type_name!r} ({flag})"
    bad, good = EXAMPLES[type_name]
    command = words or ["check"]
    argv = [*words, flag, bad, *positionals] if words else [flag, bad, *command]

    with pytest.raises(SystemExit) as exited:
        notifier_cli.main(argv)
    assert exited.value.code == notifier_cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert f"argument {flag}" in err or f"argument {'/'.join(action.option_strings)}" in err, err
    assert "Traceback" not in err
    assert "hunter2" not in err  # a URL's password is never repeated

    # The same option with a good value gets past the parser.
    parser = notifier_cli.build_parser()
    good_argv = [*words, flag, good, *positionals] if words else [flag, good, *command]
    parser.parse_args(good_argv)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("healthcheck", "--max-age", "60"), "--max-age"),
        (("deliver", "--wait", "soon"), "--wait"),
        (("run", "--health-port", "70000"), "--health-port"),
        (("once", "--grace", "-1"), "--grace"),
    ],
)
def test_the_real_command_says_it_in_one_line(
    cli_process: CLI, args: tuple[str, ...], named: str
) -> None:
    """The installed ``notifier`` executable: exit 2 (not 1, which means "unhealthy" for
    healthcheck), one line, no traceback."""
    r = cli_process(*args)
    assert r.code == 2
    assert len(r.err.splitlines()) == 1, r.err
    assert named in r.err
    assert r.out == ""


def test_the_flag_table_names_exactly_the_settings() -> None:
    """The command line builds its setting flags from :mod:`notifier.config.flags` (no
    pydantic); the settings model reads the same names from the environment."""
    assert list(PARSERS) == list(ENV) == list(FLAGS) == list(Settings.model_fields)
