"""The ``notifier`` command: commands, exit codes, output, no secrets.

Most tests run the command in this process (the ``cli`` fixture); the console script,
usage errors and an invalid config also go through the real executable (``cli_process``).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import structlog

from notifier.logs import redact
from tests.conftest import CLI, EXAMPLE, ROOT

CASES = Path(__file__).parent / "cases"
PROBLEM_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<path>\S+): (?P<msg>.+)$"
)
SECRET = "xoxb-Secr3tT0ken-777"


def test_check_example_config_is_valid_and_summarised(cli: CLI) -> None:
    """``check`` on the shipped example exits 0 and lists feeds, watches, deadlines."""
    r = cli("check", "--config", str(EXAMPLE))
    assert r.code == 0, r.err
    assert r.out.startswith(f"{EXAMPLE}: valid\n")
    for expected in (
        "timezone: America/New_York",
        "ustr-press  every 30m",
        "rare-earths  [high] → console",
        '"稀土"',
        'none: "crypto"',
        "reciprocal-pause-expiry  due Wed 9 Jul 2025 00:01 EDT",
        "next reminder: none (the deadline has passed)",
        "console://",
    ):
        assert expected in r.out


def test_check_three_mistakes_prints_three_located_lines(cli_process: CLI) -> None:
    """A bad URL, an unknown channel and ``remind: [no]`` give three file:line:col lines
    (the real executable: exit 1)."""
    r = cli_process("check", "--config", "three-mistakes.yaml", cwd=CASES)
    assert r.code == 1
    assert r.out == ""
    problem_lines = r.err.splitlines()[:-1]
    assert len(problem_lines) == 3
    parsed = [PROBLEM_LINE.match(line) for line in problem_lines]
    assert all(parsed), problem_lines
    assert [(m["line"], m["col"], m["path"]) for m in parsed if m] == [
        ("7", "10", "feeds[0].url"),
        ("11", "16", "watches[0].channels[0]"),
        ("16", "14", "deadlines[0].remind[0]"),
    ]
    assert r.err.splitlines()[-1] == "three-mistakes.yaml: 3 problems; the config was not loaded"
    assert "Traceback" not in r.err


def test_check_quiet_prints_nothing_when_valid(cli: CLI) -> None:
    """``check -q`` is for scripts: silent success, exit code only."""
    r = cli("check", "-q", "--config", str(EXAMPLE))
    assert (r.code, r.out, r.err) == (0, "", "")


def test_config_from_environment_and_flag_override(cli: CLI, tmp_path: Path) -> None:
    """NOTIFIER_CONFIG is used when no flag is given; the flag wins when it is."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("feeds: 3\n", encoding="utf-8")
    assert cli("check", env={"NOTIFIER_CONFIG": str(broken)}).code == 1
    r = cli("check", "--config", str(EXAMPLE), env={"NOTIFIER_CONFIG": str(broken)})
    assert r.code == 0


def test_default_config_path_is_relative_to_working_directory(cli: CLI, tmp_path: Path) -> None:
    """Without flag or variable, ``config/watch.yaml`` under the current folder is read."""
    (tmp_path / "config").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "config" / "watch.yaml")
    assert cli("check", "-q").code == 0


def test_missing_config_file(cli: CLI) -> None:
    """A config that is not there: exit 1 and a one-line reason, no traceback."""
    r = cli("check", "--config", "nowhere.yaml")
    assert r.code == 1
    assert "nowhere.yaml:1:1: file: cannot read: No such file or directory" in r.err
    assert "Traceback" not in r.err


@pytest.mark.parametrize(
    "args",
    [
        ("bogus",),
        ("check", "--no-such-flag"),
        ("schema", "--config"),
        (),
    ],
)
def test_usage_errors_exit_2(cli_process: CLI, args: tuple[str, ...]) -> None:
    """Unknown commands and flags, and no command at all, are usage errors (2, from the
    real executable): one line naming the mistake (the full help for no command at all)."""
    r = cli_process(*args)
    assert r.code == 2
    if args:
        assert len(r.err.splitlines()) == 1, r.err
        assert "error:" in r.err
        assert "--help" in r.err
    else:
        assert "usage: notifier" in r.err


def test_bad_setting_in_environment_exits_2_naming_it(cli: CLI) -> None:
    """A bad NOTIFIER_LOG_FORMAT is a usage error that names the variable."""
    r = cli("check", "--config", str(EXAMPLE), env={"NOTIFIER_LOG_FORMAT": "xml"})
    assert r.code == 2
    assert "NOTIFIER_LOG_FORMAT" in r.err


