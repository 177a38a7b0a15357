"""The ticket and its lifecycle: a pure state machine that returns events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import IllegalTransition


class Status(StrEnum):
    """Where a ticket stands (SPEC §3)."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_CLIENT = "waiting_client"
    WAITING_THIRD_PARTY = "waiting_third_party"
    SECOND_LINE = "second_line"
    RESOLVED = "resolved"
    CLOSED = "closed"
    DECLINED = "declined"
    REOPENED = "reopened"

    @property
    def is_open(self) -> bool:
        """Whether the client can still write into this ticket without reopening it."""
        return self not in (Status.CLOSED, Status.DECLINED)

    @property
    def stops_clock(self) -> bool:
        """Whether the SLA clock is stopped in this status: waiting for the client or a third
        party (the desk cannot act), or done — a reopened ticket's clock goes on from where it
        stopped (SPEC §3)."""
        return self in (Status.WAITING_CLIENT, Status.WAITING_THIRD_PARTY, Status.RESOLVED,
                        Status.CLOSED, Status.DECLINED)


_WORKING = {Status.IN_PROGRESS, Status.WAITING_CLIENT, Status.WAITING_THIRD_PARTY,
            Status.SECOND_LINE, Status.RESOLVED, Status.CLOSED, Status.DECLINED}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(_WORKING),
    Status.IN_PROGRESS: frozenset(_WORKING - {Status.IN_PROGRESS}),
    Status.WAITING_CLIENT: frozenset(_WORKING - {Status.WAITING_CLIENT}),
    Status.WAITING_THIRD_PARTY: frozenset(_WORKING - {Status.WAITING_THIRD_PARTY}),
    Status.SECOND_LINE: frozenset(_WORKING - {Status.SECOND_LINE}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.DECLINED: frozenset({Status.REOPENED}),
    Status.REOPENED: frozenset(_WORKING),
}


def can_move(current: Status, wanted: Status) -> bool:
    """Whether the lifecycle allows `current → wanted`."""
    return wanted in TRANSITIONS[current]


@dataclass(frozen=True)
class Actor:
    """Who did something: a client, an agent (by their staff user id) or the desk itself."""

    kind: str  # "client" | "agent" | "system"
    ref: int | None = None
    name: str = ""

    @classmethod
    def system(cls) -> Actor:
        """The desk's own automatic actions (timers, auto-close)."""
        return cls("system", None, "system")


@dataclass(frozen=True)
class TicketEvent:
    """One change in a ticket's history: who, when, what, from → to."""

    kind: str
    at: datetime
    actor: Actor
    old: str | None = None
    new: str | None = None
    detail: str | None = None


@dataclass
class Ticket:
    """A registered request of a client."""

    number: int
    client_id: int
    subject: str
    request_type: str
    queue: str
    priority: str
    sla_level: str
    created_at: datetime
    contract_number: str | None = None
    customer: str | None = None
    special: bool = False
    status: Status = Status.NEW
    assignee_id: int | None = None
    assignee_name: str | None = None
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    paused_since: datetime | None = None
    paused_total: timedelta = timedelta(0)
    paused_business: timedelta = timedelta(0)
    last_client_message_at: datetime | None = None  # the last word the desk waited for
    reopened_from: int | None = None
    bug_ref: str | None = None
    problem_number: int | None = None
    credentials_seen: bool = False
    supervisor_asked_at: datetime | None = None
    events: list[TicketEvent] = field(default_factory=list)

    def move(self, wanted: Status, actor: Actor, at: datetime,
             detail: str | None = None) -> TicketEvent:
        """Change status if the lifecycle allows it (else IllegalTransition); return the event."""
        if not can_move(self.status, wanted):
            raise IllegalTransition(self.status.value, wanted.value)
        old = self.status
        self.status = wanted
        if wanted.stops_clock and self.paused_since is None:
            self.paused_since = at
        elif not wanted.stops_clock and self.paused_since is not None:
            self.paused_total += at - self.paused_since
            self.paused_since = None
        if wanted is Status.RESOLVED:
            self.resolved_at = at
        if wanted in (Status.CLOSED, Status.DECLINED):
            self.closed_at = at
        if wanted is Status.REOPENED:
            self.closed_at = None
            self.resolved_at = None
        return self._record("status", at, actor, old.value, wanted.value, detail)

    def open(self, client: Actor, at: datetime, description: str = "") -> TicketEvent:
        """Record the ticket's registration as its first event."""
        return self._record("opened", at, client, None, self.status.value, description or None)

    def take(self, agent: Actor, at: datetime) -> list[TicketEvent]:
        """An agent takes the ticket: assigns it and starts the work."""
        events = []
        if self.assignee_id != agent.ref:
            events.append(self._record("assigned", at, agent, self.assignee_name, agent.name))
            self.assignee_id, self.assignee_name = agent.ref, agent.name
        if self.status in (Status.NEW, Status.REOPENED):
            events.append(self.move(Status.IN_PROGRESS, agent, at))
        return events

    def agent_replied(self, agent: Actor, at: datetime) -> list[TicketEvent]:
        """An agent's message reached the client: first response, and work starts; the first
        agent who answers an unassigned ticket has it (SPEC §11)."""
        events = []
        if self.assignee_id is None and agent.ref is not None:
            events.append(self._record("assigned", at, agent, None, agent.name))
            self.assignee_id, self.assignee_name = agent.ref, agent.name
        if self.first_response_at is None:
            self.first_response_at = at
            events.append(self._record("first_response", at, agent))
        if self.status in (Status.NEW, Status.REOPENED):
            events.append(self.move(Status.IN_PROGRESS, agent, at))
        return events

    def client_wrote(self, client: Actor, at: datetime) -> list[TicketEvent]:
        """A client's follow-up: waiting for the client ends; to a resolved ticket, it moves
        the auto-close on. At other times it changes nothing of the ticket (a relayed message
        stores nothing but its copy)."""
        if self.status in (Status.WAITING_CLIENT, Status.RESOLVED):
            self.last_client_message_at = at
        if self.status is Status.WAITING_CLIENT:
            return [self.move(Status.IN_PROGRESS, client, at)]
        return []

    def note(self, kind: str, actor: Actor, at: datetime, detail: str | None = None) -> None:
        """Record an event that changes no field (a breach, a rating, a link …)."""
        self._record(kind, at, actor, None, None, detail)

    def change_priority(self, priority: str, actor: Actor, at: datetime) -> TicketEvent:
        """Set another priority."""
        old, self.priority = self.priority, priority
        return self._record("priority", at, actor, old, priority)

    def _record(self, kind: str, at: datetime, actor: Actor, old: str | None = None,
                new: str | None = None, detail: str | None = None) -> TicketEvent:
        event = TicketEvent(kind, at, actor, old, new, detail)
        self.events.append(event)
        return event
