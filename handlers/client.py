"""The client's private chat after (or outside) the intake: follow-ups, /my, /ticket, /lang."""

from __future__ import annotations

import re
from html import escape
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import CommandObject, ExceptionTypeFilter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, ErrorEvent, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from domain.clients import Client
from domain.desk import Desk, last_closed, pick_ticket, supervisor_offered
from domain.errors import IllegalTransition, NotAllowed, TicketClosed, TicketNotFound
from domain.policy import LANGUAGES
from domain.text import ticket_number
from domain.tickets import Ticket
from domain.zones import zone_from_text
from handlers import client_state
from handlers import keyboards_client as kb
from handlers.callbacks import LangCb, TicketCb
from handlers.fallback import out_of_date, unless_stale
from handlers.filters import Command, CommandStart, OnLoop, PrivateChat
from handlers.intake import greet
from handlers.ports import HandlerUnitOfWork
from handlers.sources import message_ref
from handlers.texts import client_timezone, request_status
from handlers.times import zone_name

MENTION = re.compile(r"^\s*#([0-9]+)\b")
NUMBER = re.compile(r"#([0-9]+)\b")


async def start(message: Message) -> None:
    """/start: greeting, rules, New request."""
    await greet(message)


async def help_command(message: Message) -> None:
    """/help: what the client can do."""
    await message.answer("\n".join((
        _("/new — a new request"),
        _("/my — your requests and their statuses"),
        _("/ticket N — one request"),
        _("/cancel — stop the current request"),
        _("/lang — language"),
        _("/timezone — the time zone you read times in"),
        _("/forget — erase your personal data and messages"),
        _("To add to a request, just write here; with several open requests, reply to its "
          "message or start with its number, like #1042."),
    )))


async def timezone_command(message: Message, command: CommandObject, client: Client, desk: Desk,
                           uow: HandlerUnitOfWork) -> None:
    """/timezone [zone]: the zone the client reads times in; a city, a zone name or an offset."""
    now = desk.clock.now()
    typed = (command.args or "").strip()
    if not typed:
        zone = client_timezone(desk.policy, client)
        await message.answer(_("Times are shown to you in {zone}: it is {time} there now.").format(
            zone=zone_name(zone, now), time=f"{now.astimezone(ZoneInfo(zone)):%H:%M}") + "\n"
            + _("To change it, send /timezone with your city, like /timezone Yekaterinburg, a "
                "zone name (/timezone Europe/Moscow) or an offset (/timezone UTC+5)."))
        return
    zone = zone_from_text(typed)
    if zone is None:
        await message.answer(_("I do not know the time zone “{typed}”. Try your city (/timezone "
                               "Yekaterinburg), a zone name (/timezone Europe/Moscow) or an "
                               "offset (/timezone UTC+5).").format(typed=escape(typed[:64])))
        return
    client.timezone = zone
    await uow.clients.save(client)
    await message.answer(_("Done: times are shown to you in {zone} now; it is {time} there.")
                         .format(zone=zone_name(zone, now),
                                 time=f"{now.astimezone(ZoneInfo(zone)):%H:%M}"))


async def lang_command(message: Message) -> None:
    """/lang: choose the language."""
    await message.answer(_("Choose your language:"), reply_markup=kb.languages())


async def lang_chosen(query: CallbackQuery, callback_data: LangCb, client: Client,
                      uow: HandlerUnitOfWork) -> None:
    """Remember the chosen language."""
    if callback_data.code not in LANGUAGES:
        await query.answer(out_of_date())
        return
    await uow.clients.set_language(client.id, callback_data.code)
    await query.answer("✅")
    if isinstance(query.message, Message):
        await unless_stale(query.message.edit_text(
            f"{LANGUAGES[callback_data.code]} ✅"))


async def my_tickets(message: Message, client: Client, uow: HandlerUnitOfWork) -> None:
    """/my: the client's tickets with statuses."""
    tickets = await uow.tickets.of_client(client.id)
    if not tickets:
        await message.answer(_("You have no requests yet."), reply_markup=kb.start())
        return
    lines = [_("Your requests:")]
    lines += [f"#{t.number} · {escape(t.subject)} — {request_status(t.status)}"
              for t in tickets[:30]]
    await message.answer("\n".join(lines))


async def one_ticket(message: Message, command: CommandObject, client: Client, desk: Desk,
                     uow: HandlerUnitOfWork) -> None:
    """/ticket N: one of the client's tickets."""
    argument = (command.args or "").strip()
    if not argument:
        await message.answer(_("Usage: /ticket 1042"))
        return
    number = ticket_number(argument)
    if number is None:
        raise TicketNotFound(argument)
    ticket = await desk.ticket_of_client(uow, client, number)
    await message.answer("\n".join((
        f"<b>#{ticket.number}</b> · {escape(ticket.subject)}",
        _("Status: {status}").format(status=request_status(ticket.status)),
        _("Priority: {priority}").format(
            priority=escape(desk.policy.priority(ticket.priority).title.get(client.language))),
    )), reply_markup=kb.ticket_actions(ticket.number) if supervisor_offered(
        ticket, await uow.tickets.history(ticket.number), desk.clock.now()) else None)


