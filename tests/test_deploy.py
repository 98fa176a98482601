"""The systemd unit in ``deploy/``: valid, hardened, and the daemon still works under it."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NOTIFIER, ROOT
from tests.feedserver import ThreadedFeedServer
from tests.test_poll import ITEMS, rss

UNIT = ROOT / "deploy" / "notifier.service"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
NO_SYSTEMD = "systemd-analyze is not installed (apt-get install systemd)"


def service_section() -> dict[str, list[str]]:
    """The [Service] directives of the unit, each with every value it is given."""
    directives: dict[str, list[str]] = {}
    section = ""
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section == "Service":
            key, _, value = line.partition("=")
            directives.setdefault(key.strip(), []).append(value.strip())
    return directives


def test_unit_has_the_key_hardening_directives() -> None:
    """The unit confines the daemon: read-only system, its own state folder, no
    privileges, no kernel access, only the socket families and system calls it uses."""
    d = service_section()
    expected = {
        "ProtectSystem": "strict",
        "StateDirectory": "notifier",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "ProtectClock": "yes",
        "ProtectHostname": "yes",
        "RestrictNamespaces": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "RestrictRealtime": "yes",
        "RestrictSUIDSGID": "yes",
        "SystemCallArchitectures": "native",
        "CapabilityBoundingSet": "",
        "UMask": "0077",
    }
    for key, value in expected.items():
        assert d.get(key) == [value], f"{key}={value} expected, found {d.get(key)}"
    assert set(d["RestrictAddressFamilies"][0].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert "@system-service" in d["SystemCallFilter"]
    # What the daemon itself relies on stays.
    assert d["Type"] == ["notify"]
    assert d["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert "NOTIFIER_STATE_DIR=/var/lib/notifier" in d["Environment"]


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason=NO_SYSTEMD)
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """``systemd-analyze verify`` finds nothing wrong: no unknown directive, no bad value.

    The unit names /opt/notifier/bin/notifier, which is not installed here, so the
    copy verified points ExecStart at this checkout's ``notifier`` instead.
    """
    text = UNIT.read_text(encoding="utf-8")
    copy = tmp_path / "notifier.service"
    copy.write_text(text.replace("/opt/notifier/bin/notifier", str(NOTIFIER)), encoding="utf-8")
    proc = subprocess.run(
        [str(SYSTEMD_ANALYZE), "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stderr.strip() == "", proc.stderr


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason=NO_SYSTEMD)
def test_unit_exposure_is_below_3() -> None:
    """``systemd-analyze security`` rates the unit below 3.0 (it was 8.5 EXPOSED)."""
    proc = subprocess.run(
        [str(SYSTEMD_ANALYZE), "security", "--offline=yes", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", proc.stdout + proc.stderr)
    if found is None:
        pytest.skip(f"this systemd-analyze cannot rate a unit offline: {proc.stderr.strip()}")
    assert float(found.group(1)) < 3.0, proc.stdout
    stated = re.search(r"rates it\s*\n#\s*(\d+\.\d+) OK", UNIT.read_text(encoding="utf-8"))
    assert stated is not None, "the unit's header should state its score"


PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1


def _deny_write_execute() -> None:
    """In the child, before exec: what MemoryDenyWriteExecute=yes enforces."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE)")


def _mdwe_supported() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    proc = subprocess.run(
        [sys.executable, "-c", "pass"],
        preexec_fn=_deny_write_execute,  # the point of the test
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _mdwe_supported(), reason="needs Linux 6.3+ for prctl(PR_SET_MDWE)")
def test_daemon_works_with_memory_deny_write_execute(tmp_path: Path) -> None:
    """Python, the libraries and the forkserver parse pool work when memory can never
    be writable and executable, as under the unit's MemoryDenyWriteExecute=yes."""
    with ThreadedFeedServer() as server:
        server.feed("/news.xml", rss(*ITEMS))
        config = tmp_path / "watch.yaml"
        config.write_text(
            "channels:\n  console: ['console://']\n"
            f"feeds:\n  - name: news\n    url: {server.url('/news.xml')}\n"
            "watches:\n  - name: rare-earths\n    any: ['rare earth', '稀土']\n",
            encoding="utf-8",
        )
        proc = subprocess.run(
            [str(NOTIFIER), "once", "--dry-run", "--config", str(config)],
            preexec_fn=_deny_write_execute,  # the point of the test
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    assert "MATCH rare-earths" in proc.stdout
    assert "1 feeds polled: 1 ok" in proc.stderr or "1 feed polled: 1 ok" in proc.stderr


def test_the_scale_compose_file_runs_workers_on_one_postgresql() -> None:
    """docker-compose.scale.yml (no Docker engine here: its content is checked): a
    PostgreSQL service with a health check, and a worker service running `worker`
    with NOTIFIER_STATE_URL at that service, the config mounted read-only, started
    only once PostgreSQL is healthy; the image carries the postgres extra."""
    from ruamel.yaml import YAML  # noqa: PLC0415

    compose = YAML(typ="safe").load((ROOT / "docker-compose.scale.yml").read_text("utf-8"))
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    worker = services["worker"]
    assert worker["command"] == ["worker"]
    assert worker["environment"]["NOTIFIER_STATE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in worker["environment"]["NOTIFIER_STATE_URL"]
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "./config:/config:ro" in worker["volumes"]
    assert worker["deploy"]["replicas"] >= 2
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "notifier[postgres]" in dockerfile
