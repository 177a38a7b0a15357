"""Command menus registered with Telegram, per scope and language (SPEC §7)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from aiogram.utils.i18n import gettext as _

from bot.i18n import DeskI18n
from domain.policy import LANGUAGES

log = logging.getLogger(__name__)


def client_commands() -> list[BotCommand]:
    """The client's menu."""
    return [
        BotCommand(command="new", description=_("New request")),
        BotCommand(command="my", description=_("My requests")),
        BotCommand(command="ticket", description=_("One request: /ticket 1042")),
        BotCommand(command="cancel", description=_("Stop the current step")),
        BotCommand(command="lang", description=_("Language")),
        BotCommand(command="timezone", description=_("Time zone")),
        BotCommand(command="forget", description=_("Erase my data")),
        BotCommand(command="help", description=_("Help")),
    ]


def staff_commands() -> list[BotCommand]:
    """The staff group's menu."""
    pairs = (
        ("take", _("Take the ticket")), ("assign", _("Assign: /assign @agent")),
        ("priority", _("Change the priority")), ("status", _("Change the status")),
        ("close", _("Close the ticket")), ("decline", _("Decline, with a reason")),
        ("note", _("Internal note")), ("history", _("The ticket's history")),
        ("canned", _("Send a canned answer")), ("sla", _("What breaches next")),
        ("find", _("Find tickets")), ("open", _("Register a phone or e-mail request")),
        ("queue", _("Move to another queue")), ("bug", _("Link a bug-tracker issue")),
        ("link", _("Link to a problem ticket")), ("stats", _("Figures")),
        ("ban", _("Stop relaying a client")), ("unban", _("Relay a client again")),
        ("whoami", _("Your Telegram user id (for the settings)")),
    )
    return [BotCommand(command=name, description=text) for name, text in pairs]


async def register_commands(bot: Bot, i18n: DeskI18n, staff_chats: frozenset[int],
                            staff_language: str) -> None:
    """Set the menus: private chats in every language, the staff groups in theirs."""
    with i18n.context():
        for language in LANGUAGES:
            with i18n.use_locale(language):
                commands = client_commands()
            code = None if language == "en" else language
            await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(),
                                      language_code=code)
        with i18n.use_locale(staff_language):
            commands = staff_commands()
        for chat_id in sorted(staff_chats):
            try:
                await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=chat_id))
            except (TelegramBadRequest, TelegramForbiddenError) as error:
                # a staff chat the bot cannot use was named at start, with the fix
                log.warning("no command menu in the staff chat %s (%s)", chat_id, error.message)