async def follow_up(message: Message, state: FSMContext, client: Client, desk: Desk,
                    uow: HandlerUnitOfWork) -> None:
    """A client's message outside the intake goes into the right ticket's topic."""
    mentioned = _mentioned(message)
    replied = await _replied_ticket(message, uow)
    for number in (replied, mentioned):
        if number is None:
            continue
        ticket = await desk.ticket_of_client(uow, client, number)
        await _relay(message, client, desk, uow, ticket)
        return
    open_tickets = await uow.tickets.of_client(client.id, open_only=True)
    chosen = pick_ticket(open_tickets, None, None)
    if chosen is not None:
        await _relay(message, client, desk, uow, chosen)
    elif open_tickets:
        if await _keep(message, state):
            await message.answer(_("Which request is this about?"),
                                 reply_markup=kb.pick_ticket(open_tickets))
    else:
        await _after_close(message, state, client, desk, uow)


async def _keep(message: Message, state: FSMContext) -> bool:
    """Keep a message until the client says where it goes; whether to ask them (an album is
    one message to the client: one question)."""
    waiting = await client_state.kept(state)
    album_asked = message.media_group_id is not None and any(
        part.album == message.media_group_id for part in waiting.messages)
    waiting.messages.append(message_ref(message))
    waiting.text = "\n".join(filter(None, (waiting.text, message.text or message.caption or "")))
    await client_state.keep(state, waiting)
    return not album_asked


async def _after_close(message: Message, state: FSMContext, client: Client, desk: Desk,
                       uow: HandlerUnitOfWork) -> None:
    """A plain message from a client with no open request: never lost (SPEC §3). About a
    request closed within the reopen window, the client chooses: reopen it, or a new one;
    later, a new request starts with it. A client who never had one is greeted."""
    last = last_closed(await uow.tickets.of_client(client.id))
    if last is None:
        await greet(message)
        return
    if not await _keep(message, state):
        return
    if desk.may_reopen(last):
        await message.answer(
            _("Request #{number} ({subject}) is closed. Reopen it with your message, or start "
              "a new request?").format(number=last.number, subject=escape(last.subject)),
            reply_markup=kb.reopen_or_new(last.number))
    else:
        await message.answer(
            _("Request #{number} was closed too long ago to reopen. Start a new request? Your "
              "message will be part of it.").format(number=last.number),
            reply_markup=kb.start())


async def ticket_picked(query: CallbackQuery, callback_data: TicketCb, state: FSMContext,
                        client: Client, desk: Desk, uow: HandlerUnitOfWork) -> None:
    """The client said which ticket their waiting messages are about."""
    waiting = await client_state.kept(state)
    ticket = await desk.ticket_of_client(uow, client, callback_data.number)
    if not waiting.messages:
        await query.answer(_("Nothing waiting to be sent."))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        return
    closed = not ticket.status.is_open
    for kept in waiting.messages:
        ticket = await desk.client_wrote(uow, client, ticket, kept, kept.html)
    await client_state.keep(state, client_state.Kept())
    await query.answer()
    if isinstance(query.message, Message):  # the question shows the outcome, without buttons
        await unless_stale(query.message.edit_text(
            _outcome(callback_data.number, ticket.number, closed)))


def _outcome(asked: int, number: int, was_closed: bool) -> str:
    """What became of the client's message: relayed, reopening, or opening a request."""
    if number != asked:
        return _("Request #{old} was closed too long ago, so this message opened request "
                 "#{new}.").format(old=asked, new=number)
    if was_closed:
        return "🔄 " + _("Request #{number} is reopened; your message is with the support "
                        "team.").format(number=number)
    return _("Sent to #{number}.").format(number=number)


async def client_edit(message: Message, client: Client, uow: HandlerUnitOfWork,
                      desk: Desk) -> None:
    """A client's edit of a relayed message is shown to the staff."""
    links = await uow.links.by_client_message(message.chat.id, message.message_id)
    if links:
        ticket = await uow.tickets.get(links[0].ticket_number)
    else:  # not copied yet (the outbox is behind): the edit queues behind the copy
        open_tickets = await uow.tickets.of_client(client.id, open_only=True)
        ticket = pick_ticket(open_tickets, await _replied_ticket(message, uow),
                             _mentioned(message))
    if ticket is not None:
        await desk.client_edited(uow, ticket, message_ref(message))


