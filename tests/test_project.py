"""The project keeps its promises to a first-time user: two commands, CI = the test command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT


def first_code_block(text: str) -> list[str]:
    match = re.search(r"```\w*\n(.*?)```", text, re.DOTALL)
    assert match, "README has no code block"
    return [line.split("#")[0].strip() for line in match.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands() -> None:
    """The README's first code block is ``make run`` then ``make test``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert first_code_block(readme) == ["make run", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run installs the system packages the tests need (the browser, from apt, and
    only when missing), then runs ``make test``: no Python set-up a user would not
    run."""
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == "exec make test"
    assert all(not line.startswith(("pip", "python")) for line in lines)
    apt = [line for line in lines if line.startswith("apt")]
    assert all(line.startswith(("apt-get update", "apt-get install -y")) for line in apt)
    assert any("chromium" in line for line in lines)


def _make_dry_run(tmp_path: Path, target: str, *stamps: str) -> list[str]:
    """What ``make -n TARGET`` would run in a copy of the Makefile whose virtualenv
    already has ``stamps`` (touched in that order, after pyproject.toml)."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    venv = tmp_path / ".venv"
    venv.mkdir(exist_ok=True)
    start = time.time() - 100
    os.utime(tmp_path / "pyproject.toml", (start, start))
    for i, stamp in enumerate(stamps, 1):
        (venv / stamp).touch()
        os.utime(venv / stamp, (start + i, start + i))
    proc = subprocess.run(
        ["make", "-n", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env=_outside_make(),
    )
    return proc.stdout.splitlines()


def _outside_make() -> dict[str, str]:
    """The environment without make's own variables: under ``make test`` (as in CI) a
    nested make would otherwise print "Entering directory" lines."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}


def _installs(lines: list[str]) -> list[str]:
    return [line for line in lines if "pip install" in line and "--upgrade pip" not in line]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_installs_only_what_running_needs(tmp_path: Path) -> None:
    """On a fresh clone ``make run`` installs the package without the [dev] extras."""
    installs = _installs(_make_dry_run(tmp_path, "run"))
    assert installs, "make run installs nothing on a fresh clone"
    assert all("[dev]" not in line for line in installs), installs


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_adds_the_dev_tools(tmp_path: Path) -> None:
    """``make test`` installs the [dev] extras, from a fresh clone or after ``make run``."""
    assert any("[dev]" in line for line in _installs(_make_dry_run(tmp_path, "test")))
    after_run = _installs(_make_dry_run(tmp_path, "test", ".installed-run"))
    assert len(after_run) == 1, after_run
    assert "[dev]" in after_run[0]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_after_make_test_installs_nothing(tmp_path: Path) -> None:
    """Once ``make test`` has set up the virtualenv, ``make run`` just runs."""
    lines = _make_dry_run(tmp_path, "run", ".installed-run", ".installed")
    assert _installs(lines) == []
    assert lines == [".venv/bin/notifier run"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_editing_pyproject_refreshes_both_steps(tmp_path: Path) -> None:
    """A newer pyproject.toml re-runs the runtime install, then the dev one."""
    _make_dry_run(tmp_path, "test", ".installed-run", ".installed")
    (tmp_path / "pyproject.toml").touch()
    proc = subprocess.run(
        ["make", "-n", "test"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env=_outside_make(),
    )
    installs = _installs(proc.stdout.splitlines())
    assert len(installs) == 2, installs


def test_secrets_file_is_ignored_by_git_and_docker() -> None:
    """The ``.env`` file the README suggests for secrets is never committed nor sent
    to a Docker build."""
    for name in (".gitignore", ".dockerignore"):
        lines = (ROOT / name).read_text(encoding="utf-8").split()
        assert ".env" in lines, name


def test_changelog_has_an_unreleased_section() -> None:
    """CHANGELOG.md follows Keep a Changelog: an Unreleased section on top."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert "keepachangelog.com" in changelog
