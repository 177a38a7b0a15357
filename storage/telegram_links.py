"""Where tickets live in Telegram: topics, cards and message pairs (bot-side storage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MessageLinkRow, ProcessedUpdateRow, TicketRow, TopicRow

# Statements of the relay's hot path, built once (building one costs more than running it).
_LINK_COLUMNS = ("direction", "client_chat_id", "client_message_id", "staff_chat_id",
                 "staff_message_id", "created_at")
# A pair by its ticket's number: the ticket's id is looked up by the statement itself (a pair
# whose ticket is gone is not kept).
_ADD_LINK = insert(MessageLinkRow).from_select(
    ["ticket_id", *_LINK_COLUMNS],
    select(TicketRow.id, *(bindparam(name, type_=MessageLinkRow.__table__.c[name].type)
                           for name in _LINK_COLUMNS))
    .where(TicketRow.number == bindparam("number")))
_RECORD_UPDATE = insert(ProcessedUpdateRow)
# Built once per dialect (one built per batch was compiled anew every time, ~3 ms): run with
# many rows, it is still one statement ("insertmanyvalues").
_RECORD_NEW = {dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(ProcessedUpdateRow)
               .on_conflict_do_nothing().returning(ProcessedUpdateRow.update_id)
               for dialect in (postgresql, sqlite)}
# Built once: every message into a topic asks for it (the fields of `Topic`, in order).
_TOPIC_OF_TICKET = (select(TopicRow.chat_id, TopicRow.thread_id, TopicRow.card_message_id,
                           TopicRow.title, TopicRow.closed)
                    .join(TicketRow, TicketRow.id == TopicRow.ticket_id)
                    .where(TicketRow.number == bindparam("number")))


@dataclass(frozen=True)
class Topic:
    """A ticket's place in a staff group."""

    ticket_number: int
    chat_id: int
    thread_id: int | None
    card_message_id: int | None
    title: str | None
    closed: bool


@dataclass(frozen=True)
class MessageLink:
    """A client message and its staff twin."""

    ticket_number: int
    direction: str
    client_chat_id: int
    client_message_id: int
    staff_chat_id: int
    staff_message_id: int


class TopicRepository:
    """Ticket ↔ topic."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_ticket(self, number: int) -> Topic | None:
        """The ticket's topic, if it has one."""
        found = (await self.session.execute(_TOPIC_OF_TICKET, {"number": number})).first()
        return None if found is None else Topic(number, *found)

    async def ticket_at(self, chat_id: int, thread_id: int | None) -> int | None:
        """The ticket number whose topic this is."""
        if thread_id is None:
            return None
        result = await self.session.execute(
            select(TicketRow.number).join(TopicRow, TicketRow.id == TopicRow.ticket_id)
            .where(TopicRow.chat_id == chat_id, TopicRow.thread_id == thread_id))
        return result.scalars().first()

    async def ticket_of_card(self, chat_id: int, message_id: int) -> int | None:
        """The ticket whose card is this message (groups without topics)."""
        result = await self.session.execute(
            select(TicketRow.number).join(TopicRow, TicketRow.id == TopicRow.ticket_id)
            .where(TopicRow.chat_id == chat_id, TopicRow.card_message_id == message_id))
        return result.scalars().first()

    async def store(self, number: int, chat_id: int, thread_id: int | None,
                    card_message_id: int | None, title: str | None) -> None:
        """Create or replace the ticket's topic record."""
        ticket_id = await self._ticket_id(number)
        row = await self.session.get(TopicRow, ticket_id)
        if row is None:
            row = TopicRow(ticket_id=ticket_id)
            self.session.add(row)
        row.chat_id, row.thread_id = chat_id, thread_id
        row.card_message_id, row.title, row.closed = card_message_id, title, False
        await self.session.flush()

    async def update(self, number: int, **values: object) -> None:
        """Change some fields of the ticket's topic record."""
        row = await self.session.get(TopicRow, await self._ticket_id(number))
        if row is None:
            raise LookupError(number)
        for name, value in values.items():
            setattr(row, name, value)
        await self.session.flush()

    async def _ticket_id(self, number: int) -> int:
        result = await self.session.execute(select(TicketRow.id).where(TicketRow.number == number))
        return result.scalar_one()


class MessageLinkRepository:
    """Pairs of messages, for replies and edits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, number: int, direction: str, client: tuple[int, int],
                  staff: tuple[int, int], now: datetime) -> None:
        """Remember that these two messages are one."""
        await self.add_many([(number, direction, client, staff)], now)

    async def add_many(self, links: list[tuple[int, str, tuple[int, int], tuple[int, int]]],
                       now: datetime) -> None:
        """Remember several pairs (ticket number, direction, client and staff message) at
        once: one statement for them all."""
        if not links:
            return
        rows = [{"number": number, "direction": direction,
                 "client_chat_id": client[0], "client_message_id": client[1],
                 "staff_chat_id": staff[0], "staff_message_id": staff[1], "created_at": now}
                for number, direction, client, staff in links]
        connection = await self.session.connection()  # plain Core: no ORM bookkeeping
        await connection.execute(_ADD_LINK, rows)

    async def by_client_message(self, chat_id: int, message_id: int) -> list[MessageLink]:
        """The staff twins of a client-side message."""
        return await self._find(MessageLinkRow.client_chat_id == chat_id,
                                MessageLinkRow.client_message_id == message_id)

    async def by_staff_message(self, chat_id: int, message_id: int) -> list[MessageLink]:
        """The client twins of a staff-side message."""
        return await self._find(MessageLinkRow.staff_chat_id == chat_id,
                                MessageLinkRow.staff_message_id == message_id)

    async def _find(self, *conditions: object) -> list[MessageLink]:
        result = await self.session.execute(
            select(MessageLinkRow, TicketRow.number)
            .join(TicketRow, TicketRow.id == MessageLinkRow.ticket_id)
            .where(*conditions).order_by(MessageLinkRow.id))  # type: ignore[arg-type]
        return [MessageLink(number, row.direction, row.client_chat_id, row.client_message_id,
                            row.staff_chat_id, row.staff_message_id) for row, number in result]


class UpdateLog:
    """Update ids already processed (Telegram may deliver one twice)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, update_id: int) -> bool:
        """Whether this update was processed already."""
        return await self.session.get(ProcessedUpdateRow, update_id) is not None

    async def record(self, update_id: int, now: datetime) -> bool:
        """Mark an update processed (in the same transaction as its effects); False if it
        was already (the transaction is then good only for a rollback)."""
        connection = await self.session.connection()  # plain Core: no ORM bookkeeping
        try:
            await connection.execute(_RECORD_UPDATE, {"update_id": update_id, "at": now})
        except IntegrityError:
            return False
        return True

    async def record_new(self, update_ids: list[int], now: datetime) -> set[int]:
        """Mark a batch of updates processed in one statement; return those that were not
        (the others were processed before, or are being so by another process, whose
        transaction this one then waits for)."""
        connection = await self.session.connection()
        result = await connection.execute(
            _RECORD_NEW[connection.dialect.name],
            [{"update_id": update_id, "at": now} for update_id in update_ids])
        return set(result.scalars())

    async def forget_before(self, moment: datetime) -> None:
        """Drop old entries; Telegram re-sends only recent updates."""
        await self.session.execute(
            delete(ProcessedUpdateRow).where(ProcessedUpdateRow.at < moment))
