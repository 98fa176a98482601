"""Peers for the benchmark: other feed tools, each in its own virtualenv under ``bench/.peers``.

Every peer is installed from the package registry with pip into
``bench/.peers/<name>/`` (kept between runs: a marker file records the requirement list
and the installed versions, and the virtualenv is rebuilt when the list changes). Each
cycle runs the peer's driver, ``python -m bench.drivers.<name>``, with that virtualenv's
interpreter, from the repository root; the driver times the cycle itself and prints one
JSON line (see :mod:`bench.drivers._common`).

A peer that cannot be installed or run is recorded as unavailable, with the reason
(the tail of the failing command's stderr), and the benchmark goes on without it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS_DIR = ROOT / "bench" / ".peers"
MARKER = "bench-peer.json"
PIP_TIMEOUT = 900


@dataclass(frozen=True, slots=True)
class PeerSpec:
    name: str
    requirements: tuple[str, ...]
    #: Packages whose versions the report shows (every installed version is recorded).
    shown: tuple[str, ...]
    about: str
    note: str = ""


SPECS: dict[str, PeerSpec] = {
    spec.name: spec
    for spec in (
        PeerSpec(
            "httpx_feedparser",
            ("httpx", "feedparser"),
            ("httpx", "feedparser"),
            "plain httpx.AsyncClient + feedparser.parse loop with conditional GET",
        ),
        PeerSpec(
            "rss2email",
            ("rss2email",),
            ("rss2email", "feedparser", "html2text"),
            "rss2email: r2e run --no-send",
        ),
        PeerSpec(
            "feed2exec",
            ("feed2exec",),
            ("feed2exec", "feedparser", "requests", "CacheControl", "dateparser"),
            "feed2exec: feed2exec fetch --parallel, null output plugin",
        ),
        PeerSpec(
            "reader",
            ("reader", "sgmllib3k"),
            ("reader", "feedparser", "requests", "sgmllib3k"),
            "lemon24/reader: update_feeds(scheduled=False, workers=N)",
            note=(
                "sgmllib3k is installed next to reader: reader's vendored copy of feedparser "
                "imports sgmllib, which the feedparser pip resolves today (6.0.14) no longer "
                "pulls in (it depends on feedparser-sgmllib instead), so with `pip install "
                "reader` alone its parser fails to load (add_feed, update_feeds) with "
                "ModuleNotFoundError: No module named 'sgmllib'"
            ),
        ),
    )
}
PEER_NAMES = tuple(SPECS)


class PeerError(Exception):
    """A peer could not be installed or run; ``str()`` is the short reason."""


@dataclass(slots=True)
class PeerEnv:
    spec: PeerSpec
    venv: Path
    available: bool = False
    reason: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    install: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def fail(self, reason: str) -> None:
        self.available = False
        self.reason = reason

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "available": self.available,
            "about": self.spec.about,
            "requirements": list(self.spec.requirements),
            "venv": shown_path(self.venv),
            "install": self.install,
            "versions": {k: v for k, v in self.versions.items() if k in self.spec.shown},
            "all_versions": self.versions,
            "settings": self.settings,
        }
        if self.spec.note:
            out["note"] = self.spec.note
        if self.reason is not None:
            out["reason"] = self.reason
        return out


def shown_path(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def parse_names(value: str) -> tuple[str, ...]:
    """``all``, ``none`` or a comma-separated list of peer names."""
    value = value.strip()
    if value == "all":
        return PEER_NAMES
    if value in ("none", ""):
        return ()
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        raise ValueError(f"unknown peer(s) {', '.join(unknown)}; known: {', '.join(PEER_NAMES)}")
    return tuple(dict.fromkeys(names))


def tail(text: str, lines: int = 6, limit: int = 600) -> str:
    """The end of a command's stderr, without pip's notices about unusable index folders."""
    kept = [
        line
        for line in text.strip().splitlines()
        if line.strip() and not (line.startswith("WARNING: Location ") and "is ignored" in line)
    ]
    out = "\n".join(kept[-lines:])
    return out[-limit:] if out else "(no output)"


def _run(cmd: list[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(  # noqa: S603 - fixed commands, our own arguments
            cmd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
        )
    except subprocess.TimeoutExpired as e:
        raise PeerError(
            f"{Path(cmd[0]).name} {' '.join(cmd[1:4])}: timed out after {timeout:.0f}s"
        ) from e
    except OSError as e:
        raise PeerError(f"{cmd[0]}: {e}") from e
    if proc.returncode != 0:
        raise PeerError(f"exit status {proc.returncode}: {tail(proc.stderr or proc.stdout)}")
    return proc


def _pip(python: Path) -> list[str]:
    """Our own pip, acting on the peer's interpreter (pip >= 22.3)."""
    return [sys.executable, "-m", "pip", "--python", str(python)]


#: What the peer's own interpreter reports as installed (no pip involved).
_LIST = (
    "import importlib.metadata as m, json; "
    "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
)


def _installed(python: Path, wanted: tuple[str, ...] = ()) -> dict[str, str]:
    """The distributions installed in a peer's venv, read by its own interpreter; read
    again once if one of ``wanted`` is missing (a CI run once got an empty list)."""
    found: dict[str, str] = {}
    for _ in range(2):
        proc = _run([str(python), "-c", _LIST], timeout=120)
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        found = {str(k): str(v) for k, v in json.loads(lines[-1]).items()} if lines else {}
        names = {k.lower().replace("_", "-") for k in found}
        if all(w.lower().replace("_", "-") in names for w in wanted):
            break
    return found


