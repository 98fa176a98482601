"""Golden messages: every kind of alert, alone and in digests, in the three body formats.

Each case of :mod:`tests.message_cases` is stored as ``cases/messages/NAME.json``
(the contexts as the outbox holds them, ``now``, ``reason``, ``mentions``) and
``cases/messages/NAME.txt`` (the title and body in each format). Rendering the
stored contexts must give the stored text byte for byte; building the contexts
again must give the stored contexts. To accept new output after a deliberate
change: ``NOTIFIER_UPDATE_GOLDEN=1 make test``, then review the diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from notifier.delivery.messages import Rendered, Renderer
from notifier.model import BodyFormat
from tests.message_cases import ZONE, Case, cases

CASES = Path(__file__).parent / "cases" / "messages"
FORMATS: tuple[BodyFormat, ...] = ("text", "markdown", "html")
_SECTION = re.compile(r"^--- (text|markdown|html)\n", re.MULTILINE)


def stored(case: Case) -> dict[str, Any]:
    """The JSON document of a case."""
    return {
        "now": case.now.isoformat() if case.now else None,
        "reason": case.reason,
        "mentions": case.mentions,
        "contexts": case.contexts,
    }


def render(document: dict[str, Any], fmt: BodyFormat) -> Rendered:
    """A stored case rendered in ``fmt``, with the built-in texts."""
    renderer = Renderer({}, ZONE)
    now = datetime.fromisoformat(document["now"]) if document["now"] else None
    contexts, reason = document["contexts"], document["reason"]
    if len(contexts) == 1 and reason is None:
        return renderer.render(contexts[0], fmt, now=now, mentions=document["mentions"])
    return renderer.render_digest(contexts, fmt, reason, now=now, mentions=document["mentions"])


def golden_text(renderings: Mapping[BodyFormat, Rendered]) -> str:
    """Title and body per format, each after a ``--- FORMAT`` line."""
    return "".join(f"--- {fmt}\n{r.title}\n{r.body}\n" for fmt, r in renderings.items())


def parse_golden(text: str) -> dict[str, tuple[str, str]]:
    """The (title, body) per format of a golden file; the inverse of :func:`golden_text`."""
    parts = _SECTION.split(text)
    out = {}
    for fmt, chunk in zip(parts[1::2], parts[2::2], strict=True):
        title, _, body = chunk.removesuffix("\n").partition("\n")
        out[fmt] = (title, body)
    return out


@pytest.mark.parametrize("name", sorted(cases()))
def test_golden_message(name: str) -> None:
    """The stored contexts of each case render to the stored title and body, byte for byte,
    in text, markdown and html."""
    case_file, golden = CASES / f"{name}.json", CASES / f"{name}.txt"
    if os.environ.get("NOTIFIER_UPDATE_GOLDEN"):
        CASES.mkdir(parents=True, exist_ok=True)
        document = json.dumps(stored(cases()[name]), ensure_ascii=False, indent=1)
        case_file.write_text(document + "\n", encoding="utf-8")
    document = json.loads(case_file.read_text(encoding="utf-8"))
    renderings = {fmt: render(document, fmt) for fmt in FORMATS}
    actual = golden_text(renderings)
    expected = {fmt: (r.title, r.body) for fmt, r in renderings.items()}
    assert parse_golden(actual) == expected, "the golden format cannot hold this body"
    if os.environ.get("NOTIFIER_UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")
    assert all(r.template_error is None for r in renderings.values())


@pytest.mark.parametrize("name", sorted(cases()))
def test_golden_contexts_are_what_the_builders_make(name: str) -> None:
    """The context builders still make the stored contexts (what a 0.1 outbox holds)."""
    stored_document = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(stored(cases()[name]))) == stored_document


def test_every_golden_file_has_a_case() -> None:
    """No stale golden file stays behind when a case is renamed or removed."""
    names = set(cases())
    for path in CASES.iterdir():
        assert path.suffix in (".json", ".txt"), path.name
        assert path.stem in names, path.name
