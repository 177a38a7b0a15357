"""Filters that tell the two sides apart, find the ticket a staff event is about, and check
magic filters on the event loop.

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

from domain.tickets import Ticket
from handlers.callbacks import TicketCb
from handlers.ports import HandlerUnitOfWork


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


class TicketHere(Filter):
    """The ticket a staff event is about, handed to the handler as `ticket` (no ticket, no
    match): a card's button names it; a message is in its topic or replies to its card."""

    async def __call__(self, event: Message | CallbackQuery, uow: HandlerUnitOfWork,
                       callback_data: TicketCb | None = None) -> bool | dict[str, Any]:
        if isinstance(event, CallbackQuery):
            ticket = (None if callback_data is None
                      else await uow.tickets.get(callback_data.number))
        else:
            ticket = await ticket_here(event, uow)
        return False if ticket is None else {"ticket": ticket}


async def ticket_here(message: Message, uow: HandlerUnitOfWork) -> Ticket | None:
    """The ticket whose topic (or card thread) this message is in."""
    number = await uow.topics.ticket_at(message.chat.id, message.message_thread_id)
    if number is None and message.reply_to_message is not None:
        reply_id = message.reply_to_message.message_id
        number = await uow.topics.ticket_of_card(message.chat.id, reply_id)
        if number is None:
            links = await uow.links.by_staff_message(message.chat.id, reply_id)
            number = links[0].ticket_number if links else None
        if number is None:
            number = card_number(message.reply_to_message, message.bot)
    return None if number is None else await uow.tickets.get(number)


def card_number(card: Message, bot: Bot | None) -> int | None:
    """The ticket of one of our cards, read off its buttons.

    Where the group has no topics, agents answer by replying to the card; an agent quick
    enough replies before the card's message id is on record, and the buttons say the same.
    """
    sender = card.from_user
    if bot is None or sender is None or sender.id != bot.id or card.reply_markup is None:
        return None
    for row in card.reply_markup.inline_keyboard:
        for button in row:
            data = button.callback_data or ""
            if data.startswith(TicketCb.__prefix__ + TicketCb.__separator__):
                try:
                    return TicketCb.unpack(data).number
                except (TypeError, ValueError):
                    continue
    return None


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