def _marker(spec: PeerSpec) -> dict[str, Any]:
    return {"requirements": list(spec.requirements), "python": sys.version}


def discard(path: Path) -> None:
    """Remove a stale or half-built virtualenv without ever failing the run on it.

    It is first renamed aside (atomic, so a new one can be built at once), then removed
    ignoring errors: a CI machine once failed the whole benchmark in ``shutil.rmtree`` on
    a half-built venv whose ``include`` vanished while it was being removed."""
    if not (path.exists() or path.is_symlink()):
        return
    aside = path.with_name(f".{path.name}.stale-{os.getpid()}-{time.monotonic_ns()}")
    try:
        path.rename(aside)
    except OSError:
        aside = path
    shutil.rmtree(aside, ignore_errors=True)
    for old in path.parent.glob(f".{path.name}.stale-*"):  # left by an earlier run
        shutil.rmtree(old, ignore_errors=True)


def _names(requirements: tuple[str, ...]) -> tuple[str, ...]:
    """The distribution names of requirement strings ("reader>=3" → "reader")."""
    return tuple(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0] for r in requirements)


def ensure(spec: PeerSpec, progress: Callable[[str], None], root: Path = PEERS_DIR) -> PeerEnv:
    """The peer's virtualenv, reused when its marker matches, else (re)built with pip."""
    env = PeerEnv(spec, root / spec.name)
    marker = env.venv / MARKER
    try:
        saved = json.loads(marker.read_text()) if marker.exists() else None
    except (OSError, ValueError):
        saved = None
    if saved is not None and env.python.exists() and saved.get("versions"):
        if {k: saved.get(k) for k in ("requirements", "python")} == _marker(spec):
            env.available = True
            env.versions = saved.get("versions", {})
            env.install = "reused"
            progress(f"peer {spec.name}: reusing {shown_path(env.venv)}")
            return env
        progress(f"peer {spec.name}: requirements or Python changed, rebuilding")
    started = time.perf_counter()
    try:
        discard(env.venv)
        env.venv.parent.mkdir(parents=True, exist_ok=True)
        progress(f"peer {spec.name}: creating a virtualenv in {shown_path(env.venv)}")
        # No pip inside the peer's venv: ensurepip failed once on a CI machine
        # with its output swallowed by ``venv``. Our own pip installs into it
        # (``pip --python``), and a failed install is tried once more.
        _run([sys.executable, "-m", "venv", "--without-pip", str(env.venv)], timeout=300)
        progress(f"peer {spec.name}: pip install {' '.join(spec.requirements)}")
        install = [*_pip(env.python), "install", "--quiet", *spec.requirements]
        try:
            _run(install, timeout=PIP_TIMEOUT)
        except PeerError as e:
            progress(f"peer {spec.name}: install failed ({e}), trying once more")
            _run(install, timeout=PIP_TIMEOUT)
        env.versions = _installed(env.python, _names(spec.requirements))
        if not env.versions:
            raise PeerError("installed, but its interpreter lists no distribution")
    except (PeerError, OSError) as e:
        env.fail(f"install failed: {e}")
        progress(f"peer {spec.name}: NOT AVAILABLE: {env.reason}")
        return env
    marker.write_text(json.dumps({**_marker(spec), "versions": env.versions}, indent=2) + "\n")
    env.available = True
    env.install = f"installed in {time.perf_counter() - started:.1f}s"
    shown = ", ".join(f"{k} {v}" for k, v in env.versions.items() if k in spec.shown)
    progress(f"peer {spec.name}: {env.install} ({shown})")
    return env


def prepare(names: tuple[str, ...], progress: Callable[[str], None]) -> list[PeerEnv]:
    return [ensure(SPECS[name], progress) for name in names]


def driver_env(xdg: Path) -> dict[str, str]:
    """The driver's environment: no leaked Python settings, XDG folders of its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    }
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        folder = xdg / name.lower()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[name] = str(folder)
    no_proxy = ",".join(filter(None, (env.get("NO_PROXY", ""), "127.0.0.1,localhost")))
    env["NO_PROXY"] = env["no_proxy"] = no_proxy
    return env


def run_cycle(
    env: PeerEnv, *, urls: Path, work: Path, cycle: str, concurrency: int, timeout: float
) -> tuple[float, float, dict[str, Any]]:
    """One cycle by the peer's driver: ``(wall, cpu, detail)``; raises :class:`PeerError`."""
    work.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(env.python),
        "-m",
        f"bench.drivers.{env.name}",
        "--urls",
        str(urls),
        "--work",
        str(work / "state"),
        "--cycle",
        cycle,
        "--concurrency",
        str(concurrency),
    ]
    started = time.perf_counter()
    proc = _run(cmd, timeout=timeout, cwd=ROOT, env=driver_env(work / "xdg"))
    process_wall = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        result = json.loads(lines[-1])
        wall, cpu = float(result.pop("wall")), float(result.pop("cpu"))
    except (IndexError, ValueError, KeyError, TypeError) as e:
        raise PeerError(f"no result line from the driver ({e}): {tail(proc.stderr)}") from e
    env.settings = result.pop("settings", env.settings)
    result.pop("versions", None)
    result["process_wall"] = process_wall
    stderr = [line for line in proc.stderr.splitlines() if line.strip()]
    if stderr:
        result["stderr_lines"] = len(stderr)
        result["stderr_last"] = stderr[-1][-300:]
    return wall, cpu, result
