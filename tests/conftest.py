"""Shared fixtures: databases (SQLite file and PostgreSQL), clocks, the fake Bot API plugin."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import make_engine, make_sessionmaker, upgrade
from storage.uow import UnitOfWorkFactory
from tests import services

pytest_plugins = ["tests.fakes.plugin"]


def _postgres_or_skip() -> str:
    url = services.postgres_url()
    if url is None:
        if os.environ.get(services.POSTGRES_ENV):
            pytest.fail("FRONTDESK_TEST_POSTGRES_URL is set but the server does not answer")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    return url


async def _fresh_postgres_database() -> tuple[str, str]:
    """Create an empty database for one test; return its URL and name."""
    base = make_url(_postgres_or_skip())
    name = f"fd_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(host=base.host, port=base.port, user=base.username,
                                  password=base.password, database=base.database)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return base.set(database=name).render_as_string(hide_password=False), name


async def _drop_postgres_database(name: str) -> None:
    base = make_url(_postgres_or_skip())
    admin = await asyncpg.connect(host=base.host, port=base.port, user=base.username,
                                  password=base.password, database=base.database)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a real SQLite file, then a real PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'desk.sqlite3'}"
        return
    url, name = await _fresh_postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite file (for tests that need only one backend)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'desk.sqlite3'}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated database."""
    engine = make_engine(database_url)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    """Units of work on the migrated database."""
    return UnitOfWorkFactory(make_sessionmaker(engine))
