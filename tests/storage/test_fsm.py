"""The conversation state kept in the database outlives the storage object (a restart)."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey

from storage.fsm import SqlStorage
from storage.uow import UnitOfWorkFactory

KEY = StorageKey(bot_id=1, chat_id=501, user_id=501)


async def test_state_and_data_survive_a_new_storage(uow_factory: UnitOfWorkFactory) -> None:
    first = SqlStorage(uow_factory.sessions)
    await first.set_state(KEY, "Intake:description")
    await first.update_data(KEY, {"subject": "Login fails", "parts": [{"ids": [1, 2]}]})
    await first.close()

    second = SqlStorage(uow_factory.sessions)
    assert await second.get_state(KEY) == "Intake:description"
    assert await second.get_data(KEY) == {"subject": "Login fails", "parts": [{"ids": [1, 2]}]}
    await second.set_state(KEY, None)
    await second.set_data(KEY, {})
    assert await second.get_state(KEY) is None
    assert await second.get_data(KEY) == {}


async def test_keys_of_different_users_do_not_mix(uow_factory: UnitOfWorkFactory) -> None:
    storage = SqlStorage(uow_factory.sessions)
    other = StorageKey(bot_id=1, chat_id=502, user_id=502)
    await storage.set_data(KEY, {"a": 1})
    await storage.set_data(other, {"b": 2})
    assert await storage.get_data(KEY) == {"a": 1}
    assert await storage.get_data(other) == {"b": 2}
