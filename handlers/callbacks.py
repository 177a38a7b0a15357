"""Callback data of every button (each well under Telegram's 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class IntakeCb(CallbackData, prefix="in"):
    """A button of the intake; `intake` ties it to one intake so stale buttons are caught."""

    action: str
    value: str = ""
    intake: str = ""


class TicketCb(CallbackData, prefix="tk"):
    """A button about one ticket (card buttons for staff, client buttons)."""

    action: str
    number: int
    value: str = ""


class LangCb(CallbackData, prefix="lang"):
    """A language choice."""

    code: str