async def _relay(message: Message, client: Client, desk: Desk, uow: HandlerUnitOfWork,
                 ticket: Ticket) -> None:
    """Hand the message to the desk; tell the client if a new ticket had to be opened."""
    was_closed = not ticket.status.is_open
    relayed = message_ref(message)
    result = await desk.client_wrote(uow, client, ticket, relayed, relayed.html)
    if was_closed:  # reopened, or a new request opened: the client hears which
        await message.answer(_outcome(ticket.number, result.number, was_closed))


def _mentioned(message: Message) -> int | None:
    match = MENTION.match(message.text or message.caption or "")
    return ticket_number(match.group(1)) if match else None


async def _replied_ticket(message: Message, uow: HandlerUnitOfWork) -> int | None:
    reply = message.reply_to_message
    if reply is None:
        return None
    links = await uow.links.by_client_message(message.chat.id, reply.message_id)
    if links:
        return links[0].ticket_number
    if reply.from_user is not None and reply.from_user.is_bot:
        # A notice not linked (yet, or from before links): the one ticket it names, if one.
        named = set(NUMBER.findall(reply.text or reply.caption or ""))
        return ticket_number(named.pop()) if len(named) == 1 else None
    return None


LOW_SCORE = 3  # a rating up to this asks for a comment


class RatingComment(StatesGroup):
    """After a low rating: an optional comment."""

    waiting = State()


async def resolution_answer(query: CallbackQuery, callback_data: TicketCb, client: Client,
                            desk: Desk, uow: HandlerUnitOfWork) -> None:
    """"Yes, solved" closes the ticket; "No, still a problem" reopens it."""
    ticket = await desk.ticket_of_client(uow, client, callback_data.number)
    try:
        result = await desk.client_confirms(uow, client, ticket, callback_data.action == "solved")
    except IllegalTransition:
        await query.answer(_("Request #{number} is no longer waiting for this answer.").format(
            number=callback_data.number), show_alert=True)
        return
    if result.number != ticket.number:  # closed too long ago: a new ticket follows it
        await query.answer(_("Request #{old} was closed too long ago, so request #{new} is "
                             "opened for it.").format(old=ticket.number, new=result.number),
                           show_alert=True)
    else:
        await query.answer(_("Thank you!") if callback_data.action == "solved" else
                           _("We are on it again."))
    if isinstance(query.message, Message):
        said = (_("You said: solved.") if callback_data.action == "solved" else
                _("You said: still a problem. We are on it again."))
        still = callback_data.action == "unsolved" and result.status.is_open
        await answered(query.message, said,
                       kb.ticket_actions(result.number) if still else None)


async def answered(prompt: Message, answer: str, markup: InlineKeyboardMarkup | None = None,
                   ) -> None:
    """A prompt answered by a button shows the answer under its text, without its buttons
    (or with the ones that make sense next)."""
    await unless_stale(prompt.edit_text(  # a second press, a deleted prompt: normal
        (prompt.html_text or "") + "\n\n" + "<b>" + answer + "</b>", reply_markup=markup))


def stars(score: int) -> str:
    """A rating as five stars, like ★★☆☆☆."""
    return "★" * score + "☆" * (5 - score)


async def rating(query: CallbackQuery, callback_data: TicketCb, state: FSMContext,
                 client: Client, desk: Desk, uow: HandlerUnitOfWork) -> None:
    """A rating button; a low score asks for an optional comment."""
    try:
        ticket = await desk.ticket_of_client(uow, client, callback_data.number)
        score = int(callback_data.value)
        # a low score waits for its comment: the staff hear of the rating once, with it
        await desk.rate(uow, client, ticket, score, announce=score > LOW_SCORE)
    except (TicketNotFound, ValueError, NotAllowed, IllegalTransition):
        await query.answer(_("This rating button is no longer valid."), show_alert=True)
        return
    await query.answer(_("Thank you for the rating!"))
    if isinstance(query.message, Message):
        await answered(query.message, _("Your rating: {stars}").format(stars=stars(score)))
        if score <= LOW_SCORE:
            await state.set_state(RatingComment.waiting)
            question = await query.message.answer(
                _("We are sorry it was not better. What went wrong? Your comment helps us "
                  "improve."), reply_markup=kb.skip_comment(ticket.number))
            await client_state.ask_comment(state, client_state.AskedComment(
                ticket.number, score, question.message_id))


async def rating_comment(message: Message, state: FSMContext, client: Client, desk: Desk,
                         uow: HandlerUnitOfWork) -> None:
    """The comment after a low rating; its question loses the "No comment" button."""
    question = (await client_state.asked_comment(state)).question
    if await _announce_rating(state, client, desk, uow, message.text):
        await message.answer(_("Thank you, we will take it into account."))
    if question and message.bot is not None:
        await unless_stale(message.bot.edit_message_reply_markup(chat_id=message.chat.id,
                                                                 message_id=question))


