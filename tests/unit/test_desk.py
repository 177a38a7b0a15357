"""The desk's services against a unit of work in memory: what each decides, changes and asks
to deliver — no database, no Telegram."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain import timers
from domain.clients import Client
from domain.clock import FakeClock
from domain.desk import Desk, Draft
from domain.errors import IllegalTransition, NotAllowed
from domain.outgoing import Kind, MessageRef, MessageShape, Notice, Outgoing
from domain.policy import default_policy
from domain.tickets import Actor, Status, Ticket
from tests.unit.fakes import FakeUnitOfWork

AGENT = Actor("agent", 501, "Alice")
ANN = Client(1, "Ann")
HELLO = MessageRef(chat=1001, ids=(7,), html="hello again", shape=MessageShape.TEXT)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # a Monday, 09:00 UTC


@pytest.fixture
def desk(clock: FakeClock) -> Desk:
    return Desk(default_policy(), clock)


@pytest.fixture
async def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    await fake.clients.save(ANN)
    return fake


async def opened(desk: Desk, uow: FakeUnitOfWork) -> Ticket:
    """A fresh standard ticket of Ann's; the outbox emptied of its registration."""
    ticket = await desk.register(uow, ANN, Draft(sla_level="standard", request_type="bug",
                                                 priority="normal", subject="The printer"))
    uow.outbox.items.clear()
    return ticket


def kinds(uow: FakeUnitOfWork) -> list[tuple[Kind, str | None]]:
    """What was asked to be delivered: kind and template, in order."""
    return [(item.kind, item.template) for item in uow.outbox.items]


async def stored(uow: FakeUnitOfWork, number: int) -> Ticket:
    ticket = await uow.tickets.get(number)
    assert ticket is not None
    return ticket


async def test_registering_numbers_the_ticket_and_asks_for_its_card_and_an_answer(
        desk: Desk, uow: FakeUnitOfWork) -> None:
    first = await desk.register(uow, ANN, Draft("standard", "bug", "normal", "The printer",
                                                description=(HELLO,)))
    second = await opened(desk, uow)
    assert (first.number, second.number) == (1, 2)
    assert (await stored(uow, 1)).status is Status.NEW
    assert set(uow.timers.waiting(1)) >= {timers.FIRST_RESPONSE_BREACH, timers.UNASSIGNED}


async def test_a_client_message_is_copied_into_the_topic_and_changes_no_card(
        desk: Desk, uow: FakeUnitOfWork, clock: FakeClock) -> None:
    ticket = await opened(desk, uow)
    before = replace(await stored(uow, ticket.number), events=[])
    clock.advance(timedelta(minutes=5))
    await desk.client_wrote(uow, ANN, ticket, HELLO, HELLO.html)
    assert uow.outbox.items == [Outgoing(Kind.COPY_TO_TOPIC, ticket.number, ANN.id,
                                         message=HELLO)]
    assert await stored(uow, ticket.number) == before  # nothing of the ticket to store


async def test_a_client_writing_to_a_resolved_ticket_moves_the_auto_close_on(
        desk: Desk, uow: FakeUnitOfWork, clock: FakeClock) -> None:
    ticket = await opened(desk, uow)
    await desk.move(uow, ticket, Status.RESOLVED, AGENT)
    due = uow.timers.waiting(ticket.number)[timers.AUTOCLOSE]
    clock.advance(timedelta(hours=5))
    await desk.client_wrote(uow, ANN, await stored(uow, ticket.number), HELLO, HELLO.html)
    assert uow.timers.waiting(ticket.number)[timers.AUTOCLOSE] == due + timedelta(hours=5)
    assert (await stored(uow, ticket.number)).last_client_message_at == clock.now()


