"""How each kind of outbox item is said in Telegram: topics, cards, copies, notices."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import Message, MessageId, ReactionTypeEmoji, ReplyParameters

from bot.i18n import DeskI18n
from bot.pacing import Pacer
from bot.splitting import split_html
from domain.calendar import BusinessCalendar
from domain.clients import Client
from domain.clock import Clock
from domain.outgoing import Kind, MessageRef, MessageShape, Notice, Outgoing
from domain.policy import Policy
from domain.tickets import Ticket
from handlers import keyboards_client, keyboards_staff, texts
from storage.telegram_links import MessageLink, Topic
from storage.transient import retry_transient
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)
T = TypeVar("T")

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DELIVERED = "👍"  # the reaction on an agent's message that reached the client
TOPIC_READ_FRESH = 1.0  # seconds a topic read to find a lane's chat serves its claim


class PermanentFailure(Exception):
    """A delivery that cannot succeed by retrying (the reason is shown to the staff)."""


class NoChat(PermanentFailure):
    """The client has no Telegram chat (registered from a phone call or e-mail, or erased)."""


def _thread_gone(error: TelegramBadRequest) -> bool:
    text = error.message.lower()
    return "thread not found" in text or "topic_deleted" in text or "topic_id_invalid" in text


class Delivery:
    """Performs one outbox item against the Bot API."""

    def __init__(self, bot: Bot, uow_factory: UnitOfWorkFactory, policy: Policy,
                 staff_chat_id: int, i18n: DeskI18n, pacer: Pacer, clock: Clock) -> None:
        self.bot = bot
        self.uow_factory = uow_factory
        self.policy = policy
        self.staff_chat_id = staff_chat_id
        self.i18n = i18n
        self.pacer = pacer
        self.clock = clock
        self._forum: dict[int, bool] = {}
        self._member_names: dict[int, str] = {}
        self._known_topics: dict[int, Topic] = {}  # read with the claim, used by the send
        self._topics_read: dict[int, tuple[Topic, float]] = {}  # by `chat_of`: until when

    async def look_ahead(self, uow: SqlUnitOfWork, item: Outgoing) -> None:
        """Read, in the claim's transaction, what the item's delivery will need: a client's
        message goes into the ticket's topic, and asking for it separately would cost a
        transaction per message."""
        number = item.ticket_number
        if item.kind is Kind.COPY_TO_TOPIC and number is not None:
            just_read = self._topics_read.pop(number, None)
            if just_read is not None and just_read[1] > time.monotonic():
                topic: Topic | None = just_read[0]  # by `chat_of`, a moment ago
            else:
                topic = await uow.topics.of_ticket(number)
            if topic is not None:
                self._known_topics[number] = topic

    async def deliver(self, item: Outgoing) -> None:
        """Do what the item asks."""
        handlers: dict[Kind, Callable[[Outgoing], Awaitable[None]]] = {
            Kind.CARD: self._card, Kind.COPY_TO_TOPIC: self._copy_to_topic,
            Kind.COPY_TO_CLIENT: self._copy_to_client, Kind.EDIT_IN_TOPIC: self._edit_in_topic,
            Kind.EDIT_AT_CLIENT: self._edit_at_client, Kind.CLIENT_NOTICE: self._client_notice,
            Kind.TOPIC_NOTICE: self._topic_notice, Kind.GENERAL_NOTICE: self._general_notice,
            Kind.TOPIC_STATE: self._topic_state,
        }
        await handlers[item.kind](item)

    def staff_backlog(self) -> float:
        """Seconds until the busiest staff group can take the next message."""
        chats = {self.staff_chat_id} | {queue.staff_chat_id for queue in self.policy.queues
                                        if queue.staff_chat_id}
        return max(self.pacer.backlog(chat_id) for chat_id in chats)

    def hold(self, seconds: float) -> None:
        """Telegram answered 429: keep away from that chat for `seconds`."""
        self.pacer.hold_current(seconds)

    async def report_failure(self, item: Outgoing, error: Exception) -> None:
        """Tell the staff, in the ticket's topic, that something could not be delivered."""
        number = item.ticket_number
        if number is None or item.kind in (Kind.TOPIC_NOTICE, Kind.GENERAL_NOTICE):
            return
        if isinstance(error, NoChat) and item.kind is Kind.CLIENT_NOTICE:
            return  # nobody to tell: the staff registered this request for the client
        with self._staff_locale():
            if isinstance(error, TelegramForbiddenError):
                reason = texts.reason_blocked()
            elif "too long" in str(error).lower():
                reason = texts.reason_too_long()
            else:
                reason = escape(str(error))
            text = "⚠️ " + texts.delivery_failed(reason)
        with suppress(Exception):
            await self._into_topic(number, lambda topic: self._send_to_topic(topic, text))

    # --- the staff side -------------------------------------------------------------------

    async def _card(self, item: Outgoing) -> None:
        async with self.uow_factory() as uow:
            ticket, client = await self._ticket_and_client(uow, item.ticket_number)
            existing = await uow.topics.of_ticket(ticket.number)
            # a topic made now starts with the card as the ticket is now: nothing to edit
            topic = existing or await self._ensure_topic(uow, ticket.number)
            await uow.commit()
            with self._staff_locale():
                text = texts.card(self.policy, ticket, client, self.policy.staff_language,
                                  self.clock.now())
                markup = keyboards_staff.card(ticket)
                name = texts.topic_name(self.policy, ticket, client.name)
            if existing is not None and topic.card_message_id is not None:
                with suppress(TelegramBadRequest):  # "message is not modified" is fine
                    await self.bot.edit_message_text(
                        text=text, chat_id=topic.chat_id, message_id=topic.card_message_id,
                        reply_markup=markup)
            if topic.thread_id is not None and name != topic.title:
                with suppress(TelegramBadRequest):
                    await self.bot.edit_forum_topic(chat_id=topic.chat_id,
                                                    message_thread_id=topic.thread_id,
                                                    name=name)
                await uow.topics.update(ticket.number, title=name)
                await uow.commit()

    async def _ensure_topic(self, uow: SqlUnitOfWork, number: int,
                            recreate: bool = False) -> Topic:
        """The ticket's topic, created (with its card) the first time it is needed.

        `recreate` replaces a topic that is gone. No transaction stays open while Telegram is
        asked (a SQLite writer would hold up every other one). Topics are made in the chat's
        turn (see Pacer.turn), one at a time: a task that asked meanwhile, from another lane,
        finds the topic the first one made instead of making a second.
        """
        topic = await uow.topics.of_ticket(number)
        if topic is not None and not recreate:
            return topic
        ticket, _ = await self._ticket_and_client(uow, number)
        await uow.commit()  # only read so far: end the transaction before Telegram is asked
        chat_id = topic.chat_id if topic is not None else self._chat_for(ticket)
        async with self.pacer.turn(chat_id, lambda: float("inf")):
            return await self._open_topic(number, gone=topic)

    async def _open_topic(self, number: int, gone: Topic | None) -> Topic:
        async with self.uow_factory() as uow:
            current = await uow.topics.of_ticket(number)
            if current is not None and (gone is None or current.thread_id != gone.thread_id
                                        or current.chat_id != gone.chat_id):
                return current  # made (or made again) while this task waited for its turn
            ticket, client = await self._ticket_and_client(uow, number)
        chat_id = self._chat_for(ticket)
        with self._staff_locale():
            name = texts.topic_name(self.policy, ticket, client.name)
            text = texts.card(self.policy, ticket, client, self.policy.staff_language,
                              self.clock.now())
            markup = keyboards_staff.card(ticket)
        thread_id = None
        card_id: int | None = None

        async def store() -> None:
            async with self.uow_factory() as uow:
                await uow.topics.store(number, chat_id, thread_id, card_id, name)
                await uow.commit()

        if await self._is_forum(chat_id):
            await self.pacer.wait(chat_id)
            created = await self.bot.create_forum_topic(chat_id=chat_id, name=name)
            thread_id = created.message_thread_id
            # Recorded at once: an agent may write in the topic before the card is posted,
            # and losing the record would make the next item open another topic.
            await retry_transient(store, f"topic of #{number}")
        await self.pacer.wait(chat_id)
        card = await self.bot.send_message(chat_id=chat_id, text=text, reply_markup=markup,
                                           message_thread_id=thread_id)
        card_id = card.message_id
        await retry_transient(store, f"card of #{number}")
        return Topic(number, chat_id, thread_id, card_id, name, False)

    async def chat_of(self, uow: SqlUnitOfWork, item: Outgoing) -> int | None:
        """The chat an item goes to (the outbox takes its turn there); None if it has none.
        A ticket's topic read for it is kept for the item's delivery (see `look_ahead`)."""
        if item.kind in (Kind.COPY_TO_CLIENT, Kind.EDIT_AT_CLIENT, Kind.CLIENT_NOTICE):
            client = item.client_id
            return None if client is None else await uow.clients.telegram_id(client)
        number = item.ticket_number
        topic = None if number is None else await uow.topics.of_ticket(number)
        if topic is not None:
            if item.kind is Kind.COPY_TO_TOPIC:  # the claim comes next: it need not read it again
                if len(self._topics_read) > 10_000:
                    self._topics_read.clear()
                self._topics_read[topic.ticket_number] = (
                    topic, time.monotonic() + TOPIC_READ_FRESH)
            return topic.chat_id
        ticket = None if number is None else await uow.tickets.get(number)
        return self.staff_chat_id if ticket is None else self._chat_for(ticket)

    def _chat_for(self, ticket: Ticket) -> int:
        try:
            queue = self.policy.queue(ticket.queue)
        except KeyError:
            return self.staff_chat_id
        return queue.staff_chat_id or self.staff_chat_id

    async def _is_forum(self, chat_id: int) -> bool:
        if chat_id not in self._forum:
            chat = await self.bot.get_chat(chat_id)
            self._forum[chat_id] = bool(chat.is_forum)
        return self._forum[chat_id]

    async def _copy_to_topic(self, item: Outgoing) -> None:
        source = _in_order(_message(item))
        number = _ticket(item)
        replied = await self._links_of_reply(source, staff_side=False)

        async def copy(topic: Topic) -> list[int]:
            # In a topic, a reply to a message it has a copy of answers that copy; a group
            # without topics has every message of the ticket answer its card.
            reply_to = next((link.staff_message_id for link in replied
                             if link.staff_chat_id == topic.chat_id), None
                            ) if topic.thread_id else topic.card_message_id
            return await self._copy(topic.chat_id, source, thread_id=topic.thread_id,
                                    reply_to=reply_to)

        topic, copied = await self._into_topic(number, copy)
        await self._link(number, "in", (source.chat, source.ids), (topic.chat_id, copied))

    async def _links_of_reply(self, source: MessageRef, staff_side: bool
                              ) -> list[MessageLink]:
        """The pairs of the message `source` replies to (sent from the staff side or the
        client's); none for a message that replies to nothing."""
        if not source.reply_to:
            return []
        async with self.uow_factory() as uow:
            if staff_side:
                return await uow.links.by_staff_message(source.chat, source.reply_to)
            return await uow.links.by_client_message(source.chat, source.reply_to)

    async def _into_topic(self, number: int,
                          post: Callable[[Topic], Awaitable[T]]) -> tuple[Topic, T]:
        """Post into the ticket's topic; a topic the staff deleted is opened again (once)."""
        for attempt in range(2):
            known = self._known_topics.pop(number, None) if attempt == 0 else None
            if known is not None:
                topic = known
            else:
                async with self.uow_factory() as uow:
                    topic = await self._ensure_topic(uow, number, recreate=attempt > 0)
                    await uow.commit()
            try:
                return topic, await post(topic)
            except TelegramBadRequest as error:
                if attempt == 0 and topic.thread_id is not None and _thread_gone(error):
                    log.info("topic of #%s is gone; opening a new one", number)
                    continue
                raise
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def deliver_together(self, items: Sequence[Outgoing]) -> None:
        """Several client texts of one ticket (COPY_TO_TOPIC) in one message, each marked with
        the time it came (a busy staff group)."""
        zone = ZoneInfo(self.policy.staff_timezone)
        parts = []
        for item in items:
            stamp = f"<i>{item.at.astimezone(zone):%H:%M:%S}</i>\n" if item.at else ""
            parts.append(stamp + _message(item).html)
        text = "\n\n".join(parts)
        number = _ticket(items[0])

        async def post(topic: Topic) -> Message:
            reply = None if topic.thread_id else ReplyParameters(
                message_id=topic.card_message_id or 0, allow_sending_without_reply=True)
            return await self._send_text(topic.chat_id, text, thread_id=topic.thread_id,
                                         reply=reply)

        topic, sent = await self._into_topic(number, post)
        for item in items:
            source = _message(item)
            await self._link(number, "in", (source.chat, source.ids),
                             (topic.chat_id, [sent.message_id] * len(source.ids)))

    async def _edit_in_topic(self, item: Outgoing) -> None:
        source = _message(item)
        async with self.uow_factory() as uow:
            links = await uow.links.by_client_message(source.chat, source.ids[0])
            shared = {link.staff_message_id: len(await uow.links.by_staff_message(
                link.staff_chat_id, link.staff_message_id)) for link in links}
            topic = await uow.topics.of_ticket(_ticket(item))
        with self._staff_locale():
            html = "✏️ " + texts.edited_mark() + "\n" + source.html
        for link in links:
            if shared[link.staff_message_id] > 1:
                # Merged with other texts (a busy group): say it below instead of rewriting.
                await self._send_text(
                    link.staff_chat_id, html, thread_id=topic.thread_id if topic else None,
                    reply=ReplyParameters(message_id=link.staff_message_id,
                                          allow_sending_without_reply=True))
            else:
                await self._edit(link.staff_chat_id, link.staff_message_id, source, html)

    async def _topic_notice(self, item: Outgoing) -> None:
        async with self.uow_factory() as uow:
            ticket, client = await self._ticket_and_client(uow, item.ticket_number)
        with self._staff_locale():
            text = texts.topic_notice(_template(item), ticket, client, item.data,
                                      self.policy.staff_timezone, self.clock.now())
        await self._into_topic(ticket.number, lambda topic: self._send_to_topic(topic, text))

    async def _general_notice(self, item: Outgoing) -> None:
        if item.ticket_number is None:  # about no one ticket: the main staff group
            with self._staff_locale():
                text = texts.general_notice_without_ticket(_template(item), item.data)
            await self.pacer.wait(self.staff_chat_id)
            await self.bot.send_message(chat_id=self.staff_chat_id, text=text)
            return
        async with self.uow_factory() as uow:
            ticket, client = await self._ticket_and_client(uow, item.ticket_number)
            names = {user_id: await uow.agents.name_of(user_id)
                     for user_id in self.policy.supervisors}
        for user_id, name in names.items():
            names[user_id] = name or await self._member_name(user_id)
        with self._staff_locale():
            text = texts.general_notice(_template(item), self.policy, ticket, client,
                                        item.data, names)
        chat_id = self._chat_for(ticket)
        await self.pacer.wait(chat_id)
        sent = await self.bot.send_message(chat_id=chat_id, text=text)
        if item.template is Notice.SPECIAL_REQUEST:
            # A pin notifies every member of the group: the whole staff hears of it at once.
            # Best effort: the message went out, a retry of the item would send it twice.
            await self.pacer.wait(chat_id)
            with suppress(TelegramAPIError):
                await self.bot.pin_chat_message(chat_id, sent.message_id,
                                                disable_notification=False)

    async def _member_name(self, user_id: int) -> str | None:
        """A staff member's name as Telegram knows it (a supervisor who never wrote in the
        group); remembered for the life of the process."""
        if user_id not in self._member_names:
            try:
                member = await self.bot.get_chat_member(self.staff_chat_id, user_id)
            except TelegramAPIError:
                return None
            self._member_names[user_id] = member.user.full_name
        return self._member_names[user_id]

    async def _topic_state(self, item: Outgoing) -> None:
        async with self.uow_factory() as uow:
            topic = await self._ensure_topic(uow, _ticket(item))
            await uow.commit()
            if topic.thread_id is None:
                return
            action = item.data["action"]
            if topic.closed == (action == "close"):
                # A resolved ticket reopened ("still a problem") has an open topic: Telegram
                # refuses to reopen it (TOPIC_NOT_MODIFIED), so it is not asked.
                return
            with suppress(TelegramBadRequest):  # changed by hand in Telegram meanwhile
                if action == "close":
                    await self.bot.close_forum_topic(topic.chat_id, topic.thread_id)
                else:
                    await self.bot.reopen_forum_topic(topic.chat_id, topic.thread_id)
            await uow.topics.update(topic.ticket_number, closed=action == "close")
            await uow.commit()

    async def _send_to_topic(self, topic: Topic, text: str) -> None:
        reply = (None if topic.thread_id or topic.card_message_id is None else
                 ReplyParameters(message_id=topic.card_message_id,
                                 allow_sending_without_reply=True))
        await self._send_text(topic.chat_id, text, thread_id=topic.thread_id, reply=reply)

    async def _send_text(self, chat_id: int, text: str, thread_id: int | None = None,
                         reply: ReplyParameters | None = None,
                         reply_markup: Any = None) -> Message:
        """Send a text, cut into several messages when it is longer than Telegram allows;
        the buttons go under the last part. Returns the first message."""
        parts = split_html(text)
        first: Message | None = None
        for index, part in enumerate(parts):
            await self.pacer.wait(chat_id)
            sent = await self.bot.send_message(
                chat_id=chat_id, text=part, message_thread_id=thread_id,
                reply_parameters=reply if index == 0 else None,
                reply_markup=reply_markup if index == len(parts) - 1 else None)
            first = first or sent
        assert first is not None
        return first

    # --- the client side ------------------------------------------------------------------

    async def _copy_to_client(self, item: Outgoing) -> None:
        source = _in_order(_message(item))
        async with self.uow_factory() as uow:
            chat_id = await self._client_chat(uow, item.client_id)
        # A reply to a client's message (or to an earlier answer) answers it in their chat.
        reply_to = next((link.client_message_id for link in
                         await self._links_of_reply(source, staff_side=True)
                         if link.client_chat_id == chat_id), None)
        copied = await self._copy(chat_id, source, header=self._signature(item),
                                  reply_to=reply_to)
        await self._link(_ticket(item), "out", (chat_id, copied), (source.chat, source.ids))
        # The agent sees it arrived (SPEC §11). Best effort: the copy is out, and a retry of
        # the item for a reaction would send it twice. Not a message: no turn at the chat.
        with suppress(TelegramAPIError):
            await self.bot.set_message_reaction(
                chat_id=source.chat, message_id=source.ids[0],
                reaction=[ReactionTypeEmoji(emoji=DELIVERED)])

    async def _edit_at_client(self, item: Outgoing) -> None:
        source = _message(item)
        async with self.uow_factory() as uow:
            links = await uow.links.by_staff_message(source.chat, source.ids[0])
        for link in links:
            if link.direction == "out":
                await self._edit(link.client_chat_id, link.client_message_id, source,
                                 self._signature(item) + source.html)

    def _signature(self, item: Outgoing) -> str:
        """The agent's name above their message to the client, if the desk shows it."""
        agent = item.data.get("agent") if self.policy.show_agent_name else None
        return f"<b>{escape(agent)}</b>:\n" if agent else ""

    async def _client_notice(self, item: Outgoing) -> None:
        async with self.uow_factory() as uow:
            ticket, client = await self._ticket_and_client(uow, item.ticket_number)
            chat_id = await self._client_chat(uow, client.id)
        with self.i18n.context(), self.i18n.use_locale(client.language):
            text = texts.client_notice(_template(item), self.policy, ticket, client,
                                       item.data, self._opens_at(ticket), self.clock.now())
            markup = keyboards_client.for_notice(_template(item), ticket.number)
        sent = await self._send_text(chat_id, text, reply_markup=markup)
        # A notice has no staff twin; linked to itself, a reply to it still picks its ticket.
        await self._link(ticket.number, "notice", (chat_id, [sent.message_id]),
                         (chat_id, [sent.message_id]))

    def _opens_at(self, ticket: Ticket) -> Any:
        calendar = BusinessCalendar.from_spec(self.policy.sla_level(ticket.sla_level).calendar)
        now = self.clock.now()
        return None if calendar.is_open(now) else calendar.next_opening(now)

    # --- shared ---------------------------------------------------------------------------

    async def _copy(self, chat_id: int, source: MessageRef, thread_id: int | None = None,
                    reply_to: int | None = None, header: str = "") -> list[int]:
        """Copy a message (or an album) keeping its formatting; return the new message ids."""
        ids = list(source.ids)
        reply = (ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                 if reply_to else None)
        html = header + source.html
        shape = source.shape
        inline = len(ids) == 1 and (
            (shape is MessageShape.TEXT and len(html) <= TEXT_LIMIT)
            or (shape is MessageShape.CAPTION and len(html) <= CAPTION_LIMIT))
        if header and not inline:  # an album, a sticker, a long text: the name goes first
            await self.pacer.wait(chat_id)
            await self.bot.send_message(chat_id=chat_id, text=header.rstrip(),
                                        message_thread_id=thread_id, reply_parameters=reply)
        await self.pacer.wait(chat_id, len(ids))  # an album: each of its messages counts
        if len(ids) > 1:
            copies: list[MessageId] = await self.bot.copy_messages(
                chat_id=chat_id, from_chat_id=source.chat, message_ids=ids,
                message_thread_id=thread_id)
            return [copy.message_id for copy in copies]
        if header and inline and shape is MessageShape.TEXT:
            sent = await self.bot.send_message(chat_id=chat_id, text=html,
                                               message_thread_id=thread_id,
                                               reply_parameters=reply)
            return [sent.message_id]
        caption = html if header and inline else None
        copy = await self.bot.copy_message(chat_id=chat_id, from_chat_id=source.chat,
                                           message_id=ids[0], message_thread_id=thread_id,
                                           caption=caption, reply_parameters=reply)
        return [copy.message_id]

    async def _edit(self, chat_id: int, message_id: int, source: MessageRef,
                    html: str) -> None:
        await self.pacer.wait(chat_id)
        with suppress(TelegramBadRequest):  # unchanged, or too old to edit: nothing to do
            if source.shape is MessageShape.TEXT:
                await self.bot.edit_message_text(text=html[:TEXT_LIMIT], chat_id=chat_id,
                                                 message_id=message_id)
            elif source.shape is MessageShape.CAPTION:
                await self.bot.edit_message_caption(caption=html[:CAPTION_LIMIT],
                                                    chat_id=chat_id, message_id=message_id)

    async def _link(self, number: int, direction: str, client: tuple[int, Sequence[int]],
                    staff: tuple[int, Sequence[int]]) -> None:
        pairs = [Link(number, direction, (client[0], client_id), (staff[0], staff_id))
                 for client_id, staff_id in zip(client[1], staff[1], strict=False)]
        collected = _LINKS.get()
        if collected is not None:  # the outbox records them with the item's outcome
            collected.extend(pairs)
            return

        async def add() -> None:
            async with self.uow_factory() as uow:
                await record_links(uow, pairs, self.clock.now())
                await uow.commit()

        # The message went out: a database blip now must not make the item go out again.
        await retry_transient(add, f"links of #{number}")

    async def _ticket_and_client(self, uow: SqlUnitOfWork,
                                 number: int | None) -> tuple[Ticket, Client]:
        ticket = None if number is None else await uow.tickets.get(number)
        if ticket is None:
            raise PermanentFailure(f"ticket #{number} does not exist")
        client = await uow.clients.get(ticket.client_id)
        if client is None:
            raise PermanentFailure(f"client of #{number} does not exist")
        return ticket, client

    async def _client_chat(self, uow: SqlUnitOfWork, client_id: int | None) -> int:
        chat_id = None if client_id is None else await uow.clients.telegram_id(client_id)
        if chat_id is None:
            raise NoChat("the client has no Telegram chat (erased or from another channel)")
        return chat_id

    def _staff_locale(self) -> Any:
        return _Both(self.i18n.context(), self.i18n.use_locale(self.policy.staff_language))


