"""The staff supergroup: agent replies, internal notes, edits, the card's buttons, commands."""

from __future__ import annotations

from contextlib import suppress
from html import escape

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandObject, ExceptionTypeFilter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    ErrorEvent,
    Message,
    ReactionTypeEmoji,
)
from aiogram.utils.i18n import gettext as _

from domain.desk import Desk
from domain.errors import (
    IllegalTransition,
    NotAllowed,
    TakenByAnother,
    TicketClosed,
    TicketNotFound,
)
from domain.text import one_line, ticket_number
from domain.tickets import Actor, Status, Ticket
from handlers import keyboards_staff as kb
from handlers import texts
from handlers.callbacks import TicketCb
from handlers.fallback import out_of_date, unless_stale
from handlers.filters import Command, OnLoop, StaffChat, TicketHere, ticket_here
from handlers.ports import HandlerUnitOfWork, StaffMembership
from handlers.sources import message_ref

KEPT_INTERNAL = "✍"  # the reaction on an internal note (an allowed reaction emoji)


MOVES = {"wclient": Status.WAITING_CLIENT, "wthird": Status.WAITING_THIRD_PARTY,
         "resolved": Status.RESOLVED, "second": Status.SECOND_LINE, "close": Status.CLOSED,
         "work": Status.IN_PROGRESS, "reopen": Status.REOPENED}
RELAYABLE = frozenset({"text", "photo", "document", "video", "audio", "voice", "animation",
                       "sticker", "video_note", "location", "contact", "venue", "poll"})


class Declining(StatesGroup):
    """An agent pressed Decline: the next message is the reason."""

    reason = State()


def agent_of(event: Message | CallbackQuery) -> Actor:
    """The acting agent."""
    user = event.from_user
    if user is None:
        return Actor("agent", None, "?")
    return Actor("agent", user.id, one_line(user.full_name))


def arguments(command: CommandObject) -> str:
    """What follows the command, trimmed."""
    return (command.args or "").strip()


async def outside_a_ticket(message: Message) -> None:
    """A ticket's command where no ticket is (the handlers above found none)."""
    await message.reply(_("Use this command inside a ticket's topic."))


def priority_outcome(desk: Desk, ticket: Ticket, before: str) -> str:
    """What a priority button did to the ticket (a stale picker may change nothing)."""
    title = desk.policy.priority(ticket.priority).title.get(desk.policy.staff_language)
    if ticket.priority == before:
        return _("#{number} already has priority {priority}.").format(
            number=ticket.number, priority=title)
    return _("Priority of #{number} is now {priority}.").format(number=ticket.number,
                                                                 priority=title)


def taken_by_other(ticket: Ticket) -> str:
    """Why an agent cannot take a ticket that another agent has (plain text)."""
    return _("Already taken by {agent}; use /assign to hand it over.").format(
        agent=ticket.assignee_name or "?")


