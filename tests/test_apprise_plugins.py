"""Apprise loads only the plugins of the schemes in use (idle memory), and nothing changes.

Apprise imports all of its ~190 plugin modules (~17 MiB) the first time its plugin
registry is touched; :mod:`notifier.delivery.apprise` imports only those the
channel URLs need, found in :mod:`notifier.delivery.apprise_index`. Each test
runs in a fresh interpreter, because a process where any test loaded every
plugin would hide a plugin not loaded on its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from notifier.delivery.apprise_index import APPRISE_VERSION, MODULE_OF

ROOT = Path(__file__).resolve().parents[1]


def fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


PLUGINS = """
import sys
def plugins():
    found = {m.split(".")[2] for m in sys.modules if m.startswith("apprise.plugins.")}
    return sorted(found - {"base"})  # NotifyBase: imported with Apprise itself
"""


def test_the_index_is_apprises_own_table() -> None:
    """The generated scheme -> module table is what a full load of the installed Apprise
    gives (regenerate it with ``python -m notifier.delivery.apprise_index`` if not)."""
    result = fresh(
        """
        import json
        from notifier.delivery.apprise_index import full_table
        version, table = full_table()
        print(json.dumps({"version": version, "table": table}))
        """
    )
    assert result["version"] == APPRISE_VERSION
    assert result["table"] == MODULE_OF


USE = """
import json
from notifier.delivery.apprise import check_url, load_apprise, mask_url, secrets_of
from notifier.pipeline.sender import body_formats
load_apprise()
before = plugins()
urls = [
    "json://127.0.0.1:8080/hook",
    "mailto://127.0.0.1:1025?from=a@example.com&to=b@example.com",
    "ntfy://127.0.0.1:8081/topic",
    "console://?format=text",
]
checks = [check_url(u) for u in urls]
masks = [mask_url(u) for u in urls]
secrets = sorted(secrets_of(["json://user:s3cretPassw0rd@127.0.0.1/hook", *urls]))
formats = [list(body_formats(u)) for u in urls]
print(json.dumps({"before": before, "after": plugins(), "checks": checks,
                  "masks": masks, "formats": formats, "secrets": secrets}))
"""
#: Apprise's own full load first (as before this change): every plugin is in the registry.
FULL = """
import apprise
apprise.NotificationManager().load_modules()
"""


def test_only_the_plugins_of_the_schemes_in_use_are_imported() -> None:
    """Checking, masking, finding secrets and reading the formats of json://, mailto://
    and ntfy:// URLs imports those three plugin modules only (the console schema needs
    none), and every answer is the one given with all plugins loaded."""
    selective = fresh(PLUGINS + USE)
    full = fresh(PLUGINS + FULL + USE)
    assert selective["before"] == []
    assert selective["after"] == ["custom_json", "email", "ntfy"]
    assert isinstance(full["after"], list)
    assert len(full["after"]) > 100
    assert selective["checks"] == [None, None, None, None]
    for key in ("checks", "masks", "formats", "secrets"):
        assert selective[key] == full[key], key


def test_an_unknown_scheme_is_refused_with_the_same_message() -> None:
    """An unknown scheme loads every plugin, as Apprise would, and is refused with the
    message the config check always gave; a scheme Apprise reads but the URL not, too."""
    result = fresh(
        PLUGINS
        + """
import json
from notifier.delivery.apprise import check_url
print(json.dumps({"unknown": check_url("nosuch://x/y"), "bad": check_url("json://"),
                  "loaded": len(plugins())}))
"""
    )
    assert result["unknown"] == "unknown Apprise scheme 'nosuch://'"
    assert result["bad"] == (
        "Apprise cannot use this json:// URL: check its host, tokens and options "
        "against the Apprise documentation for that service"
    )
    loaded = result["loaded"]
    assert isinstance(loaded, int)
    assert loaded > 100  # the full load


def test_a_url_rotated_to_a_new_scheme_loads_its_plugin_and_sends() -> None:
    """After json:// is in use, a channel rotated to form:// (a reload) loads that plugin
    at its first check, and both deliver to a local webhook."""
    result = fresh(
        PLUGINS
        + """
import json, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from notifier.delivery.apprise import check_url
from notifier.pipeline.sender import AppriseSink
got = []
class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        got.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
server = HTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=server.serve_forever, daemon=True).start()
port = server.server_address[1]
first = f"json://127.0.0.1:{port}/one"
assert check_url(first) is None
sent = [AppriseSink._send(first, "T", "B", "text", "info").ok]
loaded_before = plugins()
rotated = f"form://127.0.0.1:{port}/two"
assert check_url(rotated) is None
sent.append(AppriseSink._send(rotated, "T", "B", "text", "info").ok)
server.shutdown()
print(json.dumps({"sent": sent, "paths": [p for p, _ in got], "before": loaded_before,
                  "after": plugins()}))
"""
    )
    assert result["sent"] == [True, True]
    assert result["paths"] == ["/one", "/two"]
    assert result["before"] == ["custom_json"]
    assert result["after"] == ["custom_form", "custom_json"]


def test_the_console_schema_sends_without_loading_any_plugin() -> None:
    """``console://`` with options goes through Apprise (our own schema) and prints the alert;
    no Apprise plugin module is imported for it."""
    result = fresh(
        PLUGINS
        + """
import contextlib, io, json
from notifier.pipeline.sender import AppriseSink
out = io.StringIO()
with contextlib.redirect_stdout(out):
    ok = AppriseSink._send("console://?format=text", "Title", "Body", "text", "info").ok
print(json.dumps({"ok": ok, "out": out.getvalue(), "plugins": plugins()}))
"""
    )
    assert result["ok"] is True
    assert "Title" in str(result["out"])
    assert "Body" in str(result["out"])
    assert result["plugins"] == []
