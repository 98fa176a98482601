"""``notifier schema``: a JSON Schema that editors can use and that agrees with the loader."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from notifier.config.schema import json_schema
from tests.conftest import EXAMPLE, ROOT

COMMITTED = ROOT / "config" / "watch.schema.json"


def as_editor_sees(text: str) -> Any:
    """Parse YAML as an editor's language server does (YAML 1.2, plain data)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.constructor.add_constructor(
        "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
    )
    return yaml.load(text)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_example_config_validates(validator: jsonschema.Draft202012Validator) -> None:
    """The shipped example is valid under the schema (no errors at all)."""
    errors = list(validator.iter_errors(as_editor_sees(EXAMPLE.read_text(encoding="utf-8"))))
    assert errors == []


@pytest.mark.parametrize(
    ("snippet", "where"),
    [
        ("chanels: {}", "chanels"),
        ("feeds: [{name: a, url: 'https://x.test/', interval: 15}]", "interval"),
        ("feeds: [{name: a, url: 'https://x.test/', bogus: 1}]", "bogus"),
        ("watches: [{name: w, any: [x], severity: urgent}]", "urgent"),
        ("channels: {c: {urls: [console://], quiet_hours: soon}}", "soon"),
    ],
)
def test_schema_rejects_what_the_loader_rejects(
    validator: jsonschema.Draft202012Validator, snippet: str, where: str
) -> None:
    """Unknown keys, unit-less durations and bad enums fail the schema too."""
    errors = list(validator.iter_errors(as_editor_sees(snippet)))
    assert errors, snippet
    assert any(where in (e.message + json.dumps(list(e.absolute_path))) for e in errors)


def test_schema_accepts_channel_shorthands(validator: jsonschema.Draft202012Validator) -> None:
    """``name: url`` and ``name: [urls]`` are valid, as the loader accepts them."""
    doc = as_editor_sees("channels: {a: 'console://', b: ['console://']}")
    assert list(validator.iter_errors(doc)) == []


def test_committed_schema_file_is_current() -> None:
    """config/watch.schema.json (used by the editor comment) equals ``notifier schema``.

    Regenerate with ``notifier schema -o config/watch.schema.json``.
    """
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == json_schema()


def test_example_points_editors_at_the_schema() -> None:
    """The example's first line is the yaml-language-server schema comment."""
    first = EXAMPLE.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=./watch.schema.json"
