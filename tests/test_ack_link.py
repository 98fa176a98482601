"""Signed ack links (pure, fixed clock) and the web app's ack routes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from notifier.ack import LINK_TTL, link, short_id, sign, verify
from notifier.delivery.messages import Rendered, with_ack
from notifier.model import Config, NewAlert
from notifier.storage.sqlite import Store
from notifier.web.app import WebApp

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = "s3cret-for-ack-links-0123456789"
KEY = "match:wire:a1"
ID = short_id(KEY)


def _parts(url: str) -> tuple[str, str, str]:
    path, _, query = url.partition("?")
    fields = dict(p.split("=", 1) for p in query.split("&"))
    return path.rsplit("/", 1)[1], fields["exp"], fields["sig"]


def test_a_signed_link_verifies_until_it_expires() -> None:
    url = link("http://127.0.0.1:8080", ID, SECRET, NOW)
    assert url.startswith(f"http://127.0.0.1:8080/ack/{ID}?exp=")
    ack_id, exp, sig = _parts(url)
    assert int(exp) == int((NOW + LINK_TTL).timestamp())
    assert verify(ack_id, exp, sig, SECRET, NOW) is None
    assert verify(ack_id, exp, sig, SECRET, NOW + LINK_TTL) is None
    assert verify(ack_id, exp, sig, SECRET, NOW + LINK_TTL + timedelta(seconds=1)) == "expired"


def test_tampered_wrong_id_or_secret_are_refused() -> None:
    ack_id, exp, sig = _parts(link("http://h:1", ID, SECRET, NOW))
    other = short_id("match:wire:other")
    assert verify(other, exp, sig, SECRET, NOW) == "bad signature"  # wrong id
    assert verify(ack_id, str(int(exp) + 3600), sig, SECRET, NOW) == "bad signature"  # longer
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert verify(ack_id, exp, flipped, SECRET, NOW) == "bad signature"
    assert verify(ack_id, exp, sig, "another-secret-entirely", NOW) == "bad signature"
    assert verify(ack_id, exp, sig[:10], SECRET, NOW) == "bad signature"
    assert verify(ack_id, None, sig, SECRET, NOW) == "malformed"
    assert verify("../x", exp, sig, SECRET, NOW) == "malformed"
    assert sign(ack_id, int(exp), SECRET) == sig


def test_the_message_carries_the_ack_line_and_link() -> None:
    url = link("http://h:1", ID, SECRET, NOW)
    text = with_ack(Rendered("t", "body", "text"), {"ack_id": ID, "ack_link": url})
    assert text.body == f"body\nAck: notifier ack {ID} or {url}"
    html = with_ack(Rendered("t", "<b>x</b>", "html"), {"ack_id": ID})
    assert html.body == f"<b>x</b><br>Ack: <code>notifier ack {ID}</code>"
    assert with_ack(Rendered("t", "b", "text"), {}).body == "b"
    bad = with_ack(Rendered("t", "b", "text"), {"ack_id": ID, "ack_link": "javascript:x"})
    assert bad.body == f"b\nAck: notifier ack {ID}"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    with Store.open(tmp_path) as store, store.transaction():
        store.outbox.enqueue(
            [
                NewAlert(
                    key=KEY,
                    channel="chat",
                    kind="match",
                    severity="high",
                    context={"kind": "match", "title": "Tariffs <b>up</b>", "ack_id": ID},
                )
            ],
            NOW,
        )
    return tmp_path


def _app(state_dir: Path, token: str | None = None, now: datetime = NOW) -> WebApp:
    config = Config(timezone=UTC, default_channels=())  # type: ignore[arg-type]
    return WebApp(lambda: config, state_dir, token, lambda: now, secret=SECRET)


def _acked(state_dir: Path) -> dict[str, tuple[str, str]]:
    with Store.open(state_dir, read_only=True) as store:
        return {
            a.alert_key: (a.ack.who, a.ack.how)
            for a in store.acks.alerts(NOW - timedelta(days=1))
            if a.ack is not None
        }


def test_a_valid_link_acknowledges_and_confirms(state_dir: Path) -> None:
    url = link("http://h:1", ID, SECRET, NOW)
    target = url.removeprefix("http://h:1")
    head = _app(state_dir, token="t" * 20).handle("HEAD", target, {})
    assert head.status == 200
    assert _acked(state_dir) == {}  # a HEAD records nothing
    got = _app(state_dir, token="t" * 20).handle("GET", target, {})  # no token needed
    assert got.status == 200
    assert b"Acknowledged" in got.body
    assert b"Tariffs &lt;b&gt;up&lt;/b&gt;" in got.body
    assert _acked(state_dir) == {KEY: ("link", "link")}
    assert _app(state_dir).handle("GET", target, {}).status == 200  # idempotent


def test_tampered_or_expired_links_are_403_and_acknowledge_nothing(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = link("http://h:1", ID, SECRET, NOW).removeprefix("http://h:1")
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert _app(state_dir).handle("GET", tampered, {}).status == 403
    late = _app(state_dir, now=NOW + LINK_TTL + timedelta(minutes=1))
    assert late.handle("GET", url, {}).status == 403
    no_secret = WebApp(lambda: Config(ZoneInfo("UTC"), ()), state_dir, None, lambda: NOW)
    assert no_secret.handle("GET", url, {}).status == 403
    assert _acked(state_dir) == {}
    captured = capsys.readouterr()
    logged = captured.out + captured.err
    assert "ack link refused" in logged
    assert SECRET not in logged
    assert _parts(url)[2] not in logged


def test_post_with_the_token_acknowledges(state_dir: Path) -> None:
    token = "web-token-0123456789"
    app = _app(state_dir, token=token)
    assert app.handle("POST", f"/api/ack/{ID}", {}).status == 401
    assert app.handle("POST", f"/api/ack/{ID}", {"Authorization": "Bearer nope"}).status == 401
    assert _app(state_dir).handle("POST", f"/api/ack/{ID}", {}).status == 403  # no web.token
    unknown = app.handle("POST", "/api/ack/ffffffff", {"Authorization": f"Bearer {token}"})
    assert unknown.status == 404
    done = app.handle("POST", f"/api/ack/{ID[:5]}", {"Authorization": f"Bearer {token}"})
    assert done.status == 200
    assert json.loads(done.body)["acked"][0]["id"] == ID
    assert _acked(state_dir) == {KEY: ("web", "web")}


def test_ack_min_severity_decides_which_matches_carry_an_id() -> None:
    """``ack.min_severity`` (default high): a match at or above it carries its short
    id in the context; below it, none. Health notices alike."""
    from notifier.config.loader import loads  # noqa: PLC0415
    from notifier.delivery.stages import route_matches  # noqa: PLC0415
    from notifier.model import Entry, Match  # noqa: PLC0415

    text = """
