"""The rows of a report period: the tickets it touches with their status changes, ratings and
deflections (read-only; `domain.reports` does the arithmetic).

The period's *scope* is every ticket that may have anything in [start, end): a ticket that was
not finished during the whole period — opened before the end, and open now (``closed_at``
null) or finished at or after the start — plus the tickets with a due time in the period
(a ticket finished early still has its targets counted there). ``closed_at`` is set by every
close or decline and cleared by a reopen, so a ticket whose ``closed_at`` is before the start
has not changed since: nothing of it falls in the period. Each part is an index range scan
(``ix_tickets_closed_created``, ``ix_tickets_first_response_due``,
``ix_tickets_resolution_due``) and the parts do not overlap, so their rows together are the
scope's tickets; their status changes are then read by lists of ids
(``ix_ticket_events_ticket_id``), and the exact status at the end is replayed from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import CompoundSelect, Dialect, Select, and_, or_, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from domain.reports import RatingFacts, StatusChange, TicketFacts
from storage.models import (
    AgentRow,
    DeflectionRow,
    EventRow,
    RatingRow,
    TicketRow,
    UTCDateTime,
)

IDS_PER_QUERY = 5_000


class _ReadUTC(UTCDateTime):
    """`UTCDateTime` read with one plain function per value: reports read many of them."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        if dialect.name == "sqlite":  # stored as ISO text, UTC: parsed aware in one call
            def from_text(value: str | None) -> datetime | None:
                return None if value is None else datetime.fromisoformat(value + "+00:00")
            return from_text

        def from_naive(value: datetime | None) -> datetime | None:
            return None if value is None else value.replace(tzinfo=UTC)
        return from_naive


def _utc(column: Any) -> Any:
    """A timestamp column read the fast way."""
    return type_coerce(column, _ReadUTC()).label(column.key)


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def scope(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Which tickets the period [start, end) needs (see the module's docstring), in disjoint
    parts: each is one index range scan, and no ticket is in two of them."""
    first_due, resolution_due = TicketRow.first_response_due, TicketRow.resolution_due
    finished_before = TicketRow.closed_at < start  # false for open tickets (null)
    return [
        and_(TicketRow.closed_at.is_(None), TicketRow.created_at < end),
        and_(TicketRow.closed_at >= start, TicketRow.created_at < end),
        and_(_within(first_due, start, end), finished_before),
        and_(_within(resolution_due, start, end), finished_before,
             or_(first_due.is_(None), first_due < start, first_due >= end)),
    ]


def ticket_rows(start: datetime, end: datetime) -> CompoundSelect:
    """The scope's tickets: what the report needs of each. The parts are disjoint, so their
    rows are simply put together: no sort, no join back to the whole table."""
    columns = (TicketRow.id, TicketRow.number, TicketRow.queue, TicketRow.sla_level,
               TicketRow.assignee_id, TicketRow.assignee_name, _utc(TicketRow.created_at),
               _utc(TicketRow.first_response_at), _utc(TicketRow.first_response_due),
               _utc(TicketRow.resolution_due))
    return union_all(*(select(*columns).where(condition) for condition in scope(start, end)))


def status_changes(ticket_ids: Sequence[int]) -> Select:  # type: ignore[type-arg]
    """Every status change of these tickets, by ticket, oldest first."""
    return (select(EventRow.ticket_id, _utc(EventRow.at), EventRow.old, EventRow.new)
            .where(EventRow.kind == "status", EventRow.ticket_id.in_(ticket_ids))
            .order_by(EventRow.ticket_id, EventRow.id))


def rating_rows(start: datetime, end: datetime) -> Select:  # type: ignore[type-arg]
    """The ratings given in [start, end), with the rated ticket's queue."""
    return (select(RatingRow.at, RatingRow.score, RatingRow.agent_id, TicketRow.queue)
            .join(TicketRow, TicketRow.id == RatingRow.ticket_id)
            .where(_within(RatingRow.at, start, end)))


def deflection_rows(start: datetime, end: datetime) -> Select:  # type: ignore[type-arg]
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
        rows = sorted((await connection.execute(ticket_rows(start, end))).all(),
                      key=itemgetter(0))
        # The changes by lists of ids (index lookups), not by a join the planner may turn
        # into a scan of the whole history; lists short enough for any driver.
        changes: dict[int, list[StatusChange]] = {}
        for first in range(0, len(rows), IDS_PER_QUERY):
            chunk = [row[0] for row in rows[first:first + IDS_PER_QUERY]]
            for ticket_id, at, old, new in (
                    await connection.execute(status_changes(chunk))).all():
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
        result = await self.session.execute(deflection_rows(start, end))
        return [at for (at,) in result]

    async def agent_names(self) -> dict[int, str]:
        """The names of the staff members the bot has seen (for agents rated, not assigned)."""
        rows = await self.session.execute(select(AgentRow.user_id, AgentRow.name))
        return {int(user_id): str(name) for user_id, name in rows}
