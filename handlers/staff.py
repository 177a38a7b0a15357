"""The staff supergroup: agent replies, internal notes, edits, the card's buttons, commands."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import texts
from domain.desk import Desk
from domain.errors import IllegalTransition, NotAllowed
from domain.tickets import Actor, Status, Ticket
from handlers import keyboards_staff as kb
from handlers.callbacks import TicketCb
from handlers.filters import StaffChat
from handlers.sources import source_of
from storage.uow import SqlUnitOfWork

router = Router(name="staff")
router.message.filter(StaffChat())
router.edited_message.filter(StaffChat())
router.callback_query.filter(StaffChat())

MOVES = {"wclient": Status.WAITING_CLIENT, "wthird": Status.WAITING_THIRD_PARTY,
         "resolved": Status.RESOLVED, "second": Status.SECOND_LINE, "close": Status.CLOSED,
         "decline": Status.DECLINED}


def agent_of(message: Message | CallbackQuery) -> Actor:
    """The acting agent."""
    user = message.from_user
    if user is None:
        return Actor("agent", None, "?")
    return Actor("agent", user.id, user.full_name)


async def ticket_here(message: Message, uow: SqlUnitOfWork) -> Ticket | None:
    """The ticket whose topic (or card thread) this message is in."""
    number = await uow.topics.ticket_at(message.chat.id, message.message_thread_id)
    if number is None and message.reply_to_message is not None:
        reply_id = message.reply_to_message.message_id
        number = await uow.topics.ticket_of_card(message.chat.id, reply_id)
        if number is None:
            links = await uow.links.by_staff_message(message.chat.id, reply_id)
            number = links[0].ticket_number if links else None
    return None if number is None else await uow.tickets.get(number)


@router.message(Command("note"))
async def note(message: Message) -> None:
    """/note stays in the staff group: nothing to do."""


@router.message(Command("history"))
async def history(message: Message, uow: SqlUnitOfWork, desk: Desk) -> None:
    """/history: the ticket's events."""
    ticket = await ticket_here(message, uow)
    if ticket is None:
        await message.reply(_("Use this command inside a ticket's topic."))
        return
    events = await uow.tickets.history(ticket.number)
    await message.reply(texts.history(events, desk.policy.staff_timezone))


@router.message(Command("take"))
async def take_command(message: Message, uow: SqlUnitOfWork, desk: Desk) -> None:
    """/take: the agent takes the ticket."""
    ticket = await ticket_here(message, uow)
    if ticket is None:
        await message.reply(_("Use this command inside a ticket's topic."))
        return
    await desk.take(uow, ticket, agent_of(message))


@router.message(Command("status"))
async def status_command(message: Message, command: CommandObject, uow: SqlUnitOfWork,
                         desk: Desk) -> None:
    """/status NAME: move the ticket (in_progress, waiting_client, resolved, …)."""
    ticket = await ticket_here(message, uow)
    if ticket is None:
        await message.reply(_("Use this command inside a ticket's topic."))
        return
    try:
        wanted = Status((command.args or "").strip().lower())
    except ValueError:
        await message.reply(_("Usage: /status {names}").format(
            names=" | ".join(status.value for status in Status)))
        return
    await _move(message, uow, desk, ticket, wanted, agent_of(message))


@router.message(F.text.startswith("/"))
async def other_command(message: Message) -> None:
    """Commands that are not relayed (and not known here) stay in the group."""


@router.message()
async def agent_message(message: Message, uow: SqlUnitOfWork, desk: Desk) -> None:
    """An agent's message in a ticket's topic reaches the client (unless it is a note)."""
    if message.from_user is None or message.from_user.is_bot:
        return
    if (message.text or message.caption or "").startswith(desk.policy.note_prefix):
        return
    ticket = await ticket_here(message, uow)
    if ticket is None:
        return
    try:
        await desk.agent_replied(uow, ticket, agent_of(message), source_of(message))
    except NotAllowed:
        await message.reply(_("Ticket #{number} is closed; the client did not get this.")
                            .format(number=ticket.number))


@router.edited_message()
async def agent_edit(message: Message, uow: SqlUnitOfWork, desk: Desk) -> None:
    """An agent's edit reaches the client's copy."""
    links = await uow.links.by_staff_message(message.chat.id, message.message_id)
    for link in links[:1]:
        ticket = await uow.tickets.get(link.ticket_number)
        if ticket is not None and link.direction == "out":
            source = source_of(message)
            source_with_agent = {**source}
            await desk.agent_edited(uow, ticket, source_with_agent)


@router.callback_query(TicketCb.filter())
async def card_button(query: CallbackQuery, callback_data: TicketCb, uow: SqlUnitOfWork,
                      desk: Desk) -> None:
    """A button of the ticket card."""
    ticket = await uow.tickets.get(callback_data.number)
    if ticket is None:
        await query.answer(_("No such ticket."), show_alert=True)
        return
    agent = agent_of(query)
    action = callback_data.action
    if action == "take":
        await desk.take(uow, ticket, agent)
        await query.answer(_("Taken."))
    elif action == "prio":
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.reply(_("New priority for #{number}:").format(
                number=ticket.number), reply_markup=kb.priorities(
                    desk.policy, ticket, desk.policy.staff_language))
    elif action == "setprio":
        if callback_data.value not in {level.key for level in desk.policy.priorities}:
            await query.answer()
            return
        await desk.change_priority(uow, ticket, callback_data.value, agent)
        await query.answer(_("Priority changed."))
        if isinstance(query.message, Message):
            await query.message.delete()
    elif action in MOVES:
        try:
            await desk.move(uow, ticket, MOVES[action], agent)
        except IllegalTransition:
            await query.answer(_("Not possible: the ticket is {status}.").format(
                status=texts.status_title(ticket.status)), show_alert=True)
            return
        await query.answer(texts.status_title(MOVES[action]))
    else:
        await query.answer()


async def _move(message: Message, uow: SqlUnitOfWork, desk: Desk, ticket: Ticket,
                wanted: Status, agent: Actor) -> None:
    try:
        await desk.move(uow, ticket, wanted, agent)
    except IllegalTransition:
        await message.reply(_("Not possible: the ticket is {status}.").format(
            status=texts.status_title(ticket.status)))