defaults: {channels: [console]}
channels:
  console: ["console://"]
feeds:
  - {name: wire, url: "https://example.com/feed.xml"}
watches:
  - {name: hot, any: [tariff], severity: high}
  - {name: mild, any: [tariff]}
"""
    config = loads(text, "watch.yaml", {})
    assert config.ack.min_severity == "high"
    strict = loads(text + "ack: {min_severity: critical}\n", "watch.yaml", {})
    assert strict.ack.min_severity == "critical"
    entry = Entry(feed="wire", key="k1", title="A tariff")
    hot = route_matches([Match("hot", entry, ())], config, NOW)
    mild = route_matches([Match("mild", entry, ())], config, NOW)
    assert hot[0].context["ack_id"] == short_id(hot[0].key)
    assert "ack_id" not in mild[0].context
    assert "ack_id" not in route_matches([Match("hot", entry, ())], strict, NOW)[0].context


def test_mute_and_unmute_from_the_web_need_the_token(state_dir: Path) -> None:
    """``POST /api/mute`` and ``/api/unmute`` (the web UI's mute, issue 16 §4): the
    token as a Bearer header, a target the config knows, a bounded duration."""
    from notifier.config.loader import loads  # noqa: PLC0415

    config = loads(
        'channels: {chat: ["json://127.0.0.1:9/x"]}\n'
        'feeds: [{name: wire, url: "http://127.0.0.1:9/w.xml"}]\n'
        "watches: [{name: tariffs, any: [tariff]}]\n",
        "watch.yaml",
        {},
    )
    token = "t" * 20
    app = WebApp(lambda: config, state_dir, token, lambda: NOW)
    bearer = {"Authorization": f"Bearer {token}"}
    target = "/api/mute?target=watch:tariffs&for=2h&reason=board+meeting"
    assert app.handle("POST", target, {}).status == 401
    assert app.handle("POST", target, {"Authorization": "Bearer wrong"}).status == 401
    no_token = WebApp(lambda: config, state_dir, None, lambda: NOW)
    assert no_token.handle("POST", target, bearer).status == 403
    assert app.handle("POST", "/api/mute?target=watch:nope", bearer).status == 400
    assert app.handle("POST", "/api/mute?target=tariffs&for=90d", bearer).status == 400
    done = app.handle("POST", target, bearer)
    assert done.status == 200, done.body
    assert json.loads(done.body)["muted"] == "watch:tariffs"
    with Store.open(state_dir, read_only=True) as store:
        (mute,) = store.mutes.active(NOW)
    assert (mute.kind, mute.name, mute.reason, mute.who) == (
        "watch",
        "tariffs",
        "board meeting",
        "web",
    )
    assert mute.until == NOW + timedelta(hours=2)
    assert app.handle("GET", target, bearer).status == 404  # a GET never mutes
    assert app.handle("POST", "/api/unmute?target=watch:tariffs", bearer).status == 200
    with Store.open(state_dir, read_only=True) as store:
        assert store.mutes.active(NOW) == []
