"""Erasing a client's personal data and message texts (`domain.privacy` says what and why)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.privacy import ERASED_SUBJECT, Erasure
from domain.tickets import Status
from storage.models import (
    ClientRow,
    EventRow,
    FsmRow,
    MessageLinkRow,
    OutboxRow,
    RatingRow,
    TicketRow,
    TopicRow,
)

FINISHED = (Status.CLOSED.value, Status.DECLINED.value)


class ClientEraser:
    """Finds a client and erases what identifies them, keeping the anonymous figures."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_telegram(self, user_id: int) -> int | None:
        """The desk id of the client behind a Telegram account."""
        return (await self.session.execute(
            select(ClientRow.id).where(ClientRow.telegram_user_id == user_id))
        ).scalar_one_or_none()

    async def by_ticket(self, number: int) -> int | None:
        """The desk id of the client of a ticket."""
        return (await self.session.execute(
            select(TicketRow.client_id).where(TicketRow.number == number))
        ).scalar_one_or_none()

    async def preview(self, client_id: int) -> Erasure | None:
        """What forgetting the client would touch (None if there is no such client)."""
        client = await self.session.get(ClientRow, client_id)
        if client is None:
            return None
        rows = (await self.session.execute(
            select(TicketRow.number, TicketRow.status, TopicRow.ticket_id)
            .outerjoin(TopicRow, TopicRow.ticket_id == TicketRow.id)
            .where(TicketRow.client_id == client_id).order_by(TicketRow.number))).all()
        return Erasure(
            client_id=client_id,
            tickets=tuple(number for number, _status, _topic in rows),
            open_tickets=tuple(number for number, status, _topic in rows
                               if status not in FINISHED),
            with_topics=tuple(number for number, _status, topic in rows if topic is not None),
            forgotten_before=client.forgotten_at)

    async def forget(self, client_id: int, now: datetime) -> Erasure | None:
        """Erase the client's personal data and texts; say what was erased."""
        found = await self.preview(client_id)
        if found is None:
            return None
        client = await self.session.get(ClientRow, client_id)
        assert client is not None
        telegram_id = client.telegram_user_id
        client.name, client.username, client.telegram_user_id = "", None, None
        client.contract_number, client.timezone = None, None
        client.forgotten_at = client.forgotten_at or now
        tickets = select(TicketRow.id).where(TicketRow.client_id == client_id)
        texts = await self._count(update(TicketRow).where(
            TicketRow.client_id == client_id,
            or_(TicketRow.subject != ERASED_SUBJECT, TicketRow.description != ""))
            .values(subject=ERASED_SUBJECT, description=""))
        events = await self._count(update(EventRow).where(
            EventRow.ticket_id.in_(tickets),
            or_(EventRow.detail.is_not(None),
                (EventRow.actor_kind == "client") & (EventRow.actor_name != "")))
            .values(detail=None, actor_name=case((EventRow.actor_kind == "client", ""),
                                                 else_=EventRow.actor_name)))
        comments = await self._count(update(RatingRow).where(
            RatingRow.ticket_id.in_(tickets), RatingRow.comment.is_not(None))
            .values(comment=None))
        links = await self._count(delete(MessageLinkRow).where(
            MessageLinkRow.ticket_id.in_(tickets)))
        states = 0
        if telegram_id is not None:
            # the private chat's state: key fsm:<chat>:<user>:<destiny>, chat = user there
            states = await self._count(delete(FsmRow).where(
                FsmRow.key.like(f"%:{telegram_id}:{telegram_id}:%")))
        deliveries = await self._redact_outbox(client_id)
        await self.session.flush()
        return Erasure(client_id, found.tickets, found.open_tickets, found.with_topics,
                       ticket_texts=texts, event_texts=events, comments=comments,
                       links=links, states=states, deliveries=deliveries,
                       forgotten_before=found.forgotten_before)

    async def _count(self, statement: object) -> int:
        result = await self.session.execute(statement)  # type: ignore[call-overload]
        return int(result.rowcount or 0)

    async def _redact_outbox(self, client_id: int) -> int:
        """Drop the data (message texts, comments) of the client's delivered outbox rows."""
        rows = (await self.session.execute(
            select(OutboxRow.id, OutboxRow.payload).where(
                OutboxRow.state != "pending",
                OutboxRow.payload.like(f'%"client": {client_id},%')))).all()
        redacted = 0
        for row_id, payload in rows:
            data = json.loads(payload)
            if data.get("client") != client_id or not data.get("data"):
                continue
            data["data"] = {}
            await self.session.execute(update(OutboxRow).where(OutboxRow.id == row_id)
                                       .values(payload=json.dumps(data, ensure_ascii=False)))
            redacted += 1
        return redacted
