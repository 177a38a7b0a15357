"""Keyboards the staff see: the ticket card's buttons."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.policy import Policy
from domain.tickets import Ticket
from handlers.callbacks import TicketCb


def card(ticket: Ticket) -> InlineKeyboardMarkup:
    """Take · Priority · Waiting for client · Third party · Resolved · Second line · Close ·
    Decline."""
    n = ticket.number
    builder = InlineKeyboardBuilder()
    buttons = (("take", "🙋 " + _("Take")), ("prio", "🎚 " + _("Priority")),
               ("wclient", "⏳ " + _("Waiting for client")),
               ("wthird", "⏳ " + _("Third party")), ("resolved", "☑️ " + _("Resolved")),
               ("second", "🧑‍💻 " + _("Second line")), ("close", "✅ " + _("Close")),
               ("decline", "⛔ " + _("Decline")))
    for action, text in buttons:
        builder.button(text=text, callback_data=TicketCb(action=action, number=n))
    return builder.adjust(2).as_markup()


def priorities(policy: Policy, ticket: Ticket, lang: str) -> InlineKeyboardMarkup:
    """Pick a new priority for the ticket."""
    builder = InlineKeyboardBuilder()
    for level in policy.priorities:
        builder.button(text=f"{level.emoji} {level.title.get(lang)}",
                       callback_data=TicketCb(action="setprio", number=ticket.number,
                                              value=level.key))
    return builder.adjust(2).as_markup()
