"""What the handlers may ask of a unit of work: the domain's ports plus the lookups that tie
Telegram chats and messages to tickets. `storage.uow.SqlUnitOfWork` provides all of it; the
handlers depend on this description, not on storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.clients import Client
from domain.ports import AgentDirectory, ClientRepository, TicketRepository, UnitOfWork
from domain.privacy import Erasure
from domain.reports import ReportSource
from domain.sla import NextDeadline
from domain.tickets import Ticket


class StaffMembership(Protocol):
    """Who may act in the staff groups, told of changes as Telegram reports them."""

    def changed(self, chat_id: int, user_id: int, status: str) -> bool: ...


class MessageLinkView(Protocol):
    """A client message and its staff twin."""

    @property
    def ticket_number(self) -> int: ...
    @property
    def direction(self) -> str: ...


class MessageLinks(Protocol):
    """Pairs of relayed messages, for replies and edits."""

    async def by_client_message(self, chat_id: int,
                                message_id: int) -> Sequence[MessageLinkView]: ...
    async def by_staff_message(self, chat_id: int,
                               message_id: int) -> Sequence[MessageLinkView]: ...


class TopicLookup(Protocol):
    """Which ticket a staff topic (or card) belongs to."""

    async def ticket_at(self, chat_id: int, thread_id: int | None) -> int | None: ...
    async def ticket_of_card(self, chat_id: int, message_id: int) -> int | None: ...


class ClientDirectory(ClientRepository, Protocol):
    """Clients as the handlers find and change them."""

    async def set_language(self, client_id: int, language: str) -> None: ...
    async def by_username(self, username: str) -> Client | None: ...
    async def offline(self, name: str, contract_number: str | None,
                      now: datetime) -> Client: ...


class TicketLookup(TicketRepository, Protocol):
    """Tickets as the handlers read them."""

    async def search(self, text: str, limit: int = 10) -> list[Ticket]: ...


class AgentLookup(AgentDirectory, Protocol):
    """Staff members the bot has seen."""

    async def by_username(self, username: str) -> tuple[int, str] | None: ...


class Deflections(Protocol):
    """Intakes ended by a known answer."""

    async def add(self, client_id: int, faq_url: str, at: datetime) -> None: ...


class SlaLookup(Protocol):
    """What breaches next."""

    async def next_deadlines(self, limit: int, queues: Sequence[str] | None = None,
                             other_queues: Sequence[str] = ()) -> list[NextDeadline]: ...


class ClientEraser(Protocol):
    """Forgetting a client's personal data."""

    async def preview(self, client_id: int) -> Erasure | None: ...
    async def forget(self, client_id: int, now: datetime) -> Erasure | None: ...


class HandlerUnitOfWork(UnitOfWork, Protocol):
    """The unit of work a handler gets (`uow` in the handler's arguments)."""

    clients: ClientDirectory
    tickets: TicketLookup
    topics: TopicLookup
    links: MessageLinks
    agents: AgentLookup
    deflections: Deflections
    sla: SlaLookup
    reports: ReportSource
    privacy: ClientEraser
