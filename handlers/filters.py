"""Filters that tell the two sides apart, and magic filters checked on the event loop.

aiogram runs a plain (synchronous) filter such as `F.text` in a worker thread; on this path
that hop costs more than the check itself, several times per update. Every filter here is a
coroutine, so aiogram awaits it on the loop (tests/unit/test_filters.py keeps it that way).
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, filters
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, TelegramObject
from magic_filter import MagicFilter


class StaffChat(Filter):
    """The event happens in one of the desk's staff supergroups (`staff_chats` in the data)."""

    async def __call__(self, event: Message | CallbackQuery | ChatMemberUpdated,
                       staff_chats: frozenset[int]) -> bool:
        if isinstance(event, ChatMemberUpdated):
            return event.chat.id in staff_chats
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.id in staff_chats


class PrivateChat(Filter):
    """The event happens in a private chat with the bot (a client's side)."""

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.type == "private"


class OnLoop(Filter):
    """A magic filter (`OnLoop(F.text)`), resolved on the event loop instead of a thread."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool | dict[str, Any]:
        result = self.magic.resolve(event)
        return result if isinstance(result, dict) else bool(result)


class _FirstThePrefix:
    """aiogram's command filter, answering at once for a text that does not begin with the
    command prefix: aiogram parses it and raises and catches an error to say no, for every
    command handler a client's message passes on its way to the relay."""

    prefix: str

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        text = (message.text or message.caption) if isinstance(message, Message) else None
        if not text or text.lstrip()[:1] not in self.prefix:
            return False
        return await super().__call__(message, bot)  # type: ignore[misc, no-any-return]


class Command(_FirstThePrefix, filters.Command):
    """`aiogram.filters.Command`, quicker to say no (see `_FirstThePrefix`)."""


class CommandStart(_FirstThePrefix, filters.CommandStart):
    """`aiogram.filters.CommandStart`, quicker to say no (see `_FirstThePrefix`)."""
