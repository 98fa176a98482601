"""The small part of a DB-API connection the storage classes use, as protocols.

:class:`sqlite3.Connection` satisfies :class:`Connection` as it is; PostgreSQL's
:class:`notifier.storage.postgres.PgConnection` adapts a psycopg connection to it
(``?`` placeholders, ``with conn:`` for a transaction). The SQL the storage classes
send is written once for both: ``INSERT … ON CONFLICT``, ``RETURNING id``, a
subquery in ``FROM`` always named, and ``rowid`` only on the tables PostgreSQL gives
a ``rowid`` column too (:mod:`notifier.storage.pg_migrations`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

#: The parameters of one statement: positional (``?``) or named (``:name``).
Params = Sequence[Any] | Mapping[str, Any]


class Cursor(Protocol):
    """What a statement returns: its rows and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection the storage classes can run their SQL on.

    ``with conn:`` groups the statements inside into one transaction (committed on
    success, rolled back on an error)."""

    def execute(self, sql: str, parameters: Params = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Params], /) -> Cursor: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: Any) -> Any: ...
