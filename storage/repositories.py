"""Repositories: rows ↔ domain values. They flush; only the unit of work commits."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from domain.calendar import BusinessCalendar
from domain.clients import Client, Contract
from domain.outgoing import Outgoing
from domain.reports import StatusChange, TicketFacts, measure
from domain.tickets import Actor, Status, Ticket, TicketEvent
from domain.timers import TimerState, reconcile
from storage.models import (
    AgentRow,
    ClientRow,
    ContractRow,
    CounterRow,
    DeflectionRow,
    EventRow,
    OutboxRow,
    RatingRow,
    TicketRow,
    TimerRow,
)
from storage.report_queries import measured_columns

_TICKET_FIELDS = (
    "number", "client_id", "subject", "request_type", "queue", "priority", "sla_level",
    "contract_number", "customer", "special", "assignee_id", "assignee_name", "created_at",
    "first_response_due", "resolution_due", "first_response_at", "resolved_at", "closed_at",
    "paused_since", "last_client_message_at", "reopened_from", "bug_ref", "problem_number",
    "credentials_seen", "supervisor_asked_at",
)


# Statements of the relay's hot path, built once (building one costs more than running it).
_PUT_OUTGOING = insert(OutboxRow)
_CLIENT_BY_TELEGRAM = select(ClientRow).where(ClientRow.telegram_user_id == bindparam("user_id"))


class ClientRepository:
    """Clients, found by desk id or by their Telegram account."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, client_id: int) -> Client | None:
        """The client with this desk id."""
        row = await self.session.get(ClientRow, client_id)
        return None if row is None else _client(row)

    async def by_telegram(self, user_id: int) -> Client | None:
        """The client behind a Telegram account, if they wrote before."""
        row = await self._row_by_telegram(user_id)
        return None if row is None else _client(row)

    async def telegram_id(self, client_id: int) -> int | None:
        """The Telegram account (= private chat) of a client."""
        row = await self.session.get(ClientRow, client_id)
        return None if row is None else row.telegram_user_id

    async def ensure(self, user_id: int, name: str, username: str | None, language: str,
                     now: datetime) -> Client:
        """The client for a Telegram account, created on first contact, name kept fresh."""
        row = await self._row_by_telegram(user_id)
        if row is None:
            row = ClientRow(telegram_user_id=user_id, name=name, username=username,
                            language=language, created_at=now)
            self.session.add(row)
            await self.session.flush()
        elif (row.name, row.username) != (name, username) and row.forgotten_at is None:
            row.name, row.username = name, username
        return _client(row)

    async def offline(self, name: str, contract_number: str | None, now: datetime) -> Client:
        """A client known only from a phone call or an e-mail (no Telegram chat)."""
        row = ClientRow(telegram_user_id=None, name=name, username=None, language="en",
                        contract_number=contract_number, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return _client(row)

    async def by_username(self, username: str) -> Client | None:
        """A client by their Telegram @username."""
        result = await self.session.execute(select(ClientRow).where(
            func.lower(ClientRow.username) == username.lstrip("@").lower()))
        row = result.scalars().first()
        return None if row is None else _client(row)

    async def save(self, client: Client) -> None:
        """Store the client's changed fields."""
        row = await self.session.get(ClientRow, client.id)
        if row is None:
            raise LookupError(client.id)
        row.name, row.username, row.language = client.name, client.username, client.language
        row.timezone, row.contract_number = client.timezone, client.contract_number
        row.banned = client.banned
        await self.session.flush()

    async def set_ban_notified(self, client_id: int, notified: bool) -> None:
        """Remember whether a banned client was told."""
        await self.session.execute(update(ClientRow).where(ClientRow.id == client_id)
                                   .values(ban_notified=notified))

    async def ban_notified(self, client_id: int) -> bool:
        """Whether a banned client was told already."""
        row = await self.session.get(ClientRow, client_id)
        return bool(row and row.ban_notified)

    async def set_language(self, client_id: int, language: str) -> None:
        """Remember a language the client chose with /lang."""
        await self.session.execute(update(ClientRow).where(ClientRow.id == client_id)
                                   .values(language=language, language_chosen=True))

    async def language_chosen(self, client_id: int) -> bool:
        """Whether the client picked their language themselves."""
        row = await self.session.get(ClientRow, client_id)
        return bool(row and row.language_chosen)

    async def _row_by_telegram(self, user_id: int) -> ClientRow | None:
        result = await self.session.execute(_CLIENT_BY_TELEGRAM, {"user_id": user_id})
        return result.scalar_one_or_none()


def _client(row: ClientRow) -> Client:
    return Client(id=row.id, name=row.name, username=row.username, language=row.language,
                  timezone=row.timezone, contract_number=row.contract_number, banned=row.banned)


class ContractRepository:
    """The contract registry."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, number_or_key: str) -> Contract | None:
        """A contract by its number or its product's license key."""
        result = await self.session.execute(select(ContractRow).where(or_(
            ContractRow.number == number_or_key, ContractRow.license_key == number_or_key)))
        row = result.scalars().first()
        return None if row is None else _contract(row)

    async def upsert_many(self, contracts: list[Contract], now: datetime) -> tuple[int, int]:
        """Insert or update contracts by number; return (added, updated)."""
        added = updated = 0
        for contract in contracts:
            row = await self.session.get(ContractRow, contract.number)
            if row is None:
                row = ContractRow(number=contract.number, imported_at=now)
                self.session.add(row)
                added += 1
            else:
                updated += 1
            row.customer, row.sla_level = contract.customer, contract.sla_level
            row.valid_until, row.special_requests = contract.valid_until, contract.special_requests
            row.license_key, row.imported_at = contract.license_key, now
        # license keys may move between contracts within one file: clear them first
        await self.session.flush()
        return added, updated

    async def all(self) -> list[Contract]:
        """Every contract, by number."""
        result = await self.session.execute(select(ContractRow).order_by(ContractRow.number))
        return [_contract(row) for row in result.scalars()]


def _contract(row: ContractRow) -> Contract:
    return Contract(number=row.number, customer=row.customer, sla_level=row.sla_level,
                    valid_until=row.valid_until, special_requests=row.special_requests,
                    license_key=row.license_key)


class TicketRepository:
    """Tickets and their history, and the measures the reports sum up.

    `calendars` gives the business calendar of an SLA level (`domain.reports.calendars_of`):
    a ticket's measures are taken with it whenever a status change or the first response is
    stored.
    """

    def __init__(self, session: AsyncSession,
                 calendars: Callable[[str], BusinessCalendar]) -> None:
        self.session = session
        self.calendars = calendars
        self._ids: dict[int, int] = {}
        self._rows: dict[int, TicketRow] = {}  # loaded in this unit of work, by number

    async def next_number(self) -> int:
        """The next ticket number; a row lock makes concurrent creation safe, never reused."""
        result = await self.session.execute(
            update(CounterRow).where(CounterRow.name == "ticket")
            .values(value=CounterRow.value + 1).returning(CounterRow.value))
        return int(result.scalar_one())  # the migration seeds the counter

    async def add(self, ticket: Ticket) -> None:
        """Store a new ticket and its first events."""
        row = TicketRow(status=ticket.status.value, description="")
        self._fill(row, ticket)
        self.session.add(row)
        await self.session.flush()
        self._ids[ticket.number] = row.id
        remeasure = _changes_measures(ticket) or ticket.first_response_at is not None
        await self._store_events(row.id, ticket)
        if remeasure:
            await self._measure(row)

    async def get(self, number: int) -> Ticket | None:
        """The ticket with this number."""
        result = await self.session.execute(select(TicketRow).where(TicketRow.number == number))
        row = result.scalar_one_or_none()
        return None if row is None else self._ticket(row)

    async def id_of(self, number: int) -> int | None:
        """The storage id of a ticket (for the link tables)."""
        if number not in self._ids:
            result = await self.session.execute(
                select(TicketRow.id).where(TicketRow.number == number))
            found = result.scalar_one_or_none()
            if found is None:
                return None
            self._ids[number] = found
        return self._ids[number]

    async def save(self, ticket: Ticket) -> None:
        """Store a changed ticket and its new events."""
        row = self._rows.get(ticket.number)
        if row is None:
            row = await self.session.get(TicketRow, await self.id_of(ticket.number))
        if row is None:
            raise LookupError(ticket.number)
        remeasure = _changes_measures(ticket) or (
            (row.created_at, row.first_response_at, row.sla_level)
            != (ticket.created_at, ticket.first_response_at, ticket.sla_level))
        self._fill(row, ticket)
        await self._store_events(row.id, ticket)
        if remeasure:
            await self._measure(row)
        await self.session.flush()

    async def of_client(self, client_id: int, open_only: bool = False) -> list[Ticket]:
        """A client's tickets, newest first."""
        query = select(TicketRow).where(TicketRow.client_id == client_id)
        if open_only:
            query = query.where(TicketRow.status.not_in(
                [Status.CLOSED.value, Status.DECLINED.value]))
        result = await self.session.execute(query.order_by(TicketRow.number.desc()))
        return [self._ticket(row) for row in result.scalars()]

    async def incidents_of(self, problem_number: int) -> list[Ticket]:
        """The tickets linked to a problem ticket."""
        result = await self.session.execute(
            select(TicketRow).where(TicketRow.problem_number == problem_number)
            .order_by(TicketRow.number))
        return [self._ticket(row) for row in result.scalars()]

    async def bump_counter(self, name: str) -> int:
        """Add one to a named counter (created at 1) and return it."""
        result = await self.session.execute(
            update(CounterRow).where(CounterRow.name == name)
            .values(value=CounterRow.value + 1).returning(CounterRow.value))
        value = result.scalar_one_or_none()
        if value is not None:
            return int(value)
        self.session.add(CounterRow(name=name, value=1))
        await self.session.flush()
        return 1

    async def search(self, text: str, limit: int = 10) -> list[Ticket]:
        """Tickets whose number, subject, customer or contract matches, newest first."""
        needle = f"%{text.strip().lower()}%"
        conditions: list[ColumnElement[bool]] = [func.lower(TicketRow.subject).like(needle),
                      func.lower(TicketRow.customer).like(needle),
                      func.lower(TicketRow.contract_number).like(needle)]
        digits = text.strip().lstrip("#")
        if digits.isdigit():
            conditions.append(TicketRow.number == int(digits))
        result = await self.session.execute(
            select(TicketRow).where(or_(*conditions)).order_by(TicketRow.number.desc())
            .limit(limit))
        return [self._ticket(row) for row in result.scalars()]

    async def history(self, number: int) -> list[TicketEvent]:
        """Every event of a ticket, oldest first."""
        ticket_id = await self.id_of(number)
        result = await self.session.execute(
            select(EventRow).where(EventRow.ticket_id == ticket_id).order_by(EventRow.id))
        return [TicketEvent(row.kind, row.at, Actor(row.actor_kind, row.actor_ref,
                                                    row.actor_name), row.old, row.new, row.detail)
                for row in result.scalars()]

    def _ticket(self, row: TicketRow) -> Ticket:
        self._ids[row.number] = row.id
        self._rows[row.number] = row  # the session keeps rows only while someone holds them
        return Ticket(**{name: getattr(row, name) for name in _TICKET_FIELDS},
                        status=Status(row.status),
                        paused_total=timedelta(seconds=row.paused_seconds),
                        paused_business=timedelta(seconds=row.paused_business_seconds))

    def _fill(self, row: TicketRow, ticket: Ticket) -> None:
        for name in _TICKET_FIELDS:
            setattr(row, name, getattr(ticket, name))
        row.status = ticket.status.value
        row.paused_seconds = int(ticket.paused_total.total_seconds())
        row.paused_business_seconds = int(ticket.paused_business.total_seconds())
        opened = [event for event in ticket.events if event.kind == "opened" and event.detail]
        if opened:
            row.description = opened[0].detail or ""

    async def _store_events(self, ticket_id: int, ticket: Ticket) -> None:
        for event in ticket.events:
            self.session.add(EventRow(
                ticket_id=ticket_id, kind=event.kind, at=event.at, actor_kind=event.actor.kind,
                actor_ref=event.actor.ref, actor_name=event.actor.name, old=event.old,
                new=event.new, detail=event.detail))
        ticket.events.clear()
        await self.session.flush()

    async def _measure(self, row: TicketRow) -> None:
        """Take the ticket's measures again from its whole status history."""
        result = await self.session.execute(
            select(EventRow.at, EventRow.old, EventRow.new)
            .where(EventRow.ticket_id == row.id, EventRow.kind == "status")
            .order_by(EventRow.id))
        facts = TicketFacts(row.number, row.queue, row.sla_level, row.assignee_id,
                            row.assignee_name, row.created_at, row.first_response_at,
                            changes=tuple(StatusChange(at, old, new or "")
                                          for at, old, new in result))
        for name, value in measured_columns(measure(facts, self.calendars(row.sla_level))
                                            ).items():
            setattr(row, name, value)


def _changes_measures(ticket: Ticket) -> bool:
    """Whether the ticket's new events may change its measures (`measure` reads the
    registration, the first response and the status changes)."""
    return any(event.kind in ("status", "first_response") for event in ticket.events)


class OutboxRepository:
    """The outbox: deliveries recorded with the change, taken by the sender in order."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, item: Outgoing, at: datetime) -> None:
        """Record a delivery to be made."""
        payload = {"kind": item.kind.value, "ticket": item.ticket_number,
                   "client": item.client_id, "template": item.template, "data": dict(item.data),
                   "at": at.isoformat()}
        connection = await self.session.connection()  # plain Core: no ORM bookkeeping
        await connection.execute(_PUT_OUTGOING, {
            "lane": item.lane, "kind": item.kind.value,
            "payload": json.dumps(payload, ensure_ascii=False), "state": "pending",
            "attempts": 0, "not_before": at, "created_at": at})


class TimerRepository:
    """Due times of tickets, one per (ticket, kind)."""

    def __init__(self, session: AsyncSession, tickets: TicketRepository) -> None:
        self.session = session
        self.tickets = tickets

    async def set_all(self, ticket_number: int, due: Mapping[str, datetime | None],
                      now: datetime) -> None:
        """Set, move or (with None) cancel the ticket's timers, as `timers.reconcile` decides:
        a fired timer is remembered, and fires again only for a due time still ahead."""
        ticket_id = await self.tickets.id_of(ticket_number)
        if ticket_id is None:
            raise LookupError(ticket_number)
        result = await self.session.execute(select(TimerRow).where(
            TimerRow.ticket_id == ticket_id))
        rows = {row.kind: row for row in result.scalars()}
        stored = {kind: TimerState(row.due_at, row.done_at) for kind, row in rows.items()}
        for kind, state in reconcile(stored, due, now).items():
            row = rows.get(kind)
            if state is None:
                if row is not None:
                    await self.session.delete(row)
            elif row is None:
                self.session.add(TimerRow(ticket_id=ticket_id, kind=kind, due_at=state.due_at,
                                          done_at=state.done_at))
            elif (row.due_at, row.done_at) != (state.due_at, state.done_at):
                row.due_at, row.done_at = state.due_at, state.done_at
        await self.session.flush()


class DeflectionRepository:
    """Intakes ended by a known answer (for the reports)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, client_id: int, faq_url: str, at: datetime) -> None:
        """Count one deflected request."""
        self.session.add(DeflectionRow(client_id=client_id, faq_url=faq_url, at=at))
        await self.session.flush()


