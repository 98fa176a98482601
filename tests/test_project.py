"""The project keeps its promises to a first-time user: two commands, CI = the test command."""

from __future__ import annotations

import re

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
    """.ci/run runs ``make test`` and nothing a user would not run."""
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == "exec make test"
    assert all(not line.startswith(("pip", "python", "apt")) for line in lines)


def test_makefile_targets_install_what_they_need() -> None:
    """``run`` and ``test`` both depend on the virtualenv stamp built from pyproject.toml."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run: \$\(STAMP\)$", makefile, re.MULTILINE)
    assert re.search(r"^test: \$\(STAMP\)$", makefile, re.MULTILINE)
    assert re.search(r"^\$\(STAMP\): pyproject.toml$", makefile, re.MULTILINE)


def test_changelog_has_an_unreleased_section() -> None:
    """CHANGELOG.md follows Keep a Changelog: an Unreleased section on top."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert "keepachangelog.com" in changelog
