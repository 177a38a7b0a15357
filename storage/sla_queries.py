"""What breaches next: the running SLA deadlines of open tickets, nearest first (`/sla`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.sla import NextDeadline
from domain.tickets import Status
from domain.timers import clock_runs
from storage.models import ClientRow, TicketRow

RUNNING = tuple(status.value for status in Status if clock_runs(status))


class SlaQueries:
    """Read-only questions about the SLA clock of open tickets."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_deadlines(self, limit: int, queues: Sequence[str] | None = None,
                             other_queues: Sequence[str] = ()) -> list[NextDeadline]:
        """Up to `limit` open tickets by their next deadline: of `queues` (None: any) and not
        of `other_queues`."""
        answered = TicketRow.first_response_at.is_not(None)
        which = case((answered, literal("resolution")), else_=literal("first_response"))
        due = case((answered, TicketRow.resolution_due), else_=TicketRow.first_response_due)
        query = (select(TicketRow.number, TicketRow.subject,
                        func.coalesce(TicketRow.customer, ClientRow.name), which, due)
                 .join(ClientRow, ClientRow.id == TicketRow.client_id)
                 .where(TicketRow.status.in_(RUNNING), due.is_not(None))
                 .order_by(due, TicketRow.number).limit(limit))
        if queues is not None:
            query = query.where(TicketRow.queue.in_(queues))
        if other_queues:
            query = query.where(TicketRow.queue.not_in(other_queues))
        result = await self.session.execute(query)
        return [NextDeadline(number, subject, who or "", kind, moment)
                for number, subject, who, kind, moment in result.all()]
