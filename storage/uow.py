"""The unit of work: one session, every repository, one commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.privacy import ClientEraser
from storage.report_queries import ReportQueries
from storage.repositories import (
    AgentRepository,
    ClientRepository,
    ContractRepository,
    DeflectionRepository,
    OutboxRepository,
    RatingRepository,
    TicketRepository,
    TimerRepository,
)
from storage.sla_queries import SlaQueries
from storage.telegram_links import MessageLinkRepository, TopicRepository, UpdateLog


class SqlUnitOfWork:
    """Repositories over one transaction; leaving without commit rolls back."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.clients = ClientRepository(session)
        self.contracts = ContractRepository(session)
        self.tickets = TicketRepository(session)
        self.outbox = OutboxRepository(session)
        self.timers = TimerRepository(session, self.tickets)
        self.topics = TopicRepository(session)
        self.links = MessageLinkRepository(session)
        self.updates = UpdateLog(session)
        self.deflections = DeflectionRepository(session)
        self.ratings = RatingRepository(session, self.tickets)
        self.agents = AgentRepository(session)
        self.sla = SlaQueries(session)
        self.reports = ReportQueries(session)
        self.privacy = ClientEraser(session)

    async def commit(self) -> None:
        """Make the changes durable."""
        await self.session.commit()

    async def rollback(self) -> None:
        """Drop the changes."""
        await self.session.rollback()


class UnitOfWorkFactory:
    """Opens units of work: `async with factory() as uow: …; await uow.commit()`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    def __call__(self) -> _Scope:
        return _Scope(self.sessions())


class _Scope:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def __aenter__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session)

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is not None:
            await self.session.rollback()
        await self.session.close()