class RatingRepository:
    """Satisfaction ratings."""

    def __init__(self, session: AsyncSession, tickets: TicketRepository) -> None:
        self.session = session
        self.tickets = tickets

    async def put(self, ticket_number: int, score: int, comment: str | None,
                  agent_id: int | None, at: datetime) -> None:
        """Store (or replace) the rating of a ticket."""
        ticket_id = await self.tickets.id_of(ticket_number)
        row = await self.session.get(RatingRow, ticket_id)
        if row is None:
            row = RatingRow(ticket_id=ticket_id)
            self.session.add(row)
        row.score, row.comment, row.agent_id, row.at = score, comment, agent_id, at
        await self.session.flush()


class AgentRepository:
    """Staff members the bot has seen."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, user_id: int, name: str, username: str | None, now: datetime) -> None:
        """Remember (or refresh) an agent."""
        row = await self.session.get(AgentRow, user_id)
        if row is None:
            self.session.add(AgentRow(user_id=user_id, name=name, username=username,
                                      last_seen=now))
        elif (row.name, row.username) != (name, username) or (
                now - row.last_seen > timedelta(hours=1)):
            row.name, row.username, row.last_seen = name, username, now
        await self.session.flush()

    async def name_of(self, user_id: int) -> str | None:
        """An agent's name."""
        row = await self.session.get(AgentRow, user_id)
        return None if row is None else row.name

    async def by_username(self, username: str) -> tuple[int, str] | None:
        """An agent's id and name by @username."""
        result = await self.session.execute(select(AgentRow).where(
            func.lower(AgentRow.username) == username.lstrip("@").lower()))
        row = result.scalars().first()
        return None if row is None else (row.user_id, row.name)
