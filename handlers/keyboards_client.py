"""Keyboards the client sees."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.outgoing import Notice
from domain.policy import LANGUAGES, Policy
from domain.tickets import Ticket
from handlers.callbacks import IntakeCb, LangCb, TicketCb

FLAGS = {"en": "🇬🇧", "ru": "🇷🇺"}  # on the language buttons; a language without one gets 🌐


def start() -> InlineKeyboardMarkup:
    """The greeting's one button."""
    builder = InlineKeyboardBuilder()
    builder.button(text="📝 " + _("New request"), callback_data=IntakeCb(action="new"))
    return builder.as_markup()


def contract_confirm(intake: str, number: str) -> InlineKeyboardMarkup:
    """Confirm a remembered contract or give another."""
    builder = InlineKeyboardBuilder()
    builder.button(text="✅ " + _("Yes, contract {number}").format(number=number),
                   callback_data=IntakeCb(action="usecontract", intake=intake))
    builder.button(text="✏️ " + _("Another contract"),
                   callback_data=IntakeCb(action="othercontract", intake=intake))
    builder.button(text="✖️ " + _("Cancel"), callback_data=IntakeCb(action="cancel", intake=intake))
    return builder.adjust(1).as_markup()


def contract_retry(intake: str, allow_without: bool) -> InlineKeyboardMarkup:
    """After an unknown contract: continue without one (if allowed) or cancel."""
    builder = InlineKeyboardBuilder()
    if allow_without:
        builder.button(text="➡️ " + _("Continue without contract"),
                       callback_data=IntakeCb(action="nocontract", intake=intake))
    builder.button(text="✖️ " + _("Cancel"), callback_data=IntakeCb(action="cancel", intake=intake))
    return builder.adjust(1).as_markup()


def request_types(policy: Policy, lang: str, intake: str) -> InlineKeyboardMarkup:
    """One button per request type."""
    builder = InlineKeyboardBuilder()
    for kind in policy.request_types:
        builder.button(text=kind.title.get(lang),
                       callback_data=IntakeCb(action="type", value=kind.key, intake=intake))
    builder.button(text="✖️ " + _("Cancel"), callback_data=IntakeCb(action="cancel", intake=intake))
    return builder.adjust(1).as_markup()


def priorities(policy: Policy, lang: str, intake: str, special: bool) -> InlineKeyboardMarkup:
    """One button per priority (and the special request, when the contract allows it)."""
    builder = InlineKeyboardBuilder()
    for level in policy.priorities:
        builder.button(text=f"{level.emoji} {level.title.get(lang)}",
                       callback_data=IntakeCb(action="prio", value=level.key, intake=intake))
    if special:
        builder.button(text="⚡ " + _("Special request (emergency)"),
                       callback_data=IntakeCb(action="special", intake=intake))
    builder.button(text="✖️ " + _("Cancel"), callback_data=IntakeCb(action="cancel", intake=intake))
    return builder.adjust(1).as_markup()


def description_done(intake: str, faq: bool = False) -> InlineKeyboardMarkup:
    """Finish the description (or, when known answers were shown, say one solved it)."""
    builder = InlineKeyboardBuilder()
    builder.button(text="✅ " + _("Done"), callback_data=IntakeCb(action="done", intake=intake))
    builder.button(text="✖️ " + _("Cancel"), callback_data=IntakeCb(action="cancel", intake=intake))
    if faq:
        builder.button(text="👍 " + _("Yes, this helped"),
                       callback_data=IntakeCb(action="faqyes", intake=intake))
    return builder.adjust(2).as_markup()


def summary(intake: str) -> InlineKeyboardMarkup:
    """Confirm, edit or cancel the request."""
    builder = InlineKeyboardBuilder()
    builder.button(text="✅ " + _("Confirm"), callback_data=IntakeCb(action="confirm",
                                                                    intake=intake))
    builder.button(text="✏️ " + _("Edit"), callback_data=IntakeCb(action="edit", intake=intake))
    builder.button(text="✖️ " + _("Cancel"), callback_data=IntakeCb(action="cancel", intake=intake))
    return builder.adjust(3).as_markup()


def edit_fields(intake: str) -> InlineKeyboardMarkup:
    """Which field to edit from the summary."""
    builder = InlineKeyboardBuilder()
    fields = (("contract", _("Edit contract")), ("type", _("Edit request type")),
              ("prio", _("Edit priority")), ("subject", _("Edit subject")),
              ("description", _("Edit description")))
    for key, title in fields:
        builder.button(text=title, callback_data=IntakeCb(action="editf", value=key,
                                                          intake=intake))
    builder.button(text="↩️ " + _("Back to summary"),
                   callback_data=IntakeCb(action="summary", intake=intake))
    return builder.adjust(1).as_markup()


def pick_ticket(tickets: list[Ticket]) -> InlineKeyboardMarkup:
    """Which open ticket a message is about."""
    builder = InlineKeyboardBuilder()
    for ticket in tickets[:10]:
        subject = ticket.subject if len(ticket.subject) <= 40 else ticket.subject[:39] + "…"
        builder.button(text=f"#{ticket.number} · {subject}",
                       callback_data=TicketCb(action="pick", number=ticket.number))
    return builder.adjust(1).as_markup()


def reopen_or_new(number: int) -> InlineKeyboardMarkup:
    """A message after a request closed: reopen it with the message, or start a new one."""
    builder = InlineKeyboardBuilder()
    builder.button(text="🔄 " + _("Reopen #{number}").format(number=number),
                   callback_data=TicketCb(action="pick", number=number))
    builder.button(text="📝 " + _("New request"), callback_data=IntakeCb(action="new"))
    return builder.adjust(1).as_markup()


def languages() -> InlineKeyboardMarkup:
    """Language choice."""
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGES.items():
        builder.button(text=f"{FLAGS.get(code, '🌐')} {name}", callback_data=LangCb(code=code))
    return builder.as_markup()


def for_notice(template: Notice, ticket_number: int) -> InlineKeyboardMarkup | None:
    """The buttons under a notice about a ticket (confirm the fix, rate, …)."""
    builder = InlineKeyboardBuilder()
    if template is Notice.SUPERVISOR_OFFER:
        return ticket_actions(ticket_number)
    if template is Notice.RESOLVED:
        builder.button(text="👍 " + _("Yes, solved"),
                       callback_data=TicketCb(action="solved", number=ticket_number))
        builder.button(text="👎 " + _("No, still a problem"),
                       callback_data=TicketCb(action="unsolved", number=ticket_number))
        return builder.adjust(1).as_markup()
    if template is Notice.CLOSED:
        for score in range(1, 6):
            builder.button(text=f"{score} ⭐",
                           callback_data=TicketCb(action="rate", number=ticket_number,
                                                  value=str(score)))
        return builder.adjust(5).as_markup()
    return None


def skip_comment(ticket_number: int) -> InlineKeyboardMarkup:
    """Under the question after a low rating: go without a comment."""
    builder = InlineKeyboardBuilder()
    builder.button(text="➡️ " + _("No comment"),
                   callback_data=TicketCb(action="nocomment", number=ticket_number))
    return builder.as_markup()


def ticket_actions(ticket_number: int) -> InlineKeyboardMarkup:
    """What a client can do with an open ticket."""
    builder = InlineKeyboardBuilder()
    builder.button(text="📣 " + _("Ask supervisor"),
                   callback_data=TicketCb(action="askv", number=ticket_number))
    return builder.as_markup()
