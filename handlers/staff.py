"""The staff supergroup: agent replies, internal notes, edits, the card's buttons, commands."""

from __future__ import annotations

from contextlib import suppress
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, ReactionTypeEmoji
from aiogram.utils.i18n import gettext as _

from domain.desk import Desk
from domain.errors import IllegalTransition, NotAllowed, TicketClosed, TicketNotFound
from domain.text import one_line, ticket_number
from domain.tickets import Actor, Status, Ticket
from handlers import keyboards_staff as kb
from handlers import texts
from handlers.callbacks import TicketCb
from handlers.fallback import out_of_date, unless_stale
from handlers.filters import Command, OnLoop, StaffChat
from handlers.ports import HandlerUnitOfWork, StaffMembership
from handlers.sources import source_of

KEPT_INTERNAL = "✍"  # the reaction on an internal note (an allowed reaction emoji)


MOVES = {"wclient": Status.WAITING_CLIENT, "wthird": Status.WAITING_THIRD_PARTY,
         "resolved": Status.RESOLVED, "second": Status.SECOND_LINE, "close": Status.CLOSED,
         "work": Status.IN_PROGRESS, "reopen": Status.REOPENED}
RELAYABLE = frozenset({"text", "photo", "document", "video", "audio", "voice", "animation",
                       "sticker", "video_note", "location", "contact", "venue", "poll"})
TICKET_COMMANDS = ("take", "assign", "priority", "status", "close", "decline", "history",
                   "canned", "queue", "bug", "link", "ban", "unban")


class Declining(StatesGroup):
    """An agent pressed Decline: the next message is the reason."""

    reason = State()


def agent_of(event: Message | CallbackQuery) -> Actor:
    """The acting agent."""
    user = event.from_user
    if user is None:
        return Actor("agent", None, "?")
    return Actor("agent", user.id, one_line(user.full_name))


async def ticket_here(message: Message, uow: HandlerUnitOfWork) -> Ticket | None:
    """The ticket whose topic (or card thread) this message is in."""
    number = await uow.topics.ticket_at(message.chat.id, message.message_thread_id)
    if number is None and message.reply_to_message is not None:
        reply_id = message.reply_to_message.message_id
        number = await uow.topics.ticket_of_card(message.chat.id, reply_id)
        if number is None:
            links = await uow.links.by_staff_message(message.chat.id, reply_id)
            number = links[0].ticket_number if links else None
        if number is None:
            number = card_number(message.reply_to_message, message.bot)
    return None if number is None else await uow.tickets.get(number)


def card_number(card: Message, bot: Bot | None) -> int | None:
    """The ticket of one of our cards, read off its buttons.

    Where the group has no topics, agents answer by replying to the card; an agent quick
    enough replies before the card's message id is on record, and the buttons say the same.
    """
    sender = card.from_user
    if bot is None or sender is None or sender.id != bot.id or card.reply_markup is None:
        return None
    for row in card.reply_markup.inline_keyboard:
        for button in row:
            data = button.callback_data or ""
            if data.startswith(TicketCb.__prefix__ + TicketCb.__separator__):
                try:
                    return TicketCb.unpack(data).number
                except (TypeError, ValueError):
                    continue
    return None


async def ticket_command(message: Message, command: CommandObject, uow: HandlerUnitOfWork,
                         desk: Desk, state: FSMContext) -> None:
    """A command about the ticket of this topic."""
    ticket = await ticket_here(message, uow)
    if ticket is None:
        await message.reply(_("Use this command inside a ticket's topic."))
        return
    args = (command.args or "").strip()
    agent = agent_of(message)
    try:
        await _TICKET_ACTIONS[command.command](message, args, ticket, agent, uow, desk, state)
    except IllegalTransition:
        await message.reply(_("Not possible: the ticket is {status}.").format(
            status=texts.status_title(ticket.status)))
    except TicketClosed:
        await message.reply(_("Ticket #{number} is closed.").format(number=ticket.number))
    except NotAllowed:  # /take of a ticket another agent has
        await message.reply(escape(taken_by_other(ticket)))


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


async def _take(message: Message, args: str, ticket: Ticket, agent: Actor, uow: HandlerUnitOfWork,
                desk: Desk, state: FSMContext) -> None:
    await desk.take(uow, ticket, agent)


