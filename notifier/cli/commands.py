"""The ``notifier`` command: the only module that knows about argv and exit codes.

Start-up is kept short: this module imports only the standard library and
notifier's own light modules, and each command imports what it needs when it
runs. So ``notifier --version`` and ``--help`` load no pydantic, Apprise,
aiohttp, APScheduler or feedparser, and ``notifier check`` loads the config
schema but not the poller or the sender (``tests/test_lazy_imports.py`` holds
this in place; ``python -m bench.startup`` measures it).

Exit codes, for scripts:

* ``0`` success (for ``check``: the config is valid);
* ``1`` the config is invalid or cannot be read, or the run failed;
* ``2`` usage error: unknown command or flag, a bad setting value, an unknown watch;
* ``3`` (``once``) the run completed but one or more feeds failed; (``deliver``)
  messages are still pending or were dead-lettered;
* ``130`` interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

from notifier import __version__, clock
from notifier.config.flags import ENV, FLAGS, PARSERS, parse_path
from notifier.durations import parse_duration
from notifier.errors import ConfigEditError, ConfigError, FeedError, NotifierError, StateError

if TYPE_CHECKING:
    from notifier.config.settings import Settings
    from notifier.delivery.stages import Fallback
    from notifier.model import ChannelStatus, Config
    from notifier.pipeline.sender import AppriseSink
    from notifier.storage import State
    from notifier.storage.cluster import WorkerRow

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_FEEDS_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
T = TypeVar("T")

DESCRIPTION = """\
notifier watches RSS/Atom feeds for keyword matches and tracks deadlines,
and sends alerts through Apprise (email, Slack, Telegram, ntfy, webhooks...).
Everything it watches is set in one YAML file, the watch config."""

EPILOG = """\
Flags win over environment variables, which win over defaults.
Exit codes: 0 ok, 1 invalid config or failed run, 2 usage error,
3 some feeds failed (once), 130 interrupted.
Run "notifier COMMAND --help" for a command's own options."""


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line on stderr (no usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# --------------------------------------------------------------------------- option types
# Every option that takes a value has a type= below, so argparse itself refuses a
# bad value with a one-line usage error (exit 2) naming the option. A test walks
# the parser and fails for an option without one.


def _option_type(parse: Callable[[str], T], name: str) -> Callable[[str], T]:
    """Wrap ``parse`` (which raises ValueError saying why) as an argparse type."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = name
    return convert


def _nonnegative_duration(text: str) -> timedelta:
    return parse_duration(text)


def _positive_duration(text: str) -> timedelta:
    delta = parse_duration(text)
    if delta <= timedelta(0):
        raise ValueError(f"{text!r} is no time at all; give a duration longer than 0s, e.g. 60s")
    return delta


def _moment(text: str) -> timedelta | datetime:
    """A duration ago (``7d``) or an ISO 8601 date or time (a local one is read in the
    config's zone when the command runs)."""
    try:
        return parse_duration(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration ago (e.g. 7d, 12h) nor a date "
            "(e.g. 2025-06-01 or 2025-06-01T09:00)"
        ) from None


def _positive_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if count < 1:
        raise ValueError(f"{text!r} is not 1 or more")
    return count


#: A feed's or watch's name, as the config allows them (``config.schema.NAME_PATTERN``).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _name(text: str) -> str:
    if not _NAME.fullmatch(text):
        raise ValueError(f"{text[:70]!r} is not a feed or watch name (letters, digits, - and _)")
    return text


def _reason(text: str) -> str:
    """A mute's reason: one line of text, at most 200 characters."""
    line = " ".join(text.split())
    if not line:
        raise ValueError("a reason needs some text")
    if len(line) > 200:
        raise ValueError("a reason is at most 200 characters")
    return line


def _search_text(text: str) -> str:
    """A search the history can run (refused here, before the state is opened)."""
    from notifier.storage.search import fts_query  # noqa: PLC0415 - lazy, see the docstring

    fts_query(text)  # raises InvalidSearch, a ValueError saying why
    return text


def _remind(text: str) -> list[str]:
    """ "7d,1d,2h" → ["7d", "1d", "2h"], each a positive duration."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise ValueError("give at least one duration, e.g. 7d,1d")
    for item in items:
        if parse_duration(item) <= timedelta(0):
            raise ValueError(f"{item!r} is not a positive duration")
    return items


def _severity(text: str) -> str:
    if text not in ("low", "normal", "high", "critical"):
        raise ValueError(f"{text[:40]!r} is not low, normal, high or critical")
    return text


duration_type = _option_type(_nonnegative_duration, "duration")
severity_type = _option_type(_severity, "severity")
remind_type = _option_type(_remind, "reminder list")
moment_type = _option_type(_moment, "time")
count_type = _option_type(_positive_count, "count")
search_type = _option_type(_search_text, "search")
name_type = _option_type(_name, "name")
reason_type = _option_type(_reason, "reason")
positive_duration_type = _option_type(_positive_duration, "positive duration")
path_type = _option_type(parse_path, "path")
#: Each setting's flag type, from its parser in :mod:`notifier.config.settings`.
SETTING_TYPES = {name: _option_type(parse, name) for name, parse in PARSERS.items()}


#: (setting, metavar, help) for the flags every command shares.
_SETTING_FLAGS = (
    ("config", "PATH", "watch config file", "config/watch.yaml"),
    ("state_dir", "DIR", "folder for the SQLite state", "state"),
    ("log_format", "FORMAT", "auto, json or console", "auto"),
    ("log_level", "LEVEL", "debug, info, warning or error", "info"),
    ("health_port", "PORT", "serve /healthz and /metrics on this port", "off"),
    ("health_host", "HOST", "address for the health endpoint", "127.0.0.1"),
    ("web_port", "PORT", "serve the read-only web UI on this port", "web.port, off"),
    ("web_host", "HOST", "address for the web UI (not loopback: web.token)", "web.host"),
    ("grace", "SECONDS", "time in-flight work gets to finish on SIGTERM", "10"),
    ("state_url", "URL", "PostgreSQL state of `notifier worker` (prefer the variable)", "unset"),
)


def _common() -> _Parser:
    common = _Parser(add_help=False)
    group = common.add_argument_group("settings (each also read from its environment variable)")
    for name, metavar, text, default in _SETTING_FLAGS:
        group.add_argument(
            FLAGS[name],
            metavar=metavar,
            type=SETTING_TYPES[name],
            default=argparse.SUPPRESS,
            help=f"{text} [{ENV[name]}, default: {default}]",
        )
    return common


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (also used to render ``--help`` in the docs)."""
    common = _common()
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="notifier",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=fmt,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"notifier {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        parents=[common],
        formatter_class=fmt,
        help="start the daemon on the watch config",
        description="Run the daemon: poll every feed at its interval, send deadline\n"
        "reminders on time, deliver and retry alerts. SIGHUP or an edit of the config\n"
        "file reloads it (a broken edit is refused and the old config kept); SIGTERM\n"
        "or SIGINT stops it after in-flight work finishes (--grace); a second signal\n"
        "exits at once. Exit 0 after a clean stop, 1 if the config is invalid at start.",
        epilog=EPILOG,
    )
    run.set_defaults(handler=cmd_run)

    worker = sub.add_parser(
        "worker",
        parents=[common],
        formatter_class=fmt,
        help="run one worker of a cluster sharing a PostgreSQL state (NOTIFIER_STATE_URL)",
        description="Run one worker of a cluster: several `notifier worker` processes, on\n"
        "one machine or many, share the PostgreSQL state named by NOTIFIER_STATE_URL\n"
        "(install notifier[postgres]) and split the work through Procrastinate: one\n"
        "poller per feed at a time, reminders on the second, one sender per channel.\n"
        "Each worker reads the same config file and reloads it when it changes. A\n"
        "worker killed mid-job is noticed within 10 s and its jobs run elsewhere.\n"
        "SIGTERM or SIGINT stops it after its jobs finish (--grace). Exit 0 after a\n"
        "clean stop, 1 if the config or the state URL is invalid or unreachable.",
        epilog=EPILOG,
    )
    worker.add_argument(
        "--concurrency",
        type=count_type,
        default=10,
        metavar="N",
        help="jobs this process runs at once (default 10)",
    )
    worker.set_defaults(handler=cmd_worker)

    state = sub.add_parser(
        "state",
        formatter_class=fmt,
        help="manage the state store: migrate a SQLite state folder to PostgreSQL",
        description="Manage the state store.",
        epilog=EPILOG,
    )
    state_sub = state.add_subparsers(dest="state_command", metavar="ACTION", parser_class=_Parser)
    state_sub.required = True
    migrate = state_sub.add_parser(
        "migrate",
        parents=[common],
        formatter_class=fmt,
        help="copy the SQLite state folder (--state-dir) into a PostgreSQL state",
        description="Copy the SQLite state folder (--state-dir) into the PostgreSQL state\n"
        "named by --to (or NOTIFIER_STATE_URL): seen keys, feed states, the outbox,\n"
        "the reminder book and the history, in one transaction; then compare the\n"
        "row counts of every table. Stop `notifier run` first (the state folder is\n"
        "locked while copying). Exit 0 when every count matches, 1 otherwise or when\n"
        "the target already holds rows (without --merge).",
        epilog=EPILOG,
    )
    migrate.add_argument(
        "--to",
        metavar="URL",
        type=SETTING_TYPES["state_url"],
        default=None,
        help="postgresql://USER:PASSWORD@HOST/DB (default: NOTIFIER_STATE_URL)",
    )
    migrate.add_argument(
        "--merge",
        action="store_true",
        help="add to a PostgreSQL state that already holds rows (rows present are kept)",
    )
    migrate.set_defaults(handler=cmd_state_migrate)

    healthcheck = sub.add_parser(
        "healthcheck",
        parents=[common],
        formatter_class=fmt,
        help="exit 0 if the running daemon says it is healthy (for container health checks)",
        description="Read the health file the daemon writes every 2 s in the state folder\n"
        "(from a thread of its own, so a blocked daemon still reports it): exit 0 when\n"
        "it is fresh and says ok, 1 when it is missing, stale, or names a problem\n"
        "(event loop blocked, scheduler stalled, a channel's send stuck past its\n"
        "deadline, state not writable), each printed on a line.",
        epilog=EPILOG,
    )
    healthcheck.add_argument(
        "--max-age",
        default="60s",
        type=positive_duration_type,
        metavar="DURATION",
        help="stale after this, e.g. 60s or 5m (default 60s)",
    )
    healthcheck.set_defaults(handler=cmd_healthcheck)

    check = sub.add_parser(
        "check",
        parents=[common],
        formatter_class=fmt,
        help="validate the watch config and print a summary",
        description="Validate the watch config. Prints every problem as\n"
        "FILE:LINE:COLUMN: PATH: MESSAGE and exits 1 if there is any; otherwise prints\n"
        "a summary (channel URLs masked) and exits 0.",
        epilog=EPILOG,
    )
    check.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing when the config is valid"
    )
    check.set_defaults(handler=cmd_check)

    once = sub.add_parser(
        "once",
        parents=[common],
        formatter_class=fmt,
        help="poll every feed once, print what matched and why, and exit",
        description="Poll every enabled feed once, concurrently; print each match (watch,\n"
        "entry, link, and the terms that matched with a snippet), then a summary.\n"
        "Entries are remembered in the state folder, so a second run shows only new\n"
        "ones; a feed's first poll records its entries silently (see 'backfill').\n"
        "Exit 0 if every feed was polled, 3 if some failed (the rest still ran).",
        epilog=EPILOG,
    )
    once.add_argument(
        "--dry-run",
        action="store_true",
        help="change no state; match every entry not seen before, first polls included",
    )
    once.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    once.set_defaults(handler=cmd_once)

    deliver = sub.add_parser(
        "deliver",
        parents=[common],
        formatter_class=fmt,
        help="send what the outbox holds now (and keep retrying with --wait)",
        description="Compose and send the alerts waiting in the outbox: those queued by\n"
        "'once', and failed sends due for a retry. Digest windows, quiet hours and rate\n"
        "limits still apply: held alerts stay queued. With --wait, keep retrying until\n"
        "nothing is pending or the time is up. Exit 0 when nothing is left pending,\n"
        "3 when some messages are still pending or were dead-lettered.",
        epilog=EPILOG,
    )
    deliver.add_argument(
        "--wait",
        metavar="DURATION",
        default="0s",
        type=duration_type,
        help="keep retrying for up to this long, e.g. 30s or 5m (default: one pass)",
    )
    deliver.set_defaults(handler=cmd_deliver)

    test = sub.add_parser(
        "test-channel",
        parents=[common],
        formatter_class=fmt,
        help="send a test alert to a channel and report each URL's result",
        description="Send a test alert to every URL of one channel right away (no outbox,\n"
        "no quiet hours) and print, per URL in its masked form, whether it was\n"
        "delivered and why not. Exit 0 when all were, 1 when any failed, 2 for an\n"
        "unknown channel.",
        epilog=EPILOG,
    )
    test.add_argument("channel", metavar="NAME", help="name of a channel in the config")
    test.set_defaults(handler=cmd_test_channel)

    status = sub.add_parser(
        "status",
        parents=[common],
        formatter_class=fmt,
        help="show feed health, the outbox (pending, retrying, dead, last sends) and mutes",
        description="Show each feed's health (last poll, failures, last error) and, per\n"
        "channel, the outbox: alerts queued or held, messages pending, retrying and\n"
        "dead-lettered, and the last delivery; then the active mutes. Reads the state only.",
        epilog=EPILOG,
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    status.set_defaults(handler=cmd_status)

    history = sub.add_parser(
        "history",
        parents=[common],
        formatter_class=fmt,
        help="list the stories polled lately: sources, watches that matched, edits",
        description="List the stories of the history, newest first: when each was first\n"
        "seen, its title, its other sources, the watches that matched it and why, and\n"
        "its edits. Only stories a watch matched, unless --all. A time is a duration\n"
        "ago (7d, 12h) or a date or time (2025-06-01, 2025-06-01T09:00) in the\n"
        "config's zone. --search finds every word in titles and summaries, Chinese\n"
        "included (稀土). Reads the state only: it works beside a running daemon.",
        epilog=EPILOG,
    )
    history.add_argument(
        "--since",
        default="7d",
        type=moment_type,
        metavar="WHEN",
        help="stories with an entry first seen since then (default 7d)",
    )
    history.add_argument(
        "--until", type=moment_type, metavar="WHEN", help="… and before then (default: now)"
    )
    history.add_argument(
        "--watch", type=name_type, metavar="WATCH", help="only stories this watch matched"
    )
    history.add_argument(
        "--feed", type=name_type, metavar="FEED", help="only stories with an entry of this feed"
    )
    history.add_argument(
        "--search",
        type=search_type,
        metavar="TEXT",
        help="only stories whose title or summary has every word of TEXT",
    )
    history.add_argument("--all", action="store_true", help="include stories that no watch matched")
    history.add_argument(
        "--limit",
        default=50,
        type=count_type,
        metavar="N",
        help="show at most N stories (default 50)",
    )
    history.add_argument("--json", action="store_true", help="print JSON instead of text")
    history.set_defaults(handler=cmd_history)

    replay = sub.add_parser(
        "replay",
        parents=[common],
        formatter_class=fmt,
        help="run today's watches over the stored entries: what would they have caught?",
        description="Run the watches of the config as it is now (or one, --watch) over the\n"
        "entries history holds for the period, and list what they match that the same\n"
        "watch did not match at the time: how to check a new or changed rule against\n"
        "last week's news. History keeps each entry's title, summary and link, so terms\n"
        "on other fields see them empty; a feed's first-poll entries are in history\n"
        "once the feed has had a new entry. Prints only, unless --send: then each entry\n"
        "found is queued once as an alert marked 'Replay:' and sent, and recorded so a\n"
        "second replay does not queue it again. Exit 0 whether or not anything is found.",
        epilog=EPILOG,
    )
    replay.add_argument(
        "--since",
        default="7d",
        type=moment_type,
        metavar="WHEN",
        help="entries first seen since then: a duration ago or a date/time (default 7d)",
    )
    replay.add_argument(
        "--until", type=moment_type, metavar="WHEN", help="… and before then (default: now)"
    )
    replay.add_argument("--watch", type=name_type, metavar="WATCH", help="only this watch")
    replay.add_argument(
        "--send", action="store_true", help="queue and send what is found (marked 'Replay:')"
    )
    replay.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    replay.set_defaults(handler=cmd_replay)

    match = sub.add_parser(
        "match",
        parents=[common],
        formatter_class=fmt,
        help="test one watch against a feed file or URL",
        description="Test one watch of the config against a feed (a file or an http(s)\n"
        "URL), whatever feeds the watch selects, and show for each entry whether it\n"
        "matched and why. Changes no state. Exit 0 when the feed was read, 1 when it\n"
        "could not be, 2 for an unknown watch.",
        epilog=EPILOG,
    )
    match.add_argument("watch", metavar="WATCH", help="name of a watch in the config")
    match.add_argument("source", metavar="SOURCE", help="feed file path or http(s) URL")
    match.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    match.set_defaults(handler=cmd_match)

    deadlines = sub.add_parser(
        "deadlines",
        parents=[common],
        formatter_class=fmt,
        help="list upcoming deadlines with their next reminders",
        description="List the deadlines of the config that are still ahead (or have a\n"
        "follow-up ahead), soonest first, with each one's next reminder and its\n"
        "reminder ladder. --all also lists those fully past.",
        epilog=EPILOG,
    )
    deadlines.add_argument("--all", action="store_true", help="include past deadlines")
    deadlines.set_defaults(handler=cmd_deadlines)

    ics = sub.add_parser(
        "ics",
        parents=[common],
        formatter_class=fmt,
        help="write the deadlines as an iCalendar file (one alarm per reminder)",
        description="Write every deadline as an iCalendar (RFC 5545) event, with one\n"
        "alarm per reminder offset, for import into a calendar application.",
        epilog=EPILOG,
    )
    ics.add_argument(
        "-o", "--output", metavar="FILE", type=path_type, help="write to FILE instead of stdout"
    )
    ics.set_defaults(handler=cmd_ics)

    proposals = sub.add_parser(
        "proposals",
        parents=[common],
        formatter_class=fmt,
        help="list the deadlines found in the news, waiting for accept or dismiss",
        description='List the open proposals: deadlines found in matched news ("Possible\n'
        'deadline"), and other dates found for the deadlines you track ("Possible\n'
        'move", "Possible change"), soonest first, each with its id, date, phrase,\n'
        "sources and the command to accept or dismiss it. --all also lists accepted and\n"
        "dismissed ones; --facts the past dates found instead. Reads the state only: it\n"
        "works beside a running daemon.",
        epilog=EPILOG,
    )
    proposals.add_argument("--all", action="store_true", help="include accepted and dismissed")
    proposals.add_argument(
        "--facts",
        action="store_true",
        help='list instead the past dates found ("took effect on June 4"): facts, never proposed',
    )
    proposals.add_argument("--json", action="store_true", help="print JSON (see the README)")
    proposals.set_defaults(handler=cmd_proposals)

    accept = sub.add_parser(
        "accept",
        parents=[common],
        formatter_class=fmt,
        help="write a proposed deadline (or a move's new date) into the watch config",
        description="Accept proposal ID (a unique prefix is enough): a possible deadline\n"
        "is added to the deadlines of the watch config; a possible move sets the tracked\n"
        "deadline's due. The file is edited in place, comments and layout kept, and the\n"
        "previous version kept beside it as FILE.bak; a running daemon reloads it and\n"
        "starts reminding. If the file cannot be written, the YAML to paste is printed\n"
        "(exit 1). A possible change is never applied: edit the deadline yourself.\n"
        "Exit 0 done, 1 not done (unknown id, invalid result, not writable), 2 usage.",
        epilog=EPILOG,
    )
    accept.add_argument("id", metavar="ID", help="the proposal's id (notifier proposals)")
    accept.add_argument(
        "--name", type=name_type, metavar="NAME", help="the deadline's name (default: suggested)"
    )
    accept.add_argument(
        "--remind",
        type=remind_type,
        metavar="LIST",
        help="reminders before the due time, e.g. 7d,1d,2h (default: defaults.deadline)",
    )
    accept.add_argument(
        "--severity",
        type=severity_type,
        metavar="LEVEL",
        help="low, normal, high or critical (default: defaults.deadline)",
    )
    accept.set_defaults(handler=cmd_accept)

    dismiss = sub.add_parser(
        "dismiss",
        parents=[common],
        formatter_class=fmt,
        help="dismiss a proposal: the same deadline is not proposed again",
        description="Record that proposal ID (a unique prefix is enough) is not a\n"
        "deadline to track: later sources of the same date and subject are not proposed\n"
        "again. Exit 0 done, 1 unknown id.",
        epilog=EPILOG,
    )
    dismiss.add_argument("id", metavar="ID", help="the proposal's id (notifier proposals)")
    dismiss.set_defaults(handler=cmd_dismiss)

    mute = sub.add_parser(
        "mute",
        parents=[common],
        formatter_class=fmt,
        help="hold the alerts of a watch, feed or channel for a while (then one digest)",
        description="Mute TARGET for --for (default 1h): its alerts are kept and held, critical\n"
        'too, and when the mute ends they go out as one digest per channel ("while\n'
        'muted: N stories"). TARGET is watch:NAME, feed:NAME or channel:NAME, or a bare\n'
        "name when only one watch, feed or channel has it. A watch mute holds an entry\n"
        "only if every watch that matched it is muted. Muting a muted target again\n"
        "replaces its mute. Works beside a running daemon. Exit 0 done, 1 invalid config,\n"
        "2 unknown or ambiguous target.",
        epilog=EPILOG,
    )
    target_help = "watch:NAME, feed:NAME, channel:NAME, or a NAME only one of them has"
    mute.add_argument("target", metavar="TARGET", help=target_help)
    mute.add_argument(
        "--for",
        dest="duration",
        default=timedelta(hours=1),
        type=positive_duration_type,
        metavar="DURATION",
        help="how long, e.g. 30m, 2h, 1d (default: 1h)",
    )
    mute.add_argument(
        "--reason", type=reason_type, metavar="TEXT", help="why (shown by mutes and status)"
    )
    mute.set_defaults(handler=cmd_mute)

    mutes = sub.add_parser(
        "mutes",
        parents=[common],
        formatter_class=fmt,
        help="list the active mutes",
        description="List the mutes in force: target, until when, why and who muted it.\n"
        "Reads the state only.",
        epilog=EPILOG,
    )
    mutes.add_argument("--json", action="store_true", help="print JSON (see the README)")
    mutes.set_defaults(handler=cmd_mutes)

    unmute = sub.add_parser(
        "unmute",
        parents=[common],
        formatter_class=fmt,
        help="end a mute now: its held alerts go out as one digest",
        description="End TARGET's mute now (named as for mute); the alerts it held go\n"
        "out as one digest per channel within seconds. Exit 0 done (or not muted),\n"
        "2 unknown or ambiguous target.",
        epilog=EPILOG,
    )
    unmute.add_argument("target", metavar="TARGET", help=target_help)
    unmute.set_defaults(handler=cmd_unmute)

    ack = sub.add_parser(
        "ack",
        parents=[common],
        formatter_class=fmt,
        help="acknowledge an alert (by its ack id), a deadline's reminders or a story",
        description='Acknowledge the alert whose ack id (shown in the message as "Ack:\n'
        'notifier ack ID"; a unique prefix is enough) is ID; or, with --deadline NAME,\n'
        "every pending reminder of that deadline (its current occurrence); or, with\n"
        "--story ID, every alert of that story. Records who ($USER), when and how (cli).\n"
        "Acknowledging twice keeps the first. Works beside a running daemon.\n"
        "Exit 0 done (or already acknowledged), 1 unknown id or nothing to acknowledge,\n"
        "2 usage error or an ambiguous prefix.",
        epilog=EPILOG,
    )
    ack.add_argument("id", metavar="ID", nargs="?", help="the alert's ack id, or a unique prefix")
    ack.add_argument(
        "--deadline", type=name_type, metavar="NAME", help="acknowledge the deadline's reminders"
    )
    ack.add_argument(
        "--story", metavar="ID", type=count_type, help="acknowledge every alert of this story"
    )
    ack.set_defaults(handler=cmd_ack)

    acks = sub.add_parser(
        "acks",
        parents=[common],
        formatter_class=fmt,
        help="list acknowledged and open (unacknowledged) alerts of the last 7 days",
        description="List the alerts that carry an ack id, queued in the last 7 days:\n"
        "acknowledged ones (who, how, when) and open ones. --open lists only the open.\n"
        "Reads the state only.",
        epilog=EPILOG,
    )
    acks.add_argument("--open", action="store_true", help="only the unacknowledged alerts")
    acks.add_argument("--json", action="store_true", help="print JSON (see the README)")
    acks.set_defaults(handler=cmd_acks)

    schema = sub.add_parser(
        "schema",
        formatter_class=fmt,
        help="print the JSON Schema of the watch config",
        description="Print the JSON Schema of the watch config, for editors\n"
        "(yaml-language-server) and other validators.",
    )
    schema.add_argument(
        "-o", "--output", metavar="FILE", type=path_type, help="write to FILE instead of stdout"
    )
    schema.set_defaults(handler=cmd_schema)
    return parser


# --------------------------------------------------------------------------- lazy helpers
# What more than one command needs, imported on first use (see the module docstring).


def redact(text: str) -> str:
    """:func:`notifier.logs.redact` (structlog, loaded when a command runs)."""
    from notifier.logs import redact as redact_secrets  # noqa: PLC0415 - lazy, see above

    return redact_secrets(text)


def _sink() -> AppriseSink:
    """The Apprise sink that sends alerts (loads the sender and Apprise)."""
    from notifier.pipeline.sender import AppriseSink  # noqa: PLC0415 - lazy, see above

    return AppriseSink()


def _has_state(settings: Settings) -> bool:
    """Is there a state to read: the SQLite file, or a PostgreSQL URL (the server knows)?"""
    if settings.state_url:
        return True
    from notifier.storage.sqlite import FILENAME  # noqa: PLC0415 - lazy, see above

    return (settings.state_dir / FILENAME).exists()


def _open_state(settings: Settings, *, read_only: bool = False) -> State:
    """The state the settings name: SQLite in --state-dir, or NOTIFIER_STATE_URL's."""
    from notifier.storage.open import open_store  # noqa: PLC0415 - lazy, see above

    return open_store(settings.state_dir, settings.state_url, read_only=read_only)


def _settings(args: argparse.Namespace) -> Settings:
    from notifier.config.settings import load_settings  # noqa: PLC0415 - lazy, see above

    overrides: dict[str, Any] = {
        name: getattr(args, name) for name in FLAGS if getattr(args, name, None) is not None
    }
    return load_settings(**overrides)


def _load(settings: Settings) -> Config:
    """Load the watch config, registering substituted values as secrets."""
    from notifier.config.loader import load_with_secrets  # noqa: PLC0415 - lazy, see above
    from notifier.logs import add_secrets  # noqa: PLC0415

    config, secrets = load_with_secrets(settings.config)
    add_secrets(secrets)
    return config


def _load_or_report(settings: Settings) -> Config | None:
    """The config, or None after printing its problems to stderr."""
    try:
        return _load(settings)
    except ConfigError as e:
        _report(e, settings.config)
        return None


def _report(error: ConfigError, path: Path) -> None:
    for problem in error.problems:
        print(redact(str(problem)), file=sys.stderr)
    count = len(error.problems)
    print(
        f"{path}: {count} problem{'s' if count != 1 else ''}; the config was not loaded",
        file=sys.stderr,
    )


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier check``: validate and summarise."""
    from notifier.cli.summary import describe  # noqa: PLC0415 - lazy, see the module docstring

    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    if not args.quiet:
        print(f"{settings.config}: valid")
        for line in describe(config, clock.utcnow()):
            print(redact(line))
    return EXIT_OK


def _sqlite_only(settings: Settings, command: str) -> bool:
    """``run``, ``once``, ``deliver`` and ``replay`` work on the SQLite state folder: with
    NOTIFIER_STATE_URL set they would miss the cluster's state; say so (True: refused)."""
    if not settings.state_url:
        return False
    print(
        f"notifier: {command} keeps its state in SQLite (--state-dir), but "
        "NOTIFIER_STATE_URL names a PostgreSQL state: run `notifier worker` on it, "
        "or unset NOTIFIER_STATE_URL",
        file=sys.stderr,
    )
    return True


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier run``: the daemon, until SIGTERM or SIGINT (a second one exits at once)."""
    if _sqlite_only(settings, "run"):
        return EXIT_INVALID
    from notifier.runtime.daemon import Daemon  # noqa: PLC0415 - lazy, see the docstring

    try:
        _prepare_state_dir(settings.state_dir)
    except StateError as e:
        print(f"notifier: {e}", file=sys.stderr)
        return EXIT_INVALID
    return _serve(Daemon(settings, _sink()), settings, "notifier.run")


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier worker``: one worker of a PostgreSQL cluster, until SIGTERM or SIGINT."""
    from notifier.runtime.worker import Worker  # noqa: PLC0415 - lazy, see the docstring

    if not settings.state_url:
        print(
            "notifier: worker needs NOTIFIER_STATE_URL=postgresql://USER:PASSWORD@HOST/DB "
            "(one PostgreSQL state shared by every worker)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    worker = Worker(settings, _sink(), concurrency=args.concurrency)
    return _serve(worker, settings, "notifier.worker")


class _Service(Protocol):
    async def start(self) -> None: ...
    async def reload(self) -> bool: ...
    async def stop(self) -> None: ...


def _serve(service: _Service, settings: Settings, logger: str) -> int:
    """Start ``service``, run it until SIGTERM or SIGINT (a second one exits at once),
    reload it on SIGHUP, stop it. Exit 1 when its config is invalid at start."""
    import asyncio  # noqa: PLC0415 - lazy, see the module docstring
    import signal  # noqa: PLC0415

    from notifier.logs import get_logger  # noqa: PLC0415

    log = get_logger(logger)

    async def serve() -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        reloads: set[asyncio.Task[bool]] = set()

        def on_stop(name: str) -> None:
            if stop.is_set():
                log.warning("second signal: exiting now", signal=name)
                os._exit(EXIT_INTERRUPTED)
            log.info("stopping", signal=name)
            stop.set()

        def on_reload() -> None:
            log.info("reload requested", signal="SIGHUP")
            reloads.add(task := loop.create_task(service.reload()))
            task.add_done_callback(reloads.discard)

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, on_reload)
        try:
            await service.start()
        except ConfigError as e:
            _report(e, settings.config)
            await service.stop()
            return EXIT_INVALID
        # A StateError (the folder locked, PostgreSQL unreachable) goes to main():
        # one line, exit 1.
        await stop.wait()
        await service.stop()
        return EXIT_OK

    return asyncio.run(serve())


def cmd_state_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier state migrate``: copy the SQLite state into PostgreSQL, verify counts."""
    from notifier.storage.migrate import copy_state  # noqa: PLC0415
    from notifier.storage.open import open_store  # noqa: PLC0415 - lazy, see the module docstring
    from notifier.storage.sqlite import FILENAME, Store, lock_state_dir  # noqa: PLC0415

    url = args.to or settings.state_url
    if not url:
        print("notifier: give --to postgresql://... or set NOTIFIER_STATE_URL", file=sys.stderr)
        return EXIT_INVALID
    if not (settings.state_dir / FILENAME).exists():
        print(f"notifier: no SQLite state in {settings.state_dir}", file=sys.stderr)
        return EXIT_INVALID
    from contextlib import suppress  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    from notifier.logs import add_secrets  # noqa: PLC0415

    with suppress(ValueError):
        if password := urlsplit(url).password:
            add_secrets([password])

    def progress(table: str, rows: int) -> None:
        if rows % 50000 == 0:
            print(f"  {table}: {rows:,} rows", file=sys.stderr)

    try:
        lock = lock_state_dir(settings.state_dir, "state migrate")
        try:
            with Store.open(settings.state_dir, read_only=True) as source:
                target = open_store(settings.state_dir, url)
                try:
                    counts = copy_state(source, target, merge=args.merge, progress=progress)
                finally:
                    target.close()
        finally:
            lock.release()
    except StateError as e:
        print(f"notifier: {redact(str(e))}", file=sys.stderr)
        return EXIT_INVALID
    width = max(len(c.table) for c in counts)
    bad = 0
    for c in counts:
        mark = "ok" if c.ok else "MISSING"
        bad += not c.ok
        print(f"{c.table:<{width}}  {c.source:>10,} → {c.target:>10,}  {mark}")
    total = sum(c.source for c in counts)
    if bad:
        print(f"{bad} table(s) short in PostgreSQL: the copy is incomplete", file=sys.stderr)
        return EXIT_INVALID
    print(f"copied {total:,} rows into the PostgreSQL state; every count matches")
    return EXIT_OK


def cmd_healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier healthcheck``: is the daemon healthy, by its own health file?"""
    from notifier.runtime.monitor import HEALTH_FILE, read_health_file  # noqa: PLC0415 - lazy

    limit = args.max_age.total_seconds()
    path = settings.state_dir / HEALTH_FILE
    data = read_health_file(path)
    if data is None:
        print(
            f"unhealthy: no health file in {settings.state_dir} (is the daemon running?)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    try:
        written = datetime.fromisoformat(str(data.get("written_at")))
        age = (clock.utcnow() - written).total_seconds()
    except (TypeError, ValueError):
        print(f"unhealthy: {path} is unreadable", file=sys.stderr)
        return EXIT_INVALID
    if age > limit:
        print(
            f"unhealthy: the health file is {age:.0f} s old: the daemon is not running",
            file=sys.stderr,
        )
        return EXIT_INVALID
    if data.get("status") != "ok":
        problems = data.get("problems") or ["unknown problem"]
        for problem in problems:
            print(f"unhealthy: {problem}", file=sys.stderr)
        return EXIT_INVALID
    print(f"ok: healthy {age:.0f} s ago (PID {data.get('pid', '?')})")
    return EXIT_OK


def cmd_once(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier once``: poll every feed once and print the matches."""
    if _sqlite_only(settings, "once"):
        return EXIT_INVALID
    import asyncio  # noqa: PLC0415 - lazy, see the module docstring

    from notifier.cli import report  # noqa: PLC0415
    from notifier.model import Match, StoryNote  # noqa: PLC0415
    from notifier.runtime import app  # noqa: PLC0415
    from notifier.storage.sqlite import lock_state_dir  # noqa: PLC0415

    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    sink = None if args.dry_run else _sink()
    # A dry run changes no state, so it may run beside a daemon; a real one may not.
    lock = None if args.dry_run else lock_state_dir(settings.state_dir, "once")
    try:
        with app.parse_pool() as pool:
            done = asyncio.run(
                app.cycle(
                    config,
                    settings.state_dir,
                    dry_run=args.dry_run,
                    executor=pool,
                    sink=sink,
                    command=app.command_for(settings.config, settings.state_dir),
                )
            )
    finally:
        if lock is not None:
            lock.release()
    results = done.polls
    severity = {w.name: w.severity for w in config.watches}
    for result in results:
        # One report per entry (a story's source), however many watches matched it.
        by_entry: dict[str, list[Match]] = {}
        for m in (*result.matches, *result.alerted):
            found = by_entry.setdefault(m.entry.key, [])
            if all(f.watch != m.watch for f in found):
                found.append(m)
        for key, found in by_entry.items():
            note = result.notes.get((result.feed, key))
            if note is None and args.dry_run:
                note = StoryNote()  # no stories in a dry run: every entry would alert
            elif note is None:  # joined a story already alerted: attached, not sent
                note = StoryNote(story=result.story_of.get(key), change="source")
            if args.json:
                print(redact(report.story_json(found, severity, note)))
            else:
                for line in report.story_text(found, severity, note, config.timezone):
                    print(redact(line))
                print()
        command = app.command_for(settings.config, settings.state_dir)
        for proposal in result.proposals:
            if args.json:
                shown = {"type": "proposal", **report.proposal_json(proposal, command)}
                print(redact(json.dumps(shown, ensure_ascii=False)))
            else:
                for text in report.proposal_lines(proposal, command):
                    print(redact(text))
                print()
        if result.event is not None:
            print(
                redact(
                    report.event_json(result.event)
                    if args.json
                    else report.event_text(result.event)
                )
            )
    if not args.json:
        for result in results:
            print(redact(report.feed_line(result)), file=sys.stderr)
        print(report.poll_summary(results), file=sys.stderr)
        reminders = {a.key for a in done.reminders}
        if reminders:
            print(f"{len(reminders)} deadline notice(s) queued", file=sys.stderr)
        proposed = sum(len(r.proposals) for r in results)
        if proposed:
            print(
                f"{proposed} deadline(s) found in the news proposed: see notifier proposals",
                file=sys.stderr,
            )
    return EXIT_OK if all(r.ok for r in results) else EXIT_FEEDS_FAILED


def cmd_match(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier match WATCH SOURCE``: explain one watch against one feed."""
    import asyncio  # noqa: PLC0415 - lazy, see the module docstring

    from notifier.cli import report  # noqa: PLC0415
    from notifier.runtime import app  # noqa: PLC0415

    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    watch = app.find_watch(config, args.watch)
    if watch is None:
        print(
            f"notifier: unknown watch {args.watch!r} (known: {app.watch_names(config.watches)})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        feed = asyncio.run(app.load_source(args.source, config, "source"))
    except (FeedError, OSError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        print(f"notifier: cannot read {args.source}: {redact(reason)}", file=sys.stderr)
        return EXIT_INVALID
    verdicts = app.explain_all(watch, feed)
    for verdict, entry in zip(verdicts, feed.entries, strict=True):
        if args.json:
            print(redact(report.verdict_json(verdict, entry)))
        else:
            for line in report.verdict_text(verdict, entry):
                print(redact(line))
    matched = sum(1 for v in verdicts if v.matched)
    if not args.json:
        print(
            f"{watch.name}: {matched} of {len(verdicts)} entries matched",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_deadlines(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier deadlines``: upcoming deadlines and their next reminders."""
    from notifier.cli.summary import deadline_lines, next_due  # noqa: PLC0415 - lazy
    from notifier.deadlines.planning import next_reminder, plan  # noqa: PLC0415

    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    now = clock.utcnow()
    rows = []
    for d in config.deadlines:
        upcoming = next_reminder(plan(d, now=now), now)
        if upcoming is None and not args.all:
            continue
        rows.append((next_due(d, now), d))
    rows.sort(key=lambda row: row[0])
    if not rows:
        print("no upcoming deadlines" + ("" if args.all else " (--all shows past ones)"))
    for _, d in rows:
        for line in deadline_lines(d, now, verbose=True):
            print(redact(line))
    return EXIT_OK


def cmd_ics(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier ics``: the deadlines as an iCalendar file."""
    from notifier.deadlines.ics import to_ics  # noqa: PLC0415 - lazy, see the module docstring

    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    text = to_ics(config.deadlines, now=clock.utcnow())
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                out.write(text)
        except OSError as e:
            print(f"notifier: cannot write {args.output}: {e.strerror}", file=sys.stderr)
            return EXIT_INVALID
        print(f"{args.output}: {len(config.deadlines)} deadline(s)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_deliver(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier deliver``: send the outbox now."""
    if _sqlite_only(settings, "deliver"):
        return EXIT_INVALID
    import asyncio  # noqa: PLC0415 - lazy, see the module docstring

    from notifier.cli import report  # noqa: PLC0415
    from notifier.runtime import app  # noqa: PLC0415
    from notifier.storage.sqlite import lock_state_dir  # noqa: PLC0415

    wait = args.wait.total_seconds()
    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    with lock_state_dir(settings.state_dir, "deliver"):
        tick, channels = asyncio.run(app.deliver(config, settings.state_dir, _sink(), wait=wait))
    for line in report.outbox_lines(channels):
        print(redact(line))
    print(
        f"sent {tick.sent}, failed {tick.failed}, dead-lettered {tick.dead}, held {tick.held}",
        file=sys.stderr,
    )
    left = sum(c.pending + c.retrying for c in channels)
    return EXIT_OK if left == 0 and tick.dead == 0 else EXIT_FEEDS_FAILED


def cmd_test_channel(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier test-channel NAME``: send a test alert, report each URL."""
    import asyncio  # noqa: PLC0415 - lazy, see the module docstring

    from notifier.runtime import app  # noqa: PLC0415

    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    channel = config.channels.get(args.channel)
    if channel is None:
        known = ", ".join(config.channels) or "none defined"
        print(f"notifier: unknown channel {args.channel!r} (known: {known})", file=sys.stderr)
        return EXIT_USAGE
    results = asyncio.run(app.send_test_alert(config, channel, _sink()))
    for masked, outcome in results:
        if outcome.ok:
            print(redact(f"✓ {masked}: delivered"))
        else:
            print(redact(f"✗ {masked}: failed: {outcome.reason}"))
    failed = sum(1 for _, o in results if not o.ok)
    print(f"{channel.name}: {len(results) - failed} of {len(results)} URLs ok", file=sys.stderr)
    return EXIT_OK if failed == 0 else EXIT_INVALID


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier status``: feed health and the outbox."""
    from notifier.cli import report  # noqa: PLC0415 - lazy, see the module docstring
    from notifier.runtime import app  # noqa: PLC0415

    url = settings.state_url
    feeds = app.feed_states(settings.state_dir, url)
    channels = app.outbox_status(settings.state_dir, url) or []
    now = clock.utcnow()
    history = app.history_counts(settings.state_dir, now - timedelta(hours=24), url)
    proposals = app.open_proposals(settings.state_dir, url)
    mutes = app.active_mutes(settings.state_dir, now, url)
    fallbacks = _fallbacks(settings, channels, now)
    workers = _workers(settings, now)
    if args.json:
        text = report.status_json(
            feeds, channels, history, proposals, mutes=mutes, fallbacks=fallbacks
        )
        if workers is not None:
            data = json.loads(text)
            data["workers"] = report.workers_json(workers, now)
            text = json.dumps(data, indent=2, ensure_ascii=False)
        print(redact(text))
    else:
        for line in report.status_lines(
            feeds, channels, now, history, proposals, mutes=mutes, fallbacks=fallbacks
        ):
            print(redact(line))
        if workers is not None:
            for line in report.worker_lines(workers, now):
                print(redact(line))
    return EXIT_OK


def _workers(settings: Settings, now: datetime) -> list[WorkerRow] | None:
    """The cluster's workers (``notifier worker``), or None without NOTIFIER_STATE_URL."""
    if not settings.state_url:
        return None
    from notifier.storage.cluster import Cluster  # noqa: PLC0415 - lazy, see above

    cluster = Cluster(settings.state_url)
    try:
        return cluster.workers(now, include_gone=True)
    except StateError as e:
        print(f"notifier: workers unknown: {redact(str(e))}", file=sys.stderr)
        return []
    finally:
        cluster.close()


def _fallbacks(
    settings: Settings, channels: Sequence[ChannelStatus], now: datetime
) -> dict[str, Fallback]:
    """The fallback stage's decision for each failing channel with a ``fallback`` in the
    config; none when the config does not load (``status`` reads the state alone)."""
    failing = [c for c in channels if c.failing_since is not None]
    if not failing:
        return {}
    from notifier.delivery.stages import fallback  # noqa: PLC0415 - lazy, see above

    try:
        config = _load(settings)
    except ConfigError:
        return {}
    return {
        c.channel: fallback(config.channels[c.channel], c.failing_since, now)
        for c in failing
        if c.channel in config.channels and config.channels[c.channel].fallback
    }


def _at(value: timedelta | datetime, now: datetime, zone: tzinfo) -> datetime:
    """A ``--since``/``--until`` value as an aware time: a duration is that long ago."""
    if isinstance(value, timedelta):
        return now - value
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier history``: the stories of the history, newest first."""
    from notifier.cli import report  # noqa: PLC0415 - lazy, see the module docstring

    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    now = clock.utcnow()
    since = _at(args.since, now, config.timezone)
    until = _at(args.until, now, config.timezone) if args.until is not None else None
    if until is not None and until <= since:
        print("notifier: --until must be later than --since", file=sys.stderr)
        return EXIT_USAGE
    if not _has_state(settings):
        print(
            f"notifier: no state in {settings.state_dir} yet: nothing polled, no history",
            file=sys.stderr,
        )
        if args.json:
            print("[]")
        return EXIT_OK
    with _open_state(settings, read_only=True) as store:
        stories = store.history.stories(
            since=since,
            until=until,
            watch=args.watch,
            feed=args.feed,
            search=args.search,
            matched_only=not args.all,
            limit=args.limit,
        )
    if args.json:
        print(redact(report.stories_json(stories)))
        return EXIT_OK
    for story in stories:
        for line in report.story_lines(story, config.timezone, now):
            print(redact(line))
    print(report.stories_summary(len(stories), args.limit, matched_only=not args.all))
    return EXIT_OK


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier replay``: the current watches over the stored entries of a period."""
    if _sqlite_only(settings, "replay"):
        return EXIT_INVALID
    import asyncio  # noqa: PLC0415 - lazy, see the module docstring

    from notifier.cli import report  # noqa: PLC0415
    from notifier.runtime import app  # noqa: PLC0415
    from notifier.storage.sqlite import lock_state_dir  # noqa: PLC0415

    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    if args.watch is not None and all(w.name != args.watch for w in config.watches):
        known = ", ".join(w.name for w in config.watches) or "none"
        print(f"notifier: no watch named {args.watch!r} (watches: {known})", file=sys.stderr)
        return EXIT_USAGE
    now = clock.utcnow()
    since = _at(args.since, now, config.timezone)
    until = _at(args.until, now, config.timezone) if args.until is not None else now
    if until <= since:
        print("notifier: --until must be later than --since", file=sys.stderr)
        return EXIT_USAGE
    if not _has_state(settings):
        print(f"notifier: no state in {settings.state_dir} yet: no history", file=sys.stderr)
        return EXIT_OK
    lock = lock_state_dir(settings.state_dir, "replay") if args.send else None
    try:
        done = app.replay(
            config, settings.state_dir, since, until, watch=args.watch, send=args.send
        )
        sent = None
        if args.send and done.queued:
            sent, _ = asyncio.run(app.deliver(config, settings.state_dir, _sink()))
    finally:
        if lock is not None:
            lock.release()
    severity = {w.name: w.severity for w in config.watches}
    for found in done.found:
        if args.json:
            print(redact(report.replay_json(found, severity)))
        else:
            for line in report.replay_text(found, severity, config.timezone):
                print(redact(line))
            print()
    if not args.json:
        print(report.replay_summary(done, sent=args.send), file=sys.stderr)
    if sent is not None and sent.failed:
        return EXIT_FEEDS_FAILED  # 3: some alerts are still pending
    return EXIT_OK


def _prepare_state_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise StateError(
            f"state folder {path} is not usable: {e.strerror or type(e).__name__}"
        ) from e


def cmd_proposals(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier proposals``: the deadlines found in the news, open (or all)."""
    from notifier.cli import report  # noqa: PLC0415 - lazy, see the module docstring
    from notifier.runtime import app  # noqa: PLC0415

    command = app.command_for(settings.config, settings.state_dir)
    found = []
    if _has_state(settings):
        with _open_state(settings, read_only=True) as store:
            if args.facts:
                found = store.proposals.proposals("fact")
            elif args.all:
                found = [p for p in store.proposals.proposals(None) if p.status != "fact"]
            else:
                found = store.proposals.proposals("open")
    if args.json:
        print(
            redact(
                json.dumps(
                    [report.proposal_json(p, command) for p in found], indent=2, ensure_ascii=False
                )
            )
        )
        return EXIT_OK
    for p in found:
        for line in report.proposal_lines(p, command):
            print(redact(line))
    if args.facts:
        print(f"{len(found)} fact{'s' if len(found) != 1 else ''} (past dates found)")
    else:
        which = "" if args.all else "open "
        print(f"{len(found)} {which}proposal{'s' if len(found) != 1 else ''}")
    return EXIT_OK


def _proposal(settings: Settings, pid: str) -> tuple[Any, Any] | None:
    """The store (open for writing: a status is tiny and SQLite serialises it with a
    running daemon) and the one proposal ``pid`` names; None after saying why."""

    if not _has_state(settings):
        print(f"notifier: no state in {settings.state_dir}: no proposals yet", file=sys.stderr)
        return None
    store = _open_state(settings)
    found = store.proposals.get(pid.strip().lower())
    if len(found) != 1:
        store.close()
        if not found:
            print(f"notifier: no proposal {pid!r} (see: notifier proposals --all)", file=sys.stderr)
        else:
            ids = ", ".join(p.id for p in found)
            print(
                f"notifier: {pid!r} names several proposals ({ids}): give more of the id",
                file=sys.stderr,
            )
        return None
    return store, found[0]


def _problems(text: str, path: Path) -> list[Any]:
    """The problems of a config text (none when it loads), with their locations; the
    values it substitutes from the environment are redacted from then on."""
    from notifier.config.loader import loads_with_secrets  # noqa: PLC0415 - lazy
    from notifier.logs import add_secrets  # noqa: PLC0415

    try:
        _, secrets = loads_with_secrets(text, str(path), os.environ)
    except ConfigError as e:
        return list(e.problems)
    add_secrets(secrets)
    return []


def _deadline_names(text: str) -> tuple[set[str], str]:
    """The deadline names and the zone of a config's text, read without substituting
    ``${VAR}`` (the text loaded already, or failed only for unset variables)."""
    from ruamel.yaml import YAML  # noqa: PLC0415 - lazy, see the module docstring

    data = YAML(typ="safe", pure=True).load(text) or {}
    deadlines = data.get("deadlines") or [] if isinstance(data, dict) else []
    names = {str(d.get("name")) for d in deadlines if isinstance(d, dict)}
    zone = data.get("timezone") if isinstance(data, dict) else None
    return names, str(zone or "UTC")


def cmd_accept(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier accept ID``: write a proposal into the watch config."""
    from notifier.config.edit import add_deadline, deadline_snippet, set_deadline  # noqa: PLC0415
    from notifier.deadlines.proposals import as_deadline, local_due  # noqa: PLC0415

    path = settings.config
    try:
        original = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"notifier: cannot read {path}: {e}", file=sys.stderr)
        return EXIT_INVALID
    before = _problems(original, path)
    # An unset ${VAR} (set where the daemon runs, not in this shell) blocks nothing;
    # any other problem: the config must be fixed first.
    blocking = [p for p in before if "is not set" not in p.message]
    if blocking:
        _report(ConfigError(blocking), path)
        return EXIT_INVALID
    names, zone = _deadline_names(original)
    picked = _proposal(settings, args.id)
    if picked is None:
        return EXIT_INVALID
    store, p = picked
    with store:
        if p.status == "fact":
            print(f"notifier: {p.id} is a past date (a fact), not a proposal", file=sys.stderr)
            return EXIT_INVALID
        if p.status != "open":
            print(f"notifier: proposal {p.id} is already {p.status}", file=sys.stderr)
            return EXIT_INVALID
        if p.change == "change":
            print(
                f"notifier: proposal {p.id} is a possible change of deadline {p.deadline}, "
                "which is never applied: edit or remove the deadline in "
                f"{settings.config} if it is right, then: notifier dismiss {p.id}",
                file=sys.stderr,
            )
            return EXIT_INVALID
        known = {(q.path, q.message) for q in before}

        def check(text: str) -> None:
            # Only the problems the edit brings (see above).
            new = [q for q in _problems(text, path) if (q.path, q.message) not in known]
            if new:
                raise ConfigError(new)

        try:
            if p.change == "move":
                if p.deadline not in names:
                    print(
                        f"notifier: deadline {p.deadline} is no longer in {path}", file=sys.stderr
                    )
                    return EXIT_INVALID
                fields: dict[str, Any] = {"due": local_due(p)}
                done = set_deadline(path, p.deadline, fields, check=check)
                what = f"deadline {p.deadline} now due {fields['due']}"
            else:
                name = args.name or p.name
                if name in names and not args.name:
                    n = 2
                    while f"{name}-{n}" in names:
                        n += 1
                    name = f"{name}-{n}"
                fields = as_deadline(
                    p,
                    zone=zone,
                    name=name,
                    remind=args.remind,
                    severity=args.severity,
                )
                done = add_deadline(path, fields, check=check)
                what = f"deadline {fields['name']} (due {fields['due']})"
        except ConfigEditError as e:
            if e.reason != "not_writable":
                print(f"notifier: {redact(str(e))}", file=sys.stderr)
                return EXIT_INVALID
            print(f"notifier: {redact(str(e))}", file=sys.stderr)
            if p.change == "move":
                print(f"Set the due of deadline {p.deadline} to: {local_due(p)}")
            else:
                print(f"Paste this under 'deadlines:' in {path}:")
                print(redact(deadline_snippet(fields)))
            return EXIT_INVALID
        except ConfigError as e:
            _report(e, path)
            print(f"notifier: {path} was not changed", file=sys.stderr)
            return EXIT_INVALID
        with store.transaction():
            store.proposals.set_status(p.id, "accepted", clock.utcnow())
    print(f"Accepted {p.id}: {what} in {done.path} (previous version: {done.backup}).")
    print("A running daemon reloads the file and plans its reminders.")
    return EXIT_OK


def cmd_dismiss(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier dismiss ID``: the proposal is not proposed again."""
    picked = _proposal(settings, args.id)
    if picked is None:
        return EXIT_INVALID
    store, p = picked
    with store:
        if p.status == "fact":
            print(f"notifier: {p.id} is a past date (a fact), not a proposal", file=sys.stderr)
            return EXIT_INVALID
        if p.status == "dismissed":
            print(f"Proposal {p.id} was already dismissed.")
            return EXIT_OK
        with store.transaction():
            store.proposals.set_status(p.id, "dismissed", clock.utcnow())
    print(f"Dismissed {p.id}: {p.title}. The same date and subject will not be proposed again.")
    return EXIT_OK


def _mute_target(
    text: str, config: Config, also: Sequence[tuple[str, str]] = ()
) -> tuple[str, str] | str:
    """:func:`notifier.delivery.stages.mute_target` (loaded when a command runs)."""
    from notifier.delivery.stages import mute_target  # noqa: PLC0415 - lazy

    return mute_target(text, config, also)


def _who() -> str:
    return os.environ.get("USER") or "cli"


def cmd_mute(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier mute TARGET --for DURATION``: hold its alerts until then."""

    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    target = _mute_target(args.target, config)
    if isinstance(target, str):
        print(f"notifier: {target}", file=sys.stderr)
        return EXIT_USAGE
    kind, name = target
    now = clock.utcnow()
    with _open_state(settings) as store, store.transaction():
        # Beside a running daemon: one small write, SQLite serialises it (no lock).
        muted = store.mutes.mute(
            kind,  # type: ignore[arg-type]
            name,
            now + args.duration,
            now,
            reason=args.reason,
            who=_who(),
        )
    until = muted.until.astimezone(config.timezone)
    print(f"Muted {muted.target} until {until:%Y-%m-%d %H:%M %Z}.")
    print("Its alerts are held, then sent as one digest; end it sooner: notifier unmute.")
    return EXIT_OK


def cmd_mutes(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier mutes``: the active mutes."""

    now = clock.utcnow()
    found = []
    if _has_state(settings):
        with _open_state(settings, read_only=True) as store:
            found = store.mutes.active(now)
    from notifier.cli.report import mute_json, mute_lines  # noqa: PLC0415 - lazy

    if args.json:
        print(json.dumps([mute_json(m) for m in found], ensure_ascii=False, indent=2))
        return EXIT_OK
    for line in mute_lines(found, now):
        print(line)
    print(f"{len(found)} active mute{'s' if len(found) != 1 else ''}")
    return EXIT_OK


def cmd_unmute(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier unmute TARGET``: end its mute now."""

    config = _load_or_report(settings)
    if config is None:
        return EXIT_INVALID
    now = clock.utcnow()
    with _open_state(settings) as store:
        active = [(m.kind, m.name) for m in store.mutes.active(now)]
        target = _mute_target(args.target, config, active)
        if isinstance(target, str):
            print(f"notifier: {target}", file=sys.stderr)
            return EXIT_USAGE
        kind, name = target
        with store.transaction():
            ended = store.mutes.end(kind, name, now)  # type: ignore[arg-type]
    if not ended:
        print(f"{kind}:{name} was not muted.")
    else:
        print(f"Unmuted {kind}:{name}: what it held goes out as one digest.")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier schema``: print the JSON Schema of the watch config."""
    from notifier.config.schema import json_schema  # noqa: PLC0415 - lazy, see the docstring

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as e:
            print(f"notifier: cannot write {args.output}: {e.strerror}", file=sys.stderr)
            return EXIT_INVALID
    else:
        sys.stdout.write(text)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    # A command runs: load what every command needs (argparse has answered --help).
    from notifier.config.settings import SettingsError  # noqa: PLC0415
    from notifier.logs import configure_logging  # noqa: PLC0415
    from notifier.storage.sqlite import DAMAGED  # noqa: PLC0415

    try:
        settings = _settings(args)
    except SettingsError as e:  # from the environment: flags were checked by the parser
        for line in str(e).splitlines():
            print(f"notifier: invalid setting {line}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_format, settings.log_level)
    try:
        code: int = args.handler(args, settings)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `notifier ... | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except NotifierError as e:
        print(f"notifier: {redact(str(e))}", file=sys.stderr)
        return EXIT_INVALID
    except DAMAGED as e:  # a store damaged past what opening it checks
        print(
            f"notifier: the state store in {settings.state_dir} is damaged ({e})", file=sys.stderr
        )
        return EXIT_INVALID
    return code


def cmd_ack(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier ack ID | --deadline NAME | --story ID``: record an acknowledgement."""
    from notifier.pipeline.acks import acknowledge  # noqa: PLC0415 - lazy

    chosen = [x for x in (args.id, args.deadline, args.story) if x is not None]
    if len(chosen) != 1:
        print("notifier: give one of ID, --deadline NAME or --story ID", file=sys.stderr)
        return EXIT_USAGE
    what = (
        f"ack id {args.id!r}"
        if args.id is not None
        else f"deadline {args.deadline!r}"
        if args.deadline is not None
        else f"story {args.story}"
    )
    if not _has_state(settings):
        print(f"notifier: no alert to acknowledge for {what}", file=sys.stderr)
        return EXIT_INVALID
    with _open_state(settings) as store:
        # Beside a running daemon: one small write, SQLite serialises it (no lock).
        result = acknowledge(
            store,
            clock.utcnow(),
            who=_who(),
            how="cli",
            ack_id=args.id,
            deadline=args.deadline,
            story=args.story,
        )
    if result.error == "ambiguous":
        print(
            f"notifier: {what} matches several alerts: {', '.join(result.candidates)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if result.error is not None:
        print(f"notifier: no alert to acknowledge for {what}", file=sys.stderr)
        return EXIT_INVALID
    for a in result.acked:
        print(f"Acknowledged {a.ack_id}: {a.title}")
    for a in result.already:
        if a.ack is not None:
            print(f"{a.ack_id} was already acknowledged by {a.ack.who} ({a.ack.how}).")
    return EXIT_OK


def cmd_acks(args: argparse.Namespace, settings: Settings) -> int:
    """``notifier acks [--open] [--json]``: acknowledged and open alerts."""
    from notifier.pipeline.acks import OPEN_WINDOW  # noqa: PLC0415 - lazy

    now = clock.utcnow()
    found = []
    if _has_state(settings):
        with _open_state(settings, read_only=True) as store:
            found = store.acks.alerts(now - OPEN_WINDOW)
    if args.open:
        found = [a for a in found if a.ack is None]
    if args.json:
        rows = [
            {
                "id": a.ack_id,
                "key": a.alert_key,
                "kind": a.kind,
                "severity": a.severity,
                "title": a.title,
                "created": a.created.isoformat(),
                "deadline": a.deadline,
                "story": a.story,
                "acknowledged": a.ack is not None,
                "who": a.ack.who if a.ack else None,
                "how": a.ack.how if a.ack else None,
                "at": a.ack.at.isoformat() if a.ack else None,
            }
            for a in found
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    for a in found:
        state = (
            f"acked by {a.ack.who} ({a.ack.how}) {a.ack.at:%Y-%m-%d %H:%M}Z" if a.ack else "OPEN"
        )
        print(f"{a.ack_id}  {a.severity:<8}  {state:<40}  {a.title}")
    still = sum(1 for a in found if a.ack is None)
    print(f"{len(found)} alert{'s' if len(found) != 1 else ''}, {still} open (last 7 days)")
    return EXIT_OK
