"""Open the state store the settings name: SQLite in the state folder, or PostgreSQL.

psycopg is imported only when a PostgreSQL URL is given: it is an optional extra
(``pip install 'notifier[postgres]'``), and a daemon on SQLite never loads it.
"""

from __future__ import annotations

from pathlib import Path

from notifier.errors import StateError
from notifier.storage import State
from notifier.storage.sqlite import Store


def open_store(state_dir: Path, state_url: str | None, *, read_only: bool = False) -> State:
    """The SQLite store in ``state_dir`` when ``state_url`` is None, else the PostgreSQL
    database at ``state_url`` (``read_only``: a session that cannot write). Raises
    :class:`StateError` when it cannot be opened, or psycopg is not installed."""
    if state_url is None:
        return Store.open(state_dir, read_only=read_only)
    try:
        from notifier.storage.postgres import PgStore  # noqa: PLC0415 - optional extra
    except ImportError as e:
        raise StateError(
            f"a PostgreSQL state store needs psycopg ({e.name or e}): "
            "pip install 'notifier[postgres]'"
        ) from None
    return PgStore.connect(state_url, read_only=read_only)
