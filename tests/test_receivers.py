"""The local receivers (:mod:`tests.receivers`) against real Apprise, end to end.

Each send builds a fresh ``apprise.Apprise`` object: Apprise paces requests made
through one URL object (5.5 s between e-mails or ntfy posts), and a new object
starts unpaced.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import apprise
import pytest
from apprise import AppriseResult, AppriseResultStatus, NotifyResult

from notifier.delivery.apprise import quiet_apprise
from tests.receivers import (
    Notice,
    SmtpReceiver,
    ThreadedWebhookReceiver,
    WebhookReceiver,
)

TITLE = "稀土 — rare earths"
BODY = "Ünïcödé body https://example.com/x"


def ready(url: str) -> str:
    """``url``, with its Apprise plugin loaded. These tests use Apprise directly; once
    notifier has loaded Apprise in this process (another test did, in the same xdist
    worker), its registry holds only the plugins notifier handed URLs to
    (:func:`notifier.delivery.apprise.quiet_apprise`), so load this one the same way."""
    with quiet_apprise(url):
        pass
    return url


def send(url: str, title: str = TITLE, body: str = BODY) -> AppriseResult:
    """Notify ``url`` through a fresh Apprise object (so no pacing applies)."""
    ready(url)
    notifier = apprise.Apprise()
    assert notifier.add(url), f"Apprise rejected {url}"
    return notifier.notify(title=title, body=body)


def printed(url: str, *, privacy: bool) -> str:
    """``url`` as the Apprise plugin it builds prints it back (``privacy`` masks secrets)."""
    plugin = apprise.Apprise.instantiate(ready(url))
    assert plugin is not None, f"Apprise rejected {url}"
    # Apprise leaves NotifyBase.url() unannotated.
    return str(plugin.url(privacy=privacy))  # type: ignore[no-untyped-call]


def only(result: AppriseResult) -> NotifyResult:
    """The single per-URL result of a one-URL notify."""
    [one] = list(result)
    return one


def warnings_of(result: NotifyResult) -> str:
    """The per-URL log lines Apprise captured (WARNING and up by default), joined."""
    return "\n".join(f"{entry.level} {entry.message}" for entry in result.logs())


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    """A running SMTP receiver."""
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def hooks() -> Iterator[ThreadedWebhookReceiver]:
    """A running webhook receiver on its own thread (Apprise's notify() blocks)."""
    with ThreadedWebhookReceiver() as receiver:
        yield receiver


# ---------------------------------------------------------------------------- SMTP


def test_mailto_delivers_one_utf8_message(smtp: SmtpReceiver) -> None:
    """A plain ``mailto://127.0.0.1:P?from=…&to=…`` URL delivers without TLS or AUTH:
    exactly one message, whose Subject and text body come back as sent (UTF-8),
    with the envelope sender and recipient from the URL."""
    url = smtp.url(to="desk@example.com", sender="notifier@example.com")

    with send(url) as result:
        assert result
        assert only(result).status is AppriseResultStatus.SUCCESS

    smtp.wait_for(1)
    assert smtp.subjects() == [TITLE]
    assert smtp.bodies() == [BODY]
    assert smtp.bodies(preference=("html",)) == [BODY]
    [message] = smtp.messages
    assert message["to"] == "desk@example.com"
    assert message["from"] == "notifier@example.com"
    [envelope] = smtp.envelopes
    assert envelope.mail_from == "notifier@example.com"
    assert envelope.rcpt_tos == ("desk@example.com",)


def test_mailto_sends_one_message_per_recipient(smtp: SmtpReceiver) -> None:
    """Several ``to`` addresses make Apprise send one message per recipient, each
    with the ``bcc`` address added to its envelope only."""
    url = smtp.url(to=["a@example.com", "b@example.com"], bcc="c@example.com")

    with send(url) as result:
        assert result

    smtp.wait_for(2)
    assert sorted(str(m["to"]) for m in smtp.messages) == ["a@example.com", "b@example.com"]
    assert sorted(e.rcpt_tos for e in smtp.envelopes) == [
        ("a@example.com", "c@example.com"),
        ("b@example.com", "c@example.com"),
    ]
    assert all("bcc" not in m for m in smtp.messages)


def test_mailto_failure_is_reported_for_its_url_until_recovery(smtp: SmtpReceiver) -> None:
    """While the server answers 451 to DATA, notify() is False and the URL's own
    result says FAILURE with a warning; nothing is kept. After recover() the
    same URL delivers."""
    url = smtp.url()
    smtp.fail_with(451)

    with send(url) as result:
        assert not result
        assert result.status is AppriseResultStatus.FAILURE
        failed = only(result)
        assert failed.status is AppriseResultStatus.FAILURE
        assert failed.url == printed(url, privacy=True)
        assert 'Sending email to "desk@example.com" failed' in warnings_of(failed)
    assert smtp.messages == []
    assert smtp.refused == 1

    smtp.recover()
    with send(url) as result:
        assert result
    assert smtp.wait_for(1)
    assert smtp.subjects() == [TITLE]


def test_mailto_refused_recipient_fails_then_passes_after_times(smtp: SmtpReceiver) -> None:
    """``fail_with(550, at="RCPT", times=1)`` refuses the recipient once: the first
    send fails, the next one is accepted without calling recover()."""
    smtp.fail_with(550, at="RCPT", times=1)

    with send(smtp.url()) as first:
        assert not first
    assert not smtp.failing
    with send(smtp.url()) as second:
        assert second

    assert smtp.refused == 1
    assert smtp.wait_for(1)
    assert len(smtp.messages) == 1


def test_smtp_wait_for_reports_what_arrived(smtp: SmtpReceiver) -> None:
    """wait_for() gives up after its timeout with an AssertionError naming the
    count it wanted and what did arrive."""
    with send(smtp.url()) as result:
        assert result

    expected = r"expected 2 e-mails within 0\.05 s, got 1:\n  To: desk@example\.com, Subject: '稀土"
    with pytest.raises(AssertionError, match=expected):
        smtp.wait_for(2, timeout=0.05)


# ---------------------------------------------------------------------------- webhooks


def test_json_delivers_one_request_with_title_and_utf8_body(
    hooks: ThreadedWebhookReceiver,
) -> None:
    """``json://127.0.0.1:P/hook`` is plain HTTP: one POST to /hook whose JSON
    carries the title and UTF-8 body, decoded by messages()."""
    with send(hooks.json_url("/hook")) as result:
        assert result

    [request] = hooks.wait_for(1)
    assert (request.method, request.path, request.status) == ("POST", "/hook", 200)
    assert request.headers["content-type"] == "application/json"
    assert request.json["title"] == TITLE
    assert request.json["type"] == "info"
    assert hooks.messages() == [(TITLE, BODY)]


def test_ntfy_posts_json_with_topic_to_the_root(hooks: ThreadedWebhookReceiver) -> None:
    """``ntfy://127.0.0.1:P/alerts`` selects ntfy's private mode over plain HTTP;
    Apprise POSTs ``{"topic": "alerts", "title", "message"}`` to ``/``."""
    with send(hooks.ntfy_url("alerts")) as result:
        assert result

    [request] = hooks.wait_for(1)
    assert (request.method, request.path) == ("POST", "/")
    assert request.json["topic"] == "alerts"
    assert hooks.messages() == [Notice(TITLE, BODY)]


def test_ntfy_body_too_big_for_json_arrives_raw_at_the_topic(
    hooks: ThreadedWebhookReceiver,
) -> None:
    """Past ntfy's 8,000-byte JSON limit Apprise uploads the text as an attachment:
    a raw POST to ``/alerts?filename=…`` with the title folded into the body."""
    long_body = BODY + " " + "x" * 8000

    with send(hooks.ntfy_url("alerts"), body=long_body) as result:
        assert result

    [request] = hooks.wait_for(1)
    assert request.path == "/alerts"
    assert "filename" in request.query
    assert request.json is None
    assert hooks.messages() == [("", f"{TITLE}\n{long_body}")]


def test_form_posts_urlencoded_fields(hooks: ThreadedWebhookReceiver) -> None:
    """``form://127.0.0.1:P/form`` POSTs urlencoded ``title`` and ``message`` fields."""
    with send(hooks.form_url("/form")) as result:
        assert result

    [request] = hooks.wait_for(1)
    assert request.path == "/form"
    assert request.form is not None
    assert request.form["title"] == TITLE
    assert hooks.messages() == [(TITLE, BODY)]


def test_mattermost_webhook_folds_the_title_into_the_text(
    hooks: ThreadedWebhookReceiver,
) -> None:
    """``mmost://127.0.0.1:P/TOKEN`` POSTs ``{"text": …}`` to ``/hooks/TOKEN``;
    Mattermost has no title field, so Apprise puts the title in the text."""
    with send(hooks.mmost_url("tok3n")) as result:
        assert result

    [request] = hooks.wait_for(1)
    assert request.path == "/hooks/tok3n"
    [(title, text)] = hooks.messages()
    assert title == ""
    assert TITLE in text
    assert BODY in text


@pytest.mark.parametrize("scheme", ["json", "ntfy"])
def test_webhook_failure_is_reported_for_its_url_until_recovery(
    hooks: ThreadedWebhookReceiver, scheme: str
) -> None:
    """While the receiver answers 503, notify() is False and the URL's result says
    FAILURE with the status in its warning; the refused request is recorded but
    is not a message. After recover() the same URL delivers."""
    url = hooks.json_url() if scheme == "json" else hooks.ntfy_url()
    hooks.fail_with(503)

    with send(url) as result:
        assert not result
        failed = only(result)
        assert failed.status is AppriseResultStatus.FAILURE
        assert "error=503" in warnings_of(failed)
    [refused] = hooks.wait_for(1)
    assert refused.status == 503
    assert hooks.messages() == []

    hooks.recover()
    with send(url) as result:
        assert result
    hooks.wait_for(1, accepted=True)
    assert hooks.messages() == [(TITLE, BODY)]


def test_ntfy_failure_carries_the_receivers_reason(hooks: ThreadedWebhookReceiver) -> None:
    """Apprise's ntfy plugin reads the ntfy-style error body, so the per-URL
    warning names the receiver's reason, not just the status."""
    hooks.fail_with(429)

    with send(hooks.ntfy_url()) as result:
        assert "failing on purpose (test receiver), error=429" in warnings_of(only(result))


def test_webhook_fails_only_the_next_times(hooks: ThreadedWebhookReceiver) -> None:
    """``fail_with(503, times=2)`` fails two requests, then answers 200 on its own."""
    hooks.fail_with(503, times=2, headers={"Retry-After": "1"})

    outcomes = []
    for _ in range(3):
        with send(hooks.json_url()) as result:
            outcomes.append(bool(result))

    assert outcomes == [False, False, True]
    assert [r.status for r in hooks.requests] == [503, 503, 200]
    assert not hooks.failing


def test_secret_in_url_is_masked_but_still_sent_as_basic_auth(
    hooks: ThreadedWebhookReceiver,
) -> None:
    """A password in ``json://user:Secr3t@…`` is hidden by ``url(privacy=True)`` and
    in the per-URL result, yet reaches the receiver as HTTP basic auth."""
    url = hooks.json_url("/hook", user="user", password="Secr3t")

    assert "Secr3t" in printed(url, privacy=False)
    assert "Secr3t" not in printed(url, privacy=True)
    with send(url) as result:
        assert result
        assert "Secr3t" not in only(result).url

    [request] = hooks.wait_for(1)
    assert request.basic_auth == ("user", "Secr3t")
    assert hooks.messages() == [(TITLE, BODY)]


def test_webhook_wait_for_reports_what_arrived(hooks: ThreadedWebhookReceiver) -> None:
    """wait_for() gives up after its timeout with an AssertionError listing the
    requests that did arrive; ``accepted=True`` counts only 2xx answers."""
    hooks.fail_with(500)
    with send(hooks.json_url("/nope")) as result:
        assert not result

    assert len(hooks.wait_for(1)) == 1
    with pytest.raises(AssertionError, match=r"got 0:\n  \(nothing\)"):
        hooks.wait_for(1, timeout=0.05, accepted=True)
    with pytest.raises(AssertionError, match=r"got 1:\n  POST /nope -> 500: \("):
        hooks.wait_for(2, timeout=0.05)


async def test_async_receiver_serves_async_notify() -> None:
    """The async receiver runs on the test's own loop: ``await async_notify()``
    reaches it, async_wait_for() sees the request, and the blocking wait_for()
    refuses to run on that loop instead of hanging it."""
    async with WebhookReceiver() as receiver:
        notifier = apprise.Apprise()
        assert notifier.add(ready(receiver.ntfy_url("alerts")))
        with await notifier.async_notify(title=TITLE, body=BODY) as result:
            assert result

        await receiver.async_wait_for(1)
        assert receiver.messages() == [(TITLE, BODY)]
        with pytest.raises(RuntimeError, match="async_wait_for"):
            receiver.wait_for(1)


async def test_smtp_receiver_works_as_async_context_manager() -> None:
    """SmtpReceiver also serves ``async with``, and ``await async_notify()`` delivers to it."""
    async with SmtpReceiver() as receiver:
        notifier = apprise.Apprise()
        assert notifier.add(ready(receiver.url()))
        with await notifier.async_notify(title=TITLE, body=BODY) as result:
            assert result

        await receiver.async_wait_for(1)
        assert receiver.subjects() == [TITLE]


def test_receivers_serve_another_process(
    smtp: SmtpReceiver, hooks: ThreadedWebhookReceiver
) -> None:
    """Both receivers accept deliveries from a separate process (the ``apprise``
    command, as a daemon under test would send)."""
    command = Path(sys.executable).with_name("apprise")
    proc = subprocess.run(
        [str(command), "-t", TITLE, "-b", BODY, smtp.url(), hooks.json_url()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    smtp.wait_for(1)
    hooks.wait_for(1)
    assert smtp.subjects() == [TITLE]
    assert hooks.messages() == [(TITLE, BODY)]
