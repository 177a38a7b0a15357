"""The rows of a report period on both databases: which tickets, their whole history, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.policy import default_policy
from domain.reports import Period, compile_report
from domain.tickets import Actor, Status, Ticket
from storage.uow import UnitOfWorkFactory

OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31), "UTC")
AGENT = Actor("agent", 7, "Alice")
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def utc(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def history(number: int, client_id: int, created: datetime,
            *steps: tuple[datetime, Status]) -> Ticket:
    """A premium ticket (24x7) opened at `created` and moved through `steps`."""
    ticket = Ticket(number=number, client_id=client_id, subject=f"Ticket {number}",
                    request_type="bug", queue="support", priority="high", sla_level="premium",
                    created_at=created, assignee_id=7, assignee_name="Alice",
                    first_response_due=created + timedelta(hours=1),
                    resolution_due=created + timedelta(days=1))
    ticket.open(Actor("client", client_id, "Carol"), created, "it fails")
    for at, status in steps:
        ticket.move(status, AGENT, at)
    return ticket


async def prepare(uow_factory: UnitOfWorkFactory) -> None:
    """Tickets in and around October 2026 (UTC), two ratings, two deflections."""
    async with uow_factory() as uow:
        client = await uow.clients.ensure(501, "Carol", "carol", "en", utc(9, 1))
        cid = client.id
        tickets = [
            history(1, cid, utc(9, 20), (utc(9, 21), Status.IN_PROGRESS),  # out: all before
                    (utc(9, 25), Status.CLOSED)),
            history(2, cid, utc(9, 28), (utc(9, 28, 13), Status.IN_PROGRESS)),  # open at end
            history(3, cid, utc(10, 3), (utc(10, 3, 13), Status.IN_PROGRESS),  # all in October
                    (utc(10, 4), Status.RESOLVED), (utc(10, 5), Status.CLOSED)),
            history(4, cid, utc(9, 10), (utc(9, 12), Status.CLOSED),  # reopened in October
                    (utc(10, 10), Status.REOPENED), (utc(10, 11), Status.CLOSED)),
            history(5, cid, utc(11, 2)),  # out: after
            history(6, cid, utc(9, 1), (utc(9, 2), Status.IN_PROGRESS),  # open at the end,
                    (utc(11, 5), Status.CLOSED)),  # closed after it
            history(7, cid, utc(9, 30, 23), (utc(9, 30, 23, 30), Status.CLOSED)),  # met in Sep.
        ]
        tickets[2].first_response_at = utc(10, 3, 13)
        for ticket in tickets:
            await uow.tickets.add(ticket)
        await uow.ratings.put(3, 4, "good", 7, utc(10, 5, 13))
        await uow.ratings.put(1, 1, "bad", 7, utc(9, 26))
        await uow.deflections.add(cid, "https://faq/1", utc(10, 1, 0))
        await uow.deflections.add(cid, "https://faq/2", utc(11, 1, 0))
        await uow.agents.seen(7, "Alice Agent", "alice", utc(9, 1))
        await uow.agents.seen(8, "Bob Agent", None, utc(9, 1))
        await uow.ratings.put(2, 5, None, 8, utc(10, 20))  # Bob is rated, assigned nothing
        await uow.commit()


async def test_the_period_reads_the_tickets_it_touches_with_their_whole_history(
        uow_factory: UnitOfWorkFactory) -> None:
    await prepare(uow_factory)
    async with uow_factory() as uow:
        tickets = await uow.reports.tickets(OCTOBER.start, OCTOBER.end)
    by_number = {ticket.number: ticket for ticket in tickets}
    assert sorted(by_number) == [2, 3, 4, 6, 7] and len(tickets) == 5  # each once
    reopened = by_number[4]
    assert [(change.old, change.new) for change in reopened.changes] == [
        ("new", "closed"), ("closed", "reopened"), ("reopened", "closed")]
    assert reopened.changes[0].at == utc(9, 12)
    assert by_number[3].first_response_at == utc(10, 3, 13)
    assert by_number[3].assignee_name == "Alice" and by_number[3].queue == "support"


async def test_ratings_and_deflections_of_the_period_only(
        uow_factory: UnitOfWorkFactory) -> None:
    await prepare(uow_factory)
    async with uow_factory() as uow:
        ratings = await uow.reports.ratings(OCTOBER.start, OCTOBER.end)
        deflections = await uow.reports.deflections(OCTOBER.start, OCTOBER.end)
    assert sorted((rating.score, rating.agent_id, rating.queue) for rating in ratings) == [
        (4, 7, "support"), (5, 8, "support")]
    assert deflections == [utc(10, 1, 0)]


async def test_the_report_of_a_past_period(uow_factory: UnitOfWorkFactory) -> None:
    await prepare(uow_factory)
    async with uow_factory() as uow:
        report = await compile_report(uow.reports, default_policy(), OCTOBER, NOW)
    total = report.total
    assert (total.opened, total.closed, total.reopened) == (1, 2, 1)
    assert report.backlog == {"in_progress": 2}  # tickets 2 and 6
    assert total.first_response_median == timedelta(hours=1)
    # ticket 3: opened on the 3rd, resolved on the 4th (1 day); ticket 4: opened Sep 10,
    # finally closed Oct 11 (31 days: the early close was undone by the reopen)
    assert total.resolutions == 2 and total.resolution_median == timedelta(days=16)
    assert (total.csat, total.ratings, report.deflected) == (4.5, 2, 1)
    agents = {piece.label: piece.figures for piece in report.by_agent}
    assert agents["Alice"].closed == 2 and agents["Bob Agent"].csat == 5.0
    # ticket 3; ticket 7's target (due Oct 1) was met on Sep 30, and counts on that day
    assert (total.first_response_met, total.first_response_due) == (1, 1)
