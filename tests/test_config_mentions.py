"""The per-channel ``mentions`` option: escape (default) or allow."""

from __future__ import annotations

import pytest

from notifier.config.loader import loads
from notifier.errors import ConfigError

CHANNELS = """\
channels:
  plain: ["json://127.0.0.1:9/a"]
  chat:
    urls: ["json://127.0.0.1:9/b"]
    mentions: allow
  strict:
    urls: ["json://127.0.0.1:9/c"]
    mentions: escape
defaults:
  channels: [plain]
"""


def test_mentions_are_escaped_unless_a_channel_allows_them() -> None:
    """A channel escapes feed mentions by default (shorthand forms too); ``allow`` opts out."""
    config = loads(CHANNELS, "watch.yaml", {})
    assert {c.name: c.mentions for c in config.channels.values()} == {
        "plain": "escape",
        "chat": "allow",
        "strict": "escape",
    }


def test_an_unknown_mentions_value_is_a_config_error() -> None:
    """``mentions: off`` is refused at load time with its location, like any bad value."""
    text = CHANNELS.replace("mentions: allow", "mentions: off")
    with pytest.raises(ConfigError) as caught:
        loads(text, "watch.yaml", {})
    assert "watch.yaml:5:15: channels.chat.mentions: " in str(caught.value)
    assert "'escape' or 'allow'" in str(caught.value)
