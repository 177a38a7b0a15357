"""The rows of a report period: the tickets it touches with their status changes, ratings and
deflections (read-only; `domain.reports` does the arithmetic).

The period's *scope* is every ticket that may have anything in [start, end): a ticket that was
not finished during the whole period — opened before the end, and open now (``closed_at``
null) or finished at or after the start — plus the tickets with a due time in the period
(a ticket finished early still has its targets counted there). ``closed_at`` is set by every
close or decline and cleared by a reopen, so a ticket whose ``closed_at`` is before the start
has not changed since: nothing of it falls in the period. Each part is an index range scan
(``ix_tickets_closed_created``, ``ix_tickets_first_response_due``,
``ix_tickets_resolution_due``); the tickets and their status changes are then read by id
(``ix_ticket_events_ticket_id``), and the exact status at the end is replayed from the changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from domain.reports import RatingFacts, StatusChange, TicketFacts
from storage.models import DeflectionRow, EventRow, RatingRow, TicketRow

IDS_PER_QUERY = 5_000


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def scope(start: datetime, end: datetime) -> CompoundSelect:
    """The ids of the tickets the period [start, end) needs (see the module's docstring)."""
    ticket = TicketRow.id
    return union(
        select(ticket).where(TicketRow.closed_at.is_(None), TicketRow.created_at < end),
        select(ticket).where(TicketRow.closed_at >= start, TicketRow.created_at < end),
        select(ticket).where(_within(TicketRow.first_response_due, start, end)),
        select(ticket).where(_within(TicketRow.resolution_due, start, end)),
    )


def ticket_rows(start: datetime, end: datetime) -> Select[Any]:
    """The scope's tickets: what the report needs of each, by id."""
    ids = scope(start, end).subquery()
    return (select(TicketRow.id, TicketRow.number, TicketRow.queue, TicketRow.sla_level,
                   TicketRow.assignee_id, TicketRow.assignee_name, TicketRow.created_at,
                   TicketRow.first_response_at, TicketRow.first_response_due,
                   TicketRow.resolution_due)
            .where(TicketRow.id.in_(select(ids.c.id))).order_by(TicketRow.id))


def status_changes(ticket_ids: Sequence[int]) -> Select[tuple[int, datetime, str, str]]:
    """Every status change of these tickets, by ticket, oldest first."""
    return (select(EventRow.ticket_id, EventRow.at, EventRow.old, EventRow.new)
            .where(EventRow.kind == "status", EventRow.ticket_id.in_(ticket_ids))
            .order_by(EventRow.ticket_id, EventRow.id))


def rating_rows(start: datetime, end: datetime) -> Select[tuple[datetime, int, int, str]]:
    """The ratings given in [start, end), with the rated ticket's queue."""
    return (select(RatingRow.at, RatingRow.score, RatingRow.agent_id, TicketRow.queue)
            .join(TicketRow, TicketRow.id == RatingRow.ticket_id)
            .where(_within(RatingRow.at, start, end)))


def deflection_rows(start: datetime, end: datetime) -> Select[tuple[datetime]]:
    """When intakes in [start, end) ended with a known answer."""
    return select(DeflectionRow.at).where(_within(DeflectionRow.at, start, end))


class ReportQueries:
    """Reads the rows of a report period (`domain.reports.ReportSource`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tickets(self, start: datetime, end: datetime) -> list[TicketFacts]:
        """Every ticket the period needs, with all its status changes, oldest first."""
        # Core rows through the session's connection: no ORM bookkeeping for many rows.
        connection = await self.session.connection()
        rows = (await connection.execute(ticket_rows(start, end))).all()
        # The changes by lists of ids (index lookups), not by a join the planner may turn
        # into a scan of the whole history; lists short enough for any driver.
        changes: dict[int, list[StatusChange]] = {}
        for first in range(0, len(rows), IDS_PER_QUERY):
            chunk = [row[0] for row in rows[first:first + IDS_PER_QUERY]]
            for ticket_id, at, old, new in (await connection.execute(status_changes(chunk))):
                changes.setdefault(ticket_id, []).append(StatusChange(at, old, new or ""))
        return [TicketFacts(number, queue, sla_level, assignee_id, assignee_name, created_at,
                            first_response_at, first_response_due, resolution_due,
                            tuple(changes.get(ticket_id, ())))
                for (ticket_id, number, queue, sla_level, assignee_id, assignee_name,
                     created_at, first_response_at, first_response_due, resolution_due) in rows]

    async def ratings(self, start: datetime, end: datetime) -> list[RatingFacts]:
        """The ratings given in [start, end), with the rated ticket's queue."""
        rows = await self.session.execute(rating_rows(start, end))
        return [RatingFacts(at, score, agent_id, queue) for at, score, agent_id, queue in rows]

    async def deflections(self, start: datetime, end: datetime) -> list[datetime]:
        """When intakes in [start, end) ended with a known answer."""
        return list((await self.session.execute(deflection_rows(start, end))).scalars())