async def test_a_client_answering_a_waiting_ticket_puts_it_back_to_work(
        desk: Desk, uow: FakeUnitOfWork, clock: FakeClock) -> None:
    ticket = await opened(desk, uow)
    await desk.move(uow, ticket, Status.WAITING_CLIENT, AGENT)
    assert timers.AUTOCLOSE in uow.timers.waiting(ticket.number)
    uow.outbox.items.clear()
    clock.advance(timedelta(hours=1))
    await desk.client_wrote(uow, ANN, await stored(uow, ticket.number), HELLO, HELLO.html)
    after = await stored(uow, ticket.number)
    assert after.status is Status.IN_PROGRESS and after.paused_since is None
    assert after.paused_total == timedelta(hours=1)
    assert kinds(uow) == [(Kind.COPY_TO_TOPIC, None), (Kind.CARD, None)]
    assert timers.AUTOCLOSE not in uow.timers.waiting(ticket.number)


async def test_a_banned_client_is_not_relayed(desk: Desk, uow: FakeUnitOfWork) -> None:
    ticket = await opened(desk, uow)
    banned = Client(ANN.id, ANN.name, banned=True)
    with pytest.raises(NotAllowed):
        await desk.client_wrote(uow, banned, ticket, HELLO, HELLO.html)
    assert uow.outbox.items == []


async def test_resolving_tells_the_client_and_closing_closes_the_topic(
        desk: Desk, uow: FakeUnitOfWork) -> None:
    ticket = await opened(desk, uow)
    await desk.move(uow, ticket, Status.RESOLVED, AGENT)
    assert kinds(uow) == [(Kind.CARD, None), (Kind.CLIENT_NOTICE, "resolved")]
    uow.outbox.items.clear()
    await desk.client_confirms(uow, ANN, await stored(uow, ticket.number), solved=True)
    closed = await stored(uow, ticket.number)
    assert closed.status is Status.CLOSED and closed.closed_at is not None
    assert kinds(uow) == [(Kind.CARD, None), (Kind.CLIENT_NOTICE, "closed"),
                          (Kind.TOPIC_STATE, None)]
    assert uow.timers.waiting(ticket.number) == {}
    statuses = [event.new for event in uow.tickets.events[ticket.number]
                if event.kind == "status"]
    assert statuses == ["resolved", "closed"]


async def test_a_move_the_lifecycle_forbids_changes_nothing(
        desk: Desk, uow: FakeUnitOfWork) -> None:
    ticket = await opened(desk, uow)
    await desk.move(uow, ticket, Status.DECLINED, AGENT, "spam")
    uow.outbox.items.clear()
    with pytest.raises(IllegalTransition):
        await desk.move(uow, await stored(uow, ticket.number), Status.IN_PROGRESS, AGENT)
    assert (await stored(uow, ticket.number)).status is Status.DECLINED
    assert uow.outbox.items == []


@pytest.mark.parametrize(("kind", "expected"), [
    (timers.FIRST_RESPONSE_WARNING, [(Kind.TOPIC_NOTICE, "sla_warning"),
                                     (Kind.CLIENT_NOTICE, "supervisor_offer")]),
    (timers.FIRST_RESPONSE_BREACH, [(Kind.CLIENT_NOTICE, "supervisor_offer"),
                                    (Kind.GENERAL_NOTICE, "sla_breach"), (Kind.CARD, None)]),
    (timers.UNASSIGNED, [(Kind.GENERAL_NOTICE, "unassigned")]),
    (timers.AUTOCLOSE_REMINDER, [(Kind.CLIENT_NOTICE, "autoclose_reminder")]),
])
async def test_a_timer_that_fires_warns_the_right_people(
        desk: Desk, uow: FakeUnitOfWork, kind: str,
        expected: list[tuple[Kind, str | None]]) -> None:
    ticket = await opened(desk, uow)
    await desk.fire(uow, ticket, kind)
    assert kinds(uow) == expected
    breaches = [event for event in uow.tickets.events[ticket.number] if event.kind == "breach"]
    assert len(breaches) == (kind == timers.FIRST_RESPONSE_BREACH)


