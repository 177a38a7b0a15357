"""Keyboards the staff see: the ticket card's buttons."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.policy import Policy
from domain.tickets import Status, Ticket
from handlers.callbacks import TicketCb


def card(ticket: Ticket) -> InlineKeyboardMarkup:
    """The card's buttons for the ticket's state: only what makes sense now (SPEC §11) —
    Take while nobody has it, Reopen once it is closed or declined, no button for the status
    it is in. Resolved asks the client to confirm; Close closes at once."""
    n = ticket.number
    status = ticket.status
    if status in (Status.CLOSED, Status.DECLINED):
        actions = [("reopen", "🔁 " + _("Reopen"))]
    elif status is Status.RESOLVED:
        actions = [("close", "🔒 " + _("Close now")), ("reopen", "🔁 " + _("Reopen"))]
    else:
        actions = []
        if ticket.assignee_id is None:
            actions.append(("take", "🙋 " + _("Take")))
        actions.append(("prio", "🎚 " + _("Priority")))
        if status in (Status.WAITING_CLIENT, Status.WAITING_THIRD_PARTY, Status.SECOND_LINE):
            actions.append(("work", "▶️ " + _("Back to work")))
        if status is not Status.WAITING_CLIENT:
            actions.append(("wclient", "💬 " + _("Waiting for client")))
        if status is not Status.WAITING_THIRD_PARTY:
            actions.append(("wthird", "⏳ " + _("Third party")))
        if status is not Status.SECOND_LINE:
            actions.append(("second", "🧑‍💻 " + _("Second line")))
        actions += [("resolved", "☑️ " + _("Resolved: ask the client")),
                    ("close", "🔒 " + _("Close now")), ("decline", "⛔ " + _("Decline"))]
    builder = InlineKeyboardBuilder()
    for action, text in actions:
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
