"""The SQLite engine (stock aiosqlite through SQLAlchemy, our transactions begun by us):
statements, rows and errors as SQLAlchemy promises; reports read beside the writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.engine import make_engine

METADATA = MetaData()
THINGS = Table("things", METADATA, Column("id", Integer, primary_key=True),
               Column("name", String, nullable=False))


async def test_statements_rows_and_errors_go_through(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
            await connection.execute(insert(THINGS), [{"id": n, "name": f"thing {n}"}
                                                      for n in range(1, 251)])
            changed = await connection.execute(
                update(THINGS).where(THINGS.c.id <= 10).values(name="first"))
            assert changed.rowcount == 10
            inserted = await connection.execute(insert(THINGS).values(name="last"))
            assert inserted.inserted_primary_key == (251,)

        async with engine.connect() as connection:
            assert (await connection.execute(
                select(THINGS.c.name).where(THINGS.c.id == 3))).scalar_one() == "first"
            streamed = [row.id async for row in await connection.stream(
                select(THINGS.c.id).order_by(THINGS.c.id))]  # a server-side cursor: fetchmany
            assert streamed == list(range(1, 252))
            assert (await connection.execute(
                select(THINGS).where(THINGS.c.id == 999))).first() is None

        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(insert(THINGS).values(id=1, name="again"))
        async with engine.connect() as connection:  # the failed transaction left nothing
            names = (await connection.execute(
                select(THINGS.c.name).where(THINGS.c.id == 1))).scalars().all()
            assert names == ["first"]
    finally:
        await engine.dispose()


async def test_a_read_only_engine_reads_beside_a_writer_and_cannot_write(tmp_path: Path) -> None:
    """Reports read on a connection of their own: they neither wait for the bot's writer nor
    hold it up, and cannot change anything."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'reader.sqlite3'}"
    writer, reader = make_engine(url), make_engine(url, readonly=True)
    try:
        async with writer.begin() as connection:
            await connection.run_sync(METADATA.create_all)
            await connection.execute(insert(THINGS).values(id=1, name="kept"))
        async with writer.begin() as writing:  # the writer holds the lock meanwhile
            await writing.execute(insert(THINGS).values(id=2, name="not yet committed"))
            async with reader.connect() as reading:
                names = (await reading.execute(select(THINGS.c.name))).scalars().all()
                assert names == ["kept"]
        with pytest.raises(OperationalError, match="readonly"):
            async with reader.begin() as reading:
                await reading.execute(insert(THINGS).values(id=3, name="from a report"))
    finally:
        await writer.dispose()
        await reader.dispose()


async def test_a_failed_write_leaves_the_connection_usable_and_foreign_keys_hold(
        tmp_path: Path) -> None:
    """Our BEGIN IMMEDIATE (the driver begins nothing) is ended by the rollback, and the
    pragmas of every connection hold: WAL, foreign keys."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.sqlite3'}")
    try:
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.exec_driver_sql(
                    "CREATE TABLE parents (id INTEGER PRIMARY KEY)")
                await connection.exec_driver_sql(
                    "CREATE TABLE children (id INTEGER PRIMARY KEY, "
                    "parent INTEGER NOT NULL REFERENCES parents (id))")
                await connection.exec_driver_sql("INSERT INTO children VALUES (1, 7)")
        async with engine.begin() as connection:  # the DDL was undone with the rest
            tables = (await connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'")).scalars().all()
            assert "children" not in tables
    finally:
        await engine.dispose()
