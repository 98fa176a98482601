"""Real local receivers for Apprise deliveries: an SMTP server and a chat-webhook server.

Both listen on 127.0.0.1 only, on a free port chosen by the kernel, record
everything they accept, and can be told to fail until they :meth:`recover`.
Each one builds the Apprise URL that reaches it, so a test (or a daemon started
as a subprocess) delivers through real Apprise plugins, real sockets and real
protocols, and the test then reads what arrived.

:class:`SmtpReceiver` is an aiosmtpd server. aiosmtpd runs it on its own thread,
so the same object serves sync tests, async tests and subprocesses::

    with SmtpReceiver() as smtp:
        apprise_url = smtp.url(to="desk@example.com")   # mailto://127.0.0.1:P?from=…&to=…
        ... deliver ...
        smtp.wait_for(1)
        assert smtp.subjects() == ["稀土 — rare earths"]
        smtp.fail_with(451)                              # 451 to DATA until recover()

:class:`WebhookReceiver` is an aiohttp server that plays chat webhooks (Apprise's
``json://``, ``form://``, ``ntfy://`` and ``mmost://``). Async tests use it as an
async context manager; their sends must then be ``await a.async_notify(…)``, since
a blocking ``notify()`` would stall the loop the receiver answers on::

    async with WebhookReceiver() as hooks:
        ... await apprise_obj.async_notify(...) to hooks.json_url() ...
        await hooks.async_wait_for(1)
        assert hooks.messages() == [("title", "body")]

Sync tests and tests of subprocesses use :class:`ThreadedWebhookReceiver`, the
same server on its own event loop in a background thread (the pattern of
:class:`tests.feedserver.ThreadedFeedServer`)::

    with ThreadedWebhookReceiver() as hooks:
        hooks.fail_with(503, times=2)                     # two 503s, then 200 again
        ... notifier runs with hooks.ntfy_url("alerts") ...
        hooks.wait_for(3)

Apprise URL forms (all plain HTTP or plain SMTP; see the builders):

=============================  =================================================
``smtp.url()``                 ``mailto://127.0.0.1:P?from=…&to=…`` — no TLS, no
                               AUTH: ``mailto://`` defaults to ``mode=insecure``
``hooks.json_url("/hook")``    ``json://127.0.0.1:P/hook`` (POSTs
                               ``{"version","title","message","type",…}``)
``hooks.form_url("/form")``    ``form://127.0.0.1:P/form`` (urlencoded fields)
``hooks.ntfy_url("alerts")``   ``ntfy://127.0.0.1:P/alerts`` (POSTs JSON with
                               ``topic`` to ``/``; a body too big for JSON goes
                               raw to ``/alerts?filename=…``)
``hooks.mmost_url("tok")``     ``mmost://127.0.0.1:P/tok`` (POSTs ``{"text"}`` to
                               ``/hooks/tok``; Mattermost has no title, so Apprise
                               folds the title into the text)
=============================  =================================================

The ``s`` forms (``jsons://``, ``ntfys://``, ``mailtos://``…) would use TLS and
are not served here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self, TypeVar
from urllib.parse import parse_qsl, quote, urlencode

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.loopthread import InThread

HOST = "127.0.0.1"
#: How long ``wait_for`` waits by default, and how often it looks.
WAIT_TIMEOUT = 5.0
POLL_INTERVAL = 0.01
FAILURE_TEXT = "failing on purpose (test receiver)"
T = TypeVar("T")


class Notice(NamedTuple):
    """One decoded chat message: what a person would see. Compares equal to a 2-tuple."""

    title: str
    body: str


def _wait_sync(
    collect: Callable[[], list[T]], n: int, timeout: float, what: str, show: Callable[[T], str]
) -> list[T]:
    """Poll ``collect()`` until it holds ``n`` items; after ``timeout`` seconds raise an
    AssertionError that lists (with ``show``) the items that did arrive."""
    deadline = time.monotonic() + timeout
    while True:
        items = collect()
        if len(items) >= n:
            return items
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out([show(i) for i in items], n, timeout, what))
        time.sleep(POLL_INTERVAL)


async def _wait_async(
    collect: Callable[[], list[T]], n: int, timeout: float, what: str, show: Callable[[T], str]
) -> list[T]:
    """:func:`_wait_sync` for a coroutine: the loop keeps running while it waits."""
    deadline = time.monotonic() + timeout
    while True:
        items = collect()
        if len(items) >= n:
            return items
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out([show(i) for i in items], n, timeout, what))
        await asyncio.sleep(POLL_INTERVAL)


def _timed_out(shown: Sequence[str], n: int, timeout: float, what: str) -> str:
    listing = "\n".join(f"  {line}" for line in shown) or "  (nothing)"
    return f"expected {n} {what} within {timeout:g} s, got {len(shown)}:\n{listing}"


def _show_mail(message: EmailMessage) -> str:
    return f"To: {message['to']}, Subject: {str(message['subject'])!r}"


class _FailureSwitch:
    """What to answer instead of success: a status, for every request or the next ``times``.

    Set from the test's thread, consulted on the receiver's thread, hence the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: int | None = None
        self._remaining: int | None = None

    def set(self, status: int, times: int | None) -> None:
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 (or None for 'until recover()'): {times}")
        with self._lock:
            self._status, self._remaining = status, times

    def clear(self) -> None:
        with self._lock:
            self._status = self._remaining = None

    @property
    def active(self) -> bool:
        """True while the next request will be refused."""
        with self._lock:
            return self._status is not None

    def take(self) -> int | None:
        """The status to fail this request with (using up one of ``times``), or None."""
        with self._lock:
            status = self._status
            if status is not None and self._remaining is not None:
                self._remaining -= 1
                if self._remaining == 0:
                    self._status = self._remaining = None
            return status


