"""The ``notifier`` console script's entry point, kept free of heavy imports.

The parse pool's worker processes (see :mod:`notifier.runtime.pool`) re-import the
program's main script, as :mod:`multiprocessing` does for every process it
starts. The console script imports this module at its top, so anything
imported here would be loaded — and paid for, in tens of megabytes — in
every worker. The command itself is imported only when it runs.
"""

from __future__ import annotations


def main() -> int:
    """Run the ``notifier`` command (see :mod:`notifier.cli`)."""
    from notifier.cli.commands import main as cli_main  # noqa: PLC0415 - see the docstring

    return cli_main()
