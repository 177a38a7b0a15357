"""Fixtures of the end-to-end tests: a running desk on a real database and the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from domain.clients import Contract
from domain.policy import Policy, default_policy
from playground.telegram.bot_api import FakeBotAPI
from storage.engine import make_engine, make_sessionmaker, upgrade
from storage.uow import UnitOfWorkFactory
from tests.e2e.harness import DeskFactory, MovableClock, RunningDesk
from tests.fakes.plugin import STAFF_CHAT_ID

CONTRACTS = [
    Contract("C-100", "ACME", "standard", None, False, "LIC-ACME-1"),
    Contract("C-200", "Globex", "premium", None, True, None),
    Contract("C-300", "Initech", "standard", date(2020, 12, 31), False, None),
]


async def seed_contracts(database_url: str) -> None:
    """Put the test contracts into the registry."""
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        async with UnitOfWorkFactory(make_sessionmaker(engine))() as uow:
            await uow.contracts.upsert_many(CONTRACTS, MovableClock().now())
            await uow.commit()
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> MovableClock:
    """The desk's clock: real time that a test may move forward."""
    return MovableClock()


@pytest.fixture
async def desk(fake_api: FakeBotAPI, sqlite_url: str,
               clock: MovableClock) -> AsyncIterator[RunningDesk]:
    """A running desk (default policy, SQLite) with the test contracts."""
    await seed_contracts(sqlite_url)
    running = await RunningDesk(fake_api, sqlite_url, default_policy(), clock).start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def make_desk(fake_api: FakeBotAPI, sqlite_url: str,
                    clock: MovableClock) -> AsyncIterator[DeskFactory]:
    """Start a desk of the test's own (a policy, another staff chat); use instead of `desk`."""
    started: list[RunningDesk] = []

    async def start(policy: Policy | None = None,
                    staff_chat_id: int = STAFF_CHAT_ID) -> RunningDesk:
        await seed_contracts(sqlite_url)
        running = await RunningDesk(fake_api, sqlite_url, policy or default_policy(), clock,
                                    staff_chat_id=staff_chat_id).start()
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in started:
            await running.stop()