async def take(message: Message, ticket: Ticket, uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/take: the agent takes the ticket."""
    await desk.take(uow, ticket, agent_of(message))


async def assign(message: Message, command: CommandObject, ticket: Ticket,
                 uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/assign @username (or in reply to the agent's message): hand the ticket over."""
    target = await _named_agent(message, arguments(command), uow)
    if target is None:
        await message.reply(_("Usage: /assign @username (an agent who wrote in this group), "
                              "or reply to the agent's message with /assign."))
        return
    await desk.assign(uow, ticket, target, agent_of(message))


async def _named_agent(message: Message, args: str, uow: HandlerUnitOfWork) -> Actor | None:
    for entity in message.entities or ():
        if entity.type == "text_mention" and entity.user is not None:
            return Actor("agent", entity.user.id, one_line(entity.user.full_name))
    if args.startswith("@"):
        found = await uow.agents.by_username(args.split(maxsplit=1)[0])
        return None if found is None else Actor("agent", found[0], found[1])
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and not reply.from_user.is_bot and (
            reply.forum_topic_created is None):
        return Actor("agent", reply.from_user.id,
                     one_line(reply.from_user.full_name))
    return None


async def priority(message: Message, command: CommandObject, ticket: Ticket,
                   uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/priority [level]: set it, or pick it from buttons."""
    wanted = arguments(command).lower()
    if wanted in {level.key for level in desk.policy.priorities}:
        await desk.change_priority(uow, ticket, wanted, agent_of(message))
        return
    await message.reply(_("New priority for #{number}:").format(number=ticket.number),
                        reply_markup=kb.priorities(desk.policy, ticket,
                                                   desk.policy.staff_language))


async def status(message: Message, command: CommandObject, ticket: Ticket,
                 uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    """/status NAME: move the ticket (declined asks for the reason)."""
    try:
        wanted = Status(arguments(command).lower())
    except ValueError:
        await message.reply(_("Usage: /status {names}").format(
            names=" | ".join(each.value for each in Status)))
        return
    if wanted is Status.DECLINED:
        await ask_decline_reason(message, ticket, state)
        return
    await desk.move(uow, ticket, wanted, agent_of(message))


async def close(message: Message, command: CommandObject, ticket: Ticket,
                uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/close [comment]: close the ticket."""
    await desk.move(uow, ticket, Status.CLOSED, agent_of(message), arguments(command) or None)


async def decline(message: Message, command: CommandObject, ticket: Ticket,
                  uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    """/decline [reason]: decline the ticket; without a reason, ask for it."""
    reason = arguments(command)
    if reason:
        await desk.move(uow, ticket, Status.DECLINED, agent_of(message), reason)
        return
    await ask_decline_reason(message, ticket, state)


async def ask_decline_reason(message: Message, ticket: Ticket, state: FSMContext) -> None:
    """Ask the agent why the ticket is declined (the client will read it)."""
    if not ticket.status.is_open:
        raise IllegalTransition(ticket.status.value, Status.DECLINED.value)
    await state.set_state(Declining.reason)
    await state.update_data(declining=ticket.number)
    # answer() stays in the message's topic by itself
    await message.answer(_("Why is #{number} declined? Your next message here is the reason "
                           "the client will read (/cancel to keep the ticket).").format(
                               number=ticket.number))


async def history(message: Message, ticket: Ticket, uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/history: the ticket's events."""
    events = await uow.tickets.history(ticket.number)
    text = texts.history(events, desk.policy, desk.clock.now())
    await message.reply(text if len(text) <= 4000 else text[:3990] + "\n…")


async def canned(message: Message, command: CommandObject, ticket: Ticket,
                 uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/canned NAME: send a prepared answer; without one, list them."""
    name = arguments(command)
    names = [item.name for item in desk.policy.canned]
    if name not in names:
        await message.reply(_("Canned answers: {names}").format(
            names=escape(", ".join(names) or "—")))
        return
    await desk.send_canned(uow, ticket, name, agent_of(message))


async def queue(message: Message, command: CommandObject, ticket: Ticket,
                uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/queue KEY: move the ticket to another queue; without one, list them."""
    key = arguments(command)
    keys = [each.key for each in desk.policy.queues]
    if key not in keys:
        await message.reply(_("Queues: {names}").format(names=escape(", ".join(keys))))
        return
    await desk.change_queue(uow, ticket, key, agent_of(message))


async def bug(message: Message, command: CommandObject, ticket: Ticket,
              uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/bug REF: link the ticket to a bug in the tracker."""
    ref = arguments(command)
    if not ref or len(ref) > 500:
        await message.reply(_("Usage: /bug 4711 or /bug https://tracker.example.com/4711"))
        return
    await desk.link_bug(uow, ticket, ref.split(maxsplit=1)[0], agent_of(message))


async def link(message: Message, command: CommandObject, ticket: Ticket,
               uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/link N: the ticket is an incident of problem ticket N."""
    args = arguments(command)
    if not args:
        await message.reply(_("Usage: /link 1017 (the problem ticket's number)"))
        return
    number = ticket_number(args)
    try:
        if number is None:
            raise TicketNotFound(args)
        await desk.link_problem(uow, ticket, number, agent_of(message))
    except TicketNotFound:
        await message.reply(_("There is no other ticket #{number}.").format(
            number=escape(args.lstrip("#")[:24])))
    except NotAllowed:
        await message.reply(_("#{number} is itself an incident of another problem.").format(
            number=number))


async def ban(message: Message, ticket: Ticket, uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/ban: the client's messages are no longer relayed."""
    if await _set_ban(ticket, True, message, uow, desk):
        await message.reply(_("The client of #{number} is banned: their messages are no "
                              "longer relayed.").format(number=ticket.number))


async def unban(message: Message, ticket: Ticket, uow: HandlerUnitOfWork, desk: Desk) -> None:
    """/unban: the client's messages are relayed again."""
    if await _set_ban(ticket, False, message, uow, desk):
        await message.reply(_("The client of #{number} is unbanned.").format(
            number=ticket.number))


async def _set_ban(ticket: Ticket, banned: bool, message: Message, uow: HandlerUnitOfWork,
                   desk: Desk) -> bool:
    client = await uow.clients.get(ticket.client_id)
    if client is None:
        return False
    await desk.ban(uow, client, banned, agent_of(message))
    return True


async def find(message: Message, command: CommandObject, uow: HandlerUnitOfWork,
               desk: Desk) -> None:
    """/find TEXT: tickets by number, subject, customer or contract."""
    query = (command.args or "").strip()
    if len(query) < 2:
        await message.reply(_("Usage: /find login or /find 1042 or /find ACME"))
        return
    found = await uow.tickets.search(query, limit=15)
    if not found:
        await message.reply(_("Nothing found."))
        return
    lines = [f"#{t.number} · {escape(t.customer or '—')} · {escape(t.subject)} — "
             f"{texts.status_title(t.status)}" for t in found]
    await message.reply("\n".join(lines))


async def cancel_decline(message: Message, state: FSMContext) -> None:
    """The agent changed their mind about declining."""
    await state.clear()
    await message.reply(_("Not declined."))


async def decline_reason(message: Message, ticket: Ticket, state: FSMContext,
                         uow: HandlerUnitOfWork, desk: Desk) -> None:
    """The reason for declining, written in the ticket's topic; the client reads it."""
    if ticket.number != (await state.get_data()).get("declining"):
        # Written in another topic: an ordinary message there; the reason is still awaited.
        await agent_message(message, ticket, uow, desk)
        return
    await state.clear()
    await desk.move(uow, ticket, Status.DECLINED, agent_of(message), message.text)


async def other_command(message: Message, desk: Desk) -> None:
    """Commands that are not relayed (and not known here) stay in the group; a note (/note,
    or `//` when that is the prefix) is marked as kept."""
    text = message.text or ""
    if (text.startswith(desk.policy.note_prefix)
            or text.split(maxsplit=1)[0].split("@")[0] == "/note"):
        await kept_internal(message)


async def kept_internal(message: Message) -> None:
    """An internal note stayed in the group: a reaction tells its author (SPEC §11)."""
    with suppress(TelegramBadRequest):
        await message.react([ReactionTypeEmoji(emoji=KEPT_INTERNAL)])


async def agent_message(message: Message, ticket: Ticket, uow: HandlerUnitOfWork,
                        desk: Desk) -> None:
    """An agent's message in a ticket's topic reaches the client (unless it is a note)."""
    if message.forum_topic_created or message.forum_topic_closed or message.pinned_message:
        return
    if message.sender_chat is not None and message.content_type in RELAYABLE:
        # Sent as the group (an anonymous administrator) or as a channel: no agent to name
        # or to make the assignee; the staff are told rather than left to believe it went.
        await message.reply(_("Not delivered to the client: this was sent anonymously or on "
                              "behalf of a channel, and the client gets only what a person on "
                              "the staff writes. Please send it as yourself."))
        return
    if message.from_user is None or message.from_user.is_bot:
        return
    if (message.text or message.caption or "").startswith(desk.policy.note_prefix):
        await kept_internal(message)
        return
    try:
        relayed = message_ref(message)
        await desk.agent_replied(uow, ticket, agent_of(message), relayed, relayed.html)
    except NotAllowed:
        await message.reply(_("Ticket #{number} is closed; the client did not get this.")
                            .format(number=ticket.number))


async def agent_edit(message: Message, uow: HandlerUnitOfWork, desk: Desk) -> None:
    """An agent's edit reaches the client's copy."""
    links = await uow.links.by_staff_message(message.chat.id, message.message_id)
    if links and links[0].direction != "out":
        return
    # Not linked yet: the copy may still wait in the outbox; the edit queues behind it.
    ticket = (await uow.tickets.get(links[0].ticket_number) if links
              else await ticket_here(message, uow))
    if ticket is not None:
        name = one_line(message.from_user.full_name) if message.from_user else None
        await desk.agent_edited(uow, ticket, name, message_ref(message))


async def membership_changed(event: ChatMemberUpdated, staff_members: StaffMembership) -> None:
    """Someone joined or left a staff group: whether they may act changes now, not in a
    minute (the bot asks Telegram for these updates because this handler exists)."""
    staff_members.changed(event.chat.id, event.new_chat_member.user.id,
                          event.new_chat_member.status)


async def take_button(query: CallbackQuery, ticket: Ticket, uow: HandlerUnitOfWork,
                      desk: Desk) -> None:
    """The card's Take."""
    await desk.take(uow, ticket, agent_of(query))
    await query.answer(_("Taken."))


async def priority_button(query: CallbackQuery, ticket: Ticket, desk: Desk) -> None:
    """The card's Priority: the levels to pick from."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.reply(_("New priority for #{number}:").format(
            number=ticket.number), reply_markup=kb.priorities(
                desk.policy, ticket, desk.policy.staff_language))


async def priority_picked(query: CallbackQuery, callback_data: TicketCb, ticket: Ticket,
                          uow: HandlerUnitOfWork, desk: Desk) -> None:
    """A level picked: the ticket's priority now; the picker goes away."""
    if callback_data.value not in {level.key for level in desk.policy.priorities}:
        await query.answer(out_of_date())
        return
    before = ticket.priority
    await desk.change_priority(uow, ticket, callback_data.value, agent_of(query))
    await query.answer(priority_outcome(desk, ticket, before))
    if isinstance(query.message, Message):
        await unless_stale(query.message.delete())


async def decline_button(query: CallbackQuery, ticket: Ticket, state: FSMContext) -> None:
    """The card's Decline: the reason is asked for."""
    if isinstance(query.message, Message):
        await ask_decline_reason(query.message, ticket, state)
    await query.answer()


async def move_button(query: CallbackQuery, callback_data: TicketCb, ticket: Ticket,
                      uow: HandlerUnitOfWork, desk: Desk) -> None:
    """A card's button that moves the ticket to another status."""
    await desk.move(uow, ticket, MOVES[callback_data.action], agent_of(query))
    await query.answer(texts.status_title(MOVES[callback_data.action]))


async def other_card_button(query: CallbackQuery, callback_data: TicketCb,
                            uow: HandlerUnitOfWork) -> None:
    """A card's button of a ticket that is gone, or that this release does not know."""
    if await uow.tickets.get(callback_data.number) is None:
        await query.answer(_("No such ticket."), show_alert=True)
    else:
        await query.answer(out_of_date())


async def not_possible(event: ErrorEvent, ticket: Ticket) -> None:
    """IllegalTransition: the ticket's status does not allow it."""
    await _tell(event, _("Not possible: the ticket is {status}.").format(
        status=texts.status_title(ticket.status)))


async def ticket_closed(event: ErrorEvent, ticket: Ticket) -> None:
    """TicketClosed: a command hears that the ticket is closed; a button, its status."""
    if isinstance(event.update.event, CallbackQuery):
        await not_possible(event, ticket)
        return
    await _tell(event, _("Ticket #{number} is closed.").format(number=ticket.number))


async def taken_by_another(event: ErrorEvent, ticket: Ticket) -> None:
    """TakenByAnother: who has the ticket, and how to hand it over."""
    await _tell(event, taken_by_other(ticket))


async def _tell(event: ErrorEvent, text: str) -> None:
    """Reply to the message (in its topic), or answer the button in a box; `text` is plain."""
    if isinstance(event.update.event, Message):
        await event.update.event.reply(escape(text))
    elif isinstance(event.update.event, CallbackQuery):
        await event.update.event.answer(text, show_alert=True)


TICKET_COMMANDS = {"take": take, "assign": assign, "priority": priority, "status": status,
                   "close": close, "decline": decline, "history": history, "canned": canned,
                   "queue": queue, "bug": bug, "link": link, "ban": ban, "unban": unban}


def make_router() -> Router:
    """The staff groups, in the order aiogram tries the handlers (a fresh router for each
    dispatcher)."""
    router = Router(name="staff")
    router.message.filter(StaffChat())
    router.edited_message.filter(StaffChat())
    router.callback_query.filter(StaffChat())
    for name, handler in TICKET_COMMANDS.items():
        router.message.register(handler, Command(name), TicketHere())
    router.message.register(outside_a_ticket, Command(*TICKET_COMMANDS))
    router.message.register(find, Command("find"))
    router.message.register(cancel_decline, Command("cancel"), StateFilter(Declining.reason))
    router.message.register(decline_reason, StateFilter(Declining.reason),
                            OnLoop(F.text & ~F.text.startswith("/")), TicketHere())
    router.message.register(other_command, OnLoop(F.text.startswith("/")), TicketHere())
    router.message.register(agent_message, TicketHere())
    router.edited_message.register(agent_edit)
    router.chat_member.register(membership_changed, StaffChat())
    button = router.callback_query.register
    button(take_button, TicketCb.filter(F.action == "take"), TicketHere())
    button(priority_button, TicketCb.filter(F.action == "prio"), TicketHere())
    button(priority_picked, TicketCb.filter(F.action == "setprio"), TicketHere())
    button(decline_button, TicketCb.filter(F.action == "decline"), TicketHere())
    button(move_button, TicketCb.filter(F.action.in_(MOVES)), TicketHere())
    button(other_card_button, TicketCb.filter())
    # The desk's refusals, answered once for every handler above (bot/middlewares.py's
    # ErrorMiddleware hands them here, inside the update's language and transaction)
    router.errors.register(not_possible, ExceptionTypeFilter(IllegalTransition))
    router.errors.register(ticket_closed, ExceptionTypeFilter(TicketClosed))
    router.errors.register(taken_by_another, ExceptionTypeFilter(TakenByAnother))
    return router
