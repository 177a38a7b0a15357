"""Repositories: rows ↔ domain values. They flush; only the unit of work commits."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from domain.calendar import BusinessCalendar
from domain.clients import Client, Contract, contract_key
from domain.reports import StatusChange, TicketFacts, measure
from domain.text import ticket_number
from domain.tickets import Actor, Status, Ticket, TicketEvent
from domain.timers import TimerState, reconcile
from storage.models import (
    AgentRow,
    ClientRow,
    ContractRow,
    CounterRow,
    DeflectionRow,
    EventRow,
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
_CLIENT_BY_TELEGRAM = select(ClientRow.__table__).where(
    ClientRow.telegram_user_id == bindparam("user_id"))
_CLIENTS_BY_TELEGRAM = select(ClientRow.__table__).where(
    ClientRow.telegram_user_id.in_(bindparam("user_ids", expanding=True)))


class ClientRepository:
    """Clients, found by desk id or by their Telegram account."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # read ahead for a batch of updates, by Telegram account (None: no client yet); all
        # forgotten when a client is written (here, or by a part of the batch: storage.batch)
        self._ahead: dict[int, Row[Any] | None] = {}

    async def read_ahead(self, user_ids: Collection[int]) -> list[int]:
        """Read the clients behind these accounts in one statement, for a batch of updates
        about to ask for them one by one; return their desk ids."""
        connection = await self.session.connection()
        rows = (await connection.execute(_CLIENTS_BY_TELEGRAM,
                                         {"user_ids": list(user_ids)})).all()
        self._ahead = dict.fromkeys(user_ids)
        self._ahead.update((row.telegram_user_id, row) for row in rows)
        return [row.id for row in rows]

    def forget_read_ahead(self) -> None:
        """Drop what was read ahead (a client may have changed): ask the database again."""
        self._ahead.clear()

    async def get(self, client_id: int) -> Client | None:
        """The client with this desk id."""
        row = await self.session.get(ClientRow, client_id)
        return None if row is None else _client(row)

    async def by_telegram(self, user_id: int) -> Client | None:
        """The client behind a Telegram account, if they wrote before."""
        found = await self._row_by_telegram(user_id)
        return None if found is None else _client(found)

    async def telegram_id(self, client_id: int) -> int | None:
        """The Telegram account (= private chat) of a client."""
        row = await self.session.get(ClientRow, client_id)
        return None if row is None else row.telegram_user_id

    async def ensure(self, user_id: int, name: str, username: str | None, language: str,
                     now: datetime) -> Client:
        """The client for a Telegram account, created on first contact, name kept fresh."""
        found = await self._row_by_telegram(user_id)
        if found is None:
            self._ahead.clear()
            row = ClientRow(telegram_user_id=user_id, name=name, username=username,
                            language=language, created_at=now)
            self.session.add(row)
            await self.session.flush()
            return _client(row)
        client = _client(found)
        if (found.name, found.username) != (name, username) and found.forgotten_at is None:
            self._ahead.clear()
            connection = await self.session.connection()
            await connection.execute(update(ClientRow).where(ClientRow.id == found.id)
                                     .values(name=name, username=username))
            client.name, client.username = name, username
        return client

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
        self._ahead.clear()
        row = await self.session.get(ClientRow, client.id)
        if row is None:
            raise LookupError(client.id)
        row.name, row.username, row.language = client.name, client.username, client.language
        row.timezone, row.contract_number = client.timezone, client.contract_number
        row.banned = client.banned
        await self.session.flush()

    async def set_ban_notified(self, client_id: int, notified: bool) -> None:
        """Remember whether a banned client was told."""
        self._ahead.clear()
        await self.session.execute(update(ClientRow).where(ClientRow.id == client_id)
                                   .values(ban_notified=notified))

    async def ban_notified(self, client_id: int) -> bool:
        """Whether a banned client was told already."""
        row = await self.session.get(ClientRow, client_id)
        return bool(row and row.ban_notified)

    async def set_language(self, client_id: int, language: str) -> None:
        """Remember a language the client chose with /lang."""
        self._ahead.clear()
        await self.session.execute(update(ClientRow).where(ClientRow.id == client_id)
                                   .values(language=language, language_chosen=True))

    async def language_chosen(self, client_id: int) -> bool:
        """Whether the client picked their language themselves."""
        row = await self.session.get(ClientRow, client_id)
        return bool(row and row.language_chosen)

    async def _row_by_telegram(self, user_id: int) -> Row[Any] | None:
        """As stored (a plain statement: it runs for every update of a private chat)."""
        if user_id in self._ahead:
            return self._ahead[user_id]
        connection = await self.session.connection()
        result = await connection.execute(_CLIENT_BY_TELEGRAM, {"user_id": user_id})
        return result.one_or_none()