async def test_the_auto_close_timer_closes_a_ticket_waiting_for_the_client(
        desk: Desk, uow: FakeUnitOfWork, clock: FakeClock) -> None:
    ticket = await opened(desk, uow)
    await desk.move(uow, ticket, Status.WAITING_CLIENT, AGENT)
    due = uow.timers.waiting(ticket.number)[timers.AUTOCLOSE]
    clock.set(due)
    uow.outbox.items.clear()
    await desk.fire(uow, await stored(uow, ticket.number), timers.AUTOCLOSE)
    closed = await stored(uow, ticket.number)
    assert closed.status is Status.CLOSED
    assert uow.outbox.items[1] == Outgoing(Kind.CLIENT_NOTICE, ticket.number, ANN.id,
                                           template=Notice.CLOSED,
                                           data={"auto": True, "credentials": False})


async def test_a_closed_ticket_is_rated_once_with_the_agent_who_had_it(
        desk: Desk, uow: FakeUnitOfWork) -> None:
    ticket = await opened(desk, uow)
    await desk.take(uow, ticket, AGENT)
    await desk.move(uow, await stored(uow, ticket.number), Status.CLOSED, AGENT)
    uow.outbox.items.clear()
    closed = await stored(uow, ticket.number)
    await desk.rate(uow, ANN, closed, 4, "quick")
    await desk.rate(uow, ANN, await stored(uow, ticket.number), 5)  # a new one replaces it
    assert uow.ratings.rows == {ticket.number: (5, None, AGENT.ref)}
    assert uow.outbox.items[0] == Outgoing(Kind.TOPIC_NOTICE, ticket.number, ANN.id,
                                           template=Notice.RATED,
                                           data={"score": 4, "comment": "quick"})


@pytest.mark.parametrize(("score", "close", "error"), [
    (6, True, NotAllowed), (0, True, NotAllowed), (5, False, IllegalTransition)])
async def test_a_rating_out_of_range_or_of_an_open_ticket_is_refused(
        desk: Desk, uow: FakeUnitOfWork, score: int, close: bool,
        error: type[Exception]) -> None:
    ticket = await opened(desk, uow)
    if close:
        await desk.move(uow, ticket, Status.CLOSED, AGENT)
    with pytest.raises(error):
        await desk.rate(uow, ANN, await stored(uow, ticket.number), score)
    assert uow.ratings.rows == {}


async def test_a_client_writing_within_the_reopen_window_reopens_the_ticket(
        desk: Desk, uow: FakeUnitOfWork, clock: FakeClock) -> None:
    ticket = await opened(desk, uow)
    await desk.move(uow, ticket, Status.CLOSED, AGENT)
    clock.advance(desk.policy.reopen_window)  # the window's last moment
    uow.outbox.items.clear()
    relayed = await desk.client_wrote(uow, ANN, await stored(uow, ticket.number), HELLO,
                                      HELLO.html)
    assert relayed.number == ticket.number
    assert (await stored(uow, ticket.number)).status is Status.REOPENED
    assert kinds(uow) == [(Kind.TOPIC_STATE, None), (Kind.TOPIC_NOTICE, "reopened"),
                          (Kind.COPY_TO_TOPIC, None), (Kind.CARD, None)]


async def test_a_client_writing_after_the_reopen_window_opens_a_new_ticket_naming_the_old(
        desk: Desk, uow: FakeUnitOfWork, clock: FakeClock) -> None:
    ticket = await opened(desk, uow)
    await desk.move(uow, ticket, Status.CLOSED, AGENT)
    clock.advance(desk.policy.reopen_window + timedelta(seconds=1))
    uow.outbox.items.clear()
    fresh = await desk.client_wrote(uow, ANN, await stored(uow, ticket.number), HELLO,
                                    HELLO.html)
    assert fresh.number == ticket.number + 1
    assert (await stored(uow, fresh.number)).reopened_from == ticket.number
    assert (await stored(uow, ticket.number)).status is Status.CLOSED
    copied = [item for item in uow.outbox.items if item.kind is Kind.COPY_TO_TOPIC]
    assert [item.ticket_number for item in copied] == [fresh.number]
