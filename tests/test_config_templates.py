"""Templates in the watch config: per kind, per watch, per deadline — loaded, checked, used."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

import pytest

from notifier.config.loader import loads
from notifier.config.schema import DeadlineTemplates, KindTemplates, WatchTemplates
from notifier.delivery.kinds import KINDS
from notifier.delivery.messages import Renderer
from notifier.delivery.stages import route_matches
from notifier.errors import ConfigError
from notifier.model import Config, Entry, Hit, Match, Template, TemplateKind
from notifier.pipeline.reminders import check_deadlines
from notifier.pipeline.sender import Sender
from notifier.storage.sqlite import Store
from tests.test_sender import FakeSink

URL = "json://127.0.0.1:9/desk"
DUE = datetime(2025, 7, 9, 4, 1, tzinfo=UTC)

YAML = f"""\
timezone: America/New_York
channels:
  desk: ["{URL}"]
templates:
  match:
    title: "{{{{ watch }}}}: {{{{ title }}}}"
  reminder:
    body: "kind reminder"
  config:
    title: "Config problem in {{{{ title }}}}"
feeds:
  - name: news
    url: https://example.com/feed.xml
watches:
  - name: tariffs
    any: [tariff]
    templates:
      match:
        title: "TARIFFS {{{{ title }}}}"
      digest:
        title: "{{{{ count }}}} tariff stories"
  - name: talks
    any: [talks]
deadlines:
  - name: pause
    title: 90-day pause expires
    due: 2025-07-09T00:01:00-04:00
    remind: [7d]
    templates:
      reminder:
        title: "{{{{ title }}}} ({{{{ remaining_seconds|until }}}})"
      moved:
        body: "moved to {{{{ due_local }}}}"
"""


def config(text: str = YAML) -> Config:
    return loads(text, "watch.yaml", {})


def a_match(watch: str, title: str) -> Match:
    entry = Entry("news", f"k-{title}", title, link="https://example.com/a")
    return Match(watch, entry, (Hit(watch, "title", title),))


def test_templates_per_watch_and_per_deadline_are_carried_into_the_model() -> None:
    """Each watch and deadline holds its own templates by kind; those without have none;
    the config's own (``config`` included) stay by kind."""
    cfg = config()
    tariffs, talks = cfg.watches
    assert tariffs.templates == {
        "match": Template(title="TARIFFS {{ title }}"),
        "digest": Template(title="{{ count }} tariff stories"),
    }
    assert talks.templates == {}
    (pause,) = cfg.deadlines
    assert pause.templates == {
        "reminder": Template(title="{{ title }} ({{ remaining_seconds|until }})"),
        "moved": Template(body="moved to {{ due_local }}"),
    }
    assert set(cfg.templates) == {"match", "reminder", "config"}


def test_a_config_without_templates_loads_as_before() -> None:
    """``templates`` stays optional everywhere; the model's default is empty."""
    cfg = config(f'channels:\n  desk: ["{URL}"]\n')
    assert cfg.templates == {}


def test_bad_templates_are_reported_where_they_are() -> None:
    """A template that does not compile — a syntax error, an unknown filter — and a kind a
    watch or deadline cannot have are errors at their line, all in one go."""
    broken = YAML.replace('"TARIFFS {{ title }}"', '"{{ title|shout }}"').replace(
        "      moved:", "      match:"
    )
    with pytest.raises(ConfigError) as caught:
        config(broken)
    assert [str(p) for p in caught.value.problems] == [
        "watch.yaml:19:16: watches[0].templates.match.title: "
        "template error on its line 1: No filter named 'shout'.",
        "watch.yaml:32:7: deadlines[0].templates.match: "
        "unknown key 'match' (expected reminder, moved)",
    ]


async def test_the_sender_uses_the_watch_template_then_the_kind_template(tmp_path: Path) -> None:
    """Through the real outbox and sender: a match of ``tariffs`` gets its watch's title, a
    match of ``talks`` the kind's; held together, ``tariffs`` matches get the watch's
    digest title."""
    cfg = config()
    sink = FakeSink()
    now = datetime(2025, 6, 10, 13, 0, tzinfo=UTC)
    matches = [a_match("tariffs", "Steel tariffs up"), a_match("talks", "Talks resume")]
    with Store.open(tmp_path) as store:
        with store.transaction():
            store.outbox.enqueue(route_matches(matches, cfg, now), now)
        await Sender(store, cfg, sink, clock=lambda: now).tick()
        assert sink.titles(URL) == ["TARIFFS Steel tariffs up", "talks: Talks resume"]
        sender = Sender(store, cfg, sink, clock=lambda: now)
        two = [a_match("tariffs", "Tariffs again"), a_match("tariffs", "And again")]
        alerts = route_matches(two, cfg, now)
        contexts = [a.context for a in alerts]
        rendered = sender._render(cfg.channels["desk"], contexts, "text", "held", now)
    assert rendered.title == "2 tariff stories"


async def test_a_deadline_s_own_templates_reach_its_reminders_and_moves(tmp_path: Path) -> None:
    """The 7-day reminder of ``pause`` has its deadline's title and the kind's body; when its
    due time moves, the notice has the deadline's own body."""
    sink = FakeSink()
    with Store.open(tmp_path) as store:
        cfg = config()
        check_deadlines(store, cfg, DUE - timedelta(days=10))
        at = DUE - timedelta(days=7)
        check_deadlines(store, cfg, at)
        await Sender(store, cfg, sink, clock=lambda: at).tick()
        moved = config(YAML.replace("2025-07-09T00:01", "2025-07-10T00:01"))
        check_deadlines(store, moved, at)
        await Sender(store, moved, sink, clock=lambda: at).tick()
    sent = [(title, body) for _, title, body in sink.sent]
    (reminder_title, reminder_body), moved_notice = sent
    assert reminder_title == "90-day pause expires (in 7 days)"
    # the user's body, and the ack line every reminder gets (issue 16: a reminder is acked)
    assert re.fullmatch(r"kind reminder\nAck: notifier ack [0-9a-f]{8}", reminder_body)
    assert moved_notice == (
        "[HIGH] Deadline moved: 90-day pause expires",
        "moved to Thu 10 Jul 2025 00:01 EDT",
    )


def test_every_kind_can_have_a_template_and_owners_only_their_own() -> None:
    """``templates`` has a key per kind of alert (``config`` included); a watch's templates
    are its matches' and digests', a deadline's its reminders' and moves'."""
    assert list(KindTemplates.model_fields) == list(get_args(TemplateKind))
    assert list(WatchTemplates.model_fields) == ["match", "digest"]
    assert list(DeadlineTemplates.model_fields) == ["reminder", "moved"]
    assert {k.owner for k in KINDS.values() if k.name in WatchTemplates.model_fields} == {
        "watch",
        None,
    }
    assert all(KINDS[k].owner == "deadline" for k in DeadlineTemplates.model_fields)


def test_a_renderer_for_a_config_has_all_its_templates() -> None:
    """``Renderer.for_config`` knows the config's kinds', watches' and deadlines' templates,
    with no need to pass the watches and deadlines at each render."""
    cfg = config()
    renderer = Renderer.for_config(cfg)
    now = datetime(2025, 6, 10, 13, 0, tzinfo=UTC)
    (alert,) = route_matches([a_match("tariffs", "Steel")], cfg, now)
    assert renderer.render(alert.context, "text").title == "TARIFFS Steel"
    (other,) = route_matches([a_match("talks", "Talks")], cfg, now)
    assert renderer.render(other.context, "text").title == "talks: Talks"
