"""Idle memory of ``notifier run`` alone: the daemon benchmark's memory part, nothing else.

``.venv/bin/python -m bench.idle_memory [--feeds 1000] [--entries 50] [--quiet 10]
[--channel URL] [--work DIR] [--json]``

Runs :func:`bench.daemon.memory_bench` (a feed server with ``--feeds`` feeds, the
real ``notifier run`` on them with a ``console://`` channel, ``/proc`` sampled
every 0.2 s; see ``bench/README.md``, "Daemon measurements") and prints the main
process's idle and peak RSS, the tree's, and the import floor; ``--json`` prints
the whole result. A minute or two at 1,000 feeds (the first polls are spread over
30 s). The daemon is the ``notifier`` next to this interpreter, importing the
``notifier`` package the way this interpreter would (``PYTHONPATH`` included), so a
worktree measures its own code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from bench.daemon import memory_bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.idle_memory", description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--quiet", type=float, default=10.0, help="seconds idle before reading")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--channel",
        default="console://",
        help="the channel's URL (console:// needs no Apprise plugin; json://127.0.0.1:9/x does)",
    )
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--work", default=None, help="keep the config, log and state here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as temporary:
        result = asyncio.run(
            memory_bench(
                Path(args.work or temporary),
                feeds=args.feeds,
                entries=args.entries,
                seed=args.seed,
                quiet=args.quiet,
                channel=args.channel,
            )
        )
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return 0
    main_, tree = result["main"], result["tree"]
    imports = ", ".join(f"{i['step']} +{i['delta_mib']}" for i in result["imports"])
    sys.stdout.write(
        f"feeds {result['feeds']} × {result['entries']}: first cycle "
        f"{result['first_cycle_s']} s {result['first_polls']['statuses']}\n"
        f"main: idle {main_['idle_rss_mib']} MiB, peak {main_['peak_rss_mib']} MiB "
        f"(target ≤ {result['target']['idle_rss_mib']}: "
        f"{'met' if result['target']['met'] else 'missed'})\n"
        f"tree ({tree['processes']}): idle {tree['idle_rss_mib']} MiB RSS, "
        f"{tree['idle_pss_mib']} MiB PSS\n"
        f"imports (fresh interpreter, MiB): {imports}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
