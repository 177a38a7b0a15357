"""The outbox's shared transactions: what workers ask meanwhile goes into one; a step that fails
for good fails alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.outbox import _Ledger
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_steps_asked_meanwhile_share_one_transaction(
        uow_factory: UnitOfWorkFactory) -> None:
    ledger = _Ledger(uow_factory)
    sessions: list[int] = []

    def recording(update_id: int):  # type: ignore[no-untyped-def]
        async def step(uow: SqlUnitOfWork) -> int:
            sessions.append(id(uow.session))
            await uow.updates.record(update_id, NOW)
            return update_id
        return step

    results = await asyncio.gather(*(ledger.write(recording(n), 5.0) for n in range(1, 21)))

    assert results == list(range(1, 21))
    assert len(set(sessions)) <= 2  # the first alone, the other nineteen together
    async with uow_factory() as uow:
        assert all([await uow.updates.seen(n) for n in range(1, 21)])


async def test_a_step_that_fails_for_good_fails_alone(uow_factory: UnitOfWorkFactory) -> None:
    ledger = _Ledger(uow_factory)

    async def good(uow: SqlUnitOfWork) -> str:
        await uow.updates.record(7, NOW)
        return "recorded"

    async def broken(uow: SqlUnitOfWork) -> str:
        await uow.updates.record(8, NOW)
        raise ValueError("a bug in one step")

    async def also_good(uow: SqlUnitOfWork) -> str:
        await uow.updates.record(9, NOW)
        return "recorded too"

    outcomes = await asyncio.gather(ledger.write(good, 5.0), ledger.write(broken, 5.0),
                                    ledger.write(also_good, 5.0), return_exceptions=True)

    assert outcomes[0] == "recorded" and outcomes[2] == "recorded too"
    assert isinstance(outcomes[1], ValueError)
    async with uow_factory() as uow:
        assert await uow.updates.seen(7) and await uow.updates.seen(9)
        assert not await uow.updates.seen(8)  # nothing of the broken step stayed


async def test_a_database_that_stays_away_fails_the_step_after_its_patience(
        uow_factory: UnitOfWorkFactory) -> None:
    ledger = _Ledger(uow_factory)
    tries = 0

    async def unlucky(uow: SqlUnitOfWork) -> None:
        nonlocal tries
        tries += 1
        raise ConnectionResetError("the database went away")

    with pytest.raises(ConnectionResetError):
        await ledger.write(unlucky, 0.3)
    assert tries >= 2  # tried again while its patience lasted


async def test_a_step_that_fails_for_good_on_its_own_is_not_tried_again(
        uow_factory: UnitOfWorkFactory) -> None:
    ledger = _Ledger(uow_factory)
    tries = 0

    async def broken(uow: SqlUnitOfWork) -> None:
        nonlocal tries
        tries += 1
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await asyncio.wait_for(ledger.write(broken, 600.0), 5.0)
    assert tries == 1
