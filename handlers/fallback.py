"""What no other router took: a button nobody knows (forged, garbled, or from an old release)."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)
router = Router(name="fallback")


def out_of_date() -> str:
    """What a press on a button we do not know gets."""
    return _("This button is out of date.")


@router.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    """Every press is answered (else the spinner runs until Telegram gives up)."""
    log.info("a button with unknown data %r answered as out of date", (query.data or "")[:64])
    await query.answer(out_of_date())
