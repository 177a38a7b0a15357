"""`/open`: register a request that came by phone or e-mail (every request is registered,
whatever channel it came by)."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from domain.desk import Desk
from domain.errors import ExpiredContract, UnknownContract
from handlers.filters import Command, StaffChat
from handlers.ports import HandlerUnitOfWork
from handlers.staff import agent_of

SOLVED_WORDS = {"solved", "решено", "решена"}


async def open_request(message: Message, command: CommandObject, uow: HandlerUnitOfWork,
                       desk: Desk) -> None:
    """/open [solved] @client|CONTRACT subject — a ticket for a phone or e-mail request."""
    words = (command.args or "").split()
    solved = bool(words) and words[0].lower() in SOLVED_WORDS
    if solved:
        words = words[1:]
    if len(words) < 2:
        await message.reply(_("Usage: /open [solved] @client_username or CONTRACT subject…\n"
                              "e.g. /open C-100 Printer does not print"))
        return
    who, subject = words[0], " ".join(words[1:])
    agent = agent_of(message)
    contract = None
    client = await uow.clients.by_username(who) if who.startswith("@") else None
    if who.startswith("@") and client is None:
        await message.reply(_("No client {who} has written to the bot yet; give their "
                              "contract number instead.").format(who=escape(who)))
        return
    contract_number = client.contract_number if client else who
    if contract_number:
        try:
            contract = await desk.contract_for(uow, contract_number)
        except UnknownContract:
            if client is None:
                await message.reply(_("Contract “{number}” is not in the registry.").format(
                    number=escape(who)))
                return
        except ExpiredContract as expired:
            await message.reply(_("Contract {number} expired on {date}.").format(
                number=escape(expired.number), date=expired.valid_until))
            return
    if client is None:
        assert contract is not None
        client = await uow.clients.offline(contract.customer, contract.number,
                                           desk.clock.now())
        reachable = False
    else:
        reachable = True
    ticket = await desk.open_for(uow, client, contract, subject, agent, solved, reachable)
    await message.reply(
        (_("Registered #{number} and closed it as solved on first contact.") if solved else
         _("Registered #{number}; its topic opens in a moment.")).format(number=ticket.number))


def make_router() -> Router:
    """A fresh router of this module for each dispatcher."""
    router = Router(name="other_channels")
    router.message.filter(StaffChat())
    router.message.register(open_request, Command("open"))
    return router
