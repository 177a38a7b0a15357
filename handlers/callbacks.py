"""Callback data of every button (each well under Telegram's 64 bytes)."""

from __future__ import annotations

from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from pydantic import BeforeValidator

from domain.text import MAX_TICKET_NUMBER, ticket_number


def _ticket_number(value: Any) -> int:
    """A ticket number read the desk's one way (a forged one does not match the button)."""
    number = ticket_number(value) if isinstance(value, str) else value
    if not isinstance(number, int) or not 1 <= number <= MAX_TICKET_NUMBER:
        raise ValueError("not a ticket number")
    return number


TicketNumber = Annotated[int, BeforeValidator(_ticket_number)]


class IntakeCb(CallbackData, prefix="in"):
    """A button of the intake; `intake` ties it to one intake so stale buttons are caught."""

    action: str
    value: str = ""
    intake: str = ""


class TicketCb(CallbackData, prefix="tk"):
    """A button about one ticket (card buttons for staff, client buttons)."""

    action: str
    number: TicketNumber
    value: str = ""


class LangCb(CallbackData, prefix="lang"):
    """A language choice."""

    code: str
