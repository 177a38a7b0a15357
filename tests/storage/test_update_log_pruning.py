"""The de-duplication table of update ids does not grow forever: the scheduler prunes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.scheduler import Scheduler
from domain.clock import FakeClock
from domain.desk import Desk
from domain.policy import default_policy
from storage.uow import UnitOfWorkFactory

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


async def test_old_update_ids_are_forgotten_and_recent_ones_kept(
        uow_factory: UnitOfWorkFactory) -> None:
    clock = FakeClock(NOW)
    async with uow_factory() as uow:
        await uow.updates.record(1, NOW - timedelta(days=3))
        await uow.updates.record(2, NOW - timedelta(hours=5))
        await uow.commit()
    scheduler = Scheduler(Desk(default_policy(), clock), uow_factory, clock)
    await scheduler.prune()
    async with uow_factory() as uow:
        assert not await uow.updates.seen(1)  # older than Telegram keeps updates
        assert await uow.updates.seen(2)  # may still be delivered again
        await uow.updates.record(3, NOW - timedelta(days=3))
        await uow.commit()
    await scheduler.prune()  # within the hour: nothing is done again
    async with uow_factory() as uow:
        assert await uow.updates.seen(3)


async def test_a_batch_of_update_ids_is_recorded_at_once_and_the_known_ones_named(
        uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.updates.record(11, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.updates.record_new([10, 11, 12], NOW) == {10, 12}  # 11 came before
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.updates.record_new([12, 13], NOW) == {13}
        assert all([await uow.updates.seen(update_id) for update_id in (10, 11, 12, 13)])
