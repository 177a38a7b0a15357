"""The ports the rules reach storage through; `storage/` implements them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from domain.clients import Client, Contract
from domain.outgoing import Outgoing
from domain.tickets import Ticket, TicketEvent


class ClientRepository(Protocol):
    """Clients by their desk id."""

    async def get(self, client_id: int) -> Client | None: ...
    async def save(self, client: Client) -> None: ...
    async def set_ban_notified(self, client_id: int, notified: bool) -> None: ...


class ContractRepository(Protocol):
    """The operator's contract registry."""

    async def find(self, number_or_key: str) -> Contract | None: ...

    async def example(self) -> str | None: ...  # a number, to show what numbers look like


class TicketRepository(Protocol):
    """Tickets by number; `save` also stores the ticket's new events."""

    async def next_number(self) -> int: ...
    async def add(self, ticket: Ticket) -> None: ...
    async def get(self, number: int) -> Ticket | None: ...
    async def save(self, ticket: Ticket) -> None: ...
    async def of_client(self, client_id: int, open_only: bool = False) -> list[Ticket]: ...
    async def incidents_of(self, problem_number: int) -> list[Ticket]: ...
    async def history(self, number: int) -> list[TicketEvent]: ...
    async def bump_counter(self, name: str) -> int: ...


class OutboxPort(Protocol):
    """Where deliveries are recorded, in the same transaction as the change."""

    async def put(self, item: Outgoing, at: datetime) -> None: ...


class TimerPort(Protocol):
    """Due times the scheduler acts on once."""

    async def set_all(self, ticket_number: int, due: Mapping[str, datetime | None],
                      now: datetime) -> None: ...


class RatingRepository(Protocol):
    """Satisfaction ratings, one per ticket (a new one replaces the old)."""

    async def put(self, ticket_number: int, score: int, comment: str | None,
                  agent_id: int | None, at: datetime) -> None: ...


class AgentDirectory(Protocol):
    """Names of the staff members."""

    async def name_of(self, user_id: int) -> str | None: ...


class UnitOfWork(Protocol):
    """One transaction over every repository; only it commits."""

    clients: ClientRepository
    contracts: ContractRepository
    tickets: TicketRepository
    outbox: OutboxPort
    timers: TimerPort
    ratings: RatingRepository
    agents: AgentDirectory

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
