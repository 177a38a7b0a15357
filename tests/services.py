"""Where the test suite finds its PostgreSQL and Redis servers.

Each helper returns a URL, or ``None`` when no server is to be had, so that a test (or a fixture)
can skip with a clear reason. An environment variable wins; without one, the default port on
127.0.0.1 is tried with a one-second TCP connect. An environment variable set to the empty string
turns the server off: the helper returns ``None`` without probing.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

HOST = "127.0.0.1"
POSTGRES_PORT = 5432
REDIS_PORT = 6379
POSTGRES_ENV = "FRONTDESK_TEST_POSTGRES_URL"
REDIS_ENV = "FRONTDESK_TEST_REDIS_URL"
DEFAULT_POSTGRES_URL = f"postgresql+asyncpg://postgres@{HOST}:{POSTGRES_PORT}/test"
# Database 15, the last of Redis's default sixteen, so that tests never touch a real bot's keys.
DEFAULT_REDIS_URL = f"redis://{HOST}:{REDIS_PORT}/15"
PROBE_TIMEOUT = 1.0


def port_answers(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """Tell whether something accepts a TCP connection on ``host:port`` within ``timeout``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _service_url(env: str, port: int, default: str) -> str | None:
    """The URL from ``env`` if it is set, else ``default`` if the local port answers."""
    configured = os.environ.get(env)
    if configured is not None:
        return configured.strip() or None
    return default if port_answers(HOST, port) else None


def postgres_url() -> str | None:
    """The SQLAlchemy URL (asyncpg driver) of the test PostgreSQL database, or None."""
    return _service_url(POSTGRES_ENV, POSTGRES_PORT, DEFAULT_POSTGRES_URL)


def redis_url() -> str | None:
    """The URL of the Redis database the tests may flush, or None."""
    return _service_url(REDIS_ENV, REDIS_PORT, DEFAULT_REDIS_URL)


def redis_url_or_skip() -> str:
    """The test Redis for a test that needs one: skip without a server, but fail when
    FRONTDESK_TEST_REDIS_URL names one that does not answer (CI must not skip silently)."""
    import pytest

    url = redis_url()
    if url is None:
        if os.environ.get(REDIS_ENV):
            pytest.fail("FRONTDESK_TEST_REDIS_URL is set but the server does not answer")
        pytest.skip("no Redis server on 127.0.0.1:6379")
    return url


@asynccontextmanager
async def scratch_postgres(base_url: str, prefix: str = "fd_test") -> AsyncIterator[str]:
    """A fresh database on the server of `base_url` (its URL), dropped afterwards."""
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    name = f"{prefix}_{secrets.token_hex(6)}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(host=base.host, port=base.port,
                                           user=base.username, password=base.password,
                                           database=base.database)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    await admin(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def scratch_sqlite() -> AsyncIterator[str]:
    """A scratch SQLite file (its URL), removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite+aiosqlite:///{folder}/scratch.sqlite3"
