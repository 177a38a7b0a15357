"""`/whoami` in the staff group: a person's Telegram user id, for `supervisors` and `agents`."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.filters import Command, StaffChat


async def whoami(message: Message) -> None:
    """The sender's id, or the id of the person whose message this one replies to."""
    replied = message.reply_to_message
    if replied is not None and not _topic_start(replied) and replied.sender_chat is None:
        person = replied.from_user
    else:
        person = None if message.sender_chat is not None else message.from_user
    if person is None:  # an anonymous administrator writes as the group
        await message.reply(_("Telegram does not tell me who you are: you write as the group. "
                              "Turn off “Remain anonymous” in your administrator rights."))
        return
    await message.reply(_("{name}'s Telegram user id: <code>{id}</code>\n"
                          "To make someone a supervisor, put their id in <code>supervisors</code> "
                          "in frontdesk.toml (queues' agents are listed the same way).").format(
        name=escape(person.full_name), id=person.id))


def _topic_start(message: Message) -> bool:
    """In a forum, every message of a topic "replies" to the topic's first service message."""
    return message.forum_topic_created is not None


def make_router() -> Router:
    """A fresh router of this module for each dispatcher."""
    router = Router(name="whoami")
    router.message.filter(StaffChat())
    router.message.register(whoami, Command("whoami", "id"))
    return router
