"""`/forget` in the client's chat: erase their data after a confirmation; the staff are told."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.clients import Client
from domain.desk import Desk
from domain.privacy import refreshed_cards, staff_notice
from handlers.fallback import unless_stale
from handlers.filters import Command, PrivateChat
from handlers.ports import HandlerUnitOfWork
from handlers.texts import numbers


class ForgetCb(CallbackData, prefix="forget"):
    """The answer to "erase my data?"."""

    erase: bool


async def forget(message: Message, client: Client, uow: HandlerUnitOfWork) -> None:
    """/forget: say what would be erased and ask to confirm."""
    found = await uow.privacy.preview(client.id)
    lines = [_("Erase your data? The desk forgets your name, username and Telegram account "
               "and erases the texts of your requests and ratings. The anonymous figures "
               "(how many requests, how fast) stay.")]
    if found is not None and found.open_tickets:
        lines.append(_("Your open requests {numbers} will no longer get answers here.")
                     .format(numbers=numbers(found.open_tickets)))
    lines.append(_("This cannot be undone."))
    await message.answer("\n\n".join(lines), reply_markup=_confirm())


def _confirm() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="🗑 " + _("Yes, erase my data"), callback_data=ForgetCb(erase=True))
    builder.button(text=_("No, keep it"), callback_data=ForgetCb(erase=False))
    builder.adjust(1)
    return builder.as_markup()


async def answered(query: CallbackQuery, callback_data: ForgetCb, client: Client,
                   uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    """Erase (and tell the staff) or keep everything."""
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    if not callback_data.erase:
        if message is not None:
            await unless_stale(message.edit_text(_("Nothing was erased.")))
        return
    now = desk.clock.now()
    erasure = await uow.privacy.forget(client.id, now)
    await state.clear()
    if erasure is None:
        return
    for delivery in (*refreshed_cards(erasure), staff_notice(erasure)):
        await uow.outbox.put(delivery, now)
    if message is not None:
        await unless_stale(message.edit_text(_("Done: your data is erased. If you write "
                                               "again, you will be a new client to us.")))


def make_router() -> Router:
    """A fresh router of this module for each dispatcher."""
    router = Router(name="privacy")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(forget, Command("forget"))
    router.callback_query.register(answered, ForgetCb.filter())
    return router
