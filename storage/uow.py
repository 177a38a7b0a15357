"""The unit of work: one session, every repository, one commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.calendar import BusinessCalendar
from domain.policy import default_policy
from domain.reports import calendars_of
from storage.leases import LeaseRepository
from storage.outbox import OutboxRepository
from storage.privacy import ClientEraser
from storage.report_queries import ReportQueries
from storage.repositories import (
    AgentRepository,
    ClientRepository,
    ContractRepository,
    DeflectionRepository,
    RatingRepository,
    TicketRepository,
    TimerRepository,
)
from storage.sla_queries import SlaQueries
from storage.telegram_links import MessageLinkRepository, TopicRepository, UpdateLog

Calendars = Callable[[str], BusinessCalendar]  # the business calendar of an SLA level


class SqlUnitOfWork:
    """Repositories over one transaction; leaving without commit rolls back."""

    def __init__(self, session: AsyncSession, calendars: Calendars,
                 report_sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.session = session
        self.report_sessions = report_sessions
        self.report_session: AsyncSession | None = None  # opened when the reports read
        self.clients = ClientRepository(session)
        self.contracts = ContractRepository(session)
        self.tickets = TicketRepository(session, calendars)
        self.outbox = OutboxRepository(session)
        self.timers = TimerRepository(session, self.tickets)
        self.topics = TopicRepository(session)
        self.links = MessageLinkRepository(session)
        self.updates = UpdateLog(session)
        self.deflections = DeflectionRepository(session)
        self.ratings = RatingRepository(session, self.tickets)
        self.agents = AgentRepository(session)
        self.leases = LeaseRepository(session)
        self.sla = SlaQueries(session)
        self.privacy = ClientEraser(session)

    @property
    def reports(self) -> ReportQueries:
        """The report queries: long reads, on a connection of their own where the database
        has one for them."""
        if self.report_sessions is None:
            return ReportQueries(self.session)
        if self.report_session is None:
            self.report_session = self.report_sessions()
        return ReportQueries(self.report_session)

    async def commit(self) -> None:
        """Make the changes durable, the deliveries put with them included."""
        await self.outbox.insert_new()
        await self.session.commit()

    async def rollback(self) -> None:
        """Drop the changes."""
        await self.session.rollback()


class UnitOfWorkFactory:
    """Opens units of work: `async with factory() as uow: …; await uow.commit()`.

    `calendars` (`domain.reports.calendars_of(policy)`) measure the tickets for the reports;
    without them, the calendars of the default policy do. `report_sessions`, if given, read
    the reports (a SQLite file: a read-only connection in a thread, so that a year's report
    holds up neither the event loop nor the writer).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 calendars: Calendars | None = None,
                 report_sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.sessions = sessions
        self.calendars = calendars or calendars_of(default_policy())
        self.report_sessions = report_sessions

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[SqlUnitOfWork]:
        uow = SqlUnitOfWork(self.sessions(), self.calendars, self.report_sessions)
        try:
            yield uow
        finally:  # what was not committed is rolled back
            await uow.session.close()
            if uow.report_session is not None:
                await uow.report_session.close()  # only read: nothing to keep
