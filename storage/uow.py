"""The unit of work: one session, every repository, one commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from domain.calendar import BusinessCalendar
from domain.policy import default_policy
from domain.reports import calendars_of
from storage.fsm import READ_AHEAD
from storage.leases import LeaseRepository
from storage.models import ClientRow, TicketRow
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
from storage.transient import HeldWritesFailed, is_transient

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
        self._part: _Part | None = None  # the part of a batch under way (see `part`)
        self._watching = False  # whether `_before_statement` listens to the connection
        self._writing_held = False  # `_before_statement` is writing them (not again)

    @property
    def reports(self) -> ReportQueries:
        """The report queries: long reads, on a connection of their own where the database
        has one for them."""
        if self.report_sessions is None:
            return ReportQueries(self.session)
        if self.report_session is None:
            self.report_session = self.report_sessions()
        return ReportQueries(self.report_session)

    async def read_ahead(self, telegram_users: Collection[int]) -> None:
        """For a batch of updates from these accounts: read their clients and open tickets in
        two statements, not two per update, and hold the deliveries put until the commit.

        What was read ahead stays true for the batch: the repositories keep it up to date with
        what they write, and any other write to clients or tickets (through the ORM: the
        erasure, a ban) makes it forgotten, as does a part undone (see `part`).
        """
        sync = self.session.sync_session
        event.listen(sync, "do_orm_execute", self._orm_statement)
        event.listen(sync, "after_flush", self._flushed)
        await self.tickets.read_ahead(await self.clients.read_ahead(telegram_users))
        self.outbox.held.start()
        self.tickets.held.start()

    @asynccontextmanager
    async def part(self) -> AsyncIterator[None]:
        """A part of the work (one update of a batch) that fails alone: on an error its
        changes are undone and those of the other parts are kept.

        The savepoint that undoes them is taken only before the part's first statement
        (`_before_statement`): a part that only changes tickets' columns (a client's message
        relayed) makes no statement at all — its changes are held and written with the
        others', and forgotten if it fails.
        """
        outbox_mark = self.outbox.held.mark()
        session = self.session
        await session.flush()  # what earlier parts left pending is theirs, before the savepoint
        connection = await session.connection()
        if not self._watching:
            event.listen(connection.sync_connection, "before_execute", self._before_statement)
            self._watching = True
        part = self._part = _Part(self.tickets.held.mark())
        try:
            yield
            await session.flush()
        except BaseException:
            self._part = None
            self.tickets.held.drop_after(part.mark)
            self.outbox.held.drop_after(outbox_mark)
            self.forget_read_ahead()
            if part.saved:
                await connection.exec_driver_sql("ROLLBACK TO SAVEPOINT update_part")
                await connection.exec_driver_sql("RELEASE SAVEPOINT update_part")
            # The rows of this session may hold what was undone: they are read again.
            session.expunge_all()
            raise
        self._part = None
        if part.saved:
            await connection.exec_driver_sql("RELEASE SAVEPOINT update_part")

    def _before_statement(self, connection: Connection, statement: Any, multiparams: Any,
                          params: Any, options: Any) -> tuple[Any, Any, Any]:
        """Before any statement of a batch's connection: the savepoint of the part, if it
        has none yet, then the changes held, so that the statement sees them."""
        if not self._writing_held:
            self._writing_held = True
            try:
                part = self._part
                if part is not None and not part.saved:
                    # A plain savepoint, one name for all: the ORM's own (begin_nested) costs
                    # more than the update it guards, and on PostgreSQL a name per part is a
                    # statement per part. Earlier parts' changes go before it, this one's after.
                    self._write_held(connection, part.mark)
                    connection.exec_driver_sql("SAVEPOINT update_part")
                    part.saved, part.mark = True, 0
                self._write_held(connection)
            except Exception as error:
                if is_transient(error):
                    raise
                raise HeldWritesFailed() from error
            finally:
                self._writing_held = False
        return statement, multiparams, params

    def _write_held(self, connection: Connection, upto: int | None = None) -> None:
        for statement, parameters in self.tickets.held_writes(upto):
            connection.execute(statement, parameters)

    def forget_read_ahead(self, tables: Collection[str] = ("clients", "tickets", "fsm")) -> None:
        """Drop what was read ahead for these tables: it is read again when asked for."""
        if "clients" in tables:
            self.clients.forget_read_ahead()
        if "tickets" in tables:
            self.tickets.forget_read_ahead()
        if "fsm" in tables:
            self.session.info.pop(READ_AHEAD, None)

    def _orm_statement(self, state: ORMExecuteState) -> None:
        table = getattr(state.statement, "table", None)
        if (state.is_insert or state.is_update or state.is_delete) and table is not None:
            self.forget_read_ahead(_READ_AHEAD_OF.get(table.name, ()))

    def _flushed(self, session: Session, _context: Any) -> None:
        written = {type(row) for rows in (session.new, session.dirty, session.deleted)
                   for row in rows}
        self.forget_read_ahead([table for model, table in _READ_AHEAD_BY_MODEL
                                if model in written])

    async def commit(self) -> None:
        """Make the changes durable (the changes and the deliveries held, first)."""
        if self.tickets.held.mark():
            connection = await self.session.connection()
            await connection.run_sync(self._write_held)
        await self.outbox.flush()
        await self.session.commit()

    async def rollback(self) -> None:
        """Drop the changes."""
        await self.session.rollback()


@dataclass
class _Part:
    mark: int  # where the tickets' changes held by this part begin
    saved: bool = False  # whether the savepoint that undoes it was taken


_READ_AHEAD_OF = {"clients": ("clients",), "tickets": ("tickets",), "fsm_states": ("fsm",)}
# A state written through the storage drops its own key (storage.fsm): the others stay.
_READ_AHEAD_BY_MODEL = ((ClientRow, "clients"), (TicketRow, "tickets"))


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

    def __call__(self) -> _Scope:
        return _Scope(self.sessions(), self.calendars, self.report_sessions)


class _Scope:
    def __init__(self, session: AsyncSession, calendars: Calendars,
                 report_sessions: async_sessionmaker[AsyncSession] | None) -> None:
        self.session = session
        self.uow = SqlUnitOfWork(session, calendars, report_sessions)

    async def __aenter__(self) -> SqlUnitOfWork:
        return self.uow

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is not None:
            await self.session.rollback()
        await self.session.close()
        if self.uow.report_session is not None:
            await self.uow.report_session.close()  # only read: nothing to keep
