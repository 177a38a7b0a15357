"""The desk's services: each call decides, changes tickets, and records what must be delivered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain import timers
from domain.clients import Client, Contract, check_contract
from domain.clock import Clock
from domain.credentials import looks_like_credentials
from domain.errors import (
    IllegalTransition,
    NotAllowed,
    TakenByAnother,
    TicketClosed,
    TicketNotFound,
)
from domain.outgoing import Kind, MessageRef, Notice, Outgoing
from domain.policy import FaqEntry, Policy
from domain.ports import UnitOfWork
from domain.sla import deadlines_for, recompute, resume_clock
from domain.tickets import Actor, Status, Ticket, TicketEvent
from domain.timers import desired_timers


@dataclass(frozen=True)
class Draft:
    """What the intake gathered, ready to become a ticket."""

    sla_level: str
    request_type: str
    priority: str
    subject: str
    contract_number: str | None = None
    customer: str | None = None
    special: bool = False
    description: Sequence[MessageRef] = field(default_factory=tuple)
    description_text: str = ""  # what the description says, for the rules to read


def _consequences(ticket: Ticket, wanted: Status, detail: str | None,
                  actor: Actor | None = None) -> list[Outgoing]:
    """What the client and the topic are told when a ticket enters a status."""
    n, client = ticket.number, ticket.client_id
    if wanted is Status.WAITING_CLIENT:
        return [Outgoing(Kind.CLIENT_NOTICE, n, client, template=Notice.WAITING_CLIENT)]
    if wanted is Status.RESOLVED:
        return [Outgoing(Kind.CLIENT_NOTICE, n, client, template=Notice.RESOLVED)]
    if wanted is Status.CLOSED:
        return [Outgoing(Kind.CLIENT_NOTICE, n, client, template=Notice.CLOSED,
                         data={"auto": detail == "auto",
                               "credentials": ticket.credentials_seen}),
                Outgoing(Kind.TOPIC_STATE, n, client, data={"action": "close"})]
    if wanted is Status.DECLINED:
        return [Outgoing(Kind.CLIENT_NOTICE, n, client, template=Notice.DECLINED,
                         data={"reason": detail or ""}),
                Outgoing(Kind.TOPIC_STATE, n, client, data={"action": "close"})]
    if wanted is Status.REOPENED:
        by = actor or Actor("client", client)
        return [Outgoing(Kind.TOPIC_STATE, n, client, data={"action": "reopen"}),
                Outgoing(Kind.TOPIC_NOTICE, n, client, template=Notice.REOPENED,
                         data={"by": by.kind, "name": by.name, "detail": detail or ""})]
    return []


STILL_A_PROBLEM = "still a problem"  # the detail of a reopening by the client's button


def supervisor_offered(ticket: Ticket, history: Sequence[TicketEvent], now: datetime) -> bool:
    """Whether "Ask supervisor" makes sense now (SPEC §11): the ticket is open, the supervisor
    was not asked today, and an SLA warning came, the client said "still a problem", or the
    client has waited a day for a first answer."""
    if not ticket.status.is_open:
        return False
    asked = ticket.supervisor_asked_at
    if asked is not None and now - asked < timedelta(days=1):
        return False
    if ticket.first_response_at is None and now - ticket.created_at >= timedelta(days=1):
        return True
    return any(event.kind in ("sla_warning", "breach")
               or (event.kind == "status" and event.detail == STILL_A_PROBLEM)
               for event in history)


def matching_faq(policy: Policy, subject: str, limit: int = 3) -> list[FaqEntry]:
    """Known answers whose keywords occur in the subject, best (most keywords) first."""
    words = subject.casefold()
    scored = []
    for index, entry in enumerate(policy.faq):
        hits = sum(1 for keyword in entry.keywords if keyword.casefold() in words)
        if hits:
            scored.append((-hits, index, entry))
    return [entry for _, _, entry in sorted(scored)[:limit]]


def pick_ticket(open_tickets: Sequence[Ticket], replied: int | None,
                mentioned: int | None) -> Ticket | None:
    """Which open ticket a client's message is about; None when it is ambiguous."""
    for number in (replied, mentioned):
        if number is not None:
            for ticket in open_tickets:
                if ticket.number == number:
                    return ticket
    if len(open_tickets) == 1:
        return open_tickets[0]
    return None


