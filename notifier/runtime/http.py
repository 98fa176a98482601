"""``GET /healthz`` and ``GET /metrics`` over HTTP, served by a thread of their own.

A thread, not the event loop: when something blocks the loop, the endpoint
still answers — 503, naming the blocked loop (see :mod:`notifier.runtime.monitor`).
No access log; nothing but the two paths.
"""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import prometheus_client

from notifier.runtime.monitor import Health, Metrics


class HealthServer:
    """``/healthz`` and ``/metrics`` over HTTP, served by a thread of their own."""

    def __init__(self, health: Health, metrics: Metrics, host: str, port: int) -> None:
        handler = _handler(health, metrics)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.25},
            name="notifier-health",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(health: Health, metrics: Metrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "notifier"
        sys_version = ""

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                verdict = health.judge()
                body = json.dumps(verdict.body, ensure_ascii=False).encode()
                self._reply(200 if verdict.ok else 503, "application/json", body)
            elif path == "/metrics":
                self._reply(200, prometheus_client.CONTENT_TYPE_LATEST, metrics.render())
            else:
                self._reply(404, "text/plain; charset=utf-8", b"not found\n")

        def _reply(self, status: int, kind: str, body: bytes) -> None:
            with contextlib.suppress(OSError):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # no access log

    return Handler
