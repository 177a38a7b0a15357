"""SQLite through aiosqlite, one trip to its thread per statement.

aiosqlite runs every call of the sqlite3 module in a thread of its own and hands the result
back to the event loop. SQLAlchemy's adapter makes four such calls per statement (open a
cursor, execute, fetch the rows, close the cursor), and each trip costs more than the
statement itself (a queue, a thread switch, a wake-up of the loop). Here a statement is one
trip: the cursor is opened, executed, read out and closed in the thread, and the rows wait on
the loop's side. Long statements (a year's report) still run in the thread, never on the loop.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

_Outcome = tuple[Any, int, int | None, list[Any]]


def _run(connection: sqlite3.Connection, sql: str, parameters: Sequence[Any] | None,
         many: Iterable[Sequence[Any]] | None = None) -> _Outcome:
    """One statement, in aiosqlite's thread: what the cursor says and every row."""
    cursor = connection.cursor()
    try:
        if many is not None:
            cursor.executemany(sql, many)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor:
    """The part of an aiosqlite cursor SQLAlchemy uses, with the rows kept on the loop's side."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._rows.clear()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> OneTripCursor:
        """Run one statement and keep its rows."""
        self._take(await self._connection._execute(_run, self._connection._conn, sql,
                                                    parameters))
        return self

    async def executemany(self, sql: str,
                          parameters: Iterable[Sequence[Any]]) -> OneTripCursor:
        """Run one statement for each set of parameters."""
        self._take(await self._connection._execute(_run, self._connection._conn, sql, None,
                                                    list(parameters)))
        return self

    def _take(self, outcome: _Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, rows = outcome
        self._rows = deque(rows)

    async def fetchone(self) -> Any:
        """The next row, or None."""
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` more rows."""
        count = min(len(self._rows), size or self.arraysize)
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Any]:
        """The remaining rows."""
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def nextset(self) -> None:
        """SQLite has one result set per statement."""

    async def close(self) -> None:
        """Nothing is open in the thread any more; forget the rows."""
        self._rows.clear()


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors make one trip per statement."""

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)


class InlineConnection(OneTripConnection):
    """An aiosqlite connection whose statements run on the event loop itself.

    A trip to a thread costs more than a short statement (on this kind of machine about
    0.2 ms of processor time each way, against some 20 µs for an indexed statement), and the
    desk's hot path is all short statements. What is long — a year's report — goes to a
    connection of the other kind (`make_engine(..., background=True)`). The file's lock is
    waited for only briefly (`INLINE_BUSY_MS`): a writer of another process (the command line)
    makes the statement fail with "database is locked", which is tried again later
    (`storage.transient`) instead of holding up the loop.
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)


INLINE_BUSY_MS = 50


def connector(database: str, *, inline: bool) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy: a connection to a SQLite file whose statements run
    on the loop (`inline`) or make one trip each to aiosqlite's thread."""
    kind = InlineConnection if inline else OneTripConnection
    timeout = INLINE_BUSY_MS / 1000 if inline else 30.0

    async def connect() -> OneTripConnection:
        connection = kind(partial(sqlite3.connect, database, timeout=timeout,
                                  isolation_level=None, check_same_thread=not inline),
                          iter_chunk_size=64)
        await connection  # starts its thread, which opens the file
        return connection

    return connect