def _client(row: ClientRow | Row[Any]) -> Client:
    return Client(id=row.id, name=row.name, username=row.username, language=row.language,
                  timezone=row.timezone, contract_number=row.contract_number, banned=row.banned)


# keeps a statement's parameters well under SQLite's and asyncpg's limits (32766, 32767)
_CONTRACTS_PER_STATEMENT = 1000


class ContractRepository:
    """The contract registry."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, number_or_key: str) -> Contract | None:
        """A contract by its number or its product's license key, as people type them
        (`contract_key`); the one spelled exactly so first, should two match."""
        typed, key = number_or_key.strip(), contract_key(number_or_key)
        if not key:
            return None
        result = await self.session.execute(
            select(ContractRow)
            .where(or_(ContractRow.number_norm == key, ContractRow.license_norm == key))
            .order_by((ContractRow.number == typed).desc(), ContractRow.number).limit(1))
        row = result.scalars().first()
        return None if row is None else _contract(row)

    async def example(self) -> str | None:
        """A contract number of the registry, to show the format of the numbers (the first)."""
        result = await self.session.execute(
            select(ContractRow.number).order_by(ContractRow.number).limit(1))
        return result.scalar_one_or_none()

    async def upsert_many(self, contracts: list[Contract], now: datetime) -> tuple[int, int]:
        """Insert or update contracts by number; return (added, updated).

        A license key the file gives to another contract moves there (two contracts may even
        swap keys): the keys of the file's contracts, and the file's keys wherever they are, are
        cleared first, so that no statement ever finds one key on two contracts.
        """
        numbers = [contract.number for contract in contracts]
        keys = [contract.license_key for contract in contracts if contract.license_key]
        for column, values in ((ContractRow.number, numbers), (ContractRow.license_key, keys)):
            for first in range(0, len(values), _CONTRACTS_PER_STATEMENT):
                chunk = values[first:first + _CONTRACTS_PER_STATEMENT]
                await self.session.execute(
                    update(ContractRow).where(column.in_(chunk))
                    .values(license_key=None, license_norm=None))
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
            row.number_norm = contract_key(contract.number)
            row.license_norm = contract_key(contract.license_key) if contract.license_key else None
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

    Plain Core statements, most of them built once: a ticket is read as a row of values, kept
    for the unit of work, and saved by updating only the columns that changed (on the relay's
    path the ORM's loading and flushing cost more than the statements themselves).
    """

    def __init__(self, session: AsyncSession,
                 calendars: Callable[[str], BusinessCalendar]) -> None:
        self.session = session
        self.calendars = calendars
        self._ids: dict[int, int] = {}
        self._rows: dict[int, dict[str, Any]] = {}  # as stored, by number (this unit of work)
        # read ahead for a batch of updates: the numbers of each client's tickets that were
        # open then, or became so since (newest first); their values are those of `_rows`
        self._open_of: dict[int, list[int]] = {}

    async def read_ahead(self, client_ids: Collection[int]) -> None:
        """Read the open tickets of these clients in one statement, for a batch of updates
        about to ask for them one by one."""
        self._open_of = {client_id: [] for client_id in client_ids}
        if client_ids:
            for ticket in await self._select(_OPEN_OF_CLIENTS, {"client_ids": list(client_ids)}):
                self._open_of[ticket.client_id].append(ticket.number)

    def forget_read_ahead(self) -> None:
        """Drop what was read ahead and every value kept (tickets were changed by other means
        than this repository, or changes were undone): ask the database again."""
        self._open_of.clear()
        self._rows.clear()
        self._ids.clear()

    def _keep_open_of(self, row: Mapping[str, Any]) -> None:
        """A ticket added or changed: it may be open now for a client read ahead."""
        numbers = self._open_of.get(row["client_id"])
        if numbers is not None and row["number"] not in numbers:
            numbers.append(row["number"])
            numbers.sort(reverse=True)

    async def next_number(self) -> int:
        """The next ticket number; a row lock makes concurrent creation safe, never reused."""
        result = await self.session.execute(
            update(CounterRow).where(CounterRow.name == "ticket")
            .values(value=CounterRow.value + 1).returning(CounterRow.value))
        return int(result.scalar_one())  # the migration seeds the counter

    async def add(self, ticket: Ticket) -> None:
        """Store a new ticket and its first events."""
        values = _ticket_values(ticket)
        values.setdefault("description", "")
        connection = await self.session.connection()
        ticket_id = (await connection.execute(_ADD_TICKET, values)).scalar_one()
        self._ids[ticket.number] = ticket_id
        self._rows[ticket.number] = {**_NEW_TICKET, **values, "id": ticket_id}
        self._keep_open_of(self._rows[ticket.number])
        remeasure = _changes_measures(ticket) or ticket.first_response_at is not None
        await self._store_events(ticket_id, ticket)
        if remeasure:
            await self._store_measures(self._rows[ticket.number])

    async def get(self, number: int) -> Ticket | None:
        """The ticket with this number."""
        tickets = await self._select(_TICKET_BY_NUMBER, {"number": number})
        return tickets[0] if tickets else None

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
            await self.get(ticket.number)
            row = self._rows.get(ticket.number)
        if row is None:
            raise LookupError(ticket.number)
        values = _ticket_values(ticket)
        remeasure = _changes_measures(ticket) or (
            (row["created_at"], row["first_response_at"], row["sla_level"])
            != (ticket.created_at, ticket.first_response_at, ticket.sla_level))
        await self._store_events(row["id"], ticket)
        changed = {name: value for name, value in values.items() if row[name] != value}
        row.update(changed)
        self._keep_open_of(row)
        if remeasure:
            measures = await self._measures(row)
            row.update(measures)
            changed.update(measures)
        await self._update(row["id"], changed)

    async def of_client(self, client_id: int, open_only: bool = False) -> list[Ticket]:
        """A client's tickets, newest first."""
        numbers = self._open_of.get(client_id) if open_only else None
        if numbers is not None:
            rows = (self._rows[number] for number in numbers)
            return [_ticket_of(row) for row in rows
                    if row["client_id"] == client_id and row["status"] not in _FINISHED]
        return await self._select(_OPEN_OF_CLIENT if open_only else _ALL_OF_CLIENT,
                                  {"client_id": client_id})

    async def incidents_of(self, problem_number: int) -> list[Ticket]:
        """The tickets linked to a problem ticket."""
        return await self._select(
            _SELECT_TICKETS.where(_TICKETS.c.problem_number == problem_number)
            .order_by(_TICKETS.c.number))

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
        conditions: list[ColumnElement[bool]] = [func.lower(_TICKETS.c.subject).like(needle),
                      func.lower(_TICKETS.c.customer).like(needle),
                      func.lower(_TICKETS.c.contract_number).like(needle)]
        number = ticket_number(text)
        if number is not None:
            conditions.append(_TICKETS.c.number == number)
        return await self._select(_SELECT_TICKETS.where(or_(*conditions))
                                  .order_by(_TICKETS.c.number.desc()).limit(limit))

    async def history(self, number: int) -> list[TicketEvent]:
        """Every event of a ticket, oldest first."""
        ticket_id = await self.id_of(number)
        result = await self.session.execute(
            select(EventRow).where(EventRow.ticket_id == ticket_id).order_by(EventRow.id))
        return [TicketEvent(row.kind, row.at, Actor(row.actor_kind, row.actor_ref,
                                                    row.actor_name), row.old, row.new, row.detail)
                for row in result.scalars()]

    async def _select(self, query: Any, parameters: Mapping[str, Any] | None = None,
                      ) -> list[Ticket]:
        connection = await self.session.connection()
        result = await connection.execute(query, dict(parameters or {}))
        tickets = []
        for found in result.mappings():
            row = dict(found)
            self._ids[row["number"]] = row["id"]
            self._rows[row["number"]] = row
            tickets.append(_ticket_of(row))
        return tickets

    async def _store_events(self, ticket_id: int, ticket: Ticket) -> None:
        if ticket.events:
            connection = await self.session.connection()
            await connection.execute(_ADD_EVENT, [
                {"ticket_id": ticket_id, "kind": event.kind, "at": event.at,
                 "actor_kind": event.actor.kind, "actor_ref": event.actor.ref,
                 "actor_name": event.actor.name, "old": event.old, "new": event.new,
                 "detail": event.detail} for event in ticket.events])
        ticket.events.clear()

    async def _store_measures(self, row: dict[str, Any]) -> None:
        measures = await self._measures(row)
        row.update(measures)
        await self._update(row["id"], measures)

    async def _update(self, ticket_id: int, columns: Mapping[str, Any]) -> None:
        """Write these columns of the ticket (nothing when there are none)."""
        if columns:
            connection = await self.session.connection()
            await connection.execute(_UPDATE_TICKET, {**columns, "ticket_id": ticket_id})

    async def _measures(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The ticket's measures, taken again from its whole status history."""
        connection = await self.session.connection()
        result = await connection.execute(_STATUS_HISTORY, {"ticket_id": row["id"]})
        facts = TicketFacts(row["number"], row["queue"], row["sla_level"], row["assignee_id"],
                            row["assignee_name"], row["created_at"], row["first_response_at"],
                            changes=tuple(StatusChange(at, old, new or "")
                                          for at, old, new in result))
        return measured_columns(measure(facts, self.calendars(row["sla_level"])))


_TICKETS = TicketRow.__table__
_SELECT_TICKETS = select(_TICKETS)
_TICKET_BY_NUMBER = _SELECT_TICKETS.where(_TICKETS.c.number == bindparam("number"))
_ALL_OF_CLIENT = (_SELECT_TICKETS.where(_TICKETS.c.client_id == bindparam("client_id"))
                  .order_by(_TICKETS.c.number.desc()))
_FINISHED = (Status.CLOSED.value, Status.DECLINED.value)
_OPEN_OF_CLIENT = (_SELECT_TICKETS.where(
    _TICKETS.c.client_id == bindparam("client_id"), _TICKETS.c.status.not_in(_FINISHED))
    .order_by(_TICKETS.c.number.desc()))
_OPEN_OF_CLIENTS = (_SELECT_TICKETS.where(
    _TICKETS.c.client_id.in_(bindparam("client_ids", expanding=True)),
    _TICKETS.c.status.not_in(_FINISHED))
    .order_by(_TICKETS.c.number.desc()))
_ADD_TICKET = insert(_TICKETS).returning(_TICKETS.c.id)
# The columns it sets are the parameters' names (compiled once per set of columns).
_UPDATE_TICKET = update(_TICKETS).where(_TICKETS.c.id == bindparam("ticket_id"))
_ADD_EVENT = insert(EventRow.__table__)
_STATUS_HISTORY = (select(EventRow.at, EventRow.old, EventRow.new)
                   .where(EventRow.ticket_id == bindparam("ticket_id"), EventRow.kind == "status")
                   .order_by(EventRow.id))
# A new row as stored, before the ticket's own values (only the measures stay empty).
_NEW_TICKET: dict[str, Any] = {column.name: None for column in _TICKETS.columns}


def _ticket_of(row: Mapping[str, Any]) -> Ticket:
    return Ticket(**{name: row[name] for name in _TICKET_FIELDS},
                  status=Status(row["status"]),
                  paused_total=timedelta(seconds=row["paused_seconds"]),
                  paused_business=timedelta(seconds=row["paused_business_seconds"]))


def _ticket_values(ticket: Ticket) -> dict[str, Any]:
    """The columns a ticket sets, as they are to be stored."""
    values = {name: getattr(ticket, name) for name in _TICKET_FIELDS}
    values["status"] = ticket.status.value
    values["paused_seconds"] = int(ticket.paused_total.total_seconds())
    values["paused_business_seconds"] = int(ticket.paused_business.total_seconds())
    opened = [event for event in ticket.events if event.kind == "opened" and event.detail]
    if opened:
        values["description"] = opened[0].detail or ""
    return values


def _changes_measures(ticket: Ticket) -> bool:
    """Whether the ticket's new events may change its measures (`measure` reads the
    registration, the first response and the status changes)."""
    return any(event.kind in ("status", "first_response") for event in ticket.events)


@dataclass(frozen=True)
class DueTimer:
    """A timer whose time has come."""

    id: int
    kind: str
    ticket_number: int


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

    async def due(self, now: datetime, limit: int, skip: Collection[int] = ()) -> list[DueTimer]:
        """The timers due at `now` (but those of `skip`), oldest first: a range of the index
        ix_timers_pending, no scan."""
        query = (select(TimerRow.id, TimerRow.kind, TicketRow.number)
                 .join(TicketRow, TicketRow.id == TimerRow.ticket_id)
                 .where(TimerRow.done_at.is_(None), TimerRow.due_at <= now)
                 .order_by(TimerRow.due_at).limit(limit))
        if skip:
            query = query.where(TimerRow.id.not_in(skip))
        return [DueTimer(*row) for row in await self.session.execute(query)]

    async def mark_fired(self, timer_ids: Collection[int], now: datetime) -> set[int]:
        """Mark these timers done, those still due only (a change since they were read may
        have moved one, or fired it); the ids of those marked."""
        result = await self.session.execute(
            update(TimerRow).where(TimerRow.id.in_(timer_ids), TimerRow.done_at.is_(None),
                                   TimerRow.due_at <= now)
            .values(done_at=now).returning(TimerRow.id))
        return set(result.scalars())


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