def last_closed(tickets: Sequence[Ticket]) -> Ticket | None:
    """The client's ticket closed last, if any (a plain message may be about it)."""
    closed = [ticket for ticket in tickets
              if ticket.status is Status.CLOSED and ticket.closed_at is not None]
    return max(closed, key=lambda ticket: ticket.closed_at or ticket.created_at, default=None)


class Desk:
    """The rules of the desk, applied through a unit of work."""

    def __init__(self, policy: Policy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock

    def may_reopen(self, ticket: Ticket) -> bool:
        """Whether a client's word still reopens this closed ticket (the reopen window)."""
        return (ticket.status is Status.CLOSED and ticket.closed_at is not None
                and self.clock.now() - ticket.closed_at <= self.policy.reopen_window)

    async def contract_for(self, uow: UnitOfWork, given: str) -> Contract:
        """The client's contract by number or license key (Unknown/ExpiredContract if not)."""
        contract = await uow.contracts.find(given.strip())
        today = self.clock.now().astimezone(ZoneInfo(self.policy.staff_timezone)).date()
        return check_contract(contract, today, given)

    async def register(self, uow: UnitOfWork, client: Client, draft: Draft,
                       notify_client: bool = True) -> Ticket:
        """Turn a confirmed intake into a numbered ticket, its topic, card and acknowledgement."""
        now = self.clock.now()
        number = await uow.tickets.next_number()
        due = deadlines_for(self.policy, draft.sla_level, draft.priority, draft.special, now)
        ticket = Ticket(
            number=number, client_id=client.id, subject=draft.subject,
            request_type=draft.request_type,
            queue=self.policy.request_type(draft.request_type).queue,
            priority=draft.priority, sla_level=draft.sla_level, created_at=now,
            contract_number=draft.contract_number, customer=draft.customer,
            special=draft.special, first_response_due=due.first_response,
            resolution_due=due.resolution, last_client_message_at=now,
        )
        ticket.open(Actor("client", client.id, client.name), now, draft.description_text)
        ticket.credentials_seen = looks_like_credentials(draft.description_text)
        await self._offer_to_queue(uow, ticket, now)
        await uow.tickets.add(ticket)
        await self._put(uow, now, Outgoing(Kind.CARD, number, client.id))
        for message in draft.description:
            await self._put(uow, now, Outgoing(Kind.COPY_TO_TOPIC, number, client.id,
                                               message=message))
        if notify_client:
            await self._put(uow, now, Outgoing(Kind.CLIENT_NOTICE, number, client.id,
                                               template=Notice.ACKNOWLEDGED))
        if draft.special:
            await self._put(uow, now, Outgoing(Kind.GENERAL_NOTICE, number, client.id,
                                               template=Notice.SPECIAL_REQUEST))
        await self._set_timers(uow, ticket)
        return ticket

    async def ticket_of_client(self, uow: UnitOfWork, client: Client, number: int) -> Ticket:
        """One of the client's own tickets; TicketNotFound for anyone else's (says nothing)."""
        ticket = await uow.tickets.get(number)
        if ticket is None or ticket.client_id != client.id:
            raise TicketNotFound(str(number))
        return ticket

    async def client_wrote(self, uow: UnitOfWork, client: Client, ticket: Ticket,
                           message: MessageRef, text: str) -> Ticket:
        """Relay a client's follow-up into the ticket's topic (reopening a closed ticket);
        `text` is what it says, for the rules to read."""
        if client.banned:
            raise NotAllowed("banned")
        now = self.clock.now()
        actor = Actor("client", client.id, client.name)
        changed = False
        timers_before = desired_timers(self.policy, ticket)
        if not ticket.status.is_open:
            ticket = await self._reopen_or_follow(uow, client, ticket, now)
            changed = True
        if looks_like_credentials(text):
            ticket.credentials_seen = True
        paused_at = ticket.paused_since
        if ticket.client_wrote(actor, now):
            changed = True
            if paused_at is not None:
                resume_clock(self.policy, ticket, paused_at, now)
        await uow.tickets.save(ticket)
        await self._put(uow, now, Outgoing(Kind.COPY_TO_TOPIC, ticket.number, client.id,
                                           message=message))
        if changed:
            await self._put(uow, now, Outgoing(Kind.CARD, ticket.number, client.id))
        # the client's word may move the auto-close on; most follow-ups change no timer
        if changed or desired_timers(self.policy, ticket) != timers_before:
            await self._set_timers(uow, ticket)
        return ticket

    async def client_edited(self, uow: UnitOfWork, ticket: Ticket, message: MessageRef) -> None:
        """Show the staff that the client edited a relayed message."""
        await self._put(uow, self.clock.now(), Outgoing(
            Kind.EDIT_IN_TOPIC, ticket.number, ticket.client_id, message=message))

    async def agent_replied(self, uow: UnitOfWork, ticket: Ticket, agent: Actor,
                            message: MessageRef, text: str) -> None:
        """Relay an agent's message to the client; the first one is the first response.
        `text` is what it says, for the rules to read."""
        now = self.clock.now()
        if not ticket.status.is_open:
            raise NotAllowed("closed")
        events = ticket.agent_replied(agent, now)
        if looks_like_credentials(text):
            ticket.credentials_seen = True
        await uow.tickets.save(ticket)
        await self._put(uow, now, Outgoing(
            Kind.COPY_TO_CLIENT, ticket.number, ticket.client_id, data={"agent": agent.name},
            message=message))
        if events:
            await self._put(uow, now, Outgoing(Kind.CARD, ticket.number, ticket.client_id))
            await self._set_timers(uow, ticket)

    async def agent_edited(self, uow: UnitOfWork, ticket: Ticket, agent_name: str | None,
                           message: MessageRef) -> None:
        """Apply an agent's edit to the client's copy (signed with `agent_name`, if known)."""
        await self._put(uow, self.clock.now(), Outgoing(
            Kind.EDIT_AT_CLIENT, ticket.number, ticket.client_id,
            data={"agent": agent_name} if agent_name else {}, message=message))

    async def move(self, uow: UnitOfWork, ticket: Ticket, wanted: Status, actor: Actor,
                   detail: str | None = None) -> None:
        """Change a ticket's status; tell the client what it means for them."""
        now = self.clock.now()
        paused_at, was = ticket.paused_since, ticket.status
        ticket.move(wanted, actor, now, detail)
        if paused_at is not None and ticket.paused_since is None:
            resume_clock(self.policy, ticket, paused_at, now)
        await uow.tickets.save(ticket)
        await self._put(uow, now, Outgoing(Kind.CARD, ticket.number, ticket.client_id))
        for item in _consequences(ticket, wanted, detail, actor):
            await self._put(uow, now, item)
        await self._set_timers(uow, ticket)
        if wanted is Status.RESOLVED or (wanted is Status.CLOSED and was is not Status.RESOLVED):
            await self._notify_incidents(uow, ticket, now)  # once per fix, not again on close

    async def _notify_incidents(self, uow: UnitOfWork, problem: Ticket, now: datetime) -> None:
        """A problem is solved: every linked incident's client and topic hear of it."""
        for incident in await uow.tickets.incidents_of(problem.number):
            if not incident.status.is_open or incident.number == problem.number:
                continue
            data = {"problem": problem.number}
            await self._put(uow, now, Outgoing(Kind.CLIENT_NOTICE, incident.number,
                                               incident.client_id, template=Notice.PROBLEM_SOLVED,
                                               data=data))
            await self._put(uow, now, Outgoing(Kind.TOPIC_NOTICE, incident.number,
                                               incident.client_id, template=Notice.PROBLEM_SOLVED,
                                               data=data))

    async def client_confirms(self, uow: UnitOfWork, client: Client, ticket: Ticket,
                              solved: bool) -> Ticket:
        """The client answers "is it resolved?": closed when yes, reopened when no.

        "No" after the ticket was closed meanwhile (auto-close) reopens it as a message would,
        or, outside the reopen window, opens a new ticket that names it; that one is returned.
        """
        if not solved and ticket.status is Status.CLOSED:
            now = self.clock.now()
            ticket = await self._reopen_or_follow(uow, client, ticket, now)
            await self._changed(uow, ticket, now)
            return ticket
        if ticket.status is not Status.RESOLVED:
            raise IllegalTransition(ticket.status.value,
                                    (Status.CLOSED if solved else Status.REOPENED).value)
        actor = Actor("client", client.id, client.name)
        await self.move(uow, ticket, Status.CLOSED if solved else Status.REOPENED, actor,
                        "confirmed" if solved else STILL_A_PROBLEM)
        return ticket

    async def rate(self, uow: UnitOfWork, client: Client, ticket: Ticket, score: int,
                   comment: str | None = None, announce: bool = True) -> None:
        """The client's satisfaction rating (1–5) of a closed ticket, shown in the topic.

        A low score waits for its comment (`announce=False`): the topic hears of it once,
        with the comment or without one when the client skips it.
        """
        if not 1 <= score <= 5:
            raise NotAllowed("score")
        if ticket.status is not Status.CLOSED:
            raise IllegalTransition(ticket.status.value, "rated")
        now = self.clock.now()
        await uow.ratings.put(ticket.number, score, comment, ticket.assignee_id, now)
        if not announce:
            return
        ticket.note("rated", Actor("client", client.id, client.name), now,
                    f"{score}" + (f": {comment}" if comment else ""))
        await uow.tickets.save(ticket)
        await self._put(uow, now, Outgoing(Kind.TOPIC_NOTICE, ticket.number, client.id,
                                           template=Notice.RATED,
                                           data={"score": score, "comment": comment or ""}))

    async def assign(self, uow: UnitOfWork, ticket: Ticket, agent: Actor, by: Actor,
                     tell_client: bool = True) -> None:
        """Give the ticket to an agent (the supervisor reassigns, or an agent takes it)."""
        if not ticket.status.is_open:
            raise TicketClosed(str(ticket.number))
        now = self.clock.now()
        if agent.ref == ticket.assignee_id:
            return
        ticket.note("assigned", by, now, agent.name)
        ticket.assignee_id, ticket.assignee_name = agent.ref, agent.name
        if ticket.status in (Status.NEW, Status.REOPENED):
            ticket.move(Status.IN_PROGRESS, by, now)
        await self._changed(uow, ticket, now)
        if tell_client:
            await self._tell_taken(uow, ticket, now)

    async def link_bug(self, uow: UnitOfWork, ticket: Ticket, reference: str,
                       by: Actor) -> None:
        """Link an issue of the external bug tracker (shown on the card)."""
        now = self.clock.now()
        ticket.note("bug", by, now, reference)
        ticket.bug_ref = reference
        await self._changed(uow, ticket, now)

    async def link_problem(self, uow: UnitOfWork, ticket: Ticket, problem_number: int,
                           by: Actor) -> Ticket:
        """Make the ticket an incident of a problem ticket (one cause, many incidents)."""
        problem = await uow.tickets.get(problem_number)
        if problem is None or problem_number == ticket.number:
            raise TicketNotFound(str(problem_number))
        if problem.problem_number is not None:
            raise NotAllowed("the problem is itself an incident")
        now = self.clock.now()
        ticket.note("problem", by, now, f"#{problem_number}")
        ticket.problem_number = problem_number
        await self._changed(uow, ticket, now)
        return problem

    async def change_queue(self, uow: UnitOfWork, ticket: Ticket, queue: str,
                           by: Actor) -> None:
        """Move the ticket to another queue."""
        self.policy.queue(queue)  # KeyError for an unknown queue
        if queue == ticket.queue:
            return
        now = self.clock.now()
        ticket.note("queue", by, now, queue)
        ticket.queue = queue
        await self._offer_to_queue(uow, ticket, now)
        await self._changed(uow, ticket, now)

    async def send_canned(self, uow: UnitOfWork, ticket: Ticket, name: str,
                          agent: Actor) -> None:
        """Send a prepared answer to the client (counts as an agent's reply)."""
        answer = next((item for item in self.policy.canned if item.name == name), None)
        if answer is None:
            raise KeyError(name)
        if not ticket.status.is_open:
            raise TicketClosed(str(ticket.number))
        now = self.clock.now()
        events = ticket.agent_replied(agent, now)
        await uow.tickets.save(ticket)
        await self._put(uow, now, Outgoing(Kind.CLIENT_NOTICE, ticket.number, ticket.client_id,
                                           template=Notice.CANNED,
                                           data={"name": name, "agent": agent.name}))
        if events:
            await self._put(uow, now, Outgoing(Kind.CARD, ticket.number, ticket.client_id))
            await self._set_timers(uow, ticket)

    async def ask_supervisor(self, uow: UnitOfWork, client: Client, ticket: Ticket) -> None:
        """The client calls the supervisor in (once a day per ticket)."""
        now = self.clock.now()
        if not ticket.status.is_open:
            raise TicketClosed(str(ticket.number))
        last = ticket.supervisor_asked_at
        if last is not None and now - last < timedelta(days=1):
            raise NotAllowed("once a day")
        ticket.supervisor_asked_at = now
        ticket.note("supervisor", Actor("client", client.id, client.name), now)
        await uow.tickets.save(ticket)
        await self._put(uow, now, Outgoing(Kind.GENERAL_NOTICE, ticket.number, client.id,
                                           template=Notice.ASK_SUPERVISOR))
        await self._put(uow, now, Outgoing(Kind.TOPIC_NOTICE, ticket.number, client.id,
                                           template=Notice.ASK_SUPERVISOR))

    async def open_for(self, uow: UnitOfWork, client: Client, contract: Contract | None,
                       subject: str, agent: Actor, solved: bool,
                       notify_client: bool) -> Ticket:
        """Register a request that came by phone or e-mail; optionally solved on first contact.

        A client without a Telegram chat is not notified.
        """
        kinds = [kind.key for kind in self.policy.request_types]
        levels = [level.key for level in self.policy.priorities]
        draft = Draft(
            sla_level=contract.sla_level if contract else self.policy.lowest_sla_level.key,
            request_type="other" if "other" in kinds else kinds[-1],
            priority="normal" if "normal" in levels else levels[len(levels) // 2],
            subject=subject[: self.policy.subject_max_length],
            contract_number=contract.number if contract else None,
            customer=contract.customer if contract else None,
            description_text=f"registered by {agent.name}")
        ticket = await self.register(uow, client, draft, notify_client=notify_client)
        ticket.note("channel", agent, self.clock.now(), "phone/e-mail")
        # the agent who took the call has it; the client hears of it only if told at all
        await self.assign(uow, ticket, agent, agent, tell_client=notify_client)
        if solved:
            await self.move(uow, ticket, Status.CLOSED, agent, "solved on first contact")
        return ticket

    async def ban(self, uow: UnitOfWork, client: Client, banned: bool, by: Actor) -> None:
        """Stop (or resume) relaying a client; they are told once when they next write."""
        client.banned = banned
        await uow.clients.save(client)
        await uow.clients.set_ban_notified(client.id, False)

    async def _changed(self, uow: UnitOfWork, ticket: Ticket, now: datetime) -> None:
        await uow.tickets.save(ticket)
        await self._put(uow, now, Outgoing(Kind.CARD, ticket.number, ticket.client_id))
        await self._set_timers(uow, ticket)

    async def _offer_to_queue(self, uow: UnitOfWork, ticket: Ticket, now: datetime) -> None:
        """A queue with agents gets the ticket offered, or assigned round-robin."""
        try:
            queue = self.policy.queue(ticket.queue)
        except KeyError:
            return
        if not queue.agents or ticket.assignee_id is not None:
            return
        if queue.round_robin:
            turn = await uow.tickets.bump_counter(f"queue:{queue.key}")
            agent_id = queue.agents[(turn - 1) % len(queue.agents)]
            name = await uow.agents.name_of(agent_id) or str(agent_id)
            ticket.assignee_id, ticket.assignee_name = agent_id, name
            ticket.note("assigned", Actor.system(), now, name)
            return
        await self._put(uow, now, Outgoing(Kind.TOPIC_NOTICE, ticket.number, ticket.client_id,
                                           template=Notice.QUEUE_OFFER,
                                           data={"agents": list(queue.agents)}))

    async def fire(self, uow: UnitOfWork, ticket: Ticket, kind: str) -> None:
        """A timer came due: warn, escalate, remind or close."""
        now = self.clock.now()
        n, client = ticket.number, ticket.client_id
        if kind in (timers.FIRST_RESPONSE_WARNING, timers.RESOLUTION_WARNING):
            which = "first_response" if kind == timers.FIRST_RESPONSE_WARNING else "resolution"
            await self._put(uow, now, Outgoing(Kind.TOPIC_NOTICE, n, client,
                                               template=Notice.SLA_WARNING, data={"which": which}))
            ticket.note("sla_warning", Actor.system(), now, which)
            await self._offer_supervisor(uow, ticket, now)
        elif kind in (timers.FIRST_RESPONSE_BREACH, timers.RESOLUTION_BREACH):
            which = "first_response" if kind == timers.FIRST_RESPONSE_BREACH else "resolution"
            ticket.note("breach", Actor.system(), now, which)
            await self._offer_supervisor(uow, ticket, now)
            await self._put(uow, now, Outgoing(Kind.GENERAL_NOTICE, n, client,
                                               template=Notice.SLA_BREACH, data={"which": which}))
            await self._put(uow, now, Outgoing(Kind.CARD, n, client))
        elif kind == timers.UNASSIGNED:
            await self._put(uow, now, Outgoing(Kind.GENERAL_NOTICE, n, client,
                                               template=Notice.UNASSIGNED))
        elif kind == timers.SILENT_DAY:
            await self._offer_supervisor(uow, ticket, now)
        elif kind == timers.AUTOCLOSE_REMINDER:
            await self._put(uow, now, Outgoing(Kind.CLIENT_NOTICE, n, client,
                                               template=Notice.AUTOCLOSE_REMINDER))
        elif kind == timers.AUTOCLOSE:
            await self.move(uow, ticket, Status.CLOSED, Actor.system(), "auto")

    async def _offer_supervisor(self, uow: UnitOfWork, ticket: Ticket, now: datetime) -> None:
        """Offer the client "Ask supervisor" once, when it makes sense (SPEC §11); saves."""
        history = [*await uow.tickets.history(ticket.number), *ticket.events]
        if not any(event.kind == "supervisor_offered" for event in history) and (
                supervisor_offered(ticket, history, now)):
            ticket.note("supervisor_offered", Actor.system(), now)
            await self._put(uow, now, Outgoing(Kind.CLIENT_NOTICE, ticket.number,
                                               ticket.client_id, template=Notice.SUPERVISOR_OFFER))
        await uow.tickets.save(ticket)

    async def take(self, uow: UnitOfWork, ticket: Ticket, agent: Actor) -> None:
        """An agent takes the ticket; one someone else has is handed over with `assign` only."""
        if not ticket.status.is_open:
            raise IllegalTransition(ticket.status.value, Status.IN_PROGRESS.value)
        if ticket.assignee_id is not None and ticket.assignee_id != agent.ref:
            raise TakenByAnother(ticket.assignee_name or "?")
        now = self.clock.now()
        events = ticket.take(agent, now)
        if events:
            await uow.tickets.save(ticket)
            await self._put(uow, now, Outgoing(Kind.CARD, ticket.number, ticket.client_id))
            await self._set_timers(uow, ticket)
        if any(event.kind == "assigned" for event in events):
            await self._tell_taken(uow, ticket, now)

    async def _tell_taken(self, uow: UnitOfWork, ticket: Ticket, now: datetime) -> None:
        """The client hears who is on their request."""
        await self._put(uow, now, Outgoing(Kind.CLIENT_NOTICE, ticket.number, ticket.client_id,
                                           template=Notice.TAKEN,
                                           data={"agent": ticket.assignee_name or ""}))

    async def change_priority(self, uow: UnitOfWork, ticket: Ticket, priority: str,
                              agent: Actor) -> None:
        """Set another priority; deadlines follow the new target from the ticket's start."""
        if not ticket.status.is_open:
            raise TicketClosed(str(ticket.number))
        if priority == ticket.priority:
            return
        now = self.clock.now()
        ticket.change_priority(priority, agent, now)
        recompute(self.policy, ticket)
        await uow.tickets.save(ticket)
        await self._put(uow, now, Outgoing(Kind.CARD, ticket.number, ticket.client_id))
        await self._set_timers(uow, ticket)

    async def _reopen_or_follow(self, uow: UnitOfWork, client: Client, ticket: Ticket,
                                now: datetime) -> Ticket:
        actor = Actor("client", client.id, client.name)
        if self.may_reopen(ticket):
            ticket.move(Status.REOPENED, actor, now)
            for item in _consequences(ticket, Status.REOPENED, None):
                await self._put(uow, now, item)
            return ticket
        draft = Draft(sla_level=ticket.sla_level, request_type=ticket.request_type,
                      priority=ticket.priority, subject=ticket.subject,
                      contract_number=ticket.contract_number, customer=ticket.customer)
        fresh = await self.register(uow, client, draft)
        fresh.reopened_from = ticket.number
        return fresh

    async def _set_timers(self, uow: UnitOfWork, ticket: Ticket) -> None:
        """Keep the ticket's due times in the scheduler's table."""
        await uow.timers.set_all(ticket.number, desired_timers(self.policy, ticket),
                                 self.clock.now())

    async def _put(self, uow: UnitOfWork, now: datetime, item: Outgoing) -> None:
        await uow.outbox.put(item, now)