@dataclass(frozen=True)
class Link:
    """A client message and its staff twin, to be remembered."""

    ticket: int
    direction: str
    client: tuple[int, int]
    staff: tuple[int, int]


_LINKS: ContextVar[list[Link] | None] = ContextVar("delivery_links", default=None)


@contextmanager
def links_collected() -> Iterator[list[Link]]:
    """While delivering: the message pairs made are collected here instead of written, so
    that the caller records them in the transaction that marks the item as sent."""
    collected: list[Link] = []
    token = _LINKS.set(collected)
    try:
        yield collected
    finally:
        _LINKS.reset(token)


async def record_links(uow: SqlUnitOfWork, links: list[Link], now: datetime) -> None:
    """Write message pairs in the unit of work."""
    await uow.links.add_many([(link.ticket, link.direction, link.client, link.staff)
                              for link in links], now)


def _in_order(source: MessageRef) -> MessageRef:
    """The message with its ids ascending (an album's parts may be recorded in any order;
    copyMessages wants them sorted)."""
    return source.with_ids(tuple(sorted(source.ids)))


def _ticket(item: Outgoing) -> int:
    if item.ticket_number is None:
        raise PermanentFailure(f"a {item.kind} item without a ticket")
    return item.ticket_number


def _message(item: Outgoing) -> MessageRef:
    if item.message is None:
        raise PermanentFailure(f"a {item.kind} item without its message")
    return item.message


def _template(item: Outgoing) -> Notice:
    if item.template is None:
        raise PermanentFailure(f"a {item.kind} item without its template")
    return item.template


class _Both:
    """Enter two context managers as one."""

    def __init__(self, first: Any, second: Any) -> None:
        self.first, self.second = first, second

    def __enter__(self) -> None:
        self.first.__enter__()
        self.second.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.second.__exit__(*exc)
        self.first.__exit__(*exc)
