"""`/forget` in the client's chat: erase their data after a confirmation; the staff are told."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.clients import Client
from domain.desk import Desk
from domain.privacy import Erasure, refreshed_cards
from handlers.filters import PrivateChat
from handlers.ports import HandlerUnitOfWork

router = Router(name="privacy")
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())


class ForgetCb(CallbackData, prefix="forget"):
    """The answer to "erase my data?"."""

    erase: bool


def _numbers(numbers: tuple[int, ...]) -> str:
    return ", ".join(f"#{number}" for number in numbers)


@router.message(Command("forget"))
async def forget(message: Message, client: Client, uow: HandlerUnitOfWork) -> None:
    """/forget: say what would be erased and ask to confirm."""
    found = await uow.privacy.preview(client.id)
    lines = [_("Erase your data? The desk forgets your name, username and Telegram account "
               "and erases the texts of your requests and ratings. The anonymous figures "
               "(how many requests, how fast) stay.")]
    if found is not None and found.open_tickets:
        lines.append(_("Your open requests {numbers} will no longer get answers here.")
                     .format(numbers=_numbers(found.open_tickets)))
    lines.append(_("This cannot be undone."))
    await message.answer("\n\n".join(lines), reply_markup=_confirm())


def _confirm() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="🗑 " + _("Yes, erase my data"), callback_data=ForgetCb(erase=True))
    builder.button(text=_("No, keep it"), callback_data=ForgetCb(erase=False))
    builder.adjust(1)
    return builder.as_markup()


@router.callback_query(ForgetCb.filter())
async def answered(query: CallbackQuery, callback_data: ForgetCb, client: Client,
                   uow: HandlerUnitOfWork, desk: Desk, state: FSMContext, bot: Bot,
                   staff_chat_id: int) -> None:
    """Erase (and tell the staff) or keep everything."""
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    if not callback_data.erase:
        if message is not None:
            await message.edit_text(_("Nothing was erased."))
        return
    now = desk.clock.now()
    erasure = await uow.privacy.forget(client.id, now)
    await state.clear()
    if erasure is None:
        return
    for card in refreshed_cards(erasure):
        await uow.outbox.put(card, now)
    if message is not None:
        await message.edit_text(_("Done: your data is erased. If you write again, you will "
                                  "be a new client to us."))
    # A direct message: the outbox carries deliveries about tickets only.
    with I18n.get_current().use_locale(desk.policy.staff_language):
        notice = _staff_notice(erasure)
    await bot.send_message(staff_chat_id, notice)


def _staff_notice(erasure: Erasure) -> str:
    lines = ["🧹 " + _("A client had their data erased at their request (/forget).")]
    if erasure.tickets:
        lines.append(_("Their requests {numbers} keep their figures, without names or texts.")
                     .format(numbers=_numbers(erasure.tickets)))
    if erasure.open_tickets:
        lines.append(_("Still open, and no longer answerable: {numbers} — please close them.")
                     .format(numbers=_numbers(erasure.open_tickets)))
    return "\n".join(lines)
