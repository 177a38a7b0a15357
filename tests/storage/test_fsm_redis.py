"""With REDIS_URL set, the conversation state lives in Redis and survives a restart."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisStorage

from bot.app import make_fsm_storage
from bot.settings import Settings
from storage.engine import make_engine, make_sessionmaker
from storage.fsm import SqlStorage
from storage.uow import UnitOfWorkFactory
from tests import services

KEY = StorageKey(bot_id=1, chat_id=7001, user_id=7001)


def _settings(redis_url: str | None, database_url: str) -> Settings:
    return Settings(bot_token="1:" + "A" * 35, staff_chat_id=-1001, database_url=database_url,
                    redis_url=redis_url)


async def test_redis_url_selects_redis_storage_and_state_survives(sqlite_url: str) -> None:
    redis_url = services.redis_url_or_skip()
    engine = make_engine(sqlite_url)
    uow_factory = UnitOfWorkFactory(make_sessionmaker(engine))
    first = make_fsm_storage(_settings(redis_url, sqlite_url), uow_factory)
    try:
        assert isinstance(first, RedisStorage)
        await first.set_state(KEY, "Intake:subject")
        await first.set_data(KEY, {"contract": "C-100"})
    finally:
        await first.close()
    second = make_fsm_storage(_settings(redis_url, sqlite_url), uow_factory)
    try:
        assert await second.get_state(KEY) == "Intake:subject"
        assert await second.get_data(KEY) == {"contract": "C-100"}
        await second.set_state(KEY, None)
        await second.set_data(KEY, {})
    finally:
        await second.close()
        await engine.dispose()


async def test_without_redis_the_state_is_kept_in_the_database(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        storage = make_fsm_storage(_settings(None, sqlite_url),
                                   UnitOfWorkFactory(make_sessionmaker(engine)))
        assert isinstance(storage, SqlStorage)
    finally:
        await engine.dispose()
