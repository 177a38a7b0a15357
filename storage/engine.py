"""The database engine and schema migrations (Alembic, run from code — no alembic.ini needed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as _AsyncSession

from domain.policy import Policy

MIGRATIONS = Path(__file__).parent / "migrations"
Engine = AsyncEngine  # the application's handle on the database (made by `make_engine`)
DatabaseError = DBAPIError  # what the database driver raised, whichever it is
SQLITE_BUSY_SECONDS = 30.0  # how long a SQLite statement waits for another writer's lock


@dataclass(frozen=True)
class DatabaseAddress:
    """What a database URL names, for the command line and its checks."""

    sqlite: bool
    database: str  # a SQLite database's file, a PostgreSQL database's name
    host: str | None
    port: int | None
    username: str | None
    shown: str  # the URL with its password hidden


def address_of(url: str) -> DatabaseAddress:
    """The parts of a database URL (`sqlite+aiosqlite:///…`, `postgresql+asyncpg://…`)."""
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host")
    if isinstance(host, tuple):
        host = host[0]
    return DatabaseAddress(parsed.get_backend_name() == "sqlite", parsed.database or "", host,
                           parsed.port, parsed.username,
                           parsed.render_as_string(hide_password=True))


def make_engine(url: str, *, readonly: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout, enforced foreign keys, and writers
    that take the file's lock when they begin. A `readonly` SQLite engine (long reads, such as
    a year's report) reads a snapshot without taking the write lock, so the bot goes on writing
    meanwhile, and can change nothing."""
    if url.startswith("sqlite"):
        # One connection (SQLite has one writer at a time anyway): the tasks of this process
        # queue for it in asyncio, in order, instead of taking turns in SQLite's busy handler
        # (which sleeps up to 100 ms between tries). aiosqlite runs its statements in a thread
        # of its own: waiting for the lock (the command line writing) never holds up the loop.
        engine = create_async_engine(url, pool_size=1, max_overflow=0,
                                     connect_args={"timeout": SQLITE_BUSY_SECONDS})

        # SQLAlchemy's recipe for SQLite transactions ("Serializable isolation / Savepoints /
        # Transactional DDL (asyncio version)"): the driver begins none, we do.
        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            if readonly:
                cursor.execute("PRAGMA query_only=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection) -> None:  # type: ignore[no-untyped-def]
            # A deferred transaction that reads and then writes fails at once ("database is
            # locked") when another connection wrote in between; taking the write lock at
            # BEGIN makes writers queue up instead. A reader takes a snapshot and no lock.
            connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    # Connections are kept, never made per burst (a PostgreSQL connection costs a process and
    # a handshake): tasks queue for the pool instead. A connection the server dropped fails
    # its first statement, SQLAlchemy then renews the whole pool, and the work is tried again
    # (storage.transient) — cheaper than a ping before every transaction.
    # asyncpg prepares every statement; its cache of them must hold a batch's savepoints
    # (named sa_savepoint_1, 2, … per transaction) besides the statements they wrap, or
    # each statement is prepared again (a round trip more) every time.
    return create_async_engine(url, pool_size=20, max_overflow=0, pool_timeout=60,
                               connect_args={"prepared_statement_cache_size": 1000})


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[_AsyncSession]:
    """Sessions that keep loaded values after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """The Alembic configuration pointing at our migrations package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection, revision: str, policy: Policy | None) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if policy is not None:  # migrations that measure tickets use the desk's own calendars
        config.attributes["policy"] = policy
    command.upgrade(config, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest migration this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(engine: AsyncEngine, revision: str = "head",
                  policy: Policy | None = None) -> None:
    """Bring the schema up to `revision` (with the desk's `policy`, if known: a migration that
    measures the tickets stored before takes the SLA levels' calendars from it)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision, policy)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema revision the database is at (None for an empty database)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def schema_is_current(engine: AsyncEngine) -> bool:
    """Whether the database is at the newest migration."""
    return await current_revision(engine) == head_revision()
