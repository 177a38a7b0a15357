"""aiogram FSM storage in the database, so an intake survives a restart of the bot."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import FsmRow

_STATE = select(FsmRow.state).where(FsmRow.key == bindparam("key"))
_DATA = select(FsmRow.data).where(FsmRow.key == bindparam("key"))
_MANY = (select(FsmRow.key, FsmRow.state, FsmRow.data)
         .where(FsmRow.key.in_(bindparam("keys", expanding=True))))
# In `session.info`: the states and data read ahead for a batch of updates, by key
# ((None, None) where there is no row); a key is dropped when its state or data is written.
READ_AHEAD = "fsm_read_ahead"
_UPDATE_SESSION: ContextVar[AsyncSession | None] = ContextVar("fsm_update_session",
                                                              default=None)


@contextmanager
def within_update(session: AsyncSession) -> Iterator[None]:
    """While an update is handled, its state changes join the update's own transaction."""
    token = _UPDATE_SESSION.set(session)
    try:
        yield
    finally:
        _UPDATE_SESSION.reset(token)


class SqlStorage(BaseStorage):
    """Conversation state and data per chat and user, one row each.

    Inside an update (see `within_update`) the state is written in the update's transaction, so
    the intake's step and what it caused are saved together or not at all; elsewhere each
    change commits at once.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.keys = DefaultKeyBuilder(with_destiny=True)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[tuple[AsyncSession, bool]]:
        shared = _UPDATE_SESSION.get()
        if shared is not None:
            yield shared, False
            return
        async with self.sessions() as own:
            yield own, True

    async def read_ahead(self, session: AsyncSession, keys: Collection[StorageKey]) -> None:
        """Read the states and data of these keys in one statement, for a batch of updates
        handled in `session` (see `within_update`) about to ask for them one by one."""
        names = {self.keys.build(key) for key in keys}
        connection = await session.connection()
        found = await connection.execute(_MANY, {"keys": list(names)})
        ahead: dict[str, tuple[str | None, str | None]] = dict.fromkeys(names, (None, None))
        ahead.update((name, (state, data)) for name, state, data in found)
        session.info[READ_AHEAD] = ahead

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Set the state for the key (None clears it)."""
        value = state.state if isinstance(state, State) else state
        async with self._session() as (session, own):
            row = await self._row(session, key)
            row.state = value
            await (session.commit() if own else session.flush())

    async def get_state(self, key: StorageKey) -> str | None:
        """The current state for the key (read for every update: a plain statement)."""
        async with self._session() as (session, _):
            name = self.keys.build(key)
            ahead = session.info.get(READ_AHEAD)
            if ahead is not None and name in ahead:
                return ahead[name][0]
            connection = await session.connection()
            state: str | None = (await connection.execute(_STATE, {"key": name})).scalar()
            return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Replace the data for the key."""
        async with self._session() as (session, own):
            row = await self._row(session, key)
            row.data = json.dumps(dict(data), ensure_ascii=False)
            await (session.commit() if own else session.flush())

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The data for the key (a fresh dict)."""
        async with self._session() as (session, _):
            name = self.keys.build(key)
            ahead = session.info.get(READ_AHEAD)
            if ahead is not None and name in ahead:
                data = ahead[name][1]
            else:
                connection = await session.connection()
                data = (await connection.execute(_DATA, {"key": name})).scalar()
            return {} if data is None else dict(json.loads(data))

    async def close(self) -> None:
        """Nothing to close: the engine belongs to the application."""

    async def _row(self, session: AsyncSession, key: StorageKey) -> FsmRow:
        name = self.keys.build(key)
        session.info.get(READ_AHEAD, {}).pop(name, None)  # written: read it from now on
        row = await session.get(FsmRow, name)
        if row is None:
            row = FsmRow(key=name, state=None, data="{}")
            session.add(row)
        return row