# ---------------------------------------------------------------------------- SMTP


@dataclass(frozen=True, slots=True)
class MailEnvelope:
    """The SMTP envelope of one accepted message (``MAIL FROM`` and the ``RCPT TO`` list)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]


class _LoopbackController(Controller):
    """aiosmtpd's threaded controller, serving a socket the caller bound already.

    The stock controller cannot listen on port 0: once the server is up it
    connects to ``(hostname, port)``, which would be port 0. Binding first to
    ``127.0.0.1:0`` gives the real port up front, with no window in which
    another process could take it. The server owns the socket once serving.
    """

    def __init__(self, handler: object, sock: socket.socket, **kwargs: Any) -> None:
        self._sock = sock
        host, port = sock.getsockname()
        super().__init__(handler, hostname=host, port=port, **kwargs)

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


class _SmtpHandler:
    """aiosmtpd hooks: refuse while the receiver is failing, otherwise record."""

    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self.receiver._refusal("RCPT")
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self.receiver._refusal("DATA")
        if refusal is not None:
            return refusal
        self.receiver._accept(envelope)
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """A plain SMTP server (no TLS, no AUTH) on 127.0.0.1 that keeps every message.

    A context manager, sync (``with``) or async (``async with``): aiosmtpd runs
    the server on its own thread either way, so sends may block freely.

    ``messages`` holds each accepted message parsed with ``email.policy.default``
    (headers such as an encoded Subject come back decoded), ``envelopes`` the
    matching SMTP envelopes, and ``refused`` counts the commands answered with
    the failure code set by :meth:`fail_with`.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[MailEnvelope] = []
        self.refused = 0
        self.port = 0
        self._controller: _LoopbackController | None = None
        self._failure = _FailureSwitch()
        self._fail_at: Literal["RCPT", "DATA"] = "DATA"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Listen on 127.0.0.1, on a free port (:attr:`port`)."""
        if self._controller is not None:
            raise RuntimeError("the receiver is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((HOST, 0))
            controller = _LoopbackController(
                _SmtpHandler(self),
                sock,
                server_hostname="smtp-receiver.test",  # spares a getfqdn() lookup
            )
        except BaseException:
            sock.close()
            raise
        try:
            controller.start()
        except BaseException:
            with contextlib.suppress(RuntimeError):  # its loop may be closed already
                controller.stop(no_assert=True)
            if not controller.loop.is_closed():
                controller.loop.close()
            sock.close()
            raise
        self._controller = controller
        self.port = controller.port

    def stop(self) -> None:
        """Stop listening and end the server's thread. Safe to call twice."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        self.start()  # a few milliseconds: the server's loop runs on its own thread
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ address

    def url(
        self,
        to: str | Sequence[str] = "desk@example.com",
        sender: str = "notifier@example.com",
        **params: str,
    ) -> str:
        """The Apprise URL that delivers here: ``mailto://127.0.0.1:P?from=…&to=…``.

        Plain ``mailto://`` means ``mode=insecure`` (no STARTTLS) and, without a
        user and password in the URL, no AUTH. An explicit ``from`` is needed,
        since Apprise would otherwise derive the sender from the host.
        ``params`` add query arguments (``cc``, ``bcc``, ``format``, ``name``…).
        With several ``to`` addresses Apprise sends one message per recipient.
        """
        if not self.port:
            raise RuntimeError("the receiver is not running")
        recipients = to if isinstance(to, str) else ",".join(to)
        query = urlencode({"from": sender, "to": recipients, **params})
        return f"mailto://{HOST}:{self.port}?{query}"

    # ------------------------------------------------------------------ failing

    def fail_with(
        self,
        code: int = 451,
        *,
        at: Literal["RCPT", "DATA"] = "DATA",
        times: int | None = None,
    ) -> None:
        """Answer ``code`` to ``at`` (every time, or the next ``times``) until :meth:`recover`.

        4xx codes are temporary failures, 5xx permanent ones; either way the
        message is not kept. At ``RCPT`` the recipient is refused before any
        data is sent; at ``DATA`` the whole message is.
        """
        if not 400 <= code < 600:
            raise ValueError(f"an SMTP failure code is 4xx or 5xx: {code}")
        self._fail_at = at
        self._failure.set(code, times)

    def recover(self) -> None:
        """Accept messages again."""
        self._failure.clear()

    @property
    def failing(self) -> bool:
        """True while the receiver refuses messages."""
        return self._failure.active

    # ------------------------------------------------------------------ what arrived

    def subjects(self) -> list[str]:
        """The decoded Subject of each message, in order of arrival."""
        return [str(message.get("subject", "")) for message in list(self.messages)]

    def bodies(self, preference: Sequence[str] = ("plain", "html")) -> list[str]:
        """The decoded text of each message's body part (text/plain, else text/html)."""
        texts = []
        for message in list(self.messages):
            part = message.get_body(preferencelist=preference)
            texts.append("" if part is None else str(part.get_content()))
        return texts

    def reset(self) -> None:
        """Forget the messages and refusals received so far."""
        self.messages.clear()
        self.envelopes.clear()
        self.refused = 0

    def wait_for(self, n: int, timeout: float = WAIT_TIMEOUT) -> list[EmailMessage]:
        """Block until at least ``n`` messages have arrived; return them all.

        Raises AssertionError, listing what did arrive, after ``timeout`` seconds.
        """
        return _wait_sync(self._snapshot, n, timeout, "e-mails", _show_mail)

    async def async_wait_for(self, n: int, timeout: float = WAIT_TIMEOUT) -> list[EmailMessage]:
        """:meth:`wait_for` without blocking the caller's event loop."""
        return await _wait_async(self._snapshot, n, timeout, "e-mails", _show_mail)

    def _snapshot(self) -> list[EmailMessage]:
        return list(self.messages)

    # ------------------------------------------------------------------ called by the handler

    def _refusal(self, command: Literal["RCPT", "DATA"]) -> str | None:
        if command != self._fail_at:
            return None
        code = self._failure.take()
        if code is None:
            return None
        self.refused += 1
        return f"{code} {code // 100}.3.0 {FAILURE_TEXT}"

    def _accept(self, envelope: Envelope) -> None:
        raw = envelope.original_content
        if raw is None:
            raw = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(raw, policy=default_policy)
        if not isinstance(message, EmailMessage):  # pragma: no cover - the policy makes one
            raise TypeError(f"expected an EmailMessage, got {type(message).__name__}")
        self.envelopes.append(MailEnvelope(envelope.mail_from or "", tuple(envelope.rcpt_tos)))
        self.messages.append(message)


