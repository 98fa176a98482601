"""The web UI over HTTP: a :class:`ThreadingHTTPServer` in a daemon thread, delegating
every request to :meth:`notifier.web.app.WebApp.handle`.

Threads, like :mod:`notifier.runtime.http`: a page reads SQLite, which must not run on
the daemon's event loop. Each connection has a socket timeout (:data:`TIMEOUT`), so a
slow or silent client holds its thread that long at most; a request body is never
read; there is no access log.
"""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from notifier.web.app import WebApp

#: Seconds a connection may sit idle (reading the request, writing the answer).
TIMEOUT: Final = 10.0


class WebServer:
    """The web UI on ``host:port`` (port 0: any free one; see :attr:`port`)."""

    def __init__(self, app: WebApp, host: str, port: int, *, timeout: float = TIMEOUT) -> None:
        """``timeout``: seconds a connection may sit idle before it is closed."""
        self._server = ThreadingHTTPServer((host, port), _handler(app, timeout))
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.25},
            name="notifier-web",
            daemon=True,
        )

    def start(self) -> None:
        """Serve in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket (requests in flight end on their own)."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def _handler(app: WebApp, idle: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "notifier"
        sys_version = ""
        timeout = idle  # applied to the connection's socket by StreamRequestHandler

        def _answer(self) -> None:
            response = app.handle(self.command, self.path, dict(self.headers.items()))
            with contextlib.suppress(OSError):
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if response.body:
                    self.wfile.write(response.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return  # no access log

    return Handler