async def _assign(message: Message, args: str, ticket: Ticket, agent: Actor,
                  uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    target = await _named_agent(message, args, uow)
    if target is None:
        await message.reply(_("Usage: /assign @username (an agent who wrote in this group), "
                              "or reply to the agent's message with /assign."))
        return
    await desk.assign(uow, ticket, target, agent)


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


async def _priority(message: Message, args: str, ticket: Ticket, agent: Actor,
                    uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    keys = {level.key for level in desk.policy.priorities}
    if args.lower() in keys:
        await desk.change_priority(uow, ticket, args.lower(), agent)
        return
    await message.reply(_("New priority for #{number}:").format(number=ticket.number),
                        reply_markup=kb.priorities(desk.policy, ticket,
                                                   desk.policy.staff_language))


async def _status(message: Message, args: str, ticket: Ticket, agent: Actor,
                  uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    try:
        wanted = Status(args.lower())
    except ValueError:
        await message.reply(_("Usage: /status {names}").format(
            names=" | ".join(status.value for status in Status)))
        return
    if wanted is Status.DECLINED:
        await _decline(message, "", ticket, agent, uow, desk, state)
        return
    await desk.move(uow, ticket, wanted, agent)


async def _close(message: Message, args: str, ticket: Ticket, agent: Actor,
                 uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    await desk.move(uow, ticket, Status.CLOSED, agent, args or None)


async def _decline(message: Message, args: str, ticket: Ticket, agent: Actor,
                   uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    if args:
        await desk.move(uow, ticket, Status.DECLINED, agent, args)
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


async def _history(message: Message, args: str, ticket: Ticket, agent: Actor,
                   uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    events = await uow.tickets.history(ticket.number)
    text = texts.history(events, desk.policy, desk.clock.now())
    await message.reply(text if len(text) <= 4000 else text[:3990] + "\n…")


async def _canned(message: Message, args: str, ticket: Ticket, agent: Actor,
                  uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    names = [item.name for item in desk.policy.canned]
    if args not in names:
        await message.reply(_("Canned answers: {names}").format(
            names=escape(", ".join(names) or "—")))
        return
    await desk.send_canned(uow, ticket, args, agent)


async def _queue(message: Message, args: str, ticket: Ticket, agent: Actor,
                 uow: HandlerUnitOfWork, desk: Desk, state: FSMContext) -> None:
    keys = [queue.key for queue in desk.policy.queues]
    if args not in keys:
        await message.reply(_("Queues: {names}").format(names=escape(", ".join(keys))))
        return
    await desk.change_queue(uow, ticket, args, agent)


async def _bug(message: Message, args: str, ticket: Ticket, agent: Actor, uow: HandlerUnitOfWork,
               desk: Desk, state: FSMContext) -> None:
    if not args or len(args) > 500:
        await message.reply(_("Usage: /bug 4711 or /bug https://tracker.example.com/4711"))
        return
    await desk.link_bug(uow, ticket, args.split(maxsplit=1)[0], agent)


async def _link(message: Message, args: str, ticket: Ticket, agent: Actor, uow: HandlerUnitOfWork,
                desk: Desk, state: FSMContext) -> None:
    if not args:
        await message.reply(_("Usage: /link 1017 (the problem ticket's number)"))
        return
    number = ticket_number(args)
    try:
        if number is None:
            raise TicketNotFound(args)
        await desk.link_problem(uow, ticket, number, agent)
    except TicketNotFound:
        await message.reply(_("There is no other ticket #{number}.").format(
            number=escape(args.lstrip("#")[:24])))
    except NotAllowed:
        await message.reply(_("#{number} is itself an incident of another problem.").format(
            number=number))


async def _ban(message: Message, args: str, ticket: Ticket, agent: Actor, uow: HandlerUnitOfWork,
               desk: Desk, state: FSMContext) -> None:
    client = await uow.clients.get(ticket.client_id)
    if client is None:
        return
    banned = message.text is not None and message.text.lstrip().lower().startswith("/ban")
    await desk.ban(uow, client, banned, agent)
    await message.reply((_("The client of #{number} is banned: their messages are no longer "
                           "relayed.") if banned else
                          _("The client of #{number} is unbanned.")).format(number=ticket.number))


_TICKET_ACTIONS = {
    "take": _take, "assign": _assign, "priority": _priority, "status": _status,
    "close": _close, "decline": _decline, "history": _history, "canned": _canned,
    "queue": _queue, "bug": _bug, "link": _link, "ban": _ban, "unban": _ban,
}


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


async def decline_reason(message: Message, state: FSMContext, uow: HandlerUnitOfWork,
                         desk: Desk) -> None:
    """The reason for declining, written in the ticket's topic; the client reads it."""
    number = (await state.get_data()).get("declining")
    ticket = await ticket_here(message, uow)
    if ticket is None or ticket.number != number:
        # Written in another topic: an ordinary message there; the reason is still awaited.
        await agent_message(message, uow, desk)
        return
    await state.clear()
    try:
        await desk.move(uow, ticket, Status.DECLINED, agent_of(message), message.text)
    except IllegalTransition:
        await message.reply(_("Not possible: the ticket is {status}.").format(
            status=texts.status_title(ticket.status)))


async def other_command(message: Message, uow: HandlerUnitOfWork, desk: Desk) -> None:
    """Commands that are not relayed (and not known here) stay in the group; a note (/note,
    or `//` when that is the prefix) is marked as kept."""
    text = message.text or ""
    if (text.startswith(desk.policy.note_prefix) or text.split(maxsplit=1)[0].split("@")[0]
            == "/note") and await ticket_here(message, uow) is not None:
        await kept_internal(message)


async def kept_internal(message: Message) -> None:
    """An internal note stayed in the group: a reaction tells its author (SPEC §11)."""
    with suppress(TelegramBadRequest):
        await message.react([ReactionTypeEmoji(emoji=KEPT_INTERNAL)])


async def agent_message(message: Message, uow: HandlerUnitOfWork, desk: Desk) -> None:
    """An agent's message in a ticket's topic reaches the client (unless it is a note)."""
    if message.forum_topic_created or message.forum_topic_closed or message.pinned_message:
        return
    if message.sender_chat is not None and message.content_type in RELAYABLE:
        # Sent as the group (an anonymous administrator) or as a channel: no agent to name
        # or to make the assignee; the staff are told rather than left to believe it went.
        if await ticket_here(message, uow) is not None:
            await message.reply(_("Not delivered to the client: this was sent anonymously or "
                                  "on behalf of a channel, and the client gets only what a "
                                  "person on the staff writes. Please send it as yourself."))
        return
    if message.from_user is None or message.from_user.is_bot:
        return
    if (message.text or message.caption or "").startswith(desk.policy.note_prefix):
        if await ticket_here(message, uow) is not None:
            await kept_internal(message)
        return
    ticket = await ticket_here(message, uow)
    if ticket is None:
        return
    try:
        await desk.agent_replied(uow, ticket, agent_of(message), source_of(message))
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
        source = dict(source_of(message))
        if message.from_user is not None:
            source["agent"] = one_line(message.from_user.full_name)
        await desk.agent_edited(uow, ticket, source)


async def membership_changed(event: ChatMemberUpdated, staff_members: StaffMembership) -> None:
    """Someone joined or left a staff group: whether they may act changes now, not in a
    minute (the bot asks Telegram for these updates because this handler exists)."""
    staff_members.changed(event.chat.id, event.new_chat_member.user.id,
                          event.new_chat_member.status)


async def card_button(query: CallbackQuery, callback_data: TicketCb, uow: HandlerUnitOfWork,
                      desk: Desk, state: FSMContext) -> None:
    """A button of the ticket card: acts on the ticket as it is now, or says why not."""
    ticket = await uow.tickets.get(callback_data.number)
    if ticket is None:
        await query.answer(_("No such ticket."), show_alert=True)
        return
    agent = agent_of(query)
    action = callback_data.action
    try:
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
                await query.answer(out_of_date())
                return
            before = ticket.priority
            await desk.change_priority(uow, ticket, callback_data.value, agent)
            await query.answer(priority_outcome(desk, ticket, before))
            if isinstance(query.message, Message):
                await unless_stale(query.message.delete())
        elif action == "decline":
            if isinstance(query.message, Message):
                await ask_decline_reason(query.message, ticket, state)
            await query.answer()
        elif action in MOVES:
            await desk.move(uow, ticket, MOVES[action], agent)
            await query.answer(texts.status_title(MOVES[action]))
        else:
            await query.answer(out_of_date())
    except (IllegalTransition, TicketClosed):
        await query.answer(_("Not possible: the ticket is {status}.").format(
            status=texts.status_title(ticket.status)), show_alert=True)
    except NotAllowed:
        await query.answer(taken_by_other(ticket), show_alert=True)


def make_router() -> Router:
    """The staff groups, in the order aiogram tries the handlers (a fresh router for each
    dispatcher)."""
    router = Router(name="staff")
    router.message.filter(StaffChat())
    router.edited_message.filter(StaffChat())
    router.callback_query.filter(StaffChat())
    router.message.register(ticket_command, Command(*TICKET_COMMANDS))
    router.message.register(find, Command("find"))
    router.message.register(cancel_decline, Command("cancel"), StateFilter(Declining.reason))
    router.message.register(decline_reason, StateFilter(Declining.reason),
                            OnLoop(F.text & ~F.text.startswith("/")))
    router.message.register(other_command, OnLoop(F.text.startswith("/")))
    router.message.register(agent_message)
    router.edited_message.register(agent_edit)
    router.chat_member.register(membership_changed, StaffChat())
    router.callback_query.register(card_button, TicketCb.filter())
    return router