# ---------------------------------------------------------------------------- webhooks


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One request the webhook receiver got, and the status it answered.

    ``headers`` keys are lower-case (repeated headers joined with ``, ``);
    ``json`` is the parsed body when the request said it was JSON (else None);
    ``form`` the fields of a urlencoded form body (else None).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    form: dict[str, str] | None
    status: int
    received: float = field(default_factory=time.monotonic)  # when it arrived (monotonic)

    @classmethod
    def of(cls, request: web.BaseRequest, body: bytes, status: int) -> WebhookRequest:
        """Record ``request``, whose body was ``body``, answered with ``status``."""
        headers: dict[str, str] = {}
        for key, value in request.headers.items():
            k = key.lower()
            headers[k] = f"{headers[k]}, {value}" if k in headers else value
        content_type = request.content_type
        parsed: Any = None
        if content_type == "application/json" or content_type.endswith("+json"):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        form = None
        if content_type == "application/x-www-form-urlencoded":
            text = body.decode(request.charset or "utf-8", errors="replace")
            form = dict(parse_qsl(text, keep_blank_values=True))
        return cls(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=headers,
            body=body,
            json=parsed,
            form=form,
            status=status,
        )

    @property
    def accepted(self) -> bool:
        """True if the receiver answered with success (2xx)."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        """``(user, password)`` from an ``Authorization: Basic`` header, or None."""
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return user, password

    @property
    def bearer(self) -> str | None:
        """The token of an ``Authorization: Bearer`` header, or None."""
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None

    def summary(self) -> str:
        """One line for failure messages: method, path, status and what it carried."""
        notice = self.notice()
        carried = tuple(notice) if notice is not None else self.text[:80]
        return f"{self.method} {self.path} -> {self.status}: {carried!r}"

    def notice(self) -> Notice | None:
        """The message this request carries, as a person would read it, if it is one
        of the payloads Apprise sends here (None otherwise):

        - ``json://``: ``{"version", "title", "message", "type", …}``
        - ``ntfy://``: ``{"topic", "title"?, "message"?}`` to ``/``; a body too big
          for JSON arrives raw at ``/{topic}?filename=…`` (title folded in)
        - ``mmost://`` (webhook): ``{"text", "username", …}``, title folded in
        - ``form://``: form fields ``title`` and ``message``
        """
        payload = self.json
        if isinstance(payload, dict):
            if "topic" in payload:
                return Notice(str(payload.get("title", "")), str(payload.get("message", "")))
            if "message" in payload:
                return Notice(str(payload.get("title") or ""), str(payload["message"]))
            if "text" in payload:
                return Notice("", str(payload["text"]))
            return None
        if self.form is not None and "message" in self.form:
            return Notice(self.form.get("title", ""), self.form["message"])
        if "filename" in self.query:
            return Notice("", self.text)
        return None


class WebhookReceiver:
    """A chat-webhook server on 127.0.0.1; an async context manager (see the module docstring).

    Every request, whatever its path or method, is recorded in :attr:`requests`
    and answered 200 with ``{"ok": true}`` — or, while :meth:`fail_with` is in
    force, with that status and an ntfy-style error body
    ``{"code": status, "http": status, "error": …}`` (so Apprise's ntfy plugin
    logs the reason).
    """

    def __init__(self) -> None:
        self.requests: list[WebhookRequest] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._serving_loop: asyncio.AbstractEventLoop | None = None
        self._failure = _FailureSwitch()
        self._failure_headers: dict[str, str] = {}
        self._stall: tuple[str, float, int] | None = None  # (how, seconds, bytes)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1, on a free port (:attr:`port`)."""
        if self._runner is not None:
            raise RuntimeError("the receiver is already running")
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._serving_loop = asyncio.get_running_loop()
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening. Safe to call twice."""
        runner, self._runner = self._runner, None
        self._serving_loop = None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ addresses

    def url(self, path: str = "/") -> str:
        """The plain ``http://`` URL of ``path`` (which starts with ``/``) on this receiver."""
        return f"http://{self._netloc()}{path}"

    def json_url(
        self,
        path: str = "/hook",
        *,
        user: str | None = None,
        password: str | None = None,
        **params: str,
    ) -> str:
        """``json://[user:password@]127.0.0.1:P/hook``: Apprise POSTs its JSON payload
        to ``path`` over plain HTTP (``jsons://`` would be HTTPS), with basic auth
        if a user is given. No pacing: Apprise's json plugin sends back to back."""
        return self._apprise_url("json", path, user, password, params)

    def form_url(
        self,
        path: str = "/form",
        *,
        user: str | None = None,
        password: str | None = None,
        **params: str,
    ) -> str:
        """``form://127.0.0.1:P/form``: like :meth:`json_url`, as urlencoded fields."""
        return self._apprise_url("form", path, user, password, params)

    def ntfy_url(self, topic: str = "alerts", **params: str) -> str:
        """``ntfy://127.0.0.1:P/alerts``: Apprise's ntfy plugin in private mode (an IP
        host with a topic selects it) over plain HTTP (``ntfys://`` would be
        HTTPS). It POSTs ``{"topic", "title", "message"}`` to ``/``."""
        return self._apprise_url("ntfy", f"/{quote(topic, safe='')}", None, None, params)

    def mmost_url(self, token: str = "tok3n", **params: str) -> str:  # noqa: S107 - a test token
        """``mmost://127.0.0.1:P/tok3n``: a Mattermost incoming webhook over plain
        HTTP; Apprise POSTs ``{"text", "username", …}`` to ``/hooks/tok3n``."""
        return self._apprise_url("mmost", f"/{quote(token, safe='')}", None, None, params)

    def _netloc(self) -> str:
        if not self.port:
            raise RuntimeError("the receiver is not running")
        return f"{HOST}:{self.port}"

    def _apprise_url(
        self,
        scheme: str,
        path: str,
        user: str | None,
        password: str | None,
        params: dict[str, str],
    ) -> str:
        auth = ""
        if user is not None:
            auth = quote(user, safe="")
            if password is not None:
                auth += ":" + quote(password, safe="")
            auth += "@"
        query = f"?{urlencode(params)}" if params else ""
        return f"{scheme}://{auth}{self._netloc()}{path}{query}"

    # ------------------------------------------------------------------ failing

    def fail_with(
        self, status: int = 503, times: int | None = None, *, headers: dict[str, str] | None = None
    ) -> None:
        """Answer ``status`` (with ``headers``, e.g. ``Retry-After``) to every request,
        or to the next ``times`` only, until :meth:`recover`."""
        if not 300 <= status < 600:
            raise ValueError(f"a failure status is 3xx, 4xx or 5xx: {status}")
        self._failure_headers = dict(headers or {})
        self._failure.set(status, times)

    def recover(self) -> None:
        """Answer 200 again, at once (also ends :meth:`drip`, :meth:`hang`, :meth:`delay`)."""
        self._failure.clear()
        self._stall = None

    def drip(self, every: float = 1.0, size: int = 600) -> None:
        """Answer 200 at once, then send the ``size``-byte body one byte every ``every``
        seconds: a read timeout never fires, the request just never ends soon."""
        self._stall = ("drip", every, size)

    def hang(self) -> None:
        """Never answer (the connection stays open until the receiver stops)."""
        self._stall = ("hang", 0.0, 0)

    def delay(self, seconds: float) -> None:
        """Answer normally, but only after ``seconds``."""
        self._stall = ("delay", seconds, 0)

    @property
    def failing(self) -> bool:
        """True while the next request will be answered with the failure status."""
        return self._failure.active

    # ------------------------------------------------------------------ what arrived

    def accepted(self) -> list[WebhookRequest]:
        """The requests answered with success, oldest first."""
        return [r for r in list(self.requests) if r.accepted]

    def requests_to(self, path: str) -> list[WebhookRequest]:
        """The requests for ``path`` (without query), oldest first."""
        return [r for r in list(self.requests) if r.path == path]

    def messages(self) -> list[Notice]:
        """The ``(title, body)`` of each accepted request that carries a message."""
        notices = (r.notice() for r in self.accepted())
        return [n for n in notices if n is not None]

    def reset(self) -> None:
        """Forget the requests received so far."""
        self.requests.clear()

    def wait_for(
        self, n: int, timeout: float = WAIT_TIMEOUT, *, accepted: bool = False
    ) -> list[WebhookRequest]:
        """Block until at least ``n`` requests (only accepted ones with ``accepted``)
        have arrived; return them all. Raises AssertionError, listing what did
        arrive, after ``timeout`` seconds.

        For :class:`ThreadedWebhookReceiver`, or any caller not running on the
        receiver's own event loop (which this would block: use
        :meth:`async_wait_for` there).
        """
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is self._serving_loop:
            raise RuntimeError(
                "wait_for() would block the event loop this receiver answers on: "
                "use 'await receiver.async_wait_for(...)'"
            )
        collect = self._collector(accepted)
        return _wait_sync(collect, n, timeout, "webhook requests", WebhookRequest.summary)

    async def async_wait_for(
        self, n: int, timeout: float = WAIT_TIMEOUT, *, accepted: bool = False
    ) -> list[WebhookRequest]:
        """:meth:`wait_for` for async tests: the event loop keeps serving meanwhile."""
        collect = self._collector(accepted)
        return await _wait_async(collect, n, timeout, "webhook requests", WebhookRequest.summary)

    def _collector(self, accepted: bool) -> Callable[[], list[WebhookRequest]]:
        return self.accepted if accepted else lambda: list(self.requests)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        status = self._failure.take()
        self.requests.append(WebhookRequest.of(request, body, status or 200))
        stall = self._stall
        if status is None and stall is not None:
            how, seconds, size = stall
            if how == "hang":
                await asyncio.sleep(3600)
            elif how == "delay":
                await asyncio.sleep(seconds)
            else:  # drip
                response = web.StreamResponse(status=200)
                response.content_length = size
                response.content_type = "application/json"
                await response.prepare(request)
                for _ in range(size):
                    await response.write(b" ")
                    await asyncio.sleep(seconds)
                return response
        if status is None:
            return web.json_response({"ok": True})
        error = {"code": status, "http": status, "error": FAILURE_TEXT}
        return web.json_response(error, status=status, headers=self._failure_headers)


class ThreadedWebhookReceiver(InThread, WebhookReceiver):
    """A :class:`WebhookReceiver` running in a background thread with its own event loop.

    For sync tests and tests of subprocesses: ``with ThreadedWebhookReceiver() as r:``.
    Everything else works the same; handlers run in the receiver's thread.
    """

    _thread_name = "webhook-receiver"
