"""The figures a monitoring scrape reads from the database: outbox depth and age, open tickets
by status, how late the scheduler is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.tickets import Status
from storage.models import OutboxRow, TicketRow, TimerRow

OPEN_STATUSES = tuple(status.value for status in Status if status.is_open)


@dataclass(frozen=True)
class DeskFigures:
    """The database's side of /metrics."""

    outbox_pending: int
    outbox_oldest_pending: timedelta  # zero when nothing waits
    open_tickets: dict[str, int]  # every open status, zero included
    scheduler_lag: timedelta  # how overdue the most overdue timer not yet fired is


async def desk_figures(session: AsyncSession, now: datetime) -> DeskFigures:
    """Read the figures: three indexed aggregates and a count by status."""
    pending, oldest = (await session.execute(
        select(func.count(), func.min(OutboxRow.created_at))
        .where(OutboxRow.state == "pending"))).one()
    by_status = dict.fromkeys(OPEN_STATUSES, 0)
    rows = await session.execute(
        select(TicketRow.status, func.count().label("tickets"))
        .where(TicketRow.status.in_(OPEN_STATUSES)).group_by(TicketRow.status))
    by_status.update({row.status: row.tickets for row in rows})
    overdue = await session.scalar(
        select(func.min(TimerRow.due_at)).where(TimerRow.done_at.is_(None),
                                                TimerRow.due_at <= now))
    return DeskFigures(
        outbox_pending=pending,
        outbox_oldest_pending=_age(now, oldest),
        open_tickets=by_status,
        scheduler_lag=_age(now, overdue))


def _age(now: datetime, since: datetime | None) -> timedelta:
    return timedelta(0) if since is None else max(now - since, timedelta(0))


async def database_answers(session: AsyncSession) -> None:
    """Ask the database the smallest question (raises whatever its driver raises)."""
    await session.execute(text("SELECT 1"))
