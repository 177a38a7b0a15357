"""A unit of work in memory, implementing `domain.ports`: the desk's rules tested without a
database (cosmicpython's fake repositories)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.clients import Client, Contract
from domain.outgoing import Outgoing
from domain.tickets import Ticket, TicketEvent
from domain.timers import TimerState, reconcile


class FakeClients:
    """Clients by desk id."""

    def __init__(self) -> None:
        self.rows: dict[int, Client] = {}
        self.ban_notified: dict[int, bool] = {}

    async def get(self, client_id: int) -> Client | None:
        """The client, as stored (a copy: changes count only once saved)."""
        found = self.rows.get(client_id)
        return None if found is None else copy.copy(found)

    async def save(self, client: Client) -> None:
        """Store the client."""
        self.rows[client.id] = copy.copy(client)

    async def set_ban_notified(self, client_id: int, notified: bool) -> None:
        """Remember whether a banned client was told."""
        self.ban_notified[client_id] = notified


class FakeContracts:
    """The contract registry."""

    def __init__(self, *contracts: Contract) -> None:
        self.rows = {contract.number: contract for contract in contracts}

    async def find(self, number_or_key: str) -> Contract | None:
        """A contract by number or license key."""
        return self.rows.get(number_or_key) or next(
            (row for row in self.rows.values() if row.license_key == number_or_key), None)


class FakeTickets:
    """Tickets by number, with every event ever saved (`events`)."""

    def __init__(self) -> None:
        self.rows: dict[int, Ticket] = {}
        self.events: dict[int, list[TicketEvent]] = {}
        self.counters: dict[str, int] = {}

    async def next_number(self) -> int:
        """The next ticket number."""
        return await self.bump_counter("ticket")

    async def add(self, ticket: Ticket) -> None:
        """Store a new ticket and its first events."""
        if ticket.number in self.rows:
            raise ValueError(ticket.number)
        await self.save(ticket)

    async def get(self, number: int) -> Ticket | None:
        """The ticket, as stored (a copy without events)."""
        found = self.rows.get(number)
        return None if found is None else copy.deepcopy(found)

    async def save(self, ticket: Ticket) -> None:
        """Store the ticket; its new events join its history."""
        self.events.setdefault(ticket.number, []).extend(ticket.events)
        ticket.events.clear()
        self.rows[ticket.number] = copy.deepcopy(ticket)

    async def history(self, number: int) -> list[TicketEvent]:
        """Every event of a ticket, oldest first."""
        return list(self.events.get(number, []))

    async def of_client(self, client_id: int, open_only: bool = False) -> list[Ticket]:
        """A client's tickets, newest first."""
        return [copy.deepcopy(ticket) for number, ticket in sorted(self.rows.items(),
                                                                   reverse=True)
                if ticket.client_id == client_id and (ticket.status.is_open or not open_only)]

    async def incidents_of(self, problem_number: int) -> list[Ticket]:
        """The tickets linked to a problem ticket."""
        return [copy.deepcopy(ticket) for ticket in self.rows.values()
                if ticket.problem_number == problem_number]

    async def bump_counter(self, name: str) -> int:
        """Add one to a named counter and return it."""
        self.counters[name] = self.counters.get(name, 0) + 1
        return self.counters[name]


@dataclass
class FakeOutbox:
    """What the desk asked to deliver, in order."""

    items: list[Outgoing] = field(default_factory=list)

    async def put(self, item: Outgoing, at: datetime) -> None:
        """Record a delivery."""
        del at
        self.items.append(item)


class FakeTimers:
    """Due times per ticket and kind, kept as `domain.timers.reconcile` decides."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, TimerState]] = {}

    async def set_all(self, ticket_number: int, due: Mapping[str, datetime | None],
                      now: datetime) -> None:
        """Set, move or cancel the ticket's timers."""
        kept = reconcile(self.rows.get(ticket_number, {}), due, now)
        self.rows[ticket_number] = {kind: state for kind, state in kept.items()
                                    if state is not None}

    def waiting(self, ticket_number: int) -> dict[str, datetime]:
        """The ticket's timers that have not fired, by kind."""
        return {kind: state.due_at for kind, state in self.rows.get(ticket_number, {}).items()
                if state.done_at is None}


@dataclass
class FakeRatings:
    """Ratings by ticket number."""

    rows: dict[int, tuple[int, str | None, int | None]] = field(default_factory=dict)

    async def put(self, ticket_number: int, score: int, comment: str | None,
                  agent_id: int | None, at: datetime) -> None:
        """Store (or replace) a rating."""
        del at
        self.rows[ticket_number] = (score, comment, agent_id)


@dataclass
class FakeAgents:
    """Staff names by user id."""

    names: dict[int, str] = field(default_factory=dict)

    async def name_of(self, user_id: int) -> str | None:
        """An agent's name."""
        return self.names.get(user_id)


class FakeUnitOfWork:
    """Every repository of `domain.ports.UnitOfWork`, in memory; counts its commits."""

    def __init__(self, *contracts: Contract) -> None:
        self.clients = FakeClients()
        self.contracts = FakeContracts(*contracts)
        self.tickets = FakeTickets()
        self.outbox = FakeOutbox()
        self.timers = FakeTimers()
        self.ratings = FakeRatings()
        self.agents = FakeAgents()
        self.committed = 0

    async def commit(self) -> None:
        """Count the commit (the fake keeps everything at once)."""
        self.committed += 1

    async def rollback(self) -> None:
        """Nothing to undo in a test that does not fail half-way."""