async def rating_without_comment(message: Message, state: FSMContext, client: Client,
                                 desk: Desk, uow: HandlerUnitOfWork) -> None:
    """/cancel instead of the comment: the rating goes to the staff without one."""
    await _announce_rating(state, client, desk, uow, None)
    await message.answer(_("All right, no comment."))


async def skip_comment(query: CallbackQuery, state: FSMContext, client: Client, desk: Desk,
                       uow: HandlerUnitOfWork) -> None:
    """The "No comment" button under the comment question."""
    announced = await _announce_rating(state, client, desk, uow, None)
    await query.answer()
    if isinstance(query.message, Message):
        if announced:
            await answered(query.message, _("No comment."))
        elif query.message.reply_markup is not None:
            await unless_stale(query.message.edit_reply_markup(reply_markup=None))


async def _announce_rating(state: FSMContext, client: Client, desk: Desk,
                           uow: HandlerUnitOfWork, comment: str | None) -> bool:
    """Record the low rating's comment (or none) and show the rating to the staff, once."""
    asked = await client_state.asked_comment(state)
    if await state.get_state() != RatingComment.waiting.state:
        return False
    await state.clear()
    try:
        ticket = await desk.ticket_of_client(uow, client, asked.ticket)
        await desk.rate(uow, client, ticket, asked.score, comment)
    except (TicketNotFound, NotAllowed, IllegalTransition):
        return False
    return True


async def ask_supervisor(query: CallbackQuery, callback_data: TicketCb, client: Client,
                         desk: Desk, uow: HandlerUnitOfWork) -> None:
    """"Ask supervisor": the supervisors are called in (once a day per ticket)."""
    ticket = await desk.ticket_of_client(uow, client, callback_data.number)
    try:
        await desk.ask_supervisor(uow, client, ticket)
    except NotAllowed:
        await query.answer(_("The supervisor was already asked about this request today."),
                           show_alert=True)
        return
    await query.answer(_("The supervisor has been asked to look at request #{number}.").format(
        number=callback_data.number), show_alert=True)


async def no_such_request(event: ErrorEvent) -> None:
    """TicketNotFound: the client has no request of that number (another's is not named)."""
    await _tell(event, _("You have no request #{number}.").format(
        number=escape(str(event.exception).lstrip("#")[:24])))


async def request_closed(event: ErrorEvent) -> None:
    """TicketClosed: what was asked needs the request open."""
    await _tell(event, _("Request #{number} is closed.").format(number=event.exception))


async def _tell(event: ErrorEvent, text: str) -> None:
    """Answer the message, or the button press (in a box the client must close)."""
    if isinstance(event.update.event, Message):
        await event.update.event.answer(text)
    elif isinstance(event.update.event, CallbackQuery):
        await event.update.event.answer(text, show_alert=True)


async def not_for_clients(query: CallbackQuery) -> None:
    """A staff button outside the staff group (a forwarded card): refused."""
    await query.answer(_("Only the support staff can use these buttons."), show_alert=True)


def make_router() -> Router:
    """The client's private chat, in the order aiogram tries the handlers (a fresh router for
    each dispatcher)."""
    router = Router(name="client")
    router.message.filter(PrivateChat())
    router.edited_message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.message.register(timezone_command, Command("timezone"))
    router.message.register(lang_command, Command("lang"))
    router.callback_query.register(lang_chosen, LangCb.filter())
    router.message.register(my_tickets, Command("my"))
    router.message.register(one_ticket, Command("ticket"))
    router.message.register(follow_up, StateFilter(None), OnLoop(~F.text.startswith("/")))
    router.callback_query.register(ticket_picked, TicketCb.filter(F.action == "pick"))
    router.edited_message.register(client_edit)
    router.callback_query.register(resolution_answer,
                                   TicketCb.filter(F.action.in_({"solved", "unsolved"})))
    router.callback_query.register(rating, TicketCb.filter(F.action == "rate"))
    router.message.register(rating_comment, StateFilter(RatingComment.waiting),
                            OnLoop(F.text & ~F.text.startswith("/")))
    router.message.register(rating_without_comment, StateFilter(RatingComment.waiting),
                            Command("cancel"))
    router.callback_query.register(skip_comment, TicketCb.filter(F.action == "nocomment"))
    router.callback_query.register(ask_supervisor, TicketCb.filter(F.action == "askv"))
    router.callback_query.register(not_for_clients, TicketCb.filter())
    # The desk's refusals, answered once for every handler above (bot/middlewares.py's
    # ErrorMiddleware hands them here, inside the update's language and transaction)
    router.errors.register(no_such_request, ExceptionTypeFilter(TicketNotFound))
    router.errors.register(request_closed, ExceptionTypeFilter(TicketClosed))
    return router