@pytest.mark.parametrize("command", ["run", "check", "schema"])
def test_every_command_has_help(cli: CLI, command: str) -> None:
    """``COMMAND --help`` exits 0 and documents the settings' variables."""
    r = cli(command, "--help")
    assert r.code == 0
    assert f"usage: notifier {command}" in r.out
    if command != "schema":
        assert "NOTIFIER_CONFIG" in r.out
        assert "NOTIFIER_STATE_DIR" in r.out


def test_top_level_help_and_version(cli_process: CLI) -> None:
    """The console script: ``--help`` lists the commands and the exit codes; ``--version``
    prints the version."""
    r = cli_process("--help")
    assert r.code == 0
    assert all(c in r.out for c in ("run", "check", "schema", "Exit codes"))
    v = cli_process("--version")
    assert v.code == 0
    assert re.fullmatch(r"notifier \d+\.\d+\.\d+\n", v.out)


def test_secrets_never_printed_by_check(cli: CLI, tmp_path: Path) -> None:
    """Passwords and tokens from the environment appear in no output, valid or not."""
    config = tmp_path / "secret.yaml"
    config.write_text(
        "channels:\n"
        "  mail: ['mailtos://desk:${SMTP_PASSWORD}@smtp.example.com?to=a@example.com']\n"
        "  hook: ['json://u:${SMTP_PASSWORD}@127.0.0.1:9/${SMTP_PASSWORD}']\n"
        "defaults: {channels: [mail]}\n"
        "feeds:\n  - {name: f, url: 'https://example.com/rss?token=${SMTP_PASSWORD}'}\n",
        encoding="utf-8",
    )
    ok = cli("check", "--config", str(config), env={"SMTP_PASSWORD": SECRET})
    assert ok.code == 0, ok.err
    assert "mailtos://desk:****@smtp.example.com" in ok.out
    assert SECRET not in ok.out + ok.err

    config.write_text(
        config.read_text(encoding="utf-8") + "  - {name: g, url: 'ftp://${SMTP_PASSWORD}'}\n",
        encoding="utf-8",
    )
    bad = cli("check", "--config", str(config), env={"SMTP_PASSWORD": SECRET})
    assert bad.code == 1
    assert "feeds[1].url" in bad.err
    assert SECRET not in bad.out + bad.err


def test_schema_prints_json_schema(cli: CLI, tmp_path: Path) -> None:
    """``schema`` prints a JSON Schema; ``-o`` writes the same to a file."""
    r = cli("schema")
    assert r.code == 0
    schema = json.loads(r.out)
    assert schema["title"] == "notifier watch config"
    assert {"channels", "feeds", "watches", "deadlines"} <= set(schema["properties"])
    out = tmp_path / "schema.json"
    assert cli("schema", "-o", str(out)).code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == schema


def test_run_refuses_a_broken_config(cli: CLI, tmp_path: Path) -> None:
    """``run`` on an invalid config exits 1 with the located problems."""
    state = str(tmp_path / "state")
    r = cli(
        "run",
        "--config",
        "three-mistakes.yaml",
        "--state-dir",
        state,
        "--log-format",
        "json",
        cwd=CASES,
    )
    assert r.code == 1
    assert "three-mistakes.yaml:7:10: feeds[0].url:" in r.err


def test_run_reports_an_unusable_state_dir(cli: CLI, tmp_path: Path) -> None:
    """A state folder that cannot be created is a clear error, exit 1."""
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    r = cli("run", "--config", str(EXAMPLE), "--state-dir", str(blocker / "sub"))
    assert r.code == 1
    assert "state folder" in r.err
    assert "Traceback" not in r.err


def test_python_dash_m_is_the_same_command(tmp_path: Path) -> None:
    """``python -m notifier`` works where the script is not on PATH."""
    r = subprocess.run(
        [sys.executable, "-m", "notifier", "check", "-q", "--config", str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert r.returncode == 0, r.stderr


def test_a_command_run_in_this_process_leaves_nothing_behind(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The in-process ``cli`` gives back what a command changes for the whole process, as
    a process of its own would: the root logger, structlog's configuration, the secrets
    registered for redaction; and the ``NOTIFIER_*`` variables of the caller are unseen."""
    root = logging.getLogger()
    handlers, level, config = list(root.handlers), root.level, structlog.get_config()
    config_file = tmp_path / "secret.yaml"
    config_file.write_text(
        "channels:\n  hook: ['json://u:${SMTP_PASSWORD}@127.0.0.1:9/x']\n", encoding="utf-8"
    )
    monkeypatch.setenv("NOTIFIER_LOG_FORMAT", "xml")  # would be a usage error if it were seen
    r = cli("check", "--config", str(config_file), env={"SMTP_PASSWORD": SECRET})
    assert r.code == 0, r.err
    assert "json://u:****@127.0.0.1:9/x" in r.out
    assert (root.handlers, root.level, structlog.get_config()) == (handlers, level, config)
    assert redact(SECRET) == SECRET  # registered during the command only
