"""Shared fixtures: databases (SQLite file and PostgreSQL), clocks, the fake Bot API plugin."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a real SQLite file, then a real PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'desk.sqlite3'}"
        return
    async with services.scratch_postgres(_postgres_or_skip()) as url:
        yield url


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
