"""The state in PostgreSQL: the same protocols and SQL as SQLite, on psycopg 3.

::

    PgStore.connect(url) ──▶ PgConnection (autocommit; ``with conn:`` = a transaction,
                             nested = a savepoint; ``?``/``:name`` → ``%s``/``%(name)s``)
                        ──▶ pg_migrations (numbered, under an advisory lock)
    PgStore = SqlState (feeds, seen) + the Sqlite* table classes on that connection,
              with PgHistory's search index: a tsvector per entry, GIN-indexed

**Why one SQL text.** Every statement in :mod:`notifier.storage` is written for both
(``ON CONFLICT``, ``RETURNING id``); the only PostgreSQL-specific SQL is here and in
:mod:`notifier.storage.pg_migrations`. Times are the same ISO text as in SQLite.

**Cluster.** Several daemons may share one database: :meth:`PgStore.lock_feed`
holds a transaction-scoped advisory lock on the feed's name, so two polls of one
feed never interleave their writes.

**Bounded.** Connecting gives up after 5 seconds, a statement after 15, a
transaction left idle after 60; TCP keepalives notice a dead server.

**Errors.** Every psycopg error becomes :class:`~notifier.errors.StateError`; a
message never carries the URL's password (:func:`mask_url`).

psycopg is an optional dependency (``pip install 'notifier[postgres]'``): import this
module only through :func:`notifier.storage.open.open_store`, which says so when it
is missing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

import psycopg
from psycopg import conninfo

from notifier.errors import StateError
from notifier.storage import pg_migrations
from notifier.storage.dbapi import Params
from notifier.storage.history import SqliteHistory
from notifier.storage.migrations import NewerStore
from notifier.storage.search import lexemes, tsquery
from notifier.storage.sqlite import SqlState

#: Session settings of every connection (milliseconds).
OPTIONS = "-c statement_timeout=15000 -c idle_in_transaction_session_timeout=60000"
CONNECT_TIMEOUT = 5
_NAME = re.compile(r"[A-Za-z_]\w*")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*(?P<at>@)", re.I)
_KW_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\S+)", re.I)


def mask_url(url: str) -> str:
    """``url`` (a URL or a ``key=value`` conninfo) with its password as ``***``."""
    url = _URL_PASSWORD.sub(r"\g<head>***\g<at>", url)
    return _KW_PASSWORD.sub(r"\g<head>***", url)


def _secret(url: str) -> str | None:
    try:
        password = conninfo.conninfo_to_dict(url).get("password")
    except psycopg.Error:
        return None
    return str(password) if password else None


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """SQLite's placeholders in psycopg's style: ``?`` → ``%s``, ``:name`` →
    ``%(name)s``, a literal ``%`` → ``%%``; nothing inside quotes but ``%``
    changes, and a ``::`` cast stays."""
    out: list[str] = []
    quote = ""
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "%":
            out.append("%%")
        elif quote:
            out.append(c)
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
            out.append(c)
        elif c == "?":
            out.append("%s")
        elif c == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
            continue
        elif c == ":" and (m := _NAME.match(sql, i + 1)):
            out.append(f"%({m.group()})s")
            i = m.end()
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _params(parameters: Params) -> Sequence[Any] | Mapping[str, Any]:
    return parameters if isinstance(parameters, Mapping) else tuple(parameters)


class PgCursor:
    """A finished statement: its rows (read at once) and its row count."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        """The next row, or None."""
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        """The rows not read yet."""
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        while (row := self.fetchone()) is not None:
            yield row


class PgConnection:
    """A psycopg connection as a :class:`~notifier.storage.dbapi.Connection`.

    The connection is in autocommit: a statement outside ``with conn:`` commits
    alone; ``with conn:`` is a transaction, and a nested one a savepoint. Errors
    are :class:`StateError` (saying ``where``, never a password).

    A connection lost (the server restarted, the network cut) is opened again with
    ``reopen`` at the next statement outside a transaction: a worker comes back by
    itself once PostgreSQL does; a transaction cut short fails as a whole."""

    def __init__(
        self,
        raw: psycopg.Connection[Any],
        where: str,
        reopen: Callable[[], psycopg.Connection[Any]] | None = None,
    ) -> None:
        self.raw = raw
        self.where = where
        self._reopen = reopen
        self._transactions: list[AbstractContextManager[Any]] = []

    def _live(self) -> None:
        """Open the connection again if it was lost (only between transactions)."""
        if self._transactions or self._reopen is None:
            return
        if not (self.raw.closed or self.raw.broken):
            return
        try:
            self.raw = self._reopen()
        except psycopg.Error as e:
            raise self._error(e) from None

    def _error(self, e: psycopg.Error) -> StateError:
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return StateError(f"state store {self.where} failed: {text}")

    def execute(self, sql: str, parameters: Params = (), /) -> PgCursor:
        """Run one statement (``?`` or ``:name`` placeholders)."""
        self._live()
        try:
            with self.raw.cursor() as cur:
                cur.execute(translate(sql), _params(parameters))
                rows = cur.fetchall() if cur.description is not None else []
                return PgCursor(rows, cur.rowcount)
        except psycopg.Error as e:
            raise self._error(e) from e

    def executemany(self, sql: str, parameters: Iterable[Params], /) -> PgCursor:
        """Run one statement once per parameter set."""
        batch = [_params(p) for p in parameters]
        if not batch:
            return PgCursor([], 0)
        self._live()
        try:
            with self.raw.cursor() as cur:
                cur.executemany(translate(sql), batch)
                return PgCursor([], cur.rowcount)
        except psycopg.Error as e:
            raise self._error(e) from e

    def __enter__(self) -> PgConnection:
        self._live()
        transaction = self.raw.transaction()
        try:
            transaction.__enter__()
        except psycopg.Error as e:
            raise self._error(e) from e
        self._transactions.append(transaction)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        transaction = self._transactions.pop()
        try:
            transaction.__exit__(kind, error, trace)
        except psycopg.Error as e:
            raise self._error(e) from e

    def close(self) -> None:
        """Close the connection (idempotent; a closed connection is not opened again)."""
        self._reopen = None
        self.raw.close()


class PgHistory(SqliteHistory):
    """The history tables, searched through ``entries_fts``: one ``tsvector`` of
    :func:`~notifier.storage.search.lexemes` per entry, GIN-indexed, queried with
    :func:`~notifier.storage.search.tsquery` (no text parser or dictionary of the
    server's is involved, so its locale changes nothing)."""

    def _index(self, rows: Iterable[tuple[int, str, str]]) -> None:
        self.db.executemany(
            "INSERT INTO entries_fts(id, tsv) VALUES (?, array_to_tsvector(?::text[])) "
            "ON CONFLICT(id) DO UPDATE SET tsv=excluded.tsv",
            [(entry, lexemes(title, summary)) for entry, title, summary in rows],
        )

    def _unindex(self, rows: Iterable[tuple[int, str, str]]) -> None:
        self.db.executemany("DELETE FROM entries_fts WHERE id=?", [(r[0],) for r in rows])

    def _merge_index(self) -> None:
        """Nothing to merge: deleted rows are gone (vacuum reclaims their space)."""

    def _search(self, search: str) -> tuple[str, Any]:
        return "e.id IN (SELECT id FROM entries_fts WHERE tsv @@ ?::tsquery)", tsquery(search)


def _settings(url: str) -> dict[str, Any]:
    """The connection settings notifier adds to ``url``'s: the timeouts and keepalives
    above, unless the URL sets them; the URL's ``options`` (a ``search_path`` for
    another schema, a longer ``statement_timeout``) follow :data:`OPTIONS`, so they win."""
    given = conninfo.conninfo_to_dict(url)
    settings: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    settings = {k: v for k, v in settings.items() if k not in given}
    settings["options"] = f"{OPTIONS} {given['options']}" if given.get("options") else OPTIONS
    return settings


class PgStore(SqlState):
    """The state in a PostgreSQL database (see the module docstring). Not
    thread-safe: use it from one thread, as :class:`~notifier.storage.sqlite.Store`."""

    _db: PgConnection
    _history_type = PgHistory

    def __init__(self, db: PgConnection, *, read_only: bool = False) -> None:
        self._db = db
        self.read_only = read_only
        self._reset_tables()

    @classmethod
    def connect(cls, url: str, *, read_only: bool = False) -> PgStore:
        """Connect to the database at ``url`` (a ``postgresql://`` URL or a conninfo
        string) and bring it to the latest schema; ``read_only``: a session that
        cannot write, refused if the schema is not the latest."""
        where = mask_url(url)

        def reopen() -> psycopg.Connection[Any]:
            raw = psycopg.connect(url, autocommit=True, **_settings(url))
            if read_only:
                raw.execute("SET default_transaction_read_only = on")
            return raw

        try:
            raw = psycopg.connect(url, autocommit=True, **_settings(url))
        except psycopg.Error as e:
            text = str(e).strip() or type(e).__name__
            secret = _secret(url)
            if secret:
                text = text.replace(secret, "***")
            raise StateError(
                f"cannot connect to the PostgreSQL state store {where}: {mask_url(text)}"
            ) from None
        store = cls(PgConnection(raw, where, reopen), read_only=read_only)
        try:
            store._open()
        except BaseException:
            store.close()
            raise
        return store

    def _open(self) -> None:
        try:
            found = pg_migrations.check(self._db)
            if self.read_only:
                self._db.execute("SET default_transaction_read_only = on")
                if found < pg_migrations.LATEST:
                    raise StateError(
                        f"the PostgreSQL state store {self._db.where} has schema {found}, "
                        f"not {pg_migrations.LATEST}: start notifier once without "
                        "read-only to create or migrate it"
                    )
            else:
                pg_migrations.migrate(self._db)
        except NewerStore as e:
            raise StateError(
                f"the state store was written by a newer notifier (schema {e.version}); "
                "upgrade notifier or use another database"
            ) from None

    def lock_feed(self, name: str) -> None:
        """Wait for (then hold, until this transaction ends) the feed's advisory lock."""
        self._db.execute("SELECT pg_advisory_xact_lock(hashtext(?))", ("feed:" + name,))

    def lock_stories(self) -> None:
        """Wait for (then hold, until this transaction ends) the stories' advisory lock."""
        self._db.execute("SELECT pg_advisory_xact_lock(hashtext('stories'))")

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._db.close()

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
