"""Router-level filters that tell the two sides apart."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message


class StaffChat(Filter):
    """The event happens in one of the desk's staff supergroups (`staff_chats` in the data)."""

    async def __call__(self, event: Message | CallbackQuery,
                       staff_chats: frozenset[int]) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.id in staff_chats
