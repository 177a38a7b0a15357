"""Buttons out of date: a press nobody knows (forged, garbled, from an old release), and the
normal outcomes of pressing a button on a message that changed or went away since."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)
Result = TypeVar("Result")

# What Telegram says when the message of a button is gone, already shows what we would
# write, or the press was answered long ago: the normal fate of a stale button.
STALE = ("message to edit not found", "message is not modified", "query is too old",
         "message to delete not found", "message can't be edited",
         "message can't be deleted", "query id is invalid")


def out_of_date() -> str:
    """What a press on a button we do not know gets."""
    return _("This button is out of date.")


async def unless_stale(call: Awaitable[Result]) -> Result | None:
    """Make a Bot API call about a button's message (edit, delete, answer); Telegram's
    "not found / not modified / too old" is a normal outcome: one log line, None."""
    try:
        return await call
    except TelegramBadRequest as error:
        if not any(reason in error.message.lower() for reason in STALE):
            raise
        log.info("a stale button's message: %s", error.message)
        return None


async def unknown_button(query: CallbackQuery) -> None:
    """Every press is answered (else the spinner runs until Telegram gives up)."""
    log.info("a button with unknown data %r answered as out of date", (query.data or "")[:64])
    await query.answer(out_of_date())


def make_router() -> Router:
    """A fresh router of this module for each dispatcher."""
    router = Router(name="fallback")
    router.callback_query.register(unknown_button)
    return router
